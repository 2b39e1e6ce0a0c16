//! Pools over zones, run whole: nodes spread over the zones with their zone's labels, and the
//! Cluster Autoscaler's scale-ups balanced over the zones. Answers worked by hand.

use capsim::report::{ClusterEvent, Collect, EventKind};
use capsim::simulation::Simulation;

use crate::util::scenario;

const ZONES: [&str; 3] = ["us-central1-a", "us-central1-b", "us-central1-c"];

/// A pool `web` of n2-standard-8 (7910m allocatable) over three zones with `pool` extra keys,
/// and service `api` with `replicas` pods of 5 CPU (one a node) and `extra` keys.
fn zoned(pool: &str, replicas: u32, extra: &str) -> String {
    format!(
        "
name: zones
duration: 10m
node_pools:
  web:
    machine_type: n2-standard-8
    zones: [us-central1-a, us-central1-b, us-central1-c]
    provisioning_delay: 60s
{pool}
services:
  api:
    replicas: {replicas}
    resources:
      requests: {{cpu: 5, memory: 1Gi}}
{extra}
"
    )
}

fn run(yaml: &str) -> (capsim::report::Summary, Vec<ClusterEvent>) {
    let s = scenario(yaml);
    let mut seen = Collect::default();
    let summary = Simulation::new(&s).run(&mut seen).summary;
    (summary, seen.events)
}

/// The nodes the events of `kind` name.
fn nodes_of(events: &[ClusterEvent], kind: EventKind) -> Vec<String> {
    (events.iter())
        .filter(|e| e.event == kind)
        .filter_map(|e| e.node.clone())
        .collect()
}

/// The nodes the Cluster Autoscaler asked for (not the initial ones).
fn scaled_up(events: &[ClusterEvent]) -> Vec<String> {
    (events.iter())
        .filter(|e| e.event == EventKind::NodeAdded)
        .filter(|e| {
            e.reason
                .as_deref()
                .is_some_and(|r| r.contains("new node(s)"))
        })
        .filter_map(|e| e.node.clone())
        .collect()
}

#[test]
fn six_initial_nodes_over_three_zones_are_two_a_zone() {
    // initial_size 6 over 3 zones: 2 nodes a zone, each zone its own node group.
    let (summary, events) = run(&zoned("    initial_size: 6", 6, ""));
    let groups: Vec<&str> = summary.node_pools.keys().map(String::as_str).collect();
    assert_eq!(
        groups,
        [
            "web-us-central1-a",
            "web-us-central1-b",
            "web-us-central1-c"
        ]
    );
    for zone in ZONES {
        let pool = &summary.node_pools[&format!("web-{zone}")];
        assert_eq!((pool.nodes.min, pool.nodes.max), (2, 2), "{zone}");
    }
    // One 5-CPU pod a node: all six placed, two in each zone.
    let placed = nodes_of(&events, EventKind::PodScheduled);
    assert_eq!(placed.len(), 6, "{placed:?}");
    for zone in ZONES {
        let here = placed.iter().filter(|n| n.contains(zone)).count();
        assert_eq!(here, 2, "{zone}: {placed:?}");
    }
}

#[test]
fn run_json_names_each_groups_pool_and_zone() {
    let s = scenario(&zoned("    initial_size: 6", 6, ""));
    let setup = capsim::runner::setup(&s);
    let group = &setup.node_pools["web-us-central1-b"];
    assert_eq!(group.pool.as_deref(), Some("web"));
    assert_eq!(group.zone.as_deref(), Some("us-central1-b"));
    assert_eq!(group.initial_nodes, 2);
    // A pool without zones writes neither.
    let plain = scenario(&zoned("    initial_size: 6", 6, "").replace(
        "    zones: [us-central1-a, us-central1-b, us-central1-c]\n",
        "",
    ));
    let text = serde_json::to_string(&capsim::runner::setup(&plain)).expect("json");
    assert!(!text.contains("zone"), "{text}");
}

#[test]
fn nodes_carry_their_zone_label() {
    // A selector on zone b (and one on the pool's own name, which every zone carries): the
    // pods go to zone b's two nodes only, and the third waits.
    let extra = "    node_selector:\n      topology.kubernetes.io/zone: us-central1-b\n      cloud.google.com/gke-nodepool: web";
    let (summary, events) = run(&zoned("    initial_size: 6", 3, extra));
    let placed = nodes_of(&events, EventKind::PodScheduled);
    assert_eq!(placed.len(), 2, "{placed:?}");
    assert!(
        placed.iter().all(|n| n.starts_with("web-us-central1-b-")),
        "{placed:?}"
    );
    assert!(summary.services["api"].pending_pod_seconds > 0.0);
}

#[test]
fn three_new_nodes_on_a_balanced_pool_are_one_a_zone() {
    // 1 node a zone, 6 pods of one node each: 3 pending; the estimate is 3 nodes, balanced
    // 1/1/1 over the three zones' groups at the first scan.
    let pool = "    initial_size: 3\n    autoscaling: {min_nodes: 3, max_nodes: 30}";
    let (summary, events) = run(&zoned(pool, 6, ""));
    let added = scaled_up(&events);
    assert_eq!(added.len(), 3, "{added:?}");
    for zone in ZONES {
        assert_eq!(
            added.iter().filter(|n| n.contains(zone)).count(),
            1,
            "{zone}: {added:?}"
        );
        let pool = &summary.node_pools[&format!("web-{zone}")];
        assert_eq!((pool.nodes.min, pool.nodes.max), (1, 2), "{zone}");
    }
    let reason = (events.iter())
        .filter(|e| e.event == EventKind::NodeAdded)
        .filter_map(|e| e.reason.clone())
        .find(|r| r.contains("new node(s)"))
        .unwrap_or_default();
    assert!(
        reason.contains(
            "balanced with 2 similar node group(s): web-us-central1-a 1->2, web-us-central1-b \
             1->2, web-us-central1-c 1->2"
        ),
        "{reason}"
    );
    // Without balancing, the expander's one group takes all three.
    let off = "autoscaling:\n  cluster_autoscaler: {balance_similar_node_groups: false}";
    let (_, events) = run(&format!("{}{off}\n", zoned(pool, 6, "")));
    let added = scaled_up(&events);
    assert_eq!(added.len(), 3, "{added:?}");
    let zone = added[0]
        .rsplit_once('-')
        .map(|(z, _)| z)
        .unwrap_or_default();
    assert!(added.iter().all(|n| n.starts_with(zone)), "{added:?}");
}

#[test]
fn a_zoned_run_is_the_same_twice() {
    // Each zone's group draws its own provisioning stream: two runs agree event for event.
    let pool = "    initial_size: 3\n    autoscaling: {min_nodes: 3, max_nodes: 30}\n    provisioning_delay: {distribution: uniform, min: 30s, max: 90s}";
    let yaml = zoned(pool, 9, "").replace("    provisioning_delay: 60s\n", "");
    let (first, second) = (run(&yaml).1, run(&yaml).1);
    assert_eq!(scaled_up(&first).len(), 6, "{:?}", scaled_up(&first));
    assert_eq!(first, second);
}

/// Pods of `api` per zone, from where they were scheduled.
fn per_zone(events: &[ClusterEvent]) -> [usize; 3] {
    let placed = nodes_of(events, EventKind::PodScheduled);
    ZONES.map(|zone| {
        (placed.iter())
            .filter(|node| node.starts_with(&format!("web-{zone}-")))
            .count()
    })
}

#[test]
fn a_zone_spread_with_do_not_schedule_places_six_replicas_two_a_zone() {
    // Six nodes, two a zone; six 1-CPU replicas that prefer zone a (node affinity, weight 100)
    // crowd into it without a constraint. A zone spread of maxSkew 1 with DoNotSchedule makes
    // them 2/2/2 however strong the preference.
    let prefer_a = "    affinity:
      nodeAffinity:
        preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            preference: {matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [us-central1-a]}]}";
    let small = |extra: &str| {
        zoned("    initial_size: 6", 6, &format!("{prefer_a}\n{extra}"))
            .replace("cpu: 5, memory: 1Gi", "cpu: 1, memory: 1Gi")
    };
    let (_, free) = run(&small(""));
    let free = per_zone(&free);
    assert_eq!(free.iter().sum::<usize>(), 6);
    assert!(free[0] > 2, "without the constraint zone a took {free:?}");
    let spread = "    topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: DoNotSchedule
        labelSelector: {matchLabels: {app: api}}";
    let (_, events) = run(&small(spread));
    assert_eq!(per_zone(&events), [2, 2, 2]);
}
