//! What a case must satisfy, the failures found, the files kept to reproduce them and the
//! summary printed at the end.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use capsim::scenario::Error;

/// The longest message line allowed, in bytes (the binary adds `capsim: ` before it).
pub const MAX_LINE_BYTES: usize = 1024;

/// What went wrong, for the summary's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Validation panicked.
    PanicValidate,
    /// Validation did not finish within the deadline.
    HangValidate,
    /// One error's message spans several lines.
    MessageMultiline,
    /// A message line over `MAX_LINE_BYTES`.
    MessageLong,
    /// A message line with a control character other than a tab.
    MessageControl,
    /// A message line that names no file of the case.
    MessageUnnamed,
    /// A warning that breaks the same rules.
    Warning,
    /// `capsim validate` exited with neither 0 nor 2.
    BinaryExit,
    /// `capsim validate` and the library disagree on whether the file is valid.
    BinaryDisagrees,
    /// `capsim validate` wrote a line that is not `capsim: ...`, is too long, or says panicked.
    BinaryStderr,
    /// `capsim validate` did not finish within the deadline.
    BinaryHang,
    /// The run panicked or died otherwise.
    RunDied,
    /// The run hit the memory cap (its allocations failed).
    RunMemoryCap,
    /// The run's heap went past the budget.
    RunMemory,
    /// The run did not finish within the deadline.
    RunHang,
    /// A valid scenario whose sweep cannot be planned, or that the run refused.
    RunRefused,
}

/// One failure of one case.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The case.
    pub case: u64,
    /// Its scenario.
    pub scenario: String,
    /// The mutations that made it.
    pub mutations: Vec<String>,
    /// What went wrong.
    pub kind: Kind,
    /// The evidence, one line.
    pub detail: String,
}

/// The lines of an error's message: one per error, for errors that hold several.
pub fn error_lines(error: &Error) -> Vec<String> {
    match error {
        Error::Many(errors) => errors.iter().flat_map(error_lines).collect(),
        Error::Trace { problems, more, .. } => {
            lines_of(error, problems.len() + usize::from(*more > 0))
        }
        Error::Manifests { problems } => lines_of(error, problems.len()),
        other => vec![other.to_string()],
    }
}

/// The lines `error` shows, which must be `count`, one per problem: otherwise its whole text,
/// whose newline the checks then report.
fn lines_of(error: &Error, count: usize) -> Vec<String> {
    let text = error.to_string();
    let lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    if lines.len() == count {
        lines
    } else {
        vec![text]
    }
}

/// The ways `line` breaks the message contract: one line, short, no control characters,
/// naming one of `files` (a case's files, each as a full path and as the scenario names it);
/// `root`, the work folder, is left out of the evidence.
pub fn check_line(line: &str, files: &[String], root: &str) -> Vec<(Kind, String)> {
    let shown = || evidence(line, root);
    let mut found = Vec::new();
    if line.contains('\n') {
        found.push((Kind::MessageMultiline, shown()));
    }
    if line.len() > MAX_LINE_BYTES {
        found.push((
            Kind::MessageLong,
            format!("{} bytes: {}", line.len(), shown()),
        ));
    }
    if line
        .chars()
        .any(|c| c.is_control() && c != '\t' && c != '\n')
    {
        found.push((Kind::MessageControl, shown()));
    }
    if !files.is_empty() && !files.iter().any(|f| line.contains(f.as_str())) {
        found.push((Kind::MessageUnnamed, shown()));
    }
    found
}

/// A message for the summary: without the work folder, escaped, at most about 300 characters.
pub fn evidence(text: &str, root: &str) -> String {
    let text = if root.is_empty() {
        text.to_string()
    } else {
        text.replace(root, "")
    };
    let escaped: String = text.escape_debug().collect();
    if escaped.chars().count() <= 300 {
        escaped
    } else {
        let head: String = escaped.chars().take(240).collect();
        format!("{head}…({} bytes)", text.len())
    }
}

/// The ways `capsim validate`'s standard error breaks the contract: every line `capsim: `, one
/// message, no panic.
pub fn check_stderr(stderr: &[u8], root: &str) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    if text.contains("panicked") {
        return Some(format!("panicked: {}", evidence(&text, root)));
    }
    text.lines()
        .find(|l| !l.starts_with("capsim: ") || l.len() > MAX_LINE_BYTES + 8)
        .map(|l| format!("line of {} bytes: {}", l.len(), evidence(l, root)))
}

/// Every failure found, the cases kept for reproduction and the summary.
pub struct Findings {
    /// Every failure, in case order.
    pub failures: Vec<Failure>,
    /// Where failing inputs are kept.
    pub dir: PathBuf,
    seed: u64,
    kept: BTreeMap<Kind, usize>,
}

/// Cases kept per kind of failure: enough to reproduce, not enough to fill a disk.
const KEEP_PER_KIND: usize = 25;

impl Findings {
    /// No failures yet; failing inputs go to `dir`.
    pub fn new(dir: PathBuf, seed: u64) -> Findings {
        Findings {
            failures: Vec::new(),
            dir,
            seed,
            kept: BTreeMap::new(),
        }
    }

    /// Records a case's failures and keeps its files (the mutated ones, relative to the
    /// work folder) when a kind of them has few kept cases yet.
    pub fn record(&mut self, failures: Vec<Failure>, files: &[(PathBuf, Vec<u8>)], cases: u64) {
        let Some(first) = failures.first() else {
            return;
        };
        let keep = failures
            .iter()
            .any(|f| self.kept.get(&f.kind).copied().unwrap_or(0) < KEEP_PER_KIND);
        if keep {
            for f in &failures {
                *self.kept.entry(f.kind).or_default() += 1;
            }
            let dir = self
                .dir
                .join(format!("seed{}-case{}", self.seed, first.case));
            for (rel, bytes) in files {
                let path = dir.join(rel);
                fs::create_dir_all(path.parent().expect("a file has a folder"))
                    .expect("the failures folder is writable");
                fs::write(path, bytes).expect("the failures folder is writable");
            }
            let mut text = describe(first, self.seed, cases);
            for f in &failures {
                let _ = writeln!(text, "{:?}: {}", f.kind, f.detail);
            }
            fs::create_dir_all(&dir).expect("the failures folder is writable");
            fs::write(dir.join("case.txt"), text).expect("the failures folder is writable");
        }
        self.failures.extend(failures);
    }

    /// Counts by kind, then a few examples of each.
    pub fn summary(&self) -> String {
        let mut by_kind: BTreeMap<Kind, Vec<&Failure>> = BTreeMap::new();
        for f in &self.failures {
            by_kind.entry(f.kind).or_default().push(f);
        }
        let mut text = String::new();
        for (kind, failures) in &by_kind {
            let _ = writeln!(text, "{kind:?}: {} cases", failures.len());
        }
        for (kind, failures) in &by_kind {
            let _ = writeln!(text, "\n{kind:?}, first examples:");
            for f in failures.iter().take(6) {
                let _ = writeln!(
                    text,
                    "  case {} {} [{}]: {}",
                    f.case,
                    f.scenario,
                    f.mutations.join("; "),
                    f.detail
                );
            }
        }
        text
    }
}

/// A kept case's description, with the command that replays it.
fn describe(f: &Failure, seed: u64, _cases: u64) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "case {} of seed {seed}: {}", f.case, f.scenario);
    for m in &f.mutations {
        let _ = writeln!(text, "mutation: {m}");
    }
    let _ = writeln!(
        text,
        "replay: CAPSIM_FUZZ_SEED={seed} CAPSIM_FUZZ_CASE={} cargo test --release --test fuzz -- --ignored --nocapture",
        f.case
    );
    let _ = writeln!(
        text,
        "the files here replace those of the same path under a copy of the project's folder"
    );
    text
}
