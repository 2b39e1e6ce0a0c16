//! The names of capsim's output files, and the safe ways to write and read them.
//!
//! Use these constants for every file and folder name: a run folder holds `SUMMARY_JSON`,
//! `RUN_JSON`, `TIMESERIES_CSV` and `EVENTS_JSONL`; a sweep folder holds `SWEEP_JSON`,
//! `SWEEP_CSV`, `POINTS_CSV` and the run records under `RUNS_DIR`; either may hold charts under
//! `PLOTS_DIR` and its report, `REPORT_HTML`. Write a file whole with `write_atomically` or
//! `write_json_atomically`, and a stream with a `PendingFile`: never a half-written file under
//! the final name, and no temporary file left behind when the writing fails (a full disk, a
//! later error). Read JSON back with `read_json` into the same type that wrote it. Every
//! `ReadError` is one line naming the file (and the line, for CSV) and what is wrong; `in_file`
//! puts a file's name in front of a write error.
//!
//! What the files hold is defined by their record types: `Summary`, `RunInfo`, `ClusterEvent`,
//! `timeseries::Layout` and `IntervalRow`, and `sweep_files`' `SweepInfo`, `RunRecord`,
//! `RunsTable` and `PointsTable`.

use std::fs;
use std::io::{self, BufWriter, Write};
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
/// and a rename, as `write_atomically`.
///
/// # Errors
/// Any I/O or serialization error; the temporary file is then removed.
pub fn write_json_atomically<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
    text.push('\n');
    write_atomically(path, &text)
}

/// Writes `text` to `path` so that `path` is never seen half written: through `PendingFile`
/// (a temporary file beside it, renamed over it once complete and removed if anything fails).
/// A `path` that is a device or a pipe (`/dev/stdout`, `/dev/full`) is written directly, since
/// renaming a file over it would replace the device; a symbolic link is followed, so the link
/// stays and the file it points to is replaced.
///
/// # Errors
/// Any I/O error; nothing is then left under a temporary name.
pub fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    write_bytes_atomically(path, text.as_bytes())
}

/// `write_atomically` for bytes (charts).
///
/// # Errors
/// As `write_atomically`.
pub fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    match fs::metadata(path) {
        Ok(metadata) if metadata.is_dir() => {
            return Err(io::Error::other("is a folder; expected a file"));
        }
        Ok(metadata) if !metadata.is_file() => {
            let mut device = fs::OpenOptions::new().write(true).open(path)?;
            return device.write_all(bytes).and_then(|()| device.flush());
        }
        _ => {}
    }
    let target = match fs::symlink_metadata(path) {
        // A link to nowhere is replaced, as a missing file would be created.
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    };
    let mut file = PendingFile::create(&target, TMP_SUFFIX)?;
    file.write_all(bytes)?;
    file.commit()
}

/// The suffix of a file written whole by `write_atomically` while it is being written.
pub const TMP_SUFFIX: &str = ".tmp";
/// The suffix of a stream (`timeseries.csv`, `events.jsonl`) while its run goes on.
pub const PARTIAL_SUFFIX: &str = ".partial";

/// A file being written under a temporary name beside its final one (`NAME.tmp`,
/// `NAME.partial`), renamed to the final name by `commit` and removed when dropped uncommitted.
///
/// Use it for every file capsim writes in more than one step: whatever stops the writing (a
/// full disk, a later error, a panic), the temporary file does not stay behind and the final
/// name never holds a partial file. Writes are buffered.
#[derive(Debug)]
pub struct PendingFile {
    file: Option<BufWriter<fs::File>>,
    tmp: PathBuf,
    path: PathBuf,
}

impl PendingFile {
    /// Creates (or truncates) the temporary file of `path`: `path` followed by `suffix`.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create(path: &Path, suffix: &str) -> io::Result<PendingFile> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(suffix);
        let tmp = PathBuf::from(tmp);
        let file = fs::File::create(&tmp)?;
        Ok(PendingFile {
            file: Some(BufWriter::new(file)),
            tmp,
            path: path.to_path_buf(),
        })
    }

    /// The file's final name.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes the file and renames it to its final name.
    ///
    /// # Errors
    /// The flush or the rename failed; the temporary file is then removed.
    pub fn commit(mut self) -> io::Result<()> {
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        file.into_inner().map_err(io::IntoInnerError::into_error)?;
        fs::rename(&self.tmp, &self.path)?;
        self.tmp = PathBuf::new();
        Ok(())
    }

    fn writer(&mut self) -> io::Result<&mut BufWriter<fs::File>> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("the file is already committed"))
    }
}

impl Write for PendingFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.writer()?.write(bytes)
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.writer()?.write_all(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer()?.flush()
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        // Close before removing; a buffered tail that cannot be written is lost with the file.
        drop(self.file.take());
        if !self.tmp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// `error` with the name of the file it happened to in front ("events.jsonl: No space left on
/// device (os error 28)"), of the same kind, with the operating system's error as its source.
pub fn in_file(name: impl AsRef<Path>, error: io::Error) -> io::Error {
    io::Error::new(
        error.kind(),
        FileError {
            name: name.as_ref().to_path_buf(),
            source: error,
        },
    )
}

/// An I/O error and the file it happened to (see `in_file`).
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", name.display())]
struct FileError {
    name: PathBuf,
    source: io::Error,
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

    /// A new empty folder for one test.
    fn folder(label: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("capsim-files-{label}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    #[test]
    fn a_pending_file_is_removed_unless_committed() {
        let dir = folder("pending");
        let mut dropped = PendingFile::create(&dir.join("a.csv"), PARTIAL_SUFFIX)
            .unwrap_or_else(|e| panic!("{e}"));
        dropped.write_all(b"half").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(names(&dir), ["a.csv.partial"]);
        drop(dropped);
        assert!(names(&dir).is_empty(), "{:?}", names(&dir));

        let mut kept =
            PendingFile::create(&dir.join("b.csv"), TMP_SUFFIX).unwrap_or_else(|e| panic!("{e}"));
        kept.write_all(b"whole\n").unwrap_or_else(|e| panic!("{e}"));
        kept.commit().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(names(&dir), ["b.csv"]);
        assert_eq!(
            fs::read_to_string(dir.join("b.csv")).ok().as_deref(),
            Some("whole\n")
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_failed_atomic_write_leaves_no_temporary_file() {
        let dir = folder("failed");
        // A folder under the file's name: the rename cannot replace it.
        fs::create_dir_all(dir.join("r.json").join("inside")).unwrap_or_else(|e| panic!("{e}"));
        let err = write_json_atomically(&dir.join("r.json"), &[1, 2]).unwrap_err();
        assert_eq!(err.to_string(), "is a folder; expected a file");
        assert_eq!(names(&dir), ["r.json"]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_atomic_write_through_a_link_replaces_the_file_and_keeps_the_link() {
        let dir = folder("link");
        fs::write(dir.join("real.txt"), "old").unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink("real.txt", dir.join("link.txt"))
            .unwrap_or_else(|e| panic!("{e}"));
        write_atomically(&dir.join("link.txt"), "new").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            fs::read_to_string(dir.join("real.txt")).ok().as_deref(),
            Some("new")
        );
        let link = fs::symlink_metadata(dir.join("link.txt")).map(|m| m.file_type().is_symlink());
        assert_eq!(link.ok(), Some(true), "the link is kept");
        assert_eq!(names(&dir), ["link.txt", "real.txt"]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_device_is_written_in_place_and_its_error_returned() {
        let dir = folder("device");
        let link = dir.join("full");
        if std::os::unix::fs::symlink("/dev/full", &link).is_err()
            || !Path::new("/dev/full").exists()
        {
            return; // no /dev/full on this system
        }
        let err = write_atomically(&link, "text").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(28), "{err}");
        let still_a_link = fs::symlink_metadata(&link).map(|m| m.file_type().is_symlink());
        assert_eq!(still_a_link.ok(), Some(true));
        assert_eq!(names(&dir), ["full"]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_write_error_names_its_file_and_keeps_its_kind() {
        let err = in_file("events.jsonl", io::Error::from_raw_os_error(28));
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        assert!(
            err.to_string()
                .starts_with("events.jsonl: No space left on device"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_file_is_told_apart() {
        let err = read_text(Path::new("/nonexistent/capsim/x.csv")).unwrap_err();
        assert!(matches!(err, ReadError::Missing { .. }), "{err}");
        assert_eq!(err.to_string(), "/nonexistent/capsim/x.csv: file not found");
    }
}
