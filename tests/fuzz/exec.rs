//! Running a case: validation in this process (on a thread with a deadline, panics caught),
//! `capsim validate` as a process, and a short simulation in a child process (this test
//! binary again), which can be killed when it hangs and whose heap is counted and capped.

#![allow(
    clippy::result_large_err,
    reason = "scenario::Error is the library's own flat enum, passed on as it is"
)]

use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use capsim::report::Discard;
use capsim::scenario::budget::Limits;
use capsim::scenario::{Document, Error, Override, Scenario};
use capsim::simulation::Simulation;
use capsim::sweep::Plan;

use crate::alloc;

/// The simulated length of a run: short, and at least one default time-series row (60 s).
pub const RUN_DURATION: &str = "2m";
/// A run whose heap grows past this is a failure (`memory`).
pub const MEMORY_BUDGET_BYTES: usize = 512 << 20;
/// A child's allocations past this fail, which aborts it: the machine never swaps.
pub const MEMORY_CAP_BYTES: usize = 1 << 30;
/// The main thread's stack in the binary, given to every thread that validates or runs.
const STACK_BYTES: usize = 8 << 20;

/// The overrides a run gets: a short duration and no warm-up.
pub fn run_overrides() -> Vec<Override> {
    vec![
        Override {
            path: "duration".into(),
            value: RUN_DURATION.into(),
        },
        Override {
            path: "warmup".into(),
            value: "0s".into(),
        },
    ]
}

/// What validating a case in this process gave.
#[derive(Debug)]
pub enum Validation {
    /// It panicked, with the panic's message and place.
    Panic(String),
    /// It did not finish within the deadline (the thread is left running).
    Hang,
    /// It finished.
    Done {
        /// The manifests' and validation's warnings, or the error.
        result: Box<Result<Vec<String>, Error>>,
        /// For a valid case: the same with the run's overrides.
        with_overrides: Option<Result<(), Error>>,
    },
}

/// Validation threads still running, abandoned or not.
pub static VALIDATING: AtomicUsize = AtomicUsize::new(0);
static LAST_PANIC: Mutex<String> = Mutex::new(String::new());

/// Records every panic's message and place (one line) for the failure report, instead of
/// printing a backtrace per case.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let text: String = info.to_string().replace('\n', " | ");
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = text;
        }
    }));
}

fn last_panic() -> String {
    LAST_PANIC.lock().map(|s| s.clone()).unwrap_or_default()
}

/// Validates the scenario at `path` as `capsim validate` does, then with the run's overrides.
pub fn validate_in_process(path: &Path, timeout: Duration) -> Validation {
    let (send, receive) = mpsc::channel();
    let path = path.to_path_buf();
    VALIDATING.fetch_add(1, Ordering::SeqCst);
    std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(move || {
            let result = std::panic::catch_unwind(|| validate(&path));
            VALIDATING.fetch_sub(1, Ordering::SeqCst);
            let _ = send.send(result.map_err(|_| last_panic()));
        })
        .expect("a thread starts");
    match receive.recv_timeout(timeout) {
        Ok(Ok((result, with_overrides))) => Validation::Done {
            result: Box::new(result),
            with_overrides,
        },
        Ok(Err(panic)) => Validation::Panic(panic),
        Err(_) => Validation::Hang,
    }
}

/// Waits, up to `patience`, until at most `most` validation threads are left running (a slow
/// one finishes eventually); false when they are still running.
pub fn wait_for_stuck(most: usize, patience: Duration) -> bool {
    let started = Instant::now();
    while VALIDATING.load(Ordering::SeqCst) > most {
        if started.elapsed() > patience {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    true
}

type Validated = (Result<Vec<String>, Error>, Option<Result<(), Error>>);

fn validate(path: &Path) -> Validated {
    let document = match Document::load(path) {
        Ok(document) => document,
        Err(e) => return (Err(e), None),
    };
    let mut warnings = document.warnings().to_vec();
    match document.scenario_within(Limits::DEFAULT) {
        Err(e) => (Err(e), None),
        Ok((scenario, more)) => {
            warnings.extend(more);
            if let Err(e) = as_capsim_validate(&document, &scenario, path) {
                return (Err(e), None);
            }
            let again = document
                .with(&run_overrides())
                .and_then(|d| d.scenario_within(Limits::DEFAULT).map(|_| ()));
            (Ok(warnings), Some(again))
        }
    }
}

/// What `capsim validate` checks beyond the scenario: every point of its sweep, and its
/// `expect` assertions as `capsim check` reads them.
fn as_capsim_validate(document: &Document, scenario: &Scenario, path: &Path) -> Result<(), Error> {
    if scenario.sweep.is_some() {
        Plan::new(document, &[], Limits::DEFAULT)?;
    }
    if !scenario.expectations.is_empty() {
        let options = capsim::check::CheckOptions::validation();
        capsim::check::prepare(scenario, path, &options).map_err(|e| Error::Invalid {
            origin: path.display().to_string(),
            path: "expect".into(),
            problem: e.to_string(),
            allowed: "expected what capsim check accepts".into(),
        })?;
    }
    Ok(())
}

/// A finished (or killed) process.
#[derive(Debug)]
pub struct Process {
    /// Its exit status; `None` when it was killed at the deadline.
    pub status: Option<ExitStatus>,
    /// What it wrote, at most 8 MiB of each.
    pub stdout: Vec<u8>,
    /// As `stdout`.
    pub stderr: Vec<u8>,
}

/// Runs `command` with its output in files under `dir`, killing it at `timeout`.
pub fn run_process(mut command: Command, dir: &Path, timeout: Duration) -> Process {
    let out_path = dir.join("stdout");
    let err_path = dir.join("stderr");
    let out = fs::File::create(&out_path).expect("the work folder is writable");
    let err = fs::File::create(&err_path).expect("the work folder is writable");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("the process starts");
    let started = Instant::now();
    let mut pause = Duration::from_micros(200);
    let status = loop {
        if let Some(status) = child.try_wait().expect("the process can be waited for") {
            break Some(status);
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    };
    Process {
        status,
        stdout: read_capped(&out_path),
        stderr: read_capped(&err_path),
    }
}

fn read_capped(path: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    if let Ok(file) = fs::File::open(path) {
        let _ = file.take(8 << 20).read_to_end(&mut bytes);
    }
    bytes
}

/// `capsim validate FILE`.
pub fn binary_validate(path: &Path, dir: &Path, timeout: Duration) -> Process {
    let mut command = Command::new(env!("CARGO_BIN_EXE_capsim"));
    command.arg("validate").arg(path).env("RUST_BACKTRACE", "0");
    run_process(command, dir, timeout)
}

/// What a child's run gave.
#[derive(Debug)]
pub enum Run {
    /// The run finished: its peak heap, events and wall time.
    Finished {
        /// Peak live heap bytes of validation, planning and the run.
        peak_bytes: usize,
        /// Events the engine handled.
        events: u64,
        /// Wall-clock milliseconds of the whole child.
        wall_ms: u64,
    },
    /// The child said why it did not run (a sweep that cannot be planned, a scenario that
    /// does not validate there).
    Refused(String),
    /// The child was killed at the deadline.
    Hang,
    /// The child died: its status and the end of its standard error.
    Died(String, String),
}

/// Runs the scenario at `path` with the run's overrides in a child process.
pub fn run_child(path: &Path, dir: &Path, timeout: Duration) -> Run {
    let result = dir.join("result");
    let _ = fs::remove_file(&result);
    let mut command = Command::new(std::env::current_exe().expect("the test binary is known"));
    command
        .args([
            "fuzz_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
            "-q",
        ])
        .env("CAPSIM_FUZZ_CHILD", path)
        .env("CAPSIM_FUZZ_CHILD_RESULT", &result)
        .env("RUST_MIN_STACK", STACK_BYTES.to_string())
        .env("RUST_BACKTRACE", "0");
    let process = run_process(command, dir, timeout);
    let Some(status) = process.status else {
        return Run::Hang;
    };
    let text = fs::read_to_string(&result).unwrap_or_default();
    if status.success() {
        if let Some(finished) = parse_finished(&text) {
            return finished;
        }
        if let Some(reason) = text.strip_prefix("refused ") {
            return Run::Refused(reason.to_string());
        }
    }
    let stderr = String::from_utf8_lossy(&process.stderr);
    let tail: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = tail[tail.len().saturating_sub(4)..].join(" | ");
    Run::Died(format!("{status}"), tail)
}

fn parse_finished(text: &str) -> Option<Run> {
    let rest = text.strip_prefix("ok ")?;
    let field = |name: &str| -> Option<u64> {
        rest.split(' ')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
    };
    Some(Run::Finished {
        peak_bytes: field("peak_bytes")? as usize,
        events: field("events")?,
        wall_ms: field("wall_ms")?,
    })
}

/// The child's side of `run_child`: validates (and plans a sweep) with the run's overrides,
/// runs, and writes what happened to `result`.
pub fn child(path: &Path, result: &PathBuf) {
    alloc::set_cap_bytes(MEMORY_CAP_BYTES);
    let base = alloc::reset_peak();
    let started = Instant::now();
    let line = match prepare(path) {
        Err(reason) => format!("refused {reason}"),
        Ok(scenario) => {
            let outcome = Simulation::new(&scenario).run(&mut Discard);
            format!(
                "ok peak_bytes={} events={} wall_ms={}",
                alloc::peak_bytes().saturating_sub(base),
                outcome.events_processed,
                started.elapsed().as_millis()
            )
        }
    };
    fs::write(result, line).expect("the result file is writable");
}

fn prepare(path: &Path) -> Result<Scenario, String> {
    let one_line = |e: Error| e.to_string().replace('\n', " | ");
    let document = Document::load(path)
        .and_then(|d| d.with(&run_overrides()))
        .map_err(one_line)?;
    let (scenario, _) = document
        .scenario_within(Limits::DEFAULT)
        .map_err(one_line)?;
    if scenario.sweep.is_some() {
        Plan::new(&document, &[], Limits::DEFAULT)
            .map_err(|e| format!("sweep plan: {}", one_line(e)))?;
    }
    Ok(scenario)
}
