//! Merging the folders of a sharded sweep into the folder one unsharded run would have written.
//!
//! Use `merge` after running every shard (`capsim sweep --shard I/N`) into its own folder. It
//! reads each folder's `sweep.json` and run records, refuses folders of another sweep and runs
//! that differ between shards, and rebuilds the tables from the union of the records. It runs
//! no simulation. Runs no shard holds are not an error but part of the result (`Merged::missing`,
//! each with its point and replication): the command line exits 1 on them unless told that a
//! partial merge is what is wanted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::report::files::{RUNS_DIR, SWEEP_JSON};
use crate::report::sweep_files::{RunRecord, SweepInfo};
use crate::sweep::SweepError;
use crate::sweep::outputs::{remove_tables, write_tables};

/// A run of the sweep that none of the merged folders holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingRun {
    /// Run index over the whole sweep (`runs/run-NNNNNN.json`).
    pub run: usize,
    /// Its point.
    pub point: usize,
    /// Its replication, 0-based.
    pub replication: u32,
}

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// Run records written to the combined folder.
    pub runs: usize,
    /// Runs of the sweep that no folder held, by run index.
    pub missing: Vec<MissingRun>,
}

/// Writes the merged records and their tables into `out`.
fn write_merged(
    out: &Path,
    info: &SweepInfo,
    records: &BTreeMap<usize, RunRecord>,
) -> Result<(), SweepError> {
    let io = |path: PathBuf| move |source| SweepError::Io { path, source };
    let runs_dir = out.join(RUNS_DIR);
    std::fs::create_dir_all(&runs_dir).map_err(io(runs_dir))?;
    // What described the folder's earlier runs goes before its records change.
    remove_tables(out).map_err(io(out.to_path_buf()))?;
    for record in records.values() {
        (record.write(out)).map_err(io(RunRecord::path(out, record.run)))?;
    }
    write_tables(out, info, records).map_err(|source| SweepError::Tables {
        dir: out.to_path_buf(),
        source,
    })
}

/// Combines shard folders of one sweep into `out`: every run record, and the tables a single
/// unsharded run of the sweep writes from the runs it has. Returns the runs merged and the
/// runs still missing.
///
/// # Errors
/// `SweepError::Read` when a folder's `sweep.json` is missing or is not one; `SweepError::Merge`
/// when a folder belongs to another sweep or two folders disagree about a run;
/// `SweepError::Io` on a file error.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Merged, SweepError> {
    let mut info: Option<SweepInfo> = None;
    let mut records = BTreeMap::new();
    for dir in dirs {
        let this = SweepInfo::read(&dir.join(SWEEP_JSON))?;
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
        let (found, unreadable) =
            RunRecord::read_all_and_unreadable(dir).map_err(|source| SweepError::Io {
                path: dir.clone(),
                source,
            })?;
        if !unreadable.is_empty() {
            let lines: Vec<String> = unreadable.iter().map(ToString::to_string).collect();
            return Err(SweepError::Merge(format!(
                "{} run records cannot be read (a shard killed while writing?); run that shard \
                 again with --resume, which redoes them:\n{}",
                lines.len(),
                lines.join("\n")
            )));
        }
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
    write_merged(out, &info, &records).map_err(|e| {
        SweepError::Merge(format!(
            "{e}; the shards' folders are untouched: run the merge again to finish"
        ))
    })?;
    let per_point = info.replications.max(1) as usize;
    let missing = (0..info.runs)
        .filter(|r| !records.contains_key(r))
        .map(|run| MissingRun {
            run,
            point: run / per_point,
            replication: (run % per_point) as u32,
        })
        .collect();
    Ok(Merged {
        runs: records.len(),
        missing,
    })
}
