//! Every error of every file at once, each on its own line naming the file and line where the
//! bad value was written: through `capsim validate` and `capsim run`, with `base:` files and
//! `--set` overrides.

use std::process::Output;

use crate::util::{TempDir, capsim, repo_root};

/// The example of six mistakes: one in each of `duration` and `seed`, two in the pool, two in
/// the service.
const SIX: &str = "\
name: bad
duration: 1x
seed: -1
node_pools:
  p: {machine_type: n2-standard-99, initial_size: -2}
services:
  a: {replicas: foo, resources: {requests: {cpu: 2zz}}}
";

/// Each of `SIX`'s errors, in document order: the start of its line after `capsim: `.
const SIX_ERRORS: [&str; 6] = [
    "bad.yaml:2:1: duration: \"1x\" has unknown unit \"x\";",
    "bad.yaml:3:1: seed: \"-1\" is not a valid seed;",
    "bad.yaml:5:7: node_pools.p.machine_type: unknown machine type \"n2-standard-99\";",
    "bad.yaml:5:37: node_pools.p.initial_size: \"-2\" is not a valid count;",
    "bad.yaml:7:7: services.a.replicas: \"foo\" is not a valid count;",
    "bad.yaml:7:45: services.a.resources.requests.cpu: \"2zz\" is not a cpu quantity;",
];

/// The lines of standard error, each checked to be one error in the standard form.
fn error_lines(output: &Output) -> Vec<String> {
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );
    let lines: Vec<String> = stderr.lines().map(str::to_string).collect();
    for line in &lines {
        assert!(line.starts_with("capsim: "), "{line}");
        assert!(line.contains("; "), "what is allowed is missing: {line}");
    }
    lines
}

/// Asserts that `lines` are `expected`, each line starting with its entry after `capsim: `.
#[track_caller]
fn assert_lines(lines: &[String], expected: &[&str]) {
    assert_eq!(lines.len(), expected.len(), "{lines:#?}");
    for (line, start) in lines.iter().zip(expected) {
        assert!(
            line.starts_with(&format!("capsim: {start}")),
            "{line:?} should start with {start:?}"
        );
    }
}

#[test]
fn validate_reports_all_six_errors_of_a_file() {
    let dir = TempDir::new("every-error-six");
    dir.write("bad.yaml", SIX);
    let output = capsim(dir.path(), &["validate", "bad.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert_lines(&error_lines(&output), &SIX_ERRORS);
}

#[test]
fn run_reports_them_too_and_runs_nothing() {
    let dir = TempDir::new("every-error-run");
    dir.write("bad.yaml", SIX);
    let output = capsim(dir.path(), &["run", "bad.yaml", "--out", "out", "--quiet"]);
    assert_eq!(output.status.code(), Some(2));
    assert_lines(&error_lines(&output), &SIX_ERRORS);
    assert!(!dir.path().join("out").exists(), "nothing is run");
}

#[test]
fn every_file_is_validated_and_a_good_one_is_still_ok() {
    let dir = TempDir::new("every-error-files");
    dir.write("bad.yaml", SIX);
    dir.write(
        "worse.yaml",
        "name: worse\nduration: 1h\nnode_pools:\n  p: {machine_type: e2-standard-8}\n\
         services:\n  a: {replicas: -1}\n  b: {load_balancer: fastest}\n",
    );
    let mmc = repo_root().join("scenarios/mmc.yaml");
    let mmc = mmc.to_str().unwrap_or_default();
    let output = capsim(dir.path(), &["validate", "bad.yaml", mmc, "worse.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    let mut expected = SIX_ERRORS.to_vec();
    expected.extend([
        "worse.yaml:6:7: services.a.replicas: \"-1\" is not a valid count;",
        "worse.yaml:7:7: services.b.load_balancer: unknown load balancer \"fastest\";",
    ]);
    assert_lines(&error_lines(&output), &expected);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with(&format!("{mmc}: ok (mmc: ")), "{stdout}");
}

#[test]
fn an_unknown_machine_type_hides_the_checks_that_need_it() {
    let dir = TempDir::new("every-error-cascade");
    // The pod asks for more than any machine has, and the autoscaler names the pool: with the
    // machine type unknown, neither can be judged, so only the machine type is reported.
    dir.write(
        "bad.yaml",
        "name: bad\nduration: 1h\nnode_pools:\n  p: {machine_type: n2-standard-99, initial_size: 1}\n\
         services:\n  a:\n    resources: {requests: {cpu: \"500\"}}\nautoscaling:\n  hpa:\n    a:\n      \
         maxReplicas: 3\n      metrics: [{type: Resource, resource: {name: cpu, target: {type: \
         Utilization, averageUtilization: 70}}}]\n",
    );
    let output = capsim(dir.path(), &["validate", "bad.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert_lines(
        &error_lines(&output),
        &["bad.yaml:4:7: node_pools.p.machine_type: unknown machine type \"n2-standard-99\";"],
    );
}

#[test]
fn every_shape_error_is_reported_with_its_line() {
    let dir = TempDir::new("every-error-shape");
    dir.write(
        "bad.yaml",
        "name: bad\nduration: 1h\nnode_pools:\n  p: {machine_type: e2-standard-8, spot: maybe}\n\
         services:\n  a: {replica: 2}\n  b: {replicas: 1}\nexpectations: []\n",
    );
    let output = capsim(dir.path(), &["validate", "bad.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert_lines(
        &error_lines(&output),
        &[
            "bad.yaml:4:36: node_pools.p.spot: found string \"maybe\";",
            "bad.yaml:6:7: services.a: unknown field \"replica\";",
            "bad.yaml:8:1: unknown field \"expectations\";",
        ],
    );
}

#[test]
fn a_yaml_syntax_error_is_one_error_with_its_line_and_column() {
    let dir = TempDir::new("every-error-syntax");
    dir.write("bad.yaml", "name: bad\nduration: [1h\nseed: -1\n");
    let output = capsim(dir.path(), &["validate", "bad.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    let lines = error_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].starts_with("capsim: bad.yaml: malformed YAML: "),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains(" at line "), "{}", lines[0]);
}

/// A base of 30 lines whose line 19 holds a bad value.
fn base_of_30_lines() -> String {
    let mut text = String::from(
        "name: base\nduration: 1h\nnode_pools:\n  pool: {machine_type: e2-standard-8}\n\
         services:\n",
    );
    // Lines 6 to 17: six services of two lines each.
    for i in 0..6 {
        text.push_str(&format!("  s{i}:\n    replicas: 1\n"));
    }
    // Lines 18 and 19.
    text.push_str("  web:\n    replicas: lots\n");
    // Lines 20 to 30.
    for i in 0..11 {
        text.push_str(&format!("# line {}\n", 20 + i));
    }
    assert_eq!(text.lines().count(), 30);
    text
}

#[test]
fn errors_point_into_the_base_the_file_and_the_command_line() {
    let dir = TempDir::new("every-error-base");
    dir.write("base.yaml", &base_of_30_lines());
    dir.write(
        "derived.yaml",
        "# builds on base.yaml\nbase: base.yaml\nset:\n  services.s0.replicas: -2\n\
         warmup: 2x\nseed: 7\n",
    );
    let output = capsim(
        dir.path(),
        &[
            "run",
            "derived.yaml",
            "--set",
            "duration=3q",
            "--out",
            "out",
            "--quiet",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert_lines(
        &error_lines(&output),
        &[
            "base.yaml:19:5 (with --set duration=3q): services.web.replicas: \"lots\" is not a \
             valid count;",
            "derived.yaml:4:3 (with --set duration=3q): services.s0.replicas: \"-2\" is not a \
             valid count;",
            "derived.yaml:5:1 (with --set duration=3q): warmup: \"2x\" has unknown unit \"x\";",
            "derived.yaml (with --set duration=3q): duration: \"3q\" has unknown unit \"q\";",
        ],
    );
}
