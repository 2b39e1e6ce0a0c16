//! Trace replay: the arrivals per minute in `timeseries.csv` are the trace's own counts per
//! minute, counted here from the CSV independently; `time_scale` and `rate_scale` change them
//! as documented; a bad row is an error naming the file, the line and the column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::util::{TempDir, assert_success, capsim, repo_root, run_yaml};

/// The shipped copy of the Azure LLM inference trace 2023 (code), CC-BY 4.0.
fn azure_trace() -> PathBuf {
    repo_root().join("scenarios/traces/azure_llm_code.csv")
}

/// Requests per minute of the trace, from its first row: the date is checked to be one day, and
/// each time is counted in 100 ns ticks (its seven decimals) from the first.
fn trace_minutes(path: &Path, minute_ticks: u64) -> BTreeMap<u64, u64> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{e}"));
    let mut first: Option<u64> = None;
    let mut counts = BTreeMap::new();
    for record in reader.records() {
        let record = record.unwrap_or_else(|e| panic!("{e}"));
        let stamp = &record[0];
        assert_eq!(&stamp[..11], "2023-11-16 ", "one day: {stamp}");
        let field = |a: usize, b: usize| stamp[a..b].parse::<u64>().expect("digits");
        let ticks = ((field(11, 13) * 60 + field(14, 16)) * 60 + field(17, 19)) * 10_000_000
            + field(20, 27);
        let origin = *first.get_or_insert(ticks);
        *counts.entry((ticks - origin) / minute_ticks).or_insert(0) += 1;
    }
    counts
}

/// Requests per minute of the run, from `timeseries.csv` (`arrivals_per_s` over 60 s rows).
fn run_minutes(out: &Path) -> BTreeMap<u64, u64> {
    let mut reader =
        csv::Reader::from_path(out.join("timeseries.csv")).unwrap_or_else(|e| panic!("{e}"));
    let header = reader.headers().unwrap_or_else(|e| panic!("{e}")).clone();
    let column = header
        .iter()
        .position(|h| h == "llm.arrivals_per_s")
        .expect("an arrivals column");
    let mut counts = BTreeMap::new();
    for (minute, record) in reader.records().enumerate() {
        let record = record.unwrap_or_else(|e| panic!("{e}"));
        let per_s: f64 = record[column].parse().expect("a number");
        let count = (per_s * 60.0).round() as u64;
        if count > 0 {
            counts.insert(minute as u64, count);
        }
    }
    counts
}

/// Replays `trace` (with extra keys such as `time_scale: 2`) for `duration` at one-minute
/// resolution and returns the per-minute arrivals.
fn replay(trace: &Path, extra: &str, duration: &str) -> BTreeMap<u64, u64> {
    let dir = TempDir::new("trace-replay");
    let yaml = format!(
        "name: replay\nduration: {duration}\nresolution: 1m\n\
         node_pools:\n  p: {{machine_type: n2-standard-16, initial_size: 2}}\n\
         services:\n  llm:\n    replicas: 2\n    resources: {{requests: {{cpu: \"4\", memory: 4Gi}}}}\n\
         \x20   server: {{concurrency: 4, queue_limit: 100, cpu_per_worker: \"1\"}}\n\
         \x20   load:\n      arrivals:\n        trace: {{file: {}, time_column: TIMESTAMP, \
         tokens_columns: [ContextTokens, GeneratedTokens]{extra}}}\n\
         \x20     model: {{type: inference, tokens_per_core_second: 20000}}\n",
        trace.display()
    );
    let (output, out) = run_yaml(&dir, &yaml, &["--no-plots"]);
    assert_success(&output);
    run_minutes(&out)
}

#[test]
fn arrivals_per_minute_equal_the_traces_own_counts() {
    let expected = trace_minutes(&azure_trace(), 60 * 10_000_000);
    assert!(expected.len() > 40, "requests in most minutes of the hour");
    assert_eq!(replay(&azure_trace(), "", "1h"), expected);
}

#[test]
fn time_scale_compresses_the_minutes() {
    // Twice as fast: each simulated minute holds two minutes of the trace, exactly.
    let expected = trace_minutes(&azure_trace(), 2 * 60 * 10_000_000);
    assert_eq!(replay(&azure_trace(), ", time_scale: 2", "30m"), expected);
}

#[test]
fn rate_scale_multiplies_the_traffic() {
    let trace = trace_minutes(&azure_trace(), 60 * 10_000_000);
    let rows: u64 = trace.values().sum();
    // Three copies of every request, spread over the gap to the next: exactly three times the
    // requests, and each minute within two copies (one row's spill) either side of 3x.
    let tripled = replay(&azure_trace(), ", rate_scale: 3", "1h");
    assert_eq!(tripled.values().sum::<u64>(), 3 * rows);
    for (minute, &count) in &trace {
        let got = tripled.get(minute).copied().unwrap_or(0);
        assert!(
            got.abs_diff(3 * count) <= 2,
            "minute {minute}: {got} vs 3 x {count}"
        );
    }
    // Half the traffic by thinning: binomial, sd = sqrt(n / 4) = 47; 5 sd.
    let halved: u64 = replay(&azure_trace(), ", rate_scale: 0.5", "1h")
        .values()
        .sum();
    assert!(halved.abs_diff(rows / 2) < 235, "{halved} of {rows}");
}

#[test]
fn a_looped_trace_repeats_its_counts() {
    let trace = trace_minutes(&azure_trace(), 60 * 10_000_000);
    let rows: u64 = trace.values().sum();
    let looped = replay(&azure_trace(), ", loop: true", "3h");
    // Three periods of a little under an hour fit in three hours, and the run ends mid-fourth.
    let total: u64 = looped.values().sum();
    assert!(
        total > 3 * rows && total < 4 * rows,
        "{total} vs {rows} per pass"
    );
    assert_eq!(
        looped.get(&0),
        trace.get(&0),
        "the first minute is the trace's"
    );
}

#[test]
fn a_bad_row_names_the_file_the_line_and_the_column() {
    let dir = TempDir::new("trace-bad");
    dir.write(
        "bad.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n\
         2023-11-16 18:17:03.9799600,4808,10\n\
         2023-11-16 18:17:04.0319600,many,8\n",
    );
    let yaml = "name: bad\nduration: 1h\n\
        node_pools:\n  p: {machine_type: n2-standard-16, initial_size: 1}\n\
        services:\n  llm:\n    resources: {requests: {cpu: \"1\", memory: 1Gi}}\n\
        \x20   load:\n      arrivals:\n        trace: {file: bad.csv, time_column: TIMESTAMP, \
        tokens_columns: [ContextTokens, GeneratedTokens]}\n\
        \x20     model: {type: inference, tokens_per_core_second: 100}\n";
    let (output, _) = run_yaml(&dir, yaml, &["--no-plots"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let file = dir.path().join("bad.csv");
    assert!(
        stderr.starts_with(&format!(
            "capsim: {}: line 3: column ContextTokens: \"many\" is not a number >= 0;",
            file.display()
        )),
        "{stderr}"
    );
}

#[test]
fn replications_of_a_trace_agree_for_any_thread_count() {
    // Every run reopens the file: a sweep over rate_scale with two replications gives the same
    // tables on one thread and on three.
    let dir = TempDir::new("trace-sweep");
    let yaml = format!(
        "base: {}\nsweep:\n  grid: {{services.llm.load.arrivals.trace.rate_scale: [0.5, 1.5]}}\n  \
         replications: 2\n",
        repo_root().join("scenarios/azure-llm-trace.yaml").display()
    );
    let file = dir.write("sweep.yaml", &yaml);
    let tables = |jobs: &str| {
        let out = dir.path().join(format!("out-{jobs}"));
        let args = [
            "sweep",
            file.to_str().unwrap_or(""),
            "--out",
            out.to_str().unwrap_or(""),
            "--quiet",
            "--jobs",
            jobs,
        ];
        assert_success(&capsim(dir.path(), &args));
        ["sweep.csv", "points.csv"].map(|name| {
            std::fs::read_to_string(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
        })
    };
    let one = tables("1");
    assert_eq!(one, tables("3"));
    assert!(one[0].lines().count() == 5, "four runs: {}", one[0]);
}

#[test]
fn a_rate_series_drives_the_arrivals_and_keys_are_checked() {
    let dir = TempDir::new("trace-rates");
    // 2/s for ten minutes, 0 for ten, 6/s for the last ten (the mean step).
    dir.write("rates.csv", "time,rate\n0,2\n600,0\n1200,6\n");
    let yaml = |arrivals: &str| {
        format!(
            "name: rates\nduration: 1h\nresolution: 10m\n\
             node_pools:\n  p: {{machine_type: n2-standard-16, initial_size: 1}}\n\
             services:\n  llm:\n    resources: {{requests: {{cpu: \"1\", memory: 1Gi}}}}\n\
             \x20   server: {{concurrency: 64}}\n\
             \x20   load:\n      arrivals: {arrivals}\n      service_time: 1ms\n"
        )
    };
    let (output, out) = run_yaml(
        &dir,
        &yaml("{trace: {file: rates.csv, format: rates}}"),
        &["--no-plots"],
    );
    assert_success(&output);
    let mut reader =
        csv::Reader::from_path(out.join("timeseries.csv")).unwrap_or_else(|e| panic!("{e}"));
    let counts: Vec<f64> = reader
        .records()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("{e}"))[1]
                .parse::<f64>()
                .expect("a rate")
                * 600.0
        })
        .collect();
    // Poisson counts of means 1200, 0, 3600 (sd 35 and 60; 5 sd), then nothing.
    assert!((counts[0] - 1_200.0).abs() < 175.0, "{counts:?}");
    assert_eq!(counts[1], 0.0, "{counts:?}");
    assert!((counts[2] - 3_600.0).abs() < 300.0, "{counts:?}");
    assert!(counts[3..].iter().all(|&c| c == 0.0), "{counts:?}");
    // Keys that do not go together are refused, each naming its YAML path.
    for (arrivals, message) in [
        (
            "{rate: 5, trace: {file: rates.csv, format: rates}}",
            "services.llm.load.arrivals.rate: both rate and trace are given;",
        ),
        (
            "{trace: {file: rates.csv, format: rates, tokens_columns: [rate]}}",
            "services.llm.load.arrivals.trace.tokens_columns: a rate series has no per-request tokens;",
        ),
        (
            "{trace: {file: missing.csv, time_column: t}}",
            "services.llm.load.arrivals.trace.file: \"",
        ),
        (
            "{trace: {file: rates.csv, time_column: when}}",
            "no column \"when\"; expected one of the header's columns: time, rate",
        ),
    ] {
        let (output, _) = run_yaml(&dir, &yaml(arrivals), &["--no-plots"]);
        assert_eq!(output.status.code(), Some(2), "{arrivals}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{arrivals}: {stderr}");
    }
}

#[test]
fn a_service_time_column_sets_each_requests_work_even_when_it_waits() {
    // One worker. Two requests at 0 s (1 s and 3 s of work) and one at 10 s (0.5 s): the
    // second waits for the first and keeps its own 3 s, so latencies are 1, 4 and 0.5 s.
    let dir = TempDir::new("trace-work");
    dir.write("work.csv", "t,seconds\n0,1\n0,3\n10,0.5\n");
    let yaml = "name: work\nduration: 1m\n\
        node_pools:\n  p: {machine_type: n2-standard-16, initial_size: 1}\n\
        services:\n  api:\n    resources: {requests: {cpu: \"1\", memory: 1Gi}}\n\
        \x20   server: {concurrency: 1}\n\
        \x20   load:\n      arrivals:\n        trace: {file: work.csv, time_column: t, \
        service_time_column: seconds}\n";
    let (output, out) = run_yaml(&dir, yaml, &["--no-plots"]);
    assert_success(&output);
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("summary.json")).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let api = &summary["services"]["api"];
    assert_eq!(api["requests"]["completed"], 3, "{api}");
    let mean_ms = api["latency_ms"]["mean"].as_f64().expect("a mean");
    assert!((mean_ms - 5_500.0 / 3.0).abs() < 0.01, "{mean_ms}");
    let max_ms = api["latency_ms"]["max"].as_f64().expect("a max");
    assert!((max_ms - 4_000.0).abs() < 0.01, "{max_ms}");
}

#[test]
fn trace_keys_that_cannot_work_together_are_refused() {
    let dir = TempDir::new("trace-keys");
    dir.write("one.csv", "t,tokens,seconds\n0,10,0.5\n");
    let yaml = |trace: &str, cost: &str| {
        format!(
            "name: keys\nduration: 1h\n\
             node_pools:\n  p: {{machine_type: n2-standard-16, initial_size: 1}}\n\
             services:\n  api:\n    resources: {{requests: {{cpu: \"1\", memory: 1Gi}}}}\n\
             \x20   load:\n      arrivals:\n        trace: {{file: one.csv, time_column: t{trace}}}\n\
             \x20     {cost}\n"
        )
    };
    let inference = "model: {type: inference, tokens_per_core_second: 100}";
    for (trace, cost, message) in [
        (
            ", rate_scale: 2000",
            "service_time: 1ms",
            "trace.rate_scale: \"2000\" is more than 1000;",
        ),
        (
            ", loop: true",
            "service_time: 1ms",
            "trace.file: the trace's rows are all at one instant;",
        ),
        (
            ", tokens_columns: [tokens]",
            "model: {type: inference, tokens: 5, tokens_per_core_second: 100}",
            "model.tokens: tokens are given both here and by the trace's tokens_columns;",
        ),
        (
            ", tokens_columns: [tokens]",
            "service_time: 1ms",
            "load.service_time: tokens_columns need the inference model;",
        ),
        (
            ", service_time_column: seconds",
            inference,
            "load: service_time_column and a service_time or model are given;",
        ),
        (
            ", tokens_columns: [tokens], service_time_column: seconds",
            inference,
            "trace.service_time_column: both tokens_columns and service_time_column are given;",
        ),
        (
            ", format: poisson",
            "service_time: 1ms",
            "trace.format: unknown trace format \"poisson\"",
        ),
    ] {
        let (output, _) = run_yaml(&dir, &yaml(trace, cost), &["--no-plots"]);
        assert_eq!(output.status.code(), Some(2), "{trace} {cost}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{trace} {cost}: {stderr}");
    }
    // Without them, the same file replays.
    let (output, _) = run_yaml(
        &dir,
        &yaml(", tokens_columns: [tokens]", inference),
        &["--no-plots"],
    );
    assert_success(&output);
}

/// A trace that is not a regular file (a device read forever, a FIFO that blocks) is refused at
/// once, naming the key, for request traces and pod traces alike.
#[test]
fn traces_must_be_regular_files() {
    let dir = TempDir::new("trace-devices");
    let requests = "name: dev\nduration: 1h\n\
                    node_pools:\n  p: {machine_type: n2-standard-16, initial_size: 1}\n\
                    services:\n  api:\n    resources: {requests: {cpu: \"1\", memory: 1Gi}}\n\
                    \x20   load:\n      arrivals:\n        trace: {file: /dev/zero, time_column: t}\n\
                    \x20     service_time: 1ms\n";
    let pods = "name: dev\nduration: 1h\n\
                node_pools:\n  p: {machine_type: n2-standard-16, initial_size: 1}\n\
                jobs:\n  batch: {trace: {file: /dev/zero}}\n";
    for (name, yaml, key) in [
        (
            "requests.yaml",
            requests,
            "services.api.load.arrivals.trace.file",
        ),
        ("pods.yaml", pods, "jobs.batch.trace"),
    ] {
        let file = dir.write(name, yaml);
        let output = capsim(dir.path(), &["validate", file.to_str().unwrap_or("")]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(key), "{key} in {stderr}");
        assert!(stderr.contains("not a regular file"), "{stderr}");
    }
}
