//! Drawing helpers shared by every chart: writing a figure as PNG and SVG, a framed chart with
//! axes, lines with gaps, confidence bands, and a legend beside the chart.
//!
//! Use `save` with a `Figure` (a drawing generic over the backend, so the same code makes both
//! files) and `frame` for each chart in it. The PNG is rendered into memory and encoded with the
//! pure-Rust `png` crate; both files are written under a temporary name and renamed. This file
//! knows nothing of runs or sweeps.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::plot::PlotError;
use crate::plot::axis::Axis;
use crate::plot::style::{self, GRID, INK, LABEL_SIZE, LINE_WIDTH, THIN_WIDTH, TICK_SIZE, font};
use crate::report::files::write_bytes_atomically;

/// The coordinates of every chart: plain `f64` on both axes, with the axes' own ticks.
pub(crate) type Coord = Cartesian2d<Axis, Axis>;

/// A chart of either backend.
pub(crate) type Chart<'a, DB> = ChartContext<'a, DB, Coord>;

/// A region of a figure in backend pixels, of either backend: the whole figure, a strip of it,
/// or the space a chart is built on.
pub(crate) type Area<DB> = DrawingArea<DB, Shift>;

/// Why drawing failed, in the drawing library's words.
#[derive(Debug)]
pub(crate) struct DrawError(pub(crate) String);

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for DrawError {
    fn from(e: DrawingAreaErrorKind<E>) -> DrawError {
        DrawError(e.to_string())
    }
}

/// The file a figure is being drawn for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// A bitmap: thick lines are drawn segment by segment (see `draw_line`).
    Png,
    /// Vector graphics: lines are whole polylines, joined by the viewer.
    Svg,
}

/// Something drawn the same way on any backend.
pub(crate) trait Figure {
    /// Draws the whole figure on `root`, for `target`.
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, target: Target) -> Result<(), DrawError>;
}

/// Draws `figure` into `dir/<stem>.png` and `dir/<stem>.svg` (the stem made filesystem-safe)
/// at `size` pixels; returns the two paths.
///
/// # Errors
/// The font cannot be loaded, drawing fails, or a file cannot be written.
pub(crate) fn save(
    dir: &Path,
    stem: &str,
    size: (u32, u32),
    figure: &impl Figure,
) -> Result<[PathBuf; 2], PlotError> {
    let stem = style::file_name(stem);
    let png_path = dir.join(format!("{stem}.png"));
    let svg_path = dir.join(format!("{stem}.svg"));
    let draw_error = |path: &Path, message: String| PlotError::Draw {
        path: path.to_path_buf(),
        message,
    };
    if !style::register() {
        return Err(draw_error(&png_path, "the embedded font is invalid".into()));
    }

    let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        draw_on(&root, figure, Target::Png).map_err(|e| draw_error(&png_path, e.0))?;
    }
    let png = encode_png(&rgb, size).map_err(|e| draw_error(&png_path, e.to_string()))?;
    write_file(&png_path, &png)?;

    let svg = render_svg(&svg_path, size, figure)?;
    write_file(&svg_path, svg.as_bytes())?;
    Ok([png_path, svg_path])
}

/// Draws `figure` at `size` pixels as the text of an SVG document, in memory; `path` names the
/// chart in errors (the file it would be written to).
///
/// # Errors
/// The font cannot be loaded, or drawing fails.
pub(crate) fn render_svg(
    path: &Path,
    size: (u32, u32),
    figure: &impl Figure,
) -> Result<String, PlotError> {
    let draw_error = |message: String| PlotError::Draw {
        path: path.to_path_buf(),
        message,
    };
    if !style::register() {
        return Err(draw_error("the embedded font is invalid".into()));
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw_on(&root, figure, Target::Svg).map_err(|e| draw_error(e.0))?;
    }
    Ok(svg)
}

fn draw_on<DB: DrawingBackend>(
    root: &Area<DB>,
    figure: &impl Figure,
    target: Target,
) -> Result<(), DrawError> {
    root.fill(&WHITE)?;
    figure.draw(root, target)?;
    root.present()?;
    Ok(())
}

fn encode_png(rgb: &[u8], (width, height): (u32, u32)) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

/// Writes under a temporary name and renames, so a chart is never seen half written (nor its
/// temporary file left behind when the writing fails).
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    write_bytes_atomically(path, bytes).map_err(|source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// What a chart's frame shows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame<'t> {
    /// Title above the chart (none when empty).
    pub(crate) caption: &'t str,
    /// Horizontal axis.
    pub(crate) x: &'t Axis,
    /// Vertical axis.
    pub(crate) y: &'t Axis,
    /// Horizontal axis description, with its unit (none when empty).
    pub(crate) x_desc: &'t str,
    /// Vertical axis description, with its unit.
    pub(crate) y_desc: &'t str,
    /// Least width of the area left of the chart for tick labels and the description, so
    /// that charts stacked above each other line up (0: as wide as this chart's labels need).
    pub(crate) y_area: u32,
}

impl<'t> Frame<'t> {
    /// The frame of a chart alone in its area: no caption, and as wide on the left as its own
    /// tick labels need.
    pub(crate) fn new(x: &'t Axis, x_desc: &'t str, y: &'t Axis, y_desc: &'t str) -> Frame<'t> {
        Frame {
            caption: "",
            x,
            y,
            x_desc,
            y_desc,
            y_area: 0,
        }
    }
}

/// Width of the area left of a chart that the tick labels of `y` and a description need.
pub(crate) fn y_area_width<DB: DrawingBackend>(area: &Area<DB>, y: &Axis) -> u32 {
    let tick_font = font(TICK_SIZE, &INK);
    let widest = y
        .ticks()
        .iter()
        .map(|&t| text_width(area, &y.label(t), &tick_font))
        .max()
        .unwrap_or(0);
    widest + LABEL_SIZE as u32 + 30
}

/// A chart on `area` with a caption, axes, ticks, tick labels, grid and axis descriptions.
///
/// # Errors
/// The backend fails.
pub(crate) fn frame<'a, DB: DrawingBackend>(
    area: &'a Area<DB>,
    f: Frame<'_>,
) -> Result<Chart<'a, DB>, DrawError> {
    let tick_font = font(TICK_SIZE, &INK);
    let y_area = y_area_width(area, f.y).max(f.y_area);
    let x_area = TICK_SIZE as u32 + 18 + if f.x_desc.is_empty() { 0 } else { 30 };
    let mut builder = ChartBuilder::on(area);
    builder
        .margin_top(8)
        .margin_right(24)
        .margin_left(8)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area);
    if !f.caption.is_empty() {
        builder.caption(f.caption, font(style::CAPTION_SIZE, &INK));
    }
    let mut chart = builder.build_cartesian_2d(f.x.clone(), f.y.clone())?;
    let mut mesh = chart.configure_mesh();
    mesh.bold_line_style(GRID.stroke_width(1))
        .light_line_style(WHITE.mix(0.0))
        .axis_style(INK.stroke_width(1))
        .label_style(tick_font.clone())
        .axis_desc_style(font(LABEL_SIZE, &INK))
        .y_desc(f.y_desc);
    if !f.x_desc.is_empty() {
        mesh.x_desc(f.x_desc);
    }
    mesh.draw()?;
    Ok(chart)
}

/// Width in pixels of `text` in `style`, as the font lays it out.
pub(crate) fn text_width<DB: DrawingBackend>(
    area: &Area<DB>,
    text: &str,
    style: &TextStyle<'_>,
) -> u32 {
    area.estimate_text_size(text, style).map_or(0, |(w, _)| w)
}

/// Splits `(xs[i], ys[i])`, mapped through the axes, into runs of consecutive finite points:
/// a missing value leaves a gap.
pub(crate) fn segments(x: &Axis, y: &Axis, xs: &[f64], ys: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let points: Vec<(f64, f64)> = xs
        .iter()
        .zip(ys)
        .map(|(&a, &b)| (x.pos(a), y.pos(b)))
        .collect();
    split_finite(&points)
}

/// Runs of consecutive points with both coordinates finite.
pub(crate) fn split_finite(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for &p in points {
        if p.0.is_finite() && p.1.is_finite() {
            if let Some(run) = out.last_mut() {
                run.push(p);
            }
        } else if out.last().is_some_and(|r| !r.is_empty()) {
            out.push(Vec::new());
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Stroke {
    /// A solid line.
    Solid,
    /// A dashed line, thinner.
    Dashed,
}

/// Draws a series as lines with gaps where values are missing; a lone point between gaps is
/// drawn as a dot so it does not vanish.
///
/// Points are taken to pixels first and repeats dropped. For a PNG, every segment of a thick
/// line is drawn on its own with a dot at each joint: plotters fills a thick polyline as one
/// polygon with mitred joints, which throws long spikes where a noisy series turns back on
/// itself within a pixel or two.
pub(crate) fn draw_line<DB: DrawingBackend>(
    chart: &Chart<'_, DB>,
    target: Target,
    segments: &[Vec<(f64, f64)>],
    color: RGBColor,
    stroke: Stroke,
) -> Result<(), DrawError> {
    let width = match stroke {
        Stroke::Solid => LINE_WIDTH,
        Stroke::Dashed => THIN_WIDTH,
    };
    let style = color.stroke_width(width);
    let area = chart.plotting_area();
    let (xr, yr) = area.get_pixel_range();
    let pixels_area = area.strip_coord_spec();
    for segment in segments {
        let mut pixels: Vec<(i32, i32)> = segment
            .iter()
            .map(|p| {
                let (x, y) = chart.backend_coord(p);
                (x - xr.start, y - yr.start)
            })
            .collect();
        pixels.dedup();
        if pixels.len() == 1 {
            pixels_area.draw(&Circle::new(pixels[0], width + 1, color.filled()))?;
            continue;
        }
        let pieces = match stroke {
            Stroke::Solid => vec![pixels],
            Stroke::Dashed => dashes(&pixels, 10.0, 7.0),
        };
        for piece in pieces {
            match target {
                Target::Svg => pixels_area.draw(&PathElement::new(piece, style))?,
                Target::Png => {
                    for pair in piece.windows(2) {
                        pixels_area.draw(&PathElement::new(pair.to_vec(), style))?;
                    }
                    if width > 2 && piece.len() > 2 {
                        for &joint in &piece[1..piece.len() - 1] {
                            pixels_area.draw(&Circle::new(joint, width / 2, color.filled()))?;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// The dashes along a polyline in pixels: `on` pixels drawn, `off` skipped, measured along
/// the line across its turns.
pub(crate) fn dashes(pixels: &[(i32, i32)], on: f64, off: f64) -> Vec<Vec<(i32, i32)>> {
    let to_i = |(x, y): (f64, f64)| (x.round() as i32, y.round() as i32);
    let mut pieces = Vec::new();
    let mut current: Vec<(i32, i32)> = Vec::new();
    let (mut drawing, mut left) = (true, on);
    if let Some(&first) = pixels.first() {
        current.push(first);
    }
    for pair in pixels.windows(2) {
        let (a, b) = (
            (f64::from(pair[0].0), f64::from(pair[0].1)),
            (f64::from(pair[1].0), f64::from(pair[1].1)),
        );
        let length = (b.0 - a.0).hypot(b.1 - a.1);
        let mut done = 0.0;
        while length - done > left {
            done += left;
            let t = done / length;
            let at = to_i((a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t));
            if drawing {
                current.push(at);
                current.dedup();
                if current.len() > 1 {
                    pieces.push(std::mem::take(&mut current));
                }
                current.clear();
            } else {
                current = vec![at];
            }
            drawing = !drawing;
            left = if drawing { on } else { off };
        }
        left -= length - done;
        if drawing {
            current.push(pair[1]);
        }
    }
    current.dedup();
    if drawing && current.len() > 1 {
        pieces.push(current);
    }
    pieces
}

/// Shades between `lo` and `hi` along `xs` (already in chart coordinates), in `color`'s light
/// tint: a confidence band.
pub(crate) fn draw_band<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    xs: &[f64],
    lo: &[f64],
    hi: &[f64],
    color: RGBColor,
) -> Result<(), DrawError> {
    let mut outline: Vec<(f64, f64)> = xs.iter().copied().zip(hi.iter().copied()).collect();
    outline.extend(xs.iter().copied().zip(lo.iter().copied()).rev());
    if outline.iter().all(|p| p.0.is_finite() && p.1.is_finite()) && xs.len() > 1 {
        chart.draw_series(std::iter::once(Polygon::new(outline, color.mix(0.18))))?;
    }
    Ok(())
}

/// What a legend entry shows beside its text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Swatch {
    /// A line sample.
    Line(RGBColor, Stroke),
    /// A filled marker.
    Marker(RGBColor),
    /// A hollow marker: a ring.
    Ring(RGBColor),
    /// A cross-shaped marker (×).
    Cross(RGBColor),
    /// A shaded block (a band or region).
    Shade(RGBColor),
}

/// One legend entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    /// The text.
    pub(crate) label: String,
    /// The sample.
    pub(crate) swatch: Swatch,
}

impl Entry {
    /// An entry.
    pub(crate) fn new(label: impl Into<String>, swatch: Swatch) -> Entry {
        Entry {
            label: label.into(),
            swatch,
        }
    }
}

const SWATCH_W: i32 = 44;
const ENTRY_H: i32 = 30;

/// Width a legend of `entries` needs, in pixels.
pub(crate) fn legend_width<DB: DrawingBackend>(area: &Area<DB>, entries: &[Entry]) -> u32 {
    let label_font = font(LABEL_SIZE, &INK);
    let widest = entries
        .iter()
        .map(|e| text_width(area, &e.label, &label_font))
        .max()
        .unwrap_or(0);
    widest + SWATCH_W as u32 + 36
}

/// Draws `entries` top-down in `area` (a strip beside a chart), starting `top` pixels down;
/// entries that do not fit are summarized as "… and N more".
pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &Area<DB>,
    top: i32,
    entries: &[Entry],
) -> Result<(), DrawError> {
    let label_font = font(LABEL_SIZE, &INK).pos(Pos::new(HPos::Left, VPos::Center));
    let height = area.dim_in_pixel().1 as i32;
    let fits = ((height - top) / ENTRY_H).max(0) as usize;
    let shown = if entries.len() > fits {
        fits.saturating_sub(1)
    } else {
        entries.len()
    };
    let x0 = 10;
    for (i, entry) in entries.iter().take(shown).enumerate() {
        let y = top + i as i32 * ENTRY_H + ENTRY_H / 2;
        let (a, b) = ((x0, y), (x0 + SWATCH_W - 8, y));
        match entry.swatch {
            Swatch::Line(color, Stroke::Solid) => {
                area.draw(&PathElement::new(
                    vec![a, b],
                    color.stroke_width(LINE_WIDTH),
                ))?;
            }
            Swatch::Line(color, Stroke::Dashed) => {
                area.draw(&DashedPathElement::new(
                    vec![a, b],
                    10,
                    7,
                    color.stroke_width(THIN_WIDTH),
                ))?;
            }
            Swatch::Marker(color) => {
                area.draw(&Circle::new((x0 + SWATCH_W / 2 - 4, y), 6, color.filled()))?;
            }
            Swatch::Ring(color) => {
                area.draw(&Circle::new(
                    (x0 + SWATCH_W / 2 - 4, y),
                    7,
                    color.stroke_width(THIN_WIDTH),
                ))?;
            }
            Swatch::Cross(color) => {
                area.draw(&Cross::new(
                    (x0 + SWATCH_W / 2 - 4, y),
                    6,
                    color.stroke_width(LINE_WIDTH),
                ))?;
            }
            Swatch::Shade(color) => {
                area.draw(&Rectangle::new(
                    [(x0, y - 9), (x0 + SWATCH_W - 8, y + 9)],
                    color.mix(0.3).filled(),
                ))?;
            }
        }
        area.draw(&Text::new(
            entry.label.clone(),
            (x0 + SWATCH_W, y),
            label_font.clone(),
        ))?;
    }
    if shown < entries.len() {
        let y = top + shown as i32 * ENTRY_H + ENTRY_H / 2;
        area.draw(&Text::new(
            format!("… and {} more", entries.len() - shown),
            (x0, y),
            label_font,
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashes_follow_the_line_across_turns() {
        // 40 px straight: on 10, off 5, on 10, off 5, on 10.
        assert_eq!(
            dashes(&[(0, 0), (40, 0)], 10.0, 5.0),
            [
                vec![(0, 0), (10, 0)],
                vec![(15, 0), (25, 0)],
                vec![(30, 0), (40, 0)]
            ]
        );
        // 6 px across then down: the first dash turns the corner and ends 4 px down.
        assert_eq!(
            dashes(&[(0, 0), (6, 0), (6, 8)], 10.0, 5.0),
            [vec![(0, 0), (6, 0), (6, 4)]]
        );
        assert!(dashes(&[(3, 3)], 10.0, 5.0).is_empty());
    }

    #[test]
    fn missing_values_split_a_series() {
        let nan = f64::NAN;
        let runs = split_finite(&[(0.0, 1.0), (1.0, nan), (2.0, 2.0), (3.0, 3.0), (nan, 1.0)]);
        assert_eq!(runs, [vec![(0.0, 1.0)], vec![(2.0, 2.0), (3.0, 3.0)]]);
        assert!(split_finite(&[(nan, nan)]).is_empty());
    }
}
