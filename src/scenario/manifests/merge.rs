//! A scenario's `manifests:` key: the fragment the manifests make, under the scenario's own
//! keys. The scenario overrides and completes what the manifests give: maps merge key by key,
//! anything else the scenario writes replaces the manifests' value.

use std::path::Path;

use serde_yaml::Value;

use crate::scenario::error::Error;
use crate::scenario::inputs::overlay;

use super::translate;

/// Replaces the `manifests:` key of `root` (a scenario read from a file in `dir`; `origin`
/// names it) by what the manifests make, merged under the scenario's own keys. Returns the
/// warnings, or `None` when there is no `manifests:` key.
///
/// # Errors
/// `Error::Invalid` when `manifests` is not a list of paths, `Error::Manifests` for malformed
/// manifests.
pub(crate) fn expand(
    root: &mut Value,
    dir: &Path,
    origin: &str,
) -> Result<Option<Vec<String>>, Error> {
    let Some(map) = root.as_mapping_mut() else {
        return Ok(None);
    };
    let Some(list) = map.remove("manifests") else {
        return Ok(None);
    };
    let entries: Option<Vec<String>> = match &list {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Sequence(items) => items.iter().map(|i| i.as_str().map(String::from)).collect(),
        _ => None,
    };
    let Some(entries) = entries.filter(|e| !e.is_empty()) else {
        return Err(Error::Invalid {
            origin: origin.to_string(),
            path: "manifests".to_string(),
            problem: "\"manifests\" is not a list of paths".to_string(),
            allowed: "expected manifests: [FILE or FOLDER, ...], relative to the scenario file"
                .to_string(),
        });
    };
    let paths: Vec<_> = entries.iter().map(|e| (dir.join(e), e.clone())).collect();
    let missing: Vec<Error> = paths
        .iter()
        .enumerate()
        .filter(|(_, (path, _))| !path.exists())
        .map(|(i, (_, entry))| Error::Invalid {
            origin: origin.to_string(),
            path: format!("manifests[{i}]"),
            problem: format!("\"{entry}\" names no file or folder"),
            allowed: "expected a manifest file or a folder of them, relative to the scenario file"
                .to_string(),
        })
        .collect();
    if !missing.is_empty() {
        return Err(crate::scenario::error::all(missing));
    }
    let translation = translate(&paths)?;
    let mut merged = Value::Mapping(translation.fragment);
    let mut user = std::mem::take(root);
    alias_services(&merged, &mut user);
    overlay(&mut merged, user);
    *root = merged;
    Ok(Some(translation.warnings))
}

/// Renames the scenario's `services.<namespace>/<name>` to `<name>` when the manifests call
/// that workload by its name alone.
fn alias_services(fragment: &Value, user: &mut Value) {
    let Some(made) = fragment.get("services").and_then(Value::as_mapping) else {
        return;
    };
    let Some(given) = user.get_mut("services").and_then(Value::as_mapping_mut) else {
        return;
    };
    let renames: Vec<(Value, Value)> = given
        .keys()
        .filter_map(|k| {
            let (namespace, name) = k.as_str()?.split_once('/')?;
            let entry = made.get(name)?;
            (entry.get("namespace").and_then(Value::as_str) == Some(namespace))
                .then(|| (k.clone(), Value::from(name)))
        })
        .collect();
    for (from, to) in renames {
        if let Some(v) = given.remove(&from) {
            given.insert(to, v);
        }
    }
}
