//! Memory running out. A pod whose memory in use goes over its memory limit is OOM-killed by
//! the kernel at that instant: every request it holds fails, it leaves the Service's
//! endpoints, and the kubelet restarts its container in place after the CrashLoopBackOff delay
//! (`cluster::kubelet::CrashLoopBackOff`), through the same start-up path as a new pod whose
//! image is present (`lifecycle::start_containers`). A node whose pods use more memory than
//! its allocatable is under memory pressure: its kubelet evicts pods, one per eviction-manager
//! sync, in the kubelet's order (`cluster::kubelet::memory_eviction_victim`); an evicted pod
//! fails what it holds and is deleted, and its ReplicaSet replaces it.
//!
//! The checks run where memory grows: at each arrival for services whose requests use memory
//! (`memory_per_request > 0`; one comparison against the service's largest in-flight count
//! within the limit), and when containers start. The first sync of a pressure episode runs at
//! once, as the kubelet's memory threshold notifier makes it; the next ones every
//! `EVICTION_MONITORING_PERIOD` while the pressure lasts. This file calls `lifecycle`; `lifecycle`
//! only schedules `EvictionSync` events for it.

use crate::cluster::kubelet::EVICTION_MONITORING_PERIOD;
use crate::cluster::node::NodeId;
use crate::report::EventKind;
use crate::scenario::catalog::EVICTION_THRESHOLD;
use crate::simulation::cluster_state::{MemoryCheck, PodRef};
use crate::simulation::{Event, Simulation};
use crate::units::Bytes;

impl Simulation<'_> {
    /// The requests in flight of `pod_ref`, a pod of a service whose requests use memory,
    /// changed at an arrival: counts its memory on its node, and OOM-kills the pod or wakes its
    /// node's eviction manager when that memory is too much.
    #[inline(never)]
    pub(super) fn pod_memory_changed(&mut self, pod_ref: PodRef) {
        match self.cluster.pod_memory_changed(pod_ref) {
            MemoryCheck::Fits => {}
            MemoryCheck::OverLimit => self.oom_kill(pod_ref),
            MemoryCheck::NodePressure(node) => self.on_eviction_sync(node),
        }
    }

    /// The kernel kills the container of a pod over its memory limit: its requests fail
    /// (`oom_killed`), it leaves the Service's endpoints, and the kubelet restarts it after
    /// its backoff.
    fn oom_kill(&mut self, pod_ref: PodRef) {
        let now = self.clock.now();
        let Some(pod) = self.cluster.pod(pod_ref) else {
            return;
        };
        let (s, serial, node) = (usize::from(pod.service), pod.serial, pod.node());
        let spec = &self.scenario.services[s];
        let in_flight = pod.server.in_flight();
        let reason = format!(
            "OOMKilled: {} in use with {in_flight} requests in flight, over the memory limit {}",
            mebibytes(spec.server.memory_in_use(in_flight)),
            mebibytes(spec.pod.limits.memory),
        );
        let Some((_, lost)) = self.drop_requests(pod_ref) else {
            return;
        };
        let counts = &mut self.services[s];
        counts.interval.counts.oom_killed += lost.all;
        counts.counts.oom_killed += lost.measured;
        self.cluster.stop_containers(pod_ref, now);
        let Some(pod) = self.cluster.pod_mut(pod_ref) else {
            return;
        };
        // metrics-server has no sample of the new container until it has run a whole window.
        pod.sample = None;
        pod.restart_pending = true;
        let delay = pod.backoff.exited(now);
        self.clock
            .schedule_in(delay, Event::ContainerStart { pod: pod_ref });

        let mut event = self.pod_event(EventKind::PodOomKilled, s, serial);
        event.node = self.registered_node_name(node);
        event.reason = Some(reason);
        self.log.push(event);
        let mut event = self.pod_event(EventKind::PodBackOff, s, serial);
        event.node = self.registered_node_name(node);
        event.reason = Some(format!("Back-off {delay} restarting failed container"));
        self.log.push(event);
    }

    /// Node `node`'s kubelet runs its eviction manager: while the node's pods use more memory
    /// than its allocatable, it evicts one pod and looks again `EVICTION_MONITORING_PERIOD`
    /// later.
    pub(super) fn on_eviction_sync(&mut self, node: NodeId) {
        if !self.cluster.eviction_sync(node) {
            return;
        }
        self.evict_for_memory(node);
        self.clock
            .schedule_in(EVICTION_MONITORING_PERIOD, Event::EvictionSync { node });
    }

    /// Evicts the pod the kubelet of `node` ranks first under memory pressure: what it holds
    /// fails (`evicted`), the pod is Failed and deleted, and its ReplicaSet replaces it.
    fn evict_for_memory(&mut self, node: NodeId) {
        let now = self.clock.now();
        let (Some((victim, use_)), Some((in_use, budget))) = (
            self.cluster.memory_eviction_victim(node),
            self.cluster.node_memory(node),
        ) else {
            return;
        };
        let Some(pod) = self.cluster.pod(victim) else {
            return;
        };
        let (s, serial, row) = (usize::from(pod.service), pod.serial, pod.job_row);
        // The kubelet's message (`evictionMessage`, pkg/kubelet/eviction/helpers.go); the
        // node's daemons are taken to use what they reserve, so what is available above the
        // threshold is what the pods leave of their allocatable.
        let available = i128::from(budget.0 + EVICTION_THRESHOLD.0) - i128::from(in_use.0);
        let reason = format!(
            "The node was low on resource: memory. Threshold quantity: {}, available: {}Ki. \
             Container {} was using {}Ki, request is {}, has larger consumption of memory.",
            mebibytes(EVICTION_THRESHOLD),
            available / 1024,
            self.workload_name(s),
            use_.usage.0 / 1024,
            mebibytes(use_.request),
        );
        let mut event = self.pod_event(EventKind::PodEvicted, s, serial);
        event.node = self.registered_node_name(Some(node));
        event.reason = Some(reason);
        self.log.push(event);
        if let Some((_, lost)) = self.drop_requests(victim) {
            self.services[s].counts.evicted += lost.measured;
        }
        if self.measured(now)
            && let Some(svc) = self.services.get_mut(s)
        {
            svc.evictions += 1;
        }
        self.remove_pod(victim, "evicted by the kubelet under node memory pressure");
        if let Some(j) = self.job_of(s) {
            self.job_pod_evicted(j, row);
        }
    }
}

/// Memory in MiB as Kubernetes writes it (`512Mi`, `0`), with a decimal when it is not whole.
fn mebibytes(b: Bytes) -> String {
    if b.0 == 0 {
        "0".to_string()
    } else if b.0.is_multiple_of(Bytes::MIB) {
        format!("{}Mi", b.0 / Bytes::MIB)
    } else {
        format!("{:.1}Mi", b.0 as f64 / Bytes::MIB as f64)
    }
}
