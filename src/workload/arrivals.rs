//! Request arrivals: a Poisson process whose rate follows the service's profile over time.
//!
//! Use `ArrivalProcess::next_after` to draw the next arrival time. A non-homogeneous Poisson
//! process is sampled by thinning (Lewis and Shedler, 1979) against a piecewise-constant bound
//! recomputed every `BOUND_WINDOW`, so a short spike does not make the whole day expensive; a
//! constant rate skips thinning altogether. This module knows nothing about pods or queues.

use rand::RngExt;
use rand_distr::Exp1;

use crate::engine::rng::SimRng;
use crate::units::{MICROS_PER_SECOND, SimTime, round_to_u64};
use crate::workload::spec::{Arrivals, ProfilePoint, RateProfile, Spike};

/// Width of the windows over which the thinning bound is held constant.
const BOUND_WINDOW_US: u64 = 60 * MICROS_PER_SECOND;
/// Microseconds in a day: the period of the diurnal profile.
const DAY_US: f64 = 86_400.0 * MICROS_PER_SECOND as f64;

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
        }
    }

    /// The arrival rate at `t`, in requests per second.
    pub fn rate_per_s(&self, t: SimTime) -> f64 {
        self.rate_per_us(t.0 as f64) * MICROS_PER_SECOND as f64
    }

    /// The time of the next arrival, or `None` if none happens before `horizon`.
    #[inline]
    pub fn next_after(&mut self, rng: &mut SimRng, horizon: SimTime) -> Option<SimTime> {
        let horizon_us = horizon.0 as f64;
        if self.constant {
            let gap: f64 = rng.sample(Exp1);
            self.last_exact_us += gap * self.mean_gap_us;
        } else {
            self.thin(rng, horizon_us);
        }
        (self.last_exact_us <= horizon_us).then(|| SimTime(round_to_u64(self.last_exact_us)))
    }

    /// Advances `last_exact_us` to the next accepted arrival (or past the horizon).
    fn thin(&mut self, rng: &mut SimRng, horizon_us: f64) {
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
            if accept * self.window_bound_per_us <= self.rate_per_us(t) {
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
        self.window_end_us = end;
        self.window_bound_per_us = self.base_rate_per_us * bound;
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
            // The first peak at or after `start`.
            let next_peak = peak_us + ((start - peak_us) / DAY_US).ceil() * DAY_US;
            if next_peak < end {
                1.0
            } else {
                // Monotone between peak and trough within one window: the larger endpoint.
                factor(profile, start).max(factor(profile, end))
            }
        }
        RateProfile::Steps(steps) => steps
            .iter()
            .filter(|p| (p.at.0 as f64) > start && (p.at.0 as f64) < end)
            .map(|p| p.factor)
            .fold(step_factor(steps, start), f64::max),
        RateProfile::Spikes(spikes) => spikes
            .iter()
            .filter(|s| spike_active(s, start, end))
            .map(|s| s.factor.max(1.0))
            .product(),
        RateProfile::Points(points) => points
            .iter()
            .filter(|p| (p.at.0 as f64) > start && (p.at.0 as f64) < end)
            .map(|p| p.factor)
            .fold(
                linear_factor(points, start).max(linear_factor(points, end)),
                f64::max,
            ),
    }
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
}
