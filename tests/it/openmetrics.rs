//! `capsim run --openmetrics`: the time series in OpenMetrics text, read back with a real
//! OpenMetrics parser, sample for sample against `timeseries.csv`; and the Grafana dashboard of
//! `examples/grafana/` asks only for metrics the file holds.
//!
//! The `openmetrics-parser` crate reads a scrape: one point per series. A backfill file holds
//! many points per series (one per interval, as `promtool tsdb create-blocks-from openmetrics`
//! reads them), so the file is parsed one instant at a time: every family's metadata with the
//! samples stamped that instant. That every series' timestamps increase, which OpenMetrics asks
//! of a series with several points, is asserted here directly.

use std::collections::BTreeSet;

use openmetrics_parser::openmetrics::parse_openmetrics;
use openmetrics_parser::{MetricFamily, MetricsExposition, OpenMetricsType, OpenMetricsValue};

use crate::util::{TempDir, assert_success, capsim, repo_root};

/// 2026-11-30T00:00:00Z.
const START_UNIX_S: f64 = 1_795_996_800.0;

/// The reference scenario for ten simulated minutes, with the OpenMetrics export: the file's
/// text and `timeseries.csv`'s.
fn export(dir: &TempDir) -> (String, String) {
    let out = dir.path().join("out");
    let file = dir.path().join("run.om");
    let output = capsim(
        repo_root(),
        &[
            "run",
            "--duration",
            "10m",
            "--quiet",
            "--no-plots",
            "--out",
            out.to_str().unwrap_or(""),
            "--openmetrics",
            file.to_str().unwrap_or(""),
            "--openmetrics-start",
            "2026-11-30T00:00:00Z",
        ],
    );
    assert_success(&output);
    let text = std::fs::read_to_string(&file).expect("the OpenMetrics file is written");
    let csv = std::fs::read_to_string(out.join("timeseries.csv")).expect("timeseries.csv");
    (text, csv)
}

/// The file parsed one instant at a time, with every series' timestamps checked to increase.
fn parse(text: &str) -> Vec<MetricsExposition<OpenMetricsType, OpenMetricsValue>> {
    assert!(text.ends_with("# EOF\n"), "the file ends with # EOF");
    let mut families: Vec<(Vec<&str>, Vec<&str>)> = Vec::new();
    for line in text.lines().filter(|l| *l != "# EOF") {
        if line.starts_with("# TYPE ") {
            families.push((vec![line], Vec::new()));
        } else if let Some(family) = families.last_mut() {
            if line.starts_with('#') {
                family.0.push(line);
            } else {
                family.1.push(line);
            }
        } else {
            panic!("a sample before any # TYPE: {line}");
        }
    }
    let stamp = |line: &str| -> f64 {
        let (_, t) = line.rsplit_once(' ').expect("value and timestamp");
        t.parse().expect("a timestamp")
    };
    let mut last: std::collections::HashMap<&str, f64> = std::collections::HashMap::new();
    let mut instants: BTreeSet<u64> = BTreeSet::new();
    for (_, samples) in &families {
        for line in samples {
            let (series, _) = line
                .rsplit_once(' ')
                .and_then(|(h, _)| h.rsplit_once(' '))
                .expect("a sample");
            let t = stamp(line);
            if let Some(previous) = last.insert(series, t) {
                assert!(t > previous, "timestamps of {series} must increase");
            }
            instants.insert(t.to_bits());
        }
    }
    instants
        .into_iter()
        .map(|bits| {
            let t = f64::from_bits(bits);
            let mut one = String::new();
            for (metadata, samples) in &families {
                for line in metadata
                    .iter()
                    .chain(samples.iter().filter(|l| stamp(l) == t))
                {
                    one.push_str(line);
                    one.push('\n');
                }
            }
            one.push_str("# EOF\n");
            parse_openmetrics(&one).unwrap_or_else(|e| panic!("at {t}: {e:?}\n{one}"))
        })
        .collect()
}

fn value(sample: &OpenMetricsValue) -> f64 {
    match sample {
        OpenMetricsValue::Gauge(n) | OpenMetricsValue::Unknown(n) => n.as_f64(),
        OpenMetricsValue::Counter(c) => c.value.as_f64(),
        other => panic!("capsim writes gauges and counters only, found {other:?}"),
    }
}

fn labels(
    family: &MetricFamily<OpenMetricsType, OpenMetricsValue>,
    sample: &openmetrics_parser::Sample<OpenMetricsValue>,
) -> Vec<(String, String)> {
    let set = sample.get_labelset().expect("a label set");
    assert_eq!(set.iter().count(), family.get_label_names().len());
    set.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

#[test]
fn the_export_parses_and_holds_every_cell_of_the_time_series() {
    let dir = TempDir::new("openmetrics");
    let (text, csv) = export(&dir);
    let instants = parse(&text);

    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let cells = rows
        .iter()
        .flat_map(|r| r[1..].iter())
        .filter(|c| !c.is_empty())
        .count();
    let samples: usize = (instants.iter())
        .flat_map(|e| e.families.values())
        .map(|f| f.iter_samples().count())
        .sum();
    assert_eq!(samples, cells, "one sample per non-empty cell");

    // One series read back against its column: values and timestamps.
    let column = header
        .iter()
        .position(|c| *c == "vector-store.latency_p99_ms")
        .expect("the column");
    let vector_store = ("service".to_string(), "vector-store".to_string());
    let mut series: Vec<(f64, f64)> = Vec::new();
    for exposition in &instants {
        let p99 = &exposition.families["capsim_service_latency_p99_ms"];
        for sample in p99.iter_samples() {
            let labels = labels(p99, sample);
            assert!(labels.contains(&("scenario".into(), "ai-infra".into())));
            assert!(labels.contains(&("seed".into(), "42".into())));
            if labels.contains(&vector_store) {
                let t = sample.timestamp.expect("a timestamp");
                series.push((t, value(&sample.value)));
            }
        }
    }
    let expected: Vec<(f64, f64)> = rows
        .iter()
        .filter(|r| !r[column].is_empty())
        .map(|r| {
            let t: f64 = r[0].parse().expect("time");
            (START_UNIX_S + t, r[column].parse().expect("value"))
        })
        .collect();
    assert!(!series.is_empty());
    assert_eq!(series, expected);

    // The cumulative cost is a counter, and never goes down.
    let costs: Vec<f64> = (instants.iter())
        .flat_map(|e| {
            let cost = &e.families["capsim_cost_usd"];
            assert_eq!(cost.family_type, OpenMetricsType::Counter);
            cost.iter_samples().map(|s| value(&s.value))
        })
        .collect();
    assert_eq!(costs.len(), rows.len());
    assert!(costs.windows(2).all(|w| w[0] <= w[1]), "{costs:?}");
}

#[test]
fn the_grafana_dashboard_asks_only_for_exported_metrics() {
    let dir = TempDir::new("openmetrics-dashboard");
    let (text, _) = export(&dir);
    let instants = parse(&text);
    let exposition = instants.first().expect("at least one instant");
    let mut exported: BTreeSet<String> = BTreeSet::new();
    for (name, family) in &exposition.families {
        if family.family_type == OpenMetricsType::Counter {
            exported.insert(format!("{name}_total"));
        } else {
            exported.insert(name.clone());
        }
    }
    let path = repo_root().join("examples/grafana/capsim-run.json");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("the dashboard"))
            .expect("the dashboard is JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    let mut asked = BTreeSet::new();
    for panel in panels {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().expect("a PromQL expression");
            let mut rest = expr;
            while let Some(at) = rest.find("capsim_") {
                let name: String = rest[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                rest = &rest[at + name.len()..];
                asked.insert(name);
            }
        }
    }
    assert!(
        asked.len() >= 6,
        "the dashboard draws the run chart's panels: {asked:?}"
    );
    let missing: Vec<&String> = asked.difference(&exported).collect();
    assert!(
        missing.is_empty(),
        "asked for but not exported: {missing:?}"
    );
}

#[test]
fn a_bad_start_time_is_refused_before_the_run() {
    let dir = TempDir::new("openmetrics-bad");
    let out = dir.path().join("out");
    let output = capsim(
        repo_root(),
        &[
            "run",
            "--duration",
            "10m",
            "--out",
            out.to_str().unwrap_or(""),
            "--openmetrics",
            dir.path().join("run.om").to_str().unwrap_or(""),
            "--openmetrics-start",
            "yesterday",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--openmetrics-start"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!out.exists(), "nothing ran");
}
