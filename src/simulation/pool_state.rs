//! What the simulation keeps per node pool beyond its nodes: the cloud's provisioning delays and
//! Spot preemptions with their random streams, and what happened to the pool in the measured
//! window.
//!
//! Use `PoolState::new` once per pool. The pool's nodes, and the gauges that follow them (billed,
//! registered, requested, allocatable), live in `ClusterState`.

use crate::cluster::pool::NodePool;
use crate::engine::rng::{SimRng, stream};
use crate::units::DurationDist;
use crate::workload::cost::ServiceTimeSampler;

/// One pool's runtime state.
#[derive(Debug)]
pub(crate) struct PoolState {
    /// Time from asking for a node to its registration.
    pub(crate) provisioning_delay: ServiceTimeSampler,
    /// Draws provisioning delays.
    pub(crate) rng_provisioning: SimRng,
    /// A spot node's time from registration to preemption, for pools that are preempted.
    pub(crate) preemption_lifetime: Option<ServiceTimeSampler>,
    /// Draws spot nodes' lifetimes.
    pub(crate) rng_preemption: SimRng,
    /// Spot nodes preempted in the measured window.
    pub(crate) preempted: u64,
    /// Nodes asked for in the measured window (scale-ups and replacements of preempted ones).
    pub(crate) nodes_added: u64,
    /// Nodes removed (scaled down, or given up on while provisioning) in the measured window.
    pub(crate) nodes_removed: u64,
}

impl PoolState {
    /// The state of `pool` at the start of a run seeded with `seed`; its streams are named after
    /// the pool.
    pub(crate) fn new(pool: &NodePool, seed: u64) -> PoolState {
        PoolState {
            provisioning_delay: ServiceTimeSampler::from_duration(&pool.provisioning_delay),
            rng_provisioning: stream(seed, &format!("provisioning/{}", pool.name)),
            preemption_lifetime: pool
                .preemption_mean_lifetime
                .map(|mean| ServiceTimeSampler::from_duration(&DurationDist::Exponential { mean })),
            rng_preemption: stream(seed, &format!("preemption/{}", pool.name)),
            preempted: 0,
            nodes_added: 0,
            nodes_removed: 0,
        }
    }
}
