//! The cluster as the simulation keeps it: pods, nodes, the pods waiting for a node, each
//! service's pod lists, each pool's nodes, and each namespace's quota usage, changed only
//! through methods that keep every list, count and gauge in step, as kube-scheduler's cache does
//! in `AddPod`/`RemovePod`.
//!
//! Use `ClusterState` for every change of a pod's phase or node, and of the nodes of a pool:
//! `create_pod`, `bind`, `start_containers`, `make_ready`, `stop_containers`,
//! `start_terminating` and `remove_pod` for pods (`pod_memory_changed` when its requests use
//! memory);
//! `request_node`, `provisioned`, `register_node`, `cancel_upcoming`, `start_drain` and
//! `remove_node` for nodes (in `nodes.rs`). Readers get shared references only. What a change
//! means for the rest of the model (events to log, start-up delays, controllers to wake) is the
//! caller's business: nothing here logs, draws a random number or schedules an event.
//!
//! The invariants, checked by `check_invariants`: a service's `active` list holds exactly its
//! pods that are not terminating and `terminating` the others; `ready` holds exactly the Ready
//! ones; the pending list holds only unbound pods; a node's requests, pod count and per-service
//! active counts are those of the pods bound to it and never exceed its allocatable or pod
//! limit; a pool's gauges are the sums over its registered nodes, and its billed nodes are its
//! registered plus its upcoming ones; a namespace's quota usage is the sum over its pods; a
//! node's memory in use is the sum of what its pods' running containers use.

mod cpu;
mod memory;
mod nodes;
mod pending;
mod pending_reasons;
mod pod_list;
mod pods;
mod ready_floor;
mod slots;
#[cfg(test)]
mod tests;

pub(crate) use cpu::{CpuProfile, NO_CPU_SLOT};
pub(crate) use memory::{MemoryCheck, MemoryProfile, NO_MEMORY_SLOT};
pub(crate) use nodes::{NodeExtra, Upcoming};
pub(crate) use pods::{NO_TRACE_ROW, Pod, PodPhase, PodRef, PodSample, PodTable, UsageSeen};

use std::collections::HashMap;

use crate::cluster::node::{Node, NodeId};
use crate::cluster::quota::{self, Quota, QuotaExceeded, QuotaUsage};
use crate::cluster::scheduler::{LabelClassId, LabelClasses, PodGroups};
use crate::cluster::spec::PodSpec;
use crate::report::stats::Gauge;
use crate::scenario::Scenario;
use crate::simulation::cluster_state::pending_reasons::ReasonGauges;
pub(crate) use crate::simulation::cluster_state::pending_reasons::primary_reason;
use crate::simulation::cluster_state::pod_list::PodList;
pub(crate) use crate::simulation::cluster_state::ready_floor::ReadyFloor;
use crate::simulation::cluster_state::ready_floor::min_replicas;
use crate::simulation::service_state::server_limits;
use crate::units::{Resources, SimTime};

/// One service's pods, as lists and the gauges that follow them.
#[derive(Debug)]
pub(crate) struct WorkloadPods {
    /// Ready pods, in the order they became Ready (the Service's endpoints); a Job's running
    /// pods, in no particular order.
    pub(crate) ready: PodList,
    /// Live pods that are not terminating, in creation order for a service.
    pub(crate) active: PodList,
    /// Pods draining before deletion.
    pub(crate) terminating: PodList,
    /// Serial of the service's next pod, for its name.
    next_serial: u32,
    /// Ready pods over time.
    pub(crate) ready_gauge: Gauge,
    /// Time with fewer Ready pods than the service should keep.
    pub(crate) ready_floor: ReadyFloor,
    /// Pods not bound to a node over time.
    pub(crate) pending_gauge: Gauge,
    /// The same pods by the reason they wait for.
    pending_reasons: ReasonGauges,
    /// CPU requested by the service's bound pods, in millicores.
    pub(crate) cpu_requested_gauge: Gauge,
}

impl WorkloadPods {
    /// A service's lists (`ordered`) or a Job's, for a workload that should keep
    /// `min_replicas` Ready pods.
    fn new(ordered: bool, min_replicas: u32) -> WorkloadPods {
        let list = if ordered {
            PodList::ordered
        } else {
            PodList::unordered
        };
        WorkloadPods {
            ready: list(),
            active: list(),
            terminating: list(),
            next_serial: 0,
            ready_gauge: Gauge::new(SimTime::ZERO, 0),
            ready_floor: ReadyFloor::new(min_replicas),
            pending_gauge: Gauge::new(SimTime::ZERO, 0),
            pending_reasons: ReasonGauges::default(),
            cpu_requested_gauge: Gauge::new(SimTime::ZERO, 0),
        }
    }

    fn remove_ready(&mut self, pod: PodRef, now: SimTime) {
        if self.ready.remove(pod) {
            self.ready_changed(now);
        }
    }

    /// The Ready list changed at `now`: the gauges that follow it follow.
    fn ready_changed(&mut self, now: SimTime) {
        let ready = self.ready.len();
        self.ready_gauge.set(now, ready as u64);
        self.ready_floor.ready_changed(now, ready as u32);
    }
}

/// One pool's nodes: those billed, those registered, and what their pods request.
#[derive(Debug)]
pub(crate) struct PoolNodes {
    /// Billed nodes (asked for, registered or draining) over the measured window.
    pub(crate) billed_measured: Gauge,
    /// Billed nodes since the start of the run (for the cumulative cost).
    pub(crate) billed_total: Gauge,
    /// Registered (Ready) nodes over the measured window.
    pub(crate) ready: Gauge,
    /// CPU on the pool's registered nodes, in millicores.
    pub(crate) cpu: Allocation,
    /// Memory on the pool's registered nodes, in bytes.
    pub(crate) memory: Allocation,
    /// Registered nodes whose pods want more CPU than they have, over the measured window.
    pub(crate) contended: Gauge,
    /// Nodes asked for and not registered yet, oldest first.
    pub(crate) upcoming: Vec<Upcoming>,
    /// Serial of the pool's next node, for its name.
    next_serial: u32,
}

/// One resource of a pool's registered nodes: what pods request of it against what the nodes
/// leave allocatable.
#[derive(Debug)]
pub(crate) struct Allocation {
    /// Requested by the pods bound to the registered nodes.
    pub(crate) requested: Gauge,
    /// Allocatable on the registered nodes.
    pub(crate) allocatable: Gauge,
}

impl Allocation {
    fn new() -> Allocation {
        Allocation {
            requested: Gauge::new(SimTime::ZERO, 0),
            allocatable: Gauge::new(SimTime::ZERO, 0),
        }
    }

    /// Requested over allocatable, each integrated over the measured window up to `now` (the
    /// share of what the nodes offered that pods reserved); none when nothing was allocatable.
    pub(crate) fn efficiency(&self, now: SimTime) -> Option<f64> {
        let allocatable = self.allocatable.integral_secs(now);
        (allocatable > 0.0).then(|| self.requested.integral_secs(now) / allocatable)
    }
}

impl PoolNodes {
    fn new() -> PoolNodes {
        let zero = || Gauge::new(SimTime::ZERO, 0);
        PoolNodes {
            billed_measured: zero(),
            billed_total: zero(),
            ready: zero(),
            cpu: Allocation::new(),
            memory: Allocation::new(),
            contended: zero(),
            upcoming: Vec::new(),
            next_serial: 0,
        }
    }

    /// Share of the registered nodes' time in the measured window up to `now` during which their
    /// pods wanted more CPU than the node has; none when no node was registered.
    pub(crate) fn contended_fraction(&self, now: SimTime) -> Option<f64> {
        let node_seconds = self.ready.integral_secs(now);
        (node_seconds > 0.0).then(|| self.contended.integral_secs(now) / node_seconds)
    }

    /// Adds (`sign` 1) or removes (-1) pod requests on the pool's registered nodes.
    fn account_requests(&mut self, now: SimTime, requests: Resources, sign: i64) {
        self.cpu.requested.add(now, sign * requests.cpu.0 as i64);
        self.memory
            .requested
            .add(now, sign * requests.memory.0 as i64);
    }

    fn gauges_mut(&mut self) -> [&mut Gauge; 7] {
        [
            &mut self.billed_measured,
            &mut self.contended,
            &mut self.ready,
            &mut self.cpu.requested,
            &mut self.cpu.allocatable,
            &mut self.memory.requested,
            &mut self.memory.allocatable,
        ]
    }
}

/// One namespace's quota state.
#[derive(Debug, Clone)]
struct NamespaceState {
    /// What the namespace's pods request and limit.
    usage: QuotaUsage,
    /// The namespace's ResourceQuota, when it has one.
    quota: Option<Quota>,
    /// Pod creations the quota refused in the measured window.
    rejected_pods: u64,
}

/// The cluster's bookkeeping; see the module documentation for its invariants.
#[derive(Debug)]
pub(crate) struct ClusterState {
    pods: PodTable,
    /// The reasons Pending pods waited for, in the order first given (`pending_reasons`).
    reason_names: Vec<String>,
    /// Registered nodes, ordered by id.
    nodes: Vec<Node>,
    /// Parallel to `nodes`.
    node_extras: Vec<NodeExtra>,
    /// The distinct label sets of the nodes (nodes of one pool share one).
    label_classes: LabelClasses,
    /// Parallel to `nodes`: each node's label class.
    node_classes: Vec<LabelClassId>,
    /// Per workload (services, then jobs), parallel to `nodes`: its pods bound to the node and
    /// not terminating (what PodTopologySpread counts for a service).
    active_pods: Vec<Vec<u32>>,
    next_node_id: u32,
    /// The number of the next node request (`Upcoming::request`).
    next_request: u32,
    /// Pods the scheduler could not place, oldest first (its unschedulable queue), each with
    /// its spec index.
    pending: Vec<(PodRef, u32)>,
    /// Parallel to `pod_specs`: how many of `pending` have the spec.
    pending_by_spec: Vec<u32>,
    /// The nodes that may take a pod they could not take at the last retry round (a pod left,
    /// the node registered, a drain's taint was lifted), in no order.
    loosened: Vec<NodeId>,
    /// How many times a registered node loosened (see `loosened`) since the start.
    loosen_count: u64,
    /// Per workload: the services, then the jobs.
    workloads: Vec<WorkloadPods>,
    /// Per pool.
    pools: Vec<PoolNodes>,
    /// Per namespace, in `Scenario::namespaces` order.
    namespaces: Vec<NamespaceState>,
    /// Index into `namespaces` of each workload's namespace.
    service_namespace: Vec<usize>,
    /// The spec table: each service's pod template (at the service's index), then the specs of
    /// jobs' pods as they are first created.
    pod_specs: Vec<PodSpec>,
    /// A job's specs in the table, by job workload and the requests of a trace row (`None`:
    /// the job's template as written).
    job_specs: HashMap<(usize, Option<Resources>), u32>,
    /// Parallel to `pod_specs`: the workload whose pods have the spec.
    spec_workloads: Vec<usize>,
    /// The specs that declare inter-pod (anti-)affinity (services' only: a Job's pods declare
    /// none).
    affinity_groups: Vec<u32>,
    /// Per spec: its pods' claim on CPU.
    cpu_profiles: Vec<CpuProfile>,
    /// Each registered node's CPU and its pods' shares of it.
    cpu: cpu::CpuTable,
    /// Per spec: its pods' use of memory.
    memory_profiles: Vec<MemoryProfile>,
    /// Each registered node's memory in use and budget.
    memory: memory::MemoryTable,
}

impl ClusterState {
    /// An empty cluster for `scenario`: no nodes, no pods.
    pub(crate) fn new(scenario: &Scenario) -> ClusterState {
        let namespace_index = |ns: &String| {
            scenario
                .namespaces
                .iter()
                .position(|n| n == ns)
                .expect("validation lists every service namespace")
        };
        ClusterState {
            pods: PodTable::default(),
            reason_names: Vec::new(),
            nodes: Vec::new(),
            node_extras: Vec::new(),
            label_classes: LabelClasses::new(),
            node_classes: Vec::new(),
            active_pods: vec![Vec::new(); scenario.services.len() + scenario.jobs.len()],
            next_node_id: 0,
            next_request: 0,
            pending: Vec::new(),
            pending_by_spec: vec![0; scenario.services.len()],
            loosened: Vec::new(),
            loosen_count: 0,
            workloads: (0..scenario.services.len() + scenario.jobs.len())
                .map(|w| WorkloadPods::new(w < scenario.services.len(), min_replicas(scenario, w)))
                .collect(),
            pools: scenario
                .node_pools
                .iter()
                .map(|_| PoolNodes::new())
                .collect(),
            namespaces: scenario
                .namespaces
                .iter()
                .map(|ns| NamespaceState {
                    usage: QuotaUsage::default(),
                    quota: scenario.quotas.iter().find(|q| &q.namespace == ns).cloned(),
                    rejected_pods: 0,
                })
                .collect(),
            service_namespace: (scenario.services.iter().map(|s| &s.namespace))
                .chain(scenario.jobs.iter().map(|j| &j.namespace))
                .map(namespace_index)
                .collect(),
            pod_specs: (scenario.services.iter().enumerate())
                .map(|(g, s)| PodSpec {
                    group: g as u32,
                    ..s.pod.clone()
                })
                .collect(),
            affinity_groups: PodGroups::with_pod_affinity(
                &scenario
                    .services
                    .iter()
                    .map(|s| s.pod.clone())
                    .collect::<Vec<_>>(),
            ),
            job_specs: HashMap::new(),
            spec_workloads: (0..scenario.services.len()).collect(),
            cpu_profiles: scenario
                .services
                .iter()
                .map(|s| CpuProfile::new(&s.pod, server_limits(s)))
                .collect(),
            cpu: cpu::CpuTable::default(),
            memory_profiles: scenario.services.iter().map(MemoryProfile::new).collect(),
            memory: memory::MemoryTable::default(),
        }
    }

    /// The pod, if it still exists.
    #[inline]
    pub(crate) fn pod(&self, r: PodRef) -> Option<&Pod> {
        self.pods.get(r)
    }

    /// The pod's serving state and counters, if it still exists; its phase and node stay
    /// read-only.
    #[inline]
    pub(crate) fn pod_mut(&mut self, r: PodRef) -> Option<&mut Pod> {
        self.pods.get_mut(r)
    }

    /// Every live pod, mutably, in slot order.
    pub(crate) fn pods_mut(&mut self) -> impl Iterator<Item = &mut Pod> {
        self.pods.iter_mut()
    }

    /// Service `s`'s Ready pods with the pod table, for routing a request.
    #[inline]
    pub(crate) fn endpoints(&mut self, s: usize) -> (&[PodRef], &mut PodTable) {
        (&self.workloads[s].ready, &mut self.pods)
    }

    /// Service `s`'s pods and gauges.
    pub(crate) fn workload(&self, s: usize) -> &WorkloadPods {
        &self.workloads[s]
    }

    /// Pool `p`'s nodes and gauges.
    pub(crate) fn pool(&self, p: usize) -> &PoolNodes {
        &self.pools[p]
    }

    /// The spec table: each service's pod template at the service's index, then jobs' specs.
    pub(crate) fn pod_specs(&self) -> &[PodSpec] {
        &self.pod_specs
    }

    /// The spec table as the scheduler counts bound pods by it: each spec is its pods'
    /// placement group.
    pub(crate) fn pod_groups(&self) -> PodGroups<'_> {
        PodGroups {
            specs: &self.pod_specs,
            with_pod_affinity: &self.affinity_groups,
        }
    }

    /// The workload whose pods have spec `spec` (an index in `pod_specs`).
    pub(crate) fn spec_workload(&self, spec: usize) -> usize {
        self.spec_workloads[spec]
    }

    /// The index in the spec table of job workload `w`'s pods with `requests` (a trace row's;
    /// `None` for the Job's template), added with the spec `build` makes the first time it is
    /// asked for.
    pub(crate) fn job_spec(
        &mut self,
        w: usize,
        requests: Option<Resources>,
        build: impl FnOnce() -> PodSpec,
    ) -> u32 {
        if let Some(&index) = self.job_specs.get(&(w, requests)) {
            return index;
        }
        let mut spec = build();
        let index = self.pod_specs.len() as u32;
        spec.group = index;
        self.cpu_profiles.push(CpuProfile::batch(&spec));
        self.memory_profiles.push(MemoryProfile::batch(&spec));
        self.pod_specs.push(spec);
        self.job_specs.insert((w, requests), index);
        self.pending_by_spec.push(0);
        self.spec_workloads.push(w);
        index
    }

    /// Service `s`'s live pods that are not terminating, with their references.
    pub(crate) fn active_pods(&self, s: usize) -> impl Iterator<Item = (PodRef, &Pod)> {
        self.workloads[s]
            .active
            .iter()
            .filter_map(|r| self.pods.get(*r).map(|p| (*r, p)))
    }

    /// Every pod of service `s`'s Deployment: the active ones, then the terminating ones.
    pub(crate) fn deployment_pods(&self, s: usize) -> impl Iterator<Item = &Pod> {
        let w = &self.workloads[s];
        w.active
            .iter()
            .chain(w.terminating.iter())
            .filter_map(|r| self.pods.get(*r))
    }

    /// Workload `w`'s terminating pods, still bound or not.
    pub(crate) fn terminating_pods(&self, w: usize) -> impl Iterator<Item = &Pod> {
        (self.workloads[w].terminating.iter()).filter_map(|r| self.pods.get(*r))
    }

    /// Pod creations refused by the quota of each namespace, in `Scenario::namespaces` order.
    pub(crate) fn quota_rejections(&self) -> impl Iterator<Item = u64> + '_ {
        self.namespaces.iter().map(|n| n.rejected_pods)
    }

    /// Creates a Pending pod of workload `s` with spec `spec_index` if its namespace's quota
    /// admits it, with room reserved for `queue_capacity` waiting requests; returns it with its
    /// serial. The caller tries to schedule it and parks it with `park_pending` if no node fits.
    ///
    /// # Errors
    /// The quota's refusal, as the API server words it; nothing changes then.
    pub(crate) fn create_pod(
        &mut self,
        s: usize,
        spec_index: u32,
        now: SimTime,
        queue_capacity: usize,
    ) -> Result<(PodRef, u32), QuotaExceeded> {
        let spec = &self.pod_specs[spec_index as usize];
        let namespace = &mut self.namespaces[self.service_namespace[s]];
        if let Some(hard) = &namespace.quota {
            quota::admit(hard, &namespace.usage, spec)?;
        }
        namespace.usage.add_pod(spec);
        let workload = &mut self.workloads[s];
        let serial = workload.next_serial;
        workload.next_serial += 1;
        let concurrency = self.cpu_profiles[spec_index as usize].limits.concurrency;
        let pod = self.pods.insert(Pod::new(
            s as u16,
            spec_index,
            serial,
            now,
            queue_capacity,
            concurrency,
        ));
        workload.active.push(pod);
        workload.pending_gauge.add(now, 1);
        self.start_waiting(pod, now);
        Ok((pod, serial))
    }

    /// Counts one pod creation refused by service `s`'s namespace quota.
    pub(crate) fn count_quota_rejection(&mut self, s: usize) {
        self.namespaces[self.service_namespace[s]].rejected_pods += 1;
    }

    /// For each registered node in order, the number of service `s`'s active pods bound there
    /// (what PodTopologySpread counts).
    pub(crate) fn workload_pods_per_node(&self, s: usize) -> &[u32] {
        &self.active_pods[s]
    }

    /// One of service `s`'s pods on `nodes[i]` stops being active (terminating or deleted):
    /// `active_pods` is `ClusterState::active_pods`.
    fn uncount_active_pod(active_pods: &mut [Vec<u32>], i: usize, s: usize) {
        let count = &mut active_pods[s][i];
        *count = count
            .checked_sub(1)
            .expect("a pod leaving a node was counted when it was bound there");
    }

    /// Binds a Pending pod to `nodes[index]`: the node, its pool and the service account for
    /// its requests. Returns the pod's service and serial.
    ///
    /// # Panics
    /// If the pod is gone or already bound: the scheduler only places live Pending pods.
    pub(crate) fn bind(&mut self, pod_ref: PodRef, index: usize, now: SimTime) -> (usize, u32) {
        self.stop_waiting(pod_ref, now);
        let pod = self
            .pods
            .get_mut(pod_ref)
            .expect("the scheduler places live pods");
        assert!(pod.node.is_none(), "binding a bound pod");
        let s = usize::from(pod.service);
        let spec = &self.pod_specs[pod.spec as usize];
        let node = &mut self.nodes[index];
        node.add_pod(spec);
        self.active_pods[s][index] += 1;
        pod.node = Some(node.id);
        pod.phase = PodPhase::Starting;
        pod.bound_at = Some(now);
        let workload = &mut self.workloads[s];
        workload.pending_gauge.add(now, -1);
        workload
            .cpu_requested_gauge
            .add(now, spec.requests.cpu.0 as i64);
        self.pools[usize::from(node.pool.0)].account_requests(now, spec.requests, 1);
        let serial = pod.serial;
        self.attach_cpu(pod_ref, self.node_extras[index].cpu_slot);
        self.attach_memory(pod_ref, self.node_extras[index].memory_slot);
        (s, serial)
    }

    /// A starting pod passed its readiness probe: it joins its Service's endpoints. Returns
    /// false (and changes nothing) when the pod is gone or not starting.
    pub(crate) fn make_ready(&mut self, pod_ref: PodRef, now: SimTime) -> bool {
        let Some(pod) = self.pods.get_mut(pod_ref) else {
            return false;
        };
        if pod.phase != PodPhase::Starting {
            return false;
        }
        pod.phase = PodPhase::Ready;
        pod.ready_since = Some(now);
        let workload = &mut self.workloads[usize::from(pod.service)];
        workload.ready.push(pod_ref);
        workload.ready_changed(now);
        true
    }

    /// Asks a pod to stop: it leaves its Service's endpoints and its node's active pods.
    /// Returns whether it is idle (nothing queued or in service), or `None` when it is gone.
    pub(crate) fn start_terminating(&mut self, pod_ref: PodRef, now: SimTime) -> Option<bool> {
        let pod = self.pods.get_mut(pod_ref)?;
        let was = pod.phase;
        pod.phase = PodPhase::Terminating;
        pod.terminating_since.get_or_insert(now);
        let s = usize::from(pod.service);
        let idle = pod.server.in_flight() == 0;
        if let Some(i) = pod.node.and_then(|id| node_index(&self.nodes, id)) {
            Self::uncount_active_pod(&mut self.active_pods, i, s);
        }
        let workload = &mut self.workloads[s];
        workload.active.remove(pod_ref);
        workload.terminating.push(pod_ref);
        if was == PodPhase::Ready {
            workload.remove_ready(pod_ref, now);
        }
        Some(idle)
    }

    /// Deletes a pod object, releasing its node, quota and endpoints. Returns the pod and the
    /// index of the node it was on (still registered), or `None` when it is gone already.
    pub(crate) fn remove_pod(
        &mut self,
        pod_ref: PodRef,
        now: SimTime,
    ) -> Option<(Pod, Option<usize>)> {
        self.stop_waiting(pod_ref, now);
        let pod = self.pods.remove(pod_ref)?;
        self.detach_cpu(pod_ref, &pod);
        self.detach_memory(&pod);
        let s = usize::from(pod.service);
        let spec = &self.pod_specs[pod.spec as usize];
        let index = pod.node.and_then(|id| node_index(&self.nodes, id));
        if let Some(i) = index {
            self.nodes[i].remove_pod(spec);
            self.pools[usize::from(self.nodes[i].pool.0)].account_requests(now, spec.requests, -1);
            if pod.phase != PodPhase::Terminating {
                Self::uncount_active_pod(&mut self.active_pods, i, s);
            }
        }
        let workload = &mut self.workloads[s];
        if pod.node.is_some() {
            workload
                .cpu_requested_gauge
                .add(now, -(spec.requests.cpu.0 as i64));
        } else {
            workload.pending_gauge.add(now, -1);
            self.pending.retain(|(r, _)| *r != pod_ref);
            self.pending_by_spec[pod.spec as usize] -= 1;
        }
        if !workload.active.remove(pod_ref) {
            workload.terminating.remove(pod_ref);
        }
        workload.remove_ready(pod_ref, now);
        self.namespaces[self.service_namespace[s]]
            .usage
            .remove_pod(spec);
        if let Some(i) = index {
            self.note_loosened(self.nodes[i].id);
        }
        Some((pod, index))
    }

    /// Service `s`'s Deployment as its disruption budget counts it: pods (terminating ones
    /// included) and healthy (Ready, not terminating) pods.
    pub(crate) fn budget_counts(&self, s: usize) -> (u32, u32) {
        let w = &self.workloads[s];
        let healthy = self
            .active_pods(s)
            .filter(|(_, p)| p.phase == PodPhase::Ready)
            .count() as u32;
        ((w.active.len() + w.terminating.len()) as u32, healthy)
    }

    /// From `now` service `s`'s disruption budget asks to keep `min_available` healthy pods
    /// (`None` without a budget): the disruption controller's `desiredHealthy`, which follows
    /// the Deployment's replicas.
    pub(crate) fn set_min_available(&mut self, s: usize, min_available: Option<u32>, now: SimTime) {
        let w = &mut self.workloads[s];
        let ready = w.ready.len() as u32;
        w.ready_floor.set_min_available(now, min_available, ready);
    }

    /// The pods bound to node `id` that are not terminating, service by service.
    pub(crate) fn active_pods_on(&self, id: NodeId) -> Vec<PodRef> {
        self.workloads
            .iter()
            .flat_map(|w| w.active.iter().copied())
            .filter(|r| self.pods.get(*r).is_some_and(|p| p.node == Some(id)))
            .collect()
    }

    /// Every pod bound to node `id`, terminating ones too, by workload then slot order.
    pub(crate) fn pods_on(&self, id: NodeId) -> Vec<PodRef> {
        self.workloads
            .iter()
            .flat_map(|w| w.active.iter().chain(w.terminating.iter()).copied())
            .filter(|r| self.pods.get(*r).is_some_and(|p| p.node == Some(id)))
            .collect()
    }

    /// The measured window starts: every time-weighted gauge forgets the warm-up.
    pub(crate) fn restart_gauges(&mut self, now: SimTime) {
        for w in &mut self.workloads {
            w.ready_gauge.restart(now);
            w.ready_floor.restart(now);
            w.pending_gauge.restart(now);
            w.pending_reasons.restart(now);
            w.cpu_requested_gauge.restart(now);
        }
        for pool in &mut self.pools {
            for gauge in pool.gauges_mut() {
                gauge.restart(now);
            }
        }
    }
}

/// The index in `nodes` (ordered by id) of node `id`.
fn node_index(nodes: &[Node], id: NodeId) -> Option<usize> {
    nodes.binary_search_by_key(&id, |n| n.id).ok()
}
