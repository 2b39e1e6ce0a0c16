//! kube-scheduler's own cases for the scores of the plugins that count bound pods, as data:
//! InterPodAffinity's (`interpodaffinity/scoring_test.go`, `TestPreferredAffinity`), and a
//! cycle where a pod's own spread constraints replace the system defaults.

use crate::cluster::node::Node;
use crate::cluster::placement::{LabelSelectorOperator, PodAffinityTerm};
use crate::cluster::scheduler::PodGroups;
use crate::cluster::scheduler::placement_tests::{
    bind, exists, exprs, node, placed, pod, spread, term, with_terms,
};
use crate::cluster::spec::PodSpec;
use crate::units::Resources;

/// A case: its name, the incoming pod, each node's labels, the bound pods and the scores.
type ScoreCase<'a> = (
    &'static str,
    PodSpec,
    Vec<&'a [(&'a str, &'a str)]>,
    Vec<(usize, PodSpec)>,
    Vec<u64>,
);

/// InterPodAffinity's normalized scores of every node for `incoming`.
fn affinity_scores(incoming: &PodSpec, nodes: &[Node], specs: &[PodSpec]) -> Vec<u64> {
    let with = PodGroups::with_pod_affinity(specs);
    let groups = PodGroups {
        specs,
        with_pod_affinity: &with,
    };
    let all: Vec<usize> = (0..nodes.len()).collect();
    let mut out = Vec::new();
    crate::cluster::scheduler::inter_pod_affinity::scores(incoming, nodes, &groups, &all, &mut out);
    out
}

fn preferring(weighted: Vec<(u32, PodAffinityTerm)>, own: &[(&str, &str)]) -> PodSpec {
    let mut p = placed("default", own);
    p.preferred_affinity = weighted
        .into_iter()
        .map(|(weight, term)| crate::cluster::placement::WeightedPodAffinityTerm { weight, term })
        .collect();
    pod(p)
}

#[test]
fn preferred_affinity() {
    // interpodaffinity/scoring_test.go, TestPreferredAffinity.
    use LabelSelectorOperator::{DoesNotExist, Exists, In, NotIn};
    let d = "default";
    let china = [("region", "China")];
    let india = [("region", "India")];
    let az1 = [("az", "az1")];
    let china_az1 = [("region", "China"), ("az", "az1")];
    let s1 = || pod(placed(d, &[("security", "S1")]));
    let s2 = || pod(placed(d, &[("security", "S2")]));
    let with_s = |v: &str| term(exprs(&[("security", In, &[v])]), "region", d);
    let stay_with_s1 = preferring(vec![(5, with_s("S1"))], &[("security", "S1")]);
    let affinity3 = preferring(
        vec![
            (
                8,
                term(
                    exprs(&[("security", NotIn, &["S1"]), ("security", In, &["S2"])]),
                    "region",
                    d,
                ),
            ),
            (
                2,
                term(
                    exprs(&[("security", Exists, &[]), ("wrongkey", DoesNotExist, &[])]),
                    "region",
                    d,
                ),
            ),
        ],
        &[("security", "S1")],
    );
    // (name, incoming, node labels, bound pods, scores)
    let cases: Vec<ScoreCase<'_>> = vec![
        (
            "pods matching the term in the topology get the top score",
            stay_with_s1.clone(),
            vec![&china, &india, &az1],
            vec![(0, s1()), (1, s2()), (2, s1())],
            vec![100, 0, 0],
        ),
        (
            "every node of the matching pod's region scores alike",
            preferring(vec![(5, with_s("S1"))], &[]),
            vec![&china, &china_az1, &india],
            vec![(0, s1())],
            vec![100, 100, 0],
        ),
        (
            "the region with more matching pods scores higher",
            preferring(vec![(6, with_s("S2"))], &[("security", "S1")]),
            vec![&china, &india, &china, &china, &india],
            vec![
                (0, s2()),
                (0, s2()),
                (1, s2()),
                (2, s2()),
                (3, s2()),
                (4, s2()),
            ],
            vec![100, 0, 100, 100, 0],
        ),
        (
            "different label operators and values, some not matching",
            affinity3,
            vec![&china, &india, &az1],
            vec![(0, s1()), (1, s2()), (2, s1())],
            vec![20, 100, 0],
        ),
    ];
    for (name, incoming, labels, bound, want) in cases {
        let mut nodes: Vec<Node> = (labels.iter().enumerate())
            .map(|(i, l)| node(&format!("node{}", i + 1), l))
            .collect();
        let specs = bind(&mut nodes, bound);
        assert_eq!(affinity_scores(&incoming, &nodes, &specs), want, "{name}");
    }
    // Without terms on either side the plugin skips the pod: no scores at all.
    let mut nodes = vec![node("node1", &china), node("node2", &india)];
    let specs = bind(&mut nodes, vec![(0, s1())]);
    assert!(affinity_scores(&s1(), &nodes, &specs).is_empty());
}

#[test]
fn bound_pods_required_affinity_scores_for_the_pod_they_select() {
    // The symmetric part of TestPreferredAffinity: a bound pod's required affinity term that
    // the incoming pod matches adds hardPodAffinityWeight (1) to its node's region.
    let d = "default";
    let mut nodes = vec![
        node("node1", &[("region", "China")]),
        node("node2", &[("region", "India")]),
    ];
    let follower = with_terms(d, &[], vec![term(exists("security"), "region", d)], vec![]);
    let specs = bind(&mut nodes, vec![(0, follower)]);
    let incoming = pod(placed(d, &[("security", "S1")]));
    assert_eq!(affinity_scores(&incoming, &nodes, &specs), vec![100, 0]);
}

#[test]
fn own_soft_constraints_replace_the_system_defaults_in_a_cycle() {
    use crate::cluster::scheduler::{ClassifiedNodes, LabelClasses, Scheduler};
    use rand::SeedableRng;
    // Three hosts with 0/2/2 pods of the workload; node-a and node-b also run a pod of another
    // app that takes half their CPU and memory, so the resource scores prefer node-c. Spreading
    // outweighs that for node-a, under the system defaults and under an own hostname
    // constraint alike; an own constraint over `rack`, which no node carries, replaces the
    // defaults and scores nothing, and node-c wins.
    let mut nodes: Vec<Node> = ["node-a", "node-b", "node-c"]
        .iter()
        .map(|n| node(n, &[("kubernetes.io/hostname", n)]))
        .collect();
    let workload = placed("default", &[("app", "web")]);
    let mut specs = bind(
        &mut nodes,
        (1..=2)
            .flat_map(|i| [(i, pod(workload.clone())), (i, pod(workload.clone()))])
            .collect(),
    );
    let mut heavy = pod(placed("default", &[("app", "batch")]));
    heavy.requests = Resources::new(2_000, 8 * crate::units::Bytes::GIB);
    (heavy.has_cpu_request, heavy.has_memory_request) = (true, true);
    heavy.group = specs.len() as u32;
    nodes[0].add_pod(&heavy);
    nodes[1].add_pod(&heavy);
    specs.push(heavy);
    let with = PodGroups::with_pod_affinity(&specs);
    let groups = PodGroups {
        specs: &specs,
        with_pod_affinity: &with,
    };
    let mut classes = LabelClasses::new();
    let of_node: Vec<_> = nodes.iter().map(|n| classes.classify(&n.labels)).collect();
    let classified = ClassifiedNodes {
        classes: &classes,
        class_of_node: &of_node,
    };
    let counts = [0u32, 2, 2];
    let place = |incoming: &PodSpec| {
        let mut picks = std::collections::BTreeSet::new();
        for seed in 0..20 {
            let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
            let mut s = Scheduler::default();
            let i = s
                .schedule_among(
                    incoming,
                    &nodes,
                    classified,
                    Some(&counts),
                    Some(groups),
                    &mut rng,
                )
                .expect("fits");
            picks.insert(i);
        }
        picks
    };
    let mut own = placed("default", &[("app", "web")]);
    let web = || exprs(&[("app", LabelSelectorOperator::In, &["web"])]);
    own.spread = vec![spread(1, "kubernetes.io/hostname", false, web())];
    assert_eq!(place(&pod(own.clone())), [0].into());
    assert_eq!(
        place(&pod(placed("default", &[("app", "web")]))),
        [0].into()
    );
    own.spread = vec![spread(1, "rack", false, web())];
    assert_eq!(place(&pod(own)), [2].into());
}
