//! Builders for the Cluster Autoscaler's unit tests: pools, nodes and pods in one line each,
//! and `World`, a cluster the tests change by hand with the autoscaler watching it.
//!
//! Test-only; nothing here is compiled into the library.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::cluster::node::{Node, NodeId, PoolId};
use crate::cluster::pool::{MachineType, NodePool, PoolAutoscaling};
use crate::cluster::spec::PodSpec;
use crate::controllers::cluster_autoscaler::scale_down::{
    DELETION_CANDIDATE_TAINT_KEY, TerminatingPod, deletion_candidate_taint,
};
use crate::controllers::cluster_autoscaler::spec::{ClusterAutoscalerSpec, Expander};
use crate::controllers::cluster_autoscaler::{CaAction, ClusterAutoscaler, ClusterObservation};
use crate::units::{Bytes, DurationDist, Resources, SimDuration, SimTime};

/// An autoscaled pool of `cpu` cores and `memory_gib` GiB nodes (allocatable = capacity),
/// `min..=max` nodes, 1 USD per hour, 110 pods per node, no per-pool thresholds.
pub(crate) fn pool(name: &str, cpu: u64, memory_gib: u64, min: u32, max: u32) -> NodePool {
    let capacity = Resources::new(cpu * 1_000, memory_gib * Bytes::GIB);
    NodePool {
        name: name.into(),
        group_of: name.into(),
        zone: None,
        machine: MachineType {
            name: "custom".into(),
            capacity,
            on_demand_usd_per_hour: 1.0,
            spot_usd_per_hour: None,
            speed: 1.0,
        },
        allocatable: capacity,
        initial_size: min,
        min_nodes: min,
        max_nodes: max,
        autoscaling: Some(PoolAutoscaling {
            cpu_threshold_percent: None,
            memory_threshold_percent: None,
            gpu_threshold_percent: None,
        }),
        spot: false,
        preemption_mean_lifetime: None,
        failures: None,
        price_usd_per_hour: 1.0,
        labels: Default::default(),
        taints: vec![],
        max_pods: 110,
        provisioning_delay: DurationDist::Constant(SimDuration::from_secs(60)),
    }
}

/// A registered node of `pools[p]` with identity `id`, named `<pool>-<id>`, created at 0.
pub(crate) fn registered(pools: &[NodePool], p: usize, id: u32) -> Node {
    Node::from_pool(NodeId(id), PoolId(p as u16), &pools[p], id, SimTime::ZERO)
}

/// A pod requesting `cpu_m` millicores and `memory_gib` GiB.
pub(crate) fn pod(cpu_m: u64, memory_gib: u64) -> PodSpec {
    PodSpec {
        requests: Resources::new(cpu_m, memory_gib * Bytes::GIB),
        has_cpu_request: true,
        has_memory_request: true,
        ..PodSpec::default()
    }
}

/// cluster-autoscaler's default flags with the given expander chain and `--max-nodes-total`.
pub(crate) fn spec(expanders: Vec<Expander>, max_nodes_total: u32) -> ClusterAutoscalerSpec {
    ClusterAutoscalerSpec {
        scan_interval: SimDuration::from_secs(10),
        expanders,
        priorities: Vec::new(),
        max_nodes_total,
        scale_down_enabled: true,
        scale_down_utilization_threshold: 0.5,
        scale_down_gpu_utilization_threshold: 0.5,
        scale_down_unneeded_time: SimDuration::from_secs(600),
        scale_down_delay_after_add: SimDuration::from_secs(600),
        scale_down_delay_after_delete: SimDuration::ZERO,
        scale_down_delay_after_failure: SimDuration::from_secs(180),
        max_node_provision_time: SimDuration::from_secs(900),
        // Off, as upstream's flag: these pools carry no labels, so alike machines would be
        // similar; the balancing tests turn it on.
        balance_similar_node_groups: false,
        max_scale_down_parallelism: 10,
        max_bulk_soft_taint_count: 10,
    }
}

pub(crate) fn secs(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}

pub(crate) fn mins(m: u64) -> SimTime {
    secs(m * 60)
}

/// A cluster the tests change by hand, and the autoscaler watching it.
pub(crate) struct World {
    pub(crate) pools: Vec<NodePool>,
    pub(crate) specs: Vec<PodSpec>,
    pub(crate) nodes: Vec<Node>,
    pub(crate) pods: Vec<Vec<usize>>,
    /// Per node: its terminating pods.
    pub(crate) terminating: Vec<Vec<TerminatingPod>>,
    pub(crate) pending: Vec<usize>,
    pub(crate) upcoming: Vec<Vec<SimTime>>,
    /// Per pool: VMs whose creation failed.
    pub(crate) creation_errors: Vec<u32>,
    /// Per service: what its disruption budget allows (`None`: no budget).
    pub(crate) disruptions_allowed: Vec<Option<u32>>,
    pub(crate) next_id: u32,
    pub(crate) ca: ClusterAutoscaler,
    pub(crate) rng: Xoshiro256PlusPlus,
}

impl World {
    pub(crate) fn new(
        ca_spec: ClusterAutoscalerSpec,
        pools: Vec<NodePool>,
        specs: Vec<PodSpec>,
    ) -> World {
        let ca = ClusterAutoscaler::new(&ca_spec, &pools);
        World {
            upcoming: vec![Vec::new(); pools.len()],
            creation_errors: vec![0; pools.len()],
            disruptions_allowed: vec![None; specs.len()],
            pools,
            specs,
            nodes: Vec::new(),
            pods: Vec::new(),
            terminating: Vec::new(),
            pending: Vec::new(),
            next_id: 0,
            ca,
            rng: Xoshiro256PlusPlus::seed_from_u64(5),
        }
    }

    /// Registers a node of pool `p` running pods of the given services.
    pub(crate) fn add_node(&mut self, p: usize, pods: &[usize]) -> NodeId {
        let id = NodeId(self.next_id);
        self.next_id += 1;
        let mut node = Node::from_pool(id, PoolId(p as u16), &self.pools[p], id.0, SimTime::ZERO);
        for &s in pods {
            node.add_pod(&self.specs[s]);
        }
        self.nodes.push(node);
        self.pods.push(pods.to_vec());
        self.terminating.push(Vec::new());
        id
    }

    pub(crate) fn scan(&mut self, now: SimTime) -> Vec<CaAction> {
        let obs = ClusterObservation {
            now,
            pools: &self.pools,
            pod_specs: &self.specs,
            nodes: &self.nodes,
            pods_on_node: &self.pods,
            terminating_on_node: &self.terminating,
            unschedulable: &self.pending,
            upcoming: &self.upcoming,
            creation_errors: &self.creation_errors,
            disruptions_allowed: &self.disruptions_allowed,
        };
        self.ca.scan(&obs, &mut self.rng).actions
    }

    /// Applies scale-ups and cancellations; deletions remove the node at once, its pods pending.
    pub(crate) fn apply(&mut self, actions: &[CaAction], now: SimTime) {
        for action in actions {
            match action {
                CaAction::ScaleUp { pool, count, .. } => {
                    self.upcoming[*pool].extend(std::iter::repeat_n(now, *count as usize));
                }
                CaAction::CancelUpcoming { pool, count, .. } => {
                    self.upcoming[*pool].drain(..*count as usize);
                }
                CaAction::DeleteFailedCreations { pool, count, .. } => {
                    self.creation_errors[*pool] -= *count;
                }
                CaAction::ScaleDown { node, .. } => {
                    let i = self
                        .nodes
                        .iter()
                        .position(|n| n.id == *node)
                        .expect("known node");
                    self.nodes.remove(i);
                    self.terminating.remove(i);
                    self.pending.extend(self.pods.remove(i));
                }
                CaAction::MarkDeletionCandidate { node } => {
                    let i = self.index(*node);
                    self.nodes[i].taints.push(deletion_candidate_taint(now));
                }
                CaAction::CleanDeletionCandidate { node } => {
                    let i = self.index(*node);
                    self.nodes[i]
                        .taints
                        .retain(|t| t.key != DELETION_CANDIDATE_TAINT_KEY);
                }
            }
        }
    }

    /// The index of node `id`.
    pub(crate) fn index(&self, id: NodeId) -> usize {
        self.nodes
            .iter()
            .position(|n| n.id == id)
            .expect("known node")
    }

    /// Removes the nodes `ids` (their deletion completed).
    pub(crate) fn remove(&mut self, ids: &[NodeId]) {
        while let Some(i) = self.nodes.iter().position(|n| ids.contains(&n.id)) {
            self.nodes.remove(i);
            self.pods.remove(i);
            self.terminating.remove(i);
        }
    }

    /// One upcoming node of pool `p` registers and the scheduler binds what pending pods fit.
    pub(crate) fn register(&mut self, p: usize) {
        self.upcoming[p].remove(0);
        let id = self.add_node(p, &[]);
        let i = self
            .nodes
            .iter()
            .position(|n| n.id == id)
            .expect("just added");
        let mut still = Vec::new();
        for s in std::mem::take(&mut self.pending) {
            if crate::cluster::scheduler::fits(&self.specs[s], &self.nodes[i]) {
                self.nodes[i].add_pod(&self.specs[s]);
                self.pods[i].push(s);
            } else {
                still.push(s);
            }
        }
        self.pending = still;
    }
}

pub(crate) fn scale_ups(actions: &[CaAction]) -> Vec<(usize, u32)> {
    actions
        .iter()
        .filter_map(|a| match a {
            CaAction::ScaleUp { pool, count, .. } => Some((*pool, *count)),
            _ => None,
        })
        .collect()
}

pub(crate) fn scale_downs(actions: &[CaAction]) -> Vec<NodeId> {
    actions
        .iter()
        .filter_map(|a| match a {
            CaAction::ScaleDown { node, .. } => Some(*node),
            _ => None,
        })
        .collect()
}
