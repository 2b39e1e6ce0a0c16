//! Sweeps through the real binary: overrides, determinism for any number of jobs, shards merged
//! into the unsharded result, and an interrupted sweep resumed into the uninterrupted one.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{TempDir, assert_success, capsim};

/// A small sweep: 2 x 2 points, 2 replications, 5 simulated minutes each.
const SWEEP: &str = r#"
name: small-sweep
seed: 11
duration: 5m
warmup: 1m
node_pools:
  big: {machine_type: {cpu: 32, memory: 128Gi, price_per_hour: 1.0}, initial_size: 1}
services:
  queue:
    replicas: 2
    resources: {requests: {cpu: "4", memory: 1Gi}}
    server: {concurrency: 4}
    slo: {latency_p99: 50ms, max_failed: 1%}
    load:
      arrivals: {rate: 500}
      service_time: {distribution: exponential, mean: 10ms}
sweep:
  grid:
    services.queue.replicas: [2, 3]
    services.queue.server.concurrency: [4, 8]
  replications: 2
"#;

const TABLES: [&str; 3] = ["sweep.csv", "points.csv", "sweep.json"];

fn sweep(dir: &TempDir, out: &str, extra: &[&str]) -> std::process::Output {
    let file = dir.write("sweep.yaml", SWEEP);
    let out = dir.path().join(out);
    let mut args = vec![
        "sweep",
        file.to_str().unwrap_or(""),
        "--out",
        out.to_str().unwrap_or(""),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    capsim(dir.path(), &args)
}

fn ok(output: &std::process::Output) {
    assert_success(output);
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

#[test]
fn a_sweep_writes_one_row_per_run_and_one_per_point() {
    let dir = TempDir::new("sweep-tables");
    ok(&sweep(&dir, "out", &["--jobs", "2"]));
    let out = dir.path().join("out");
    let runs = read(&out, "sweep.csv");
    let lines: Vec<&str> = runs.lines().collect();
    assert_eq!(lines.len(), 1 + 8, "header and 2 x 2 x 2 runs");
    assert!(
        lines[0].starts_with(
            "run,point,replication,seed,services.queue.replicas,services.queue.server.concurrency,"
        ),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains(",services.queue.latency_ms.p99,"));
    // Point 3 is replicas 3, concurrency 8; its replications share seeds with point 0's.
    assert!(lines[7].starts_with("6,3,0,11,3,8,"), "{}", lines[7]);
    let seed_of = |line: &str| line.split(',').nth(3).map(str::to_string);
    assert_eq!(
        seed_of(lines[2]),
        seed_of(lines[8]),
        "common random numbers"
    );
    assert_ne!(seed_of(lines[1]), seed_of(lines[2]));
    let points = read(&out, "points.csv");
    assert_eq!(points.lines().count(), 1 + 4);
    assert!(points.lines().next().unwrap_or("").contains(",services.queue.latency_ms.p99.mean,services.queue.latency_ms.p99.ci_low,services.queue.latency_ms.p99.ci_high"));
    let info: serde_json::Value = serde_json::from_str(&read(&out, "sweep.json")).expect("JSON");
    assert_eq!(
        (info["runs"].as_u64(), info["runs_done"].as_u64()),
        (Some(8), Some(8))
    );
    assert_eq!(info["slo_p99_ms"]["queue"].as_f64(), Some(50.0));
    // The failure budget reaches every point, where the Pareto chart reads it.
    let header: Vec<&str> = points.lines().next().unwrap_or("").split(',').collect();
    let budget = (header.iter())
        .position(|c| *c == "services.queue.slo_max_failed_fraction.mean")
        .expect("a budget column");
    for row in points.lines().skip(1) {
        assert_eq!(row.split(',').nth(budget), Some("0.01"), "{row}");
    }
    assert!(
        !out.join("runs/run-000000").exists(),
        "no run folders without --keep-runs"
    );
}

#[test]
fn tables_are_identical_for_one_job_and_two() {
    let dir = TempDir::new("sweep-jobs");
    ok(&sweep(&dir, "one", &["--jobs", "1"]));
    ok(&sweep(&dir, "two", &["--jobs", "2"]));
    for table in TABLES {
        assert_eq!(
            read(&dir.path().join("one"), table),
            read(&dir.path().join("two"), table),
            "{table}"
        );
    }
}

#[test]
fn shards_merged_equal_the_unsharded_sweep() {
    let dir = TempDir::new("sweep-shards");
    ok(&sweep(&dir, "whole", &["--jobs", "2"]));
    for shard in ["0/3", "1/3", "2/3"] {
        ok(&sweep(
            &dir,
            &format!("shard-{}", &shard[..1]),
            &["--shard", shard, "--jobs", "1"],
        ));
    }
    let partial: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("shard-1"), "sweep.json")).expect("JSON");
    assert_eq!(partial["runs_done"].as_u64(), Some(3), "runs 1, 4 and 7");
    let merged = dir.path().join("merged");
    let shards: Vec<String> = (0..3)
        .map(|i| dir.path().join(format!("shard-{i}")).display().to_string())
        .collect();
    // Two shards of three: the runs of the third are missing, which is a result (exit 1) naming
    // each, unless a partial merge is asked for.
    let partial = dir.path().join("partial");
    let mut args = vec!["merge", &shards[0], &shards[1]];
    args.extend(["--out", partial.to_str().unwrap_or("")]);
    let output = capsim(dir.path(), &args);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("2 runs missing from every folder"),
        "{stderr}"
    );
    assert!(
        stderr.contains("missing: run 2 (point 1, replication 0)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("missing: run 5 (point 2, replication 1)"),
        "{stderr}"
    );
    args.push("--allow-partial");
    let output = capsim(dir.path(), &args);
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing: run 5"));
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(String::as_str));
    args.extend(["--out", merged.to_str().unwrap_or("")]);
    ok(&capsim(dir.path(), &args));
    for table in TABLES {
        assert_eq!(
            read(&dir.path().join("whole"), table),
            read(&merged, table),
            "{table}"
        );
    }
    assert_eq!(
        read(&dir.path().join("whole"), "report.html"),
        read(&merged, "report.html"),
        "the merged sweep's report is the unsharded sweep's"
    );
    // A folder that is not a sweep's is named, with what is wrong, on one line.
    let not_a_sweep = dir.path().join("whole").join("runs");
    let output = capsim(
        dir.path(),
        &[
            "merge",
            not_a_sweep.to_str().unwrap_or(""),
            "--out",
            merged.to_str().unwrap_or(""),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let missing = not_a_sweep.join("sweep.json");
    assert_eq!(
        stderr.trim_end(),
        format!("capsim: {}: file not found", missing.display())
    );
}

#[test]
fn a_resumed_sweep_equals_an_uninterrupted_one() {
    let dir = TempDir::new("sweep-resume");
    ok(&sweep(&dir, "whole", &["--jobs", "2"]));
    // The state an interruption leaves: some run records written, the tables not (yet).
    ok(&sweep(&dir, "cut", &["--jobs", "2"]));
    let cut = dir.path().join("cut");
    for run in [1, 4, 5, 7] {
        fs::remove_file(cut.join(format!("runs/run-{run:06}.json"))).expect("the record exists");
    }
    for table in TABLES {
        fs::remove_file(cut.join(table)).expect("the table exists");
    }
    let resumed = sweep(&dir, "cut", &["--jobs", "2", "--resume"]);
    ok(&resumed);
    for table in TABLES {
        assert_eq!(
            read(&dir.path().join("whole"), table),
            read(&cut, table),
            "{table}"
        );
    }
}

#[test]
fn a_killed_sweep_resumes_to_the_same_tables() {
    // Runs of an hour each (about 0.2 s), so the kill lands mid-sweep.
    let dir = TempDir::new("sweep-kill");
    let longer = ["--set", "duration=1h"];
    ok(&sweep(
        &dir,
        "whole",
        &[&longer[..], &["--jobs", "1"]].concat(),
    ));
    let file = dir.path().join("sweep.yaml");
    let out = dir.path().join("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args([
            "sweep",
            file.to_str().unwrap_or(""),
            "--out",
            out.to_str().unwrap_or(""),
            "--quiet",
            "--jobs",
            "1",
        ])
        .args(longer)
        .stderr(Stdio::null())
        .spawn()
        .expect("capsim starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !out.join("runs/run-000000.json").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        out.join("runs/run-000000.json").exists(),
        "a run finished before the kill"
    );
    assert!(
        !out.join("runs/run-000007.json").exists(),
        "the kill stopped the sweep early"
    );
    assert!(
        !out.join("sweep.csv").exists(),
        "no tables from a cut-off sweep"
    );
    ok(&sweep(
        &dir,
        "killed",
        &[&longer[..], &["--jobs", "2", "--resume"]].concat(),
    ));
    for table in TABLES {
        assert_eq!(
            read(&dir.path().join("whole"), table),
            read(&out, table),
            "{table}"
        );
    }
}

#[test]
fn resuming_into_another_sweeps_folder_is_refused() {
    let dir = TempDir::new("sweep-foreign");
    ok(&sweep(&dir, "out", &["--jobs", "2"]));
    let other = sweep(&dir, "out", &["--resume", "--set", "duration=6m"]);
    assert_eq!(other.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other.stderr).contains("different sweep"));
}

#[test]
fn command_line_parameters_and_bad_overrides() {
    let dir = TempDir::new("sweep-params");
    ok(&sweep(
        &dir,
        "out",
        &[
            "--param",
            "services.queue.replicas=1,4",
            "--replications",
            "1",
        ],
    ));
    let runs = read(&dir.path().join("out"), "sweep.csv");
    assert_eq!(
        runs.lines().count(),
        1 + 2 * 2,
        "replicas from the command line x concurrency"
    );
    for (setting, needle) in [
        ("services.queue.replicas=abc", "services.queue.replicas"),
        ("services.queue.replica=2", "replicas"),
        (
            "node_pools.big.machine_type.cpu.x=1",
            "--set node_pools.big.machine_type.cpu.x=1",
        ),
    ] {
        let output = sweep(&dir, "bad", &["--set", setting]);
        assert_eq!(output.status.code(), Some(2), "{setting}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(needle), "{setting}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    }
    let bad_point = sweep(&dir, "bad", &["--param", "services.queue.replicas=2,-1"]);
    assert_eq!(bad_point.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_point.stderr).contains("services.queue.replicas=-1"));
}

#[test]
fn a_pools_speed_is_a_sweep_parameter() {
    let dir = TempDir::new("sweep-speed");
    ok(&sweep(
        &dir,
        "out",
        &[
            "--param",
            "node_pools.big.speed=1,1.3",
            "--replications",
            "1",
        ],
    ));
    let points = read(&dir.path().join("out"), "points.csv");
    let header = points.lines().next().unwrap_or("");
    assert!(header.contains("node_pools.big.speed"), "{header}");
    assert_eq!(
        points.lines().count(),
        1 + 2 * 2 * 2,
        "two speeds x the file's replicas x concurrency"
    );
    let bad = sweep(&dir, "bad", &["--param", "node_pools.big.speed=1,0"]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("node_pools.big.speed: \"0\" is out of range"),
        "{stderr}"
    );
}

/// A machine written inline is a YAML flow map with commas: `points.csv` quotes it, and capsim's
/// own readers (the charts, `capsim plot`) read the quoted cell back instead of refusing the row
/// for having too many cells.
#[test]
fn sweeping_an_inline_machine_writes_tables_the_charts_read() {
    let dir = TempDir::new("sweep-inline-machine");
    let inline = "{cpu: 16, memory: 64Gi, price_per_hour: 0.78}";
    let param = format!("node_pools.big.machine_type={inline},n2-standard-16");
    let output = sweep(
        &dir,
        "out",
        &[
            "--param",
            &param,
            "--replications",
            "1",
            "--set",
            "sweep.grid={}",
        ],
    );
    ok(&output);
    let out = dir.path().join("out");
    let points = read(&out, "points.csv");
    assert!(points.contains(&format!("\"{inline}\"")), "{points}");
    assert!(
        out.join("plots/pareto-queue.svg").is_file(),
        "the sweep's charts are drawn: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let redraw = capsim(dir.path(), &["plot", out.to_str().unwrap_or("")]);
    ok(&redraw);
    assert!(
        !String::from_utf8_lossy(&redraw.stderr).contains("cells"),
        "{}",
        String::from_utf8_lossy(&redraw.stderr)
    );
}

/// A run record cut short (a shard killed while writing it) or emptied is not a missing run to
/// shrug at: merge refuses it, naming the file, and says how to redo it.
#[test]
fn merging_a_truncated_or_empty_run_record_is_refused_naming_it() {
    let dir = TempDir::new("sweep-truncated");
    ok(&sweep(&dir, "shard-0", &["--shard", "0/2", "--jobs", "1"]));
    ok(&sweep(&dir, "shard-1", &["--shard", "1/2", "--jobs", "1"]));
    let records = dir.path().join("shard-1").join("runs");
    let mut files: Vec<_> = fs::read_dir(&records)
        .expect("run records")
        .map(|e| e.expect("an entry").path())
        .collect();
    files.sort();
    fs::write(&files[0], "{\"plan\": \"x\", \"ru").expect("truncate");
    fs::write(&files[1], "").expect("empty");
    let shard = |i: usize| dir.path().join(format!("shard-{i}")).display().to_string();
    let out = dir.path().join("merged");
    let output = capsim(
        dir.path(),
        &[
            "merge",
            &shard(0),
            &shard(1),
            "--out",
            out.to_str().unwrap_or(""),
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("2 run records cannot be read"), "{stderr}");
    for file in &files[..2] {
        assert!(stderr.contains(&file.display().to_string()), "{stderr}");
    }
    assert!(stderr.contains("--resume"), "{stderr}");
    assert!(!out.join("sweep.json").exists(), "nothing merged");
}
