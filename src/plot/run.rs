//! The run figure (`plots/timeseries.png` and `.svg`): five panels over simulated time.
//!
//! Panels, top to bottom, sharing the time axis: arrivals per second per service; Ready
//! (solid) and desired (dashed) replicas; billed (solid) and Ready (dashed) nodes per pool; p99
//! latency with each service's SLO; the cost rate. A service keeps its color in every panel;
//! pools take the colors after the services'. The warm-up, excluded from `summary.json`, is
//! shaded, and the figures in titles are the summary's, over the measured window. In the
//! panels of counts, where two series often hold the same value (desired and Ready replicas,
//! two pools of as many nodes), each line is drawn a few pixels above or below its value
//! (`nudges_px`), so that none hides another. This file lays out and draws; reading the files
//! is `run_data`'s business.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::plot::axis::{Axis, Fit};
use crate::plot::canvas::{
    self, Area, DrawError, Entry, Figure, Frame, Stroke, Swatch, Target, draw_legend, draw_line,
    frame, segments,
};
use crate::plot::run_data::RunData;
use crate::plot::style::{self, INK, SHADE, TITLE_SIZE, color, darker, font};

/// Width and height of the run figure in pixels.
pub(crate) const SIZE: (u32, u32) = (1600, 1800);

const TITLE_H: u32 = 56;
const TIME_DESC: &str = "simulated time (h)";

/// The run figure of one run folder.
#[derive(Debug)]
pub(crate) struct RunFigure<'d> {
    data: &'d RunData,
    panels: Vec<Panel>,
}

/// One panel: its axes, text and what it draws.
#[derive(Debug)]
struct Panel {
    caption: String,
    y_desc: String,
    y: Axis,
    lines: Vec<Line>,
    legend: Vec<Entry>,
}

/// One series of a panel, in data coordinates (hours, value).
#[derive(Debug)]
struct Line {
    ys: Vec<f64>,
    color: RGBColor,
    stroke: Stroke,
    /// A constant across the whole time range (an SLO), rather than one value per row.
    level: bool,
    /// How far above its values the line is drawn, in pixels (below when negative).
    nudge_px: f64,
}

impl<'d> RunFigure<'d> {
    /// Lays out the panels of `data`.
    pub(crate) fn new(data: &'d RunData) -> RunFigure<'d> {
        let [replicas, nodes] = count_panels(data);
        let mut panels = vec![
            arrivals_panel(data),
            replicas,
            nodes,
            latency_panel(data),
            cost_panel(data),
        ];
        if data.warmup_h > 0.0 {
            panels[0].entry("warm-up (not in summary)", Swatch::Shade(SHADE));
        }
        RunFigure { data, panels }
    }
}

/// How a panel of counts (replicas, nodes) fits its axis: from zero, ticks at whole numbers.
const COUNTS: Fit = Fit {
    from_zero: true,
    integer: true,
    allow_log: false,
    tight: false,
};

/// How a panel of rates fits its axis: from zero.
const RATES: Fit = Fit {
    from_zero: true,
    integer: false,
    allow_log: false,
    tight: false,
};

/// How a panel whose series may be decades apart (arrivals, latencies) fits its axis: as a rate,
/// but on a log scale when the values span more than two decades.
const SPREAD_RATES: Fit = Fit {
    allow_log: true,
    ..RATES
};

/// Arrivals per second of each service. Services a thousand times apart in traffic share the
/// panel: a log scale when they span more than two decades (an interval without arrivals is
/// then a gap).
fn arrivals_panel(data: &RunData) -> Panel {
    let mut panel = Panel::new("Arrivals per second", "arrivals (requests/s)");
    for (i, s) in data.services.iter().enumerate() {
        panel.series(&s.arrivals_per_s, color(i), Stroke::Solid, &s.name);
    }
    panel.fit(SPREAD_RATES)
}

/// The two panels of counts: each service's Ready (solid) and desired (dashed) replicas with
/// each Job's running (solid) and pending (dashed) pods, and each pool's billed (solid) and
/// Ready (dashed) nodes, pools in the colors after the services' and jobs'.
fn count_panels(data: &RunData) -> [Panel; 2] {
    let replicas = (data.services.iter())
        .map(|s| (&s.name, [&s.ready, &s.desired], ["Ready", "desired"]))
        .chain(
            (data.jobs.iter()).map(|j| (&j.name, [&j.running, &j.pending], ["running", "pending"])),
        );
    let (caption, y_desc) = match (data.services.is_empty(), data.jobs.is_empty()) {
        (false, true) => (
            "Replicas: Ready (solid) and desired (dashed)",
            "replicas (pods)",
        ),
        (true, false) => ("Job pods: running (solid) and pending (dashed)", "pods"),
        _ => (
            "Pods: Ready or running (solid), desired or pending (dashed)",
            "pods",
        ),
    };
    let nodes =
        (data.pools.iter()).map(|p| (&p.name, [&p.nodes, &p.nodes_ready], ["billed", "Ready"]));
    [
        pairs_panel((caption, y_desc), 0, replicas),
        pairs_panel(
            ("Nodes per pool: billed (solid) and Ready (dashed)", "nodes"),
            data.services.len() + data.jobs.len(),
            nodes,
        ),
    ]
}

/// A panel of two counts of each owner (a service, a Job or a pool) in the owner's color, the
/// colors from `first_color` on: the first count solid, the second dashed and darker. Each
/// owner's two words name its counts in the legend after its name, as the caption names them.
fn pairs_panel<'a>(
    (caption, y_desc): (&str, &str),
    first_color: usize,
    owners: impl Iterator<Item = (&'a String, [&'a Vec<f64>; 2], [&'a str; 2])>,
) -> Panel {
    let mut panel = Panel::new(caption, y_desc);
    for (i, (name, [first, second], [solid, dashed])) in owners.enumerate() {
        let c = color(first_color + i);
        panel.series(first, c, Stroke::Solid, format!("{name} {solid}"));
        panel.series(
            second,
            darker(c, 0.35),
            Stroke::Dashed,
            format!("{name} {dashed}"),
        );
    }
    let nudges = nudges_px(panel.lines.len());
    for (line, nudge) in panel.lines.iter_mut().zip(nudges) {
        line.nudge_px = nudge;
    }
    panel.fit(COUNTS)
}

/// The largest distance between the outermost of a panel's nudged lines, in pixels.
const NUDGE_SPREAD_PX: f64 = 12.0;
/// The distance between two neighbouring nudged lines, when there are few, in pixels: the
/// width of a line, so that lines of equal values lie side by side.
const NUDGE_STEP_PX: f64 = 3.0;

/// How far above its values each of `lines` lines is drawn, in pixels: the first highest, the
/// last lowest, evenly spaced and centred on zero, `NUDGE_STEP_PX` apart, closer when that
/// would spread them over more than `NUDGE_SPREAD_PX`.
pub(crate) fn nudges_px(lines: usize) -> Vec<f64> {
    if lines < 2 {
        return vec![0.0; lines];
    }
    let gaps = (lines - 1) as f64;
    let step = NUDGE_STEP_PX.min(NUDGE_SPREAD_PX / gaps);
    (0..lines).map(|k| (gaps / 2.0 - k as f64) * step).collect()
}

/// Each service's p99 latency, and its SLO as a dashed level in a darker shade of its color.
fn latency_panel(data: &RunData) -> Panel {
    let mut panel = Panel::new(
        "p99 latency of the requests completed in each interval",
        "p99 latency (ms)",
    );
    for (i, s) in data.services.iter().enumerate() {
        panel.series(&s.p99_ms, color(i), Stroke::Solid, &s.name);
    }
    for (i, s) in data.services.iter().enumerate() {
        if let Some(slo) = s.slo_p99_ms {
            let c = darker(color(i), 0.35);
            panel.lines.push(Line {
                ys: vec![slo],
                color: c,
                stroke: Stroke::Dashed,
                level: true,
                nudge_px: 0.0,
            });
            panel.entry(
                format!("{} SLO {} ms", s.name, style::number(slo)),
                Swatch::Line(c, Stroke::Dashed),
            );
        }
    }
    panel.fit(SPREAD_RATES)
}

/// The cost rate of all pools, with the cost of the measured window in the caption, as
/// `summary.json` gives it.
fn cost_panel(data: &RunData) -> Panel {
    let mut panel = Panel::new(&cost_caption(data), "cost rate (USD/h)");
    panel.series(&data.cost_usd_per_h, INK, Stroke::Solid, "all pools");
    panel.fit(RATES)
}

/// The cost panel's caption: the summary's cost, over the measured window.
fn cost_caption(data: &RunData) -> String {
    let cost = style::number(data.cost_measured_usd);
    let span = span_text(data.measured_h);
    if data.warmup_h > 0.0 {
        format!("Cost rate of all pools ({cost} USD over the {span} after the warm-up)")
    } else {
        format!("Cost rate of all pools ({cost} USD over the {span} run)")
    }
}

/// A span of `hours` as people say it: minutes below an hour, hours from there.
fn span_text(hours: f64) -> String {
    if hours < 1.0 {
        format!("{} min", style::number(hours * 60.0))
    } else {
        format!("{} h", style::number(hours))
    }
}

/// The figure's title: the scenario and the window `summary.json` measures.
fn title(data: &RunData) -> String {
    let run = if data.scenario.is_empty() {
        "Simulated run".to_string()
    } else {
        format!("Simulated run of {}", data.scenario)
    };
    if data.warmup_h > 0.0 {
        let start = span_text(data.warmup_h);
        let end = span_text(data.warmup_h + data.measured_h);
        format!("{run}: measured from {start} to {end} (warm-up shaded)")
    } else {
        run
    }
}

impl Panel {
    /// An empty panel with its caption and vertical axis description.
    fn new(caption: &str, y_desc: &str) -> Panel {
        Panel {
            caption: caption.to_string(),
            y_desc: y_desc.to_string(),
            y: Axis::fit([], Fit::default()),
            lines: Vec::new(),
            legend: Vec::new(),
        }
    }

    /// A series drawn as a line, with its legend entry.
    fn series(&mut self, ys: &[f64], color: RGBColor, stroke: Stroke, label: impl Into<String>) {
        self.lines.push(Line {
            ys: ys.to_vec(),
            color,
            stroke,
            level: false,
            nudge_px: 0.0,
        });
        self.entry(label, Swatch::Line(color, stroke));
    }

    /// A legend entry.
    fn entry(&mut self, label: impl Into<String>, swatch: Swatch) {
        self.legend.push(Entry::new(label, swatch));
    }

    /// Fits the vertical axis to every value the panel draws; the description says when the
    /// scale came out logarithmic.
    fn fit(mut self, fit: Fit) -> Panel {
        let values = self.lines.iter().flat_map(|l| l.ys.iter().copied());
        self.y = Axis::fit(values.collect::<Vec<_>>(), fit);
        self.y_desc = self.y.describe(&self.y_desc);
        self
    }
}

impl Figure for RunFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, target: Target) -> Result<(), DrawError> {
        let data = self.data;
        let (title_area, body) = root.split_vertically(TITLE_H);
        title_area.draw(&Text::new(
            title(data),
            (24, (TITLE_H / 2) as i32),
            font(TITLE_SIZE, &INK).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;

        let x = Axis::hours(data.time_h.last().copied().unwrap_or(1.0));
        // One legend width and one label width for all panels, so their time axes line up.
        let legend_w = self
            .panels
            .iter()
            .map(|p| canvas::legend_width(root, &p.legend))
            .max()
            .unwrap_or(0)
            .min(SIZE.0 / 3);
        let y_area = self
            .panels
            .iter()
            .map(|p| canvas::y_area_width(root, &p.y))
            .max()
            .unwrap_or(0);
        let body_w = body.dim_in_pixel().0;
        let areas = body.split_evenly((self.panels.len(), 1));
        for (panel, area) in self.panels.iter().zip(&areas) {
            let (chart_area, legend_area) =
                area.split_horizontally(body_w.saturating_sub(legend_w));
            let mut chart = frame(
                &chart_area,
                Frame {
                    caption: &panel.caption,
                    y_area,
                    ..Frame::new(&x, TIME_DESC, &panel.y, &panel.y_desc)
                },
            )?;
            if data.warmup_h > 0.0 {
                let (lo, hi) = (panel.y.span().start, panel.y.span().end);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(0.0, lo), (data.warmup_h.min(x.span().end), hi)],
                    SHADE.mix(0.25).filled(),
                )))?;
            }
            // The height of a pixel on the panel's vertical axis.
            let (_, rows) = chart.plotting_area().get_pixel_range();
            let span = panel.y.span();
            let pixel = (span.end - span.start) / f64::from((rows.end - rows.start).max(1));
            for line in &panel.lines {
                let mut segs = if line.level {
                    let y = panel.y.pos(line.ys[0]);
                    vec![vec![(x.span().start, y), (x.span().end, y)]]
                } else {
                    segments(&x, &panel.y, &data.time_h, &line.ys)
                };
                for point in segs.iter_mut().flatten() {
                    point.1 += line.nudge_px * pixel;
                }
                draw_line(&chart, target, &segs, line.color, line.stroke)?;
            }
            // The caption is about 40 px tall: legends start level with the chart's top.
            draw_legend(&legend_area, 44, &panel.legend)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::run_data::{PoolSeries, ServiceSeries};

    #[test]
    fn nudges_are_centred_and_spread_at_most_twelve_pixels() {
        assert_eq!(nudges_px(0), Vec::<f64>::new());
        assert_eq!(nudges_px(1), [0.0]);
        assert_eq!(nudges_px(2), [1.5, -1.5]);
        assert_eq!(nudges_px(4), [4.5, 1.5, -1.5, -4.5]);
        // Nine lines would spread over 24 pixels at 3 apart: 1.5 apart instead.
        let nine = nudges_px(9);
        assert_eq!((nine[0], nine[8]), (6.0, -6.0));
    }

    #[test]
    fn equal_counts_are_drawn_apart() {
        // Desired equals Ready all along; two pools hold as many nodes as each other.
        let flat = vec![3.0; 4];
        let data = RunData {
            scenario: "s".into(),
            warmup_h: 0.0,
            time_h: vec![0.25, 0.5, 0.75, 1.0],
            services: vec![ServiceSeries {
                name: "web".into(),
                arrivals_per_s: flat.clone(),
                ready: flat.clone(),
                desired: flat.clone(),
                p99_ms: flat.clone(),
                slo_p99_ms: None,
            }],
            jobs: vec![],
            pools: ["a", "b"]
                .iter()
                .map(|p| PoolSeries {
                    name: p.to_string(),
                    nodes: flat.clone(),
                    nodes_ready: flat.clone(),
                })
                .collect(),
            cost_usd_per_h: flat.clone(),
            cost_measured_usd: 1.0,
            measured_h: 1.0,
        };
        let figure = RunFigure::new(&data);
        for panel in &figure.panels[1..3] {
            let mut nudges: Vec<f64> = panel.lines.iter().map(|l| l.nudge_px).collect();
            nudges.sort_by(f64::total_cmp);
            assert!(
                nudges.windows(2).all(|w| w[1] - w[0] >= 1.5),
                "{}: {nudges:?}",
                panel.caption
            );
        }
        // Other panels draw their values where they are.
        assert!(figure.panels[0].lines.iter().all(|l| l.nudge_px == 0.0));
    }
}
