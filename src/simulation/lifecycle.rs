//! Pods coming and going: creation under quota, scheduling and binding, image pull, container
//! start (first or after a restart backoff) and readiness, termination with a grace period,
//! eviction, and deletion, driven by the ReplicaSet controller.
//!
//! These run a few times per pod, never per request, so they may allocate and log. Every change
//! to a pod's phase or node goes through `ClusterState`; this file adds what the change means
//! for the model: events to log, start-up delays, and the ReplicaSet's reaction. It may ask
//! `nodes` to remove a drained node once its last pod is gone; `nodes` never calls back here.

use crate::cluster::node::NodeId;
use crate::controllers::deployment::{self, PodView, Scale};
use crate::report::{ClusterEvent, EventKind, Observer};
use crate::simulation::cluster_state::{NO_TRACE_ROW, PodPhase, PodRef, primary_reason};
use crate::simulation::{Event, Simulation};
use crate::units::SimDuration;

/// The ReplicaSet controller's retry backoff: 5 ms doubling to 1000 s
/// (`workqueue.DefaultControllerRateLimiter`).
const RETRY_BASE: SimDuration = SimDuration::from_millis(5);
/// Longest ReplicaSet retry backoff.
const RETRY_MAX: SimDuration = SimDuration::from_secs(1_000);

/// The ReplicaSet retry delay after `failures` consecutive failures (at least one).
fn retry_backoff(failures: u32) -> SimDuration {
    let doublings = failures.saturating_sub(1).min(40);
    SimDuration(
        RETRY_BASE
            .0
            .saturating_mul(1u64 << doublings)
            .min(RETRY_MAX.0),
    )
}

/// A controller's retries of pod creations its namespace's quota refused (the ReplicaSet's and
/// the Job controller's alike): consecutive failures, and whether a retry is scheduled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct CreateRetry {
    failures: u32,
    scheduled: bool,
}

impl CreateRetry {
    /// A sync starts: the retry it was (if any) is no longer pending.
    pub(super) fn syncing(&mut self) {
        self.scheduled = false;
    }

    /// Every pod the sync wanted was created: the backoff starts again.
    pub(super) fn succeeded(&mut self) {
        self.failures = 0;
    }

    /// A creation failed: the delay after which to retry, unless a retry is already scheduled.
    pub(super) fn failed(&mut self) -> Option<SimDuration> {
        self.failures += 1;
        if self.scheduled {
            return None;
        }
        self.scheduled = true;
        Some(retry_backoff(self.failures))
    }
}

/// Requests a pod held when its containers were killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Lost {
    /// All of them, whenever they arrived (for the time series).
    pub(super) all: u64,
    /// Those that arrived in the measured window (for the summary).
    pub(super) measured: u64,
}

/// How a pod starts once it is bound to a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PodStart {
    /// Part of the cluster as it runs when the simulation starts: its image is on the node and
    /// it is Ready at once.
    AlreadyRunning,
    /// Created during the run: it pulls its image (unless the node has it or is pulling it)
    /// and then waits for its readiness probe.
    Cold,
}

/// What came of one scheduling attempt.
pub(super) enum Attempt {
    /// The pod is bound to a node.
    Bound,
    /// No node fits; kube-scheduler's message says why.
    Unschedulable(String),
    /// The pod no longer exists.
    Gone,
}

/// How many events the initial pods may log before they are handed to the observer.
const INITIAL_LOG_BATCH: usize = 4_096;

impl Simulation<'_> {
    /// Creates the Deployment's pods at time zero: those that fit are Ready at once, as in a
    /// cluster that was already running when the simulation starts. The events they log go to
    /// `observer` as they pile up, so that a large Deployment does not hold them all.
    pub(super) fn sync_deployment_initial<O: Observer>(&mut self, s: usize, observer: &mut O) {
        let desired = self.services[s].desired;
        for created in 0..desired {
            if self.create_pod(s, PodStart::AlreadyRunning).is_none() {
                self.quota_short(s, desired - created);
                self.schedule_deployment_retry(s);
                break;
            }
            if self.log.len() >= INITIAL_LOG_BATCH {
                self.flush_log(observer);
            }
        }
    }

    /// The ReplicaSet controller brings service `s` to its desired replicas.
    pub(super) fn sync_deployment(&mut self, s: usize) {
        self.services[s].create_retry.syncing();
        let views = self.pod_views(s);
        let scale = deployment::reconcile(self.services[s].desired, &views);
        self.quota_short(s, 0);
        match scale {
            Scale::Steady => {}
            Scale::Create(n) => {
                for created in 0..n {
                    if self.create_pod(s, PodStart::Cold).is_none() {
                        self.quota_short(s, n - created);
                        self.schedule_deployment_retry(s);
                        return;
                    }
                }
                self.services[s].create_retry.succeeded();
            }
            Scale::Delete(victims) => {
                for pod in victims {
                    self.terminate_pod(pod);
                }
            }
        }
    }

    /// The ReplicaSet controller watches its pods: when one of them is deleted or evicted and
    /// the set is short, it syncs at once, even with a retry after a failure still pending.
    fn sync_if_short(&mut self, s: usize) {
        if (self.cluster.workload(s).active.len() as u32) < self.services[s].desired {
            self.sync_deployment(s);
        }
    }

    /// From now on service `s`'s ReplicaSet lacks `pods` pods the quota refused.
    fn quota_short(&mut self, s: usize, pods: u32) {
        let now = self.clock.now();
        self.services[s].quota_short.set(now, u64::from(pods));
    }

    fn schedule_deployment_retry(&mut self, s: usize) {
        if let Some(delay) = self.services[s].create_retry.failed() {
            self.clock
                .schedule_in(delay, Event::DeploymentSync { service: s as u16 });
        }
    }

    /// What the ReplicaSet controller sees of service `s`'s active pods.
    fn pod_views(&self, s: usize) -> Vec<PodView<PodRef>> {
        let pods: Vec<_> = self.cluster.active_pods(s).collect();
        // Counted once per node rather than once per pod: a service can run many thousands.
        let mut per_node = std::collections::HashMap::new();
        for node in pods.iter().filter_map(|(_, p)| p.node()) {
            *per_node.entry(node).or_insert(0u32) += 1;
        }
        pods.iter()
            .map(|(r, p)| PodView {
                id: *r,
                scheduled: p.node().is_some(),
                running: matches!(p.phase(), PodPhase::Ready),
                ready_since: p.ready_since(),
                colocated: p.node().map_or(0, |n| per_node[&n]),
                created_at: p.created_at,
            })
            .collect()
    }

    /// Creates one pod of service `s` if its namespace's quota admits it, and tries to schedule
    /// it. Returns `None` when the quota refused it.
    fn create_pod(&mut self, s: usize, start: PodStart) -> Option<PodRef> {
        let queue_capacity = self.scenario.services[s]
            .server
            .queue_limit
            .unwrap_or(0)
            .min(4_096) as usize;
        self.create_workload_pod(s, s as u32, NO_TRACE_ROW, queue_capacity, start)
    }

    /// Creates one pod of workload `s` with spec `spec_index` (replaying trace row `job_row`,
    /// for a job's) if its namespace's quota admits it, and tries to schedule it. Returns
    /// `None` when the quota refused it.
    pub(super) fn create_workload_pod(
        &mut self,
        s: usize,
        spec_index: u32,
        job_row: u32,
        queue_capacity: usize,
        start: PodStart,
    ) -> Option<PodRef> {
        let now = self.clock.now();
        let created = self.cluster.create_pod(s, spec_index, now, queue_capacity);
        let (pod_ref, serial) = match created {
            Ok(created) => created,
            Err(refused) => {
                if self.measured(now) {
                    self.cluster.count_quota_rejection(s);
                }
                let mut event = self.service_event(EventKind::QuotaRejected, s);
                event.reason = Some(refused.to_string());
                self.log.push(event);
                return None;
            }
        };
        if let Some(pod) = self.cluster.pod_mut(pod_ref) {
            pod.job_row = job_row;
        }
        let event = self.pod_event(EventKind::PodCreated, s, serial);
        self.log.push(event);
        match self.try_schedule(pod_ref, start) {
            Attempt::Unschedulable(_) => self.cluster.park_pending(pod_ref),
            Attempt::Bound => self.bound_outside_round(),
            Attempt::Gone => {}
        }
        Some(pod_ref)
    }

    /// Runs the scheduler for a Pending pod and binds it if a node fits.
    pub(super) fn try_schedule(&mut self, pod_ref: PodRef, start: PodStart) -> Attempt {
        let Some(pod) = self.cluster.pod(pod_ref) else {
            return Attempt::Gone;
        };
        let s = usize::from(pod.service);
        let spec_index = pod.spec as usize;
        let is_job = self.job_of(s).is_some();
        let loosen_count = self.cluster.loosen_count();
        if is_job
            && self.skip_hopeless_cycles
            && let Some(Some((at, message))) = self.job_spec_failures.get(spec_index)
            && *at == loosen_count
        {
            // A pod of this job's spec found no node, and the nodes have only lost room since:
            // the full cycle would find none either (and, finding none, would move nothing).
            let message = message.clone();
            self.record_unschedulable(pod_ref, &message);
            return Attempt::Unschedulable(message);
        }
        let spec = &self.cluster.pod_specs()[spec_index];
        // A Service and a ReplicaSet select a service's pods, so kube-scheduler's default
        // spreading applies to them; nothing of the kind selects a Job's.
        let spread = (s < self.services.len()).then(|| self.cluster.workload_pods_per_node(s));
        match self.scheduler.schedule_among(
            spec,
            self.cluster.nodes(),
            self.cluster.classified_nodes(),
            spread,
            Some(self.cluster.pod_groups()),
            &mut self.rng_scheduler,
        ) {
            Ok(index) => {
                self.bind(pod_ref, index, start);
                Attempt::Bound
            }
            Err(fit) => {
                let message = fit.to_string();
                self.record_unschedulable(pod_ref, &message);
                if is_job {
                    let failures = &mut self.job_spec_failures;
                    if failures.len() <= spec_index {
                        failures.resize(spec_index + 1, None);
                    }
                    failures[spec_index] = Some((loosen_count, message.clone()));
                }
                Attempt::Unschedulable(message)
            }
        }
    }

    /// Records why a Pending pod found no node; logs it when the reason changed.
    pub(super) fn record_unschedulable(&mut self, pod_ref: PodRef, message: &str) {
        let Some(pod) = self.cluster.pod_mut(pod_ref) else {
            return;
        };
        let now = self.clock.now();
        if pod.last_unschedulable.as_deref() != Some(message) {
            pod.last_unschedulable = Some(message.to_string());
            let (s, serial) = (usize::from(pod.service), pod.serial);
            (self.cluster).scheduler_verdict(pod_ref, primary_reason(message), now);
            let mut event = self.pod_event(EventKind::PodUnschedulable, s, serial);
            event.reason = Some(message.to_string());
            self.log.push(event);
        } else if self.cluster.has_ca_wait(pod_ref) {
            // The attempt is later than the Cluster Autoscaler's verdict.
            (self.cluster).scheduler_verdict(pod_ref, primary_reason(message), now);
        }
    }

    /// Binds a pod to `nodes[index]` and starts it: image pull (once per node and service,
    /// shared by pods that start together), then the readiness delay.
    fn bind(&mut self, pod_ref: PodRef, index: usize, start: PodStart) {
        self.bound_in_round = true;
        let now = self.clock.now();
        let (s, serial) = self.cluster.bind(pod_ref, index, now);
        let mut event = self.pod_event(EventKind::PodScheduled, s, serial);
        event.node = Some(self.cluster.nodes()[index].name.clone());
        self.log.push(event);

        let job = self.job_of(s);
        if let Some(j) = job {
            self.job_pod_bound(j, pod_ref);
        }
        let image = self.cluster.image_ready_at_mut(index, s);
        let containers_start = match start {
            PodStart::AlreadyRunning => {
                *image = Some(now);
                now
            }
            PodStart::Cold => match *image {
                Some(present_at) => present_at.max(now),
                None => {
                    let pull = match job {
                        Some(j) => self.jobs[j].image_pull(),
                        None => self.services[s].startup.image_pull(),
                    };
                    let pulled = now + pull;
                    *image = Some(pulled);
                    pulled
                }
            },
        };
        if let Some(pod) = self.cluster.pod_mut(pod_ref) {
            pod.containers_start = Some(containers_start);
        }
        if containers_start > now {
            self.clock
                .schedule_at(containers_start, Event::ContainerStart { pod: pod_ref });
        } else {
            self.start_containers(pod_ref, start);
        }
    }

    /// A bound pod's containers start: its image is on the node, or the restart backoff of its
    /// OOM-killed container is over. It uses its base memory from now on, and is Ready at once
    /// (`AlreadyRunning`) or after its readiness delay. A pod that is gone, terminating or
    /// running already is left alone.
    pub(super) fn start_containers(&mut self, pod_ref: PodRef, start: PodStart) {
        let now = self.clock.now();
        let Some(pod) = self.cluster.pod_mut(pod_ref) else {
            return;
        };
        if pod.phase() != PodPhase::Starting {
            return;
        }
        let (s, serial, node) = (usize::from(pod.service), pod.serial, pod.node());
        let restarted = std::mem::take(&mut pod.restart_pending);
        if restarted {
            pod.backoff.restarted(now);
        }
        if let Some(pressured) = self.cluster.start_containers(pod_ref, now) {
            // The kubelet's memory threshold notifier wakes its eviction manager at once.
            self.clock
                .schedule_at(now, Event::EvictionSync { node: pressured });
        }
        if let Some(j) = self.job_of(s) {
            self.job_containers_started(j, pod_ref);
            return;
        }
        if restarted {
            if self.measured(now) {
                self.services[s].restarts += 1;
            }
            let mut event = self.pod_event(EventKind::PodRestarted, s, serial);
            event.node = self.registered_node_name(node);
            event.reason = Some("Started container after its restart back-off".to_string());
            self.log.push(event);
        }
        match start {
            PodStart::AlreadyRunning => self.make_ready(pod_ref),
            PodStart::Cold => {
                let ready_at = now + self.services[s].startup.readiness();
                self.clock
                    .schedule_at(ready_at, Event::PodReady { pod: pod_ref });
            }
        }
    }

    /// A starting pod passed its readiness probe: it joins the Service's endpoints.
    pub(super) fn make_ready(&mut self, pod_ref: PodRef) {
        let now = self.clock.now();
        if self.on_failed_node(pod_ref) {
            // The node stopped reporting: the pod's readiness never reaches the API server.
            return;
        }
        if !self.cluster.make_ready(pod_ref, now) {
            return;
        }
        let Some(pod) = self.cluster.pod(pod_ref) else {
            return;
        };
        let s = usize::from(pod.service);
        let mut event = self.pod_event(EventKind::PodReady, s, pod.serial);
        event.node = self.registered_node_name(pod.node());
        self.log.push(event);
    }

    /// The name of registered node `id`, for an event.
    pub(super) fn registered_node_name(&self, id: Option<NodeId>) -> Option<String> {
        id.and_then(|id| self.cluster.node_index(id))
            .map(|i| self.cluster.nodes()[i].name.clone())
    }

    /// Asks a pod to stop: it leaves the Service's endpoints at once and is deleted when it has
    /// drained, or killed when the grace period ends.
    pub(super) fn terminate_pod(&mut self, pod_ref: PodRef) {
        let now = self.clock.now();
        let Some(idle) = self.cluster.start_terminating(pod_ref, now) else {
            return;
        };
        let Some(pod) = self.cluster.pod(pod_ref) else {
            return;
        };
        // A job's running containers are taken to work on through SIGTERM until they are killed.
        let idle = idle && !pod.batch_running();
        let event = self.pod_event(
            EventKind::PodTerminating,
            usize::from(pod.service),
            pod.serial,
        );
        self.log.push(event);
        if idle {
            self.remove_pod(pod_ref, "terminated");
        } else {
            let w = usize::from(pod.service);
            let grace = match self.job_of(w) {
                Some(j) => self.scenario.jobs[j].termination_grace,
                None => self.scenario.services[w].termination_grace,
            };
            self.clock
                .schedule_in(grace, Event::PodKilled { pod: pod_ref });
        }
    }

    /// Evicts a pod from a node being removed (drained, or preempted: `reason` says which): it
    /// terminates gracefully and its ReplicaSet, now one pod short, creates a replacement at
    /// once.
    pub(super) fn evict_pod(&mut self, pod_ref: PodRef, reason: &str) {
        let Some(pod) = self.cluster.pod(pod_ref) else {
            return;
        };
        let (s, row) = (usize::from(pod.service), pod.job_row);
        let mut event = self.pod_event(EventKind::PodEvicted, s, pod.serial);
        event.reason = Some(reason.to_string());
        self.log.push(event);
        self.terminate_pod(pod_ref);
        match self.job_of(s) {
            Some(j) => self.job_pod_evicted(j, row),
            None => self.sync_if_short(s),
        }
    }

    /// The grace period ended: whatever the pod still holds is lost.
    pub(super) fn kill_pod(&mut self, pod_ref: PodRef) {
        if let Some((s, lost)) = self.drop_requests(pod_ref) {
            self.services[s].counts.killed += lost.measured;
        }
        self.remove_pod(pod_ref, "grace period expired");
    }

    /// Fails every request the pod holds, waiting or in service, at once (its containers are
    /// killed) and takes its CPU away. Returns its service and the requests lost, or `None`
    /// when the pod is gone or a job's (which holds no requests); the caller counts them under
    /// the outcome that applies.
    pub(super) fn drop_requests(&mut self, pod_ref: PodRef) -> Option<(usize, Lost)> {
        let now = self.clock.now();
        let warmup_end = self.warmup_end;
        let pod = self.cluster.pod(pod_ref)?;
        let s = usize::from(pod.service);
        if self.job_of(s).is_some() {
            self.set_batch_running(pod_ref, false);
            return None;
        }
        let pod = self.cluster.pod_mut(pod_ref)?;
        let svc = &mut self.services[s];
        let mut lost = Lost {
            all: u64::from(pod.server.in_flight()),
            measured: u64::from(pod.in_service_measured),
        };
        lost.measured += pod
            .server
            .drain_queue()
            .filter(|a| *a >= warmup_end)
            .count() as u64;
        pod.server.stop_workers(now);
        pod.in_service_measured = 0;
        svc.in_flight_measured -= lost.measured;
        self.pod_busy_changed(pod_ref);
        Some((s, lost))
    }

    /// Deletes a pod object, releasing its node, quota and endpoints; a drained node it leaves
    /// empty goes, Pending pods get another chance, and its ReplicaSet replaces it if short.
    pub(super) fn remove_pod(&mut self, pod_ref: PodRef, reason: &str) {
        let now = self.clock.now();
        self.clock.cancel_lane(self.completion_lane(pod_ref));
        let Some((mut pod, node_index)) = self.cluster.remove_pod(pod_ref, now) else {
            return;
        };
        let s = usize::from(pod.service);
        let measured = now > self.warmup_end;
        if let Some(svc) = self.services.get_mut(s) {
            svc.collect_usage(&mut pod, now, measured);
        }
        let mut event = self.pod_event(EventKind::PodDeleted, s, pod.serial);
        event.node = node_index.map(|i| self.cluster.nodes()[i].name.clone());
        event.reason = Some(reason.to_string());
        self.log.push(event);
        if let Some(node) = pod.node() {
            self.remove_node_if_drained(node);
        }
        self.retry_pending();
        if s < self.services.len() {
            self.sync_if_short(s);
        }
    }

    /// An event about pod `serial` of workload `s`, with the pod's name, service or job and
    /// namespace filled in.
    pub(super) fn pod_event(&self, kind: EventKind, s: usize, serial: u32) -> ClusterEvent {
        let mut event = self.service_event(kind, s);
        event.pod = Some(self.pod_name(s, serial));
        event
    }

    /// An event about workload `s` (a service, or a job), with its name and namespace filled in.
    pub(super) fn service_event(&self, kind: EventKind, s: usize) -> ClusterEvent {
        let mut event = ClusterEvent::new(self.now_s(), kind);
        match self.job_of(s) {
            Some(j) => {
                let spec = &self.scenario.jobs[j];
                event.job = Some(spec.name.clone());
                event.namespace = Some(spec.namespace.clone());
            }
            None => {
                let spec = &self.scenario.services[s];
                event.service = Some(spec.name.clone());
                event.namespace = Some(spec.namespace.clone());
            }
        }
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_backoff_doubles_to_its_cap() {
        assert_eq!(retry_backoff(1), SimDuration::from_millis(5));
        assert_eq!(retry_backoff(2), SimDuration::from_millis(10));
        assert_eq!(retry_backoff(18), SimDuration::from_millis(5 << 17));
        assert_eq!(retry_backoff(19), RETRY_MAX);
        assert_eq!(retry_backoff(200), RETRY_MAX);
    }
}
