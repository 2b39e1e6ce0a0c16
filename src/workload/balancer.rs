//! The Service's load balancing: which Ready pod receives a request.
//!
//! Use `Balancer::pick` with the service's Ready pods in a stable order. It only chooses; the
//! pod's queue decides whether the request is accepted.

use rand::RngExt;

use crate::engine::rng::SimRng;
use crate::workload::spec::LoadBalancerPolicy;

/// Load-balancing state of one service.
#[derive(Debug, Clone)]
pub struct Balancer {
    policy: LoadBalancerPolicy,
    next: usize,
}

impl Balancer {
    /// A balancer for `policy`.
    pub fn new(policy: LoadBalancerPolicy) -> Balancer {
        Balancer { policy, next: 0 }
    }

    /// The index into `ready` of the pod that gets the next request, or `None` when no pod is
    /// Ready. `in_flight(i)` is the number of requests queued or in service at `ready[i]`.
    #[inline]
    pub fn pick<P>(
        &mut self,
        ready: &[P],
        rng: &mut SimRng,
        in_flight: impl Fn(&P) -> u32,
    ) -> Option<usize> {
        let n = ready.len();
        if n <= 1 {
            // No choice to make: no draw, so one pod behaves the same under every policy.
            return if n == 0 { None } else { Some(0) };
        }
        Some(match self.policy {
            LoadBalancerPolicy::RoundRobin => {
                // The list may have shrunk since the last pick: wrap without a division.
                let i = if self.next >= n { 0 } else { self.next };
                self.next = i + 1;
                i
            }
            LoadBalancerPolicy::Random => rng.random_range(0..n),
            LoadBalancerPolicy::LeastRequests => {
                // Two distinct random pods; the one with fewer in flight wins, the first on a tie.
                let a = rng.random_range(0..n);
                let mut b = rng.random_range(0..n - 1);
                if b >= a {
                    b += 1;
                }
                if in_flight(&ready[b]) < in_flight(&ready[a]) {
                    b
                } else {
                    a
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;

    #[test]
    fn round_robin_cycles_and_survives_shrinking() {
        let mut b = Balancer::new(LoadBalancerPolicy::RoundRobin);
        let mut rng = stream(1, "lb");
        let picks: Vec<_> = (0..5)
            .map(|_| b.pick(&[0, 0, 0], &mut rng, |_| 0).unwrap_or(99))
            .collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1]);
        assert_eq!(b.pick(&[0], &mut rng, |_| 0), Some(0));
        assert_eq!(b.pick::<u32>(&[], &mut rng, |_| 0), None);
    }

    #[test]
    fn random_spreads_evenly() {
        let mut b = Balancer::new(LoadBalancerPolicy::Random);
        let mut rng = stream(2, "lb");
        let mut counts = [0u32; 4];
        for _ in 0..40_000 {
            counts[b.pick(&[(); 4], &mut rng, |_| 0).unwrap_or(0)] += 1;
        }
        // 10000 each, sd 87.
        assert!(
            counts.iter().all(|&c| (c as i32 - 10_000).abs() < 450),
            "{counts:?}"
        );
    }

    #[test]
    fn least_requests_prefers_the_emptier_of_two() {
        let mut b = Balancer::new(LoadBalancerPolicy::LeastRequests);
        let mut rng = stream(3, "lb");
        let loads = [5u32, 0, 5];
        let mut picked_idle = 0;
        for _ in 0..3_000 {
            let i = b.pick(&loads, &mut rng, |l| *l).unwrap_or(9);
            if i == 1 {
                picked_idle += 1;
            }
        }
        // The idle pod wins whenever it is one of the two choices: 2 of 3 pairs.
        assert!((picked_idle - 2_000i32).abs() < 120, "{picked_idle}");
    }
}
