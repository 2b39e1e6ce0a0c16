//! The CI gate through the real binary: assertions passing and failing with exit codes 0 and 1,
//! bad input with 2, a baseline comparison, conservative judging over replications, and a JUnit
//! file that an XML parser reads.

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::util::{TempDir, assert_success, capsim};

fn scenario(expect: &[&str]) -> String {
    let mut yaml = String::from(
        r#"
name: gate
seed: 3
duration: 10m
warmup: 1m
node_pools:
  big: {machine_type: {cpu: 32, memory: 128Gi, price_per_hour: 1.0}, initial_size: 1}
services:
  queue:
    replicas: 1
    resources: {requests: {cpu: "8", memory: 1Gi}}
    server: {concurrency: 8}
    load:
      arrivals: {rate: 600}
      service_time: {distribution: exponential, mean: 10ms}
"#,
    );
    if !expect.is_empty() {
        yaml.push_str("expect:\n");
        for e in expect {
            yaml.push_str(&format!("  - \"{e}\"\n"));
        }
    }
    yaml
}

/// Runs `capsim check` on `yaml` with `extra` arguments; returns (exit code, stdout, stderr).
fn check(dir: &TempDir, yaml: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let file = dir.write("gate.yaml", yaml);
    let mut args = vec!["check", file.to_str().unwrap_or("")];
    args.extend_from_slice(extra);
    let output = capsim(dir.path(), &args);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

/// (test cases, failures) of a JUnit file, read with an XML parser.
fn junit_counts(path: &std::path::Path) -> (usize, usize) {
    let text = std::fs::read_to_string(path).expect("the JUnit file exists");
    let mut reader = Reader::from_str(&text);
    let (mut cases, mut failures) = (0, 0);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => match e.name().as_ref() {
                "testcase" => cases += 1,
                "failure" => failures += 1,
                _ => {}
            },
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{}: not XML: {e}", path.display()),
        }
    }
    (cases, failures)
}

#[test]
fn passing_assertions_exit_zero_with_a_junit_report() {
    let dir = TempDir::new("check-pass");
    let junit = dir.path().join("junit.xml");
    let (code, stdout, stderr) = check(
        &dir,
        &scenario(&[
            "services.queue.requests.arrived > 0",
            "services.queue.latency_ms.p99 <= 1000",
            "quotas.default.rejected_pods == 0",
        ]),
        &["--junit", junit.to_str().unwrap_or("")],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("3 checks, 0 failed"), "{stdout}");
    assert_eq!(junit_counts(&junit), (3, 0));
}

#[test]
fn a_failing_assertion_exits_one_and_says_which() {
    let dir = TempDir::new("check-fail");
    let junit = dir.path().join("junit.xml");
    let (code, stdout, _) = check(
        &dir,
        &scenario(&["services.queue.latency_ms.p99 <= 1", "cost.total_usd < 100"]),
        &["--junit", junit.to_str().unwrap_or("")],
    );
    assert_eq!(code, Some(1));
    let failing = stdout
        .lines()
        .find(|l| l.contains("FAIL"))
        .expect("a FAIL row");
    assert!(
        failing.starts_with("services.queue.latency_ms.p99 <= 1"),
        "{failing}"
    );
    assert_eq!(junit_counts(&junit), (2, 1));
}

#[test]
fn bad_assertions_are_input_errors() {
    let dir = TempDir::new("check-bad");
    let (code, _, stderr) = check(&dir, &scenario(&["services.queue.latency.p99 <= 10"]), &[]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("did you mean \"services.queue.latency_ms.p99\""),
        "{stderr}"
    );
    let file = dir.path().join("gate.yaml");
    assert!(
        stderr.starts_with(&format!("capsim: {}: expect[0]: ", file.display())),
        "the scenario file and the assertion's path: {stderr}"
    );
    let (code, _, stderr) = check(
        &dir,
        &scenario(&["services.queue.latency_ms.p99 =< 10"]),
        &[],
    );
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("expect[0]") && stderr.contains("=<"),
        "{stderr}"
    );
    let (code, _, stderr) = check(&dir, &scenario(&[]), &[]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("gate.yaml: expect: nothing to check"),
        "{stderr}"
    );
}

#[test]
fn a_baseline_holds_for_the_same_run_and_catches_a_change() {
    let dir = TempDir::new("check-baseline");
    let file = dir.write("gate.yaml", &scenario(&[]));
    let out = dir.path().join("base");
    let run = capsim(
        dir.path(),
        &[
            "run",
            file.to_str().unwrap_or(""),
            "--out",
            out.to_str().unwrap_or(""),
            "--quiet",
        ],
    );
    assert_success(&run);
    let baseline = out.join("summary.json");
    let baseline = baseline.to_str().unwrap_or("");
    let (code, stdout, _) = check(&dir, &scenario(&[]), &["--baseline", baseline]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("baseline cost.total_usd"), "{stdout}");
    // Twice the replicas: the cost and the latencies move beyond 5%.
    let (code, stdout, _) = check(
        &dir,
        &scenario(&[]),
        &["--baseline", baseline, "--set", "services.queue.replicas=2"],
    );
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.lines().any(
            |l| l.starts_with("baseline services.queue.latency_ms.p99") && l.ends_with("FAIL")
        ),
        "{stdout}"
    );
}

#[test]
fn conservative_judging_uses_the_unfavourable_confidence_bound() {
    let dir = TempDir::new("check-conservative");
    // First learn the mean and its interval over 5 replications.
    let (code, stdout, _) = check(
        &dir,
        &scenario(&["services.queue.wait_ms.mean <= 1000000"]),
        &["--replications", "5"],
    );
    assert_eq!(code, Some(0), "{stdout}");
    let row = stdout
        .lines()
        .find(|l| l.contains("wait_ms.mean"))
        .expect("the row");
    // "... <mean> (95% CI <low> .. <high>)  pass"
    let (before, after) = row.split_once(" (95% CI ").expect("an interval");
    let mean: f64 = before
        .rsplit(' ')
        .next()
        .and_then(|t| t.parse().ok())
        .expect("a mean");
    let high: f64 = after
        .split(" .. ")
        .nth(1)
        .and_then(|t| t.split(')').next())
        .and_then(|t| t.parse().ok())
        .expect("an upper bound");
    assert!(high > mean, "{row}");
    // A threshold between the mean and the upper bound: the mean passes, the bound does not.
    let threshold = (mean + high) / 2.0;
    let assertion = format!("services.queue.wait_ms.mean <= {threshold}");
    let yaml = scenario(&[&assertion]);
    let (code, stdout, _) = check(&dir, &yaml, &["--replications", "5"]);
    assert_eq!(code, Some(0), "{stdout}");
    let (code, stdout, _) = check(&dir, &yaml, &["--replications", "5", "--conservative"]);
    assert_eq!(code, Some(1), "{stdout}");
}

#[test]
fn a_baseline_that_is_not_a_summary_is_an_input_error_naming_it() {
    let dir = TempDir::new("check-bad-baseline");
    let baseline = dir.write("summary.json", r#"{"scenario": "x", "seed": 1}"#);
    let baseline = baseline.to_str().unwrap_or("");
    let (code, _, stderr) = check(&dir, &scenario(&[]), &["--baseline", baseline]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains(&format!(
            "{baseline}: not a capsim summary.json: missing field"
        )),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

/// The gate scenario with an HPA and the Cluster Autoscaler: figures that move with the seed.
const HPA_GATE: &str = r#"
name: gate-hpa
seed: 1
duration: 10m
warmup: 2m
node_pools:
  big: {machine_type: {cpu: 32, memory: 128Gi, price_per_hour: 1.0}, initial_size: 1,
        autoscaling: {min_nodes: 1, max_nodes: 4}}
services:
  web:
    replicas: 4
    resources: {requests: {cpu: "1", memory: 1Gi}}
    server: {concurrency: 2, cpu_per_worker: 500m}
    load:
      arrivals: {rate: 300}
      service_time: {distribution: exponential, mean: 10ms}
autoscaling:
  hpa:
    web:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
      minReplicas: 2
      maxReplicas: 12
      metrics:
        - type: Resource
          resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
  cluster_autoscaler: {enabled: true}
"#;

#[test]
fn a_baseline_of_another_seed_passes_and_a_real_change_fails() {
    let dir = TempDir::new("check-baseline-seed");
    let file = dir.write("gate.yaml", HPA_GATE);
    let out = dir.path().join("seed-1");
    let run = capsim(
        dir.path(),
        &[
            "run",
            file.to_str().unwrap_or(""),
            "--out",
            out.to_str().unwrap_or(""),
            "--quiet",
        ],
    );
    assert_success(&run);
    let baseline = out.join("summary.json");
    let baseline = baseline.to_str().unwrap_or("");
    // Seed 2 differs from seed 1 in its HPA's sync phase and the requests in flight at the end,
    // which a comparison of every figure within 5% failed on; the planner metrics, their floors
    // and the spread of 3 replications tell them from a change.
    let args = ["--baseline", baseline, "--seed", "2", "--replications", "3"];
    let (code, stdout, stderr) = check(&dir, HPA_GATE, &args);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains("hpa_sync_offset_s"), "{stdout}");
    assert!(
        stdout.contains("baseline services.web.latency_ms.p99"),
        "{stdout}"
    );
    // Half the replicas (the HPA held to 2 of the 4): latency and utilization move past it.
    let mut changed = args.to_vec();
    changed.extend([
        "--set",
        "services.web.replicas=2",
        "--set",
        "autoscaling.hpa.web.maxReplicas=2",
    ]);
    let (code, stdout, _) = check(&dir, HPA_GATE, &changed);
    assert_eq!(code, Some(1), "{stdout}");
    for metric in [
        "latency_ms.p50",
        "replicas.mean",
        "cpu.utilization_of_requests",
    ] {
        let line = format!("baseline services.web.{metric} ");
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&line) && l.ends_with("FAIL")),
            "{metric}: {stdout}"
        );
    }
    // Only the metrics asked for are compared.
    let mut chosen = args.to_vec();
    chosen.extend([
        "--baseline-metrics",
        "services.*.latency_ms.p99,cost.total_usd",
    ]);
    let (code, stdout, _) = check(&dir, HPA_GATE, &chosen);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("2 checks, 0 failed"), "{stdout}");
}

#[test]
fn a_baseline_of_another_scenario_or_length_is_refused() {
    let dir = TempDir::new("check-baseline-refused");
    let file = dir.write("gate.yaml", &scenario(&[]));
    let out = dir.path().join("base");
    let file = file.to_str().unwrap_or("");
    let run = capsim(
        dir.path(),
        &[
            "run",
            file,
            "--out",
            out.to_str().unwrap_or(""),
            "--quiet",
            "--duration",
            "5m",
        ],
    );
    assert_success(&run);
    let baseline = out.join("summary.json");
    let baseline = baseline.to_str().unwrap_or("");
    let (code, stdout, stderr) = check(&dir, &scenario(&[]), &["--baseline", baseline]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stdout.is_empty(), "refused before running: {stdout}");
    assert_eq!(
        stderr.trim_end(),
        format!(
            "capsim: {baseline}: simulated.duration_s: the baseline ran 300 s, this check runs \
             600 s; a baseline must be a summary.json of the same scenario, duration and warm-up"
        )
    );
    let renamed = scenario(&[]).replace("name: gate", "name: other");
    let (code, _, stderr) = check(
        &dir,
        &renamed,
        &["--baseline", baseline, "--duration", "5m"],
    );
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains(
            ": scenario: the baseline is of scenario \"gate\", this check runs \"other\""
        ),
        "{stderr}"
    );
}

#[test]
fn every_input_problem_is_found_before_running_and_names_its_file() {
    let dir = TempDir::new("check-up-front");
    // A month (720h) at 600 requests/s: were anything simulated first, this test would take minutes.
    let yaml = scenario(&[
        "services.queue.latency_ms.p98 <= 3",
        "cost.total_usd <= 100",
        "services.queue.latency_ms.p99 <= 250",
        "quotas.default.rejected_podz == 0",
    ])
    .replace("duration: 10m", "duration: 720h");
    let junit = dir.path().join("no-such-folder").join("junit.xml");
    let junit = junit.to_str().unwrap_or("");
    let args = [
        "--junit",
        junit,
        "--baseline-metrics",
        "services.*.latency_ms.p98",
    ];
    let missing = dir.path().join("missing.json");
    let mut args = args.to_vec();
    args.extend(["--baseline", missing.to_str().unwrap_or("")]);
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = check(&dir, &yaml, &args);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        started.elapsed().as_secs() < 60,
        "the input was checked after running"
    );
    let file = dir.path().join("gate.yaml");
    let file = file.display();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 5, "{stderr}");
    assert!(
        lines[0].starts_with(&format!(
            "capsim: {file}: expect[0]: \"services.queue.latency_ms.p98 <= 3\": no summary \
             metric \"services.queue.latency_ms.p98\" in this scenario; did you mean"
        )),
        "{stderr}"
    );
    assert!(
        lines[1].starts_with(&format!("capsim: {file}: expect[3]: ")),
        "{stderr}"
    );
    assert!(lines[2].starts_with("capsim: --baseline-metrics: \"services.*.latency_ms.p98\""));
    assert_eq!(
        lines[3],
        format!("capsim: {}: file not found", missing.display())
    );
    assert!(
        lines[4].starts_with(&format!("capsim: {junit}: --junit: folder ")),
        "{stderr}"
    );
}
