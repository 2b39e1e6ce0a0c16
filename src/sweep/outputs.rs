//! A sweep's files: one record per finished run, and the tables built from all of them
//! (`sweep.csv`, `points.csv`, `sweep.json`).
//!
//! Use `RunRecord` to write a run the moment it finishes and to read it back (resume, merge),
//! and `write_tables` to build the tables from a complete or partial set of records. The tables
//! depend only on the records and the plan, never on the order runs finished in, so they are
//! byte-identical for any number of jobs and for sharded-then-merged sweeps.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::report::metrics::{flatten, mean_ci95};
use crate::report::writers::write_json_atomically;

/// Folder, inside a sweep folder, of the run records.
pub const RUNS_DIR: &str = "runs";

/// One finished run, as written to `runs/run-NNNNNN.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Digest of the plan the run belongs to.
    pub plan: String,
    /// Run index.
    pub run: usize,
    /// Point index.
    pub point: usize,
    /// Replication, 0-based.
    pub replication: u32,
    /// Seed.
    pub seed: u64,
    /// The point's settings, as `PATH=VALUE`.
    pub settings: Vec<String>,
    /// The run's `summary.json`.
    pub summary: Value,
}

impl RunRecord {
    /// The record's file in sweep folder `dir`.
    pub fn path(dir: &Path, run: usize) -> PathBuf {
        dir.join(RUNS_DIR).join(format!("run-{run:06}.json"))
    }

    /// Writes the record atomically.
    ///
    /// # Errors
    /// Any I/O error.
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        write_json_atomically(&RunRecord::path(dir, self.run), self)
    }

    /// Every readable record in sweep folder `dir`, by run index. Unreadable files (a run cut
    /// off mid-write leaves only a temporary file, which is ignored) are skipped.
    ///
    /// # Errors
    /// An I/O error listing the folder (a missing folder is an empty set).
    pub fn read_all(dir: &Path) -> io::Result<BTreeMap<usize, RunRecord>> {
        let mut records = BTreeMap::new();
        let entries = match fs::read_dir(dir.join(RUNS_DIR)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(records),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let Ok(text) = fs::read_to_string(&path) else {
                continue;
            };
            if let Ok(record) = serde_json::from_str::<RunRecord>(&text) {
                records.insert(record.run, record);
            }
        }
        Ok(records)
    }
}

/// `sweep.json`: what the sweep was, for people, plots, resume and merge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepInfo {
    /// Scenario name.
    pub scenario: String,
    /// Digest of the plan.
    pub plan: String,
    /// Swept paths, in dimension order.
    pub parameters: Vec<String>,
    /// Settings of each point, as `PATH=VALUE`, in point order.
    pub point_settings: Vec<Vec<String>>,
    /// Runs per point.
    pub replications: u32,
    /// `common` or `independent`.
    pub seeds: String,
    /// Points in the grid.
    pub points: usize,
    /// Runs in the whole sweep.
    pub runs: usize,
    /// Runs whose records the folder holds (`runs` once complete).
    pub runs_done: usize,
    /// Each service's p99 objective in ms, where the scenario states one.
    pub slo_p99_ms: BTreeMap<String, f64>,
}

/// Writes `sweep.csv`, `points.csv` and `sweep.json` into `dir` from `records`.
///
/// # Errors
/// Any I/O error.
pub fn write_tables(
    dir: &Path,
    info: &SweepInfo,
    records: &BTreeMap<usize, RunRecord>,
) -> io::Result<()> {
    let flat: BTreeMap<usize, Vec<(String, f64)>> = records
        .iter()
        .map(|(&run, record)| {
            let metrics = flatten(&record.summary)
                .into_iter()
                .filter(|(path, _)| path != "seed")
                .collect();
            (run, metrics)
        })
        .collect();
    let metrics = metric_names(flat.values());
    write_atomically(
        &dir.join("sweep.csv"),
        &runs_csv(info, records, &flat, &metrics),
    )?;
    write_atomically(
        &dir.join("points.csv"),
        &points_csv(info, records, &flat, &metrics),
    )?;
    let mut info = info.clone();
    info.runs_done = records.len();
    write_json_atomically(&dir.join("sweep.json"), &info)
}

/// Metric names in first-appearance order over the runs in index order.
fn metric_names<'a>(runs: impl Iterator<Item = &'a Vec<(String, f64)>>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for metrics in runs {
        for (name, _) in metrics {
            if seen.insert(name.clone()) {
                names.push(name.clone());
            }
        }
    }
    names
}

fn runs_csv(
    info: &SweepInfo,
    records: &BTreeMap<usize, RunRecord>,
    flat: &BTreeMap<usize, Vec<(String, f64)>>,
    metrics: &[String],
) -> String {
    let mut out = String::from("run,point,replication,seed");
    for p in &info.parameters {
        out.push(',');
        out.push_str(&csv_field(p));
    }
    for m in metrics {
        out.push(',');
        out.push_str(&csv_field(m));
    }
    out.push('\n');
    for (run, record) in records {
        out.push_str(&format!(
            "{},{},{},{}",
            record.run, record.point, record.replication, record.seed
        ));
        for value in setting_values(info, &record.settings) {
            out.push(',');
            out.push_str(&csv_field(&value));
        }
        let values: BTreeMap<&str, f64> = flat[run].iter().map(|(n, v)| (n.as_str(), *v)).collect();
        for m in metrics {
            out.push(',');
            if let Some(v) = values.get(m.as_str()) {
                out.push_str(&v.to_string());
            }
        }
        out.push('\n');
    }
    out
}

fn points_csv(
    info: &SweepInfo,
    records: &BTreeMap<usize, RunRecord>,
    flat: &BTreeMap<usize, Vec<(String, f64)>>,
    metrics: &[String],
) -> String {
    let mut out = String::from("point");
    for p in &info.parameters {
        out.push(',');
        out.push_str(&csv_field(p));
    }
    out.push_str(",runs");
    for m in metrics {
        let m = csv_field(m);
        out.push_str(&format!(",{m}.mean,{m}.ci_low,{m}.ci_high"));
    }
    out.push('\n');
    for (point, settings) in info.point_settings.iter().enumerate() {
        let runs: Vec<usize> = records
            .values()
            .filter(|r| r.point == point)
            .map(|r| r.run)
            .collect();
        if runs.is_empty() {
            continue;
        }
        out.push_str(&point.to_string());
        for value in setting_values(info, settings) {
            out.push(',');
            out.push_str(&csv_field(&value));
        }
        out.push_str(&format!(",{}", runs.len()));
        for m in metrics {
            let values: Vec<f64> = runs
                .iter()
                .filter_map(|run| flat[run].iter().find(|(n, _)| n == m).map(|(_, v)| *v))
                .collect();
            if values.is_empty() {
                out.push_str(",,,");
            } else {
                let (mean, low, high) = mean_ci95(&values);
                out.push_str(&format!(",{},{},{}", tidy(mean), tidy(low), tidy(high)));
            }
        }
        out.push('\n');
    }
    out
}

/// The value of each swept parameter in `settings` (`PATH=VALUE`), in the sweep's order.
fn setting_values(info: &SweepInfo, settings: &[String]) -> Vec<String> {
    info.parameters
        .iter()
        .map(|p| {
            settings
                .iter()
                .find_map(|s| {
                    s.strip_prefix(p.as_str())?
                        .strip_prefix('=')
                        .map(str::to_string)
                })
                .unwrap_or_default()
        })
        .collect()
}

/// A number rounded to 9 significant digits' worth of decimals, so that sums of replications
/// print the same whatever their order.
fn tidy(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let digits = 9 - x.abs().log10().ceil() as i32;
    let scale = 10f64.powi(digits.clamp(-300, 300));
    (x * scale).round() / scale
}

/// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Writes `text` to `path` through a temporary file and a rename.
///
/// # Errors
/// Any I/O error.
pub fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, text)?;
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> SweepInfo {
        SweepInfo {
            scenario: "s".into(),
            plan: "d".into(),
            parameters: vec!["a.b".into(), "m".into()],
            point_settings: vec![
                vec!["a.b=1".into(), "m={x: 1, y: 2}".into()],
                vec!["a.b=2".into(), "m={x: 1, y: 2}".into()],
            ],
            replications: 2,
            seeds: "common".into(),
            points: 2,
            runs: 4,
            runs_done: 0,
            slo_p99_ms: BTreeMap::new(),
        }
    }

    fn record(run: usize, point: usize, cost: f64) -> RunRecord {
        RunRecord {
            plan: "d".into(),
            run,
            point,
            replication: (run % 2) as u32,
            seed: 7,
            settings: info().point_settings[point].clone(),
            summary: serde_json::json!({"seed": 7, "cost": {"total_usd": cost}}),
        }
    }

    #[test]
    fn tables_quote_values_and_summarise_each_point() {
        let records: BTreeMap<usize, RunRecord> = [
            (0, record(0, 0, 1.0)),
            (1, record(1, 0, 3.0)),
            (2, record(2, 1, 5.0)),
        ]
        .into_iter()
        .collect();
        let flat: BTreeMap<usize, Vec<(String, f64)>> = records
            .iter()
            .map(|(r, rec)| {
                (
                    *r,
                    flatten(&rec.summary)
                        .into_iter()
                        .filter(|(p, _)| p != "seed")
                        .collect(),
                )
            })
            .collect();
        let metrics = metric_names(flat.values());
        assert_eq!(metrics, ["cost.total_usd"]);
        let runs = runs_csv(&info(), &records, &flat, &metrics);
        assert_eq!(
            runs.lines().collect::<Vec<_>>(),
            [
                "run,point,replication,seed,a.b,m,cost.total_usd",
                "0,0,0,7,1,\"{x: 1, y: 2}\",1",
                "1,0,1,7,1,\"{x: 1, y: 2}\",3",
                "2,1,0,7,2,\"{x: 1, y: 2}\",5",
            ]
        );
        let points = points_csv(&info(), &records, &flat, &metrics);
        let lines: Vec<&str> = points.lines().collect();
        assert_eq!(
            lines[0],
            "point,a.b,m,runs,cost.total_usd.mean,cost.total_usd.ci_low,cost.total_usd.ci_high"
        );
        // Point 0: mean 2, sd 1.414, n 2: half-width 12.706 x 1.414 / 1.414 = 12.706.
        assert_eq!(lines[1], "0,1,\"{x: 1, y: 2}\",2,2,-10.706,14.706");
        assert_eq!(lines[2], "1,2,\"{x: 1, y: 2}\",1,5,5,5");
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("c2-standard-8"), "c2-standard-8");
        assert_eq!(csv_field("[a, b]"), "\"[a, b]\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
