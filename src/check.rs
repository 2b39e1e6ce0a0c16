//! The CI gate: run a scenario, evaluate its `expect` assertions and a baseline comparison, and
//! give a verdict as a table, a JUnit XML file and an exit code.
//!
//! Use `check` with a validated scenario. With several replications each assertion is judged on
//! the mean over them, or conservatively on the side of the 95% confidence interval that the
//! comparison cares about (the upper bound for `<=`/`<`, the lower for `>=`/`>`). A failed
//! assertion is a result, not an error: errors are only for inputs that cannot be judged (an
//! unknown metric, an unreadable baseline).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::replications::{self, Job, RunError, mean_ci95, run_seed, summary_metrics};
use crate::report::metrics::Metric;
use crate::report::{ReadError, Summary};
use crate::scenario::Scenario;
use crate::scenario::model::{CompareOp, SeedPolicy};
use crate::text::suggest::closest;

/// How to judge.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOptions {
    /// Replications to run (each with its own seed); at least 1.
    pub replications: u32,
    /// Judge on the unfavourable confidence bound instead of the mean.
    pub conservative: bool,
    /// A `summary.json` to compare every metric with, and the relative tolerance (0.05 = 5%).
    pub baseline: Option<(PathBuf, f64)>,
    /// Threads for the replications.
    pub jobs: usize,
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
    /// What the run gave (mean, with its confidence interval over replications).
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
    /// An assertion names a metric the summary does not have.
    #[error("expect: {assertion:?}: no summary metric {metric:?}{}", suggestion.as_deref().map(|s| format!("; did you mean {s:?}?")).unwrap_or_default())]
    UnknownMetric {
        /// The assertion.
        assertion: String,
        /// The metric path.
        metric: String,
        /// The closest existing path.
        suggestion: Option<String>,
    },
    /// The baseline cannot be read, or is not a summary.
    #[error(transparent)]
    Baseline(ReadError),
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
    /// Nothing to judge.
    #[error("{0}: nothing to check; add `expect` assertions to the scenario or give --baseline")]
    Nothing(String),
}

/// Runs `scenario` `options.replications` times and judges it.
///
/// # Errors
/// `CheckError` when an assertion names an unknown metric, the baseline cannot be read, or
/// there is nothing to judge.
pub fn check(scenario: &Scenario, options: &CheckOptions) -> Result<CheckReport, CheckError> {
    if scenario.expectations.is_empty() && options.baseline.is_none() {
        return Err(CheckError::Nothing(scenario.name.clone()));
    }
    let baseline = options
        .baseline
        .as_ref()
        .map(|(path, tolerance)| read_baseline(path).map(|b| (b, *tolerance)))
        .transpose()?;
    let replications = options.replications.max(1);
    let runs = run_replications(scenario, replications, options.jobs)?;
    let metric = |name: &str| -> Option<Vec<f64>> {
        let values: Vec<f64> = runs
            .iter()
            .filter_map(|flat| flat.iter().find(|(n, _)| n == name).map(|(_, v)| *v))
            .collect();
        (values.len() == runs.len()).then_some(values)
    };

    let mut rows = Vec::new();
    for e in &scenario.expectations {
        let Some(values) = metric(&e.metric) else {
            let names = runs[0].iter().map(|(n, _)| n.as_str());
            return Err(CheckError::UnknownMetric {
                assertion: e.text.clone(),
                metric: e.metric.clone(),
                suggestion: closest(&e.metric, names),
            });
        };
        let (mean, low, high) = mean_ci95(&values);
        let judged = match (options.conservative, e.op) {
            (true, CompareOp::Le | CompareOp::Lt) => high,
            (true, CompareOp::Ge | CompareOp::Gt) => low,
            _ => mean,
        };
        rows.push(CheckRow {
            kind: RowKind::Assertion,
            name: e.text.clone(),
            expected: format!("{} {}", e.op.as_str(), e.value),
            actual: describe(mean, low, high, replications),
            pass: e.op.holds(judged, e.value),
        });
    }
    if let Some((baseline, tolerance)) = baseline {
        for (name, expected) in baseline {
            let (actual, pass) = match metric(&name) {
                Some(values) => {
                    let (mean, low, high) = mean_ci95(&values);
                    let pass = (mean - expected).abs() <= tolerance * expected.abs();
                    (describe(mean, low, high, replications), pass)
                }
                None => ("missing".to_string(), false),
            };
            rows.push(CheckRow {
                kind: RowKind::Baseline,
                name,
                expected: format!("{expected} ± {}%", tolerance * 100.0),
                actual,
                pass,
            });
        }
    }
    Ok(CheckReport {
        scenario: scenario.name.clone(),
        replications,
        rows,
    })
}

/// Each replication's summary as metrics, in replication order whatever the threads.
///
/// # Errors
/// `CheckError::Run` when the threads cannot start; `CheckError::Metrics` when a summary cannot
/// be turned into metrics.
fn run_replications(
    scenario: &Scenario,
    replications: u32,
    threads: usize,
) -> Result<Vec<Vec<Metric>>, CheckError> {
    let jobs: Vec<Job<'_>> = (0..replications)
        .map(|r| Job {
            scenario,
            seed: run_seed(scenario.seed, SeedPolicy::Common, 0, r),
            out: None,
        })
        .collect();
    replications::run(&jobs, threads, |index, outcome| {
        summary_metrics(&outcome.summary).map_err(|source| CheckError::Metrics {
            scenario: scenario.name.clone(),
            seed: jobs[index].seed,
            source,
        })
    })
}

/// The metrics of a baseline `summary.json`.
fn read_baseline(path: &Path) -> Result<Vec<Metric>, CheckError> {
    let summary = Summary::read(path).map_err(CheckError::Baseline)?;
    summary_metrics(&summary).map_err(|source| CheckError::Metrics {
        scenario: summary.scenario.clone(),
        seed: summary.seed,
        source,
    })
}

fn describe(mean: f64, low: f64, high: f64, replications: u32) -> String {
    if replications > 1 {
        format!("{} (95% CI {} .. {})", short(mean), short(low), short(high))
    } else {
        short(mean)
    }
}

fn short(x: f64) -> String {
    let rounded = (x * 1e4).round() / 1e4;
    rounded.to_string()
}

/// The verdict as a text table.
pub fn render(report: &CheckReport) -> String {
    let mut rows = vec![[
        "check".to_string(),
        "expected".to_string(),
        "actual".to_string(),
        "result".to_string(),
    ]];
    for r in &report.rows {
        let name = match r.kind {
            RowKind::Assertion => r.name.clone(),
            RowKind::Baseline => format!("baseline {}", r.name),
        };
        let result = if r.pass { "pass" } else { "FAIL" };
        rows.push([
            name,
            r.expected.clone(),
            r.actual.clone(),
            result.to_string(),
        ]);
    }
    let widths: Vec<usize> = (0..4)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let line = format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\n{}: {} checks, {} failed ({} replication{})",
        report.scenario,
        report.rows.len(),
        report.failures(),
        report.replications,
        if report.replications == 1 { "" } else { "s" }
    );
    out
}

/// The verdict as JUnit XML: one test case per row, grouped in a suite per kind.
pub fn junit(report: &CheckReport) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"capsim check {}\" tests=\"{}\" failures=\"{}\">",
        xml(&report.scenario),
        report.rows.len(),
        report.failures()
    );
    for (kind, suite) in [
        (RowKind::Assertion, "expect"),
        (RowKind::Baseline, "baseline"),
    ] {
        let rows: Vec<&CheckRow> = report.rows.iter().filter(|r| r.kind == kind).collect();
        if rows.is_empty() {
            continue;
        }
        let failures = rows.iter().filter(|r| !r.pass).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}.{suite}\" tests=\"{}\" failures=\"{failures}\">",
            xml(&report.scenario),
            rows.len()
        );
        for r in rows {
            let _ = write!(
                out,
                "    <testcase classname=\"{}.{suite}\" name=\"{}\"",
                xml(&report.scenario),
                xml(&r.name)
            );
            if r.pass {
                out.push_str("/>\n");
            } else {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"expected {}, got {}\"/>\n    </testcase>",
                    xml(&r.expected),
                    xml(&r.actual)
                );
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Text escaped for an XML attribute.
fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> CheckReport {
        CheckReport {
            scenario: "s".into(),
            replications: 1,
            rows: vec![
                CheckRow {
                    kind: RowKind::Assertion,
                    name: "services.web.latency_ms.p99 <= 250".into(),
                    expected: "<= 250".into(),
                    actual: "312.5".into(),
                    pass: false,
                },
                CheckRow {
                    kind: RowKind::Baseline,
                    name: "cost.total_usd".into(),
                    expected: "4 ± 5%".into(),
                    actual: "4.1".into(),
                    pass: true,
                },
            ],
        }
    }

    #[test]
    fn junit_escapes_and_counts() {
        let xml = junit(&report());
        assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
        assert!(
            xml.contains("name=\"services.web.latency_ms.p99 &lt;= 250\""),
            "{xml}"
        );
        assert!(
            xml.contains("<failure message=\"expected &lt;= 250, got 312.5\"/>"),
            "{xml}"
        );
        assert!(xml.contains("<testcase classname=\"s.baseline\" name=\"cost.total_usd\"/>"));
        assert_eq!(xml.matches("<testsuite ").count(), 2);
        assert_eq!(xml.matches("</testsuite>").count(), 2);
    }

    #[test]
    fn table_lists_every_row_and_the_verdict() {
        let text = render(&report());
        assert!(text.contains("FAIL") && text.contains("pass"), "{text}");
        assert!(text.contains("2 checks, 1 failed"), "{text}");
        assert!(!report().passed());
    }
}
