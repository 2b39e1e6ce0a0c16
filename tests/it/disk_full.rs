//! Output errors are errors: a full disk, a device that refuses writes or a folder that cannot
//! be written ends `run`, `sweep`, `merge`, `check`, `plot` and `report` with exit 2 and one
//! `capsim:` line naming the file, never a panic, and leaves no temporary file behind nor a
//! folder that looks complete; a sweep keeps its run records for `--resume`.
//!
//! A full disk is simulated without root or a special filesystem: the child runs under
//! RLIMIT_FSIZE (`ulimit -f`, in blocks of 512 bytes) with SIGXFSZ ignored (an ignored signal
//! stays ignored across `exec`), so a write past the limit fails with EFBIG, "File too large",
//! as a write to a full disk fails with ENOSPC. Each limit is derived from the sizes of the
//! files a first, unlimited command wrote, so that it fails at the file a case is about.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::{TempDir, assert_success, capsim};

const SCENARIO: &str = r#"
name: disk
duration: 2m
node_pools:
  pool: {machine_type: e2-standard-8, initial_size: 1}
services:
  web:
    replicas: 1
    resources: {requests: {cpu: 500m, memory: 1Gi}}
    load:
      arrivals: {rate: 20}
      service_time: {distribution: exponential, mean: 5ms}
expect:
  - cost.total_usd >= 0
"#;

/// Runs `capsim args` in `cwd`, every file it writes limited to `blocks` blocks of 512 bytes.
fn capsim_limited(cwd: &Path, blocks: u64, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            r#"trap "" XFSZ; ulimit -f {blocks}; exec "$0" "$@""#
        ))
        .arg(env!("CARGO_BIN_EXE_capsim"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("sh runs capsim")
}

/// The one line of a command that failed with exit 2; fails the test unless it is exactly
/// that: exit code 2, one line on standard error, starting `capsim: `, and no panic.
fn the_error(output: &Output, case: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{case}: {stderr}");
    assert!(!stderr.contains("panicked"), "{case}: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{case}: one line:\n{stderr}");
    assert!(lines[0].starts_with("capsim: "), "{case}: {stderr}");
    lines[0].to_string()
}

/// Every file under `dir` whose name says it is temporary (`*.partial`, `*.tmp`).
fn temporary_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".partial") || name.ends_with(".tmp") {
            found.push(path.clone());
        }
        if path.is_dir() {
            found.extend(temporary_files(&path));
        }
    }
    found
}

fn assert_no_temporary_files(dir: &Path, case: &str) {
    let left = temporary_files(dir);
    assert!(left.is_empty(), "{case}: temporary files left: {left:?}");
}

/// The sizes of the files of `names` (in the order they are written) that `dir` holds.
fn sizes(dir: &Path, names: &[&'static str]) -> Vec<(&'static str, u64)> {
    (names.iter())
        .filter_map(|&name| Some((name, std::fs::metadata(dir.join(name)).ok()?.len())))
        .collect()
}

/// The limit, in blocks of 512 bytes, that holds every file written before `target` and not
/// `target`: the command then fails at `target`.
fn limit_failing_at(sizes: &[(&str, u64)], target: &str) -> u64 {
    let index = (sizes.iter().position(|(name, _)| *name == target))
        .unwrap_or_else(|| panic!("{target} is written: {sizes:?}"));
    let before = sizes[..index].iter().map(|(_, size)| *size).max();
    let blocks = before.unwrap_or(0).div_ceil(512);
    assert!(
        blocks * 512 < sizes[index].1,
        "{target} is larger than every file written before it: {sizes:?}"
    );
    blocks
}

fn text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A run's files, in the order a run writes them.
const RUN_FILES: [&str; 7] = [
    "timeseries.csv",
    "events.jsonl",
    "run.json",
    "summary.json",
    "plots/timeseries.png",
    "plots/timeseries.svg",
    "report.html",
];

/// The files of a run's results, as opposed to its charts and report.
const RESULTS: [&str; 4] = ["timeseries.csv", "events.jsonl", "run.json", "summary.json"];

#[test]
fn a_run_that_cannot_write_a_file_names_it_and_leaves_nothing_partial() {
    let dir = TempDir::new("disk-full-run");
    let file = dir.write("scenario.yaml", SCENARIO);
    let file = file.to_str().unwrap_or("");
    // The file that fails, and options that make it the first too large for the limit.
    let cases: [(&str, &[&str]); 5] = [
        ("timeseries.csv", &["--set", "resolution=1s"]),
        (
            "events.jsonl",
            &["--set", "node_pools.pool.initial_size=30"],
        ),
        ("summary.json", &[]),
        ("plots/timeseries.png", &[]),
        ("report.html", &["--no-plots"]),
    ];
    for (i, (target, extra)) in cases.into_iter().enumerate() {
        let out = dir.path().join(format!("out-{i}"));
        let mut args = vec!["run", file, "--quiet", "--out", out.to_str().unwrap_or("")];
        args.extend_from_slice(extra);
        // A complete run first: its files give the limit, and the failed run into the same
        // folder must not leave them beside its own.
        assert_success(&capsim(dir.path(), &args));
        let complete = text(&out.join("summary.json"));
        let blocks = limit_failing_at(&sizes(&out, &RUN_FILES), target);

        let error = the_error(&capsim_limited(dir.path(), blocks, &args), target);
        let name = target.rsplit('/').next().unwrap_or(target);
        assert!(
            error.contains(&format!("{name}: File too large")),
            "{target}: {error}"
        );
        assert_no_temporary_files(&out, target);
        assert!(!out.join(target).exists(), "{target} is not written");
        assert!(!out.join("report.html").exists(), "{target}: no report");
        if RESULTS.contains(&target) {
            assert!(error.contains("nothing of the run is kept"), "{error}");
            for name in RESULTS {
                assert!(!out.join(name).exists(), "{target}: {name} is left");
            }
        } else {
            assert!(error.contains("are complete"), "{error}");
            assert_eq!(text(&out.join("summary.json")), complete, "{target}");
        }
    }
}

/// The arguments of a sweep of 2 points x 2 replications into `out`, with `extra`.
fn sweep_args<'a>(file: &'a str, out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "sweep",
        file,
        "--param",
        "services.web.replicas=1,2",
        "--replications",
        "2",
        "--quiet",
        "--no-plots",
        "--no-report",
        "--out",
        out.to_str().unwrap_or(""),
    ];
    args.extend_from_slice(extra);
    args
}

const TABLES: [&str; 3] = ["sweep.csv", "points.csv", "sweep.json"];

/// The sizes of the run records in sweep folder `dir`.
fn record_sizes(dir: &Path) -> Vec<u64> {
    let entries = std::fs::read_dir(dir.join("runs")).into_iter().flatten();
    (entries.flatten())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .filter_map(|e| Some(e.metadata().ok()?.len()))
        .collect()
}

/// The limit at which writing sweep folder `dir` again fails at a table, after every run
/// record is written, and that table.
fn table_limit(dir: &Path) -> (u64, &'static str) {
    let largest = record_sizes(dir).into_iter().max().unwrap_or(0);
    let mut order: Vec<(&str, u64)> = vec![("runs/", largest)];
    order.extend(sizes(dir, &TABLES));
    let table = (order.iter().skip(1))
        .find(|(_, size)| *size > largest.div_ceil(512) * 512)
        .map_or("a table larger than a run record", |(name, _)| *name);
    (limit_failing_at(&order, table), table)
}

#[test]
fn a_sweep_that_cannot_write_keeps_its_run_records_and_resumes() {
    let dir = TempDir::new("disk-full-sweep");
    let file = dir.write("scenario.yaml", SCENARIO);
    let file = file.to_str().unwrap_or("");
    let reference = dir.path().join("reference");
    assert_success(&capsim(dir.path(), &sweep_args(file, &reference, &[])));
    let records = record_sizes(&reference);
    assert_eq!(records.len(), 4);
    let smallest = records.iter().copied().min().unwrap_or(0);
    let (blocks, table) = table_limit(&reference);

    // (case, limit, what the message names, records kept)
    let cases = [
        ("records", (smallest - 1) / 512, ".json", 0),
        ("tables", blocks, table, 4),
    ];
    for (case, blocks, named, kept) in cases {
        let out = dir.path().join(case);
        // A complete sweep first, whose tables must not survive the failed one.
        assert_success(&capsim(dir.path(), &sweep_args(file, &out, &[])));
        let error = the_error(
            &capsim_limited(dir.path(), blocks, &sweep_args(file, &out, &[])),
            case,
        );
        assert!(
            error.contains(&format!("{named}: File too large")),
            "{error}"
        );
        if case == "records" {
            assert!(error.contains("/runs/run-"), "{error}");
        }
        assert!(
            error.contains(&format!("{kept} of 4 runs are recorded in"))
                && error.ends_with("run the same command again with --resume to finish"),
            "{error}"
        );
        assert_no_temporary_files(&out, case);
        assert_eq!(record_sizes(&out).len(), kept, "{case}: records kept");
        for table in TABLES {
            assert!(!out.join(table).exists(), "{case}: {table} is left");
        }

        let resumed = capsim(dir.path(), &sweep_args(file, &out, &["--resume"]));
        assert_success(&resumed);
        for table in TABLES {
            assert_eq!(
                text(&out.join(table)),
                text(&reference.join(table)),
                "{case}: {table}"
            );
        }
    }
}

#[test]
fn merge_plot_report_and_check_that_cannot_write_name_the_file_and_leave_nothing_partial() {
    let dir = TempDir::new("disk-full-commands");
    let file = dir.write("scenario.yaml", SCENARIO);
    let file = file.to_str().unwrap_or("");
    let path = |name: &str| dir.path().join(name).to_str().unwrap_or("").to_string();
    for shard in ["0/2", "1/2"] {
        let out = dir.path().join(format!("shard-{}", &shard[..1]));
        assert_success(&capsim(
            dir.path(),
            &sweep_args(file, &out, &["--shard", shard]),
        ));
    }
    let run = path("run");
    assert_success(&capsim(
        dir.path(),
        &["run", file, "--quiet", "--no-plots", "--out", &run],
    ));
    let (merged, report, junit) = (path("merged"), path("page.html"), path("junit.xml"));
    let (shard_0, shard_1) = (path("shard-0"), path("shard-1"));
    let merge = vec!["merge", &shard_0, &shard_1, "--out", &merged];
    // A complete merge first: its files give the limit, and its tables must not survive.
    assert_success(&capsim(dir.path(), &merge));
    let (merge_blocks, table) = table_limit(Path::new(&merged));
    // A JUnit file of an earlier check, which a failed one leaves as it was.
    std::fs::write(&junit, "<earlier/>").unwrap_or_else(|e| panic!("{e}"));
    // (case, limit in blocks, arguments, what the message names, what is not written)
    let cases: [(&str, u64, Vec<&str>, &str, &str); 4] = [
        ("merge", merge_blocks, merge, table, "merged/report.html"),
        (
            "plot",
            1,
            vec!["plot", &run],
            "timeseries.png",
            "run/plots/timeseries.png",
        ),
        (
            "report",
            1,
            vec!["report", &run, "--out", &report],
            "page.html",
            "page.html",
        ),
        (
            "check",
            0,
            vec!["check", file, "--junit", &junit],
            "junit.xml: --junit: ",
            "junit.xml.tmp",
        ),
    ];
    for (case, blocks, args, named, absent) in cases {
        let error = the_error(&capsim_limited(dir.path(), blocks, &args), case);
        assert!(
            error.contains(named) && error.contains("File too large"),
            "{case}: {error}"
        );
        assert!(!dir.path().join(absent).exists(), "{case}: {absent}");
        assert_no_temporary_files(dir.path(), case);
    }
    assert_eq!(text(Path::new(&junit)), "<earlier/>");
    for table in TABLES {
        assert!(!Path::new(&merged).join(table).exists(), "merge: {table}");
    }
}

#[test]
fn a_device_that_refuses_writes_is_an_error_and_stays_a_device() {
    if !Path::new("/dev/full").exists() {
        return; // no /dev/full on this system
    }
    let dir = TempDir::new("disk-full-device");
    let file = dir.write("scenario.yaml", SCENARIO);
    let file = file.to_str().unwrap_or("");
    let link = dir.path().join("full");
    std::os::unix::fs::symlink("/dev/full", &link).unwrap_or_else(|e| panic!("{e}"));
    let run = dir.path().join("run");
    let run = run.to_str().unwrap_or("");
    // Through a link first: a file renamed over it would replace the link, not the device.
    for target in [link.to_str().unwrap_or(""), "/dev/full"] {
        let cases: [(&str, Vec<&str>); 3] = [
            (
                "--openmetrics",
                vec![
                    "run",
                    file,
                    "--quiet",
                    "--no-plots",
                    "--no-report",
                    "--out",
                    run,
                    "--openmetrics",
                    target,
                ],
            ),
            ("report --out", vec!["report", run, "--out", target]),
            ("check --junit", vec!["check", file, "--junit", target]),
        ];
        for (case, args) in cases {
            let error = the_error(&capsim(dir.path(), &args), case);
            assert!(
                error.contains(target) && error.contains("No space left on device"),
                "{case}: {error}"
            );
            let is_link = std::fs::symlink_metadata(&link).map(|m| m.file_type().is_symlink());
            assert_eq!(is_link.ok(), Some(true), "{case}: the link is kept");
            let device = std::fs::metadata(target).map(|m| !m.is_file());
            assert_eq!(
                device.ok(),
                Some(true),
                "{case}: {target} is still a device"
            );
        }
        assert!(
            Path::new(run).join("summary.json").is_file(),
            "the run is kept"
        );
    }
    assert_no_temporary_files(dir.path(), "devices");
}

#[test]
fn a_read_only_folder_is_one_error_line() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("disk-full-read-only");
    let file = dir.write("scenario.yaml", SCENARIO);
    let file = file.to_str().unwrap_or("");
    let folder = dir.path().join("read-only");
    std::fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o555))
        .unwrap_or_else(|e| panic!("{e}"));
    // As root (some CI runners) permissions do not stop writes: nothing to test there.
    let probe = folder.join("probe");
    if std::fs::write(&probe, "").is_ok() {
        let _ = std::fs::remove_file(&probe);
        let _ = std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755));
        return;
    }
    let out = folder.to_str().unwrap_or("");
    let cases: [(&str, Vec<&str>); 2] = [
        ("run", vec!["run", file, "--quiet", "--out", out]),
        ("sweep", sweep_args(file, &folder, &[])),
    ];
    for (case, args) in cases {
        let error = the_error(&capsim(dir.path(), &args), case);
        assert!(error.contains("Permission denied"), "{case}: {error}");
    }
    let _ = std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755));
    assert_eq!(
        std::fs::read_dir(&folder).map(Iterator::count).ok(),
        Some(0)
    );
}
