//! A sweep's tables, built from its run records: `sweep.csv`, `points.csv`, `sweep.json`.
//!
//! Use `write_tables` after runs finish (or after merging shards) to rebuild the tables from a
//! complete or partial set of records. The tables depend only on the records and the plan,
//! never on the order runs finished in, so they are byte-identical for any number of jobs and
//! for sharded-then-merged sweeps. The files' columns and fields are `report::sweep_files`'
//! record types; this file computes what goes in them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io;
use std::path::Path;

use crate::replications::mean_ci95;
use crate::report::files::{
    PLOTS_DIR, POINTS_CSV, REPORT_HTML, SWEEP_CSV, SWEEP_JSON, in_file, write_atomically,
    write_json_atomically,
};
use crate::report::metrics::summary_values;
use crate::report::sweep_files::{
    Interval, PointRow, PointsTable, RunRecord, RunRow, RunsTable, SweepInfo,
};

/// Writes `sweep.csv`, `points.csv` and `sweep.json` into `dir` from `records`.
///
/// # Errors
/// Any I/O error, naming the file, or a summary that cannot be turned into metrics. None of
/// the three files is then left in `dir`: a folder holds all of a sweep's tables or none.
pub fn write_tables(
    dir: &Path,
    info: &SweepInfo,
    records: &BTreeMap<usize, RunRecord>,
) -> io::Result<()> {
    let result = write_each_table(dir, info, records);
    if result.is_err() {
        for name in TABLES {
            let _ = fs::remove_file(dir.join(name));
        }
    }
    result
}

/// A sweep's tables, in the order `write_tables` writes them.
const TABLES: [&str; 3] = [SWEEP_CSV, POINTS_CSV, SWEEP_JSON];

fn write_each_table(
    dir: &Path,
    info: &SweepInfo,
    records: &BTreeMap<usize, RunRecord>,
) -> io::Result<()> {
    let (runs, points) = tables(info, records)?;
    write_atomically(&dir.join(SWEEP_CSV), &runs.to_csv()).map_err(|e| in_file(SWEEP_CSV, e))?;
    write_atomically(&dir.join(POINTS_CSV), &points.to_csv())
        .map_err(|e| in_file(POINTS_CSV, e))?;
    let mut info = info.clone();
    info.runs_done = records.len();
    write_json_atomically(&dir.join(SWEEP_JSON), &info).map_err(|e| in_file(SWEEP_JSON, e))
}

/// Removes what describes a sweep folder's runs as a whole (the tables, the report, the
/// charts), before its runs change: an interrupted or failed sweep then leaves its run records
/// and nothing that looks like finished results.
///
/// # Errors
/// A file that exists cannot be removed, named.
pub fn remove_tables(dir: &Path) -> io::Result<()> {
    for name in TABLES.into_iter().chain([REPORT_HTML]) {
        match fs::remove_file(dir.join(name)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(in_file(name, e)),
            _ => {}
        }
    }
    match fs::remove_dir_all(dir.join(PLOTS_DIR)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(in_file(PLOTS_DIR, e)),
        _ => Ok(()),
    }
}

/// `sweep.csv` and `points.csv` of `records`.
///
/// # Errors
/// A summary that cannot be turned into metrics.
pub fn tables(
    info: &SweepInfo,
    records: &BTreeMap<usize, RunRecord>,
) -> io::Result<(RunsTable, PointsTable)> {
    let mut flat: BTreeMap<usize, Values> = BTreeMap::new();
    for (&run, record) in records {
        flat.insert(
            run,
            summary_values(&record.summary).map_err(io::Error::other)?,
        );
    }
    let metrics = metric_names(flat.values());
    let runs = RunsTable {
        parameters: info.parameters.clone(),
        metrics: metrics.clone(),
        rows: records
            .iter()
            .map(|(run, record)| run_row(info, record, &flat[run], &metrics))
            .collect(),
    };
    let points = PointsTable {
        parameters: info.parameters.clone(),
        metrics: metrics.clone(),
        rows: info
            .point_settings
            .iter()
            .enumerate()
            .filter_map(|(point, settings)| {
                let runs: Vec<&[(String, Option<f64>)]> = records
                    .values()
                    .filter(|r| r.point == point)
                    .map(|r| flat[&r.run].as_slice())
                    .collect();
                (!runs.is_empty()).then(|| PointRow {
                    point,
                    values: info.values(settings),
                    runs: runs.len(),
                    metrics: metrics.iter().map(|m| interval(&runs, m)).collect(),
                })
            })
            .collect(),
    };
    Ok((runs, points))
}

/// A run's figures by name, in `summary.json`'s order; `None` where the run has no value.
type Values = Vec<(String, Option<f64>)>;

/// Every metric name of the runs, null or not, each in its place in `summary.json`'s order: a
/// name only some runs have (a reason one run's pods waited for, a Job's delay fields where
/// other runs bound no pod) goes right after the name that precedes it in the first run that
/// has it. A null object's own path (`scheduling_delay_s` when no pod was bound) gives way to
/// its fields when another run has them. The columns thus depend on the names only, never on
/// which run had which value.
fn metric_names<'a>(runs: impl Iterator<Item = &'a Values> + Clone) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for values in runs.clone() {
        let mut next = 0;
        for (name, _) in values {
            if let Some(&i) = index.get(name) {
                next = i + 1;
                continue;
            }
            names.insert(next, name.clone());
            for (i, n) in names.iter().enumerate().skip(next) {
                index.insert(n.clone(), i);
            }
            next += 1;
        }
    }
    let parents: HashSet<&str> = (names.iter())
        .flat_map(|n| n.match_indices('.').map(|(dot, _)| &n[..dot]))
        .collect();
    let numbers: HashSet<&str> = (runs.flat_map(|values| values.iter()))
        .filter(|(_, v)| v.is_some())
        .map(|(n, _)| n.as_str())
        .collect();
    let null_objects: Vec<&String> = (names.iter())
        .filter(|n| parents.contains(n.as_str()) && !numbers.contains(n.as_str()))
        .collect();
    let null_objects: HashSet<String> = null_objects.into_iter().cloned().collect();
    names.retain(|n| !null_objects.contains(n));
    names
}

fn run_row(info: &SweepInfo, record: &RunRecord, flat: &Values, metrics: &[String]) -> RunRow {
    let values: BTreeMap<&str, Option<f64>> = flat.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    RunRow {
        run: record.run,
        point: record.point,
        replication: record.replication,
        seed: record.seed,
        values: info.values(&record.settings),
        metrics: metrics
            .iter()
            .map(|m| values.get(m.as_str()).copied().flatten())
            .collect(),
    }
}

/// The mean and interval of `metric` over the runs that have a value of it, if any does.
fn interval(runs: &[&[(String, Option<f64>)]], metric: &str) -> Option<Interval> {
    let values: Vec<f64> = runs
        .iter()
        .filter_map(|run| run.iter().find(|(n, _)| n == metric).and_then(|&(_, v)| v))
        .collect();
    if values.is_empty() {
        return None;
    }
    let (mean, ci_low, ci_high) = mean_ci95(&values);
    Some(Interval {
        mean,
        ci_low,
        ci_high,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Summary;
    use crate::report::summary::example;

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

    fn summary(cost: f64) -> Summary {
        let mut summary = example(&[], &[]);
        summary.cost.total_usd = cost;
        summary
    }

    fn record(run: usize, point: usize, cost: f64) -> RunRecord {
        RunRecord {
            plan: "d".into(),
            run,
            point,
            replication: (run % 2) as u32,
            seed: 7,
            settings: info().point_settings[point].clone(),
            summary: summary(cost),
        }
    }

    fn records() -> BTreeMap<usize, RunRecord> {
        [
            (0, record(0, 0, 1.0)),
            (1, record(1, 0, 3.0)),
            (2, record(2, 1, 5.0)),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn tables_quote_values_and_summarise_each_point() {
        let (runs, points) = tables(&info(), &records()).unwrap_or_else(|e| panic!("{e}"));
        let cost = runs
            .metrics
            .iter()
            .position(|m| m == "cost.total_usd")
            .unwrap_or_else(|| panic!("no cost in {:?}", runs.metrics));
        assert!(
            !runs.metrics.iter().any(|m| m == "seed"),
            "the seed is no metric"
        );
        let csv = runs.to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].starts_with("run,point,replication,seed,a.b,m,"));
        assert!(
            lines[1].starts_with("0,0,0,7,1,\"{x: 1, y: 2}\","),
            "{}",
            lines[1]
        );
        let cells: Vec<Option<f64>> = runs.rows.iter().map(|r| r.metrics[cost]).collect();
        assert_eq!(cells, [Some(1.0), Some(3.0), Some(5.0)]);

        // Point 0: mean 2, sd 1.414, n 2: half-width 12.706 x 1.414 / 1.414 = 12.706.
        assert_eq!(points.rows.len(), 2);
        assert_eq!(points.rows[0].values, ["1", "{x: 1, y: 2}"]);
        assert_eq!(points.rows[0].runs, 2);
        let figures = points.rows[0].metrics[cost].unwrap_or_else(|| panic!("no cost"));
        assert_eq!(figures.mean, 2.0);
        let text = points.to_csv();
        let row0 = text.lines().nth(1).unwrap_or_default();
        assert!(row0.starts_with("0,1,\"{x: 1, y: 2}\",2,"), "{row0}");
        let row1 = text.lines().nth(2).unwrap_or_default();
        assert!(row1.starts_with("1,2,\"{x: 1, y: 2}\",1,"), "{row1}");
    }

    #[test]
    fn a_points_file_written_by_a_sweep_reads_back() {
        let (_, points) = tables(&info(), &records()).unwrap_or_else(|e| panic!("{e}"));
        let read = PointsTable::parse(Path::new("points.csv"), &points.to_csv())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read.parameters, info().parameters);
        assert_eq!(read.metrics, points.metrics);
        let cost = read
            .metrics
            .iter()
            .position(|m| m == "cost.total_usd")
            .unwrap_or_else(|| panic!("no cost"));
        let figures = read.rows[0].metrics[cost].unwrap_or_else(|| panic!("no cost"));
        assert_eq!(
            (figures.mean, figures.ci_low, figures.ci_high),
            (2.0, -10.706, 14.706)
        );
        assert_eq!(read.rows[1].metrics[cost].map(|i| i.mean), Some(5.0));
    }
}

#[cfg(test)]
mod null_tests {
    use super::*;
    use crate::report::summary::example;

    fn record(run: usize, point: usize, served: bool) -> RunRecord {
        let mut summary = example(&[("web", None)], &["p"]);
        if !served {
            let web = &mut summary.services["web"];
            web.latency_ms.p99 = None;
            web.latency_ms.mean = None;
        }
        RunRecord {
            plan: "d".into(),
            run,
            point,
            replication: (run % 2) as u32,
            seed: 7,
            settings: vec![format!("a={point}")],
            summary,
        }
    }

    fn info() -> SweepInfo {
        SweepInfo {
            scenario: "s".into(),
            plan: "d".into(),
            parameters: vec!["a".into()],
            point_settings: vec![vec!["a=0".into()], vec!["a=1".into()]],
            replications: 2,
            seeds: "common".into(),
            points: 2,
            runs: 4,
            runs_done: 0,
            slo_p99_ms: BTreeMap::new(),
        }
    }

    #[test]
    fn a_run_that_served_nothing_leaves_empty_cells_in_aligned_columns() {
        // Run 0 served nothing; point 1 has one replication that did (run 2) and one that did
        // not (run 3).
        let records: BTreeMap<usize, RunRecord> = [
            (0, record(0, 0, false)),
            (1, record(1, 0, false)),
            (2, record(2, 1, true)),
            (3, record(3, 1, false)),
        ]
        .into_iter()
        .collect();
        let (runs, points) = tables(&info(), &records).unwrap_or_else(|e| panic!("{e}"));
        let all_served: BTreeMap<usize, RunRecord> =
            (0..4).map(|r| (r, record(r, r / 2, true))).collect();
        let (served_runs, _) = tables(&info(), &all_served).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            runs.metrics, served_runs.metrics,
            "the columns are the metrics' names, whichever runs have values"
        );
        let at = |name: &str| {
            (runs.metrics.iter().position(|m| m == name)).unwrap_or_else(|| panic!("no {name}"))
        };
        let (p99, p50) = (
            at("services.web.latency_ms.p99"),
            at("services.web.latency_ms.p50"),
        );
        assert_eq!(
            p99 + 1,
            at("services.web.latency_ms.max"),
            "in summary order"
        );
        let cells: Vec<Option<f64>> = runs.rows.iter().map(|r| r.metrics[p99]).collect();
        assert_eq!(cells, [None, None, Some(40.125), None]);
        assert!(runs.rows.iter().all(|r| r.metrics[p50] == Some(3.25)));
        // Point 0: no replication has a p99; point 1: the mean of the one that has.
        assert_eq!(points.rows[0].metrics[p99], None);
        let one = points.rows[1].metrics[p99].unwrap_or_else(|| panic!("point 1 has a p99"));
        assert_eq!(
            (one.mean, one.ci_low, one.ci_high),
            (40.125, 40.125, 40.125)
        );
        assert_eq!(points.rows[1].runs, 2);
        // The files: one cell per column on every line, empty where there is no value.
        let csv = runs.to_csv();
        let widths: Vec<usize> = csv.lines().map(|l| l.split(',').count()).collect();
        assert!(widths.iter().all(|&w| w == widths[0]), "{widths:?}");
        let read = PointsTable::parse(Path::new("points.csv"), &points.to_csv())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read.rows[0].metrics[p99], None);
        assert_eq!(read.rows[1].metrics[p99].map(|i| i.mean), Some(40.125));
    }

    #[test]
    fn a_name_only_later_runs_have_goes_in_its_place() {
        let a: Values = vec![("x".into(), Some(1.0)), ("z".into(), Some(2.0))];
        let b: Values = vec![
            ("x".into(), Some(1.0)),
            ("y.p50".into(), Some(3.0)),
            ("z".into(), None),
        ];
        let c: Values = vec![("x".into(), None), ("y".into(), None), ("z".into(), None)];
        let names = metric_names([&c, &a, &b].into_iter());
        assert_eq!(
            names,
            ["x", "y.p50", "z"],
            "a null object gives way to its fields"
        );
        let names = metric_names([&a, &c].into_iter());
        assert_eq!(
            names,
            ["x", "y", "z"],
            "a null object nobody has fields of stays"
        );
    }
}
