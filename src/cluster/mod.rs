//! The cluster's objects and the decisions made about them: node pools and nodes, pods,
//! ResourceQuotas and their admission, PodDisruptionBudgets, the kube-scheduler model, and the
//! kubelet's answers to memory running out (restart backoff, eviction order).
//!
//! Use this module to ask "where would this pod go" or "may this pod be created".
//!
//! **Invariant:** nothing here does I/O, reads a clock or schedules an event; every function is a
//! plain function of the state passed in, so each can be tested against Kubernetes' own cases.

pub mod cpu_sharing;
pub mod disruption;
pub mod kubelet;
pub mod node;
pub mod placement;
pub mod pool;
pub mod quota;
pub mod scheduler;
pub mod spec;
#[cfg(test)]
pub(crate) mod testing;
