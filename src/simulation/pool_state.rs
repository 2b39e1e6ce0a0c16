//! What the simulation keeps per node pool beyond its nodes: the cloud's provisioning delays and
//! Spot preemptions with their random streams, and what happened to the pool in the measured
//! window.
//!
//! Use `PoolState::new` once per pool. The pool's nodes, and the gauges that follow them (billed,
//! registered, requested, allocatable), live in `ClusterState`.

use crate::cluster::pool::NodePool;
use crate::engine::rng::{SimRng, stream};
use crate::units::{DurationDist, SimDuration, SimTime};
use crate::workload::cost::ServiceTimeSampler;

/// A delay drawn from its own random stream.
#[derive(Debug)]
pub(crate) struct Delay {
    sampler: ServiceTimeSampler,
    rng: SimRng,
}

impl Delay {
    /// Delays distributed as `dist`, drawn from the stream named `stream_name` of `seed`.
    pub(crate) fn new(dist: &DurationDist, seed: u64, stream_name: &str) -> Delay {
        Delay {
            sampler: ServiceTimeSampler::from_duration(dist),
            rng: stream(seed, stream_name),
        }
    }

    /// The next delay.
    pub(crate) fn draw(&mut self) -> SimDuration {
        self.sampler.sample(&mut self.rng)
    }
}

/// One pool's runtime state.
#[derive(Debug)]
pub(crate) struct PoolState {
    /// Time from asking for a node to its registration.
    pub(crate) provisioning: Delay,
    /// A Spot node's time from registration to preemption, for pools that are preempted.
    pub(crate) preemption: Option<Delay>,
    /// A node's time from registration to its failure, for pools whose nodes fail.
    pub(crate) failure: Option<Delay>,
    /// While the pool's zone is out: when it comes back.
    pub(crate) zone_out_until: Option<SimTime>,
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
        let name = &pool.name;
        PoolState {
            provisioning: Delay::new(
                &pool.provisioning_delay,
                seed,
                &format!("provisioning/{name}"),
            ),
            preemption: pool.preemption_mean_lifetime.map(|mean| {
                let lifetime = DurationDist::Exponential { mean };
                Delay::new(&lifetime, seed, &format!("preemption/{name}"))
            }),
            failure: pool.failures.map(|f| {
                let lifetime = DurationDist::Exponential {
                    mean: f.mean_time_between,
                };
                Delay::new(&lifetime, seed, &format!("failures/{name}"))
            }),
            zone_out_until: None,
            preempted: 0,
            nodes_added: 0,
            nodes_removed: 0,
        }
    }
}
