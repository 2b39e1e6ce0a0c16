//! Scenario input: the YAML file's schema, Kubernetes quantities and Go durations, the machine
//! catalog, and validation into a `Scenario` the simulation can trust.
//!
//! **Invariant:** this is the only module that knows serde or YAML. After `Scenario::load`
//! succeeds, no user input can make a later stage fail.

pub mod catalog;
pub mod model;

pub use model::Scenario;
