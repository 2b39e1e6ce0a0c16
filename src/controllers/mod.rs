//! The control loops that act on the cluster: today the Deployment/ReplicaSet controller; the
//! HPA and the Cluster Autoscaler plug in beside it.
//!
//! Use each controller as a plain function of the state it observes, returning the change it
//! wants; the simulation applies it at the controller's own period.
//!
//! **Invariant:** controllers do no I/O, read no clock and schedule no events.

pub mod cluster_autoscaler;
pub mod deployment;
