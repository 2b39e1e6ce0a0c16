//! NodeResourcesBalancedAllocation under each modelled Kubernetes version, held to upstream's
//! own cases: `TestNodeResourcesBalancedAllocation` in kubernetes/kubernetes
//! `pkg/scheduler/framework/plugins/noderesources/balanced_allocation_test.go`, before and after
//! kubernetes/kubernetes#135573 (which 1.36 first ships).
//!
//! Upstream builds pods from containers and binds existing pods to nodes; here each pod is its
//! summed requests and each node the sum of its bound pods' requests, which is all the plugin
//! reads. Cases that configure `nvidia.com/gpu` (or a DRA-backed extended resource) as a third
//! scored resource go through the slice scorers, since capsim's default profile scores cpu and
//! memory only; as upstream does, the third resource counts only when the pod requests it and
//! the node has some. Cases that differ only in whether PreScore ran are left out: capsim has
//! one path.

use capsim::cluster::node::{Node, NodeId};
use capsim::cluster::scheduler::KubernetesVersion;
use capsim::cluster::scheduler::balanced_allocation::{
    balance_change_score, balanced_allocation_score, balanced_resource_score, skips_score,
};
use capsim::cluster::spec::PodSpec;
use capsim::units::Resources;

/// One upstream case.
struct Case {
    /// Upstream's test name.
    name: &'static str,
    /// The pod's requests: millicores, memory bytes, GPUs (or DRA devices).
    pod: [u64; 3],
    /// Per node: name, allocatable and the summed requests of the pods bound to it, each as
    /// millicores, memory bytes, GPUs.
    nodes: &'static [(&'static str, [u64; 3], [u64; 3])],
    /// Each node's score in node order; `None` when PreScore skips the pod.
    expected: Option<&'static [u64]>,
}

const CPU_ONLY: [u64; 3] = [3_000, 0, 0];
const CPU_AND_MEMORY: [u64; 3] = [3_000, 5_000, 0];
const NOTHING: [u64; 3] = [0, 0, 0];

/// kubernetes/kubernetes commit 00fdb4ffc64976886691c99434ab5b01fa54f8fe (1.35's formula).
const BEFORE_135573: &[Case] = &[
    Case {
        name: "nothing scheduled, nothing requested, skip in PreScore",
        pod: NOTHING,
        nodes: &[
            ("node1", [4_000, 10_000, 0], NOTHING),
            ("node2", [4_000, 10_000, 0], NOTHING),
        ],
        expected: None,
    },
    Case {
        name: "nothing scheduled, resources requested, differently sized nodes",
        pod: CPU_AND_MEMORY,
        nodes: &[
            ("node1", [4_000, 10_000, 0], NOTHING),
            ("node2", [6_000, 10_000, 0], NOTHING),
        ],
        expected: Some(&[87, 100]),
    },
    Case {
        name: "resources requested, pods scheduled with resources",
        pod: CPU_AND_MEMORY,
        nodes: &[
            ("node1", [10_000, 20_000, 0], CPU_ONLY),
            ("node2", [10_000, 20_000, 0], CPU_AND_MEMORY),
        ],
        expected: Some(&[82, 95]),
    },
    Case {
        name: "resources requested, pods scheduled with resources, differently sized nodes",
        pod: CPU_AND_MEMORY,
        nodes: &[
            ("node1", [10_000, 20_000, 0], CPU_ONLY),
            ("node2", [10_000, 50_000, 0], CPU_AND_MEMORY),
        ],
        expected: Some(&[82, 80]),
    },
    Case {
        name: "requested resources at node capacity",
        pod: CPU_ONLY,
        nodes: &[
            ("node1", [6_000, 10_000, 0], CPU_ONLY),
            ("node2", [6_000, 10_000, 0], CPU_AND_MEMORY),
        ],
        expected: Some(&[50, 75]),
    },
    Case {
        name: "include scalar resource on a node for balanced resource allocation",
        pod: [0, 0, 1],
        nodes: &[
            ("node1", [3_500, 40_000, 8], [3_000, 5_000, 3]),
            ("node2", [3_500, 40_000, 8], CPU_AND_MEMORY),
        ],
        expected: Some(&[70, 65]),
    },
    Case {
        name: "node without the scalar resource should skip the scalar resource",
        pod: CPU_AND_MEMORY,
        nodes: &[
            ("node1", [3_500, 40_000, 8], NOTHING),
            ("node2", [3_500, 40_000, 0], NOTHING),
        ],
        expected: Some(&[63, 63]),
    },
    Case {
        // Eight DRA devices on node1 and none on node2, where the resource is left out.
        name: "include DRA resource on a node for balanced resource allocation",
        pod: [0, 0, 1],
        nodes: &[
            ("node1", [3_500, 40_000, 8], CPU_ONLY),
            ("node2", [3_500, 40_000, 0], CPU_AND_MEMORY),
        ],
        expected: Some(&[62, 63]),
    },
];

/// kubernetes/kubernetes#135573 as merged (1.36's formula), read from its author's fork,
/// brejman/kubernetes commit 5f318fd972b89b569d086678543cc740dd88406a.
const AFTER_135573: &[Case] = &[
    Case {
        name: "nothing scheduled, nothing requested, skip in PreScore",
        pod: NOTHING,
        nodes: &[
            ("node1", [4_000, 10_000, 0], NOTHING),
            ("node2", [4_000, 10_000, 0], NOTHING),
        ],
        expected: None,
    },
    Case {
        // 100 -> 87: 68; 100 -> 100: 75.
        name: "nothing scheduled, resources requested, differently sized nodes",
        pod: CPU_AND_MEMORY,
        nodes: &[
            ("node1", [4_000, 10_000, 0], NOTHING),
            ("node2", [6_000, 10_000, 0], NOTHING),
        ],
        expected: Some(&[68, 75]),
    },
    Case {
        // 85 -> 82: 73; 97 -> 95: 74.
        name: "resources requested, pods scheduled with resources",
        pod: CPU_AND_MEMORY,
        nodes: &[
            ("node1", [10_000, 20_000, 0], CPU_ONLY),
            ("node2", [10_000, 20_000, 0], CPU_AND_MEMORY),
        ],
        expected: Some(&[73, 74]),
    },
    Case {
        // 85 -> 82: 73; 90 -> 80: 70.
        name: "resources requested, pods scheduled with resources, differently sized nodes",
        pod: CPU_AND_MEMORY,
        nodes: &[
            ("node1", [10_000, 20_000, 0], CPU_ONLY),
            ("node2", [10_000, 50_000, 0], CPU_AND_MEMORY),
        ],
        expected: Some(&[73, 70]),
    },
    Case {
        // 50 -> 100: 100; 100 -> 50: 50.
        name: "resources requested, pods scheduled with resources, nodes to reach min/max score",
        pod: [0, 5_000, 0],
        nodes: &[
            ("node1", [3_000, 5_000, 0], CPU_ONLY),
            ("node2", [3_000, 5_000, 0], NOTHING),
        ],
        expected: Some(&[100, 50]),
    },
    Case {
        // 75 -> 50: 62; 100 -> 75: 62.
        name: "requested resources at node capacity",
        pod: CPU_ONLY,
        nodes: &[
            ("node1", [6_000, 10_000, 0], CPU_ONLY),
            ("node2", [6_000, 10_000, 0], CPU_AND_MEMORY),
        ],
        expected: Some(&[62, 62]),
    },
    Case {
        // 69 -> 70: 75; 62 -> 65: 76.
        name: "scalar resource is included in the score computation if pod requests the scalar \
               resource",
        pod: [0, 0, 1],
        nodes: &[
            ("node1", [3_500, 40_000, 8], [3_000, 5_000, 3]),
            ("node2", [3_500, 40_000, 8], CPU_AND_MEMORY),
        ],
        expected: Some(&[75, 76]),
    },
    Case {
        // 100 -> 63: 56 on both.
        name: "scalar resource is not included in the score computation if pod doesn't request \
               the scalar resource",
        pod: CPU_AND_MEMORY,
        nodes: &[
            ("node1", [3_500, 40_000, 8], NOTHING),
            ("node2", [3_500, 40_000, 0], NOTHING),
        ],
        expected: Some(&[56, 56]),
    },
];

/// A node of `allocatable` whose bound pods request `allocated` (cpu and memory).
fn node(index: usize, name: &str, allocatable: [u64; 3], allocated: [u64; 3]) -> Node {
    let allocatable = Resources::new(allocatable[0], allocatable[1]);
    let mut node = Node::bare(NodeId(index as u32), name, allocatable, 110);
    node.add_pod(&PodSpec {
        requests: Resources::new(allocated[0], allocated[1]),
        has_cpu_request: true,
        has_memory_request: true,
        ..PodSpec::default()
    });
    node
}

/// The score of one node: through the plugin for cpu and memory, through the slice scorers
/// when the third resource is scored (the pod requests it and the node has some).
fn score(
    version: KubernetesVersion,
    pod: [u64; 3],
    index: usize,
    (name, allocatable, allocated): (&str, [u64; 3], [u64; 3]),
) -> u64 {
    if pod[2] == 0 || allocatable[2] == 0 {
        let node = node(index, name, allocatable, allocated);
        return balanced_allocation_score(version, Resources::new(pod[0], pod[1]), &node);
    }
    let requested: Vec<u64> = (0..3).map(|i| allocated[i] + pod[i]).collect();
    if version.balanced_allocation_scores_change() {
        balance_change_score(&requested, &allocated, &allocatable)
    } else {
        balanced_resource_score(&requested, &allocatable)
    }
}

fn check(version: KubernetesVersion, cases: &[Case]) {
    let mut failures = Vec::new();
    for case in cases {
        let Some(expected) = case.expected else {
            assert!(
                skips_score(Resources::new(case.pod[0], case.pod[1])),
                "{}: PreScore skips the pod",
                case.name
            );
            continue;
        };
        if case.pod[2] == 0 {
            assert!(!skips_score(Resources::new(case.pod[0], case.pod[1])));
        }
        let got: Vec<u64> = (case.nodes.iter().enumerate())
            .map(|(i, &n)| score(version, case.pod, i, n))
            .collect();
        if got != expected {
            failures.push(format!("{}: want {expected:?}, got {got:?}", case.name));
        }
    }
    assert!(failures.is_empty(), "{version:?}:\n{}", failures.join("\n"));
}

#[test]
fn before_135573_as_kubernetes_1_35() {
    check(KubernetesVersion::V1_35, BEFORE_135573);
}

#[test]
fn after_135573_as_kubernetes_1_36() {
    check(KubernetesVersion::V1_36, AFTER_135573);
}

#[test]
fn the_two_formulas_differ_on_upstream_cases() {
    // Each table run under the other version fails somewhere: the version selects the formula.
    let differs = |version, cases: &[Case]| {
        cases.iter().any(|case| {
            case.expected.is_some_and(|expected| {
                (case.nodes.iter().enumerate())
                    .any(|(i, &n)| score(version, case.pod, i, n) != expected[i])
            })
        })
    };
    assert!(differs(KubernetesVersion::V1_36, BEFORE_135573));
    assert!(differs(KubernetesVersion::V1_35, AFTER_135573));
}
