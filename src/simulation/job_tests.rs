//! Whole-run tests of Jobs on scenarios built in code (the scenario file's `jobs` section has
//! its own tests in `tests/it/jobs.rs`).

use std::sync::Arc;

use crate::cluster::spec::PodSpec;
use crate::controllers::job::{JobPods, JobSpec, JobTemplate, TracePod};
use crate::report::{Collect, EventKind, Summary};
use crate::simulation::Simulation;
use crate::simulation::tests::{pool, scenario};
use crate::units::{Bytes, DurationDist, Resources, SimDuration};

fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}

fn job(name: &str, cpu_m: u64, pods: JobPods) -> JobSpec {
    JobSpec {
        name: name.into(),
        namespace: "default".into(),
        pod: PodSpec {
            requests: Resources::new(cpu_m, Bytes::GIB),
            has_cpu_request: true,
            has_memory_request: true,
            ..PodSpec::default()
        },
        image_pull: DurationDist::Constant(SimDuration::ZERO),
        termination_grace: secs(30),
        safe_to_evict: true,
        pods,
    }
}

fn row(created_s: u64, run_s: Option<u64>, cpu_m: u64, line: u32) -> TracePod {
    TracePod {
        created_at: secs(created_s),
        run_time: run_s.map(secs),
        requests: Resources::new(cpu_m, Bytes::GIB),
        line,
    }
}

#[test]
fn a_template_job_runs_parallelism_pods_until_its_completions() {
    let mut sc = scenario(vec![pool("p", 4, 16, 2)], vec![], 3_600, 0);
    let template = JobTemplate {
        start: secs(60),
        completions: 12,
        parallelism: 8,
        run_time: DurationDist::Constant(secs(100)),
    };
    sc.jobs = vec![job("etl", 1_000, JobPods::Template(template))];
    sc.namespaces = vec!["default".into()];
    let out = Simulation::new(&sc).run(&mut Collect::default());
    let etl = &out.summary.jobs["etl"];
    assert_eq!((etl.pods.submitted, etl.pods.completed), (12, 12));
    assert_eq!(etl.running_pods.max, 8);
    assert_eq!(etl.running_pods.mean, 0.3333);
    assert_eq!(etl.pending_pod_seconds, 0.0);
}

#[test]
fn trace_pods_wait_for_the_room_earlier_ones_leave() {
    let mut sc = scenario(vec![pool("p", 4, 16, 1)], vec![], 600, 0);
    let rows = vec![
        row(0, Some(100), 2_000, 2),
        row(10, Some(100), 2_000, 3),
        row(20, Some(50), 2_000, 4),
        row(30, None, 1_000, 5),
    ];
    sc.jobs = vec![job("replay", 0, JobPods::Trace(Arc::from(rows)))];
    sc.namespaces = vec!["default".into()];
    let mut seen = Collect::default();
    let out = Simulation::new(&sc).run(&mut seen);
    let replay = &out.summary.jobs["replay"];
    assert_eq!(
        (
            replay.pods.submitted,
            replay.pods.started,
            replay.pods.completed
        ),
        (4, 4, 3)
    );
    let delay = replay.scheduling_delay_s.expect("pods were bound");
    assert_eq!(
        (delay.p50, delay.p99, delay.max, delay.mean),
        (0.0, 80.0, 80.0, 40.0)
    );
    assert_eq!(replay.pending_pod_seconds, 160.0);
    // Minute by minute: a and b run while c and d wait; a and b end (100 s, 110 s) and c and d
    // run; c ends at 150 s and d runs on.
    let minutes: Vec<_> = (seen.rows.iter().take(3))
        .map(|r| (r.jobs[0].running, r.jobs[0].pending, r.jobs[0].completed))
        .collect();
    assert_eq!(minutes, [(2, 2, 0), (2, 0, 2), (1, 0, 1)]);
    let events = |kind| {
        (seen.events.iter())
            .filter(|e| e.event == kind && e.job.as_deref() == Some("replay"))
            .count()
    };
    assert_eq!(events(EventKind::PodCreated), 4);
    assert_eq!(events(EventKind::PodUnschedulable), 2);
    assert_eq!(events(EventKind::PodDeleted), 3);
}

/// A contended trace: 3,000 pods of 30 sizes on 20 nodes, so that hundreds wait at a time.
fn contended_trace() -> crate::scenario::Scenario {
    let mut sc = scenario(vec![pool("p", 16, 64, 20)], vec![], 4 * 3_600, 0);
    let mut state = 3u64;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        state >> 33
    };
    let rows: Vec<TracePod> = (0..3_000u64)
        .map(|i| {
            let cpu_m = [250, 500, 1_000, 2_000, 4_000][(next() % 5) as usize];
            let memory = Bytes::GIB * (1 << (next() % 6));
            TracePod {
                created_at: SimDuration::from_secs(i * 3),
                run_time: Some(SimDuration::from_secs(60 + next() % 1_800)),
                requests: Resources::new(cpu_m, memory),
                line: i as u32 + 2,
            }
        })
        .collect();
    sc.jobs = vec![job("replay", 0, JobPods::Trace(Arc::from(rows)))];
    sc.namespaces = vec!["default".into()];
    sc
}

#[test]
fn skipping_hopeless_scheduling_cycles_changes_no_decision() {
    shortcuts_change_no_decision(&contended_trace());
}

/// The contended trace on an autoscaled pool (10 to 30 nodes): the Cluster Autoscaler adds
/// nodes, finds others unneeded and soft-taints them (`DeletionCandidateOfClusterAutoscaler`,
/// which only changes scores, so no node loosens for the retry shortcut), and removes some.
#[test]
fn soft_taints_and_scale_down_change_no_shortcut_decision() {
    use crate::cluster::pool::PoolAutoscaling;
    use crate::controllers::cluster_autoscaler::spec::Expander;
    use crate::controllers::cluster_autoscaler::testing::spec;
    let mut sc = contended_trace();
    let pool = &mut sc.node_pools[0];
    (pool.min_nodes, pool.max_nodes) = (10, 30);
    pool.autoscaling = Some(PoolAutoscaling {
        cpu_threshold_percent: None,
        memory_threshold_percent: None,
        gpu_threshold_percent: None,
    });
    sc.autoscaling.cluster_autoscaler = Some(spec(vec![Expander::LeastWaste], 0));
    // Two more hours for the backlog to clear and the pool to shrink.
    sc.duration = SimDuration::from_secs(6 * 3_600);
    let seen = shortcuts_change_no_decision(&sc);
    let count = |kind| seen.events.iter().filter(|e| e.event == kind).count();
    assert!(
        count(EventKind::NodeAdded) > 0,
        "the autoscaler grew the pool"
    );
    assert!(
        count(EventKind::NodeDraining) > 0,
        "and found unneeded nodes"
    );
}

/// Runs `sc` with and without the retry shortcuts and asserts the same decisions; returns
/// what the run with shortcuts saw.
fn shortcuts_change_no_decision(sc: &crate::scenario::Scenario) -> Collect {
    let mut fast = Collect::default();
    let shortcut = Simulation::new(sc).run(&mut fast);
    let mut full = Collect::default();
    let exhaustive = Simulation::new(sc).without_retry_shortcuts().run(&mut full);
    let replay = &shortcut.summary.jobs["replay"];
    assert!(replay.pending_pod_seconds > 100_000.0, "{replay:?}");
    // The reasons waits count under follow the scheduler's messages, which the shortcut
    // leaves as they were; they still sum to the same waiting.
    let reasons = |s: &Summary| -> f64 {
        s.jobs["replay"]
            .unschedulable
            .pod_seconds_by_reason
            .values()
            .sum()
    };
    for summary in [&shortcut.summary, &exhaustive.summary] {
        let by_reason = reasons(summary);
        assert!(
            (by_reason - replay.pending_pod_seconds).abs() < 0.01,
            "{by_reason}"
        );
    }
    let without_reasons = |s: &Summary| {
        let mut s = s.clone();
        s.jobs
            .values_mut()
            .for_each(|j| j.unschedulable = Default::default());
        s
    };
    assert_eq!(
        without_reasons(&shortcut.summary),
        without_reasons(&exhaustive.summary)
    );
    assert_eq!(fast.rows, full.rows);
    // Every event but the scheduler's messages for pods still waiting, which the shortcut
    // leaves as they were at the pod's last full attempt.
    let decisions = |seen: &Collect| -> Vec<_> {
        (seen.events.iter())
            .filter(|e| e.event != EventKind::PodUnschedulable)
            .cloned()
            .collect()
    };
    assert_eq!(decisions(&fast), decisions(&full));
    fast
}

#[test]
fn a_pod_leaving_a_zone_loosens_it_for_anti_affinity_and_no_retry_is_skipped() {
    use crate::cluster::placement::{LabelSelector, PodAffinityTerm, PodPlacement};
    // The contended trace over two zones of 10 nodes each, and a service `guard` whose one pod
    // keeps the job's pods out of its zone (required anti-affinity over `zone`) until it is
    // scaled to 0 at 1h: its leaving loosens every node of its zone, not only its own, so the
    // shortcut that retries a job's pods only on nodes that loosened is off, and the run is
    // the one without shortcuts.
    let mut sc = contended_trace();
    let mut a = pool("a", 16, 64, 10);
    a.labels.insert("zone".into(), "a".into());
    let mut b = pool("b", 16, 64, 10);
    b.labels.insert("zone".into(), "b".into());
    sc.node_pools = vec![a, b];
    let labels: crate::cluster::spec::Labels =
        [("job-name".to_string(), "replay".to_string())].into();
    sc.jobs[0].pod.placement = Arc::new(PodPlacement {
        namespace: "default".into(),
        labels: labels.clone(),
        ..PodPlacement::default()
    });
    let mut guard = crate::simulation::tests::service("guard", 1, 100, 1, 1.0, 10);
    guard.pod.placement = Arc::new(PodPlacement {
        namespace: "default".into(),
        required_anti_affinity: vec![PodAffinityTerm {
            selector: LabelSelector {
                match_labels: labels,
                match_expressions: Vec::new(),
            },
            namespaces: vec!["default".into()],
            topology_key: "zone".into(),
        }],
        ..PodPlacement::default()
    });
    sc.services = vec![guard];
    let at = crate::units::SimTime::ZERO + secs(3_600);
    let run = |shortcuts: bool| {
        let mut seen = Collect::default();
        let mut sim = Simulation::new(&sc);
        if !shortcuts {
            sim = sim.without_retry_shortcuts();
        }
        sim.set_replicas_at(at, 0, 0);
        let out = sim.run(&mut seen);
        (out.summary, seen)
    };
    let (summary, seen) = run(true);
    let (plain_summary, plain) = run(false);
    assert_eq!(summary, plain_summary);
    assert_eq!(seen.rows, plain.rows);
    assert_eq!(seen.events, plain.events);
    // Before the guard leaves, no job pod is bound in its zone; after, some are.
    let guard_node = (seen.events.iter())
        .find(|e| e.event == EventKind::PodScheduled && e.service.as_deref() == Some("guard"))
        .and_then(|e| e.node.clone())
        .expect("guard bound");
    let zone = &guard_node[..1];
    let job_binds_in_zone = |before: bool| {
        (seen.events.iter())
            .filter(|e| e.event == EventKind::PodScheduled && e.job.as_deref() == Some("replay"))
            .filter(|e| (e.time_s < 3_600.0) == before)
            .filter(|e| e.node.as_deref().is_some_and(|n| n.starts_with(zone)))
            .count()
    };
    assert_eq!(job_binds_in_zone(true), 0);
    assert!(job_binds_in_zone(false) > 0);
}
