//! The commands that read files and folders without simulating: `diff`, `plot`, `report`,
//! `import` and `validate`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use capsim::html;
use capsim::plot;
use capsim::scenario::budget::{self, Limits, Size};
use capsim::scenario::{self, Document};

use crate::fail;
use crate::simulate::{scenario_of, warn};

/// `capsim diff`: the table, or the JSON of `diff::DiffReport`.
pub(crate) fn diff(a: &Path, b: &Path, json: bool) -> Result<(), String> {
    let report = capsim::diff::diff(a, b).map_err(|e| e.to_string())?;
    if json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        crate::out::print(&format!("{text}\n"))?;
    } else {
        crate::out::print(&capsim::diff::render(&report))?;
    }
    Ok(())
}

/// `capsim plot`: redraws the charts of a run or sweep folder and says how many files it drew.
pub(crate) fn redraw(dir: &Path) -> Result<(), String> {
    let files = plot::plot_dir(dir).map_err(|e| e.to_string())?;
    note!(
        "drew {} files in {}",
        files.len(),
        dir.join("plots").display()
    );
    Ok(())
}

/// `capsim report`: writes the HTML report of one or two folders and says where.
pub(crate) fn report(dir: &Path, dir2: Option<&Path>, out: Option<&Path>) -> Result<(), String> {
    let mut dirs = vec![dir];
    dirs.extend(dir2);
    let comparison = match dir2 {
        Some(b) => match capsim::diff::diff(dir, b) {
            Ok(report) => html::compare::comparison_rows(&report),
            Err(e) => {
                note!("capsim: warning: no comparison in the report: {e}");
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    let path = html::write_report(&dirs, out, &comparison).map_err(|e| e.to_string())?;
    note!("wrote {}", path.display());
    Ok(())
}

/// `capsim import`: the scenario on standard output, warnings on standard error.
pub(crate) fn import(manifests: &[PathBuf], nodes: Option<&Path>) -> Result<(), String> {
    let imported = scenario::import(manifests, nodes).map_err(|e| e.to_string())?;
    warn(&imported.warnings);
    crate::out::print(&imported.yaml)?;
    Ok(())
}

/// `capsim validate`: every file is validated, each bad one with all its errors (on standard
/// error, one a line), each good one summed up in a line; exit code 2 when any is bad.
pub(crate) fn validate(paths: &[PathBuf], limits: Limits) -> ExitCode {
    let mut failed = false;
    for path in paths {
        match validate_one(path, limits) {
            Ok(summary) => {
                if let Err(e) = crate::out::print(&format!("{}: ok ({summary})\n", path.display()))
                {
                    return fail(&e);
                }
            }
            Err(message) => {
                fail(&message);
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// Validates one file: what it holds, or every error it has.
fn validate_one(path: &Path, limits: Limits) -> Result<String, String> {
    let document = Document::load(path).map_err(|e| e.to_string())?;
    warn(document.warnings());
    let scenario = scenario_of(&document, limits)?;
    if scenario.sweep.is_some() {
        // Every point of the sweep, built and validated as `capsim sweep` will: a grid value
        // the sweep would refuse is refused here, with the setting that made it.
        capsim::sweep::Plan::new(&document, &[], limits).map_err(|e| e.to_string())?;
    }
    if !scenario.expectations.is_empty() {
        // The assertions name summary metrics of this scenario, as `capsim check` requires.
        let options = capsim::check::CheckOptions::validation();
        capsim::check::prepare(&scenario, path, &options).map_err(|e| e.to_string())?;
    }
    let jobs = match scenario.jobs.len() {
        0 => String::new(),
        n => format!(", {n} jobs"),
    };
    Ok(format!(
        "{}: {} node pools, {} services{jobs}, {} simulated, about {} events",
        scenario.name,
        scenario.node_pools.len(),
        scenario.services.len(),
        scenario.duration,
        budget::short(Size::of(&scenario).total_events())
    ))
}
