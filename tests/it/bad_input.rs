//! Bad input through the real binary: exit code 2, one clear line naming the YAML path, the bad
//! value and what is allowed, no panic, and no `summary.json` left behind.

use crate::util::{TempDir, assert_success, capsim, repo_root, run_yaml};

const GOOD: &str = r#"
name: bad-input
duration: 1h
node_pools:
  big: {machine_type: {cpu: 16, memory: 64Gi, price_per_hour: 1.0}, initial_size: 1}
services:
  queue:
    namespace: team
    replicas: 1
    resources: {requests: {cpu: "1", memory: 1Gi}}
    load:
      arrivals: {rate: 10}
      service_time: 10ms
"#;

/// Runs `capsim run` on `yaml` and checks the failure; returns standard error.
fn fails(yaml: &str, expected: &[&str]) -> String {
    let dir = TempDir::new("bad-input");
    let (output, out) = run_yaml(&dir, yaml, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(2), "exit code; stderr: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("capsim: "), "{stderr}");
    for needle in expected {
        assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    }
    assert!(
        !out.join("summary.json").exists(),
        "no summary.json after a failure"
    );
    stderr
}

#[test]
fn the_good_scenario_runs() {
    let dir = TempDir::new("good-input");
    let file = dir.write("scenario.yaml", GOOD);
    let output = capsim(dir.path(), &["run", file.to_str().unwrap_or(""), "--quiet"]);
    assert_success(&output);
}

#[test]
fn malformed_yaml() {
    fails("name: x\nduration: [1h\n", &["scenario.yaml", "line"]);
}

#[test]
fn unknown_field_names_the_allowed_ones() {
    let yaml = GOOD.replace("    replicas: 1", "    replica: 1");
    fails(&yaml, &["services.queue", "replica", "replicas"]);
}

#[test]
fn negative_count() {
    let yaml = GOOD.replace("    replicas: 1", "    replicas: -3");
    fails(&yaml, &["services.queue.replicas", "-3"]);
}

#[test]
fn speed_out_of_range() {
    let yaml = GOOD.replace("price_per_hour: 1.0}", "price_per_hour: 1.0, speed: 0}");
    fails(
        &yaml,
        &[
            "node_pools.big.machine_type.speed",
            "\"0\"",
            "1.0 is an N2 vCPU",
        ],
    );
}

#[test]
fn zero_rate() {
    let yaml = GOOD.replace("rate: 10", "rate: 0");
    fails(&yaml, &["services.queue.load.arrivals.rate", "0"]);
}

#[test]
fn zero_concurrency() {
    let yaml = GOOD.replace(
        "    replicas: 1",
        "    replicas: 1\n    server: {concurrency: 0}",
    );
    fails(&yaml, &["services.queue.server.concurrency", "0"]);
}

#[test]
fn unknown_machine_type_suggests_a_known_one() {
    let yaml = GOOD.replace(
        "{cpu: 16, memory: 64Gi, price_per_hour: 1.0}",
        "c2-standard-80",
    );
    fails(
        &yaml,
        &[
            "node_pools.big.machine_type",
            "c2-standard-80",
            "c2-standard-8",
        ],
    );
}

#[test]
fn base_memory_above_the_memory_limit() {
    let yaml = GOOD.replace(
        "    resources: {requests: {cpu: \"1\", memory: 1Gi}}",
        "    resources: {requests: {cpu: \"1\", memory: 1Gi}, limits: {memory: 2Gi}}\n    \
         server: {memory_base: 3Gi}",
    );
    let stderr = fails(
        &yaml,
        &[
            "scenario.yaml:11:14: services.queue.server.memory_base: 3Gi is above the memory limit \
             2Gi: the container would be OOM-killed as it starts; expected memory_base <= \
             resources.limits.memory",
        ],
    );
    assert!(stderr.starts_with("capsim: "), "{stderr}");
}

#[test]
fn a_pod_that_fits_no_pool() {
    let yaml = GOOD.replace("cpu: \"1\", memory: 1Gi", "cpu: \"40\", memory: 1Gi");
    fails(&yaml, &["services.queue", "big", "Insufficient cpu"]);
}

#[test]
fn a_quota_of_garbage() {
    let yaml = format!("{GOOD}quotas:\n  team: {{requests.cpu: lots}}\n");
    fails(&yaml, &["quotas.team", "requests.cpu", "lots"]);
}

#[test]
fn a_bad_duration() {
    let yaml = GOOD.replace("duration: 1h", "duration: 1 hour");
    fails(&yaml, &["duration", "1 hour"]);
}

#[test]
fn a_missing_file() {
    let dir = TempDir::new("missing");
    let output = capsim(dir.path(), &["run", "nope.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nope.yaml"));
}

#[test]
fn a_bad_command_line_duration() {
    let dir = TempDir::new("cli-duration");
    let file = dir.write("scenario.yaml", GOOD);
    let output = capsim(
        dir.path(),
        &["run", file.to_str().unwrap_or(""), "--duration", "soon"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("soon"));
}

/// Inputs are regular files of bounded size: a device, a pipe or a folder named as a scenario,
/// a base or a baseline is refused at once (it could be read forever or block), and so is a
/// scenario file larger than any real one.
#[test]
fn inputs_are_regular_files_of_bounded_size() {
    if !std::path::Path::new("/dev/zero").exists() {
        return; // not a Unix-like system
    }
    let dir = TempDir::new("bounded-inputs");
    let on_zero = dir.write("on-zero.yaml", "base: /dev/zero\nname: x\n");
    let on_stdin = dir.write("on-stdin.yaml", "base: /dev/stdin\nname: x\n");
    let big = dir.write("big.yaml", &"#".repeat(17 << 20));
    let folder = dir.path().to_str().unwrap_or("").to_string();
    let cases: [(Vec<&str>, &str); 5] = [
        (
            vec!["validate", on_zero.to_str().unwrap_or("")],
            "base: /dev/zero: not a regular file",
        ),
        (
            vec!["validate", on_stdin.to_str().unwrap_or("")],
            "base: /dev/stdin: not a regular file",
        ),
        (vec!["validate", &folder], "not a regular file"),
        (
            vec!["validate", big.to_str().unwrap_or("")],
            "more than the 16 MiB",
        ),
        (
            vec!["check", "scenarios/mmc.yaml", "--baseline", "/dev/zero"],
            "/dev/zero: not a regular file",
        ),
    ];
    for (args, says) in cases {
        let output = capsim(repo_root(), &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

/// A whole number of 2^64 or more is too large for any field, said in those words rather than
/// in the YAML reader's ("found integer ... as u128").
#[test]
fn a_number_past_two_to_the_64_is_too_large_not_a_u128() {
    let dir = TempDir::new("huge-integer");
    let file = dir.write(
        "huge.yaml",
        "name: x\nduration: 10m\nnode_pools:\n  p: {machine_type: n2-standard-8, initial_size: \
         18446744073709551616}\nservices:\n  web: {replicas: 1}\n",
    );
    let output = capsim(dir.path(), &["validate", file.to_str().unwrap_or("")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("node_pools.p.initial_size: 18446744073709551616 is too large a number"),
        "{stderr}"
    );
    assert!(!stderr.contains("u128"), "{stderr}");
}
