//! Charts of a finished run or sweep, drawn from its output files as PNG and SVG.
//!
//! Use `plot_run` on a run folder (`timeseries.csv` and `summary.json`), `plot_sweep` on a sweep
//! folder (`sweep.json` and `points.csv`), or `plot_dir` on either. Charts go to `DIR/plots/`,
//! each as a PNG (pure-Rust encoder) and an SVG; text is drawn with the DejaVu Sans font built
//! into the binary, so no system font library is needed.
//!
//! This module does not run simulations and does not read anything but those files, through
//! the record types `report` writes them with: a folder written by an earlier capsim can be
//! redrawn at any time. Bad files give a `PlotError` that names the file and what is wrong;
//! nothing here panics on input.
//!
//! **Invariant:** `plot` depends only on `report`'s file formats, never on the simulation.

use std::io;
use std::path::{Path, PathBuf};

use crate::report::ReadError;
use crate::report::files::{SWEEP_JSON, TIMESERIES_CSV};

mod axis;
mod canvas;
mod heatmap;
mod pareto;
mod pareto_chart;
mod run;
mod run_data;
mod style;
mod sweep;
mod sweep_chart;
mod sweep_data;
mod vs_param;

#[cfg(test)]
mod chart_tests;
#[cfg(test)]
mod tests;

use crate::report::files::PLOTS_DIR;

/// Why a folder could not be plotted. Each variant names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// A file the folder must hold is missing or malformed, or disagrees with its companion
    /// (a summary whose services are not the time series').
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The folder holds neither a run nor a sweep.
    #[error(
        "{}: not a run folder (no timeseries.csv) nor a sweep folder (no sweep.json)",
        path.display()
    )]
    NotAFolder {
        /// The folder.
        path: PathBuf,
    },
    /// Writing a chart or its folder failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// Drawing or encoding a chart failed.
    #[error("{}: cannot draw: {message}", path.display())]
    Draw {
        /// The chart file being written.
        path: PathBuf,
        /// The drawing library's message.
        message: String,
    },
}

/// Draws every chart of a run folder (`timeseries.csv` + `summary.json`) into `DIR/plots/` as
/// PNG and SVG; returns the files written.
///
/// Writes `plots/timeseries.png` and `plots/timeseries.svg`: arrivals, replicas, nodes, p99
/// latency (with SLOs) and cost rate against simulated time.
///
/// # Errors
/// A missing or malformed input file, or a chart that cannot be written.
pub fn plot_run(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let data = run_data::RunData::load(dir)?;
    let out = plots_dir(dir)?;
    canvas::save(&out, "timeseries", run::SIZE, &run::RunFigure::new(&data))
        .map(|files| files.to_vec())
}

/// Draws every chart of a sweep folder (`sweep.json` + `points.csv`) into `DIR/plots/`; returns
/// the files written.
///
/// Writes, as PNG and SVG: `pareto-<svc>` per service with a p99 column (cost against p99
/// latency, Pareto frontier marked); `<metric>-vs-<param>` for cost and every service's p99
/// against each parameter; with exactly two parameters, `heatmap-<metric>` for the same
/// metrics.
///
/// # Errors
/// A missing or malformed input file, or a chart that cannot be written.
pub fn plot_sweep(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let data = sweep_data::SweepData::load(dir)?;
    let out = plots_dir(dir)?;
    sweep::plot_all(&data, &out)
}

/// One chart drawn in memory: the SVG document `plot_run` or `plot_sweep` would write to
/// `plots/<name>.svg`, for pages that embed charts instead of linking to files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvgChart {
    /// The chart's file stem: `timeseries`, `pareto-<svc>`, `cost-vs-<param>`, ...
    pub name: String,
    /// The whole `<svg ...>...</svg>` document (no XML declaration, no external references).
    pub svg: String,
}

/// The charts of a run folder as `plot_run` draws them, in memory (nothing is written).
///
/// # Errors
/// A missing or malformed input file, or a chart that cannot be drawn.
pub fn run_svgs(dir: &Path) -> Result<Vec<SvgChart>, PlotError> {
    let data = run_data::RunData::load(dir)?;
    let name = "timeseries";
    let path = dir.join(PLOTS_DIR).join(format!("{name}.svg"));
    let svg = canvas::render_svg(&path, run::SIZE, &run::RunFigure::new(&data))?;
    Ok(vec![SvgChart {
        name: name.into(),
        svg,
    }])
}

/// The charts of a sweep folder as `plot_sweep` draws them, in the same order, in memory
/// (nothing is written).
///
/// # Errors
/// A missing or malformed input file, or a chart that cannot be drawn.
pub fn sweep_svgs(dir: &Path) -> Result<Vec<SvgChart>, PlotError> {
    let data = sweep_data::SweepData::load(dir)?;
    let keys = sweep_chart::key_metrics(&data);
    let mut charts = Vec::new();
    for (name, figure) in sweep::charts(&data, &keys) {
        let name = style::file_name(&name);
        let path = dir.join(PLOTS_DIR).join(format!("{name}.svg"));
        let svg = canvas::render_svg(&path, sweep_chart::SIZE, &figure)?;
        charts.push(SvgChart { name, svg });
    }
    Ok(charts)
}

/// Whichever of `plot_run` and `plot_sweep` the folder holds (both if it holds both).
///
/// # Errors
/// `PlotError::NotAFolder` when `dir` holds neither `timeseries.csv` nor `sweep.json`; otherwise
/// as `plot_run` and `plot_sweep`.
pub fn plot_dir(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let is_run = dir.join(TIMESERIES_CSV).is_file();
    let is_sweep = dir.join(SWEEP_JSON).is_file();
    if !is_run && !is_sweep {
        return Err(PlotError::NotAFolder {
            path: dir.to_path_buf(),
        });
    }
    let mut files = Vec::new();
    if is_run {
        files.extend(plot_run(dir)?);
    }
    if is_sweep {
        files.extend(plot_sweep(dir)?);
    }
    Ok(files)
}

/// Creates `dir/plots` if needed.
fn plots_dir(dir: &Path) -> Result<PathBuf, PlotError> {
    let out = dir.join(PLOTS_DIR);
    std::fs::create_dir_all(&out).map_err(|source| PlotError::Io {
        path: out.clone(),
        source,
    })?;
    Ok(out)
}
