//! The Pareto chart of a sweep (`pareto-<svc>`): each point's cost against a service's p99
//! latency, with confidence intervals on both, the frontier highlighted and joined by a
//! staircase, the SLO as a vertical line, and each point labelled with its parameter values.
//! A point that misses the SLO (a grey ring) or fails more requests than the service's budget
//! (a grey cross) is not on the frontier and beats no other point: the legend says which.
//!
//! Use `ParetoFigure::new` and `canvas::save`. Labels are placed next to their point on the
//! side where they overlap the fewest other labels and markers (`place_labels`, a pure
//! function); with more than `MAX_LABELLED` points only the frontier is labelled. The frontier
//! itself is `pareto`'s.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::plot::axis::{Axis, Fit};
use crate::plot::canvas::{
    Area, Chart, DrawError, Entry, Figure, Frame, Stroke, Swatch, Target, draw_line,
};
use crate::plot::pareto::{Verdict, frontier_steps, pareto_frontier};
use crate::plot::style::{self, INK, TICK_SIZE, color, darker, font};
use crate::plot::sweep_chart::{KeyMetric, Layout, Side};
use crate::plot::sweep_data::SweepData;

/// Above this many points, only the frontier's points are labelled.
const MAX_LABELLED: usize = 30;

/// Cost against one service's p99 latency, one marker per sweep point.
#[derive(Debug)]
pub(crate) struct ParetoFigure<'d> {
    data: &'d SweepData,
    cost: &'d KeyMetric<'d>,
    latency: &'d KeyMetric<'d>,
    service: String,
    /// Each point's verdict against the service's objectives.
    verdicts: Vec<Verdict>,
    /// The budget of failed requests, when every point has the same one.
    budget: Option<f64>,
    frontier: Vec<usize>,
}

impl<'d> ParetoFigure<'d> {
    /// The chart of `latency` (the p99 of `service`) against `cost`.
    pub(crate) fn new(
        data: &'d SweepData,
        cost: &'d KeyMetric<'d>,
        latency: &'d KeyMetric<'d>,
        service: &str,
    ) -> ParetoFigure<'d> {
        let failed = data.failed_fraction(service);
        let budgets = data.max_failed_fraction(service);
        let verdicts: Vec<Verdict> = (0..data.points)
            .map(|i| Verdict::judge(latency.metric.mean[i], latency.slo, failed[i], budgets[i]))
            .collect();
        let points: Vec<(f64, f64, bool)> = (0..data.points)
            .map(|i| {
                let feasible = verdicts[i].feasible();
                (latency.metric.mean[i], cost.metric.mean[i], feasible)
            })
            .collect();
        let budget = budgets.first().copied().flatten();
        ParetoFigure {
            data,
            cost,
            latency,
            service: service.to_string(),
            budget: budget.filter(|b| budgets.iter().all(|x| *x == Some(*b))),
            verdicts,
            frontier: pareto_frontier(&points),
        }
    }

    /// The points on the frontier, in order of increasing latency.
    #[cfg(test)]
    pub(crate) fn frontier(&self) -> &[usize] {
        &self.frontier
    }

    /// Each point's verdict against the service's objectives.
    #[cfg(test)]
    pub(crate) fn verdicts(&self) -> &[Verdict] {
        &self.verdicts
    }

    /// Whether point `i` is drawn: it has both coordinates.
    fn drawn(&self, i: usize) -> bool {
        self.latency.metric.mean[i].is_finite() && self.cost.metric.mean[i].is_finite()
    }
}

impl Figure for ParetoFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, target: Target) -> Result<(), DrawError> {
        let (x, y) = self.axes();
        let x_desc = x.describe(&format!("{} p99 latency (ms)", self.service));
        let legend = self.legend();
        let layout = Layout {
            data: self.data,
            title: &format!("Cost against p99 latency of {}", self.service),
            frame: Frame::new(&x, &x_desc, &y, "cost (USD)"),
            side: Side::Legend(&legend),
        };
        layout.draw(root, |chart, _| {
            if let Some(slo) = self.latency.slo {
                let at = x.pos(slo);
                let (lo, hi) = (y.span().start, y.span().end);
                draw_line(
                    chart,
                    target,
                    &[vec![(at, lo), (at, hi)]],
                    SLO_COLOR,
                    Stroke::Dashed,
                )?;
            }
            self.draw_intervals(chart, &x, &y)?;
            // Labels under the frontier and markers, so that data stay on top.
            self.draw_labels(root, chart, &x, &y)?;
            self.draw_points(chart, target, &x, &y)
        })
    }
}

/// The color of the points and of their intervals.
const PLAIN: RGBColor = color(0);
/// The color of the frontier: its staircase and its points.
const FRONT: RGBColor = color(1);
/// The color of the SLO's line.
const SLO_COLOR: RGBColor = INK;
/// The color of the points that miss an objective, and of their intervals.
const GREYED: RGBColor = RGBColor(0x99, 0x99, 0x99);

impl ParetoFigure<'_> {
    /// The axes: p99 latency across (logarithmic when it spans decades) and cost up, each over
    /// the means and the intervals' ends, and across over the SLO too.
    fn axes(&self) -> (Axis, Axis) {
        let (lat, cost) = (self.latency.metric, self.cost.metric);
        let x_values = lat.mean.iter().chain(&lat.ci_low).chain(&lat.ci_high);
        let x = Axis::fit(
            x_values
                .copied()
                .chain(self.latency.slo)
                .collect::<Vec<_>>(),
            Fit {
                allow_log: true,
                ..Fit::default()
            },
        );
        let y_values = cost.mean.iter().chain(&cost.ci_low).chain(&cost.ci_high);
        let y = Axis::fit(y_values.copied().collect::<Vec<_>>(), Fit::default());
        (x, y)
    }

    /// The legend: the points, their intervals when there are replications, the frontier, the
    /// SLO, and why points are greyed when some are.
    fn legend(&self) -> Vec<Entry> {
        let mut legend = vec![
            Entry::new("sweep point (mean)", Swatch::Marker(PLAIN)),
            Entry::new(
                if self.frontier.is_empty() {
                    "Pareto frontier: none, no point meets its objectives"
                } else {
                    "Pareto frontier"
                },
                Swatch::Line(FRONT, Stroke::Solid),
            ),
        ];
        if self.data.replications > 1 {
            legend.insert(
                1,
                Entry::new(
                    "95% confidence interval",
                    Swatch::Line(PLAIN, Stroke::Solid),
                ),
            );
        }
        if let Some(slo) = self.latency.slo {
            legend.push(Entry::new(
                format!("SLO p99 {} ms", style::number(slo)),
                Swatch::Line(SLO_COLOR, Stroke::Dashed),
            ));
        }
        let shown = |why: fn(&Verdict) -> bool| {
            (0..self.data.points).any(|i| self.drawn(i) && why(&self.verdicts[i]))
        };
        if shown(|v| v.misses_slo) {
            legend.push(Entry::new(
                "misses SLO: not on frontier",
                Swatch::Ring(GREYED),
            ));
        }
        if shown(|v| v.over_budget) {
            let budget = match self.budget {
                Some(b) => format!(" ({}% failed)", style::number(b * 100.0)),
                None => String::new(),
            };
            legend.push(Entry::new(
                format!("refuses > budget{budget}: not on frontier"),
                Swatch::Cross(GREYED),
            ));
        }
        legend
    }

    /// Each point's confidence intervals on both axes, with caps.
    fn draw_intervals<DB: DrawingBackend>(
        &self,
        chart: &mut Chart<'_, DB>,
        x: &Axis,
        y: &Axis,
    ) -> Result<(), DrawError> {
        let (lat, cost) = (self.latency.metric, self.cost.metric);
        for i in 0..self.data.points {
            let (px, py) = (x.pos(lat.mean[i]), y.pos(cost.mean[i]));
            if !(px.is_finite() && py.is_finite()) {
                continue;
            }
            let ink = if self.verdicts[i].feasible() {
                PLAIN
            } else {
                GREYED
            };
            let bar = ink.mix(0.7).stroke_width(2);
            let across = (x.pos(lat.ci_low[i]), x.pos(lat.ci_high[i]));
            draw_interval(chart, across, |end| (end, py), (0, 5), bar)?;
            let up = (y.pos(cost.ci_low[i]), y.pos(cost.ci_high[i]));
            draw_interval(chart, up, |end| (px, end), (5, 0), bar)?;
        }
        Ok(())
    }

    /// The frontier's staircase, the feasible points off the frontier as plain markers, the
    /// others greyed (a ring for a missed SLO, a cross for a blown budget), then the frontier's
    /// points on top, larger and outlined.
    fn draw_points<DB: DrawingBackend>(
        &self,
        chart: &mut Chart<'_, DB>,
        target: Target,
        x: &Axis,
        y: &Axis,
    ) -> Result<(), DrawError> {
        let (lat, cost) = (self.latency.metric, self.cost.metric);
        let at = |i: usize| (x.pos(lat.mean[i]), y.pos(cost.mean[i]));
        let frontier: Vec<(f64, f64)> = self.frontier.iter().map(|&i| at(i)).collect();
        let steps = frontier_steps(&frontier);
        draw_line(chart, target, &[steps], FRONT, Stroke::Solid)?;
        let off = (0..self.data.points).filter(|i| !self.frontier.contains(i));
        for i in off.filter(|&i| self.drawn(i)) {
            let (p, verdict) = (at(i), self.verdicts[i]);
            if verdict.feasible() {
                chart.draw_series([Circle::new(p, 6, PLAIN.filled())])?;
            }
            if verdict.misses_slo {
                chart.draw_series([Circle::new(p, 8, GREYED.stroke_width(3))])?;
            }
            if verdict.over_budget {
                chart.draw_series([Cross::new(p, 7, GREYED.stroke_width(3))])?;
            }
        }
        for &p in &frontier {
            chart.draw_series([Circle::new(p, 9, FRONT.filled())])?;
            chart.draw_series([Circle::new(p, 9, darker(FRONT, 0.4).stroke_width(2))])?;
        }
        Ok(())
    }

    /// Each point's parameter values beside it (only the frontier's when there are many),
    /// placed in backend pixels.
    fn draw_labels<DB: DrawingBackend>(
        &self,
        root: &Area<DB>,
        chart: &Chart<'_, DB>,
        x: &Axis,
        y: &Axis,
    ) -> Result<(), DrawError> {
        let (lat, cost) = (self.latency.metric, self.cost.metric);
        let labelled: Vec<usize> = (0..self.data.points)
            .filter(|&i| self.data.points <= MAX_LABELLED || self.frontier.contains(&i))
            .filter(|&i| x.pos(lat.mean[i]).is_finite() && y.pos(cost.mean[i]).is_finite())
            .collect();
        let label_font = font(TICK_SIZE, &INK);
        let texts: Vec<String> = labelled.iter().map(|&i| self.data.point_label(i)).collect();
        let anchors: Vec<(i32, i32)> = labelled
            .iter()
            .map(|&i| chart.backend_coord(&(x.pos(lat.mean[i]), y.pos(cost.mean[i]))))
            .collect();
        let sizes: Vec<(i32, i32)> = texts
            .iter()
            .map(|t| {
                let (w, h) = root.estimate_text_size(t, &label_font).unwrap_or((0, 0));
                (w as i32, h as i32)
            })
            .collect();
        let (xr, yr) = chart.plotting_area().get_pixel_range();
        let bounds = (xr.start, yr.start, xr.end, yr.end);
        let top_left = Pos::new(HPos::Left, VPos::Top);
        // Placed with room for the backing drawn around each label.
        let padded: Vec<(i32, i32)> = sizes.iter().map(|&(w, h)| (w + 4, h + 4)).collect();
        let placed = place_labels(&anchors, &padded, bounds);
        for ((text, at), (w, h)) in texts.iter().zip(placed).zip(sizes) {
            // A light backing keeps the text readable over grid, bars and lines.
            let backing = [at, (at.0 + w + 4, at.1 + h + 4)];
            root.draw(&Rectangle::new(backing, WHITE.mix(0.75).filled()))?;
            root.draw(&Text::new(
                text.clone(),
                (at.0 + 2, at.1 + 1),
                label_font.clone().pos(top_left),
            ))?;
        }
        Ok(())
    }
}

/// Draws an interval of one point along one axis, with a cap across each end reaching `cap`
/// pixels either side, when both ends are finite and apart: `ends` are the ends' positions
/// along the axis and `at` places a position in the chart.
fn draw_interval<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    ends: (f64, f64),
    at: impl Fn(f64) -> (f64, f64),
    cap: (i32, i32),
    style: ShapeStyle,
) -> Result<(), DrawError> {
    let (lo, hi) = ends;
    if !(lo.is_finite() && hi.is_finite() && hi > lo) {
        return Ok(());
    }
    chart.draw_series([PathElement::new(vec![at(lo), at(hi)], style)])?;
    for end in [lo, hi] {
        chart.draw_series([
            EmptyElement::at(at(end)) + PathElement::new(vec![(-cap.0, -cap.1), cap], style)
        ])?;
    }
    Ok(())
}

/// A box: left, top, right, bottom, in pixels.
type Rect = (i32, i32, i32, i32);

/// Top-left corners for labels of `sizes` (width, height) beside the points at `anchors`,
/// each on the side where it overlaps least with the labels already placed, the markers and
/// the outside of `bounds`. Earlier points are placed first; ties go to the first side tried
/// (right, then left, above, below), then to rows stacked further above and below on the
/// right and left, for points so close that every side of them is taken.
pub(crate) fn place_labels(
    anchors: &[(i32, i32)],
    sizes: &[(i32, i32)],
    bounds: Rect,
) -> Vec<(i32, i32)> {
    const GAP: i32 = 11;
    const MARKER: i32 = 9;
    const STACKED_ROWS: i32 = 3;
    let mut taken: Vec<Rect> = anchors
        .iter()
        .map(|&(x, y)| (x - MARKER, y - MARKER, x + MARKER, y + MARKER))
        .collect();
    let mut out = Vec::with_capacity(anchors.len());
    for (&(x, y), &(w, h)) in anchors.iter().zip(sizes) {
        let mut candidates = vec![
            (x + GAP, y - h - 2),
            (x + GAP, y + 2),
            (x - GAP - w, y - h - 2),
            (x - GAP - w, y + 2),
            (x - w / 2, y - GAP - h),
            (x - w / 2, y + GAP),
            (x + GAP, y - h / 2),
            (x - GAP - w, y - h / 2),
        ];
        for row in 1..=STACKED_ROWS {
            let up = y - h - 2 - row * (h + 2);
            let down = y + 2 + row * (h + 2);
            for left in [x + GAP, x - GAP - w] {
                candidates.extend([(left, up), (left, down)]);
            }
        }
        let cost = |&(left, top): &(i32, i32)| -> i64 {
            let r = (left, top, left + w, top + h);
            let overlap: i64 = taken.iter().map(|t| overlap_area(r, *t)).sum();
            let inside = overlap_area(r, bounds);
            let outside = i64::from(w) * i64::from(h) - inside;
            overlap + 4 * outside
        };
        let best = candidates
            .iter()
            .enumerate()
            .min_by_key(|(i, c)| (cost(c), *i))
            .map(|(_, c)| *c)
            .unwrap_or((x + GAP, y));
        taken.push((best.0, best.1, best.0 + w, best.1 + h));
        out.push(best);
    }
    out
}

fn overlap_area(a: Rect, b: Rect) -> i64 {
    let w = (a.2.min(b.2) - a.0.max(b.0)).max(0);
    let h = (a.3.min(b.3) - a.1.max(b.1)).max(0);
    i64::from(w) * i64::from(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: Rect = (0, 0, 1000, 800);

    #[test]
    fn a_lone_label_goes_right_and_up() {
        assert_eq!(
            place_labels(&[(100, 100)], &[(80, 20)], BOUNDS),
            [(111, 78)]
        );
    }

    #[test]
    fn a_label_near_the_right_edge_goes_left() {
        let [(left, _)] = place_labels(&[(980, 400)], &[(80, 20)], BOUNDS)[..] else {
            panic!("one label");
        };
        assert!(left + 80 <= 980, "{left}");
    }

    /// Places labels of `sizes` at `anchors` and asserts that no two overlap.
    fn assert_placed_apart(anchors: &[(i32, i32)], sizes: &[(i32, i32)]) {
        let placed = place_labels(anchors, sizes, BOUNDS);
        let rect = |k: usize| {
            let ((left, top), (w, h)) = (placed[k], sizes[k]);
            (left, top, left + w, top + h)
        };
        for i in 0..placed.len() {
            for j in 0..i {
                assert_eq!(overlap_area(rect(i), rect(j)), 0, "{placed:?}");
            }
        }
    }

    #[test]
    fn labels_of_points_on_top_of_each_other_stack() {
        // Six points within a few pixels: the eight sides cannot hold six wide labels without
        // overlap, the stacked rows can.
        let anchors = [
            (500, 400),
            (501, 402),
            (500, 398),
            (502, 400),
            (499, 401),
            (500, 399),
        ];
        assert_placed_apart(&anchors, &[(300, 16); 6]);
    }

    #[test]
    fn labels_of_close_points_do_not_overlap() {
        assert_placed_apart(&[(300, 300), (310, 290), (305, 310)], &[(120, 20); 3]);
    }
}
