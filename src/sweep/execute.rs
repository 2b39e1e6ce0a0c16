//! Running a sweep's plan: the runs of one shard (or all), in parallel, each written the moment
//! it finishes, skipping those a resumed folder already holds.
//!
//! Progress goes to standard error: a bar with runs done, rate and ETA on a terminal, one plain
//! line per finished run otherwise. Nothing about wall time reaches the result files.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::replications::{self, Job, RunError};
use crate::report::Summary;
use crate::report::files::{RUNS_DIR, run_dir};
use crate::report::sweep_files::{RunRecord, SweepInfo};
use crate::scenario::model::SeedPolicy;
use crate::sweep::SweepError;
use crate::sweep::outputs::{remove_tables, write_tables};
use crate::sweep::plan::{Plan, RunSpec};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A bar on standard error when it is a terminal, plain lines otherwise.
    Auto,
    /// Nothing.
    Quiet,
}

/// How to run a sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Runs at once (threads).
    pub jobs: usize,
    /// The sweep folder.
    pub out: PathBuf,
    /// Whether each run also gets a folder with its full outputs (`runs/run-NNNNNN/`).
    pub keep_runs: bool,
    /// Whether runs already in the folder (of this same sweep) are kept and skipped.
    pub resume: bool,
    /// `(index, count)`: run only every `count`-th run, starting at `index`.
    pub shard: Option<(u32, u32)>,
    /// Progress display.
    pub progress: Progress,
}

/// What a sweep invocation did.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepReport {
    /// Runs in the whole sweep.
    pub runs_total: usize,
    /// Runs this invocation is responsible for (its shard, or all).
    pub runs_assigned: usize,
    /// Runs executed now.
    pub runs_executed: usize,
    /// Runs skipped because the folder already held them.
    pub runs_resumed: usize,
    /// Records of earlier sweeps removed from the folder (without `resume`).
    pub runs_discarded: usize,
    /// Simulation events processed now.
    pub events: u64,
    /// Wall-clock seconds.
    pub wall_s: f64,
}

/// Runs `plan` (or the shard `options.shard` of it) into `options.out`.
///
/// # Errors
/// `SweepError::Io` on a file error before the runs, `SweepError::ForeignRuns` when resuming
/// into a folder of another sweep, `SweepError::Unfinished` when a run or the tables cannot be
/// written (the run records written are kept, for `resume`).
pub fn run(plan: &Plan, options: &SweepOptions) -> Result<SweepReport, SweepError> {
    let started = Instant::now();
    let out = &options.out;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SweepError::Io { path, source }
    };
    let runs_dir = out.join(RUNS_DIR);
    std::fs::create_dir_all(&runs_dir).map_err(io(&runs_dir))?;

    let (done, runs_discarded) = prior_runs(plan, options)?;

    let assigned: Vec<RunSpec> = match options.shard {
        Some((index, count)) => plan.shard(index, count),
        None => plan.runs.clone(),
    };
    let todo: Vec<RunSpec> = assigned
        .iter()
        .filter(|r| !done.contains_key(&r.index))
        .copied()
        .collect();
    let runs_resumed = assigned.len() - todo.len();
    // The runs are about to change: tables, report and charts of the folder's earlier runs
    // would describe other runs than its records.
    remove_tables(out).map_err(io(out))?;

    let display = Display::new(options.progress, todo.len(), runs_resumed);
    let jobs: Vec<Job<'_>> = todo
        .iter()
        .map(|spec| Job {
            scenario: &plan.points[spec.point].scenario,
            seed: spec.seed,
            out: options.keep_runs.then(|| run_dir(out, spec.index)),
        })
        .collect();
    // Each run's record is written the moment it finishes, on the thread that ran it.
    let events = replications::run(&jobs, options.jobs, |index, outcome| {
        let spec = &todo[index];
        write_record(plan, spec, outcome.summary, out)?;
        display.finished(spec);
        Ok::<_, SweepError>(outcome.events_processed)
    });
    display.finish();
    let unfinished = |cause| unfinished(plan, &assigned, out, cause);
    let events: u64 = events
        .map_err(|e| match e {
            // No run started: nothing to resume.
            SweepError::Run(RunError::Threads { .. }) => e,
            e => unfinished(e),
        })?
        .into_iter()
        .sum();

    let records: BTreeMap<usize, RunRecord> = RunRecord::read_all(out)
        .map_err(io(out))?
        .into_iter()
        .filter(|(_, r)| r.plan == plan.digest)
        .collect();
    write_tables(out, &info(plan), &records).map_err(|source| {
        unfinished(SweepError::Tables {
            dir: out.clone(),
            source,
        })
    })?;
    Ok(SweepReport {
        runs_total: plan.runs.len(),
        runs_assigned: assigned.len(),
        runs_executed: todo.len(),
        runs_resumed,
        runs_discarded,
        events,
        wall_s: started.elapsed().as_secs_f64(),
    })
}

/// The runs of the folder kept (with `resume`, every record, which must be of this plan), and
/// how many of an earlier sweep were removed (without it).
fn prior_runs(
    plan: &Plan,
    options: &SweepOptions,
) -> Result<(BTreeMap<usize, RunRecord>, usize), SweepError> {
    let out = &options.out;
    let existing = RunRecord::read_all(out).map_err(|source| SweepError::Io {
        path: out.clone(),
        source,
    })?;
    if options.resume {
        if let Some(foreign) = existing.values().find(|r| r.plan != plan.digest) {
            return Err(SweepError::ForeignRuns {
                path: out.clone(),
                found: foreign.plan.clone(),
                expected: plan.digest.clone(),
            });
        }
        return Ok((existing, 0));
    }
    for run in existing.keys() {
        let _ = std::fs::remove_file(RunRecord::path(out, *run));
        let _ = std::fs::remove_dir_all(run_dir(out, *run));
    }
    Ok((BTreeMap::new(), existing.len()))
}

/// The sweep could not finish because of `cause`: with the runs of `assigned` recorded in
/// `out` so far, for `resume`.
fn unfinished(plan: &Plan, assigned: &[RunSpec], out: &Path, cause: SweepError) -> SweepError {
    let recorded = RunRecord::read_all(out).map_or(0, |records| {
        (assigned.iter())
            .filter(|r| {
                records
                    .get(&r.index)
                    .is_some_and(|rec| rec.plan == plan.digest)
            })
            .count()
    });
    SweepError::Unfinished {
        cause: Box::new(cause),
        recorded,
        assigned: assigned.len(),
        runs: out.join(RUNS_DIR),
    }
}

/// Writes the record of run `spec`, whose summary is `summary`, into sweep folder `out`.
fn write_record(
    plan: &Plan,
    spec: &RunSpec,
    summary: Summary,
    out: &Path,
) -> Result<(), SweepError> {
    let record = RunRecord {
        plan: plan.digest.clone(),
        run: spec.index,
        point: spec.point,
        replication: spec.replication,
        seed: spec.seed,
        settings: plan.points[spec.point]
            .settings
            .iter()
            .map(ToString::to_string)
            .collect(),
        summary,
    };
    record.write(out).map_err(|source| SweepError::Io {
        path: RunRecord::path(out, spec.index),
        source,
    })
}

/// `sweep.json`'s content for `plan`.
pub(crate) fn info(plan: &Plan) -> SweepInfo {
    let base = plan.points.first().map(|p| &p.scenario);
    SweepInfo {
        scenario: plan.scenario.clone(),
        plan: plan.digest.clone(),
        parameters: plan.parameters.clone(),
        point_settings: plan
            .points
            .iter()
            .map(|p| p.settings.iter().map(ToString::to_string).collect())
            .collect(),
        replications: plan.replications,
        seeds: match plan.seeds {
            SeedPolicy::Common => "common",
            SeedPolicy::Independent => "independent",
        }
        .to_string(),
        points: plan.points.len(),
        runs: plan.runs.len(),
        runs_done: 0,
        slo_p99_ms: base
            .map(|s| {
                s.services
                    .iter()
                    .filter_map(|svc| Some((svc.name.clone(), svc.slo_p99?.as_millis_f64())))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Progress on standard error.
struct Display {
    bar: Option<ProgressBar>,
    lines: bool,
    total: usize,
    finished: AtomicUsize,
    started: Instant,
}

impl Display {
    fn new(progress: Progress, total: usize, resumed: usize) -> Display {
        let terminal = std::io::stderr().is_terminal();
        let bar = (progress == Progress::Auto && terminal).then(|| {
            let bar = ProgressBar::new(total as u64);
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:40} {pos}/{len} runs  {per_sec}  ETA {eta}  {msg}",
            ) {
                bar.set_style(style);
            }
            if resumed > 0 {
                bar.set_message(format!("({resumed} resumed)"));
            }
            bar
        });
        let lines = progress == Progress::Auto && !terminal;
        if lines && resumed > 0 {
            let _ = writeln!(
                std::io::stderr(),
                "sweep: {resumed} runs already done, {total} to run"
            );
        }
        Display {
            bar,
            lines,
            total,
            finished: AtomicUsize::new(0),
            started: Instant::now(),
        }
    }

    fn finished(&self, spec: &RunSpec) {
        let n = self.finished.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        } else if self.lines {
            let elapsed = self.started.elapsed().as_secs_f64();
            let rate = n as f64 / elapsed.max(1e-9);
            let eta = (self.total - n) as f64 / rate;
            let _ = writeln!(
                std::io::stderr(),
                "sweep: run {} done (point {}, replication {}): {n}/{} runs, {:.2} runs/s, ETA {:.0} s",
                spec.index,
                spec.point,
                spec.replication,
                self.total,
                rate,
                eta
            );
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
