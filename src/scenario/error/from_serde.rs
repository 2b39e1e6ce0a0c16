//! serde_yaml's messages rewritten into the scenario's error shape: serde's vocabulary
//! (`invalid type: string "x", expected u32`) as a user would say it, split into the YAML path,
//! what is wrong and what is allowed.

use super::{Error, did_you_mean, quoted_list};
use crate::text::suggest::closest;

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
