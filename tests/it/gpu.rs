//! Extended resources (`nvidia.com/gpu`): a pod that asks for GPUs lands only on nodes that
//! offer them, never more pods than GPUs, and makes the Cluster Autoscaler grow a GPU pool.

use capsim::report::{ClusterEvent, Collect, EventKind};
use capsim::scenario::Scenario;
use capsim::simulation::Simulation;

use crate::util::scenario;

fn run(yaml: &str) -> Collect {
    let s = scenario(yaml);
    let mut seen = Collect::default();
    Simulation::new(&s).run(&mut seen);
    seen
}

fn events(seen: &Collect, kind: EventKind, service: &str) -> Vec<ClusterEvent> {
    seen.events
        .iter()
        .filter(|e| e.event == kind && e.service.as_deref().is_none_or(|s| s == service))
        .cloned()
        .collect()
}

/// A CPU pool of `cpu_nodes` and a GKE L4 pool of `gpu_nodes`, with `gpu_replicas` pods of
/// one GPU each and two CPU-only pods.
fn cluster(cpu_nodes: u32, gpu_nodes: u32, gpu_replicas: u32) -> String {
    format!(
        r#"
name: gpu
seed: 4
duration: 10m
node_pools:
  cpu:
    machine_type: n2-standard-8
    initial_size: {cpu_nodes}
  gpu:
    machine_type: g2-standard-8
    initial_size: {gpu_nodes}
services:
  infer:
    replicas: {gpu_replicas}
    resources:
      requests: {{cpu: "2", memory: 8Gi}}
      limits: {{nvidia.com/gpu: 1}}
  web:
    replicas: 2
    resources: {{requests: {{cpu: "1", memory: 1Gi}}}}
"#
    )
}

/// The reason the scheduler gave the first time a pod of `service` found no node.
fn first_unschedulable_reason(seen: &Collect, service: &str) -> String {
    events(seen, EventKind::PodUnschedulable, service)
        .first()
        .and_then(|e| e.reason.clone())
        .unwrap_or_default()
}

#[test]
fn a_gpu_pod_stays_pending_where_no_node_has_a_gpu_left() {
    // The GPU pool has no node: the scheduler sees only the two CPU nodes.
    let seen = run(&cluster(2, 0, 1));
    assert!(events(&seen, EventKind::PodScheduled, "infer").is_empty());
    let reason = first_unschedulable_reason(&seen, "infer");
    assert_eq!(
        reason,
        "0/2 nodes are available: 2 Insufficient nvidia.com/gpu."
    );
}

#[test]
fn a_scenario_whose_gpu_service_fits_no_pool_is_rejected_naming_the_gpu() {
    let yaml =
        cluster(2, 1, 1).replace("machine_type: g2-standard-8", "machine_type: n2-standard-8");
    let message = Scenario::from_yaml_str(&yaml, "test.yaml")
        .map(|_| ())
        .expect_err("no pool offers a GPU")
        .to_string();
    assert!(message.contains("Insufficient nvidia.com/gpu"), "{message}");
    assert!(message.contains("nvidia.com/gpu 1"), "{message}");
}

#[test]
fn gpu_pods_land_only_on_the_gpu_pool_and_cpu_pods_stay_off_it() {
    let seen = run(&cluster(2, 2, 2));
    let on = |service: &str| -> Vec<String> {
        events(&seen, EventKind::PodScheduled, service)
            .iter()
            .filter(|e| e.service.as_deref() == Some(service))
            .filter_map(|e| e.node.clone())
            .collect()
    };
    let gpu_nodes = on("infer");
    assert_eq!(gpu_nodes.len(), 2, "{gpu_nodes:?}");
    assert!(
        gpu_nodes.iter().all(|n| n.starts_with("gpu-")),
        "{gpu_nodes:?}"
    );
    assert_ne!(gpu_nodes[0], gpu_nodes[1], "one GPU per node");
    // GKE's nvidia.com/gpu=present:NoSchedule taint keeps pods without GPUs away.
    let cpu_nodes = on("web");
    assert_eq!(cpu_nodes.len(), 2);
    assert!(
        cpu_nodes.iter().all(|n| n.starts_with("cpu-")),
        "{cpu_nodes:?}"
    );
}

#[test]
fn two_one_gpu_pods_on_a_one_gpu_node_leave_the_second_pending() {
    let seen = run(&cluster(1, 1, 2));
    let scheduled: Vec<ClusterEvent> = events(&seen, EventKind::PodScheduled, "infer")
        .into_iter()
        .filter(|e| e.service.as_deref() == Some("infer"))
        .collect();
    assert_eq!(scheduled.len(), 1, "{scheduled:?}");
    let reason = first_unschedulable_reason(&seen, "infer");
    // The CPU node has no GPU; the GPU node has none left (its 8 CPUs have room).
    assert_eq!(
        reason,
        "0/2 nodes are available: 2 Insufficient nvidia.com/gpu."
    );
}

#[test]
fn the_cluster_autoscaler_grows_the_gpu_pool_for_a_gpu_pod() {
    let yaml = r#"
name: gpu-ca
seed: 4
duration: 10m
node_pools:
  cpu:
    machine_type: n2-standard-8
    initial_size: 1
    autoscaling: {min_nodes: 1, max_nodes: 5}
  gpu:
    machine_type: g5.xlarge
    initial_size: 0
    autoscaling: {min_nodes: 0, max_nodes: 3}
services:
  infer:
    replicas: 2
    resources:
      requests: {cpu: "1", memory: 4Gi, nvidia.com/gpu: 1}
      limits: {nvidia.com/gpu: 1}
autoscaling:
  cluster_autoscaler: {scan_interval: 10s, expander: price}
"#;
    let seen = run(yaml);
    let added: Vec<String> = seen
        .events
        .iter()
        .filter(|e| e.event == EventKind::NodeAdded && e.time_s > 0.0)
        .filter_map(|e| e.pool.clone())
        .collect();
    // Two pods of one GPU: two g5.xlarge nodes; the cheaper CPU pool is never chosen, since its
    // template node has no GPU.
    assert_eq!(added, ["gpu", "gpu"]);
    let scheduled = events(&seen, EventKind::PodScheduled, "infer");
    assert_eq!(scheduled.len(), 2, "{scheduled:?}");
    assert!(
        scheduled
            .iter()
            .all(|e| e.node.as_deref().is_some_and(|n| n.starts_with("gpu-")))
    );
}

#[test]
fn import_gives_gpu_workloads_a_gpu_pool_of_the_same_provider() {
    let dir = crate::util::TempDir::new("import-gpu");
    let manifest = crate::util::repo_root().join("tests/data/manifests/staging.yaml");
    let output = crate::util::capsim(dir.path(), &["import", &manifest.display().to_string()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let yaml = String::from_utf8_lossy(&output.stdout).to_string();
    let file = dir.write("imported.yaml", &yaml);
    let s = Scenario::load(&file).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let pools: Vec<(&str, &str)> = s
        .node_pools
        .iter()
        .map(|p| (p.name.as_str(), p.machine.name.as_str()))
        .collect();
    // The cheapest machine for the CPU side is a GKE one, so the GPU pool is GKE's L4 type.
    assert_eq!(pools[1], ("gpu", "g2-standard-8"), "{yaml}");
    assert_eq!(s.node_pools[1].initial_size, 1);
    assert_eq!(s.services[0].pod.requests.extended.0[0], 1);
}

#[test]
fn the_cluster_autoscaler_keeps_a_gpu_node_by_its_gpu_and_removes_an_idle_one() {
    // Two g5.xlarge nodes (one A10G, 3920m allocatable CPU each): infer's pod takes one node's
    // GPU with 13% of its CPU; batch's pod, no GPU, takes 77% of the other's CPU. Judged by
    // cpu and memory, infer's node would go (its pod fits beside batch's). Judged by GPUs, as
    // upstream judges GPU nodes, infer's node is 100% used and stays, and batch's node, at 0%,
    // goes once scale-down may start (10 minutes after the start), batch's pod moving over.
    let yaml = r#"
name: gpu-scale-down
seed: 4
duration: 30m
node_pools:
  gpu:
    machine_type: g5.xlarge
    initial_size: 2
    autoscaling: {min_nodes: 1, max_nodes: 3}
services:
  infer:
    replicas: 1
    resources:
      requests: {cpu: 500m, memory: 2Gi, nvidia.com/gpu: 1}
      limits: {nvidia.com/gpu: 1}
  batch:
    replicas: 1
    resources: {requests: {cpu: "3", memory: 2Gi}}
autoscaling:
  cluster_autoscaler: {scan_interval: 10s, scale_down_unneeded_time: 2m}
"#;
    let seen = run(yaml);
    let node_of = |service: &str| {
        events(&seen, EventKind::PodScheduled, service)
            .first()
            .and_then(|e| e.node.clone())
            .unwrap_or_default()
    };
    let (infer_node, batch_node) = (node_of("infer"), node_of("batch"));
    assert_ne!(infer_node, batch_node);
    let removed: Vec<String> = events(&seen, EventKind::NodeRemoved, "")
        .iter()
        .filter_map(|e| e.node.clone())
        .collect();
    assert_eq!(removed, [batch_node]);
    assert!(events(&seen, EventKind::PodEvicted, "infer").is_empty());
    let draining = events(&seen, EventKind::NodeDraining, "");
    let reason = draining
        .first()
        .and_then(|e| e.reason.clone())
        .unwrap_or_default();
    assert!(
        reason.contains("nvidia.com/gpu 0.0% of allocatable requested (GPU threshold 50.0%"),
        "{reason}"
    );
    let rescheduled = events(&seen, EventKind::PodScheduled, "batch");
    assert_eq!(
        rescheduled.last().and_then(|e| e.node.clone()),
        Some(infer_node),
        "{rescheduled:?}"
    );
}

#[test]
fn a_gpu_quota_admits_as_many_one_gpu_pods_as_it_allows() {
    // Four GPU nodes would take all four replicas; the namespace's quota of two GPUs stops the
    // ReplicaSet at two.
    let yaml = cluster(1, 4, 4).replace(
        "  infer:\n    replicas",
        "  infer:\n    namespace: ml\n    replicas",
    ) + "quotas:\n  ml: {requests.nvidia.com/gpu: 2}\n";
    let s = scenario(&yaml);
    let mut seen = Collect::default();
    let out = Simulation::new(&s).run(&mut seen);
    let infer_scheduled = events(&seen, EventKind::PodScheduled, "infer")
        .into_iter()
        .filter(|e| e.service.as_deref() == Some("infer"))
        .count();
    assert_eq!(infer_scheduled, 2);
    assert_eq!(out.summary.services["infer"].replicas.max, 2);
    assert!(out.summary.quotas["ml"].rejected_pods > 0);
    let rejected = events(&seen, EventKind::QuotaRejected, "infer");
    let reason = rejected
        .first()
        .and_then(|e| e.reason.clone())
        .unwrap_or_default();
    assert_eq!(
        reason,
        "exceeded quota: ml, requested: requests.nvidia.com/gpu=1, \
         used: requests.nvidia.com/gpu=2, limited: requests.nvidia.com/gpu=2"
    );
}
