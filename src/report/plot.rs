//! Line charts as PNG and SVG with plotters and an embedded DejaVu font (no system font needed).

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::error::{ReportError, ReportResult};
use super::typeset::scripts;

/// One curve.
#[derive(Clone, Debug)]
pub struct Line {
    /// Legend entry.
    pub name: String,
    /// (x, y) points, x increasing.
    pub points: Vec<(f64, f64)>,
    /// Drawn dashed (targets, references).
    pub dashed: bool,
    /// Thin and pale (individual seeds behind a mean).
    pub faint: bool,
    /// A shaded band (x, low, high) drawn behind the curve, e.g. mean ± sd over seeds.
    pub band: Option<Vec<(f64, f64, f64)>>,
}

impl Line {
    /// A solid curve.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Line {
        Line {
            name: name.into(),
            points,
            dashed: false,
            faint: false,
            band: None,
        }
    }
    /// The same curve with a shaded band (x, low, high) behind it.
    pub fn with_band(mut self, band: Vec<(f64, f64, f64)>) -> Line {
        self.band = Some(band);
        self
    }
    /// A dashed curve.
    pub fn dashed(name: impl Into<String>, points: Vec<(f64, f64)>) -> Line {
        Line {
            name: name.into(),
            points,
            dashed: true,
            faint: false,
            band: None,
        }
    }
}

/// A chart: title, axis labels and curves.
#[derive(Clone, Debug)]
pub struct Chart {
    /// File stem (stem.png and stem.svg are written).
    pub stem: String,
    /// Title.
    pub title: String,
    /// x-axis label, with unit.
    pub x_label: String,
    /// y-axis label, with unit.
    pub y_label: String,
    /// Curves.
    pub lines: Vec<Line>,
    /// A logarithmic y axis (non-positive values are left out).
    pub log_y: bool,
    /// A logarithmic x axis (non-positive values are left out).
    pub log_x: bool,
}

static FONT: Once = Once::new();

fn register_font() {
    FONT.call_once(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| "invalid font")
            .expect("the embedded DejaVu font is valid");
    });
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
    RGBColor(127, 127, 127),
    RGBColor(23, 190, 207),
];

/// A tick label with at most three significant digits: 0.05, 250, 1e-7, 2.5e5.
pub fn tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 || !a.is_finite() {
        return format!("{v}");
    }
    let trim = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if (1e-3..1e5).contains(&a) {
        let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
        trim(format!("{v:.decimals$}"))
    } else {
        let s = format!("{v:.2e}");
        let (mantissa, exponent) = s.split_once('e').expect("scientific format");
        format!("{}e{exponent}", trim(mantissa.to_string()))
    }
}

/// Series with at most this many points get a marker at each point.
const MARKERS_UP_TO: usize = 40;

/// Series longer than this are drawn as a min/max envelope of [`ENVELOPE_BUCKETS`] buckets.
const DECIMATE_ABOVE: usize = 2000;
/// Buckets of a decimated series (two points each: its lowest and highest, in x order).
const ENVELOPE_BUCKETS: usize = 700;

/// A long series reduced to the lowest and highest point of each of `buckets` consecutive
/// groups, kept in x order: the drawn line still reaches every extreme of the original (a band
/// stays a band), with ~2 × `buckets` points instead of all of them. Shorter series are kept.
pub fn envelope(points: &[(f64, f64)], buckets: usize) -> Vec<(f64, f64)> {
    if points.len() <= 2 * buckets || buckets == 0 {
        return points.to_vec();
    }
    let size = points.len().div_ceil(buckets);
    let mut out = Vec::with_capacity(2 * buckets);
    for group in points.chunks(size) {
        let lo = group
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.1.total_cmp(&b.1.1))
            .map_or(0, |(i, _)| i);
        let hi = group
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.1.total_cmp(&b.1.1))
            .map_or(0, |(i, _)| i);
        let (first, second) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        out.push(group[first]);
        if second != first {
            out.push(group[second]);
        }
    }
    out
}

/// Tick values of a log axis over [lo, hi]: 1, 2 and 5 × 10^k (every integer multiple when
/// that gives fewer than four ticks; only the powers of ten over more than six decades).
pub fn log_keys(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo && hi.is_finite()) {
        return Vec::new();
    }
    let (d0, d1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let pick = |mantissas: &[f64]| -> Vec<f64> {
        (d0..=d1)
            .flat_map(|d| mantissas.iter().map(move |m| m * 10f64.powi(d)))
            .filter(|v| *v >= lo * (1.0 - 1e-12) && *v <= hi * (1.0 + 1e-12))
            .collect()
    };
    if d1 - d0 > 6 {
        return pick(&[1.0]);
    }
    let keys = pick(&[1.0, 2.0, 5.0]);
    if keys.len() >= 4 {
        keys
    } else {
        pick(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    }
}

/// A long band reduced to `buckets` groups, each drawn from its first to its last x at the
/// group's lowest low and highest high.
fn band_envelope(band: &[(f64, f64, f64)], buckets: usize) -> Vec<(f64, f64, f64)> {
    let size = band.len().div_ceil(buckets.max(1));
    band.chunks(size)
        .flat_map(|g| {
            let lo = g.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
            let hi = g.iter().map(|p| p.2).fold(f64::NEG_INFINITY, f64::max);
            [(g[0].0, lo, hi), (g[g.len() - 1].0, lo, hi)]
        })
        .collect()
}

/// A time axis in ms that reaches 10 s or more is shown in s: the label's "(ms)" becomes "(s)"
/// and the x values are divided by 1000 (a copy of the chart; others are returned as they are).
fn si_time(chart: &Chart) -> Option<Chart> {
    if !chart.x_label.contains("(ms)") {
        return None;
    }
    let max = chart
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0.abs()))
        .fold(0.0_f64, f64::max);
    if max < 10_000.0 {
        return None;
    }
    let mut c = chart.clone();
    c.x_label = c.x_label.replace("(ms)", "(s)");
    for l in &mut c.lines {
        l.points.iter_mut().for_each(|p| p.0 /= 1000.0);
        if let Some(b) = &mut l.band {
            b.iter_mut().for_each(|p| p.0 /= 1000.0);
        }
    }
    Some(c)
}

/// The colour of a learner or method wherever it appears (a line named after it, e.g.
/// "microcircuit, layer 1" or "rk4"), so that pages agree; None for other names.
fn fixed_color(name: &str) -> Option<RGBColor> {
    let key = name
        .split([',', ' ', '('])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let i = match key.as_str() {
        // "two_pass": the microcircuit's two-pass learner (mnist_dynamics, mnist_solvers).
        "microcircuit" | "two_pass" | "euler" => 0,
        "backprop" | "rk4" => 1,
        "frozen_hidden" | "exponential_euler" => 2,
        "feedback_alignment" | "dopri5" => 3,
        "single_layer" | "shallow" | "ros2" => 4,
        "learned_topdown" | "bdf2" => 5,
        "dynamics" => 7,
        _ => return None,
    };
    Some(PALETTE[i])
}

/// The data range of the finite points (positive ones on a log axis), padded.
fn axis_range(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (mut lo, mut hi) = values
        .filter(|v| v.is_finite() && (!log || *v > 0.0))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return if log { (1.0, 10.0) } else { (0.0, 1.0) };
    }
    if log {
        if hi <= lo {
            (lo, hi) = (lo / 2.0, hi * 2.0);
        }
        let pad = (hi / lo).powf(0.04);
        (lo / pad, hi * pad)
    } else {
        if hi <= lo {
            let pad = 0.5 * lo.abs().max(1.0);
            return (lo - pad, hi + pad);
        }
        let pad = 0.05 * (hi - lo);
        (lo - pad, hi + pad)
    }
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, chart: &Chart) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let scaled = si_time(chart);
    let chart = scaled.as_ref().unwrap_or(chart);
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let xs = chart
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0));
    let ys = chart.lines.iter().flat_map(|l| {
        l.points
            .iter()
            .map(|p| p.1)
            .chain(l.band.iter().flatten().flat_map(|&(_, lo, hi)| [lo, hi]))
    });
    let (x0, x1) = axis_range(xs, chart.log_x);
    let (y0, y1) = axis_range(ys, chart.log_y);
    let legend_w = legend_width(chart);
    let below_title = draw_title(&root, &chart.title)?;
    let (plot, legend_area) =
        below_title.split_horizontally(below_title.dim_in_pixel().0 - legend_w);
    let mut builder = ChartBuilder::on(&plot);
    builder
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(70);
    let legend = match (chart.log_x, chart.log_y) {
        (false, false) => body(
            builder
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(|e| e.to_string())?,
            chart,
        )?,
        (true, false) => body(
            builder
                .build_cartesian_2d(
                    (x0..x1).log_scale().with_key_points(log_keys(x0, x1)),
                    y0..y1,
                )
                .map_err(|e| e.to_string())?,
            chart,
        )?,
        (false, true) => body(
            builder
                .build_cartesian_2d(
                    x0..x1,
                    (y0..y1).log_scale().with_key_points(log_keys(y0, y1)),
                )
                .map_err(|e| e.to_string())?,
            chart,
        )?,
        (true, true) => body(
            builder
                .build_cartesian_2d(
                    (x0..x1).log_scale().with_key_points(log_keys(x0, x1)),
                    (y0..y1).log_scale().with_key_points(log_keys(y0, y1)),
                )
                .map_err(|e| e.to_string())?,
            chart,
        )?,
    };
    draw_legend(&legend_area, &legend)?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

/// A shaded band behind a curve (on a log y axis cut at the curve's smallest positive value;
/// decimated like the curves when long).
fn draw_band<'a, DB, X, Y>(
    ctx: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    chart: &Chart,
    line: &Line,
    band: &[(f64, f64, f64)],
    color: RGBColor,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>
        + plotters::coord::ranged1d::ValueFormatter<f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>
        + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    let ok = |x: f64, y: f64| {
        x.is_finite() && y.is_finite() && (!chart.log_x || x > 0.0) && (!chart.log_y || y > 0.0)
    };
    // On a log axis a band reaching 0 or below is cut at the curve's smallest
    // positive value.
    let floor = if chart.log_y {
        line.points
            .iter()
            .map(|p| p.1)
            .filter(|y| *y > 0.0)
            .fold(f64::INFINITY, f64::min)
    } else {
        f64::NEG_INFINITY
    };
    let band: Vec<(f64, f64, f64)> = band
        .iter()
        .map(|&(x, lo, hi)| (x, lo.max(floor), hi))
        .filter(|&(x, lo, hi)| ok(x, lo) && ok(x, hi))
        .collect();
    let band = if band.len() > DECIMATE_ABOVE {
        band_envelope(&band, ENVELOPE_BUCKETS)
    } else {
        band
    };
    if band.len() > 1 {
        let mut outline: Vec<(f64, f64)> = band.iter().map(|&(x, lo, _)| (x, lo)).collect();
        outline.extend(band.iter().rev().map(|&(x, _, hi)| (x, hi)));
        ctx.draw_series(std::iter::once(Polygon::new(
            outline,
            color.mix(0.18).filled(),
        )))
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Mesh and curves (with markers on sparse ones, and on every curve that shares its colour
/// with another), on linear or log axes; returns the legend's entries.
fn body<'a, DB, X, Y>(
    mut ctx: ChartContext<'a, DB, Cartesian2d<X, Y>>,
    chart: &Chart,
) -> Result<Vec<LegendEntry>, String>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>
        + plotters::coord::ranged1d::ValueFormatter<f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>
        + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    ctx.configure_mesh()
        .x_desc(&chart.x_label)
        .y_desc(&chart.y_label)
        .x_labels(if chart.log_x { 8 } else { 10 })
        .y_labels(if chart.log_y { 12 } else { 10 })
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        // Log axes: no light lines (plotters draws dozens of them near each decade's top).
        .light_line_style(if chart.log_x || chart.log_y {
            RGBColor(255, 255, 255)
        } else {
            RGBColor(235, 235, 235)
        })
        .draw()
        .map_err(|e| e.to_string())?;
    let mut legend = Vec::new();
    for (line, look) in chart.lines.iter().zip(looks(chart)) {
        let color = look.color;
        if let Some(band) = &line.band {
            draw_band(&mut ctx, chart, line, band, color)?;
        }
        let style = if line.faint {
            color.mix(0.25).stroke_width(1)
        } else {
            color.stroke_width(2)
        };
        let data: Vec<(f64, f64)> = line
            .points
            .iter()
            .copied()
            .filter(|(x, y)| {
                x.is_finite()
                    && y.is_finite()
                    && (!chart.log_x || *x > 0.0)
                    && (!chart.log_y || *y > 0.0)
            })
            .collect();
        let data = if data.len() > DECIMATE_ABOVE {
            envelope(&data, ENVELOPE_BUCKETS)
        } else {
            data
        };
        if line.dashed {
            ctx.draw_series(DashedLineSeries::new(data.clone(), 8, 5, style))
                .map_err(|e| e.to_string())?;
        } else {
            ctx.draw_series(LineSeries::new(data.clone(), style))
                .map_err(|e| e.to_string())?;
        }
        // Markers on a sparse measured curve, and (about a dozen) on any curve whose colour
        // another curve shares; a dashed line is a target or reference and has none.
        let every = if line.faint || line.dashed {
            0
        } else if data.len() <= MARKERS_UP_TO {
            1
        } else if look.shared {
            data.len().div_ceil(SHARED_MARKERS)
        } else {
            0
        };
        if every > 0 {
            let at: Vec<(f64, f64)> = data.iter().copied().step_by(every).collect();
            draw_markers(&mut ctx, &at, look.marker, color)?;
        }
        if !line.faint && !line.name.is_empty() {
            legend.push(LegendEntry {
                name: line.name.clone(),
                color,
                dashed: line.dashed,
                marker: (every > 0).then_some(look.marker),
            });
        }
    }
    Ok(legend)
}

/// How a curve is told apart: its colour, whether another curve has that colour too, and the
/// shape of its markers (the n-th curve of a colour gets the n-th shape).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Look {
    color: RGBColor,
    shared: bool,
    marker: Marker,
}

/// Marker shapes, in the order curves of one colour take them (the square is hollow, so that
/// it differs from the filled circle at a few pixels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Marker {
    Circle,
    Triangle,
    Square,
    Cross,
}

const MARKERS: [Marker; 4] = [
    Marker::Circle,
    Marker::Triangle,
    Marker::Cross,
    Marker::Square,
];

/// About this many markers on a dense curve that shares its colour.
const SHARED_MARKERS: usize = 12;

/// The look of every curve of `chart`, in order: a learner's or method's fixed colour
/// ([`fixed_color`]), or else the next colour of the palette that no learner of the chart has
/// (so an unnamed curve is never mistaken for one); curves of one colour (e.g. the layers of
/// one learner) get successive marker shapes. Faint curves (seeds behind a mean) take the
/// colour of the curve after them and no shape of their own.
fn looks(chart: &Chart) -> Vec<Look> {
    let fixed: Vec<Option<RGBColor>> = chart.lines.iter().map(|l| fixed_color(&l.name)).collect();
    let mut free: Vec<RGBColor> = PALETTE
        .into_iter()
        .filter(|c| !fixed.contains(&Some(*c)))
        .collect();
    if free.is_empty() {
        free = PALETTE.to_vec();
    }
    let mut next = 0;
    let colors: Vec<RGBColor> = chart
        .lines
        .iter()
        .zip(&fixed)
        .map(|(line, fixed)| {
            fixed.unwrap_or_else(|| {
                let color = free[next % free.len()];
                if !line.faint {
                    next += 1;
                }
                color
            })
        })
        .collect();
    let solid = |i: usize| !chart.lines[i].faint;
    (0..chart.lines.len())
        .map(|i| {
            let same = |j: &usize| solid(*j) && colors[*j] == colors[i];
            let before = (0..i).filter(same).count();
            Look {
                color: colors[i],
                shared: (0..chart.lines.len()).filter(same).count() > 1,
                marker: MARKERS[before % MARKERS.len()],
            }
        })
        .collect()
}

/// Markers of one shape at data points.
fn draw_markers<'a, DB, X, Y>(
    ctx: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    at: &[(f64, f64)],
    marker: Marker,
    color: RGBColor,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    let drawn = match marker {
        Marker::Circle => ctx.draw_series(at.iter().map(|&p| Circle::new(p, 4, color.filled()))),
        Marker::Triangle => ctx.draw_series(
            at.iter()
                .map(|&p| TriangleMarker::new(p, 5, color.filled())),
        ),
        Marker::Square => ctx.draw_series(at.iter().map(|&p| {
            EmptyElement::at(p) + Rectangle::new([(-4, -4), (4, 4)], color.stroke_width(2))
        })),
        Marker::Cross => {
            ctx.draw_series(at.iter().map(|&p| Cross::new(p, 4, color.stroke_width(2))))
        }
    };
    drawn.map(|_| ()).map_err(|e| e.to_string())
}

/// One row of a chart's legend.
#[derive(Clone, Debug)]
struct LegendEntry {
    name: String,
    color: RGBColor,
    dashed: bool,
    marker: Option<Marker>,
}

/// Height of a legend row, the width of its sample and its font size, in pixels.
const LEGEND_ROW: i32 = 20;
const LEGEND_FONT: f64 = 14.0;
const LEGEND_SAMPLE: i32 = 28;

/// The width of the legend column beside the plot (0 without entries): room for the widest
/// name at the legend's font (measured with the embedded font; ≈ 7 px a character if it
/// cannot be), the sample and margins.
fn legend_width(chart: &Chart) -> u32 {
    register_font();
    let font = ("sans-serif", LEGEND_FONT).into_font();
    let widest = chart
        .lines
        .iter()
        .filter(|l| !l.faint && !l.name.is_empty())
        .map(|l| {
            font.box_size(&l.name)
                .map_or(l.name.chars().count() as u32 * 7, |(w, _)| w)
        })
        .max();
    // A tenth more than measured: the rasteriser's glyphs run a little wider.
    widest.map_or(0, |w| (w * 11 / 10 + LEGEND_SAMPLE as u32 + 28).min(400))
}

/// The chart's title over the whole image (plot and legend column), at 22 px or smaller
/// when that would not fit; returns the area below it.
fn draw_title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>, String>
where
    DB::ErrorType: 'static,
{
    let width = root.dim_in_pixel().0.saturating_sub(16);
    let mut size = 22.0_f64;
    while size > 12.0 {
        match ("sans-serif", size).into_font().box_size(title) {
            Ok((w, _)) if w > width => size -= 1.0,
            _ => break,
        }
    }
    root.titled(title, ("sans-serif", size))
        .map_err(|e| e.to_string())
}

/// The legend in its own column right of the plot, so that it never hides a curve: per row
/// the curve's sample (its stroke, dashed or not, and its marker) and its name.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let font = ("sans-serif", LEGEND_FONT).into_font().color(&BLACK);
    let top = 14;
    for (row, entry) in entries.iter().enumerate() {
        let y = top + row as i32 * LEGEND_ROW;
        let stroke = entry.color.stroke_width(2);
        let segments: &[(i32, i32)] = if entry.dashed {
            &[(0, 10), (16, LEGEND_SAMPLE)]
        } else {
            &[(0, LEGEND_SAMPLE)]
        };
        for &(a, b) in segments {
            area.draw(&PathElement::new(vec![(4 + a, y), (4 + b, y)], stroke))
                .map_err(|e| e.to_string())?;
        }
        let mid = (4 + LEGEND_SAMPLE / 2, y);
        match entry.marker {
            Some(Marker::Circle) => area.draw(&Circle::new(mid, 4, entry.color.filled())),
            Some(Marker::Triangle) => area.draw(&TriangleMarker::new(mid, 5, entry.color.filled())),
            Some(Marker::Square) => area.draw(&Rectangle::new(
                [(mid.0 - 4, mid.1 - 4), (mid.0 + 4, mid.1 + 4)],
                entry.color.stroke_width(2),
            )),
            Some(Marker::Cross) => area.draw(&Cross::new(mid, 4, entry.color.stroke_width(2))),
            None => Ok(()),
        }
        .map_err(|e| e.to_string())?;
        area.draw(&Text::new(
            entry.name.clone(),
            (LEGEND_SAMPLE + 12, y - 8),
            font.clone(),
        ))
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Writes `<dir>/<stem>.png` and `<dir>/<stem>.svg`: a plot 800×480 pixels, widened by the
/// legend's column when the chart has named curves.
pub fn render(chart: &Chart, dir: &Path) -> ReportResult<()> {
    register_font();
    // Titles, axis labels and curve names with their sub- and superscripts typeset; the
    // chart (its points too) is copied only when one of them changes.
    let names = || {
        [&chart.title, &chart.x_label, &chart.y_label]
            .into_iter()
            .chain(chart.lines.iter().map(|l| &l.name))
    };
    let typeset = names().any(|t| scripts(t) != *t).then(|| {
        let mut c = chart.clone();
        c.title = scripts(&chart.title);
        c.x_label = scripts(&chart.x_label);
        c.y_label = scripts(&chart.y_label);
        for line in &mut c.lines {
            line.name = scripts(&line.name);
        }
        c
    });
    let chart = typeset.as_ref().unwrap_or(chart);
    std::fs::create_dir_all(dir)?;
    let png = dir.join(format!("{}.png", chart.stem));
    let svg = dir.join(format!("{}.svg", chart.stem));
    let size = (800 + legend_width(chart), 480);
    draw(BitMapBackend::new(&png, size).into_drawing_area(), chart).map_err(|e| {
        ReportError::Draw {
            path: png.display().to_string(),
            message: e.to_string(),
        }
    })?;
    draw(SVGBackend::new(&svg, size).into_drawing_area(), chart).map_err(|e| {
        ReportError::Draw {
            path: svg.display().to_string(),
            message: e.to_string(),
        }
    })?;
    Ok(())
}

/// A heatmap: values[row][col] over x (columns) and y (rows) labels; cells where `mark` is set
/// get a black ring (e.g. "learning works").
#[derive(Clone, Debug)]
pub struct Heatmap {
    /// File stem.
    pub stem: String,
    /// Title.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Column labels.
    pub xs: Vec<String>,
    /// Row labels.
    pub ys: Vec<String>,
    /// Values, rows × columns (NaN = missing).
    pub values: Vec<Vec<f64>>,
    /// Marked cells.
    pub mark: Vec<Vec<bool>>,
}

fn heat_color(t: f64) -> RGBColor {
    // A blue → yellow ramp (viridis-like endpoints).
    let t = t.clamp(0.0, 1.0);
    let lerp = |a: f64, b: f64| (a + (b - a) * t) as u8;
    RGBColor(lerp(68.0, 253.0), lerp(1.0, 231.0), lerp(84.0, 37.0))
}

/// The smallest and largest finite value of a table.
fn finite_range(values: &[Vec<f64>]) -> (f64, f64) {
    values
        .iter()
        .flatten()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        })
}

/// The label of cell i at axis position i + 0.5 (empty between cells).
fn cell_label(labels: &[String], v: f64) -> String {
    let i = (v - 0.5).round();
    if (v - 0.5 - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
        labels[i as usize].clone()
    } else {
        String::new()
    }
}

fn draw_heatmap<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, h: &Heatmap) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (lo, hi) = finite_range(&h.values);
    let (nx, ny) = (h.xs.len(), h.ys.len());
    let mut ctx = ChartBuilder::on(&root)
        .caption(&h.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..nx as f64, 0.0..ny as f64)
        .map_err(|e| e.to_string())?;
    let (xs, ys) = (h.xs.clone(), h.ys.clone());
    ctx.configure_mesh()
        .disable_mesh()
        .x_desc(&h.x_label)
        .y_desc(&h.y_label)
        .x_labels(nx * 2 + 1)
        .y_labels(ny * 2 + 1)
        .x_label_formatter(&move |v| cell_label(&xs, *v))
        .y_label_formatter(&move |v| cell_label(&ys, *v))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(|e| e.to_string())?;
    for (r, row) in h.values.iter().enumerate() {
        for (c, &v) in row.iter().enumerate() {
            let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
            let color = if v.is_finite() {
                heat_color(t)
            } else {
                RGBColor(220, 220, 220)
            };
            ctx.draw_series(std::iter::once(Rectangle::new(
                [(c as f64, r as f64), (c as f64 + 1.0, r as f64 + 1.0)],
                color.filled(),
            )))
            .map_err(|e| e.to_string())?;
            let label = if v.is_finite() {
                format!("{v:.3}")
            } else {
                "—".into()
            };
            let text_color = if t > 0.6 { BLACK } else { WHITE };
            ctx.draw_series(std::iter::once(Text::new(
                label,
                (c as f64 + 0.3, r as f64 + 0.55),
                ("sans-serif", 15).into_font().color(&text_color),
            )))
            .map_err(|e| e.to_string())?;
            if h.mark
                .get(r)
                .and_then(|m| m.get(c))
                .copied()
                .unwrap_or(false)
            {
                ctx.draw_series(std::iter::once(Rectangle::new(
                    [
                        (c as f64 + 0.04, r as f64 + 0.04),
                        (c as f64 + 0.96, r as f64 + 0.96),
                    ],
                    RED.stroke_width(4),
                )))
                .map_err(|e| e.to_string())?;
            }
        }
    }
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

/// Writes `<dir>/<stem>.png` and `<dir>/<stem>.svg` of a heatmap.
pub fn render_heatmap(h: &Heatmap, dir: &Path) -> ReportResult<()> {
    register_font();
    let mut typeset = h.clone();
    typeset.title = scripts(&h.title);
    typeset.x_label = scripts(&h.x_label);
    typeset.y_label = scripts(&h.y_label);
    let h = &typeset;
    std::fs::create_dir_all(dir)?;
    let png = dir.join(format!("{}.png", h.stem));
    let svg = dir.join(format!("{}.svg", h.stem));
    draw_heatmap(BitMapBackend::new(&png, (800, 480)).into_drawing_area(), h).map_err(|e| {
        ReportError::Draw {
            path: png.display().to_string(),
            message: e.to_string(),
        }
    })?;
    draw_heatmap(SVGBackend::new(&svg, (800, 480)).into_drawing_area(), h).map_err(|e| {
        ReportError::Draw {
            path: svg.display().to_string(),
            message: e.to_string(),
        }
    })?;
    Ok(())
}

/// A grid of grey-scale images (MNIST digits): one labelled row per entry, images of
/// `side` × `side` pixels in [0, 1] (white background, black ink).
#[derive(Clone, Debug)]
pub struct ImageGrid {
    /// File stem.
    pub stem: String,
    /// Caption.
    pub title: String,
    /// Image side in pixels.
    pub side: usize,
    /// (row label, images of the row).
    pub rows: Vec<(String, Vec<Vec<f64>>)>,
}

fn draw_grid<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    g: &ImageGrid,
    cell: i32,
    label_w: i32,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let side = g.side as i32;
    let pad = 4;
    let style = TextStyle::from(("sans-serif", 14).into_font()).color(&BLACK);
    for (r, (label, images)) in g.rows.iter().enumerate() {
        let y0 = r as i32 * (side * cell + pad) + pad;
        root.draw(&Text::new(
            label.clone(),
            (4, y0 + side * cell / 2 - 7),
            style.clone(),
        ))
        .map_err(|e| e.to_string())?;
        for (c, img) in images.iter().enumerate() {
            let x0 = label_w + c as i32 * (side * cell + pad);
            for (p, &v) in img.iter().enumerate() {
                let (py, px) = (p as i32 / side, p as i32 % side);
                let grey = (255.0 * (1.0 - v.clamp(0.0, 1.0))).round() as u8;
                let (x, y) = (x0 + px * cell, y0 + py * cell);
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    RGBColor(grey, grey, grey).filled(),
                ))
                .map_err(|e| e.to_string())?;
            }
        }
    }
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

/// Writes `<dir>/<stem>.png` of an image grid (PNG only: a vector file of every pixel would
/// be large and no sharper).
pub fn render_grid(g: &ImageGrid, dir: &Path) -> ReportResult<()> {
    register_font();
    std::fs::create_dir_all(dir)?;
    let png = dir.join(format!("{}.png", g.stem));
    let (cell, label_w, pad) = (3_i32, 110_i32, 4_i32);
    let side = g.side as i32;
    let cols = g.rows.iter().map(|r| r.1.len()).max().unwrap_or(0) as i32;
    let w = label_w + cols * (side * cell + pad) + pad;
    let h = g.rows.len() as i32 * (side * cell + pad) + pad;
    draw_grid(
        BitMapBackend::new(&png, (w.max(1) as u32, h.max(1) as u32)).into_drawing_area(),
        g,
        cell,
        label_w,
    )
    .map_err(|e| ReportError::Draw {
        path: png.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{
        Chart, LEGEND_SAMPLE, Line, MARKERS, PALETTE, RGBColor, envelope, fixed_color,
        legend_width, log_keys, looks, render, si_time, tick,
    };

    #[test]
    fn curves_of_one_colour_get_their_own_markers_and_the_legend_its_own_column() {
        let line = |name: &str| Line::new(name, vec![(0.0, 1.0), (1.0, 2.0)]);
        let mut seed = line("microcircuit, layer 1");
        seed.faint = true;
        let chart = Chart {
            stem: "t".into(),
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            lines: vec![
                seed,
                line("microcircuit, layer 1"),
                line("microcircuit, layer 2"),
                line("backprop, layer 1"),
                line("microcircuit, layer 3"),
                line("a reference"),
            ],
            log_y: false,
            log_x: false,
        };
        let looks = looks(&chart);
        // The three layers of one learner: one colour, three shapes; the faint seed takes
        // no shape of its own (the first layer still gets the first).
        assert_eq!(looks[1].color, looks[2].color);
        assert_eq!(looks[1].color, looks[4].color);
        assert_eq!(
            [looks[1].marker, looks[2].marker, looks[4].marker],
            [MARKERS[0], MARKERS[1], MARKERS[2]]
        );
        assert!(looks[1].shared && looks[2].shared && looks[4].shared);
        // Another learner, and an unnamed-learner curve: colours of their own, not shared.
        assert_ne!(looks[3].color, looks[1].color);
        assert!(!looks[3].shared && !looks[5].shared);
        assert_ne!(looks[5].color, looks[1].color);
        // The legend column fits the widest name ("microcircuit, layer 1", ≈ 6 px a
        // character at 14 px) with the sample and margins.
        let w = legend_width(&chart);
        assert!(
            (21 * 5 + LEGEND_SAMPLE as u32 + 28..=21 * 9 + LEGEND_SAMPLE as u32 + 28).contains(&w),
            "{w}"
        );
        let unnamed = Chart {
            lines: vec![Line::new("", vec![(0.0, 1.0)])],
            ..chart.clone()
        };
        assert_eq!(legend_width(&unnamed), 0);
        // Rendered, the image is the plot's 800 pixels plus that column.
        let dir = std::env::temp_dir().join(format!("dendritic-legend-{}", std::process::id()));
        render(&chart, &dir).expect("renders");
        let png = std::fs::read(dir.join("t.png")).expect("png written");
        let width = u32::from_be_bytes(png[16..20].try_into().expect("IHDR width"));
        assert_eq!(width, 800 + legend_width(&chart));
        std::fs::remove_dir_all(&dir).expect("cleaned up");
    }

    #[test]
    fn unnamed_curves_never_take_a_learners_colour() {
        let line = |name: &str| Line::new(name, vec![(0.0, 1.0), (1.0, 2.0)]);
        let mut lines = vec![line("single_layer"), line("microcircuit")];
        lines.extend((0..6).map(|i| line(&format!("curve {i}"))));
        let chart = Chart {
            stem: "t".into(),
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            lines,
            log_y: false,
            log_x: false,
        };
        let looks = looks(&chart);
        let learners = [fixed_color("single_layer"), fixed_color("microcircuit")];
        assert_eq!(learners, [Some(PALETTE[4]), Some(PALETTE[0])]);
        // The microcircuit's two-pass learner is drawn as the microcircuit.
        assert_eq!(fixed_color("two_pass, layer 2"), learners[1]);
        assert_eq!([looks[0].color, looks[1].color], [PALETTE[4], PALETTE[0]]);
        // The six unnamed curves: the other six colours of the palette, in its order.
        let others: Vec<RGBColor> = looks[2..].iter().map(|l| l.color).collect();
        let expected: Vec<RGBColor> = [1, 2, 3, 5, 6, 7].iter().map(|&i| PALETTE[i]).collect();
        assert_eq!(others, expected);
    }

    #[test]
    fn log_axes_get_ticks_in_every_decade() {
        let close = |a: &[f64], b: &[f64]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x / y - 1.0).abs() < 1e-12)
        };
        let k = log_keys(1.3, 95.0);
        assert!(close(&k, &[2.0, 5.0, 10.0, 20.0, 50.0]), "{k:?}");
        let k = log_keys(1.5, 4.5);
        assert!(close(&k, &[2.0, 3.0, 4.0]), "{k:?}");
        let k = log_keys(1e-9, 1.0);
        assert_eq!(k.len(), 10, "{k:?}");
        assert!(log_keys(0.0, 1.0).is_empty());
    }

    /// The envelope of a long noisy trace keeps every bucket's extremes (so the global ones), in
    /// x order, with at most two points per bucket; short traces are kept whole.
    #[test]
    fn an_envelope_keeps_the_extremes_in_order() {
        let pts: Vec<(f64, f64)> = (0..100_000)
            .map(|i| {
                let x = i as f64 * 0.1;
                (x, (x * 0.37).sin() + 0.1 * ((i * 7919) % 13) as f64)
            })
            .collect();
        let e = envelope(&pts, 700);
        assert!(e.len() <= 1400 && e.len() > 700, "{}", e.len());
        assert!(e.windows(2).all(|w| w[0].0 < w[1].0));
        let range = |v: &[(f64, f64)]| {
            v.iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                    (a.min(p.1), b.max(p.1))
                })
        };
        let ((lo, hi), (elo, ehi)) = (range(&pts), range(&e));
        assert_eq!((lo.to_bits(), hi.to_bits()), (elo.to_bits(), ehi.to_bits()));
        // Every point of the envelope is a point of the trace.
        assert!(e.iter().all(|p| pts[(p.0 / 0.1).round() as usize] == *p));
        let short: Vec<(f64, f64)> = pts[..1000].to_vec();
        assert_eq!(envelope(&short, 700), short);
    }

    /// A long time axis in ms is shown in s; a short one, or another axis, is left alone.
    #[test]
    fn long_millisecond_axes_become_seconds() {
        let chart = |xmax: f64, label: &str| Chart {
            stem: "c".into(),
            title: "t".into(),
            x_label: label.into(),
            y_label: "y".into(),
            lines: vec![Line::new("a", vec![(0.0, 1.0), (xmax, 2.0)])],
            log_y: false,
            log_x: false,
        };
        let s = si_time(&chart(100_000.0, "time (ms)")).expect("scaled");
        assert_eq!(s.x_label, "time (s)");
        assert_eq!(s.lines[0].points[1].0, 100.0);
        assert!(si_time(&chart(5_000.0, "time (ms)")).is_none());
        assert!(si_time(&chart(100_000.0, "epoch")).is_none());
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(tick(9.999999998e-5), "1e-4");
        assert_eq!(tick(0.05), "0.05");
        assert_eq!(tick(250.0), "250");
        assert_eq!(tick(1000.0), "1000");
        assert_eq!(tick(2.5e5), "2.5e5");
        assert_eq!(tick(-0.125), "-0.125");
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(1.0), "1");
    }
}
