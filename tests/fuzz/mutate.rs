//! Structural mutations of a YAML file: parsed into `serde_yaml::Value`s (every document of a
//! multi-document file), one node changed, written back. Hostile values are written as raw
//! YAML text (through a placeholder), so that `1.0000000000000000001`, `2^64` or `.nan` reach
//! capsim exactly as a user would type them.

use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus as Rng;
use serde::Deserialize as _;
use serde_yaml::{Mapping, Value};

/// Values a hostile or careless user writes, as YAML text.
const HOSTILE: &[&str] = &[
    "-1",
    "0",
    "1",
    "-0",
    "0.5",
    "1e308",
    "-1e308",
    "1e-320",
    ".nan",
    ".inf",
    "-.inf",
    "18446744073709551616",
    "18446744073709551615",
    "9223372036854775808",
    "4294967296",
    "340282366920938463463374607431768211456",
    "1e15",
    "1e7",
    "1e9",
    "\"５\"",
    "５",
    "１０",
    "\"\"",
    "~",
    "null",
    "true",
    "\"a\\nb\"",
    "\"a\\r\\nb: c\"",
    "\"\\u0007\\u001b[31mred\"",
    "\"\\0\"",
    "\"\\t\"",
    "\"\\u2028\"",
    "\"\\x85\"",
    "1.0000000000000000001",
    "0.0000000000000000001",
    "1us",
    "0s",
    "1ns",
    "-1s",
    "100000000h",
    "1e308s",
    "5000000000000000h",
    "1e30Gi",
    "1Ei",
    "99999999999999999999Ki",
    "0.0001m",
    "1e-30",
    "-5m",
    "2^64",
    "[]",
    "{}",
    "[1, 2]",
    "{a: 1}",
    "'*'",
    "!!binary aGVsbG8=",
    "!custom 3",
    "\"10 \"",
    "\" 10\"",
    "0x10",
    "0o17",
    "1_000",
    "+1",
    "1h30m",
    "1d",
    "1 h",
    "70%",
    "\"☃\"",
    "n2-standard-8",
    "c2-standard-8",
    "default",
    "Deployment",
    "nvidia.com/gpu",
];

/// Keys a careless user adds: near misses and strangers.
const UNKNOWN_KEYS: &[&str] = &[
    "replica",
    "Replicas",
    "rate_",
    "extra",
    "duration ",
    "\"\"",
    "\"a\\nb\"",
    "\"\\u0007\"",
    "５",
    "<<",
    "?",
    "null",
    "1",
    "true",
];

/// A hostile value as YAML text: one of the table's, or a long or control-filled string.
pub fn hostile(rng: &mut Rng) -> String {
    match rng.random_range(0..12) {
        0 => format!("\"{}\"", "x".repeat(5000)),
        1 => "9".repeat(rng.random_range(20..400)),
        2 => format!("\"{}\"", "\\n".repeat(rng.random_range(1..50))),
        3 => {
            let c: u32 = rng.random_range(0..32);
            format!("\"a\\u{c:04x}b\"")
        }
        4 => format!("1e{}", rng.random_range(-400..400)),
        _ => HOSTILE[rng.random_range(0..HOSTILE.len())].to_string(),
    }
}

/// A key a careless user adds.
pub fn unknown_key(rng: &mut Rng) -> String {
    if rng.random_range(0..6) == 0 {
        return format!("\"{}\"", "k".repeat(rng.random_range(100..3000)));
    }
    UNKNOWN_KEYS[rng.random_range(0..UNKNOWN_KEYS.len())].to_string()
}

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(Value),
    Index(usize),
}

type NodePath = Vec<Step>;

/// A mutated file: its new bytes and what was done.
pub struct Mutated {
    /// The file's new contents.
    pub bytes: Vec<u8>,
    /// What was done, for the failure report.
    pub what: String,
    /// The text now holds deep nesting, an alias bomb or other raw text that only a bounded
    /// parser may read. The harness parses YAML with serde_yaml, unguarded (100,000-deep nesting
    /// raises serde_yaml's own alias-expansion allowance into the gigabytes), so later mutations
    /// of the same file in a case treat it as text.
    pub hostile_to_parse: bool,
}

impl Mutated {
    /// A mutation that leaves the text as easy to parse as before.
    pub fn plain((bytes, what): (Vec<u8>, String)) -> Mutated {
        Mutated {
            bytes,
            what,
            hostile_to_parse: false,
        }
    }
}

/// Mutates one node of one document of `text`; `None` when the text is not YAML (or has no
/// node to change), so that the caller mutates it as text instead.
pub fn mutate_yaml(text: &str, rng: &mut Rng) -> Option<Mutated> {
    let mut documents = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        documents.push(Value::deserialize(document).ok()?);
    }
    if documents.is_empty() {
        return None;
    }
    let which = rng.random_range(0..documents.len());
    let mut raws = Vec::new();
    let what = mutate_value(&mut documents[which], rng, &mut raws)?;
    let mut out = String::new();
    for (i, document) in documents.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&serde_yaml::to_string(document).ok()?);
    }
    for (i, raw) in raws.iter().enumerate() {
        out = out.replace(&placeholder(i), raw);
    }
    let doc = if documents.len() > 1 {
        format!("document {}: ", which + 1)
    } else {
        String::new()
    };
    Some(Mutated {
        bytes: out.into_bytes(),
        what: format!("{doc}{what}"),
        hostile_to_parse: !raws.is_empty(),
    })
}

fn placeholder(i: usize) -> String {
    format!("FUZZRAW{i}X")
}

/// A placeholder string that becomes `raw` once the document is written.
fn raw_value(raw: String, raws: &mut Vec<String>) -> Value {
    raws.push(raw);
    Value::String(placeholder(raws.len() - 1))
}

/// Changes one node of `root`; returns what was done.
fn mutate_value(root: &mut Value, rng: &mut Rng, raws: &mut Vec<String>) -> Option<String> {
    let mut nodes = Vec::new();
    collect(root, &mut Vec::new(), &mut nodes);
    let keyed = |p: &NodePath, _: &Value| matches!(p.last(), Some(Step::Key(_)));
    let pick = |root: &Value, rng: &mut Rng, filter: &dyn Fn(&NodePath, &Value) -> bool| {
        pick(root, &nodes, rng, filter)
    };
    match rng.random_range(0..16) {
        0..=2 => {
            let scalar = |_: &NodePath, v: &Value| {
                matches!(v, Value::Number(_) | Value::String(_) | Value::Bool(_))
            };
            let path = pick(root, rng, &scalar)?;
            let raw = tweak(get(root, &path)?, rng)?;
            let what = format!("{} = {}", dotted(&path), shorten(&raw));
            *get_mut(root, &path)? = raw_value(raw, raws);
            Some(what)
        }
        3..=6 => {
            let scalar =
                |_: &NodePath, v: &Value| !matches!(v, Value::Mapping(_) | Value::Sequence(_));
            let path = pick(root, rng, &scalar).or_else(|| pick(root, rng, &|_, _| true))?;
            let raw = hostile(rng);
            let what = format!("{} = {}", dotted(&path), shorten(&raw));
            *get_mut(root, &path)? = raw_value(raw, raws);
            Some(what)
        }
        7 => {
            let path = pick(root, rng, &keyed)?;
            let (parent, Some(Step::Key(key))) = (&path[..path.len() - 1], path.last()) else {
                return None;
            };
            get_mut(root, parent)?.as_mapping_mut()?.shift_remove(key);
            Some(format!("delete {}", dotted(&path)))
        }
        8 => {
            let path = pick(root, rng, &|p, _| matches!(p.last(), Some(Step::Index(_))))?;
            let Some(Step::Index(i)) = path.last() else {
                return None;
            };
            let list = get_mut(root, &path[..path.len() - 1])?.as_sequence_mut()?;
            let copy = list[*i].clone();
            list.insert(*i, copy);
            Some(format!("duplicate {}", dotted(&path)))
        }
        9 | 10 => swap(root, &nodes, rng),
        op => reshape(root, &nodes, op, rng, raws),
    }
}

/// A node picked at random among those `filter` accepts.
fn pick(
    root: &Value,
    nodes: &[NodePath],
    rng: &mut Rng,
    filter: &dyn Fn(&NodePath, &Value) -> bool,
) -> Option<NodePath> {
    let fits: Vec<&NodePath> = nodes
        .iter()
        .filter(|p| filter(p, get(root, p).expect("collected")))
        .collect();
    (!fits.is_empty()).then(|| fits[rng.random_range(0..fits.len())].clone())
}

/// The mutations that change a document's shape: a key added or renamed, deep nesting, a
/// number far out of scale.
fn reshape(
    root: &mut Value,
    nodes: &[NodePath],
    op: u32,
    rng: &mut Rng,
    raws: &mut Vec<String>,
) -> Option<String> {
    let keyed = |p: &NodePath, _: &Value| matches!(p.last(), Some(Step::Key(_)));
    let pick = |root: &Value, rng: &mut Rng, filter: &dyn Fn(&NodePath, &Value) -> bool| {
        pick(root, nodes, rng, filter)
    };
    match op {
        11 => {
            let path = pick(root, rng, &|_, v| v.is_mapping())?;
            let key = unknown_key(rng);
            let value = hostile(rng);
            let what = format!(
                "add {}.{} = {}",
                dotted(&path),
                shorten(&key),
                shorten(&value)
            );
            let (k, v) = (raw_value(key, raws), raw_value(value, raws));
            get_mut(root, &path)?.as_mapping_mut()?.insert(k, v);
            Some(what)
        }
        12 => {
            let path = pick(root, rng, &keyed)?;
            let Some(Step::Key(key)) = path.last() else {
                return None;
            };
            let parent = get_mut(root, &path[..path.len() - 1])?.as_mapping_mut()?;
            let value = parent.shift_remove(key)?;
            let new = renamed(key, rng);
            let what = format!("rename {} to {}", dotted(&path), shorten(&new));
            parent.insert(raw_value(new, raws), value);
            Some(what)
        }
        13 => {
            let path = pick(root, rng, &|_, _| true)?;
            let depth = nesting_depth(rng);
            let raw = if rng.random_range(0..2) == 0 {
                format!("{}{}", "[".repeat(depth), "]".repeat(depth))
            } else {
                format!("{}1{}", "{a: ".repeat(depth), "}".repeat(depth))
            };
            let what = format!("{} = nesting {depth} deep", dotted(&path));
            *get_mut(root, &path)? = raw_value(raw, raws);
            Some(what)
        }
        _ => {
            let path = pick(root, rng, &|_, v| v.is_number())?;
            let n = get(root, &path)?.as_f64()?;
            let raw = match rng.random_range(0..4) {
                0 => format!("{}", -n),
                1 => format!("{:e}", n * 1e12),
                2 => format!("{}", n + 0.5),
                _ => format!("{:e}", n / 1e12),
            };
            let what = format!("{} = {raw} (was {n})", dotted(&path));
            *get_mut(root, &path)? = raw_value(raw, raws);
            Some(what)
        }
    }
}

/// A plausible edit of a scalar, which often still validates: a number scaled or set to an
/// edge (0, 1, -1), a quantity or duration with its number scaled or its unit changed, a
/// boolean flipped.
fn tweak(value: &Value, rng: &mut Rng) -> Option<String> {
    const FACTORS: &[f64] = &[0.0, 1e-6, 0.001, 0.1, 0.5, 2.0, 10.0, 1000.0, 1e6];
    const UNITS: &[&str] = &[
        "us", "ms", "s", "m", "h", "Ki", "Mi", "Gi", "Ti", "k", "M", "",
    ];
    let factor = FACTORS[rng.random_range(0..FACTORS.len())];
    match value {
        Value::Bool(b) => Some((!b).to_string()),
        Value::Number(n) => {
            let n = n.as_f64()?;
            Some(match rng.random_range(0..6) {
                0 => "0".to_string(),
                1 => "1".to_string(),
                2 => "-1".to_string(),
                3 => format!("{}", n + 1.0),
                _ => format!("{}", n * factor),
            })
        }
        Value::String(text) => {
            let digits = text
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(text.len());
            let (number, unit) = text.split_at(digits);
            let number: f64 = number.parse().ok()?;
            Some(if rng.random_range(0..3) == 0 {
                format!("\"{number}{}\"", UNITS[rng.random_range(0..UNITS.len())])
            } else {
                format!("\"{}{unit}\"", number * factor)
            })
        }
        _ => None,
    }
}

/// How deep a nesting mutation goes: mostly shallow, sometimes past any sane limit.
/// `CAPSIM_FUZZ_MAX_DEPTH` caps it, for a long exploratory run on code where deep nesting is
/// still slow.
pub fn nesting_depth(rng: &mut Rng) -> usize {
    static MAX_DEPTH: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let depth = match rng.random_range(0..20) {
        0 => 100_000,
        1..=3 => 10_000,
        4..=8 => 1_000,
        _ => rng.random_range(50..300),
    };
    let max = MAX_DEPTH.get_or_init(|| {
        std::env::var("CAPSIM_FUZZ_MAX_DEPTH")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(usize::MAX)
    });
    depth.min(*max)
}

/// A new name for `key`: a near miss or a hostile one.
fn renamed(key: &Value, rng: &mut Rng) -> String {
    let name = key.as_str().unwrap_or("key");
    match rng.random_range(0..4) {
        0 if name.chars().count() > 1 => {
            let mut shorter = name.to_string();
            shorter.pop();
            shorter
        }
        1 => name.to_uppercase(),
        2 => format!("{name}-{}", "x".repeat(rng.random_range(1..2000))),
        _ => unknown_key(rng),
    }
}

/// Swaps the values of two nodes, neither inside the other.
fn swap(root: &mut Value, nodes: &[NodePath], rng: &mut Rng) -> Option<String> {
    if nodes.len() < 2 {
        return None;
    }
    let a = nodes[rng.random_range(0..nodes.len())].clone();
    let b = nodes[rng.random_range(0..nodes.len())].clone();
    if a.starts_with(&b) || b.starts_with(&a) {
        return None;
    }
    let va = get(root, &a)?.clone();
    let vb = get(root, &b)?.clone();
    *get_mut(root, &a)? = vb;
    *get_mut(root, &b)? = va;
    Some(format!("swap {} and {}", dotted(&a), dotted(&b)))
}

fn collect(value: &Value, path: &mut NodePath, out: &mut Vec<NodePath>) {
    if out.len() >= 20_000 {
        return;
    }
    if !path.is_empty() {
        out.push(path.clone());
    }
    match value {
        Value::Mapping(map) => {
            for (k, v) in map {
                path.push(Step::Key(k.clone()));
                collect(v, path, out);
                path.pop();
            }
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(Step::Index(i));
                collect(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn get<'v>(value: &'v Value, path: &[Step]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, step| match step {
        Step::Key(k) => v.as_mapping()?.get(k),
        Step::Index(i) => v.as_sequence()?.get(*i),
    })
}

fn get_mut<'v>(value: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |v, step| match step {
        Step::Key(k) => Mapping::get_mut(v.as_mapping_mut()?, k),
        Step::Index(i) => v.as_sequence_mut()?.get_mut(*i),
    })
}

/// `services.web.replicas`, `metrics.0.resource`.
fn dotted(path: &[Step]) -> String {
    let parts: Vec<String> = path
        .iter()
        .map(|s| match s {
            Step::Key(Value::String(k)) => shorten(k),
            Step::Key(k) => shorten(&serde_yaml::to_string(k).unwrap_or_default()),
            Step::Index(i) => i.to_string(),
        })
        .collect();
    parts.join(".")
}

/// `text` for a one-line description: escaped, and at most 60 characters of it.
pub fn shorten(text: &str) -> String {
    let escaped: String = text.trim_end().escape_debug().collect();
    if escaped.chars().count() <= 60 {
        escaped
    } else {
        let head: String = escaped.chars().take(40).collect();
        format!("{head}…({} chars)", text.chars().count())
    }
}
