//! Memory running out, through the real binary: a pod over its memory limit is OOM-killed and
//! restarted in place with the kubelet's CrashLoopBackOff, and a node whose pods use more than
//! its allocatable memory evicts them in the kubelet's order.

use std::path::Path;

use capsim::report::summary::RequestCounts;
use capsim::report::timeseries::TimeSeries;
use capsim::report::{ClusterEvent, EventKind, Summary};

use crate::util::{TempDir, assert_success, run_yaml};

/// One pod of 4 workers at 10 ms a request (400/s) offered 800 requests/s: its queue grows by
/// about 400 a second once it is Ready. It uses 512Mi plus 16Mi per request in flight under a
/// 1Gi limit, so 32 requests fit and the 33rd kills it, a tenth of a second after each start.
const OVERLOADED: &str = r#"
name: oom
seed: 3
duration: 30m
node_pools:
  p: {machine_type: {cpu: 16, memory: 64Gi, price_per_hour: 1.0}, initial_size: 1}
services:
  web:
    replicas: 1
    resources: {requests: {cpu: "4", memory: 1Gi}, limits: {memory: 1Gi}}
    startup: {image_pull: 5s, ready: 2s}
    server: {concurrency: 4, memory_base: 512Mi, memory_per_request: 16Mi}
    load:
      arrivals: {rate: 800}
      service_time: 10ms
"#;

/// What a run of `yaml` wrote: its summary, its events and its time series.
fn run(yaml: &str) -> (Summary, Vec<ClusterEvent>, TimeSeries) {
    let dir = TempDir::new("oom");
    let (output, out) = run_yaml(&dir, yaml, &["--quiet", "--no-plots"]);
    assert_success(&output);
    let summary = Summary::read(&out.join("summary.json")).unwrap_or_else(|e| panic!("{e}"));
    let events = read_events(&out.join("events.jsonl"));
    let series = TimeSeries::read(&out.join("timeseries.csv")).unwrap_or_else(|e| panic!("{e}"));
    (summary, events, series)
}

fn read_events(path: &Path) -> Vec<ClusterEvent> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}"));
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// The times of events of `kind`.
fn times(events: &[ClusterEvent], kind: EventKind) -> Vec<f64> {
    events
        .iter()
        .filter(|e| e.event == kind)
        .map(|e| e.time_s)
        .collect()
}

/// Arrivals equal the sum of every outcome.
fn assert_conserved(r: &RequestCounts) {
    assert_eq!(r.arrived, r.accounted(), "{r:?}");
}

#[test]
fn an_overloaded_pod_is_oom_killed_and_restarted_with_the_kubelet_s_backoff() {
    let (summary, events, series) = run(OVERLOADED);
    let web = &summary.services["web"];
    let r = &web.requests;
    assert!(r.oom_killed > 0, "{r:?}");
    assert_conserved(r);

    let killed = times(&events, EventKind::PodOomKilled);
    let restarted = times(&events, EventKind::PodRestarted);
    // Each restart follows the kill before it by the back-off: 10 s doubling to 5 minutes
    // (the container never runs 10 minutes in between, so the delays never start over).
    let delays: Vec<f64> = killed
        .iter()
        .zip(&restarted)
        .map(|(k, r)| ((r - k) * 1e3).round() / 1e3)
        .collect();
    assert_eq!(
        delays,
        [10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0, 300.0, 300.0],
        "killed at {killed:?}, restarted at {restarted:?}"
    );
    // The run ends in the back-off after the tenth kill.
    assert_eq!(killed.len(), 10);
    assert_eq!(web.restarts, restarted.len() as u64);
    let backoffs: Vec<String> = events
        .iter()
        .filter(|e| e.event == EventKind::PodBackOff)
        .filter_map(|e| e.reason.clone())
        .collect();
    assert_eq!(backoffs.len(), killed.len());
    assert_eq!(backoffs[0], "Back-off 10s restarting failed container");
    assert_eq!(backoffs[5], "Back-off 5m0s restarting failed container");

    // The same pod restarts in place on its node, Ready 2 s after each restart; it is the
    // only pod ever created, and it is never deleted.
    assert!(
        events
            .iter()
            .filter(|e| matches!(
                e.event,
                EventKind::PodOomKilled | EventKind::PodRestarted | EventKind::PodReady
            ))
            .all(|e| e.pod.as_deref() == Some("web-0") && e.node.as_deref() == Some("p-0")),
        "{events:?}"
    );
    assert_eq!(times(&events, EventKind::PodCreated).len(), 1);
    assert!(times(&events, EventKind::PodDeleted).is_empty());
    let ready = times(&events, EventKind::PodReady);
    for t in &restarted {
        assert!(
            ready.iter().any(|r| (r - (t + 2.0)).abs() < 1e-9),
            "not Ready 2 s after the restart at {t}: {ready:?}"
        );
    }
    // Not Ready while backing off: requests find no endpoint.
    assert!(r.rejected_no_ready_pod > r.completed, "{r:?}");

    // Each kill is in the time series, and the interval counts add up to the summary's (the
    // run is measured from its start).
    let per_interval: u64 = series
        .rows
        .iter()
        .map(|row| row.services[0].oom_killed)
        .sum();
    assert_eq!(per_interval, r.oom_killed);
}

#[test]
fn ten_minutes_without_a_kill_start_the_backoff_over() {
    // Half the capacity, with a burst to twice it every 15 minutes: each burst kills the pod
    // (once or twice while it lasts), and the next burst comes more than 10 minutes after the
    // last restart.
    let yaml = OVERLOADED.replace(
        "      arrivals: {rate: 800}",
        "      arrivals:\n        rate: 200\n        profile: {type: spikes, spikes: [\
         {at: 5m, duration: 40s, factor: 4}, {at: 20m, duration: 40s, factor: 4}, \
         {at: 35m, duration: 40s, factor: 4}]}",
    );
    let yaml = yaml.replace("duration: 30m", "duration: 45m");
    let (summary, events, _) = run(&yaml);
    let killed = times(&events, EventKind::PodOomKilled);
    let restarted = times(&events, EventKind::PodRestarted);
    assert!(killed.len() >= 3, "{killed:?}");
    let mut previous: Option<(f64, f64)> = None; // (delay, restart time)
    for (k, r) in killed.iter().zip(&restarted) {
        let delay = ((r - k) * 1e3).round() / 1e3;
        let expected = match previous {
            Some((d, last_restart)) if k - last_restart <= 600.0 => (2.0 * d).min(300.0),
            _ => 10.0,
        };
        assert_eq!(
            delay, expected,
            "killed at {killed:?}, restarted at {restarted:?}"
        );
        previous = Some((delay, *r));
    }
    // Each burst starts over at 10 s.
    for burst in [300.0, 1_200.0, 2_100.0] {
        let first = killed.iter().position(|k| *k >= burst);
        let Some(i) = first else {
            panic!("no kill in the burst at {burst}: {killed:?}");
        };
        assert_eq!(((restarted[i] - killed[i]) * 1e3).round() / 1e3, 10.0);
    }
    assert_conserved(&summary.services["web"].requests);
}

/// One node whose pods may use 6Gi. A BestEffort batch pod uses 2Gi, idle but for a slow trickle
/// of requests; a Burstable web pod requests 3Gi and uses 2.5Gi plus 64Mi per request in
/// flight, at most 30 (4 workers and 26 waiting). Offered half its capacity (200/s) for two
/// minutes, then one and a half times it, the web pod's requests push the node over 6Gi once 25
/// are in flight: the web pod is then 0.06Gi above its
/// request (at most 1.4Gi, with 30), the batch pod 2Gi above its own, so the kubelet evicts the
/// BestEffort pod, and again each time its replacement starts on the node.
const PRESSURE: &str = r#"
name: pressure
seed: 5
duration: 10m
node_pools:
  p:
    machine_type: {cpu: 16, memory: 16Gi, price_per_hour: 1.0}
    allocatable: {memory: 6Gi}
    initial_size: 1
services:
  batch:
    replicas: 1
    startup: {image_pull: 20s, ready: 1s}
    server: {concurrency: 1, memory_base: 2Gi}
    load:
      arrivals: {rate: 0.5}
      service_time: 1s
  web:
    replicas: 1
    resources: {requests: {cpu: "4", memory: 3Gi}}
    startup: {image_pull: 20s, ready: 1s}
    server: {concurrency: 4, queue_limit: 26, memory_base: 2560Mi, memory_per_request: 64Mi}
    load:
      arrivals:
        rate: 100
        profile: {type: steps, steps: [{at: 2m, factor: 3}]}
      service_time: 20ms
"#;

#[test]
fn under_node_memory_pressure_best_effort_pods_are_evicted_before_burstable_ones() {
    let (summary, events, _) = run(PRESSURE);
    let evicted: Vec<&ClusterEvent> = events
        .iter()
        .filter(|e| e.event == EventKind::PodEvicted)
        .collect();
    assert!(!evicted.is_empty(), "no eviction");
    // Only the BestEffort pods go: the web pod's excess over its request never reaches the
    // batch pod's 2Gi.
    for e in &evicted {
        assert_eq!(e.service.as_deref(), Some("batch"), "{e:?}");
        assert_eq!(e.node.as_deref(), Some("p-0"));
        let reason = e.reason.as_deref().unwrap_or("");
        assert!(
            reason.starts_with("The node was low on resource: memory. Threshold quantity: 100Mi"),
            "{reason}"
        );
    }
    // The first once the load triples at 2 minutes, then one per eviction-manager sync (10 s
    // apart at least) while the web pod's queue keeps the node over.
    assert!(evicted[0].time_s >= 120.0, "{:?}", evicted[0]);
    for pair in evicted.windows(2) {
        assert!(pair[1].time_s - pair[0].time_s >= 10.0 - 1e-9, "{pair:?}");
    }
    let (batch, web) = (&summary.services["batch"], &summary.services["web"]);
    assert_eq!(batch.evictions, evicted.len() as u64);
    assert_eq!(web.evictions, 0);
    // Evicted pods are deleted and replaced by their ReplicaSet.
    let deleted = events
        .iter()
        .filter(|e| e.event == EventKind::PodDeleted && e.service.as_deref() == Some("batch"))
        .count();
    assert_eq!(deleted, evicted.len());
    assert!(
        times(&events, EventKind::PodCreated).len() > evicted.len(),
        "replacements"
    );
    assert_conserved(&batch.requests);
    assert_conserved(&web.requests);
    assert_eq!(web.requests.evicted, 0);
}
