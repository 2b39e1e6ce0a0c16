//! Whole-scan tests of what a zone outage shows the Cluster Autoscaler: VMs whose creation
//! failed, unready nodes in a node group, and an unhealthy cluster.

use super::*;
use crate::cluster::pool::UNREACHABLE_TAINT_KEY;
use crate::controllers::cluster_autoscaler::spec::Expander;
use crate::controllers::cluster_autoscaler::testing::{World, pod, pool, scale_ups, secs, spec};

/// Two pools of 4-CPU / 16-GiB nodes (0..=10), "a" cheaper than "b" so that the price
/// expander picks "a" first; services ask 3 CPU and 1 CPU.
fn two_zones() -> World {
    let (mut a, mut b) = (pool("a", 4, 16, 0, 10), pool("b", 4, 16, 0, 10));
    a.price_usd_per_hour = 0.10;
    b.price_usd_per_hour = 0.20;
    World::new(
        spec(vec![Expander::Price], 0),
        vec![a, b],
        vec![pod(3_000, 1), pod(1_000, 1)],
    )
}

/// Makes node `i` of the world unreachable, as the node lifecycle controller does.
fn unreachable(w: &mut World, i: usize) {
    w.nodes[i].taints.push(Taint {
        key: UNREACHABLE_TAINT_KEY.to_string(),
        value: String::new(),
        effect: TaintEffect::NoExecute,
    });
}

#[test]
fn failed_creations_are_deleted_and_back_the_pool_off() {
    let mut w = two_zones();
    w.pending = vec![0];
    let a = w.scan(secs(10));
    assert_eq!(scale_ups(&a), [(0, 1)], "the cheaper pool first");
    w.apply(&a, secs(10));
    // The VM's creation fails (its zone is out).
    w.upcoming[0].clear();
    w.creation_errors[0] = 1;
    let a = w.scan(secs(20));
    let deleted = a.iter().find_map(|x| match x {
        CaAction::DeleteFailedCreations {
            pool,
            count,
            reason,
        } => Some((*pool, *count, reason.clone())),
        _ => None,
    });
    let (pool, count, reason) = deleted.expect("the failed VM is deleted");
    assert_eq!((pool, count), (0, 1));
    assert!(reason.contains("backed off for 5m"), "{reason}");
    assert_eq!(w.ca.backoff().until(0), Some(secs(20 + 300)));
    assert_eq!(
        scale_ups(&a),
        [(1, 1)],
        "the pod goes to the other pool at once"
    );
    w.apply(&a, secs(20));
    assert_eq!(w.creation_errors[0], 0);
    // A second failure while backed off: upstream restarts from the initial backoff.
    w.upcoming[1].clear();
    w.creation_errors[1] = 1;
    let a = w.scan(secs(30));
    assert_eq!(w.ca.backoff().until(1), Some(secs(30 + 300)));
    assert!(scale_ups(&a).is_empty(), "both pools are backed off");
}

#[test]
fn a_failed_creation_outside_a_scale_up_is_deleted_without_backoff() {
    let mut w = two_zones();
    w.creation_errors[1] = 2;
    let a = w.scan(secs(10));
    assert!(a.contains(&CaAction::DeleteFailedCreations {
        pool: 1,
        count: 2,
        reason: "the creation of 2 VM(s) failed; no scale-up of the pool was in flight".into(),
    }));
    assert_eq!(w.ca.backoff().until(1), None);
}

#[test]
fn a_group_with_too_many_unready_nodes_is_not_grown() {
    let mut w = two_zones();
    for _ in 0..4 {
        w.add_node(0, &[]);
    }
    w.add_node(1, &[0]);
    w.add_node(1, &[0]);
    w.add_node(1, &[0]);
    w.add_node(1, &[0]);
    w.add_node(1, &[0]);
    for i in 0..4 {
        unreachable(&mut w, i);
    }
    w.pending = vec![0];
    let a = w.scan(secs(10));
    assert_eq!(
        scale_ups(&a),
        [(1, 1)],
        "the cheaper pool's 4 nodes are all unready: only the other grows"
    );
}

#[test]
fn an_unhealthy_cluster_is_left_alone() {
    let mut w = two_zones();
    for _ in 0..5 {
        w.add_node(0, &[]);
    }
    for i in 0..4 {
        unreachable(&mut w, i);
    }
    w.pending = vec![0];
    w.creation_errors[1] = 1;
    // 4 of 5 nodes unready: no scale-up, no deletion of the failed VM, no scale-down of
    // the empty Ready node.
    let a = w.scan(secs(10));
    assert!(a.is_empty(), "{a:?}");
    let a = w.scan(secs(3600));
    assert!(a.is_empty(), "{a:?}");
    // One node back: 3 unready of 5 is within the allowance. The failed VM is deleted, and
    // the pod fits the empty Ready node: no scale-up.
    w.nodes[0].taints.clear();
    let a = w.scan(secs(3610));
    assert!(
        a.iter()
            .any(|x| matches!(x, CaAction::DeleteFailedCreations { pool: 1, .. }))
    );
    assert!(scale_ups(&a).is_empty(), "{a:?}");
}
