//! The size limits of `scenario::budget` through the library and the binary: estimates close to
//! what runs do, and runs that would hang, exhaust memory or fill the disk refused before their
//! first event, with the figure and `--allow-large`.

use capsim::scenario::budget::{Limits, Size};
use capsim::scenario::{Document, Override};

use crate::util::{TempDir, capsim, repo_root, run_yaml, simulate};

/// The shipped scenarios' estimated events are within 10% of what a run processes (15 minutes
/// of each, the reference one included), so a refusal's figure is one a user can trust.
#[test]
fn estimates_are_close_to_the_events_runs_process() {
    for name in ["ai-infra", "mmc", "taints-and-affinity", "guaranteed-sweep"] {
        let path = repo_root().join(format!("scenarios/{name}.yaml"));
        let mut document = Document::load(&path).unwrap_or_else(|e| panic!("{e}"));
        for (path, value) in [("duration", "15m"), ("warmup", "0s")] {
            let o = Override {
                path: path.into(),
                value: value.into(),
            };
            document.set(&o).unwrap_or_else(|e| panic!("{e}"));
        }
        let (scenario, _) = document
            .scenario_within(Limits::DEFAULT)
            .unwrap_or_else(|e| panic!("{e}"));
        let estimate = Size::of(&scenario).total_events();
        let actual = simulate(&scenario).events_processed as f64;
        let ratio = actual / estimate;
        assert!(
            (0.9..1.1).contains(&ratio),
            "{name}: {actual} events run, {estimate:.0} estimated"
        );
    }
}

const SPOT: &str = r#"
name: hostile
duration: 1h
node_pools:
  s:
    machine_type: {cpu: 8, memory: 32Gi, price_per_hour: 1.0, spot_price_per_hour: 0.3}
    initial_size: 2
    spot: true
    preemption: {mean_lifetime: 1us}
    provisioning_delay: 0s
services:
  a:
    replicas: 1
    resources: {requests: {cpu: "1", memory: 1Gi}}
    load: {arrivals: {rate: 10}, service_time: {distribution: exponential, mean: 10ms}}
"#;

/// Refused runs write nothing: one line per limit exceeded, exit 2, and no results folder.
fn refused(yaml: &str, extra: &[&str], lines: usize, needles: &[&str]) {
    let dir = TempDir::new("limits");
    let (output, out) = run_yaml(&dir, yaml, extra);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), lines, "{stderr}");
    assert!(
        stderr.lines().all(|l| l.starts_with("capsim: ")),
        "{stderr}"
    );
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?} in {stderr}");
    }
    assert!(!out.exists(), "nothing written for a refused run");
}

/// Defect 1: the preemption livelock that wrote 55.7 GB of events at 13.8 simulated seconds.
#[test]
fn a_preemption_livelock_is_refused_before_its_first_event() {
    refused(
        SPOT,
        &[],
        2,
        &[
            "scenario.yaml:9:",
            "node_pools.s.preemption.mean_lifetime: the run would need about 7.20e10 events",
            "(output limit 20.0 GiB)",
        ],
    );
    // Not even --allow-large runs it at a lifetime of 1us for a day.
    refused(
        SPOT,
        &["--allow-large", "--duration", "100h"],
        1,
        &["not even --allow-large"],
    );
}

/// Defect 3: rates that never finish, even for a second.
#[test]
fn absurd_rates_are_refused() {
    let yaml = SPOT
        .replace("duration: 1h", "duration: 1s\nresolution: 1s")
        .replace("    spot: true\n    preemption: {mean_lifetime: 1us}\n", "")
        .replace("rate: 10", "rate: 1e308");
    refused(
        &yaml,
        &["--allow-large"],
        1,
        &["services.a.load.arrivals.rate: the run would need more than 1e308 events"],
    );
}

/// Defect 2: an overload holds memory to the pods' queues, not to the run: 1e6 requests/s
/// offered to one pod that serves 100/s, for a minute, with no queue_limit nor timeout.
#[test]
fn an_overload_stops_at_the_default_queue_limit() {
    let yaml = SPOT
        .replace("duration: 1h", "duration: 1m")
        .replace("    spot: true\n    preemption: {mean_lifetime: 1us}\n", "")
        .replace("rate: 10}", "rate: 1e6}");
    let dir = TempDir::new("limits-overload");
    let (output, out) = run_yaml(&dir, &yaml, &["--no-plots", "--no-report"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let requests = &summary["services"]["a"]["requests"];
    let refused = requests["rejected_queue_full"].as_u64().unwrap();
    let in_flight = requests["in_flight_at_end"].as_u64().unwrap();
    // At most the default queue (100,000) and the one worker's request are left at the end;
    // the rest of the 6e7 arrivals were refused.
    assert!(in_flight <= 100_001, "{requests}");
    assert!(refused > 59_000_000, "{requests}");
}

/// Defect 4: a sweep of 1e9 points × 100,000 replications is refused before it is planned.
#[test]
fn a_huge_sweep_is_refused_before_its_points_are_built() {
    let paths = [
        "seed",
        "services.a.replicas",
        "services.a.load.arrivals.rate",
        "services.a.server.concurrency",
        "services.a.server.queue_limit",
        "node_pools.s.initial_size",
        "services.a.resources.requests.memory",
        "services.a.resources.requests.cpu",
        "services.a.termination_grace_period",
    ];
    let grid: String = paths
        .iter()
        .map(|path| {
            let unit = match path.rsplit('.').next() {
                Some("memory") => "Gi",
                Some("termination_grace_period") => "s",
                _ => "",
            };
            let values: Vec<String> = (1..=10).map(|i| format!("{i}{unit}")).collect();
            format!("    {path}: [{}]\n", values.join(", "))
        })
        .collect();
    let yaml = format!(
        "{}sweep:\n  grid:\n{grid}  replications: 100000\n",
        SPOT.replace("    spot: true\n    preemption: {mean_lifetime: 1us}\n", "")
    );
    let dir = TempDir::new("limits-sweep");
    let file = dir.write("scenario.yaml", &yaml);
    let output = capsim(
        dir.path(),
        &["sweep", file.to_str().unwrap(), "--allow-large"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("sweep: the sweep has 1.00e14 runs (1.00e9 points × 100000 replications)"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// `capsim validate` holds a file to the same limits as `run`, and names the estimate.
#[test]
fn validate_applies_the_limits_and_shows_the_estimate() {
    let dir = TempDir::new("limits-validate");
    let file = dir.write("scenario.yaml", SPOT);
    let output = capsim(dir.path(), &["validate", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let good = dir.write(
        "good.yaml",
        &SPOT.replace("mean_lifetime: 1us", "mean_lifetime: 6h"),
    );
    let output = capsim(dir.path(), &["validate", good.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("1h0m0s simulated, about 72"), "{stdout}");
}
