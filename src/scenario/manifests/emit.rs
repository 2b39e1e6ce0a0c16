//! A scenario document written as block YAML with a comment on each assumed value (serde_yaml
//! writes no comments). `import` checks that the text reads back as the same document.

use serde_yaml::{Mapping, Value};

use super::Note;

/// `root` as YAML, each value a note names followed by `# note`, after `header` (comment
/// lines, each without its `# `).
pub(super) fn render(root: &Value, notes: &[Note], header: &[String]) -> String {
    let mut out = String::new();
    for line in header {
        out.push_str(
            &format!("# {line}\n")
                .replace("#  \n", "#\n")
                .replace("# \n", "#\n"),
        );
    }
    if let Value::Mapping(map) = root {
        write_map(&mut out, map, 0, &mut Vec::new(), notes);
    }
    out
}

fn write_map(
    out: &mut String,
    map: &Mapping,
    indent: usize,
    path: &mut Vec<String>,
    notes: &[Note],
) {
    let pad = " ".repeat(indent);
    for (key, value) in map {
        let key_text = scalar(key);
        path.push(key.as_str().map_or_else(|| key_text.clone(), String::from));
        let comment = notes
            .iter()
            .filter(|n| n.path == *path)
            .map(|n| format!("  # {}", n.text))
            .collect::<String>();
        match value {
            Value::Mapping(m) if !m.is_empty() => {
                out.push_str(&format!("{pad}{key_text}:{comment}\n"));
                write_map(out, m, indent + 2, path, notes);
            }
            Value::Sequence(items) if !items.is_empty() => {
                out.push_str(&format!("{pad}{key_text}:{comment}\n"));
                write_seq(out, items, indent + 2, path, notes);
            }
            other => out.push_str(&format!("{pad}{key_text}: {}{comment}\n", scalar(other))),
        }
        path.pop();
    }
}

fn write_seq(
    out: &mut String,
    items: &[Value],
    indent: usize,
    path: &mut Vec<String>,
    notes: &[Note],
) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Value::Mapping(m) if !m.is_empty() => {
                let mut inner = String::new();
                write_map(&mut inner, m, indent + 2, path, notes);
                let first_pad = " ".repeat(indent + 2);
                let replaced = inner.replacen(&first_pad, &format!("{pad}- "), 1);
                out.push_str(&replaced);
            }
            Value::Sequence(s) if !s.is_empty() => {
                out.push_str(&format!("{pad}-\n"));
                write_seq(out, s, indent + 2, path, notes);
            }
            other => out.push_str(&format!("{pad}- {}\n", scalar(other))),
        }
    }
}

/// A scalar (or an empty map or list) as one line of YAML.
fn scalar(value: &Value) -> String {
    match value {
        Value::Mapping(_) => "{}".to_string(),
        Value::Sequence(_) => "[]".to_string(),
        other => {
            let text = serde_yaml::to_string(other).unwrap_or_default();
            let text = text.trim_end_matches('\n');
            if text.contains('\n') {
                quoted(other.as_str().unwrap_or_default())
            } else {
                text.to_string()
            }
        }
    }
}

/// A double-quoted YAML string.
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_documents_read_back_the_same() {
        let text = "a: 1\nb: {c: '50%', d: [x, {e: 1, f: [1, 2]}, [3]], g: {}, h: []}\n\
                    i: \"two\\nlines\"\nj: 'true'\nk: '0.5'\nl: null\n";
        let value: Value = serde_yaml::from_str(text).unwrap_or_else(|e| panic!("{e}"));
        let notes = [Note {
            path: vec!["b".into(), "c".into()],
            text: "assumed".into(),
        }];
        let out = render(&value, &notes, &["header".into()]);
        assert!(
            out.contains("c: 50%  # assumed") || out.contains("c: '50%'  # assumed"),
            "{out}"
        );
        let back: Value = serde_yaml::from_str(&out).unwrap_or_else(|e| panic!("{e}\n{out}"));
        assert_eq!(back, value, "{out}");
    }
}
