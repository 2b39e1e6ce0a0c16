//! A check's baseline: an earlier run's `summary.json`, read and vetted before the check runs,
//! then compared metric by metric with the replications' means.
//!
//! Only the selected metrics are compared (the planner metrics by default), each within the
//! largest of the relative tolerance, its unit's absolute floor (so that a count going from 0
//! to 2 or a latency of 0.30 ms against 0.31 ms is not a failure) and, with two replications or
//! more, the 95% prediction interval of one more run (so that what the seed alone moves is not
//! a failure either). A baseline of another
//! scenario, duration or warm-up is refused: its figures measure something else.

use std::path::PathBuf;

use crate::check::{BaselineOptions, CheckRow, RowKind, describe, no_value, short, values};
use crate::replications::{mean_ci95, summary_values};
use crate::report::Summary;
use crate::report::metrics::MaybeMetric;
use crate::report::metrics::planner::{MetricSelection, PLANNER_KEYWORD, floor};
use crate::scenario::Scenario;
use crate::text::suggest::closest;

/// A baseline ready to judge runs against: the selected metrics' values in the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// The baseline's file.
    pub path: PathBuf,
    /// Relative tolerance.
    pub tolerance: f64,
    /// Each compared metric and its value in the baseline (`None`: null or absent there).
    pub metrics: Vec<MaybeMetric>,
}

impl Baseline {
    /// Reads and vets the baseline of `options` for a check of `scenario`, whose summaries have
    /// the metrics `names`; adds one line to `problems` for each thing wrong.
    pub(crate) fn prepare(
        options: &BaselineOptions,
        scenario: &Scenario,
        names: &[String],
        problems: &mut Vec<String>,
    ) -> Option<Baseline> {
        for pattern in options.metrics.unmatched(names) {
            let hint = closest(pattern, names.iter().map(String::as_str))
                .map(|s| format!("did you mean {s:?}? "))
                .unwrap_or_default();
            problems.push(format!(
                "--baseline-metrics: {pattern:?} selects no metric of scenario {:?}; {hint}give \
                 summary.json metric names, patterns with * for one name \
                 (services.*.latency_ms.p99), or {PLANNER_KEYWORD}",
                scenario.name
            ));
        }
        let summary = match Summary::read(&options.path) {
            Ok(summary) => summary,
            Err(e) => {
                problems.push(e.to_string());
                return None;
            }
        };
        let before = problems.len();
        refuse_other_runs(&summary, scenario, &options.path, problems);
        let Ok(values) = summary_values(&summary) else {
            problems.push(format!(
                "{}: cannot turn the summary into metrics",
                options.path.display()
            ));
            return None;
        };
        let metrics = selected(names, &options.metrics)
            .map(|name| {
                let value = values.iter().find(|(n, _)| n == name).and_then(|(_, v)| *v);
                (name.clone(), value)
            })
            .collect();
        (problems.len() == before).then(|| Baseline {
            path: options.path.clone(),
            tolerance: options.tolerance,
            metrics,
        })
    }

    /// One row per compared metric: the replications' mean against the baseline's value.
    pub(crate) fn judge(&self, runs: &[Vec<MaybeMetric>], replications: u32) -> Vec<CheckRow> {
        self.metrics
            .iter()
            .map(|(name, expected)| {
                let (expected_text, actual, pass) = match (expected, values(runs, name)) {
                    (Some(e), Ok(values)) => {
                        let (mean, low, high) = mean_ci95(&values);
                        let allowed = allowed(name, *e, self.tolerance)
                            .max(prediction_half_width(high - mean, values.len()));
                        let pass = (mean - e).abs() <= allowed;
                        let expected = format!("{} ± {}", short(*e), short(allowed));
                        (expected, describe(mean, low, high, replications), pass)
                    }
                    (Some(e), Err(missing)) => {
                        (short(*e), no_value(name, missing, runs.len()), false)
                    }
                    (None, Ok(values)) => {
                        let (mean, low, high) = mean_ci95(&values);
                        let actual = describe(mean, low, high, replications);
                        ("no value".to_string(), actual, false)
                    }
                    (None, Err(missing)) => (
                        "no value".to_string(),
                        no_value(name, missing, runs.len()),
                        true,
                    ),
                };
                CheckRow {
                    kind: RowKind::Baseline,
                    name: name.clone(),
                    expected: expected_text,
                    actual,
                    pass,
                }
            })
            .collect()
    }
}

/// The difference from `expected` allowed for metric `name`: the relative tolerance or the
/// metric's absolute floor, whichever is larger.
pub(crate) fn allowed(name: &str, expected: f64, tolerance: f64) -> f64 {
    (tolerance * expected.abs()).max(floor(name))
}

/// The half-width of the 95% prediction interval of one more run, from the half-width
/// `ci_half` of the 95% confidence interval of the mean of `n` runs: `t · s · √(1 + 1/n)`,
/// which is `ci_half · √(n + 1)`. A baseline is one run of the same scenario with another
/// seed: it lies outside this interval only 5% of the time when nothing has changed. Zero for
/// one run (there is no spread to go by).
pub(crate) fn prediction_half_width(ci_half: f64, n: usize) -> f64 {
    if n < 2 {
        return 0.0;
    }
    ci_half * ((n + 1) as f64).sqrt()
}

/// The metrics of `names` that `selection` selects, in summary order.
fn selected<'a>(
    names: &'a [String],
    selection: &'a MetricSelection,
) -> impl Iterator<Item = &'a String> {
    names.iter().filter(|n| selection.selects(n))
}

/// Adds a problem for each way `summary` is not a run of `scenario` as it is now: another
/// scenario name, duration or warm-up.
fn refuse_other_runs(
    summary: &Summary,
    scenario: &Scenario,
    path: &std::path::Path,
    problems: &mut Vec<String>,
) {
    let allowed = "a baseline must be a summary.json of the same scenario, duration and warm-up";
    if summary.scenario != scenario.name {
        problems.push(format!(
            "{}: scenario: the baseline is of scenario {:?}, this check runs {:?}; {allowed}",
            path.display(),
            summary.scenario,
            scenario.name
        ));
    }
    for (field, theirs, ours) in [
        (
            "simulated.duration_s",
            summary.simulated.duration_s,
            scenario.duration.as_secs_f64(),
        ),
        (
            "simulated.warmup_s",
            summary.simulated.warmup_s,
            scenario.warmup.as_secs_f64(),
        ),
    ] {
        if theirs != ours {
            problems.push(format!(
                "{}: {field}: the baseline ran {theirs} s, this check runs {ours} s; {allowed}",
                path.display()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_allows_what_the_tolerance_would_not() {
        // 5% of 0 is 0: a count from 0 to 2 passes on its floor of 2.
        assert_eq!(allowed("quotas.team.rejected_pods", 0.0, 0.05), 2.0);
        // 5% of 0.3 ms is 0.015 ms; the floor of a latency is 0.5 ms.
        assert_eq!(allowed("services.web.latency_ms.p99", 0.3, 0.05), 0.5);
        // Above the floor, the tolerance rules: 5% of 40 USD is 2 USD.
        assert!((allowed("cost.total_usd", 40.0, 0.05) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn the_prediction_interval_is_wider_than_the_mean_s() {
        // Runs {1, 2, 3}: s = 1, t(2) = 4.303; the mean's half-width 4.303 / √3 = 2.4843;
        // one more run's 4.303 · √(1 + 1/3) = 4.9687 = 2.4843 · √4.
        let (mean, _, high) = mean_ci95(&[1.0, 2.0, 3.0]);
        let half = prediction_half_width(high - mean, 3);
        assert!(
            (half - 4.303 * (4.0_f64 / 3.0).sqrt()).abs() < 1e-9,
            "{half}"
        );
        assert_eq!(prediction_half_width(0.0, 1), 0.0);
    }

    fn judge(expected: Option<f64>, run: Option<f64>) -> CheckRow {
        let name = "services.web.latency_ms.p99".to_string();
        let baseline = Baseline {
            path: PathBuf::from("b.json"),
            tolerance: 0.05,
            metrics: vec![(name.clone(), expected)],
        };
        baseline.judge(&[vec![(name, run)]], 1).remove(0)
    }

    #[test]
    fn a_value_on_one_side_only_fails() {
        assert!(judge(Some(3.0), Some(3.1)).pass);
        assert!(!judge(Some(3.0), Some(4.0)).pass);
        let row = judge(Some(3.0), None);
        assert!(!row.pass);
        assert_eq!(row.actual, "no value: no completed requests");
        assert!(!judge(None, Some(3.0)).pass);
        assert!(judge(None, None).pass);
    }
}
