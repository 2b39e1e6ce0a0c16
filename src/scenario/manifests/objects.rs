//! Reading manifests: files and folders, multi-document YAML (`---`, comments, Helm's
//! `# Source:` headers), `kind: List` documents as `kubectl get -o yaml` prints them, and the
//! typed reads every translator uses, each failure naming the file, the document and the field.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_yaml::Value;

use super::Issues;
use crate::scenario::yaml_text;

/// One Kubernetes object and where it was read.
#[derive(Debug, Clone)]
pub(super) struct Object {
    /// The file, as the user named it.
    pub(super) file: String,
    /// 1-based document number in the file.
    pub(super) document: usize,
    /// 1-based item number inside a `List` document.
    pub(super) item: Option<usize>,
    /// `kind`.
    pub(super) kind: String,
    /// `apiVersion`.
    pub(super) api_version: String,
    /// `metadata.name`.
    pub(super) name: String,
    /// `metadata.namespace`, `default` when absent.
    pub(super) namespace: String,
    /// The whole object.
    pub(super) value: Value,
}

impl Object {
    /// `file: document N (Kind name)`, the prefix of every message about this object.
    pub(super) fn origin(&self) -> String {
        let item = self.item.map(|i| format!(" item {i}")).unwrap_or_default();
        format!(
            "{}: document {}{item} ({} {})",
            self.file, self.document, self.kind, self.name
        )
    }

    /// A message about the field at `path` of this object.
    pub(super) fn at(&self, path: &str, what: &str) -> String {
        format!("{}: {path}: {what}", self.origin())
    }
}

/// The value at the dotted `path` below `value` (map keys only), if any and not null.
pub(super) fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = value;
    for key in path.split('.').filter(|k| !k.is_empty()) {
        node = node.as_mapping()?.get(key)?;
    }
    (!node.is_null()).then_some(node)
}

/// A whole number at `path` of `value` (absent: `None`); anything else is an error.
pub(super) fn whole(
    object: &Object,
    value: &Value,
    base: &str,
    field: &str,
    issues: &mut Issues,
) -> Option<i64> {
    let v = lookup(value, field)?;
    match v.as_i64() {
        Some(n) => Some(n),
        None => {
            issues.errors.push(object.at(
                &join(base, field),
                &format!("{} is not a whole number; expected an integer", show(v)),
            ));
            None
        }
    }
}

/// A map of strings at `field` of `value` (labels, node selectors); other shapes are errors.
pub(super) fn string_map(
    object: &Object,
    value: &Value,
    base: &str,
    field: &str,
    issues: &mut Issues,
) -> Vec<(String, String)> {
    let Some(v) = lookup(value, field) else {
        return Vec::new();
    };
    let Some(map) = v.as_mapping() else {
        issues.errors.push(object.at(
            &join(base, field),
            &format!("{} is not a map; expected key: value pairs", show(v)),
        ));
        return Vec::new();
    };
    map.iter()
        .filter_map(|(k, v)| Some((scalar_text(k)?, scalar_text(v).unwrap_or_default())))
        .collect()
}

/// The list at `field` of `value` (absent: empty); another shape is an error.
pub(super) fn list<'a>(
    object: &Object,
    value: &'a Value,
    base: &str,
    field: &str,
    issues: &mut Issues,
) -> &'a [Value] {
    match lookup(value, field) {
        None => &[],
        Some(Value::Sequence(items)) => items,
        Some(other) => {
            issues.errors.push(object.at(
                &join(base, field),
                &format!("{} is not a list; expected a list", show(other)),
            ));
            &[]
        }
    }
}

pub(super) use crate::scenario::inputs::scalar_text;

/// `base.field`, or `field` at the root.
pub(super) fn join(base: &str, field: &str) -> String {
    if base.is_empty() {
        field.to_string()
    } else {
        format!("{base}.{field}")
    }
}

/// A value quoted for a message.
pub(super) fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        Value::Sequence(_) => "a list".to_string(),
        Value::Mapping(_) => "a map".to_string(),
        Value::Tagged(_) => "a tagged value".to_string(),
    }
}

/// The manifest files `paths` name: each file itself, and each folder's `.yaml`, `.yml` and
/// `.json` files in name order (not recursively, as `kubectl apply -f DIR`). Each comes with
/// the name messages use for it.
pub(super) fn files(paths: &[(PathBuf, String)], issues: &mut Issues) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for (path, shown) in paths {
        if !path.is_dir() {
            out.push((path.clone(), shown.clone()));
            continue;
        }
        let entries = match std::fs::read_dir(path) {
            Ok(entries) => entries,
            Err(e) => {
                issues
                    .errors
                    .push(format!("{shown}: cannot read the manifest folder: {e}"));
                continue;
            }
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && is_manifest(p))
            .collect();
        found.sort();
        for file in found {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            let shown = format!(
                "{}/{}",
                shown.trim_end_matches('/'),
                name.unwrap_or_default()
            );
            out.push((file, shown));
        }
    }
    out
}

fn is_manifest(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
}

/// Every object of the file `path` (shown as `shown`), in document order, `List` items
/// expanded.
pub(super) fn read_file(path: &Path, shown: &str, issues: &mut Issues) -> Vec<Object> {
    let text = match yaml_text::read_file(path) {
        Ok(bytes) => match yaml_text::decode(bytes, shown) {
            Ok(text) => text,
            Err(e) => {
                issues.errors.push(e.to_string());
                return Vec::new();
            }
        },
        Err(e) => {
            issues
                .errors
                .push(format!("{shown}: cannot read the manifest file: {e}"));
            return Vec::new();
        }
    };
    read_text(&text, shown, issues)
}

/// Every object of manifest `text`, as `read_file`.
pub(super) fn read_text(text: &str, shown: &str, issues: &mut Issues) -> Vec<Object> {
    let mut out = Vec::new();
    if let Err(e) = yaml_text::check(text, shown) {
        issues.errors.push(e.to_string());
        return out;
    }
    for (i, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let index = i + 1;
        let value = match Value::deserialize(document) {
            Ok(value) => value,
            Err(e) => {
                issues
                    .errors
                    .push(format!("{shown}: document {index}: not YAML: {e}"));
                // The parser cannot resynchronise after a syntax error.
                break;
            }
        };
        if value.is_null() {
            continue;
        }
        let items = lookup(&value, "items").and_then(Value::as_sequence);
        let kind = lookup(&value, "kind").and_then(Value::as_str);
        match (kind, items) {
            (Some(kind), Some(items)) if kind.ends_with("List") => {
                for (j, item) in items.iter().enumerate() {
                    if let Some(o) = object(item, shown, index, Some(j + 1), issues) {
                        out.push(o);
                    }
                }
            }
            _ => out.extend(object(&value, shown, index, None, issues)),
        }
    }
    out
}

/// One object, or a warning when the document is not a Kubernetes object.
fn object(
    value: &Value,
    file: &str,
    document: usize,
    item: Option<usize>,
    issues: &mut Issues,
) -> Option<Object> {
    let text = |path: &str| lookup(value, path).and_then(scalar_text);
    let (Some(kind), Some(api_version)) = (text("kind"), text("apiVersion")) else {
        let item = item.map(|i| format!(" item {i}")).unwrap_or_default();
        issues.warnings.push(format!(
            "{file}: document {document}{item}: skipped: not a Kubernetes object (no kind or \
             apiVersion)"
        ));
        return None;
    };
    Some(Object {
        file: file.to_string(),
        document,
        item,
        kind,
        api_version,
        name: text("metadata.name").unwrap_or_default(),
        namespace: text("metadata.namespace").unwrap_or_else(|| "default".to_string()),
        value: value.clone(),
    })
}
