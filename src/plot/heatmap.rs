//! The heat map of a two-parameter sweep (`heatmap-<metric>`): one cell per pair of values,
//! colored by the metric's mean and annotated with it, with a color bar.
//!
//! Use `HeatmapFigure` through `sweep::plot_all`, which draws one only when exactly two
//! parameters were swept. Values are colored with viridis, on a log scale when a latency spans
//! more than two decades; a latency cell above its SLO is outlined. A pair the sweep has no
//! value for is grey. This file draws; the data come from `sweep_data`.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::plot::axis::{Axis, Fit};
use crate::plot::canvas::{self, Area, Chart, DrawError, Figure, Frame, Target};
use crate::plot::style::{
    self, GRID, INK, LABEL_SIZE, SHADE, SMALL_SIZE, TICK_SIZE, color, font, text_on, viridis,
};
use crate::plot::sweep_chart::{KeyMetric, Layout, Side};
use crate::plot::sweep_data::SweepData;

/// Width of the color bar strip, in pixels.
const BAR_STRIP: u32 = 260;

/// One key metric over the grid of two parameters.
#[derive(Debug)]
pub(crate) struct HeatmapFigure<'d> {
    /// The sweep (with exactly two parameters).
    pub(crate) data: &'d SweepData,
    /// The metric.
    pub(crate) key: &'d KeyMetric<'d>,
}

impl HeatmapFigure<'_> {
    /// The point at each (first parameter level, second parameter level), if any.
    fn grid(&self) -> Vec<Vec<Option<usize>>> {
        let (a, b) = (&self.data.params[0], &self.data.params[1]);
        let mut grid = vec![vec![None; b.levels.len()]; a.levels.len()];
        for point in 0..self.data.points {
            let cell = &mut grid[a.level(point)][b.level(point)];
            if cell.is_none() {
                *cell = Some(point);
            }
        }
        grid
    }
}

impl Figure for HeatmapFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, _target: Target) -> Result<(), DrawError> {
        let (a, b) = (&self.data.params[0], &self.data.params[1]);
        let shades = Shades::new(self.key);
        let x = Axis::categories(a.levels.clone());
        let y = Axis::categories(b.levels.clone());
        let layout = Layout {
            data: self.data,
            title: &format!("{} by {} and {}", self.key.title, a.short, b.short),
            frame: Frame::new(&x, &a.path, &y, &b.path),
            side: Side::Strip(BAR_STRIP),
        };
        layout.draw(root, |chart, bar_area| {
            self.draw_cells(chart, &shades)?;
            self.draw_bar(bar_area, &shades)
        })
    }
}

/// How the heat map colors values: viridis over the range of the metric's finite means, on the
/// metric's own scale (logarithmic when a latency spans decades), so that the cells and the
/// color bar agree.
#[derive(Debug)]
struct Shades {
    /// The scale values are placed on; the color bar's axis.
    scale: Axis,
    /// The smallest finite mean (infinite when there is none).
    min: f64,
    /// The largest finite mean (minus infinity when there is none).
    max: f64,
}

impl Shades {
    /// The shades of `key`'s means.
    fn new(key: &KeyMetric<'_>) -> Shades {
        let finite: Vec<f64> = key
            .metric
            .mean
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let scale = Axis::fit(
            finite,
            Fit {
                allow_log: key.allow_log,
                tight: true,
                ..Fit::default()
            },
        );
        Shades { scale, min, max }
    }

    /// The color of `v`: its place between the smallest and the largest mean on the scale (the
    /// middle of the palette when they are equal).
    fn of(&self, v: f64) -> RGBColor {
        let (lo, hi) = (self.scale.pos(self.min), self.scale.pos(self.max));
        let t = if hi > lo {
            (self.scale.pos(v) - lo) / (hi - lo)
        } else {
            0.5
        };
        viridis(t)
    }
}

impl HeatmapFigure<'_> {
    /// Every cell of the grid: filled with its mean's shade (grey without one), outlined in
    /// white, its figures written in it, and outlined in the SLO's color when a latency is above
    /// its objective.
    fn draw_cells<DB: DrawingBackend>(
        &self,
        chart: &mut Chart<'_, DB>,
        shades: &Shades,
    ) -> Result<(), DrawError> {
        let centered = Pos::new(HPos::Center, VPos::Center);
        let slo_color = color(2);
        for (i, column) in self.grid().iter().enumerate() {
            for (j, &cell) in column.iter().enumerate() {
                let (cx, cy) = (i as f64, j as f64);
                let corners = [(cx - 0.5, cy - 0.5), (cx + 0.5, cy + 0.5)];
                let value = cell.map_or(f64::NAN, |p| self.key.metric.mean[p]);
                let fill = if value.is_finite() {
                    shades.of(value)
                } else {
                    SHADE
                };
                chart.draw_series([Rectangle::new(corners, fill.filled())])?;
                chart.draw_series([Rectangle::new(corners, WHITE.stroke_width(3))])?;
                let ink = text_on(fill);
                let (text, detail) = self.cell_text(cell, value);
                let dy = if detail.is_some() { -11 } else { 0 };
                chart.draw_series([EmptyElement::at((cx, cy))
                    + Text::new(text, (0, dy), font(LABEL_SIZE + 2.0, &ink).pos(centered))])?;
                if let Some(detail) = detail {
                    chart.draw_series([EmptyElement::at((cx, cy))
                        + Text::new(detail, (0, 14), font(SMALL_SIZE, &ink).pos(centered))])?;
                }
                if self.key.slo.is_some_and(|slo| value > slo) {
                    let inset = [(cx - 0.46, cy - 0.46), (cx + 0.46, cy + 0.46)];
                    chart.draw_series([Rectangle::new(inset, slo_color.stroke_width(5))])?;
                }
            }
        }
        Ok(())
    }

    /// What the cell of `point` with mean `value` says: the mean, and under it the 95%
    /// interval when each point had several runs; "no data" without a value.
    fn cell_text(&self, point: Option<usize>, value: f64) -> (String, Option<String>) {
        let metric = self.key.metric;
        match point {
            Some(p) if value.is_finite() => (
                style::number(value),
                (self.data.replications > 1).then(|| {
                    format!(
                        "{} – {}",
                        style::number(metric.ci_low[p]),
                        style::number(metric.ci_high[p])
                    )
                }),
            ),
            _ => ("no data".to_string(), None),
        }
    }

    /// The color bar: the value range as a gradient with ticks, the metric's name, and what an
    /// outline means.
    fn draw_bar<DB: DrawingBackend>(
        &self,
        area: &Area<DB>,
        shades: &Shades,
    ) -> Result<(), DrawError> {
        let (scale, min, max) = (&shades.scale, shades.min, shades.max);
        let (bar, note) = area.split_vertically(area.dim_in_pixel().1.saturating_sub(90));
        let stripe = Axis::categories(vec![String::new()]);
        let mut chart = ChartBuilder::on(&bar)
            .margin_top(8)
            .margin_right(40)
            .margin_bottom(20)
            .y_label_area_size(canvas::y_area_width(&bar, scale))
            .build_cartesian_2d(stripe, scale.clone())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .axis_style(INK.stroke_width(1))
            .label_style(font(TICK_SIZE, &INK))
            .axis_desc_style(font(LABEL_SIZE, &INK))
            .y_desc(self.key.desc.as_str())
            .draw()?;
        if min.is_finite() && max.is_finite() {
            let (lo, hi) = (scale.pos(min), scale.pos(max));
            let steps = 120;
            for k in 0..steps {
                let (p0, p1) = (
                    lo + (hi - lo) * k as f64 / steps as f64,
                    lo + (hi - lo) * (k + 1) as f64 / steps as f64,
                );
                let v = if scale.is_log() {
                    10f64.powf((p0 + p1) / 2.0)
                } else {
                    (p0 + p1) / 2.0
                };
                chart.draw_series([Rectangle::new(
                    [(-0.5, p0), (0.5, p1)],
                    shades.of(v).filled(),
                )])?;
            }
            chart.draw_series([Rectangle::new(
                [(-0.5, lo), (0.5, hi)],
                GRID.stroke_width(1),
            )])?;
        }
        if let Some(slo) = self.key.slo {
            let left = Pos::new(HPos::Left, VPos::Center);
            note.draw(&Rectangle::new(
                [(12, 20), (40, 44)],
                color(2).stroke_width(4),
            ))?;
            note.draw(&Text::new(
                format!("above SLO {} ms", style::number(slo)),
                (50, 32),
                font(TICK_SIZE, &INK).pos(left),
            ))?;
        }
        Ok(())
    }
}
