//! Batch Jobs and pod traces, run whole and checked against answers worked out by hand: pods
//! that fit wait nothing, pods that do not wait for the node the Cluster Autoscaler adds, a
//! trace's pods queue for the room earlier ones leave, quota and evictions are survived, and a
//! job's pods take the CPU they request from the services beside them.

use capsim::report::Summary;
use capsim::report::summary::JobSummary;

use crate::util::{TempDir, assert_success, run_yaml, scenario, simulate};

/// One 4-CPU, 16 GiB node type whose whole capacity is allocatable, so that hand counts are
/// whole numbers.
const POOL: &str = r#"
    machine_type: {cpu: 4, memory: 16Gi, price_per_hour: 0.2}
    allocatable: {cpu: 4, memory: 16Gi}"#;

fn job<'a>(summary: &'a Summary, name: &str) -> &'a JobSummary {
    summary
        .jobs
        .get(name)
        .unwrap_or_else(|| panic!("no job {name} in {:?}", summary.jobs.keys()))
}

#[test]
fn pods_that_fit_start_at_once_and_parallelism_paces_the_rest() {
    let yaml = format!(
        r#"
name: jobs-fit
duration: 1h
node_pools:
  batch:{POOL}
    initial_size: 2
jobs:
  etl:
    resources: {{requests: {{cpu: "1", memory: 1Gi}}}}
    start: 60s
    completions: 12
    parallelism: 8
    run_time: 100s
"#
    );
    let out = simulate(&scenario(&yaml));
    let etl = job(&out.summary, "etl");
    // 8 pods fill both nodes at 60 s and run to 160 s; the last 4 run from 160 s to 260 s.
    assert_eq!(
        (etl.pods.submitted, etl.pods.started, etl.pods.completed),
        (12, 12, 12)
    );
    let delay = etl.scheduling_delay_s.expect("pods were bound");
    assert_eq!((delay.p50, delay.p99, delay.max), (0.0, 0.0, 0.0));
    assert_eq!(etl.pending_pod_seconds, 0.0);
    assert_eq!(etl.running_pods.max, 8);
    // (8 pods × 100 s + 4 pods × 100 s) over 3600 s.
    assert_eq!(etl.running_pods.mean, 0.3333);
    assert_eq!(etl.nodes_requested, 0);
}

#[test]
fn pods_that_do_not_fit_wait_for_the_cluster_autoscalers_node() {
    let yaml = format!(
        r#"
name: jobs-ca
duration: 1h
node_pools:
  batch:{POOL}
    initial_size: 1
    autoscaling: {{min_nodes: 1, max_nodes: 3}}
    provisioning_delay: 90s
jobs:
  etl:
    resources: {{requests: {{cpu: "1", memory: 1Gi}}}}
    start: 65s
    completions: 8
    parallelism: 8
    run_time: 10m
autoscaling:
  cluster_autoscaler: {{scan_interval: 10s}}
"#
    );
    let out = simulate(&scenario(&yaml));
    let etl = job(&out.summary, "etl");
    // At 65 s four pods fill the node and four wait; the scan at 70 s asks for one node,
    // which registers 90 s later, at 160 s: those four waited 95 s each.
    assert_eq!(
        (etl.pods.submitted, etl.pods.started, etl.pods.completed),
        (8, 8, 8)
    );
    let delay = etl.scheduling_delay_s.expect("pods were bound");
    assert_eq!((delay.p50, delay.p99, delay.max), (0.0, 95.0, 95.0));
    assert_eq!(delay.mean, 47.5);
    assert_eq!(etl.pending_pod_seconds, 380.0);
    assert_eq!(etl.nodes_requested, 1);
    assert_eq!(out.summary.node_pools["batch"].nodes_added, 1);
}

/// A pod trace in the layout of the Alibaba GPU cluster trace (`openb_pod_list_*.csv`).
const TRACE: &str = "\
name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time
a,2000,1024,0,0,,BE,Succeeded,0,100,0
b,2000,1024,0,0,,BE,Succeeded,10,110,10
c,2000,1024,0,0,,BE,Succeeded,20,75,25
d,1000,1024,0,0,,LS,Running,30,,
";

#[test]
fn a_pod_trace_queues_for_the_room_earlier_pods_leave() {
    let dir = TempDir::new("pod-trace");
    dir.write("pods.csv", TRACE);
    let yaml = format!(
        r#"
name: pod-trace
duration: 10m
node_pools:
  batch:{POOL}
    initial_size: 1
jobs:
  replay:
    trace: {{file: pods.csv}}
"#
    );
    let (output, out) = run_yaml(&dir, &yaml, &["--no-plots"]);
    assert_success(&output);
    let summary = Summary::read(&out.join("summary.json")).expect("a summary");
    let replay = job(&summary, "replay");
    // a (2 CPU) and b (2 CPU) fill the node at 0 s and 10 s; c and d wait. a ends at 100 s:
    // c (the older) takes its room and runs its 50 s (deletion 75 less scheduled 25); d fits
    // when b ends at 110 s and runs to the end (the trace never saw it end).
    assert_eq!(
        (
            replay.pods.submitted,
            replay.pods.started,
            replay.pods.completed
        ),
        (4, 4, 3)
    );
    let delay = replay.scheduling_delay_s.expect("pods were bound");
    assert_eq!((delay.p50, delay.p99, delay.max), (0.0, 80.0, 80.0));
    assert_eq!(delay.mean, 40.0);
    assert_eq!(replay.pending_pod_seconds, 160.0);
    assert_eq!(replay.running_pods.max, 2);
}

#[test]
fn a_quota_holds_a_job_back_and_its_controller_retries_until_done() {
    let yaml = format!(
        r#"
name: jobs-quota
duration: 1h
node_pools:
  batch:{POOL}
    initial_size: 2
quotas:
  batch: {{pods: 2}}
jobs:
  etl:
    namespace: batch
    resources: {{requests: {{cpu: "1", memory: 1Gi}}}}
    completions: 6
    parallelism: 4
    run_time: 5m
"#
    );
    let out = simulate(&scenario(&yaml));
    let etl = job(&out.summary, "etl");
    // Never more than two pods at once: three rounds of two, 5 minutes each.
    assert_eq!((etl.pods.submitted, etl.pods.completed), (6, 6));
    assert!(etl.pods.quota_rejected > 0, "{etl:?}");
    assert_eq!(etl.running_pods.max, 2);
    assert_eq!(
        out.summary.quotas["batch"].rejected_pods,
        etl.pods.quota_rejected
    );
}

#[test]
fn evicted_job_pods_are_replaced_and_the_job_still_completes() {
    let yaml = r#"
name: jobs-spot
seed: 3
duration: 12h
node_pools:
  spot:
    machine_type: {cpu: 4, memory: 16Gi, price_per_hour: 0.2, spot_price_per_hour: 0.06}
    allocatable: {cpu: 4, memory: 16Gi}
    initial_size: 2
    spot: true
    preemption: {mean_lifetime: 30m}
    provisioning_delay: 60s
jobs:
  etl:
    resources: {requests: {cpu: "1", memory: 1Gi}}
    completions: 12
    parallelism: 4
    run_time: 20m
"#;
    let out = simulate(&scenario(yaml));
    let etl = job(&out.summary, "etl");
    assert!(
        etl.pods.evicted > 0,
        "the Spot nodes were preempted: {etl:?}"
    );
    assert_eq!(etl.pods.completed, 12, "{etl:?}");
    // Every eviction is replaced by one new pod that runs its whole time again.
    assert_eq!(etl.pods.submitted, 12 + etl.pods.evicted, "{etl:?}");
}

#[test]
fn a_running_job_takes_its_cpu_request_from_a_busy_neighbour() {
    let yaml = |with_job: bool| {
        let job = if with_job {
            r#"
jobs:
  crunch:
    resources: {requests: {cpu: "3", memory: 1Gi}}
    run_time: 2h
"#
        } else {
            ""
        };
        format!(
            r#"
name: jobs-cpu
duration: 10m
node_pools:
  one:{POOL}
    initial_size: 1
services:
  web:
    replicas: 1
    resources: {{requests: {{cpu: 500m, memory: 1Gi}}}}
    server: {{concurrency: 4, cpu_per_worker: 1, queue_limit: 100}}
    load:
      arrivals: {{rate: 1000}}
      service_time: 10ms
{job}"#
        )
    };
    let alone = simulate(&scenario(&yaml(false)));
    let beside = simulate(&scenario(&yaml(true)));
    let used = |s: &Summary| s.services["web"].cpu.used_cores_mean;
    // Alone, the saturated service uses the node's 4 cores. Beside a job that wants its
    // 3-core request, CFS gives the job its request (its shares are 6 times the service's)
    // and the service the 1 core left.
    assert!(used(&alone.summary) > 3.9, "{}", used(&alone.summary));
    let shared = used(&beside.summary);
    assert!((0.95..=1.0 + 1e-9).contains(&shared), "{shared}");
}

#[test]
fn pods_not_safe_to_evict_keep_the_cluster_autoscaler_from_consolidating_their_nodes() {
    let yaml = |safe: bool| {
        format!(
            r#"
name: jobs-safe-to-evict
duration: 1h
node_pools:
  batch:{POOL}
    initial_size: 2
    autoscaling: {{min_nodes: 1, max_nodes: 2}}
jobs:
  train:
    resources: {{requests: {{cpu: "1", memory: 1Gi}}}}
    completions: 2
    parallelism: 2
    run_time: 3h
    safe_to_evict: {safe}
autoscaling:
  cluster_autoscaler: {{scan_interval: 10s}}
"#
        )
    };
    // One pod on each node, each node 25% requested: the Cluster Autoscaler moves one pod to
    // the other node and removes the first, unless the pods are not safe to evict.
    let evictable = simulate(&scenario(&yaml(true))).summary;
    assert_eq!(job(&evictable, "train").pods.evicted, 1);
    assert_eq!(evictable.node_pools["batch"].nodes.min, 1);
    let kept = simulate(&scenario(&yaml(false))).summary;
    assert_eq!(job(&kept, "train").pods.evicted, 0);
    assert_eq!(kept.node_pools["batch"].nodes.min, 2);
}

#[test]
fn a_sweep_over_a_job_setting_gives_the_same_tables_for_any_thread_count() {
    let dir = TempDir::new("jobs-sweep");
    let tables = |out: &str, threads: &str| {
        let out_dir = dir.path().join(out);
        let output = crate::util::capsim(
            crate::util::repo_root(),
            &[
                "sweep",
                "scenarios/batch-jobs.yaml",
                "--param",
                "jobs.nightly-etl.parallelism=2,4",
                "--replications",
                "2",
                "--jobs",
                threads,
                "-q",
                "--no-plots",
                "--out",
                out_dir.to_str().unwrap_or(""),
            ],
        );
        assert_success(&output);
        let read = |name: &str| std::fs::read_to_string(out_dir.join(name)).unwrap_or_default();
        (read("sweep.csv"), read("points.csv"))
    };
    let one = tables("one", "1");
    let two = tables("two", "2");
    assert_eq!(one, two);
    // The job's figures are columns of the tables.
    let header = one.1.lines().next().unwrap_or("");
    assert!(
        header.contains("jobs.nightly-etl.scheduling_delay_s.p99"),
        "{header}"
    );
}

#[test]
fn trace_pods_that_fit_no_node_wait_for_the_cluster_autoscalers_node() {
    let dir = TempDir::new("pod-trace-ca");
    dir.write(
        "pods.csv",
        "\
name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time
a,2000,1024,0,0,,BE,Running,0,,
b,2000,1024,0,0,,BE,Running,10,,
c,2000,1024,0,0,,BE,Running,25,,
d,1000,1024,0,0,,BE,Running,35,,
",
    );
    let yaml = format!(
        r#"
name: pod-trace-ca
duration: 10m
node_pools:
  batch:{POOL}
    initial_size: 1
    autoscaling: {{min_nodes: 1, max_nodes: 3}}
    provisioning_delay: 90s
jobs:
  replay:
    trace: {{file: pods.csv}}
autoscaling:
  cluster_autoscaler: {{scan_interval: 10s}}
"#
    );
    let (output, out) = run_yaml(&dir, &yaml, &["--no-plots"]);
    assert_success(&output);
    let summary = Summary::read(&out.join("summary.json")).expect("a summary");
    let replay = job(&summary, "replay");
    // a and b fill the node. c (25 s) is seen by the scan at 30 s, which asks for a node;
    // d (35 s) fits that upcoming node beside c, so the scan at 40 s asks for none. The node
    // registers at 120 s and both bind: c waited 95 s, d 85 s.
    let delay = replay.scheduling_delay_s.expect("pods were bound");
    assert_eq!(
        (delay.p50, delay.p99, delay.max, delay.mean),
        (0.0, 95.0, 95.0, 45.0)
    );
    assert_eq!(replay.pending_pod_seconds, 180.0);
    assert_eq!(replay.nodes_requested, 1);
    assert_eq!(summary.node_pools["batch"].nodes_added, 1);
    assert_eq!((replay.pods.started, replay.pods.completed), (4, 0));
}
