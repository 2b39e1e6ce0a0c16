//! The Pareto frontier of (latency, cost) points: the configurations no other one beats on
//! both at once.
//!
//! Use `pareto_frontier` on any list of points where lower is better on both coordinates, and
//! `frontier_steps` for the staircase that joins them on a chart. Pure functions; no drawing.

/// Indices of the points not dominated by another, ordered by increasing `x` (then `y`).
///
/// Point `q` dominates `p` when `q.x <= p.x` and `q.y <= p.y` with at least one strictly
/// smaller: `q` is no worse on either and better on one. Two equal points do not dominate each
/// other, so both are kept. Points with a NaN or infinite coordinate are never on the frontier
/// and dominate nothing.
pub(crate) fn pareto_frontier(points: &[(f64, f64)]) -> Vec<usize> {
    let finite = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let dominates =
        |q: &(f64, f64), p: &(f64, f64)| q.0 <= p.0 && q.1 <= p.1 && (q.0 < p.0 || q.1 < p.1);
    let mut front: Vec<usize> = (0..points.len())
        .filter(|&i| finite(&points[i]))
        .filter(|&i| {
            !points
                .iter()
                .filter(|q| finite(q))
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
            assert_eq!(pareto_frontier(points), *want, "{name}");
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
