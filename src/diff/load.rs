//! Reading the two sides of a diff: a run folder, a sweep folder or a folder of replications,
//! each as groups of replications (one group per sweep point).

use std::fs;
use std::path::{Path, PathBuf};

use crate::report::Summary;
use crate::report::files::{RUNS_DIR, SUMMARY_JSON, SWEEP_JSON};
use crate::report::metrics::{MaybeMetric, summary_values};
use crate::report::sweep_files::{RunRecord, SweepInfo};

/// One replication: its seed and every figure of its summary.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Replication {
    /// The run's seed.
    pub(crate) seed: u64,
    /// The summary's figures, nulls kept.
    pub(crate) values: Vec<MaybeMetric>,
}

/// Replications of one setting: a sweep's point, or the whole of a run or replications folder.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Group {
    /// The point's settings as `PATH=VALUE`, one per swept parameter (empty outside sweeps).
    pub(crate) settings: Vec<String>,
    /// Its runs, by replication.
    pub(crate) runs: Vec<Replication>,
}

/// One side of a diff.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Side {
    /// The swept parameters (empty outside sweeps).
    pub(crate) parameters: Vec<String>,
    /// The groups, in point order.
    pub(crate) groups: Vec<Group>,
}

/// Reads folder `dir`: a sweep folder (`sweep.json` and its run records), a run folder
/// (`summary.json`), or a folder of replications (`runs/*/summary.json` or `*/summary.json`).
///
/// # Errors
/// One line naming the folder or file and what is wrong.
pub(crate) fn read_side(dir: &Path) -> Result<Side, String> {
    if dir.join(SWEEP_JSON).is_file() {
        return read_sweep(dir);
    }
    if dir.join(SUMMARY_JSON).is_file() {
        let run = replication(&dir.join(SUMMARY_JSON))?;
        return Ok(single(vec![run]));
    }
    if !dir.is_dir() {
        return Err(format!(
            "{}: not a folder; give a run folder (summary.json), a sweep folder (sweep.json) or \
             a folder of replications (runs/*/summary.json)",
            dir.display()
        ));
    }
    let mut files = summaries_under(&dir.join(RUNS_DIR))?;
    if files.is_empty() {
        files = summaries_under(dir)?;
    }
    if files.is_empty() {
        return Err(format!(
            "{}: holds no summary.json, sweep.json or runs/*/summary.json; give a run folder, a \
             sweep folder or a folder of replications",
            dir.display()
        ));
    }
    let runs = files
        .iter()
        .map(|f| replication(f))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(single(runs))
}

/// A side of one group without parameters.
fn single(runs: Vec<Replication>) -> Side {
    Side {
        parameters: Vec::new(),
        groups: vec![Group {
            settings: Vec::new(),
            runs,
        }],
    }
}

/// The `summary.json` of each subfolder of `dir`, sorted by folder name.
fn summaries_under(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let file = entry.path().join(SUMMARY_JSON);
        if file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

/// One `summary.json` as a replication.
fn replication(file: &Path) -> Result<Replication, String> {
    let summary = Summary::read(file).map_err(|e| e.to_string())?;
    from_summary(&summary).map_err(|e| format!("{}: {e}", file.display()))
}

/// A summary as a replication.
fn from_summary(summary: &Summary) -> Result<Replication, serde_json::Error> {
    Ok(Replication {
        seed: summary.seed,
        values: summary_values(summary)?,
    })
}

/// A sweep folder: its points, each with the records of its finished runs by replication.
fn read_sweep(dir: &Path) -> Result<Side, String> {
    let info = SweepInfo::read(&dir.join(SWEEP_JSON)).map_err(|e| e.to_string())?;
    let records =
        RunRecord::read_all(dir).map_err(|e| format!("{}: {e}", dir.join(RUNS_DIR).display()))?;
    let mut groups: Vec<Group> = (info.point_settings.iter())
        .map(|settings| Group {
            settings: settings.clone(),
            runs: Vec::new(),
        })
        .collect();
    let mut by_point: Vec<Vec<(u32, Replication)>> = vec![Vec::new(); groups.len()];
    for record in records.values().filter(|r| r.plan == info.plan) {
        let Some(runs) = by_point.get_mut(record.point) else {
            return Err(format!(
                "{}: point {} is not a point of this sweep ({} points)",
                RunRecord::path(dir, record.run).display(),
                record.point,
                info.points
            ));
        };
        let run = from_summary(&record.summary)
            .map_err(|e| format!("{}: {e}", RunRecord::path(dir, record.run).display()))?;
        runs.push((record.replication, run));
    }
    for (group, mut runs) in groups.iter_mut().zip(by_point) {
        runs.sort_by_key(|(replication, _)| *replication);
        group.runs = runs.into_iter().map(|(_, run)| run).collect();
    }
    groups.retain(|g| !g.runs.is_empty());
    Ok(Side {
        parameters: info.parameters,
        groups,
    })
}
