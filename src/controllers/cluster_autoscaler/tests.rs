//! Whole-scan tests of the Cluster Autoscaler on small clusters driven by hand: scale-ups in
//! flight, upcoming nodes, scale-down timing, limits and backoff.

use super::*;
use crate::cluster::spec::ExtendedNames;
use crate::controllers::cluster_autoscaler::spec::Expander;
use crate::controllers::cluster_autoscaler::testing::{
    World, mins, pod, pool, scale_downs, scale_ups, secs, spec,
};

/// One pool of 4-CPU / 16-GiB nodes (1..=10); services ask 3 CPU, 1 CPU and 1.5 CPU, each
/// with 1 GiB.
fn one_pool() -> World {
    World::new(
        spec(vec![Expander::LeastWaste], 0),
        vec![pool("p", 4, 16, 1, 10)],
        vec![pod(3_000, 1), pod(1_000, 1), pod(1_500, 1)],
    )
}

/// `one_pool` plus a pool of 16-CPU / 64-GiB nodes that is not autoscaled: its nodes are only
/// destinations for moved pods.
fn with_fixed_pool(specs: Vec<PodSpec>) -> World {
    let mut fixed = pool("fixed", 16, 64, 1, 1);
    fixed.autoscaling = None;
    World::new(
        spec(vec![Expander::LeastWaste], 0),
        vec![pool("p", 4, 16, 0, 10), fixed],
        specs,
    )
}

#[test]
fn upcoming_nodes_absorb_pending_pods() {
    let mut w = one_pool();
    w.add_node(0, &[0]);
    w.pending = vec![0, 0];
    let a = w.scan(secs(10));
    assert_eq!(scale_ups(&a), [(0, 2)]);
    w.apply(&a, secs(10));
    // The same two pods are still pending 10s later: the two nodes on their way take them.
    assert!(scale_ups(&w.scan(secs(20))).is_empty());
    // A third pod arrives: only it needs a node.
    w.pending.push(0);
    let a = w.scan(secs(30));
    assert_eq!(scale_ups(&a), [(0, 1)]);
    match &a[0] {
        CaAction::ScaleUp {
            pods_helped,
            reason,
            ..
        } => {
            assert_eq!(*pods_helped, 1);
            assert!(
                reason.starts_with("1 pending pod(s) fit on 1 new node(s) of p"),
                "{reason}"
            );
        }
        other => panic!("expected a scale-up, got {other:?}"),
    }
}

#[test]
fn max_nodes_total_counts_upcoming_nodes() {
    let mut w = one_pool();
    w.ca = ClusterAutoscaler::new(&spec(vec![Expander::LeastWaste], 3), &w.pools);
    w.add_node(0, &[0]);
    w.pending = vec![0, 0, 0, 0];
    let a = w.scan(secs(10));
    // 1 registered: 2 more allowed.
    assert_eq!(scale_ups(&a), [(0, 2)]);
    w.apply(&a, secs(10));
    // 1 registered + 2 upcoming = 3: the last two pods wait.
    assert!(scale_ups(&w.scan(secs(20))).is_empty());
}

#[test]
fn pools_without_autoscaling_are_left_alone() {
    let mut w = one_pool();
    w.pools[0].autoscaling = None;
    w.add_node(0, &[]);
    w.add_node(0, &[]);
    w.pending = vec![0, 0, 0];
    for m in [0, 11, 22, 33] {
        let a = w.scan(mins(m));
        assert!(a.is_empty(), "at {m}m: {a:?}");
    }
}

#[test]
fn a_node_goes_after_the_unneeded_time_and_not_before() {
    let mut w = one_pool();
    w.add_node(0, &[0]); // 75% cpu: needed
    let idle = w.add_node(0, &[1]); // 25% cpu, 1/16 memory: unneeded
    // Delay after add holds deletions until 10m after start; the node is unneeded from 1m.
    assert!(scale_downs(&w.scan(mins(1))).is_empty());
    assert_eq!(w.ca.unneeded_since(idle), Some(mins(1)));
    // At 11m: 1m + 10m is not before 11m.
    assert!(scale_downs(&w.scan(mins(11))).is_empty());
    assert_eq!(
        w.ca.unneeded_since(idle),
        Some(mins(1)),
        "the since time is kept"
    );
    let a = w.scan(mins(11) + SimDuration(1));
    assert_eq!(scale_downs(&a), [idle]);
    match &a[0] {
        CaAction::ScaleDown { reason, .. } => assert!(
            reason.contains("cpu 25.0% and memory 6.") && reason.contains("unneeded since 1m0s"),
            "{reason}"
        ),
        other => panic!("expected a scale-down, got {other:?}"),
    }
}

#[test]
fn a_node_busy_again_restarts_its_unneeded_time() {
    let mut w = one_pool();
    w.add_node(0, &[0]);
    let idle = w.add_node(0, &[1]);
    w.scan(mins(1));
    // Busy at 5m (another 3-CPU pod: 100% cpu), idle again at 6m.
    w.pods[1].push(0);
    w.nodes[1].add_pod(&w.specs[0]);
    w.scan(mins(5));
    assert_eq!(w.ca.unneeded_since(idle), None);
    w.pods[1].pop();
    w.nodes[1].remove_pod(&w.specs[0]);
    w.scan(mins(6));
    assert_eq!(w.ca.unneeded_since(idle), Some(mins(6)));
    assert!(scale_downs(&w.scan(mins(12))).is_empty());
}

#[test]
fn thresholds_decide_eligibility_per_pool() {
    // Nodes of 4 CPU / 16 GiB; service 0: 2.8 CPU (70%) / 4 GiB (25%);
    // service 1: 2 CPU (50%) / 12 GiB (75%); service 2: 2 CPU (50%) / 11 GiB (68.75%).
    let specs = vec![pod(2_800, 4), pod(2_000, 12), pod(2_000, 11)];
    let cases: [(Option<f64>, Option<f64>, usize, bool); 7] = [
        // Reference thresholds 70 / 75: 70% cpu is not below 70%.
        (Some(70.0), Some(75.0), 0, false),
        // 50% cpu, 75% memory: memory not below 75%.
        (Some(70.0), Some(75.0), 1, false),
        (Some(70.0), Some(75.0), 2, true),
        // Global 0.5 for both: 50% cpu is not below 50%.
        (None, None, 2, false),
        // cpu 80% set, memory from the global 0.5: 68.75% memory is not below 50%.
        (Some(80.0), None, 0, true),
        (Some(80.0), None, 2, false),
        // memory 80% set, cpu from the global 0.5: 70% cpu is not below 50%.
        (None, Some(80.0), 0, false),
    ];
    for (cpu, memory, service, removable) in cases {
        let mut w = with_fixed_pool(specs.clone());
        if let Some(a) = w.pools[0].autoscaling.as_mut() {
            a.cpu_threshold_percent = cpu;
            a.memory_threshold_percent = memory;
        }
        w.add_node(1, &[]); // where the pod can go
        let node = w.add_node(0, &[service]);
        w.scan(mins(1));
        assert_eq!(
            w.ca.unneeded_since(node).is_some(),
            removable,
            "thresholds {cpu:?}/{memory:?}, service {service}"
        );
    }
}

/// Autoscaled pools of 8-CPU / 32-GiB nodes with 1 and 2 `nvidia.com/gpu` (index 1 of the
/// scenario's extended resources), and a fixed pool of 2-GPU nodes, only a destination.
/// Service 0: 500m CPU, 1 GiB, one GPU; service 1: 6 CPU (75%), 1 GiB, no GPU.
fn gpu_world(gpu_threshold: f64) -> World {
    let names: ExtendedNames = vec!["example.com/fpga".into(), "nvidia.com/gpu".into()].into();
    let gpu_pool = |name, gpus| {
        let mut p = pool(name, 8, 32, 0, 10);
        p.allocatable.extended.0[1] = gpus;
        p.machine.capacity = p.allocatable;
        p
    };
    let mut fixed = gpu_pool("fixed", 2);
    fixed.autoscaling = None;
    let mut gpu_pod = pod(500, 1);
    gpu_pod.requests.extended.0[1] = 1;
    let mut cpu_pod = pod(6_000, 1);
    for s in [&mut gpu_pod, &mut cpu_pod] {
        s.extended_names = names.clone();
    }
    let mut ca = spec(vec![Expander::LeastWaste], 0);
    ca.scale_down_gpu_utilization_threshold = gpu_threshold;
    let pools = vec![gpu_pool("gpu1", 1), gpu_pool("gpu2", 2), fixed];
    World::new(ca, pools, vec![gpu_pod, cpu_pod])
}

#[test]
fn a_gpu_node_is_judged_by_its_gpus_alone() {
    // a: the GPU pod on a 1-GPU node, 6% of its CPU: 100% of its GPU, so needed, though its
    // pod would fit on b. b: the 6-CPU pod (75% of its CPU) and no GPU requested: unneeded,
    // its pod fits on a.
    let mut w = gpu_world(0.5);
    let a = w.add_node(0, &[0]);
    let b = w.add_node(0, &[1]);
    w.scan(mins(1));
    assert_eq!(w.ca.unneeded_since(a), None);
    assert_eq!(w.ca.unneeded_since(b), Some(mins(1)));
    let actions = w.scan(mins(11) + SimDuration(1));
    assert_eq!(scale_downs(&actions), [b]);
    match &actions[0] {
        CaAction::ScaleDown { reason, .. } => assert!(
            reason.contains("nvidia.com/gpu 0.0% of allocatable requested (GPU threshold 50.0%")
                && !reason.contains("cpu 75"),
            "{reason}"
        ),
        other => panic!("expected a scale-down, got {other:?}"),
    }
}

#[test]
fn a_half_used_gpu_node_goes_at_or_below_the_gpu_threshold() {
    // One 1-GPU pod on a 2-GPU node: 50% of its GPUs; its pod fits on the fixed pool's node.
    let cases = [
        // (--scale-down-gpu-utilization-threshold, the pool's gpu_threshold %, unneeded)
        (0.4, None, false),
        (0.5, None, true),
        (0.6, None, true),
        (0.5, Some(40.0), false),
        (0.4, Some(50.0), true),
    ];
    for (global, percent, unneeded) in cases {
        let mut w = gpu_world(global);
        if let Some(a) = w.pools[1].autoscaling.as_mut() {
            a.gpu_threshold_percent = percent;
        }
        let node = w.add_node(1, &[0]);
        w.add_node(2, &[]);
        w.scan(mins(1));
        assert_eq!(
            w.ca.unneeded_since(node).is_some(),
            unneeded,
            "threshold {global}, pool {percent:?}"
        );
    }
}

#[test]
fn a_node_whose_pods_fit_nowhere_else_stays() {
    // a and b each run one 1-CPU pod (25%). a comes first: its pod fits on b, so a is
    // removable and stops being a destination; b's pod could only go to a: b stays.
    let mut w = one_pool();
    let a = w.add_node(0, &[1]);
    let b = w.add_node(0, &[1]);
    w.scan(mins(1));
    assert_eq!(w.ca.unneeded_since(a), Some(mins(1)));
    assert_eq!(w.ca.unneeded_since(b), None);

    // A 1.5-CPU pod (37.5%) next to a node with 1 CPU free fits nowhere: the node is not
    // unneeded, and is not rechecked for 5 minutes even when room appears.
    let mut w = with_fixed_pool(vec![pod(3_000, 1), pod(1_500, 1)]);
    w.add_node(0, &[0]);
    let lone = w.add_node(0, &[1]);
    w.scan(mins(1));
    assert_eq!(w.ca.unneeded_since(lone), None);
    w.add_node(1, &[]); // room appears, on a node that is not a candidate itself
    w.scan(mins(2));
    assert_eq!(w.ca.unneeded_since(lone), None, "left out until 6m");
    w.scan(SimTime(mins(6).0 - 1));
    assert_eq!(w.ca.unneeded_since(lone), None, "until 1m + 5m");
    w.scan(mins(6));
    assert_eq!(w.ca.unneeded_since(lone), Some(mins(6)));
}

#[test]
fn min_size_counts_deletions_in_progress() {
    let mut w = one_pool(); // min 1
    let ids: Vec<NodeId> = (0..3).map(|_| w.add_node(0, &[])).collect();
    w.scan(mins(1));
    // All three empty and unneeded; at 12m two may go (3 - 2 = 1 = min), empty in bulk.
    let a = w.scan(mins(12));
    assert_eq!(scale_downs(&a), [ids[0], ids[1]]);
    // Still registered (being drained) at the next scan: nothing more goes.
    assert!(scale_downs(&w.scan(mins(13))).is_empty());
}

#[test]
fn empty_nodes_go_in_bulk_and_drains_one_at_a_time() {
    let mut w = World::new(
        spec(vec![Expander::LeastWaste], 0),
        vec![pool("p", 4, 16, 0, 30)],
        vec![pod(3_000, 1), pod(1_000, 1)],
    );
    w.add_node(0, &[0]); // needed (75%), destination for 1-CPU pods
    w.add_node(0, &[0]);
    let busy: Vec<NodeId> = (0..3).map(|_| w.add_node(0, &[1])).collect();
    let empty: Vec<NodeId> = (0..12).map(|_| w.add_node(0, &[])).collect();
    w.scan(mins(1));
    let a = scale_downs(&w.scan(mins(12)));
    // Ten deletions in flight at most: ten empty nodes, no drain.
    assert_eq!(a, empty[..10]);
    // Next scan: the ten are still being deleted.
    assert!(scale_downs(&w.scan(mins(13))).is_empty());
    // Once they are gone: the last two empty nodes and one drain.
    w.remove(&a);
    let a = scale_downs(&w.scan(mins(14)));
    assert_eq!(a, [empty[10], empty[11], busy[0]]);
}

#[test]
fn scale_down_waits_after_add_delete_and_failure() {
    // Pool p holds a busy node and three empty ones; 8-CPU pods only fit pool "big". The
    // delay after delete is set to 10s (1.37's default is 0, which holds nothing).
    let mut with_delay = spec(vec![Expander::LeastWaste], 0);
    assert_eq!(with_delay.scale_down_delay_after_delete, SimDuration::ZERO);
    with_delay.scale_down_delay_after_delete = SimDuration::from_secs(10);
    let mut w = World::new(
        with_delay,
        vec![pool("p", 4, 16, 1, 10), pool("big", 16, 64, 0, 10)],
        vec![pod(3_000, 1), pod(8_000, 1)],
    );
    w.add_node(0, &[0]);
    let idle: Vec<NodeId> = (0..3).map(|_| w.add_node(0, &[])).collect();
    // Start: held by the delay after add until 10m (the clocks start at zero).
    assert!(w.ca.scale_down_in_cooldown(mins(9)));
    w.scan(mins(1));
    // A scale-up at 15m holds deletions until 25m.
    w.pending = vec![1];
    let a = w.scan(mins(15));
    assert_eq!(scale_ups(&a), [(1, 1)]);
    assert!(scale_downs(&a).is_empty());
    w.pending.clear();
    assert!(w.ca.scale_down_in_cooldown(mins(24)));
    assert!(scale_downs(&w.scan(mins(24))).is_empty());
    let a = w.scan(mins(25));
    assert_eq!(scale_downs(&a), idle, "all three: 4 nodes, min 1");
    // A deletion holds the next for the delay after delete (10s).
    assert!(w.ca.scale_down_in_cooldown(mins(25) + SimDuration::from_secs(9)));
    assert!(
        !w.ca
            .scale_down_in_cooldown(mins(25) + SimDuration::from_secs(10))
    );
    // A failure holds scale-down for 3m.
    w.ca.note_scale_down_failure(idle[0], mins(30));
    assert!(w.ca.scale_down_in_cooldown(mins(32)));
    assert!(!w.ca.scale_down_in_cooldown(mins(33)));
}

#[test]
fn pending_pods_expected_on_a_node_keep_it() {
    // An empty node with room for a pending pod the scheduler has not bound yet: the pod is
    // expected there, so the node is neither empty nor underutilized (75% cpu).
    let mut w = one_pool();
    w.add_node(0, &[0]);
    let spare = w.add_node(0, &[]);
    w.pending = vec![0];
    let a = w.scan(mins(1));
    assert!(scale_ups(&a).is_empty(), "the pod fits on the spare node");
    assert_eq!(w.ca.unneeded_since(spare), None);
    w.pending.clear();
    w.scan(mins(2));
    assert_eq!(w.ca.unneeded_since(spare), Some(mins(2)));
}

#[test]
fn provisioning_timeouts_back_off_the_pool_doubling_to_thirty_minutes() {
    // Two pools; the cheaper one never delivers. Price picks it whenever it is not backed off.
    let mut cheap = pool("cheap", 4, 16, 0, 10);
    cheap.price_usd_per_hour = 0.1;
    let mut w = World::new(
        spec(vec![Expander::Price], 0),
        vec![cheap, pool("dear", 4, 16, 0, 10)],
        vec![pod(3_000, 1)],
    );
    w.add_node(1, &[0]);
    w.pending = vec![0];
    let mut t = mins(1);
    let mut backoffs = Vec::new();
    for _ in 0..5 {
        // Scale up the cheap pool, then wait for it to time out.
        let a = w.scan(t);
        assert_eq!(scale_ups(&a), [(0, 1)], "at {t}");
        w.apply(&a, t);
        t += SimDuration::from_secs(15 * 60 + 10);
        let a = w.scan(t);
        let cancel = a.iter().find_map(|x| match x {
            CaAction::CancelUpcoming {
                pool,
                count,
                reason,
            } => Some((*pool, *count, reason.clone())),
            _ => None,
        });
        let (pool, count, reason) = cancel.expect("the timed-out node is given up");
        assert_eq!((pool, count), (0, 1));
        assert!(reason.contains("timed out after 15m10s"), "{reason}");
        // Meanwhile the dear pool is asked instead (the cheap one is backed off).
        assert_eq!(scale_ups(&a), [(1, 1)]);
        w.apply(&a, t);
        w.upcoming[1].clear();
        backoffs.push(w.ca.backoff().duration(0).expect("backed off"));
        t = w.ca.backoff().until(0).expect("backed off") + SimDuration(1);
    }
    let minutes: Vec<u64> = backoffs
        .iter()
        .map(|d| d.as_micros() / 60_000_000)
        .collect();
    assert_eq!(minutes, [5, 10, 20, 30, 30]);
}

#[test]
fn a_delivered_scale_up_resets_the_backoff() {
    let mut w = one_pool();
    w.add_node(0, &[0]);
    w.pending = vec![0];
    let a = w.scan(mins(1));
    w.apply(&a, mins(1));
    let a = w.scan(mins(17));
    assert!(
        a.iter()
            .any(|x| matches!(x, CaAction::CancelUpcoming { .. }))
    );
    w.apply(&a, mins(17));
    assert_eq!(w.ca.backoff().until(0), Some(mins(22)));
    // After the backoff the pool is asked again and this time delivers.
    let a = w.scan(mins(23));
    assert_eq!(scale_ups(&a), [(0, 1)]);
    w.apply(&a, mins(23));
    w.register(0);
    w.scan(mins(24));
    assert_eq!(w.ca.backoff().until(0), None);
}

#[test]
fn disruption_budgets_hold_nodes_back_and_order_the_drains() {
    // Half-CPU pods of service 0 (under a budget) and 1 (none); the fixed 16-CPU node takes
    // whatever moves.
    let world = || {
        let mut w = with_fixed_pool(vec![pod(500, 1), pod(500, 1)]);
        w.add_node(1, &[]);
        w
    };

    // A budget with nothing left keeps every node with one of its pods; empty ones still go.
    let mut w = world();
    let a = w.add_node(0, &[0]);
    let empty = w.add_node(0, &[]);
    w.disruptions_allowed[0] = Some(0);
    w.scan(mins(1));
    assert_eq!(w.ca.unneeded_since(a), None);
    assert_eq!(w.ca.unneeded_since(empty), Some(mins(1)));

    // One disruption allowed: the first node found removable uses it up, the next is held.
    let mut w = world();
    let a = w.add_node(0, &[0]);
    let b = w.add_node(0, &[0]);
    w.disruptions_allowed[0] = Some(1);
    w.scan(mins(1));
    assert_eq!(w.ca.unneeded_since(a), Some(mins(1)));
    assert_eq!(w.ca.unneeded_since(b), None);
    // The budget's room returns (a's pod replaced), but b waits out its recheck timeout.
    w.disruptions_allowed[0] = Some(2);
    w.scan(mins(2));
    assert_eq!(w.ca.unneeded_since(b), None);
    w.scan(mins(6));
    assert_eq!(w.ca.unneeded_since(b), Some(mins(6)));

    // A node with two pods of a budget allowing one is removable but risky: with one drain
    // at a time, the node without budgeted pods goes first although it was found later.
    let mut w = world();
    let risky = w.add_node(0, &[0, 0]);
    let plain = w.add_node(0, &[1]);
    w.disruptions_allowed[0] = Some(1);
    w.scan(mins(1));
    assert_eq!(w.ca.unneeded_since(risky), Some(mins(1)));
    assert_eq!(w.ca.unneeded_since(plain), Some(mins(1)));
    assert_eq!(scale_downs(&w.scan(mins(12))), [plain]);
}
