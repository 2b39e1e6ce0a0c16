//! Upstream's cases for the node group comparators and the balancing processor, as data.

use super::*;

/// `BuildTestNode(name, cpu, memory)`: capacity cpu (millicores), memory (bytes) and 100
/// pods, allocatable equal to capacity, no labels; `requested` is what its pods ask (cpu in
/// millicores, memory in bytes), as `NewTestNodeInfo(node, pods...)` sums them.
fn node(cpu_milli: f64, memory: f64) -> NodeShape {
    let capacity: BTreeMap<String, f64> = [
        ("cpu".to_string(), cpu_milli),
        ("memory".to_string(), memory * 1000.0),
        ("pods".to_string(), 100_000.0),
    ]
    .into_iter()
    .collect();
    NodeShape {
        allocatable: capacity.clone(),
        capacity,
        requested: with_pods(0.0, 0.0),
        labels: Labels::new(),
    }
}

/// `GetRequested()` of a node whose pods ask `cpu_milli` and `memory` bytes in all.
fn with_pods(cpu_milli: f64, memory: f64) -> BTreeMap<String, f64> {
    [
        ("cpu", cpu_milli),
        ("memory", memory * 1000.0),
        ("pods", 0.0),
        ("ephemeral-storage", 0.0),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn set(list: &mut BTreeMap<String, f64>, name: &str, milli: f64) {
    list.insert(name.to_string(), milli);
}

fn generic(n1: &NodeShape, n2: &NodeShape) -> bool {
    is_similar(n1, n2, &BASIC_IGNORED_LABELS, &DEFAULT_RATIOS)
}

/// compare_nodegroups_test.go: TestIdenticalNodesSimilar, TestNodesSimilarVariousRequirements.
#[test]
fn nodes_similar_various_requirements() {
    let n1 = node(1000.0, 2000.0);
    assert!(generic(&n1, &node(1000.0, 2000.0)), "identical");
    // (change to the second node, similar?)
    type Change = fn(&mut NodeShape);
    let cases: [(&str, Change, bool); 4] = [
        (
            "different CPU capacity",
            |n| set(&mut n.capacity, "cpu", 1001.0),
            false,
        ),
        (
            "same CPU capacity, slightly different allocatable",
            |n| set(&mut n.allocatable, "cpu", 999.0),
            true,
        ),
        (
            "same CPU capacity, significantly different allocatable",
            |n| set(&mut n.allocatable, "cpu", 500.0),
            false,
        ),
        (
            "one with GPU, one without",
            |n| {
                set(&mut n.capacity, "nvidia.com/gpu", 1000.0);
                set(&mut n.allocatable, "nvidia.com/gpu", 1000.0);
            },
            false,
        ),
    ];
    for (what, change, want) in cases {
        let mut n2 = node(1000.0, 2000.0);
        change(&mut n2);
        assert_eq!(generic(&n1, &n2), want, "{what}");
    }
}

/// compare_nodegroups_test.go: TestNodesSimilarVariousRequirementsAndPods.
#[test]
fn nodes_similar_various_requirements_and_pods() {
    let mut n1 = node(1000.0, 2000.0);
    n1.requested = with_pods(500.0, 1000.0);
    // Different allocatable, but same free.
    let mut n2 = node(1000.0, 2000.0);
    set(&mut n2.allocatable, "cpu", 500.0);
    set(&mut n2.allocatable, "memory", 1000.0 * 1000.0);
    assert!(!generic(&n1, &n2));
    // Same requests of pods.
    let mut n3 = node(1000.0, 2000.0);
    n3.requested = with_pods(500.0, 1000.0);
    assert!(generic(&n1, &n3));
    // Similar allocatable, similar pods.
    let mut n4 = node(1000.0, 2000.0);
    set(&mut n4.allocatable, "cpu", 999.0);
    n4.requested = with_pods(501.0, 1001.0);
    assert!(generic(&n1, &n4));
}

/// compare_nodegroups_test.go: TestNodesSimilarVariousMemoryRequirements and the two
/// TestNodesSimilarVariousLargeMemoryRequirements (m5.xlarge, m5.16xlarge; memory in KiB).
#[test]
fn memory_capacity_may_differ_by_the_memory_ratio() {
    let ratio = DEFAULT_RATIOS.max_capacity_memory;
    let n1 = node(1000.0, 1000.0);
    let mut within = node(1000.0, 1000.0);
    set(
        &mut within.capacity,
        "memory",
        (1000.0 - 1000.0 * ratio + 1.0) * 1000.0,
    );
    assert!(generic(&n1, &within));
    let mut beyond = node(1000.0, 1000.0);
    set(
        &mut beyond.capacity,
        "memory",
        (1000.0 - 1000.0 * ratio - 1.0) * 1000.0,
    );
    assert!(!generic(&n1, &beyond));
    let kib = |k: f64| k * 1024.0;
    for (q1, q2, q3) in [
        (16_116_152.0, 15_944_120.0, 16_438_475.0),
        (259_970_052.0, 257_217_528.0, 265_169_453.0),
    ] {
        let n1 = node(1000.0, kib(q1));
        assert!(generic(&n1, &node(1000.0, kib(q2))), "{q1} vs {q2}");
        assert!(!generic(&n1, &node(1000.0, kib(q3))), "{q1} vs {q3}");
    }
}

/// compare_nodegroups_test.go: TestNodesSimilarVariousLabels, with "example.com/ready" as the
/// extra ignored label.
#[test]
fn nodes_similar_various_labels() {
    let mut ignored = BASIC_IGNORED_LABELS.to_vec();
    ignored.push("example.com/ready");
    let similar = |a: &NodeShape, b: &NodeShape| is_similar(a, b, &ignored, &DEFAULT_RATIOS);
    let label = |n: &mut NodeShape, k: &str, v: &str| {
        n.labels.insert(k.to_string(), v.to_string());
    };
    let (mut n1, mut n2) = (node(1000.0, 2000.0), node(1000.0, 2000.0));
    label(&mut n1, "test-label", "test-value");
    label(&mut n1, "character", "winnie the pooh");
    label(&mut n2, "test-label", "test-value");
    assert!(!similar(&n1, &n2), "missing character label");
    label(&mut n2, "character", "winnie the pooh");
    assert!(similar(&n1, &n2));
    label(&mut n1, "kubernetes.io/hostname", "node1");
    label(&mut n2, "kubernetes.io/hostname", "node2");
    assert!(similar(&n1, &n2), "different hostname labels");
    let zone = "failure-domain.beta.kubernetes.io/zone";
    label(&mut n1, zone, "mars-olympus-mons1-b");
    label(&mut n2, zone, "us-houston1-a");
    assert!(similar(&n1, &n2), "different zones");
    let fluentd = "beta.kubernetes.io/fluentd-ds-ready";
    label(&mut n1, fluentd, "true");
    label(&mut n2, fluentd, "false");
    assert!(similar(&n1, &n2), "different fluentd-ds-ready");
    n2.labels.remove(fluentd);
    assert!(similar(&n1, &n2), "fluentd-ds-ready on one node");
    label(&mut n1, "example.com/ready", "true");
    label(&mut n2, "example.com/ready", "false");
    assert!(similar(&n1, &n2), "different custom ignored labels");
}

/// aws_nodegroups_test.go: TestIsAwsNodeInfoSimilar (ratios all zero): each of EKS's labels
/// may be empty, differ, or be on one node only.
#[test]
fn aws_comparator_ignores_its_labels() {
    let ignored = provider_ignored_labels(true);
    let zero = DifferenceRatios {
        max_allocatable: 0.0,
        max_free: 0.0,
        max_capacity_memory: 0.0,
    };
    let (mut n1, mut n2) = (node(1000.0, 2000.0), node(1000.0, 2000.0));
    for label in AWS_IGNORED_LABELS {
        for (v1, v2, remove_one) in [("", "", false), ("foo", "bar", false), ("foo", "bar", true)] {
            n1.labels.insert(label.to_string(), v1.to_string());
            n2.labels.insert(label.to_string(), v2.to_string());
            if remove_one {
                n2.labels.remove(label);
            }
            assert!(
                is_similar(&n1, &n2, &ignored, &zero),
                "{label} {v1:?} {v2:?}"
            );
        }
    }
    // GKE's comparator does not ignore them.
    let gke = provider_ignored_labels(false);
    assert!(!is_similar(&n1, &n2, &gke, &zero));
}

/// gce_nodegroups.go: GKE ignores its own zone label beyond the basic ones.
#[test]
fn gce_comparator_ignores_the_gke_zone_label() {
    let (mut n1, mut n2) = (node(1000.0, 2000.0), node(1000.0, 2000.0));
    n1.labels
        .insert("topology.gke.io/zone".into(), "us-central1-a".into());
    n2.labels
        .insert("topology.gke.io/zone".into(), "us-central1-b".into());
    assert!(similar(&n1, &n2));
    assert!(!generic(&n1, &n2));
}

/// balancing_processor_test.go: TestFindSimilarNodeGroups (ratios all zero) and
/// TestFindSimilarNodeGroupsCustomLabels.
#[test]
fn find_similar_node_groups() {
    let zero = DifferenceRatios {
        max_allocatable: 0.0,
        max_free: 0.0,
        max_capacity_memory: 0.0,
    };
    let mut shapes = vec![
        node(1000.0, 1000.0),
        node(1000.0, 1000.0),
        node(2000.0, 2000.0),
    ];
    let basic = |a: &NodeShape, b: &NodeShape| is_similar(a, b, &BASIC_IGNORED_LABELS, &zero);
    assert_eq!(find_similar(0, &shapes, basic), [1]);
    assert_eq!(find_similar(1, &shapes, basic), [0]);
    assert!(find_similar(2, &shapes, basic).is_empty());
    shapes[0]
        .labels
        .insert("example.com/ready".into(), "true".into());
    shapes[1]
        .labels
        .insert("example.com/ready".into(), "false".into());
    assert!(find_similar(0, &shapes, basic).is_empty());
    let mut ignored = BASIC_IGNORED_LABELS.to_vec();
    ignored.push("example.com/ready");
    let custom = |a: &NodeShape, b: &NodeShape| is_similar(a, b, &ignored, &zero);
    assert_eq!(find_similar(0, &shapes, custom), [1]);
    assert_eq!(find_similar(1, &shapes, custom), [0]);
    assert!(find_similar(2, &shapes, custom).is_empty());
}

/// The new sizes by group, sorted by group, of balancing `new_nodes` over `groups`.
fn balanced(groups: &[(usize, u32, u32)], new_nodes: u32) -> Vec<(usize, u32)> {
    let mut out: Vec<(usize, u32)> = balance_scale_up(groups, new_nodes)
        .iter()
        .map(|i| (i.group, i.new_size))
        .collect();
    out.sort();
    out
}

/// balancing_processor_test.go: TestBalanceSingleGroup (ng1: size 1, max 10).
#[test]
fn balance_single_group() {
    let ng1 = [(1, 1, 10)];
    assert_eq!(balanced(&ng1, 1), [(1, 2)]);
    assert_eq!(balanced(&ng1, 4), [(1, 5)]);
}

/// balancing_processor_test.go: TestBalanceUnderMaxSize (sizes 1, 3, 5, 5; max 10 each).
#[test]
fn balance_under_max_size() {
    let groups = [(1, 1, 10), (2, 3, 10), (3, 5, 10), (4, 5, 10)];
    assert_eq!(balanced(&groups, 1), [(1, 2)]);
    assert_eq!(balanced(&groups, 2), [(1, 3)]);
    assert_eq!(balanced(&groups, 4), [(1, 4), (2, 4)]);
    // Non-divisible: 4 and 5, either way round.
    let five = balanced(&groups, 5);
    assert_eq!(five.iter().map(|g| g.0).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(five.iter().map(|g| g.1).sum::<u32>(), 9);
    assert!(five.iter().all(|g| g.1 == 4 || g.1 == 5), "{five:?}");
    assert_eq!(balanced(&groups, 10), [(1, 6), (2, 6), (3, 6), (4, 6)]);
}

/// balancing_processor_test.go: TestBalanceHittingMaxSize (group: size, max): ng1 1/1, ng2
/// 1/3, ng3 3/10, ng4 5/7, ng5 6/3.
#[test]
fn balance_hitting_max_size() {
    let (ng1, ng2, ng3, ng4, ng5) = ((1, 1, 1), (2, 1, 3), (3, 3, 10), (4, 5, 7), (5, 6, 3));
    assert!(balanced(&[ng1], 1).is_empty(), "one maxed out group");
    assert_eq!(balanced(&[ng1, ng2], 1), [(2, 2)]);
    assert_eq!(balanced(&[ng1, ng2], 5), [(2, 3)], "capped to capacity");
    assert_eq!(balanced(&[ng2, ng3], 4), [(2, 3), (3, 5)]);
    assert_eq!(balanced(&[ng2, ng3, ng4], 9), [(2, 3), (3, 8), (4, 7)]);
    assert_eq!(balanced(&[ng2, ng3, ng4], 900), [(2, 3), (3, 10), (4, 7)]);
    assert_eq!(
        balanced(&[ng2, ng5], 1),
        [(2, 2)],
        "one group above its max"
    );
}

/// Ties go to the group given first (the expander's choice): capsim's sort is stable.
#[test]
fn equal_groups_take_nodes_in_the_order_given() {
    assert_eq!(balanced(&[(7, 2, 5), (3, 2, 5), (5, 2, 5)], 1), [(7, 3)]);
    assert_eq!(
        balanced(&[(7, 2, 5), (3, 2, 5), (5, 2, 5)], 3),
        [(3, 3), (5, 3), (7, 3)]
    );
}
