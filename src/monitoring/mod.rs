//! The monitoring stack as the simulation runs it: Prometheus scrape jobs and alerting rules,
//! and each rule's evaluation (inactive → pending → firing → resolved) as Prometheus' rule
//! manager does it.
//!
//! Use `rules` for what the scenario configures and `alerts::AlertState` to evaluate one rule at
//! each evaluation instant; the simulation measures the value a rule watches and hands it over.
//!
//! **Invariant:** like the controllers, nothing here does I/O, reads a clock or schedules an
//! event: a rule's state is a plain function of the values it was shown and when.

pub mod alerts;
pub mod rules;
