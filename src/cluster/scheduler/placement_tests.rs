//! kube-scheduler's own cases for the plugins that count bound pods, as data: PodTopologySpread's
//! filter (`podtopologyspread/filtering_test.go`, `TestSingleConstraint` and
//! `TestMultipleConstraints`) and InterPodAffinity's filter
//! (`interpodaffinity/filtering_test.go`, `TestRequiredAffinityMultipleNodes`). Each bound pod
//! is its own placement group.

use std::sync::Arc;

use crate::cluster::node::Node;
use crate::cluster::placement::{
    InclusionPolicy, LabelSelector, LabelSelectorOperator, LabelSelectorRequirement,
    PodAffinityTerm, PodPlacement, TopologySpreadConstraint, WhenUnsatisfiable,
};
use crate::cluster::scheduler::{PlacementFilters, PodGroups, Reason};
use crate::cluster::spec::{
    Labels, NodeAffinity, NodeSelectorRequirement, NodeSelectorTerm, PodSpec, SelectorOperator,
};
use crate::cluster::testing::NodeBuilder;
use crate::units::Resources;

pub(super) fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(super) fn node(name: &str, pairs: &[(&str, &str)]) -> Node {
    let mut b = NodeBuilder::new(name);
    for (k, v) in pairs {
        b = b.label(k, v);
    }
    b.build()
}

/// A selector of `matchExpressions` only: `(key, operator, values)`.
pub(super) fn exprs(reqs: &[(&str, LabelSelectorOperator, &[&str])]) -> LabelSelector {
    LabelSelector {
        match_labels: Labels::new(),
        match_expressions: reqs
            .iter()
            .map(|(k, op, vs)| LabelSelectorRequirement {
                key: k.to_string(),
                operator: *op,
                values: vs.iter().map(|v| v.to_string()).collect(),
            })
            .collect(),
    }
}

pub(super) fn exists(key: &str) -> LabelSelector {
    exprs(&[(key, LabelSelectorOperator::Exists, &[])])
}

pub(super) fn term(selector: LabelSelector, key: &str, namespace: &str) -> PodAffinityTerm {
    PodAffinityTerm {
        selector,
        namespaces: vec![namespace.to_string()],
        topology_key: key.to_string(),
    }
}

pub(super) fn spread(
    skew: u32,
    key: &str,
    hard: bool,
    selector: LabelSelector,
) -> TopologySpreadConstraint {
    TopologySpreadConstraint {
        max_skew: skew,
        topology_key: key.to_string(),
        when_unsatisfiable: if hard {
            WhenUnsatisfiable::DoNotSchedule
        } else {
            WhenUnsatisfiable::ScheduleAnyway
        },
        selector,
        min_domains: None,
        node_affinity_policy: InclusionPolicy::Honor,
        node_taints_policy: InclusionPolicy::Ignore,
    }
}

pub(super) fn pod(placement: PodPlacement) -> PodSpec {
    PodSpec {
        placement: Arc::new(placement),
        ..PodSpec::default()
    }
}

pub(super) fn placed(namespace: &str, pairs: &[(&str, &str)]) -> PodPlacement {
    PodPlacement {
        namespace: namespace.to_string(),
        labels: labels(pairs),
        ..PodPlacement::default()
    }
}

/// Binds `bound` (node index, spec) to `nodes`, one group per pod, and returns the specs.
pub(super) fn bind(nodes: &mut [Node], bound: Vec<(usize, PodSpec)>) -> Vec<PodSpec> {
    let mut specs = Vec::new();
    for (g, (i, mut spec)) in bound.into_iter().enumerate() {
        spec.group = g as u32;
        spec.requests = Resources::ZERO;
        nodes[i].add_pod(&spec);
        specs.push(spec);
    }
    specs
}

/// Each node's verdict for `incoming`.
pub(super) fn verdicts(
    incoming: &PodSpec,
    nodes: &[Node],
    specs: &[PodSpec],
) -> Vec<Result<(), Reason>> {
    let with = PodGroups::with_pod_affinity(specs);
    let groups = PodGroups {
        specs,
        with_pod_affinity: &with,
    };
    let filters = PlacementFilters::new(incoming, nodes, &groups);
    nodes.iter().map(|n| filters.check(n)).collect()
}

fn four_nodes() -> Vec<Node> {
    vec![
        node("node-a", &[("zone", "zone1"), ("node", "node-a")]),
        node("node-b", &[("zone", "zone1"), ("node", "node-b")]),
        node("node-x", &[("zone", "zone2"), ("node", "node-x")]),
        node("node-y", &[("zone", "zone2"), ("node", "node-y")]),
    ]
}

const OK: Result<(), Reason> = Ok(());
const SKEW: Result<(), Reason> = Err(Reason::SpreadConstraintsNotMatch);
const NO_LABEL: Result<(), Reason> = Err(Reason::SpreadMissingLabel);

fn foo(i: usize) -> (usize, PodSpec) {
    (i, pod(placed("default", &[("foo", "")])))
}

/// The 2/1/0/3 spread of `TestSingleConstraint` over node-a, node-b, node-x, node-y.
fn two_one_zero_three() -> Vec<(usize, PodSpec)> {
    vec![foo(0), foo(0), foo(1), foo(3), foo(3), foo(3)]
}

fn spreading(constraints: Vec<TopologySpreadConstraint>, own: &[(&str, &str)]) -> PodSpec {
    let mut p = placed("default", own);
    p.spread = constraints;
    pod(p)
}

#[test]
fn single_constraint() {
    let zone = |sel| vec![spread(1, "zone", true, sel)];
    let host = |skew| vec![spread(skew, "node", true, exists("foo"))];
    let other_ns = vec![
        (0, pod(placed("ns1", &[("foo", "")]))),
        (0, pod(placed("ns2", &[("foo", "")]))),
        foo(2),
        foo(3),
    ];
    let mut no_zone_b = four_nodes();
    no_zone_b[1] = node("node-b", &[("zon", "zone1"), ("node", "node-b")]);
    let mut affinity = spreading(host(1), &[("foo", "")]);
    affinity.affinity = NodeAffinity {
        required: vec![NodeSelectorTerm {
            match_expressions: vec![NodeSelectorRequirement {
                key: "node".into(),
                operator: SelectorOperator::In,
                values: vec!["node-a".into(), "node-y".into()],
            }],
        }],
        ..NodeAffinity::default()
    };
    // (name, incoming pod, nodes, bound pods, verdicts)
    let cases = vec![
        (
            "no existing pods",
            spreading(zone(exists("foo")), &[("foo", "")]),
            four_nodes(),
            vec![],
            vec![OK; 4],
        ),
        (
            "no existing pods, incoming pod doesn't match itself",
            spreading(zone(exists("bar")), &[("foo", "")]),
            four_nodes(),
            vec![],
            vec![OK; 4],
        ),
        (
            "existing pods in a different namespace do not count",
            spreading(zone(exists("foo")), &[("foo", "")]),
            four_nodes(),
            other_ns,
            vec![OK, OK, SKEW, SKEW],
        ),
        (
            "pods spread across zones as 3/3, all nodes fit",
            spreading(zone(exists("foo")), &[("foo", "")]),
            four_nodes(),
            vec![foo(0), foo(0), foo(1), foo(3), foo(3), foo(3)],
            vec![OK; 4],
        ),
        (
            "pods spread across zones as 1/2 due to absence of label 'zone' on node-b",
            spreading(zone(exists("foo")), &[("foo", "")]),
            no_zone_b,
            vec![foo(0), foo(1), foo(2), foo(3)],
            vec![OK, NO_LABEL, SKEW, SKEW],
        ),
        (
            "pods spread across nodes as 2/1/0/3, only node-x fits",
            spreading(host(1), &[("foo", "")]),
            four_nodes(),
            two_one_zero_three(),
            vec![SKEW, SKEW, OK, SKEW],
        ),
        (
            "pods spread across nodes as 2/1/0/3, maxSkew is 2, node-b and node-x fit",
            spreading(host(2), &[("foo", "")]),
            four_nodes(),
            two_one_zero_three(),
            vec![SKEW, OK, OK, SKEW],
        ),
        (
            "pods spread across nodes as 2/1/0/3, but pod doesn't match itself",
            spreading(host(1), &[("bar", "")]),
            four_nodes(),
            two_one_zero_three(),
            vec![SKEW, OK, OK, SKEW],
        ),
        (
            "incoming pod has nodeAffinity, pods spread as 2/~1~/~0~/3, hence node-a fits",
            affinity,
            four_nodes(),
            two_one_zero_three(),
            vec![OK, OK, OK, SKEW],
        ),
    ];
    for (name, incoming, mut nodes, bound, want) in cases {
        let specs = bind(&mut nodes, bound);
        assert_eq!(verdicts(&incoming, &nodes, &specs), want, "{name}");
    }
    let rack = spreading(vec![spread(1, "rack", true, exists("foo"))], &[("foo", "")]);
    let nodes = vec![
        node("node-a", &[("zone", "zone1"), ("node", "node-a")]),
        node("node-x", &[("zone", "zone2"), ("node", "node-x")]),
    ];
    assert_eq!(
        verdicts(&rack, &nodes, &[]),
        vec![NO_LABEL, NO_LABEL],
        "no node has 'rack'"
    );
}

#[test]
fn multiple_constraints() {
    // TestMultipleConstraints: "two Constraints on zone and node, spreads = [3/3, 2/1/0/3]",
    // then "[3/4, 2/1/0/4]" (node-y has a 4th pod): no node fits.
    let both = spreading(
        vec![
            spread(1, "zone", true, exists("foo")),
            spread(1, "node", true, exists("foo")),
        ],
        &[("foo", "")],
    );
    let mut nodes = four_nodes();
    let specs = bind(&mut nodes, two_one_zero_three());
    assert_eq!(verdicts(&both, &nodes, &specs), vec![SKEW, SKEW, OK, SKEW]);
    let mut nodes = four_nodes();
    let mut bound = two_one_zero_three();
    bound.push(foo(3));
    let specs = bind(&mut nodes, bound);
    assert_eq!(verdicts(&both, &nodes, &specs), vec![SKEW; 4]);
}

#[test]
fn min_domains_counts_a_missing_domain_as_zero() {
    // By hand, after TestSingleConstraint's minDomains cases: 1/2 over two zones, maxSkew 2.
    // With minDomains 3 (more than the 2 eligible domains) the global minimum is 0, so zone2
    // (2 + 1 - 0 = 3) breaks the skew; with minDomains 2 the minimum is zone1's 1 and it fits.
    let mut c = spread(2, "zone", true, exists("foo"));
    c.min_domains = Some(3);
    let incoming = spreading(vec![c.clone()], &[("foo", "")]);
    let mut nodes = four_nodes();
    let specs = bind(&mut nodes, vec![foo(0), foo(2), foo(3)]);
    assert_eq!(
        verdicts(&incoming, &nodes, &specs),
        vec![OK, OK, SKEW, SKEW]
    );
    c.min_domains = Some(2);
    let incoming = spreading(vec![c], &[("foo", "")]);
    assert_eq!(verdicts(&incoming, &nodes, &specs), vec![OK; 4]);
}

/// A case: its name, the incoming pod, the nodes, the bound pods and each node's verdict.
type Case = (
    &'static str,
    PodSpec,
    Vec<Node>,
    Vec<(usize, PodSpec)>,
    Vec<Result<(), Reason>>,
);

const AFFINITY: Result<(), Reason> = Err(Reason::PodAffinityNotMatch);
const ANTI: Result<(), Reason> = Err(Reason::PodAntiAffinityNotMatch);
const EXISTING: Result<(), Reason> = Err(Reason::ExistingPodsAntiAffinity);

/// `createPodWithAffinityTerms(namespace, node, labels, affinity, antiAffinity)`.
pub(super) fn with_terms(
    namespace: &str,
    own: &[(&str, &str)],
    affinity: Vec<PodAffinityTerm>,
    anti: Vec<PodAffinityTerm>,
) -> PodSpec {
    let mut p = placed(namespace, own);
    p.required_affinity = affinity;
    p.required_anti_affinity = anti;
    pod(p)
}

#[test]
fn required_affinity_multiple_nodes() {
    use LabelSelectorOperator::{Exists, In};
    let china = [("region", "China")];
    let china_az1 = [("region", "China"), ("az", "az1")];
    let india = [("region", "India")];
    let rci = || {
        vec![
            node("machine1", &china),
            node("machine2", &china_az1),
            node("machine3", &india),
        ]
    };
    let foo_in = |v: &str| exprs(&[("foo", In, &[v])]);
    let d = "default";
    let ab = |region: &str, zone: &str, host: &str| {
        node(
            host,
            &[("region", region), ("zone", zone), ("hostname", host)],
        )
    };
    let cases: Vec<Case> = vec![
        (
            "same topology value as an existing matching pod",
            with_terms(d, &[], vec![term(foo_in("bar"), "region", d)], vec![]),
            rci(),
            vec![(0, pod(placed(d, &[("foo", "bar")])))],
            vec![OK, OK, AFFINITY],
        ),
        (
            "the first pod of a collection with affinity to itself is not blocked",
            with_terms(
                d,
                &[("foo", "bar"), ("service", "securityscan")],
                vec![
                    term(foo_in("bar"), "zone", d),
                    term(exprs(&[("service", In, &["securityscan"])]), "zone", d),
                ],
                vec![],
            ),
            vec![
                node("nodeA", &[("zone", "az1"), ("hostname", "h1")]),
                node("nodeB", &[("zone", "az2"), ("hostname", "h2")]),
            ],
            vec![(0, pod(placed(d, &[("foo", "bar")])))],
            vec![OK, OK],
        ),
        (
            "anti-affinity over a shared region rejects both nodes",
            with_terms(d, &[], vec![], vec![term(foo_in("abc"), "region", d)]),
            vec![ab("r1", "z1", "nodeA"), ab("r1", "z1", "nodeB")],
            vec![(0, pod(placed(d, &[("foo", "abc")])))],
            vec![ANTI, ANTI],
        ),
        (
            "anti-affinity matches a pod when any term matches",
            with_terms(
                d,
                &[],
                vec![],
                vec![
                    term(foo_in("abc"), "region", d),
                    term(exprs(&[("service", In, &["securityscan"])]), "zone", d),
                ],
            ),
            vec![ab("r1", "z1", "nodeA"), ab("r1", "z2", "nodeB")],
            vec![(
                0,
                pod(placed(d, &[("foo", "abc"), ("service", "securityscan")])),
            )],
            vec![ANTI, ANTI],
        ),
        (
            "anti-affinity rejects the region of the matching pod, not the other",
            with_terms(d, &[], vec![], vec![term(foo_in("abc"), "region", d)]),
            rci(),
            vec![(0, pod(placed(d, &[("foo", "abc")])))],
            vec![ANTI, ANTI, OK],
        ),
        (
            "a matching pod in another namespace does not count",
            with_terms(
                "NS1",
                &[("foo", "123")],
                vec![],
                vec![term(foo_in("bar"), "region", "NS1")],
            ),
            rci(),
            vec![
                (0, pod(placed("NS1", &[("foo", "bar")]))),
                (
                    2,
                    with_terms(
                        "NS2",
                        &[],
                        vec![],
                        vec![term(foo_in("123"), "region", "NS2")],
                    ),
                ),
            ],
            vec![ANTI, ANTI, OK],
        ),
        (
            "an existing pod's term with a key no node has rejects nothing",
            pod(placed(d, &[("foo", "")])),
            vec![ab("r1", "z1", "nodeA"), ab("r1", "z1", "nodeB")],
            vec![(
                0,
                with_terms(
                    d,
                    &[],
                    vec![],
                    vec![term(
                        exprs(&[("foo", Exists, &[])]),
                        "invalid-node-label",
                        d,
                    )],
                ),
            )],
            vec![OK, OK],
        ),
        (
            "the incoming pod's term with a key no node has rejects nothing",
            with_terms(
                d,
                &[],
                vec![],
                vec![term(
                    exprs(&[("foo", Exists, &[])]),
                    "invalid-node-label",
                    d,
                )],
            ),
            vec![ab("r1", "z1", "nodeA"), ab("r1", "z1", "nodeB")],
            vec![(0, pod(placed(d, &[("foo", "")])))],
            vec![OK, OK],
        ),
        (
            "the incoming pod violates each existing pod's terms on all nodes",
            pod(placed(d, &[("foo", ""), ("bar", "")])),
            vec![ab("r1", "z1", "nodeA"), ab("r1", "z2", "nodeB")],
            vec![
                (
                    0,
                    with_terms(d, &[], vec![], vec![term(exists("foo"), "zone", d)]),
                ),
                (
                    0,
                    with_terms(d, &[], vec![], vec![term(exists("bar"), "region", d)]),
                ),
            ],
            vec![EXISTING, EXISTING],
        ),
        (
            "the incoming pod violates one of its anti-affinity terms everywhere",
            with_terms(
                d,
                &[],
                vec![],
                vec![
                    term(exists("foo"), "zone", d),
                    term(exists("bar"), "region", d),
                ],
            ),
            vec![ab("r1", "z1", "nodeA"), ab("r1", "z2", "nodeB")],
            vec![
                (0, pod(placed(d, &[("foo", "")]))),
                (1, pod(placed(d, &[("bar", "")]))),
            ],
            vec![ANTI, ANTI],
        ),
        (
            "an existing pod's term with an invalid key next to a valid one",
            pod(placed(d, &[("foo", ""), ("bar", "")])),
            vec![ab("r1", "z1", "nodeA"), ab("r1", "z2", "nodeB")],
            vec![(
                0,
                with_terms(
                    d,
                    &[],
                    vec![],
                    vec![
                        term(exists("foo"), "invalid-node-label", d),
                        term(exists("bar"), "zone", d),
                    ],
                ),
            )],
            vec![EXISTING, OK],
        ),
    ];
    for (name, incoming, mut nodes, bound, want) in cases {
        let specs = bind(&mut nodes, bound);
        assert_eq!(verdicts(&incoming, &nodes, &specs), want, "{name}");
    }
}
