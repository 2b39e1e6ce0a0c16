//! Integration tests of capsim: the real binary and the public library, on scenario files.
//!
//! One test binary (faster to build and link than one per file); `util` holds the harness.

mod util;

mod alerts;
mod architecture;
mod autoscaling;
mod availability;
mod bad_input;
mod balanced_allocation;
mod check;
mod cli;
mod cluster_inputs;
mod conformance;
mod cpu;
mod determinism;
mod diff;
mod disk_full;
mod every_error;
mod failures;
mod gpu;
mod jobs;
mod limits;
mod manifests;
mod nothing_served;
mod oom;
mod openmetrics;
mod outages;
mod pending_reasons;
mod placement;
mod pod_rules;
mod preemption;
mod queueing;
mod report_html;
mod soft_taints;
mod summary_order;
mod sweep;
mod trace;
mod validate_agrees;
mod zones;
