//! How values are shown in messages: escaped, so that a newline or a terminal control character
//! in a value cannot break the one-line contract or the user's terminal, and shortened, so that
//! a value of megabytes costs a line of text, not megabytes of it.
//!
//! `shown` quotes one value; `tidy` and `tidy_path` make a message's parts safe whatever quoted
//! them (`Error`'s `Display` passes every part through them, so a check that quotes a value with
//! `"{value}"` gets the same treatment), and `capped` is the last guard on a whole line.

/// Values longer than this many characters are shortened to their start, an ellipsis and their
/// length.
pub(crate) const MAX_SHOWN_CHARS: usize = 80;

/// How many characters of a shortened value are kept.
const KEPT_CHARS: usize = 60;

/// The most bytes one line of a message may have (the `capsim: ` before it included).
pub(crate) const MAX_LINE_BYTES: usize = 1000;

/// `text` quoted, escaped and shortened: `"web"`, `"a\nb"`, `"zzzz…" (100000 characters)`.
pub(crate) fn shown(text: &str) -> String {
    let count = text.chars().count();
    if count > MAX_SHOWN_CHARS {
        let start: String = text.chars().take(KEPT_CHARS).collect();
        format!("\"{}…\" ({count} characters)", escaped(&start))
    } else {
        format!("\"{}\"", escaped(text))
    }
}

/// Whether `c` is shown as an escape: control characters (line breaks, escape sequences) and
/// the invisible ones that reorder or break lines in a terminal.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
        )
}

/// `text` with its control characters escaped as Rust does (`\n`, `\t`, `\u{1}`); everything
/// else as it is.
pub(crate) fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if needs_escape(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// A part of a message made safe: control characters escaped, and every quoted value (between
/// `"`) longer than `MAX_SHOWN_CHARS` shortened as `shown` does. Idempotent.
pub(crate) fn tidy(text: &str) -> String {
    if text.len() <= MAX_SHOWN_CHARS && !text.chars().any(needs_escape) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len().min(4 * MAX_LINE_BYTES));
    let mut rest = text;
    while let Some(open) = rest.find('"') {
        out.push_str(&escaped(&rest[..open]));
        let inside = &rest[open + 1..];
        let Some(close) = inside.find('"') else {
            out.push_str(&escaped(&rest[open..]));
            return out;
        };
        out.push_str(&shown(&inside[..close]));
        rest = &inside[close + 1..];
    }
    out.push_str(&escaped(rest));
    out
}

/// A YAML path made safe: each key escaped, and shortened when it is longer than
/// `MAX_SHOWN_CHARS` (keys are values the user wrote).
pub(crate) fn tidy_path(path: &str) -> String {
    if path.len() <= MAX_SHOWN_CHARS && !path.chars().any(needs_escape) {
        return path.to_string();
    }
    path.split('.')
        .map(|key| {
            let count = key.chars().count();
            if count > MAX_SHOWN_CHARS {
                let start: String = key.chars().take(KEPT_CHARS).collect();
                format!("{}…({count} characters)", escaped(&start))
            } else {
                escaped(key)
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// A warning made safe as a message's line is (`tidy`, then `capped` with the `capsim: warning: `
/// it is printed after).
pub(crate) fn warning(text: &str) -> String {
    const LABEL: &str = "warning: ";
    capped(&format!("{LABEL}{}", tidy(text)))[LABEL.len()..].to_string()
}

/// `line` cut to fit `MAX_LINE_BYTES` with the `capsim: ` before it, ending in an ellipsis and
/// its full length when cut.
pub(crate) fn capped(line: &str) -> String {
    const PREFIX: usize = "capsim: ".len();
    if PREFIX + line.len() <= MAX_LINE_BYTES {
        return line.to_string();
    }
    let note = format!("… ({} characters in all)", line.chars().count());
    let mut end = MAX_LINE_BYTES - PREFIX - note.len();
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{note}", &line[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_shortened() {
        assert_eq!(shown("web"), "\"web\"");
        assert_eq!(shown("a\nb\u{1}c"), "\"a\\nb\\u{1}c\"");
        let long = "z".repeat(100_000);
        assert_eq!(
            shown(&long),
            format!("\"{}…\" (100000 characters)", "z".repeat(KEPT_CHARS))
        );
        assert_eq!(shown(&"é".repeat(80)), format!("\"{}\"", "é".repeat(80)));
        assert!(shown(&"é".repeat(81)).ends_with("…\" (81 characters)"));
    }

    #[test]
    fn messages_are_tidied_whatever_quoted_their_values() {
        assert_eq!(
            tidy("\"a\nb\" is not a valid name"),
            "\"a\\nb\" is not a valid name"
        );
        let long = format!("unknown machine type \"{}\"", "z".repeat(5000));
        let tidied = tidy(&long);
        assert!(tidied.ends_with("…\" (5000 characters)"), "{tidied}");
        assert!(tidied.len() < 200, "{tidied}");
        assert_eq!(tidy(&tidied), tidied);
        // A quote left open: the rest is escaped, and the line guard bounds it.
        assert_eq!(tidy("\"a\tb"), "\"a\\tb");
        // Bidirectional overrides cannot reorder the line.
        assert_eq!(tidy("a\u{202E}b"), "a\\u{202e}b");
        assert_eq!(
            tidy_path(&format!("services.{}.replicas", "k".repeat(90))),
            format!(
                "services.{}…(90 characters).replicas",
                "k".repeat(KEPT_CHARS)
            )
        );
    }

    #[test]
    fn lines_are_capped_below_a_kilobyte() {
        let line = "x".repeat(5000);
        let cut = capped(&line);
        assert!("capsim: ".len() + cut.len() <= MAX_LINE_BYTES);
        assert!(cut.ends_with("… (5000 characters in all)"), "{cut}");
        assert_eq!(capped("short"), "short");
        // Cut at a character boundary.
        let wide = "é".repeat(1000);
        assert!(capped(&wide).ends_with("characters in all)"));
    }

    #[test]
    fn warnings_are_one_line_under_a_kilobyte() {
        let name = format!("web\n{}", "x".repeat(5000));
        let w = warning(&format!(
            "document 5 (HorizontalPodAutoscaler \"{name}\"): ignored"
        ));
        assert!(!w.contains('\n'), "{w}");
        assert!(
            w.starts_with("document 5 (HorizontalPodAutoscaler \"web\\nxxx"),
            "{w}"
        );
        assert!(w.contains("(5004 characters)"), "{w}");
        assert!("capsim: warning: ".len() + w.len() <= MAX_LINE_BYTES);
        // A long warning with nothing quoted is cut, with its length.
        let w = warning(&"y".repeat(3000));
        assert!(
            "capsim: warning: ".len() + w.len() <= MAX_LINE_BYTES,
            "{}",
            w.len()
        );
        assert!(w.ends_with("characters in all)"), "{w}");
    }
}
