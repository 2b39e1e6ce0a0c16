//! The run figure (`plots/timeseries.png` and `.svg`): five panels over simulated time.
//!
//! Panels, top to bottom, sharing the time axis: arrivals per second per service; Ready
//! (solid) and desired (dashed) replicas; billed (solid) and Ready (dashed) nodes per pool; p99
//! latency with each service's SLO; the cost rate. A service keeps its color in every panel;
//! pools take the colors after the services'. The warm-up, excluded from `summary.json`, is
//! shaded. This file lays out and draws; reading the files is `run_data`'s business.

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
}

impl<'d> RunFigure<'d> {
    /// Lays out the panels of `data`.
    pub(crate) fn new(data: &'d RunData) -> RunFigure<'d> {
        let n = data.services.len();
        let service_color = |i: usize| color(i);
        let pool_color = |i: usize| color(n + i);
        let counts = Fit {
            from_zero: true,
            integer: true,
            ..Fit::default()
        };
        let rates = Fit {
            from_zero: true,
            ..Fit::default()
        };
        let mut panels = Vec::new();

        let mut arrivals = Panel::new("Arrivals per second", "arrivals (requests/s)");
        for (i, s) in data.services.iter().enumerate() {
            arrivals.series(&s.arrivals_per_s, service_color(i), Stroke::Solid, &s.name);
        }
        // Services a thousand times apart in traffic share the panel: a log scale when they
        // span more than two decades (an interval without arrivals is then a gap).
        let mut arrivals = arrivals.fit(Fit {
            allow_log: true,
            ..rates
        });
        if arrivals.y.is_log() {
            arrivals.y_desc.push_str(", log scale");
        }
        panels.push(arrivals);

        let mut replicas = Panel::new(
            "Replicas: Ready (solid) and desired (dashed)",
            "replicas (pods)",
        );
        for (i, s) in data.services.iter().enumerate() {
            replicas.solid_and_dashed(
                service_color(i),
                (&s.ready, format!("{} Ready", s.name)),
                (&s.desired, format!("{} desired", s.name)),
            );
        }
        panels.push(replicas.fit(counts));

        let mut nodes = Panel::new("Nodes per pool: billed (solid) and Ready (dashed)", "nodes");
        for (i, p) in data.pools.iter().enumerate() {
            nodes.solid_and_dashed(
                pool_color(i),
                (&p.nodes, format!("{} billed", p.name)),
                (&p.nodes_ready, format!("{} Ready", p.name)),
            );
        }
        panels.push(nodes.fit(counts));

        let mut latency = Panel::new(
            "p99 latency of the requests completed in each interval",
            "p99 latency (ms)",
        );
        for (i, s) in data.services.iter().enumerate() {
            latency.series(&s.p99_ms, service_color(i), Stroke::Solid, &s.name);
        }
        for (i, s) in data.services.iter().enumerate() {
            if let Some(slo) = s.slo_p99_ms {
                let c = darker(service_color(i), 0.35);
                latency.lines.push(Line {
                    ys: vec![slo],
                    color: c,
                    stroke: Stroke::Dashed,
                    level: true,
                });
                latency.entry(
                    format!("{} SLO {} ms", s.name, style::number(slo)),
                    Swatch::Line(c, Stroke::Dashed),
                );
            }
        }
        let mut latency = latency.fit(Fit {
            from_zero: true,
            allow_log: true,
            ..Fit::default()
        });
        if latency.y.is_log() {
            latency.y_desc.push_str(", log scale");
        }
        panels.push(latency);

        let mut cost = Panel::new(
            &format!(
                "Cost rate of all pools ({} USD from the start of the run)",
                style::number(data.cost_total_usd)
            ),
            "cost rate (USD/h)",
        );
        cost.series(&data.cost_usd_per_h, INK, Stroke::Solid, "all pools");
        panels.push(cost.fit(rates));

        if data.warmup_h > 0.0 {
            panels[0].entry("warm-up (not in summary)", Swatch::Shade(SHADE));
        }
        RunFigure { data, panels }
    }
}

impl Panel {
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
        });
        self.entry(label, Swatch::Line(color, stroke));
    }

    /// Two series of one thing in one colour: the first solid, the second dashed and darker
    /// (Ready and desired replicas, billed and Ready nodes).
    fn solid_and_dashed(
        &mut self,
        color: RGBColor,
        solid: (&[f64], String),
        dashed: (&[f64], String),
    ) {
        self.series(solid.0, color, Stroke::Solid, solid.1);
        self.series(dashed.0, darker(color, 0.35), Stroke::Dashed, dashed.1);
    }

    fn entry(&mut self, label: impl Into<String>, swatch: Swatch) {
        self.legend.push(Entry::new(label, swatch));
    }

    /// Fits the vertical axis to every value the panel draws.
    fn fit(mut self, fit: Fit) -> Panel {
        let values = self.lines.iter().flat_map(|l| l.ys.iter().copied());
        self.y = Axis::fit(values.collect::<Vec<_>>(), fit);
        self
    }
}

impl Figure for RunFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, target: Target) -> Result<(), DrawError> {
        let data = self.data;
        let (title_area, body) = root.split_vertically(TITLE_H);
        let title = if data.scenario.is_empty() {
            "Simulated run".to_string()
        } else {
            format!("Simulated run of {}", data.scenario)
        };
        title_area.draw(&Text::new(
            title,
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
                    x: &x,
                    y: &panel.y,
                    x_desc: TIME_DESC,
                    y_desc: &panel.y_desc,
                    y_area,
                },
            )?;
            if data.warmup_h > 0.0 {
                let (lo, hi) = (panel.y.span().start, panel.y.span().end);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(0.0, lo), (data.warmup_h.min(x.span().end), hi)],
                    SHADE.mix(0.25).filled(),
                )))?;
            }
            for line in &panel.lines {
                let segs = if line.level {
                    let y = panel.y.pos(line.ys[0]);
                    vec![vec![(x.span().start, y), (x.span().end, y)]]
                } else {
                    segments(&x, &panel.y, &data.time_h, &line.ys)
                };
                draw_line(&chart, target, &segs, line.color, line.stroke)?;
            }
            // The caption is about 40 px tall: legends start level with the chart's top.
            draw_legend(&legend_area, 44, &panel.legend)?;
        }
        Ok(())
    }
}
