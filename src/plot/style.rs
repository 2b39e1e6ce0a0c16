//! The look shared by every chart: the embedded font, the palette, line widths, text sizes,
//! how numbers are printed and how chart names become file names.
//!
//! Use `font` for every piece of text: it registers DejaVu Sans (built into the binary from
//! `assets/fonts/`) with plotters' `ab_glyph` renderer on first use, so text renders on a
//! machine without fontconfig or any installed font. This file draws nothing.

use std::sync::OnceLock;

use plotters::style::{Color, FontFamily, FontStyle, RGBColor, TextStyle, register_font};

/// DejaVu Sans (Bitstream Vera license, `assets/fonts/LICENSE-DejaVu.txt`).
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The family every chart uses. The PNG backend looks it up among the fonts registered with
/// `register_font`; the SVG backend writes it as the `font-family` attribute, where it reads
/// as a CSS list, so a viewer without DejaVu Sans falls back to its own sans-serif.
pub(crate) const FAMILY: &str = "DejaVu Sans, sans-serif";

/// Registers the embedded font once per process; true when it is usable.
pub(crate) fn register() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok())
}

/// Text of `size` pixels in the chart font and `color`.
pub(crate) fn font(size: f64, color: &RGBColor) -> TextStyle<'static> {
    let mut style = TextStyle::from((FontFamily::Name(FAMILY), size));
    style.color = color.to_backend_color();
    style
}

// Text sizes are even numbers of pixels: plotters' `ab_glyph` renderer places each glyph at
// half the size plus its top, truncated toward zero, so at odd sizes flat-topped letters such
// as `x` stand a pixel above their neighbours.

/// Figure titles.
pub(crate) const TITLE_SIZE: f64 = 30.0;
/// Panel titles.
pub(crate) const CAPTION_SIZE: f64 = 24.0;
/// Axis descriptions and legend entries.
pub(crate) const LABEL_SIZE: f64 = 20.0;
/// Tick labels and point annotations.
pub(crate) const TICK_SIZE: f64 = 18.0;
/// Small print (confidence intervals in heat-map cells).
pub(crate) const SMALL_SIZE: f64 = 16.0;

/// Width of data lines, in pixels.
pub(crate) const LINE_WIDTH: u32 = 3;
/// Width of secondary (dashed) lines, in pixels.
pub(crate) const THIN_WIDTH: u32 = 2;

/// Text and axes.
pub(crate) const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// Grid lines.
pub(crate) const GRID: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);
/// Shading of the warm-up and of missing values.
pub(crate) const SHADE: RGBColor = RGBColor(0xB0, 0xB0, 0xB0);

/// Tableau 10: ten hues told apart at a glance, in this order, on a white background.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0x9C, 0x75, 0x5F),
    RGBColor(0xED, 0xC9, 0x48),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0xBA, 0xB0, 0xAC),
];

/// The `i`th series color (the palette repeats after ten).
pub(crate) const fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// `c` darkened by `f` (0 = unchanged, 1 = black), for a second line of the same series.
pub(crate) fn darker(c: RGBColor, f: f64) -> RGBColor {
    let k = |v: u8| (f64::from(v) * (1.0 - f)).round() as u8;
    RGBColor(k(c.0), k(c.1), k(c.2))
}

/// The viridis color map at `t` in 0..=1 (clamped): perceptually uniform and readable in
/// grey, for heat maps.
pub(crate) fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (0x44, 0x01, 0x54),
        (0x47, 0x2D, 0x7B),
        (0x3B, 0x52, 0x8B),
        (0x2C, 0x72, 0x8E),
        (0x21, 0x91, 0x8C),
        (0x28, 0xAE, 0x80),
        (0x5E, 0xC9, 0x62),
        (0xAD, 0xDC, 0x30),
        (0xFD, 0xE7, 0x25),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Black or white, whichever reads better on `background`.
pub(crate) fn text_on(background: RGBColor) -> RGBColor {
    let luminance = 0.2126 * f64::from(background.0)
        + 0.7152 * f64::from(background.1)
        + 0.0722 * f64::from(background.2);
    if luminance > 140.0 {
        RGBColor(0, 0, 0)
    } else {
        RGBColor(0xFF, 0xFF, 0xFF)
    }
}

/// A number as people read it on a chart: about four significant digits, no trailing zeros,
/// no exponent between 0.001 and 10^7.
pub(crate) fn number(v: f64) -> String {
    if !v.is_finite() {
        return "–".to_string();
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e7).contains(&a) {
        return format!("{v:.2e}");
    }
    let decimals = if a >= 1000.0 {
        0
    } else if a >= 100.0 {
        1
    } else if a >= 10.0 {
        2
    } else if a >= 1.0 || a == 0.0 {
        3
    } else {
        // Four significant digits below 1.
        (3 - a.log10().floor() as i32).clamp(3, 6) as usize
    };
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".to_string() } else { s }
}

/// `name` with every character but `[A-Za-z0-9_-]` replaced by `_`, so it is a safe file name
/// on every system.
pub(crate) fn file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_font_registers() {
        assert!(register());
        assert!(register(), "twice is fine");
    }

    #[test]
    fn numbers_read_well() {
        let cases = [
            (0.0, "0"),
            (-0.0, "0"),
            (3.0, "3"),
            (3.16, "3.16"),
            (47.3312, "47.33"),
            (219.04, "219"),
            (219.06, "219.1"),
            (33751.04, "33751"),
            (0.0425, "0.0425"),
            (0.000123456, "1.23e-4"),
            (1.5e9, "1.50e9"),
            (-2.5, "-2.5"),
            (f64::NAN, "–"),
        ];
        for (v, want) in cases {
            assert_eq!(number(v), want, "{v}");
        }
    }

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(file_name("p99-vector-store"), "p99-vector-store");
        assert_eq!(file_name("cost-vs-hpa[0].target"), "cost-vs-hpa_0__target");
        assert_eq!(file_name("a b/c:d"), "a_b_c_d");
        assert_eq!(file_name("é"), "_");
    }

    #[test]
    fn viridis_runs_from_purple_to_yellow_and_text_stays_readable() {
        assert_eq!(viridis(0.0), RGBColor(0x44, 0x01, 0x54));
        assert_eq!(viridis(1.0), RGBColor(0xFD, 0xE7, 0x25));
        assert_eq!(viridis(2.0), viridis(1.0));
        assert_eq!(text_on(viridis(0.0)), RGBColor(0xFF, 0xFF, 0xFF));
        assert_eq!(text_on(viridis(1.0)), RGBColor(0, 0, 0));
    }
}
