//! A service that served nothing: its statistics over no requests are absent (null in
//! `summary.json`, `-` in the terminal, empty cells in the CSV files), never a 0 that would pass
//! a latency gate.

use std::fs;
use std::path::Path;

use capsim::report::sweep_files::PointsTable;
use capsim::report::timeseries::TimeSeries;

use crate::util::{TempDir, assert_success, capsim};

/// One node, and a service that may be scaled to no pod at all.
const SCENARIO: &str = r#"
name: nothing-served
seed: 3
duration: 10m
warmup: 1m
node_pools:
  big: {machine_type: {cpu: 16, memory: 64Gi, price_per_hour: 1.0}, initial_size: 1}
services:
  queue:
    replicas: 1
    resources: {requests: {cpu: "2", memory: 1Gi}}
    server: {concurrency: 4}
    load:
      arrivals: {rate: 50}
      service_time: {distribution: exponential, mean: 10ms}
"#;

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

#[test]
fn a_service_with_no_pod_has_no_latency_anywhere() {
    let dir = TempDir::new("nothing-served");
    let file = dir.write("scenario.yaml", SCENARIO);
    let out = dir.path().join("out");
    let output = capsim(
        dir.path(),
        &[
            "run",
            file.to_str().unwrap_or(""),
            "--set",
            "services.queue.replicas=0",
            "--out",
            out.to_str().unwrap_or(""),
        ],
    );
    assert_success(&output);

    let summary: serde_json::Value =
        serde_json::from_str(&read(&out, "summary.json")).expect("summary.json is JSON");
    let queue = &summary["services"]["queue"];
    assert_eq!(queue["requests"]["completed"].as_u64(), Some(0));
    assert!(queue["requests"]["rejected_no_ready_pod"].as_u64() > Some(0));
    for q in ["mean", "p50", "p90", "p95", "p99", "max"] {
        assert!(queue["latency_ms"][q].is_null(), "latency_ms.{q}: {queue}");
    }
    for q in ["mean", "p50", "p99"] {
        assert!(queue["wait_ms"][q].is_null(), "wait_ms.{q}: {queue}");
    }
    assert!(queue["cpu"]["utilization_of_requests"].is_null(), "{queue}");
    assert!(queue["cpu"]["throttled_fraction"].is_null(), "{queue}");
    // A rate over a measured window is a number, 0 here.
    assert_eq!(queue["throughput_per_s"].as_f64(), Some(0.0));

    // The terminal: every latency column of the service's row is "-".
    let stdout = String::from_utf8_lossy(&output.stdout);
    let row = (stdout.lines())
        .find(|l| l.starts_with("queue "))
        .unwrap_or_else(|| panic!("no queue row in {stdout}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cells[5..10], ["-"; 5], "{row}");
    assert_eq!(cells.last(), Some(&"-"), "cpu used/req: {row}");

    // timeseries.csv: empty latency cells, which the reader (the one the charts use) reads as
    // missing; and the chart is drawn from them.
    let series = TimeSeries::read(&out.join("timeseries.csv")).unwrap_or_else(|e| panic!("{e}"));
    assert!(!series.rows.is_empty());
    for row in &series.rows {
        let queue = &row.services[0];
        assert_eq!((queue.latency_p50_ms, queue.latency_p99_ms), (None, None));
    }
    let text = read(&out, "timeseries.csv");
    let header: Vec<&str> = text.lines().next().unwrap_or("").split(',').collect();
    let p99 = (header.iter().position(|&c| c == "queue.latency_p99_ms"))
        .unwrap_or_else(|| panic!("no p99 column in {header:?}"));
    for line in text.lines().skip(1) {
        assert_eq!(line.split(',').nth(p99), Some(""), "{line}");
    }
    assert!(
        out.join("plots")
            .read_dir()
            .is_ok_and(|mut d| d.next().is_some())
    );
    assert_success(&capsim(dir.path(), &["plot", out.to_str().unwrap_or("")]));
}

#[test]
fn a_sweep_with_a_point_that_serves_nothing_writes_aligned_tables() {
    let dir = TempDir::new("nothing-served-sweep");
    let yaml = format!(
        "{SCENARIO}sweep:\n  grid:\n    services.queue.replicas: [0, 1]\n  replications: 2\n"
    );
    let file = dir.write("sweep.yaml", &yaml);
    let out = dir.path().join("out");
    let args = ["sweep", file.to_str().unwrap_or(""), "--out"];
    let mut args = args.to_vec();
    args.extend([out.to_str().unwrap_or(""), "--quiet", "--jobs", "2"]);
    assert_success(&capsim(dir.path(), &args));

    let runs = read(&out, "sweep.csv");
    let lines: Vec<Vec<&str>> = runs.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(lines.len(), 1 + 4);
    assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{runs}");
    let p99 = (lines[0]
        .iter()
        .position(|&c| c == "services.queue.latency_ms.p99"))
    .unwrap_or_else(|| panic!("no p99 column in {}", lines[0].join(",")));
    // Runs 0 and 1 are replicas 0: no value; runs 2 and 3 served.
    let cells: Vec<&str> = lines[1..].iter().map(|l| l[p99]).collect();
    assert_eq!(&cells[..2], ["", ""], "{runs}");
    assert!(
        cells[2..]
            .iter()
            .all(|c| c.parse::<f64>().is_ok_and(|v| v > 0.0)),
        "{runs}"
    );

    let points = PointsTable::read(&out.join("points.csv")).unwrap_or_else(|e| panic!("{e}"));
    let p99 = (points
        .metrics
        .iter()
        .position(|m| m == "services.queue.latency_ms.p99"))
    .unwrap_or_else(|| panic!("no p99 in {:?}", points.metrics));
    assert_eq!(points.rows[0].metrics[p99], None, "no replication served");
    assert!(points.rows[1].metrics[p99].is_some_and(|i| i.mean > 0.0));
}
