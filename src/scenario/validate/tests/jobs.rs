//! Batch jobs (`jobs.<name>`): template jobs, pod traces, and a scenario of jobs only.

use super::{BASE, assert_rejected, load};
use crate::controllers::job::{JobPods, JobTemplate};
use crate::scenario::{Document, Error};
use crate::units::{DurationDist, SimDuration};

/// The hand-written pod list in Alibaba's layout, from the crate's folder (where tests run).
const SAMPLE: &str = "tests/data/pods/alibaba-sample.csv";

/// `BASE` with `jobs` appended.
fn with_jobs(jobs: &str) -> String {
    format!("{BASE}jobs:\n{jobs}")
}

/// A scenario of one pool and jobs only.
fn jobs_only(jobs: &str) -> String {
    format!(
        "name: batch\nduration: 2h\nnode_pools:\n  pool: {{machine_type: c2-standard-8}}\njobs:\n{jobs}"
    )
}

#[test]
fn a_template_job_reads_its_keys_and_defaults() {
    let s = load(&with_jobs(
        "  train:\n    namespace: ml\n    resources: {requests: {cpu: \"2\", memory: 4Gi}}\n    \
         start: 10m\n    completions: 20\n    parallelism: 4\n    run_time: 5m\n    \
         image_pull: 30s\n    labels: {app: train}\n",
    ))
    .expect("valid");
    let job = &s.jobs[0];
    assert_eq!((job.name.as_str(), job.namespace.as_str()), ("train", "ml"));
    assert_eq!(job.pod.requests.cpu.0, 2_000);
    assert_eq!(
        job.image_pull,
        DurationDist::Constant(SimDuration::from_secs(30))
    );
    assert_eq!(job.termination_grace, SimDuration::from_secs(30));
    assert_eq!(
        job.pods,
        JobPods::Template(JobTemplate {
            start: SimDuration::from_secs(600),
            completions: 20,
            parallelism: 4,
            run_time: DurationDist::Constant(SimDuration::from_secs(300)),
        })
    );
    assert!(
        s.namespaces.contains(&"ml".to_string()),
        "{:?}",
        s.namespaces
    );
}

#[test]
fn a_template_job_defaults_to_one_pod_now() {
    let s = load(&with_jobs("  once: {run_time: 1m}\n")).expect("valid");
    let JobPods::Template(t) = &s.jobs[0].pods else {
        panic!("a template job")
    };
    assert_eq!(
        (t.start, t.completions, t.parallelism),
        (SimDuration::ZERO, 1, 1)
    );
    assert_eq!(s.jobs[0].namespace, "default");
}

#[test]
fn a_trace_job_reads_the_alibaba_layout_with_no_keys() {
    let s = load(&with_jobs(&format!(
        "  replay:\n    trace: {{file: {SAMPLE}}}\n"
    )))
    .expect("valid");
    let JobPods::Trace(pods) = &s.jobs[0].pods else {
        panic!("a trace job")
    };
    assert_eq!(pods.len(), 10);
    assert!(pods.windows(2).all(|w| w[0].created_at <= w[1].created_at));
    // No pool offers GPUs, so the trace's GPU rows name the resource first.
    assert_eq!(
        &s.jobs[0].pod.extended_names[..],
        ["nvidia.com/gpu".to_string()]
    );
    let eight = pods
        .iter()
        .find(|p| p.line == 4)
        .map(|p| p.requests.extended.0);
    assert_eq!(eight, Some([8, 0, 0, 0]));
}

#[test]
fn trace_gpus_use_the_index_of_nvidia_gpu_in_the_scenario_table() {
    let yaml = with_jobs(&format!(
        "  replay:\n    trace: {{file: {SAMPLE}, time_scale: 2, start: 1m}}\n"
    ))
    .replace(
        "machine_type: c2-standard-8\n",
        "machine_type: c2-standard-8\n    allocatable: {example.com/fpga: 2}\n",
    );
    let s = load(&yaml).expect("valid");
    let names = ["example.com/fpga".to_string(), "nvidia.com/gpu".to_string()];
    assert_eq!(&s.jobs[0].pod.extended_names[..], names);
    assert_eq!(&s.services[0].pod.extended_names[..], names);
    let JobPods::Trace(pods) = &s.jobs[0].pods else {
        panic!("a trace job")
    };
    let eight = pods.iter().find(|p| p.line == 4);
    assert_eq!(eight.map(|p| p.requests.extended.0), Some([0, 8, 0, 0]));
    // Created at 300 s of the trace: 60 s + 300 s / 2.
    assert_eq!(
        eight.map(|p| p.created_at),
        Some(SimDuration::from_secs(210))
    );
}

#[test]
fn column_names_are_keys_and_a_cpu_only_trace_interns_no_gpu() {
    let s = load(&jobs_only(
        "  replay:\n    trace:\n      file: tests/data/pods/cpu-only.csv\n      \
         time_column: submit_s\n      duration_column: runtime_s\n      \
         cpu_column: cores_m\n      memory_column: mem_mb\n",
    ))
    .expect("valid");
    assert!(s.jobs[0].pod.extended_names.is_empty());
    let JobPods::Trace(pods) = &s.jobs[0].pods else {
        panic!("a trace job")
    };
    let first = pods.first().map(|p| (p.line, p.run_time, p.requests.cpu.0));
    assert_eq!(first, Some((3, Some(SimDuration::from_secs(120)), 500)));
    assert_rejected(
        &jobs_only(
            "  replay: {trace: {file: tests/data/pods/cpu-only.csv, time_column: submit_s, \
             duration_column: runtime_s, cpu_column: cores_m, memory_column: mem_mb, \
             gpu_column: gpus}}\n",
        ),
        &["jobs.replay.trace.file: \"tests/data/pods/cpu-only.csv\": line 1: no column \"gpus\""],
    );
}

#[test]
fn a_batch_only_scenario_validates() {
    let s = load(&jobs_only("  nightly: {run_time: 30m, completions: 3}\n")).expect("valid");
    assert!(s.services.is_empty());
    assert_eq!(s.jobs.len(), 1);
    assert_eq!(s.namespaces, ["default"]);
}

#[test]
fn a_scenario_needs_a_service_or_a_job() {
    let yaml = "name: t\nduration: 1h\nnode_pools:\n  p: {machine_type: c2-standard-8}\n";
    assert_rejected(
        yaml,
        &[
            "services: no service and no job is given",
            "expected at least one service",
            "or one batch job",
        ],
    );
}

#[test]
fn job_keys_are_checked_like_the_rest_of_the_file() {
    let cases: [(&str, &[&str]); 6] = [
        (
            "  j: {run_time: 1m, completions: 0}\n",
            &[
                "jobs.j.completions: \"0\" is out of range",
                "expected a whole number >= 1",
            ],
        ),
        (
            "  j: {run_time: 1m, parallelism: 0}\n",
            &[
                "jobs.j.parallelism: \"0\" is out of range",
                "from 1 to 150000",
            ],
        ),
        (
            "  j: {completions: 3}\n",
            &[
                "jobs.j.run_time: no run_time is given",
                "or a pod trace instead",
            ],
        ),
        (
            "  j: {run_time: 1m, resources: {requests: {cpu: \"64\"}}}\n",
            &["jobs.j: pod requesting cpu 64, memory 0 fits no node pool"],
        ),
        (
            "  j: {run_time: 1m, completion: 3}\n",
            &[
                "jobs.j: unknown field \"completion\"",
                "(did you mean \"completions\"?)",
            ],
        ),
        (
            "  Bad_Name: {run_time: 1m}\n",
            &["jobs.Bad_Name: \"Bad_Name\" is not a valid job name"],
        ),
    ];
    for (jobs, fragments) in cases {
        assert_rejected(&with_jobs(jobs), fragments);
    }
}

#[test]
fn trace_and_template_keys_conflict() {
    assert_rejected(
        &with_jobs(&format!(
            "  j:\n    trace: {{file: {SAMPLE}}}\n    completions: 2\n    run_time: 1m\n"
        )),
        &[
            "jobs.j.trace: trace is given with completions, run_time",
            "expected either trace",
        ],
    );
    assert_rejected(
        &with_jobs(&format!(
            "  j: {{trace: {{file: {SAMPLE}, duration_column: d, end_column: e}}}}\n"
        )),
        &["jobs.j.trace.end_column: end_column is given with duration_column"],
    );
    assert_rejected(
        &with_jobs(&format!(
            "  j: {{trace: {{file: {SAMPLE}, time_scale: 0}}}}\n"
        )),
        &["jobs.j.trace.time_scale: \"0\" is zero"],
    );
}

#[test]
fn a_bad_trace_row_is_named_by_file_line_and_column() {
    let err = load(&with_jobs(&format!(
        "  j: {{trace: {{file: {SAMPLE}, cpu_column: gpu_spec}}}}\n"
    )))
    .unwrap_err();
    assert!(matches!(err, Error::Trace { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "{SAMPLE}: line 2: column gpu_spec: \"V100M32\" is not a number >= 0; expected millicores"
        )),
        "{text}"
    );
    let missing = load(&with_jobs("  j: {trace: {file: no/such.csv}}\n")).unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("jobs.j.trace.file: \"no/such.csv\": cannot read it"),
        "{missing}"
    );
}

#[test]
fn every_job_error_is_reported_at_once() {
    let err = load(&with_jobs(
        "  a: {run_time: 1m, completions: 0, parallelism: 0}\n  b: {completions: 2}\n",
    ))
    .unwrap_err();
    let text = err.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].contains("jobs.a.completions"), "{text}");
    assert!(lines[1].contains("jobs.a.parallelism"), "{text}");
    assert!(lines[2].contains("jobs.b.run_time"), "{text}");
}

#[test]
fn trace_rows_that_fit_no_pool_are_a_warning_not_an_error() {
    let yaml = jobs_only(&format!("  replay: {{trace: {{file: {SAMPLE}}}}}\n"));
    let document = Document::from_yaml_str(&yaml, "x.yaml").expect("YAML");
    let (s, warnings) = document.scenario_with_warnings().expect("valid");
    assert_eq!(s.jobs.len(), 1);
    // c2-standard-8 has no GPU and under 8 cores: only the 4 CPU rows under 8 cores fit.
    assert_eq!(
        warnings,
        [format!(
            "x.yaml: jobs.replay.trace: 7 of 10 pods of {SAMPLE} fit no node pool's empty node \
             (the first at line 5, requesting cpu 2, memory 4Gi, nvidia.com/gpu 1); they will \
             stay Pending"
        )]
    );
}

#[test]
fn naming_a_service_in_a_scenario_of_jobs_only_says_there_is_none() {
    assert_rejected(
        &format!(
            "{}autoscaling:\n  hpa:\n    web: {{maxReplicas: 3}}\n",
            jobs_only("  j: {run_time: 1m}\n")
        ),
        &[
            "autoscaling.hpa.web: unknown service \"web\"; expected the name of a service, but the scenario has none",
        ],
    );
}

#[test]
fn a_quota_must_admit_a_template_jobs_pod() {
    let yaml = format!(
        "{}quotas:\n  batch: {{requests.cpu: \"1\"}}\n",
        jobs_only("  j: {namespace: batch, run_time: 1m, resources: {requests: {cpu: \"2\"}}}\n")
    );
    assert_rejected(
        &yaml,
        &["jobs.j.resources.requests.cpu: 2 per pod is more than the whole quota requests.cpu 1"],
    );
    let zero = format!(
        "{}quotas:\n  batch: {{pods: 0}}\n",
        jobs_only("  j: {namespace: batch, run_time: 1m}\n")
    );
    assert_rejected(
        &zero,
        &["quotas.batch.pods: \"0\" admits no pod, but job j wants at least one pod"],
    );
}

#[test]
fn gpu_trace_pods_get_gkes_gpu_toleration_and_fit_the_gpu_pool() {
    let yaml = jobs_only(&format!("  replay: {{trace: {{file: {SAMPLE}}}}}\n")).replace(
        "node_pools:\n",
        "node_pools:\n  gpu: {machine_type: g2-standard-8}\n",
    );
    let document = Document::from_yaml_str(&yaml, "x.yaml").expect("YAML");
    let (s, warnings) = document.scenario_with_warnings().expect("valid");
    // One L4 and under 8 cores per GPU node: the rows with more GPUs or cores still fit nowhere.
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].contains("5 of 10 pods") && warnings[0].contains("the first at line 2,"),
        "{warnings:?}"
    );
    let JobPods::Trace(pods) = &s.jobs[0].pods else {
        panic!("a trace job")
    };
    let job = &s.jobs[0];
    let gpu_row = pods.iter().find(|p| p.line == 5).expect("line 5");
    let cpu_row = pods.iter().find(|p| p.line == 3).expect("line 3");
    let tolerates_gpu = |pod: &crate::cluster::spec::PodSpec| {
        pod.tolerations.iter().any(|t| t.key == "nvidia.com/gpu")
    };
    use crate::scenario::admission::trace_pod;
    assert!(tolerates_gpu(&trace_pod(&job.pod, gpu_row, &s.node_pools)));
    assert!(!tolerates_gpu(&trace_pod(&job.pod, cpu_row, &s.node_pools)));
    assert!(
        !tolerates_gpu(&job.pod),
        "the shared template gets no GPU toleration"
    );
}

#[test]
fn the_top_level_fields_include_jobs() {
    let yaml = jobs_only("  j: {run_time: 1m}\n").replace("jobs:\n", "job:\n");
    assert_rejected(
        &yaml,
        &[
            "unknown field \"job\"",
            "\"jobs\"",
            "(did you mean \"jobs\"?)",
        ],
    );
}
