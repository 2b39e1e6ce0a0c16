//! The load offered to services and how pods serve it: arrival processes and rate profiles,
//! per-request cost models, load balancing, and each pod's queue and workers.

pub mod spec;
