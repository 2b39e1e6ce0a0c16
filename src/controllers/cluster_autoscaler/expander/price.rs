//! The `price` expander: cluster-autoscaler's `expander/price/price.go` and `preferred.go`, with
//! the GCE pricing model's pod price.
//!
//! Use `price` as a filter: it keeps the options with the lowest
//! `unfitness' × (node price × n + p₀) / (Σ pod price + p₀)`, where
//! - the node price is the pool's `price_usd_per_hour` for one hour (upstream asks the cloud
//!   provider for the price of the node from now to an hour from now);
//! - a pod's price is what its requests would cost on a perfectly matching machine, GCE's
//!   `PodPrice`: 0.033174 USD per core-hour and 0.004446 USD per GiB-hour; p₀ is the price of
//!   the 500m / 500Mi "stabilization" pod, so that options helping few pods are not judged on
//!   noise;
//! - unfitness compares the node's CPU capacity with a preferred node size that doubles every
//!   time the cluster triples (`SimpleNodeUnfitness`, `SimplePreferredNodeProvider`):
//!   `max(preferred/cpu, cpu/preferred)`, suppressed for large scale-ups as
//!   `(unfitness − 1)(1 − tanh((n − 1)/15)) + 1`.
//!
//! Not modelled: the GPU unfitness override (no GPUs here) and the penalty for node groups that
//! do not exist yet (every pool exists).

use crate::controllers::cluster_autoscaler::expander::{
    ExpanderContext, ExpansionOption, Filtered,
};
use crate::units::{Bytes, Millicores, Resources};

/// GCE's `cpuPricePerHour`: USD per core-hour of a pod's CPU request.
pub const CPU_PRICE_PER_HOUR: f64 = 0.033174;

/// GCE's `memoryPricePerHourPerGb`: USD per GiB-hour of a pod's memory request.
pub const MEMORY_PRICE_PER_HOUR_PER_GIB: f64 = 0.004446;

/// The stabilization pod's requests (`priceStabilizationPod`): 500m CPU, 500Mi memory.
pub const STABILIZATION_POD: Resources = Resources::new(500, 500 * Bytes::MIB);

/// What a pod with `requests` costs per hour in GCE's pricing model (`PodPrice` for one hour).
pub fn pod_price_usd_per_hour(requests: Resources) -> f64 {
    requests.cpu.0 as f64 / 1000.0 * CPU_PRICE_PER_HOUR
        + requests.memory.0 as f64 / Bytes::GIB as f64 * MEMORY_PRICE_PER_HOUR_PER_GIB
}

/// The preferred node's CPU for a cluster of `node_count` registered nodes
/// (`SimplePreferredNodeProvider`): 1 core up to 2 nodes, 2 up to 6, 4 up to 20, 8 up to 60,
/// 16 up to 200, 32 above.
pub fn preferred_node_cpu(node_count: usize) -> Millicores {
    let cores = match node_count {
        0..=2 => 1,
        3..=6 => 2,
        7..=20 => 4,
        21..=60 => 8,
        61..=200 => 16,
        _ => 32,
    };
    Millicores::from_cores(cores)
}

/// `SimpleNodeUnfitness`: how far the node's CPU is from the preferred node's, as a ratio ≥ 1.
pub fn node_unfitness(preferred_cpu: Millicores, node_cpu: Millicores) -> f64 {
    let (preferred, node) = (preferred_cpu.0 as f64, node_cpu.0 as f64);
    (preferred / node).max(node / preferred)
}

/// The unfitness weighed down for scale-ups of many nodes:
/// `(unfitness − 1)(1 − tanh((n − 1)/15)) + 1`.
pub fn suppressed_unfitness(unfitness: f64, node_count: u32) -> f64 {
    (unfitness - 1.0) * (1.0 - ((f64::from(node_count) - 1.0) / 15.0).tanh()) + 1.0
}

/// The price score of an option (lower is better): `suppressed × (node_price × n + p₀) /
/// (pods_price + p₀)`, all prices for one hour.
pub fn price_score(
    node_price: f64,
    node_count: u32,
    pods_price: f64,
    stabilization_price: f64,
    suppressed_unfitness: f64,
) -> f64 {
    let total_node_price = node_price * f64::from(node_count);
    let price_sub_score =
        (total_node_price + stabilization_price) / (pods_price + stabilization_price);
    suppressed_unfitness * price_sub_score
}

/// Keeps the `candidates` (indices into `options`) with the lowest price score, in their order.
pub fn price(
    options: &[ExpansionOption<'_>],
    candidates: &[usize],
    ctx: &ExpanderContext<'_>,
) -> Filtered {
    let preferred = preferred_node_cpu(ctx.cluster_node_count);
    let stabilization = pod_price_usd_per_hour(STABILIZATION_POD);
    let mut best: Vec<usize> = Vec::new();
    let mut best_score = 0.0f64;
    let mut scores = Vec::with_capacity(candidates.len());
    for &i in candidates {
        let option = &options[i];
        let pods_price: f64 = option
            .pod_requests
            .iter()
            .map(|&r| pod_price_usd_per_hour(r))
            .sum();
        let unfitness = node_unfitness(preferred, option.node_capacity.cpu);
        let suppressed = suppressed_unfitness(unfitness, option.node_count);
        let score = price_score(
            option.node_price_usd_per_hour,
            option.node_count,
            pods_price,
            stabilization,
            suppressed,
        );
        scores.push(format!(
            "{} {score:.4} ({} × {:.4} USD/h for pods worth {:.4} USD/h, unfitness {suppressed:.3})",
            option.pool_name, option.node_count, option.node_price_usd_per_hour, pods_price
        ));
        if best.is_empty() || best_score > score {
            best = vec![i];
            best_score = score;
        } else if best_score == score {
            best.push(i);
        }
    }
    Filtered {
        kept: best,
        note: format!(
            "price (preferred node {} cores) {}",
            preferred.as_cores_f64(),
            scores.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn upstream_price_test_cases_by_hand() {
        // price_test.go TestPriceExpander: pods p1 + p2 cost 20 + 10, the stabilization pod 10.
        // ng1: 1000m nodes at 20 each, 2 nodes; ng2: 4000m nodes at 200, 1 node.
        let stab = 10.0;
        let ng1 = |preferred: u64, price: f64, n: u32| {
            let u = node_unfitness(Millicores(preferred), Millicores(1_000));
            price_score(price, n, 30.0, stab, suppressed_unfitness(u, n))
        };
        let ng2 = |preferred: u64, price: f64, n: u32| {
            let u = node_unfitness(Millicores(preferred), Millicores(4_000));
            price_score(price, n, 30.0, stab, suppressed_unfitness(u, n))
        };
        // Preferred 2000m. ng1: (20×2+10)/(30+10) = 1.25; unfitness 2 suppressed to
        // 1 + (1 − tanh(1/15)) = 1.933432; score 2.416790. ng2: (200+10)/40 = 5.25, unfitness 2,
        // n = 1 so not suppressed: 10.5. ng1 wins.
        assert!(close(
            ng1(2_000, 20.0, 2),
            1.25 * (2.0 - (1.0f64 / 15.0).tanh())
        ));
        assert!(close(ng2(2_000, 200.0, 1), 10.5));
        // ng1 at 50: (100+10)/40 = 2.75 × 1.933432 = 5.316938 with preferred 4000m: unfitness
        // 4 → 1 + 3 (1 − tanh(1/15)) = 3.800296, score 10.450815; ng2 fits the preferred size
        // exactly (unfitness 1): 5.25. The preferred node wins although ng1 is cheaper per pod.
        assert!(ng2(4_000, 200.0, 1) < ng1(4_000, 50.0, 2));
        // 80 vs 40 nodes with preferred 4000m: suppression makes ng1 win again:
        // ng1 (1600+10)/40 = 40.25 × (3 (1 − tanh(79/15)) + 1) ≈ 40.25 × 1.000159;
        // ng2 (8000+10)/40 = 200.25.
        assert!(ng1(4_000, 20.0, 80) < ng2(4_000, 200.0, 40));
    }

    #[test]
    fn pod_price_follows_gce_rates() {
        // 2 cores and 4 GiB: 2 × 0.033174 + 4 × 0.004446 = 0.066348 + 0.017784 = 0.084132.
        assert!(close(
            pod_price_usd_per_hour(Resources::new(2_000, 4 * Bytes::GIB)),
            0.084132
        ));
        // The stabilization pod: 0.5 × 0.033174 + (500/1024) × 0.004446 = 0.018758.
        let p0 = pod_price_usd_per_hour(STABILIZATION_POD);
        assert!(close(p0, 0.016587 + 500.0 / 1024.0 * 0.004446));
    }

    #[test]
    fn preferred_node_doubles_as_the_cluster_triples() {
        let cases = [
            (0, 1),
            (2, 1),
            (3, 2),
            (6, 2),
            (7, 4),
            (20, 4),
            (21, 8),
            (60, 8),
            (61, 16),
            (200, 16),
            (201, 32),
        ];
        for (nodes, cores) in cases {
            assert_eq!(
                preferred_node_cpu(nodes),
                Millicores::from_cores(cores),
                "{nodes} nodes"
            );
        }
        assert_eq!(node_unfitness(Millicores(2_000), Millicores(8_000)), 4.0);
        assert_eq!(node_unfitness(Millicores(8_000), Millicores(2_000)), 4.0);
        assert_eq!(suppressed_unfitness(4.0, 1), 4.0);
    }
}
