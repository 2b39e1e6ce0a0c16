//! Chart axes: the range, scale (linear, logarithmic or categories), ticks and tick labels.
//!
//! Use `Axis::fit` for data, `Axis::hours` for simulated time and `Axis::categories` for
//! non-numeric values. Every chart is drawn in plain `f64` coordinates: a log axis maps values
//! through `log10` (`Axis::pos`) and labels its ticks with the original values, and a category
//! axis puts category `i` at `i`. `Axis` is itself a plotters coordinate (`Ranged`), so every
//! chart has one coordinate type and tick labels come from the axis. This file computes; it
//! draws nothing.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

use crate::plot::style;

/// How to fit an axis to data.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Fit {
    /// The axis starts at 0 (for counts and rates).
    pub(crate) from_zero: bool,
    /// Ticks at whole numbers only (for counts).
    pub(crate) integer: bool,
    /// A logarithmic scale when the positive values span more than two decades.
    pub(crate) allow_log: bool,
    /// No margin beyond the values (for a color bar).
    pub(crate) tight: bool,
}

/// One axis of a chart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    ticks: Vec<f64>,
    categories: Option<Vec<String>>,
}

/// Most ticks on an axis.
const MAX_TICKS: usize = 10;

impl Axis {
    /// An axis over the finite values of `values` (0..1 when there are none), with a margin so
    /// lines do not run along the frame.
    pub(crate) fn fit(values: impl IntoIterator<Item = f64>, fit: Fit) -> Axis {
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut min_positive = f64::INFINITY;
        for v in values.into_iter().filter(|v| v.is_finite()) {
            min = min.min(v);
            max = max.max(v);
            if v > 0.0 {
                min_positive = min_positive.min(v);
            }
        }
        if min > max {
            (min, max) = (0.0, 1.0);
        }
        let margin = if fit.tight { 0.0 } else { 0.06 };
        if fit.allow_log && min > 0.0 && max / min_positive > 100.0 {
            return Axis::log(min_positive, max, margin);
        }
        if fit.from_zero {
            min = min.min(0.0);
            max = max.max(0.0);
        }
        let span = if max > min {
            max - min
        } else if max != 0.0 {
            max.abs()
        } else {
            1.0
        };
        let lo = if fit.from_zero && min == 0.0 {
            0.0
        } else {
            min - margin * span
        };
        let hi = max + margin * span;
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else {
            (lo - 0.5, hi + 0.5)
        };
        let ticks = nice_ticks(lo, hi, MAX_TICKS, fit.integer);
        Axis {
            lo,
            hi,
            log: false,
            ticks,
            categories: None,
        }
    }

    /// A logarithmic axis from `min` to `max` (both positive) with `margin` (a fraction of the
    /// decades spanned) on either side, ticks at 1, 2 and 5 times the
    /// powers of ten over up to four decades, and at the powers of ten beyond.
    fn log(min: f64, max: f64, margin: f64) -> Axis {
        let (a, b) = (min.log10(), max.log10());
        let pad = margin * (b - a).max(0.1);
        let (lo, hi) = (a - pad, b + pad);
        let multiples: &[f64] = if hi - lo <= 4.0 {
            &[1.0, 2.0, 5.0]
        } else {
            &[1.0]
        };
        let mut ticks = Vec::new();
        for decade in (lo.floor() as i32)..=(hi.ceil() as i32) {
            for m in multiples {
                let p = (m * 10f64.powi(decade)).log10();
                if (lo..=hi).contains(&p) {
                    ticks.push(p);
                }
            }
        }
        Axis {
            lo,
            hi,
            log: true,
            ticks,
            categories: None,
        }
    }

    /// Simulated time from 0 to `max_h` hours, ticked at whole clock steps (15 min, 1 h, 2 h,
    /// 3 h, 6 h, 12 h, days).
    pub(crate) fn hours(max_h: f64) -> Axis {
        let hi = if max_h.is_finite() && max_h > 0.0 {
            max_h
        } else {
            1.0
        };
        const STEPS_H: [f64; 11] = [0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 12.0, 24.0, 48.0, 168.0];
        let step = STEPS_H.iter().find(|&&s| hi / s <= 12.0);
        let ticks = match step {
            Some(&step) if hi >= STEPS_H[0] => (0..=((hi / step + 1e-9).floor() as usize))
                .map(|i| i as f64 * step)
                .collect(),
            _ => nice_ticks(0.0, hi, MAX_TICKS, false),
        };
        Axis {
            lo: 0.0,
            hi,
            log: false,
            ticks,
            categories: None,
        }
    }

    /// Categories in the order given, at 0, 1, 2…
    pub(crate) fn categories(names: Vec<String>) -> Axis {
        let n = names.len().max(1);
        Axis {
            lo: -0.5,
            hi: n as f64 - 0.5,
            log: false,
            ticks: (0..names.len()).map(|i| i as f64).collect(),
            categories: Some(names),
        }
    }

    /// Ticks exactly at `values` instead of round numbers, when they are few and far enough
    /// apart for their labels not to collide (for a swept parameter's values).
    pub(crate) fn ticks_at(mut self, values: &[f64]) -> Axis {
        let mut positions: Vec<f64> = values
            .iter()
            .map(|&v| self.pos(v))
            .filter(|p| p.is_finite())
            .collect();
        positions.sort_by(f64::total_cmp);
        positions.dedup();
        let min_gap = (self.hi - self.lo) / 14.0;
        let spaced = positions.windows(2).all(|w| w[1] - w[0] >= min_gap);
        if !positions.is_empty() && positions.len() <= 14 && spaced {
            self.ticks = positions;
        }
        self
    }

    /// Whether values are drawn on a logarithmic scale.
    pub(crate) fn is_log(&self) -> bool {
        self.log
    }

    /// `desc`, a description of what the axis measures, saying so when the scale is
    /// logarithmic, so that no chart labels a log axis as a linear one.
    pub(crate) fn describe(&self, desc: &str) -> String {
        if self.log {
            format!("{desc}, log scale")
        } else {
            desc.to_string()
        }
    }

    /// Where value `v` goes in chart coordinates (NaN for a value a log axis cannot show).
    pub(crate) fn pos(&self, v: f64) -> f64 {
        if self.log {
            if v > 0.0 { v.log10() } else { f64::NAN }
        } else {
            v
        }
    }

    /// The chart-coordinate range.
    pub(crate) fn span(&self) -> Range<f64> {
        self.lo..self.hi
    }

    /// The label of the tick at chart coordinate `p`.
    pub(crate) fn label(&self, p: f64) -> String {
        match &self.categories {
            Some(names) => {
                let i = p.round();
                if (p - i).abs() < 1e-6 && i >= 0.0 {
                    names.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            }
            None if self.log => style::number(10f64.powf(p)),
            None => style::number(p),
        }
    }

    /// The tick positions, in chart coordinates.
    pub(crate) fn ticks(&self) -> &[f64] {
        &self.ticks
    }
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    /// Linear in chart coordinates, as plotters maps its own `f64` ranges.
    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let fraction = (v - self.lo) / (self.hi - self.lo);
        let length = limit.1 - limit.0;
        if length == 0 {
            return limit.1;
        }
        if !fraction.is_finite() {
            return limit.0;
        }
        let offset = f64::from(length) * fraction;
        let offset = if length > 0 {
            (offset + 1e-3).floor()
        } else {
            (offset - 1e-3).ceil()
        };
        limit.0 + offset as i32
    }

    /// The axis's ticks for bold grid lines and labels; no light grid lines.
    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format(value: &f64) -> String {
        style::number(*value)
    }

    fn format_ext(&self, value: &f64) -> String {
        self.label(*value)
    }
}

/// Round-number ticks within `lo..=hi`: steps of 1, 2 or 5 times a power of ten, at most
/// `max` of them; whole-number steps only when `integer`.
pub(crate) fn nice_ticks(lo: f64, hi: f64, max: usize, integer: bool) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite() && hi > lo) || max == 0 {
        return vec![];
    }
    let raw = (hi - lo) / max as f64;
    let mut step = f64::INFINITY;
    let base = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * base >= raw {
            step = m * base;
            break;
        }
    }
    if integer {
        step = step.max(1.0).round();
    }
    // The tolerance keeps -0.3 / 0.1 = -2.9999999999999996 from dropping the tick at -0.3.
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last)
        .map(|i| {
            let v = i as f64 * step;
            // 0.30000000000000004 → 0.3.
            (v / step).round() * step
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks_are_round_and_few() {
        let cases: [(f64, f64, bool, &[f64]); 5] = [
            (
                0.0,
                10.0,
                false,
                &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
            ),
            (
                0.0,
                47.0,
                false,
                &[0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0],
            ),
            // 0..2.1 would take steps of 0.5 but replicas are whole.
            (0.0, 2.1, true, &[0.0, 1.0, 2.0]),
            (0.0, 2.1, false, &[0.0, 0.5, 1.0, 1.5, 2.0]),
            (-0.3, 0.3, false, &[-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3]),
        ];
        for (lo, hi, integer, want) in cases {
            let ticks = nice_ticks(lo, hi, MAX_TICKS, integer);
            assert_eq!(ticks.len(), want.len(), "{lo}..{hi}: {ticks:?}");
            for (t, w) in ticks.iter().zip(want) {
                assert!((t - w).abs() < 1e-12, "{lo}..{hi}: {ticks:?}");
            }
        }
        assert!(nice_ticks(1.0, 1.0, MAX_TICKS, false).is_empty());
    }

    #[test]
    fn fit_chooses_log_beyond_two_decades_of_positive_values() {
        let log = Fit {
            allow_log: true,
            ..Fit::default()
        };
        // 2 to 3000 ms: more than two decades.
        let axis = Axis::fit([2.0, 30.0, 3000.0, f64::NAN], log);
        assert!(axis.is_log());
        assert_eq!(axis.pos(100.0), 2.0);
        assert!(axis.pos(0.0).is_nan());
        let labels: Vec<String> = axis.ticks().iter().map(|&t| axis.label(t)).collect();
        assert_eq!(
            labels,
            [
                "2", "5", "10", "20", "50", "100", "200", "500", "1000", "2000"
            ]
        );
        // 2 to 150 ms: linear, from zero when asked.
        let axis = Axis::fit(
            [2.0, 150.0],
            Fit {
                from_zero: true,
                ..log
            },
        );
        assert!(!axis.is_log());
        assert_eq!(axis.span().start, 0.0);
        assert!(axis.span().end > 150.0);
    }

    #[test]
    fn fit_survives_no_data_and_constant_data() {
        let axis = Axis::fit([], Fit::default());
        assert!(axis.span().start < 0.0 && axis.span().end > 1.0);
        let axis = Axis::fit([5.0, 5.0], Fit::default());
        assert!(axis.span().contains(&5.0) && !axis.ticks().is_empty());
        let axis = Axis::fit([0.0], Fit::default());
        assert!(axis.span().contains(&0.0));
    }

    #[test]
    fn hours_tick_at_clock_steps() {
        assert_eq!(Axis::hours(24.0).ticks().len(), 13, "every 2 h");
        assert_eq!(
            Axis::hours(2.0).ticks(),
            [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
        );
        assert_eq!(Axis::hours(0.1).ticks().last(), Some(&0.1));
    }

    #[test]
    fn categories_sit_at_whole_positions() {
        let axis = Axis::categories(vec!["c2".into(), "n2".into()]);
        assert_eq!(axis.span(), -0.5..1.5);
        assert_eq!(axis.label(1.0), "n2");
        assert_eq!(axis.label(0.5), "");
        assert_eq!(axis.label(7.0), "");
    }

    #[test]
    fn ticks_at_parameter_values_only_when_they_are_spaced() {
        let axis = Axis::fit([50.0, 90.0], Fit::default()).ticks_at(&[50.0, 70.0, 90.0]);
        assert_eq!(axis.ticks(), [50.0, 70.0, 90.0]);
        let crowded = Axis::fit([1.0, 100.0], Fit::default()).ticks_at(&[1.0, 2.0, 100.0]);
        assert_ne!(crowded.ticks(), [1.0, 2.0, 100.0]);
    }
}
