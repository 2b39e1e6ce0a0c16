//! Extended resources (`nvidia.com/gpu`): Kubernetes' rules for them in requests and limits,
//! pools that offer them, and the scenario's table of their names.

use super::{BASE, assert_rejected, base_with, load};
use crate::cluster::spec::{TaintEffect, TolerationOperator};

/// `BASE` with a GKE L4 pool added and `web`'s resources replaced by `resources`.
fn with_gpu_pool(resources: &str) -> String {
    base_with("requests: {cpu: 500m, memory: 1Gi}", resources).replace(
        "node_pools:\n",
        "node_pools:\n  gpu:\n    machine_type: g2-standard-8\n",
    )
}

#[test]
fn a_gpu_limit_sets_the_request_and_the_gpu_pool_offers_it() {
    let s = load(&with_gpu_pool(
        "requests: {cpu: 500m}\n      limits: {nvidia.com/gpu: 1}",
    ))
    .expect("valid");
    let pod = &s.services[0].pod;
    assert_eq!(&pod.extended_names[..], ["nvidia.com/gpu".to_string()]);
    assert_eq!(pod.requests.extended.0, [1, 0, 0, 0]);
    assert_eq!(pod.limits.extended.0, [1, 0, 0, 0]);
    let gpu = &s.node_pools[0];
    assert_eq!(gpu.machine.capacity.extended.0[0], 1);
    assert_eq!(gpu.allocatable.extended.0[0], 1);
    assert!(s.node_pools[1].allocatable.extended.is_zero());
    // GKE taints GPU pools, labels them with the GPU model, and its ExtendedResourceToleration
    // admission plugin gives GPU pods the matching toleration.
    let taint = &gpu.taints[0];
    assert_eq!(
        (taint.key.as_str(), taint.value.as_str(), taint.effect),
        ("nvidia.com/gpu", "present", TaintEffect::NoSchedule)
    );
    assert_eq!(
        gpu.labels
            .get("cloud.google.com/gke-accelerator")
            .map(String::as_str),
        Some("nvidia-l4")
    );
    assert!(pod.tolerations.iter().any(|t| t.key == "nvidia.com/gpu"
        && t.operator == TolerationOperator::Exists
        && t.effect == Some(TaintEffect::NoSchedule)));
}

#[test]
fn gpu_amounts_follow_kubernetes_rules_for_extended_resources() {
    let cases = [
        (
            "limits: {nvidia.com/gpu: 0.5}",
            "services.web.resources.limits.nvidia.com/gpu: \"0.5\" is not a valid whole number",
        ),
        (
            "limits: {nvidia.com/gpu: 500m}",
            "services.web.resources.limits.nvidia.com/gpu: \"500m\" is not a valid whole number",
        ),
        (
            "requests: {nvidia.com/gpu: 2}\n      limits: {nvidia.com/gpu: 1}",
            "services.web.resources.requests.nvidia.com/gpu: 2 differs from the nvidia.com/gpu \
             limit 1; expected requests.nvidia.com/gpu == limits.nvidia.com/gpu",
        ),
        (
            "requests: {nvidia.com/gpu: 1}",
            "services.web.resources.requests.nvidia.com/gpu: nvidia.com/gpu is requested without \
             a limit",
        ),
        (
            "requests: {gpu: 1}",
            "services.web.resources.requests.gpu: \"gpu\" is not a resource capsim knows (did \
             you mean nvidia.com/gpu?); expected cpu, memory, or an extended resource named with \
             a domain prefix",
        ),
        (
            "requests: {cpus: 1}",
            "\"cpus\" is not a resource capsim knows (did you mean cpu?)",
        ),
        (
            "limits: {kubernetes.io/gpu: 1}",
            "\"kubernetes.io/gpu\" is not a valid extended resource name",
        ),
    ];
    for (resources, message) in cases {
        assert_rejected(&with_gpu_pool(resources), &[message]);
    }
}

#[test]
fn at_most_four_extended_resources_per_scenario() {
    let names = ["a.com/x", "b.com/x", "c.com/x", "d.com/x", "e.com/x"];
    let allocatable: Vec<String> = names.iter().map(|n| format!("{n}: 1")).collect();
    let yaml = BASE.replace(
        "machine_type: c2-standard-8\n",
        &format!(
            "machine_type: c2-standard-8\n    allocatable: {{{}}}\n",
            allocatable.join(", ")
        ),
    );
    assert_rejected(
        &yaml,
        &[
            "node_pools.pool.allocatable.e.com/x: \"e.com/x\" would be extended resource number 5",
            "expected at most 4 distinct extended resources in one scenario",
        ],
    );
}

#[test]
fn allocatable_gives_a_pool_extended_resources_within_the_machines() {
    // An inline or CPU machine gets what allocatable declares.
    let s = load(&BASE.replace(
        "machine_type: c2-standard-8\n",
        "machine_type: c2-standard-8\n    allocatable: {example.com/fpga: 2}\n",
    ))
    .expect("valid");
    assert_eq!(s.node_pools[0].allocatable.extended.0[0], 2);
    assert_eq!(s.node_pools[0].machine.capacity.extended.0[0], 2);
    assert!(s.node_pools[0].taints.is_empty());
    // A GPU machine type offers no more GPUs than it has.
    assert_rejected(
        &with_gpu_pool("requests: {cpu: 500m}").replace(
            "machine_type: g2-standard-8\n",
            "machine_type: g2-standard-8\n    allocatable: {nvidia.com/gpu: 2}\n",
        ),
        &[
            "node_pools.gpu.allocatable.nvidia.com/gpu: 2 is more than the machine's 1 nvidia.com/gpu",
        ],
    );
}
