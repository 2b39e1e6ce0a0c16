//! Streaming statistics whose memory does not grow with simulated time: time-weighted gauges and
//! latency distributions.
//!
//! Use `Gauge` for a level that holds between changes (Ready replicas, nodes, pending pods) and
//! `Latency` for per-request durations. Both know about the warm-up only through `restart`, which
//! the simulation calls once when the warm-up ends.

use crate::units::{SimDuration, SimTime};

/// A level that changes at discrete times, with its time-weighted mean, minimum and maximum over
/// the measured window. Values held for no time at all (set and replaced at the same instant)
/// do not count towards the minimum and maximum.
#[derive(Debug, Clone)]
pub struct Gauge {
    value: u64,
    since: SimTime,
    window_start: SimTime,
    /// Integral of the value over the window so far, in value-microseconds.
    area: u128,
    /// Extremes of the values held for a positive time before `since`, if any.
    extremes: Option<(u64, u64)>,
}

impl Gauge {
    /// A gauge holding `value` from `now`.
    pub fn new(now: SimTime, value: u64) -> Gauge {
        Gauge {
            value,
            since: now,
            window_start: now,
            area: 0,
            extremes: None,
        }
    }

    /// The current value.
    #[inline]
    pub fn value(&self) -> u64 {
        self.value
    }

    /// Changes the value at `now`.
    #[inline]
    pub fn set(&mut self, now: SimTime, value: u64) {
        let held = now.since(self.since).0;
        if held > 0 {
            self.area += u128::from(self.value) * u128::from(held);
            self.extremes = Some(match self.extremes {
                Some((lo, hi)) => (lo.min(self.value), hi.max(self.value)),
                None => (self.value, self.value),
            });
        }
        self.since = now;
        self.value = value;
    }

    /// Adds `delta` (which may be negative) at `now`.
    #[inline]
    pub fn add(&mut self, now: SimTime, delta: i64) {
        let value = self.value.checked_add_signed(delta).unwrap_or(0);
        self.set(now, value);
    }

    /// Forgets everything before `now` (the end of the warm-up); the current value stays.
    pub fn restart(&mut self, now: SimTime) {
        self.set(now, self.value);
        self.window_start = now;
        self.area = 0;
        self.extremes = None;
    }

    /// The integral of the value from the window start to `now`, in value-seconds.
    pub fn integral_secs(&self, now: SimTime) -> f64 {
        let area = self.area + u128::from(self.value) * u128::from(now.since(self.since).0);
        area as f64 / 1e6
    }

    /// The time-weighted mean over the window up to `now` (the current value if no time passed).
    pub fn mean(&self, now: SimTime) -> f64 {
        let span = now.since(self.window_start).as_secs_f64();
        if span == 0.0 {
            self.value as f64
        } else {
            self.integral_secs(now) / span
        }
    }

    /// Smallest and largest values held in the window up to `now` (the current value alone
    /// when no time has passed).
    pub fn min_max(&self, now: SimTime) -> (u64, u64) {
        match self.extremes {
            Some((lo, hi)) if now <= self.since => (lo, hi),
            Some((lo, hi)) => (lo.min(self.value), hi.max(self.value)),
            None => (self.value, self.value),
        }
    }
}

/// Quantiles of a latency distribution, in milliseconds: each absent when no value was
/// recorded (a statistic over nothing has no value; `Default` is that empty summary).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LatencySummary {
    /// Number of recorded values.
    pub count: u64,
    /// Exact mean.
    pub mean_ms: Option<f64>,
    /// Median (within 0.1%).
    pub p50_ms: Option<f64>,
    /// 90th percentile.
    pub p90_ms: Option<f64>,
    /// 95th percentile.
    pub p95_ms: Option<f64>,
    /// 99th percentile.
    pub p99_ms: Option<f64>,
    /// Exact maximum.
    pub max_ms: Option<f64>,
}

/// Bits of sub-bucket resolution: values are kept to within 2^-10 (under 0.1%) of their size.
const SUB_BUCKET_BITS: u32 = 10;
const SUB_BUCKETS: u64 = 1 << SUB_BUCKET_BITS;
/// Buckets to hold any `u64`: values below `2 * SUB_BUCKETS` exactly, then one half-octave of
/// `SUB_BUCKETS` per power of two.
const BUCKETS: usize = ((64 - SUB_BUCKET_BITS) as usize + 1) * SUB_BUCKETS as usize;

/// A latency distribution in microseconds: a log-linear histogram (the HDR layout) that keeps
/// every value to within 0.1%, plus the exact count, sum and maximum. Memory is fixed (about
/// 450 KiB, touched only where values fall), whatever the run's length.
#[derive(Debug, Clone)]
pub struct Latency {
    counts: Vec<u64>,
    count: u64,
    sum_us: u128,
    max_us: u64,
}

impl Default for Latency {
    fn default() -> Self {
        Latency::new()
    }
}

/// The bucket holding `value`.
#[inline]
fn bucket_of(value: u64) -> usize {
    if value < 2 * SUB_BUCKETS {
        return value as usize;
    }
    let shift = 63 - value.leading_zeros() - SUB_BUCKET_BITS;
    ((u64::from(shift) << SUB_BUCKET_BITS) + (value >> shift)) as usize
}

/// The largest value that falls in bucket `index`.
fn highest_in_bucket(index: usize) -> u64 {
    let index = index as u64;
    if index < 2 * SUB_BUCKETS {
        return index;
    }
    let shift = (index >> SUB_BUCKET_BITS) - 1;
    let sub = index - (shift << SUB_BUCKET_BITS);
    ((sub + 1) << shift) - 1
}

impl Latency {
    /// An empty distribution.
    pub fn new() -> Latency {
        Latency {
            counts: vec![0; BUCKETS],
            count: 0,
            sum_us: 0,
            max_us: 0,
        }
    }

    /// Records one duration.
    #[inline]
    pub fn record(&mut self, value: SimDuration) {
        self.counts[bucket_of(value.0)] += 1;
        self.count += 1;
        self.sum_us += u128::from(value.0);
        self.max_us = self.max_us.max(value.0);
    }

    /// Adds every value of `other`: a run's distribution gathers its intervals' this way, so
    /// that each value is recorded once, in its interval's.
    pub fn merge(&mut self, other: &Latency) {
        if other.count == 0 {
            return;
        }
        let used = ..=bucket_of(other.max_us);
        for (mine, theirs) in self.counts[used].iter_mut().zip(&other.counts[used]) {
            *mine += theirs;
        }
        self.count += other.count;
        self.sum_us += other.sum_us;
        self.max_us = self.max_us.max(other.max_us);
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Forgets every value.
    pub fn clear(&mut self) {
        if self.count > 0 {
            // No bucket above the maximum's holds anything.
            self.counts[..=bucket_of(self.max_us)].fill(0);
        }
        self.count = 0;
        self.sum_us = 0;
        self.max_us = 0;
    }

    /// The value at quantile `q` (0..=1) in milliseconds: the smallest recorded value (to
    /// within 0.1%, rounded up) with at least `q` of the values at or below it; 0 when empty.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (index, count) in self.counts[..=bucket_of(self.max_us)].iter().enumerate() {
            seen += count;
            if seen >= rank {
                return highest_in_bucket(index).min(self.max_us) as f64 / 1_000.0;
            }
        }
        self.max_us as f64 / 1_000.0
    }

    /// Mean, quantiles and maximum; all absent when nothing was recorded.
    pub fn summary(&self) -> LatencySummary {
        if self.count == 0 {
            return LatencySummary::default();
        }
        LatencySummary {
            count: self.count,
            mean_ms: Some(self.sum_us as f64 / self.count as f64 / 1_000.0),
            p50_ms: Some(self.quantile_ms(0.50)),
            p90_ms: Some(self.quantile_ms(0.90)),
            p95_ms: Some(self.quantile_ms(0.95)),
            p99_ms: Some(self.quantile_ms(0.99)),
            max_ms: Some(self.max_us as f64 / 1_000.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauge_is_time_weighted() {
        let mut g = Gauge::new(SimTime(0), 2);
        g.set(SimTime(1_000_000), 4); // 2 for 1 s
        g.add(SimTime(4_000_000), -3); // 4 for 3 s, then 1
        // (2*1 + 4*3 + 1*1) / 5 = 3
        assert!((g.mean(SimTime(5_000_000)) - 3.0).abs() < 1e-12);
        assert_eq!(g.min_max(SimTime(5_000_000)), (1, 4));
        assert!((g.integral_secs(SimTime(5_000_000)) - 15.0).abs() < 1e-12);
    }

    #[test]
    fn restart_forgets_the_warmup() {
        let mut g = Gauge::new(SimTime(0), 10);
        g.set(SimTime(1_000_000), 1);
        g.restart(SimTime(2_000_000));
        g.set(SimTime(3_000_000), 3);
        assert_eq!(g.min_max(SimTime(4_000_000)), (1, 3));
        assert!((g.mean(SimTime(4_000_000)) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn values_held_for_no_time_are_not_extremes() {
        let mut g = Gauge::new(SimTime(0), 0);
        g.set(SimTime(0), 3); // 0 held for no time
        g.set(SimTime(10), 9);
        g.set(SimTime(10), 4); // 9 held for no time
        assert_eq!(g.min_max(SimTime(20)), (3, 4));
        assert_eq!(g.min_max(SimTime(10)), (3, 3));
    }

    #[test]
    fn latency_quantiles_are_within_a_tenth_of_a_percent() {
        let mut l = Latency::new();
        for us in 1..=100_000u64 {
            l.record(SimDuration(us));
        }
        let s = l.summary();
        assert_eq!(s.count, 100_000);
        let (mean, p50, p99) = (
            s.mean_ms.unwrap_or(f64::NAN),
            s.p50_ms.unwrap_or(f64::NAN),
            s.p99_ms.unwrap_or(f64::NAN),
        );
        assert!((mean - 50.0005).abs() < 1e-9, "exact mean {mean}");
        assert!((p50 - 50.0).abs() / 50.0 < 1e-3, "{p50}");
        assert!((p99 - 99.0).abs() / 99.0 < 1e-3, "{p99}");
        assert_eq!(s.max_ms, Some(100.0));
        l.clear();
        let empty = l.summary();
        assert_eq!(empty, LatencySummary::default());
        assert_eq!((empty.count, empty.p99_ms, empty.mean_ms), (0, None, None));
    }

    #[test]
    fn merging_equals_recording_in_one() {
        let (mut a, mut b, mut all) = (Latency::new(), Latency::new(), Latency::new());
        for us in [0u64, 7, 2_048, 3_000_000] {
            a.record(SimDuration(us));
            all.record(SimDuration(us));
        }
        for us in [5u64, 2_048, 9_999] {
            b.record(SimDuration(us));
            all.record(SimDuration(us));
        }
        let mut merged = Latency::new();
        merged.merge(&Latency::new());
        assert_eq!(merged.count(), 0, "an empty distribution adds nothing");
        merged.merge(&a);
        merged.merge(&b);
        assert_eq!(merged.summary(), all.summary());
        assert_eq!(merged.counts, all.counts);
        assert_eq!(merged.sum_us, all.sum_us);
    }

    #[test]
    fn buckets_bound_every_value_within_resolution() {
        let mut previous_top = None;
        for index in 0..BUCKETS - 1 {
            let top = highest_in_bucket(index);
            if let Some(p) = previous_top {
                assert!(top > p, "bucket {index} does not extend the previous one");
            }
            assert_eq!(bucket_of(top), index, "top of bucket {index}");
            assert_eq!(
                bucket_of(top + 1),
                index + 1,
                "next value after bucket {index}"
            );
            previous_top = Some(top);
        }
        for value in [
            0u64,
            1,
            2047,
            2048,
            2049,
            1_000_000,
            86_400_000_000,
            u64::MAX,
        ] {
            let top = highest_in_bucket(bucket_of(value));
            assert!(
                top >= value && (top - value) as f64 <= value as f64 / 1024.0,
                "{value}"
            );
        }
    }
}
