//! A sweep folder's files: `sweep.json` (`SweepInfo`), one record per finished run
//! (`runs/run-NNNNNN.json`, `RunRecord`), `sweep.csv` (`RunsTable`) and `points.csv`
//! (`PointsTable`), the two tables being `SweepTable`s of different rows.
//!
//! Use these types both to write the files (`sweep` does) and to read them back (`plot`, sweep
//! resume and merge): a column or field is named here only. `sweep.csv` has the columns `run`,
//! `point`, `replication`, `seed`, one per swept parameter, then one per metric;
//! `points.csv` has `point`, the parameters, `runs`, then `<metric>.mean`, `<metric>.ci_low`,
//! `<metric>.ci_high` for each metric. Metric names are `metrics::summary_metrics`' paths. This
//! file computes nothing: the means and intervals come from the caller.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::report::Summary;
use crate::report::csv::CsvFile;
use crate::report::files::{
    RUNS_DIR, ReadError, read_json, read_text, run_record_path, write_json_atomically,
};

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

impl SweepInfo {
    /// Reads a `sweep.json` back.
    ///
    /// # Errors
    /// A missing or unreadable file, or JSON that is not a `SweepInfo`.
    pub fn read(path: &Path) -> Result<SweepInfo, ReadError> {
        read_json(path, "sweep.json")
    }

    /// The value of each swept parameter in `settings` (`PATH=VALUE`), in the sweep's order;
    /// empty for a parameter `settings` does not set.
    pub fn values(&self, settings: &[String]) -> Vec<String> {
        self.parameters
            .iter()
            .map(|p| {
                settings
                    .iter()
                    .find_map(|s| s.strip_prefix(p.as_str())?.strip_prefix('='))
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }
}

/// One finished run, as written to `runs/run-NNNNNN.json` the moment it finishes.
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
    /// The run's summary, as its `summary.json` holds it.
    pub summary: Summary,
}

impl RunRecord {
    /// The record's file in sweep folder `dir`.
    pub fn path(dir: &Path, run: usize) -> PathBuf {
        run_record_path(dir, run)
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
        Ok(RunRecord::read_all_and_unreadable(dir)?.0)
    }

    /// Every run record in `dir`'s `runs/` folder, by run index, and the record files that
    /// could not be read (truncated, empty, not a record), each with why: a resumed sweep runs
    /// those again, a merge refuses them.
    ///
    /// # Errors
    /// The folder cannot be listed.
    #[allow(clippy::type_complexity)]
    pub fn read_all_and_unreadable(
        dir: &Path,
    ) -> io::Result<(BTreeMap<usize, RunRecord>, Vec<ReadError>)> {
        let mut records = BTreeMap::new();
        let mut unreadable = Vec::new();
        let entries = match fs::read_dir(dir.join(RUNS_DIR)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((records, unreadable)),
            Err(e) => return Err(e),
        };
        let mut paths = entries
            .map(|e| e.map(|e| e.path()))
            .collect::<io::Result<Vec<_>>>()?;
        paths.sort();
        for path in paths {
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            match read_json::<RunRecord>(&path, "run record") {
                Ok(record) => {
                    records.insert(record.run, record);
                }
                Err(e) => unreadable.push(e),
            }
        }
        Ok((records, unreadable))
    }
}

const RUN: &str = "run";
const POINT: &str = "point";
const REPLICATION: &str = "replication";
const SEED: &str = "seed";
const RUNS: &str = "runs";
const MEAN: &str = "mean";
const CI_LOW: &str = "ci_low";
const CI_HIGH: &str = "ci_high";

/// A table of a sweep folder: which parameters and metrics its columns hold, and its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepTable<Row> {
    /// The swept parameters, in the sweep's order.
    pub parameters: Vec<String>,
    /// The metrics, in column order.
    pub metrics: Vec<String>,
    /// The rows, in index order.
    pub rows: Vec<Row>,
}

impl<Row> Default for SweepTable<Row> {
    /// A table with no columns and no rows.
    fn default() -> SweepTable<Row> {
        SweepTable {
            parameters: Vec::new(),
            metrics: Vec::new(),
            rows: Vec::new(),
        }
    }
}

/// `sweep.csv`: one row per run, every metric's value.
pub type RunsTable = SweepTable<RunRow>;

/// One run of `sweep.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    /// Run index.
    pub run: usize,
    /// Point index.
    pub point: usize,
    /// Replication, 0-based.
    pub replication: u32,
    /// Seed.
    pub seed: u64,
    /// Each parameter's value, as written in the settings.
    pub values: Vec<String>,
    /// Each metric's value; `None` (an empty cell) where the run's summary has none.
    pub metrics: Vec<Option<f64>>,
}

impl RunsTable {
    /// The file's text: header and rows.
    pub fn to_csv(&self) -> String {
        let mut out = [RUN, POINT, REPLICATION, SEED].join(",");
        for name in self.parameters.iter().chain(&self.metrics) {
            push_field(&mut out, name);
        }
        out.push('\n');
        for row in &self.rows {
            let _ = write!(
                out,
                "{},{},{},{}",
                row.run, row.point, row.replication, row.seed
            );
            for value in &row.values {
                push_field(&mut out, value);
            }
            for value in &row.metrics {
                out.push(',');
                if let Some(v) = value {
                    let _ = write!(out, "{v}");
                }
            }
            out.push('\n');
        }
        out
    }
}

/// `points.csv`: one row per point with at least one finished run, every metric's mean and
/// 95% confidence interval over the point's runs.
pub type PointsTable = SweepTable<PointRow>;

/// One point of `points.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct PointRow {
    /// Point index.
    pub point: usize,
    /// Each parameter's value, as written in the settings.
    pub values: Vec<String>,
    /// Runs the figures are over.
    pub runs: usize,
    /// Each metric's figures; `None` (three empty cells) where no run has the metric, and NaN
    /// for a figure whose cell alone is empty.
    pub metrics: Vec<Option<Interval>>,
}

/// A metric's mean over replications and its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Mean.
    pub mean: f64,
    /// Lower end of the interval.
    pub ci_low: f64,
    /// Upper end of the interval.
    pub ci_high: f64,
}

impl PointsTable {
    /// The file's text: header and rows. Figures are written to 9 significant digits, so that
    /// the same runs summed in another order print the same.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(POINT);
        for p in &self.parameters {
            push_field(&mut out, p);
        }
        out.push(',');
        out.push_str(RUNS);
        for m in &self.metrics {
            // The name is quoted before its suffix (`"a,b".mean`), as capsim always wrote it;
            // CSV readers, this one included, read that as `a,b.mean`.
            let m = quoted(m);
            let _ = write!(out, ",{m}.{MEAN},{m}.{CI_LOW},{m}.{CI_HIGH}");
        }
        out.push('\n');
        for row in &self.rows {
            let _ = write!(out, "{}", row.point);
            for value in &row.values {
                push_field(&mut out, value);
            }
            let _ = write!(out, ",{}", row.runs);
            for figures in &row.metrics {
                match figures {
                    Some(i) => {
                        let (mean, low, high) = (tidy(i.mean), tidy(i.ci_low), tidy(i.ci_high));
                        let _ = write!(out, ",{mean},{low},{high}");
                    }
                    None => out.push_str(",,,"),
                }
            }
            out.push('\n');
        }
        out
    }

    /// Reads a `points.csv` back.
    ///
    /// # Errors
    /// A missing file, or as `PointsTable::parse`.
    pub fn read(path: &Path) -> Result<PointsTable, ReadError> {
        PointsTable::parse(path, &read_text(path)?)
    }

    /// Parses the text of a `points.csv` read from `path`.
    ///
    /// # Errors
    /// A header that is not `point`, parameters, `runs` and metric triples; a row with the wrong
    /// number of cells or a cell that does not parse (named by line and column).
    pub fn parse(path: &Path, text: &str) -> Result<PointsTable, ReadError> {
        let csv = CsvFile::parse(path, text)?;
        if csv.header[0] != POINT {
            let message = format!("first column is {:?}, not {POINT}", csv.header[0]);
            return Err(csv.error(1, message));
        }
        let runs = csv.require(RUNS)?;
        let parameters = csv.header[1..runs].to_vec();
        let mut metrics = Vec::new();
        for (i, triple) in csv.header[runs + 1..].chunks(3).enumerate() {
            let column = runs + 2 + 3 * i;
            let name = triple[0].strip_suffix(&format!(".{MEAN}")).ok_or_else(|| {
                let message = format!("column {column}: {:?} is not a <metric>.{MEAN}", triple[0]);
                csv.error(1, message)
            })?;
            for (k, suffix) in [CI_LOW, CI_HIGH].into_iter().enumerate() {
                let want = format!("{name}.{suffix}");
                if triple.get(k + 1) != Some(&want) {
                    let message = format!("column {}: expected {want}", column + k + 1);
                    return Err(csv.error(1, message));
                }
            }
            metrics.push(name.to_string());
        }
        let mut rows = Vec::with_capacity(csv.rows.len());
        for row in &csv.rows {
            let mut figures = Vec::with_capacity(metrics.len());
            for i in 0..metrics.len() {
                let col = runs + 1 + 3 * i;
                if row.cells[col..col + 3].iter().all(String::is_empty) {
                    figures.push(None);
                    continue;
                }
                // A single empty cell is a figure no run had (a latency of a service that
                // completed nothing), read as NaN; the others still have to be numbers.
                let number = |c: usize| {
                    if row.cells[c].is_empty() {
                        Ok(f64::NAN)
                    } else {
                        csv.cell::<f64>(row, c, "a number")
                    }
                };
                figures.push(Some(Interval {
                    mean: number(col)?,
                    ci_low: number(col + 1)?,
                    ci_high: number(col + 2)?,
                }));
            }
            rows.push(PointRow {
                point: csv.cell(row, 0, "a whole number")?,
                values: row.cells[1..runs].to_vec(),
                runs: csv.cell(row, runs, "a whole number")?,
                metrics: figures,
            });
        }
        Ok(PointsTable {
            parameters,
            metrics,
            rows,
        })
    }
}

/// Appends `,` and `text` as a CSV field.
fn push_field(out: &mut String, text: &str) {
    out.push(',');
    out.push_str(&quoted(text));
}

/// `text` as a CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180).
fn quoted(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\"")).into()
    } else {
        text.into()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn points() -> PointsTable {
        let interval = |mean: f64, half: f64| Interval {
            mean,
            ci_low: mean - half,
            ci_high: mean + half,
        };
        PointsTable {
            parameters: vec!["a.b".into(), "m".into()],
            metrics: vec![
                "cost.total_usd".into(),
                "services.web.latency_ms.p99".into(),
                "alerts.slow, \"really\".fired".into(),
            ],
            rows: vec![
                PointRow {
                    point: 0,
                    values: vec!["1".into(), "{x: 1, y: \"2\"}".into()],
                    runs: 2,
                    metrics: vec![Some(interval(2.0, 12.706)), None, None],
                },
                PointRow {
                    point: 2,
                    values: vec!["2".into(), "c2-standard-8".into()],
                    runs: 1,
                    metrics: vec![
                        Some(interval(5.0, 0.0)),
                        Some(interval(40.125, 0.5)),
                        Some(interval(1.0, 0.0)),
                    ],
                },
            ],
        }
    }

    #[test]
    fn points_written_read_back_to_the_same_table() {
        let table = points();
        let text = table.to_csv();
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            [
                "point,a.b,m,runs,cost.total_usd.mean,cost.total_usd.ci_low,cost.total_usd.ci_high,\
                 services.web.latency_ms.p99.mean,services.web.latency_ms.p99.ci_low,\
                 services.web.latency_ms.p99.ci_high,\"alerts.slow, \"\"really\"\".fired\".mean,\
                 \"alerts.slow, \"\"really\"\".fired\".ci_low,\"alerts.slow, \"\"really\"\".fired\".ci_high",
                "0,1,\"{x: 1, y: \"\"2\"\"}\",2,2,-10.706,14.706,,,,,,",
                "2,2,c2-standard-8,1,5,5,5,40.125,39.625,40.625,1,1,1",
            ]
        );
        let read =
            PointsTable::parse(Path::new("points.csv"), &text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read, table);
    }

    #[test]
    fn bad_points_headers_are_errors() {
        let error = |text: &str| {
            PointsTable::parse(Path::new("points.csv"), text)
                .map(|_| ())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error("pt,runs\n"),
            "points.csv: line 1: first column is \"pt\", not point"
        );
        assert_eq!(
            error("point,a\n"),
            "points.csv: line 1: missing column runs"
        );
        assert_eq!(
            error("point,runs,c.mean,c.ci_low\n"),
            "points.csv: line 1: column 5: expected c.ci_high"
        );
        assert_eq!(
            error("point,runs,c\n"),
            "points.csv: line 1: column 3: \"c\" is not a <metric>.mean"
        );
        assert_eq!(
            error("point,runs,c.mean,c.ci_low,c.ci_high\n0,1,x,1,2\n"),
            "points.csv: line 2: column c.mean: not a number: \"x\""
        );
        assert_eq!(
            error("point,runs,c.mean,c.ci_low,c.ci_high\n0,1,,1,y\n"),
            "points.csv: line 2: column c.ci_high: not a number: \"y\""
        );
    }

    #[test]
    fn an_empty_cell_is_a_missing_figure() {
        let text = "point,runs,c.mean,c.ci_low,c.ci_high,d.mean,d.ci_low,d.ci_high\n\
                    0,2,,,,,1,2\n";
        let read =
            PointsTable::parse(Path::new("points.csv"), text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read.rows[0].metrics[0], None);
        let d = read.rows[0].metrics[1].unwrap_or_else(|| panic!("d has bounds"));
        assert!(d.mean.is_nan());
        assert_eq!((d.ci_low, d.ci_high), (1.0, 2.0));
    }

    #[test]
    fn runs_are_written_with_empty_cells_for_missing_metrics() {
        let table = RunsTable {
            parameters: vec!["m".into()],
            metrics: vec!["cost.total_usd".into(), "x".into()],
            rows: vec![RunRow {
                run: 3,
                point: 1,
                replication: 1,
                seed: 99,
                values: vec!["[a, b]".into()],
                metrics: vec![Some(0.25), None],
            }],
        };
        assert_eq!(
            table.to_csv(),
            "run,point,replication,seed,m,cost.total_usd,x\n3,1,1,99,\"[a, b]\",0.25,\n"
        );
    }

    #[test]
    fn settings_give_each_parameter_s_value() {
        let info = SweepInfo {
            scenario: "s".into(),
            plan: "d".into(),
            parameters: vec!["a.b".into(), "a".into(), "z".into()],
            point_settings: vec![],
            replications: 1,
            seeds: "common".into(),
            points: 0,
            runs: 0,
            runs_done: 0,
            slo_p99_ms: BTreeMap::new(),
        };
        let settings = ["a=x=1".to_string(), "a.b={c: 1}".to_string()];
        assert_eq!(info.values(&settings), ["{c: 1}", "x=1", ""]);
    }

    #[test]
    fn tidy_keeps_nine_significant_digits() {
        assert_eq!(tidy(0.1 + 0.2), 0.3);
        assert_eq!(tidy(123_456.789_012_3), 123_456.789);
        assert_eq!(tidy(0.0), 0.0);
        assert!(tidy(f64::NAN).is_nan());
    }
}
