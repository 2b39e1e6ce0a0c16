//! Valid files: defaults, the shipped scenarios' values, and command-line overrides.

use super::{BASE, assert_rejected, base_with, load};
use crate::cluster::spec::{SelectorOperator, TaintEffect, TolerationOperator};
use crate::controllers::cluster_autoscaler::spec::Expander;
use crate::controllers::hpa::spec::{HpaMetric, ResourceName, SyncOffset};
use crate::scenario::{Document, Override, Scenario};
use crate::units::{Bytes, DurationDist, Millicores, Resources, SimDuration, SimTime};
use crate::workload::spec::{CostModel, LoadBalancerPolicy, RateProfile, Spike};

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
    assert_eq!(
        ca.scale_down_delay_after_delete,
        SimDuration::ZERO,
        "1.37's default"
    );
    assert_eq!(ca.max_node_provision_time, SimDuration::from_secs(900));
    assert_eq!(ca.scale_down_gpu_utilization_threshold, 0.5);
    assert_eq!(
        pool.autoscaling.as_ref().map(|a| a.gpu_threshold_percent),
        Some(None)
    );

    // An HPA without metrics targets 80% CPU utilization, as the API server defaults it.
    let s = load(&format!(
        "{BASE}autoscaling:\n  hpa:\n    web: {{maxReplicas: 4}}\n"
    ))
    .expect("valid");
    assert_eq!(
        s.autoscaling.hpa[0].metrics,
        [HpaMetric::ResourceUtilization {
            resource: ResourceName::Cpu,
            average_utilization_percent: 80,
        }]
    );

    // scale_down_delay_after_delete stays 0 whatever the scan interval; it can be set.
    let s = load(&format!(
        "{BASE}autoscaling: {{cluster_autoscaler: {{scan_interval: 30s}}}}\n"
    ))
    .expect("valid");
    let ca = s.autoscaling.cluster_autoscaler.expect("enabled");
    assert_eq!(ca.scale_down_delay_after_delete, SimDuration::ZERO);
    let s = load(&format!(
        "{BASE}autoscaling: {{cluster_autoscaler: {{scale_down_delay_after_delete: 20s}}}}\n"
    ))
    .expect("valid");
    let ca = s.autoscaling.cluster_autoscaler.expect("enabled");
    assert_eq!(ca.scale_down_delay_after_delete, SimDuration::from_secs(20));
    assert_eq!(
        (ca.max_scale_down_parallelism, ca.max_bulk_soft_taint_count),
        (10, 10),
        "the defaults"
    );
    let s = load(&format!(
        "{BASE}autoscaling: {{cluster_autoscaler: {{max_scale_down_parallelism: 3, max_bulk_soft_taint_count: 0}}}}\n"
    ))
    .expect("valid");
    let ca = s.autoscaling.cluster_autoscaler.expect("enabled");
    assert_eq!(
        (ca.max_scale_down_parallelism, ca.max_bulk_soft_taint_count),
        (3, 0)
    );

    // The GPU thresholds: global as a fraction, per pool in percent.
    let s = load(&format!(
        "{}autoscaling: {{cluster_autoscaler: {{scale_down_gpu_utilization_threshold: 0.3}}}}\n",
        base_with(
            "machine_type: c2-standard-8",
            "machine_type: c2-standard-8\n    autoscaling: {max_nodes: 4, gpu_threshold: 60}"
        )
    ))
    .expect("valid");
    let ca = s.autoscaling.cluster_autoscaler.as_ref().expect("enabled");
    assert_eq!(ca.scale_down_gpu_utilization_threshold, 0.3);
    assert_eq!(ca.scale_down_utilization_threshold, 0.5);
    let a = s.node_pools[0].autoscaling.as_ref().expect("autoscaled");
    assert_eq!(
        (a.cpu_threshold_percent, a.gpu_threshold_percent),
        (None, Some(60.0))
    );
    let s = load(&format!(
        "{BASE}autoscaling: {{cluster_autoscaler: {{enabled: false}}}}\n"
    ))
    .expect("valid");
    assert_eq!(s.autoscaling.cluster_autoscaler, None);
}

fn shipped(name: &str) -> Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    match Scenario::load(&path) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn ai_infra_carries_the_reference_configuration() {
    let s = shipped("ai-infra.yaml");
    assert_eq!((s.name.as_str(), s.seed), ("ai-infra", 42));
    assert_eq!(s.duration, SimDuration::from_secs(24 * 3600));
    assert_eq!(s.warmup, SimDuration::ZERO);
    assert_eq!(s.resolution, SimDuration::from_secs(60));

    let pools: Vec<_> = s
        .node_pools
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.machine.name.as_str(),
                p.initial_size,
                p.min_nodes,
                p.max_nodes,
            )
        })
        .collect();
    assert_eq!(
        pools,
        [
            ("compute-optimized", "c2-standard-8", 3, 2, 10),
            ("memory-optimized", "n2-highmem-8", 2, 1, 5)
        ]
    );
    for p in &s.node_pools {
        let a = p.autoscaling.as_ref().expect("both pools autoscale");
        assert_eq!(
            (a.cpu_threshold_percent, a.memory_threshold_percent),
            (Some(70.0), Some(75.0))
        );
        assert_eq!(p.labels["node-type"], p.name);
    }

    let vs = &s.services[0];
    assert_eq!(
        (vs.name.as_str(), vs.namespace.as_str(), vs.replicas),
        ("vector-store", "vector-store", 3)
    );
    assert_eq!(vs.pod.requests, Resources::new(2_000, 4 * Bytes::GIB));
    assert_eq!(vs.pod.limits, Resources::new(4_000, 8 * Bytes::GIB));
    let pref = &vs.pod.affinity.preferred[0];
    assert_eq!(pref.weight, 100);
    let expr = &pref.preference.match_expressions[0];
    assert_eq!(
        (expr.key.as_str(), expr.operator),
        ("node-type", SelectorOperator::In)
    );
    assert_eq!(expr.values, ["memory-optimized"]);
    assert_eq!(vs.load_balancer, LoadBalancerPolicy::LeastRequests);
    let load = vs.load.as_ref().expect("vector-store has load");
    assert_eq!(load.arrivals.rate_per_s, 5000.0);
    assert_eq!(
        load.arrivals.profile,
        [
            RateProfile::Diurnal {
                peak_to_trough: 4.0,
                peak_hour: 14.0
            },
            RateProfile::Spikes(vec![Spike {
                start: SimTime(10 * 3600 * 1_000_000),
                duration: SimDuration::from_secs(15 * 60),
                factor: 1.6
            }])
        ]
    );
    let CostModel::VectorSearch(m) = &load.cost else {
        panic!("vector-search model")
    };
    assert_eq!(
        (m.vectors, m.dimension, m.top_k, m.recall),
        (1e7, 768, 10, 0.95)
    );

    let mi = &s.services[1];
    assert_eq!((mi.name.as_str(), mi.replicas), ("model-inference", 2));
    assert_eq!(mi.pod.requests, Resources::new(4_000, 16 * Bytes::GIB));
    assert_eq!(mi.pod.limits, Resources::new(8_000, 32 * Bytes::GIB));
    assert_eq!(mi.server.cpu_per_worker, Millicores(4_000));

    let hpa: Vec<_> = s
        .autoscaling
        .hpa
        .iter()
        .map(|h| (h.service, h.min_replicas, h.max_replicas, h.metrics.clone()))
        .collect();
    assert_eq!(
        hpa,
        [
            (
                0,
                2,
                10,
                vec![HpaMetric::ResourceUtilization {
                    resource: ResourceName::Cpu,
                    average_utilization_percent: 70
                }]
            ),
            (
                1,
                1,
                5,
                vec![HpaMetric::ResourceUtilization {
                    resource: ResourceName::Memory,
                    average_utilization_percent: 75
                }]
            ),
        ]
    );

    let q: Vec<_> = s
        .quotas
        .iter()
        .map(|q| {
            (
                q.namespace.as_str(),
                q.requests_cpu,
                q.requests_memory,
                q.limits_cpu,
                q.limits_memory,
            )
        })
        .collect();
    let gib = |g| Some(Bytes::from_gib(g));
    let cores = |c| Some(Millicores::from_cores(c));
    assert_eq!(
        q,
        [
            ("vector-store", cores(16), gib(32), cores(32), gib(64)),
            ("model-inference", cores(32), gib(64), cores(64), gib(128)),
        ]
    );
    assert_eq!(s.namespaces, ["vector-store", "model-inference"]);

    assert_eq!(s.monitoring.scrapes[0].service, 0);
    let alert = &s.monitoring.alerts[0];
    assert_eq!(
        (alert.name.as_str(), alert.service, alert.threshold),
        ("HighCPUUsage", 0, 0.8)
    );
    assert_eq!(alert.for_duration, SimDuration::from_secs(300));
    assert!(s.autoscaling.cluster_autoscaler.is_some());
}

#[test]
fn mmc_is_the_queueing_check() {
    let s = shipped("mmc.yaml");
    assert_eq!(
        (s.seed, s.duration, s.warmup),
        (7, SimDuration::from_secs(7200), SimDuration::from_secs(600))
    );
    let pool = &s.node_pools[0];
    assert_eq!(pool.machine.name, "custom");
    assert_eq!(
        pool.machine.capacity,
        Resources::new(64_000, 256 * Bytes::GIB)
    );
    assert_eq!(pool.price_usd_per_hour, 1.0);
    let q = &s.services[0];
    assert_eq!((q.replicas, q.server.concurrency), (1, 8));
    let load = q.load.as_ref().expect("queue has load");
    assert_eq!(load.arrivals.rate_per_s, 720.0);
    assert_eq!(
        load.cost,
        CostModel::ServiceTime(DurationDist::Exponential {
            mean: SimDuration::from_millis(10)
        })
    );
}

#[test]
fn taints_example_places_what_it_says() {
    let s = shipped("taints-and-affinity.yaml");
    let dedicated = &s.node_pools[1];
    assert_eq!(dedicated.taints[0].effect, TaintEffect::NoSchedule);
    let spot = &s.node_pools[2];
    assert!(spot.spot);
    assert_eq!(spot.labels["cloud.google.com/gke-spot"], "true");
    let batch = &s.services[2];
    assert_eq!(
        batch.pod.tolerations[0].operator,
        TolerationOperator::Exists
    );
    assert_eq!(
        s.autoscaling.cluster_autoscaler.expect("enabled").expanders,
        [Expander::Priority, Expander::LeastWaste]
    );
}

/// `shipped`'s file as a `Document` with `settings` applied, as `--set` (and `--seed`,
/// `--duration`) apply them, validated.
fn shipped_with(name: &str, settings: &[(&str, &str)]) -> Result<Scenario, crate::scenario::Error> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    let overrides: Vec<Override> = settings
        .iter()
        .map(|&(path, value)| Override {
            path: path.to_string(),
            value: value.to_string(),
        })
        .collect();
    Document::load(&path)?.with(&overrides)?.scenario()
}

#[test]
fn overrides_recheck_the_duration_rules() {
    let s = shipped("mmc.yaml");
    let o = shipped_with("mmc.yaml", &[("seed", "99"), ("duration", "1h")]).expect("valid");
    assert_eq!((o.seed, o.duration), (99, SimDuration::from_secs(3600)));
    let same = shipped_with("mmc.yaml", &[]).expect("valid");
    assert_eq!(same, s);
    let err = shipped_with("mmc.yaml", &[("duration", "5m")])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("warmup: \"10m0s\" is not shorter than the duration 5m0s"),
        "{err}"
    );
    // The warmup is the file's own, on its line 11; the override is why it is wrong.
    assert!(
        err.contains("mmc.yaml:11:1 (with --set duration=5m): warmup: "),
        "{err}"
    );
    let err = shipped_with("mmc.yaml", &[("duration", "0s")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("duration: \"0s\" is zero"), "{err}");
}

#[test]
fn speeds_come_from_the_machine_and_the_pool_overrides_them() {
    let speed = |yaml: &str| load(yaml).expect("valid").node_pools[0].machine.speed;
    // The catalog's series speed (C2: 146,712 / 8 per vCPU over N2's 138,567 / 8).
    assert_eq!(speed(BASE), 1.06);
    let machine = |to: &str| base_with("machine_type: c2-standard-8", to);
    assert_eq!(speed(&machine("machine_type: n2-standard-8")), 1.0);
    // An inline machine is an N2 vCPU unless it says otherwise.
    assert_eq!(
        speed(&machine(
            "machine_type: {cpu: 8, memory: 32Gi, price_per_hour: 1}"
        )),
        1.0
    );
    assert_eq!(
        speed(&machine(
            "machine_type: {cpu: 8, memory: 32Gi, price_per_hour: 1, speed: 1.25}"
        )),
        1.25
    );
    // The pool's own speed wins over the catalog's and the inline machine's.
    assert_eq!(
        speed(&machine("machine_type: c2-standard-8\n    speed: 1.3")),
        1.3
    );
    assert_eq!(
        speed(&machine(
            "machine_type: {cpu: 8, memory: 32Gi, price_per_hour: 1, speed: 1.25}\n    speed: 0.5"
        )),
        0.5
    );
    // Sweeps and --set edit the document by path, so a pool's speed can be varied without
    // the file naming it.
    let document = Document::from_yaml_str(BASE, "x.yaml").expect("valid");
    for (value, expected) in [("1", 1.0), ("1.3", 1.3)] {
        let set = Override {
            path: "node_pools.pool.speed".into(),
            value: value.into(),
        };
        let s = document
            .with(&[set])
            .expect("a path")
            .scenario()
            .expect("valid");
        assert_eq!(s.node_pools[0].machine.speed, expected);
    }
    let zero = Override {
        path: "node_pools.pool.speed".into(),
        value: "0".into(),
    };
    let err = document
        .with(&[zero])
        .expect("a path")
        .scenario()
        .unwrap_err();
    assert_eq!(err.path(), "node_pools.pool.speed");
}

#[test]
fn hpa_sync_offset_is_random_unless_given() {
    let hpa = |extra: &str| {
        format!(
            "{BASE}autoscaling:\n  hpa:\n    web:\n      maxReplicas: 3{extra}\n      metrics: \
             [{{type: Resource, resource: {{name: cpu, target: {{type: Utilization, \
             averageUtilization: 70}}}}}}]\n"
        )
    };
    let offset = |extra: &str| {
        load(&hpa(extra))
            .map(|s| s.autoscaling.hpa[0].sync_offset)
            .map_err(|e| e.to_string())
    };
    assert_eq!(offset(""), Ok(SyncOffset::Random));
    assert_eq!(
        offset("\n      sync_offset: random"),
        Ok(SyncOffset::Random)
    );
    assert_eq!(
        offset("\n      sync_offset: 7500ms"),
        Ok(SyncOffset::Fixed(SimDuration::from_millis(7_500)))
    );
}

#[test]
fn the_failure_budget_is_a_fraction_or_a_percentage_with_a_default() {
    let budget = |slo: &str| -> f64 {
        let yaml = base_with("    server:", &format!("    slo: {slo}\n    server:"));
        load(&yaml).unwrap_or_else(|e| panic!("{e}")).services[0].slo_max_failed
    };
    assert_eq!(budget("{max_failed: 0.1%}"), 0.001);
    assert_eq!(budget("{max_failed: \"2.5 %\"}"), 0.025);
    assert_eq!(budget("{max_failed: 0.02}"), 0.02);
    assert_eq!(budget("{max_failed: 0}"), 0.0);
    // Without the key, with or without an SLO: three nines.
    assert_eq!(budget("{latency_p99: 250ms}"), 0.001);
    assert_eq!(load(BASE).unwrap().services[0].slo_max_failed, 0.001);
    for bad in ["150%", "-0.1", "1.5", "many", "0.1%%"] {
        let yaml = base_with(
            "    server:",
            &format!("    slo: {{max_failed: \"{bad}\"}}\n    server:"),
        );
        assert_rejected(
            &yaml,
            &[
                &format!("services.web.slo.max_failed: \"{bad}\" is not a fraction of requests"),
                "expected a fraction from 0 to 1 such as 0.001, or a percentage from 0% to 100%",
            ],
        );
    }
}

#[test]
fn kubernetes_version_defaults_to_the_newest_and_lists_the_modelled_ones() {
    use crate::cluster::scheduler::KubernetesVersion;
    let newest = load(BASE).expect("BASE is valid");
    assert_eq!(newest.kubernetes_version, KubernetesVersion::NEWEST);
    // Written as YAML reads it (a float) or quoted, the version is its text.
    for (written, want) in [
        ("1.35", KubernetesVersion::V1_35),
        ("\"1.35\"", KubernetesVersion::V1_35),
        ("'1.36'", KubernetesVersion::V1_36),
    ] {
        let yaml = base_with(
            "duration: 1h\n",
            &format!("duration: 1h\nkubernetes_version: {written}\n"),
        );
        let s = load(&yaml).unwrap_or_else(|e| panic!("{written}: {e}"));
        assert_eq!(s.kubernetes_version, want, "{written}");
    }
    for written in ["1.34", "1.37", "v1.36", "1.36.2", "latest"] {
        let yaml = base_with(
            "duration: 1h\n",
            &format!("duration: 1h\nkubernetes_version: {written}\n"),
        );
        assert_rejected(
            &yaml,
            &[
                &format!("kubernetes_version: unknown Kubernetes version \"{written}\""),
                "expected one of \"1.35\", \"1.36\"",
            ],
        );
    }
    // Reported with the file's other errors, not instead of them.
    let yaml = base_with(
        "duration: 1h\n",
        "duration: 1h\nkubernetes_version: 1.2\nseed: -1\n",
    );
    let message = load(&yaml).unwrap_err().to_string();
    assert!(
        message.contains("kubernetes_version") && message.contains("seed"),
        "{message}"
    );
}
