//! The CI gate: run a scenario, evaluate its `expect` assertions and a baseline comparison, and
//! give a verdict as a table, a JUnit XML file and an exit code.
//!
//! Use `check` with a validated scenario and the file it came from. Everything that can be
//! judged wrong without running is checked before the first event, all of it at once: every
//! assertion's metric against the names a summary of this scenario has
//! (`replications::empty_summary`), the baseline (readable, a summary, of the same scenario,
//! duration and warm-up), the `--baseline-metrics` patterns and the JUnit file's folder. With
//! several replications each assertion is judged on the mean over them, or conservatively on
//! the side of the 95% confidence interval that the comparison cares about (the upper bound
//! for `<=`/`<`, the lower for `>=`/`>`). A metric the runs left null (a latency with no
//! completed request) fails its assertion. A failed assertion is a result, not an error: errors
//! are only for inputs that cannot be judged.

mod baseline;
mod render;

use std::fs;
use std::path::{Path, PathBuf};

use crate::replications::{
    self, Job, RunError, empty_summary, mean_ci95, run_seed, summary_values,
};
use crate::report::metrics::planner::MetricSelection;
use crate::report::metrics::{MaybeMetric, metric_names};
use crate::scenario::Scenario;
use crate::scenario::model::{CompareOp, Expectation, SeedPolicy};
use crate::text::suggest::closest;

pub use baseline::Baseline;
pub use render::{junit, render};

/// How to judge.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOptions {
    /// Replications to run (each with its own seed); at least 1.
    pub replications: u32,
    /// Judge on the unfavourable confidence bound instead of the mean.
    pub conservative: bool,
    /// A `summary.json` to compare the selected metrics with.
    pub baseline: Option<BaselineOptions>,
    /// Where the JUnit XML will be written: its folder must exist and be writable.
    pub junit: Option<PathBuf>,
    /// Threads for the replications.
    pub jobs: usize,
}

impl CheckOptions {
    /// One replication on one thread, with no baseline and no JUnit file: what `capsim validate`
    /// checks an `expect` section with.
    pub fn validation() -> CheckOptions {
        CheckOptions {
            replications: 1,
            conservative: false,
            baseline: None,
            junit: None,
            jobs: 1,
        }
    }
}

/// What to compare with a baseline, and how closely.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineOptions {
    /// The baseline's `summary.json`.
    pub path: PathBuf,
    /// Relative tolerance (0.05 = 5%); each metric's absolute floor (`planner::floor`) is
    /// allowed whatever the tolerance.
    pub tolerance: f64,
    /// The metrics compared (the planner metrics unless `--baseline-metrics` says otherwise).
    pub metrics: MetricSelection,
}

/// Where a row comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// An `expect` assertion.
    Assertion,
    /// A baseline metric.
    Baseline,
}

/// One judged line.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRow {
    /// Assertion or baseline comparison.
    pub kind: RowKind,
    /// The assertion as written, or the baseline metric's path.
    pub name: String,
    /// What was required.
    pub expected: String,
    /// What the run gave (mean, with its confidence interval over replications), or
    /// `no value: <why>` when the runs left the metric null.
    pub actual: String,
    /// Whether it holds.
    pub pass: bool,
}

/// The verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// Scenario name.
    pub scenario: String,
    /// Replications run.
    pub replications: u32,
    /// Every judged line, assertions first.
    pub rows: Vec<CheckRow>,
}

impl CheckReport {
    /// Whether every row holds.
    pub fn passed(&self) -> bool {
        self.rows.iter().all(|r| r.pass)
    }

    /// Rows that failed.
    pub fn failures(&self) -> usize {
        self.rows.iter().filter(|r| !r.pass).count()
    }
}

/// What stops a check from judging.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The inputs cannot be judged: one line per problem, each
    /// `<file>: <path>: <what is wrong>; <what is allowed>`.
    #[error("{}", .0.join("\n"))]
    Input(Vec<String>),
    /// A summary could not be turned into metrics.
    #[error("{scenario}: cannot turn the summary of seed {seed} into metrics: {source}")]
    Metrics {
        /// Scenario name.
        scenario: String,
        /// The run's seed.
        seed: u64,
        /// serde's message.
        #[source]
        source: serde_json::Error,
    },
    /// The replications could not run.
    #[error(transparent)]
    Run(#[from] RunError),
}

/// Checks every input of a check of `scenario` (read from `file`) without running it: the
/// assertions' metrics, the baseline and its metrics, the JUnit file's folder. Returns the
/// baseline read.
///
/// # Errors
/// `CheckError::Input` listing every problem found.
pub fn prepare(
    scenario: &Scenario,
    file: &Path,
    options: &CheckOptions,
) -> Result<Option<Baseline>, CheckError> {
    let names = metric_names(&empty_summary(scenario)).map_err(|source| CheckError::Metrics {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        source,
    })?;
    let mut problems = Vec::new();
    if scenario.expectations.is_empty() && options.baseline.is_none() {
        problems.push(format!(
            "{}: expect: nothing to check; add `expect` assertions to the scenario or give \
             --baseline",
            file.display()
        ));
    }
    for (i, e) in scenario.expectations.iter().enumerate() {
        if !names.contains(&e.metric) {
            let hint = match closest(&e.metric, names.iter().map(String::as_str)) {
                Some(s) => format!("did you mean {s:?}?"),
                None => "an assertion names a numeric path of summary.json, such as \
                         cost.total_usd"
                    .to_string(),
            };
            problems.push(format!(
                "{}: expect[{i}]: {:?}: no summary metric {:?} in this scenario; {hint}",
                file.display(),
                e.text,
                e.metric
            ));
        }
    }
    let baseline = match &options.baseline {
        Some(b) => Baseline::prepare(b, scenario, &names, &mut problems),
        None => None,
    };
    if let Some(path) = &options.junit
        && let Err(problem) = writable(path)
    {
        problems.push(format!(
            "{}: --junit: {problem}; give a file in an existing, writable folder",
            path.display()
        ));
    }
    if problems.is_empty() {
        Ok(baseline)
    } else {
        Err(CheckError::Input(problems))
    }
}

/// Whether `path` can be written, found by opening it for writing without truncating (and
/// removing it again if it was not there).
fn writable(path: &Path) -> Result<(), String> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(format!("folder {} does not exist", parent.display()));
    }
    if path.is_dir() {
        return Err("is a folder".to_string());
    }
    let existed = path.exists();
    fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| format!("cannot be written: {e}"))?;
    if !existed {
        let _ = fs::remove_file(path);
    }
    Ok(())
}

/// Runs `scenario` (read from `file`) `options.replications` times and judges it.
///
/// # Errors
/// `CheckError::Input` (before anything runs) when an assertion names a metric this scenario's
/// summary does not have, the baseline cannot be read or is of another scenario, duration or
/// warm-up, a `--baseline-metrics` pattern selects nothing, the JUnit file cannot be written,
/// or there is nothing to judge.
pub fn check(
    scenario: &Scenario,
    file: &Path,
    options: &CheckOptions,
) -> Result<CheckReport, CheckError> {
    let baseline = prepare(scenario, file, options)?;
    let replications = options.replications.max(1);
    let runs = run_replications(scenario, replications, options.jobs)?;
    let mut rows = judge_assertions(
        &scenario.expectations,
        &runs,
        options.conservative,
        replications,
    );
    if let Some(baseline) = baseline {
        rows.extend(baseline.judge(&runs, replications));
    }
    Ok(CheckReport {
        scenario: scenario.name.clone(),
        replications,
        rows,
    })
}

/// One row per assertion, judged on `runs` (each replication's figures, nulls kept): on the
/// mean, or with `conservative` on the unfavourable 95% bound; a metric a run left null fails.
fn judge_assertions(
    expectations: &[Expectation],
    runs: &[Vec<MaybeMetric>],
    conservative: bool,
    replications: u32,
) -> Vec<CheckRow> {
    expectations
        .iter()
        .map(|e| {
            let (actual, pass) = match values(runs, &e.metric) {
                Ok(values) => {
                    let (mean, low, high) = mean_ci95(&values);
                    let judged = match (conservative, e.op) {
                        (true, CompareOp::Le | CompareOp::Lt) => high,
                        (true, CompareOp::Ge | CompareOp::Gt) => low,
                        _ => mean,
                    };
                    let actual = describe(mean, low, high, replications);
                    (actual, e.op.holds(judged, e.value))
                }
                Err(missing) => (no_value(&e.metric, missing, runs.len()), false),
            };
            CheckRow {
                kind: RowKind::Assertion,
                name: e.text.clone(),
                expected: format!("{} {}", e.op.as_str(), e.value),
                actual,
                pass,
            }
        })
        .collect()
}

/// The value of `metric` in each run, or the number of runs that have none (null, or absent
/// because the section holding it is null).
fn values(runs: &[Vec<MaybeMetric>], metric: &str) -> Result<Vec<f64>, usize> {
    let found: Vec<Option<f64>> = runs
        .iter()
        .map(|flat| flat.iter().find(|(n, _)| n == metric).and_then(|(_, v)| *v))
        .collect();
    let missing = found.iter().filter(|v| v.is_none()).count();
    if missing > 0 {
        return Err(missing);
    }
    Ok(found.into_iter().flatten().collect())
}

/// `no value: <why>` for a metric `missing` of `runs` runs left null.
fn no_value(metric: &str, missing: usize, runs: usize) -> String {
    let why = if metric.contains(".latency_ms.") {
        "no completed requests"
    } else if metric.contains(".wait_ms.") {
        "no request started service"
    } else if metric.contains(".scheduling_delay_s.") {
        "no pod was bound"
    } else {
        "null in the summary"
    };
    if runs > 1 {
        format!("no value: {why} (in {missing} of {runs} replications)")
    } else {
        format!("no value: {why}")
    }
}

/// Each replication's summary as metrics (nulls kept), in replication order whatever the
/// threads.
///
/// # Errors
/// `CheckError::Run` when the threads cannot start; `CheckError::Metrics` when a summary cannot
/// be turned into metrics.
fn run_replications(
    scenario: &Scenario,
    replications: u32,
    threads: usize,
) -> Result<Vec<Vec<MaybeMetric>>, CheckError> {
    let jobs: Vec<Job<'_>> = (0..replications)
        .map(|r| Job {
            scenario,
            seed: run_seed(scenario.seed, SeedPolicy::Common, 0, r),
            out: None,
        })
        .collect();
    replications::run(&jobs, threads, |index, outcome| {
        summary_values(&outcome.summary).map_err(|source| CheckError::Metrics {
            scenario: scenario.name.clone(),
            seed: jobs[index].seed,
            source,
        })
    })
}

/// The mean, with its interval when there are several replications.
fn describe(mean: f64, low: f64, high: f64, replications: u32) -> String {
    if replications > 1 {
        format!("{} (95% CI {} .. {})", short(mean), short(low), short(high))
    } else {
        short(mean)
    }
}

/// A number rounded to 4 decimals for reading.
fn short(x: f64) -> String {
    let rounded = (x * 1e4).round() / 1e4;
    rounded.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_null_metric_has_no_value_and_says_why() {
        let runs = vec![
            vec![("services.web.latency_ms.p99".to_string(), Some(3.0))],
            vec![("services.web.latency_ms.p99".to_string(), None)],
        ];
        assert_eq!(values(&runs, "services.web.latency_ms.p99"), Err(1));
        assert_eq!(
            values(&runs[..1], "services.web.latency_ms.p99"),
            Ok(vec![3.0])
        );
        // Absent because its section is null counts as no value too.
        assert_eq!(values(&runs, "jobs.j.scheduling_delay_s.p99"), Err(2));
        assert_eq!(
            no_value("services.web.latency_ms.p99", 1, 2),
            "no value: no completed requests (in 1 of 2 replications)"
        );
        assert_eq!(
            no_value("jobs.j.scheduling_delay_s.p99", 1, 1),
            "no value: no pod was bound"
        );
    }

    #[test]
    fn an_assertion_on_a_null_latency_fails_with_no_value() {
        // A service that completed no request: summary.json holds its latency as null.
        let mut value =
            serde_json::to_value(crate::report::summary::example(&[("web", None)], &["p"]))
                .unwrap_or_else(|e| panic!("{e}"));
        value["services"]["web"]["latency_ms"]["p99"] = serde_json::Value::Null;
        let run = crate::report::metrics::flatten_values(&value);
        let assertion = Expectation {
            text: "services.web.latency_ms.p99 <= 250".into(),
            metric: "services.web.latency_ms.p99".into(),
            op: CompareOp::Le,
            value: 250.0,
        };
        let rows = judge_assertions(&[assertion], &[run], false, 1);
        assert!(!rows[0].pass, "{rows:?}");
        assert_eq!(rows[0].actual, "no value: no completed requests");
    }

    #[test]
    fn a_junit_path_is_writable_only_in_an_existing_folder() {
        let dir = std::env::temp_dir().join(format!("capsim-junit-{}", std::process::id()));
        let _ = fs::create_dir_all(&dir);
        let file = dir.join("junit.xml");
        assert_eq!(writable(&file), Ok(()));
        assert!(!file.exists(), "the probe leaves nothing behind");
        let missing = dir.join("no-such-folder").join("junit.xml");
        assert!(writable(&missing).is_err_and(|e| e.contains("does not exist")));
        assert_eq!(writable(&dir), Err("is a folder".to_string()));
        let _ = fs::remove_dir_all(&dir);
    }
}
