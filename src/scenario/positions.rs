//! Where each value of a scenario document was written: which file (a scenario, one of its
//! bases) or which `--set`, and on which line, so that an error points into the text the user
//! wrote rather than into the merged document validation reads.
//!
//! Use `Positions` beside a `Document`: it records, as files and overrides are applied, which
//! source wrote each part of the document, and `Positions::place` rewrites an error's origin and
//! line from its YAML path. Lines are found by reading the source file again with serde_yaml up
//! to the value's key (`line_of`), which is done only for errors, once each. This module decides
//! nothing about what is wrong.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::scenario::document::Override;
use crate::scenario::error::Error;

/// One file a document was read from.
#[derive(Debug, Clone)]
struct Source {
    /// The file, as named in messages.
    name: String,
    /// Its text, as read.
    text: String,
}

/// Who wrote a part of the document.
#[derive(Debug, Clone)]
enum Writer {
    /// The source of this index, at the value's own path.
    File(usize),
    /// The source of this index, in its `set:` map under this key.
    SetIn(usize, String),
    /// A `--set` on the command line.
    CommandLine(Override),
}

/// Which source wrote each part of a document: entries of a dotted path prefix and its writer,
/// later entries overriding earlier ones.
#[derive(Debug, Clone, Default)]
pub(crate) struct Positions {
    sources: Vec<Source>,
    written: Vec<(String, Writer)>,
    /// The file the command line named, for `--set` messages.
    top: String,
}

impl Positions {
    /// The positions of a document read whole from `text`, named `name` in messages.
    pub(crate) fn of_file(name: &str, text: &str) -> Positions {
        Positions {
            sources: vec![Source {
                name: name.to_string(),
                text: text.to_string(),
            }],
            written: vec![(String::new(), Writer::File(0))],
            top: name.to_string(),
        }
    }

    /// Adds the file `name` (whose text is `text`), which builds on the document so far: it
    /// writes the top-level `keys` it gives and the paths of its `set:` map.
    pub(crate) fn build_on(&mut self, name: &str, text: &str, keys: &[String], sets: &[String]) {
        let index = self.sources.len();
        self.sources.push(Source {
            name: name.to_string(),
            text: text.to_string(),
        });
        for key in keys {
            self.written.push((key.clone(), Writer::File(index)));
        }
        for path in sets {
            self.written
                .push((path.clone(), Writer::SetIn(index, path.clone())));
        }
        self.top = name.to_string();
    }

    /// Records a `--set` override.
    pub(crate) fn set(&mut self, o: &Override) {
        self.written
            .push((o.path.clone(), Writer::CommandLine(o.clone())));
    }

    /// `error` (or each of several) with the origin and line of where its value was written,
    /// sorted in the order of the sources, then of their lines, `--set` last. An error without
    /// a path, or whose path no source wrote, keeps its origin.
    pub(crate) fn place(&self, error: Error) -> Error {
        let errors = match error {
            Error::Many(errors) => errors,
            other => vec![other],
        };
        let mut placed: Vec<((usize, usize), Error)> =
            errors.into_iter().map(|e| self.place_one(e)).collect();
        placed.sort_by_key(|(order, _)| *order);
        crate::scenario::error::all(placed.into_iter().map(|(_, e)| e).collect())
    }

    /// One error placed, with its sort key.
    fn place_one(&self, mut error: Error) -> ((usize, usize), Error) {
        // An unknown field is written below the path of the map that holds it.
        let path = match (error.path(), error.unknown_field()) {
            (path, None) => path.to_string(),
            ("", Some(field)) => field.to_string(),
            (path, Some(field)) => format!("{path}.{field}"),
        };
        if path.is_empty() {
            return ((0, 0), error);
        }
        let Some(writer) = self.writer_of(&path) else {
            return ((0, 0), error);
        };
        match writer {
            Writer::File(i) | Writer::SetIn(i, _) => {
                let source = &self.sources[*i];
                let at = match writer {
                    Writer::SetIn(_, key) => line_of(&source.text, &format!("set.{key}")),
                    _ => line_of(&source.text, &path),
                };
                error.relocate(&source.name, at, &self.with_overrides());
                ((*i, at.map_or(0, |(line, _)| line)), error)
            }
            Writer::CommandLine(o) => {
                error.relocate(&self.top, None, &format!(" (with --set {o})"));
                ((usize::MAX, 0), error)
            }
        }
    }

    /// ` (with --set A --set B)` for the command line's overrides, which may be why a value
    /// of a file is wrong (a warmup no longer shorter than the duration); empty without any.
    fn with_overrides(&self) -> String {
        let overrides: Vec<String> = self
            .written
            .iter()
            .filter_map(|(_, w)| match w {
                Writer::CommandLine(o) => Some(format!("--set {o}")),
                _ => None,
            })
            .collect();
        if overrides.is_empty() {
            String::new()
        } else {
            format!(" (with {})", overrides.join(" "))
        }
    }

    /// The last writer of a prefix of `path` (an error's path, whose list indices are `[i]`).
    fn writer_of(&self, path: &str) -> Option<&Writer> {
        let dotted = path.replace('[', ".").replace(']', "");
        self.written
            .iter()
            .rev()
            .find(|(prefix, _)| {
                prefix.is_empty()
                    || dotted == *prefix
                    || dotted
                        .strip_prefix(prefix.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
            })
            .map(|(_, writer)| writer)
    }
}

/// One step of a YAML path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Splits an error's path (`a.b[2].c`) into steps. A key that holds dots itself
/// (`requests.cpu`) is matched later against the joined steps.
fn steps(path: &str) -> Vec<Step> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut indices) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Step::Key(key.to_string()));
        }
        while let Some(rest) = indices.strip_prefix('[') {
            let Some((index, after)) = rest.split_once(']') else {
                break;
            };
            match index.parse() {
                Ok(i) => out.push(Step::Index(i)),
                Err(_) => out.push(Step::Key(index.to_string())),
            }
            indices = after;
        }
    }
    out
}

/// The 1-based line and column where the value at `path` is written in the YAML `text`: its
/// key's (a list item's own), or, when the path goes deeper than the text, the deepest one
/// written. `None` for the root and for a path the text does not hold at all (the text is
/// YAML that has been read before).
pub(crate) fn line_of(text: &str, path: &str) -> Option<(usize, usize)> {
    let steps = steps(path);
    (1..=steps.len())
        .rev()
        .find_map(|n| find(text, &steps[..n]))
}

/// The position of exactly `steps` in `text`. serde_yaml keeps no positions in its values, but
/// its errors say where they arose: the walk fails on purpose at the key sought.
fn find(text: &str, steps: &[Step]) -> Option<(usize, usize)> {
    let document = serde_yaml::Deserializer::from_str(text).next()?;
    let error = Find { steps }.deserialize(document).err()?;
    // serde_yaml puts the path before the message.
    if error.to_string().contains(FOUND) {
        error.location().map(|l| (l.line(), l.column()))
    } else {
        None
    }
}

/// The message of the error that marks the value sought.
const FOUND: &str = "capsim: the value sought is here";

/// Walks a document down `steps`, failing at the last one.
struct Find<'a> {
    steps: &'a [Step],
}

impl<'de> DeserializeSeed<'de> for Find<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Find<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.deserialize(d)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(taken) = map.next_key_seed(KeySeed { steps: self.steps })? {
            if taken == 0 {
                map.next_value::<IgnoredAny>()?;
            } else {
                map.next_value_seed(Find {
                    steps: &self.steps[taken..],
                })?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            let more = match self.steps.first() {
                Some(Step::Index(n)) if *n == i && self.steps.len() == 1 => {
                    seq.next_element_seed(Here)?
                }
                Some(Step::Index(n)) if *n == i => seq.next_element_seed(Find {
                    steps: &self.steps[1..],
                })?,
                _ => seq.next_element::<IgnoredAny>()?.map(|_| ()),
            };
            if more.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }
}

/// Reads a map key: how many of `steps` it matches (0 for none; a key may hold dots and match
/// several), failing at the key when it matches all that are left.
struct KeySeed<'a> {
    steps: &'a [Step],
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = usize;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl KeySeed<'_> {
    fn matched<E: de::Error>(&self, key: &str) -> Result<usize, E> {
        let mut joined = String::new();
        for (n, step) in self.steps.iter().enumerate() {
            let Step::Key(k) = step else {
                return Ok(0);
            };
            if n > 0 {
                joined.push('.');
            }
            joined.push_str(k);
            if joined == key {
                return if n + 1 == self.steps.len() {
                    Err(E::custom(FOUND))
                } else {
                    Ok(n + 1)
                };
            }
            if !key.starts_with(&joined) {
                return Ok(0);
            }
        }
        Ok(0)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<usize, E> {
        self.matched(key)
    }

    fn visit_bool<E: de::Error>(self, key: bool) -> Result<usize, E> {
        self.matched(&key.to_string())
    }

    fn visit_i64<E: de::Error>(self, key: i64) -> Result<usize, E> {
        self.matched(&key.to_string())
    }

    fn visit_u64<E: de::Error>(self, key: u64) -> Result<usize, E> {
        self.matched(&key.to_string())
    }

    fn visit_f64<E: de::Error>(self, key: f64) -> Result<usize, E> {
        self.matched(&key.to_string())
    }

    fn visit_unit<E: de::Error>(self) -> Result<usize, E> {
        Ok(0)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(0)
    }
}

/// Fails at the value it is given: the list item sought.
struct Here;

impl<'de> DeserializeSeed<'de> for Here {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Here {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(FOUND))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(FOUND))
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(FOUND))
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
name: t
node_pools:
  pool: {machine_type: e2-standard-8, initial_size: 2}
services:
  web:
    resources:
      requests: {cpu: 1, memory: 1Gi}
    tolerations:
      - {key: a, effect: NoSchedule}
      - key: b
        effect: NoExecute
quotas:
  team: {requests.cpu: \"8\"}
set:
  services.web.replicas: 3
";

    #[test]
    fn paths_are_found_in_block_and_flow_style() {
        let cases = [
            ("name", Some((1, 1))),
            ("node_pools.pool", Some((3, 3))),
            ("node_pools.pool.initial_size", Some((3, 39))),
            ("services.web.resources.requests.memory", Some((7, 26))),
            ("services.web.tolerations[0]", Some((9, 9))),
            ("services.web.tolerations[1].effect", Some((11, 9))),
            ("quotas.team.requests.cpu", Some((13, 10))),
            ("set.services.web.replicas", Some((15, 3))),
            // Deeper than the text: the deepest key written.
            ("services.web.replicas", Some((5, 3))),
            ("services.web.tolerations[5]", Some((8, 5))),
            ("nothing.here", None),
            ("", None),
        ];
        for (path, expected) in cases {
            assert_eq!(line_of(TEXT, path), expected, "{path}");
        }
    }

    #[test]
    fn paths_split_into_keys_and_indices() {
        assert_eq!(
            steps("a.b[2][3].c"),
            vec![
                Step::Key("a".into()),
                Step::Key("b".into()),
                Step::Index(2),
                Step::Index(3),
                Step::Key("c".into()),
            ]
        );
    }
}
