//! capsim: a discrete-event simulator of a Kubernetes cluster's capacity.
//!
//! A scenario (node pools, services, quotas, load) is loaded by `scenario`, simulated event by
//! event by `simulation` on top of the domain-free `engine`, reported by `report`, and drawn
//! from its output files by `plot`. See ARCHITECTURE.md for the map of the crate.

#![warn(missing_docs, unreachable_pub)]

pub mod check;
pub mod cluster;
pub mod controllers;
pub mod diff;
pub mod engine;
pub mod html;
pub mod monitoring;
pub mod plot;
pub mod replications;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod simulation;
pub mod sweep;
pub mod text;
pub mod units;
pub mod workload;
