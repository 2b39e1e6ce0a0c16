//! The autoscalers in whole runs, against answers worked out by hand from Kubernetes' rules:
//! how fast the HPA reacts to a load step, that it scales down only after its stabilization
//! window, that the Cluster Autoscaler's nodes arrive after the provisioning delay and leave
//! only after the unneeded time, that a quota caps an HPA, and that the expanders choose as
//! their formulas say.

use capsim::report::{ClusterEvent, Collect, EventKind};
use capsim::simulation::{Outcome, Simulation};

use crate::util::scenario;

fn run(yaml: &str) -> (Outcome, Collect) {
    let scenario = scenario(yaml);
    let mut seen = Collect::default();
    let outcome = Simulation::new(&scenario).run(&mut seen);
    (outcome, seen)
}

fn events(seen: &Collect, kind: EventKind) -> Vec<&ClusterEvent> {
    seen.events.iter().filter(|e| e.event == kind).collect()
}

/// Two 1-CPU pods at 50% CPU, then three times the load at 10m and back at 30m. Each request
/// keeps one worker (one core) busy for exactly 10 ms.
const LOAD_STEP: &str = r#"
name: load-step
seed: 5
duration: 50m
node_pools:
  pool: {machine_type: {cpu: 16, memory: 64Gi, price_per_hour: 1.0}, initial_size: 1}
services:
  web:
    replicas: 2
    resources: {requests: {cpu: "1", memory: 1Gi}}
    startup: {image_pull: 10s, ready: 5s}
    server: {concurrency: 8, cpu_per_worker: "1"}
    load_balancer: round-robin
    load:
      arrivals:
        rate: 100
        profile: {type: steps, steps: [{at: 10m, factor: 3}, {at: 30m, factor: 1}]}
      service_time: 10ms
autoscaling:
  hpa:
    web:
      minReplicas: 1
      maxReplicas: 10
      metrics:
        - {type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}
"#;

#[test]
fn hpa_reacts_to_a_load_step_within_one_sync_and_one_metric_window() {
    let (_, seen) = run(LOAD_STEP);
    let rescales = events(&seen, EventKind::HpaRescale);
    let first = rescales.first().expect("the HPA rescaled");
    // Before the step usage is 100/s x 10 ms = 1 core over 2 requested: 50%, on target.
    // After it, 3 cores: 150% -> ceil(2 x 150 / 50) = 6. The first sample wholly after the
    // step is taken at 615 s and the HPA syncs then: no later than step + metric window + sync
    // period = 630 s.
    assert!(
        first.time_s > 600.0 && first.time_s <= 630.0,
        "first rescale at {}",
        first.time_s
    );
    // Without `behavior`, Kubernetes keeps the legacy rate limit: at most max(2 x 2, 4) = 4.
    assert_eq!((first.from_replicas, first.to_replicas), (Some(2), Some(4)));
    assert!(
        first
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("ScaleUpLimit"),
        "{first:?}"
    );
    // The next sync goes on to the 6 the metric asked for.
    let second = rescales.get(1).expect("a second rescale");
    assert_eq!(
        (second.time_s, second.to_replicas),
        (first.time_s + 15.0, Some(6))
    );
}

#[test]
fn the_sync_offset_is_the_age_of_the_sample_the_hpa_reads() {
    // Samples are taken every 15 s; the one at 615 s is the first wholly after the 600 s step.
    // An HPA syncing on the sample instants reads it at once; one syncing 14 s after them reads
    // the stale 600 s sample at 614 s and the fresh one at 629 s.
    for (offset, want_s) in [("0s", 615.0), ("14s", 629.0)] {
        let yaml = LOAD_STEP.replace(
            "      minReplicas: 1",
            &format!("      sync_offset: {offset}\n      minReplicas: 1"),
        );
        assert!(yaml.contains("sync_offset"), "{yaml}");
        let (outcome, seen) = run(&yaml);
        let rescales = events(&seen, EventKind::HpaRescale);
        let first = rescales.first().expect("the HPA rescaled");
        assert_eq!(first.time_s, want_s, "offset {offset}");
        assert_eq!(
            outcome.summary.services["web"].scaling.hpa_sync_offset_s,
            Some(want_s - 615.0)
        );
    }
    // Left unset, the offset is drawn from the seed: another seed, another phase.
    let offsets: Vec<f64> = (1..=6)
        .map(|seed| {
            let yaml = LOAD_STEP.replace("seed: 5", &format!("seed: {seed}"));
            let (outcome, _) = run(&yaml.replace("duration: 50m", "duration: 1m"));
            outcome.summary.services["web"]
                .scaling
                .hpa_sync_offset_s
                .expect("the service has an HPA")
        })
        .collect();
    assert!(
        offsets.iter().all(|o| (0.0..15.0).contains(o)),
        "{offsets:?}"
    );
    let mut distinct = offsets.clone();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    assert_eq!(distinct.len(), offsets.len(), "{offsets:?}");
}

#[test]
fn hpa_with_behavior_uses_kubernetes_default_policies() {
    // Any `behavior` switches to the policy path, with Kubernetes' defaults filled in: scale
    // up by max(4 pods, 100%) per 15 s -> from 2, up to max(6, 4) = 6 in one step.
    let yaml = LOAD_STEP.replace(
        "      minReplicas: 1",
        "      behavior: {scaleUp: {stabilizationWindowSeconds: 0}}\n      minReplicas: 1",
    );
    let (_, seen) = run(&yaml);
    let first = events(&seen, EventKind::HpaRescale)
        .into_iter()
        .next()
        .cloned()
        .expect("the HPA rescaled");
    assert!(first.time_s > 600.0 && first.time_s <= 630.0, "{first:?}");
    assert_eq!((first.from_replicas, first.to_replicas), (Some(2), Some(6)));
}

#[test]
fn hpa_scales_down_only_after_its_stabilization_window() {
    let (outcome, seen) = run(LOAD_STEP);
    let downs: Vec<_> = events(&seen, EventKind::HpaRescale)
        .into_iter()
        .filter(|e| e.to_replicas < e.from_replicas)
        .collect();
    let first_down = downs
        .first()
        .expect("the HPA scaled down after the load fell");
    // The load falls at 1800 s; the default scale-down stabilization keeps the highest
    // recommendation of the last 300 s, so nothing falls before 2100 s, and the first sync
    // after that (every 15 s) lowers the replicas.
    assert!(
        first_down.time_s >= 2_100.0 && first_down.time_s <= 2_130.0,
        "first scale-down at {}",
        first_down.time_s
    );
    // Back at 1 core for 6 pods of 1 CPU: 16.7% -> 6 x 16.7 / 50 = 2.0, so 2, or 3 when a
    // window's Poisson count runs a little high; the stabilized value is the window's highest.
    assert!(
        matches!(first_down.to_replicas, Some(2 | 3)),
        "{first_down:?}"
    );
    // Up 2 -> 4 -> 6 (legacy rate limit), then down: one change of direction.
    let scaling = &outcome.summary.services["web"].scaling;
    assert_eq!(scaling.scale_ups, 2);
    assert!(scaling.scale_downs >= 1, "{scaling:?}");
    assert_eq!(scaling.direction_changes, 1);
}

/// One 8-core node; four pods of 3 CPU: two fit, two wait for the Cluster Autoscaler.
const PENDING_PODS: &str = r#"
name: pending-pods
seed: 1
duration: 20m
node_pools:
  pool:
    machine_type: {cpu: 8, memory: 32Gi, price_per_hour: 1.0}
    allocatable: {cpu: "8", memory: 32Gi}
    initial_size: 1
    autoscaling: {min_nodes: 1, max_nodes: 5}
    provisioning_delay: 90s
services:
  batch:
    replicas: 4
    resources: {requests: {cpu: "3", memory: 1Gi}}
autoscaling:
  cluster_autoscaler: {scan_interval: 10s, scale_down_enabled: false}
"#;

#[test]
fn cluster_autoscaler_adds_nodes_that_arrive_after_the_provisioning_delay() {
    let (outcome, seen) = run(PENDING_PODS);
    let added: Vec<_> = events(&seen, EventKind::NodeAdded)
        .into_iter()
        .filter(|e| e.time_s > 0.0)
        .collect();
    // Two pending pods of 3 CPU fit one new 8-core node: one node, asked for at the first
    // scan (10 s), Ready 90 s later.
    assert_eq!(added.len(), 1, "{added:?}");
    assert_eq!(added[0].time_s, 10.0);
    let name = added[0].node.clone();
    let ready = events(&seen, EventKind::NodeReady)
        .into_iter()
        .find(|e| e.node == name)
        .expect("the new node registered");
    assert_eq!(ready.time_s, 100.0);
    let scheduled_late = events(&seen, EventKind::PodScheduled)
        .into_iter()
        .filter(|e| e.node == name)
        .count();
    assert_eq!(scheduled_late, 2);
    let pool = &outcome.summary.node_pools["pool"];
    assert_eq!((pool.nodes_added, pool.nodes.max), (1, 2));
    // Pending: 2 pods x 100 s.
    let pending = outcome.summary.services["batch"].pending_pod_seconds;
    assert!((pending - 200.0).abs() < 1e-6, "{pending}");
}

/// Three nodes, one small pod: two nodes are empty and go after the unneeded time.
const IDLE_NODES: &str = r#"
name: idle-nodes
seed: 1
duration: 30m
node_pools:
  pool:
    machine_type: {cpu: 8, memory: 32Gi, price_per_hour: 1.0}
    initial_size: 3
    autoscaling: {min_nodes: 1, max_nodes: 5}
services:
  web:
    replicas: 1
    resources: {requests: {cpu: "1", memory: 1Gi}}
autoscaling:
  cluster_autoscaler: {scan_interval: 10s, scale_down_unneeded_time: 10m}
"#;

#[test]
fn cluster_autoscaler_removes_nodes_only_after_the_unneeded_time() {
    let (outcome, seen) = run(IDLE_NODES);
    let removed = events(&seen, EventKind::NodeRemoved);
    // Unneeded from the first scan (10 s); removable once unneeded for 600 s: at 610 s. The
    // pool's minimum of 1 keeps the node that runs the pod.
    assert_eq!(removed.len(), 2, "{removed:?}");
    for event in &removed {
        assert!(event.time_s >= 610.0 && event.time_s <= 620.0, "{event:?}");
    }
    let pool = &outcome.summary.node_pools["pool"];
    assert_eq!((pool.nodes.min, pool.nodes_removed), (1, 2));
    // 3 nodes for ~610 s then 1: well under the 1.5 node-hours of three full nodes.
    assert!(
        outcome.summary.cost.total_usd < 0.9,
        "{}",
        outcome.summary.cost.total_usd
    );
}

/// The HPA wants 8 replicas of 2 CPU; the namespace's quota admits 5.
const QUOTA_CAP: &str = r#"
name: quota-cap
seed: 2
duration: 20m
node_pools:
  pool: {machine_type: {cpu: 64, memory: 256Gi, price_per_hour: 1.0}, initial_size: 1}
services:
  search:
    namespace: team
    replicas: 2
    resources: {requests: {cpu: "2", memory: 1Gi}, limits: {cpu: "2", memory: 1Gi}}
    server: {concurrency: 2, cpu_per_worker: "1"}
    load:
      arrivals: {rate: 700}
      service_time: 10ms
quotas:
  team: {requests.cpu: "10"}
autoscaling:
  hpa:
    search:
      minReplicas: 2
      maxReplicas: 10
      metrics:
        - {type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}
"#;

#[test]
fn a_quota_caps_the_hpa_and_its_rejections_are_counted() {
    let (outcome, seen) = run(QUOTA_CAP);
    let s = &outcome.summary.services["search"];
    // 700/s x 10 ms = 7 cores: at 50% of 2 CPU per pod the HPA wants 7; the quota of 10 CPU
    // admits 5 pods of 2 CPU.
    assert_eq!(s.replicas.max, 5);
    let wanted = events(&seen, EventKind::HpaRescale)
        .iter()
        .filter_map(|e| e.to_replicas)
        .max();
    assert!(wanted >= Some(7), "{wanted:?}");
    let rejected = outcome.summary.quotas["team"].rejected_pods;
    assert!(rejected > 0);
    assert_eq!(
        events(&seen, EventKind::QuotaRejected).len() as u64,
        rejected
    );
}

/// Two empty pools of 4-CPU machines; a pending 3 CPU / 4Gi pod needs one node.
fn two_pools(expander: &str) -> String {
    format!(
        r#"
name: expanders
seed: 3
duration: 10m
node_pools:
  tight:
    machine_type: {{cpu: 4, memory: 8Gi, price_per_hour: 0.30}}
    initial_size: 0
    autoscaling: {{min_nodes: 0, max_nodes: 3}}
  roomy:
    machine_type: {{cpu: 4, memory: 32Gi, price_per_hour: 0.10}}
    initial_size: 0
    autoscaling: {{min_nodes: 0, max_nodes: 3}}
services:
  job:
    replicas: 1
    resources: {{requests: {{cpu: "3", memory: 4Gi}}}}
autoscaling:
  cluster_autoscaler: {{expander: {expander}}}
"#
    )
}

fn pool_scaled_up(expander: &str) -> String {
    let (_, seen) = run(&two_pools(expander));
    let added = events(&seen, EventKind::NodeAdded);
    assert_eq!(added.len(), 1, "{added:?}");
    added[0].pool.clone().unwrap_or_default()
}

#[test]
fn least_waste_and_price_expanders_choose_by_their_formulas() {
    // least-waste, on machine capacity: tight (4 - 3)/4 + (8 - 4)/8 = 0.75;
    // roomy (4 - 3)/4 + (32 - 4)/32 = 1.125. Lowest wins: tight.
    assert_eq!(pool_scaled_up("least-waste"), "tight");
    // price: both nodes have 4 CPUs, so the same unfitness against the preferred 1-core node
    // of an empty cluster (4); the score then orders by node price, 0.10 < 0.30: roomy.
    assert_eq!(pool_scaled_up("price"), "roomy");
    // most-pods: both help the one pod; the tie goes to a seeded random pick among them.
    let most = pool_scaled_up("most-pods");
    assert!(most == "tight" || most == "roomy", "{most}");
}

#[test]
fn a_pool_whose_nodes_never_arrive_is_given_up_on_and_backed_off() {
    // Nodes take 20 minutes to boot; the autoscaler waits max_node_provision_time (15 minutes)
    // and gives up, then backs the pool off (5 minutes, doubling) before asking again.
    let yaml = r#"
name: slow-provisioning
seed: 4
duration: 1h
node_pools:
  slow:
    machine_type: {cpu: 8, memory: 32Gi, price_per_hour: 1.0}
    initial_size: 0
    autoscaling: {min_nodes: 0, max_nodes: 3}
    provisioning_delay: 20m
services:
  job:
    replicas: 1
    resources: {requests: {cpu: "1", memory: 1Gi}}
autoscaling:
  cluster_autoscaler: {max_node_provision_time: 15m}
"#;
    let (outcome, seen) = run(yaml);
    assert!(events(&seen, EventKind::NodeReady).is_empty());
    let added = events(&seen, EventKind::NodeAdded);
    let removed = events(&seen, EventKind::NodeRemoved);
    assert!(
        added.len() >= 2 && !removed.is_empty(),
        "{added:?} {removed:?}"
    );
    // Asked for at the first scan (10 s); given up on at the first scan after 15 minutes more.
    assert_eq!(added[0].time_s, 10.0);
    assert!(
        removed[0].time_s >= 910.0 && removed[0].time_s <= 920.0,
        "{:?}",
        removed[0]
    );
    // Backed off for 5 minutes before the next request.
    assert!(
        added[1].time_s >= removed[0].time_s + 300.0,
        "{:?}",
        added[1]
    );
    // Billed while provisioning: about 15 minutes per attempt at 1 USD per hour.
    let cost = outcome.summary.cost.total_usd;
    assert!(cost > 0.25 && cost < 1.0, "{cost}");
}

#[test]
fn several_metrics_take_the_largest_proposal_and_pods_metrics_follow_the_load() {
    // 300/s on 2 pods of 1 CPU from the start. CPU at 50% proposes ceil(2 x 150 / 50) = 6;
    // 25 requests per second per pod proposes ceil(2 x 150 / 25) = 12 (13 when the window's
    // Poisson count runs above 150 per pod). The HPA takes the larger, the
    // default scale-up policies allow max(2 + 4, 2 x 2) = 6 at the first sync, and the next
    // sync stops at maxReplicas 10 (TooManyReplicas). Syncs fall at 15 s + the HPA's offset.
    let yaml = LOAD_STEP
        .replace(
            "        rate: 100\n        profile: {type: steps, steps: [{at: 10m, factor: 3}, {at: 30m, factor: 1}]}",
            "        rate: 300",
        )
        .replace(
            "      minReplicas: 1",
            "      behavior: {scaleUp: {selectPolicy: Max}}\n      minReplicas: 1",
        )
        .replace(
            "averageUtilization: 50}}}\n",
            "averageUtilization: 50}}}\n        - {type: Pods, pods: {metric: {name: requests_per_second}, target: {type: AverageValue, averageValue: \"25\"}}}\n",
        );
    assert!(
        yaml.contains("rate: 300\n") && yaml.contains("requests_per_second"),
        "{yaml}"
    );
    let (outcome, seen) = run(&yaml);
    let rescales = events(&seen, EventKind::HpaRescale);
    let first = rescales.first().expect("the HPA rescaled");
    let offset_s = outcome.summary.services["web"]
        .scaling
        .hpa_sync_offset_s
        .expect("the service has an HPA");
    assert!((0.0..15.0).contains(&offset_s), "{offset_s}");
    assert!((first.time_s - (15.0 + offset_s)).abs() < 1e-6, "{first:?}");
    assert_eq!((first.from_replicas, first.to_replicas), (Some(2), Some(6)));
    let reason = first.reason.as_deref().unwrap_or("");
    assert!(reason.contains("requests_per_second"), "{reason}");
    let detail = first.detail.as_deref().unwrap_or("");
    let rps_proposal = detail
        .split("requests_per_second ")
        .nth(1)
        .and_then(|rest| rest.split("-> ").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<u32>().ok());
    assert!(matches!(rps_proposal, Some(12 | 13)), "{detail}");
    assert!(detail.contains("ScaleUpLimit"), "{detail}");
    let second = rescales.get(1).expect("a second rescale");
    assert!(
        (second.time_s - (first.time_s + 15.0)).abs() < 1e-6,
        "{second:?}"
    );
    assert_eq!(second.to_replicas, Some(10));
    assert!(
        second
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("TooManyReplicas"),
        "{second:?}"
    );
    assert!(
        outcome.summary.services["web"]
            .scaling
            .time_at_max_replicas_s
            > 2_900.0
    );
}

/// Two 8-CPU nodes: a fixed one, and an autoscaled one running both pods of `web` (which
/// prefers it), which it can hand to the first. `web`'s replacements take 35 s to be Ready.
const BUDGETED_DRAIN: &str = r#"
name: budgeted-drain
seed: 4
duration: 25m
node_pools:
  fixed:
    machine_type: {cpu: 8, memory: 32Gi, price_per_hour: 1.0}
    initial_size: 1
  elastic:
    machine_type: {cpu: 8, memory: 32Gi, price_per_hour: 1.0}
    initial_size: 1
    autoscaling: {min_nodes: 0, max_nodes: 3}
services:
  web:
    replicas: 2
    resources: {requests: {cpu: 500m, memory: 1Gi}}
    affinity:
      nodeAffinity:
        preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            preference:
              matchExpressions:
                - {key: cloud.google.com/gke-nodepool, operator: In, values: [elastic]}
    startup: {image_pull: 30s, ready: 5s}
    load:
      arrivals: {rate: 50}
      service_time: 5ms
autoscaling:
  cluster_autoscaler: {scan_interval: 10s}
"#;

fn budgeted_drain(budget: &str, image_pull: &str) -> (Outcome, Collect) {
    let yaml = BUDGETED_DRAIN
        .replace(
            "      service_time: 5ms\n",
            &format!("      service_time: 5ms\n    {budget}\n"),
        )
        .replace("image_pull: 30s", &format!("image_pull: {image_pull}"));
    assert!(yaml.contains(budget) && yaml.contains(image_pull), "{yaml}");
    run(&yaml)
}

#[test]
fn drains_respect_pod_disruption_budgets() {
    // Without a budget both web pods are evicted at once: web has no Ready pod until a
    // replacement is up, and requests are refused meanwhile.
    let (outcome, seen) = budgeted_drain("", "30s");
    let draining = events(&seen, EventKind::NodeDraining);
    assert_eq!(draining.len(), 1, "{draining:?}");
    let drained_at = draining[0].time_s;
    let evicted = events(&seen, EventKind::PodEvicted);
    assert!(
        evicted.iter().all(|e| e.time_s == drained_at),
        "{evicted:?}"
    );
    let web = &outcome.summary.services["web"];
    assert_eq!(web.replicas.min, 0);
    assert!(web.requests.rejected_no_ready_pod > 0);

    // minAvailable 1: one pod goes, the other only once its replacement is Ready (35 s),
    // at the next eviction retry (every 10 s): 40 s later. web is never without a Ready pod.
    let (outcome, seen) = budgeted_drain("disruption_budget: {minAvailable: 1}", "30s");
    let drained_at = events(&seen, EventKind::NodeDraining)[0].time_s;
    let evicted: Vec<f64> = events(&seen, EventKind::PodEvicted)
        .iter()
        .map(|e| e.time_s)
        .collect();
    assert_eq!(evicted, [drained_at, drained_at + 40.0]);
    let removed = events(&seen, EventKind::NodeRemoved);
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].time_s, drained_at + 40.0);
    let web = &outcome.summary.services["web"];
    assert_eq!(web.replicas.min, 1);
    assert_eq!(web.requests.rejected_no_ready_pod, 0);

    // minAvailable 2 leaves no disruption: the node is never unneeded, nothing is drained.
    let (outcome, seen) = budgeted_drain("disruption_budget: {min_available: 2}", "30s");
    assert!(events(&seen, EventKind::NodeDraining).is_empty());
    assert_eq!(outcome.summary.node_pools["elastic"].nodes.min, 1);

    // Replacements slower than the 2-minute eviction timeout: the drain gives up with the
    // second pod still there, and the node stays.
    let (_, seen) = budgeted_drain("disruption_budget: {maxUnavailable: 50%}", "5m");
    let drained_at = events(&seen, EventKind::NodeDraining)[0].time_s;
    let failed = events(&seen, EventKind::NodeDrainFailed);
    assert_eq!(failed.first().map(|e| e.time_s), Some(drained_at + 120.0));
    assert!(
        events(&seen, EventKind::NodeRemoved)
            .iter()
            .all(|e| e.time_s > drained_at + 120.0),
        "the node outlives the failed drain"
    );
}

/// Nodes asked for by separate scans, with a random provisioning delay, may boot in either
/// order: the later request registering first used to stop the run ("nodes register in id
/// order"). Every node asked for registers, in the order it boots.
#[test]
fn nodes_that_boot_out_of_request_order_register_as_they_boot() {
    let (outcome, seen) = run(r#"
name: nodes-out-of-order
seed: 1
duration: 30m
node_pools:
  p:
    machine_type: n2-standard-8
    initial_size: 0
    autoscaling: {min_nodes: 0, max_nodes: 5}
    provisioning_delay: {distribution: uniform, min: 60s, max: 150s}
services:
  s:
    replicas: 3
    resources:
      requests: {cpu: "3", memory: 4Gi}
    server: {concurrency: 2, cpu_per_worker: "1"}
    load:
      arrivals: {rate: 1}
      service_time: 100ms
autoscaling:
  cluster_autoscaler:
    enabled: true
"#);
    let added: Vec<&str> = events(&seen, EventKind::NodeAdded)
        .iter()
        .filter_map(|e| e.node.as_deref())
        .collect();
    let ready: Vec<&str> = events(&seen, EventKind::NodeReady)
        .iter()
        .filter_map(|e| e.node.as_deref())
        .collect();
    assert_eq!(added.len(), 2, "{added:?}");
    // The second node asked for is Ready first, and both serve.
    assert_eq!(ready, [added[1], added[0]]);
    // Requests are served once the pods are up (1 a second over about 27 minutes).
    assert!(outcome.summary.services[0].requests.completed > 1_500);
}
