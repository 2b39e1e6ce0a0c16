//! The place where a comparison of two folders goes in a two-folder report.
//!
//! Use `comparison_rows` to turn `capsim diff`'s report (`diff::DiffReport`) into rows, and
//! `comparison_section` to render them (metric, A, B, absolute and relative change,
//! significance): the statistics are `diff`'s, this module only formats them, with the same
//! cells as `capsim diff`'s terminal table.

use crate::diff::{DiffReport, render::row_cells};
use crate::html::page::{Table, paragraph, section};

/// One row of a comparison of two folders, formatted for reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComparisonRow {
    /// The metric's name, as `points.csv` and `capsim check` name it (`cost.total_usd`).
    pub metric: String,
    /// Its value in folder A.
    pub a: String,
    /// Its value in folder B.
    pub b: String,
    /// B minus A, with the metric's unit.
    pub change: String,
    /// The change relative to A (`+4.2%`).
    pub relative_change: String,
    /// Whether the change is significant, and at what level, in words.
    pub significance: String,
}

/// The rows of `report`, each metric named with its sweep point when the folders are sweeps.
pub fn comparison_rows(report: &DiffReport) -> Vec<ComparisonRow> {
    (report.rows.iter())
        .map(|r| {
            let [a, b, change, relative_change, significance] = row_cells(r);
            let metric = if r.point.is_empty() {
                r.metric.clone()
            } else {
                format!("{} {}", r.point.join(" "), r.metric)
            };
            ComparisonRow {
                metric,
                a,
                b,
                change,
                relative_change,
                significance,
            }
        })
        .collect()
}

/// The comparison table of a two-folder report, as a section with anchor `comparison`; an
/// empty string when there are no rows.
pub fn comparison_section(rows: &[ComparisonRow]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut table = Table::new(
        "comparison",
        &[
            "metric",
            "A",
            "B",
            "change",
            "relative change",
            "significance",
        ],
    );
    table.rows = rows
        .iter()
        .map(|r| {
            vec![
                r.metric.clone(),
                r.a.clone(),
                r.b.clone(),
                r.change.clone(),
                r.relative_change.clone(),
                r.significance.clone(),
            ]
        })
        .collect();
    let body = paragraph("B against A, metric by metric.") + &table.render();
    section("comparison", "A against B", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_make_a_table_and_no_rows_make_nothing() {
        assert_eq!(comparison_section(&[]), "");
        let row = ComparisonRow {
            metric: "cost.total_usd".into(),
            a: "41.16".into(),
            b: "42.65".into(),
            change: "+1.49".into(),
            relative_change: "+3.6%".into(),
            significance: "p < 0.05".into(),
        };
        let html = comparison_section(&[row]);
        assert!(html.contains("<section id=\"comparison\">"));
        assert!(html.contains("<td>p &lt; 0.05</td>"), "{html}");
    }
}
