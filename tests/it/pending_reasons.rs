//! Why Pending pods waited (`unschedulable.pod_seconds_by_reason`), against answers worked out
//! by hand: each wait counts under one reason at a time, so the reasons sum to
//! `pending_pod_seconds`. The Cluster Autoscaler's reasons take over from the scheduler's at
//! its scans (every 10 s here, the first at 10 s).

use capsim::controllers::cluster_autoscaler::verdicts::{
    IN_BACKOFF, MAX_NODE_GROUP_SIZE, NO_NODE_GROUP_FITS, WAITING_FOR_NODE,
};
use capsim::report::summary::Unschedulable;

use crate::util::{scenario, simulate};

/// One 4-CPU, 16 GiB node type whose whole capacity is allocatable.
const POOL: &str = r#"
    machine_type: {cpu: 4, memory: 16Gi, price_per_hour: 0.2}
    allocatable: {cpu: 4, memory: 16Gi}"#;

fn reasons(u: &Unschedulable) -> Vec<(&str, f64)> {
    (u.pod_seconds_by_reason.iter())
        .map(|(r, &s)| (r.as_str(), s))
        .collect()
}

/// A 4-CPU pool `batch` of one node, autoscaled as `autoscaling` says (`pools` adds pools),
/// and a Job of eight 1-CPU pods created at 65 s (`extra` adds to the job), for `duration`.
fn etl(duration: &str, autoscaling: &str, pools: &str, extra: &str) -> String {
    format!(
        r#"
name: reasons-ca
duration: {duration}
node_pools:
  batch:{POOL}
    initial_size: 1
    autoscaling: {autoscaling}{pools}
jobs:
  etl:
    resources: {{requests: {{cpu: "1", memory: 1Gi}}}}
    start: 65s
    completions: 8
    parallelism: 8
    run_time: 30m{extra}
autoscaling:
  cluster_autoscaler: {{scan_interval: 10s}}
"#
    )
}

#[test]
fn pods_wait_for_cpu_until_the_scan_that_asks_for_their_node() {
    let yaml = etl(
        "1h",
        "{min_nodes: 1, max_nodes: 3}\n    provisioning_delay: 90s",
        "",
        "",
    );
    let out = simulate(&scenario(&yaml));
    let etl = &out.summary.jobs["etl"];
    // At 65 s four pods fill the node and four wait, 0/1 nodes having the CPU, until the node
    // the scan at 70 s asked for registers at 160 s: 4 × 95 s, of which 4 × 5 s before the scan
    // and 4 × 90 s after it.
    assert_eq!(etl.pending_pod_seconds, 380.0);
    assert_eq!(
        reasons(&etl.unschedulable),
        [(WAITING_FOR_NODE, 360.0), ("Insufficient cpu", 20.0)]
    );
}

#[test]
fn pods_a_pool_at_its_maximum_cannot_take_wait_for_its_size() {
    let out = simulate(&scenario(&etl(
        "5m",
        "{min_nodes: 1, max_nodes: 1}",
        "",
        "",
    )));
    let etl = &out.summary.jobs["etl"];
    // Four pods wait from 65 s to the end at 300 s (the first four run 30 minutes): 4 × 235 s,
    // 4 × 5 s for CPU until the scan at 70 s finds the pool at its maximum, 4 × 230 s after.
    assert_eq!(etl.pending_pod_seconds, 940.0);
    assert_eq!(
        reasons(&etl.unschedulable),
        [(MAX_NODE_GROUP_SIZE, 920.0), ("Insufficient cpu", 20.0)]
    );
}

#[test]
fn pods_no_autoscaled_pool_can_take_wait_for_a_pool_that_fits() {
    // Only pool ssd, of no node and not autoscaled, has the label the pods select.
    let ssd = format!("\n  ssd:{POOL}\n    initial_size: 0\n    labels: {{disk: ssd}}");
    let job = "\n    node_selector: {disk: ssd}";
    let out = simulate(&scenario(&etl(
        "5m",
        "{min_nodes: 1, max_nodes: 3}",
        &ssd,
        job,
    )));
    let etl = &out.summary.jobs["etl"];
    // No node has the label: all eight pods wait from 65 s to 300 s, 8 × 235 s, the selector's
    // reason until the scan at 70 s finds no autoscaled pool whose nodes would fit, 8 × 5 s.
    assert_eq!(etl.pending_pod_seconds, 1_880.0);
    assert_eq!(
        reasons(&etl.unschedulable),
        [
            (NO_NODE_GROUP_FITS, 1_840.0),
            ("node(s) didn't match Pod's node affinity/selector", 40.0)
        ]
    );
}

#[test]
fn a_scale_up_that_times_out_leaves_the_pods_waiting_for_the_backoff() {
    // The node takes 20 minutes; the autoscaler gives up on it at the first scan more than 15
    // minutes after asking (70 s + 900 s < 980 s) and backs the pool off for 5 minutes, past
    // the end at 1,200 s.
    let pool = "{min_nodes: 1, max_nodes: 3}\n    provisioning_delay: 20m";
    let out = simulate(&scenario(&etl("20m", pool, "", "")));
    let etl = &out.summary.jobs["etl"];
    // Four pods wait from 65 s to 1,200 s: 4 × 1,135 s; 4 × 5 s for CPU, 4 × 910 s for the
    // node, 4 × 220 s for the backoff.
    assert_eq!(etl.pending_pod_seconds, 4_540.0);
    assert_eq!(
        reasons(&etl.unschedulable),
        [
            (WAITING_FOR_NODE, 3_640.0),
            (IN_BACKOFF, 880.0),
            ("Insufficient cpu", 20.0)
        ]
    );
}

#[test]
fn a_selector_no_node_matches_is_the_whole_wait_and_others_wait_for_nothing() {
    let yaml = format!(
        r#"
name: reasons-affinity
duration: 10m
warmup: 1m
node_pools:
  general:{POOL}
    initial_size: 2
  ssd:{POOL}
    initial_size: 0
    labels: {{disk: ssd}}
services:
  ssd:
    replicas: 2
    node_selector: {{disk: ssd}}
    resources: {{requests: {{cpu: "1", memory: 1Gi}}}}
    load: {{arrivals: {{rate: 1}}, service_time: {{distribution: exponential, mean: 10ms}}}}
  web:
    replicas: 2
    resources: {{requests: {{cpu: "1", memory: 1Gi}}}}
    load: {{arrivals: {{rate: 1}}, service_time: {{distribution: exponential, mean: 10ms}}}}
"#
    );
    let out = simulate(&scenario(&yaml));
    let ssd = &out.summary.services["ssd"];
    // The only pool with the label has no node and no autoscaling: the two general nodes
    // refuse the pods, which wait the whole measured window of 9 minutes: 2 × 540 s.
    assert_eq!(ssd.pending_pod_seconds, 1_080.0);
    assert_eq!(
        reasons(&ssd.unschedulable),
        [("node(s) didn't match Pod's node affinity/selector", 1_080.0)]
    );
    let web = &out.summary.services["web"];
    assert_eq!(web.pending_pod_seconds, 0.0);
    assert!(web.unschedulable.pod_seconds_by_reason.is_empty());
}

#[test]
fn a_tie_between_reasons_goes_to_the_first_in_the_message() {
    // Node a has 4 CPUs, node b (tainted) 4. A 3-CPU pod of `big` fits a, and big's second
    // pod finds a short of CPU and b tainted: one node each, the tie to the first reason of
    // the message ("Insufficient cpu" sorts before "node(s) had untolerated taint").
    let yaml = format!(
        r#"
name: reasons-tie
duration: 10m
warmup: 0s
node_pools:
  a:{POOL}
    initial_size: 1
  b:{POOL}
    initial_size: 1
    taints: [{{key: dedicated, value: gpu, effect: NoSchedule}}]
services:
  big:
    replicas: 2
    resources: {{requests: {{cpu: "3", memory: 1Gi}}}}
    load: {{arrivals: {{rate: 1}}, service_time: {{distribution: exponential, mean: 10ms}}}}
"#
    );
    let out = simulate(&scenario(&yaml));
    let big = &out.summary.services["big"];
    // One pod waits the whole 600 s.
    assert_eq!(big.pending_pod_seconds, 600.0);
    assert_eq!(reasons(&big.unschedulable), [("Insufficient cpu", 600.0)]);
}

#[test]
fn a_scheduling_attempt_after_the_scan_gives_the_schedulers_reason_back() {
    // Four 900m pods of web leave 400m of the one node, where the job's 100m pod runs from 0 s
    // to 105 s; web's fifth pod waits the whole 300 s. When the job's pod leaves at 105 s, the
    // fifth pod is tried again and finds 500m, short of CPU again.
    let yaml = format!(
        r#"
name: reasons-attempt
duration: 5m
warmup: 0s
node_pools:
  batch:{POOL}
    initial_size: 1
    autoscaling: {{min_nodes: 1, max_nodes: 1}}
services:
  web:
    replicas: 5
    resources: {{requests: {{cpu: 900m, memory: 1Gi}}}}
    load: {{arrivals: {{rate: 1}}, service_time: {{distribution: exponential, mean: 10ms}}}}
jobs:
  short:
    resources: {{requests: {{cpu: 100m, memory: 1Gi}}}}
    image_pull: 0s
    start: 0s
    completions: 1
    parallelism: 1
    run_time: 105s
autoscaling:
  cluster_autoscaler: {{scan_interval: 10s}}
"#
    );
    let out = simulate(&scenario(&yaml));
    let web = &out.summary.services["web"];
    // The scheduler's reason from 0 s to the scan at 10 s and from the attempt at 105 s to the
    // scan at 110 s: 15 s; the pool's maximum the other 285 s.
    assert_eq!(web.pending_pod_seconds, 300.0);
    assert_eq!(
        reasons(&web.unschedulable),
        [(MAX_NODE_GROUP_SIZE, 285.0), ("Insufficient cpu", 15.0)]
    );
}

#[test]
fn pods_the_quota_refused_count_apart_from_pending_pods() {
    let yaml = format!(
        r#"
name: reasons-quota
duration: 5m
warmup: 0s
node_pools:
  batch:{POOL}
    initial_size: 2
services:
  web:
    namespace: team
    replicas: 5
    resources: {{requests: {{cpu: 500m, memory: 1Gi}}}}
    load: {{arrivals: {{rate: 1}}, service_time: {{distribution: exponential, mean: 10ms}}}}
jobs:
  etl:
    namespace: batch
    resources: {{requests: {{cpu: 500m, memory: 1Gi}}}}
    start: 65s
    completions: 8
    parallelism: 8
    run_time: 30m
quotas:
  team: {{pods: 3}}
  batch: {{pods: 2}}
"#
    );
    let out = simulate(&scenario(&yaml));
    // web: three pods run, two are refused at 0 s and at every retry: 2 × 300 s, no pod pending.
    let web = &out.summary.services["web"];
    assert_eq!(web.unschedulable.quota_refused_seconds, 600.0);
    assert_eq!(web.pending_pod_seconds, 0.0);
    assert!(web.unschedulable.pod_seconds_by_reason.is_empty());
    // etl: two pods run from 65 s, six refused until the end: 6 × 235 s.
    let etl = &out.summary.jobs["etl"];
    assert_eq!(etl.unschedulable.quota_refused_seconds, 1_410.0);
    assert_eq!(etl.pending_pod_seconds, 0.0);
}
