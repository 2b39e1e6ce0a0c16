//! Scenario input: the YAML file's schema, Kubernetes quantities and Go durations, the machine
//! catalog, and validation into a `Scenario` the simulation can trust.
//!
//! Use `Scenario::load` (or `Scenario::from_yaml_str`) to read a scenario; every problem comes
//! back at once, each as an `Error` naming the file and line where the value is written, the
//! YAML path, the bad value and what is allowed (several in an `Error::Many`).
//! `docs/scenario-reference.md` describes the file format field by field.
//!
//! **Invariant:** this is the only module that knows serde or YAML. After `Scenario::load`
//! succeeds, no user input can make a later stage fail. This module simulates nothing.

#![allow(
    clippy::result_large_err,
    reason = "an Error is built at most once per load, off the hot path; a flat enum lets \
              callers match on its fields"
)]

pub mod admission;
pub mod budget;
pub mod catalog;
mod document;
mod error;
mod inputs;
mod manifests;
pub mod model;
mod node_list;
mod pod_trace;
mod positions;
mod prescan;
mod quantity;
mod schema;
pub mod trace;
mod validate;
mod yaml_text;

use std::path::Path;

pub use document::{Document, Override};
pub use error::Error;
pub use manifests::{Imported, import};
pub use model::Scenario;
pub use quantity::parse_duration;

impl Scenario {
    /// Reads and validates the scenario file at `path` (following its `base:`, if any).
    ///
    /// # Errors
    /// `Error::Io` when the file cannot be read; otherwise as `from_yaml_str`, with the path as
    /// given used as the origin in messages.
    pub fn load(path: &Path) -> Result<Scenario, Error> {
        Document::load(path)?.scenario()
    }

    /// Parses and validates a scenario from YAML text; `origin` names it in messages (usually
    /// the file name). File paths it names (traces) are relative to the current folder.
    ///
    /// # Errors
    /// `Error::Syntax` for malformed YAML or a wrong shape (unknown field, wrong type, missing
    /// field, duplicate key); `Error::Invalid`, `Error::UnknownName` or
    /// `Error::Unschedulable` for a value validation rejects; `Error::Many` when there are
    /// several.
    ///
    /// # Examples
    /// ```
    /// use capsim::scenario::Scenario;
    /// let yaml = "
    /// name: tiny
    /// duration: 1h
    /// node_pools:
    ///   pool: {machine_type: e2-standard-8}
    /// services:
    ///   web: {resources: {requests: {cpu: 500m, memory: 1Gi}}}
    /// ";
    /// let scenario = Scenario::from_yaml_str(yaml, "tiny.yaml").unwrap();
    /// assert_eq!(scenario.services[0].pod.requests.cpu.0, 500);
    ///
    /// let err = Scenario::from_yaml_str(&yaml.replace("500m", "lots"), "tiny.yaml").unwrap_err();
    /// // Line 7, column 32 of the text: where the value is written.
    /// assert!(err.to_string().starts_with(
    ///     "tiny.yaml:7:32: services.web.resources.requests.cpu: \"lots\" is not a cpu quantity;"
    /// ));
    /// ```
    pub fn from_yaml_str(text: &str, origin: &str) -> Result<Scenario, Error> {
        Document::from_yaml_str(text, origin)?.scenario()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every scenario shipped in `scenarios/` loads.
    #[test]
    fn shipped_scenarios_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut loaded = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("the scenarios folder exists") {
            let path = entry.expect("the scenarios folder is readable").path();
            if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                match Scenario::load(&path) {
                    Ok(s) => loaded.push(s.name),
                    Err(e) => panic!("{e}"),
                }
            }
        }
        loaded.sort();
        for expected in ["ai-infra", "mmc", "taints-and-affinity"] {
            assert!(
                loaded.iter().any(|n| n == expected),
                "{expected} missing from {loaded:?}"
            );
        }
    }

    #[test]
    fn load_names_the_missing_file() {
        let err = Scenario::load(Path::new("no/such/file.yaml")).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::Io { .. }));
        assert!(
            text.starts_with("no/such/file.yaml: cannot read the scenario file: "),
            "{text}"
        );
    }
}
