//! A scenario file as written, before validation: the document that `--set PATH=VALUE`
//! overrides and sweeps edit.
//!
//! Use `Document` when a scenario is to be changed by path before it is validated: the edited
//! document goes through exactly the same validation as a file, so a bad override gets the same
//! clear error as a bad file. This module validates nothing itself.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_yaml::{Mapping, Value};

use crate::scenario::budget::{Limits, Size};
use crate::scenario::error::{self, Error};
use crate::scenario::positions::{self, Positions};
use crate::scenario::{Scenario, inputs, manifests, schema, validate, yaml_text};

/// One `PATH=VALUE` override: a dotted path into the scenario document and a YAML value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Override {
    /// Dotted path: map keys, or list indices (`metrics.0.resource`). A key that itself holds
    /// dots, such as a quota's `requests.cpu`, is matched whole.
    pub path: String,
    /// The value, as YAML text (`3`, `70`, `c2-standard-8`, `[a, b]`, `{cpu: 8}`).
    pub value: String,
}

impl FromStr for Override {
    type Err = String;

    /// Parses `PATH=VALUE`; the first `=` separates them.
    fn from_str(text: &str) -> Result<Override, String> {
        let Some((path, value)) = text.split_once('=') else {
            return Err(format!(
                "{text:?} is not an override; expected PATH=VALUE, such as services.web.replicas=3"
            ));
        };
        let path = path.trim();
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(format!(
                "{text:?} has an empty path segment; expected a dotted path such as services.web.replicas"
            ));
        }
        Ok(Override {
            path: path.to_string(),
            value: value.trim().to_string(),
        })
    }
}

impl fmt::Display for Override {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.path, self.value)
    }
}

/// A scenario document and the overrides applied to it so far.
///
/// A file may build on another: `base: other.yaml` (relative to the file) starts from that
/// scenario, `set: {PATH: VALUE, ...}` edits it as `--set` would, and every other top-level key
/// (typically `sweep` or `expect`) replaces the base's.
#[derive(Debug, Clone)]
pub struct Document {
    origin: String,
    /// The folders of the file given and of its bases, in that order (the current folder for
    /// text), against which the file paths the scenario names are resolved.
    dirs: Vec<PathBuf>,
    text: String,
    root: Value,
    applied: Vec<Override>,
    /// Which file or override wrote each part of the document, and the files' texts, for
    /// errors to point into.
    positions: Positions,
    /// What reading the document's manifests skipped or ignored.
    warnings: Vec<String>,
}

/// How deep `base:` chains may go, so that a cycle is an error, not a hang.
const MAX_BASE_DEPTH: usize = 8;

impl Document {
    /// Reads the scenario file at `path` (without validating it).
    ///
    /// # Errors
    /// `Error::Io` when it cannot be read, `Error::Syntax` when it is not YAML.
    pub fn load(path: &Path) -> Result<Document, Error> {
        Document::load_at_depth(path, 0)
    }

    /// Reads the file at `path`, expands the inputs it names (`manifests`, `node_pools_from`)
    /// relative to it, and applies it to its base, if it has one.
    fn load_at_depth(path: &Path, depth: usize) -> Result<Document, Error> {
        let origin = path.display().to_string();
        let bytes = yaml_text::read_file(path).map_err(|source| Error::Io {
            file: origin.clone(),
            source,
        })?;
        let text = yaml_text::decode(bytes, &origin)?;
        let mut document = Document::from_yaml_str(&text, &origin)?;
        document.dirs = vec![path.parent().unwrap_or(Path::new("")).to_path_buf()];
        document.expand_inputs(path.parent().unwrap_or(Path::new(".")))?;
        let Some(base) = document.root.get("base") else {
            return Ok(document);
        };
        // Errors of the `base:` name it, at its line.
        let named = match positions::line_of(&text, "base") {
            Some((line, column)) => format!("{origin}:{line}:{column}"),
            None => origin.clone(),
        };
        let invalid = |problem: String, allowed: &str| Error::Invalid {
            origin: named.clone(),
            path: "base".to_string(),
            problem,
            allowed: allowed.to_string(),
        };
        let Some(base) = base.as_str() else {
            return Err(invalid(
                "\"base\" is not a file name".to_string(),
                "expected the path of a scenario file, relative to this one",
            ));
        };
        if depth >= MAX_BASE_DEPTH {
            return Err(invalid(
                format!("\"{base}\" is more than {MAX_BASE_DEPTH} bases deep"),
                "expected a short chain of bases without a cycle",
            ));
        }
        let base_path = path.parent().unwrap_or(Path::new(".")).join(base);
        let derived = match Document::load_at_depth(&base_path, depth + 1) {
            Err(Error::Io { file, source }) => {
                return Err(invalid(
                    format!("{file}: {source}"),
                    "expected the path of a regular scenario file, relative to this one",
                ));
            }
            Err(mut e) => {
                e.name_base(&format!(" (the base: of {named})"));
                return Err(e);
            }
            Ok(derived) if !matches!(derived.root, Value::Mapping(_)) => {
                return Err(invalid(
                    format!(
                        "\"{base}\" is not a scenario: it holds {}, not a map of scenario keys",
                        describe_kind(&derived.root)
                    ),
                    "expected the path of a scenario file, relative to this one",
                ));
            }
            Ok(derived) => derived,
        };
        document.build_on(derived, &base_path, &text)
    }

    /// This document, read from `text`, applied to `derived`, the document of its base at
    /// `base_path`: its `set:` entries edit the base and its other top-level keys replace the
    /// base's.
    fn build_on(
        self,
        mut derived: Document,
        base_path: &Path,
        text: &str,
    ) -> Result<Document, Error> {
        let origin = self.origin;
        derived.origin = format!("{origin} (based on {})", base_path.display());
        derived.dirs.splice(0..0, self.dirs.iter().cloned());
        derived.text = format!("{}\n---\n{text}", derived.text);
        derived.warnings.extend(self.warnings);
        let Value::Mapping(top) = self.root else {
            return Ok(derived);
        };
        let (keys, sets) = written_by(&top);
        derived.positions.build_on(&origin, text, &keys, &sets);
        // Where the file writes `path` (`set`, `set.x`), for its errors.
        let at = |path: &str| match positions::line_of(text, path) {
            Some((line, column)) => format!("{origin}:{line}:{column}"),
            None => origin.clone(),
        };
        for (key, value) in top {
            match key.as_str() {
                Some("base") => {}
                Some("set") => {
                    let Value::Mapping(settings) = value else {
                        return Err(Error::Invalid {
                            origin: at("set"),
                            path: "set".to_string(),
                            problem: "\"set\" is not a map".to_string(),
                            allowed: "expected set: {PATH: VALUE, ...}".to_string(),
                        });
                    };
                    for (path, value) in settings {
                        let path = path.as_str().unwrap_or_default().to_string();
                        let segments: Vec<&str> = path.split('.').collect();
                        // The file's own entry, where it is written: not a --set.
                        let entry = format!("set.{path}");
                        set_at(&mut derived.root, &segments, value).map_err(|message| {
                            Error::Override {
                                origin: at(&entry),
                                setting: entry.clone(),
                                message,
                            }
                        })?;
                    }
                }
                _ => {
                    if let Value::Mapping(root) = &mut derived.root {
                        root.insert(key, value);
                    }
                }
            }
        }
        Ok(derived)
    }

    /// Expands the inputs the document names (`manifests`, `node_pools_from`) relative to
    /// `dir`, its file's folder.
    fn expand_inputs(&mut self, dir: &Path) -> Result<(), Error> {
        let origin = self.origin.clone();
        let from_manifests = manifests::expand(&mut self.root, dir, &origin)?;
        let from_nodes = inputs::expand_node_pools_from(&mut self.root, dir, &origin)?;
        if from_manifests.is_some() || from_nodes.is_some() {
            self.warnings = from_manifests
                .into_iter()
                .chain(from_nodes)
                .flatten()
                .map(|w| error::warning(&w))
                .collect();
            // What the inputs made belongs to the text, so that a sweep's digest changes when
            // one of them does.
            let expanded = serde_yaml::to_string(&self.root).unwrap_or_default();
            self.text = format!("{}\n---\n{expanded}", self.text);
        }
        Ok(())
    }

    /// A document from YAML text; `origin` names it in messages.
    ///
    /// # Errors
    /// `Error::Syntax` when the text is not YAML.
    pub fn from_yaml_str(text: &str, origin: &str) -> Result<Document, Error> {
        let root = yaml_text::parse(text, origin)?;
        Ok(Document {
            origin: origin.to_string(),
            dirs: vec![PathBuf::new()],
            text: text.to_string(),
            root,
            applied: Vec::new(),
            positions: Positions::of_file(origin, text),
            warnings: Vec::new(),
        })
    }

    /// What reading the document's manifests skipped or ignored, one line each, to show the
    /// user; empty without `manifests:`. Validation's own warnings come with the scenario
    /// (`scenario_with_warnings`).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Where the document came from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The document's text as read (with its bases' texts before it, and what its manifests
    /// made after it).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The overrides applied so far, in order.
    pub fn overrides(&self) -> &[Override] {
        &self.applied
    }

    /// Sets the value at `o.path` to `o.value` parsed as YAML, creating missing map keys.
    ///
    /// # Errors
    /// `Error::Override` when the value is not YAML or the path runs through something that
    /// is neither a map nor a list, or past the end of a list.
    pub fn set(&mut self, o: &Override) -> Result<(), Error> {
        let fail = |message: String| Error::Override {
            origin: self.origin.clone(),
            setting: format!("--set {}={}", o.path, shortened(&o.value)),
            message,
        };
        let value: Value = yaml_text::parse(&o.value, "the value")
            .map_err(|e| fail(format!("the value is not YAML: {e}")))?;
        let segments: Vec<&str> = o.path.split('.').collect();
        set_at(&mut self.root, &segments, value).map_err(fail)?;
        self.applied.push(o.clone());
        self.positions.set(o);
        Ok(())
    }

    /// A copy with `overrides` applied after this document's own.
    ///
    /// # Errors
    /// As `set`.
    pub fn with(&self, overrides: &[Override]) -> Result<Document, Error> {
        let mut document = self.clone();
        for o in overrides {
            document.set(o)?;
        }
        Ok(document)
    }

    /// Validates the document into a `Scenario`.
    ///
    /// # Errors
    /// Every problem validation finds, as one `Error` (an `Error::Many` when there are
    /// several), each naming where its value was written: the file (this one or a base) and
    /// its line there, or the `--set` that gave it.
    pub fn scenario(&self) -> Result<Scenario, Error> {
        self.scenario_with_warnings().map(|(scenario, _)| scenario)
    }

    /// Validates the document into a `Scenario`, with what validation found worth telling the
    /// user though nothing is wrong (a pod trace's rows that fit no node pool), one line each.
    /// Unlike `warnings`, these depend on the overrides applied.
    ///
    /// # Errors
    /// As `scenario`.
    pub fn scenario_with_warnings(&self) -> Result<(Scenario, Vec<String>), Error> {
        let origin = self.origin_with_overrides();
        let (scenario, warnings) = schema::read::file(&self.root, &origin)
            .and_then(|file| validate::scenario(&origin, &self.dirs, file))
            .map_err(|e| self.positions.place(e))?;
        let warnings = warnings.iter().map(|w| error::warning(w)).collect();
        Ok((scenario, warnings))
    }

    /// `scenario_with_warnings`, with the run held to `limits`: a run too large to simulate
    /// (`budget::Size`) is refused before its first event, placed at the value that makes it so.
    ///
    /// # Errors
    /// As `scenario`, and an `Error::Invalid` per limit the run would exceed.
    pub fn scenario_within(&self, limits: Limits) -> Result<(Scenario, Vec<String>), Error> {
        let (scenario, warnings) = self.scenario_with_warnings()?;
        Size::of(&scenario)
            .check(&self.origin_with_overrides(), limits)
            .map_err(|e| self.positions.place(e))?;
        Ok((scenario, warnings))
    }

    /// The origin messages name: the file, with the command line's overrides when there are.
    fn origin_with_overrides(&self) -> String {
        if self.applied.is_empty() {
            self.origin.clone()
        } else {
            format!(
                "{} (with --set {})",
                self.origin,
                self.applied
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" --set ")
            )
        }
    }
}

/// The top-level keys a file that builds on a base writes (all but `base` and `set`), and the
/// paths its `set:` map writes.
fn written_by(top: &Mapping) -> (Vec<String>, Vec<String>) {
    let mut keys = Vec::new();
    let mut sets = Vec::new();
    for (key, value) in top {
        match key.as_str() {
            Some("base") | None => {}
            Some("set") => {
                if let Value::Mapping(settings) = value {
                    sets.extend(
                        settings
                            .keys()
                            .filter_map(Value::as_str)
                            .map(str::to_string),
                    );
                }
            }
            Some(key) => keys.push(key.to_string()),
        }
    }
    (keys, sets)
}

/// Sets `value` at `path` below `node`.
fn set_at(node: &mut Value, path: &[&str], value: Value) -> Result<(), String> {
    let Some(first) = path.first() else {
        *node = value;
        return Ok(());
    };
    match node {
        Value::Mapping(map) => {
            // A key may hold dots itself (`requests.cpu`): take the longest run of segments that
            // names an existing key, else the single next segment.
            let taken = (1..=path.len())
                .rev()
                .find(|&n| map.contains_key(path[..n].join(".").as_str()))
                .unwrap_or(1);
            let key = Value::String(path[..taken].join("."));
            let rest = &path[taken..];
            if rest.is_empty() {
                map.insert(key, value);
                return Ok(());
            }
            let child = map
                .entry(key)
                .or_insert_with(|| Value::Mapping(Mapping::new()));
            set_at(child, rest, value)
        }
        Value::Sequence(items) => {
            let index: usize = first
                .parse()
                .map_err(|_| format!("{first:?} is not a list index; the value here is a list"))?;
            let len = items.len();
            let child = items
                .get_mut(index)
                .ok_or_else(|| format!("index {index} is past the end of a list of {len}"))?;
            set_at(child, &path[1..], value)
        }
        Value::Null => {
            *node = Value::Mapping(Mapping::new());
            set_at(node, path, value)
        }
        other => Err(format!(
            "{first:?} goes inside {}, which has no fields",
            describe(other)
        )),
    }
}

/// An override's value as a message shows it: whole up to 80 characters, else its start, an
/// ellipsis and its length, so that the reason after it stays on a line under 1 kB.
fn shortened(value: &str) -> String {
    let count = value.chars().count();
    if count <= 80 {
        return value.to_string();
    }
    let start: String = value.chars().take(60).collect();
    format!("{start}… ({count} characters)")
}

/// What kind of value `value` is, for a message that must not quote it.
fn describe_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a map",
        Value::Tagged(_) => "a tagged value",
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        _ => "a value".to_string(),
    }
}

#[cfg(test)]
#[path = "document_tests.rs"]
mod tests;
