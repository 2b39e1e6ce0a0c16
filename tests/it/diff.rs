//! `capsim diff` through the real binary: a folder against itself, two seeds of one scenario,
//! a real change of the reference scenario, sweeps matched point by point, and bad folders.

use serde_json::Value;

use crate::util::{TempDir, assert_success, capsim, repo_root};

/// A small service, a few simulated minutes.
const SMALL: &str = r#"
name: small
seed: 1
duration: 5m
warmup: 1m
node_pools:
  big: {machine_type: {cpu: 32, memory: 128Gi, price_per_hour: 1.0}, initial_size: 1}
services:
  queue:
    replicas: 2
    resources: {requests: {cpu: "2", memory: 1Gi}}
    server: {concurrency: 4}
    load:
      arrivals: {rate: 300}
      service_time: {distribution: exponential, mean: 10ms}
"#;

/// Runs `capsim sweep` on `scenario` into `dir/name` with `extra` arguments.
fn sweep(dir: &TempDir, scenario: &str, name: &str, extra: &[&str]) -> String {
    let out = dir.path().join(name).display().to_string();
    let mut args = vec!["sweep", scenario, "--out", &out, "--quiet", "--no-plots"];
    args.extend_from_slice(extra);
    assert_success(&capsim(dir.path(), &args));
    out
}

/// `capsim diff A B --json`, parsed.
fn diff_json(dir: &TempDir, a: &str, b: &str) -> Value {
    let output = capsim(dir.path(), &["diff", a, b, "--json"]);
    assert_success(&output);
    serde_json::from_slice(&output.stdout).expect("diff --json prints JSON")
}

/// The row of `metric` (of the point with `point` settings).
fn row<'a>(report: &'a Value, metric: &str, point: &[&str]) -> &'a Value {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["metric"] == metric && r["point"] == serde_json::json!(point))
        .unwrap_or_else(|| panic!("no row {metric} {point:?} in {report}"))
}

fn verdicts(report: &Value) -> Vec<&str> {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["verdict"].as_str().expect("a verdict"))
        .collect()
}

#[test]
fn a_folder_against_itself_changes_nothing() {
    let dir = TempDir::new("diff-self");
    let file = dir.write("small.yaml", SMALL);
    let a = sweep(
        &dir,
        file.to_str().unwrap_or(""),
        "a",
        &["--replications", "3"],
    );
    let report = diff_json(&dir, &a, &a);
    let rows = report["rows"].as_array().expect("rows");
    assert!(rows.len() > 10, "{report}");
    for r in rows {
        assert_eq!(r["abs_change"].as_f64(), Some(0.0), "{r}");
        assert_eq!(r["verdict"], "not_significant", "{r}");
        assert_eq!(r["test"], "paired", "the same seeds pair up: {r}");
        assert_eq!(r["a_runs"].as_u64(), Some(3));
    }
    let table = capsim(dir.path(), &["diff", &a, &a]);
    assert_success(&table);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains(" metrics compared, 0 significant changes at 95%"),
        "{text}"
    );
    // A run folder (one summary.json) against itself: no change, nothing to test.
    let run = dir.path().join("run").display().to_string();
    assert_success(&capsim(
        dir.path(),
        &[
            "run",
            file.to_str().unwrap_or(""),
            "--out",
            &run,
            "--quiet",
            "--no-plots",
        ],
    ));
    let report = diff_json(&dir, &run, &run);
    assert!(
        verdicts(&report).iter().all(|v| *v == "not_significant"),
        "{report}"
    );
    // A folder of run folders, one per seed: replications, paired by their seeds.
    let file = file.to_str().unwrap_or("");
    for seed in ["1", "2"] {
        let out = dir.path().join("reps").join(format!("seed-{seed}"));
        let out = out.to_str().unwrap_or("");
        let args = [
            "run",
            file,
            "--seed",
            seed,
            "--out",
            out,
            "--quiet",
            "--no-plots",
        ];
        assert_success(&capsim(dir.path(), &args));
    }
    let reps = dir.path().join("reps").display().to_string();
    let report = diff_json(&dir, &reps, &reps);
    let cost = row(&report, "cost.total_usd", &[]);
    assert_eq!(cost["a_runs"].as_u64(), Some(2), "{cost}");
    assert_eq!(cost["test"], "paired", "{cost}");
    assert_eq!(cost["verdict"], "not_significant", "{cost}");
}

#[test]
fn two_seeds_of_one_scenario_are_mostly_not_significant() {
    let dir = TempDir::new("diff-seeds");
    let file = dir.write("small.yaml", SMALL);
    let file = file.to_str().unwrap_or("");
    let a = sweep(&dir, file, "a", &["--replications", "4", "--seed", "1"]);
    let b = sweep(&dir, file, "b", &["--replications", "4", "--seed", "2"]);
    let report = diff_json(&dir, &a, &b);
    let verdicts = verdicts(&report);
    let significant = verdicts.iter().filter(|v| **v == "significant").count();
    // Other seeds: Welch's test, and at 95% about one metric in twenty by chance.
    assert!(
        report["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .all(|r| r["test"] == "welch"),
        "{report}"
    );
    assert!(
        significant <= 2,
        "{significant} of {}: {report}",
        verdicts.len()
    );
}

#[test]
fn a_lower_hpa_target_costs_significantly_more() {
    // The reference scenario at a vector-store HPA target of 70% (its own) against 50%, 20
    // simulated minutes, 3 replications with common seeds. At the reference load the first
    // hours cost the same at both targets (the extra replicas fit on the nodes there are), so
    // the load is raised to 20,000 queries/s and the quota to 64 CPUs: at 70% the HPA holds
    // about 7.7 replicas and the Cluster Autoscaler removes a compute-optimized node after its
    // 10 minutes unneeded; at 50% about 9.6 replicas keep it busy. The node-time differs by
    // the same amount in every replication, which the paired test finds significant.
    let dir = TempDir::new("diff-hpa");
    let reference = repo_root().join("scenarios/ai-infra.yaml");
    let reference = reference.to_str().unwrap_or("");
    let target = "autoscaling.hpa.vector-store.metrics.0.resource.target.averageUtilization";
    let run = |t: &str| {
        let target = format!("{target}={t}");
        let args = [
            "--replications",
            "3",
            "--duration",
            "20m",
            "--jobs",
            "2",
            "--set",
            &target,
            "--set",
            "services.vector-store.load.arrivals.rate=20000",
            "--set",
            r#"quotas.vector-store={requests.cpu: "64", requests.memory: 128Gi, limits.cpu: "128", limits.memory: 256Gi}"#,
        ];
        sweep(&dir, reference, &format!("t{t}"), &args)
    };
    let (a, b) = (run("70"), run("50"));
    let report = diff_json(&dir, &a, &b);
    let cost = row(&report, "cost.total_usd", &[]);
    assert_eq!(cost["verdict"], "significant", "{cost}");
    assert_eq!(cost["test"], "paired", "{cost}");
    assert!(
        cost["rel_change"].as_f64().is_some_and(|r| r > 0.05),
        "{cost}"
    );
    let replicas = row(&report, "services.vector-store.replicas.mean", &[]);
    assert_eq!(replicas["verdict"], "significant", "{replicas}");
}

#[test]
fn sweeps_are_matched_by_their_parameter_values() {
    let dir = TempDir::new("diff-sweeps");
    let file = dir.write("small.yaml", SMALL);
    let file = file.to_str().unwrap_or("");
    let short = ["--duration", "2m", "--replications", "2"];
    let mut a_args = vec!["--param", "services.queue.replicas=1,2"];
    a_args.extend(short);
    let mut b_args = vec!["--param", "services.queue.replicas=2,3"];
    b_args.extend(short);
    let a = sweep(&dir, file, "a", &a_args);
    let b = sweep(&dir, file, "b", &b_args);
    let report = diff_json(&dir, &a, &b);
    assert_eq!(
        report["only_in_a"],
        serde_json::json!([["services.queue.replicas=1"]])
    );
    assert_eq!(
        report["only_in_b"],
        serde_json::json!([["services.queue.replicas=3"]])
    );
    // The one common point ran the same settings and seeds on both sides.
    let cost = row(&report, "cost.total_usd", &["services.queue.replicas=2"]);
    assert_eq!(cost["abs_change"].as_f64(), Some(0.0), "{cost}");
    let rows = report["rows"].as_array().expect("rows");
    assert!(
        rows.iter()
            .all(|r| r["point"] == serde_json::json!(["services.queue.replicas=2"]))
    );
    // A sweep over other parameters is refused, naming both folders.
    let c = sweep(
        &dir,
        file,
        "c",
        &[
            "--param",
            "services.queue.server.concurrency=2",
            "--duration",
            "2m",
        ],
    );
    let output = capsim(dir.path(), &["diff", &a, &c]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(&format!("capsim: {c}: sweep.json: parameters")),
        "{stderr}"
    );
}

#[test]
fn folders_that_hold_no_results_are_input_errors() {
    let dir = TempDir::new("diff-bad");
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).expect("a folder");
    let empty = empty.display().to_string();
    let missing = dir.path().join("missing").display().to_string();
    let output = capsim(dir.path(), &["diff", &empty, &missing]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "both folders reported: {stderr}");
    assert!(
        lines[0].starts_with(&format!("capsim: {empty}: holds no summary.json")),
        "{stderr}"
    );
    assert!(
        lines[1].starts_with(&format!("capsim: {missing}: not a folder")),
        "{stderr}"
    );
}
