//! The load offered to services and how pods serve it: arrival processes and rate profiles,
//! per-request cost models, load balancing, and each pod's queue and workers.
//!
//! **Invariant:** nothing here knows about nodes or controllers, and nothing here allocates per
//! request: these are the hot path.

pub mod arrivals;
pub mod balancer;
pub mod cost;
pub mod in_service;
pub mod server;
pub mod spec;
pub mod trace;
