//! `capsim validate` agrees with the run: what validates runs and writes whole outputs, and
//! what a run or sweep would refuse, validate refuses first, with the same message.

use std::fs;

use crate::util::{TempDir, assert_success, capsim, run_yaml};

const HEAD: &str = r#"
name: agrees
duration: 2m
node_pools:
  s:
    machine_type: {cpu: 8, memory: 32Gi, price_per_hour: 1.0}
    initial_size: 1
services:
  a:
    replicas: 1
    resources: {requests: {cpu: "1", memory: 1Gi}}
    load: {arrivals: {rate: 50}, service_time: {distribution: exponential, mean: 20ms}}
"#;

/// `capsim validate` on `yaml`: its exit code and standard error.
fn validate(dir: &TempDir, yaml: &str) -> (Option<i32>, String) {
    let file = dir.write("v.yaml", yaml);
    let output = capsim(dir.path(), &["validate", file.to_str().unwrap_or("")]);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    (output.status.code(), stderr)
}

#[test]
fn a_metric_given_twice_runs_with_one_column_and_draws_its_charts() {
    // Kubernetes' API server accepts the same metric twice and the HPA acts on the larger
    // proposal: the run must too, with one time-series column for the one measured value.
    let yaml = format!(
        "{HEAD}autoscaling:\n  hpa:\n    a:\n      maxReplicas: 5\n      metrics:\n\
         \x20       - {{type: Resource, resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 70}}}}}}\n\
         \x20       - {{type: Resource, resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 50}}}}}}\n"
    );
    let dir = TempDir::new("dup-metric");
    let (output, out) = run_yaml(&dir, &yaml, &["--quiet"]);
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("warning"), "{stderr}");
    let csv = fs::read_to_string(out.join("timeseries.csv")).expect("timeseries.csv");
    let header: Vec<&str> = csv.lines().next().unwrap_or("").split(',').collect();
    let hpa: Vec<&&str> = header.iter().filter(|c| c.contains(".hpa.")).collect();
    assert_eq!(hpa, [&"a.hpa.cpu_utilization_pct"], "{header:?}");
    // The column holds values, not the NaN of a slot nothing writes.
    let column = header.iter().position(|c| c.contains(".hpa.")).unwrap_or(0);
    let measured = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(column))
        .filter(|v| v.parse::<f64>().is_ok_and(f64::is_finite))
        .count();
    assert!(measured > 0, "{csv}");
    assert!(out.join("plots/timeseries.png").exists());
    assert!(out.join("report.html").exists());
}

#[test]
fn validate_refuses_a_grid_value_the_sweep_would_refuse() {
    // A full-width digit is not a count: the sweep refuses the point, so validate must too,
    // naming the path and the value; a good grid still validates.
    let dir = TempDir::new("grid-value");
    let good = format!("{HEAD}sweep:\n  grid:\n    services.a.replicas: [1, 5]\n");
    assert_eq!(validate(&dir, &good).0, Some(0));
    for sweep in [
        "  grid:\n    services.a.replicas: [1, ５]\n",
        "  zip:\n    - {services.a.replicas: [1, ５], seed: [1, 2]}\n",
    ] {
        let (code, stderr) = validate(&dir, &format!("{HEAD}sweep:\n{sweep}"));
        assert_eq!(code, Some(2), "{sweep}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("sweep services.a.replicas=５") && stderr.contains("\"５\" is not"),
            "{stderr}"
        );
    }
}

#[test]
fn a_price_that_overflows_the_run_cost_is_refused() {
    let dir = TempDir::new("price");
    for (price, needle) in [
        (
            "price_per_hour: 1e308",
            "price_per_hour: \"1e308\" is out of range",
        ),
        (
            "price_per_hour: 1.0, spot_price_per_hour: 2e6",
            "spot_price_per_hour: \"2000000.0\" is out of range",
        ),
    ] {
        let yaml = HEAD.replace("price_per_hour: 1.0", price);
        let (code, stderr) = validate(&dir, &yaml);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
        assert!(stderr.contains("1e6"), "{stderr}");
    }
    // Every price in range, but more nodes and hours than a cost can be summed over.
    let yaml = HEAD
        .replace("price_per_hour: 1.0", "price_per_hour: 1000000")
        .replace(
            "initial_size: 1",
            "initial_size: 1\n    autoscaling: {max_nodes: 1000000}",
        )
        .replace("duration: 2m", "duration: 8760h");
    let (code, stderr) = validate(&dir, &yaml);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("node_pools: the pools could cost 8.760e15 USD"),
        "{stderr}"
    );
    // The dearest price allowed runs and sums to a finite cost.
    let yaml = HEAD.replace("price_per_hour: 1.0", "price_per_hour: 1e6");
    let (output, out) = run_yaml(&dir, &yaml, &["--quiet", "--no-plots"]);
    assert_success(&output);
    let summary = fs::read_to_string(out.join("summary.json")).expect("summary.json");
    assert!(
        summary.contains("\"total_usd\": 33333.3333"),
        "a node-hour at 1e6 USD for 2 minutes: {summary}"
    );
    let csv = fs::read_to_string(out.join("timeseries.csv")).expect("timeseries.csv");
    assert!(!csv.contains("inf") && !csv.contains("NaN"), "{csv}");
}

#[test]
fn a_whole_number_written_as_a_decimal_is_refused_quoted_or_not() {
    let dir = TempDir::new("whole");
    for replicas in [
        "1.0000000000000000001",
        "\"1.0000000000000000001\"",
        "1.0",
        "1e0",
    ] {
        let yaml = HEAD.replace("replicas: 1", &format!("replicas: {replicas}"));
        let (code, stderr) = validate(&dir, &yaml);
        assert_eq!(code, Some(2), "{replicas}: {stderr}");
        assert!(
            stderr.contains("services.a.replicas: \"1") && stderr.contains("is not a valid count"),
            "{stderr}"
        );
    }
    let yaml = HEAD.replace("initial_size: 1", "initial_size: 1.0");
    let (code, stderr) = validate(&dir, &yaml);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("initial_size: \"1.0\""), "{stderr}");
}

#[test]
fn a_service_whose_only_pool_never_has_a_node_is_warned_of() {
    let dir = TempDir::new("never-up");
    let cases = [
        ("initial_size: 1", "initial_size: 0"),
        (
            "initial_size: 1",
            "initial_size: 0\n    autoscaling: {max_nodes: 3}\nautoscaling:\n  cluster_autoscaler: {enabled: false}",
        ),
    ];
    for (from, to) in cases {
        let yaml = HEAD.replace(from, to);
        let (code, stderr) = validate(&dir, &yaml);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(
            stderr.contains("services.a: its pods fit only node pool s, which never has a node"),
            "{to}: {stderr}"
        );
        let (output, _) = run_yaml(&dir, &yaml, &["--quiet", "--no-plots"]);
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("which never has a node"),
            "the run warns too"
        );
    }
    // A pool the Cluster Autoscaler may grow is no reason to warn.
    let yaml = HEAD.replace(
        "initial_size: 1",
        "initial_size: 0\n    autoscaling: {max_nodes: 3}",
    );
    let (code, stderr) = validate(&dir, &yaml);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("never has a node"), "{stderr}");
}

#[test]
fn factors_that_make_a_rate_or_a_spread_infinite_are_refused() {
    let dir = TempDir::new("infinite");
    let load =
        "load: {arrivals: {rate: 50}, service_time: {distribution: exponential, mean: 20ms}}";
    let cases = [
        // 50 x 1e308 requests per second: every request at one instant, a run that never ends.
        (
            "load: {arrivals: {rate: 50, profile: {type: steps, steps: [{at: 30s, factor: 1e308}]}}, service_time: 10ms}",
            "services.a.load.arrivals.profile: the rate times the profile's largest factors",
        ),
        (
            "load: {arrivals: {rate: 50, profile: [{type: spikes, spikes: [{at: 10s, duration: 10s, factor: 1e200}]}, {type: spikes, spikes: [{at: 10s, duration: 10s, factor: 1e200}]}]}, service_time: 10ms}",
            "services.a.load.arrivals.profile: the rate times",
        ),
        // A coefficient of variation whose square overflows: every query took no time.
        (
            "load: {arrivals: {rate: 50}, model: {type: vector-search, vectors: 1e6, dimension: 768, jitter_cv: 1e200}}",
            "services.a.load.model.jitter_cv: \"1e200\" is out of range",
        ),
    ];
    for (bad, needle) in cases {
        let (code, stderr) = validate(&dir, &HEAD.replace(load, bad));
        assert_eq!(code, Some(2), "{bad}: {stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
    let fine = "load: {arrivals: {rate: 50, profile: {type: steps, steps: [{at: 30s, factor: 1e6}]}}, service_time: 10ms}";
    assert_eq!(validate(&dir, &HEAD.replace(load, fine)).0, Some(0));
}

#[test]
fn validate_refuses_an_assertion_check_would_refuse() {
    let dir = TempDir::new("expect");
    let (code, stderr) = validate(
        &dir,
        &format!("{HEAD}expect:\n  - \"services.nope.latency_ms.p99 <= 5\"\n"),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("expect[0]")
            && stderr.contains("did you mean \"services.a.latency_ms.p99\""),
        "{stderr}"
    );
    let good = format!("{HEAD}expect:\n  - \"services.a.latency_ms.p99 <= 500\"\n");
    assert_eq!(validate(&dir, &good).0, Some(0));
}
