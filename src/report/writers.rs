//! Writing a run's results to a folder: `timeseries.csv` and `events.jsonl` as the run goes,
//! `summary.json` and `run.json` at the end.
//!
//! Use `OutputDir::create` before a run and `OutputDir::finish` after it. Streams are written
//! under `.partial` names and renamed only when the run completed, and the JSON files are
//! written to a temporary name and renamed, so a folder never presents a partial run as a
//! complete one.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::report::files::{
    EVENTS_JSONL, PLOTS_DIR, REPORT_HTML, RUN_JSON, SUMMARY_JSON, TIMESERIES_CSV,
    write_json_atomically,
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
#[derive(Debug)]
pub struct OutputDir {
    dir: PathBuf,
    timeseries: BufWriter<File>,
    events: BufWriter<File>,
    line: String,
    error: Option<io::Error>,
}

impl OutputDir {
    /// Creates `dir` if needed, removes the results of an earlier run there, and opens the
    /// streams with the time-series header for this layout.
    ///
    /// # Errors
    /// Any I/O error creating the folder or files.
    pub fn create(dir: &Path, layout: &Layout) -> io::Result<OutputDir> {
        fs::create_dir_all(dir)?;
        // A previous run's report would describe another run than this folder's files.
        for name in [
            SUMMARY_JSON,
            RUN_JSON,
            TIMESERIES_CSV,
            EVENTS_JSONL,
            REPORT_HTML,
        ] {
            match fs::remove_file(dir.join(name)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        // A previous run's charts would show another run than this folder's files.
        match fs::remove_dir_all(dir.join(PLOTS_DIR)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut timeseries = BufWriter::new(File::create(partial(dir, TIMESERIES_CSV))?);
        timeseries.write_all(csv_header(layout).as_bytes())?;
        let events = BufWriter::new(File::create(partial(dir, EVENTS_JSONL))?);
        Ok(OutputDir {
            dir: dir.to_path_buf(),
            timeseries,
            events,
            line: String::new(),
            error: None,
        })
    }

    /// Completes the folder: flushes the streams, gives them their final names, and writes
    /// `summary.json` and `run.json`.
    ///
    /// # Errors
    /// The first I/O error met while writing, during the run or now.
    pub fn finish(mut self, summary: &Summary, run: &RunInfo) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.timeseries.flush()?;
        self.events.flush()?;
        for name in [TIMESERIES_CSV, EVENTS_JSONL] {
            fs::rename(partial(&self.dir, name), self.dir.join(name))?;
        }
        write_json_atomically(&self.dir.join(RUN_JSON), run)?;
        write_json_atomically(&self.dir.join(SUMMARY_JSON), summary)
    }

    fn keep_first_error(&mut self, result: io::Result<()>) {
        if let (Err(e), None) = (result, &self.error) {
            self.error = Some(e);
        }
    }
}

impl Observer for OutputDir {
    fn interval(&mut self, row: &IntervalRow) {
        self.line.clear();
        csv_line(row, &mut self.line);
        let result = self.timeseries.write_all(self.line.as_bytes());
        self.keep_first_error(result);
    }

    fn cluster_event(&mut self, event: &ClusterEvent) {
        let result = serde_json::to_writer(&mut self.events, event)
            .map_err(io::Error::other)
            .and_then(|()| self.events.write_all(b"\n"));
        self.keep_first_error(result);
    }
}

fn partial(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.partial"))
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
}
