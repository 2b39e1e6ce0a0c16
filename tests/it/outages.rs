//! Zone outages, run whole: a zone's nodes go NotReady together, their pods are evicted at
//! the node lifecycle controller's pace and rescheduled in the other zones, the Cluster
//! Autoscaler's scale-ups in the dead zone fail and back off, and the zone's nodes come back
//! when it ends. Answers worked by hand.

use capsim::report::{ClusterEvent, Collect, EventKind, Summary};
use capsim::simulation::Simulation;

use crate::util::scenario;

/// Six 4-CPU nodes over three zones (two each, up to 12), six `web` pods of 3 CPU (one a
/// node) and one `zonal` pod of 0.5 CPU that must run in zone b; zone b is out from 1h to 2h.
const OUTAGE: &str = r#"
name: outage
seed: 5
duration: 3h
node_pools:
  pool:
    machine_type: {cpu: 4, memory: 16Gi, price_per_hour: 1.0}
    zones: [us-central1-a, us-central1-b, us-central1-c]
    initial_size: 6
    autoscaling: {min_nodes: 6, max_nodes: 12}
    provisioning_delay: 60s
services:
  web:
    replicas: 6
    resources: {requests: {cpu: "3", memory: 1Gi}}
    startup: {image_pull: 20s, ready: 5s}
    load:
      arrivals: {rate: 60}
      service_time: 20ms
  zonal:
    replicas: 1
    resources: {requests: {cpu: 500m, memory: 1Gi}}
    startup: {image_pull: 20s, ready: 5s}
    node_selector: {topology.kubernetes.io/zone: us-central1-b}
outages:
  - {zone: us-central1-b, at: 1h, duration: 1h}
"#;

const B: &str = "pool-us-central1-b";

fn run(text: &str) -> (Summary, Vec<ClusterEvent>) {
    let s = scenario(text);
    let mut seen = Collect::default();
    let summary = Simulation::new(&s).run(&mut seen).summary;
    (summary, seen.events)
}

fn of(events: &[ClusterEvent], kind: EventKind) -> Vec<&ClusterEvent> {
    events.iter().filter(|e| e.event == kind).collect()
}

/// The zone of a node from its name (`pool-us-central1-b-3`).
fn in_b(node: &Option<String>) -> bool {
    node.as_deref().is_some_and(|n| n.starts_with(B))
}

#[test]
fn the_zones_pods_move_to_the_other_zones_within_the_eviction_delay() {
    let (summary, events) = run(OUTAGE);
    let outage = of(&events, EventKind::ZoneOutage);
    assert_eq!(outage.len(), 1);
    assert_eq!(outage[0].time_s, 3600.0);
    // The node lifecycle controller notices after its 50 s grace period.
    let not_ready: Vec<_> = of(&events, EventKind::NodeNotReady);
    assert_eq!(not_ready.len(), 2, "zone b's two nodes");
    assert!(
        not_ready
            .iter()
            .all(|e| e.time_s == 3650.0 && in_b(&e.node))
    );
    // It taints a disrupted zone's nodes 10 s apart: the first node's pods go 300 s later,
    // the second's 310 s.
    let evictions: Vec<f64> = (events.iter())
        .filter(|e| e.event == EventKind::PodEvicted)
        .map(|e| e.time_s)
        .collect();
    assert_eq!(
        evictions.len(),
        3,
        "two web pods and the zonal one: {evictions:?}"
    );
    assert!(evictions.iter().all(|&t| t == 3950.0 || t == 3960.0));
    assert!(evictions.contains(&3950.0) && evictions.contains(&3960.0));
    // Each web replacement is Ready in zone a or c within the scan after its eviction, at
    // most one failed try in zone b, the node's 60 s boot and the pod's 25 s start.
    let web_ready: Vec<_> = (events.iter())
        .filter(|e| e.event == EventKind::PodReady && e.service.as_deref() == Some("web"))
        .filter(|e| e.time_s > 3600.0 && e.time_s < 7200.0)
        .collect();
    assert_eq!(web_ready.len(), 2, "{web_ready:?}");
    for e in &web_ready {
        assert!(!in_b(&e.node), "{e:?}");
        assert!(e.time_s <= 3960.0 + 10.0 + 10.0 + 60.0 + 25.0, "{e:?}");
    }
    // For the 50 s before the controller noticed, the two silent pods stayed in the
    // endpoints: the random balancer sent them 2 of every 6 requests, about
    // 60/s x 50 s / 3 = 1000 (Poisson, sd 32), all lost; every request is accounted for.
    let web = &summary.services["web"].requests;
    assert!((900..=1100).contains(&web.lost_node_failure), "{web:?}");
    assert_eq!(web.arrived, web.accounted());
}

#[test]
fn scale_ups_in_the_dead_zone_fail_and_back_off_until_it_is_back() {
    let (summary, events) = run(OUTAGE);
    // Only zone b takes the zonal pod: each scale-up there fails, and the deletion of the
    // failed VM backs the group off 5m, 10m, 20m, then 30m.
    let failed: Vec<_> = (events.iter())
        .filter(|e| e.event == EventKind::NodeRemoved && e.pool.as_deref() == Some(B))
        .filter(|e| e.time_s < 7200.0)
        .collect();
    let backoffs: Vec<&str> = (failed.iter())
        .filter_map(|e| e.reason.as_deref())
        .filter_map(|r| r.split("backed off for ").nth(1))
        .filter_map(|r| r.split(' ').next())
        .collect();
    assert!(
        backoffs.starts_with(&["5m0s", "10m0s", "20m0s"]),
        "{backoffs:?} {failed:?}"
    );
    for pair in failed.windows(2) {
        assert!(pair[1].time_s - pair[0].time_s >= 300.0, "{failed:?}");
    }
    // No node of zone b registers during the outage.
    assert!(!(events.iter()).any(|e| e.event == EventKind::NodeReady
        && in_b(&e.node)
        && e.time_s > 3600.0
        && e.time_s < 7200.0));
    // At 2h the zone is back: its two nodes are Ready again, and the zonal pod runs on one of
    // them 5 s later (its image is still there).
    let back = of(&events, EventKind::ZoneRecovered);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].time_s, 7200.0);
    let again: Vec<_> = (events.iter())
        .filter(|e| e.event == EventKind::NodeReady && e.time_s == 7200.0)
        .collect();
    assert_eq!(again.len(), 2, "{again:?}");
    let zonal_ready = (events.iter())
        .find(|e| {
            e.event == EventKind::PodReady
                && e.service.as_deref() == Some("zonal")
                && e.time_s >= 7200.0
        })
        .expect("the zonal pod runs again");
    assert!(zonal_ready.time_s <= 7200.0 + 5.0 + 1.0, "{zonal_ready:?}");
    assert!(in_b(&zonal_ready.node));
    // A failed VM is never billed: the pool's cost is that of its registered and booting
    // nodes.
    assert!(
        summary.node_pools[B].nodes.max <= 2,
        "{:?}",
        summary.node_pools[B].nodes
    );
}

#[test]
fn with_every_node_out_nothing_is_evicted() {
    let text = OUTAGE
        .replace(
            "zones: [us-central1-a, us-central1-b, us-central1-c]",
            "zones: [us-central1-b]",
        )
        .replace("initial_size: 6", "initial_size: 2")
        .replace("min_nodes: 6", "min_nodes: 2")
        .replace("replicas: 6", "replicas: 1");
    let (_, events) = run(&text);
    assert_eq!(of(&events, EventKind::NodeNotReady).len(), 2);
    assert!(of(&events, EventKind::PodEvicted).is_empty());
    // When the zone is back, the pods still bound serve again.
    let ready_again = (events.iter())
        .filter(|e| e.event == EventKind::PodReady && e.time_s == 7200.0)
        .count();
    assert_eq!(ready_again, 2, "web and zonal");
}

/// `OUTAGE` with `web` spread over the zones (`maxSkew: 1`, `DoNotSchedule`) and `extra`
/// fields on the constraint.
fn spread(extra: &str) -> String {
    OUTAGE.replace(
        "    startup: {image_pull: 20s, ready: 5s}\n    load:",
        &format!(
            "    startup: {{image_pull: 20s, ready: 5s}}
    topologySpreadConstraints:
      - {{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule,
         labelSelector: {{matchLabels: {{app: web}}}}{extra}}}
    load:"
        ),
    )
}

/// Web pods Ready between the outage and the zone's return, with their nodes.
fn web_ready_during_outage(events: &[ClusterEvent]) -> Vec<&ClusterEvent> {
    (events.iter())
        .filter(|e| e.event == EventKind::PodReady && e.service.as_deref() == Some("web"))
        .filter(|e| e.time_s > 3600.0 && e.time_s < 7200.0)
        .collect()
}

#[test]
fn a_strict_zone_spread_keeps_the_zones_pods_pending_until_it_is_back() {
    // The dead zone's nodes still count as a domain (nodeTaintsPolicy: Ignore), with no web
    // pod left: a replacement in zone a or c would make a skew of 3 - 0 > 1. The Cluster
    // Autoscaler's estimate sees the same, so it adds no node in a or c; it tries zone b,
    // whose VMs fail.
    let text = spread("");
    assert!(text.contains("DoNotSchedule"));
    let (_, events) = run(&text);
    assert!(web_ready_during_outage(&events).is_empty());
    let added: Vec<_> = (events.iter())
        .filter(|e| e.event == EventKind::NodeAdded && e.time_s > 3600.0 && e.time_s < 7200.0)
        .collect();
    assert!(
        !added.is_empty() && added.iter().all(|e| in_b(&e.node)),
        "{added:?}"
    );
    // Back at 2h: both replacements run in zone b again.
    let back: Vec<_> = (events.iter())
        .filter(|e| e.event == EventKind::PodReady && e.service.as_deref() == Some("web"))
        .filter(|e| e.time_s >= 7200.0)
        .collect();
    assert_eq!(back.len(), 2, "{back:?}");
    assert!(
        back.iter()
            .all(|e| in_b(&e.node) && e.time_s <= 7200.0 + 25.0)
    );
}

#[test]
fn honouring_taints_in_the_spread_moves_the_pods_to_the_other_zones() {
    // With nodeTaintsPolicy: Honor the dead zone's tainted nodes are no domain: the
    // replacements go to new nodes in zones a and c, as without the constraint.
    let (_, events) = run(&spread(", nodeTaintsPolicy: Honor"));
    let ready = web_ready_during_outage(&events);
    assert_eq!(ready.len(), 2, "{ready:?}");
    for e in &ready {
        assert!(
            !in_b(&e.node) && e.time_s <= 3960.0 + 10.0 + 10.0 + 60.0 + 25.0,
            "{e:?}"
        );
    }
}
