//! How a node's CPU is divided among its pods when they want more than it has, as the Linux
//! CFS scheduler divides it under the cgroups the kubelet sets up.
//!
//! Use `share` with each pod's `CpuClaim` (what it wants, already capped at its CFS quota, and
//! its QoS class and `cpu.shares`). The kubelet puts every Guaranteed pod directly under
//! `kubepods`, with `cpu.shares` from its request, and the Burstable and BestEffort pods under one
//! cgroup each, whose shares are the sum of their pods' (Burstable) or the minimum, 2
//! (BestEffort). CFS gives every runnable cgroup CPU in proportion to its shares, and what a
//! cgroup does not use goes to its runnable siblings, in the same proportions: weighted
//! max-min fairness, level by level. A pod is therefore guaranteed its request whenever the
//! pods' requests fit the node, which the scheduler ensures.
//!
//! This is the fluid limit of CFS (no 100 ms quota periods, no scheduling latency); the
//! README lists it among the simplifications. Plain functions of what they are given.

/// Kubernetes' `MinShares`: the `cpu.shares` of a pod without a CPU request.
pub const MIN_SHARES: u64 = 2;
/// Kubernetes' `MaxShares`.
pub const MAX_SHARES: u64 = 262_144;

/// The `cpu.shares` the kubelet gives a CPU request (`MilliCPUToShares`): 1,024 per core,
/// at least `MIN_SHARES`.
pub fn shares_for_request(request_millicores: u64) -> u64 {
    (request_millicores.saturating_mul(1024) / 1000).clamp(MIN_SHARES, MAX_SHARES)
}

/// A pod's Quality of Service class, which decides its place in the kubelet's cgroup tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QosClass {
    /// Requests equal limits for CPU and memory: directly under `kubepods`.
    Guaranteed,
    /// Some request or limit, not Guaranteed: under `kubepods/burstable`.
    Burstable,
    /// No request and no limit: under `kubepods/besteffort`, with the minimum shares.
    BestEffort,
}

/// One pod's claim on its node's CPU.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuClaim {
    /// CPU the pod's busy workers would use, capped at its limit (CFS quota), in millicores.
    pub demand_millicores: f64,
    /// The pod's `cpu.shares` (`shares_for_request` of its request).
    pub shares: u64,
    /// Its QoS class.
    pub qos: QosClass,
}

/// Scratch space for `share`, kept by the caller so that dividing allocates nothing once it
/// has seen its largest node.
#[derive(Debug, Clone, Default)]
pub struct ShareScratch {
    entries: Vec<(f64, f64)>,
    alloc: Vec<f64>,
    /// Entries to divide among, each with its demand per unit of weight.
    order: Vec<(f64, usize)>,
}

/// Divides `capacity_millicores` among `claims` as CFS does under the kubelet's cgroups,
/// writing each pod's CPU into `out` (same order). When the demands fit, every pod gets its
/// demand; otherwise the node is fully used and no pod gets more than its demand.
///
/// # Panics
/// If `out` is shorter than `claims`.
pub fn share(
    capacity_millicores: f64,
    claims: &[CpuClaim],
    out: &mut [f64],
    scratch: &mut ShareScratch,
) {
    let total: f64 = claims.iter().map(|c| c.demand_millicores).sum();
    if total <= capacity_millicores {
        for (o, c) in out.iter_mut().zip(claims) {
            *o = c.demand_millicores;
        }
        return;
    }
    let n = claims.len();
    let ShareScratch {
        entries,
        alloc,
        order,
    } = scratch;
    if let Some(first) = claims.first()
        && first.qos != QosClass::Guaranteed
        && claims.iter().all(|c| c.qos == first.qos)
    {
        // One QoS cgroup holds every pod and, being short, gets the whole node: a single
        // division by the pods' shares.
        entries.clear();
        entries.extend(
            claims
                .iter()
                .map(|c| (c.demand_millicores, c.shares as f64)),
        );
        water_fill(capacity_millicores, entries, out, order);
        return;
    }
    // Top level: each Guaranteed pod, then the Burstable and the BestEffort cgroup.
    entries.clear();
    let (mut burstable_demand, mut burstable_shares, mut best_effort_demand) = (0.0, 0, 0.0);
    for c in claims {
        match c.qos {
            QosClass::Guaranteed => {
                entries.push((c.demand_millicores, c.shares as f64));
                continue;
            }
            QosClass::Burstable => {
                burstable_demand += c.demand_millicores;
                burstable_shares += c.shares;
            }
            QosClass::BestEffort => best_effort_demand += c.demand_millicores,
        }
        entries.push((0.0, 0.0));
    }
    entries.push((burstable_demand, burstable_shares.max(MIN_SHARES) as f64));
    entries.push((best_effort_demand, MIN_SHARES as f64));
    alloc.resize(n + 2, 0.0);
    water_fill(capacity_millicores, entries, alloc, order);
    let group_cpu = [
        (QosClass::Burstable, alloc[n]),
        (QosClass::BestEffort, alloc[n + 1]),
    ];
    for (i, c) in claims.iter().enumerate() {
        if c.qos == QosClass::Guaranteed {
            out[i] = alloc[i];
        }
    }
    // Inside each QoS cgroup: its pods by their shares.
    for (qos, cpu) in group_cpu {
        entries.clear();
        entries.extend(claims.iter().map(|c| {
            if c.qos == qos {
                (c.demand_millicores, c.shares as f64)
            } else {
                (0.0, 0.0)
            }
        }));
        water_fill(cpu, entries, &mut alloc[..n], order);
        for (i, c) in claims.iter().enumerate() {
            if c.qos == qos {
                out[i] = alloc[i];
            }
        }
    }
}

/// Weighted max-min fair division of `capacity` among `(demand, weight)` entries: entries
/// whose demand is below their weighted fair level get their demand, the rest share what is
/// left in proportion to their weights. Entries of weight 0 get nothing.
fn water_fill(
    capacity: f64,
    entries: &[(f64, f64)],
    out: &mut [f64],
    order: &mut Vec<(f64, usize)>,
) {
    order.clear();
    order.extend(
        (entries.iter().enumerate())
            .filter(|(_, (demand, w))| *w > 0.0 && *demand > 0.0)
            .map(|(i, &(demand, w))| (demand / w, i)),
    );
    for o in out.iter_mut() {
        *o = 0.0;
    }
    // Ascending demand per unit of weight: those below the level are satisfied first.
    order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut left = capacity;
    let mut weight: f64 = order.iter().map(|&(_, i)| entries[i].1).sum();
    for (k, &(_, i)) in order.iter().enumerate() {
        let (demand, w) = entries[i];
        let level = left / weight;
        if demand <= level * w {
            out[i] = demand;
            left -= demand;
            weight -= w;
        } else {
            for &(_, j) in &order[k..] {
                out[j] = level * entries[j].1;
            }
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(demand: f64, request: u64, qos: QosClass) -> CpuClaim {
        CpuClaim {
            demand_millicores: demand,
            shares: shares_for_request(request),
            qos,
        }
    }

    fn shared(capacity: f64, claims: &[CpuClaim]) -> Vec<f64> {
        let mut out = vec![f64::NAN; claims.len()];
        share(capacity, claims, &mut out, &mut ShareScratch::default());
        out
    }

    #[test]
    fn shares_follow_the_kubelet() {
        assert_eq!(shares_for_request(0), 2);
        assert_eq!(shares_for_request(1), 2);
        assert_eq!(shares_for_request(1000), 1024);
        assert_eq!(shares_for_request(250), 256);
        assert_eq!(shares_for_request(u64::MAX), MAX_SHARES);
    }

    #[test]
    fn demands_that_fit_are_met() {
        let claims = [
            claim(500.0, 1000, QosClass::Burstable),
            claim(3000.0, 1000, QosClass::Burstable),
        ];
        assert_eq!(shared(4000.0, &claims), vec![500.0, 3000.0]);
    }

    #[test]
    fn saturated_pods_share_in_proportion_to_requests() {
        for qos in [QosClass::Burstable, QosClass::Guaranteed] {
            let claims = [claim(8000.0, 1000, qos), claim(8000.0, 3000, qos)];
            let out = shared(4000.0, &claims);
            assert!((out[0] - 1000.0).abs() < 1e-9, "{qos:?}: {out:?}");
            assert!((out[1] - 3000.0).abs() < 1e-9, "{qos:?}: {out:?}");
        }
    }

    #[test]
    fn idle_cpu_goes_to_the_pods_that_want_it() {
        // A pod wanting less than its request leaves the rest to the other, up to its demand.
        let claims = [
            claim(200.0, 2000, QosClass::Burstable),
            claim(7000.0, 1000, QosClass::Burstable),
        ];
        let out = shared(6000.0, &claims);
        assert_eq!(out[0], 200.0);
        assert!((out[1] - 5800.0).abs() < 1e-9, "{out:?}");
    }

    #[test]
    fn a_pod_is_guaranteed_its_request() {
        // Requests fit the node; a busy neighbour without a limit cannot take a request away.
        let claims = [
            claim(1500.0, 1500, QosClass::Guaranteed),
            claim(16_000.0, 500, QosClass::Burstable),
            claim(16_000.0, 0, QosClass::BestEffort),
        ];
        let out = shared(4000.0, &claims);
        assert!((out[0] - 1500.0).abs() < 1e-9, "{out:?}");
        assert!(out[1] >= 500.0, "{out:?}");
        let total: f64 = out.iter().sum();
        assert!((total - 4000.0).abs() < 1e-6, "{out:?}");
    }

    #[test]
    fn best_effort_gets_only_what_nobody_else_wants() {
        let claims = [
            claim(8000.0, 1000, QosClass::Burstable),
            claim(4000.0, 0, QosClass::BestEffort),
        ];
        let out = shared(4000.0, &claims);
        // Shares 1024 against 2: the BestEffort cgroup gets 2/1026 of the node, no more.
        assert!((out[1] - 4000.0 * 2.0 / 1026.0).abs() < 1e-6, "{out:?}");
        assert!((out[0] + out[1] - 4000.0).abs() < 1e-6);
    }

    #[test]
    fn idle_burstable_shares_stay_in_the_burstable_group() {
        // The kubelet weights the Burstable cgroup by all its pods' requests, so a Burstable pod
        // gets more against a Guaranteed one than its own request when its siblings idle.
        let claims = [
            claim(8000.0, 2000, QosClass::Guaranteed),
            claim(8000.0, 1000, QosClass::Burstable),
            claim(0.0, 1000, QosClass::Burstable),
        ];
        let out = shared(4000.0, &claims);
        assert!((out[0] - 2000.0).abs() < 1e-9, "{out:?}");
        assert!((out[1] - 2000.0).abs() < 1e-9, "{out:?}");
        assert_eq!(out[2], 0.0);
    }

    #[test]
    fn contended_nodes_are_fully_used_and_nobody_gets_more_than_it_wants() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut scratch = ShareScratch::default();
        for _ in 0..2_000 {
            let n = 1 + (next() % 12) as usize;
            let claims: Vec<CpuClaim> = (0..n)
                .map(|_| {
                    let qos = match next() % 3 {
                        0 => QosClass::Guaranteed,
                        1 => QosClass::Burstable,
                        _ => QosClass::BestEffort,
                    };
                    claim((next() % 6000) as f64, next() % 2000, qos)
                })
                .collect();
            let capacity = (next() % 16_000) as f64;
            let mut out = vec![0.0; n];
            share(capacity, &claims, &mut out, &mut scratch);
            let demand: f64 = claims.iter().map(|c| c.demand_millicores).sum();
            let total: f64 = out.iter().sum();
            assert!(
                (total - demand.min(capacity)).abs() < 1e-6 * capacity.max(1.0),
                "{claims:?} on {capacity}: {out:?}"
            );
            for (o, c) in out.iter().zip(&claims) {
                assert!(*o >= 0.0 && *o <= c.demand_millicores + 1e-9, "{c:?}: {o}");
            }
        }
    }
}
