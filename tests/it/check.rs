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
    assert!(stderr.contains("nothing to check"), "{stderr}");
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
            |l| l.starts_with("baseline services.queue.latency_ms.mean") && l.ends_with("FAIL")
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
