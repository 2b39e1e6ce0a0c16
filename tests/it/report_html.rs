//! `capsim report` and the report.html that `run` and `sweep` write: one chart per `<svg>`,
//! tables as long as the files say, nothing fetched, the same bytes for the same run, and bad
//! folders refused in one line.

use std::fs;
use std::path::Path;

use crate::util::{TempDir, assert_success, capsim, repo_root};

/// The rows of the body of the table with `id`, as the page holds it.
fn table_rows(html: &str, id: &str) -> usize {
    let start = html
        .find(&format!("<table class=\"sortable\" id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no table {id}"));
    let table = &html[start..];
    let table = &table[..table.find("</table>").expect("the table is closed")];
    table.matches("<tr>").count() - 1
}

/// Every `src=` and `href=` value that is not a fragment of the page itself.
fn external_references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attr in ["src=", "href="] {
        for (i, _) in html.match_indices(attr) {
            let value = html[i + attr.len()..]
                .trim_start_matches(['"', '\''])
                .split(['"', '\'', ' ', '>'])
                .next()
                .unwrap_or("")
                .to_string();
            if !value.starts_with('#') {
                found.push(value);
            }
        }
    }
    found
}

fn svg_files(dir: &Path) -> usize {
    fs::read_dir(dir.join("plots"))
        .expect("the plots folder exists")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "svg"))
        })
        .count()
}

fn run_into(out: &Path, extra: &[&str]) {
    let mut args = vec![
        "run",
        "--duration",
        "10m",
        "--quiet",
        "--out",
        out.to_str().unwrap_or(""),
    ];
    args.extend_from_slice(extra);
    assert_success(&capsim(repo_root(), &args));
}

#[test]
fn a_run_writes_a_self_contained_report_with_its_charts_and_tables() {
    let dir = TempDir::new("report-run");
    let out = dir.path().join("run");
    run_into(&out, &[]);
    let html = fs::read_to_string(out.join("report.html")).expect("run writes report.html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(
        html.matches("<svg").count(),
        svg_files(&out),
        "one <svg> per chart"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap_or_default())
            .expect("summary.json is JSON");
    let count = |key: &str| summary[key].as_object().map_or(0, |o| o.len());
    assert_eq!(table_rows(&html, "services"), count("services"));
    assert_eq!(table_rows(&html, "pools"), count("node_pools"));
    assert_eq!(external_references(&html), Vec::<String>::new());
    // The reference scenario's HPA and pools, in words.
    assert!(
        html.contains("2 to 10 replicas on cpu_utilization_pct 70"),
        "HPA"
    );
    assert!(html.contains("<td>n2-highmem-8</td>"), "machine types");
    assert!(html.contains("id=\"timeline\""), "the decisions");
    assert!(html.contains("HpaConditions") || html.contains("HpaRescale"));

    // `capsim report` makes the same page from the files, and the same run the same bytes.
    let again = dir.path().join("again.html");
    let output = capsim(
        repo_root(),
        &[
            "report",
            out.to_str().unwrap_or(""),
            "--out",
            again.to_str().unwrap_or(""),
        ],
    );
    assert_success(&output);
    assert_eq!(fs::read_to_string(&again).unwrap_or_default(), html);
    let twin = dir.path().join("twin");
    run_into(&twin, &[]);
    assert_eq!(
        fs::read_to_string(twin.join("report.html")).unwrap_or_default(),
        html,
        "the same scenario and seed give the same report"
    );

    // Two folders, one after the other, each labelled.
    let output = capsim(
        repo_root(),
        &[
            "report",
            out.to_str().unwrap_or(""),
            twin.to_str().unwrap_or(""),
            "--out",
            again.to_str().unwrap_or(""),
        ],
    );
    assert_success(&output);
    let both = fs::read_to_string(&again).unwrap_or_default();
    assert!(both.contains(&format!("<h2>A: {}</h2>", out.display())));
    assert!(both.contains(&format!("<h2>B: {}</h2>", twin.display())));
    assert_eq!(both.matches("<svg").count(), 2 * svg_files(&out));
    assert!(both.contains("id=\"a-summary\"") && both.contains("id=\"b-summary\""));
    // And compared metric by metric as `capsim diff` does: a run against its twin changes
    // nothing, and says so.
    let diff = capsim(
        repo_root(),
        &[
            "diff",
            out.to_str().unwrap_or(""),
            twin.to_str().unwrap_or(""),
            "--json",
        ],
    );
    assert_success(&diff);
    let diff: serde_json::Value = serde_json::from_slice(&diff.stdout).expect("diff --json");
    let metrics = diff["rows"].as_array().map_or(0, Vec::len);
    assert!(metrics > 5, "planner metrics compared: {metrics}");
    assert_eq!(table_rows(&both, "comparison"), metrics);
    let comparison = &both[both.find("id=\"comparison\"").unwrap_or(0)..];
    let comparison = &comparison[..comparison.find("</table>").unwrap_or(0)];
    for row in comparison.split("<tr><td>").skip(1) {
        let cells: Vec<&str> = row.split("</td>").collect();
        let change = cells[3].rsplit('>').next().unwrap_or("");
        assert!(
            change == "0" || change == "-",
            "a change between twins: {row}"
        );
        assert!(
            cells[5].contains("not significant") || change == "-",
            "{row}"
        );
    }

    // --no-report leaves no report of the earlier run behind.
    run_into(&out, &["--no-report", "--seed", "7"]);
    assert!(out.join("summary.json").is_file());
    assert!(!out.join("report.html").exists());
}

#[test]
fn a_sweep_report_has_its_charts_and_a_row_per_point() {
    let dir = TempDir::new("report-sweep");
    let out = dir.path().join("sweep");
    let output = capsim(
        repo_root(),
        &[
            "sweep",
            "scenarios/mmc.yaml",
            "--duration",
            "15m",
            "--param",
            "services.queue.server.concurrency=8,9,10",
            "--param",
            "services.queue.replicas=1,2",
            "--quiet",
            "--out",
            out.to_str().unwrap_or(""),
        ],
    );
    assert_success(&output);
    let html = fs::read_to_string(out.join("report.html")).expect("sweep writes report.html");
    assert_eq!(
        html.matches("<svg").count(),
        svg_files(&out),
        "one <svg> per chart"
    );
    let points = fs::read_to_string(out.join("points.csv")).unwrap_or_default();
    assert_eq!(table_rows(&html, "points"), points.lines().count() - 1);
    assert_eq!(table_rows(&html, "points"), 6);
    assert!(
        html.contains("id=\"heatmaps\""),
        "two parameters give heat maps"
    );
    assert_eq!(external_references(&html), Vec::<String>::new());

    let output = capsim(
        repo_root(),
        &[
            "sweep",
            "scenarios/mmc.yaml",
            "--duration",
            "15m",
            "--param",
            "services.queue.replicas=1,2",
            "--quiet",
            "--no-report",
            "--out",
            out.to_str().unwrap_or(""),
        ],
    );
    assert_success(&output);
    assert!(!out.join("report.html").exists(), "no stale report");
}

#[test]
fn a_folder_that_is_neither_is_refused_in_one_line() {
    let dir = TempDir::new("report-bad");
    let output = capsim(repo_root(), &["report", dir.path().to_str().unwrap_or("")]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "capsim: {}: not a run folder",
            dir.path().display()
        )),
        "{stderr}"
    );

    // A run folder with a broken events.jsonl names the file and the line.
    let out = dir.path().join("run");
    run_into(&out, &["--no-report"]);
    fs::write(out.join("events.jsonl"), "{\"time_s\": 1}\n").expect("writable");
    let output = capsim(repo_root(), &["report", out.to_str().unwrap_or("")]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("events.jsonl: line 1: not a capsim event"),
        "{stderr}"
    );
    assert!(!out.join("report.html").exists());
}
