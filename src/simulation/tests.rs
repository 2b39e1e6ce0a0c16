//! Whole-run tests of the model on scenarios built in code.

use crate::cluster::pool::{MachineType, NodePool};
use crate::cluster::quota::Quota;
use crate::cluster::scheduler::KubernetesVersion;
use crate::cluster::spec::PodSpec;
use crate::monitoring::rules::Monitoring;
use crate::report::{Collect, EventKind};
use crate::scenario::model::{Autoscaling, Scenario, Service, Startup};
use crate::simulation::Simulation;
use crate::units::{Bytes, DurationDist, Millicores, Resources, SimDuration};
use crate::workload::spec::{Arrivals, CostModel, Load, LoadBalancerPolicy, ServerSpec};

pub(crate) fn pool(name: &str, cpu_cores: u64, memory_gib: u64, nodes: u32) -> NodePool {
    NodePool {
        name: name.into(),
        group_of: name.into(),
        zone: None,
        machine: MachineType {
            name: "custom".into(),
            capacity: Resources::new(cpu_cores * 1000, memory_gib * Bytes::GIB),
            on_demand_usd_per_hour: 1.0,
            spot_usd_per_hour: None,
            speed: 1.0,
        },
        allocatable: Resources::new(cpu_cores * 1000, memory_gib * Bytes::GIB),
        initial_size: nodes,
        min_nodes: nodes,
        max_nodes: nodes,
        autoscaling: None,
        spot: false,
        preemption_mean_lifetime: None,
        failures: None,
        price_usd_per_hour: 1.0,
        labels: Default::default(),
        taints: vec![],
        max_pods: 110,
        provisioning_delay: DurationDist::Constant(SimDuration::from_secs(90)),
    }
}

pub(crate) fn service(
    name: &str,
    replicas: u32,
    cpu_m: u64,
    concurrency: u32,
    rate: f64,
    mean_ms: u64,
) -> Service {
    Service {
        name: name.into(),
        namespace: "default".into(),
        replicas,
        pod: PodSpec {
            requests: Resources::new(cpu_m, Bytes::GIB),
            has_cpu_request: true,
            has_memory_request: true,
            ..PodSpec::default()
        },
        startup: Startup {
            image_pull: DurationDist::Constant(SimDuration::from_secs(10)),
            ready: DurationDist::Constant(SimDuration::from_secs(5)),
        },
        server: ServerSpec {
            concurrency,
            queue_limit: None,
            timeout: None,
            cpu_per_worker: Millicores(1000),
            memory_base: Bytes::ZERO,
            memory_per_request: Bytes::ZERO,
        },
        load_balancer: LoadBalancerPolicy::RoundRobin,
        slo_p99: None,
        slo_max_failed: crate::scenario::model::DEFAULT_SLO_MAX_FAILED,
        disruption_budget: None,
        labels: Default::default(),
        termination_grace: crate::scenario::model::DEFAULT_TERMINATION_GRACE,
        load: Some(Load {
            arrivals: Arrivals {
                rate_per_s: rate,
                profile: vec![],
            },
            cost: CostModel::ServiceTime(DurationDist::Exponential {
                mean: SimDuration::from_millis(mean_ms),
            }),
            trace: None,
        }),
    }
}

pub(crate) fn scenario(
    pools: Vec<NodePool>,
    services: Vec<Service>,
    duration_s: u64,
    warmup_s: u64,
) -> Scenario {
    let mut namespaces: Vec<String> = services.iter().map(|s| s.namespace.clone()).collect();
    namespaces.sort();
    namespaces.dedup();
    Scenario {
        name: "test".into(),
        description: String::new(),
        seed: 7,
        duration: SimDuration::from_secs(duration_s),
        warmup: SimDuration::from_secs(warmup_s),
        resolution: SimDuration::from_secs(60),
        kubernetes_version: KubernetesVersion::NEWEST,
        node_pools: pools,
        outages: Vec::new(),
        services,
        jobs: Vec::new(),
        namespaces,
        quotas: vec![],
        autoscaling: Autoscaling::default(),
        monitoring: Monitoring::default(),
        sweep: None,
        expectations: Vec::new(),
    }
}

#[test]
fn every_arrival_is_accounted_for() {
    let mut svc = service("q", 2, 1000, 2, 300.0, 10);
    svc.server.queue_limit = Some(5);
    svc.server.timeout = Some(SimDuration::from_millis(30));
    let sc = scenario(vec![pool("p", 8, 32, 1)], vec![svc], 600, 60);
    let out = Simulation::new(&sc).run(&mut Collect::default());
    let r = &out.summary.services["q"].requests;
    assert!(r.arrived > 150_000, "{r:?}");
    assert!(
        r.rejected_queue_full > 0 && r.timed_out > 0,
        "overloaded: {r:?}"
    );
    assert_eq!(r.arrived, r.accounted(), "{r:?}");
}

#[test]
fn the_scheduler_models_the_scenarios_kubernetes_version() {
    for version in KubernetesVersion::ALL {
        let mut sc = scenario(vec![pool("p", 8, 32, 1)], vec![], 60, 0);
        sc.kubernetes_version = version;
        let sim = Simulation::new(&sc);
        assert_eq!(sim.scheduler.config().kubernetes_version, version);
    }
}

#[test]
fn pods_that_fit_nowhere_stay_pending_and_are_counted() {
    // Two 6-core pods on one 8-core node: one runs, one stays Pending all run long.
    let sc = scenario(
        vec![pool("p", 8, 32, 1)],
        vec![service("big", 2, 6000, 1, 1.0, 10)],
        600,
        0,
    );
    let mut seen = Collect::default();
    let out = Simulation::new(&sc).run(&mut seen);
    let s = &out.summary.services["big"];
    assert_eq!((s.replicas.min, s.replicas.max), (1, 1));
    assert!(
        (s.pending_pod_seconds - 600.0).abs() < 1e-6,
        "{}",
        s.pending_pod_seconds
    );
    let unschedulable: Vec<_> = seen
        .events
        .iter()
        .filter(|e| e.event == EventKind::PodUnschedulable)
        .collect();
    assert_eq!(unschedulable.len(), 1, "logged once, not per retry");
    assert!(
        unschedulable[0]
            .reason
            .as_deref()
            .unwrap_or("")
            .starts_with("0/1 nodes are available")
    );
    assert!(seen.rows.iter().all(|r| r.services[0].pending == 1));
}

#[test]
fn quota_caps_replicas_and_counts_rejections() {
    let mut svc = service("q", 4, 1000, 1, 1.0, 10);
    svc.namespace = "team".into();
    let mut sc = scenario(vec![pool("p", 16, 64, 1)], vec![svc], 3_600, 0);
    sc.quotas = vec![Quota {
        namespace: "team".into(),
        requests_cpu: Some(Millicores(2_500)),
        ..Quota::default()
    }];
    let mut seen = Collect::default();
    let out = Simulation::new(&sc).run(&mut seen);
    assert_eq!(out.summary.services["q"].replicas.max, 2);
    let rejected = out.summary.quotas["team"].rejected_pods;
    // Retries back off from 5 ms doubling to 1000 s: 18 retries reach 655 s, then one per
    // 1000 s: about 21 in an hour.
    assert!((15..=25).contains(&rejected), "{rejected}");
    let logged = seen
        .events
        .iter()
        .filter(|e| e.event == EventKind::QuotaRejected)
        .count();
    assert_eq!(logged as u64, rejected);
}

#[test]
fn cost_is_node_hours_times_price() {
    let mut p = pool("p", 8, 32, 3);
    p.price_usd_per_hour = 0.5;
    let sc = scenario(vec![p], vec![service("q", 1, 1000, 1, 1.0, 10)], 7_200, 0);
    let out = Simulation::new(&sc).run(&mut Collect::default());
    // 3 nodes x 2 h x 0.5 USD
    assert!((out.summary.cost.total_usd - 3.0).abs() < 1e-9);
    assert!((out.summary.cost.by_pool["p"].node_hours - 6.0).abs() < 1e-9);
}

/// Two single-worker pods without queues, always busy with long requests; one is asked to
/// stop at 100 s.
fn scale_down_run(service_ms: u64) -> (crate::simulation::Outcome, Collect) {
    scale_down_run_with_grace(
        service_ms,
        crate::scenario::model::DEFAULT_TERMINATION_GRACE,
    )
}

/// `scale_down_run` with the service's termination grace period set to `grace`.
fn scale_down_run_with_grace(
    service_ms: u64,
    grace: SimDuration,
) -> (crate::simulation::Outcome, Collect) {
    let mut svc = service("q", 2, 1000, 1, 1.0, service_ms);
    svc.termination_grace = grace;
    svc.server.queue_limit = Some(0);
    if let Some(load) = svc.load.as_mut() {
        load.cost =
            CostModel::ServiceTime(DurationDist::Constant(SimDuration::from_millis(service_ms)));
    }
    let sc = scenario(vec![pool("p", 8, 32, 1)], vec![svc], 600, 0);
    let mut sim = Simulation::new(&sc);
    sim.set_replicas_at(crate::units::SimTime(100_000_000), 0, 1);
    let mut seen = Collect::default();
    let out = sim.run(&mut seen);
    (out, seen)
}

#[test]
fn a_terminating_pod_drains_within_its_grace_period() {
    // 20 s requests finish within the 30 s grace period: nothing is lost.
    let (out, seen) = scale_down_run(20_000);
    let s = &out.summary.services["q"];
    assert_eq!(s.requests.killed, 0);
    assert_eq!((s.replicas.min, s.replicas.max), (1, 2));
    let terminating = seen
        .events
        .iter()
        .find(|e| e.event == EventKind::PodTerminating);
    let deleted = seen
        .events
        .iter()
        .find(|e| e.event == EventKind::PodDeleted);
    let (Some(t), Some(d)) = (terminating, deleted) else {
        panic!("one pod terminated and was deleted: {:?}", seen.events);
    };
    assert_eq!(t.time_s, 100.0);
    assert!(
        d.time_s > 100.0 && d.time_s <= 120.0,
        "drained at {}",
        d.time_s
    );
    assert_eq!(d.reason.as_deref(), Some("drained"));
    // The pod's queue drained too; it took no request after 100 s.
    let r = &s.requests;
    assert_eq!(r.arrived, r.accounted());
}

#[test]
fn a_pod_still_busy_after_its_grace_period_is_killed() {
    // 90 s requests: the one in service at 100 s started at about 90 s and outlasts the 30 s
    // grace period, so it is lost and counted.
    let (out, seen) = scale_down_run(90_000);
    let r = &out.summary.services["q"].requests;
    assert_eq!(r.killed, 1, "{r:?}");
    let deleted = seen
        .events
        .iter()
        .find(|e| e.event == EventKind::PodDeleted)
        .map(|e| (e.time_s, e.reason.clone()));
    assert_eq!(deleted, Some((130.0, Some("grace period expired".into()))));
    assert_eq!(r.arrived, r.accounted());
}

#[test]
fn each_service_has_its_own_grace_period() {
    // The same 90 s requests with terminationGracePeriodSeconds 120: the request in service
    // at 100 s (started at about 90 s) finishes by 180 s, within the 220 s deadline.
    let (out, seen) = scale_down_run_with_grace(90_000, SimDuration::from_secs(120));
    let r = &out.summary.services["q"].requests;
    assert_eq!(r.killed, 0, "{r:?}");
    let deleted = seen
        .events
        .iter()
        .find(|e| e.event == EventKind::PodDeleted)
        .map(|e| (e.time_s, e.reason.clone()));
    let Some((time_s, reason)) = deleted else {
        panic!("the pod was deleted: {:?}", seen.events);
    };
    assert!(time_s > 100.0 && time_s <= 190.0, "drained at {time_s}");
    assert_eq!(reason.as_deref(), Some("drained"));
    // A 5 s grace period kills it at 105 s.
    let (out, seen) = scale_down_run_with_grace(90_000, SimDuration::from_secs(5));
    assert_eq!(out.summary.services["q"].requests.killed, 1);
    let killed_at = seen
        .events
        .iter()
        .find(|e| e.event == EventKind::PodDeleted)
        .map(|e| e.time_s);
    assert_eq!(killed_at, Some(105.0));
}

/// The reference platform for four hours, with its compute pool on Spot VMs preempted every
/// 40 minutes on average and a disruption budget on the vector store: every change the model
/// makes (scale-ups, drains, preemptions, quota refusals) keeps the cluster's bookkeeping
/// consistent, and nothing is used beyond its capacity. `on_tick` checks `ClusterState`'s
/// invariants at every interval in test builds.
#[test]
fn the_reference_platform_keeps_its_bookkeeping_consistent_through_preemptions() {
    use crate::scenario::{Document, Override};
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/ai-infra.yaml");
    let set = |path: &str, value: &str| Override {
        path: path.into(),
        value: value.into(),
    };
    let document = Document::load(std::path::Path::new(path)).unwrap_or_else(|e| panic!("{e}"));
    let document = document
        .with(&[
            set("duration", "4h"),
            set("resolution", "30s"),
            set("node_pools.compute-optimized.spot", "true"),
            set(
                "node_pools.compute-optimized.preemption",
                "{mean_lifetime: 40m}",
            ),
            set(
                "services.vector-store.disruption_budget",
                "{minAvailable: 2}",
            ),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
    let scenario = document.scenario().unwrap_or_else(|e| panic!("{e}"));
    let mut seen = Collect::default();
    let out = Simulation::new(&scenario).run(&mut seen);
    let pool = &out.summary.node_pools["compute-optimized"];
    assert!(pool.preempted >= 5, "{} preemptions in 4 h", pool.preempted);
    let count = |kind: EventKind| seen.events.iter().filter(|e| e.event == kind).count();
    assert!(count(EventKind::PodEvicted) >= 5);
    assert!(count(EventKind::NodeRemoved) >= pool.preempted as usize);
    assert_eq!(seen.rows.len(), 4 * 120);
}

/// The reference platform for four hours with its compute pool's nodes failing every hour on
/// average and repaired after the default 10 minutes: failures, taint-based evictions and
/// repairs keep the cluster's bookkeeping consistent (`on_tick` checks the invariants), and
/// each failure is repaired 600 s later.
#[test]
fn the_reference_platform_keeps_its_bookkeeping_consistent_through_node_failures() {
    use crate::scenario::{Document, Override};
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/ai-infra.yaml");
    let document = Document::load(std::path::Path::new(path)).unwrap_or_else(|e| panic!("{e}"));
    let set = |path: &str, value: &str| Override {
        path: path.into(),
        value: value.into(),
    };
    let document = document
        .with(&[
            set("duration", "4h"),
            set("resolution", "30s"),
            set(
                "node_pools.compute-optimized.failures",
                "{mean_time_between: 1h}",
            ),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
    let scenario = document.scenario().unwrap_or_else(|e| panic!("{e}"));
    let mut seen = Collect::default();
    let out = Simulation::new(&scenario).run(&mut seen);
    let at = |kind: EventKind| -> Vec<f64> {
        let of_kind = seen.events.iter().filter(|e| e.event == kind);
        of_kind.map(|e| e.time_s).collect()
    };
    let (failed, repaired) = (at(EventKind::NodeNotReady), at(EventKind::NodeRepaired));
    assert!(failed.len() >= 3, "{} failures in 4 h", failed.len());
    for t in failed.iter().filter(|t| **t + 600.0 < 4.0 * 3600.0) {
        assert!(
            repaired.contains(&(t + 600.0)),
            "failure at {t} not repaired"
        );
    }
    assert_eq!(seen.rows.len(), 4 * 120);
    assert!(out.summary.node_pools["compute-optimized"].nodes.min >= 1);
}

/// A pod that outgrows its 1Gi memory limit under twice its capacity, next to a BestEffort pod
/// holding 7.25Gi on the same 8Gi node, so that the web pod's queue puts the node under memory
/// pressure before it reaches its own limit: OOM kills, restarts and evictions all happen, and
/// `on_tick` recounts every node's memory at each interval.
#[test]
fn oom_kills_and_evictions_keep_every_count_in_step() {
    let mut web = service("web", 1, 2_000, 4, 800.0, 10);
    web.pod.limits.memory = Bytes(Bytes::GIB);
    web.server.memory_base = Bytes(512 * Bytes::MIB);
    web.server.memory_per_request = Bytes(16 * Bytes::MIB);
    let mut batch = service("batch", 1, 0, 1, 0.5, 1_000);
    batch.pod = PodSpec::default();
    batch.server.memory_base = Bytes(7 * Bytes::GIB + 256 * Bytes::MIB);
    let sc = scenario(vec![pool("p", 16, 8, 1)], vec![web, batch], 1_200, 60);
    let mut seen = Collect::default();
    let out = Simulation::new(&sc).run(&mut seen);
    let count = |kind: EventKind, service: &str| {
        seen.events
            .iter()
            .filter(|e| e.event == kind && e.service.as_deref() == Some(service))
            .count()
    };
    let (web, batch) = (&out.summary.services["web"], &out.summary.services["batch"]);
    // 512Mi + 16Mi × 32 is the limit; 7.25Gi + 512Mi + 16Mi × 17 is over the node's 8Gi, so
    // the node is under pressure first, and the kubelet evicts the BestEffort pod (7.25Gi above
    // its request, against the web pod's -512Mi + 16Mi per request).
    assert!(count(EventKind::PodEvicted, "batch") > 0);
    assert_eq!(count(EventKind::PodEvicted, "web"), 0);
    // While the batch pod's replacement is being evicted again, the web pod reaches its limit.
    assert!(count(EventKind::PodOomKilled, "web") > 0);
    assert!(web.requests.oom_killed > 0 && web.restarts > 0, "{web:?}");
    assert!(batch.evictions > 0, "{batch:?}");
    assert_eq!(web.requests.arrived, web.requests.accounted(), "{web:?}");
    assert_eq!(
        batch.requests.arrived,
        batch.requests.accounted(),
        "{batch:?}"
    );
}

/// A terminating pod keeps counting on its node for the Cluster Autoscaler until it is gone:
/// two 5-CPU pods on two 8-CPU nodes of an autoscaled pool (min 1), always busy with 30-minute
/// requests; one is asked to stop at 100 s and is killed when its 20-minute grace period ends.
#[test]
fn a_terminating_pod_keeps_its_node_until_it_is_gone() {
    use crate::cluster::pool::PoolAutoscaling;
    use crate::controllers::cluster_autoscaler::spec::Expander;
    use crate::controllers::cluster_autoscaler::testing::spec;
    let mut svc = service("q", 2, 5_000, 1, 1.0, 1_800_000);
    svc.termination_grace = SimDuration::from_secs(1_200);
    svc.server.queue_limit = Some(0);
    let mut p = pool("p", 8, 32, 2);
    (p.min_nodes, p.autoscaling) = (
        1,
        Some(PoolAutoscaling {
            cpu_threshold_percent: None,
            memory_threshold_percent: None,
            gpu_threshold_percent: None,
        }),
    );
    let mut sc = scenario(vec![p], vec![svc], 1_800, 0);
    let mut ca = spec(vec![Expander::LeastWaste], 0);
    (ca.scale_down_delay_after_add, ca.scale_down_unneeded_time) =
        (SimDuration::ZERO, SimDuration::from_secs(60));
    sc.autoscaling.cluster_autoscaler = Some(ca);
    let mut sim = Simulation::new(&sc);
    sim.set_replicas_at(crate::units::SimTime(100_000_000), 0, 1);
    let mut seen = Collect::default();
    sim.run(&mut seen);
    let first = |kind| seen.events.iter().find(|e| e.event == kind);
    let deleted = first(EventKind::PodDeleted).expect("the pod went");
    // Killed at 100 s + 1200 s, its request unfinished.
    assert_eq!(
        (deleted.time_s, deleted.reason.as_deref()),
        (1_300.0, Some("grace period expired"))
    );
    // Until then its node is at 5 of 8 CPU (62.5%, above the 0.5 threshold): needed. (Were
    // the pod not counted, the node would be empty from the scan at 110 s and go at 180 s.)
    // The scan at 1300 s runs after the kill: the node is empty and unneeded from then, and
    // goes at the first scan past 1300 s + 60 s.
    let draining = first(EventKind::NodeDraining).expect("the empty node went");
    assert_eq!(draining.time_s, 1_370.0, "{draining:?}");
    assert_eq!(draining.node, deleted.node);
}
