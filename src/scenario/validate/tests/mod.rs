//! Validation tests: for each kind of bad input, the message names the YAML path, quotes the
//! bad value and says what is allowed; for good input, the model holds the file's values and
//! the documented defaults.

mod checks;
mod daemonsets;
mod errors;
mod extended;
mod jobs;
mod values;
mod zones;

use crate::scenario::{Error, Scenario};

/// A small valid scenario that the cases below break one piece at a time.
pub(super) const BASE: &str = "
name: t
duration: 1h
node_pools:
  pool:
    machine_type: c2-standard-8
services:
  web:
    replicas: 2
    resources:
      requests: {cpu: 500m, memory: 1Gi}
    server: {concurrency: 4}
    load:
      arrivals: {rate: 100}
      service_time: 10ms
";

pub(super) fn load(yaml: &str) -> Result<Scenario, Error> {
    Scenario::from_yaml_str(yaml, "x.yaml")
}

/// `BASE` with `from` replaced by `to`; fails if `from` is not in `BASE`, so that a case
/// cannot silently test the unmodified file.
pub(super) fn base_with(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from:?} is not in BASE");
    BASE.replacen(from, to, 1)
}

/// Asserts that `yaml` is rejected with a message containing every fragment.
#[track_caller]
pub(super) fn assert_rejected(yaml: &str, fragments: &[&str]) {
    let message = match load(yaml) {
        Ok(_) => panic!("accepted, expected an error containing {fragments:?}:\n{yaml}"),
        Err(e) => e.to_string(),
    };
    assert!(!message.contains('\n'), "message spans lines: {message}");
    assert!(message.starts_with("x.yaml:"), "{message}");
    for fragment in fragments {
        assert!(
            message.contains(fragment),
            "{fragment:?} missing from: {message}"
        );
    }
}

#[test]
fn base_is_valid() {
    let s = load(BASE).expect("BASE is valid");
    assert_eq!(s.services[0].replicas, 2);
}

#[test]
fn the_documented_example_message_is_exact() {
    let err = load(&base_with("replicas: 2", "replicas: -3")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "x.yaml:9:5: services.web.replicas: \"-3\" is not a valid count; expected a whole number from 0 to 150000"
    );
    assert_eq!(err.path(), "services.web.replicas");
}
