//! The Pareto frontier of (latency, cost) points: the configurations that meet their service's
//! objectives and that no other such configuration beats on both at once.
//!
//! Use `Verdict::judge` to say whether a point meets its objectives (its p99 within the SLO,
//! its failed requests within the budget), `pareto_frontier` on points where lower is better on
//! both coordinates, each with that feasible flag, and `frontier_steps` for the staircase that
//! joins the frontier on a chart. Pure functions; no drawing.

/// Whether a sweep point meets its service's objectives, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Verdict {
    /// Its p99 latency is above the SLO's `latency_p99`, or it has none (nothing completed).
    pub(crate) misses_slo: bool,
    /// More of its requests failed (refused, timed out, lost with their pod) than the budget,
    /// `slo.max_failed`, allows.
    pub(crate) over_budget: bool,
}

impl Verdict {
    /// The verdict on a point whose p99 latency is `p99_ms` (NaN when no request completed)
    /// and whose share of failed requests is `failed_fraction`, against the p99 objective
    /// `slo_p99_ms` and the budget `max_failed_fraction`. An objective that is not given, and a
    /// share that cannot be known (NaN), are not held against the point.
    pub(crate) fn judge(
        p99_ms: f64,
        slo_p99_ms: Option<f64>,
        failed_fraction: f64,
        max_failed_fraction: Option<f64>,
    ) -> Verdict {
        Verdict {
            misses_slo: p99_ms.is_nan() || slo_p99_ms.is_some_and(|slo| p99_ms > slo),
            over_budget: max_failed_fraction.is_some_and(|budget| failed_fraction > budget),
        }
    }

    /// Meets every objective: the point may be on the frontier.
    pub(crate) fn feasible(self) -> bool {
        !self.misses_slo && !self.over_budget
    }
}

/// Indices of the feasible points not dominated by another feasible point, ordered by
/// increasing `x` (then `y`). Each point is `(x, y, feasible)`.
///
/// Point `q` dominates `p` when `q.x <= p.x` and `q.y <= p.y` with at least one strictly
/// smaller: `q` is no worse on either and better on one. Two equal points do not dominate each
/// other, so both are kept. Points that are not feasible, or have a NaN or infinite coordinate,
/// are never on the frontier and dominate nothing: a cheaper configuration that misses its
/// objectives is no alternative.
pub(crate) fn pareto_frontier(points: &[(f64, f64, bool)]) -> Vec<usize> {
    let candidate = |p: &(f64, f64, bool)| p.2 && p.0.is_finite() && p.1.is_finite();
    let dominates = |q: &(f64, f64, bool), p: &(f64, f64, bool)| {
        q.0 <= p.0 && q.1 <= p.1 && (q.0 < p.0 || q.1 < p.1)
    };
    let mut front: Vec<usize> = (0..points.len())
        .filter(|&i| candidate(&points[i]))
        .filter(|&i| {
            !points
                .iter()
                .filter(|q| candidate(q))
                .any(|q| dominates(q, &points[i]))
        })
        .collect();
    front.sort_by(|&a, &b| {
        points[a]
            .0
            .total_cmp(&points[b].0)
            .then(points[a].1.total_cmp(&points[b].1))
    });
    front
}

/// The staircase through frontier points sorted by `x`: across at the previous point's `y`,
/// then down to the next point. It bounds the region the frontier dominates.
pub(crate) fn frontier_steps(sorted: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut steps = Vec::with_capacity(sorted.len() * 2);
    for (i, &p) in sorted.iter().enumerate() {
        if i > 0 {
            steps.push((p.0, sorted[i - 1].1));
        }
        steps.push(p);
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontier_table() {
        let nan = f64::NAN;
        #[allow(clippy::type_complexity)]
        let cases: &[(&str, &[(f64, f64)], &[usize])] = &[
            ("no points", &[], &[]),
            ("a single point is its own frontier", &[(5.0, 5.0)], &[0]),
            // (1,10) and (10,1) trade off; (5,5) is between them; (6,6) is beaten by (5,5).
            (
                "dominated points are excluded",
                &[(10.0, 1.0), (6.0, 6.0), (1.0, 10.0), (5.0, 5.0)],
                &[2, 3, 0],
            ),
            (
                "equal points are both kept",
                &[(2.0, 3.0), (2.0, 3.0)],
                &[0, 1],
            ),
            // Same latency, one costs more: it is beaten.
            (
                "a tie on x keeps the lower y",
                &[(2.0, 4.0), (2.0, 3.0)],
                &[1],
            ),
            (
                "a tie on y keeps the lower x",
                &[(3.0, 2.0), (1.0, 2.0)],
                &[1],
            ),
            (
                "NaN points are neither on the frontier nor dominate",
                &[(nan, 0.0), (4.0, 4.0), (0.0, nan)],
                &[1],
            ),
            (
                "a point better on both beats all others",
                &[(3.0, 3.0), (1.0, 1.0), (2.0, 5.0), (1.0, 2.0)],
                &[1],
            ),
        ];
        for (name, points, want) in cases {
            let feasible: Vec<(f64, f64, bool)> = points.iter().map(|p| (p.0, p.1, true)).collect();
            assert_eq!(pareto_frontier(&feasible), *want, "{name}");
        }
    }

    #[test]
    fn the_frontier_is_over_feasible_points_only() {
        #[allow(clippy::type_complexity)]
        let cases: &[(&str, &[(f64, f64, bool)], &[usize])] = &[
            // The cheapest point refuses too much: it neither is on the frontier nor beats
            // the dearer points it would dominate.
            (
                "an infeasible point dominates nothing",
                &[(1.0, 1.0, false), (2.0, 5.0, true), (5.0, 2.0, true)],
                &[1, 2],
            ),
            (
                "an infeasible point is never on the frontier",
                &[(1.0, 10.0, false), (5.0, 5.0, true)],
                &[1],
            ),
            ("no feasible point, no frontier", &[(1.0, 1.0, false)], &[]),
            (
                "a feasible point beaten by a feasible one is off",
                &[(3.0, 3.0, true), (1.0, 1.0, false), (2.0, 2.0, true)],
                &[2],
            ),
        ];
        for (name, points, want) in cases {
            assert_eq!(pareto_frontier(points), *want, "{name}");
        }
    }

    #[test]
    fn verdict_table() {
        let nan = f64::NAN;
        let ok = Verdict::default();
        let slo = Verdict {
            misses_slo: true,
            ..ok
        };
        let budget = Verdict {
            over_budget: true,
            ..ok
        };
        let both = Verdict {
            misses_slo: true,
            over_budget: true,
        };
        // (p99 ms, SLO, failed fraction, budget, verdict)
        #[allow(clippy::type_complexity)]
        let cases: &[(f64, Option<f64>, f64, Option<f64>, Verdict)] = &[
            (200.0, Some(250.0), 0.0005, Some(0.001), ok),
            (250.0, Some(250.0), 0.001, Some(0.001), ok),
            (250.5, Some(250.0), 0.0, Some(0.001), slo),
            (3.0, Some(250.0), 0.0011, Some(0.001), budget),
            (300.0, Some(250.0), 0.33, Some(0.001), both),
            // No SLO: only the budget counts; no budget known: only the SLO.
            (9_999.0, None, 0.0, Some(0.001), ok),
            (3.0, None, 0.33, Some(0.001), budget),
            (300.0, Some(250.0), 0.33, None, slo),
            // Nothing completed: no latency to meet an objective with.
            (nan, None, 0.0, Some(0.001), slo),
            // A share that cannot be known is not held against the point.
            (3.0, None, nan, Some(0.001), ok),
        ];
        for &(p99, slo_ms, failed, max, want) in cases {
            let got = Verdict::judge(p99, slo_ms, failed, max);
            assert_eq!(
                got, want,
                "p99 {p99}, SLO {slo_ms:?}, failed {failed}, budget {max:?}"
            );
            assert_eq!(got.feasible(), want == ok);
        }
    }

    #[test]
    fn steps_go_across_then_down() {
        assert_eq!(
            frontier_steps(&[(1.0, 10.0), (5.0, 5.0), (10.0, 1.0)]),
            [
                (1.0, 10.0),
                (5.0, 10.0),
                (5.0, 5.0),
                (10.0, 10.0 / 2.0),
                (10.0, 1.0)
            ]
        );
        assert_eq!(frontier_steps(&[(1.0, 2.0)]), [(1.0, 2.0)]);
        assert!(frontier_steps(&[]).is_empty());
    }
}
