//! `scenarios/taints-and-affinity.yaml` does what its comments say: where each service's pods
//! land, which wait and why, and what the Cluster Autoscaler does about it.

use capsim::report::{ClusterEvent, Collect, EventKind};
use capsim::scenario::Scenario;
use capsim::simulation::Simulation;
use capsim::units::SimDuration;

use crate::util::repo_root;

/// The events of `kind` for `service`'s pods (all of `kind` for `None`).
fn of<'e>(
    events: &'e [ClusterEvent],
    kind: EventKind,
    service: Option<&str>,
) -> Vec<&'e ClusterEvent> {
    (events.iter())
        .filter(|e| e.event == kind && (service.is_none() || e.service.as_deref() == service))
        .collect()
}

/// The node each event names.
fn nodes(events: &[&ClusterEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.node.clone().unwrap_or_default())
        .collect()
}

#[test]
fn the_taints_example_places_its_pods_where_its_comments_say() {
    let path = repo_root().join("scenarios/taints-and-affinity.yaml");
    let mut scenario = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    // Past the load's step down at 4h and the HPA's 5-minute scale-down stabilization.
    scenario.duration = SimDuration::from_secs(4 * 3600 + 600);
    let mut seen = Collect::default();
    let summary = Simulation::new(&scenario).run(&mut seen).summary;
    let events = &seen.events;
    let scheduled = |service| nodes(&of(events, EventKind::PodScheduled, Some(service)));

    // inference: both pods on the dedicated pool's one node, and nothing else there.
    assert_eq!(scheduled("inference"), ["dedicated-0", "dedicated-0"]);
    let on_dedicated = of(events, EventKind::PodScheduled, None)
        .into_iter()
        .filter(|e| e.node.as_deref() == Some("dedicated-0"))
        .count();
    assert_eq!(on_dedicated, 2);
    assert_eq!(summary.node_pools["dedicated"].nodes.max, 1);

    // web: only on general nodes, never Pending.
    let web = scheduled("web");
    assert!(web.iter().all(|n| n.starts_with("general-")), "{web:?}");
    assert!(of(events, EventKind::PodUnschedulable, Some("web")).is_empty());
    assert_eq!(summary.services["web"].pending_pod_seconds, 0.0);
    // Its HPA: 4 to 9 in the first minute, 12 at the step up at 2h, 9 after the step down.
    let rescales: Vec<(f64, u32)> = of(events, EventKind::HpaRescale, Some("web"))
        .iter()
        .map(|e| (e.time_s, e.to_replicas.unwrap_or_default()))
        .collect();
    assert_eq!(rescales.len(), 4, "{rescales:?}");
    assert!(rescales[1].0 < 60.0 && rescales[1].1 == 9, "{rescales:?}");
    assert!((7200.0..7260.0).contains(&rescales[2].0) && rescales[2].1 == 12);
    assert!(
        rescales[3].0 > 4.0 * 3600.0 && rescales[3].1 == 9,
        "{rescales:?}"
    );
    // At about 10 minutes one general node is drained; the other then holds every web pod.
    let removed = of(events, EventKind::NodeRemoved, None);
    assert_eq!(removed.len(), 1);
    let (gone, when) = (
        removed[0].node.clone().unwrap_or_default(),
        removed[0].time_s,
    );
    assert!(
        gone.starts_with("general-") && (600.0..660.0).contains(&when),
        "{gone} {when}"
    );
    let later: Vec<String> = of(events, EventKind::PodScheduled, Some("web"))
        .iter()
        .filter(|e| e.time_s >= when)
        .map(|e| e.node.clone().unwrap_or_default())
        .collect();
    let other = if gone == "general-0" {
        "general-1"
    } else {
        "general-0"
    };
    assert!(
        !later.is_empty() && later.iter().all(|n| n == other),
        "{later:?}"
    );
    assert_eq!(summary.node_pools["general"].nodes.min, 1);

    // batch: Pending for want of a spot node, in kube-scheduler's words...
    let waits = of(events, EventKind::PodUnschedulable, Some("batch"));
    assert_eq!(waits.len(), 3);
    assert_eq!(
        waits[0].reason.as_deref(),
        Some(
            "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 node(s) didn't \
             match Pod's node affinity/selector."
        )
    );
    // ...until the Cluster Autoscaler's spot node, asked for at 10 s, is Ready.
    let added: Vec<&ClusterEvent> = of(events, EventKind::NodeAdded, None)
        .into_iter()
        .filter(|e| e.time_s > 0.0)
        .collect();
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].node.as_deref(), Some("spot-0"));
    assert_eq!(added[0].time_s, 10.0);
    assert!(
        added[0]
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("priority spot")
    );
    let ready = of(events, EventKind::NodeReady, None)
        .into_iter()
        .find(|e| e.node.as_deref() == Some("spot-0"))
        .map(|e| e.time_s)
        .unwrap_or_default();
    assert!((70.0..=160.0).contains(&ready), "{ready}");
    let batch = of(events, EventKind::PodScheduled, Some("batch"));
    assert_eq!(nodes(&batch), ["spot-0", "spot-0", "spot-0"]);
    assert!(batch.iter().all(|e| e.time_s == ready));
    // All inside the 5-minute warm-up: the summary shows no wait and no refusal.
    assert!(ready < scenario.warmup.as_secs_f64());
    let b = &summary.services["batch"];
    assert_eq!((b.pending_pod_seconds, b.requests.rejected), (0.0, 0));
    // The spot node is never taken back.
    assert!(of(events, EventKind::NodePreempted, None).is_empty());
    assert_eq!(summary.node_pools["spot"].preempted, 0);
}
