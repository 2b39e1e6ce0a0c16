//! Per-pool exponential backoff after failed scale-ups, as cluster-autoscaler's
//! `utils/backoff/exponential_backoff.go` (`NewIdBasedExponentialBackoff`) keeps it.
//!
//! Use `Backoff` to ask whether a pool may be scaled up now and to record a failure. The first
//! failure backs the pool off for `--initial-node-group-backoff-duration` (5m); each failure
//! after the previous backoff has expired doubles the duration, up to
//! `--max-node-group-backoff-duration` (30m); a failure while the pool is still backed off does
//! not compound (upstream then restarts from the initial duration). A successful scale-up
//! forgets the pool's history, and so does `--node-group-backoff-reset-timeout` (3h) without a
//! failure. It does not decide what a failure is: `provisioning` reports timeouts here.

use crate::units::{SimDuration, SimTime};

/// `--initial-node-group-backoff-duration`: the first backoff of a pool.
pub const INITIAL_NODE_GROUP_BACKOFF: SimDuration = SimDuration::from_secs(5 * 60);

/// `--max-node-group-backoff-duration`: the longest backoff.
pub const MAX_NODE_GROUP_BACKOFF: SimDuration = SimDuration::from_secs(30 * 60);

/// `--node-group-backoff-reset-timeout`: a pool without a failure for this long starts again
/// from the initial backoff.
pub const NODE_GROUP_BACKOFF_RESET_TIMEOUT: SimDuration = SimDuration::from_secs(3 * 3600);

/// What is remembered about one pool's failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BackoffInfo {
    duration: SimDuration,
    until: SimTime,
    last_failed: SimTime,
}

/// Backoff state of every pool, indexed like `Scenario::node_pools`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backoff {
    pools: Vec<Option<BackoffInfo>>,
}

impl Backoff {
    /// No pool backed off.
    pub fn new(pool_count: usize) -> Backoff {
        Backoff {
            pools: vec![None; pool_count],
        }
    }

    /// Records a failed scale-up of `pool` at `now` and returns when its backoff ends.
    ///
    /// The duration doubles from the previous one only if that backoff had already ended
    /// (`until < now`), never beyond `MAX_NODE_GROUP_BACKOFF`. Otherwise, first failure or one
    /// while still backed off, it is `INITIAL_NODE_GROUP_BACKOFF`: upstream's
    /// `exponentialBackoff.Backoff` starts from the initial duration and only doubles for an
    /// expired backoff, so a failure during a long backoff shortens it to 5m from now.
    pub fn backoff(&mut self, pool: usize, now: SimTime) -> SimTime {
        if pool >= self.pools.len() {
            self.pools.resize(pool + 1, None);
        }
        let duration = match self.pools[pool] {
            Some(info) if info.until < now => {
                SimDuration(info.duration.0.saturating_mul(2)).min(MAX_NODE_GROUP_BACKOFF)
            }
            // Upstream starts again from the initial duration both for a first failure and for
            // one while the pool is still backed off.
            _ => INITIAL_NODE_GROUP_BACKOFF,
        };
        let until = now + duration;
        self.pools[pool] = Some(BackoffInfo {
            duration,
            until,
            last_failed: now,
        });
        until
    }

    /// Whether `pool` may not be scaled up at `now` (its backoff ends after `now`).
    pub fn is_backed_off(&self, pool: usize, now: SimTime) -> bool {
        self.until(pool).is_some_and(|until| until > now)
    }

    /// When the pool's latest backoff ends, if it has one on record.
    pub fn until(&self, pool: usize) -> Option<SimTime> {
        self.pools.get(pool).copied().flatten().map(|i| i.until)
    }

    /// The duration of the pool's latest backoff, if it has one on record.
    pub fn duration(&self, pool: usize) -> Option<SimDuration> {
        self.pools.get(pool).copied().flatten().map(|i| i.duration)
    }

    /// Forgets the pool's failures (a scale-up of it completed).
    pub fn remove(&mut self, pool: usize) {
        if let Some(slot) = self.pools.get_mut(pool) {
            *slot = None;
        }
    }

    /// Forgets pools whose last failure is older than `NODE_GROUP_BACKOFF_RESET_TIMEOUT`.
    pub fn remove_stale(&mut self, now: SimTime) {
        for slot in &mut self.pools {
            if slot.is_some_and(|i| i.last_failed + NODE_GROUP_BACKOFF_RESET_TIMEOUT < now) {
                *slot = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn min(m: u64) -> SimDuration {
        SimDuration::from_secs(m * 60)
    }

    fn at(m: u64) -> SimTime {
        SimTime::ZERO + min(m)
    }

    #[test]
    fn doubles_from_five_minutes_to_a_thirty_minute_cap() {
        let mut b = Backoff::new(2);
        // Each failure comes after the previous backoff ended:
        // 5m, then 2×5 = 10m, 2×10 = 20m, 2×20 = 40m capped at 30m, then 30m again.
        let failures = [(0, 5), (6, 10), (20, 20), (45, 30), (80, 30)];
        for (t, want) in failures {
            let until = b.backoff(0, at(t));
            assert_eq!(until, at(t + want), "failure at {t}m");
            assert_eq!(b.duration(0), Some(min(want)));
        }
        assert_eq!(b.until(1), None, "other pools are untouched");
    }

    #[test]
    fn failures_during_a_backoff_restart_from_the_initial_duration() {
        let mut b = Backoff::new(1);
        b.backoff(0, at(0)); // 5m, until 5m
        b.backoff(0, at(6)); // expired: 10m, until 16m
        // A failure at 10m, still backed off: upstream restarts at 5m from now (15m), it does
        // not double to 20m.
        assert_eq!(b.backoff(0, at(10)), at(15));
        assert_eq!(b.duration(0), Some(min(5)));
        // At exactly 15m the backoff has not ended "before" now: 5m again.
        assert_eq!(b.backoff(0, at(15)), at(20));
        // After it ends the duration doubles.
        assert_eq!(b.backoff(0, at(21)), at(31));
    }

    #[test]
    fn backed_off_strictly_before_until() {
        let mut b = Backoff::new(1);
        assert!(!b.is_backed_off(0, at(0)));
        b.backoff(0, at(0));
        assert!(b.is_backed_off(0, at(4)));
        assert!(!b.is_backed_off(0, at(5)), "until is not after now");
        assert!(
            !b.is_backed_off(7, at(1)),
            "unknown pools are not backed off"
        );
    }

    #[test]
    fn success_and_reset_timeout_forget_history() {
        let mut b = Backoff::new(1);
        b.backoff(0, at(0));
        b.backoff(0, at(6)); // 10m
        b.remove(0);
        assert_eq!(b.backoff(0, at(20)), at(25), "back to 5m after a success");
        // Last failure at 20m; 3h later it is not yet stale, a moment after it is.
        b.remove_stale(at(20 + 180));
        assert!(b.until(0).is_some());
        b.remove_stale(at(20 + 180) + SimDuration(1));
        assert_eq!(b.until(0), None);
    }
}
