//! The sweep charts: which to draw for a sweep folder.
//!
//! Use `plot_all`. It draws, for the key metrics of `sweep_chart::key_metrics`, the Pareto chart
//! of cost against each service's p99 (`pareto_chart`), each key metric against each parameter
//! (`vs_param`) and, for two-parameter sweeps, the heat maps (`heatmap`). This file reads no
//! files and draws nothing itself.

use std::path::{Path, PathBuf};

use crate::plot::heatmap::HeatmapFigure;
use crate::plot::pareto_chart::ParetoFigure;
use crate::plot::sweep_chart::{SIZE, key_metrics};
use crate::plot::sweep_data::SweepData;
use crate::plot::vs_param::VsParamFigure;
use crate::plot::{PlotError, canvas};

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
