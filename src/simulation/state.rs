//! The simulation's mutable world: pod slots, node bookkeeping, per-service and per-pool state.
//!
//! Use `PodRef` to name a pod from an event: a slot and the generation it had when the event was
//! scheduled, so an event for a pod that has since been deleted is recognised and ignored.

use crate::cluster::node::NodeId;
use crate::cluster::quota::QuotaUsage;
use crate::controllers::hpa::Hpa;
use crate::engine::rng::SimRng;
use crate::report::stats::{Gauge, Latency};
use crate::units::{Bytes, Millicores, SimDuration, SimTime};
use crate::workload::arrivals::ArrivalProcess;
use crate::workload::balancer::Balancer;
use crate::workload::cost::ServiceTimeSampler;
use crate::workload::server::{PodServer, ServerLimits};

/// A pod named by slot and generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PodRef {
    pub(crate) slot: u32,
    pub(crate) generation: u32,
}

/// Where a pod is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PodPhase {
    /// Created, not bound to a node.
    Pending,
    /// Bound; pulling its image or waiting for readiness.
    Starting,
    /// Receiving traffic.
    Ready,
    /// Draining before deletion; receives no new requests.
    Terminating,
}

/// One pod.
#[derive(Debug, Clone)]
pub(crate) struct Pod {
    pub(crate) service: u16,
    /// Per-service serial number, for the pod's name.
    pub(crate) serial: u32,
    pub(crate) phase: PodPhase,
    pub(crate) node: Option<NodeId>,
    pub(crate) created_at: SimTime,
    pub(crate) ready_since: Option<SimTime>,
    pub(crate) server: PodServer,
    /// CPU usage integral when usage was last collected, to difference per interval.
    pub(crate) cpu_area_collected: u64,
    /// Requests in service that arrived in the measured window.
    pub(crate) in_service_measured: u32,
    /// The last reason the scheduler gave for not placing the pod, to log only changes.
    pub(crate) last_unschedulable: Option<String>,
    /// When the pod was bound to a node (its `status.startTime`).
    pub(crate) bound_at: Option<SimTime>,
    /// When its containers started (after the image pull): phase Running from then on.
    pub(crate) containers_start: Option<SimTime>,
    /// Requests routed to the pod since the last metrics sample.
    pub(crate) arrivals_since_sample: u32,
    /// CPU usage integral at the last metrics sample.
    pub(crate) cpu_area_at_sample: u64,
    /// The latest metrics-server sample of the pod, once it has run for a full window.
    pub(crate) sample: Option<PodSample>,
}

impl Pod {
    /// A Pending pod of service `service`, created at `now`, with room reserved for
    /// `queue_capacity` waiting requests.
    pub(crate) fn new(service: u16, serial: u32, now: SimTime, queue_capacity: usize) -> Pod {
        Pod {
            service,
            serial,
            phase: PodPhase::Pending,
            node: None,
            created_at: now,
            ready_since: None,
            server: PodServer::new(now, queue_capacity),
            cpu_area_collected: 0,
            in_service_measured: 0,
            last_unschedulable: None,
            bound_at: None,
            containers_start: None,
            arrivals_since_sample: 0,
            cpu_area_at_sample: 0,
            sample: None,
        }
    }

    /// Whether the pod's containers run at `now` (phase Running, as opposed to Pending).
    pub(crate) fn running(&self, now: SimTime) -> bool {
        self.containers_start.is_some_and(|t| t <= now)
    }
}

/// One metrics-server sample of a pod, plus the per-pod load metrics capsim derives alongside.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PodSample {
    /// When the sample was taken (its window ends here).
    pub(crate) timestamp: SimTime,
    /// The window the CPU figure averages over.
    pub(crate) window: SimDuration,
    /// Average CPU over the window.
    pub(crate) cpu: Millicores,
    /// Memory in use at the sample.
    pub(crate) memory: Bytes,
    /// Requests routed to the pod per second over the window.
    pub(crate) requests_per_second: f64,
    /// Requests queued or in service at the sample.
    pub(crate) in_flight: u32,
}

/// A slot in the pod table.
#[derive(Debug, Clone)]
pub(crate) struct PodSlot {
    pub(crate) generation: u32,
    pub(crate) pod: Option<Pod>,
}

/// The pod table: slots reused after deletion, so its size follows the peak pod count, not the
/// number of pods ever created.
#[derive(Debug, Clone, Default)]
pub(crate) struct PodTable {
    slots: Vec<PodSlot>,
    free: Vec<u32>,
}

impl PodTable {
    /// Stores `pod` and returns its reference.
    pub(crate) fn insert(&mut self, pod: Pod) -> PodRef {
        match self.free.pop() {
            Some(slot) => {
                let entry = &mut self.slots[slot as usize];
                entry.pod = Some(pod);
                PodRef {
                    slot,
                    generation: entry.generation,
                }
            }
            None => {
                self.slots.push(PodSlot {
                    generation: 0,
                    pod: Some(pod),
                });
                PodRef {
                    slot: (self.slots.len() - 1) as u32,
                    generation: 0,
                }
            }
        }
    }

    /// The pod, if it still exists.
    #[inline]
    pub(crate) fn get(&self, r: PodRef) -> Option<&Pod> {
        let slot = self.slots.get(r.slot as usize)?;
        if slot.generation == r.generation {
            slot.pod.as_ref()
        } else {
            None
        }
    }

    /// The pod, mutably, if it still exists.
    #[inline]
    pub(crate) fn get_mut(&mut self, r: PodRef) -> Option<&mut Pod> {
        let slot = self.slots.get_mut(r.slot as usize)?;
        if slot.generation == r.generation {
            slot.pod.as_mut()
        } else {
            None
        }
    }

    /// Every live pod, in slot order.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Pod> {
        self.slots.iter_mut().filter_map(|slot| slot.pod.as_mut())
    }

    /// Removes the pod; later lookups with `r` find nothing.
    pub(crate) fn remove(&mut self, r: PodRef) -> Option<Pod> {
        let slot = self.slots.get_mut(r.slot as usize)?;
        if slot.generation != r.generation {
            return None;
        }
        let pod = slot.pod.take();
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(r.slot);
        pod
    }
}

/// Request counters of one service.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counts {
    pub(crate) arrived: u64,
    pub(crate) completed: u64,
    pub(crate) rejected_queue_full: u64,
    pub(crate) rejected_no_ready_pod: u64,
    pub(crate) timed_out: u64,
    pub(crate) killed: u64,
}

/// What the HPA did to one service in the measured window.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ScalingStats {
    pub(crate) scale_ups: u64,
    pub(crate) scale_downs: u64,
    /// Rescales in the opposite direction to the previous one.
    pub(crate) direction_changes: u64,
    /// Direction of the last rescale (measured or not), to count changes.
    pub(crate) last_direction_up: Option<bool>,
}

/// Figures of the current time-series interval.
#[derive(Debug, Clone)]
pub(crate) struct IntervalStats {
    pub(crate) arrivals: u64,
    pub(crate) rejected: u64,
    pub(crate) timed_out: u64,
    /// Latency of requests completed in the interval; its count is the interval's completions.
    pub(crate) latency: Latency,
    /// CPU used by the service's pods since the last row, in millicore-microseconds.
    pub(crate) cpu_area: u64,
}

/// One service's runtime state.
#[derive(Debug)]
pub(crate) struct ServiceState {
    pub(crate) limits: ServerLimits,
    /// Arrivals and service times, for a service that receives load.
    pub(crate) load: Option<LoadState>,
    pub(crate) balancer: Balancer,
    pub(crate) image_pull: ServiceTimeSampler,
    pub(crate) readiness: ServiceTimeSampler,
    pub(crate) rng_arrivals: SimRng,
    pub(crate) rng_service: SimRng,
    pub(crate) rng_balancer: SimRng,
    pub(crate) rng_startup: SimRng,
    /// Ready pods, in the order they became Ready.
    pub(crate) ready: Vec<PodRef>,
    /// Live pods that are not terminating.
    pub(crate) active: Vec<PodRef>,
    /// Pods draining before deletion.
    pub(crate) terminating: Vec<PodRef>,
    /// The Deployment's `spec.replicas`.
    pub(crate) desired: u32,
    pub(crate) next_serial: u32,
    /// Consecutive failed pod creations (for the ReplicaSet's retry backoff).
    pub(crate) create_failures: u32,
    /// Whether a ReplicaSet retry is already scheduled.
    pub(crate) sync_scheduled: bool,
    /// Measured-window counters.
    pub(crate) counts: Counts,
    pub(crate) latency: Latency,
    pub(crate) wait: Latency,
    pub(crate) interval: IntervalStats,
    pub(crate) ready_gauge: Gauge,
    pub(crate) pending_gauge: Gauge,
    /// CPU requested by bound pods, in millicores.
    pub(crate) cpu_requested_gauge: Gauge,
    /// CPU used by the service's pods over the measured window, in millicore-microseconds.
    pub(crate) cpu_used_area: u128,
    /// Measured requests queued or in service.
    pub(crate) in_flight_measured: u64,
    /// HPA rescales.
    pub(crate) scaling: ScalingStats,
    /// 1 while the HPA's desired replicas are at its maxReplicas.
    pub(crate) at_max_gauge: Gauge,
    /// Each HPA metric's value at the HPA's last sync (NaN before it or when unavailable).
    pub(crate) hpa_metrics: Vec<f64>,
}

impl ServiceState {
    /// Drops the requests waiting in `server` past the timeout by `now`, counting each in the
    /// current interval and, when it arrived after `warmup_end`, in the measured counters.
    #[inline]
    pub(crate) fn expire_queue(
        &mut self,
        server: &mut PodServer,
        now: SimTime,
        warmup_end: SimTime,
    ) {
        let (interval, counts, in_flight) = (
            &mut self.interval,
            &mut self.counts,
            &mut self.in_flight_measured,
        );
        server.expire(now, &self.limits, |arrived| {
            interval.timed_out += 1;
            if arrived >= warmup_end {
                counts.timed_out += 1;
                *in_flight -= 1;
            }
        });
    }

    /// Draws a service time for the next request.
    #[inline]
    pub(crate) fn sample_service_time(&mut self) -> SimDuration {
        match self.load.as_ref() {
            Some(load) => load.service_time.sample(&mut self.rng_service),
            None => unreachable!("only services with load receive requests"),
        }
    }
}

/// The load a service receives.
#[derive(Debug, Clone)]
pub(crate) struct LoadState {
    pub(crate) arrivals: ArrivalProcess,
    pub(crate) service_time: ServiceTimeSampler,
}

/// One HPA and what the simulation remembers of its last sync.
#[derive(Debug)]
pub(crate) struct HpaRuntime {
    /// Index of the target service.
    pub(crate) service: usize,
    pub(crate) hpa: Hpa,
    /// How long after each metrics-server sample instant this HPA syncs.
    pub(crate) sync_offset: SimDuration,
    /// The conditions of the last sync, as text, to log only changes.
    pub(crate) last_conditions: String,
}

/// One pool's runtime state.
#[derive(Debug)]
pub(crate) struct PoolState {
    /// Billed nodes over the measured window.
    pub(crate) nodes_measured: Gauge,
    /// Billed nodes since the start of the run (for the cumulative cost column).
    pub(crate) nodes_total: Gauge,
    /// Registered (Ready) nodes over the measured window.
    pub(crate) nodes_ready: Gauge,
    pub(crate) next_serial: u32,
    /// Nodes asked for and not registered yet: id, serial and request time, oldest first.
    pub(crate) upcoming: Vec<(NodeId, u32, SimTime)>,
    pub(crate) provisioning_delay: ServiceTimeSampler,
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
    /// CPU requested by pods on the pool's registered nodes, in millicores.
    pub(crate) cpu_requested: Gauge,
    /// CPU allocatable on the pool's registered nodes, in millicores.
    pub(crate) cpu_allocatable: Gauge,
    /// Memory requested by pods on the pool's registered nodes, in bytes.
    pub(crate) memory_requested: Gauge,
    /// Memory allocatable on the pool's registered nodes, in bytes.
    pub(crate) memory_allocatable: Gauge,
}

/// What the simulation keeps about a node beyond what the scheduler sees.
#[derive(Debug, Clone)]
pub(crate) struct NodeExtra {
    /// Per service: when its image is (or will be) on the node.
    pub(crate) image_ready_at: Vec<Option<SimTime>>,
    /// Per service: its pods bound to the node and not terminating (what PodTopologySpread
    /// counts).
    pub(crate) active_pods: Vec<u32>,
    /// Whether the Cluster Autoscaler is draining the node for removal.
    pub(crate) draining: bool,
    /// While draining: when the Cluster Autoscaler stops retrying refused evictions.
    pub(crate) evict_until: SimTime,
    /// The cloud preempted the node (a Spot VM): it goes once its pods are gone.
    pub(crate) preempted: bool,
}

impl NodeExtra {
    /// One of service `s`'s pods on the node stops being active (terminating or deleted).
    pub(crate) fn uncount_active_pod(&mut self, s: usize) {
        self.active_pods[s] = self.active_pods[s]
            .checked_sub(1)
            .expect("a pod leaving a node was counted when it was bound there");
    }
}

/// One namespace's quota state.
#[derive(Debug, Clone, Default)]
pub(crate) struct NamespaceState {
    pub(crate) usage: QuotaUsage,
    /// Index into `Scenario::quotas`, when the namespace has a quota.
    pub(crate) quota: Option<usize>,
    pub(crate) rejected_pods: u64,
}

/// Kubernetes' default `terminationGracePeriodSeconds`.
pub(crate) const TERMINATION_GRACE: SimDuration = SimDuration::from_secs(30);
/// The ReplicaSet controller's retry backoff: 5 ms doubling to 1000 s
/// (`workqueue.DefaultControllerRateLimiter`).
pub(crate) const RETRY_BASE: SimDuration = SimDuration::from_millis(5);
/// Longest ReplicaSet retry backoff.
pub(crate) const RETRY_MAX: SimDuration = SimDuration::from_secs(1_000);

/// The ReplicaSet retry delay after `failures` consecutive failures (at least one).
pub(crate) fn retry_backoff(failures: u32) -> SimDuration {
    let doublings = failures.saturating_sub(1).min(40);
    SimDuration(
        RETRY_BASE
            .0
            .saturating_mul(1u64 << doublings)
            .min(RETRY_MAX.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(serial: u32) -> Pod {
        Pod::new(0, serial, SimTime::ZERO, 0)
    }

    #[test]
    fn stale_references_find_nothing_after_reuse() {
        let mut table = PodTable::default();
        let a = table.insert(pod(1));
        assert_eq!(table.remove(a).map(|p| p.serial), Some(1));
        let b = table.insert(pod(2));
        assert_eq!(b.slot, a.slot, "slot reused");
        assert!(table.get(a).is_none());
        assert_eq!(table.get(b).map(|p| p.serial), Some(2));
        assert!(table.remove(a).is_none());
    }

    #[test]
    fn retry_backoff_doubles_to_its_cap() {
        assert_eq!(retry_backoff(1), SimDuration::from_millis(5));
        assert_eq!(retry_backoff(2), SimDuration::from_millis(10));
        assert_eq!(retry_backoff(18), SimDuration::from_millis(5 << 17));
        assert_eq!(retry_backoff(19), RETRY_MAX);
        assert_eq!(retry_backoff(200), RETRY_MAX);
    }
}
