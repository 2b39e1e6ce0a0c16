//! The command line as a user meets it: the reference run, the files it writes, the summary it
//! prints, the validate command.

use std::fs;

use crate::util::{TempDir, assert_success, capsim, repo_root};

#[test]
fn run_writes_every_output_and_prints_a_summary() {
    let dir = TempDir::new("cli-run");
    let out = dir.path().join("out");
    let output = capsim(
        repo_root(),
        &[
            "run",
            "scenarios/mmc.yaml",
            "--duration",
            "20m",
            "--out",
            out.to_str().unwrap_or(""),
        ],
    );
    assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("queue") && stdout.contains("total cost"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("events") && stderr.contains("events/s"),
        "{stderr}"
    );

    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap_or_default())
            .expect("summary.json is JSON");
    let queue = &summary["services"]["queue"];
    for path in ["arrived", "completed", "rejected", "timed_out"] {
        assert!(queue["requests"][path].is_u64(), "requests.{path}");
    }
    for q in ["mean", "p50", "p90", "p95", "p99", "max"] {
        assert!(queue["latency_ms"][q].is_number(), "latency_ms.{q}");
    }
    for q in ["mean", "p50", "p99"] {
        assert!(queue["wait_ms"][q].is_number(), "wait_ms.{q}");
    }
    for q in ["min", "max", "mean"] {
        assert!(queue["replicas"][q].is_number(), "replicas.{q}");
        assert!(
            summary["node_pools"]["big"]["nodes"][q].is_number(),
            "nodes.{q}"
        );
    }
    assert!(queue["pending_pod_seconds"].is_number());
    // One 1 USD/h node for 20 minutes, 10 of them warm-up: 10 minutes measured.
    let usd = summary["cost"]["total_usd"].as_f64().unwrap_or(-1.0);
    assert!((usd - 1.0 / 6.0).abs() < 1e-3, "{usd}");
    assert!(summary["cost"]["by_pool"]["big"]["node_hours"].is_number());
    assert!(summary["quotas"]["default"]["rejected_pods"].is_u64());

    let run: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("run.json")).unwrap_or_default())
            .expect("run.json is JSON");
    assert!(run["events_processed"].as_u64().unwrap_or(0) > 1_000_000);
    assert!(run["events_per_s"].as_f64().unwrap_or(0.0) > 0.0);
    // The scenario names no version: the newest modelled one is run and recorded.
    assert_eq!(run["setup"]["kubernetes_version"], "1.36");

    let csv = fs::read_to_string(out.join("timeseries.csv")).unwrap_or_default();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 20, "header and one row per minute");
    assert!(
        lines[0].starts_with("time_s,queue.arrivals_per_s"),
        "{}",
        lines[0]
    );
    let columns = lines[0].split(',').count();
    assert!(lines.iter().all(|l| l.split(',').count() == columns));

    let events = fs::read_to_string(out.join("events.jsonl")).unwrap_or_default();
    let kinds: Vec<String> = events
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("each line is JSON");
            v["event"].as_str().unwrap_or("").to_string()
        })
        .collect();
    for kind in ["NodeAdded", "PodCreated", "PodScheduled", "PodReady"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    assert!(!out.join("timeseries.csv.partial").exists());
}

#[test]
fn run_without_a_scenario_uses_the_built_in_reference() {
    let dir = TempDir::new("cli-default");
    // From an empty folder: the reference scenario is built into the binary.
    let output = capsim(dir.path(), &["run", "--duration", "10m", "--quiet"]);
    assert_success(&output);
    let summary = fs::read_to_string(dir.path().join("outputs/ai-infra/summary.json"))
        .expect("default output folder is outputs/<scenario name>");
    assert!(summary.contains("\"model-inference\""));
    let shipped =
        fs::read_to_string(repo_root().join("scenarios/ai-infra.yaml")).unwrap_or_default();
    assert!(
        shipped.contains("c2-standard-8"),
        "the built-in copy is the shipped file"
    );
}

#[test]
fn validate_accepts_every_shipped_scenario() {
    let mut args = vec!["validate".to_string()];
    for entry in fs::read_dir(repo_root().join("scenarios")).expect("scenarios/ exists") {
        let path = entry.expect("readable entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            args.push(path.display().to_string());
        }
    }
    assert!(
        args.len() >= 4,
        "ai-infra, mmc and at least one more: {args:?}"
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = capsim(repo_root(), &args);
    assert_success(&output);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).lines().count(),
        args.len() - 1
    );
}

#[test]
fn catalog_lists_allocatable_and_prices() {
    let output = capsim(repo_root(), &["catalog"]);
    assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let c2 = stdout
        .lines()
        .find(|l| l.starts_with("c2-standard-8"))
        .expect("c2-standard-8 is listed");
    // GKE reserves 6% + 1% + 2 x 0.5% + 4 x 0.25% of a core: 90m of 8 cores.
    assert!(c2.contains("7910m") && c2.contains("0.4176"), "{c2}");
    assert_eq!(
        stdout.lines().count(),
        1 + 23,
        "header and twenty-three machine types"
    );
    let g2 = stdout
        .lines()
        .find(|l| l.starts_with("g2-standard-8"))
        .expect("g2-standard-8 is listed");
    assert!(g2.contains("1 nvidia-l4"), "{g2}");
    // Speed sits after vCPU: c2-standard-8's 146,712 CoreMark over n2-standard-8's 138,567.
    assert!(stdout.lines().next().is_some_and(|h| h.contains("speed")));
    assert!(c2.contains(" 1.06 "), "{c2}");
}

/// Whether `path` is a non-empty PNG (signature and an IHDR of the given size) or SVG.
fn chart_ok(path: &std::path::Path) -> bool {
    let Ok(bytes) = fs::read(path) else {
        return false;
    };
    match path.extension().and_then(|e| e.to_str()) {
        Some("png") => bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 10_000,
        Some("svg") => {
            let text = String::from_utf8_lossy(&bytes);
            text.contains("<svg") && text.contains("</svg>") && bytes.len() > 2_000
        }
        _ => false,
    }
}

#[test]
fn run_and_sweep_draw_their_charts_and_plot_redraws_them() {
    let dir = TempDir::new("cli-plots");
    let out = dir.path().join("run");
    let output = capsim(
        repo_root(),
        &[
            "run",
            "scenarios/mmc.yaml",
            "--duration",
            "20m",
            "--quiet",
            "--out",
            out.to_str().unwrap_or(""),
        ],
    );
    assert_success(&output);
    for name in ["timeseries.png", "timeseries.svg"] {
        assert!(chart_ok(&out.join("plots").join(name)), "{name}");
    }
    // Redraw from the files alone.
    fs::remove_dir_all(out.join("plots")).expect("the plots folder exists");
    let output = capsim(repo_root(), &["plot", out.to_str().unwrap_or("")]);
    assert_success(&output);
    assert!(chart_ok(&out.join("plots/timeseries.png")));

    let sweep_out = dir.path().join("sweep");
    let output = capsim(
        repo_root(),
        &[
            "sweep",
            "scenarios/mmc.yaml",
            "--duration",
            "15m",
            "--param",
            "services.queue.server.concurrency=8,9",
            "--param",
            "services.queue.replicas=1,2",
            "--replications",
            "2",
            "--quiet",
            "--out",
            sweep_out.to_str().unwrap_or(""),
        ],
    );
    assert_success(&output);
    let plots = sweep_out.join("plots");
    for stem in [
        "pareto-queue",
        "cost-vs-concurrency",
        "p99-queue-vs-replicas",
        "heatmap-cost",
        "heatmap-p99-queue",
    ] {
        for ext in ["png", "svg"] {
            let file = plots.join(format!("{stem}.{ext}"));
            assert!(chart_ok(&file), "{}", file.display());
        }
    }
    // A folder that is neither: exit 2 with the reason.
    let output = capsim(repo_root(), &["plot", dir.path().to_str().unwrap_or("")]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_run_without_plots_leaves_no_charts_of_an_earlier_run() {
    let dir = TempDir::new("stale-plots");
    let out = dir.path().join("out");
    let out_str = out.to_str().unwrap_or("");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "scenarios/mmc.yaml",
            "--duration",
            "20m",
            "--quiet",
            "--out",
            out_str,
        ];
        args.extend_from_slice(extra);
        assert_success(&capsim(repo_root(), &args));
    };
    run(&[]);
    assert!(out.join("plots/timeseries.svg").is_file());
    run(&["--no-plots"]);
    assert!(out.join("summary.json").is_file());
    assert!(
        !out.join("plots").exists(),
        "the first run's charts would be taken for the second's"
    );
}

#[test]
fn run_reports_progress_in_plain_lines_off_a_terminal_and_none_when_quiet() {
    let dir = TempDir::new("progress");
    let out = dir.path().join("out");
    let out_str = out.to_str().unwrap_or("");
    let args = |quiet: bool| {
        let mut args = vec![
            "run",
            "scenarios/mmc.yaml",
            "--duration",
            "20m",
            "--no-plots",
            "--out",
            out_str,
        ];
        if quiet {
            args.push("--quiet");
        }
        args
    };
    let output = capsim(repo_root(), &args(false));
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("run: ")).collect();
    assert_eq!(lines.len(), 10, "one line per tenth of the run:\n{stderr}");
    assert!(
        lines[0].starts_with("run: simulated 2m0s of 20m0s (10%)"),
        "{stderr}"
    );
    assert!(
        lines[9].starts_with("run: simulated 20m0s of 20m0s (100%)"),
        "{stderr}"
    );
    assert!(
        lines.iter().all(|l| l.contains(" events/s, ETA ")),
        "{stderr}"
    );

    let quiet = capsim(repo_root(), &args(true));
    assert_success(&quiet);
    let stderr = String::from_utf8_lossy(&quiet.stderr);
    assert!(
        !stderr.contains("run: "),
        "--quiet shows no progress:\n{stderr}"
    );
}

/// `/dev/full` opened for writing: every write fails with "No space left on device".
fn full_device() -> Option<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .ok()
}

#[test]
fn a_full_standard_output_is_one_error_line_and_exit_2_not_a_panic() {
    if full_device().is_none() {
        return; // no /dev/full on this system
    }
    let dir = TempDir::new("stdout-full");
    let out = dir.path().join("out");
    let commands: [&[&str]; 3] = [
        &["catalog"],
        &["validate", "scenarios/mmc.yaml"],
        &[
            "run",
            "scenarios/mmc.yaml",
            "--duration",
            "15m",
            "--no-plots",
            "--no-report",
            "--out",
            out.to_str().unwrap_or(""),
        ],
    ];
    for args in commands {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_capsim"))
            .args(args)
            .current_dir(repo_root())
            .stdout(full_device().expect("/dev/full"))
            .output()
            .expect("capsim runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("capsim: "))
            .collect();
        assert_eq!(errors.len(), 1, "{args:?}: {stderr}");
        assert!(
            errors[0].starts_with("capsim: standard output: "),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_full_standard_error_loses_the_messages_but_not_the_results() {
    if full_device().is_none() {
        return; // no /dev/full on this system
    }
    let dir = TempDir::new("stderr-full");
    let out = dir.path().join("sweep");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args([
            "sweep",
            "scenarios/mmc.yaml",
            "--duration",
            "15m",
            "--replications",
            "2",
            "--param",
            "services.queue.replicas=8,9",
            "--no-plots",
            "--no-report",
            "--out",
            out.to_str().unwrap_or(""),
        ])
        .current_dir(repo_root())
        .stderr(full_device().expect("/dev/full"))
        .output()
        .expect("capsim runs");
    assert_eq!(output.status.code(), Some(0));
    for table in ["sweep.csv", "points.csv", "sweep.json"] {
        assert!(out.join(table).is_file(), "{table} is written");
    }
}

#[test]
fn bad_arguments_are_one_capsim_line_with_what_is_allowed() {
    let dir = TempDir::new("bad-arguments");
    let file = dir.write("not-a-folder", "");
    let file = file.to_str().unwrap_or("");
    let cases: [(&[&str], &str); 5] = [
        // A bare 5 would have meant 500%.
        (
            &["check", "scenarios/mmc.yaml", "--tolerance", "5"],
            "write 5% for 5 percent",
        ),
        (
            &["sweep", "scenarios/mmc.yaml", "--jobs", "0"],
            "expected a whole number >= 1",
        ),
        (
            &["run", "scenarios/mmc.yaml", "--out", file],
            "is a file, not a folder",
        ),
        (&["run", "--quite"], "a similar argument exists: '--quiet'"),
        (&["frobnicate"], "unrecognized subcommand"),
    ];
    for (args, says) in cases {
        let output = capsim(repo_root(), args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("capsim: "), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}
