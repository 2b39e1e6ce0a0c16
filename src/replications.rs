//! Replications: many independent runs of validated scenarios, each with its own seed, on a pool
//! of threads, with results in job order whatever the number of threads.
//!
//! Use `run_seed` to derive each replication's seed, `run` to simulate a list of `Job`s (calling
//! back as each one finishes, so that a caller can write it at once), `summary_metrics` to turn
//! a summary into the named numbers that replications are compared on, and `mean_ci95` to
//! summarise one metric over replications. `check` and `sweep` are built on this layer.
//!
//! This module plans nothing (which scenarios and how many replications is the caller's
//! business) and writes only what a job asks for (its `out` folder); it never prints.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::report::{Discard, Summary};
use crate::runner::run_to_dir;
use crate::scenario::Scenario;
use crate::scenario::model::SeedPolicy;
use crate::simulation::{Outcome, Simulation};

pub use crate::report::metrics::{mean_ci95, summary_metrics, summary_values, t95};

/// One simulation to run: a validated scenario, the seed to run it with, and where to write its
/// full outputs, if anywhere.
#[derive(Debug, Clone)]
pub struct Job<'s> {
    /// The scenario; its own seed is replaced by `seed`.
    pub scenario: &'s Scenario,
    /// The seed of this run.
    pub seed: u64,
    /// A folder for the run's `summary.json`, `timeseries.csv`, `events.jsonl` and `run.json`;
    /// `None` keeps only the summary in memory (faster: nothing streams to disk).
    pub out: Option<PathBuf>,
}

/// Why a job could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The pool of threads could not be started.
    #[error("cannot start {threads} threads: {message}")]
    Threads {
        /// Threads asked for.
        threads: usize,
        /// What the thread library said.
        message: String,
    },
    /// Writing a job's output folder failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The folder.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
}

/// A run's seed. Replication 0 of every point keeps the scenario's own seed under the common
/// policy, so that a one-replication sweep reproduces `capsim run --set ...` exactly and a
/// one-replication check judges the run `capsim run` makes.
///
/// Under `SeedPolicy::Common` every point's replication `r` gets the same seed (common random
/// numbers: differences between points are not noise between seeds); under
/// `SeedPolicy::Independent` each (point, replication) gets its own.
pub fn run_seed(base: u64, policy: SeedPolicy, point: usize, replication: u32) -> u64 {
    match policy {
        SeedPolicy::Common if replication == 0 => base,
        SeedPolicy::Common => mix(base ^ mix(u64::from(replication))),
        SeedPolicy::Independent => {
            mix(base ^ mix(((point as u64) << 32) ^ u64::from(replication) ^ 0x5eed))
        }
    }
}

/// SplitMix64's finalizer.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Simulates every job on a pool of `threads` threads and returns what `finished` made of each,
/// in job order whatever the threads.
///
/// `finished(index, outcome)` is called on the worker thread the moment job `index` finishes,
/// in whatever order jobs finish: write or report a run there so that an interruption loses
/// nothing. Once a job has failed (its output folder or `finished` returned an error, as on a
/// full disk), jobs not yet started are skipped: the error ends the set, and the runs already
/// finished are what a caller can keep.
///
/// # Errors
/// `RunError` (through `E::from`) when the pool cannot start or a job's output folder cannot
/// be written; otherwise what `finished` returned; of several errors, the first in job order.
pub fn run<T, E, F>(jobs: &[Job<'_>], threads: usize, finished: F) -> Result<Vec<T>, E>
where
    T: Send,
    E: Send + From<RunError>,
    F: Fn(usize, Outcome) -> Result<T, E> + Sync,
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| RunError::Threads {
            threads,
            message: e.to_string(),
        })?;
    let failed = AtomicBool::new(false);
    let results: Vec<Option<Result<T, E>>> = pool.install(|| {
        jobs.par_iter()
            .enumerate()
            .map(|(index, job)| {
                if failed.load(Ordering::Relaxed) {
                    return None;
                }
                let result = simulate(job)
                    .map_err(E::from)
                    .and_then(|outcome| finished(index, outcome));
                if result.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                Some(result)
            })
            .collect()
    });
    // A job is skipped only after another failed, so a skipped job never hides an error.
    results.into_iter().flatten().collect()
}

/// The summary `scenario` gives before anything has run: every section its runs' summaries
/// have, figures zero or null. Use it with `report::metrics::metric_names` to check metric
/// names before the first event.
pub fn empty_summary(scenario: &Scenario) -> Summary {
    Simulation::new(scenario).empty_summary()
}

/// Simulates one job on the calling thread.
///
/// # Errors
/// `RunError::Io` when the job's output folder cannot be written.
pub fn simulate(job: &Job<'_>) -> Result<Outcome, RunError> {
    let mut scenario = job.scenario.clone();
    scenario.seed = job.seed;
    match &job.out {
        Some(dir) => run_to_dir(&scenario, dir)
            .map(|report| report.outcome)
            .map_err(|source| RunError::Io {
                path: dir.clone(),
                source,
            }),
        None => Ok(Simulation::new(&scenario).run(&mut Discard)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_common_across_points_unless_independent() {
        assert_eq!(run_seed(42, SeedPolicy::Common, 7, 0), 42);
        assert_eq!(
            run_seed(42, SeedPolicy::Common, 0, 3),
            run_seed(42, SeedPolicy::Common, 9, 3)
        );
        assert_ne!(
            run_seed(42, SeedPolicy::Common, 0, 3),
            run_seed(42, SeedPolicy::Common, 0, 4)
        );
        assert_ne!(
            run_seed(42, SeedPolicy::Independent, 0, 3),
            run_seed(42, SeedPolicy::Independent, 1, 3)
        );
    }

    #[test]
    fn seeds_keep_their_arithmetic() {
        // Recorded sweeps and checks depend on these exact values: changing the derivation
        // changes every result with more than one replication.
        assert_eq!(mix(0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(
            run_seed(42, SeedPolicy::Common, 0, 1),
            mix(42 ^ mix(1)),
            "common: the base mixed with the replication"
        );
        assert_eq!(
            run_seed(42, SeedPolicy::Independent, 2, 1),
            mix(42 ^ mix((2 << 32) ^ 1 ^ 0x5eed))
        );
    }

    const SCENARIO: &str = r#"
name: replications
duration: 2m
node_pools:
  pool: {machine_type: e2-standard-8, initial_size: 1}
services:
  web:
    replicas: 1
    resources: {requests: {cpu: 500m, memory: 1Gi}}
    load:
      arrivals: {rate: 50}
      service_time: {distribution: exponential, mean: 5ms}
"#;

    #[test]
    fn results_come_in_job_order_whatever_the_threads() {
        let scenario = Scenario::from_yaml_str(SCENARIO, "replications.yaml")
            .unwrap_or_else(|e| panic!("{e}"));
        let jobs: Vec<Job<'_>> = (0..4)
            .map(|r| Job {
                scenario: &scenario,
                seed: run_seed(scenario.seed, SeedPolicy::Common, 0, r),
                out: None,
            })
            .collect();
        let seeds = |threads| {
            run(&jobs, threads, |index, outcome| {
                Ok::<_, RunError>((index, outcome.summary.seed))
            })
            .unwrap_or_else(|e| panic!("{e}"))
        };
        let one = seeds(1);
        assert_eq!(one, seeds(3));
        let expected: Vec<(usize, u64)> = jobs.iter().map(|j| j.seed).enumerate().collect();
        assert_eq!(one, expected);
    }

    #[test]
    fn the_first_failure_in_job_order_is_returned() {
        let scenario = Scenario::from_yaml_str(SCENARIO, "replications.yaml")
            .unwrap_or_else(|e| panic!("{e}"));
        let jobs = vec![
            Job {
                scenario: &scenario,
                seed: 1,
                out: None,
            };
            3
        ];
        let result = run(&jobs, 2, |index, _| match index {
            0 => Ok(()),
            i => Err(RunError::Threads {
                threads: i,
                message: "no".into(),
            }),
        });
        let err = result.map(|_| ()).unwrap_err().to_string();
        assert_eq!(err, "cannot start 1 threads: no");
    }

    #[test]
    fn jobs_not_started_when_one_fails_are_skipped() {
        let scenario = Scenario::from_yaml_str(SCENARIO, "replications.yaml")
            .unwrap_or_else(|e| panic!("{e}"));
        let jobs = vec![
            Job {
                scenario: &scenario,
                seed: 1,
                out: None,
            };
            5
        ];
        let calls = std::sync::atomic::AtomicUsize::new(0);
        // One thread runs the jobs in order: job 1 fails (a full disk), 2 to 4 never start.
        let result = run(&jobs, 1, |index, _| {
            calls.fetch_add(1, Ordering::Relaxed);
            match index {
                1 => Err(RunError::Threads {
                    threads: 1,
                    message: "disk full".into(),
                }),
                _ => Ok(index),
            }
        });
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::Relaxed), 2);
    }
}
