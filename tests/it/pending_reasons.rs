//! Why Pending pods waited (`unschedulable.pod_seconds_by_reason`), against answers worked out
//! by hand: each wait counts under one reason at a time, so the reasons sum to
//! `pending_pod_seconds`.

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

#[test]
fn pods_waiting_for_the_cluster_autoscalers_node_wait_for_cpu() {
    let yaml = format!(
        r#"
name: reasons-ca
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
    let etl = &out.summary.jobs["etl"];
    // At 65 s four pods fill the node and four wait, 0/1 nodes having the CPU, until the node
    // the scan at 70 s asked for registers at 160 s: 4 × 95 s.
    assert_eq!(etl.pending_pod_seconds, 380.0);
    assert_eq!(reasons(&etl.unschedulable), [("Insufficient cpu", 380.0)]);
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
