//! Units of measure shared by every module: simulated time, CPU, memory, extended resources
//! (whole devices such as GPUs), and distributions of durations (as data; `workload::cost`
//! samples them).
//!
//! Use these newtypes wherever a number has a unit, so that a millicore can never be added to a
//! byte and a duration is never mistaken for an instant. Conversions to floating point exist only
//! for reporting. This module does no parsing: the Kubernetes notations (`500m`, `4Gi`, `90s`)
//! are read by `scenario`.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};

/// `x` rounded half up to an integer, saturating at 0 below and `u64::MAX` above.
///
/// Used on the hot path instead of `f64::round`, which is a library call on baseline x86-64;
/// a float-to-integer cast truncates and saturates in one instruction.
#[inline]
pub fn round_to_u64(x: f64) -> u64 {
    (x + 0.5) as u64
}

/// Microseconds in one simulated second.
pub const MICROS_PER_SECOND: u64 = 1_000_000;

/// An instant of simulated time, in microseconds since the start of the run.
///
/// Integer time makes event ordering exact: there is no epsilon and no drift over a long run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(pub u64);

/// A span of simulated time, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);

    /// Microseconds since the start of the run.
    pub fn as_micros(self) -> u64 {
        self.0
    }

    /// Seconds since the start of the run, for reporting.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SECOND as f64
    }

    /// The time elapsed since `earlier`, zero if `earlier` is later.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A duration of whole seconds.
    pub const fn from_secs(secs: u64) -> SimDuration {
        SimDuration(secs * MICROS_PER_SECOND)
    }

    /// A duration of whole milliseconds.
    pub const fn from_millis(millis: u64) -> SimDuration {
        SimDuration(millis * 1_000)
    }

    /// A duration from fractional seconds, rounded to the nearest microsecond (negative is zero).
    pub fn from_secs_f64(secs: f64) -> SimDuration {
        SimDuration(round_to_u64(secs * MICROS_PER_SECOND as f64))
    }

    /// Microseconds in this duration.
    pub fn as_micros(self) -> u64 {
        self.0
    }

    /// Seconds in this duration, for reporting and rates.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SECOND as f64
    }

    /// Milliseconds in this duration, for reporting latency.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1_000.0
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0 + rhs.0)
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, rhs: SimDuration) {
        self.0 += rhs.0;
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0 + rhs.0)
    }
}

impl fmt::Display for SimDuration {
    /// Go-style, the way the scenario file writes durations: `1h30m0s`, `15s`, `250ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        if us == 0 {
            return f.write_str("0s");
        }
        if us < MICROS_PER_SECOND {
            return if us.is_multiple_of(1_000) {
                write!(f, "{}ms", us / 1_000)
            } else {
                write!(f, "{}us", us)
            };
        }
        let total_secs = us / MICROS_PER_SECOND;
        let frac_us = us % MICROS_PER_SECOND;
        let (h, m, s) = (total_secs / 3600, (total_secs / 60) % 60, total_secs % 60);
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if h > 0 || m > 0 {
            write!(f, "{m}m")?;
        }
        if frac_us == 0 {
            write!(f, "{s}s")
        } else {
            let frac = format!("{frac_us:06}");
            write!(f, "{s}.{}s", frac.trim_end_matches('0'))
        }
    }
}

impl fmt::Display for SimTime {
    /// The instant as the duration since the start of the run.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        SimDuration(self.0).fmt(f)
    }
}

macro_rules! quantity_newtype {
    ($(#[$doc:meta])* $name:ident, $suffix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub u64);

        impl $name {
            /// None of this resource.
            pub const ZERO: $name = $name(0);

            /// `self - rhs`, or zero when `rhs` is larger.
            pub fn saturating_sub(self, rhs: $name) -> $name {
                $name(self.0.saturating_sub(rhs.0))
            }
        }

        impl Add for $name {
            type Output = $name;
            fn add(self, rhs: $name) -> $name {
                $name(self.0 + rhs.0)
            }
        }

        impl AddAssign for $name {
            fn add_assign(&mut self, rhs: $name) {
                self.0 += rhs.0;
            }
        }

        impl Sub for $name {
            type Output = $name;
            fn sub(self, rhs: $name) -> $name {
                $name(self.0 - rhs.0)
            }
        }

        impl SubAssign for $name {
            fn sub_assign(&mut self, rhs: $name) {
                self.0 -= rhs.0;
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", self.0, $suffix)
            }
        }
    };
}

quantity_newtype!(
    /// CPU in millicores (1000 = one vCPU), the unit Kubernetes uses for CPU requests.
    Millicores,
    "m"
);

quantity_newtype!(
    /// Memory in bytes.
    Bytes,
    "B"
);

impl Millicores {
    /// Whole cores as millicores.
    pub const fn from_cores(cores: u64) -> Millicores {
        Millicores(cores * 1_000)
    }

    /// Cores as a float, for reporting.
    pub fn as_cores_f64(self) -> f64 {
        self.0 as f64 / 1_000.0
    }
}

impl Bytes {
    /// One gibibyte.
    pub const GIB: u64 = 1 << 30;
    /// One mebibyte.
    pub const MIB: u64 = 1 << 20;

    /// Gibibytes as bytes.
    pub const fn from_gib(gib: u64) -> Bytes {
        Bytes(gib * Self::GIB)
    }

    /// Gibibytes as a float, for reporting.
    pub fn as_gib_f64(self) -> f64 {
        self.0 as f64 / Self::GIB as f64
    }
}

/// Most distinct extended resources (`nvidia.com/gpu`, ...) one scenario may name. Kept small so
/// that `Resources` stays a cheap `Copy` value on the scheduling path.
pub const MAX_EXTENDED_RESOURCES: usize = 4;

/// Whole-unit amounts of a scenario's extended resources (devices such as GPUs), indexed by the
/// position of the resource's name in the scenario's table of extended resource names.
///
/// Kubernetes counts extended resources in whole units and never overcommits them, so a plain
/// count per resource is the whole model. A count is at most `u16::MAX` (devices per node are
/// far fewer), which keeps `Resources` at 24 bytes on the scheduler's hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ExtendedResources(pub [u16; MAX_EXTENDED_RESOURCES]);

impl ExtendedResources {
    /// None of any extended resource.
    pub const ZERO: ExtendedResources = ExtendedResources([0; MAX_EXTENDED_RESOURCES]);

    /// Whether every amount is zero.
    #[inline]
    pub fn is_zero(&self) -> bool {
        self.0 == [0; MAX_EXTENDED_RESOURCES]
    }

    /// Whether every amount is at most the same resource's amount in `capacity`.
    #[inline]
    pub fn fits_within(&self, capacity: &ExtendedResources) -> bool {
        self.is_zero() || self.0.iter().zip(&capacity.0).all(|(a, c)| a <= c)
    }

    /// `self - rhs` per resource, zero where `rhs` is larger.
    pub fn saturating_sub(&self, rhs: &ExtendedResources) -> ExtendedResources {
        let mut out = *self;
        for (o, r) in out.0.iter_mut().zip(&rhs.0) {
            *o = o.saturating_sub(*r);
        }
        out
    }

    /// The larger amount of each resource.
    pub fn max(&self, other: &ExtendedResources) -> ExtendedResources {
        let mut out = *self;
        for (o, r) in out.0.iter_mut().zip(&other.0) {
            *o = (*o).max(*r);
        }
        out
    }
}

impl AddAssign for ExtendedResources {
    fn add_assign(&mut self, rhs: ExtendedResources) {
        for (a, b) in self.0.iter_mut().zip(rhs.0) {
            *a += b;
        }
    }
}

impl SubAssign for ExtendedResources {
    fn sub_assign(&mut self, rhs: ExtendedResources) {
        for (a, b) in self.0.iter_mut().zip(rhs.0) {
            *a -= b;
        }
    }
}

/// CPU, memory and extended-resource amounts: a pod's requests or limits, a node's allocatable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Resources {
    /// CPU in millicores.
    pub cpu: Millicores,
    /// Memory in bytes.
    pub memory: Bytes,
    /// Extended resources (GPUs and other devices), in whole units.
    pub extended: ExtendedResources,
}

impl Resources {
    /// No resources.
    pub const ZERO: Resources = Resources {
        cpu: Millicores::ZERO,
        memory: Bytes::ZERO,
        extended: ExtendedResources::ZERO,
    };

    /// CPU and memory from millicores and bytes, with no extended resources.
    pub const fn new(cpu_millicores: u64, memory_bytes: u64) -> Resources {
        Resources {
            cpu: Millicores(cpu_millicores),
            memory: Bytes(memory_bytes),
            extended: ExtendedResources::ZERO,
        }
    }

    /// CPU and memory, with no extended resources.
    pub const fn cpu_memory(cpu: Millicores, memory: Bytes) -> Resources {
        Resources {
            cpu,
            memory,
            extended: ExtendedResources::ZERO,
        }
    }

    /// Whether every amount fits within `capacity`.
    #[inline]
    pub fn fits_within(&self, capacity: &Resources) -> bool {
        self.cpu <= capacity.cpu
            && self.memory <= capacity.memory
            && self.extended.fits_within(&capacity.extended)
    }

    /// `self - rhs` per resource, zero where `rhs` is larger.
    pub fn saturating_sub(&self, rhs: &Resources) -> Resources {
        Resources {
            cpu: self.cpu.saturating_sub(rhs.cpu),
            memory: self.memory.saturating_sub(rhs.memory),
            extended: self.extended.saturating_sub(&rhs.extended),
        }
    }
}

impl Add for Resources {
    type Output = Resources;
    fn add(mut self, rhs: Resources) -> Resources {
        self += rhs;
        self
    }
}

impl AddAssign for Resources {
    fn add_assign(&mut self, rhs: Resources) {
        self.cpu += rhs.cpu;
        self.memory += rhs.memory;
        self.extended += rhs.extended;
    }
}

impl SubAssign for Resources {
    fn sub_assign(&mut self, rhs: Resources) {
        self.cpu -= rhs.cpu;
        self.memory -= rhs.memory;
        self.extended -= rhs.extended;
    }
}

/// A distribution of durations: service times, image pulls, readiness delays, provisioning.
#[derive(Debug, Clone, PartialEq)]
pub enum DurationDist {
    /// Always the same duration.
    Constant(SimDuration),
    /// Exponential with the given mean (memoryless: the M in M/M/c).
    Exponential {
        /// Mean duration.
        mean: SimDuration,
    },
    /// Lognormal fitted to a mean and a 99th percentile (`p99 > mean`, `p99 / mean < 14.9`).
    Lognormal {
        /// Mean duration.
        mean: SimDuration,
        /// 99th percentile.
        p99: SimDuration,
    },
    /// Uniform between two bounds (inclusive of `min`).
    Uniform {
        /// Lower bound.
        min: SimDuration,
        /// Upper bound (`>= min`).
        max: SimDuration,
    },
}

impl DurationDist {
    /// The distribution's mean, for estimates made before a run (not for the event path).
    pub fn mean(&self) -> SimDuration {
        match *self {
            DurationDist::Constant(d) => d,
            DurationDist::Exponential { mean } | DurationDist::Lognormal { mean, .. } => mean,
            DurationDist::Uniform { min, max } => SimDuration(min.0 / 2 + max.0 / 2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_go_style() {
        let cases = [
            (0, "0s"),
            (250_000, "250ms"),
            (17, "17us"),
            (15_000_000, "15s"),
            (90_000_000, "1m30s"),
            (3_600_000_000, "1h0m0s"),
            (86_400_000_000, "24h0m0s"),
            (1_500_000, "1.5s"),
        ];
        for (us, text) in cases {
            assert_eq!(SimDuration(us).to_string(), text, "{us}us");
        }
    }

    #[test]
    fn rounding_is_half_up_and_saturating() {
        assert_eq!(round_to_u64(2.4999), 2);
        assert_eq!(round_to_u64(2.5), 3);
        assert_eq!(round_to_u64(-3.0), 0);
        assert_eq!(round_to_u64(f64::NAN), 0);
        assert_eq!(round_to_u64(1e30), u64::MAX);
    }

    #[test]
    fn resources_fit_componentwise() {
        let cap = Resources::new(4_000, 8 * Bytes::GIB);
        assert!(Resources::new(4_000, 8 * Bytes::GIB).fits_within(&cap));
        assert!(!Resources::new(4_001, 0).fits_within(&cap));
        assert!(!Resources::new(0, 8 * Bytes::GIB + 1).fits_within(&cap));
        let mut gpu_node = cap;
        gpu_node.extended.0[1] = 1;
        let mut gpu_pod = Resources::new(1_000, Bytes::GIB);
        gpu_pod.extended.0[1] = 1;
        assert!(gpu_pod.fits_within(&gpu_node));
        assert!(!gpu_pod.fits_within(&cap));
        gpu_pod.extended.0[1] = 2;
        assert!(!gpu_pod.fits_within(&gpu_node));
        assert_eq!(
            gpu_node.saturating_sub(&gpu_pod).extended,
            ExtendedResources::ZERO
        );
    }

    #[test]
    fn time_arithmetic_saturates_backwards() {
        let t = SimTime(10) + SimDuration(5);
        assert_eq!(t, SimTime(15));
        assert_eq!(t.since(SimTime(20)), SimDuration::ZERO);
        assert_eq!(t.since(SimTime(5)), SimDuration(10));
    }
}
