//! The sections of a sweep folder's report: what was swept, the charts (Pareto, against each
//! parameter, heat maps) and the points table.
//!
//! Use `SweepFiles::read` then `sections`. The charts are `plot`'s, drawn in memory; the points
//! table has one row per row of `points.csv`, with the key metrics (cost, each service's
//! latency, refusals, replicas, nodes) and, folded away, every metric's mean.

use std::path::Path;

use crate::html::page::{Table, figure, paragraph};
use crate::html::{HtmlError, Section};
use crate::plot::{self, SvgChart};
use crate::report::files::{POINTS_CSV, SWEEP_JSON};
use crate::report::sweep_files::{Interval, PointsTable, SweepInfo};

/// Everything the report shows of a sweep folder, read once.
#[derive(Debug)]
pub(crate) struct SweepFiles {
    /// `sweep.json`.
    pub(crate) info: SweepInfo,
    /// `points.csv`.
    pub(crate) points: PointsTable,
    /// The charts `plot` draws from those two files.
    pub(crate) charts: Vec<SvgChart>,
}

impl SweepFiles {
    /// Reads the sweep folder `dir`.
    ///
    /// # Errors
    /// A missing or malformed `sweep.json` or `points.csv`.
    pub(crate) fn read(dir: &Path) -> Result<SweepFiles, HtmlError> {
        Ok(SweepFiles {
            info: SweepInfo::read(&dir.join(SWEEP_JSON))?,
            points: PointsTable::read(&dir.join(POINTS_CSV))?,
            charts: plot::sweep_svgs(dir)?,
        })
    }
}

/// Metrics of the points table, by the end of their name (or the whole name).
const KEY_SUFFIXES: [&str; 7] = [
    "cost.total_usd",
    ".latency_ms.mean",
    ".latency_ms.p99",
    ".requests.rejected",
    ".requests.timed_out",
    ".replicas.mean",
    ".rejected_pods",
];

/// The sweep's sections, each with its anchor (`prefix` + name) and heading.
pub(crate) fn sections(files: &SweepFiles, prefix: &str) -> Vec<Section> {
    let anchor = |name: &str| format!("{prefix}{name}");
    let charts_of = |kind: fn(&str) -> bool, caption: &str| -> String {
        files
            .charts
            .iter()
            .filter(|c| kind(&c.name))
            .map(|c| figure(&c.svg, &format!("{caption} ({})", c.name)))
            .collect()
    };
    let mut parts = vec![
        Section::new(anchor("sweep"), "Sweep", &describe(&files.info)),
        Section::new(
            anchor("pareto"),
            "Cost against latency",
            &charts_of(
                |n| n.starts_with("pareto-"),
                "Cost against p99 per point, 95% intervals, Pareto frontier marked",
            ),
        ),
        Section::new(
            anchor("parameters"),
            "Against each parameter",
            &charts_of(
                |n| n.contains("-vs-"),
                "A key metric against one parameter, 95% band",
            ),
        ),
    ];
    if files.charts.iter().any(|c| c.name.starts_with("heatmap-")) {
        parts.push(Section::new(
            anchor("heatmaps"),
            "Heat maps",
            &charts_of(|n| n.starts_with("heatmap-"), "A key metric over the grid"),
        ));
    }
    parts.push(Section::new(
        anchor("sweep-points"),
        "Points",
        &points(&files.points, prefix),
    ));
    parts
}

/// What was swept, in words.
fn describe(info: &SweepInfo) -> String {
    let mut out = paragraph(&format!(
        "Sweep of scenario {}: {} points x {} replications = {} runs ({} done), seeds {}.",
        info.scenario, info.points, info.replications, info.runs, info.runs_done, info.seeds
    ));
    let mut params = Table::new("", &["parameter", "values"]);
    for (i, p) in info.parameters.iter().enumerate() {
        let mut values: Vec<String> = Vec::new();
        for settings in &info.point_settings {
            let v = info.values(settings).swap_remove(i);
            if !values.contains(&v) {
                values.push(v);
            }
        }
        params.rows.push(vec![p.clone(), values.join(", ")]);
    }
    out.push_str(&params.render());
    if !info.slo_p99_ms.is_empty() {
        let slos: Vec<String> = info
            .slo_p99_ms
            .iter()
            .map(|(s, ms)| format!("{s} {ms} ms"))
            .collect();
        out.push_str(&paragraph(&format!("p99 objectives: {}.", slos.join(", "))));
    }
    out
}

/// The points table (key metrics, mean and interval; id `prefix` + `points`) and every
/// metric's mean, folded.
fn points(table: &PointsTable, prefix: &str) -> String {
    let key: Vec<usize> = (0..table.metrics.len())
        .filter(|&i| {
            let m = &table.metrics[i];
            KEY_SUFFIXES
                .iter()
                .any(|s| m == s.trim_start_matches('.') || m.ends_with(s))
        })
        .collect();
    let mut out = paragraph(
        "One row per point of points.csv: the mean over the point's runs and, below it in \
         brackets, the 95% interval. Click a header to sort.",
    );
    out.push_str(&points_table(table, &format!("{prefix}points"), &key, true).render());
    let all: Vec<usize> = (0..table.metrics.len()).collect();
    out.push_str("<details><summary>Every metric's mean</summary>\n");
    out.push_str(&points_table(table, &format!("{prefix}points-all"), &all, false).render());
    out.push_str("</details>\n");
    out
}

/// A points table of the metrics at `columns`, with intervals when `intervals`.
fn points_table(table: &PointsTable, id: &str, columns: &[usize], intervals: bool) -> Table {
    let mut headers: Vec<String> = vec!["point".into()];
    headers.extend(table.parameters.iter().cloned());
    headers.push("runs".into());
    headers.extend(columns.iter().map(|&i| table.metrics[i].clone()));
    let mut out = Table {
        id: id.to_string(),
        headers,
        rows: Vec::new(),
    };
    for row in &table.rows {
        let mut cells = vec![row.point.to_string()];
        cells.extend(row.values.iter().cloned());
        cells.push(row.runs.to_string());
        for &i in columns {
            cells.push(match &row.metrics[i] {
                None => String::new(),
                Some(v) if intervals && v.ci_low != v.ci_high => interval(v),
                Some(v) => number(v.mean),
            });
        }
        out.rows.push(cells);
    }
    out
}

/// A mean and its interval: `41.2 [40.1, 42.3]`.
fn interval(v: &Interval) -> String {
    format!(
        "{} [{}, {}]",
        number(v.mean),
        number(v.ci_low),
        number(v.ci_high)
    )
}

/// A figure with 4 significant digits at most, without trailing zeros.
fn number(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
    let text = format!("{x:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_four_significant_digits() {
        assert_eq!(number(41.16234), "41.16");
        assert_eq!(number(0.000123456), "0.000123");
        assert_eq!(number(34794.0), "34794");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(0.0), "0");
    }
}
