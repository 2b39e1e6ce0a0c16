//! The sweep charts: which to draw for a sweep folder.
//!
//! Use `charts` for the list (name and figure) and `plot_all` to write them. It draws, for the
//! key metrics of `sweep_chart::key_metrics`, the Pareto chart of cost against each service's
//! p99 (`pareto_chart`), each key metric against each parameter (`vs_param`) and, for
//! two-parameter sweeps, the heat maps (`heatmap`). This file reads no files and draws nothing
//! itself.

use std::path::{Path, PathBuf};

use plotters::prelude::DrawingBackend;

use crate::plot::canvas::{Area, DrawError, Figure, Target};
use crate::plot::heatmap::HeatmapFigure;
use crate::plot::pareto_chart::ParetoFigure;
use crate::plot::sweep_chart::{KeyMetric, SIZE, key_metrics};
use crate::plot::sweep_data::SweepData;
use crate::plot::vs_param::VsParamFigure;
use crate::plot::{PlotError, canvas};

/// One sweep chart, of any of the three kinds.
pub(crate) enum SweepFigure<'d> {
    /// Cost against a service's p99, Pareto frontier marked.
    Pareto(ParetoFigure<'d>),
    /// A key metric against one parameter.
    VsParam(VsParamFigure<'d>),
    /// A key metric over the grid of two parameters.
    Heatmap(HeatmapFigure<'d>),
}

impl Figure for SweepFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, target: Target) -> Result<(), DrawError> {
        match self {
            SweepFigure::Pareto(f) => f.draw(root, target),
            SweepFigure::VsParam(f) => f.draw(root, target),
            SweepFigure::Heatmap(f) => f.draw(root, target),
        }
    }
}

/// Every sweep chart of `data` with its file stem, in the order they are written: Pareto
/// charts, then metric-against-parameter charts, then heat maps.
pub(crate) fn charts<'d>(
    data: &'d SweepData,
    keys: &'d [KeyMetric<'d>],
) -> Vec<(String, SweepFigure<'d>)> {
    let mut charts = Vec::new();
    if let Some(cost) = keys.iter().find(|k| k.service.is_none()) {
        for latency in keys {
            let Some(service) = latency.service else {
                continue;
            };
            let figure = ParetoFigure::new(data, cost, latency, service);
            charts.push((format!("pareto-{service}"), SweepFigure::Pareto(figure)));
        }
    }
    for key in keys {
        for (i, param) in data.params.iter().enumerate() {
            let figure = VsParamFigure {
                data,
                key,
                param: i,
            };
            let name = format!("{}-vs-{}", key.short, param.short);
            charts.push((name, SweepFigure::VsParam(figure)));
        }
    }
    if data.params.len() == 2 {
        for key in keys {
            let figure = HeatmapFigure { data, key };
            charts.push((
                format!("heatmap-{}", key.short),
                SweepFigure::Heatmap(figure),
            ));
        }
    }
    charts
}

/// Draws every sweep chart of `data` into `out`; returns the files written.
///
/// # Errors
/// A chart that cannot be drawn or written.
pub(crate) fn plot_all(data: &SweepData, out: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let keys = key_metrics(data);
    let mut files = Vec::new();
    for (name, figure) in charts(data, &keys) {
        files.extend(canvas::save(out, &name, SIZE, &figure)?);
    }
    Ok(files)
}
