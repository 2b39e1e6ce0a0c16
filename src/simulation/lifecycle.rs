//! Pods and nodes coming and going: creation under quota, scheduling and binding, image pull and
//! readiness, termination with a grace period, deletion, and new nodes.
//!
//! These run a few times per pod, never per request, so they may allocate and log.

use crate::cluster::quota;
use crate::controllers::deployment::{self, PodView, Scale};
use crate::report::{ClusterEvent, EventKind};
use crate::simulation::state::{Pod, PodPhase, PodRef, TERMINATION_GRACE, retry_backoff};
use crate::simulation::{Event, Simulation};

impl Simulation<'_> {
    /// Creates the Deployment's pods at time zero: those that fit are Ready at once, as in a
    /// cluster that was already running when the simulation starts.
    pub(super) fn sync_deployment_initial(&mut self, s: usize) {
        for _ in 0..self.services[s].desired {
            if self.create_pod(s, true).is_none() {
                self.schedule_deployment_retry(s);
                break;
            }
        }
    }

    /// The ReplicaSet controller brings service `s` to its desired replicas.
    pub(super) fn sync_deployment(&mut self, s: usize) {
        self.services[s].sync_scheduled = false;
        let views = self.pod_views(s);
        match deployment::reconcile(self.services[s].desired, &views) {
            Scale::Steady => {}
            Scale::Create(n) => {
                for _ in 0..n {
                    if self.create_pod(s, false).is_none() {
                        self.schedule_deployment_retry(s);
                        return;
                    }
                }
                self.services[s].create_failures = 0;
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
        let svc = &self.services[s];
        if (svc.active.len() as u32) < svc.desired {
            self.sync_deployment(s);
        }
    }

    fn schedule_deployment_retry(&mut self, s: usize) {
        let svc = &mut self.services[s];
        svc.create_failures += 1;
        if !svc.sync_scheduled {
            svc.sync_scheduled = true;
            let delay = retry_backoff(svc.create_failures);
            self.clock
                .schedule_in(delay, Event::DeploymentSync { service: s as u16 });
        }
    }

    fn pod_views(&self, s: usize) -> Vec<PodView<PodRef>> {
        let active = &self.services[s].active;
        let pods: Vec<(PodRef, &Pod)> = active
            .iter()
            .filter_map(|r| self.pods.get(*r).map(|p| (*r, p)))
            .collect();
        pods.iter()
            .map(|(r, p)| PodView {
                id: *r,
                scheduled: p.node.is_some(),
                running: matches!(p.phase, PodPhase::Ready),
                ready_since: p.ready_since,
                colocated: p.node.map_or(0, |n| {
                    pods.iter().filter(|(_, q)| q.node == Some(n)).count() as u32
                }),
                created_at: p.created_at,
            })
            .collect()
    }

    /// Creates one pod of service `s` if its namespace's quota admits it, and tries to schedule
    /// it. Returns `None` when the quota refused it.
    fn create_pod(&mut self, s: usize, initial: bool) -> Option<PodRef> {
        let now = self.clock.now();
        let spec = &self.scenario.services[s];
        let ns = self.service_namespace[s];
        let namespace = &mut self.namespaces[ns];
        if let Some(q) = namespace.quota {
            let hard = &self.scenario.quotas[q];
            if let Err(refused) = quota::admit(hard, &namespace.usage, &spec.pod) {
                if now >= self.warmup_end {
                    namespace.rejected_pods += 1;
                }
                let mut event = self.service_event(EventKind::QuotaRejected, s);
                event.reason = Some(refused.to_string());
                self.log.push(event);
                return None;
            }
        }
        namespace.usage.add_pod(&spec.pod);
        let svc = &mut self.services[s];
        let serial = svc.next_serial;
        svc.next_serial += 1;
        let queue_capacity = spec.server.queue_limit.unwrap_or(0).min(4_096) as usize;
        let pod_ref = self
            .pods
            .insert(Pod::new(s as u16, serial, now, queue_capacity));
        svc.active.push(pod_ref);
        svc.pending_gauge.add(now, 1);
        let mut event = self.service_event(EventKind::PodCreated, s);
        event.pod = Some(self.pod_name(s, serial));
        self.log.push(event);
        if !self.try_schedule(pod_ref, initial) {
            self.pending.push(pod_ref);
        }
        Some(pod_ref)
    }

    /// Runs the scheduler for a Pending pod; binds it and returns true if a node fits.
    fn try_schedule(&mut self, pod_ref: PodRef, initial: bool) -> bool {
        let Some(pod) = self.pods.get(pod_ref) else {
            return true;
        };
        let s = usize::from(pod.service);
        let spec = &self.scenario.services[s].pod;
        self.workload_pods.clear();
        self.workload_pods
            .extend(self.node_extras.iter().map(|e| e.active_pods[s]));
        match self.scheduler.schedule_replica(
            spec,
            &self.nodes,
            &self.workload_pods,
            &mut self.rng_scheduler,
        ) {
            Ok(index) => {
                self.bind(pod_ref, index, initial);
                true
            }
            Err(fit) => {
                let message = fit.to_string();
                let serial = pod.serial;
                let Some(pod) = self.pods.get_mut(pod_ref) else {
                    return false;
                };
                if pod.last_unschedulable.as_deref() != Some(message.as_str()) {
                    pod.last_unschedulable = Some(message.clone());
                    let mut event = self.service_event(EventKind::PodUnschedulable, s);
                    event.pod = Some(self.pod_name(s, serial));
                    event.reason = Some(message);
                    self.log.push(event);
                }
                false
            }
        }
    }

    /// Binds a pod to `nodes[index]` and starts it: image pull (once per node and service,
    /// shared by pods that start together), then the readiness delay.
    fn bind(&mut self, pod_ref: PodRef, index: usize, initial: bool) {
        let now = self.clock.now();
        let Some(pod) = self.pods.get_mut(pod_ref) else {
            return;
        };
        let s = usize::from(pod.service);
        let spec = &self.scenario.services[s].pod;
        let node = &mut self.nodes[index];
        node.add_pod(spec);
        self.node_extras[index].active_pods[s] += 1;
        let pool = usize::from(node.pool.0);
        pod.node = Some(node.id);
        pod.phase = PodPhase::Starting;
        pod.bound_at = Some(now);
        let serial = pod.serial;
        let svc = &mut self.services[s];
        svc.pending_gauge.add(now, -1);
        svc.cpu_requested_gauge.add(now, spec.requests.cpu.0 as i64);
        self.account_requests(pool, spec.requests, 1);
        let mut event = self.service_event(EventKind::PodScheduled, s);
        event.pod = Some(self.pod_name(s, serial));
        event.node = Some(self.nodes[index].name.clone());
        self.log.push(event);

        let svc = &mut self.services[s];
        let image = &mut self.node_extras[index].image_ready_at[s];
        if initial {
            *image = Some(now);
            if let Some(pod) = self.pods.get_mut(pod_ref) {
                pod.containers_start = Some(now);
            }
            self.make_ready(pod_ref);
            return;
        }
        let containers_start = match *image {
            Some(present_at) => present_at.max(now),
            None => {
                let pulled = now + svc.image_pull.sample(&mut svc.rng_startup);
                *image = Some(pulled);
                pulled
            }
        };
        if let Some(pod) = self.pods.get_mut(pod_ref) {
            pod.containers_start = Some(containers_start);
        }
        let ready_at = containers_start + svc.readiness.sample(&mut svc.rng_startup);
        self.clock
            .schedule_at(ready_at, Event::PodReady { pod: pod_ref });
    }

    /// A starting pod passed its readiness probe.
    pub(super) fn on_pod_ready(&mut self, pod_ref: PodRef) {
        let is_starting = self
            .pods
            .get(pod_ref)
            .is_some_and(|p| p.phase == PodPhase::Starting);
        if is_starting {
            self.make_ready(pod_ref);
        }
    }

    fn make_ready(&mut self, pod_ref: PodRef) {
        let now = self.clock.now();
        let Some(pod) = self.pods.get_mut(pod_ref) else {
            return;
        };
        pod.phase = PodPhase::Ready;
        pod.ready_since = Some(now);
        let s = usize::from(pod.service);
        let serial = pod.serial;
        let node = pod.node;
        let svc = &mut self.services[s];
        svc.ready.push(pod_ref);
        svc.ready_gauge.set(now, svc.ready.len() as u64);
        let mut event = self.service_event(EventKind::PodReady, s);
        event.pod = Some(self.pod_name(s, serial));
        event.node = node
            .and_then(|id| self.node_index(id))
            .map(|i| self.nodes[i].name.clone());
        self.log.push(event);
    }

    /// Asks a pod to stop: it leaves the Service's endpoints at once and is deleted when it has
    /// drained, or killed when the grace period ends.
    pub(super) fn terminate_pod(&mut self, pod_ref: PodRef) {
        let Some(pod) = self.pods.get_mut(pod_ref) else {
            return;
        };
        let was = pod.phase;
        pod.phase = PodPhase::Terminating;
        let s = usize::from(pod.service);
        let serial = pod.serial;
        let idle = pod.server.in_flight() == 0;
        if let Some(i) = pod.node.and_then(|id| self.node_index(id)) {
            self.node_extras[i].uncount_active_pod(s);
        }
        let svc = &mut self.services[s];
        svc.active.retain(|r| *r != pod_ref);
        svc.terminating.push(pod_ref);
        if was == PodPhase::Ready {
            svc.ready.retain(|r| *r != pod_ref);
            svc.ready_gauge
                .set(self.clock.now(), svc.ready.len() as u64);
        }
        let mut event = self.service_event(EventKind::PodTerminating, s);
        event.pod = Some(self.pod_name(s, serial));
        self.log.push(event);
        if idle {
            self.remove_pod(pod_ref, "terminated");
        } else {
            self.clock
                .schedule_in(TERMINATION_GRACE, Event::PodKilled { pod: pod_ref });
        }
    }

    /// Evicts a pod from a node being removed (drained, or preempted: `reason` says which): it
    /// terminates gracefully and its ReplicaSet, now one pod short, creates a replacement at
    /// once.
    pub(super) fn evict_pod(&mut self, pod_ref: PodRef, reason: &str) {
        let Some(pod) = self.pods.get(pod_ref) else {
            return;
        };
        let s = usize::from(pod.service);
        let mut event = self.service_event(EventKind::PodEvicted, s);
        event.pod = Some(self.pod_name(s, pod.serial));
        event.reason = Some(reason.to_string());
        self.log.push(event);
        self.terminate_pod(pod_ref);
        self.sync_if_short(s);
    }

    /// The grace period ended: whatever the pod still holds is lost.
    pub(super) fn kill_pod(&mut self, pod_ref: PodRef) {
        let now = self.clock.now();
        let warmup_end = self.warmup_end;
        let Some(pod) = self.pods.get_mut(pod_ref) else {
            return;
        };
        let svc = &mut self.services[usize::from(pod.service)];
        let mut lost = u64::from(pod.in_service_measured);
        lost += pod
            .server
            .drain_queue()
            .filter(|a| *a >= warmup_end)
            .count() as u64;
        pod.server.stop_workers(now, &svc.limits);
        pod.in_service_measured = 0;
        svc.counts.killed += lost;
        svc.in_flight_measured -= lost;
        self.remove_pod(pod_ref, "grace period expired");
    }

    /// Deletes a pod object, releasing its node, quota and endpoints.
    pub(super) fn remove_pod(&mut self, pod_ref: PodRef, reason: &str) {
        let now = self.clock.now();
        let Some(pod) = self.pods.remove(pod_ref) else {
            return;
        };
        let s = usize::from(pod.service);
        let spec = &self.scenario.services[s].pod;
        let collected = pod.server.cpu_usage_area(now) - pod.cpu_area_collected;
        let node_index = pod.node.and_then(|id| self.node_index(id));
        let node_name = node_index.map(|i| {
            self.nodes[i].remove_pod(spec);
            self.nodes[i].name.clone()
        });
        if let Some(i) = node_index {
            self.account_requests(usize::from(self.nodes[i].pool.0), spec.requests, -1);
            if pod.phase != PodPhase::Terminating {
                self.node_extras[i].uncount_active_pod(s);
            }
        }
        let measured = now > self.warmup_end;
        let svc = &mut self.services[s];
        svc.interval.cpu_area += collected;
        if measured {
            svc.cpu_used_area += u128::from(collected);
        }
        if pod.node.is_some() {
            svc.cpu_requested_gauge
                .add(now, -(spec.requests.cpu.0 as i64));
        } else {
            svc.pending_gauge.add(now, -1);
            self.pending.retain(|r| *r != pod_ref);
        }
        svc.active.retain(|r| *r != pod_ref);
        svc.terminating.retain(|r| *r != pod_ref);
        if svc.ready.contains(&pod_ref) {
            svc.ready.retain(|r| *r != pod_ref);
            svc.ready_gauge.set(now, svc.ready.len() as u64);
        }
        let ns = self.service_namespace[s];
        self.namespaces[ns].usage.remove_pod(spec);
        let mut event = self.service_event(EventKind::PodDeleted, s);
        event.pod = Some(self.pod_name(s, pod.serial));
        event.node = node_name;
        event.reason = Some(reason.to_string());
        self.log.push(event);
        if let Some(node) = pod.node {
            self.remove_node_if_drained(node);
        }
        self.retry_pending();
        self.sync_if_short(s);
    }

    /// Retries every Pending pod, oldest first, after the cluster changed.
    pub(super) fn retry_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let waiting = std::mem::take(&mut self.pending);
        for pod_ref in waiting {
            if !self.try_schedule(pod_ref, false) {
                self.pending.push(pod_ref);
            }
        }
    }

    /// An event about service `s`, with its service and namespace filled in.
    pub(super) fn service_event(&self, kind: EventKind, s: usize) -> ClusterEvent {
        let spec = &self.scenario.services[s];
        let mut event = ClusterEvent::new(self.now_s(), kind);
        event.service = Some(spec.name.clone());
        event.namespace = Some(spec.namespace.clone());
        event
    }
}
