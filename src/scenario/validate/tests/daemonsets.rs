//! DaemonSets, pod labels, grace periods and `<namespace>/<name>` service names.

use crate::units::{Bytes, Millicores, SimDuration};

use super::{BASE, assert_rejected, base_with, load};

/// Two pools, one tainted and labelled, for DaemonSet selection.
fn with_daemonsets(daemonsets: &str) -> String {
    base_with(
        "  pool:\n    machine_type: c2-standard-8\n",
        &format!(
            "  pool:\n    machine_type: c2-standard-8\n  gpu:\n    machine_type: c2-standard-8\n    \
             labels: {{accelerator: t4}}\n    taints: [{{key: gpu, value: \"true\", effect: NoSchedule}}]\n\
             daemonsets:\n{daemonsets}"
        ),
    )
}

#[test]
fn a_daemonset_takes_its_requests_and_a_pod_slot_from_the_pools_it_selects() {
    let plain = load(&with_daemonsets("")).expect("valid");
    let full = plain.node_pools[0].allocatable;
    let cases = [
        // No toleration: only the untainted pool.
        (
            "  logs: {resources: {requests: {cpu: 200m, memory: 256Mi}}}\n",
            [true, false],
        ),
        // Tolerates every taint: both pools.
        (
            "  logs: {resources: {requests: {cpu: 200m, memory: 256Mi}}, tolerations: [{operator: Exists}]}\n",
            [true, true],
        ),
        // Selects the labelled pool, and tolerates its taint.
        (
            "  dcgm:\n    resources: {requests: {cpu: 200m, memory: 256Mi}}\n    node_selector: {accelerator: t4}\n    \
             tolerations: [{key: gpu, operator: Equal, value: \"true\", effect: NoSchedule}]\n",
            [false, true],
        ),
        // Larger than a node: it would stay Pending and takes nothing.
        (
            "  huge: {resources: {requests: {cpu: \"64\"}}}\n",
            [false, false],
        ),
    ];
    for (daemonsets, selected) in cases {
        let s = load(&with_daemonsets(daemonsets)).unwrap_or_else(|e| panic!("{e}"));
        for (pool, selected) in s.node_pools.iter().zip(selected) {
            let (cpu, memory, pods) = if selected {
                (full.cpu.0 - 200, full.memory.0 - 256 * Bytes::MIB, 109)
            } else {
                (full.cpu.0, full.memory.0, 110)
            };
            assert_eq!(
                pool.allocatable.cpu,
                Millicores(cpu),
                "{daemonsets} on {}",
                pool.name
            );
            assert_eq!(pool.allocatable.memory, Bytes(memory), "{daemonsets}");
            assert_eq!(pool.max_pods, pods, "{daemonsets}");
        }
    }
}

#[test]
fn daemonset_errors_name_their_path() {
    assert_rejected(
        &with_daemonsets("  Logs: {}\n"),
        &["daemonsets.Logs", "not a valid daemonset name"],
    );
    assert_rejected(
        &with_daemonsets("  logs: {resources: {requests: {cpu: lots}}}\n"),
        &["daemonsets.logs.resources.requests.cpu", "\"lots\""],
    );
}

#[test]
fn labels_grace_period_and_qualified_names() {
    let s = load(BASE).expect("valid");
    assert_eq!(s.services[0].termination_grace, SimDuration::from_secs(30));
    assert!(s.services[0].labels.is_empty());
    let yaml = base_with(
        "  web:\n    replicas: 2\n",
        "  shop/web:\n    labels: {app: web}\n    termination_grace_period: 2m\n    replicas: 2\n",
    );
    let s = load(&yaml).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.services[0].name, "shop/web");
    assert_eq!(s.services[0].termination_grace, SimDuration::from_secs(120));
    assert_eq!(
        s.services[0].labels.get("app").map(String::as_str),
        Some("web")
    );
    assert_rejected(
        &base_with("  web:\n", "  a/b/c:\n"),
        &["services.a/b/c", "not a valid service name"],
    );
    assert_rejected(
        &base_with(
            "replicas: 2",
            "replicas: 2\n    termination_grace_period: soon",
        ),
        &["services.web.termination_grace_period", "\"soon\""],
    );
}
