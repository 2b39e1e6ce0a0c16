//! The control loops that act on the cluster: the Deployment/ReplicaSet controller, the Job
//! controller, the Horizontal Pod Autoscaler and the Cluster Autoscaler, each with its own spec types (`spec`).
//!
//! Use each controller as a plain function of the state it observes, returning the change it
//! wants; the simulation applies it at the controller's own period.
//!
//! **Invariant:** controllers do no I/O, read no clock and schedule no events.

pub mod cluster_autoscaler;
pub mod deployment;
pub mod hpa;
pub mod job;
