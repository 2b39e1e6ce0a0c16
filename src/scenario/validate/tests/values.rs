//! Valid files: the documented defaults.

use super::{BASE, base_with, load};
use crate::scenario::model::Expander;
use crate::units::{Millicores, SimDuration};
use crate::workload::spec::{DurationDist, LoadBalancerPolicy};

#[test]
fn defaults_are_filled_in() {
    let s = load(BASE).expect("valid");
    assert_eq!(s.seed, 1);
    assert_eq!(s.warmup, SimDuration::ZERO);
    assert_eq!(s.resolution, SimDuration::from_secs(60));
    assert_eq!(s.description, "");
    let pool = &s.node_pools[0];
    assert_eq!(
        (pool.initial_size, pool.min_nodes, pool.max_nodes),
        (1, 1, 1)
    );
    assert_eq!(pool.autoscaling, None);
    assert_eq!(pool.max_pods, 110);
    assert_eq!(pool.allocatable.cpu, Millicores(7_910));
    assert_eq!(
        pool.provisioning_delay,
        DurationDist::Constant(SimDuration::from_secs(90))
    );
    assert_eq!(pool.price_usd_per_hour, 0.4176);
    assert_eq!(
        pool.labels["node.kubernetes.io/instance-type"],
        "c2-standard-8"
    );
    assert_eq!(pool.labels["cloud.google.com/gke-nodepool"], "pool");
    assert!(!pool.labels.contains_key("cloud.google.com/gke-spot"));
    let web = &s.services[0];
    assert_eq!(web.namespace, "default");
    assert_eq!(web.load_balancer, LoadBalancerPolicy::Random);
    assert_eq!(web.server.queue_limit, None);
    assert_eq!(web.server.timeout, None);
    assert_eq!(web.server.cpu_per_worker, Millicores(1_000));
    assert_eq!(
        web.startup.image_pull,
        DurationDist::Constant(SimDuration::ZERO)
    );
    assert_eq!(s.autoscaling.cluster_autoscaler, None, "no pool autoscales");
    assert_eq!(s.namespaces, ["default"]);

    // A pool with autoscaling bounds turns the Cluster Autoscaler on with its defaults, and
    // starts at min_nodes.
    let s = load(&base_with(
        "machine_type: c2-standard-8",
        "machine_type: m6i.2xlarge\n    spot: true\n    autoscaling: {min_nodes: 2, max_nodes: 5}",
    ))
    .expect("valid");
    let pool = &s.node_pools[0];
    assert_eq!(
        (pool.initial_size, pool.min_nodes, pool.max_nodes),
        (2, 2, 5)
    );
    assert_eq!(pool.max_pods, 58, "EKS default");
    assert_eq!(pool.price_usd_per_hour, 0.150, "billed at the spot price");
    assert_eq!(pool.labels["eks.amazonaws.com/capacityType"], "SPOT");
    let ca = s
        .autoscaling
        .cluster_autoscaler
        .expect("enabled by the pool's autoscaling");
    assert_eq!(ca.expanders, [Expander::LeastWaste]);
    assert_eq!(ca.scan_interval, SimDuration::from_secs(10));
    assert_eq!(ca.scale_down_delay_after_delete, SimDuration::from_secs(10));
    assert_eq!(ca.max_node_provision_time, SimDuration::from_secs(900));

    // scale_down_delay_after_delete follows scan_interval; `enabled: false` turns it off.
    let s = load(&format!(
        "{BASE}autoscaling: {{cluster_autoscaler: {{scan_interval: 30s}}}}\n"
    ))
    .expect("valid");
    let ca = s.autoscaling.cluster_autoscaler.expect("enabled");
    assert_eq!(ca.scale_down_delay_after_delete, SimDuration::from_secs(30));
    let s = load(&format!(
        "{BASE}autoscaling: {{cluster_autoscaler: {{enabled: false}}}}\n"
    ))
    .expect("valid");
    assert_eq!(s.autoscaling.cluster_autoscaler, None);
}
