//! The scenario module's error type, and the rewriting of serde_yaml's messages into its shape.
//!
//! Every message reads, on one line, `<origin>: <yaml.path>: <what is wrong>; <what is allowed>`,
//! so a user can find the line to fix without reading Rust. This file formats errors; it does not
//! decide what is wrong (that is `validate`'s job).

use std::fmt;
use std::io;

use crate::text::suggest::closest;

mod from_serde;
mod shown;

pub(crate) use from_serde::from_yaml;

pub(crate) use shown::{shown, tidy, warning};

/// Why a scenario could not be loaded.
///
/// The `Display` of every variant is one line: the file, the YAML path of the offending value,
/// what is wrong with it (quoting it) and what would be accepted; `Trace` has one such line per
/// bad row of the trace file, naming its line and column instead of a YAML path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The scenario file could not be read.
    Io {
        /// The file, as given.
        file: String,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The file is not well-formed YAML, or does not have the scenario's shape (unknown field,
    /// wrong type, missing field, duplicate key).
    Syntax {
        /// File name used in messages, with the line and column of the value when known
        /// (`file:line:column`).
        origin: String,
        /// YAML path of the offending value (`services.queue.resources`); empty for the root.
        path: String,
        /// What is wrong.
        problem: String,
        /// 1-based line and column, when known.
        line_column: Option<(usize, usize)>,
        /// What would be accepted.
        allowed: String,
    },
    /// A value has the right shape but is not allowed (out of range, inconsistent with another).
    Invalid {
        /// File name used in messages, with the line and column of the value when known
        /// (`file:line:column`).
        origin: String,
        /// YAML path of the offending value.
        path: String,
        /// What is wrong, quoting the value.
        problem: String,
        /// What would be accepted.
        allowed: String,
    },
    /// A name (machine type, operator, service, expander...) that is not one of the known ones.
    UnknownName {
        /// File name used in messages, with the line and column of the value when known
        /// (`file:line:column`).
        origin: String,
        /// YAML path of the offending name.
        path: String,
        /// What kind of name it should be (`machine type`, `service`).
        kind: String,
        /// The name as written.
        name: String,
        /// Every accepted name.
        allowed: Vec<String>,
        /// The accepted name closest to the one written, when one is close.
        suggestion: Option<String>,
    },
    /// A `--set PATH=VALUE` override that cannot be applied to the document.
    Override {
        /// File name used in messages, with the line and column of the value when known
        /// (`file:line:column`).
        origin: String,
        /// Which override: `--set PATH=VALUE` as given on the command line, or the YAML path of
        /// a file's own `set:` entry (`set.PATH`).
        setting: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A trace file with rows that cannot be replayed. One line per bad row (at most ten are
    /// listed, the rest counted), each naming the file, the line and the column.
    Trace {
        /// The trace file, as resolved against the scenario's folder.
        file: String,
        /// `line N: column NAME: "value" is not ...; what is allowed`, in file order.
        problems: Vec<String>,
        /// Bad rows beyond those listed.
        more: usize,
    },
    /// Kubernetes manifests with malformed values: one line per problem, each naming the
    /// file, the document, the object and the field.
    Manifests {
        /// `file: document N (Kind name): field: what is wrong; what is allowed`, in input
        /// order.
        problems: Vec<String>,
    },
    /// A service's pod cannot run on an empty node of any pool, so it would stay Pending forever.
    Unschedulable {
        /// File name used in messages, with the line and column of the value when known
        /// (`file:line:column`).
        origin: String,
        /// YAML path of the service.
        path: String,
        /// The pod's requests, in Kubernetes notation.
        requests: String,
        /// For each pool, in file order, the scheduler's reasons for rejecting the pod.
        pools: Vec<(String, Vec<String>)>,
    },
    /// Several errors found in one pass over an input, each on its own line.
    Many(Vec<Error>),
}

impl Error {
    /// The YAML path of the offending value, empty for the document root and for I/O errors.
    pub fn path(&self) -> &str {
        match self {
            Error::Io { .. }
            | Error::Override { .. }
            | Error::Trace { .. }
            | Error::Manifests { .. }
            | Error::Many(_) => "",
            Error::Syntax { path, .. }
            | Error::Invalid { path, .. }
            | Error::UnknownName { path, .. }
            | Error::Unschedulable { path, .. } => path,
        }
    }
}

impl Error {
    /// Names the file the value was written in, with `at` (1-based line and column) when
    /// known, as the origin: `file:line:column`, the form editors and terminals jump to, then
    /// `context` (the overrides applied). Errors that name no value (I/O, overrides, traces,
    /// manifests) are left as they are.
    pub(crate) fn relocate(&mut self, file: &str, at: Option<(usize, usize)>, context: &str) {
        let named = match at {
            Some((line, column)) => format!("{file}:{line}:{column}{context}"),
            None => format!("{file}{context}"),
        };
        match self {
            Error::Syntax {
                origin,
                line_column,
                ..
            } => {
                *origin = named;
                *line_column = None;
            }
            Error::Invalid { origin, .. }
            | Error::UnknownName { origin, .. }
            | Error::Unschedulable { origin, .. } => *origin = named,
            _ => {}
        }
    }

    /// Appends `context` (which `base:` named the file the error is in) to the origin of every
    /// error that names its file.
    pub(crate) fn name_base(&mut self, context: &str) {
        match self {
            Error::Syntax { origin, .. }
            | Error::Invalid { origin, .. }
            | Error::UnknownName { origin, .. }
            | Error::Override { origin, .. }
            | Error::Unschedulable { origin, .. } => origin.push_str(context),
            Error::Io { file, .. } => file.push_str(context),
            Error::Trace { file, .. } => file.push_str(context),
            Error::Many(errors) => errors.iter_mut().for_each(|e| e.name_base(context)),
            Error::Manifests { .. } => {}
        }
    }

    /// The field an "unknown field" error names, which is written below its path.
    pub(crate) fn unknown_field(&self) -> Option<&str> {
        let Error::Syntax { problem, .. } = self else {
            return None;
        };
        problem.strip_prefix("unknown field \"")?.strip_suffix('"')
    }
}

impl fmt::Display for Error {
    /// One line per error, each under `shown::MAX_LINE_BYTES` with `capsim: ` before it, every
    /// value in it escaped and shortened (`shown::tidy`), whoever quoted it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Error::Many(errors) => {
                return f.write_str(
                    &errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
            }
            Error::Trace {
                file,
                problems,
                more,
            } => trace_lines(&shown::escaped(file), problems, *more),
            Error::Manifests { problems } => problems
                .iter()
                .map(|p| tidy(p))
                .collect::<Vec<_>>()
                .join("\n"),
            other => other.line(),
        };
        let lines: Vec<String> = text.split('\n').map(shown::capped).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl Error {
    /// The one line of an error that is not a list of them, its parts tidied.
    fn line(&self) -> String {
        let origin = |o: &str| shown::escaped(o);
        match self {
            Error::Io { file, source } => format!(
                "{}: cannot read the scenario file: {}",
                origin(file),
                tidy(&source.to_string())
            ),
            Error::Syntax {
                origin: o,
                path,
                problem,
                line_column,
                allowed,
            } => format!(
                "{}: {}{}{}; {}",
                origin(o),
                at(path),
                tidy(problem),
                location(problem, *line_column),
                tidy(allowed)
            ),
            Error::Invalid {
                origin: o,
                path,
                problem,
                allowed,
            } => format!(
                "{}: {}{}; {}",
                origin(o),
                at(path),
                tidy(problem),
                tidy(allowed)
            ),
            Error::UnknownName {
                origin: o,
                path,
                kind,
                name,
                allowed,
                suggestion,
            } => format!(
                "{}: {}unknown {kind} {}; {}{}",
                origin(o),
                at(path),
                shown(name),
                tidy(&expected_one_of(kind, allowed)),
                tidy(&did_you_mean(suggestion.as_deref()))
            ),
            Error::Override {
                origin: o,
                setting,
                message,
            } => format!("{}: {}: {}", origin(o), tidy(setting), tidy(message)),
            Error::Unschedulable {
                origin: o,
                path,
                requests,
                pools,
            } => format!(
                "{}: {}pod requesting {requests} fits no node pool ({}); expected a pod that an \
                 empty node of at least one pool accepts",
                origin(o),
                at(path),
                tidy(&pool_reasons(pools))
            ),
            Error::Many(_) | Error::Trace { .. } | Error::Manifests { .. } => self.to_string(),
        }
    }
}

/// One error, or all of them.
pub(crate) fn all(mut errors: Vec<Error>) -> Error {
    if errors.len() == 1 {
        errors.remove(0)
    } else {
        Error::Many(errors)
    }
}

fn at(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{}: ", shown::tidy_path(path))
    }
}

/// ` at line L column C`, unless the problem already says where it is (the YAML parser's own
/// messages do, with context: "... at line 9 column 1, while scanning a quoted scalar").
fn location(problem: &str, line_column: Option<(usize, usize)>) -> String {
    match line_column {
        Some((line, column)) if !problem.contains(" at line ") => {
            format!(" at line {line} column {column}")
        }
        _ => String::new(),
    }
}

fn trace_lines(file: &str, problems: &[String], more: usize) -> String {
    let mut lines: Vec<String> = problems
        .iter()
        .map(|p| format!("{file}: {}", tidy(p)))
        .collect();
    if more > 0 {
        lines.push(format!("{file}: and {more} more bad rows"));
    }
    lines.join("\n")
}

/// `expected one of "a", "b"`, or, when nothing may be named (a scenario of jobs only has no
/// service), that there is none.
fn expected_one_of(kind: &str, allowed: &[String]) -> String {
    if allowed.is_empty() {
        format!("expected the name of a {kind}, but the scenario has none")
    } else {
        format!("expected one of {}", quoted_list(allowed))
    }
}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!(" (did you mean \"{s}\"?)"))
}

fn pool_reasons(pools: &[(String, Vec<String>)]) -> String {
    pools
        .iter()
        .map(|(pool, reasons)| format!("{pool}: {}", reasons.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A value's problem and what is allowed instead, before the file and path are known.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    /// What is wrong, quoting the value.
    pub(crate) what: String,
    /// What is allowed.
    pub(crate) allowed: String,
}

impl Problem {
    /// A problem from its two halves.
    pub(crate) fn new(what: impl Into<String>, allowed: impl Into<String>) -> Problem {
        Problem {
            what: what.into(),
            allowed: allowed.into(),
        }
    }

    /// The error this problem is at `path` of `origin`.
    pub(crate) fn at(self, origin: &str, path: &str) -> Error {
        Error::Invalid {
            origin: origin.to_string(),
            path: path.to_string(),
            problem: self.what,
            allowed: self.allowed,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; {}", self.what, self.allowed)
    }
}

/// An `UnknownName` error, with a suggestion when one of `allowed` is close to `name`.
pub(crate) fn unknown_name(
    origin: &str,
    path: &str,
    kind: &str,
    name: &str,
    allowed: &[&str],
) -> Error {
    Error::UnknownName {
        origin: origin.to_string(),
        path: path.to_string(),
        kind: kind.to_string(),
        name: name.to_string(),
        allowed: allowed.iter().map(|s| s.to_string()).collect(),
        suggestion: closest(name, allowed.iter().copied()),
    }
}

/// A `Syntax` error of the text `origin` at `line_column` (1-based), which names the place as
/// `file:line:column`.
pub(crate) fn syntax_at(
    origin: &str,
    line_column: (usize, usize),
    problem: String,
    allowed: String,
) -> Error {
    Error::Syntax {
        origin: format!("{origin}:{}:{}", line_column.0, line_column.1),
        path: String::new(),
        problem,
        line_column: None,
        allowed,
    }
}
