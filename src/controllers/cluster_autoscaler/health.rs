//! Readiness of the cluster and of each node group, as cluster-autoscaler's `clusterstate`
//! judges it (`IsClusterHealthy`, `IsNodeGroupHealthy`), and the reason of the deletion of VMs
//! whose creation failed.
//!
//! A node is unready when it carries the node lifecycle controller's
//! `node.kubernetes.io/unreachable` taint (capsim's nodes are otherwise Ready from their
//! registration). The cluster is unhealthy when more than `--ok-total-unready-count` (3) nodes
//! and more than `--max-total-unready-percentage` (45%) of them are unready: the autoscaler
//! then neither scales up nor down. A node group is unhealthy, and not scaled up, when more
//! than 3 of the nodes it should have Ready, and more than 45% of its nodes, are not Ready.

use crate::cluster::node::Node;
use crate::cluster::pool::UNREACHABLE_TAINT_KEY;

/// `--ok-total-unready-count`: unready nodes that never make the cluster or a group unhealthy.
pub const OK_TOTAL_UNREADY_COUNT: usize = 3;

/// `--max-total-unready-percentage`.
pub const MAX_TOTAL_UNREADY_PERCENTAGE: f64 = 45.0;

/// Whether `node` is not Ready (its kubelet stopped reporting).
pub fn unready(node: &Node) -> bool {
    node.taints.iter().any(|t| t.key == UNREACHABLE_TAINT_KEY)
}

/// Whether `unready` of `total` nodes is more than both allowances.
fn too_many(unready: usize, total: usize) -> bool {
    unready > OK_TOTAL_UNREADY_COUNT
        && unready as f64 > MAX_TOTAL_UNREADY_PERCENTAGE / 100.0 * total as f64
}

/// `IsClusterHealthy`: whether the registered `nodes` have few enough unready ones.
pub fn cluster_healthy(nodes: &[Node]) -> bool {
    !too_many(nodes.iter().filter(|n| unready(n)).count(), nodes.len())
}

/// `IsNodeGroupHealthy` for every pool: `upcoming[p]` of pool `p`'s nodes are on their way, of
/// which its scale-up in flight (`scaling_up(p)`) accounts for all. The nodes the group
/// should have Ready (upstream's acceptable minimum: its target size less the nodes of the
/// scale-up in flight) less those that are, when more than the allowances of the group's
/// registered nodes, make it unhealthy.
pub fn healthy_groups(
    pool_count: usize,
    nodes: &[Node],
    upcoming: &[u32],
    scaling_up: impl Fn(usize) -> bool,
) -> Vec<bool> {
    let mut ready = vec![0usize; pool_count];
    let mut registered = vec![0usize; pool_count];
    for node in nodes {
        let p = usize::from(node.pool.0);
        if p < pool_count {
            registered[p] += 1;
            ready[p] += usize::from(!unready(node));
        }
    }
    (0..pool_count)
        .map(|p| {
            let coming = upcoming.get(p).copied().unwrap_or(0) as usize;
            let min_nodes = if scaling_up(p) {
                registered[p]
            } else {
                registered[p] + coming
            };
            let unjustified = min_nodes.saturating_sub(ready[p]);
            !too_many(unjustified, registered[p])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::spec::{Taint, TaintEffect};
    use crate::controllers::cluster_autoscaler::testing::{pool, registered};

    /// Per pool index: (its pool, Ready nodes, unready nodes).
    fn nodes(groups: &[(usize, usize, usize)]) -> Vec<Node> {
        let pools: Vec<_> = (0..4)
            .map(|p| pool(&format!("p{p}"), 4, 16, 0, 10))
            .collect();
        let mut out = Vec::new();
        for &(p, ready, unready) in groups {
            for i in 0..ready + unready {
                let mut n = registered(&pools, p, out.len() as u32);
                if i >= ready {
                    n.taints.push(Taint {
                        key: UNREACHABLE_TAINT_KEY.to_string(),
                        value: String::new(),
                        effect: TaintEffect::NoExecute,
                    });
                }
                out.push(n);
            }
        }
        out
    }

    /// After upstream's `TestUnreadyNodes`/`TestIsClusterHealthy`-style cases
    /// (clusterstate_test.go): more than 3 and more than 45% unready.
    #[test]
    fn the_cluster_is_unhealthy_past_both_allowances() {
        assert!(
            cluster_healthy(&nodes(&[(0, 0, 3)])),
            "3 unready are allowed"
        );
        assert!(!cluster_healthy(&nodes(&[(0, 0, 4)])));
        assert!(
            cluster_healthy(&nodes(&[(0, 6, 4)])),
            "4 of 10 is below 45%"
        );
        assert!(
            !cluster_healthy(&nodes(&[(0, 5, 5)])),
            "5 of 10 is above 45%"
        );
        assert!(
            cluster_healthy(&nodes(&[(0, 8, 4), (1, 0, 0)])),
            "a dead zone of 3"
        );
    }

    #[test]
    fn a_group_of_unready_nodes_is_unhealthy_past_both_allowances() {
        let n = nodes(&[(0, 0, 3), (1, 0, 4), (2, 4, 0), (3, 5, 4)]);
        let healthy = healthy_groups(4, &n, &[0, 0, 0, 0], |_| false);
        assert_eq!(healthy, [true, false, true, true]);
        // Nodes on their way outside a scale-up should be Ready too: 2 Ready of 2 + 4 wanted.
        let n = nodes(&[(0, 2, 0)]);
        assert_eq!(healthy_groups(1, &n, &[4], |_| false), [false]);
        assert_eq!(
            healthy_groups(1, &n, &[4], |_| true),
            [true],
            "a scale-up's own"
        );
    }
}
