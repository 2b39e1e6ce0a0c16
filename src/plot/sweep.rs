//! The sweep charts: which to draw for a sweep folder, and each key metric against each
//! parameter (`<metric>-vs-<param>`).
//!
//! Use `plot_all`. The key metrics are `cost.total_usd` and every service's
//! `latency_ms.p99`. A metric-against-parameter chart draws the mean with its 95% confidence
//! interval as a band, one line per combination of the other parameters' values; numeric
//! parameters sit on a numeric axis, others as categories in first-appearance order. The Pareto
//! chart is `pareto_chart`'s and the heat map `heatmap`'s; this file reads no files.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::plot::PlotError;
use crate::plot::axis::{Axis, Fit};
use crate::plot::canvas::{
    self, DrawError, Entry, Figure, Frame, Stroke, Swatch, Target, draw_band, draw_legend,
    draw_line, frame, split_finite,
};
use crate::plot::heatmap::HeatmapFigure;
use crate::plot::pareto_chart::ParetoFigure;
use crate::plot::style::{INK, LABEL_SIZE, TITLE_SIZE, color, font};
use crate::plot::sweep_data::{Metric, Param, SweepData};

/// Width and height of each sweep chart in pixels.
pub(crate) const SIZE: (u32, u32) = (1400, 950);

/// A metric worth a chart of its own, with how to name and scale it.
#[derive(Debug, Clone)]
pub(crate) struct KeyMetric<'d> {
    /// The data.
    pub(crate) metric: &'d Metric,
    /// Short name for files: `cost` or `p99-<svc>`.
    pub(crate) short: String,
    /// The service of a latency metric.
    pub(crate) service: Option<&'d str>,
    /// Axis description with unit.
    pub(crate) desc: String,
    /// Title fragment.
    pub(crate) title: String,
    /// The objective to draw, if any.
    pub(crate) slo: Option<f64>,
    /// Latencies may span decades: allow a log scale.
    pub(crate) allow_log: bool,
}

/// Draws every sweep chart of `data` into `out`; returns the files written.
///
/// # Errors
/// A chart that cannot be drawn or written.
pub(crate) fn plot_all(data: &SweepData, out: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let mut files = Vec::new();
    let keys = key_metrics(data);
    if let Some(cost) = keys.iter().find(|k| k.service.is_none()) {
        for latency in &keys {
            let Some(service) = latency.service else {
                continue;
            };
            let figure = ParetoFigure::new(data, cost, latency, service);
            files.extend(canvas::save(
                out,
                &format!("pareto-{service}"),
                SIZE,
                &figure,
            )?);
        }
    }
    for key in &keys {
        for (i, param) in data.params.iter().enumerate() {
            let figure = VsParamFigure {
                data,
                key,
                param: i,
            };
            let name = format!("{}-vs-{}", key.short, param.short);
            files.extend(canvas::save(out, &name, SIZE, &figure)?);
        }
    }
    if data.params.len() == 2 {
        for key in &keys {
            let figure = HeatmapFigure { data, key };
            files.extend(canvas::save(
                out,
                &format!("heatmap-{}", key.short),
                SIZE,
                &figure,
            )?);
        }
    }
    Ok(files)
}

/// Cost (when `points.csv` has it), then each service's p99 latency.
fn key_metrics(data: &SweepData) -> Vec<KeyMetric<'_>> {
    let mut keys = Vec::new();
    if let Some(metric) = data.metric("cost.total_usd") {
        keys.push(KeyMetric {
            metric,
            short: "cost".into(),
            service: None,
            desc: "cost (USD)".into(),
            title: "Cost".into(),
            slo: None,
            allow_log: false,
        });
    }
    for service in data.p99_services() {
        let Some(metric) = data.metric(&format!("services.{service}.latency_ms.p99")) else {
            continue;
        };
        keys.push(KeyMetric {
            metric,
            short: format!("p99-{service}"),
            service: Some(service),
            desc: format!("{service} p99 latency (ms)"),
            title: format!("p99 latency of {service}"),
            slo: data.slo(service),
            allow_log: true,
        });
    }
    keys
}

/// The figure title's second half: what was swept.
pub(crate) fn sweep_subtitle(data: &SweepData) -> String {
    let runs = match data.replications {
        0 => String::new(),
        1 => ", 1 run each".to_string(),
        r => format!(", mean of {r} runs each, 95% CI"),
    };
    let scenario = if data.scenario.is_empty() {
        String::new()
    } else {
        format!("{}: ", data.scenario)
    };
    format!("{scenario}{} points{runs}", data.points)
}

/// Draws the figure title in the top strip of `root` and returns the rest.
pub(crate) fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, DrawError> {
    let (top, body) = root.split_vertically(84);
    let left = Pos::new(HPos::Left, VPos::Center);
    top.draw(&Text::new(
        title.to_string(),
        (24, 28),
        font(TITLE_SIZE, &INK).pos(left),
    ))?;
    top.draw(&Text::new(
        subtitle.to_string(),
        (24, 64),
        font(LABEL_SIZE, &INK).pos(left),
    ))?;
    Ok(body)
}

/// One key metric against one parameter.
#[derive(Debug)]
struct VsParamFigure<'d> {
    data: &'d SweepData,
    key: &'d KeyMetric<'d>,
    param: usize,
}

impl VsParamFigure<'_> {
    /// The horizontal axis and each point's position on it.
    fn x_axis(&self) -> (Axis, Vec<f64>) {
        let param = &self.data.params[self.param];
        match &param.numbers {
            Some(values) => {
                let axis = Axis::fit(values.iter().copied(), Fit::default()).ticks_at(values);
                (axis, values.clone())
            }
            None => {
                let xs = (0..self.data.points)
                    .map(|i| param.level(i) as f64)
                    .collect();
                (Axis::categories(param.levels.clone()), xs)
            }
        }
    }

    /// The points grouped by the values of the other parameters, each group in the order of
    /// this parameter's levels; with the group's legend label.
    fn groups(&self) -> Vec<(String, Vec<usize>)> {
        let others: Vec<&Param> = (0..self.data.params.len())
            .filter(|&j| j != self.param)
            .map(|j| &self.data.params[j])
            .collect();
        let mut groups: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
        for point in 0..self.data.points {
            let key: Vec<usize> = others.iter().map(|p| p.level(point)).collect();
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, members)) => members.push(point),
                None => groups.push((key, vec![point])),
            }
        }
        // Groups in the others' level order; points in this parameter's level order.
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        let param = &self.data.params[self.param];
        groups
            .into_iter()
            .map(|(_, mut members)| {
                members.sort_by_key(|&p| param.level(p));
                let label: Vec<String> = others.iter().map(|o| o.label(members[0])).collect();
                (label.join(", "), members)
            })
            .collect()
    }
}

impl Figure for VsParamFigure<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        target: Target,
    ) -> Result<(), DrawError> {
        let (data, key, metric) = (self.data, self.key, self.key.metric);
        let param = &data.params[self.param];
        let body = titled(
            root,
            &format!("{} against {}", key.title, param.short),
            &sweep_subtitle(data),
        )?;
        let (x, xs) = self.x_axis();
        let values = metric
            .mean
            .iter()
            .chain(&metric.ci_low)
            .chain(&metric.ci_high)
            .copied()
            .chain(key.slo);
        let y = Axis::fit(
            values.collect::<Vec<_>>(),
            Fit {
                allow_log: key.allow_log,
                ..Fit::default()
            },
        );

        let groups = self.groups();
        let single = groups.len() == 1;
        let mut legend = Vec::new();
        for (g, (label, _)) in groups.iter().enumerate() {
            let c = color(g);
            if single {
                legend.push(Entry::new("mean", Swatch::Line(c, Stroke::Solid)));
                legend.push(Entry::new("95% confidence interval", Swatch::Shade(c)));
            } else {
                legend.push(Entry::new(label.clone(), Swatch::Line(c, Stroke::Solid)));
            }
        }
        if let Some(slo) = key.slo {
            legend.push(Entry::new(
                format!("SLO {} ms", crate::plot::style::number(slo)),
                Swatch::Line(INK, Stroke::Dashed),
            ));
        }
        let legend_w = canvas::legend_width(root, &legend).min(SIZE.0 / 3);
        let (chart_area, legend_area) =
            body.split_horizontally(body.dim_in_pixel().0.saturating_sub(legend_w));
        let y_desc = if y.is_log() {
            format!("{}, log scale", key.desc)
        } else {
            key.desc.clone()
        };
        let mut chart = frame(
            &chart_area,
            Frame {
                caption: "",
                x: &x,
                y: &y,
                x_desc: &param.path,
                y_desc: &y_desc,
                y_area: 0,
            },
        )?;
        if let Some(slo) = key.slo {
            let level = y.pos(slo);
            draw_line(
                &chart,
                target,
                &[vec![(x.span().start, level), (x.span().end, level)]],
                INK,
                Stroke::Dashed,
            )?;
        }
        for (g, (_, members)) in groups.iter().enumerate() {
            let c = color(g);
            let px: Vec<f64> = members.iter().map(|&p| x.pos(xs[p])).collect();
            let at = |v: &[f64]| -> Vec<f64> { members.iter().map(|&p| y.pos(v[p])).collect() };
            draw_band(
                &mut chart,
                &px,
                &at(&metric.ci_low),
                &at(&metric.ci_high),
                c,
            )?;
            let mean = at(&metric.mean);
            let points: Vec<(f64, f64)> = px.iter().copied().zip(mean).collect();
            let runs = split_finite(&points);
            draw_line(&chart, target, &runs, c, Stroke::Solid)?;
            chart.draw_series(
                runs.iter()
                    .flatten()
                    .map(|&p| Circle::new(p, 6, c.filled())),
            )?;
        }
        draw_legend(&legend_area, 8, &legend)?;
        Ok(())
    }
}
