//! Expanders: how the Cluster Autoscaler picks one pool among those that could host pending
//! pods, as cluster-autoscaler's `expander/` package and its `--expander=a,b,…` chain do.
//!
//! Use `best_option` with the configured chain. Each expander is a *filter* that keeps the
//! options it likes best (ties included): `random` keeps one at random, `most-pods` those helping
//! the most pods, `least-waste` those leaving the least CPU and memory idle (`waste`), `price`
//! the cheapest per pod helped (`price`), `priority` those of the pools with the highest
//! user-given priority. The chain runs the filters in order and stops as soon as one option is
//! left; if several remain after the last filter, one is drawn at random
//! (`factory/chain.go`). Randomness comes only from the generator passed in.
//!
//! The `priority` expander matches the scenario's pool names exactly, every zone's node group
//! of a pool taking the pool's priority (upstream matches node group ids against
//! regular expressions) and, as upstream, starts its running maximum at −1, so pools whose
//! priority is below −1 are never preferred; when no option has a priority it filters nothing.

pub mod price;
pub mod waste;

use rand::{Rng, RngExt};

use crate::controllers::cluster_autoscaler::spec::Expander;
use crate::units::Resources;

/// One way to scale up: a pool, how many new nodes, and the pending pods they would take.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpansionOption<'a> {
    /// Index of the pool in `Scenario::node_pools`.
    pub pool: usize,
    /// Node group name, for the reasons given.
    pub pool_name: &'a str,
    /// The scenario's pool the node group was made from (`NodePool::group_of`: the same name
    /// unless the pool spans zones), which the priority expander's names match.
    pub group_of: &'a str,
    /// New nodes the estimator asks for.
    pub node_count: u32,
    /// Capacity (not allocatable) of one new node.
    pub node_capacity: Resources,
    /// What one node of the pool costs per hour.
    pub node_price_usd_per_hour: f64,
    /// Requests of each pending pod the new nodes would take.
    pub pod_requests: Vec<Resources>,
}

/// What the expanders know beyond the options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpanderContext<'a> {
    /// Priority of each pool by name for the `priority` expander (higher wins).
    pub priorities: &'a [(String, i32)],
    /// Registered nodes in the cluster, for the `price` expander's preferred node size.
    pub cluster_node_count: usize,
}

/// What one expander kept, and why.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filtered {
    /// Indices of the options kept, in their original order.
    pub kept: Vec<usize>,
    /// The scores the expander gave, for the scale-up's reason.
    pub note: String,
}

/// The option a chain chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// Index of the chosen option.
    pub index: usize,
    /// One note per expander that ran, then the random pick if one was needed.
    pub notes: Vec<String>,
}

/// The expander's name as `--expander` spells it.
pub const fn name(expander: Expander) -> &'static str {
    match expander {
        Expander::Random => "random",
        Expander::MostPods => "most-pods",
        Expander::LeastWaste => "least-waste",
        Expander::Price => "price",
        Expander::Priority => "priority",
    }
}

/// Runs one expander as a filter over `candidates` (indices into `options`).
pub fn filter<R: Rng + ?Sized>(
    expander: Expander,
    options: &[ExpansionOption<'_>],
    candidates: &[usize],
    ctx: &ExpanderContext<'_>,
    rng: &mut R,
) -> Filtered {
    match expander {
        Expander::Random => random(options, candidates, rng),
        Expander::MostPods => most_pods(options, candidates),
        Expander::LeastWaste => waste::least_waste(options, candidates),
        Expander::Price => price::price(options, candidates, ctx),
        Expander::Priority => priority(options, candidates, ctx),
    }
}

/// Picks an option with the `chain` of expanders; `None` when there is no option (or a filter
/// left none).
pub fn best_option<R: Rng + ?Sized>(
    chain: &[Expander],
    options: &[ExpansionOption<'_>],
    ctx: &ExpanderContext<'_>,
    rng: &mut R,
) -> Option<Choice> {
    let mut candidates: Vec<usize> = (0..options.len()).collect();
    let mut notes = Vec::with_capacity(chain.len() + 1);
    for &expander in chain {
        let filtered = filter(expander, options, &candidates, ctx, rng);
        notes.push(filtered.note);
        candidates = filtered.kept;
        if let [only] = candidates[..] {
            notes.push(format!("-> {}", options[only].pool_name));
            return Some(Choice { index: only, notes });
        }
    }
    let picked = random(options, &candidates, rng);
    let index = *picked.kept.first()?;
    notes.push(picked.note);
    Some(Choice { index, notes })
}

/// `random`: one of the candidates, uniformly (none if there are none).
pub fn random<R: Rng + ?Sized>(
    options: &[ExpansionOption<'_>],
    candidates: &[usize],
    rng: &mut R,
) -> Filtered {
    if candidates.is_empty() {
        return Filtered::default();
    }
    let i = candidates[rng.random_range(0..candidates.len())];
    Filtered {
        kept: vec![i],
        note: format!(
            "random among {} -> {}",
            candidates.len(),
            options[i].pool_name
        ),
    }
}

/// `most-pods`: the candidates whose new nodes take the most pending pods.
pub fn most_pods(options: &[ExpansionOption<'_>], candidates: &[usize]) -> Filtered {
    let mut max_pods = 0usize;
    let mut kept: Vec<usize> = Vec::new();
    for &i in candidates {
        let pods = options[i].pod_requests.len();
        if pods == max_pods {
            kept.push(i);
        }
        if pods > max_pods {
            max_pods = pods;
            kept = vec![i];
        }
    }
    let counts: Vec<String> = candidates
        .iter()
        .map(|&i| format!("{} {}", options[i].pool_name, options[i].pod_requests.len()))
        .collect();
    Filtered {
        kept,
        note: format!("most-pods {}", counts.join(", ")),
    }
}

/// `priority`: the candidates of the pools with the highest priority, or all of them when none
/// has one (at least −1, as upstream's running maximum starts there).
pub fn priority(
    options: &[ExpansionOption<'_>],
    candidates: &[usize],
    ctx: &ExpanderContext<'_>,
) -> Filtered {
    let mut max_priority = -1i64;
    let mut best: Vec<usize> = Vec::new();
    let mut listed = Vec::with_capacity(candidates.len());
    for &i in candidates {
        let name = options[i].pool_name;
        let group_of = options[i].group_of;
        let Some(&(_, p)) = ctx.priorities.iter().find(|(pool, _)| pool == group_of) else {
            listed.push(format!("{name} none"));
            continue;
        };
        listed.push(format!("{name} {p}"));
        let p = i64::from(p);
        if p < max_priority {
            continue;
        }
        if p > max_priority {
            max_priority = p;
            best.clear();
        }
        best.push(i);
    }
    let note = format!("priority {}", listed.join(", "));
    if best.is_empty() {
        return Filtered {
            kept: candidates.to_vec(),
            note,
        };
    }
    Filtered { kept: best, note }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    use super::*;
    use crate::units::Bytes;

    fn rng() -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(11)
    }

    /// An option of `name` with `count` nodes of 4 CPU / 16 GiB at `price` and `pods` pods of
    /// 1 CPU / 2 GiB.
    fn option(name: &str, count: u32, price: f64, pods: usize) -> ExpansionOption<'_> {
        ExpansionOption {
            pool: 0,
            pool_name: name,
            group_of: name,
            node_count: count,
            node_capacity: Resources::new(4_000, 16 * Bytes::GIB),
            node_price_usd_per_hour: price,
            pod_requests: vec![Resources::new(1_000, 2 * Bytes::GIB); pods],
        }
    }

    fn ctx(priorities: &[(String, i32)]) -> ExpanderContext<'_> {
        ExpanderContext {
            priorities,
            cluster_node_count: 10,
        }
    }

    fn prio(pairs: &[(&str, i32)]) -> Vec<(String, i32)> {
        pairs.iter().map(|&(n, p)| (n.to_string(), p)).collect()
    }

    #[test]
    fn most_pods_keeps_every_option_with_the_maximum() {
        let options = [
            option("a", 1, 1.0, 3),
            option("b", 2, 1.0, 5),
            option("c", 2, 1.0, 5),
        ];
        assert_eq!(most_pods(&options, &[0, 1, 2]).kept, [1, 2]);
        assert_eq!(most_pods(&options, &[0]).kept, [0]);
    }

    #[test]
    fn priority_prefers_the_highest_and_ignores_unlisted_pools() {
        let options = [
            option("a", 1, 1.0, 1),
            option("b", 1, 1.0, 1),
            option("c", 1, 1.0, 1),
        ];
        // (priorities, options kept)
        type Case<'a> = (&'a [(&'a str, i32)], &'a [usize]);
        let cases: [Case<'_>; 5] = [
            (&[("a", 10), ("b", 50)], &[1]),
            (&[("a", 50), ("b", 50)], &[0, 1]),
            // c has no priority: it is never chosen while another pool has one.
            (&[("a", 0)], &[0]),
            // No option has a priority: nothing is filtered.
            (&[("x", 5)], &[0, 1, 2]),
            // Upstream's running maximum starts at -1: -1 counts, -5 is as good as none.
            (&[("a", -5), ("b", -1)], &[1]),
        ];
        for (pairs, want) in cases {
            let p = prio(pairs);
            assert_eq!(
                priority(&options, &[0, 1, 2], &ctx(&p)).kept,
                want,
                "{pairs:?}"
            );
        }
        let p = prio(&[("a", -5), ("c", -7)]);
        assert_eq!(priority(&options, &[0, 1, 2], &ctx(&p)).kept, [0, 1, 2]);
    }

    #[test]
    fn random_is_uniform_and_reproducible() {
        let options = [
            option("a", 1, 1.0, 1),
            option("b", 1, 1.0, 1),
            option("c", 1, 1.0, 1),
        ];
        let mut r = rng();
        let mut picks = [0u32; 3];
        for _ in 0..3_000 {
            picks[random(&options, &[0, 1, 2], &mut r).kept[0]] += 1;
        }
        for count in picks {
            assert!((900..=1_100).contains(&count), "{picks:?}");
        }
        let run = || {
            let mut r = rng();
            (0..20)
                .map(|_| random(&options, &[0, 1, 2], &mut r).kept[0])
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
        assert!(random(&options, &[], &mut r).kept.is_empty());
    }

    #[test]
    fn a_chain_filters_in_order_and_stops_at_one_option() {
        // a and b take 5 pods, c 3. a: 2 nodes for 5 pods wastes
        // (8000-5000)/8000 + (32-10)/32 = 0.375 + 0.6875 = 1.0625;
        // b: 3 nodes: (12000-5000)/12000 + (48-10)/48 = 0.5833 + 0.7917 = 1.375;
        // c: 1 node, 3 pods: 0.25 + 0.625 = 0.875 (least waste, but fewest pods).
        let options = [
            option("a", 2, 1.0, 5),
            option("b", 3, 1.0, 5),
            option("c", 1, 1.0, 3),
        ];
        let no_prio = prio(&[]);
        let mut r = rng();
        let pick = |chain: &[Expander], r: &mut Xoshiro256PlusPlus| {
            best_option(chain, &options, &ctx(&no_prio), r).map(|c| c.index)
        };
        assert_eq!(pick(&[Expander::LeastWaste], &mut r), Some(2));
        // most-pods first keeps a and b, then least-waste picks a.
        assert_eq!(
            pick(&[Expander::MostPods, Expander::LeastWaste], &mut r),
            Some(0)
        );
        // Priority gives b alone: the chain stops there, least-waste never runs.
        let p = prio(&[("b", 9)]);
        let choice = best_option(
            &[Expander::Priority, Expander::LeastWaste],
            &options,
            &ctx(&p),
            &mut r,
        )
        .expect("an option");
        assert_eq!(choice.index, 1);
        assert_eq!(choice.notes.len(), 2, "{:?}", choice.notes);
        assert!(best_option(&[Expander::MostPods], &[], &ctx(&no_prio), &mut r).is_none());
    }

    #[test]
    fn ties_left_by_the_chain_are_drawn_at_random() {
        // Identical options: most-pods keeps both, the final random pick chooses.
        let options = [option("a", 1, 1.0, 2), option("b", 1, 1.0, 2)];
        let no_prio = prio(&[]);
        let mut r = rng();
        let mut seen = [false; 2];
        for _ in 0..64 {
            let c = best_option(&[Expander::MostPods], &options, &ctx(&no_prio), &mut r)
                .expect("an option");
            seen[c.index] = true;
            assert!(
                c.notes
                    .last()
                    .is_some_and(|n| n.starts_with("random among 2")),
                "{:?}",
                c.notes
            );
        }
        assert_eq!(seen, [true, true]);
    }

    #[test]
    fn price_prefers_the_cheaper_pool_for_the_same_pods() {
        // Same nodes and pods, b costs twice as much per node.
        let options = [option("a", 1, 0.4, 2), option("b", 1, 0.8, 2)];
        let no_prio = prio(&[]);
        let mut r = rng();
        let choice =
            best_option(&[Expander::Price], &options, &ctx(&no_prio), &mut r).expect("an option");
        assert_eq!(choice.index, 0);
        assert!(
            choice.notes[0].starts_with("price (preferred node 4 cores)"),
            "{:?}",
            choice.notes
        );
    }
}
