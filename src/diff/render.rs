//! A diff as a terminal table.

use std::fmt::Write as _;

use crate::diff::{DiffReport, DiffRow, TestKind, Verdict};
use crate::report::timeseries::round;
use crate::text::table::push_columns;

/// The report as aligned columns (point, when the folders are sweeps; metric; A; B; change;
/// relative change; verdict with its test and p-value), then a line counting the significant
/// changes and naming the points only one side has.
pub fn render(report: &DiffReport) -> String {
    let sweep = !report.parameters.is_empty();
    let mut header: Vec<String> = Vec::new();
    if sweep {
        header.push("point".into());
    }
    header.extend(["metric", "A", "B", "change", "change %", "significance"].map(String::from));
    let mut rows = vec![header];
    for r in &report.rows {
        let mut cells = Vec::new();
        if sweep {
            cells.push(r.point.join(" "));
        }
        cells.push(r.metric.clone());
        cells.extend(row_cells(r));
        rows.push(cells);
    }
    let mut out = String::new();
    let _ = writeln!(out, "A: {}\nB: {}\n", report.a, report.b);
    push_columns(&mut out, &rows);
    let significant = (report.rows.iter())
        .filter(|r| r.verdict == Verdict::Significant)
        .count();
    let _ = writeln!(
        out,
        "\n{} metrics compared, {significant} significant changes at 95%",
        report.rows.len()
    );
    for (side, points) in [("A", &report.only_in_a), ("B", &report.only_in_b)] {
        for point in points {
            let _ = writeln!(out, "only in {side}: point {}", point.join(" "));
        }
    }
    out
}

/// One row's figures as the table shows them: A, B, the change, the change in percent, and the
/// verdict with its test and p-value. The HTML report shows the same cells.
pub fn row_cells(r: &DiffRow) -> [String; 5] {
    [
        number(r.a),
        number(r.b),
        signed(r.abs_change),
        r.rel_change
            .map_or_else(|| "-".to_string(), |x| format!("{:+.2}%", x * 100.0)),
        verdict(r),
    ]
}

/// The verdict, with its test and p-value when there was one.
fn verdict(r: &DiffRow) -> String {
    match (r.test, r.p_value) {
        (Some(kind), Some(p)) => {
            let kind = match kind {
                TestKind::Paired => "paired",
                TestKind::Welch => "Welch",
            };
            format!("{} ({kind}, p {})", r.verdict.as_str(), short_p(p))
        }
        _ => r.verdict.as_str().to_string(),
    }
}

/// A p-value to three significant digits, or `< 0.001`.
fn short_p(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".to_string()
    } else {
        format!("{p:.3}")
    }
}

/// A mean rounded to 4 decimals, or `-` for no value.
fn number(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |x| round(x, 4).to_string())
}

/// A change with its sign, rounded to 4 decimals.
fn signed(x: Option<f64>) -> String {
    x.map_or_else(
        || "-".to_string(),
        |x| {
            let rounded = round(x, 4);
            if rounded > 0.0 {
                format!("+{rounded}")
            } else if rounded == 0.0 {
                "0".to_string()
            } else {
                rounded.to_string()
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_shows_both_means_the_change_and_the_verdict() {
        let report = DiffReport {
            a: "a".into(),
            b: "b".into(),
            parameters: Vec::new(),
            rows: vec![DiffRow {
                point: Vec::new(),
                metric: "cost.total_usd".into(),
                a: Some(0.6996),
                b: Some(0.7669),
                a_runs: 3,
                b_runs: 3,
                abs_change: Some(0.0673),
                rel_change: Some(0.0962),
                verdict: Verdict::Significant,
                test: Some(TestKind::Paired),
                p_value: Some(0.0),
            }],
            only_in_a: vec![vec!["x=1".into()]],
            only_in_b: Vec::new(),
        };
        let text = render(&report);
        let line = text
            .lines()
            .find(|l| l.starts_with("cost.total_usd"))
            .unwrap_or_else(|| panic!("{text}"));
        let cells: Vec<&str> = line.split("  ").filter(|c| !c.is_empty()).collect();
        assert_eq!(
            cells.iter().map(|c| c.trim()).collect::<Vec<_>>(),
            [
                "cost.total_usd",
                "0.6996",
                "0.7669",
                "+0.0673",
                "+9.62%",
                "significant (paired, p < 0.001)"
            ]
        );
        assert!(text.contains("1 metrics compared, 1 significant changes at 95%"));
        assert!(text.contains("only in A: point x=1"), "{text}");
    }
}
