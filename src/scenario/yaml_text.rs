//! Reading YAML text safely: a file of bounded size that must be a regular file, its bytes
//! decoded as UTF-8 with the position of the first that is not, and the text checked by
//! `prescan` before `serde_yaml` parses it, so that every refusal names a line and column and
//! none takes more than linear time.
//!
//! Use `read_file` then `parse` for a scenario or a base; `check` for any other YAML text
//! (manifests, node lists) before it is parsed. This module decides nothing about what the YAML
//! means.

use std::path::Path;

use serde_yaml::Value;

use crate::scenario::error::{self, Error};
use crate::scenario::prescan;

/// The largest scenario file read (a base or a file given), in bytes: far above any real
/// scenario, and a bound on what a mistaken path (a log, a dump) can cost.
pub(crate) const MAX_SCENARIO_BYTES: u64 = 16 << 20;

/// The file at `path`, opened for reading, with its metadata: a regular file only, since a
/// device or a pipe (`/dev/zero`, `/dev/stdin`, a FIFO) or a folder could be read forever or
/// block. Every input file of a scenario (YAML, traces) is opened through it.
///
/// # Errors
/// The operating system's error, or that the file is not a regular one.
pub(crate) fn open_regular(path: &Path) -> std::io::Result<(std::fs::File, std::fs::Metadata)> {
    let file = std::fs::File::open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(std::io::Error::other(
            "not a regular file (a device, a pipe or a folder)",
        ));
    }
    Ok((file, metadata))
}

/// The bytes of the file at `path`: a regular file (`open_regular`) of at most
/// `MAX_SCENARIO_BYTES`.
///
/// # Errors
/// The operating system's error, or what is wrong with the file and what is allowed.
pub(crate) fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let (file, metadata) = open_regular(path)?;
    if metadata.len() > MAX_SCENARIO_BYTES {
        return Err(std::io::Error::other(format!(
            "{} bytes, more than the {} MiB a scenario file may have",
            metadata.len(),
            MAX_SCENARIO_BYTES >> 20
        )));
    }
    let mut bytes = Vec::new();
    file.take(MAX_SCENARIO_BYTES + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// `bytes` as text, or an error at the line and column of the first byte that is not UTF-8.
///
/// # Errors
/// `Error::Syntax` at `origin:line:column`.
pub(crate) fn decode(bytes: Vec<u8>, origin: &str) -> Result<String, Error> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let valid = e.utf8_error().valid_up_to();
        let before = &bytes[..valid];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let column = 1 + String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count();
        error::syntax_at(
            origin,
            (line, column),
            format!("byte 0x{:02x} is not UTF-8 text", bytes[valid]),
            "expected a text file in UTF-8 (save it as UTF-8 in the editor)".to_string(),
        )
    })
}

/// Refuses `text` when it nests too deep or its aliases repeat too much (see `prescan`).
///
/// # Errors
/// `Error::Syntax` at `origin:line:column` of where the limit is crossed.
pub(crate) fn check(text: &str, origin: &str) -> Result<prescan::Summary, Error> {
    prescan::check(text)
        .map_err(|r| error::syntax_at(origin, (r.line, r.column), r.problem(), r.allowed()))
}

/// The YAML `text` parsed, once `check` has passed it; `origin` names it in messages.
///
/// # Errors
/// As `check`, or `Error::Syntax` when the text is not YAML.
pub(crate) fn parse(text: &str, origin: &str) -> Result<Value, Error> {
    let summary = check(text, origin)?;
    serde_yaml::from_str(text).map_err(|e| {
        let repeated = e.to_string().contains("repetition limit exceeded");
        match summary.first_alias {
            // The parser says no more than that; the aliases are what repeats.
            Some(at) if repeated && e.location().is_none() => error::syntax_at(
                origin,
                at,
                "the aliases from this one on repeat their anchors more than the YAML reader \
                 allows"
                    .to_string(),
                "expected anchors and aliases that repeat fewer values (at most 100 times as many \
                 as the file writes out)"
                    .to_string(),
            ),
            _ => error::from_yaml(origin, &e),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_refused_at_its_line_and_column() {
        let bytes = b"name: x\nduration: 1h\n\xff\xfe: 1\n".to_vec();
        let message = decode(bytes, "u.yaml").unwrap_err().to_string();
        assert!(
            message.starts_with("u.yaml:3:1: byte 0xff is not UTF-8 text; expected"),
            "{message}"
        );
        // Columns count characters, not bytes.
        let bytes = "name: é\nabé".bytes().chain([0xC3, b'x']).collect();
        let message = decode(bytes, "u.yaml").unwrap_err().to_string();
        assert!(message.starts_with("u.yaml:2:4: byte 0xc3"), "{message}");
    }

    #[test]
    fn a_deep_document_is_refused_quickly_with_its_position() {
        let deep = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let message = parse(&deep, "deep.yaml").unwrap_err().to_string();
        assert!(
            message.starts_with(
                "deep.yaml:1:67: lists and maps are nested more than 64 levels deep; expected at \
                 most 64 levels"
            ),
            "{message}"
        );
    }

    #[test]
    fn an_alias_bomb_is_refused_at_the_alias_that_crosses_the_bound() {
        let mut text = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for pair in names.windows(2) {
            let uses = vec![format!("*{}", pair[0]); 9].join(",");
            text.push_str(&format!("{}: &{} [{uses}]\n", pair[1], pair[1]));
        }
        let message = parse(&text, "bomb.yaml").unwrap_err().to_string();
        // 9^6 values by the seventh anchor's line: its fourth alias of *f crosses a million.
        assert!(message.starts_with("bomb.yaml:7:8: "), "{message}");
        assert!(
            message.contains("the alias \"*f\" makes the document more than 1000000 values"),
            "{message}"
        );
    }
}
