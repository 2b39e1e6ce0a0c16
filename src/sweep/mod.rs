//! Sweeps: many variants of one scenario, each run several times, in parallel, into one folder
//! of tables a capacity planner can compare.
//!
//! Use `Plan::new` to expand a scenario's `sweep` section (and command-line parameters) into
//! points and seeded runs, `run` to execute a plan (or one shard of it) into a folder, and
//! `merge` to combine shard folders. Every finished run is written at once, so an interrupted
//! sweep loses nothing and `resume` picks up where it stopped; the tables are rebuilt from the
//! run records, so they are byte-identical for any number of jobs and for any sharding.

mod execute;
mod merge;
pub mod outputs;
pub mod plan;

use std::path::PathBuf;

use crate::replications::RunError;
use crate::report::ReadError;

pub use execute::{Progress, SweepOptions, SweepReport, run};
pub use merge::{Merged, MissingRun, merge};
pub use plan::{Plan, Point, RunSpec};

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
    /// The tables could not be written (the file is named); none of them is left.
    #[error("writing the tables of {}: {source}", .dir.display())]
    Tables {
        /// The sweep folder.
        dir: PathBuf,
        /// What the operating system said, with the file.
        #[source]
        source: std::io::Error,
    },
    /// A sweep stopped by an error after its runs began (a full disk): the run records written
    /// are kept, and `--resume` finishes the sweep from them.
    #[error(
        "{cause}; {recorded} of {assigned} runs are recorded in {}: run the same command again \
         with --resume to finish",
        .runs.display()
    )]
    Unfinished {
        /// What stopped it.
        cause: Box<SweepError>,
        /// Runs of this invocation with a record in the folder.
        recorded: usize,
        /// Runs of this invocation (its shard, or all).
        assigned: usize,
        /// The folder of the run records.
        runs: PathBuf,
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
    /// Folders to merge are not shards of one sweep.
    #[error("{0}")]
    Merge(String),
    /// A sweep folder's file cannot be read back.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A run could not be made: no threads, or its output folder could not be written.
    #[error(transparent)]
    Run(#[from] RunError),
}
