//! The `least-waste` expander: cluster-autoscaler's `expander/waste/waste.go`.
//!
//! Use `least_waste` as a filter: it keeps the options whose new nodes would leave the smallest
//! fraction of CPU and memory unrequested. Waste is measured against the nodes' *capacity*
//! (`node.Status.Capacity`, not allocatable), over all the option's new nodes:
//! `(cpu capacity × n − Σ pod cpu) / (cpu capacity × n) + (memory capacity × n − Σ pod memory) /
//! (memory capacity × n)`. It does not pick among the options it keeps.

use crate::controllers::cluster_autoscaler::expander::{ExpansionOption, Filtered};

/// The option's waste score: the CPU fraction plus the memory fraction its new nodes would leave
/// unrequested (0 = nothing wasted, 2 = everything). As in upstream's float arithmetic, a zero
/// capacity gives −∞ when the pods request some of it and not-a-number when they request none.
pub fn waste_score(option: &ExpansionOption<'_>) -> f64 {
    let n = i128::from(option.node_count);
    let (cpu, memory) = option.pod_requests.iter().fold((0i128, 0i128), |acc, r| {
        (acc.0 + i128::from(r.cpu.0), acc.1 + i128::from(r.memory.0))
    });
    let avail_cpu = i128::from(option.node_capacity.cpu.0) * n;
    let avail_memory = i128::from(option.node_capacity.memory.0) * n;
    let wasted_cpu = (avail_cpu - cpu) as f64 / avail_cpu as f64;
    let wasted_memory = (avail_memory - memory) as f64 / avail_memory as f64;
    wasted_cpu + wasted_memory
}

/// Keeps the `candidates` (indices into `options`) with the lowest waste score, in their order.
///
/// Ported line for line, including how upstream starts: the running minimum begins at 0, and an
/// option equal to it is appended before the "first or lower" test, so a first option scoring
/// exactly 0 is kept once. Options scoring not-a-number never replace a kept one.
pub fn least_waste(options: &[ExpansionOption<'_>], candidates: &[usize]) -> Filtered {
    let mut least = 0.0f64;
    let mut kept: Option<Vec<usize>> = None;
    let mut scores = Vec::with_capacity(candidates.len());
    for &i in candidates {
        let score = waste_score(&options[i]);
        scores.push(format!("{} {score:.4}", options[i].pool_name));
        if score == least {
            kept.get_or_insert_with(Vec::new).push(i);
        }
        if kept.is_none() || score < least {
            least = score;
            kept = Some(vec![i]);
        }
    }
    Filtered {
        kept: kept.unwrap_or_default(),
        note: format!(
            "least-waste (cpu+memory fraction unrequested) {}",
            scores.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{Bytes, Resources};

    const MIB: u64 = Bytes::MIB;

    fn option<'a>(
        name: &'a str,
        count: u32,
        cpu: u64,
        memory: u64,
        pods: usize,
    ) -> ExpansionOption<'a> {
        ExpansionOption {
            pool: 0,
            pool_name: name,
            group_of: name,
            node_count: count,
            node_capacity: Resources::new(cpu, memory),
            node_price_usd_per_hour: 1.0,
            pod_requests: vec![Resources::new(500, 1000 * MIB); pods],
        }
    }

    #[test]
    fn waste_is_measured_over_all_new_nodes() {
        // One pod of 500m / 1000Mi on one 8-CPU / 16000Mi node:
        // (8000-500)/8000 + (16000-1000)/16000 = 0.9375 + 0.9375 = 1.875.
        assert_eq!(waste_score(&option("b", 1, 8_000, 16_000 * MIB, 1)), 1.875);
        // Two nodes, four pods: (16000-2000)/16000 + (32000-4000)/32000 = 0.875 + 0.875.
        assert_eq!(waste_score(&option("b", 2, 8_000, 16_000 * MIB, 4)), 1.75);
        // Zero capacity gives -inf (-500/0 + 0.9375), not a panic.
        assert_eq!(
            waste_score(&option("z", 1, 0, 16_000 * MIB, 1)),
            f64::NEG_INFINITY
        );
        assert!(waste_score(&option("z", 1, 0, 16_000 * MIB, 0)).is_nan());
    }

    #[test]
    fn lowest_waste_wins_and_ties_are_kept() {
        // upstream TestLeastWaste: balanced 1.875, highmem 0.9375 + 31/32 = 1.90625,
        // lowcpu (4000-500)/4000 + 0.9375 = 0.875 + 0.9375 = 1.8125.
        let options = [
            option("balanced", 1, 8_000, 16_000 * MIB, 1),
            option("highmem", 1, 8_000, 32_000 * MIB, 1),
            option("lowcpu", 1, 4_000, 16_000 * MIB, 1),
            option("balanced-too", 1, 8_000, 16_000 * MIB, 1),
        ];
        assert_eq!(least_waste(&options, &[0, 1, 2, 3]).kept, [2]);
        assert_eq!(least_waste(&options, &[0, 1, 3]).kept, [0, 3]);
        assert_eq!(least_waste(&options, &[1]).kept, [1]);
        assert!(least_waste(&options, &[]).kept.is_empty());
        let note = least_waste(&options, &[0, 2]).note;
        assert!(note.contains("balanced 1.8750, lowcpu 1.8125"), "{note}");
    }

    #[test]
    fn a_first_option_wasting_nothing_is_kept_once() {
        // 16 pods of 500m/1000Mi fill an 8000m / 16000Mi node exactly: score 0.
        let options = [
            option("full", 1, 8_000, 16_000 * MIB, 16),
            option("b", 1, 8_000, 16_000 * MIB, 1),
        ];
        assert_eq!(least_waste(&options, &[0, 1]).kept, [0]);
    }
}
