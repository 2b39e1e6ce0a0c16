//! Nodes coming and going: the initial pools, nodes asked of the cloud and registering after
//! their provisioning delay, nodes given up on, and nodes drained and removed.
//!
//! Billing follows the cloud: a node costs from the moment it is asked for until it is removed,
//! whether or not it ever registered.

use crate::cluster::disruption::{BudgetStatus, EVICTION_REFUSED};
use crate::cluster::node::{Node, NodeId, PoolId};
use crate::cluster::spec::{Taint, TaintEffect};
use crate::controllers::cluster_autoscaler::{
    EVICTION_RETRY_TIME, MAX_POD_EVICTION_TIME, TO_BE_DELETED_TAINT_KEY, to_be_deleted_taint,
};
use crate::report::{ClusterEvent, EventKind};
use crate::simulation::state::{NodeExtra, PodPhase, PodRef};
use crate::simulation::{Event, Simulation};
use crate::units::{Resources, SimTime};

/// The taint GKE puts on a node whose Spot VM is about to be terminated.
const IMPENDING_TERMINATION_TAINT_KEY: &str = "cloud.google.com/impending-node-termination";

impl Simulation<'_> {
    /// Adds a node that exists and is Ready at time zero.
    pub(super) fn add_initial_node(&mut self, pool: usize) {
        let id = self.new_node_id();
        let serial = self.new_node_serial(pool);
        let now = self.clock.now();
        self.bill_node(pool, now, 1);
        let mut event = self.pool_event(EventKind::NodeAdded, pool);
        event.node = Some(self.node_name(pool, serial));
        self.log.push(event);
        self.register_node(pool, id, serial, now);
    }

    /// Asks the cloud for a node in `pool`; it registers after the pool's provisioning delay.
    pub(super) fn request_node(&mut self, pool: usize, reason: &str) {
        let now = self.clock.now();
        let id = self.new_node_id();
        let serial = self.new_node_serial(pool);
        self.bill_node(pool, now, 1);
        let measured = self.measured(now);
        let state = &mut self.pools[pool];
        state.upcoming.push((id, serial, now));
        if measured {
            state.nodes_added += 1;
        }
        let delay = state.provisioning_delay.sample(&mut state.rng_provisioning);
        let mut event = self.pool_event(EventKind::NodeAdded, pool);
        event.node = Some(self.node_name(pool, serial));
        event.reason = Some(reason.to_string());
        self.log.push(event);
        self.clock
            .schedule_in(delay, Event::NodeProvisioned { node: id });
    }

    /// A node asked for earlier has booted and registers, unless it was given up on.
    pub(super) fn on_node_provisioned(&mut self, id: NodeId) {
        let found = self.pools.iter_mut().enumerate().find_map(|(pool, state)| {
            let i = state.upcoming.iter().position(|(n, _, _)| *n == id)?;
            let (_, serial, requested_at) = state.upcoming.remove(i);
            Some((pool, serial, requested_at))
        });
        if let Some((pool, serial, requested_at)) = found {
            self.register_node(pool, id, serial, requested_at);
        }
    }

    /// Gives up on the `count` most recently asked-for nodes of `pool` that have not registered.
    pub(super) fn cancel_upcoming(&mut self, pool: usize, count: u32, reason: &str) {
        let now = self.clock.now();
        for _ in 0..count {
            let Some((_, serial, _)) = self.pools[pool].upcoming.pop() else {
                break;
            };
            self.bill_node(pool, now, -1);
            if self.measured(now) {
                self.pools[pool].nodes_removed += 1;
            }
            let mut event = self.pool_event(EventKind::NodeRemoved, pool);
            event.node = Some(self.node_name(pool, serial));
            event.reason = Some(reason.to_string());
            self.log.push(event);
        }
    }

    /// Starts removing a registered node: taints it so nothing new lands there, evicts its pods
    /// (their ReplicaSets replace them elsewhere), and removes it once they are gone.
    pub(super) fn drain_node(&mut self, id: NodeId, reason: &str) {
        let now = self.clock.now();
        let index = self
            .node_index(id)
            .filter(|i| !self.node_extras[*i].draining);
        let Some(index) = index else {
            // Gone already, or being removed: tell the autoscaler its deletion did not happen.
            if let Some(ca) = self.cluster_autoscaler.as_mut() {
                ca.note_scale_down_failure(id, now);
            }
            return;
        };
        self.node_extras[index].draining = true;
        self.nodes[index].taints.push(to_be_deleted_taint());
        let mut event = self.pool_event(
            EventKind::NodeDraining,
            usize::from(self.nodes[index].pool.0),
        );
        event.node = Some(self.nodes[index].name.clone());
        event.reason = Some(reason.to_string());
        self.log.push(event);
        self.node_extras[index].evict_until = now + MAX_POD_EVICTION_TIME;
        self.evict_drained_pods(id);
    }

    /// Evicts the pods left on a draining node through the eviction API: those their
    /// disruption budgets refuse are retried every `EVICTION_RETRY_TIME` until the node's
    /// eviction deadline, when the drain fails and the node is kept.
    pub(super) fn evict_drained_pods(&mut self, id: NodeId) {
        let now = self.clock.now();
        let Some(index) = self.node_index(id) else {
            return;
        };
        if !self.node_extras[index].draining {
            return;
        }
        let victims = self.active_pods_on(id);
        let mut refused = 0;
        if now < self.node_extras[index].evict_until {
            for pod in victims {
                if self.eviction_allowed(pod) {
                    self.evict_pod(pod, "node is being removed by the Cluster Autoscaler");
                } else {
                    refused += 1;
                }
            }
        } else {
            refused = victims.len();
        }
        if refused == 0 {
            self.remove_node_if_drained(id);
        } else if now < self.node_extras[index].evict_until {
            self.clock
                .schedule_in(EVICTION_RETRY_TIME, Event::EvictionRetry { node: id });
        } else {
            self.fail_drain(index, refused);
        }
    }

    /// Whether the eviction API lets `pod` go now: always without a disruption budget,
    /// otherwise as the budget's live status says.
    fn eviction_allowed(&self, pod_ref: PodRef) -> bool {
        let Some(pod) = self.pods.get(pod_ref) else {
            return true;
        };
        self.budget_status(usize::from(pod.service))
            .is_none_or(|status| {
                status.allows_eviction(
                    pod.running(self.clock.now()),
                    pod.phase == PodPhase::Ready,
                    pod.phase == PodPhase::Terminating,
                )
            })
    }

    /// The live status of service `s`'s disruption budget, if it has one: the disruption
    /// controller's view with no lag.
    pub(super) fn budget_status(&self, s: usize) -> Option<BudgetStatus> {
        let budget = self.scenario.services[s].disruption_budget?;
        let svc = &self.services[s];
        let healthy = svc
            .active
            .iter()
            .filter_map(|r| self.pods.get(*r))
            .filter(|p| p.phase == PodPhase::Ready)
            .count() as u32;
        let pods = (svc.active.len() + svc.terminating.len()) as u32;
        Some(BudgetStatus::compute(budget, svc.desired, pods, healthy))
    }

    /// A drain ran out of time with `refused` pods still on the node: the node stays, loses
    /// its taint, and the Cluster Autoscaler counts a failed scale-down.
    fn fail_drain(&mut self, index: usize, refused: usize) {
        let now = self.clock.now();
        let id = self.nodes[index].id;
        self.node_extras[index].draining = false;
        self.nodes[index]
            .taints
            .retain(|t| t.key != TO_BE_DELETED_TAINT_KEY);
        if let Some(ca) = self.cluster_autoscaler.as_mut() {
            ca.note_scale_down_failure(id, now);
        }
        let mut event = self.pool_event(
            EventKind::NodeDrainFailed,
            usize::from(self.nodes[index].pool.0),
        );
        event.node = Some(self.nodes[index].name.clone());
        event.reason = Some(format!(
            "{refused} pod(s) not evicted within {MAX_POD_EVICTION_TIME}: {EVICTION_REFUSED}"
        ));
        self.log.push(event);
        self.retry_pending();
    }

    /// The cloud preempts a Spot VM: the node is tainted, its pods are terminated (no
    /// disruption budget holds a preemption back) and replaced by their ReplicaSets, the node
    /// goes once they are gone, and the pool's managed instance group asks for a new VM to keep
    /// its size.
    pub(super) fn on_node_preempted(&mut self, id: NodeId) {
        let Some(index) = self.node_index(id) else {
            return;
        };
        if self.node_extras[index].preempted {
            return;
        }
        let now = self.clock.now();
        let pool = usize::from(self.nodes[index].pool.0);
        if self.measured(now) {
            self.pools[pool].preempted += 1;
        }
        self.node_extras[index].preempted = true;
        self.node_extras[index].draining = true;
        self.nodes[index].taints.push(Taint {
            key: IMPENDING_TERMINATION_TAINT_KEY.to_string(),
            value: String::new(),
            effect: TaintEffect::NoSchedule,
        });
        let name = self.nodes[index].name.clone();
        let mut event = self.pool_event(EventKind::NodePreempted, pool);
        event.node = Some(name.clone());
        event.reason = Some("Spot VM preempted by the cloud".to_string());
        self.log.push(event);
        let victims = self.active_pods_on(id);
        for pod in victims {
            self.evict_pod(pod, "node preempted");
        }
        self.request_node(
            pool,
            &format!("replaces preempted {name}: the managed instance group keeps its size"),
        );
        self.remove_node_if_drained(id);
    }

    /// The pods bound to node `id` that are not terminating, service by service.
    fn active_pods_on(&self, id: NodeId) -> Vec<PodRef> {
        self.services
            .iter()
            .flat_map(|svc| svc.active.iter().copied())
            .filter(|r| self.pods.get(*r).is_some_and(|p| p.node == Some(id)))
            .collect()
    }

    /// Removes a draining node once no pod is left on it.
    pub(super) fn remove_node_if_drained(&mut self, id: NodeId) {
        let Some(index) = self.node_index(id) else {
            return;
        };
        if !self.node_extras[index].draining || self.nodes[index].pod_count > 0 {
            return;
        }
        let now = self.clock.now();
        let node = self.nodes.remove(index);
        let extra = self.node_extras.remove(index);
        let pool = usize::from(node.pool.0);
        self.account_registered(pool, &node, -1);
        self.bill_node(pool, now, -1);
        if self.measured(now) {
            self.pools[pool].nodes_removed += 1;
        }
        let mut event = self.pool_event(EventKind::NodeRemoved, pool);
        event.node = Some(node.name);
        event.reason = Some(if extra.preempted {
            "preempted".to_string()
        } else {
            "drained by the Cluster Autoscaler".to_string()
        });
        self.log.push(event);
    }

    fn new_node_id(&mut self) -> NodeId {
        let id = NodeId(self.next_node_id);
        self.next_node_id += 1;
        id
    }

    fn new_node_serial(&mut self, pool: usize) -> u32 {
        let state = &mut self.pools[pool];
        state.next_serial += 1;
        state.next_serial - 1
    }

    /// A node's name, as `Node::from_pool` gives it.
    fn node_name(&self, pool: usize, serial: u32) -> String {
        format!("{}-{serial}", self.scenario.node_pools[pool].name)
    }

    /// Adds `delta` billed nodes to `pool` at `now`.
    fn bill_node(&mut self, pool: usize, now: SimTime, delta: i64) {
        let state = &mut self.pools[pool];
        state.nodes_measured.add(now, delta);
        state.nodes_total.add(now, delta);
    }

    /// A node joins the cluster, Ready.
    fn register_node(&mut self, pool: usize, id: NodeId, serial: u32, requested_at: SimTime) {
        let spec = &self.scenario.node_pools[pool];
        let node = Node::from_pool(id, PoolId(pool as u16), spec, serial, requested_at);
        self.account_registered(pool, &node, 1);
        let mut event = self.pool_event(EventKind::NodeReady, pool);
        event.node = Some(node.name.clone());
        self.log.push(event);
        // Node ids only grow, so pushing keeps `nodes` ordered by id.
        self.nodes.push(node);
        self.node_extras.push(NodeExtra {
            image_ready_at: vec![None; self.services.len()],
            active_pods: vec![0; self.services.len()],
            draining: false,
            evict_until: SimTime::ZERO,
            preempted: false,
        });
        let state = &mut self.pools[pool];
        if let Some(lifetime) = &state.preemption_lifetime {
            let lifetime = lifetime.sample(&mut state.rng_preemption);
            self.clock
                .schedule_in(lifetime, Event::NodePreempted { node: id });
        }
        self.retry_pending();
    }

    /// Adds (`sign` 1) or removes (-1) a registered node's allocatable and requests from its
    /// pool's allocation figures.
    fn account_registered(&mut self, pool: usize, node: &Node, sign: i64) {
        let now = self.clock.now();
        let state = &mut self.pools[pool];
        state.nodes_ready.add(now, sign);
        state
            .cpu_allocatable
            .add(now, sign * node.allocatable.cpu.0 as i64);
        state
            .memory_allocatable
            .add(now, sign * node.allocatable.memory.0 as i64);
        self.account_requests(pool, node.requested, sign);
    }

    /// Adds (`sign` 1) or removes (-1) pod requests on `pool`'s registered nodes.
    pub(super) fn account_requests(&mut self, pool: usize, requests: Resources, sign: i64) {
        let now = self.clock.now();
        let state = &mut self.pools[pool];
        state.cpu_requested.add(now, sign * requests.cpu.0 as i64);
        state
            .memory_requested
            .add(now, sign * requests.memory.0 as i64);
    }

    /// An event about `pool`.
    pub(super) fn pool_event(&self, kind: EventKind, pool: usize) -> ClusterEvent {
        let mut event = ClusterEvent::new(self.now_s(), kind);
        event.pool = Some(self.scenario.node_pools[pool].name.clone());
        event
    }
}
