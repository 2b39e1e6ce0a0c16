//! What every sweep chart shares: its size, its layout (a title strip, a framed chart, a legend
//! or a strip beside it), and the key metrics worth a chart.
//!
//! Use `key_metrics` to pick the metrics (`cost.total_usd` and every service's
//! `latency_ms.p99`) and `Layout::draw` to draw a figure around what only it shows; the charts
//! themselves are `vs_param`'s, `pareto_chart`'s and `heatmap`'s. This file imports no chart, so
//! every chart can import it.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::plot::canvas::{self, Area, Chart, DrawError, Entry, Frame, draw_legend, frame};
use crate::plot::style::{INK, LABEL_SIZE, TITLE_SIZE, font};
use crate::plot::sweep_data::{Metric, SweepData};
use crate::report::metrics::{COST_TOTAL_USD, service_latency_p99_ms};

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

/// Cost (when `points.csv` has it), then each service's p99 latency.
pub(crate) fn key_metrics(data: &SweepData) -> Vec<KeyMetric<'_>> {
    let mut keys = Vec::new();
    if let Some(metric) = data.metric(COST_TOTAL_USD) {
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
        let Some(metric) = data.metric(&service_latency_p99_ms(service)) else {
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

/// What stands right of a sweep chart.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Side<'e> {
    /// A legend of these entries, as wide as its labels need but at most a third of the figure.
    Legend(&'e [Entry]),
    /// A strip this many pixels wide, for the chart to draw in itself (a heat map's color bar).
    Strip(u32),
}

/// How a sweep chart is laid out: a title strip over a framed chart with `side` on its right.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout<'a> {
    /// The sweep: its scenario, points and replications make the subtitle.
    pub(crate) data: &'a SweepData,
    /// The figure's title.
    pub(crate) title: &'a str,
    /// The chart's axes and their descriptions.
    pub(crate) frame: Frame<'a>,
    /// What stands right of the chart.
    pub(crate) side: Side<'a>,
}

impl Layout<'_> {
    /// Draws a sweep chart on `root`: the title and what was swept, the framed chart, then
    /// `body` (what only this chart shows, given the chart and the area of the side strip), then
    /// the legend when the side is one, so that it stays on top.
    ///
    /// # Errors
    /// The backend fails, here or in `body`.
    pub(crate) fn draw<DB: DrawingBackend>(
        self,
        root: &Area<DB>,
        body: impl FnOnce(&mut Chart<'_, DB>, &Area<DB>) -> Result<(), DrawError>,
    ) -> Result<(), DrawError> {
        let main = titled(root, self.title, &sweep_subtitle(self.data))?;
        let side_w = match self.side {
            Side::Legend(entries) => canvas::legend_width(root, entries).min(SIZE.0 / 3),
            Side::Strip(width) => width,
        };
        let (chart_area, side_area) =
            main.split_horizontally(main.dim_in_pixel().0.saturating_sub(side_w));
        let mut chart = frame(&chart_area, self.frame)?;
        body(&mut chart, &side_area)?;
        if let Side::Legend(entries) = self.side {
            draw_legend(&side_area, 8, entries)?;
        }
        Ok(())
    }
}

/// The figure title's second half: what was swept.
fn sweep_subtitle(data: &SweepData) -> String {
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
fn titled<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
    subtitle: &str,
) -> Result<Area<DB>, DrawError> {
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
