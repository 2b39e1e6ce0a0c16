//! Tests of `budget`: the estimates against what runs do, and the refusals' messages.

use super::*;
use crate::scenario::Document;

const BASE: &str = "
name: t
duration: 1h
node_pools:
  s:
    machine_type: {cpu: 8, memory: 32Gi, price_per_hour: 1.0, spot_price_per_hour: 0.3}
    initial_size: 2
services:
  a:
    replicas: 1
    resources: {requests: {cpu: '1', memory: 1Gi}}
    load: {arrivals: {rate: 10}, service_time: {distribution: exponential, mean: 10ms}}
";

fn document(extra: &[(&str, &str)]) -> Document {
    let mut d = Document::from_yaml_str(BASE, "t.yaml").unwrap();
    for (path, value) in extra {
        d.set(&crate::scenario::Override {
            path: (*path).into(),
            value: (*value).into(),
        })
        .unwrap();
    }
    d
}

fn refusal(extra: &[(&str, &str)], limits: Limits) -> String {
    document(extra)
        .scenario_within(limits)
        .map(|_| ())
        .unwrap_err()
        .to_string()
}

#[test]
fn an_ordinary_run_is_within_the_default_limits() {
    let (scenario, _) = document(&[]).scenario_within(Limits::DEFAULT).unwrap();
    let size = Size::of(&scenario);
    // 10 requests/s for an hour: 36,000 requests, two events each, and little else.
    let arrivals = &size.events[0];
    assert_eq!(arrivals.path, "services.a.load.arrivals.rate");
    assert!((arrivals.amount - 72_000.0).abs() < 1.0, "{arrivals:?}");
    assert!(size.total_events() < 200_000.0, "{size:?}");
}

#[test]
fn a_preemption_livelock_is_refused_with_its_figure() {
    let text = refusal(
        &[
            ("node_pools.s.spot", "true"),
            ("node_pools.s.preemption", "{mean_lifetime: 1us}"),
            ("node_pools.s.provisioning_delay", "0s"),
        ],
        Limits::DEFAULT,
    );
    assert!(
        text.contains("node_pools.s.preemption.mean_lifetime: the run would need about"),
        "{text}"
    );
    assert!(text.contains("7.20e9 preemptions"), "{text}");
    assert!(text.contains("--allow-large"), "{text}");
    // Two limits exceeded, one line each: the events and the log they would write.
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].contains("(events limit 2.00e10 events"), "{text}");
    assert!(lines[1].contains("(output limit 20.0 GiB)"), "{text}");
}

#[test]
fn absurd_rates_are_refused_even_with_allow_large() {
    for rate in ["1e15", "1e308"] {
        let text = refusal(&[("services.a.load.arrivals.rate", rate)], Limits::LARGE);
        assert!(
            text.contains("services.a.load.arrivals.rate: the run would need "),
            "{text}"
        );
        assert!(text.contains("not even --allow-large"), "{text}");
    }
    // One that --allow-large lets through: 1e7/s for an hour is 7.2e10 events.
    let extra = [("services.a.load.arrivals.rate", "1e7")];
    assert!(refusal(&extra, Limits::DEFAULT).contains("7.20e10 events"));
    assert!(document(&extra).scenario_within(Limits::LARGE).is_ok());
}

#[test]
fn unbounded_queues_are_bounded_by_the_default_limit_or_the_timeout() {
    let (scenario, _) = document(&[("services.a.load.arrivals.rate", "1e6")])
        .scenario_within(Limits::LARGE)
        .unwrap();
    let queue = &Size::of(&scenario).memory_bytes[0];
    assert_eq!(queue.path, "services.a.server.queue_limit");
    // One pod whose queue stops at the default limit, however long the overload.
    assert_eq!(
        queue.amount,
        f64::from(DEFAULT_QUEUE_LIMIT) * BYTES_PER_WAITING_REQUEST
    );
    // A timeout holds it lower: a million requests/s waiting at most 10 ms (plus a row).
    let (scenario, _) = document(&[
        ("services.a.load.arrivals.rate", "1e6"),
        ("services.a.server", "{timeout: 10ms}"),
        ("resolution", "10ms"),
    ])
    .scenario_within(Limits::LARGE)
    .unwrap();
    let queue = &Size::of(&scenario).memory_bytes[0];
    assert!(
        (queue.amount - 20_000.0 * BYTES_PER_WAITING_REQUEST).abs() < 1.0,
        "{queue:?}"
    );
}

#[test]
fn huge_clusters_are_refused_for_their_memory() {
    let text = refusal(
        &[("node_pools.s.initial_size", "4000000000")],
        Limits::LARGE,
    );
    assert!(
        text.contains("node_pools.s: the run would need about") && text.contains("memory"),
        "{text}"
    );
    // Past Kubernetes' tested 5,000 nodes, --allow-large is needed, up to 100,000.
    let text = refusal(&[("node_pools.s.initial_size", "6000")], Limits::DEFAULT);
    assert!(
        text.contains("node_pools.s.initial_size: the run would need about 6000 nodes (nodes limit 5000 nodes, Kubernetes' tested scalability"),
        "{text}"
    );
    let allowed = document(&[("node_pools.s.initial_size", "6000")]).scenario_within(Limits::LARGE);
    assert!(allowed.is_ok());
    let text = refusal(&[("node_pools.s.initial_size", "1000000")], Limits::LARGE);
    assert!(text.contains("(nodes limit 100000 nodes"), "{text}");
}

#[test]
fn long_runs_are_refused_at_the_events_limit_unless_allowed() {
    let extra = [
        ("duration", "720h"),
        ("services.a.load.arrivals.rate", "1e4"),
    ];
    let text = refusal(&extra, Limits::DEFAULT);
    // 10,000 requests/s for 30 days: 2.59e10 requests, two events each.
    assert!(text.contains("about 5.18e10 events"), "{text}");
    assert!(text.contains("about 33 minutes at 1e7 events/s"), "{text}");
    assert!(document(&extra).scenario_within(Limits::LARGE).is_ok());
}

#[test]
fn a_failure_livelock_is_refused_with_its_figure() {
    // Nodes that fail every microsecond and are repaired in one: 3.6e9 failures of each of
    // two nodes in an hour, as the preemption livelock was.
    let text = refusal(
        &[
            (
                "node_pools.s.failures",
                "{mean_time_between: 1us, repair_delay: 1us}",
            ),
            ("node_pools.s.provisioning_delay", "0s"),
        ],
        Limits::DEFAULT,
    );
    assert!(
        text.contains("node_pools.s.failures.mean_time_between: the run would need about"),
        "{text}"
    );
    assert!(text.contains("3.60e9 failures"), "{text}");
    assert!(text.contains("--allow-large"), "{text}");
}
