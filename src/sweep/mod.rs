//! Sweeps: many variants of one scenario, each run several times, in parallel, into one folder
//! of tables a capacity planner can compare.
//!
//! Use `Plan::new` to expand a scenario's `sweep` section (and command-line parameters) into
//! points and seeded runs, `run` to execute a plan (or one shard of it) into a folder, and
//! `merge` to combine shard folders. Every finished run is written at once, so an interrupted
//! sweep loses nothing and `resume` picks up where it stopped; the tables are rebuilt from the
//! run records, so they are byte-identical for any number of jobs and for any sharding.

mod execute;
pub mod outputs;
pub mod plan;

use std::path::{Path, PathBuf};

pub use execute::{Progress, SweepOptions, SweepReport, run};
pub use plan::{Plan, Point, RunSpec};

use outputs::{RunRecord, SweepInfo, write_tables};

/// What can stop a sweep.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A folder holds the runs of another sweep.
    #[error("{}: holds runs of a different sweep (plan {found}, this one is {expected}); use another --out folder or remove it", .path.display())]
    ForeignRuns {
        /// The folder.
        path: PathBuf,
        /// Digest found there.
        found: String,
        /// Digest of this sweep.
        expected: String,
    },
    /// Folders to merge are not shards of one sweep, or are not sweep folders.
    #[error("{0}")]
    Merge(String),
}

/// Combines shard folders of one sweep into `out`: every run record, and the tables a single
/// unsharded run of the sweep writes. Returns the runs merged and the runs still missing.
///
/// # Errors
/// `SweepError::Merge` when a folder is not a sweep folder or belongs to another sweep, or two
/// folders disagree about a run; `SweepError::Io` on a file error.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<(usize, Vec<usize>), SweepError> {
    let mut info: Option<SweepInfo> = None;
    let mut records = std::collections::BTreeMap::new();
    for dir in dirs {
        let path = dir.join("sweep.json");
        let text = std::fs::read_to_string(&path).map_err(|source| SweepError::Io {
            path: path.clone(),
            source,
        })?;
        let this: SweepInfo = serde_json::from_str(&text).map_err(|e| {
            SweepError::Merge(format!("{}: not a capsim sweep.json: {e}", path.display()))
        })?;
        if let Some(first) = &info
            && (first.plan != this.plan || first.parameters != this.parameters)
        {
            return Err(SweepError::Merge(format!(
                "{}: a shard of another sweep (plan {}, expected {})",
                dir.display(),
                this.plan,
                first.plan
            )));
        }
        let found = RunRecord::read_all(dir).map_err(|source| SweepError::Io {
            path: dir.clone(),
            source,
        })?;
        for (run, record) in found {
            if record.plan != this.plan {
                continue;
            }
            if let Some(existing) = records.get(&run)
                && existing != &record
            {
                return Err(SweepError::Merge(format!(
                    "run {run} differs between shards; were they run with different builds?"
                )));
            }
            records.insert(run, record);
        }
        info.get_or_insert(this);
    }
    let Some(info) = info else {
        return Err(SweepError::Merge("no folders to merge".to_string()));
    };
    let io = |source| SweepError::Io {
        path: out.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(out.join(outputs::RUNS_DIR)).map_err(io)?;
    for record in records.values() {
        record.write(out).map_err(io)?;
    }
    write_tables(out, &info, &records).map_err(io)?;
    let missing = (0..info.runs)
        .filter(|r| !records.contains_key(r))
        .collect();
    Ok((records.len(), missing))
}
