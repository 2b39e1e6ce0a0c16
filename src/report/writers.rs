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

use serde::Serialize;

use crate::report::timeseries::{IntervalRow, Layout, csv_header, csv_line};
use crate::report::{ClusterEvent, Observer, Summary};

/// Facts about how a run was computed (not what it simulated): `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
}

const SUMMARY: &str = "summary.json";
const RUN: &str = "run.json";
const TIMESERIES: &str = "timeseries.csv";
const EVENTS: &str = "events.jsonl";

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
        for name in [SUMMARY, RUN, TIMESERIES, EVENTS] {
            match fs::remove_file(dir.join(name)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        let mut timeseries = BufWriter::new(File::create(partial(dir, TIMESERIES))?);
        timeseries.write_all(csv_header(layout).as_bytes())?;
        let events = BufWriter::new(File::create(partial(dir, EVENTS))?);
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
        fs::rename(partial(&self.dir, TIMESERIES), self.dir.join(TIMESERIES))?;
        fs::rename(partial(&self.dir, EVENTS), self.dir.join(EVENTS))?;
        write_json_atomically(&self.dir.join(RUN), run)?;
        write_json_atomically(&self.dir.join(SUMMARY), summary)
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

/// Serializes `value` as pretty JSON to `path` through a temporary file and a rename.
///
/// # Errors
/// Any I/O or serialization error.
pub fn write_json_atomically<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let mut text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
    text.push('\n');
    fs::write(&tmp, text)?;
    fs::rename(&tmp, path)
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
