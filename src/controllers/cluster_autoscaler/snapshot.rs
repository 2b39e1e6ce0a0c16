//! The cluster as the Cluster Autoscaler simulates it during one scan: the registered nodes, then
//! a template node for every node asked for and not yet registered (upstream's
//! `ClusterSnapshot` with its upcoming nodes).
//!
//! Use `Snapshot::filter_out_schedulable` first: pending pods that fit on a registered node with
//! room or on an upcoming node are placed there and need no new node, so nodes already on their
//! way absorb the pods they were asked for. The scale-down simulation then places pods on top of
//! the same snapshot and takes them off again. Nothing here changes the observed cluster.
//!
//! Placement is first-fit over the nodes in index order (registered nodes in observation order,
//! then upcoming ones pool by pool). Upstream's scheduling simulator starts each search after the
//! node it last chose and first tries the node a pod was placed on in the previous loop; which
//! node receives a pod can differ, whether it fits anywhere does not.

use crate::cluster::node::Node;
use crate::cluster::pool::NodePool;
use crate::cluster::scheduler::{PlacementFilters, PodGroups, fits};
use crate::cluster::spec::PodSpec;
use crate::controllers::cluster_autoscaler::estimator::template_node;

/// Registered and upcoming nodes with the pods the simulation has placed on them.
#[derive(Debug, Clone)]
pub(super) struct Snapshot {
    /// Registered nodes (same indices as the observation), then upcoming ones.
    pub(super) nodes: Vec<Node>,
    /// How many of `nodes` are registered.
    pub(super) registered: usize,
    /// Nodes that take no pod: being deleted by the autoscaler.
    pub(super) closed: Vec<bool>,
    /// Per node, the services of the pods this scan expects to land there (pending pods and
    /// pods of nodes being deleted), beyond those bound to it.
    pub(super) assigned: Vec<Vec<usize>>,
    /// The specs (placement groups) whose pods declare inter-pod (anti-)affinity
    /// (`PodGroups::with_pod_affinity` of the scan's specs): what PodTopologySpread and
    /// InterPodAffinity need, with the nodes' pods, to filter as the scheduler does.
    pub(super) affinity_groups: Vec<u32>,
}

impl Snapshot {
    /// The registered `nodes` (`closed[i]` for those being deleted) and `upcoming[p]` template
    /// nodes of each pool `p`.
    pub(super) fn new(
        nodes: &[Node],
        closed: &[bool],
        pools: &[NodePool],
        upcoming: &[u32],
    ) -> Snapshot {
        let mut all = nodes.to_vec();
        let mut is_closed: Vec<bool> = (0..nodes.len())
            .map(|i| closed.get(i).copied().unwrap_or(false))
            .collect();
        for (p, pool) in pools.iter().enumerate() {
            for k in 0..upcoming.get(p).copied().unwrap_or(0) {
                all.push(template_node(
                    p,
                    pool,
                    format!("{}-upcoming-{k}", pool.name),
                ));
                is_closed.push(false);
            }
        }
        Snapshot {
            assigned: vec![Vec::new(); all.len()],
            nodes: all,
            registered: nodes.len(),
            closed: is_closed,
            affinity_groups: Vec::new(),
        }
    }

    /// The first open node, in index order, accepted by `accept` and passing every scheduler
    /// filter for `pod`, those that count the pods on the nodes (whose specs are `specs`)
    /// included.
    pub(super) fn first_fit(
        &self,
        pod: &PodSpec,
        specs: &[PodSpec],
        accept: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let groups = PodGroups {
            specs,
            with_pod_affinity: &self.affinity_groups,
        };
        let filters = PlacementFilters::new(pod, &self.nodes, &groups);
        (0..self.nodes.len()).find(|&i| {
            !self.closed[i]
                && accept(i)
                && fits(pod, &self.nodes[i])
                && (filters.is_empty() || filters.check(&self.nodes[i]).is_ok())
        })
    }

    /// Binds `pod` to node `i` for a trial, to be undone with `unplace`.
    pub(super) fn place(&mut self, i: usize, pod: &PodSpec) {
        self.nodes[i].add_pod(pod);
    }

    /// Takes `pod` off node `i` again (undoing `place`).
    pub(super) fn unplace(&mut self, i: usize, pod: &PodSpec) {
        self.nodes[i].remove_pod(pod);
    }

    /// Binds a pod of `service` to node `i` for the rest of the scan: the scale-down simulation
    /// then counts it as one of the node's pods.
    pub(super) fn assign(&mut self, i: usize, service: usize, pod: &PodSpec) {
        self.nodes[i].add_pod(pod);
        self.assigned[i].push(service);
    }

    /// Places the pending pods (service indices, oldest first) that fit on any open node:
    /// upstream's `FilterOutSchedulable` pod list processor. Returns, per pending pod, the node
    /// it was placed on (`None` for the pods still pending, which need a new node).
    ///
    /// Once a pod of a service fails to fit, its later pods are not tried (upstream skips pods
    /// similar to one found unschedulable in the same pass). Pods of unknown services are kept.
    pub(super) fn filter_out_schedulable(
        &mut self,
        pending: &[usize],
        pod_specs: &[PodSpec],
    ) -> Vec<Option<usize>> {
        let mut failed = vec![false; pod_specs.len()];
        let mut placed = Vec::with_capacity(pending.len());
        for &service in pending {
            let Some(pod) = pod_specs.get(service) else {
                placed.push(None);
                continue;
            };
            if failed[service] {
                placed.push(None);
                continue;
            }
            let node = self.first_fit(pod, pod_specs, |_| true);
            match node {
                Some(i) => self.assign(i, service, pod),
                None => failed[service] = true,
            }
            placed.push(node);
        }
        placed
    }

    /// The pool of node `i` when it is an upcoming node (not registered).
    pub(super) fn upcoming_pool(&self, i: usize) -> Option<usize> {
        (i >= self.registered).then(|| usize::from(self.nodes[i].pool.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::node::HOSTNAME_LABEL;
    use crate::controllers::cluster_autoscaler::testing::{pod, pool, registered};

    #[test]
    fn upcoming_nodes_follow_registered_ones_and_are_built_from_the_pool() {
        let pools = [pool("a", 4, 16, 1, 5), pool("b", 8, 32, 1, 5)];
        let nodes = [registered(&pools, 0, 0)];
        let s = Snapshot::new(&nodes, &[false], &pools, &[1, 2]);
        let names: Vec<&str> = s.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(
            names,
            ["a-0", "a-upcoming-0", "b-upcoming-0", "b-upcoming-1"]
        );
        assert_eq!(s.registered, 1);
        assert_eq!(s.nodes[2].allocatable, pools[1].allocatable);
        assert_eq!(s.nodes[2].labels[HOSTNAME_LABEL], "b-upcoming-0");
    }

    #[test]
    fn pending_pods_fill_room_and_upcoming_nodes_first() {
        let pools = [pool("a", 4, 16, 1, 5)];
        let specs = [pod(3_000, 1), pod(500, 1)];
        // The registered node runs one 3-CPU pod: 1 CPU left.
        let mut node = registered(&pools, 0, 0);
        node.add_pod(&specs[0]);
        let mut s = Snapshot::new(&[node], &[false], &pools, &[1]);
        // Pending: 3 CPU, 0.5 CPU, 3 CPU, 3 CPU, 0.5 CPU.
        // 3 CPU -> upcoming (4 free); 0.5 -> registered (1 free -> 0.5); 3 CPU: neither has 3
        // left, fails, so the later 3-CPU pod is not tried; 0.5 -> registered (0.5 -> 0).
        let placed = s.filter_out_schedulable(&[0, 1, 0, 0, 1], &specs);
        assert_eq!(placed, [Some(1), Some(0), None, None, Some(0)]);
        assert_eq!((s.upcoming_pool(0), s.upcoming_pool(1)), (None, Some(0)));
        assert_eq!(s.nodes[0].requested.cpu.0, 4_000);
        assert_eq!(s.nodes[1].requested.cpu.0, 3_000);
        assert_eq!(s.assigned, [vec![1, 1], vec![0]]);
    }

    #[test]
    fn closed_nodes_take_no_pods() {
        let pools = [pool("a", 4, 16, 1, 5)];
        let nodes = [registered(&pools, 0, 0), registered(&pools, 0, 1)];
        let mut s = Snapshot::new(&nodes, &[true, false], &pools, &[0]);
        let specs = [pod(1_000, 1)];
        assert_eq!(s.filter_out_schedulable(&[0], &specs), [Some(1)]);
        assert_eq!(s.nodes[0].pod_count, 0);
        assert_eq!(s.nodes[1].pod_count, 1);
        s.unplace(1, &specs[0]);
        assert_eq!(s.nodes[1].pod_count, 0);
    }
}
