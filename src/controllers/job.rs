//! Batch work: Kubernetes Jobs whose pods run to completion, from a pod template or replayed
//! from a recorded pod trace, and the Job controller's decision of how many pods to create.
//!
//! Use `JobSpec` for what the scenario asks (`jobs.<name>`) and `pods_to_create` at each sync
//! of a template Job. A trace's rows are pods of their own: each runs once, as a Job of one
//! completion, from its recorded creation time for its recorded run time.
//!
//! **Invariant:** like every controller, no I/O, no clock, no events; the simulation creates
//! the pods, times their runs and counts them.

use std::sync::Arc;

use crate::cluster::spec::PodSpec;
use crate::units::{DurationDist, Resources, SimDuration};

/// One `jobs.<name>` entry: pods that run to completion.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec {
    /// The name the scenario gives it, for events and the summary.
    pub name: String,
    /// Its namespace (`default` when the scenario names none), for quota.
    pub namespace: String,
    /// The pod template: placement rules, tolerations, requests and limits. A trace row's own
    /// requests replace the template's (its limits are then none).
    pub pod: PodSpec,
    /// From binding to the containers' start (the image pull).
    pub image_pull: DurationDist,
    /// `terminationGracePeriodSeconds`: how long an evicted pod keeps its node.
    pub termination_grace: SimDuration,
    /// The pods' `cluster-autoscaler.kubernetes.io/safe-to-evict` annotation: when false, the
    /// Cluster Autoscaler never removes a node running one of them (upstream's
    /// `NotSafeToEvictAnnotation` drainability rule), as batch work is often marked.
    pub safe_to_evict: bool,
    /// Where its pods come from.
    pub pods: JobPods,
}

/// Where a Job's pods come from.
#[derive(Debug, Clone, PartialEq)]
pub enum JobPods {
    /// A Job object: `completions` pods must succeed, at most `parallelism` run at once.
    Template(JobTemplate),
    /// A recorded pod trace, sorted by creation time (stable, so equal times keep file order).
    Trace(Arc<[TracePod]>),
}

/// A Job of identical pods (`batch/v1` Job, non-indexed, with `completions` set).
#[derive(Debug, Clone, PartialEq)]
pub struct JobTemplate {
    /// When the Job object is created, from the start of the run.
    pub start: SimDuration,
    /// Pods that must succeed (`spec.completions`, at least 1).
    pub completions: u32,
    /// Pods that may run at once (`spec.parallelism`, at least 1).
    pub parallelism: u32,
    /// How long one pod's containers run before they exit successfully.
    pub run_time: DurationDist,
}

/// One pod of a recorded trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TracePod {
    /// When it is created, from the start of the run.
    pub created_at: SimDuration,
    /// How long its containers run once started; `None` when the trace never saw it end (it
    /// runs to the end of the run).
    pub run_time: Option<SimDuration>,
    /// Its requests (CPU, memory and extended resources such as GPUs).
    pub requests: Resources,
    /// The trace file's line the pod came from, for messages.
    pub line: u32,
}

/// How many pods the Job controller creates now (`manageJob` in `pkg/controller/job`): as many
/// as bring the active pods up to `min(parallelism, completions - succeeded)`. Active pods are
/// those not finished and not terminating: since Kubernetes 1.29 a terminating pod is replaced
/// at once (`podReplacementPolicy: TerminatingOrFailed`).
pub fn pods_to_create(template: &JobTemplate, succeeded: u32, active: u32) -> u32 {
    let remaining = template.completions.saturating_sub(succeeded);
    let want_active = remaining.min(template.parallelism);
    want_active.saturating_sub(active)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(completions: u32, parallelism: u32) -> JobTemplate {
        JobTemplate {
            start: SimDuration::ZERO,
            completions,
            parallelism,
            run_time: DurationDist::Constant(SimDuration::from_secs(1)),
        }
    }

    #[test]
    fn a_new_job_starts_parallelism_pods() {
        assert_eq!(pods_to_create(&template(10, 3), 0, 0), 3);
    }

    #[test]
    fn never_more_pods_than_completions_left() {
        assert_eq!(pods_to_create(&template(10, 3), 8, 1), 1);
        assert_eq!(pods_to_create(&template(10, 3), 9, 1), 0);
        assert_eq!(pods_to_create(&template(2, 5), 0, 0), 2);
    }

    #[test]
    fn a_finished_job_creates_nothing() {
        assert_eq!(pods_to_create(&template(4, 2), 4, 0), 0);
        assert_eq!(pods_to_create(&template(4, 2), 5, 0), 0);
    }

    #[test]
    fn a_finished_or_replaced_pod_is_topped_up() {
        assert_eq!(pods_to_create(&template(10, 3), 1, 2), 1);
        assert_eq!(pods_to_create(&template(10, 3), 0, 1), 2);
    }
}
