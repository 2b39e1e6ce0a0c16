//! Request arrivals: a Poisson process whose rate follows the service's profile over time.
//!
//! Use `ArrivalProcess::next_after` to draw the next arrival time. A non-homogeneous Poisson
//! process is sampled by thinning (Lewis and Shedler, 1979) against a piecewise-constant bound
//! recomputed every `BOUND_WINDOW`, so a short spike does not make the whole day expensive; a
//! constant rate skips thinning altogether. A lower bound per window, the squeeze, accepts most
//! candidates without evaluating the rate (a cosine for a diurnal profile): only those between
//! the two bounds need the exact rate, and the decisions are the ones the exact rate would make.
//! This module knows nothing about pods or queues.

use rand::RngExt;
use rand_distr::Exp1;

use crate::engine::rng::SimRng;
use crate::units::{MICROS_PER_SECOND, SimTime, round_to_u64};
use crate::workload::spec::{Arrivals, ProfilePoint, RateProfile, Spike};

/// Width of the windows over which the thinning bound is held constant.
const BOUND_WINDOW_US: u64 = 60 * MICROS_PER_SECOND;
/// Microseconds in a day: the period of the diurnal profile.
const DAY_US: f64 = 86_400.0 * MICROS_PER_SECOND as f64;
/// Relative margin by which the squeeze is lowered, so that rounding in the rate's product can
/// never lift the squeeze above the rate it stands for.
const SQUEEZE_MARGIN: f64 = 1e-12;
/// Absolute margin below a diurnal factor's smaller endpoint: the cosine is computed to within
/// an ulp, not monotonically, so between the endpoints the factor may dip by about 1e-16.
const DIURNAL_SLACK: f64 = 1e-15;

/// Draws arrival times for one service.
#[derive(Debug, Clone)]
pub struct ArrivalProcess {
    base_rate_per_us: f64,
    /// `1 / base_rate_per_us`: the mean gap of the constant-rate process.
    mean_gap_us: f64,
    profile: Vec<RateProfile>,
    /// Whether the rate never changes (no thinning needed).
    constant: bool,
    /// The exact (unrounded) time of the last arrival, in microseconds, so rounding to integer
    /// time does not bias the rate.
    last_exact_us: f64,
    /// End of the current bound window and the rate bound within it (per microsecond).
    window_end_us: f64,
    window_bound_per_us: f64,
    /// A lower bound of the rate within the current window (per microsecond): a candidate whose
    /// acceptance level falls below it is accepted without evaluating the rate.
    window_floor_per_us: f64,
}

impl ArrivalProcess {
    /// A process for `arrivals`, starting at time zero.
    pub fn new(arrivals: &Arrivals) -> ArrivalProcess {
        let constant = arrivals
            .profile
            .iter()
            .all(|p| matches!(p, RateProfile::Constant));
        ArrivalProcess {
            base_rate_per_us: arrivals.rate_per_s / MICROS_PER_SECOND as f64,
            mean_gap_us: MICROS_PER_SECOND as f64 / arrivals.rate_per_s,
            profile: arrivals.profile.clone(),
            constant,
            last_exact_us: 0.0,
            window_end_us: 0.0,
            window_bound_per_us: 0.0,
            window_floor_per_us: 0.0,
        }
    }

    /// The arrival rate at `t`, in requests per second.
    pub fn rate_per_s(&self, t: SimTime) -> f64 {
        self.rate_per_us(t.0 as f64) * MICROS_PER_SECOND as f64
    }

    /// The time of the next arrival, or `None` if none happens before `horizon`.
    #[inline]
    pub fn next_after(&mut self, rng: &mut SimRng, horizon: SimTime) -> Option<SimTime> {
        self.next_with::<true>(rng, horizon)
    }

    /// `next_after`, with (`SQUEEZE`) or without the squeeze; both make the same decisions.
    #[inline(always)]
    fn next_with<const SQUEEZE: bool>(
        &mut self,
        rng: &mut SimRng,
        horizon: SimTime,
    ) -> Option<SimTime> {
        let horizon_us = horizon.0 as f64;
        if self.constant {
            let gap: f64 = rng.sample(Exp1);
            self.last_exact_us += gap * self.mean_gap_us;
        } else {
            self.thin::<SQUEEZE>(rng, horizon_us);
        }
        (self.last_exact_us <= horizon_us).then(|| SimTime(round_to_u64(self.last_exact_us)))
    }

    /// Advances `last_exact_us` to the next accepted arrival (or past the horizon). Each
    /// candidate draws a gap, then an acceptance level; the squeeze changes neither the draws
    /// nor the decisions, since the floor never exceeds the rate.
    #[inline(never)]
    fn thin<const SQUEEZE: bool>(&mut self, rng: &mut SimRng, horizon_us: f64) {
        let mut t = self.last_exact_us;
        loop {
            if t >= self.window_end_us {
                self.start_window(t);
            }
            if t > horizon_us {
                break;
            }
            if self.window_bound_per_us <= 0.0 {
                t = self.window_end_us;
                continue;
            }
            let gap: f64 = rng.sample(Exp1);
            let candidate = t + gap / self.window_bound_per_us;
            if candidate >= self.window_end_us {
                // Memorylessness: restart from the window's end under the next window's bound.
                t = self.window_end_us;
                continue;
            }
            t = candidate;
            let accept: f64 = rng.random();
            let level = accept * self.window_bound_per_us;
            if (SQUEEZE && level <= self.window_floor_per_us) || level <= self.rate_per_us(t) {
                break;
            }
        }
        self.last_exact_us = t;
    }

    fn start_window(&mut self, t: f64) {
        let start = (t / BOUND_WINDOW_US as f64).floor() * BOUND_WINDOW_US as f64;
        let end = start + BOUND_WINDOW_US as f64;
        let bound: f64 = self
            .profile
            .iter()
            .map(|p| max_factor(p, start, end))
            .product();
        let floor: f64 = self
            .profile
            .iter()
            .map(|p| min_factor(p, start, end))
            .product();
        self.window_end_us = end;
        self.window_bound_per_us = self.base_rate_per_us * bound;
        self.window_floor_per_us = self.base_rate_per_us * floor * (1.0 - SQUEEZE_MARGIN);
    }

    fn rate_per_us(&self, t_us: f64) -> f64 {
        self.base_rate_per_us
            * self
                .profile
                .iter()
                .map(|p| factor(p, t_us))
                .product::<f64>()
    }
}

/// Windows beyond which `Workload::of` bounds a whole run at once instead of window by window
/// (a million minutes, about two years): the estimate stays cheap for any duration.
const MAX_ESTIMATE_WINDOWS: u64 = 1_000_000;

/// What the arrivals of a service ask of the simulator over `[0, end)`: the size checks of
/// `scenario::budget` read it before the first event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Workload {
    /// Expected candidates drawn by thinning (an upper bound of the expected arrivals): the
    /// integral of the per-window rate bound, which is the sampling work itself.
    pub candidates: f64,
    /// The highest rate the arrivals reach, in requests per second.
    pub peak_rate_per_s: f64,
}

impl Workload {
    /// The work of `arrivals` over `[0, end)`, window by window as `ArrivalProcess` bounds
    /// the rate (whole-run bounds past `MAX_ESTIMATE_WINDOWS` windows). Not for the event path.
    pub fn of(arrivals: &Arrivals, end: SimTime) -> Workload {
        let end_us = end.0 as f64;
        let windows = end.0.div_ceil(BOUND_WINDOW_US);
        let bound = |start: f64, end: f64| -> f64 {
            arrivals.rate_per_s
                * arrivals
                    .profile
                    .iter()
                    .map(|p| max_factor(p, start, end))
                    .product::<f64>()
        };
        if windows > MAX_ESTIMATE_WINDOWS {
            let peak = bound(0.0, end_us);
            return Workload {
                candidates: peak * end.0 as f64 / MICROS_PER_SECOND as f64,
                peak_rate_per_s: peak,
            };
        }
        let mut out = Workload {
            candidates: 0.0,
            peak_rate_per_s: 0.0,
        };
        for w in 0..windows {
            let start = (w * BOUND_WINDOW_US) as f64;
            let stop = (start + BOUND_WINDOW_US as f64).min(end_us);
            let rate = bound(start, start + BOUND_WINDOW_US as f64);
            out.candidates += rate * (stop - start) / MICROS_PER_SECOND as f64;
            out.peak_rate_per_s = out.peak_rate_per_s.max(rate);
        }
        out
    }
}

/// The factor a profile applies at time `t_us`.
fn factor(profile: &RateProfile, t_us: f64) -> f64 {
    match profile {
        RateProfile::Constant => 1.0,
        RateProfile::Diurnal {
            peak_to_trough,
            peak_hour,
        } => {
            let trough = 1.0 / peak_to_trough;
            let phase = (t_us - peak_hour * 3_600.0 * MICROS_PER_SECOND as f64) / DAY_US;
            let wave = 0.5 * (1.0 + (std::f64::consts::TAU * phase).cos());
            trough + (1.0 - trough) * wave
        }
        RateProfile::Steps(steps) => step_factor(steps, t_us),
        RateProfile::Spikes(spikes) => spikes
            .iter()
            .filter(|s| spike_active(s, t_us, t_us))
            .map(|s| s.factor)
            .product(),
        RateProfile::Points(points) => linear_factor(points, t_us),
    }
}

/// An upper bound of a profile's factor over `[start, end)`.
fn max_factor(profile: &RateProfile, start: f64, end: f64) -> f64 {
    match profile {
        RateProfile::Constant => 1.0,
        RateProfile::Diurnal { peak_hour, .. } => {
            let peak_us = peak_hour * 3_600.0 * MICROS_PER_SECOND as f64;
            let next_peak = next_daily(peak_us, start);
            if next_peak < end {
                1.0
            } else {
                // Monotone between peak and trough within one window: the larger endpoint.
                factor(profile, start).max(factor(profile, end))
            }
        }
        RateProfile::Steps(steps) => inside(steps, start, end)
            .map(|p| p.factor)
            .fold(step_factor(steps, start), f64::max),
        RateProfile::Spikes(spikes) => spikes
            .iter()
            .filter(|s| spike_active(s, start, end))
            .map(|s| s.factor.max(1.0))
            .product(),
        RateProfile::Points(points) => inside(points, start, end).map(|p| p.factor).fold(
            linear_factor(points, start).max(linear_factor(points, end)),
            f64::max,
        ),
    }
}

/// A lower bound of a profile's factor over `[start, end)`, as the rate function computes it:
/// each factor is at least this at every time of the window, rounding included.
fn min_factor(profile: &RateProfile, start: f64, end: f64) -> f64 {
    match profile {
        RateProfile::Constant => 1.0,
        RateProfile::Diurnal {
            peak_to_trough,
            peak_hour,
        } => {
            // The computed factor is `trough` plus a non-negative term, so never below `trough`.
            let trough = 1.0 / peak_to_trough;
            let trough_us = (peak_hour + 12.0) * 3_600.0 * MICROS_PER_SECOND as f64;
            let next_trough = next_daily(trough_us, start);
            if next_trough < end {
                trough
            } else {
                // Monotone between peak and trough within one window: the smaller endpoint.
                let low = factor(profile, start).min(factor(profile, end));
                (low - DIURNAL_SLACK).max(trough)
            }
        }
        RateProfile::Steps(steps) => inside(steps, start, end)
            .map(|p| p.factor)
            .fold(step_factor(steps, start), f64::min),
        // Every spike active somewhere in the window, each counted at most 1: the product
        // (in the rate's own order) of factors no larger than the rate's.
        RateProfile::Spikes(spikes) => spikes
            .iter()
            .filter(|s| spike_active(s, start, end))
            .map(|s| s.factor.min(1.0))
            .product(),
        // Linear, hence monotone, between points: the smaller endpoint of each piece. At a point
        // inside the window both its factor and the value interpolated up to it count, as they
        // may differ by rounding.
        RateProfile::Points(points) => inside(points, start, end)
            .map(|p| p.factor.min(linear_factor(points, p.at.0 as f64)))
            .fold(
                linear_factor(points, start).min(linear_factor(points, end)),
                f64::min,
            ),
    }
}

/// The profile points strictly inside the window `(start, end)`.
fn inside(points: &[ProfilePoint], start: f64, end: f64) -> impl Iterator<Item = &ProfilePoint> {
    points
        .iter()
        .filter(move |p| (p.at.0 as f64) > start && (p.at.0 as f64) < end)
}

/// The first time at or after `start` of a daily instant whose first occurrence is at
/// `first_us` (a diurnal profile's peak or trough).
fn next_daily(first_us: f64, start: f64) -> f64 {
    first_us + ((start - first_us) / DAY_US).ceil() * DAY_US
}

fn step_factor(steps: &[ProfilePoint], t_us: f64) -> f64 {
    steps
        .iter()
        .take_while(|p| p.at.0 as f64 <= t_us)
        .last()
        .map_or(1.0, |p| p.factor)
}

fn spike_active(spike: &Spike, start: f64, end: f64) -> bool {
    let s = spike.start.0 as f64;
    let e = s + spike.duration.0 as f64;
    s <= end && e > start
}

fn linear_factor(points: &[ProfilePoint], t_us: f64) -> f64 {
    let Some(first) = points.first() else {
        return 1.0;
    };
    if t_us <= first.at.0 as f64 {
        return first.factor;
    }
    for pair in points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (ta, tb) = (a.at.0 as f64, b.at.0 as f64);
        if t_us <= tb {
            return a.factor + (b.factor - a.factor) * (t_us - ta) / (tb - ta);
        }
    }
    points.last().map_or(1.0, |p| p.factor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;
    use crate::units::SimDuration;

    fn hours(h: f64) -> SimTime {
        SimTime((h * 3_600.0 * MICROS_PER_SECOND as f64) as u64)
    }

    fn count_between(process: &mut ArrivalProcess, from: SimTime, to: SimTime) -> u64 {
        let mut rng = stream(3, "test");
        let mut n = 0;
        while let Some(t) = process.next_after(&mut rng, to) {
            if t >= from {
                n += 1;
            }
        }
        n
    }

    #[test]
    fn constant_rate_matches_its_mean() {
        // 100/s over 1000 s: 100000 expected, sd 316; 4 sd is 1265.
        let mut p = ArrivalProcess::new(&Arrivals {
            rate_per_s: 100.0,
            profile: vec![],
        });
        let n = count_between(&mut p, SimTime::ZERO, SimTime(1_000 * MICROS_PER_SECOND));
        assert!((n as i64 - 100_000).abs() < 1_265, "{n}");
    }

    #[test]
    fn diurnal_profile_peaks_and_troughs_where_asked() {
        let arrivals = Arrivals {
            rate_per_s: 100.0,
            profile: vec![RateProfile::Diurnal {
                peak_to_trough: 4.0,
                peak_hour: 14.0,
            }],
        };
        let p = ArrivalProcess::new(&arrivals);
        assert!((p.rate_per_s(hours(14.0)) - 100.0).abs() < 1e-9);
        assert!((p.rate_per_s(hours(2.0)) - 25.0).abs() < 1e-9);
        assert!(
            (p.rate_per_s(hours(38.0)) - 100.0).abs() < 1e-6,
            "repeats daily"
        );
        // Mean over a day is (1 + 1/4) / 2 = 0.625 of the peak: 5.4M arrivals, sd ~2300.
        let mut p = ArrivalProcess::new(&arrivals);
        let n = count_between(&mut p, SimTime::ZERO, hours(24.0));
        assert!((n as f64 - 5_400_000.0).abs() < 10_000.0, "{n}");
    }

    #[test]
    fn spikes_and_steps_shape_the_count() {
        // Steps: 10/s for 1h, then factor 3 for 1h: 36000 + 108000 = 144000 (sd 380).
        let mut p = ArrivalProcess::new(&Arrivals {
            rate_per_s: 10.0,
            profile: vec![RateProfile::Steps(vec![ProfilePoint {
                at: hours(1.0),
                factor: 3.0,
            }])],
        });
        let n = count_between(&mut p, SimTime::ZERO, hours(2.0));
        assert!((n as f64 - 144_000.0).abs() < 1_600.0, "{n}");
        // A 10-minute spike of factor 5 on 10/s: inside it, 600 s x 50/s = 30000 (sd 173).
        let start = hours(1.0);
        let mut p = ArrivalProcess::new(&Arrivals {
            rate_per_s: 10.0,
            profile: vec![RateProfile::Spikes(vec![Spike {
                start,
                duration: SimDuration::from_secs(600),
                factor: 5.0,
            }])],
        });
        let n = count_between(&mut p, start, start + SimDuration::from_secs(600));
        assert!((n as f64 - 30_000.0).abs() < 700.0, "{n}");
    }

    #[test]
    fn points_interpolate_linearly_and_zero_rate_means_silence() {
        let arrivals = Arrivals {
            rate_per_s: 10.0,
            profile: vec![RateProfile::Points(vec![
                ProfilePoint {
                    at: hours(0.0),
                    factor: 0.0,
                },
                ProfilePoint {
                    at: hours(1.0),
                    factor: 0.0,
                },
                ProfilePoint {
                    at: hours(2.0),
                    factor: 2.0,
                },
            ])],
        };
        let p = ArrivalProcess::new(&arrivals);
        assert!((p.rate_per_s(hours(1.5)) - 10.0).abs() < 1e-9);
        assert!((p.rate_per_s(hours(5.0)) - 20.0).abs() < 1e-9);
        let mut p = ArrivalProcess::new(&arrivals);
        assert_eq!(count_between(&mut p, SimTime::ZERO, hours(1.0)), 0);
        // From 1h to 2h the mean rate is 10/s: 36000 (sd 190).
        let mut p = ArrivalProcess::new(&arrivals);
        let n = count_between(&mut p, hours(1.0), hours(2.0));
        assert!((n as f64 - 36_000.0).abs() < 800.0, "{n}");
    }

    #[test]
    fn bounds_dominate_the_rate_in_every_window() {
        let profiles = [
            RateProfile::Diurnal {
                peak_to_trough: 6.0,
                peak_hour: 9.5,
            },
            RateProfile::Points(vec![
                ProfilePoint {
                    at: hours(1.0),
                    factor: 0.2,
                },
                ProfilePoint {
                    at: hours(1.01),
                    factor: 4.0,
                },
            ]),
        ];
        for profile in &profiles {
            for w in 0..(48 * 60) {
                let start = (w * BOUND_WINDOW_US) as f64;
                let bound = max_factor(profile, start, start + BOUND_WINDOW_US as f64);
                for k in 0..=60 {
                    let t = start + k as f64 * 1e6;
                    assert!(factor(profile, t) <= bound + 1e-12, "{profile:?} at {t}");
                }
            }
        }
    }

    fn at_s(s: f64) -> SimTime {
        SimTime((s * MICROS_PER_SECOND as f64) as u64)
    }

    fn point(at: SimTime, factor: f64) -> ProfilePoint {
        ProfilePoint { at, factor }
    }

    fn spike(start: SimTime, duration_s: u64, factor: f64) -> Spike {
        Spike {
            start,
            duration: SimDuration::from_secs(duration_s),
            factor,
        }
    }

    /// A diurnal wave, spikes and steps, like the reference scenario's vector-store load but
    /// with more edges, each inside a minute window rather than on its boundary.
    fn diurnal_spikes_steps() -> Vec<RateProfile> {
        vec![
            RateProfile::Diurnal {
                peak_to_trough: 4.0,
                peak_hour: 14.25,
            },
            RateProfile::Spikes(vec![
                spike(at_s(36_017.3), 900, 1.6),
                spike(at_s(36_500.9), 120, 0.3),
                spike(at_s(70_000.5), 45, 0.0),
            ]),
            RateProfile::Steps(vec![
                point(at_s(20_000.25), 1.5),
                point(at_s(50_030.75), 0.7),
                point(at_s(100_010.125), 1.0),
            ]),
        ]
    }

    /// Every profile kind, one each, with a feature (peak, trough, step, spike edge, linear
    /// point) inside some window rather than on a window's edge, and the times of those features.
    fn every_kind() -> (Vec<RateProfile>, Vec<SimTime>) {
        let profiles = vec![
            RateProfile::Constant,
            RateProfile::Diurnal {
                peak_to_trough: 6.0,
                peak_hour: 9.507,
            },
            // A trough a million times below the peak: the cosine's rounding near the trough is
            // then a visible fraction of the factor.
            RateProfile::Diurnal {
                peak_to_trough: 1e6,
                peak_hour: 23.99,
            },
            RateProfile::Steps(vec![
                point(at_s(3_617.3), 2.5),
                point(at_s(3_637.3), 0.4),
                point(at_s(108_005.000_001), 0.0),
                point(at_s(108_031.0), 3.0),
            ]),
            RateProfile::Spikes(vec![
                spike(at_s(7_210.5), 30, 5.0),
                spike(at_s(7_230.5), 600, 0.25),
                spike(at_s(90_000.7), 10, 0.0),
            ]),
            RateProfile::Points(vec![
                point(at_s(3_600.0), 0.2),
                point(at_s(3_636.0), 4.0),
                point(at_s(43_210.9), 1e-3),
                point(at_s(43_230.1), 1e6),
                point(at_s(43_255.0), 0.0),
                point(at_s(43_300.0), 1.0),
            ]),
        ];
        let mut edges = vec![];
        for profile in &profiles {
            match profile {
                RateProfile::Constant => {}
                RateProfile::Diurnal { peak_hour, .. } => {
                    for day in 0..2 {
                        for h in [0.0, 12.0] {
                            edges.push(hours(peak_hour + h + 24.0 * day as f64));
                        }
                    }
                }
                RateProfile::Steps(points) | RateProfile::Points(points) => {
                    edges.extend(points.iter().map(|p| p.at));
                }
                RateProfile::Spikes(spikes) => {
                    edges.extend(spikes.iter().flat_map(|s| [s.start, s.start + s.duration]));
                }
            }
        }
        (profiles, edges)
    }

    #[test]
    fn squeeze_never_exceeds_the_rate() {
        let (kinds, edges) = every_kind();
        let mut profiles: Vec<Vec<RateProfile>> = kinds.iter().map(|k| vec![k.clone()]).collect();
        profiles.push(diurnal_spikes_steps());
        profiles.push(kinds.clone());
        profiles.push(vec![kinds[1].clone(), kinds[5].clone()]);
        profiles.push(vec![kinds[2].clone(), kinds[4].clone(), kinds[3].clone()]);
        let mut rng = stream(11, "probes");
        let window = BOUND_WINDOW_US as f64;
        for profile in profiles {
            let p = &mut ArrivalProcess::new(&Arrivals {
                rate_per_s: 5_000.0,
                profile,
            });
            for w in 0..(48 * 60) {
                let start = (w * BOUND_WINDOW_US) as f64;
                p.start_window(start);
                assert!(p.window_floor_per_us <= p.window_bound_per_us);
                // Each second, random times, each feature and a microsecond either side, and
                // the last representable instants of the window.
                let mut probes: Vec<f64> = (0..60).map(|k| start + k as f64 * 1e6).collect();
                probes.extend((0..40).map(|_| start + rng.random::<f64>() * window));
                for edge in &edges {
                    let e = edge.0 as f64;
                    probes.extend([e - 1.0, e - 1e-3, e, e + 1e-3, e + 1.0]);
                }
                probes.extend([start + window - 1.0, start + window - 1e-3]);
                for t in probes
                    .into_iter()
                    .filter(|&t| t >= start && t < p.window_end_us)
                {
                    let rate = p.rate_per_us(t);
                    assert!(
                        p.window_floor_per_us <= rate,
                        "{:?} at {t}: floor {} above rate {rate}",
                        p.profile,
                        p.window_floor_per_us
                    );
                    assert!(rate <= p.window_bound_per_us * (1.0 + 1e-12));
                }
            }
        }
    }

    #[test]
    fn squeeze_leaves_few_candidates_to_the_exact_rate() {
        // Within a minute, the share of candidates the squeeze cannot decide is the rate's
        // relative change. A daily cosine changes by at most (1 - 1/4) x pi / 86400 s x 60 s
        // = 0.16% of the peak, 0.35% of the rate where the rate is lowest; over the day the
        // shares add up to the change of ln(rate): 2 ln 4, or 0.193% per window on average.
        let mut p = ArrivalProcess::new(&Arrivals {
            rate_per_s: 100.0,
            profile: vec![RateProfile::Diurnal {
                peak_to_trough: 4.0,
                peak_hour: 14.0,
            }],
        });
        let mut undecided = 0.0;
        for w in 0..(24 * 60) {
            p.start_window((w * BOUND_WINDOW_US) as f64);
            let share = 1.0 - p.window_floor_per_us / p.window_bound_per_us;
            assert!(share < 0.004, "window {w}: {share}");
            undecided += share / (24.0 * 60.0);
        }
        let average = 2.0 * 4f64.ln() / (24.0 * 60.0);
        assert!(
            (undecided - average).abs() < 1e-5,
            "{undecided}, not {average}"
        );
    }

    #[test]
    fn counts_over_a_day_match_the_integrated_rate() {
        let arrivals = Arrivals {
            rate_per_s: 40.0,
            profile: diurnal_spikes_steps(),
        };
        let reference = ArrivalProcess::new(&arrivals);
        let mut p = ArrivalProcess::new(&arrivals);
        let mut rng = stream(5, "arrivals/day");
        // Eight 3-hour windows: arrivals counted, rate integrated by the midpoint rule (1 s).
        let mut counts = [0u64; 8];
        while let Some(t) = p.next_after(&mut rng, hours(24.0)) {
            counts[((t.0 / (3 * 3_600 * MICROS_PER_SECOND)) as usize).min(7)] += 1;
        }
        for (i, &n) in counts.iter().enumerate() {
            let expected: f64 = (0..3 * 3_600)
                .map(|s| reference.rate_per_s(at_s((i * 3 * 3_600 + s) as f64 + 0.5)))
                .sum();
            // Poisson: the standard deviation is the square root of the mean (about 500 here).
            let sd = expected.sqrt();
            assert!(
                (n as f64 - expected).abs() < 4.0 * sd,
                "window {i}: {n} arrivals, {expected:.0} expected (sd {sd:.0})"
            );
        }
    }

    #[test]
    fn workload_bounds_the_integrated_rate_closely() {
        let arrivals = Arrivals {
            rate_per_s: 40.0,
            profile: diurnal_spikes_steps(),
        };
        let process = ArrivalProcess::new(&arrivals);
        let day = hours(24.0);
        let integral: f64 = (0..86_400)
            .map(|s| process.rate_per_s(at_s(s as f64 + 0.5)))
            .sum();
        let peak = (0..86_400)
            .map(|s| process.rate_per_s(at_s(s as f64 + 0.5)))
            .fold(0.0, f64::max);
        let w = Workload::of(&arrivals, day);
        // An upper bound, and a close one: the bound is held per minute only.
        assert!(w.candidates >= integral, "{} < {integral}", w.candidates);
        assert!(
            w.candidates < integral * 1.02,
            "{} vs {integral}",
            w.candidates
        );
        assert!(
            w.peak_rate_per_s >= peak && w.peak_rate_per_s < peak * 1.01,
            "{} vs {peak}",
            w.peak_rate_per_s
        );
        // A run too long to bound window by window is bounded at its peak throughout.
        let long = Workload::of(&arrivals, SimTime(2_000_000 * BOUND_WINDOW_US));
        assert!(long.peak_rate_per_s >= w.peak_rate_per_s);
        let long_s = 2_000_000.0 * 60.0;
        assert!((long.candidates - long.peak_rate_per_s * long_s).abs() < 1e-6 * long.candidates);
    }

    #[test]
    fn squeeze_changes_no_decision() {
        // 200,000 arrivals (about two days at this rate) through the same random stream, with
        // and without the squeeze: the same times, and the streams end in the same state.
        let arrivals = Arrivals {
            rate_per_s: 1.6,
            profile: diurnal_spikes_steps(),
        };
        let mut fast = ArrivalProcess::new(&arrivals);
        let mut exact = ArrivalProcess::new(&arrivals);
        let mut fast_rng = stream(9, "arrivals/same");
        let mut exact_rng = stream(9, "arrivals/same");
        let horizon = hours(24.0 * 365.0);
        for i in 0..200_000 {
            let a = fast.next_with::<true>(&mut fast_rng, horizon);
            let b = exact.next_with::<false>(&mut exact_rng, horizon);
            assert_eq!(a, b, "arrival {i}");
            assert_eq!(fast.last_exact_us.to_bits(), exact.last_exact_us.to_bits());
        }
        assert!(fast.last_exact_us > 2.0 * DAY_US, "{}", fast.last_exact_us);
        assert_eq!(fast_rng.random::<u64>(), exact_rng.random::<u64>());
    }
}
