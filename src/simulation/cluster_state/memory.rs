//! Memory in `ClusterState`: what each pod's running containers use, and each registered
//! node's total against what its pods may use before the kubelet evicts.
//!
//! A pod's containers use `memory_base` plus `memory_per_request` for each request queued or in
//! service, from the moment they start until they stop (OOM-killed, or the pod deleted). A
//! node's budget for its pods is its allocatable memory: the kubelet evicts once the node's
//! `memory.available` falls below the eviction threshold (usage above capacity minus 100Mi),
//! and allocatable is capacity less the kubelet's and the system's reservations less that same
//! threshold, so with the node's daemons using what they reserve, the threshold is crossed
//! exactly when the pods together use more than allocatable.
//!
//! A change of a pod's memory touches its node's total only, in O(1); what to do when a pod is
//! over its limit or a node over its budget is the caller's business (`MemoryCheck`). A pod
//! that can never exceed its limit, on a node whose pods can never together exceed its budget
//! (each counted at its most requests in flight), needs no counting per request: it counts its
//! base memory only, until a pod bound to its node makes the node's peak exceed the budget and
//! every pod of the node is counted again (`Pod::memory_tracked`).

use crate::cluster::kubelet::{self, MemoryUse};
use crate::cluster::node::NodeId;
use crate::cluster::spec::PodSpec;
use crate::scenario::model::Service;
use crate::simulation::cluster_state::slots::Slots;
use crate::simulation::cluster_state::{ClusterState, Pod, PodPhase, PodRef};
use crate::units::{Bytes, SimTime};

/// A slot in the node memory table of a pod not bound to a node.
pub(crate) const NO_MEMORY_SLOT: u32 = u32::MAX;

/// How one service's pods use memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MemoryProfile {
    /// Bytes a running pod uses with no request in flight.
    base: u64,
    /// Bytes each request queued or in service adds.
    per_request: u64,
    /// The most requests in flight whose memory stays within the pod's memory limit
    /// (`u32::MAX` when there is no limit or requests add nothing): one more and the kernel
    /// OOM-kills the container.
    pub(crate) max_in_flight: u32,
    /// The most a running pod can use: all its workers busy and its queue full (saturating;
    /// `u64::MAX` with an unbounded queue and memory per request).
    peak: u64,
    /// Whether a pod can go over its memory limit (its most requests in flight exceed
    /// `max_in_flight`).
    can_exceed_limit: bool,
}

impl MemoryProfile {
    /// The profile of `spec`'s pods. Validation keeps `memory_base` within the limit.
    pub(crate) fn new(spec: &Service) -> MemoryProfile {
        let base = spec.server.memory_base.0;
        let per_request = spec.server.memory_per_request.0;
        let limit = spec.pod.limits.memory.0;
        let max_in_flight = if limit == 0 || per_request == 0 {
            u32::MAX
        } else {
            // base + per_request × n <= limit  <=>  n <= (limit - base) / per_request
            u32::try_from(limit.saturating_sub(base) / per_request).unwrap_or(u32::MAX)
        };
        let most_in_flight = spec
            .server
            .concurrency
            .saturating_add(spec.server.queue_limit.unwrap_or(u32::MAX));
        MemoryProfile {
            base,
            per_request,
            max_in_flight,
            peak: per_request
                .saturating_mul(u64::from(most_in_flight))
                .saturating_add(base),
            can_exceed_limit: most_in_flight > max_in_flight,
        }
    }

    /// The profile of a job's pods of `spec`: a running pod uses its memory request, no more
    /// (so the kernel never kills it and it never pushes its node over its requests).
    pub(crate) fn batch(spec: &PodSpec) -> MemoryProfile {
        let base = spec.requests.memory.0;
        MemoryProfile {
            base,
            per_request: 0,
            max_in_flight: u32::MAX,
            peak: base,
            can_exceed_limit: false,
        }
    }

    /// What running pod `pod` counts on its node, in bytes: its base, plus its requests in
    /// flight while it is tracked per request.
    fn counted(&self, pod: &Pod) -> u64 {
        self.in_use(if pod.memory_tracked {
            pod.server.in_flight()
        } else {
            0
        })
    }

    /// Whether a pod's memory must be counted at each request (it uses memory per request,
    /// and it may go over its limit or, on a node that may be short, push the node over).
    fn tracked_on(&self, node_may_exceed: bool) -> bool {
        self.per_request > 0 && (self.can_exceed_limit || node_may_exceed)
    }

    /// Bytes a running pod uses with `in_flight` requests queued or in service.
    #[inline]
    fn in_use(&self, in_flight: u32) -> u64 {
        self.base + self.per_request * u64::from(in_flight)
    }
}

/// What a change of a pod's memory led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MemoryCheck {
    /// The pod is within its limit and its node within its budget, or the node's eviction
    /// manager already has a sync coming.
    Fits,
    /// The pod uses more than its memory limit: the kernel OOM-kills its container. Nothing
    /// was counted on the node.
    OverLimit,
    /// The node's pods now use more than its budget and its eviction manager has no sync
    /// coming: it must run one now (marked as coming).
    NodePressure(NodeId),
}

/// One registered node's memory.
#[derive(Debug, Clone)]
pub(crate) struct NodeMemory {
    /// The node.
    node: NodeId,
    /// What its pods may use before the kubelet evicts: allocatable memory, in bytes.
    budget: u64,
    /// What its pods' running containers use, in bytes.
    in_use: u64,
    /// Whether its eviction manager has a sync coming (scheduled, or running now): it is under
    /// memory pressure, or was at its last sync.
    sync_coming: bool,
    /// The most its bound pods can use together, each at its peak (saturating).
    peak: u64,
}

impl NodeMemory {
    /// Whether its pods can ever use more than its budget.
    fn may_exceed(&self) -> bool {
        self.peak > self.budget
    }

    /// Counts `bytes` for `pod`, one of its pods, in place of what the pod counted before.
    #[inline]
    fn set_pod_bytes(&mut self, pod: &mut Pod, bytes: u64) {
        self.in_use = self.in_use - pod.memory_bytes + bytes;
        pod.memory_bytes = bytes;
    }
}

/// Every registered node's memory, in slots reused after a node goes.
#[derive(Debug, Default)]
pub(crate) struct MemoryTable {
    nodes: Slots<NodeMemory>,
}

impl MemoryTable {
    /// A slot for node `node` whose pods may use `budget`.
    pub(super) fn add(&mut self, node: NodeId, budget: Bytes) -> u32 {
        let entry = NodeMemory {
            node,
            budget: budget.0,
            in_use: 0,
            sync_coming: false,
            peak: 0,
        };
        self.nodes.insert(entry)
    }

    /// Frees the slot of a node that has gone.
    pub(super) fn remove(&mut self, slot: u32) {
        assert_eq!(
            self.nodes[slot as usize].in_use, 0,
            "a node leaves once its pods are gone"
        );
        self.nodes.release(slot);
    }
}

impl ClusterState {
    /// Pod `r`'s requests in flight changed (a request arrived, finished or expired): counts
    /// its memory on its node and says whether the pod is over its limit or the node newly
    /// over its budget. Call it only for pods whose memory is tracked (`Pod::memory_tracked`).
    #[inline]
    pub(crate) fn pod_memory_changed(&mut self, r: PodRef) -> MemoryCheck {
        let Some(pod) = self.pods.get_mut(r) else {
            return MemoryCheck::Fits;
        };
        debug_assert!(pod.container_up, "only running containers hold requests");
        let profile = &self.memory_profiles[pod.spec as usize];
        let in_flight = pod.server.in_flight();
        if in_flight > profile.max_in_flight {
            return MemoryCheck::OverLimit;
        }
        let node = &mut self.memory.nodes[pod.memory_slot as usize];
        node.set_pod_bytes(pod, profile.in_use(in_flight));
        check_pressure(node)
    }

    /// Counts again the memory of every running pod whose requests use memory, after requests
    /// left their queues without a call to `pod_memory_changed` (expired at an interval's end).
    /// Memory only falls here, so nothing is checked.
    pub(crate) fn recount_request_memory(&mut self) {
        for pod in self.pods.iter_mut() {
            let profile = &self.memory_profiles[pod.spec as usize];
            if !pod.container_up || !pod.memory_tracked {
                continue;
            }
            let bytes = profile.counted(pod);
            self.memory.nodes[pod.memory_slot as usize].set_pod_bytes(pod, bytes);
        }
    }

    /// Pod `r`'s containers start at `now` (its image is on its node, or its restart backoff is
    /// over): they use their base memory from now on. Returns the node if its eviction
    /// manager must sync now. Does nothing (and returns `None`) for a pod that is gone, not
    /// bound, or already running.
    pub(crate) fn start_containers(&mut self, r: PodRef, now: SimTime) -> Option<NodeId> {
        let pod = self.pods.get_mut(r)?;
        if pod.container_up || pod.memory_slot == NO_MEMORY_SLOT {
            return None;
        }
        pod.container_up = true;
        pod.containers_start = Some(now);
        let bytes = self.memory_profiles[pod.spec as usize].counted(pod);
        let node = &mut self.memory.nodes[pod.memory_slot as usize];
        node.set_pod_bytes(pod, bytes);
        match check_pressure(node) {
            MemoryCheck::NodePressure(id) => Some(id),
            _ => None,
        }
    }

    /// The kernel killed pod `r`'s container at `now` (its requests already dropped): it stops
    /// using memory, leaves its Service's endpoints and waits, not Ready, to be restarted in
    /// place. Returns false (and changes nothing) when the pod is gone or not running.
    pub(crate) fn stop_containers(&mut self, r: PodRef, now: SimTime) -> bool {
        let Some(pod) = self.pods.get_mut(r) else {
            return false;
        };
        if !pod.container_up {
            return false;
        }
        debug_assert_eq!(
            pod.server.in_flight(),
            0,
            "a stopped container holds nothing"
        );
        self.memory.nodes[pod.memory_slot as usize].set_pod_bytes(pod, 0);
        pod.container_up = false;
        pod.containers_start = None;
        if pod.phase == PodPhase::Ready {
            pod.phase = PodPhase::Starting;
            pod.ready_since = None;
            pod.unready_since = Some(now);
            self.workloads[usize::from(pod.service)].remove_ready(r, now);
        }
        true
    }

    /// The memory that node `id`'s pods use and the budget they have, in bytes; `None` when
    /// the node is not registered.
    pub(crate) fn node_memory(&self, id: NodeId) -> Option<(Bytes, Bytes)> {
        let i = self.node_index(id)?;
        let node = &self.memory.nodes[self.node_extras[i].memory_slot as usize];
        Some((Bytes(node.in_use), Bytes(node.budget)))
    }

    /// Node `id`'s eviction manager syncs: returns whether the node is under memory pressure
    /// (its pods use more than its budget), in which case it keeps a sync coming; otherwise it
    /// has none coming any more. False for a node that is gone.
    pub(crate) fn eviction_sync(&mut self, id: NodeId) -> bool {
        let Some(i) = self.node_index(id) else {
            return false;
        };
        let node = &mut self.memory.nodes[self.node_extras[i].memory_slot as usize];
        node.sync_coming = node.in_use > node.budget;
        node.sync_coming
    }

    /// The pod the kubelet of node `id` evicts first under memory pressure, with what it uses
    /// and requests: of the pods bound there, in the eviction manager's order
    /// (`kubelet::memory_eviction_victim`), ties going to the lowest pod slot.
    pub(crate) fn memory_eviction_victim(&self, id: NodeId) -> Option<(PodRef, MemoryUse)> {
        let on_node: Vec<(PodRef, MemoryUse)> = self
            .pods
            .iter_refs()
            .filter(|(_, p)| p.node == Some(id))
            .map(|(r, p)| {
                let spec = &self.pod_specs[p.spec as usize];
                let use_ = MemoryUse {
                    usage: Bytes(p.memory_bytes),
                    request: spec.requests.memory,
                };
                (r, use_)
            })
            .collect();
        let uses: Vec<MemoryUse> = on_node.iter().map(|(_, u)| *u).collect();
        kubelet::memory_eviction_victim(&uses).map(|i| on_node[i])
    }

    /// Binds pod `r`'s memory to node memory slot `slot` (its containers have not started).
    /// When the node's pods can now exceed its budget and could not before, every pod of the
    /// node is counted per request from here on.
    pub(super) fn attach_memory(&mut self, r: PodRef, slot: u32) {
        let Some(pod) = self.pods.get_mut(r) else {
            return;
        };
        let profile = &self.memory_profiles[pod.spec as usize];
        let node = &mut self.memory.nodes[slot as usize];
        let could_exceed = node.may_exceed();
        node.peak = node.peak.saturating_add(profile.peak);
        pod.memory_slot = slot;
        pod.memory_tracked = profile.tracked_on(node.may_exceed());
        if node.may_exceed() && !could_exceed {
            self.track_node_memory(slot);
        }
    }

    /// The pods of node memory slot `slot` may now push it over its budget: each one whose
    /// requests use memory is counted per request from here on, starting with what it holds.
    fn track_node_memory(&mut self, slot: u32) {
        let node = &mut self.memory.nodes[slot as usize];
        for pod in self.pods.iter_mut() {
            let profile = &self.memory_profiles[pod.spec as usize];
            if pod.memory_slot != slot || pod.memory_tracked || profile.per_request == 0 {
                continue;
            }
            pod.memory_tracked = true;
            if pod.container_up {
                node.set_pod_bytes(pod, profile.counted(pod));
            }
        }
    }

    /// Takes a pod that is being deleted off its node's memory. The node's pods stay counted
    /// as they are: a node whose peak falls back within its budget keeps counting them.
    pub(super) fn detach_memory(&mut self, pod: &Pod) {
        if pod.memory_slot != NO_MEMORY_SLOT {
            let profile = &self.memory_profiles[pod.spec as usize];
            let node = &mut self.memory.nodes[pod.memory_slot as usize];
            node.in_use -= pod.memory_bytes;
            node.peak = node.peak.saturating_sub(profile.peak);
        }
    }

    /// What the pods bound to the node in memory slot `slot` use, in bytes.
    #[cfg(test)]
    pub(crate) fn memory_in_use(&self, slot: u32) -> u64 {
        self.memory.nodes[slot as usize].in_use
    }

    /// What a pod's running containers count on their node by its service's profile, in
    /// bytes: their base alone while the pod is not tracked per request.
    #[cfg(test)]
    pub(crate) fn expected_memory(&self, pod: &Pod) -> u64 {
        let profile = &self.memory_profiles[pod.spec as usize];
        if !pod.container_up {
            return 0;
        }
        assert!(
            pod.memory_tracked
                || profile.per_request == 0
                || !self.memory.nodes[pod.memory_slot as usize].may_exceed(),
            "a pod that may push its node over its budget is tracked"
        );
        profile.counted(pod)
    }
}

/// Whether `node`'s eviction manager must sync now: its pods use more than its budget and it
/// has no sync coming (it has one from now on).
#[inline]
fn check_pressure(node: &mut NodeMemory) -> MemoryCheck {
    if node.in_use > node.budget && !node.sync_coming {
        node.sync_coming = true;
        MemoryCheck::NodePressure(node.node)
    } else {
        MemoryCheck::Fits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulation::tests::service;

    #[test]
    fn the_largest_in_flight_count_within_the_limit() {
        let mib = |m: u64| Bytes(m * Bytes::MIB);
        // (base, per request, limit) → most requests in flight
        let cases = [
            ((100, 10, 200), 10), // 100 + 10 × 10 = 200: at the limit, not over it
            ((100, 10, 209), 10),
            ((100, 10, 210), 11),
            ((200, 10, 200), 0), // the first request kills it
            ((100, 0, 200), u32::MAX),
            ((100, 10, 0), u32::MAX), // no limit
        ];
        for ((base, per, limit), max) in cases {
            let mut spec = service("s", 1, 1000, 1, 1.0, 10);
            spec.server.memory_base = mib(base);
            spec.server.memory_per_request = mib(per);
            spec.pod.limits.memory = mib(limit);
            let profile = MemoryProfile::new(&spec);
            assert_eq!(
                profile.max_in_flight, max,
                "{base} + {per}/request, limit {limit}"
            );
        }
    }
}
