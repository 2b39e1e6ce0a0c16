//! A pool's `zones`: one node group per zone, with its zone's labels and its share of the
//! pool's sizes; bad lists and clashing names are errors.

use super::{BASE, assert_rejected, base_with, load};
use crate::cluster::pool::NodePool;
use crate::units::SimDuration;

/// `BASE` with its pool given `extra` keys (YAML lines at the pool's indentation).
fn zoned(extra: &str) -> String {
    base_with(
        "    machine_type: c2-standard-8\n",
        &format!("    machine_type: c2-standard-8\n{extra}"),
    )
}

fn names(pools: &[NodePool]) -> Vec<&str> {
    pools.iter().map(|p| p.name.as_str()).collect()
}

#[test]
fn a_pool_over_three_zones_is_three_node_groups_of_two_nodes() {
    let s = load(&zoned(
        "    initial_size: 6\n    zones: [us-central1-a, us-central1-b, us-central1-c]\n",
    ))
    .expect("valid");
    assert_eq!(
        names(&s.node_pools),
        [
            "pool-us-central1-a",
            "pool-us-central1-b",
            "pool-us-central1-c"
        ]
    );
    for (pool, zone) in s.node_pools.iter().zip(["a", "b", "c"]) {
        let zone = format!("us-central1-{zone}");
        assert_eq!(pool.initial_size, 2, "{}", pool.name);
        assert_eq!(pool.group_of, "pool");
        assert_eq!(pool.zone.as_deref(), Some(zone.as_str()));
        assert_eq!(pool.labels["topology.kubernetes.io/zone"], zone);
        assert_eq!(pool.labels["topology.gke.io/zone"], zone);
        assert_eq!(pool.labels["topology.kubernetes.io/region"], "us-central1");
        // The node pool label keeps the pool's own name: a selector for it matches every zone.
        assert_eq!(pool.labels["cloud.google.com/gke-nodepool"], "pool");
    }
}

#[test]
fn sizes_are_totals_split_with_the_first_zones_taking_the_rest() {
    // 7 nodes, 4 to 11: (3, 2, 2), (2, 1, 1), (4, 4, 3).
    let s = load(&zoned(
        "    initial_size: 7\n    autoscaling: {min_nodes: 4, max_nodes: 11}\n    zones: [us-east-1a, us-east-1b, us-east-1c]\n",
    ))
    .expect("valid");
    let sizes: Vec<(u32, u32, u32)> = (s.node_pools.iter())
        .map(|p| (p.initial_size, p.min_nodes, p.max_nodes))
        .collect();
    assert_eq!(sizes, [(3, 2, 4), (2, 1, 4), (2, 1, 3)]);
    assert_eq!(
        s.node_pools[1].labels["topology.kubernetes.io/region"],
        "us-east-1"
    );
    let ca = s.autoscaling.cluster_autoscaler.expect("autoscaled");
    assert!(ca.balance_similar_node_groups, "on by default");
}

#[test]
fn a_pool_without_zones_has_no_zone_label() {
    let s = load(BASE).expect("valid");
    let pool = &s.node_pools[0];
    assert_eq!(
        (pool.name.as_str(), pool.group_of.as_str()),
        ("pool", "pool")
    );
    assert_eq!(pool.zone, None);
    assert!(
        !pool
            .labels
            .keys()
            .any(|k| k.contains("zone") || k.contains("region")),
        "{:?}",
        pool.labels
    );
}

#[test]
fn zoned_groups_stand_where_their_pool_stood() {
    let yaml = base_with(
        "    machine_type: c2-standard-8\n",
        "    machine_type: c2-standard-8\n    zones: [europe-west4-b, europe-west4-a]\n  last:\n    machine_type: c2-standard-8\n",
    );
    let s = load(&yaml).expect("valid");
    assert_eq!(
        names(&s.node_pools),
        ["pool-europe-west4-b", "pool-europe-west4-a", "last"]
    );
    // initial_size 1 (the default) over two zones: the first zone takes it.
    let sizes: Vec<u32> = s.node_pools.iter().map(|p| p.initial_size).collect();
    assert_eq!(sizes, [1, 0, 1]);
}

#[test]
fn bad_zone_lists_are_errors_reported_together() {
    assert_rejected(
        &zoned("    zones: []\n"),
        &["node_pools.pool.zones: the list of zones is empty; expected at least one zone"],
    );
    let yaml = zoned("    zones: [us-central1-a, US_CENTRAL1, us-central1-a, us-central1]\n");
    let message = load(&yaml).expect_err("rejected").to_string();
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), 3, "{message}");
    for (line, fragment) in lines.iter().zip([
        "node_pools.pool.zones[1]: \"US_CENTRAL1\" is not a valid zone name",
        "node_pools.pool.zones[2]: zone \"us-central1-a\" is listed twice; expected each zone once",
        "node_pools.pool.zones[3]: \"us-central1\" does not end in a zone letter after its region",
    ]) {
        assert!(line.contains(fragment), "{fragment:?} missing from: {line}");
    }
    assert_rejected(
        &zoned(
            "    zones: [us-central1-a, us-central1-b]\n    labels: {topology.kubernetes.io/region: us-east1}\n",
        ),
        &[
            "node_pools.pool.labels.topology.kubernetes.io/region: \"us-east1\" is not what the pool's zones set: zone us-central1-a's nodes get \"us-central1\"",
        ],
    );
    assert_rejected(
        &zoned(
            "    zones: [us-central1-a, us-central1-b]\n    labels: {topology.kubernetes.io/zone: us-central1-a}\n",
        ),
        &["zone us-central1-b's nodes get \"us-central1-b\""],
    );
    // The region every zone gives (as a node list's nodes carry it) agrees.
    let s = load(&zoned(
        "    zones: [us-central1-a, us-central1-b]\n    labels: {topology.kubernetes.io/region: us-central1}\n",
    ))
    .expect("valid");
    assert_eq!(
        s.node_pools[1].labels["topology.kubernetes.io/region"],
        "us-central1"
    );
}

#[test]
fn a_zone_group_named_like_another_pool_is_an_error() {
    let yaml = base_with(
        "    machine_type: c2-standard-8\n",
        "    machine_type: c2-standard-8\n    zones: [us-central1-a]\n  pool-us-central1-a:\n    machine_type: c2-standard-8\n",
    );
    assert_rejected(
        &yaml,
        &[
            "node_pools.pool.zones: zone us-central1-a makes node group \"pool-us-central1-a\", the name of pool pool-us-central1-a",
        ],
    );
}

#[test]
fn priorities_name_the_pool_not_its_zones() {
    let yaml = zoned(
        "    autoscaling: {max_nodes: 6}\n    zones: [us-central1-a, us-central1-b]\nautoscaling:\n  cluster_autoscaler:\n    expander: priority\n    priorities: {pool: 10}\n    balance_similar_node_groups: false\n",
    );
    let s = load(&yaml).expect("valid");
    let ca = s.autoscaling.cluster_autoscaler.expect("autoscaled");
    assert_eq!(ca.priorities, [("pool".to_string(), 10)]);
    assert!(!ca.balance_similar_node_groups);
    let bad = yaml.replace("{pool: 10}", "{pool-us-central1-a: 10}");
    assert_rejected(
        &bad,
        &["autoscaling.cluster_autoscaler.priorities.pool-us-central1-a: unknown node pool"],
    );
}

/// `zoned` over three zones with `outages` (YAML list lines at the top level).
fn with_outages(outages: &str) -> String {
    format!(
        "{}outages:\n{outages}",
        zoned("    zones: [us-central1-a, us-central1-b, us-central1-c]\n")
    )
}

#[test]
fn an_outage_names_a_zone_of_the_pools_within_the_run() {
    let s = load(&with_outages(
        "  - {zone: us-central1-b, at: 10m, duration: 20m}\n  - {zone: us-central1-b, at: 30m, duration: 1h}\n",
    ))
    .expect("back-to-back outages of one zone are valid");
    assert_eq!(s.outages.len(), 2);
    assert_eq!(s.outages[0].zone, "us-central1-b");
    assert_eq!(s.outages[0].start, SimDuration::from_secs(600));
    assert_eq!(s.outages[1].duration, SimDuration::from_secs(3600));
    let cases: &[(&str, &[&str])] = &[
        (
            "  - {zone: us-central1-f, at: 10m, duration: 20m}\n",
            &[
                "outages[0].zone: \"us-central1-f\" is not a zone of any node pool",
                "us-central1-a, us-central1-b, us-central1-c",
            ],
        ),
        (
            "  - {zone: us-central1-a, at: 1h, duration: 20m}\n",
            &["outages[0].at: \"1h\" is not before the end of the run (1h"],
        ),
        (
            "  - {zone: us-central1-a, at: 10m, duration: 0s}\n",
            &["outages[0].duration: \"0s\" is zero"],
        ),
        (
            "  - {zone: us-central1-a, duration: 10m}\n",
            &["outages[0].at: the outage's start is missing"],
        ),
        (
            "  - {zone: us-central1-a, at: 10m, duration: 20m}\n  - {zone: us-central1-a, at: 20m, duration: 5m}\n",
            &[
                "outages[1]: the outage of us-central1-a from 20m",
                "overlaps outages[0]",
            ],
        ),
        (
            "  - {zone: us-central1-a, at: 10m, duration: 20m, region: x}\n",
            &["unknown field \"region\""],
        ),
    ];
    for (outages, fragments) in cases {
        assert_rejected(&with_outages(outages), fragments);
    }
    // Every bad outage at once.
    let both = "  - {zone: nowhere-z, at: 10m, duration: 1m}\n  - {zone: us-central1-a, at: 2h, duration: 1m}\n";
    let message = load(&with_outages(both))
        .expect_err("two bad outages")
        .to_string();
    assert!(message.contains("outages[0].zone") && message.contains("outages[1].at"));
    // Without zones there is nothing to take out.
    let plain = format!("{BASE}outages:\n  - {{zone: us-central1-a, at: 1m, duration: 1m}}\n");
    assert_rejected(&plain, &["but no pool names zones"]);
}
