//! Reading a scenario document into its `File` shape with every shape error at once.
//!
//! serde stops at the first unknown field or wrong type. When the whole document does not fit
//! `File`, each top-level key (and each entry of the name-keyed sections) is read again on its
//! own, so that every part with a wrong shape is reported, each with its YAML path. Positions
//! are left to `scenario::positions`: the parts are read from text written out here, whose lines
//! mean nothing to the user.

use serde_yaml::{Mapping, Value};

use crate::scenario::error::{self, Error};

use super::File;

/// Top-level keys every scenario gives (`File` reads them with a default, so that a part of
/// the file can be read alone; their absence is checked here).
const REQUIRED: [&str; 3] = ["name", "duration", "node_pools"];

/// Top-level sections that map names to entries, read entry by entry.
const NAMED: [&str; 5] = ["node_pools", "services", "jobs", "quotas", "daemonsets"];

/// The document `root` as a `File`, or every shape error it has (missing keys first, then
/// unknown fields and wrong types in document order); `origin` names it in messages.
pub(crate) fn file(root: &Value, origin: &str) -> Result<File, Error> {
    let whole = shape(root, origin);
    let Value::Mapping(top) = root else {
        return whole;
    };
    let mut errors: Vec<Error> = REQUIRED
        .iter()
        .filter(|key| !top.contains_key(**key))
        .map(|key| missing(origin, key))
        .collect();
    let whole = match whole {
        Ok(file) if errors.is_empty() => return Ok(file),
        Ok(_) => return Err(error::all(errors)),
        Err(e) => e,
    };
    for (key, value) in top {
        let named = key.as_str().is_some_and(|k| NAMED.contains(&k));
        match value {
            Value::Mapping(entries) if named => {
                for (name, entry) in entries {
                    let part = single(key.clone(), single(name.clone(), entry.clone()));
                    errors.extend(shape(&part, origin).err());
                }
            }
            _ => errors.extend(shape(&single(key.clone(), value.clone()), origin).err()),
        }
    }
    if errors.is_empty() {
        // Every part fits alone; report what the whole did not fit.
        errors.push(whole);
    }
    Err(error::all(errors))
}

/// A map of one entry.
fn single(key: Value, value: Value) -> Value {
    let mut map = Mapping::new();
    map.insert(key, value);
    Value::Mapping(map)
}

/// `value` read as a `File` through its text, so that an error carries serde_yaml's YAML path.
fn shape(value: &Value, origin: &str) -> Result<File, Error> {
    let text = serde_yaml::to_string(value).unwrap_or_default();
    serde_yaml::from_str(&text).map_err(|e| {
        let mut error = error::from_yaml(origin, &e);
        // The line is one of the text written out here.
        if let Error::Syntax { line_column, .. } = &mut error {
            *line_column = None;
        }
        error
    })
}

/// The error of a required top-level key that is not given.
fn missing(origin: &str, key: &str) -> Error {
    Error::Syntax {
        origin: origin.to_string(),
        path: String::new(),
        problem: format!("missing field \"{key}\""),
        line_column: None,
        allowed: format!("\"{key}\" is required here"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(yaml: &str) -> Vec<String> {
        let root: Value = serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("{e}"));
        match file(&root, "x.yaml") {
            Ok(_) => Vec::new(),
            Err(e) => e.to_string().lines().map(str::to_string).collect(),
        }
    }

    #[test]
    fn every_part_with_a_wrong_shape_is_reported() {
        let got = errors(
            "name: t\nduraton: 1h\nnode_pools:\n  a: {machine_typ: x}\n  b: {machine_type: x, \
             spot: maybe}\nservices:\n  web: {replicas: [1]}\nexpect: 3\n",
        );
        let expected = [
            "x.yaml: missing field \"duration\"; \"duration\" is required here",
            "x.yaml: unknown field \"duraton\"; expected one of",
            "x.yaml: node_pools.a: unknown field \"machine_typ\";",
            "x.yaml: node_pools.b.spot: found string \"maybe\"; expected true or false",
            "x.yaml: services.web.replicas: found a list;",
            "x.yaml: expect: found integer \"3\"; expected a list",
        ];
        assert_eq!(got.len(), expected.len(), "{got:#?}");
        for (got, expected) in got.iter().zip(expected) {
            assert!(
                got.starts_with(expected),
                "{got:?} should start with {expected:?}"
            );
        }
    }

    #[test]
    fn a_well_shaped_file_is_read() {
        assert_eq!(
            errors("name: t\nduration: 1h\nnode_pools: {a: {machine_type: x}}\n"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_document_that_is_not_a_map_is_one_error() {
        assert_eq!(
            errors("- a\n- b\n"),
            ["x.yaml: found a list; expected a map"]
        );
    }
}
