//! The verdict of a check as text: a table for the terminal and JUnit XML for CI.

use std::fmt::Write as _;

use crate::check::{CheckReport, CheckRow, RowKind};

/// The verdict as a text table.
pub fn render(report: &CheckReport) -> String {
    let mut rows = vec![[
        "check".to_string(),
        "expected".to_string(),
        "actual".to_string(),
        "result".to_string(),
    ]];
    for r in &report.rows {
        let name = match r.kind {
            RowKind::Assertion => r.name.clone(),
            RowKind::Baseline => format!("baseline {}", r.name),
        };
        let result = if r.pass { "pass" } else { "FAIL" };
        rows.push([
            name,
            r.expected.clone(),
            r.actual.clone(),
            result.to_string(),
        ]);
    }
    let widths: Vec<usize> = (0..4)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let line = format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\n{}: {} checks, {} failed ({} replication{})",
        report.scenario,
        report.rows.len(),
        report.failures(),
        report.replications,
        if report.replications == 1 { "" } else { "s" }
    );
    out
}

/// The verdict as JUnit XML: one test case per row, grouped in a suite per kind.
pub fn junit(report: &CheckReport) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"capsim check {}\" tests=\"{}\" failures=\"{}\">",
        xml(&report.scenario),
        report.rows.len(),
        report.failures()
    );
    for (kind, suite) in [
        (RowKind::Assertion, "expect"),
        (RowKind::Baseline, "baseline"),
    ] {
        let rows: Vec<&CheckRow> = report.rows.iter().filter(|r| r.kind == kind).collect();
        if rows.is_empty() {
            continue;
        }
        let failures = rows.iter().filter(|r| !r.pass).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}.{suite}\" tests=\"{}\" failures=\"{failures}\">",
            xml(&report.scenario),
            rows.len()
        );
        for r in rows {
            let _ = write!(
                out,
                "    <testcase classname=\"{}.{suite}\" name=\"{}\"",
                xml(&report.scenario),
                xml(&r.name)
            );
            if r.pass {
                out.push_str("/>\n");
            } else {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"expected {}, got {}\"/>\n    </testcase>",
                    xml(&r.expected),
                    xml(&r.actual)
                );
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Text escaped for an XML attribute.
fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> CheckReport {
        CheckReport {
            scenario: "s".into(),
            replications: 1,
            rows: vec![
                CheckRow {
                    kind: RowKind::Assertion,
                    name: "services.web.latency_ms.p99 <= 250".into(),
                    expected: "<= 250".into(),
                    actual: "312.5".into(),
                    pass: false,
                },
                CheckRow {
                    kind: RowKind::Baseline,
                    name: "cost.total_usd".into(),
                    expected: "4 ± 5%".into(),
                    actual: "4.1".into(),
                    pass: true,
                },
            ],
        }
    }

    #[test]
    fn junit_escapes_and_counts() {
        let xml = junit(&report());
        assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
        assert!(
            xml.contains("name=\"services.web.latency_ms.p99 &lt;= 250\""),
            "{xml}"
        );
        assert!(
            xml.contains("<failure message=\"expected &lt;= 250, got 312.5\"/>"),
            "{xml}"
        );
        assert!(xml.contains("<testcase classname=\"s.baseline\" name=\"cost.total_usd\"/>"));
        assert_eq!(xml.matches("<testsuite ").count(), 2);
        assert_eq!(xml.matches("</testsuite>").count(), 2);
    }

    #[test]
    fn table_lists_every_row_and_the_verdict() {
        let text = render(&report());
        assert!(text.contains("FAIL") && text.contains("pass"), "{text}");
        assert!(text.contains("2 checks, 1 failed"), "{text}");
        assert!(!report().passed());
    }
}
