//! Nodes coming and going: the initial pools, nodes asked of the cloud and registering after
//! their provisioning delay, nodes given up on, and drained nodes removed once empty.
//!
//! Billing follows the cloud: a node costs from the moment it is asked for until it is removed,
//! whether or not it ever registered (`ClusterState` keeps the count). Nothing here touches a
//! pod: what a new node means for Pending pods, and how a node is drained, is decided by the
//! callers (`mod.rs`, `drains`).

use crate::cluster::node::NodeId;
use crate::report::{ClusterEvent, EventKind};
use crate::simulation::cluster_state::Upcoming;
use crate::simulation::{Event, Simulation};

impl Simulation<'_> {
    /// Adds a node that exists and is Ready at time zero.
    pub(super) fn add_initial_node(&mut self, pool: usize) {
        let now = self.clock.now();
        let upcoming = self.cluster.request_node(pool, now);
        let mut event = self.pool_event(EventKind::NodeAdded, pool);
        event.node = Some(self.node_name(pool, upcoming.serial));
        self.log.push(event);
        let taken = self.cluster.take_upcoming(upcoming.request);
        debug_assert_eq!(taken, Some((pool, upcoming)));
        self.register_node(pool, upcoming);
    }

    /// Asks the cloud for a node in `pool`; it registers after the pool's provisioning delay.
    pub(super) fn request_node(&mut self, pool: usize, reason: &str) {
        let now = self.clock.now();
        let upcoming = self.cluster.request_node(pool, now);
        let measured = self.measured(now);
        let state = &mut self.pools[pool];
        if measured {
            state.nodes_added += 1;
        }
        let delay = state.provisioning.draw();
        let zone_out = state.zone_out_until.is_some();
        let mut event = self.pool_event(EventKind::NodeAdded, pool);
        event.node = Some(self.node_name(pool, upcoming.serial));
        event.reason = Some(reason.to_string());
        self.log.push(event);
        if zone_out {
            // Its zone is out: the VM's creation fails at once.
            self.cluster.fail_creations(pool, now);
            return;
        }
        self.clock.schedule_in(
            delay,
            Event::NodeProvisioned {
                request: upcoming.request,
            },
        );
    }

    /// A node asked for earlier has booted and registers, unless it was given up on. Returns
    /// whether it registered.
    pub(super) fn register_provisioned(&mut self, request: u32) -> bool {
        match self.cluster.take_upcoming(request) {
            Some((pool, upcoming)) => {
                self.register_node(pool, upcoming);
                true
            }
            None => false,
        }
    }

    /// Gives up on the `count` most recently asked-for nodes of `pool` that have not registered.
    pub(super) fn cancel_upcoming(&mut self, pool: usize, count: u32, reason: &str) {
        let now = self.clock.now();
        for _ in 0..count {
            let Some(upcoming) = self.cluster.cancel_upcoming(pool, now) else {
                break;
            };
            self.upcoming_removed(pool, upcoming.serial, reason);
        }
    }

    /// Deletes the `count` oldest VMs of `pool` whose creation failed.
    pub(super) fn delete_failed_creations(&mut self, pool: usize, count: u32, reason: &str) {
        for upcoming in self.cluster.delete_failed_creations(pool, count) {
            self.upcoming_removed(pool, upcoming.serial, reason);
        }
    }

    /// Counts and logs the removal of `pool`'s node `serial` that never registered.
    fn upcoming_removed(&mut self, pool: usize, serial: u32, reason: &str) {
        if self.measured(self.clock.now()) {
            self.pools[pool].nodes_removed += 1;
        }
        let mut event = self.pool_event(EventKind::NodeRemoved, pool);
        event.node = Some(self.node_name(pool, serial));
        event.reason = Some(reason.to_string());
        self.log.push(event);
    }

    /// Removes a draining node once no pod is left on it.
    pub(super) fn remove_node_if_drained(&mut self, id: NodeId) {
        let Some(index) = self.cluster.node_index(id) else {
            return;
        };
        let extra = self.cluster.node_extra(index);
        // A NotReady node stays (as its Node object does) until the cloud repairs it.
        if !extra.draining() || extra.failed() || self.cluster.nodes()[index].pod_count > 0 {
            return;
        }
        let now = self.clock.now();
        let (node, extra) = self.cluster.remove_node(index, now);
        let pool = usize::from(node.pool.0);
        if self.measured(now) {
            self.pools[pool].nodes_removed += 1;
        }
        let mut event = self.pool_event(EventKind::NodeRemoved, pool);
        event.node = Some(node.name);
        event.reason = Some(if extra.preempted() {
            "preempted".to_string()
        } else {
            "drained by the Cluster Autoscaler".to_string()
        });
        self.log.push(event);
    }

    /// A node's name, as `Node::from_pool` gives it.
    fn node_name(&self, pool: usize, serial: u32) -> String {
        format!("{}-{serial}", self.scenario.node_pools[pool].name)
    }

    /// A node joins the cluster, Ready; a Spot node's preemption is scheduled.
    fn register_node(&mut self, pool: usize, upcoming: Upcoming) {
        let now = self.clock.now();
        let spec = &self.scenario.node_pools[pool];
        let node = self.cluster.register_node(pool, spec, upcoming, now);
        let (id, name) = (node.id, node.name.clone());
        let mut event = self.pool_event(EventKind::NodeReady, pool);
        event.node = Some(name);
        self.log.push(event);
        if let Some(preemption) = &mut self.pools[pool].preemption {
            let lifetime = preemption.draw();
            self.clock
                .schedule_in(lifetime, Event::NodePreempted { node: id });
        }
        if let Some(failure) = &mut self.pools[pool].failure {
            let lifetime = failure.draw();
            self.clock
                .schedule_in(lifetime, Event::NodeFailed { node: id });
        }
    }

    /// An event about `pool`.
    pub(super) fn pool_event(&self, kind: EventKind, pool: usize) -> ClusterEvent {
        let mut event = ClusterEvent::new(self.now_s(), kind);
        event.pool = Some(self.scenario.node_pools[pool].name.clone());
        event
    }
}
