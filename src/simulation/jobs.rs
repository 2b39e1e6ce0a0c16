//! Batch work: Jobs whose pods run to completion, from a template (the Job controller keeps
//! `parallelism` pods running until `completions` succeeded) or replayed from a pod trace (each
//! row a pod created at its recorded time that runs for its recorded time).
//!
//! A job's pod goes through the same lifecycle as a service's (`lifecycle`): quota, the
//! scheduler, the Cluster Autoscaler, the image pull, evictions. What differs is here: while its
//! containers run it wants its CPU request and uses its memory request, it is Running (Ready)
//! from its containers' start, and it ends when its run time is over. An evicted pod is
//! replaced at once and runs its whole time again (a trace row as a Job of one completion).

use crate::controllers::job::{self, JobPods};
use crate::scenario::admission;
use crate::simulation::cluster_state::{NO_TRACE_ROW, PodPhase, PodRef};
use crate::simulation::lifecycle::PodStart;
use crate::simulation::serving::reschedule_completion;
use crate::simulation::{Event, Simulation};
use crate::units::SimTime;

impl Simulation<'_> {
    /// The job index of workload `w`, when it is a job.
    #[inline]
    pub(super) fn job_of(&self, w: usize) -> Option<usize> {
        w.checked_sub(self.services.len())
    }

    /// Whether the pods of spec `spec` may be evicted by the Cluster Autoscaler: a service's
    /// always, a Job's unless it says otherwise.
    pub(super) fn spec_safe_to_evict(&self, spec: usize) -> bool {
        let w = self.cluster.spec_workload(spec);
        self.job_of(w)
            .is_none_or(|j| self.scenario.jobs[j].safe_to_evict)
    }

    /// Schedules each Job's creation (a template Job's `start`, a trace's first row).
    pub(super) fn start_jobs(&mut self) {
        for (j, spec) in self.scenario.jobs.iter().enumerate() {
            let first = match &spec.pods {
                JobPods::Template(template) => Some(template.start),
                JobPods::Trace(rows) => rows.first().map(|row| row.created_at),
            };
            if let Some(at) = first.map(|d| SimTime::ZERO + d)
                && at < self.end
            {
                self.clock
                    .schedule_at(at, Event::JobCreate { job: j as u16 });
            }
        }
    }

    /// A template Job is created, or the trace rows due by now are: their pods are created.
    pub(super) fn on_job_create(&mut self, j: usize) {
        let scenario = self.scenario;
        match &scenario.jobs[j].pods {
            JobPods::Template(_) => {
                self.jobs[j].created = true;
                self.sync_job(j);
            }
            JobPods::Trace(rows) => {
                let now = self.clock.now();
                while let Some(row) = rows.get(self.jobs[j].next_row)
                    && SimTime::ZERO + row.created_at <= now
                {
                    let index = self.jobs[j].next_row;
                    self.jobs[j].next_row += 1;
                    self.create_job_pod(j, index as u32);
                }
                if let Some(row) = rows.get(self.jobs[j].next_row) {
                    let at = SimTime::ZERO + row.created_at;
                    if at < self.end {
                        self.clock
                            .schedule_at(at, Event::JobCreate { job: j as u16 });
                    }
                }
            }
        }
    }

    /// The Job controller brings a template Job's active pods to what `pods_to_create` asks.
    pub(super) fn sync_job(&mut self, j: usize) {
        let scenario = self.scenario;
        let JobPods::Template(template) = &scenario.jobs[j].pods else {
            return;
        };
        self.jobs[j].create_retry.syncing();
        if !self.jobs[j].created {
            return;
        }
        let active = self.cluster.workload(self.jobs[j].workload).active.len() as u32;
        let create = job::pods_to_create(template, self.jobs[j].succeeded, active);
        let now = self.clock.now();
        self.jobs[j].quota_short.set(now, 0);
        for created in 0..create {
            if self.create_job_pod(j, NO_TRACE_ROW).is_none() {
                let short = u64::from(create - created);
                self.jobs[j].quota_short.set(now, short);
                if let Some(delay) = self.jobs[j].create_retry.failed() {
                    self.clock
                        .schedule_in(delay, Event::JobSync { job: j as u16 });
                }
                return;
            }
        }
        self.jobs[j].create_retry.succeeded();
    }

    /// Creates a pod of Job `j` (replaying trace row `row`, or from its template with
    /// `NO_TRACE_ROW`) and tries to schedule it. Returns `None` when the quota refused it.
    fn create_job_pod(&mut self, j: usize, row: u32) -> Option<PodRef> {
        let scenario = self.scenario;
        let spec = &scenario.jobs[j];
        let w = self.jobs[j].workload;
        let spec_index = match (&spec.pods, row) {
            (JobPods::Trace(rows), row) if row != NO_TRACE_ROW => {
                let row = &rows[row as usize];
                (self.cluster).job_spec(w, Some(row.requests), || {
                    admission::trace_pod(&spec.pod, row, &scenario.node_pools)
                })
            }
            _ => self.cluster.job_spec(w, None, || spec.pod.clone()),
        };
        let created = self.create_workload_pod(w, spec_index, row, 0, PodStart::Cold);
        let counts = &mut self.jobs[j].counts;
        match created {
            Some(_) => counts.submitted += 1,
            None => counts.quota_rejected += 1,
        }
        created
    }

    /// Job `j`'s pod was bound: its wait from creation counts.
    pub(super) fn job_pod_bound(&mut self, j: usize, pod_ref: PodRef) {
        let now = self.clock.now();
        if let Some(pod) = self.cluster.pod(pod_ref) {
            let waited = now.since(pod.created_at);
            self.jobs[j].scheduling_delay.record(waited);
        }
    }

    /// Job `j`'s pod's containers start: it is Running, wants its CPU request, and ends after
    /// its run time (a trace row's own, or one drawn from the template's distribution).
    pub(super) fn job_containers_started(&mut self, j: usize, pod_ref: PodRef) {
        let now = self.clock.now();
        let scenario = self.scenario;
        self.make_ready(pod_ref);
        self.set_batch_running(pod_ref, true);
        let Some(pod) = self.cluster.pod(pod_ref) else {
            return;
        };
        let run_time = match &scenario.jobs[j].pods {
            JobPods::Trace(rows) => rows.get(pod.job_row as usize).and_then(|r| r.run_time),
            JobPods::Template(_) => self.jobs[j].template_run_time(),
        };
        self.jobs[j].counts.started += 1;
        if let Some(run_time) = run_time {
            self.clock
                .schedule_at(now + run_time, Event::JobPodDone { pod: pod_ref });
        }
    }

    /// A job's pod starts or stops wanting its CPU; neighbours whose CPU moved have their
    /// completions moved.
    pub(super) fn set_batch_running(&mut self, pod_ref: PodRef, running: bool) {
        let now = self.clock.now();
        let (clock, lane_base) = (&mut self.clock, self.pod_lane_base);
        self.cluster
            .set_batch_running(pod_ref, running, now, |moved, pod| {
                reschedule_completion(clock, lane_base, moved, pod, now);
            });
    }

    /// A job's pod's containers ran to the end: it succeeded, its node and quota are freed,
    /// and a template Job creates its next pod if completions remain. A pod evicted meanwhile
    /// (terminating) does not count.
    pub(super) fn on_job_pod_done(&mut self, pod_ref: PodRef) {
        let Some(pod) = self.cluster.pod(pod_ref) else {
            return;
        };
        if pod.phase() != PodPhase::Ready {
            return;
        }
        let Some(j) = self.job_of(usize::from(pod.service)) else {
            return;
        };
        self.set_batch_running(pod_ref, false);
        self.jobs[j].succeeded += 1;
        self.jobs[j].counts.completed += 1;
        self.jobs[j].interval_completed += 1;
        self.remove_pod(pod_ref, "Completed");
        self.sync_job(j);
    }

    /// Job `j`'s pod (replaying trace row `row`) was evicted: the controller replaces it at once.
    pub(super) fn job_pod_evicted(&mut self, j: usize, row: u32) {
        self.jobs[j].counts.evicted += 1;
        if row == NO_TRACE_ROW {
            self.sync_job(j);
        } else {
            self.create_job_pod(j, row);
        }
    }

    /// The Cluster Autoscaler asked for `count` nodes at a scan where the jobs flagged in
    /// `pending` had pods it could not place: each of them counts the nodes.
    pub(super) fn count_nodes_for_jobs(&mut self, pending: &[bool], count: u32) {
        for (state, _) in self.jobs.iter_mut().zip(pending).filter(|(_, p)| **p) {
            state.nodes_requested += u64::from(count);
        }
    }
}
