//! Textual mutations, for any input file: lines deleted, doubled, swapped or re-indented, the
//! file cut short, bytes inserted (control characters, invalid UTF-8, YAML indicators), deep
//! nesting, a huge line, an alias bomb; and for a CSV file, a field, a column or a row changed.

use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus as Rng;

use crate::mutate::{Mutated, hostile, nesting_depth, shorten};

/// Byte strings inserted at random places.
const INSERTS: &[&[u8]] = &[
    b"\0",
    b"\x07",
    b"\x1b[2J",
    b"\r",
    b"\t",
    b"\xff\xfe",
    b"\xc3",
    b"\xef\xbb\xbf",
    b"\xe2\x80\xa8",
    b": ",
    b"- ",
    b"{",
    b"}",
    b"[",
    b"]",
    b"&a ",
    b"*a",
    b"!!",
    b"%YAML 1.1\n",
    b"@",
    b"`",
    b"'",
    b"\"",
    b"#",
    b"|\n",
    b">-\n",
    b"? ",
    b"<<: *a\n",
    b"---\n",
    b"...\n",
    b"\n\n",
    b",",
];

/// Fields written into a CSV row.
const CSV_FIELDS: &[&str] = &[
    "",
    "-1",
    "0",
    "1e308",
    "-1e308",
    "NaN",
    "inf",
    "1e15",
    "18446744073709551616",
    "５",
    "\"a\nb\"",
    "\"\"",
    "\"unterminated",
    "1970-01-01 00:00:00",
    "9999-12-31 23:59:59.9999999",
    "2023-11-16 18:17:03.9799600",
    "2023-13-45 25:61:61",
    "0.0000001",
    "1.0000000000000000001",
    "a,b",
    "\u{7}",
    " 5",
    "0x10",
    "１０",
    "true",
];

/// Mutates `bytes` as text; returns the new bytes, what was done, and whether the text now
/// holds deep nesting or an alias bomb (see [`crate::mutate::Mutated`]).
pub fn mutate_text(bytes: &[u8], csv: bool, rng: &mut Rng) -> Mutated {
    if csv && rng.random_range(0..3) > 0 {
        return Mutated::plain(mutate_csv(bytes, rng));
    }
    let mut hostile_to_parse = false;
    let mut lines = split_lines(bytes);
    let n = lines.len().max(1);
    let at = rng.random_range(0..n).min(lines.len().saturating_sub(1));
    let what = match rng.random_range(0..12) {
        0 if !lines.is_empty() => {
            lines.remove(at);
            format!("delete line {}", at + 1)
        }
        1 if !lines.is_empty() => {
            let copy = lines[at].clone();
            lines.insert(at, copy);
            format!("duplicate line {}", at + 1)
        }
        2 if lines.len() > 1 => {
            let other = rng.random_range(0..lines.len());
            lines.swap(at, other);
            format!("swap lines {} and {}", at + 1, other + 1)
        }
        3 if !lines.is_empty() => reindent(&mut lines[at], rng, at),
        4 => {
            let cut = rng.random_range(0..=bytes.len());
            return Mutated::plain((bytes[..cut].to_vec(), format!("truncate at byte {cut}")));
        }
        5 | 6 => {
            let insert = INSERTS[rng.random_range(0..INSERTS.len())];
            let pos = rng.random_range(0..=bytes.len());
            let mut out = bytes.to_vec();
            out.splice(pos..pos, insert.iter().copied());
            let shown = shorten(&String::from_utf8_lossy(insert));
            return Mutated::plain((out, format!("insert {shown} ({insert:?}) at byte {pos}")));
        }
        7 if !lines.is_empty() => {
            let depth = nesting_depth(rng);
            let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let line = &mut lines[at];
            let key_end = line.iter().position(|&b| b == b':').map_or(0, |i| i + 1);
            line.truncate(key_end);
            line.push(b' ');
            line.extend_from_slice(nested.as_bytes());
            hostile_to_parse = true;
            format!("nesting {depth} deep on line {}", at + 1)
        }
        8 if !lines.is_empty() => {
            let len = [2_000, 100_000, 1_000_000][rng.random_range(0..3)];
            lines[at].extend(std::iter::repeat_n(b'z', len));
            format!("line {} made {len} bytes longer", at + 1)
        }
        9 if !csv => {
            lines.splice(0..0, alias_bomb(rng.random_range(3..10)));
            hostile_to_parse = true;
            "alias bomb at the top".to_string()
        }
        10 | 11 if !lines.is_empty() => replace_number(&mut lines[at], rng, at),
        _ => {
            let cut = rng.random_range(0..=bytes.len());
            return Mutated::plain((bytes[..cut].to_vec(), format!("truncate at byte {cut}")));
        }
    };
    Mutated {
        bytes: lines.join(&b'\n'),
        what,
        hostile_to_parse,
    }
}

/// The lines of `bytes`, without their `\n`.
fn split_lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

fn reindent(line: &mut Vec<u8>, rng: &mut Rng, at: usize) -> String {
    match rng.random_range(0..3) {
        0 => {
            line.splice(0..0, *b"  ");
            format!("indent line {} by 2", at + 1)
        }
        1 => {
            let spaces = line.iter().take_while(|&&b| b == b' ').count().min(2);
            line.drain(..spaces);
            format!("dedent line {} by {spaces}", at + 1)
        }
        _ => {
            line.insert(0, b'\t');
            format!("tab before line {}", at + 1)
        }
    }
}

/// The first run of digits in `line` (from a random start) replaced by a hostile value.
fn replace_number(line: &mut Vec<u8>, rng: &mut Rng, at: usize) -> String {
    let from = rng.random_range(0..=line.len());
    let start = (from..line.len())
        .chain(0..from)
        .find(|&i| line[i].is_ascii_digit());
    let Some(start) = start else {
        return format!("line {} had no number to change", at + 1);
    };
    let start = (0..=start)
        .rev()
        .take_while(|&i| line[i].is_ascii_digit() || line[i] == b'.')
        .last()
        .unwrap_or(start);
    let end = (start..line.len())
        .find(|&i| !(line[i].is_ascii_digit() || line[i] == b'.'))
        .unwrap_or(line.len());
    let value = hostile(rng);
    line.splice(start..end, value.bytes());
    format!("number on line {} = {}", at + 1, shorten(&value))
}

/// Anchors that each repeat the one before `width` times: nine levels of a billion laughs.
fn alias_bomb(width: usize) -> Vec<Vec<u8>> {
    let mut lines = vec![b"a0: &a0 [lol]".to_vec()];
    for level in 1..9 {
        let refs = vec![format!("*a{}", level - 1); width].join(", ");
        lines.push(format!("a{level}: &a{level} [{refs}]").into_bytes());
    }
    lines
}

/// A CSV mutation: a field, the header, a column or the rows' order.
fn mutate_csv(bytes: &[u8], rng: &mut Rng) -> (Vec<u8>, String) {
    let mut lines = split_lines(bytes);
    if lines.len() < 2 {
        return (bytes.to_vec(), "CSV too short to change".to_string());
    }
    let row = rng.random_range(1..lines.len());
    let what = match rng.random_range(0..6) {
        0..=2 => {
            let field = CSV_FIELDS[rng.random_range(0..CSV_FIELDS.len())].to_string();
            let field = if rng.random_range(0..5) == 0 {
                hostile(rng)
            } else {
                field
            };
            let column = set_field(&mut lines[row], rng, &field);
            format!("row {row} column {column} = {}", shorten(&field))
        }
        3 => {
            let name = ["", "x", "TIMESTAMP", "name", "５", "a\u{7}b"][rng.random_range(0..6)];
            let column = set_field(&mut lines[0], rng, name);
            format!("header column {column} renamed {}", shorten(name))
        }
        4 => {
            let column = rng.random_range(0..8);
            for line in &mut lines {
                let mut fields: Vec<&[u8]> = line.split(|&b| b == b',').collect();
                if column < fields.len() {
                    fields.remove(column);
                }
                *line = fields.join(&b',');
            }
            format!("column {column} removed")
        }
        _ => {
            let other = rng.random_range(1..lines.len());
            lines.swap(row, other);
            format!("rows {row} and {other} swapped")
        }
    };
    (lines.join(&b'\n'), what)
}

/// Replaces a random field of a comma-separated line; returns its index.
fn set_field(line: &mut Vec<u8>, rng: &mut Rng, value: &str) -> usize {
    let mut fields: Vec<Vec<u8>> = line.split(|&b| b == b',').map(<[u8]>::to_vec).collect();
    let column = rng.random_range(0..fields.len());
    fields[column] = value.as_bytes().to_vec();
    *line = fields.join(&b',');
    column
}
