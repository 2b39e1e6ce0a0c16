//! The names of capsim's output files, and the safe ways to write and read them.
//!
//! Use these constants for every file and folder name: a run folder holds `SUMMARY_JSON`,
//! `RUN_JSON`, `TIMESERIES_CSV` and `EVENTS_JSONL`; a sweep folder holds `SWEEP_JSON`,
//! `SWEEP_CSV`, `POINTS_CSV` and the run records under `RUNS_DIR`; either may hold charts under
//! `PLOTS_DIR` and its report, `REPORT_HTML`. Write JSON with
//! `write_json_atomically` (never a half-written file under the final name) and read it back
//! with `read_json` into the same type that wrote it. Every `ReadError` is one line naming the
//! file (and the line, for CSV) and what is wrong.
//!
//! What the files hold is defined by their record types: `Summary`, `RunInfo`, `ClusterEvent`,
//! `timeseries::Layout` and `IntervalRow`, and `sweep_files`' `SweepInfo`, `RunRecord`,
//! `RunsTable` and `PointsTable`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A run's simulated results (`Summary`).
pub const SUMMARY_JSON: &str = "summary.json";
/// How a run was computed: version, wall time, memory (`RunInfo`).
pub const RUN_JSON: &str = "run.json";
/// A run's per-interval time series (`timeseries::Layout`, `IntervalRow`).
pub const TIMESERIES_CSV: &str = "timeseries.csv";
/// A run's cluster events, one JSON object a line (`ClusterEvent`).
pub const EVENTS_JSONL: &str = "events.jsonl";
/// What a sweep is (`sweep_files::SweepInfo`).
pub const SWEEP_JSON: &str = "sweep.json";
/// One row per run of a sweep (`sweep_files::RunsTable`).
pub const SWEEP_CSV: &str = "sweep.csv";
/// One row per point of a sweep, each metric's mean and interval (`sweep_files::PointsTable`).
pub const POINTS_CSV: &str = "points.csv";
/// The folder, inside a sweep folder, of the run records (`sweep_files::RunRecord`) and of the
/// runs' full outputs when they are kept.
pub const RUNS_DIR: &str = "runs";
/// The folder under a run or sweep folder that charts are written to.
pub const PLOTS_DIR: &str = "plots";
/// The self-contained HTML report of a run or sweep folder (`capsim report`).
pub const REPORT_HTML: &str = "report.html";

/// The record of run `run` in sweep folder `dir`: `runs/run-NNNNNN.json`.
pub fn run_record_path(dir: &Path, run: usize) -> PathBuf {
    dir.join(RUNS_DIR).join(format!("run-{run:06}.json"))
}

/// The folder of run `run`'s full outputs in sweep folder `dir`: `runs/run-NNNNNN/`.
pub fn run_dir(dir: &Path, run: usize) -> PathBuf {
    dir.join(RUNS_DIR).join(format!("run-{run:06}"))
}

/// Why an output file could not be read back. Each variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file is not there.
    #[error("{}: file not found", path.display())]
    Missing {
        /// The file looked for.
        path: PathBuf,
    },
    /// Reading the file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// A CSV file is malformed, or disagrees with its companion files.
    #[error("{}: line {line}: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number (the header is line 1).
        line: usize,
        /// What is wrong, with the offending column and value.
        message: String,
    },
    /// A JSON file is malformed, lacks a field, or disagrees with its companion files.
    #[error("{}: {message}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Reads a whole text file, telling a missing file from other I/O errors; only a regular file.
///
/// # Errors
/// `ReadError::Missing` or `ReadError::Io`.
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    // A device, a pipe or a folder could be read forever or block: only regular files.
    if let Ok(metadata) = fs::metadata(path)
        && !metadata.is_file()
    {
        return Err(ReadError::Io {
            path: path.to_path_buf(),
            source: io::Error::other("not a regular file (a device, a pipe or a folder)"),
        });
    }
    fs::read_to_string(path).map_err(|source| {
        if source.kind() == io::ErrorKind::NotFound {
            ReadError::Missing {
                path: path.to_path_buf(),
            }
        } else {
            ReadError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    })
}

/// Reads `path` as the JSON of a `T`; `what` names the record in messages ("summary").
///
/// # Errors
/// A missing or unreadable file; text that is not JSON ("not valid JSON: …"); JSON that is not
/// a `T` ("not a capsim summary: missing field `cost` at line 3 column 1").
pub fn read_json<T: DeserializeOwned>(path: &Path, what: &str) -> Result<T, ReadError> {
    let text = read_text(path)?;
    parse_json(path, &text, what)
}

/// Parses `text`, read from `path`, as the JSON of a `T`; as `read_json`.
///
/// # Errors
/// As `read_json`, for the parsing half.
pub fn parse_json<T: DeserializeOwned>(
    path: &Path,
    text: &str,
    what: &str,
) -> Result<T, ReadError> {
    serde_json::from_str(text).map_err(|e| {
        let message = match e.classify() {
            serde_json::error::Category::Data => format!("not a capsim {what}: {e}"),
            _ => format!("not valid JSON: {e}"),
        };
        ReadError::Json {
            path: path.to_path_buf(),
            message,
        }
    })
}

/// Serializes `value` as pretty JSON (with a final newline) to `path` through a temporary file
/// and a rename.
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

/// Writes `text` to `path` through a temporary file and a rename.
///
/// # Errors
/// Any I/O error.
pub fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, text)?;
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Record {
        name: String,
    }

    #[test]
    fn json_errors_say_whether_the_text_or_the_record_is_wrong() {
        let path = Path::new("r.json");
        let parse = |text: &str| parse_json::<Record>(path, text, "record");
        assert_eq!(
            parse(r#"{"name": "a"}"#).unwrap_or_else(|e| panic!("{e}")),
            Record { name: "a".into() }
        );
        let err = parse("{oops").map(|_| ()).unwrap_err().to_string();
        assert!(err.starts_with("r.json: not valid JSON: "), "{err}");
        let err = parse(r#"{"other": 1}"#)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "r.json: not a capsim record: missing field `name` at line 1 column 12"
        );
    }

    #[test]
    fn run_records_are_numbered_with_six_digits() {
        let dir = Path::new("out");
        assert_eq!(
            run_record_path(dir, 7),
            Path::new("out/runs/run-000007.json")
        );
        assert_eq!(run_dir(dir, 123_456), Path::new("out/runs/run-123456"));
    }

    #[test]
    fn a_missing_file_is_told_apart() {
        let err = read_text(Path::new("/nonexistent/capsim/x.csv")).unwrap_err();
        assert!(matches!(err, ReadError::Missing { .. }), "{err}");
        assert_eq!(err.to_string(), "/nonexistent/capsim/x.csv: file not found");
    }
}
