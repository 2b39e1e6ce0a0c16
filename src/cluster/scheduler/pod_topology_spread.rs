//! PodTopologySpread's score, as kube-scheduler computes it for soft (`ScheduleAnyway`)
//! constraints (`pkg/scheduler/framework/plugins/podtopologyspread/scoring.go`).
//!
//! capsim's pods declare no spread constraints, so kube-scheduler applies its system defaults
//! to every pod a Service or ReplicaSet selects: at most 3 more replicas on one node than on
//! another (`kubernetes.io/hostname`) and 5 per zone (`topology.kubernetes.io/zone`), both
//! `ScheduleAnyway`. They only score, never filter: replicas of one workload are nudged onto
//! different nodes, weighed against the other plugins with weight 2.
//!
//! Use `spread_scores` over the feasible nodes of a cycle, with the workload's pods counted per
//! node; the result is already normalized to 0..=100.

use crate::cluster::node::{HOSTNAME_LABEL, Node};
use crate::cluster::scheduler::MAX_NODE_SCORE;

/// The zone topology label.
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// One soft spreading constraint and the pods its selector matches on each node.
#[derive(Debug, Clone, Copy)]
pub struct SpreadConstraint<'a> {
    /// The node label whose values are the topology domains.
    pub topology_key: &'a str,
    /// `maxSkew`.
    pub max_skew: u32,
    /// Per node (parallel to the node list): non-terminating pods in the pod's namespace that
    /// the constraint's selector matches.
    pub matching_pods: &'a [u32],
}

/// kube-scheduler's system default constraints (`systemDefaultConstraints`), over one count of
/// the workload's pods per node.
pub fn system_default_constraints(matching_pods: &[u32]) -> [SpreadConstraint<'_>; 2] {
    [
        SpreadConstraint {
            topology_key: HOSTNAME_LABEL,
            max_skew: 3,
            matching_pods,
        },
        SpreadConstraint {
            topology_key: ZONE_LABEL,
            max_skew: 5,
            matching_pods,
        },
    ]
}

/// Normalized PodTopologySpread scores of `feasible` (indices into `nodes`), appended to
/// `out` in the same order.
///
/// `include(node)` is the constraints' node inclusion policy (by default: the node matches the
/// pod's node selector and required affinity); only included nodes count towards a domain's
/// pods. With `require_all_topologies` (the pod's own constraints) feasible nodes missing a
/// topology key score 0; with the system defaults they are scored, a missing label forming a
/// domain of its own. A node's raw score is, over the constraints whose key it carries, the
/// pods in its domain times `ln(domains + 2)` plus `maxSkew - 1`, rounded; fewer is better.
pub fn spread_scores(
    constraints: &[SpreadConstraint<'_>],
    nodes: &[Node],
    feasible: &[usize],
    include: impl Fn(&Node) -> bool,
    require_all_topologies: bool,
    out: &mut Vec<u64>,
) {
    let has_all = |node: &Node| {
        constraints
            .iter()
            .all(|c| node.labels.contains_key(c.topology_key))
    };
    let ignored = |i: usize| require_all_topologies && !has_all(&nodes[i]);
    let label = |node: &'_ Node, key: &str| -> Option<String> { node.labels.get(key).cloned() };

    // initPreScoreState: the domains of the candidate nodes, and each constraint's weight.
    let mut domains: Vec<Vec<(String, i64)>> = vec![Vec::new(); constraints.len()];
    let scored = feasible.iter().filter(|&&i| !ignored(i)).count();
    for &i in feasible.iter().filter(|&&i| !ignored(i)) {
        for (c, domain) in constraints.iter().zip(domains.iter_mut()) {
            if c.topology_key == HOSTNAME_LABEL {
                continue;
            }
            let value = label(&nodes[i], c.topology_key).unwrap_or_default();
            if !domain.iter().any(|(v, _)| *v == value) {
                domain.push((value, 0));
            }
        }
    }
    let weights: Vec<f64> = constraints
        .iter()
        .zip(&domains)
        .map(|(c, domain)| {
            let size = if c.topology_key == HOSTNAME_LABEL {
                scored
            } else {
                domain.len()
            };
            ((size + 2) as f64).ln()
        })
        .collect();

    // PreScore: the matching pods of every node counted into its domain.
    for (i, node) in nodes.iter().enumerate() {
        if (require_all_topologies && !has_all(node)) || !include(node) {
            continue;
        }
        for (c, domain) in constraints.iter().zip(domains.iter_mut()) {
            if c.topology_key == HOSTNAME_LABEL {
                continue;
            }
            let value = label(node, c.topology_key).unwrap_or_default();
            if let Some((_, count)) = domain.iter_mut().find(|(v, _)| *v == value) {
                *count += i64::from(c.matching_pods.get(i).copied().unwrap_or(0));
            }
        }
    }

    // Score.
    let start = out.len();
    for &i in feasible {
        let node = &nodes[i];
        if ignored(i) {
            out.push(0);
            continue;
        }
        let mut score = 0.0;
        for ((c, domain), weight) in constraints.iter().zip(&domains).zip(&weights) {
            let Some(value) = node.labels.get(c.topology_key) else {
                continue;
            };
            let count = if c.topology_key == HOSTNAME_LABEL {
                i64::from(c.matching_pods.get(i).copied().unwrap_or(0))
            } else {
                domain
                    .iter()
                    .find(|(v, _)| v == value)
                    .map_or(0, |(_, count)| *count)
            };
            score += count as f64 * weight + f64::from(c.max_skew) - 1.0;
        }
        out.push(score.round() as u64);
    }

    // NormalizeScore: fewer pods in the domain, higher score.
    let raw = &mut out[start..];
    let considered = || {
        feasible
            .iter()
            .zip(raw.iter())
            .filter(|&(&i, _)| !ignored(i))
            .map(|(_, &s)| s)
    };
    let min = considered().min().unwrap_or(0);
    let max = considered().max().unwrap_or(0);
    for (&i, score) in feasible.iter().zip(raw.iter_mut()) {
        *score = if ignored(i) {
            0
        } else {
            (MAX_NODE_SCORE * (max + min - *score))
                .checked_div(max)
                .unwrap_or(MAX_NODE_SCORE)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::testing::NodeBuilder;

    fn host(name: &str) -> Node {
        NodeBuilder::new(name).label(HOSTNAME_LABEL, name).build()
    }

    fn zoned(name: &str, zone: &str) -> Node {
        NodeBuilder::new(name)
            .label(HOSTNAME_LABEL, name)
            .label("zone", zone)
            .build()
    }

    fn constraint<'a>(key: &'a str, max_skew: u32, pods: &'a [u32]) -> SpreadConstraint<'a> {
        SpreadConstraint {
            topology_key: key,
            max_skew,
            matching_pods: pods,
        }
    }

    fn scores(
        constraints: &[SpreadConstraint<'_>],
        nodes: &[Node],
        feasible: &[usize],
    ) -> Vec<u64> {
        let mut out = Vec::new();
        spread_scores(constraints, nodes, feasible, |_| true, true, &mut out);
        out
    }

    // The cases below are kube-scheduler's TestPodTopologySpreadScore: nodes, pods matching
    // the selector per node, the candidates, and the scores it expects.

    #[test]
    fn one_constraint_on_hostname() {
        let nodes: Vec<Node> = ["node-a", "node-b", "node-c", "node-d"]
            .iter()
            .map(|n| host(n))
            .collect();
        // Matching pods spread 2/1/0/3, maxSkew 1 and 2.
        let pods = [2, 1, 0, 3];
        assert_eq!(
            scores(
                &[constraint(HOSTNAME_LABEL, 1, &pods)],
                &nodes,
                &[0, 1, 2, 3]
            ),
            [20, 60, 100, 0]
        );
        assert_eq!(
            scores(
                &[constraint(HOSTNAME_LABEL, 2, &pods)],
                &nodes,
                &[0, 1, 2, 3]
            ),
            [33, 66, 100, 16]
        );
        // Spread 4/3/2/1, maxSkew 3: the system default's hostname constraint alone.
        let pods = [4, 3, 2, 1];
        assert_eq!(
            scores(
                &[constraint(HOSTNAME_LABEL, 3, &pods)],
                &nodes,
                &[0, 1, 2, 3]
            ),
            [44, 66, 77, 100]
        );
        let mut out = Vec::new();
        spread_scores(
            &system_default_constraints(&pods),
            &nodes,
            &[0, 1, 2, 3],
            |_| true,
            false,
            &mut out,
        );
        assert_eq!(
            out,
            [44, 66, 77, 100],
            "system defaults, nodes without zones"
        );
    }

    #[test]
    fn only_candidates_count_towards_the_weight() {
        // 4/2/1 on the candidates, 3 on node-y which failed the filters.
        let nodes = [
            host("node-a"),
            host("node-b"),
            host("node-x"),
            host("node-y"),
        ];
        let pods = [4, 2, 1, 3];
        assert_eq!(
            scores(&[constraint(HOSTNAME_LABEL, 1, &pods)], &nodes, &[0, 1, 2]),
            [33, 83, 100]
        );
        // node-b lacks the topology key: ignored (0), and left out of the normalization.
        let nodes = [
            host("node-a"),
            NodeBuilder::new("node-b").label("n", "node-b").build(),
            host("node-x"),
            host("node-y"),
        ];
        assert_eq!(
            scores(&[constraint(HOSTNAME_LABEL, 1, &pods)], &nodes, &[0, 1, 2]),
            [16, 0, 100]
        );
    }

    #[test]
    fn zones_count_every_node_in_them() {
        // 4/2 in zone1, 1 (+3 on the failed node-y) in zone2.
        let nodes = [
            zoned("node-a", "zone1"),
            zoned("node-b", "zone1"),
            zoned("node-x", "zone2"),
            zoned("node-y", "zone2"),
        ];
        let pods = [4, 2, 1, 3];
        assert_eq!(
            scores(&[constraint("zone", 1, &pods)], &nodes, &[0, 1, 2]),
            [75, 75, 100]
        );
        // Zone and hostname, two candidates: 2/~1~/2/~4~.
        let nodes = [
            zoned("node-a", "zone1"),
            zoned("node-b", "zone1"),
            zoned("node-x", "zone2"),
            zoned("node-y", "zone2"),
        ];
        let pods = [2, 1, 2, 4];
        assert_eq!(
            scores(
                &[
                    constraint("zone", 1, &pods),
                    constraint(HOSTNAME_LABEL, 1, &pods)
                ],
                &nodes,
                &[0, 2]
            ),
            [100, 63]
        );
        // Different selectors per constraint: foo spreads 1/1/0/1 over zones, bar 0/1/0/1 over
        // nodes.
        let foo = [1, 1, 0, 1];
        let bar = [0, 1, 0, 1];
        assert_eq!(
            scores(
                &[
                    constraint("zone", 1, &foo),
                    constraint(HOSTNAME_LABEL, 1, &bar)
                ],
                &nodes,
                &[0, 1, 2, 3]
            ),
            [60, 20, 100, 60]
        );
    }

    #[test]
    fn excluded_nodes_do_not_count_and_equal_spreads_tie() {
        // Pods on a node the pod's affinity excludes do not count towards its zone.
        let nodes = [
            zoned("node-a", "zone1"),
            zoned("node-b", "zone1"),
            zoned("node-x", "zone2"),
        ];
        let pods = [0, 5, 1];
        let mut out = Vec::new();
        spread_scores(
            &[constraint("zone", 1, &pods)],
            &nodes,
            &[0, 2],
            |n| n.name != "node-b",
            true,
            &mut out,
        );
        // zone1 counts 0, zone2 counts 1: raw 0 and round(ln 4) = 1.
        assert_eq!(out, [100, 0]);
        // No matching pods anywhere: every candidate gets the top score.
        let none = [0, 0, 0];
        out.clear();
        spread_scores(
            &system_default_constraints(&none),
            &nodes,
            &[0, 1, 2],
            |_| true,
            false,
            &mut out,
        );
        assert_eq!(out, [100, 100, 100]);
    }
}
