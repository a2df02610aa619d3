//! Line charts as PNG and SVG with plotters and an embedded DejaVu font (no system font needed).

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

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
}

impl Line {
    /// A solid curve.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Line {
        Line {
            name: name.into(),
            points,
            dashed: false,
            faint: false,
        }
    }
    /// A dashed curve.
    pub fn dashed(name: impl Into<String>, points: Vec<(f64, f64)>) -> Line {
        Line {
            name: name.into(),
            points,
            dashed: true,
            faint: false,
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
    /// Plot log10(y) (the label says so).
    pub log_y: bool,
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

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, chart: &Chart) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let tr = |y: f64| {
        if chart.log_y {
            y.max(1e-300).log10()
        } else {
            y
        }
    };
    let pts: Vec<(f64, f64)> = chart
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|&(x, y)| (x, tr(y))))
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let (mut x0, mut x1) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.0), b.max(p.0))
        });
    let (mut y0, mut y1) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.1), b.max(p.1))
        });
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let pad = if y1 > y0 {
        0.05 * (y1 - y0)
    } else {
        0.5 * y0.abs().max(1.0)
    };
    let (y0, y1) = (y0 - pad, y1 + pad);
    let y_label = if chart.log_y {
        format!("log10 {}", chart.y_label)
    } else {
        chart.y_label.clone()
    };
    let mut ctx = ChartBuilder::on(&root)
        .caption(&chart.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| e.to_string())?;
    ctx.configure_mesh()
        .x_desc(&chart.x_label)
        .y_desc(&y_label)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| e.to_string())?;
    let mut color_index = 0;
    for line in &chart.lines {
        let color = PALETTE[color_index % PALETTE.len()];
        if !line.faint {
            color_index += 1;
        }
        let style = if line.faint {
            color.mix(0.25).stroke_width(1)
        } else {
            color.stroke_width(2)
        };
        let data: Vec<(f64, f64)> = line
            .points
            .iter()
            .map(|&(x, y)| (x, tr(y)))
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        let series = if line.dashed {
            ctx.draw_series(DashedLineSeries::new(data, 8, 5, style))
                .map_err(|e| e.to_string())?
        } else {
            ctx.draw_series(LineSeries::new(data, style))
                .map_err(|e| e.to_string())?
        };
        if !line.faint && !line.name.is_empty() {
            series.label(line.name.clone()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        }
    }
    if chart.lines.iter().any(|l| !l.faint && !l.name.is_empty()) {
        ctx.configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font(("sans-serif", 14))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

/// Writes `<dir>/<stem>.png` (800×480) and `<dir>/<stem>.svg`.
pub fn render(chart: &Chart, dir: &Path) -> anyhow::Result<()> {
    register_font();
    std::fs::create_dir_all(dir)?;
    let png = dir.join(format!("{}.png", chart.stem));
    let svg = dir.join(format!("{}.svg", chart.stem));
    draw(
        BitMapBackend::new(&png, (800, 480)).into_drawing_area(),
        chart,
    )
    .map_err(|e| anyhow::anyhow!("drawing {}: {e}", png.display()))?;
    draw(SVGBackend::new(&svg, (800, 480)).into_drawing_area(), chart)
        .map_err(|e| anyhow::anyhow!("drawing {}: {e}", svg.display()))?;
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

fn draw_heatmap<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, h: &Heatmap) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let finite: Vec<f64> = h
        .values
        .iter()
        .flatten()
        .cloned()
        .filter(|v| v.is_finite())
        .collect();
    let (lo, hi) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
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
        .x_label_formatter(&move |v| {
            let i = (*v - 0.5).round();
            if (v - 0.5 - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < xs.len() {
                xs[i as usize].clone()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&move |v| {
            let i = (*v - 0.5).round();
            if (v - 0.5 - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < ys.len() {
                ys[i as usize].clone()
            } else {
                String::new()
            }
        })
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
pub fn render_heatmap(h: &Heatmap, dir: &Path) -> anyhow::Result<()> {
    register_font();
    std::fs::create_dir_all(dir)?;
    let png = dir.join(format!("{}.png", h.stem));
    let svg = dir.join(format!("{}.svg", h.stem));
    draw_heatmap(BitMapBackend::new(&png, (800, 480)).into_drawing_area(), h)
        .map_err(|e| anyhow::anyhow!("drawing {}: {e}", png.display()))?;
    draw_heatmap(SVGBackend::new(&svg, (800, 480)).into_drawing_area(), h)
        .map_err(|e| anyhow::anyhow!("drawing {}: {e}", svg.display()))?;
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
pub fn render_grid(g: &ImageGrid, dir: &Path) -> anyhow::Result<()> {
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
    .map_err(|e| anyhow::anyhow!("drawing {}: {e}", png.display()))?;
    Ok(())
}
