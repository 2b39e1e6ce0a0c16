//! Batch Jobs (`jobs.<name>`): the pod template, read as a service's, and either a Job's own
//! keys (`start`, `completions`, `parallelism`, `run_time`) or a pod trace, read whole by
//! `scenario::pod_trace`. Every problem of every job is reported at once.
//!
//! A template job's pod must fit an empty node of some pool, as a service's must; a trace's
//! rows need not (real traces hold pods no cluster could run): those that fit no pool are
//! counted in a warning.

use std::collections::HashMap;
use std::sync::Arc;

use crate::cluster::placement::PodPlacement;
use crate::cluster::pool::NodePool;
use crate::cluster::spec::{PodSpec, extended_index};
use crate::controllers::job::{JobPods, JobSpec, JobTemplate};
use crate::scenario::admission::{NVIDIA_GPU, trace_pod};
use crate::scenario::error::Error;
use crate::scenario::pod_trace::{self, Column, PodColumns, PodTrace, PodTraceOptions, RunColumns};
use crate::scenario::schema::{JobFile, NamedMap, PodTraceFile, Scalar};
use crate::units::{MAX_EXTENDED_RESOURCES, Resources, SimDuration};

use super::services::{fits_any_pool, show_resources};
use super::{Cx, MAX_REPLICAS, keep, none_of, optional};

/// What a job's `trace` needs besides the file: the pools its pods must fit and the run's end.
struct TraceTarget<'a> {
    pools: &'a [NodePool],
    until: SimDuration,
}

impl Cx<'_> {
    /// Validates every job, reporting the problems of all of them at once; `until` is the
    /// run's length (trace pods created later are dropped).
    pub(super) fn jobs(
        &self,
        jobs: &NamedMap<JobFile>,
        pools: &[NodePool],
        until: SimDuration,
    ) -> Result<Vec<JobSpec>, Error> {
        let target = TraceTarget { pools, until };
        let mut errors = Vec::new();
        let specs: Vec<Option<JobSpec>> = jobs
            .0
            .iter()
            .map(|(name, job)| keep(&mut errors, self.job(name, job, &target)))
            .collect();
        none_of(errors)?;
        Ok(specs.into_iter().flatten().collect())
    }

    /// One job at `jobs.<name>`, with every problem it has.
    fn job(&self, name: &str, j: &JobFile, target: &TraceTarget<'_>) -> Result<JobSpec, Error> {
        let path = format!("jobs.{name}");
        let mut errors = Vec::new();
        keep(&mut errors, self.dns_label(&path, "job", name));
        let namespace = keep(&mut errors, self.namespace(&path, j.namespace.as_ref()));
        let template = pod_template_of!(j);
        let pod = keep(
            &mut errors,
            self.pod_template(&path, &template, target.pools),
        );
        let image_pull = self.delay(&format!("{path}.image_pull"), j.image_pull.as_ref());
        let image_pull = keep(&mut errors, image_pull);
        let grace = self.termination_grace(&path, j.termination_grace_period.as_ref());
        let termination_grace = keep(&mut errors, grace);
        let labels = keep(
            &mut errors,
            self.labels(&format!("{path}.labels"), &j.labels),
        );
        keep(&mut errors, self.no_pod_rules(&path, j.affinity.as_ref()));
        let pods = match &j.trace {
            Some(trace) => self.trace_job(&path, j, trace, pod.as_ref(), target),
            None => self.template_job(&path, j, pod.as_ref(), target.pools),
        };
        let pods = keep(&mut errors, pods);
        none_of(errors)?;
        match (namespace, pod, image_pull, termination_grace, pods) {
            (
                Some(namespace),
                Some(mut pod),
                Some(image_pull),
                Some(termination_grace),
                Some(pods),
            ) => {
                pod.placement = Arc::new(PodPlacement {
                    namespace: namespace.clone(),
                    labels: job_pod_labels(name, labels.unwrap_or_default()),
                    ..PodPlacement::default()
                });
                Ok(JobSpec {
                    name: name.to_string(),
                    namespace,
                    pod,
                    image_pull,
                    termination_grace,
                    safe_to_evict: j.safe_to_evict.unwrap_or(true),
                    pods,
                })
            }
            // Every `None` left an error behind.
            _ => unreachable!("a job part is missing without an error"),
        }
    }

    /// A Job of identical pods: `start`, `completions`, `parallelism` and the required
    /// `run_time`; its pod (`None` when it had errors) must fit some pool.
    fn template_job(
        &self,
        path: &str,
        j: &JobFile,
        pod: Option<&PodSpec>,
        pools: &[NodePool],
    ) -> Result<JobPods, Error> {
        let mut errors = Vec::new();
        let start = self.optional_duration(
            &format!("{path}.start"),
            j.start.as_ref(),
            SimDuration::ZERO,
        );
        let start = keep(&mut errors, start);
        let count = |field: &str, value: Option<&Scalar>, max: u32| {
            optional(path, field, value, |p, s| {
                self.whole_u32(p, s, "count", 1, max)
            })
            .map(|v| v.unwrap_or(1))
        };
        let completions = count("completions", j.completions.as_ref(), u32::MAX);
        let completions = keep(&mut errors, completions);
        let parallelism = count("parallelism", j.parallelism.as_ref(), MAX_REPLICAS);
        let parallelism = keep(&mut errors, parallelism);
        let run_time = match &j.run_time {
            Some(d) => self.duration_dist(&format!("{path}.run_time"), d, true),
            None => Err(self.invalid(
                &format!("{path}.run_time"),
                "no run_time is given",
                "expected how long one pod runs, such as 10m or {distribution: lognormal, \
                 mean: 10m, p99: 30m}, or a pod trace instead (trace: {file: ...})",
            )),
        };
        let run_time = keep(&mut errors, run_time);
        if let Some(pod) = pod {
            keep(&mut errors, self.fits_some_pool(path, pod, pools));
        }
        none_of(errors)?;
        match (start, completions, parallelism, run_time) {
            (Some(start), Some(completions), Some(parallelism), Some(run_time)) => {
                Ok(JobPods::Template(JobTemplate {
                    start,
                    completions,
                    parallelism,
                    run_time,
                }))
            }
            _ => unreachable!("a template key is missing without an error"),
        }
    }

    /// A Job replayed from a pod trace: no template key beside it, then the file, read whole.
    fn trace_job(
        &self,
        path: &str,
        j: &JobFile,
        t: &PodTraceFile,
        pod: Option<&PodSpec>,
        target: &TraceTarget<'_>,
    ) -> Result<JobPods, Error> {
        let tpath = format!("{path}.trace");
        let conflicts: Vec<&str> = [
            ("start", j.start.is_some()),
            ("completions", j.completions.is_some()),
            ("parallelism", j.parallelism.is_some()),
            ("run_time", j.run_time.is_some()),
            ("resources", j.resources.is_some()),
        ]
        .iter()
        .filter(|(_, given)| *given)
        .map(|(key, _)| *key)
        .collect();
        if !conflicts.is_empty() {
            return Err(self.invalid(
                &tpath,
                format!("trace is given with {}", conflicts.join(", ")),
                "expected either trace (each row is a pod with its own creation time, run time \
                 and requests) or the template keys start, completions, parallelism, run_time \
                 and resources, not both",
            ));
        }
        let options = self.pod_trace_options(&tpath, t, target.until)?;
        let file = self.resolve(&t.file);
        let trace = match pod_trace::read(&file, &options) {
            Err(problem) => {
                return Err(self.invalid(
                    &format!("{tpath}.file"),
                    format!("\"{}\": {problem}", file.display()),
                    "expected a CSV (or .csv.gz) pod list, relative to the scenario file, with \
                     a header naming its columns",
                ));
            }
            Ok(read) => read?,
        };
        if trace.gpu_pods > 0 {
            let gpu = self.extended_index(&format!("{tpath}.gpu_column"), NVIDIA_GPU)?;
            debug_assert_eq!(
                gpu, options.gpu_slot,
                "the GPU slot was reserved before reading"
            );
        }
        if let Some(pod) = pod {
            self.warn_unfit_rows(
                &tpath,
                &file.display().to_string(),
                pod,
                &trace,
                target.pools,
            );
        }
        Ok(JobPods::Trace(trace.pods.into()))
    }

    /// `jobs.<name>.trace`'s keys: the columns (Alibaba's pod-list names by default), the
    /// start offset and the time scale.
    fn pod_trace_options(
        &self,
        tpath: &str,
        t: &PodTraceFile,
        until: SimDuration,
    ) -> Result<PodTraceOptions, Error> {
        let or = |key: &Option<String>, default: &str| key.clone().unwrap_or(default.to_string());
        let column = |key: &Option<String>, default: &str| Column {
            name: or(key, default),
            required: key.is_some(),
        };
        let run = match (&t.duration_column, &t.end_column, &t.scheduled_column) {
            (Some(duration), None, None) => RunColumns::Duration(duration.clone()),
            (Some(_), end, _) => {
                let key = if end.is_some() {
                    "end_column"
                } else {
                    "scheduled_column"
                };
                return Err(self.invalid(
                    &format!("{tpath}.{key}"),
                    format!("{key} is given with duration_column"),
                    "expected either duration_column (run times in seconds) or end_column \
                     with an optional scheduled_column (run time = deletion - scheduled or \
                     creation time)",
                ));
            }
            (None, end, scheduled) => RunColumns::Times {
                end: or(end, "deletion_time"),
                scheduled: column(scheduled, "scheduled_time"),
            },
        };
        let start = self.optional_duration(
            &format!("{tpath}.start"),
            t.start.as_ref(),
            SimDuration::ZERO,
        )?;
        let time_scale = match &t.time_scale {
            Some(s) => self.positive_count(&format!("{tpath}.time_scale"), s)?,
            None => 1.0,
        };
        Ok(PodTraceOptions {
            columns: PodColumns {
                time: or(&t.time_column, "creation_time"),
                run,
                cpu: or(&t.cpu_column, "cpu_milli"),
                memory: or(&t.memory_column, "memory_mib"),
                gpu: column(&t.gpu_column, "num_gpu"),
            },
            start,
            time_scale,
            until,
            gpu_slot: self.gpu_slot(),
        })
    }

    /// Where `nvidia.com/gpu` is, or will be once interned, in the scenario's extended
    /// resources (the last slot when the table is full: interning it then fails).
    fn gpu_slot(&self) -> usize {
        let names = self.extended.borrow();
        extended_index(&names, NVIDIA_GPU).unwrap_or(names.len().min(MAX_EXTENDED_RESOURCES - 1))
    }

    /// Warns, once for the trace at `tpath`, of the rows whose pod (the template `pod` with the
    /// row's requests) no empty node of any pool accepts: they would stay Pending.
    fn warn_unfit_rows(
        &self,
        tpath: &str,
        file: &str,
        pod: &PodSpec,
        trace: &PodTrace,
        pools: &[NodePool],
    ) {
        let mut template = pod.clone();
        template.extended_names = self.extended_names();
        let mut fits: HashMap<Resources, bool> = HashMap::new();
        let mut unfit = trace.pods.iter().filter(|row| {
            !*fits
                .entry(row.requests)
                .or_insert_with(|| fits_any_pool(&trace_pod(&template, row, pools), pools))
        });
        let Some(first) = unfit.next() else {
            return;
        };
        let (line, requests) = (first.line, first.requests);
        let count = 1 + unfit.count();
        self.warn(format!(
            "{}: {tpath}: {count} of {} pods of {file} fit no node pool's empty node (the first \
             at line {line}, requesting {}); they will stay Pending",
            self.origin,
            trace.pods.len(),
            show_resources(&requests, &trace_pod(&template, first, pools)),
        ));
    }
}

/// The labels a Job's pods carry: the Job controller's `job-name` and
/// `batch.kubernetes.io/job-name`, then the job's own `labels`.
fn job_pod_labels(name: &str, own: crate::cluster::spec::Labels) -> crate::cluster::spec::Labels {
    let mut labels = crate::cluster::spec::Labels::new();
    labels.insert("batch.kubernetes.io/job-name".into(), name.to_string());
    labels.insert("job-name".into(), name.to_string());
    labels.extend(own);
    labels
}
