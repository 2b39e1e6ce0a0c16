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

/// `with_gpu_pool` with web asking for one GPU, in namespace `ml` whose quota is `quota`.
fn gpu_quota(quota: &str) -> String {
    let yaml = with_gpu_pool("requests: {cpu: 500m}\n      limits: {nvidia.com/gpu: 1}");
    format!("{yaml}quotas:\n  default: {{{quota}}}\n")
}

#[test]
fn a_quota_limits_gpus_by_their_request() {
    let s = load(&gpu_quota("requests.nvidia.com/gpu: 2, pods: 10")).expect("valid");
    let quota = &s.quotas[0];
    assert_eq!(quota.requests_extended, [Some(2), None, None, None]);
    assert_eq!(&quota.extended_names[..], ["nvidia.com/gpu".to_string()]);
    assert_eq!(quota.pods, Some(10));
    // A resource no pod or pool names joins the table after theirs, for pods and quotas alike.
    let s = load(&gpu_quota("requests.example.com/foo: 3")).expect("valid");
    let names = ["nvidia.com/gpu".to_string(), "example.com/foo".to_string()];
    assert_eq!(&s.quotas[0].extended_names[..], names);
    assert_eq!(&s.services[0].pod.extended_names[..], names);
    assert_eq!(s.quotas[0].requests_extended, [None, Some(3), None, None]);
}

#[test]
fn a_gpu_quota_key_other_than_its_request_is_an_error() {
    for (key, fix) in [
        ("limits.nvidia.com/gpu", "requests.nvidia.com/gpu"),
        ("nvidia.com/gpu", "requests.nvidia.com/gpu"),
        ("limits.example.com/foo", "requests.example.com/foo"),
    ] {
        assert_rejected(
            &gpu_quota(&format!("{key}: 2")),
            &[
                &format!(
                    "quotas.default.{key}: \"{key}\" limits nothing: Kubernetes counts an \
                     extended resource in a quota only by its request"
                ),
                &format!("expected {fix}, the only quota key for an extended resource"),
            ],
        );
    }
    assert_rejected(
        &gpu_quota("requests.nvidia.com/gpu: 1.5"),
        &["quotas.default.requests.nvidia.com/gpu: \"1.5\" is not a valid whole number"],
    );
    assert_rejected(
        &gpu_quota("requests.kubernetes.io/gpu: 1"),
        &["\"kubernetes.io/gpu\" is not a valid extended resource name"],
    );
    // A typo without a domain, or an object count, is an unknown key, with the GPU request
    // among the suggestions.
    for key in ["requests.gpu", "count/pods"] {
        assert_rejected(
            &gpu_quota(&format!("{key}: 1")),
            &[
                &format!("quotas.default: unknown field \"{key}\""),
                "\"requests.nvidia.com/gpu\"",
            ],
        );
    }
}

#[test]
fn a_gpu_quota_that_admits_no_pod_of_a_gpu_service_is_an_error() {
    assert_rejected(
        &gpu_quota("requests.nvidia.com/gpu: 0"),
        &[
            "services.web.resources.requests.nvidia.com/gpu: 1 per pod is more than the whole \
             quota requests.nvidia.com/gpu 0 of namespace \"default\"",
            "expected at most 0, or a larger quotas.default.requests.nvidia.com/gpu",
        ],
    );
    // Exactly one GPU per pod fits a quota of one.
    assert!(load(&gpu_quota("requests.nvidia.com/gpu: 1")).is_ok());
}

#[test]
fn a_quota_cannot_name_more_extended_resources_than_the_table_holds() {
    let quota =
        "requests.a.com/x: 1, requests.b.com/x: 1, requests.c.com/x: 1, requests.d.com/x: 1";
    assert_rejected(
        &gpu_quota(quota),
        &[
            "quotas.default.requests.d.com/x: \"d.com/x\" would be extended resource number 5",
            "expected at most 4 distinct extended resources in one scenario",
        ],
    );
}
