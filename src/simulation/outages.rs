//! Zone outages (`outages`): for a while, every node of a zone is unreachable and no VM can be
//! created there.
//!
//! When the zone goes out, each of its nodes goes NotReady as a failed node does
//! (`make_unreachable`), and VMs being created there fail. The node lifecycle controller
//! taints the nodes of a fully disrupted zone at `--node-eviction-rate` (0.1 nodes per second,
//! so the k-th node's pods are evicted 10 s × k after their toleration), and evicts nothing when
//! every node of the cluster is NotReady (it then takes the control plane, not the nodes, for
//! the culprit). Nodes being repaired wait for the zone, as no VM can be made there. When the
//! zone comes back its nodes report again: their taint goes, the pods still bound to them are
//! Ready again, and the VMs whose creation failed and that the Cluster Autoscaler did not
//! delete are created again by their managed instance group.

use crate::cluster::pool::UNREACHABLE_TAINT_KEY;
use crate::report::{ClusterEvent, EventKind};
use crate::simulation::failures::NO_EVICTION;
use crate::simulation::{Event, Simulation};
use crate::units::SimTime;

impl Simulation<'_> {
    /// Schedules the start and the end of every outage.
    pub(super) fn schedule_outages(&mut self) {
        for (o, outage) in self.scenario.outages.iter().enumerate() {
            let o = u32::try_from(o).expect("a 16 MiB file holds fewer outages");
            let start = SimTime::ZERO + outage.start;
            self.clock.schedule_at(
                start,
                Event::ZoneOutage {
                    outage: o,
                    begins: true,
                },
            );
            let end = start + outage.duration;
            if end < self.end {
                self.clock.schedule_at(
                    end,
                    Event::ZoneOutage {
                        outage: o,
                        begins: false,
                    },
                );
            }
        }
    }

    /// Outage `o` begins (`begins`) or ends.
    pub(super) fn on_zone_outage(&mut self, o: usize, begins: bool) {
        if begins {
            self.zone_goes_out(o);
        } else {
            self.zone_comes_back(o);
        }
    }

    /// The node groups in the zone of outage `o`.
    fn pools_of_outage(&self, o: usize) -> Vec<usize> {
        let zone = self.scenario.outages[o].zone.as_str();
        (self.scenario.node_pools.iter().enumerate())
            .filter(|(_, pool)| pool.zone_name() == Some(zone))
            .map(|(p, _)| p)
            .collect()
    }

    fn zone_goes_out(&mut self, o: usize) {
        let now = self.clock.now();
        let outage = &self.scenario.outages[o];
        let pools = self.pools_of_outage(o);
        let mut event = ClusterEvent::new(self.now_s(), EventKind::ZoneOutage);
        event.reason = Some(format!(
            "zone {} is out for {}: its nodes are unreachable and no VM can be created there",
            outage.zone, outage.duration
        ));
        self.log.push(event);
        for &p in &pools {
            self.pools[p].zone_out_until = Some(now + outage.duration);
            self.cluster.fail_creations(p, now);
        }
        let in_zone = |pool: usize| pools.contains(&pool);
        let nodes = self.cluster.nodes();
        let going: Vec<usize> = (0..nodes.len())
            .filter(|&i| in_zone(usize::from(nodes[i].pool.0)))
            .filter(|&i| !self.cluster.node_extra(i).draining())
            .collect();
        let all_down = (0..nodes.len())
            .all(|i| in_zone(usize::from(nodes[i].pool.0)) || self.cluster.node_extra(i).failed());
        for (k, &index) in going.iter().enumerate() {
            let rank = match all_down {
                true => NO_EVICTION,
                false => u32::try_from(k).unwrap_or(NO_EVICTION),
            };
            self.cluster.mark_out_with_zone(index);
            self.make_unreachable(index, rank);
        }
    }

    fn zone_comes_back(&mut self, o: usize) {
        let now = self.clock.now();
        let zone = self.scenario.outages[o].zone.clone();
        let mut event = ClusterEvent::new(self.now_s(), EventKind::ZoneRecovered);
        event.reason = Some(format!("zone {zone} is back"));
        self.log.push(event);
        let pools = self.pools_of_outage(o);
        for &p in &pools {
            self.pools[p].zone_out_until = None;
            for upcoming in self.cluster.retry_creations(p, now) {
                let delay = self.pools[p].provisioning.draw();
                self.clock.schedule_in(
                    delay,
                    Event::NodeProvisioned {
                        request: upcoming.request,
                    },
                );
            }
        }
        let back: Vec<usize> = (0..self.cluster.nodes().len())
            .filter(|&i| self.cluster.node_extra(i).out_with_zone())
            .filter(|&i| pools.contains(&usize::from(self.cluster.nodes()[i].pool.0)))
            .collect();
        for index in back {
            self.node_comes_back(index, &zone);
        }
        self.retry_pending();
    }

    /// `nodes()[index]` reports again: its pods still bound are Ready again, and its own
    /// random failure, when one fell due during the outage, is drawn anew (the failure time is
    /// memoryless, so a pending one stands).
    fn node_comes_back(&mut self, index: usize, zone: &str) {
        let missed = self.cluster.node_extra(index).failure_missed();
        self.cluster
            .recover_from_outage(index, UNREACHABLE_TAINT_KEY);
        let node = &self.cluster.nodes()[index];
        let (id, pool) = (node.id, usize::from(node.pool.0));
        let mut event = self.pool_event(EventKind::NodeReady, pool);
        event.node = Some(node.name.clone());
        event.reason = Some(format!("its zone {zone} is back"));
        self.log.push(event);
        let now = self.clock.now();
        for pod in self.cluster.active_pods_on(id) {
            if self.cluster.pod(pod).is_some_and(|p| p.running(now)) {
                self.make_ready(pod);
            }
        }
        if missed && let Some(failure) = &mut self.pools[pool].failure {
            let lifetime = failure.draw();
            self.clock
                .schedule_in(lifetime, Event::NodeFailed { node: id });
        }
    }
}
