//! The Cluster Autoscaler, as kubernetes/autoscaler's `cluster-autoscaler` (release 1.37)
//! implements it.
//!
//! Use `estimator` to size a scale-up of one pool, `expander` to pick the pool to grow among
//! expansion options and `backoff` to hold back a pool whose scale-up failed. Like every
//! controller, nothing here does I/O, reads a clock or emits events; randomness comes only from
//! the generator passed in.

pub mod backoff;
pub mod estimator;
pub mod expander;
#[cfg(test)]
mod testing;
