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

/// The zone topology label, the one the pools' zones set.
pub use crate::cluster::pool::ZONE_LABEL;

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
    let topology = LabelTopology::new(constraints, nodes, include);
    spread_scores_over(
        constraints,
        &topology,
        feasible,
        require_all_topologies,
        out,
    );
}

/// What spreading reads of the nodes: each node's topology domain per constraint, and whether
/// it counts towards its domain's pods.
pub(crate) trait Topology {
    /// How many nodes there are.
    fn nodes(&self) -> usize;
    /// The domain of node `i` under constraint `c`, `None` when the node lacks the key. For a
    /// hostname constraint only presence matters; otherwise ids are below `domains(c)`, and a
    /// node whose label is empty is in `EMPTY_DOMAIN`.
    fn domain(&self, c: usize, i: usize) -> Option<u32>;
    /// How many domain ids constraint `c` uses.
    fn domains(&self, c: usize) -> usize;
    /// Whether node `i` passes the inclusion policy.
    fn included(&self, i: usize) -> bool;

    /// Adds the `matching_pods` of every included node to its domain under constraint `c`
    /// (domains no candidate is in, `None`, stay out), as `PreScore` does without
    /// `require_all_topologies`. A topology that knows the nodes by groups can count per group.
    fn count_included(&self, c: usize, matching_pods: &[u32], domains: &mut [Option<i64>]) {
        count_included_by_node(self, c, matching_pods, domains);
    }
}

/// `Topology::count_included` node by node.
pub(crate) fn count_included_by_node<T: Topology + ?Sized>(
    topology: &T,
    c: usize,
    matching_pods: &[u32],
    domains: &mut [Option<i64>],
) {
    for i in 0..topology.nodes() {
        if !topology.included(i) {
            continue;
        }
        let domain = topology.domain(c, i).unwrap_or(EMPTY_DOMAIN) as usize;
        if let Some(count) = &mut domains[domain] {
            *count += i64::from(matching_pods.get(i).copied().unwrap_or(0));
        }
    }
}

/// The domain of the empty label value, where a node without the key counts too.
pub(crate) const EMPTY_DOMAIN: u32 = 0;

/// `spread_scores` over any `Topology`.
pub(crate) fn spread_scores_over(
    constraints: &[SpreadConstraint<'_>],
    topology: &impl Topology,
    feasible: &[usize],
    require_all_topologies: bool,
    out: &mut Vec<u64>,
) {
    let cycle = Cycle {
        constraints,
        hostname: constraints
            .iter()
            .map(|c| c.topology_key == HOSTNAME_LABEL)
            .collect(),
        topology,
        require_all_topologies,
    };
    let (mut domains, weights) = cycle.init_pre_score_state(feasible);
    cycle.pre_score(&mut domains);
    let start = out.len();
    for &i in feasible {
        let score = if cycle.ignored(i) {
            0
        } else {
            cycle.score(i, &domains, &weights)
        };
        out.push(score);
    }
    cycle.normalize_score(feasible, &mut out[start..]);
}

/// Node labels read directly: each constraint's values interned per call, the empty value
/// first.
struct LabelTopology {
    /// Per constraint, per node.
    domains: Vec<Vec<Option<u32>>>,
    /// Per constraint.
    domain_counts: Vec<usize>,
    included: Vec<bool>,
}

impl LabelTopology {
    fn new(
        constraints: &[SpreadConstraint<'_>],
        nodes: &[Node],
        include: impl Fn(&Node) -> bool,
    ) -> LabelTopology {
        let mut domains = Vec::with_capacity(constraints.len());
        let mut domain_counts = Vec::with_capacity(constraints.len());
        for c in constraints {
            let mut values: Vec<&str> = vec![""];
            let per_node = nodes
                .iter()
                .map(|node| {
                    let value = node.labels.get(c.topology_key)?;
                    if c.topology_key == HOSTNAME_LABEL {
                        return Some(EMPTY_DOMAIN);
                    }
                    let position = values.iter().position(|v| v == value).unwrap_or_else(|| {
                        values.push(value);
                        values.len() - 1
                    });
                    Some(u32::try_from(position).expect("fewer domains than 2^32"))
                })
                .collect();
            domains.push(per_node);
            domain_counts.push(values.len());
        }
        LabelTopology {
            domains,
            domain_counts,
            included: nodes.iter().map(include).collect(),
        }
    }
}

impl Topology for LabelTopology {
    fn nodes(&self) -> usize {
        self.included.len()
    }

    fn domain(&self, c: usize, i: usize) -> Option<u32> {
        self.domains[c][i]
    }

    fn domains(&self, c: usize) -> usize {
        self.domain_counts[c]
    }

    fn included(&self, i: usize) -> bool {
        self.included[i]
    }
}

/// `x.round() as u64` (half away from zero, negative to 0) without the libm call for the usual
/// case: below 2^52 the fraction `x - trunc(x)` is exact, so comparing it with 0.5 rounds as
/// `round` does.
fn round_to_u64(x: f64) -> u64 {
    const EXACT_BELOW: f64 = 4_503_599_627_370_496.0; // 2^52
    if (0.0..EXACT_BELOW).contains(&x) {
        let whole = x as u64;
        if x - whole as f64 >= 0.5 {
            whole + 1
        } else {
            whole
        }
    } else {
        x.round() as u64
    }
}

/// The pods counted in each topology domain of one constraint, by domain id; `None` for a
/// domain no candidate node is in. Hostname constraints keep none; a node's own count stands
/// for its domain.
type Domains = Vec<Option<i64>>;

/// One scoring cycle's constraints and nodes, with the checks every step repeats.
struct Cycle<'a, 'c, T> {
    constraints: &'a [SpreadConstraint<'c>],
    /// Per constraint: whether its key is the hostname (compared once, not per node).
    hostname: Vec<bool>,
    topology: &'a T,
    require_all_topologies: bool,
}

impl<T: Topology> Cycle<'_, '_, T> {
    /// Whether node `i` carries every constraint's topology key.
    fn has_all(&self, i: usize) -> bool {
        (0..self.constraints.len()).all(|c| self.topology.domain(c, i).is_some())
    }

    /// Whether node `i` is left out, scoring 0: it lacks a topology key the pod's own
    /// constraints need.
    fn ignored(&self, i: usize) -> bool {
        self.require_all_topologies && !self.has_all(i)
    }

    /// The domain node `i` counts in under constraint `c`: a missing key counts as empty.
    fn domain_of(&self, c: usize, i: usize) -> usize {
        self.topology.domain(c, i).unwrap_or(EMPTY_DOMAIN) as usize
    }

    /// `initPreScoreState`: the domains of the candidate nodes, and each constraint's weight,
    /// `ln(domains + 2)` (for hostname, the candidates count as domains).
    fn init_pre_score_state(&self, feasible: &[usize]) -> (Vec<Domains>, Vec<f64>) {
        let mut domains: Vec<Domains> = self
            .constraints
            .iter()
            .enumerate()
            .map(|(c, _)| {
                let size = if self.hostname[c] {
                    0
                } else {
                    self.topology.domains(c)
                };
                vec![None; size]
            })
            .collect();
        let mut scored = 0;
        for &i in feasible.iter().filter(|&&i| !self.ignored(i)) {
            scored += 1;
            for (c, domain) in domains.iter_mut().enumerate() {
                if !self.hostname[c] {
                    domain[self.domain_of(c, i)].get_or_insert(0);
                }
            }
        }
        let weights = self
            .hostname
            .iter()
            .zip(&domains)
            .map(|(&hostname, domain)| {
                let size = if hostname {
                    scored
                } else {
                    domain.iter().flatten().count()
                };
                ((size + 2) as f64).ln()
            })
            .collect();
        (domains, weights)
    }

    /// `PreScore`: the matching pods of every included node counted into its domain.
    fn pre_score(&self, domains: &mut [Domains]) {
        if !self.require_all_topologies {
            for (c, (constraint, domain)) in
                self.constraints.iter().zip(domains.iter_mut()).enumerate()
            {
                if !self.hostname[c] {
                    self.topology
                        .count_included(c, constraint.matching_pods, domain);
                }
            }
            return;
        }
        for i in 0..self.topology.nodes() {
            if !self.has_all(i) || !self.topology.included(i) {
                continue;
            }
            for (c, (constraint, domain)) in
                self.constraints.iter().zip(domains.iter_mut()).enumerate()
            {
                if self.hostname[c] {
                    continue;
                }
                if let Some(count) = &mut domain[self.domain_of(c, i)] {
                    *count += i64::from(constraint.matching_pods.get(i).copied().unwrap_or(0));
                }
            }
        }
    }

    /// `Score` of node `i`: over the constraints whose key it carries, the pods in its domain
    /// times the constraint's weight, plus `maxSkew - 1`, rounded.
    fn score(&self, i: usize, domains: &[Domains], weights: &[f64]) -> u64 {
        let mut score = 0.0;
        for (c, ((constraint, domain), weight)) in self
            .constraints
            .iter()
            .zip(domains)
            .zip(weights)
            .enumerate()
        {
            let Some(value) = self.topology.domain(c, i) else {
                continue;
            };
            let count = if self.hostname[c] {
                i64::from(constraint.matching_pods.get(i).copied().unwrap_or(0))
            } else {
                domain[value as usize].unwrap_or(0)
            };
            score += count as f64 * weight + f64::from(constraint.max_skew) - 1.0;
        }
        round_to_u64(score)
    }

    /// `NormalizeScore`: fewer pods in the domain, higher score; `raw` holds the scores of
    /// `feasible`, in order.
    fn normalize_score(&self, feasible: &[usize], raw: &mut [u64]) {
        let considered = || {
            feasible
                .iter()
                .zip(raw.iter())
                .filter(|&(&i, _)| !self.ignored(i))
                .map(|(_, &s)| s)
        };
        let min = considered().min().unwrap_or(0);
        let max = considered().max().unwrap_or(0);
        for (&i, score) in feasible.iter().zip(raw.iter_mut()) {
            *score = if self.ignored(i) {
                0
            } else {
                (MAX_NODE_SCORE * (max + min - *score))
                    .checked_div(max)
                    .unwrap_or(MAX_NODE_SCORE)
            };
        }
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

    /// Scores under kube-scheduler's system default constraints: every node included, a
    /// missing label scored as a domain of its own.
    fn default_scores(pods: &[u32], nodes: &[Node], feasible: &[usize]) -> Vec<u64> {
        let mut out = Vec::new();
        let constraints = system_default_constraints(pods);
        spread_scores(&constraints, nodes, feasible, |_| true, false, &mut out);
        out
    }

    #[test]
    fn round_to_u64_rounds_as_round_does() {
        let below_half = 0.5 - f64::EPSILON / 4.0;
        let cases = [
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            below_half,
            1.0 + below_half,
            2.499_999_999_999_999_6,
            12.7,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            1e300,
            -0.4,
            -2.5,
            f64::NAN,
            f64::INFINITY,
        ];
        for x in cases {
            assert_eq!(round_to_u64(x), x.round() as u64, "{x}");
        }
        for k in 0..10_000u32 {
            let x = f64::from(k) * 0.013_862_943_611_198_906 + 2.0;
            assert_eq!(round_to_u64(x), x.round() as u64, "{x}");
        }
    }

    #[test]
    fn one_constraint_on_hostname() {
        let nodes: Vec<Node> = ["node-a", "node-b", "node-c", "node-d"]
            .iter()
            .map(|n| host(n))
            .collect();
        let all = [0, 1, 2, 3];
        // (matching pods per node, maxSkew, scores)
        let cases = [
            // Spread 2/1/0/3, maxSkew 1 and 2.
            ([2, 1, 0, 3], 1, [20, 60, 100, 0]),
            ([2, 1, 0, 3], 2, [33, 66, 100, 16]),
            // Spread 4/3/2/1, maxSkew 3: the system default's hostname constraint alone.
            ([4, 3, 2, 1], 3, [44, 66, 77, 100]),
        ];
        for (pods, skew, want) in cases {
            let got = scores(&[constraint(HOSTNAME_LABEL, skew, &pods)], &nodes, &all);
            assert_eq!(got, want, "{pods:?}, maxSkew {skew}");
        }
        assert_eq!(
            default_scores(&[4, 3, 2, 1], &nodes, &all),
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
        // A zone constraint over `zone` and a hostname one over `host`, both maxSkew 1.
        let both = |zone: &[u32], host: &[u32], feasible: &[usize]| {
            let constraints = [
                constraint("zone", 1, zone),
                constraint(HOSTNAME_LABEL, 1, host),
            ];
            scores(&constraints, &nodes, feasible)
        };
        // Zone and hostname, two candidates: 2/~1~/2/~4~.
        let pods = [2, 1, 2, 4];
        assert_eq!(both(&pods, &pods, &[0, 2]), [100, 63]);
        // Different selectors per constraint: foo spreads 1/1/0/1 over zones, bar 0/1/0/1 over
        // nodes.
        let foo = [1, 1, 0, 1];
        let bar = [0, 1, 0, 1];
        assert_eq!(both(&foo, &bar, &[0, 1, 2, 3]), [60, 20, 100, 60]);
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
        assert_eq!(
            default_scores(&[0, 0, 0], &nodes, &[0, 1, 2]),
            [100, 100, 100]
        );
    }
}
