//! The CPU model judged against queueing theory and against answers known in advance.
//!
//! - **Processor sharing.** A pod capped at one core whose 64 workers share it is an M/G/1-PS
//!   queue: mean response E[S]/(1−ρ) whatever the service-time distribution, checked for an
//!   exponential and a lognormal of coefficient of variation 3 (first-come-first-served would
//!   give 160 ms there instead of 40). The number of requests in it is geometric, so the share
//!   of its busy time spent throttled (more than one worker wanting the one core) is ρ.
//! - **M/M/c from cores.** c workers with a core each of a c-core limit: mean response E[S] plus
//!   Erlang C's mean wait (`queueing`'s formula).
//! - **Machine speed.** A single worker on a machine of speed 2 is M/M/1 with μ doubled: each
//!   request is served in E[S]/2.
//! - **Contention, known answers.** Saturated pods on one node get CPU in the ratio of their
//!   requests; a lone pod takes the node's idle CPU; Guaranteed, Burstable and BestEffort pods
//!   split a node as the kubelet's cgroups and CFS do; a saturated node completes exactly
//!   capacity/work requests per second; `contended_fraction` and `throttled_fraction` are 1 or 0
//!   where they must be.
//! - **Work conservation.** Two pods sharing one core by CFS hold, together, as many requests as
//!   one M/M/1 queue at their total load, so their request-weighted mean response is E[S]/(1−ρ)
//!   whatever their shares.
//! - **Guaranteed pods under a CPU HPA** (`scenarios/guaranteed-sweep.yaml`, as `capsim sweep`
//!   runs it): mean and p99 latency rise with the target, and each pod is M/G/1-PS at the
//!   measured utilization of its request.
//!
//! Statistical checks run 20 replications with fixed seeds (10 for the sweep, as its file says)
//! and require the theoretical value inside the 95% confidence interval of the replication
//! means, as `queueing` does. Known answers are checked to the tolerance stated beside each:
//! the rounding of `summary.json`, or the few requests in flight at the window's edges.

use std::ops::RangeInclusive;

use capsim::replications::{self, Job, RunError};
use capsim::report::summary::{ServiceSummary, Summary};
use capsim::scenario::{Document, Scenario};
use capsim::sweep::Plan;
use capsim::workload::cost::{Z_99, lognormal_from_mean_p99};

use crate::queueing::{confidence_interval, mean_wait_ms};
use crate::util::{repo_root, scenario};

/// Replications run at once (the harness runs other tests beside these).
const THREADS: usize = 2;
/// Seeds of the statistical checks.
const SEEDS: RangeInclusive<u64> = 1..=20;
/// A 64-core node: one pod on it is never short of CPU.
const BIG_NODE: &str = "{machine_type: {cpu: 64, memory: 256Gi, price_per_hour: 1.0}}";
/// A node whose pods may use exactly 4 cores.
const FOUR_CORES: &str =
    r#"{machine_type: {cpu: 4, memory: 16Gi, price_per_hour: 1.0}, allocatable: {cpu: "4"}}"#;
/// The same node, twice as fast.
const FOUR_FAST_CORES: &str = r#"{machine_type: {cpu: 4, memory: 16Gi, price_per_hour: 1.0, speed: 2.0}, allocatable: {cpu: "4"}}"#;

/// Simulates `scenario` once per seed, on `THREADS` threads; summaries in seed order.
fn replicate(scenario: &Scenario, seeds: RangeInclusive<u64>) -> Vec<Summary> {
    let jobs: Vec<Job<'_>> = seeds
        .map(|seed| Job {
            scenario,
            seed,
            out: None,
        })
        .collect();
    run_jobs(&jobs)
}

/// Simulates `jobs` on `THREADS` threads; summaries in job order.
fn run_jobs(jobs: &[Job<'_>]) -> Vec<Summary> {
    replications::run(jobs, THREADS, |_, outcome| {
        Ok::<_, RunError>(outcome.summary)
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Asserts that `theory` lies in the 95% confidence interval of the replication means `xs`.
fn assert_in_ci(what: &str, xs: &[f64], theory: f64) {
    let (mean, half) = confidence_interval(xs);
    eprintln!("{what}: {mean:.4} ± {half:.4}, theory {theory:.4}");
    assert!(
        (mean - theory).abs() <= half,
        "{what}: simulated {mean:.4} ± {half:.4}, theory {theory:.4}"
    );
}

/// Asserts that a figure of `summary.json` is `expected` to within `tolerance`.
fn assert_near(what: &str, value: f64, expected: f64, tolerance: f64) {
    eprintln!("{what}: {value}, expected {expected}");
    assert!(
        (value - expected).abs() <= tolerance,
        "{what}: {value}, expected {expected} ± {tolerance}"
    );
}

/// `f` of service `name` in every summary.
fn per_run(summaries: &[Summary], name: &str, f: impl Fn(&ServiceSummary) -> f64) -> Vec<f64> {
    summaries.iter().map(|s| f(&s.services[name])).collect()
}

/// A scenario with one pool of `nodes` nodes of shape `pool` and the given `services` block.
fn cluster_yaml(duration: &str, warmup: &str, pool: &str, nodes: u32, services: &str) -> String {
    let pool = pool.replacen('{', &format!("{{initial_size: {nodes}, "), 1);
    format!(
        "name: cpu\nduration: {duration}\nwarmup: {warmup}\n\
         node_pools:\n  pool: {pool}\nservices:\n{services}"
    )
}

/// A service block: one pod with `resources` and `server`, under Poisson arrivals at `rate`.
fn service(name: &str, resources: &str, server: &str, rate: f64, service_time: &str) -> String {
    format!(
        "  {name}:\n    replicas: 1\n    resources: {resources}\n    server: {server}\n    \
         load: {{arrivals: {{rate: {rate}}}, service_time: {service_time}}}\n"
    )
}

/// A lognormal service time of mean `mean_ms` and coefficient of variation `cv`, written as
/// the scenario file takes it (mean and p99).
fn lognormal(mean_ms: f64, cv: f64) -> String {
    let sigma = (1.0 + cv * cv).ln().sqrt();
    let p99_us = (mean_ms * 1_000.0 * (Z_99 * sigma - sigma * sigma / 2.0).exp()).round();
    // The simulator fits the same lognormal back from the mean and p99.
    let (_, fitted) = lognormal_from_mean_p99(mean_ms * 1_000.0, p99_us).expect("a lognormal");
    assert!(((fitted * fitted).exp_m1().sqrt() - cv).abs() < 1e-3);
    format!("{{distribution: lognormal, mean: {mean_ms}ms, p99: {p99_us}us}}")
}

#[test]
fn mg1_processor_sharing_mean_response_is_insensitive_to_the_service_distribution() {
    const MEAN_MS: f64 = 10.0;
    const RATE: f64 = 75.0;
    let rho = RATE * MEAN_MS / 1_000.0;
    let one_core = r#"{requests: {cpu: "1", memory: 1Gi}, limits: {cpu: "1", memory: 1Gi}}"#;
    // 64 workers: a request waits for one with probability ρ^64 ≈ 1e-8, so none ever does.
    let workers = r#"{concurrency: 64, cpu_per_worker: "1"}"#;
    for (label, service_time) in [
        (
            "exponential",
            format!("{{distribution: exponential, mean: {MEAN_MS}ms}}"),
        ),
        ("lognormal cv 3", lognormal(MEAN_MS, 3.0)),
    ] {
        let ps = service("ps", one_core, workers, RATE, &service_time);
        let summaries = replicate(
            &scenario(&cluster_yaml("1h", "5m", BIG_NODE, 1, &ps)),
            SEEDS,
        );
        let what = |figure: &str| format!("M/G/1-PS ρ={rho}, {label}: {figure}");
        assert_in_ci(
            &what("mean response ms"),
            &per_run(&summaries, "ps", |s| s.latency_ms.mean.unwrap_or(f64::NAN)),
            MEAN_MS / (1.0 - rho),
        );
        // P(N ≥ 2 | N ≥ 1) = ρ for the geometric number in system of M/G/1-PS.
        assert_in_ci(
            &what("throttled fraction"),
            &per_run(&summaries, "ps", |s| {
                s.cpu.throttled_fraction.unwrap_or(f64::NAN)
            }),
            rho,
        );
        assert_in_ci(
            &what("cores used"),
            &per_run(&summaries, "ps", |s| s.cpu.used_cores_mean),
            rho,
        );
    }
}

#[test]
fn c_workers_with_a_core_each_of_a_c_core_limit_are_mmc() {
    const MEAN_MS: f64 = 10.0;
    const RATE: f64 = 320.0;
    let theory = MEAN_MS + mean_wait_ms(4, RATE, MEAN_MS);
    // Four workers at their cpu_per_worker exactly fill the limit, whichever the unit: work is
    // measured at cpu_per_worker.
    for (cpu_per_worker, limit) in [("1", "4"), ("500m", "2")] {
        let pod = service(
            "mmc",
            &format!(
                r#"{{requests: {{cpu: "{limit}", memory: 1Gi}}, limits: {{cpu: "{limit}", memory: 1Gi}}}}"#
            ),
            &format!(r#"{{concurrency: 4, cpu_per_worker: "{cpu_per_worker}"}}"#),
            RATE,
            &format!("{{distribution: exponential, mean: {MEAN_MS}ms}}"),
        );
        let summaries = replicate(
            &scenario(&cluster_yaml("40m", "5m", BIG_NODE, 1, &pod)),
            SEEDS,
        );
        assert_in_ci(
            &format!("M/M/4 ρ=0.8 from a {limit}-core limit: mean response ms"),
            &per_run(&summaries, "mmc", |s| s.latency_ms.mean.unwrap_or(f64::NAN)),
            theory,
        );
        let throttled = per_run(&summaries, "mmc", |s| {
            s.cpu.throttled_fraction.unwrap_or(f64::NAN)
        });
        assert!(
            throttled.iter().all(|&t| t == 0.0),
            "4 workers never want more than the limit: {throttled:?}"
        );
    }
}

#[test]
fn a_machine_twice_as_fast_serves_in_half_the_time() {
    const MEAN_MS: f64 = 10.0;
    const RATE: f64 = 80.0;
    let mu = 2.0 * 1_000.0 / MEAN_MS;
    for pool in [
        "{machine_type: {cpu: 16, memory: 64Gi, price_per_hour: 1.0, speed: 2.0}}",
        // The pool's speed replaces the machine's (0.75).
        "{machine_type: e2-standard-8, speed: 2.0}",
    ] {
        let pod = service(
            "one",
            "{requests: {cpu: 1, memory: 1Gi}}",
            "{concurrency: 1}",
            RATE,
            &format!("{{distribution: exponential, mean: {MEAN_MS}ms}}"),
        );
        let summaries = replicate(&scenario(&cluster_yaml("40m", "5m", pool, 1, &pod)), SEEDS);
        let what = |figure: &str| format!("M/M/1 on {pool}: {figure}");
        assert_in_ci(
            &what("mean response ms"),
            &per_run(&summaries, "one", |s| s.latency_ms.mean.unwrap_or(f64::NAN)),
            1_000.0 / (mu - RATE),
        );
        assert_in_ci(
            &what("mean service ms"),
            &per_run(&summaries, "one", |s| {
                s.latency_ms.mean.unwrap_or(f64::NAN) - s.wait_ms.mean.unwrap_or(f64::NAN)
            }),
            MEAN_MS / 2.0,
        );
        assert_in_ci(
            &what("cores used"),
            &per_run(&summaries, "one", |s| s.cpu.used_cores_mean),
            RATE / mu,
        );
    }
}

/// A service that always wants more CPU than its node has: 8 workers of a core each, a queue
/// kept full by arrivals at twice what 4 cores can serve, 10 ms of work per request.
fn saturated(name: &str, resources: &str) -> String {
    service(
        name,
        resources,
        "{concurrency: 8, queue_limit: 50}",
        800.0,
        "10ms",
    )
}

/// Runs `services` for 10 minutes (1 of warm-up) on `nodes` nodes of shape `pool`.
fn run_once(pool: &str, nodes: u32, services: &str) -> Summary {
    let yaml = cluster_yaml("10m", "1m", pool, nodes, services);
    replicate(&scenario(&yaml), 1..=1).remove(0)
}

/// Requests per second a service completed in the measured window, counting those in flight at
/// its end: for a pod that holds a full queue at both ends, they stand in for the ones in flight
/// at its start, which complete in it but are not counted (they arrived in the warm-up).
fn completions_per_s(summary: &Summary, name: &str) -> f64 {
    let requests = &summary.services[name].requests;
    (requests.completed + requests.in_flight_at_end) as f64 / summary.simulated.measured_s
}

/// `completions_per_s` of every service.
fn node_completions_per_s(summary: &Summary) -> f64 {
    (summary.services.keys())
        .map(|name| completions_per_s(summary, name))
        .sum()
}

#[test]
fn saturated_pods_share_a_node_in_the_ratio_of_their_requests() {
    let services = saturated("one", "{requests: {cpu: 1, memory: 1Gi}}")
        + &saturated("three", "{requests: {cpu: 3, memory: 1Gi}}");
    for (pool, speed) in [(FOUR_CORES, 1.0), (FOUR_FAST_CORES, 2.0)] {
        let summary = run_once(pool, 1, &services);
        let cpu = |name: &str| summary.services[name].cpu.clone();
        let what = |figure: &str| format!("speed {speed}: {figure}");
        assert_near(
            &what("cores of the 1-core request"),
            cpu("one").used_cores_mean,
            1.0,
            1e-3,
        );
        assert_near(
            &what("cores of the 3-core request"),
            cpu("three").used_cores_mean,
            3.0,
            1e-3,
        );
        // 4 cores of 10 ms requests at `speed`, in the same ratio.
        let capacity = 400.0 * speed;
        let (one, three) = (
            completions_per_s(&summary, "one"),
            completions_per_s(&summary, "three"),
        );
        assert_near(
            &what("completions per s"),
            one + three,
            capacity,
            5e-4 * capacity,
        );
        assert_near(
            &what("completions per s of the 1-core request"),
            one,
            capacity / 4.0,
            5e-4 * capacity,
        );
        let contended = summary.node_pools["pool"]
            .cpu
            .contended_fraction
            .unwrap_or(f64::NAN);
        assert_near(&what("contended fraction"), contended, 1.0, 1e-3);
        // No limit, so no throttling: CFS slows them down by their shares instead.
        assert_eq!(cpu("one").throttled_fraction, Some(0.0));
        assert_eq!(cpu("three").throttled_fraction, Some(0.0));
    }
}

#[test]
fn a_lone_busy_pod_takes_the_idle_cpu_of_its_node() {
    let services = saturated("lone", "{requests: {cpu: 500m, memory: 1Gi}}");
    let summary = run_once(FOUR_CORES, 1, &services);
    let lone = &summary.services["lone"];
    assert_near(
        "cores of a 500m request",
        lone.cpu.used_cores_mean,
        4.0,
        1e-3,
    );
    assert_near(
        "completions per s",
        node_completions_per_s(&summary),
        400.0,
        0.2,
    );
    let contended = summary.node_pools["pool"]
        .cpu
        .contended_fraction
        .unwrap_or(f64::NAN);
    assert_near("contended fraction", contended, 1.0, 1e-3);
}

#[test]
fn qos_classes_divide_a_contended_node_as_the_kubelets_cgroups_do() {
    // Under kubepods: the Guaranteed pod (1,024 shares), the Burstable cgroup (1,024) and the
    // BestEffort cgroup (2). The Guaranteed pod wants no more than its limit, 1 core, and gets
    // it; the other two split the remaining 3 cores 1024:2.
    let services = saturated(
        "gold",
        "{requests: {cpu: 1, memory: 1Gi}, limits: {cpu: 1, memory: 1Gi}}",
    ) + &saturated("silver", "{requests: {cpu: 1, memory: 1Gi}}")
        + &saturated("bronze", "{}");
    let summary = run_once(FOUR_CORES, 1, &services);
    let cpu = |name: &str| summary.services[name].cpu.clone();
    let bronze = 3.0 * 2.0 / 1_026.0;
    assert_near("Guaranteed cores", cpu("gold").used_cores_mean, 1.0, 1e-4);
    assert_near(
        "Burstable cores",
        cpu("silver").used_cores_mean,
        3.0 - bronze,
        1e-4,
    );
    assert_near(
        "BestEffort cores",
        cpu("bronze").used_cores_mean,
        bronze,
        1e-4,
    );
    assert_near(
        "completions per s",
        node_completions_per_s(&summary),
        400.0,
        0.2,
    );
    // The Guaranteed pod's 8 workers want 8 cores against its 1-core quota all the time.
    assert_near(
        "Guaranteed throttled",
        cpu("gold").throttled_fraction.unwrap_or(f64::NAN),
        1.0,
        1e-3,
    );
    assert_eq!(cpu("silver").throttled_fraction, Some(0.0));
    assert_eq!(cpu("bronze").throttled_fraction, Some(0.0));
}

#[test]
fn a_node_is_contended_only_while_its_pods_want_more_than_it_has() {
    // Two 4-core nodes: `hog` saturates one, `calm` can want at most 3 cores of the other.
    let services = saturated("hog", "{requests: {cpu: 3, memory: 1Gi}}")
        + &service(
            "calm",
            "{requests: {cpu: 3, memory: 1Gi}}",
            "{concurrency: 3}",
            150.0,
            "{distribution: exponential, mean: 10ms}",
        );
    let summary = run_once(FOUR_CORES, 2, &services);
    let contended = summary.node_pools["pool"]
        .cpu
        .contended_fraction
        .unwrap_or(f64::NAN);
    assert_near("contended fraction, one of two nodes", contended, 0.5, 1e-3);
    assert_near(
        "cores of the saturating pod",
        summary.services["hog"].cpu.used_cores_mean,
        4.0,
        1e-3,
    );

    // On one node, 1 + 3 workers of a core want at most its 4 cores: never contended, and each
    // pod uses the work it is offered, λ·E[S].
    let services = service(
        "one",
        "{requests: {cpu: 1, memory: 1Gi}}",
        "{concurrency: 1}",
        50.0,
        "{distribution: exponential, mean: 10ms}",
    ) + &service(
        "three",
        "{requests: {cpu: 3, memory: 1Gi}}",
        "{concurrency: 3}",
        150.0,
        "{distribution: exponential, mean: 10ms}",
    );
    let yaml = cluster_yaml("20m", "1m", FOUR_CORES, 1, &services);
    let summaries = replicate(&scenario(&yaml), 1..=10);
    for s in &summaries {
        assert_eq!(s.node_pools["pool"].cpu.contended_fraction, Some(0.0));
    }
    assert_in_ci(
        "uncontended 1-worker pod: cores used",
        &per_run(&summaries, "one", |s| s.cpu.used_cores_mean),
        0.5,
    );
    assert_in_ci(
        "uncontended 3-worker pod: cores used",
        &per_run(&summaries, "three", |s| s.cpu.used_cores_mean),
        1.5,
    );
}

#[test]
fn throttling_is_wanting_more_than_the_limit() {
    let one_core = "{requests: {cpu: 1, memory: 1Gi}, limits: {cpu: 1, memory: 1Gi}}";
    // 4 workers against a 1-core limit, always busy.
    let capped = service(
        "capped",
        one_core,
        "{concurrency: 4, queue_limit: 50}",
        200.0,
        "10ms",
    );
    // 8 workers under a 4-core limit at 0.2 busy workers on average: throttled only with 5 or
    // more in service, about 1.2e-5 of its busy time (M/M/8 at a = 0.2).
    let roomy = service(
        "roomy",
        "{requests: {cpu: 4, memory: 1Gi}, limits: {cpu: 4, memory: 1Gi}}",
        "{concurrency: 8}",
        20.0,
        "{distribution: exponential, mean: 10ms}",
    );
    let summary = run_once(BIG_NODE, 1, &(capped + &roomy));
    let capped = &summary.services["capped"];
    assert_near(
        "saturated pod throttled",
        capped.cpu.throttled_fraction.unwrap_or(f64::NAN),
        1.0,
        1e-3,
    );
    assert_near("saturated pod cores", capped.cpu.used_cores_mean, 1.0, 1e-3);
    // One core of 10 ms requests.
    let completed = completions_per_s(&summary, "capped");
    assert_near("saturated pod completions per s", completed, 100.0, 0.05);
    let roomy = &summary.services["roomy"].cpu;
    assert_near(
        "pod far below its limit throttled",
        roomy.throttled_fraction.unwrap_or(f64::NAN),
        0.0,
        1e-3,
    );
    assert_eq!(summary.node_pools["pool"].cpu.contended_fraction, Some(0.0));
}

#[test]
fn a_contended_node_is_work_conserving_whatever_the_shares() {
    // One core shared by two Burstable pods, 1:3. The node serves at one core whenever either
    // has work, so with exponential work of one mean the requests on it number as in one M/M/1
    // queue at the total load, and by Little's law their mean response is E[S]/(1−ρ).
    const MEAN_MS: f64 = 10.0;
    const RATE: f64 = 35.0;
    let rho = 2.0 * RATE * MEAN_MS / 1_000.0;
    let exponential = format!("{{distribution: exponential, mean: {MEAN_MS}ms}}");
    let workers = "{concurrency: 64}";
    let services = service(
        "small",
        "{requests: {cpu: 250m, memory: 1Gi}}",
        workers,
        RATE,
        &exponential,
    ) + &service(
        "large",
        "{requests: {cpu: 750m, memory: 1Gi}}",
        workers,
        RATE,
        &exponential,
    );
    let one_core =
        r#"{machine_type: {cpu: 1, memory: 8Gi, price_per_hour: 1.0}, allocatable: {cpu: "1"}}"#;
    let yaml = cluster_yaml("40m", "5m", one_core, 1, &services);
    let summaries = replicate(&scenario(&yaml), SEEDS);
    let weighted: Vec<f64> = (summaries.iter())
        .map(|s| {
            let (time, count) = s.services.values().fold((0.0, 0.0), |(t, n), v| {
                let done = v.requests.completed as f64;
                (t + v.latency_ms.mean.unwrap_or(f64::NAN) * done, n + done)
            });
            time / count
        })
        .collect();
    assert_in_ci(
        &format!("two pods on one core, ρ={rho}: mean response ms"),
        &weighted,
        MEAN_MS / (1.0 - rho),
    );
    let used: Vec<f64> = (summaries.iter())
        .map(|s| s.services.values().map(|v| v.cpu.used_cores_mean).sum())
        .collect();
    assert_in_ci("two pods on one core: cores used", &used, rho);
    // The larger request is the faster one.
    let small = confidence_interval(&per_run(&summaries, "small", |s| {
        s.latency_ms.mean.unwrap_or(f64::NAN)
    }));
    let large = confidence_interval(&per_run(&summaries, "large", |s| {
        s.latency_ms.mean.unwrap_or(f64::NAN)
    }));
    eprintln!("mean response ms: 250m {small:.3?}, 750m {large:.3?}");
    assert!(large.0 + large.1 < small.0 - small.1);
}

#[test]
fn guaranteed_pods_under_a_cpu_hpa_queue_as_processor_sharing() {
    // scenarios/guaranteed-sweep.yaml: 100/s of 40 ms lognormal work on 1-core Guaranteed pods
    // of 64 workers, beside a Burstable batch pod that takes every core they leave.
    const MEAN_MS: f64 = 40.0;
    let path = repo_root().join("scenarios/guaranteed-sweep.yaml");
    let document = Document::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let plan = Plan::new(&document, &[], capsim::scenario::budget::Limits::DEFAULT)
        .unwrap_or_else(|e| panic!("{e}"));
    let jobs: Vec<Job<'_>> = (plan.runs.iter())
        .map(|run| Job {
            scenario: &plan.points[run.point].scenario,
            seed: run.seed,
            out: None,
        })
        .collect();
    let summaries = run_jobs(&jobs);
    let mut previous: Option<((f64, f64), (f64, f64))> = None;
    for (point, runs) in plan
        .points
        .iter()
        .zip(summaries.chunks(plan.replications as usize))
    {
        let target = &point.settings[0].value;
        for s in runs {
            let (api, batch) = (&s.services["api"], &s.services["batch"]);
            let replicas = &api.replicas;
            // The premise of the formula: the HPA settled before the measured window.
            assert_eq!(replicas.min, replicas.max, "target {target}: {replicas:?}");
            // The file's mean work, as the run measures it (core-seconds per request).
            let work_ms = api.cpu.used_cores_mean / api.throughput_per_s * 1_000.0;
            assert!((work_ms / MEAN_MS - 1.0).abs() < 0.02, "work {work_ms} ms");
            // The node is always contended, and batch gets exactly what the api pods leave of
            // its 15.89 allocatable cores (16 less GKE's reservation).
            assert_eq!(s.node_pools["general"].cpu.contended_fraction, Some(1.0));
            let used = api.cpu.used_cores_mean + batch.cpu.used_cores_mean;
            assert!(
                (used - 15.89).abs() < 1e-3,
                "cores used on the node: {used}"
            );
        }
        // With constant replicas each pod is M/G/1-PS with Poisson input (the random balancer
        // splits Poisson arrivals into Poisson streams) and a core whenever it has work
        // (Guaranteed), so E[T] = E[S]/(1−u) holds exactly but for the 64-worker cap (a queue
        // forms with probability 0.8^64 < 1e-6). The ratio of each run's mean to the formula at
        // its own measured u cancels the noise they share; its interval is the tolerance.
        let ratios = per_run(runs, "api", |s| {
            s.latency_ms.mean.unwrap_or(f64::NAN)
                * (1.0 - s.cpu.utilization_of_requests.unwrap_or(f64::NAN))
                / MEAN_MS
        });
        assert_in_ci(
            &format!("target {target}%: mean response over E[S]/(1-u)"),
            &ratios,
            1.0,
        );
        let mean = confidence_interval(&per_run(runs, "api", |s| {
            s.latency_ms.mean.unwrap_or(f64::NAN)
        }));
        let p99 = confidence_interval(&per_run(runs, "api", |s| {
            s.latency_ms.p99.unwrap_or(f64::NAN)
        }));
        let u = confidence_interval(&per_run(runs, "api", |s| {
            s.cpu.utilization_of_requests.unwrap_or(f64::NAN)
        }));
        eprintln!("target {target}%: u {u:.4?}, mean {mean:.2?} ms, p99 {p99:.1?} ms");
        if let Some((last_mean, last_p99)) = previous {
            assert!(
                mean.0 - mean.1 > last_mean.0 + last_mean.1,
                "mean latency rises with the target: {last_mean:?} then {mean:?}"
            );
            assert!(
                p99.0 - p99.1 > last_p99.0 + last_p99.1,
                "p99 latency rises with the target: {last_p99:?} then {p99:?}"
            );
        }
        previous = Some((mean, p99));
    }
}
