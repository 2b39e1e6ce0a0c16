//! `capsim diff A B`: what changed between two sets of results, metric by metric, and whether
//! the change is more than seed-to-seed noise.
//!
//! Use `diff` with two folders of the same kind: two run folders (`summary.json`), two folders
//! of replications (`runs/*/summary.json`), or two sweep folders (`sweep.json` and its run
//! records), whose points are matched by their parameter values. It returns a `DiffReport`:
//! for every planner metric (`report::metrics::planner`) of every matched point, the mean of
//! A and of B, the absolute and relative change, and a verdict. With two replications or more
//! on each side the verdict is a two-sided t-test at 95%: paired when both sides ran the same
//! seeds in the same order (capsim's common random numbers, so that the noise of the seed
//! cancels), Welch's otherwise. `DiffReport::rows` is the data a report renders; `render` is the
//! terminal table, and the report serializes as the JSON of `capsim diff --json`.
//!
//! This module reads files through `report`'s record types and runs nothing.

mod load;
pub mod render;

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::report::metrics::planner::MetricSelection;
use crate::report::significance::{TTest, paired, welch};

use load::{Group, Side, read_side};

pub use render::render;

/// The level of the significance tests: 0.05, for 95%.
pub const ALPHA: f64 = 0.05;

/// The result of `capsim diff A B`, and its `--json` output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffReport {
    /// Folder A, as given.
    pub a: String,
    /// Folder B, as given.
    pub b: String,
    /// The swept parameters (empty unless both folders are sweeps).
    pub parameters: Vec<String>,
    /// One row per planner metric per matched point, in point then summary order.
    pub rows: Vec<DiffRow>,
    /// Points of A with no point of the same settings in B (each as `PATH=VALUE` settings).
    pub only_in_a: Vec<Vec<String>>,
    /// Points of B with no point of the same settings in A.
    pub only_in_b: Vec<Vec<String>>,
}

/// One metric of one point: A against B.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffRow {
    /// The point's settings as `PATH=VALUE` (empty outside sweeps).
    pub point: Vec<String>,
    /// The metric's name (its path in `summary.json`).
    pub metric: String,
    /// Mean over A's replications (`None` when a run of A has no value).
    pub a: Option<f64>,
    /// Mean over B's replications.
    pub b: Option<f64>,
    /// Replications of A.
    pub a_runs: usize,
    /// Replications of B.
    pub b_runs: usize,
    /// `b - a`.
    pub abs_change: Option<f64>,
    /// `(b - a) / |a|`; `None` when `a` is 0.
    pub rel_change: Option<f64>,
    /// Whether the change is more than noise.
    pub verdict: Verdict,
    /// The test the verdict rests on, when there was one.
    pub test: Option<TestKind>,
    /// The test's two-sided p-value.
    pub p_value: Option<f64>,
}

/// Whether a change is more than noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The test rejects "same mean" at 95%.
    Significant,
    /// The test does not, or there is no change at all.
    NotSignificant,
    /// A change, but fewer than two replications on a side: nothing to test it with.
    TooFewReplications,
    /// A run of A or B has no value (null: a latency with no completed request).
    NoValue,
}

impl Verdict {
    /// The verdict in a word or two, as the table prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Significant => "significant",
            Verdict::NotSignificant => "not significant",
            Verdict::TooFewReplications => "too few replications",
            Verdict::NoValue => "no value",
        }
    }
}

/// Which t-test judged a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    /// Paired t-test on the per-seed differences (both sides ran the same seeds).
    Paired,
    /// Welch's t-test (unequal variances, Welch–Satterthwaite degrees of freedom).
    Welch,
}

/// Why a diff cannot be made: one line per problem, each naming the folder or file.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct DiffError(pub Vec<String>);

/// Compares folder `b` with folder `a` (see the module's documentation).
///
/// # Errors
/// `DiffError` when a folder is none of the three kinds, a file in it cannot be read, or the
/// folders are sweeps of different parameters.
pub fn diff(a: &Path, b: &Path) -> Result<DiffReport, DiffError> {
    let (side_a, side_b) = match (read_side(a), read_side(b)) {
        (Ok(x), Ok(y)) => (x, y),
        (x, y) => {
            let problems = [x.err(), y.err()].into_iter().flatten().collect();
            return Err(DiffError(problems));
        }
    };
    if side_a.parameters != side_b.parameters {
        return Err(DiffError(vec![format!(
            "{}: sweep.json: parameters {:?} are not those of {} ({:?}); diff sweeps over the \
             same parameters, or two run folders",
            b.display(),
            side_b.parameters,
            a.display(),
            side_a.parameters
        )]));
    }
    Ok(compare(a, b, &side_a, &side_b))
}

/// The report of two sides of the same parameters.
fn compare(a: &Path, b: &Path, side_a: &Side, side_b: &Side) -> DiffReport {
    let key = |g: &Group| -> Vec<String> {
        let mut k = g.settings.clone();
        k.sort();
        k
    };
    let planner = MetricSelection::planner();
    let mut rows = Vec::new();
    let mut only_in_a = Vec::new();
    for ga in &side_a.groups {
        let Some(gb) = side_b.groups.iter().find(|gb| key(gb) == key(ga)) else {
            only_in_a.push(ga.settings.clone());
            continue;
        };
        for metric in metric_names(ga, gb).filter(|m| planner.selects(m)) {
            rows.push(row(ga, gb, &metric));
        }
    }
    let only_in_b = (side_b.groups.iter())
        .filter(|gb| !side_a.groups.iter().any(|ga| key(ga) == key(gb)))
        .map(|gb| gb.settings.clone())
        .collect();
    DiffReport {
        a: a.display().to_string(),
        b: b.display().to_string(),
        parameters: side_a.parameters.clone(),
        rows,
        only_in_a,
        only_in_b,
    }
}

/// The metric names of both groups' runs: A's in summary order, then those only B has.
fn metric_names<'g>(a: &'g Group, b: &'g Group) -> impl Iterator<Item = String> + 'g {
    let mut seen = BTreeSet::new();
    (a.runs.iter().chain(&b.runs))
        .flat_map(|r| r.values.iter().map(|(n, _)| n))
        .filter(move |n| seen.insert(n.as_str()))
        .cloned()
}

/// The values of `metric` in every run of `group`, or `None` when one has none.
fn values(group: &Group, metric: &str) -> Option<Vec<f64>> {
    group
        .runs
        .iter()
        .map(|r| {
            r.values
                .iter()
                .find(|(n, _)| n == metric)
                .and_then(|(_, v)| *v)
        })
        .collect()
}

/// The diff of one metric of two matched groups.
fn row(ga: &Group, gb: &Group, metric: &str) -> DiffRow {
    let (va, vb) = (values(ga, metric), values(gb, metric));
    let mean = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
    let mut row = DiffRow {
        point: ga.settings.clone(),
        metric: metric.to_string(),
        a: va.as_ref().map(mean),
        b: vb.as_ref().map(mean),
        a_runs: ga.runs.len(),
        b_runs: gb.runs.len(),
        abs_change: None,
        rel_change: None,
        verdict: Verdict::NoValue,
        test: None,
        p_value: None,
    };
    let (Some(va), Some(vb)) = (va, vb) else {
        return row;
    };
    let (a, b) = (mean(&va), mean(&vb));
    row.abs_change = Some(b - a);
    row.rel_change = (a != 0.0).then(|| (b - a) / a.abs());
    let same_seeds = ga
        .runs
        .iter()
        .map(|r| r.seed)
        .eq(gb.runs.iter().map(|r| r.seed));
    let test: Option<(TestKind, TTest)> = if same_seeds {
        paired(&va, &vb).map(|t| (TestKind::Paired, t))
    } else {
        welch(&va, &vb).map(|t| (TestKind::Welch, t))
    };
    row.verdict = match test {
        Some((_, t)) if t.significant(ALPHA) => Verdict::Significant,
        Some(_) => Verdict::NotSignificant,
        None if va == vb => Verdict::NotSignificant,
        None => Verdict::TooFewReplications,
    };
    if let Some((kind, t)) = test {
        row.test = Some(kind);
        row.p_value = Some(t.p);
    }
    row
}

#[cfg(test)]
mod tests {
    use super::load::Replication;
    use super::*;

    fn group(seeds: &[u64], values: &[Option<f64>]) -> Group {
        Group {
            settings: Vec::new(),
            runs: seeds
                .iter()
                .zip(values)
                .map(|(&seed, &v)| Replication {
                    seed,
                    values: vec![("cost.total_usd".to_string(), v)],
                })
                .collect(),
        }
    }

    #[test]
    fn the_same_seeds_are_paired_and_others_go_to_welch() {
        let a = group(&[1, 2, 3], &[Some(10.0), Some(20.0), Some(30.0)]);
        let b = group(&[1, 2, 3], &[Some(11.0), Some(21.0), Some(31.5)]);
        let r = row(&a, &b, "cost.total_usd");
        assert_eq!(
            (r.test, r.verdict),
            (Some(TestKind::Paired), Verdict::Significant)
        );
        // Means 20 and 21.1667.
        assert!(
            r.abs_change.is_some_and(|d| (d - 7.0 / 6.0).abs() < 1e-12),
            "{r:?}"
        );
        let b = group(&[4, 5, 6], &[Some(11.0), Some(21.0), Some(31.5)]);
        let r = row(&a, &b, "cost.total_usd");
        assert_eq!(
            (r.test, r.verdict),
            (Some(TestKind::Welch), Verdict::NotSignificant)
        );
    }

    #[test]
    fn one_run_a_side_is_too_few_unless_nothing_changed() {
        let a = group(&[1], &[Some(10.0)]);
        let r = row(&a, &group(&[1], &[Some(12.0)]), "cost.total_usd");
        assert_eq!(r.verdict, Verdict::TooFewReplications);
        assert_eq!(r.rel_change, Some(0.2));
        let r = row(&a, &a, "cost.total_usd");
        assert_eq!(
            (r.verdict, r.abs_change),
            (Verdict::NotSignificant, Some(0.0))
        );
        let r = row(&a, &group(&[1], &[None]), "cost.total_usd");
        assert_eq!((r.verdict, r.b), (Verdict::NoValue, None));
        let zero = group(&[1], &[Some(0.0)]);
        assert_eq!(row(&zero, &a, "cost.total_usd").rel_change, None);
    }
}
