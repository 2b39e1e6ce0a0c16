//! Reproducibility: the same scenario and seed give byte-identical `summary.json`; another seed
//! gives different results. Runs go through the real binary, as users run them.

use std::fs;

use crate::util::{TempDir, assert_success, capsim, repo_root};

fn summary_of(dir: &TempDir, out: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "run",
        "scenarios/ai-infra.yaml",
        "--duration",
        "2h",
        "--quiet",
        "--out",
    ];
    let out_dir = dir.path().join(out);
    let out_str = out_dir.to_str().expect("temporary paths are UTF-8");
    args.push(out_str);
    args.extend_from_slice(extra);
    let output = capsim(repo_root(), &args);
    assert_success(&output);
    fs::read_to_string(out_dir.join("summary.json")).expect("the run wrote summary.json")
}

#[test]
fn same_seed_gives_identical_summaries() {
    let dir = TempDir::new("determinism");
    let first = summary_of(&dir, "a", &[]);
    let second = summary_of(&dir, "b", &[]);
    assert_eq!(first, second);
    assert!(first.contains("\"vector-store\""), "{first}");
}

#[test]
fn another_seed_gives_different_results() {
    let dir = TempDir::new("determinism-seed");
    let base = summary_of(&dir, "a", &[]);
    let other = summary_of(&dir, "b", &["--seed", "43"]);
    assert_ne!(base, other);
    let strip_seed = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("\"seed\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_ne!(
        strip_seed(&base),
        strip_seed(&other),
        "only the seed line differs"
    );
}

#[test]
fn library_runs_repeat_exactly_including_the_time_series() {
    use capsim::report::Collect;
    use capsim::simulation::Simulation;
    let yaml = fs::read_to_string(repo_root().join("scenarios/mmc.yaml")).expect("mmc.yaml exists");
    let mut scenario = crate::util::scenario(&yaml);
    scenario.duration = capsim::units::SimDuration::from_secs(1_800);
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let mut seen = Collect::default();
            let outcome = Simulation::new(&scenario).run(&mut seen);
            (
                outcome.summary,
                outcome.events_processed,
                seen.rows,
                seen.events,
            )
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
}
