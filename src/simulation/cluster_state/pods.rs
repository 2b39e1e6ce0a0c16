//! Pods as the simulation keeps them: a slot table reused after deletion, and references that
//! know which generation of a slot they name.
//!
//! Use `PodRef` to name a pod from an event: a slot and the generation it had when the event was
//! scheduled, so an event for a pod that has since been deleted is recognised and ignored. A
//! pod's phase and node are private to `ClusterState`, which changes them together with the lists
//! and gauges that depend on them; everything else about a pod (its serving state, samples,
//! start-up times) belongs to whoever drives it.

use crate::cluster::kubelet::CrashLoopBackOff;
use crate::cluster::node::NodeId;
use crate::controllers::hpa::ResourceSample;
use crate::simulation::cluster_state::pending_reasons::CaWait;
use crate::simulation::cluster_state::{NO_CPU_SLOT, NO_MEMORY_SLOT};
use crate::units::SimTime;
use crate::workload::server::PodServer;

/// `Pod::job_row` of a pod that replays no trace row.
pub(crate) const NO_TRACE_ROW: u32 = u32::MAX;

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
    /// Bound; pulling its image, waiting for readiness, or waiting out the restart backoff
    /// of a container the kernel OOM-killed.
    Starting,
    /// Receiving traffic.
    Ready,
    /// Draining before deletion; receives no new requests.
    Terminating,
}

/// One pod.
#[derive(Debug, Clone)]
pub(crate) struct Pod {
    /// Index of the pod's workload: a service's index, or the scenario's service count plus a
    /// job's index for a job's pod.
    pub(crate) service: u16,
    /// Index of the pod's spec in `ClusterState`'s spec table (a service's spec has the
    /// service's index; a job's specs follow).
    pub(crate) spec: u32,
    /// For a job's pod: the trace row it replays, or `NO_TRACE_ROW` for a template Job's pod.
    pub(crate) job_row: u32,
    /// For a job's pod: whether its containers run (and want its CPU request).
    pub(super) batch_running: bool,
    /// Per-service serial number, for the pod's name.
    pub(crate) serial: u32,
    /// Kept in step with the service's pod lists by `ClusterState`.
    pub(super) phase: PodPhase,
    /// Kept in step with the node's requests by `ClusterState`.
    pub(super) node: Option<NodeId>,
    /// When the pod object was created.
    pub(crate) created_at: SimTime,
    /// When the pod became Ready; cleared when it stops being Ready without terminating.
    pub(super) ready_since: Option<SimTime>,
    /// When the pod last stopped being Ready without terminating (its container was
    /// OOM-killed), if it has.
    pub(super) unready_since: Option<SimTime>,
    /// The pod's queue and workers.
    pub(crate) server: PodServer,
    /// The pod's usage integrals when they were last collected, to difference per interval.
    pub(crate) collected: UsageSeen,
    /// Requests in service that arrived in the measured window.
    pub(crate) in_service_measured: u32,
    /// The last reason the scheduler gave for not placing the pod, to log only changes.
    pub(crate) last_unschedulable: Option<String>,
    /// While the pod is unbound: the index of the reason its wait counts under
    /// (`pending_reasons`).
    pub(super) pending_reason: Option<u16>,
    /// While the Cluster Autoscaler's reason stands for the unbound pod: what its last scan
    /// found (`pending_reasons`).
    pub(super) ca_wait: Option<CaWait>,
    /// When the pod was bound to a node (its `status.startTime`).
    pub(super) bound_at: Option<SimTime>,
    /// When the pod was asked to stop (its `deletionTimestamp`), once it terminates.
    pub(crate) terminating_since: Option<SimTime>,
    /// When its containers started (after the image pull): phase Running from then on.
    pub(crate) containers_start: Option<SimTime>,
    /// Requests routed to the pod since the last metrics sample.
    pub(crate) arrivals_since_sample: u32,
    /// CPU usage integral at the last metrics sample.
    pub(crate) cpu_area_at_sample: f64,
    /// The latest metrics-server sample of the pod, once it has run for a full window.
    pub(crate) sample: Option<PodSample>,
    /// Its node's slot in the CPU table, or `NO_CPU_SLOT` while unbound.
    pub(super) cpu_slot: u32,
    /// CPU its busy workers want, capped at its limit, in millicores (kept while its node may
    /// be short of CPU or its limit may bind).
    pub(super) cpu_demand_millicores: u64,
    /// Whether it always gets all the CPU it wants: its limit never binds and its node's pods
    /// can never want more than the node has.
    pub(super) cpu_always_free: bool,
    /// Its node's slot in the memory table, or `NO_MEMORY_SLOT` while unbound.
    pub(super) memory_slot: u32,
    /// Whether its containers run (they use memory): from their start until the kernel kills
    /// them or the pod is deleted.
    pub(super) container_up: bool,
    /// What its running containers use, as counted on its node, in bytes.
    pub(super) memory_bytes: u64,
    /// Whether its memory is counted at each request: its requests use memory, and it may go
    /// over its limit or its node may go over its budget. An untracked pod counts its base.
    pub(super) memory_tracked: bool,
    /// The kubelet's restart backoff of its container.
    pub(crate) backoff: CrashLoopBackOff,
    /// Whether its container was killed and waits to be restarted.
    pub(crate) restart_pending: bool,
    /// Its node stopped reporting and the node lifecycle controller has not noticed yet: it
    /// stays in its Service's endpoints, and a request routed to it is lost.
    pub(crate) unreachable: bool,
}

impl Pod {
    /// A Pending pod of workload `service` and spec `spec`, created at `now`, with room
    /// reserved for `queue_capacity` waiting requests.
    pub(super) fn new(
        service: u16,
        spec: u32,
        serial: u32,
        now: SimTime,
        queue_capacity: usize,
        concurrency: u32,
    ) -> Pod {
        Pod {
            service,
            spec,
            job_row: NO_TRACE_ROW,
            batch_running: false,
            serial,
            phase: PodPhase::Pending,
            node: None,
            created_at: now,
            ready_since: None,
            unready_since: None,
            server: PodServer::new(now, queue_capacity, concurrency),
            collected: UsageSeen::default(),
            in_service_measured: 0,
            last_unschedulable: None,
            pending_reason: None,
            ca_wait: None,
            bound_at: None,
            terminating_since: None,
            containers_start: None,
            arrivals_since_sample: 0,
            cpu_area_at_sample: 0.0,
            sample: None,
            cpu_slot: NO_CPU_SLOT,
            cpu_demand_millicores: 0,
            cpu_always_free: false,
            memory_slot: NO_MEMORY_SLOT,
            container_up: false,
            memory_bytes: 0,
            memory_tracked: false,
            backoff: CrashLoopBackOff::default(),
            restart_pending: false,
            unreachable: false,
        }
    }

    /// Whether its memory must be counted at each change of its requests in flight
    /// (`ClusterState::pod_memory_changed`).
    #[inline(always)]
    pub(crate) fn memory_tracked(&self) -> bool {
        self.memory_tracked
    }

    /// For a job's pod: whether its containers run.
    #[inline]
    pub(crate) fn batch_running(&self) -> bool {
        self.batch_running
    }

    /// Where the pod is in its life.
    #[inline]
    pub(crate) fn phase(&self) -> PodPhase {
        self.phase
    }

    /// The node the pod is bound to, if any.
    #[inline]
    pub(crate) fn node(&self) -> Option<NodeId> {
        self.node
    }

    /// When the pod became Ready, unless it has stopped being Ready since without terminating.
    pub(crate) fn ready_since(&self) -> Option<SimTime> {
        self.ready_since
    }

    /// When the pod last stopped being Ready without terminating, if it has.
    pub(crate) fn unready_since(&self) -> Option<SimTime> {
        self.unready_since
    }

    /// When the pod was bound to a node, if it has been.
    pub(crate) fn bound_at(&self) -> Option<SimTime> {
        self.bound_at
    }

    /// Whether the pod's containers run at `now` (phase Running, as opposed to Pending).
    pub(crate) fn running(&self, now: SimTime) -> bool {
        self.containers_start.is_some_and(|t| t <= now)
    }
}

/// A pod's usage integrals at one reading.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct UsageSeen {
    /// CPU used, in millicore-microseconds.
    pub(crate) cpu_area: f64,
    /// Time with a request in service, in microseconds.
    pub(crate) active_us: u64,
    /// Time throttled by the CPU limit, in microseconds.
    pub(crate) throttled_us: u64,
}

/// One metrics-server sample of a pod, plus the per-pod load metrics capsim derives alongside.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PodSample {
    /// What metrics-server reports: average CPU over the window, memory at its end.
    pub(crate) usage: ResourceSample,
    /// Requests routed to the pod per second over the window.
    pub(crate) requests_per_second: f64,
    /// Requests queued or in service at the sample.
    pub(crate) in_flight: u32,
}

/// A slot in the pod table.
#[derive(Debug, Clone)]
struct PodSlot {
    generation: u32,
    pod: Option<Pod>,
}

/// The pod table: slots reused after deletion, so its size follows the peak pod count, not the
/// number of pods ever created. Only `ClusterState` inserts and removes.
#[derive(Debug, Clone, Default)]
pub(crate) struct PodTable {
    slots: Vec<PodSlot>,
    free: Vec<u32>,
}

impl PodTable {
    /// Stores `pod` and returns its reference.
    pub(super) fn insert(&mut self, pod: Pod) -> PodRef {
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
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Pod> {
        self.slots.iter().filter_map(|slot| slot.pod.as_ref())
    }

    /// Every live pod with its reference, in slot order.
    pub(crate) fn iter_refs(&self) -> impl Iterator<Item = (PodRef, &Pod)> {
        self.slots.iter().enumerate().filter_map(|(i, slot)| {
            let r = PodRef {
                slot: i as u32,
                generation: slot.generation,
            };
            slot.pod.as_ref().map(|p| (r, p))
        })
    }

    /// Every live pod, mutably, in slot order.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Pod> {
        self.slots.iter_mut().filter_map(|slot| slot.pod.as_mut())
    }

    /// Removes the pod; later lookups with `r` find nothing.
    pub(super) fn remove(&mut self, r: PodRef) -> Option<Pod> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(serial: u32) -> Pod {
        Pod::new(0, 0, serial, SimTime::ZERO, 0, 1)
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
}
