//! Writing a run's results to a folder: `timeseries.csv` and `events.jsonl` as the run goes,
//! `summary.json` and `run.json` at the end.
//!
//! Use `OutputDir::create` before a run and `OutputDir::finish` after it. Streams are written
//! under `.partial` names and renamed only when the run completed, and the JSON files are
//! written to a temporary name and renamed, so a folder never presents a partial run as a
//! complete one. A run whose files cannot all be written (a full disk) leaves none of them,
//! and no temporary file either.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::report::files::{
    EVENTS_JSONL, PARTIAL_SUFFIX, PLOTS_DIR, PendingFile, REPORT_HTML, RUN_JSON, SUMMARY_JSON,
    TIMESERIES_CSV, in_file, write_json_atomically,
};
use crate::report::setup::RunSetup;
use crate::report::timeseries::{IntervalRow, Layout, csv_header, csv_line};
use crate::report::{ClusterEvent, Observer, Summary};

/// Facts about how a run was computed (not what it simulated): `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// capsim version.
    pub capsim_version: String,
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Simulated seconds.
    pub simulated_s: f64,
    /// Events handled by the engine.
    pub events_processed: u64,
    /// Wall-clock seconds the simulation took.
    pub wall_s: f64,
    /// Events per wall-clock second.
    pub events_per_s: f64,
    /// Peak resident memory of the process in bytes, where the OS reports it.
    pub peak_memory_bytes: Option<u64>,
    /// The scenario that was run, as a reader of the results needs it (absent in files
    /// written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<RunSetup>,
}

/// An output folder being written.
///
/// The streams are `PendingFile`s: if the folder is dropped without `finish` (an error, a
/// panic), they are removed, and if `finish` fails, every file of the run is, so that the folder
/// never holds a partial run under the final names.
#[derive(Debug)]
pub struct OutputDir {
    dir: PathBuf,
    timeseries: PendingFile,
    events: PendingFile,
    line: String,
    error: Option<io::Error>,
}

/// The files of a finished run, in the order `finish` gives them their final names.
const RUN_FILES: [&str; 4] = [TIMESERIES_CSV, EVENTS_JSONL, RUN_JSON, SUMMARY_JSON];

impl OutputDir {
    /// Creates `dir` if needed, removes the results of an earlier run there, and opens the
    /// streams with the time-series header for this layout.
    ///
    /// # Errors
    /// Any I/O error creating the folder or files, naming the file.
    pub fn create(dir: &Path, layout: &Layout) -> io::Result<OutputDir> {
        fs::create_dir_all(dir)?;
        // A previous run's report would describe another run than this folder's files.
        for name in RUN_FILES.into_iter().chain([REPORT_HTML]) {
            match fs::remove_file(dir.join(name)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(in_file(name, e)),
                _ => {}
            }
        }
        // A previous run's charts would show another run than this folder's files.
        match fs::remove_dir_all(dir.join(PLOTS_DIR)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(in_file(PLOTS_DIR, e)),
            _ => {}
        }
        let stream = |name: &str| {
            PendingFile::create(&dir.join(name), PARTIAL_SUFFIX).map_err(|e| in_file(name, e))
        };
        let mut timeseries = stream(TIMESERIES_CSV)?;
        timeseries
            .write_all(csv_header(layout).as_bytes())
            .map_err(|e| in_file(TIMESERIES_CSV, e))?;
        let events = stream(EVENTS_JSONL)?;
        Ok(OutputDir {
            dir: dir.to_path_buf(),
            timeseries,
            events,
            line: String::new(),
            error: None,
        })
    }

    /// Completes the folder: flushes the streams, gives them their final names, and writes
    /// `run.json`, then `summary.json` (the file that marks a complete run).
    ///
    /// # Errors
    /// The first I/O error met while writing, during the run or now, naming the file; the
    /// run's files are then removed, so that the folder holds none of its results.
    pub fn finish(self, summary: &Summary, run: &RunInfo) -> io::Result<()> {
        let dir = self.dir.clone();
        let result = self.complete(summary, run);
        if result.is_err() {
            for name in RUN_FILES {
                let _ = fs::remove_file(dir.join(name));
            }
        }
        result
    }

    fn complete(self, summary: &Summary, run: &RunInfo) -> io::Result<()> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let OutputDir {
            dir,
            timeseries,
            events,
            ..
        } = self;
        timeseries
            .commit()
            .map_err(|e| in_file(TIMESERIES_CSV, e))?;
        events.commit().map_err(|e| in_file(EVENTS_JSONL, e))?;
        write_json_atomically(&dir.join(RUN_JSON), run).map_err(|e| in_file(RUN_JSON, e))?;
        write_json_atomically(&dir.join(SUMMARY_JSON), summary)
            .map_err(|e| in_file(SUMMARY_JSON, e))
    }

    fn keep_first_error(&mut self, name: &str, result: io::Result<()>) {
        if let (Err(e), None) = (result, &self.error) {
            self.error = Some(in_file(name, e));
        }
    }
}

impl Observer for OutputDir {
    fn interval(&mut self, row: &IntervalRow) {
        // After a failed write the run's files are lost: nothing more is written.
        if self.error.is_some() {
            return;
        }
        self.line.clear();
        csv_line(row, &mut self.line);
        let result = self.timeseries.write_all(self.line.as_bytes());
        self.keep_first_error(TIMESERIES_CSV, result);
    }

    fn cluster_event(&mut self, event: &ClusterEvent) {
        if self.error.is_some() {
            return;
        }
        let result = serde_json::to_writer(&mut self.events, event)
            .map_err(io::Error::other)
            .and_then(|()| self.events.write_all(b"\n"));
        self.keep_first_error(EVENTS_JSONL, result);
    }
}

/// Peak resident set size of this process (`VmHWM`), where Linux reports it.
pub fn peak_memory_bytes() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::EventKind;
    use crate::report::files::read_json;
    use crate::report::summary::example;
    use crate::report::timeseries::TimeSeries;
    use crate::report::{PoolInterval, ServiceInterval};

    #[test]
    fn a_folder_written_reads_back_through_the_same_types() {
        let dir = std::env::temp_dir().join(format!("capsim-writers-{}", std::process::id()));
        let layout = Layout {
            jobs: vec![],
            services: vec![("web".into(), vec!["cpu_utilization_pct".into()])],
            pools: vec!["p".into()],
        };
        let rows: Vec<IntervalRow> = [60.0, 120.0]
            .into_iter()
            .map(|time_s| IntervalRow {
                jobs: vec![],
                time_s,
                width_s: 60.0,
                services: vec![ServiceInterval {
                    arrivals_per_s: 2.5,
                    completed: 150,
                    ready: 2,
                    desired: 2,
                    hpa_metrics: vec![55.5],
                    ..ServiceInterval::default()
                }],
                pools: vec![PoolInterval {
                    nodes: 1,
                    nodes_ready: 1,
                    cpu_requested_pct: 40.0,
                }],
                // USD 0.75 an hour: 0.0125 and 0.025, exact at the 4 decimals written.
                cost_usd_cumulative: time_s / 4800.0,
                cost_usd_per_hour: 0.75,
            })
            .collect();
        let event = ClusterEvent {
            node: Some("p-0".into()),
            ..ClusterEvent::new(0.0, EventKind::NodeReady)
        };
        let summary = example(&[("web", Some(100.0))], &["p"]);
        let info = RunInfo {
            capsim_version: "0.1.0".into(),
            scenario: "example".into(),
            seed: 7,
            simulated_s: 120.0,
            events_processed: 42,
            wall_s: 0.5,
            events_per_s: 84.0,
            peak_memory_bytes: None,
            setup: None,
        };

        let mut out = OutputDir::create(&dir, &layout).unwrap_or_else(|e| panic!("{e}"));
        for row in &rows {
            out.interval(row);
        }
        out.cluster_event(&event);
        out.finish(&summary, &info)
            .unwrap_or_else(|e| panic!("{e}"));

        let series = TimeSeries::read(&dir.join(TIMESERIES_CSV)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(series, TimeSeries { layout, rows });
        assert_eq!(Summary::read(&dir.join(SUMMARY_JSON)).ok(), Some(summary));
        let run: Option<RunInfo> = read_json(&dir.join(RUN_JSON), "run.json").ok();
        assert_eq!(run, Some(info));
        let events = fs::read_to_string(dir.join(EVENTS_JSONL)).unwrap_or_default();
        let read: Vec<ClusterEvent> = events
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        assert_eq!(read, [event]);
        let _ = fs::remove_dir_all(&dir);
    }

    fn info() -> RunInfo {
        RunInfo {
            capsim_version: "0.1.0".into(),
            scenario: "example".into(),
            seed: 7,
            simulated_s: 60.0,
            events_processed: 1,
            wall_s: 0.5,
            events_per_s: 2.0,
            peak_memory_bytes: None,
            setup: None,
        }
    }

    #[test]
    fn a_run_whose_files_cannot_all_be_written_leaves_none_of_them() {
        let dir =
            std::env::temp_dir().join(format!("capsim-writers-failed-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let layout = Layout {
            jobs: vec![],
            services: vec![],
            pools: vec!["p".into()],
        };
        let out = OutputDir::create(&dir, &layout).unwrap_or_else(|e| panic!("{e}"));
        // A folder where run.json goes: the streams get their names, then run.json fails.
        fs::create_dir_all(dir.join(RUN_JSON).join("x")).unwrap_or_else(|e| panic!("{e}"));
        let summary = example(&[], &["p"]);
        let err = out.finish(&summary, &info()).unwrap_err();
        assert_eq!(err.to_string(), "run.json: is a folder; expected a file");
        let mut left: Vec<String> = fs::read_dir(&dir)
            .map(|entries| {
                (entries.filter_map(|e| e.ok()))
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        left.sort();
        assert_eq!(left, [RUN_JSON], "only the obstacle is left");

        // Dropped before finishing (an error elsewhere): the partial streams go too.
        fs::remove_dir_all(dir.join(RUN_JSON)).unwrap_or_else(|e| panic!("{e}"));
        drop(OutputDir::create(&dir, &layout).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(fs::read_dir(&dir).map(Iterator::count).ok(), Some(0));
        let _ = fs::remove_dir_all(&dir);
    }
}
