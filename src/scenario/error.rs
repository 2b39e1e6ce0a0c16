//! The scenario module's error type, and the rewriting of serde_yaml's messages into its shape.
//!
//! Every message reads, on one line, `<origin>: <yaml.path>: <what is wrong>; <what is allowed>`,
//! so a user can find the line to fix without reading Rust. This file formats errors; it does not
//! decide what is wrong (that is `validate`'s job).

use std::fmt;
use std::io;

use crate::text::suggest::closest;

/// Why a scenario could not be loaded.
///
/// The `Display` of every variant is one line: the file, the YAML path of the offending value,
/// what is wrong with it (quoting it) and what would be accepted; `Trace` has one such line per
/// bad row of the trace file, naming its line and column instead of a YAML path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The scenario file could not be read.
    #[error("{file}: cannot read the scenario file: {source}")]
    Io {
        /// The file, as given.
        file: String,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The file is not well-formed YAML, or does not have the scenario's shape (unknown field,
    /// wrong type, missing field, duplicate key).
    #[error("{origin}: {}{problem}{}; {allowed}", at(.path), location(.problem, *.line_column))]
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
    #[error("{origin}: {}{problem}; {allowed}", at(.path))]
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
    #[error(
        "{origin}: {}unknown {kind} \"{name}\"; {}{}",
        at(.path),
        expected_one_of(.kind, .allowed),
        did_you_mean(.suggestion.as_deref())
    )]
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
    #[error("{origin}: --set {setting}: {message}")]
    Override {
        /// File name used in messages, with the line and column of the value when known
        /// (`file:line:column`).
        origin: String,
        /// The override as given.
        setting: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A trace file with rows that cannot be replayed. One line per bad row (at most ten are
    /// listed, the rest counted), each naming the file, the line and the column.
    #[error("{}", trace_lines(.file, .problems, *.more))]
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
    #[error("{}", .problems.join("\n"))]
    Manifests {
        /// `file: document N (Kind name): field: what is wrong; what is allowed`, in input
        /// order.
        problems: Vec<String>,
    },
    /// A service's pod cannot run on an empty node of any pool, so it would stay Pending forever.
    #[error(
        "{origin}: {}pod requesting {requests} fits no node pool ({}); expected a pod that \
         an empty node of at least one pool accepts",
        at(.path),
        pool_reasons(.pools)
    )]
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
    #[error("{}", many(.0))]
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

    /// The field an "unknown field" error names, which is written below its path.
    pub(crate) fn unknown_field(&self) -> Option<&str> {
        let Error::Syntax { problem, .. } = self else {
            return None;
        };
        problem.strip_prefix("unknown field \"")?.strip_suffix('"')
    }
}

fn many(errors: &[Error]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
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
        format!("{path}: ")
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
    let mut lines: Vec<String> = problems.iter().map(|p| format!("{file}: {p}")).collect();
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

/// Rewrites a serde_yaml error into a `Syntax` error of the scenario's shape.
///
/// serde_yaml prints `<path>: <message> at line L column C`, where the path is omitted at the
/// root; this splits that apart and turns serde's vocabulary (`invalid type: string "x",
/// expected u32`) into the problem and allowed halves.
pub(crate) fn from_yaml(origin: &str, error: &serde_yaml::Error) -> Error {
    let line_column = error.location().map(|l| (l.line(), l.column()));
    let mut text = error.to_string();
    if let Some((line, column)) = line_column {
        let suffix = format!(" at line {line} column {column}");
        if let Some(stripped) = text.strip_suffix(&suffix) {
            text = stripped.to_string();
        }
    }
    let (path, message) = split_path(&text);
    let (problem, allowed) = rewrite(message);
    Error::Syntax {
        origin: origin.to_string(),
        path: path.to_string(),
        problem,
        line_column,
        allowed,
    }
}

/// Messages serde and this module's visitors produce; anything else comes from the YAML parser.
const SERDE_MESSAGES: [&str; 9] = [
    "invalid type: ",
    "invalid value: ",
    "invalid length ",
    "unknown field `",
    "unknown variant `",
    "missing field `",
    "duplicate field `",
    "duplicate entry `",
    "duplicate entry with key ",
];

/// Splits serde_yaml's `path: message` into its parts: the path ends where `: ` is followed by
/// one of serde's messages (keys may themselves contain spaces or `: `).
fn split_path(text: &str) -> (&str, &str) {
    if SERDE_MESSAGES.iter().any(|m| text.starts_with(m)) {
        return ("", text);
    }
    let split = SERDE_MESSAGES
        .iter()
        .filter_map(|m| text.find(&format!(": {m}")))
        .min();
    match split {
        Some(i) => (&text[..i], &text[i + 2..]),
        None => ("", text),
    }
}

/// Turns one serde message into (problem, allowed).
fn rewrite(message: &str) -> (String, String) {
    let unknown = message
        .strip_prefix("unknown field `")
        .map(|rest| ("field", rest))
        .or_else(|| {
            message
                .strip_prefix("unknown variant `")
                .map(|rest| ("value", rest))
        });
    if let Some((what, rest)) = unknown {
        let (field, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let names = backquoted(expected);
        let suggestion = did_you_mean(closest(field, names.iter().map(String::as_str)).as_deref());
        let allowed = if names.is_empty() {
            "nothing is allowed here".to_string()
        } else {
            format!("expected one of {}{suggestion}", quoted_list(&names))
        };
        return (format!("unknown {what} \"{field}\""), allowed);
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.trim_end_matches('`');
        return (
            format!("missing field \"{field}\""),
            format!("\"{field}\" is required here"),
        );
    }
    if let Some(rest) = message.strip_prefix("duplicate field `") {
        let field = rest.trim_end_matches('`');
        return (
            format!("field \"{field}\" is given twice"),
            "expected each field once".to_string(),
        );
    }
    let duplicate = message
        .strip_prefix("duplicate entry `")
        .map(|rest| rest.trim_end_matches('`'))
        .or_else(|| {
            message
                .strip_prefix("duplicate entry with key ")
                .map(|rest| rest.trim_matches('"'))
        });
    if let Some(key) = duplicate {
        return (
            format!("\"{key}\" is given twice"),
            "expected each name once".to_string(),
        );
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let (found, expected) = rest.rsplit_once(", expected ").unwrap_or((rest, "?"));
            // The YAML reader keeps integers of 2^64 and more as u128, which no field takes.
            if let Some(number) = found
                .strip_prefix("integer `")
                .and_then(|n| n.split_once("` as u128"))
                .map(|(n, _)| n)
            {
                return (
                    format!("{number} is too large a number"),
                    "expected a number below 2^64 (18446744073709551616)".to_string(),
                );
            }
            return (
                format!("found {}", describe_found(found)),
                format!("expected {}", describe_expected(expected)),
            );
        }
    }
    if let Some(rest) = message.strip_prefix("invalid length ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, "?"));
        return (
            format!("wrong length {found}"),
            format!("expected {expected}"),
        );
    }
    (
        format!("malformed YAML: {message}"),
        "expected well-formed YAML (check the indentation and quoting near that line)".to_string(),
    )
}

/// Names between backquotes, in order: serde lists expected fields as `` `a`, `b` ``.
fn backquoted(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// serde's `string "x"`, ``integer `5` ``, `unit value` as a user would say them.
fn describe_found(found: &str) -> String {
    let found = found.replace('`', "\"");
    match found.as_str() {
        "unit value" => "nothing (null)".to_string(),
        "map" => "a map".to_string(),
        "sequence" => "a list".to_string(),
        _ => found,
    }
}

/// serde's `struct Foo`, `u32`, `a boolean` as a user would say them.
fn describe_expected(expected: &str) -> String {
    if expected.starts_with("struct ") || expected == "a map" {
        return "a map".to_string();
    }
    match expected {
        "a sequence" => "a list".to_string(),
        "a boolean" => "true or false".to_string(),
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number >= 0".to_string(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".to_string(),
        "f32" | "f64" => "a number".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_are_split_into_path_problem_and_allowed() {
        let cases = [
            (
                "pools.a: unknown field `sise`, expected one of `size`, `labels`",
                "pools.a",
                "unknown field \"sise\"",
                "expected one of \"size\", \"labels\" (did you mean \"size\"?)",
            ),
            (
                "pools.a.size: invalid type: string \"big\", expected u32",
                "pools.a.size",
                "found string \"big\"",
                "expected a whole number >= 0",
            ),
            (
                "invalid type: sequence, expected struct File",
                "",
                "found a list",
                "expected a map",
            ),
            (
                "node_pools.p.labels.my key: invalid type: map, expected a number or a string",
                "node_pools.p.labels.my key",
                "found a map",
                "expected a number or a string",
            ),
            (
                "unknown variant `Foo`, expected `Bar` or `Baz`",
                "",
                "unknown value \"Foo\"",
                "expected one of \"Bar\", \"Baz\"",
            ),
            (
                "missing field `duration`",
                "",
                "missing field \"duration\"",
                "\"duration\" is required here",
            ),
            (
                "mapping values are not allowed in this context",
                "",
                "malformed YAML: mapping values are not allowed in this context",
                "expected well-formed YAML (check the indentation and quoting near that line)",
            ),
        ];
        for (text, path, problem, allowed) in cases {
            let (p, message) = split_path(text);
            assert_eq!(p, path, "{text}");
            let (got_problem, got_allowed) = rewrite(message);
            assert_eq!(got_problem, problem, "{text}");
            assert_eq!(got_allowed, allowed, "{text}");
        }
    }
}
