//! What the simulation keeps about each Job between events: where its trace replay stands,
//! how many of its pods succeeded, its random streams, and the counts and scheduling delays
//! its summary reports.

use crate::controllers::job::{JobPods, JobSpec};
use crate::engine::rng::{SimRng, stream};
use crate::report::stats::{Gauge, Latency};
use crate::simulation::lifecycle::CreateRetry;
use crate::units::{SimDuration, SimTime};
use crate::workload::cost::ServiceTimeSampler;

/// A Job's pods counted in the measured window, each at the moment it happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct JobCounts {
    /// Pods created.
    pub(crate) submitted: u64,
    /// Pods whose containers started.
    pub(crate) started: u64,
    /// Pods whose containers ran to the end and exited successfully.
    pub(crate) completed: u64,
    /// Pods evicted (drains, Spot preemptions, node memory pressure) before they finished.
    pub(crate) evicted: u64,
    /// Pod creations the namespace's quota refused.
    pub(crate) quota_rejected: u64,
}

/// One Job's state.
#[derive(Debug)]
pub(crate) struct JobState {
    /// Its workload index in `ClusterState` (after every service's).
    pub(crate) workload: usize,
    /// The next trace row to create.
    pub(crate) next_row: usize,
    /// Whether the Job object exists (a template Job from its `start`).
    pub(crate) created: bool,
    /// Pods that ran to completion, warm-up included (what the Job controller counts).
    pub(crate) succeeded: u32,
    /// The Job controller's retries of pod creations the quota refused.
    pub(crate) create_retry: CreateRetry,
    /// Counts in the measured window.
    pub(crate) counts: JobCounts,
    /// Pods completed since the last time-series row.
    pub(crate) interval_completed: u64,
    /// From creation to binding, for every pod bound in the measured window.
    pub(crate) scheduling_delay: Latency,
    /// Nodes the Cluster Autoscaler asked for at scans where this Job had pods it could not
    /// place, in the measured window.
    pub(crate) nodes_requested: u64,
    /// Pods the Job controller lacked at its last sync because the quota refused them.
    pub(crate) quota_short: Gauge,
    image_pull: ServiceTimeSampler,
    run_time: Option<ServiceTimeSampler>,
    rng_image_pull: SimRng,
    rng_run_time: SimRng,
}

impl JobState {
    /// The state of `spec`, workload `workload`, at the start of a run seeded with `seed`.
    /// Its random streams are named after the Job, so adding one never shifts another's draws.
    pub(crate) fn new(spec: &JobSpec, workload: usize, seed: u64) -> JobState {
        let name = &spec.name;
        JobState {
            workload,
            next_row: 0,
            created: false,
            succeeded: 0,
            create_retry: CreateRetry::default(),
            counts: JobCounts::default(),
            interval_completed: 0,
            scheduling_delay: Latency::new(),
            nodes_requested: 0,
            quota_short: Gauge::new(SimTime::ZERO, 0),
            image_pull: ServiceTimeSampler::from_duration(&spec.image_pull),
            run_time: match &spec.pods {
                JobPods::Template(t) => Some(ServiceTimeSampler::from_duration(&t.run_time)),
                JobPods::Trace(_) => None,
            },
            rng_image_pull: stream(seed, &format!("job-image-pull/{name}")),
            rng_run_time: stream(seed, &format!("job-run-time/{name}")),
        }
    }

    /// The next image pull's duration.
    pub(crate) fn image_pull(&mut self) -> SimDuration {
        self.image_pull.sample(&mut self.rng_image_pull)
    }

    /// The next template pod's run time (`None` for a trace Job, whose rows carry theirs).
    pub(crate) fn template_run_time(&mut self) -> Option<SimDuration> {
        let sampler = self.run_time.as_ref()?;
        Some(sampler.sample(&mut self.rng_run_time))
    }

    /// The measured window starts: the counts and delays of the warm-up are forgotten.
    pub(crate) fn restart_measurement(&mut self, now: SimTime) {
        self.quota_short.restart(now);
        self.counts = JobCounts::default();
        self.scheduling_delay.clear();
        self.nodes_requested = 0;
    }
}
