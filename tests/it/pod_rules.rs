//! Pods' own placement rules on whole runs, with answers by hand: required hostname
//! anti-affinity leaves the (n+1)th replica Pending on n nodes until the Cluster Autoscaler adds
//! a node, and a hostname spread with `DoNotSchedule` and `maxSkew: 1` keeps replicas even.

use capsim::report::{ClusterEvent, Collect, EventKind};
use capsim::scenario::Scenario;
use capsim::simulation::Simulation;

fn run(yaml: &str) -> (capsim::report::Summary, Vec<ClusterEvent>) {
    let scenario =
        Scenario::from_yaml_str(yaml, "pod-rules.yaml").unwrap_or_else(|e| panic!("{e}"));
    let mut seen = Collect::default();
    let summary = Simulation::new(&scenario).run(&mut seen).summary;
    (summary, seen.events)
}

fn of(events: &[ClusterEvent], kind: EventKind) -> Vec<&ClusterEvent> {
    events.iter().filter(|e| e.event == kind).collect()
}

/// A pool of `nodes` 4-CPU nodes (autoscaled up to 6 when `autoscaled`) and a service `web` of
/// `replicas` 500m pods with `rules` under its entry.
fn scenario(nodes: u32, autoscaled: bool, replicas: u32, rules: &str) -> String {
    let autoscaling = if autoscaled {
        format!(
            "\n    autoscaling: {{min_nodes: {nodes}, max_nodes: 6}}\n    provisioning_delay: 60s"
        )
    } else {
        String::new()
    };
    format!(
        r#"
name: pod-rules
duration: 30m
node_pools:
  general:
    machine_type: {{cpu: 4, memory: 16Gi, price_per_hour: 0.2}}
    allocatable: {{cpu: 4, memory: 16Gi}}
    initial_size: {nodes}{autoscaling}
services:
  web:
    replicas: {replicas}
    resources: {{requests: {{cpu: 500m, memory: 512Mi}}}}
{rules}
autoscaling:
  cluster_autoscaler: {{scan_interval: 10s}}
"#
    )
}

const ANTI_AFFINITY: &str = r#"    affinity:
      podAntiAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: web}}
            topologyKey: kubernetes.io/hostname"#;

#[test]
fn hostname_anti_affinity_leaves_the_extra_replica_pending_until_a_node_is_added() {
    // Three nodes with room for 8 pods each, four replicas that may not share a node: three
    // are placed at once, one per node; the fourth waits, and the Cluster Autoscaler's first
    // scan (10 s) asks for one node, which registers 60 s later and takes it.
    let (summary, events) = run(&scenario(3, true, 4, ANTI_AFFINITY));
    let scheduled = of(&events, EventKind::PodScheduled);
    assert_eq!(scheduled.len(), 4);
    let mut hosts: Vec<&str> = scheduled.iter().filter_map(|e| e.node.as_deref()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    assert_eq!(hosts.len(), 4, "one replica per node: {hosts:?}");
    let waiting = of(&events, EventKind::PodUnschedulable);
    assert_eq!(waiting.len(), 1);
    // The bound replicas' own anti-affinity rejects it first (upstream checks existing pods'
    // rules before the incoming pod's).
    assert_eq!(
        waiting[0].reason.as_deref(),
        Some(
            "0/3 nodes are available: 3 node(s) didn't satisfy existing pods anti-affinity rules."
        )
    );
    let added: Vec<f64> = (of(&events, EventKind::NodeAdded).iter())
        .map(|e| e.time_s)
        .filter(|&t| t > 0.0)
        .collect();
    assert_eq!(added, [10.0], "one node asked for at the first scan");
    assert_eq!(summary.node_pools["general"].nodes.max, 4);
    let last = scheduled.last().expect("four binds");
    assert!(last.time_s >= 70.0 && last.time_s < 80.0, "{}", last.time_s);
}

#[test]
fn without_the_autoscaler_the_extra_replica_stays_pending() {
    let (summary, events) = run(&scenario(3, false, 4, ANTI_AFFINITY));
    assert_eq!(of(&events, EventKind::PodScheduled).len(), 3);
    assert_eq!(summary.node_pools["general"].nodes.max, 3);
    assert!(summary.services["web"].pending_pod_seconds > 1_700.0);
}

#[test]
fn a_hostname_spread_with_max_skew_one_keeps_replicas_even() {
    // Seven replicas on three nodes with maxSkew 1: 3/2/2 in some order, the counts never
    // more than 1 apart after any bind.
    let spread = r#"    topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: DoNotSchedule
        labelSelector: {matchLabels: {app: web}}"#;
    let (_, events) = run(&scenario(3, false, 7, spread));
    let scheduled = of(&events, EventKind::PodScheduled);
    assert_eq!(scheduled.len(), 7);
    let mut per_node = std::collections::BTreeMap::new();
    for e in &scheduled {
        *per_node
            .entry(e.node.clone().unwrap_or_default())
            .or_insert(0) += 1;
        // After every bind the counts differ by at most 1.
        let counts: Vec<i32> = per_node.values().copied().collect();
        let (min, max) = (counts.iter().min(), counts.iter().max());
        let min = if per_node.len() < 3 {
            0
        } else {
            *min.unwrap_or(&0)
        };
        assert!(max.unwrap_or(&0) - min <= 1, "{per_node:?}");
    }
    let mut counts: Vec<i32> = per_node.values().copied().collect();
    counts.sort_unstable();
    assert_eq!(counts, [2, 2, 3]);
}

#[test]
fn a_pod_waiting_for_its_affinity_binds_when_the_pod_it_follows_arrives() {
    // `follower` (created first) must share a node with an `app: leader` pod; none exists, and
    // it does not match its own term, so it waits. `leader`'s pod binds, which kube-scheduler
    // treats as an event that can make a node feasible: `follower` is retried at once and
    // lands on the leader's node. Nothing else would retry it (no pod leaves, no node comes).
    let yaml = r#"
name: follow
duration: 10m
node_pools:
  general:
    machine_type: {cpu: 4, memory: 16Gi, price_per_hour: 0.2}
    allocatable: {cpu: 4, memory: 16Gi}
    initial_size: 3
services:
  follower:
    resources: {requests: {cpu: 500m, memory: 512Mi}}
    affinity:
      podAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchExpressions: [{key: app, operator: In, values: [leader]}]}
            topologyKey: kubernetes.io/hostname
  leader:
    resources: {requests: {cpu: 500m, memory: 512Mi}}
"#;
    let (summary, events) = run(yaml);
    let waits = of(&events, EventKind::PodUnschedulable);
    assert_eq!(waits.len(), 1);
    assert_eq!(waits[0].service.as_deref(), Some("follower"));
    assert_eq!(
        waits[0].reason.as_deref(),
        Some("0/3 nodes are available: 3 node(s) didn't match pod affinity rules.")
    );
    let scheduled = of(&events, EventKind::PodScheduled);
    let node_of = |service: &str| {
        (scheduled.iter())
            .find(|e| e.service.as_deref() == Some(service))
            .map(|e| (e.node.clone(), e.time_s))
    };
    let (leader, at) = node_of("leader").expect("leader bound");
    assert_eq!(node_of("follower"), Some((leader, at)));
    assert_eq!(summary.services["follower"].pending_pod_seconds, 0.0);
}

#[test]
fn bad_rules_are_all_reported_with_their_paths() {
    let rules = r#"    topologySpreadConstraints:
      - maxSkew: 0
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: DoNotSchedule
      - maxSkew: 1
        topologyKey: zone
        whenUnsatisfiable: Sometimes
        minDomains: 2
    affinity:
      podAntiAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchExpressions: [{key: app, operator: Within, values: [web]}]}
            topologyKey: kubernetes.io/hostname
          - labelSelector: {matchExpressions: [{key: app, operator: Exists, values: [web]}]}
            topologyKey: zone
      podAffinity:
        preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 101
            podAffinityTerm: {topologyKey: zone}"#;
    let yaml = scenario(1, false, 1, rules);
    let error = match Scenario::from_yaml_str(&yaml, "pod-rules.yaml") {
        Ok(_) => panic!("invalid rules accepted"),
        Err(e) => e.to_string(),
    };
    for needle in [
        "services.web.topologySpreadConstraints[0].maxSkew",
        "services.web.topologySpreadConstraints[1].whenUnsatisfiable: unknown whenUnsatisfiable \"Sometimes\"",
        "services.web.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].operator",
        "services.web.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[1].labelSelector.matchExpressions[0].values",
        "services.web.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight",
    ] {
        assert!(error.contains(needle), "{needle:?} not in:\n{error}");
    }
    assert!(error.starts_with("pod-rules.yaml:14:9: "), "{error}");
}
