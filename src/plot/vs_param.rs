//! Each key metric against each parameter (`<metric>-vs-<param>`).
//!
//! Use `VsParamFigure` through `sweep::plot_all`. The chart draws the mean with its 95%
//! confidence interval as a band, one line per combination of the other parameters' values;
//! numeric parameters sit on a numeric axis, others as categories in first-appearance order.
//! This file draws; the data come from `sweep_data`.

use plotters::prelude::*;

use crate::plot::axis::{Axis, Fit};
use crate::plot::canvas::{
    Area, Chart, DrawError, Entry, Figure, Frame, Stroke, Swatch, Target, draw_band, draw_line,
    split_finite,
};
use crate::plot::style::{INK, color};
use crate::plot::sweep_chart::{KeyMetric, Layout, Side};
use crate::plot::sweep_data::{Param, SweepData};

/// One key metric against one parameter.
#[derive(Debug)]
pub(crate) struct VsParamFigure<'d> {
    /// The sweep.
    pub(crate) data: &'d SweepData,
    /// The metric, on the vertical axis.
    pub(crate) key: &'d KeyMetric<'d>,
    /// The index of the parameter on the horizontal axis.
    pub(crate) param: usize,
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
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, target: Target) -> Result<(), DrawError> {
        let param = &self.data.params[self.param];
        let (x, xs) = self.x_axis();
        let y = self.y_axis();
        let y_desc = y.describe(&self.key.desc);
        let groups = self.groups();
        let legend = self.legend(&groups);
        let layout = Layout {
            data: self.data,
            title: &format!("{} against {}", self.key.title, param.short),
            frame: Frame::new(&x, &param.path, &y, &y_desc),
            side: Side::Legend(&legend),
        };
        layout.draw(root, |chart, _| {
            if let Some(slo) = self.key.slo {
                let level = y.pos(slo);
                draw_line(
                    chart,
                    target,
                    &[vec![(x.span().start, level), (x.span().end, level)]],
                    INK,
                    Stroke::Dashed,
                )?;
            }
            self.draw_groups(chart, target, (&x, &xs), &y, &groups)
        })
    }
}

impl VsParamFigure<'_> {
    /// The vertical axis: over every mean, every interval's ends and the SLO.
    fn y_axis(&self) -> Axis {
        let metric = self.key.metric;
        let values = metric
            .mean
            .iter()
            .chain(&metric.ci_low)
            .chain(&metric.ci_high)
            .copied()
            .chain(self.key.slo);
        Axis::fit(
            values.collect::<Vec<_>>(),
            Fit {
                allow_log: self.key.allow_log,
                ..Fit::default()
            },
        )
    }

    /// The legend: a line per group (or, for a single group, the mean and its band), then the
    /// SLO's dashed line.
    fn legend(&self, groups: &[(String, Vec<usize>)]) -> Vec<Entry> {
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
        if let Some(slo) = self.key.slo {
            legend.push(Entry::new(
                format!("SLO {} ms", crate::plot::style::number(slo)),
                Swatch::Line(INK, Stroke::Dashed),
            ));
        }
        legend
    }

    /// Each group in its own color: the confidence band, then the mean as a line with gaps
    /// where it is missing, with a marker at each point. `x` is the axis and each point's
    /// position on it.
    fn draw_groups<DB: DrawingBackend>(
        &self,
        chart: &mut Chart<'_, DB>,
        target: Target,
        (x, xs): (&Axis, &[f64]),
        y: &Axis,
        groups: &[(String, Vec<usize>)],
    ) -> Result<(), DrawError> {
        let metric = self.key.metric;
        for (g, (_, members)) in groups.iter().enumerate() {
            let c = color(g);
            let px: Vec<f64> = members.iter().map(|&p| x.pos(xs[p])).collect();
            let at = |v: &[f64]| -> Vec<f64> { members.iter().map(|&p| y.pos(v[p])).collect() };
            draw_band(chart, &px, &at(&metric.ci_low), &at(&metric.ci_high), c)?;
            let mean = at(&metric.mean);
            let points: Vec<(f64, f64)> = px.iter().copied().zip(mean).collect();
            let runs = split_finite(&points);
            draw_line(chart, target, &runs, c, Stroke::Solid)?;
            chart.draw_series(
                runs.iter()
                    .flatten()
                    .map(|&p| Circle::new(p, 6, c.filled())),
            )?;
        }
        Ok(())
    }
}
