//! The scheduling cycle: find feasible nodes, score them, pick the best, as kube-scheduler's
//! `schedulePod` does for the default profile.
//!
//! Use `Scheduler` for one placement decision at a time; it keeps the rotating start index
//! kube-scheduler keeps between cycles and reuses its buffers, so scheduling a pod allocates
//! nothing per node visited on the success path. It does not bind the pod or change any node:
//! the simulation applies the decision. Per-pod values (non-zero requests, the tolerations that
//! matter for scoring, which score plugins skip) are computed once per cycle, as kube-scheduler's
//! PreFilter and PreScore write them to its CycleState. Given label classes, NodeAffinity is
//! evaluated once per class; NodeResourcesFit's and BalancedAllocation's scores are remembered
//! per node until the node's or the pod's requests change. Neither changes a decision.
//!
//! Filtering visits nodes from `nextStartNodeIndex` and stops after
//! `num_feasible_nodes_to_find` feasible ones, like `findNodesThatPassFilters`, but sequentially:
//! kube-scheduler checks nodes in parallel, so which feasible nodes it finds first is not
//! deterministic there; here it is, and the same seed gives the same placements.

use rand::{Rng, RngExt};

use crate::cluster::node::Node;
use crate::cluster::placement::{TopologySpreadConstraint, WhenUnsatisfiable};
use crate::cluster::scheduler::label_class::{
    ClassTopology, ClassVerdicts, ClassifiedNodes, reads_hostname,
};
use crate::cluster::scheduler::{
    FitError, KubernetesVersion, PlacementFilters, PodGroups, ResourceWeights, ScoringStrategy,
    balanced_allocation, default_normalize_score, first_failing_plugin, inter_pod_affinity,
    node_affinity, node_resources_fit, node_unschedulable, pod_topology_spread,
    pod_topology_spread_filter, taint_toleration,
};
use crate::cluster::spec::{PodSpec, Toleration};
use crate::units::Resources;
use resource_scores::ResourceScores;

/// Weights of the score plugins in the weighted total (`profiles[].plugins.score` weights).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PluginWeights {
    /// TaintToleration (default 3).
    pub taint_toleration: u64,
    /// NodeAffinity (default 2).
    pub node_affinity: u64,
    /// NodeResourcesFit (default 1).
    pub node_resources_fit: u64,
    /// NodeResourcesBalancedAllocation (default 1).
    pub balanced_allocation: u64,
    /// PodTopologySpread (default 2).
    pub pod_topology_spread: u64,
    /// InterPodAffinity (default 2).
    pub inter_pod_affinity: u64,
}

impl Default for PluginWeights {
    /// kube-scheduler's default profile: TaintToleration 3, NodeAffinity 2, NodeResourcesFit 1,
    /// NodeResourcesBalancedAllocation 1, PodTopologySpread 2.
    fn default() -> PluginWeights {
        PluginWeights {
            taint_toleration: 3,
            node_affinity: 2,
            node_resources_fit: 1,
            balanced_allocation: 1,
            pod_topology_spread: 2,
            inter_pod_affinity: 2,
        }
    }
}

impl PluginWeights {
    fn all_zero(&self) -> bool {
        *self
            == PluginWeights {
                taint_toleration: 0,
                node_affinity: 0,
                node_resources_fit: 0,
                balanced_allocation: 0,
                pod_topology_spread: 0,
                inter_pod_affinity: 0,
            }
    }
}

/// The parts of a `KubeSchedulerConfiguration` the model honours.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SchedulerConfig {
    /// NodeResourcesFit's `scoringStrategy.type`.
    pub scoring_strategy: ScoringStrategy,
    /// NodeResourcesFit's `scoringStrategy.resources` weights.
    pub resource_weights: ResourceWeights,
    /// Score plugin weights. A weight of 0 turns a plugin's score off; with every weight 0 the
    /// scheduler behaves as kube-scheduler without score plugins (first feasible node wins).
    pub plugin_weights: PluginWeights,
    /// `percentageOfNodesToScore`: 0 is kube-scheduler's adaptive default, values above 100 act
    /// as 100.
    pub percentage_of_nodes_to_score: u32,
    /// The release whose scoring applies where releases differ (BalancedAllocation's formula).
    pub kubernetes_version: KubernetesVersion,
}

impl Default for SchedulerConfig {
    /// kube-scheduler's defaults: LeastAllocated with cpu and memory weighted 1, the default
    /// plugin weights, adaptive `percentageOfNodesToScore`; the newest modelled release.
    fn default() -> SchedulerConfig {
        SchedulerConfig {
            scoring_strategy: ScoringStrategy::LeastAllocated,
            resource_weights: ResourceWeights::default(),
            plugin_weights: PluginWeights::default(),
            percentage_of_nodes_to_score: 0,
            kubernetes_version: KubernetesVersion::NEWEST,
        }
    }
}

/// kube-scheduler's `minFeasibleNodesToFind`: below this many nodes, all are considered.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;

/// kube-scheduler's `minFeasibleNodesPercentageToFind`: the adaptive percentage's floor.
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: usize = 5;

/// How many feasible nodes the scheduler looks for before it stops filtering
/// (`numFeasibleNodesToFind`): all nodes below 100; else `nodes * percentage / 100`, at least
/// 100, where the adaptive percentage (`percentage_of_nodes_to_score == 0`) is
/// `max(5, 50 - nodes / 125)`.
pub fn num_feasible_nodes_to_find(
    percentage_of_nodes_to_score: u32,
    num_all_nodes: usize,
) -> usize {
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return num_all_nodes;
    }
    let percentage = match percentage_of_nodes_to_score {
        0 => 50usize
            .saturating_sub(num_all_nodes / 125)
            .max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND),
        p => usize::try_from(p).unwrap_or(usize::MAX),
    };
    let num_nodes = num_all_nodes.saturating_mul(percentage) / 100;
    num_nodes.max(MIN_FEASIBLE_NODES_TO_FIND).min(num_all_nodes)
}

/// kube-scheduler's default profile as a reusable decision maker.
#[derive(Debug, Clone, Default)]
pub struct Scheduler {
    config: SchedulerConfig,
    /// Where the next cycle starts looking (`nextStartNodeIndex`), so that every node gets its
    /// turn when only part of a large cluster is searched.
    next_start_node_index: usize,
    /// Indices into `nodes` of the feasible nodes of the current cycle, in the order found.
    feasible: Vec<usize>,
    /// NodeAffinity scores of the feasible nodes, raw then normalized.
    affinity_scores: Vec<u64>,
    /// TaintToleration scores of the feasible nodes, raw then normalized.
    taint_scores: Vec<u64>,
    /// PodTopologySpread scores of the feasible nodes, normalized.
    spread_scores: Vec<u64>,
    /// InterPodAffinity scores of the feasible nodes, normalized.
    pod_affinity_scores: Vec<u64>,
    /// Per soft spread constraint of the pod, its matching pods per node.
    matching_pods: Vec<Vec<u32>>,
    /// NodeAffinity per label class, for the pod of the current cycle.
    class_verdicts: ClassVerdicts,
    /// NodeResourcesFit's and BalancedAllocation's scores per node, kept between cycles.
    resource_scores: ResourceScores,
}

impl Scheduler {
    /// A scheduler with `config`, starting its node search at the first node.
    pub fn new(config: SchedulerConfig) -> Scheduler {
        Scheduler {
            config,
            ..Scheduler::default()
        }
    }

    /// The configuration the scheduler was built with.
    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }

    /// Where the next cycle will start looking for feasible nodes.
    pub fn next_start_node_index(&self) -> usize {
        self.next_start_node_index
    }

    /// Picks the node to run `pod` on and returns its index in `nodes`.
    ///
    /// Filters nodes from the rotating start index until enough feasible ones are found, scores
    /// them (Σ plugin weight × plugin score), and returns the highest total; ties are broken
    /// uniformly at random by reservoir sampling, drawing from `rng` only on a tie. A single
    /// feasible node is returned without scoring, as kube-scheduler does.
    ///
    /// # Errors
    /// `FitError` when no node can run the pod, counting for each node the reasons of the first
    /// filter plugin that rejected it.
    pub fn schedule<R: Rng + ?Sized>(
        &mut self,
        pod: &PodSpec,
        nodes: &[Node],
        rng: &mut R,
    ) -> Result<usize, FitError> {
        self.schedule_cycle(CycleState::new(pod, None), nodes, rng)
    }

    /// As `schedule`, for a pod a Service and a ReplicaSet select, so that kube-scheduler's
    /// system default topology spreading applies: `workload_pods[i]` counts the workload's
    /// other non-terminating pods on `nodes[i]`.
    ///
    /// # Errors
    /// `FitError` when no node can run the pod.
    pub fn schedule_replica<R: Rng + ?Sized>(
        &mut self,
        pod: &PodSpec,
        nodes: &[Node],
        workload_pods: &[u32],
        rng: &mut R,
    ) -> Result<usize, FitError> {
        self.schedule_cycle(CycleState::new(pod, Some(workload_pods)), nodes, rng)
    }

    /// As `schedule_replica`, with each node's label class: what depends on labels alone
    /// (NodeAffinity's filter and score, the zone a node spreads in) is evaluated once per class
    /// rather than once per node. The decision is the one `schedule_replica` makes.
    ///
    /// # Errors
    /// `FitError` when no node can run the pod.
    pub fn schedule_replica_classified<R: Rng + ?Sized>(
        &mut self,
        pod: &PodSpec,
        nodes: &[Node],
        classified: ClassifiedNodes<'_>,
        workload_pods: &[u32],
        rng: &mut R,
    ) -> Result<usize, FitError> {
        self.schedule_classified(pod, nodes, classified, Some(workload_pods), rng)
    }

    /// As `schedule_replica_classified` for a replica (`workload_pods` given), or as `schedule`
    /// for a pod nothing spreads (`None`: a Job's, which no Service or ReplicaSet selects).
    ///
    /// # Errors
    /// `FitError` when no node can run the pod.
    pub fn schedule_classified<R: Rng + ?Sized>(
        &mut self,
        pod: &PodSpec,
        nodes: &[Node],
        classified: ClassifiedNodes<'_>,
        workload_pods: Option<&[u32]>,
        rng: &mut R,
    ) -> Result<usize, FitError> {
        self.schedule_among(pod, nodes, classified, workload_pods, None, rng)
    }

    /// As `schedule_classified`, with the bound pods' placement groups (`groups`), so that the
    /// pod's own topology spread constraints and inter-pod (anti-)affinity, and the bound pods'
    /// rules about it, filter and score as PodTopologySpread and InterPodAffinity do. `None`
    /// leaves both plugins out, as for pods and nodes without such rules.
    ///
    /// # Errors
    /// `FitError` when no node can run the pod.
    pub fn schedule_among<R: Rng + ?Sized>(
        &mut self,
        pod: &PodSpec,
        nodes: &[Node],
        classified: ClassifiedNodes<'_>,
        workload_pods: Option<&[u32]>,
        groups: Option<PodGroups<'_>>,
        rng: &mut R,
    ) -> Result<usize, FitError> {
        assert_eq!(
            classified.class_of_node.len(),
            nodes.len(),
            "one label class per node"
        );
        let mut verdicts = std::mem::take(&mut self.class_verdicts);
        let mut state = CycleState::new(pod, workload_pods);
        state.classified = Some(classified);
        state.with_groups(nodes, groups);
        if !reads_hostname(&pod.affinity) {
            verdicts.fill(&pod.affinity, classified.classes, !state.skip_node_affinity);
            state.verdicts = Some(&verdicts);
        }
        let result = self.schedule_cycle(state, nodes, rng);
        self.class_verdicts = verdicts;
        result
    }

    fn schedule_cycle<R: Rng + ?Sized>(
        &mut self,
        state: CycleState<'_>,
        nodes: &[Node],
        rng: &mut R,
    ) -> Result<usize, FitError> {
        let pod = state.pod;
        if nodes.is_empty() {
            return Err(FitError::no_nodes());
        }
        self.find_feasible(&state, nodes);
        match self.feasible.as_slice() {
            [] => Err(diagnose(pod, nodes, state.placement.as_ref())),
            &[only] => Ok(only),
            _ => Ok(self.select_host(&state, nodes, rng)),
        }
    }

    fn find_feasible(&mut self, state: &CycleState<'_>, nodes: &[Node]) {
        let num_all_nodes = nodes.len();
        let to_find = if self.config.plugin_weights.all_zero() {
            1
        } else {
            num_feasible_nodes_to_find(self.config.percentage_of_nodes_to_score, num_all_nodes)
        };
        // The node list may have shrunk since the last cycle.
        let start = self.next_start_node_index % num_all_nodes;
        self.feasible.clear();
        let mut processed = 0;
        // `(start + processed) % num_all_nodes`, advanced without a division per node.
        let mut index = start;
        while processed < num_all_nodes {
            processed += 1;
            if state.is_feasible(nodes, index) {
                self.feasible.push(index);
                if self.feasible.len() >= to_find {
                    break;
                }
            }
            index += 1;
            if index == num_all_nodes {
                index = 0;
            }
        }
        self.next_start_node_index = (start + processed) % num_all_nodes;
    }

    /// PodTopologySpread's normalized scores of the feasible nodes, for a pod a workload
    /// selects; none otherwise (PreScore skips the pod).
    fn score_spread(&mut self, state: &CycleState<'_>, nodes: &[Node]) {
        self.spread_scores.clear();
        if !state.pod.placement.spread.is_empty() {
            // The pod's own constraints replace the system defaults, hard ones scoring nothing.
            if let Some(groups) = &state.groups {
                self.score_own_spread(state.pod, nodes, groups);
            }
            return;
        }
        let Some(workload_pods) = state.workload_pods else {
            return;
        };
        let constraints = pod_topology_spread::system_default_constraints(workload_pods);
        match state.classified {
            Some(classified) => {
                let included = |i| state.affinity_passes(nodes, i);
                let topology =
                    ClassTopology::new(classified, &constraints, state.verdicts, included);
                pod_topology_spread::spread_scores_over(
                    &constraints,
                    &topology,
                    &self.feasible,
                    false,
                    &mut self.spread_scores,
                );
            }
            None => pod_topology_spread::spread_scores(
                &constraints,
                nodes,
                &self.feasible,
                |node| node_affinity::passes(state.pod, node),
                false,
                &mut self.spread_scores,
            ),
        }
    }

    /// PodTopologySpread's scores under the pod's own soft (`ScheduleAnyway`) constraints:
    /// feasible nodes missing a key score 0, and a node counts its matching pods only where
    /// the constraint's inclusion policies take it.
    fn score_own_spread(&mut self, pod: &PodSpec, nodes: &[Node], groups: &PodGroups<'_>) {
        let soft: Vec<&TopologySpreadConstraint> = (pod.placement.spread.iter())
            .filter(|c| c.when_unsatisfiable == WhenUnsatisfiable::ScheduleAnyway)
            .collect();
        if soft.is_empty() {
            return;
        }
        self.matching_pods.resize_with(soft.len(), Vec::new);
        for (c, counts) in soft.iter().zip(&mut self.matching_pods) {
            counts.clear();
            counts.extend(nodes.iter().map(|node| {
                if pod_topology_spread_filter::included(c, pod, node) {
                    pod_topology_spread_filter::matching_on(c, pod, node, groups)
                } else {
                    0
                }
            }));
        }
        let constraints: Vec<pod_topology_spread::SpreadConstraint<'_>> = soft
            .iter()
            .zip(&self.matching_pods)
            .map(|(c, counts)| pod_topology_spread::SpreadConstraint {
                topology_key: &c.topology_key,
                max_skew: c.max_skew,
                matching_pods: counts,
            })
            .collect();
        pod_topology_spread::spread_scores(
            &constraints,
            nodes,
            &self.feasible,
            |_| true,
            true,
            &mut self.spread_scores,
        );
    }

    fn select_host<R: Rng + ?Sized>(
        &mut self,
        state: &CycleState<'_>,
        nodes: &[Node],
        rng: &mut R,
    ) -> usize {
        let pod = state.pod;
        self.affinity_scores.clear();
        if !state.skip_node_affinity {
            self.affinity_scores.extend(
                self.feasible
                    .iter()
                    .map(|&i| state.affinity_raw_score(nodes, i)),
            );
            default_normalize_score(&mut self.affinity_scores, false);
        }
        self.taint_scores.clear();
        self.taint_scores.extend(self.feasible.iter().map(|&i| {
            taint_toleration::count_intolerable_prefer_no_schedule(
                &nodes[i].taints,
                state.prefer_no_schedule_tolerations.iter().copied(),
            )
        }));
        default_normalize_score(&mut self.taint_scores, true);
        self.score_spread(state, nodes);
        self.pod_affinity_scores.clear();
        if let Some(groups) = &state.groups {
            inter_pod_affinity::scores(
                pod,
                nodes,
                groups,
                &self.feasible,
                &mut self.pod_affinity_scores,
            );
        }

        let config = &self.config;
        let weights = &config.plugin_weights;
        let mut selected = self.feasible[0];
        let mut max_score = 0;
        let mut count_of_max = 0u64;
        for (k, &index) in self.feasible.iter().enumerate() {
            let node = &nodes[index];
            let (fit, balanced) = self.resource_scores.get(
                config,
                index,
                node,
                pod.requests,
                state.non_zero_requests,
                state.skip_balanced_allocation,
            );
            let affinity = self.affinity_scores.get(k).copied().unwrap_or(0);
            let spread = self.spread_scores.get(k).copied().unwrap_or(0);
            let pod_affinity = self.pod_affinity_scores.get(k).copied().unwrap_or(0);
            let total = [
                (weights.taint_toleration, self.taint_scores[k]),
                (weights.node_affinity, affinity),
                (weights.node_resources_fit, fit),
                (weights.balanced_allocation, balanced),
                (weights.pod_topology_spread, spread),
                (weights.inter_pod_affinity, pod_affinity),
            ]
            .iter()
            .fold(0u64, |sum, &(w, s)| sum.saturating_add(w.saturating_mul(s)));
            // selectHost: the first node, then any higher total; on a tie, replace the choice
            // with probability 1/(number of nodes with the max so far).
            if k == 0 || total > max_score {
                selected = index;
                max_score = total;
                count_of_max = 1;
            } else if total == max_score {
                count_of_max += 1;
                if rng.random_range(0..count_of_max) == 0 {
                    selected = index;
                }
            }
        }
        selected
    }
}

/// Per-pod values computed once per cycle (kube-scheduler's PreFilter and PreScore state).
struct CycleState<'p> {
    pod: &'p PodSpec,
    /// NodeUnschedulable: the pod does not tolerate `node.kubernetes.io/unschedulable`.
    rejects_cordoned: bool,
    /// NodeResourcesFit: requests with the non-zero defaults substituted.
    non_zero_requests: Resources,
    /// TaintToleration: the tolerations that can tolerate a PreferNoSchedule taint.
    prefer_no_schedule_tolerations: Vec<&'p Toleration>,
    /// NodeAffinity's PreScore skips pods without preferred terms.
    skip_node_affinity: bool,
    /// BalancedAllocation's PreScore skips pods that request nothing.
    skip_balanced_allocation: bool,
    /// PodTopologySpread: the workload's pods per node, or `None` for a pod no Service or
    /// ReplicaSet selects (PreScore skips it).
    workload_pods: Option<&'p [u32]>,
    /// The nodes' label classes, when the caller keeps them.
    classified: Option<ClassifiedNodes<'p>>,
    /// NodeAffinity per class, when its verdict is the same for every node of a class.
    verdicts: Option<&'p ClassVerdicts>,
    /// The bound pods' placement groups, when the caller keeps them.
    groups: Option<PodGroups<'p>>,
    /// PodTopologySpread's and InterPodAffinity's PreFilter state, when either has something
    /// to check for the pod.
    placement: Option<PlacementFilters<'p>>,
}

impl<'p> CycleState<'p> {
    fn new(pod: &'p PodSpec, workload_pods: Option<&'p [u32]>) -> CycleState<'p> {
        CycleState {
            pod,
            rejects_cordoned: !node_unschedulable::tolerates_unschedulable(pod),
            non_zero_requests: pod.non_zero_requests(),
            prefer_no_schedule_tolerations: taint_toleration::prefer_no_schedule_tolerations(
                &pod.tolerations,
            ),
            skip_node_affinity: node_affinity::skips_score(&pod.affinity),
            skip_balanced_allocation: balanced_allocation::skips_score(pod.requests),
            workload_pods,
            classified: None,
            verdicts: None,
            groups: None,
            placement: None,
        }
    }

    /// Runs PodTopologySpread's and InterPodAffinity's PreFilter over `nodes` when `groups`
    /// are given and either has something to check for the pod.
    fn with_groups(&mut self, nodes: &'p [Node], groups: Option<PodGroups<'p>>) {
        let Some(groups) = groups else {
            return;
        };
        if groups.matter_for(self.pod) {
            self.groups = Some(groups);
            let filters = PlacementFilters::new(self.pod, nodes, &groups);
            self.placement = (!filters.is_empty()).then_some(filters);
        }
    }

    /// Whether every filter plugin passes on `nodes[i]`, without building reasons.
    fn is_feasible(&self, nodes: &[Node], i: usize) -> bool {
        let node = &nodes[i];
        node_unschedulable::passes(self.rejects_cordoned, node)
            && taint_toleration::passes(self.pod, node)
            && self.affinity_passes(nodes, i)
            && node_resources_fit::passes(self.pod, node)
            && (self.placement.as_ref()).is_none_or(|f| f.check(node).is_ok())
    }

    /// NodeAffinity's filter on `nodes[i]`, from its class when the verdict is per class.
    fn affinity_passes(&self, nodes: &[Node], i: usize) -> bool {
        match (self.verdicts, &self.classified) {
            (Some(verdicts), Some(classified)) => verdicts.passes(classified, i),
            _ => node_affinity::passes(self.pod, &nodes[i]),
        }
    }

    /// NodeAffinity's raw score of `nodes[i]`, from its class when the verdict is per class.
    fn affinity_raw_score(&self, nodes: &[Node], i: usize) -> u64 {
        match (self.verdicts, &self.classified) {
            (Some(verdicts), Some(classified)) => verdicts.raw_score(classified, i),
            _ => node_affinity::node_affinity_raw_score(&self.pod.affinity, &nodes[i]),
        }
    }
}

/// The `FitError` for a cycle that found no feasible node, so visited every node.
fn diagnose(pod: &PodSpec, nodes: &[Node], placement: Option<&PlacementFilters<'_>>) -> FitError {
    let mut error = FitError::from_reasons(nodes.len(), []);
    for node in nodes {
        let reasons = first_failing_plugin(pod, node);
        if reasons.is_empty()
            && let Some(Err(reason)) = placement.map(|f| f.check(node))
        {
            error.record(&reason);
        }
        for reason in reasons {
            error.record(&reason);
        }
    }
    error
}

mod resource_scores;
#[cfg(test)]
mod tests;
