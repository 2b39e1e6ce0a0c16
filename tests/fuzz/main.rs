//! Mutation fuzzing of capsim's inputs (issue 12): the shipped scenarios and the files they
//! name (bases, Kubernetes manifests, request and pod traces, node lists) are mutated by a
//! seeded, deterministic generator, and every case must hold to capsim's promises:
//!
//! - no panic, in the library or the binary; `capsim validate` exits 0 or 2 and agrees with
//!   the library;
//! - every error message line (and warning) is one line, at most 1 KiB, without control
//!   characters, naming the file;
//! - every case that validates runs a short simulation (`exec::RUN_DURATION`) within a time
//!   budget (`CAPSIM_FUZZ_TIMEOUT_S`, 10 s) and a memory budget (`exec::MEMORY_BUDGET_BYTES`).
//!
//! `CAPSIM_FUZZ_CASES` (default `DEFAULT_CASES`) and `CAPSIM_FUZZ_SEED` choose the cases;
//! `CAPSIM_FUZZ_CASE=N` replays case N alone. Failing cases are kept under
//! `target/fuzz-failures/`, and the test fails at the end with a count of each kind.
//! It is `#[ignore]`d so that `cargo test --release` stays quick; `.ci/run` runs it.

mod alloc;
mod corpus;
mod exec;
mod mutate;
mod outcome;
mod textual;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus as Rng;

use corpus::Corpus;
use exec::{Process, Run, Validation};
use outcome::{Failure, Findings, Kind, check_line, check_stderr, error_lines};

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

/// Cases of a default run (`.ci/run`).
const DEFAULT_CASES: u64 = 3000;
/// The seed of a default run, so that CI is repeatable.
const DEFAULT_SEED: u64 = 12;
/// Every this many cases, `capsim validate` runs too (and on every case with a failure).
const BINARY_EVERY: u64 = 20;
/// Validation threads left hanging before the run stops.
const MAX_STUCK: usize = 1;

/// What a run of the fuzzer does.
struct Config {
    seed: u64,
    cases: std::ops::Range<u64>,
    timeout: Duration,
}

impl Config {
    fn from_env() -> Config {
        let number = |name: &str| -> Option<u64> {
            let text = std::env::var(name).ok()?;
            Some(
                text.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}={text:?} is not a whole number")),
            )
        };
        let cases = match number("CAPSIM_FUZZ_CASE") {
            Some(case) => case..case + 1,
            None => {
                let first = number("CAPSIM_FUZZ_FIRST").unwrap_or(0);
                first..first + number("CAPSIM_FUZZ_CASES").unwrap_or(DEFAULT_CASES)
            }
        };
        Config {
            seed: number("CAPSIM_FUZZ_SEED").unwrap_or(DEFAULT_SEED),
            cases,
            timeout: Duration::from_secs(number("CAPSIM_FUZZ_TIMEOUT_S").unwrap_or(10)),
        }
    }
}

/// One generated case: the files it rewrites and how.
struct Case {
    id: u64,
    entry: usize,
    edits: Vec<(PathBuf, Vec<u8>)>,
    mutations: Vec<String>,
}

/// The case `id` of `seed`: a function of the two only.
fn generate(corpus: &Corpus, seed: u64, id: u64) -> Case {
    let mut rng = Rng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ id);
    let entry = rng.random_range(0..corpus.entries.len());
    let targets = &corpus.entries[entry].targets;
    let count = match rng.random_range(0..20) {
        0..=11 => 1,
        12..=16 => 2,
        _ => rng.random_range(3..5),
    };
    let mut edits: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
    let mut hostile_to_parse: BTreeSet<PathBuf> = BTreeSet::new();
    let mut mutations = Vec::new();
    for _ in 0..count {
        let target = if targets.len() == 1 || rng.random_range(0..100) < 55 {
            &targets[0]
        } else {
            &targets[rng.random_range(1..targets.len())]
        };
        let bytes = edits.get(target).unwrap_or(&corpus.originals[target]);
        let csv = target.extension().is_some_and(|e| e == "csv");
        let structural = !csv && rng.random_range(0..10) < 7 && !hostile_to_parse.contains(target);
        let mutated = structural
            .then(|| std::str::from_utf8(bytes).ok())
            .flatten()
            .and_then(|text| mutate::mutate_yaml(text, &mut rng))
            .unwrap_or_else(|| textual::mutate_text(bytes, csv, &mut rng));
        mutations.push(format!("{}: {}", target.display(), mutated.what));
        if mutated.hostile_to_parse {
            hostile_to_parse.insert(target.clone());
        }
        edits.insert(target.clone(), mutated.bytes);
    }
    Case {
        id,
        entry,
        edits: edits.into_iter().collect(),
        mutations,
    }
}

/// Counts for the closing line.
#[derive(Default)]
struct Tally {
    cases: u64,
    valid: u64,
    runs: u64,
    binary: u64,
    max_run_ms: u64,
    max_peak_bytes: usize,
    /// Wall time spent validating in this process, running children and running the binary.
    validate_time: Duration,
    run_time: Duration,
    binary_time: Duration,
}

#[test]
#[ignore = "minutes long: .ci/run runs it (cargo test --release --test fuzz -- --ignored)"]
fn fuzz_scenarios() {
    let config = Config::from_env();
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let work = target.join(format!("fuzz-{}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    let corpus = Corpus::new(&work.join("tree"));
    let failures_dir = std::env::var_os("CAPSIM_FUZZ_FAILURES").map_or_else(
        || {
            target
                .parent()
                .expect("tmp is in the target folder")
                .join("fuzz-failures")
        },
        PathBuf::from,
    );
    let mut findings = Findings::new(failures_dir.clone(), config.seed);
    exec::install_panic_hook();
    alloc::set_cap_bytes(4 << 30);
    let started = Instant::now();
    let mut tally = Tally::default();
    let in_progress = failures_dir.join("in-progress.txt");
    fs::create_dir_all(&failures_dir).expect("the target folder is writable");
    for id in config.cases.clone() {
        if !exec::wait_for_stuck(MAX_STUCK, config.timeout * 60) {
            println!("stopping at case {id}: more than {MAX_STUCK} validations are stuck");
            break;
        }
        let case = generate(&corpus, config.seed, id);
        let _ = fs::write(
            &in_progress,
            format!(
                "seed {} case {id}: {}\n",
                config.seed,
                case.mutations.join("; ")
            ),
        );
        for (rel, bytes) in &case.edits {
            fs::write(corpus.root.join(rel), bytes).expect("the work folder is writable");
        }
        let failures = run_case(&corpus, &case, &config, &work, &mut tally);
        findings.record(failures, &case.edits, config.cases.end);
        for (rel, _) in &case.edits {
            corpus.restore(rel);
        }
    }
    let _ = fs::remove_file(&in_progress);
    let _ = fs::remove_dir_all(&work);
    let _ = std::panic::take_hook();
    println!(
        "fuzz: seed {}, {} cases in {:.0} s: {} valid, {} run ({} ms and {} MiB at most), {} checked with the binary; {} failures",
        config.seed,
        tally.cases,
        started.elapsed().as_secs_f64(),
        tally.valid,
        tally.runs,
        tally.max_run_ms,
        tally.max_peak_bytes >> 20,
        tally.binary,
        findings.failures.len()
    );
    println!(
        "time: {:.1} s validating, {:.1} s running, {:.1} s in capsim validate",
        tally.validate_time.as_secs_f64(),
        tally.run_time.as_secs_f64(),
        tally.binary_time.as_secs_f64()
    );
    if !findings.failures.is_empty() {
        println!("{}", findings.summary());
        panic!(
            "{} failures (inputs kept in {}); the summary is above",
            findings.failures.len(),
            findings.dir.display()
        );
    }
}

/// Generating a case never has serde_yaml parse a text that an earlier mutation of the same case
/// made hostile: seed 12's case 25,323 nests a value 100,000 deep and adds an alias bomb to one
/// file, and its third mutation parsed the result, 4 GiB of expanded aliases in this process.
#[test]
fn generating_cases_stays_small() {
    let work =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-gen-{}", std::process::id()));
    let corpus = Corpus::new(&work.join("tree"));
    alloc::set_cap_bytes(4 << 30);
    let before = alloc::reset_peak();
    for id in 25_300..25_400 {
        generate(&corpus, 12, id);
    }
    let grown = alloc::peak_bytes() - before;
    let _ = fs::remove_dir_all(&work);
    assert!(
        grown < 256 << 20,
        "generating 100 cases took {} MiB",
        grown >> 20
    );
}

#[test]
#[ignore = "the child process of fuzz_scenarios, which sets CAPSIM_FUZZ_CHILD"]
fn fuzz_child() {
    if let (Some(path), Some(result)) = (
        std::env::var_os("CAPSIM_FUZZ_CHILD"),
        std::env::var_os("CAPSIM_FUZZ_CHILD_RESULT"),
    ) {
        exec::child(Path::new(&path), &PathBuf::from(result));
    }
}

/// Runs one case (its files already written) and returns its failures.
fn run_case(
    corpus: &Corpus,
    case: &Case,
    config: &Config,
    work: &Path,
    tally: &mut Tally,
) -> Vec<Failure> {
    tally.cases += 1;
    let entry = &corpus.entries[case.entry];
    let path = corpus.root.join(&entry.scenario);
    let root = format!("{}/", corpus.root.display());
    let files = file_names(corpus, entry);
    let mut found: Vec<(Kind, String)> = Vec::new();
    let started = Instant::now();
    let validation = exec::validate_in_process(&path, config.timeout);
    tally.validate_time += started.elapsed();
    let valid = match validation {
        Validation::Panic(message) => {
            found.push((Kind::PanicValidate, message));
            None
        }
        Validation::Hang => {
            found.push((Kind::HangValidate, format!("over {:?}", config.timeout)));
            None
        }
        Validation::Done {
            result,
            with_overrides,
        } => {
            match result.as_ref() {
                Ok(warnings) => {
                    for w in warnings {
                        let broken = check_line(w, &[], &root);
                        found.extend(broken.into_iter().map(|(_, d)| (Kind::Warning, d)));
                    }
                }
                Err(e) => check_error(e, &files, &root, &mut found),
            }
            if let Some(Err(e)) = &with_overrides {
                check_error(e, &files, &root, &mut found);
            }
            let runnable = matches!(with_overrides, Some(Ok(())));
            Some((result.is_ok(), runnable))
        }
    };
    if let Some((true, runnable)) = valid {
        tally.valid += 1;
        if runnable {
            tally.runs += 1;
            let started = Instant::now();
            check_run(&path, work, config, tally, &root, &mut found);
            tally.run_time += started.elapsed();
        }
    }
    if let Some((ok, _)) = valid
        && (case.id.is_multiple_of(BINARY_EVERY) || !found.is_empty())
    {
        tally.binary += 1;
        let started = Instant::now();
        let process = exec::binary_validate(&path, work, config.timeout);
        tally.binary_time += started.elapsed();
        check_binary(&process, ok, &root, &mut found);
    }
    let mut kinds_seen = Vec::new();
    found
        .into_iter()
        .filter(|(kind, _)| {
            let first = !kinds_seen.contains(kind);
            kinds_seen.push(*kind);
            first
        })
        .map(|(kind, detail)| Failure {
            case: case.id,
            scenario: entry.scenario.display().to_string(),
            mutations: case.mutations.clone(),
            kind,
            detail,
        })
        .collect()
}

/// Every line of an error's message against the contract.
fn check_error(
    e: &capsim::scenario::Error,
    files: &[String],
    root: &str,
    found: &mut Vec<(Kind, String)>,
) {
    for line in error_lines(e) {
        found.extend(check_line(&line, files, root));
    }
}

/// How a message may name a file of the case: its full path, or its path from the
/// scenario's folder as the scenario names it.
fn file_names(corpus: &Corpus, entry: &corpus::Entry) -> Vec<String> {
    let dir = entry.scenario.parent().unwrap_or(Path::new(""));
    entry
        .targets
        .iter()
        .flat_map(|t| {
            let full = corpus.root.join(t).display().to_string();
            let relative = t.strip_prefix(dir).unwrap_or(t).display().to_string();
            [full, relative]
        })
        .collect()
}

fn check_run(
    path: &Path,
    work: &Path,
    config: &Config,
    tally: &mut Tally,
    root: &str,
    found: &mut Vec<(Kind, String)>,
) {
    match exec::run_child(path, work, config.timeout) {
        Run::Finished {
            peak_bytes,
            events,
            wall_ms,
        } => {
            tally.max_run_ms = tally.max_run_ms.max(wall_ms);
            tally.max_peak_bytes = tally.max_peak_bytes.max(peak_bytes);
            if peak_bytes > exec::MEMORY_BUDGET_BYTES {
                found.push((
                    Kind::RunMemory,
                    format!("{} MiB at peak, {events} events", peak_bytes >> 20),
                ));
            }
        }
        Run::Refused(reason) => found.push((Kind::RunRefused, outcome::evidence(&reason, root))),
        Run::Hang => found.push((Kind::RunHang, format!("over {:?}", config.timeout))),
        Run::Died(status, tail) if tail.contains("capsim-fuzz: memory cap reached") => {
            found.push((
                Kind::RunMemoryCap,
                format!("{status}: over {} MiB", exec::MEMORY_CAP_BYTES >> 20),
            ));
        }
        Run::Died(status, tail) => found.push((
            Kind::RunDied,
            format!("{status}: {}", outcome::evidence(&tail, root)),
        )),
    }
}

fn check_binary(process: &Process, valid: bool, root: &str, found: &mut Vec<(Kind, String)>) {
    let Some(status) = process.status else {
        found.push((Kind::BinaryHang, "capsim validate was killed".into()));
        return;
    };
    match status.code() {
        Some(0) if valid => {}
        Some(2) if !valid => {}
        Some(code @ (0 | 2)) => found.push((
            Kind::BinaryDisagrees,
            format!("exit {code} where the library says valid={valid}"),
        )),
        _ => found.push((Kind::BinaryExit, format!("{status}"))),
    }
    if let Some(problem) = check_stderr(&process.stderr, root) {
        found.push((Kind::BinaryStderr, problem));
    }
    let stdout = String::from_utf8_lossy(&process.stdout);
    if status.code() == Some(0) && !(stdout.lines().count() == 1 && stdout.contains(": ok (")) {
        found.push((
            Kind::BinaryStderr,
            format!("stdout of a valid file: {}", mutate::shorten(&stdout)),
        ));
    }
}
