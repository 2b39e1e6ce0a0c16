//! Soft taints of unneeded nodes, as `core/scaledown/actuation/softtaint.go`
//! (`UpdateSoftDeletionTaints`) and `utils/taints` put and clean them: every scan with
//! scale-down enabled, a node found unneeded gets `DeletionCandidateOfClusterAutoscaler=<time>:
//! PreferNoSchedule` and a node no longer unneeded loses it, so that kube-scheduler's
//! TaintToleration score steers new pods away from nodes about to go.
//!
//! At most `--max-bulk-soft-taint-count` nodes (default 10; 0 turns soft taints off) change per
//! scan, the needed nodes' cleaning first, then the unneeded nodes' marking, each in node
//! order. Nodes already tainted `ToBeDeletedByClusterAutoscaler` are left alone. Upstream also
//! stops after `--max-bulk-soft-taint-time` (3s) of API calls; capsim's API calls take no time,
//! so only the count binds.

use crate::cluster::node::Node;
use crate::cluster::spec::{Taint, TaintEffect};
use crate::controllers::cluster_autoscaler::TO_BE_DELETED_TAINT_KEY;
use crate::units::{MICROS_PER_SECOND, SimTime};

/// The soft taint's key (`taints.DeletionCandidateTaint`).
pub const DELETION_CANDIDATE_TAINT_KEY: &str = "DeletionCandidateOfClusterAutoscaler";

/// The soft taint put on a node found unneeded at `now`. Upstream's value is the Unix time of
/// the marking; capsim's is the simulated second of it. Only the key and effect matter to the
/// scheduler (a toleration could match the value, but none sensibly does).
pub fn deletion_candidate_taint(now: SimTime) -> Taint {
    Taint {
        key: DELETION_CANDIDATE_TAINT_KEY.to_string(),
        value: (now.0 / MICROS_PER_SECOND).to_string(),
        effect: TaintEffect::PreferNoSchedule,
    }
}

/// Whether `node` carries a taint with `key`.
fn has_taint(node: &Node, key: &str) -> bool {
    node.taints.iter().any(|t| t.key == key)
}

/// `UpdateSoftDeletionTaints`: the soft-taint changes of one scan, as (index into `nodes`,
/// whether to mark it) pairs. `selected(i)`: node `i` belongs to a node group the autoscaler
/// manages; `unneeded(i)`: the planner found it unneeded. Needed nodes that carry the taint are
/// cleaned first, then unneeded ones without it are marked, `budget` changes in all.
pub(in crate::controllers::cluster_autoscaler) fn soft_taint_actions(
    nodes: &[Node],
    selected: impl Fn(usize) -> bool,
    unneeded: impl Fn(usize) -> bool,
    budget: usize,
) -> Vec<(usize, bool)> {
    let mut changes = Vec::new();
    if budget == 0 {
        return changes;
    }
    let untouched = |i: usize| selected(i) && !has_taint(&nodes[i], TO_BE_DELETED_TAINT_KEY);
    let tainted = |i: usize| has_taint(&nodes[i], DELETION_CANDIDATE_TAINT_KEY);
    let clean = (0..nodes.len()).filter(|&i| untouched(i) && !unneeded(i) && tainted(i));
    let mark = (0..nodes.len()).filter(|&i| untouched(i) && unneeded(i) && !tainted(i));
    changes.extend(
        clean
            .map(|i| (i, false))
            .chain(mark.map(|i| (i, true)))
            .take(budget),
    );
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::testing::NodeBuilder;

    /// Applies `changes` to `nodes` as the simulation does.
    fn apply(nodes: &mut [Node], changes: &[(usize, bool)], now: SimTime) {
        for &(i, mark) in changes {
            if mark {
                nodes[i].taints.push(deletion_candidate_taint(now));
            } else {
                nodes[i]
                    .taints
                    .retain(|t| t.key != DELETION_CANDIDATE_TAINT_KEY);
            }
        }
    }

    fn count(nodes: &[Node]) -> usize {
        nodes
            .iter()
            .filter(|n| has_taint(n, DELETION_CANDIDATE_TAINT_KEY))
            .count()
    }

    /// `TestSoftTaintUpdate` (cluster-autoscaler 1.37,
    /// `core/scaledown/actuation/softtaint_test.go`), step by step, with
    /// `MaxBulkSoftTaintCount: 1` and two nodes n1000 and n2000 of one node group.
    #[test]
    fn soft_taints_follow_upstream_update_steps() {
        let mut nodes = vec![
            NodeBuilder::new("n1000").build(),
            NodeBuilder::new("n2000").build(),
        ];
        let t = SimTime::ZERO;
        let all = |_: usize| true;
        let none = |_: usize| false;
        // No superfluous nodes: nothing tainted.
        let c = soft_taint_actions(&nodes, all, none, 1);
        apply(&mut nodes, &c, t);
        assert_eq!(count(&nodes), 0);
        // One unneeded node (n1000), n2000 needed.
        let c = soft_taint_actions(&nodes, all, |i| i == 0, 1);
        apply(&mut nodes, &c, t);
        assert!(has_taint(&nodes[0], DELETION_CANDIDATE_TAINT_KEY));
        assert!(!has_taint(&nodes[1], DELETION_CANDIDATE_TAINT_KEY));
        // Remove the soft taint: both needed.
        let c = soft_taint_actions(&nodes, all, none, 1);
        apply(&mut nodes, &c, t);
        assert_eq!(count(&nodes), 0);
        // Bulk taint limit: both unneeded, one per update.
        for want in [1, 2] {
            let c = soft_taint_actions(&nodes, all, all, 1);
            apply(&mut nodes, &c, t);
            assert_eq!(count(&nodes), want);
        }
        // Bulk untaint limit: both needed, one per update.
        for want in [1, 0] {
            let c = soft_taint_actions(&nodes, all, none, 1);
            apply(&mut nodes, &c, t);
            assert_eq!(count(&nodes), want);
        }
    }

    #[test]
    fn cleaning_comes_first_and_nodes_being_deleted_are_left_alone() {
        let mut nodes: Vec<Node> = (0..5)
            .map(|k| NodeBuilder::new(&format!("n{k}")).build())
            .collect();
        nodes[3]
            .taints
            .push(deletion_candidate_taint(SimTime::ZERO));
        nodes[4]
            .taints
            .push(crate::controllers::cluster_autoscaler::to_be_deleted_taint());
        // Nodes 0, 1 and 4 unneeded; 2 and 3 needed; node 3 carries the soft taint.
        let unneeded = |i: usize| [0, 1, 4].contains(&i);
        let all = |_: usize| true;
        assert_eq!(
            soft_taint_actions(&nodes, all, unneeded, 10),
            [(3, false), (0, true), (1, true)],
            "node 4 is being deleted"
        );
        // A budget of 2: the cleaning, then the first marking.
        assert_eq!(
            soft_taint_actions(&nodes, all, unneeded, 2),
            [(3, false), (0, true)]
        );
        // 0 turns soft taints off.
        assert!(soft_taint_actions(&nodes, all, unneeded, 0).is_empty());
        // Nodes outside the managed node groups are never touched.
        assert_eq!(
            soft_taint_actions(&nodes, |i| i != 3 && i != 0, unneeded, 10),
            [(1, true)]
        );
    }

    #[test]
    fn the_taint_prefers_no_schedule_with_the_marking_second() {
        let t = deletion_candidate_taint(SimTime::ZERO + crate::units::SimDuration::from_secs(75));
        assert_eq!(
            (t.key.as_str(), t.value.as_str(), t.effect),
            (
                DELETION_CANDIDATE_TAINT_KEY,
                "75",
                TaintEffect::PreferNoSchedule
            )
        );
    }
}
