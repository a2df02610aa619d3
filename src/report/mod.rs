//! Reports: static HTML pages with PNG and SVG figures, rendered from results/ alone (a report
//! never re-simulates). Each page states scenario, parameters, commit, method and wall time and
//! writes its headline numbers to summary.csv (`metric,value,paper,unit`).

pub mod data;
mod error;
pub mod page;
mod pages;
pub mod plot;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::error::Context;

use crate::experiment::Scenario;
use crate::record::read_frame;
use data::{mean_sd, summary_text, summary_values};
pub use error::{ReportError, ReportResult};
pub use page::{Inputs, Metric, Page};
pub use plot::{Chart, Line};

/// Renders the reports of the named scenarios (or of every results/<name>/ with a summary),
/// then reports/index.html linking every page under reports/. Returns the pages written.
pub fn render(scenarios: &[String], results: &Path, reports: &Path) -> ReportResult<Vec<PathBuf>> {
    let names: Vec<String> = if scenarios.is_empty() {
        let mut v: Vec<String> = std::fs::read_dir(results)
            .with_context(|| format!("reading results directory '{}'", results.display()))?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("summary.parquet").exists())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        v.sort();
        v
    } else {
        scenarios.to_vec()
    };
    if same_dir(results, reports) {
        return Err(ReportError::Invalid(format!(
            "reports directory '{}' is the results directory: a page's summary.csv would overwrite the results' CSV; choose another --reports",
            reports.display()
        )));
    }
    let mut written = Vec::new();
    let mut failed: Vec<(String, String)> = Vec::new();
    for name in &names {
        let rendered = check_name(name).and_then(|()| {
            render_one(&results.join(name), &reports.join(name))
                .with_context(|| format!("rendering the report of '{name}'"))
                .map_err(ReportError::from)
        });
        match rendered {
            Ok(page) => written.push(page),
            Err(e) => {
                tracing::error!("{e:#}");
                failed.push((name.clone(), format!("{e:#}")));
            }
        }
    }
    written.push(write_index(reports, &failed)?);
    if !failed.is_empty() {
        return Err(ReportError::Invalid(format!(
            "{} of {} report(s) could not be rendered ({}); the others and reports/index.html were written",
            failed.len(),
            names.len(),
            failed
                .iter()
                .map(|f| f.0.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(written)
}

/// A scenario name is one path component: no separators, not `.` or `..`.
///
/// # Errors
/// Naming the bad name.
pub fn check_name(name: &str) -> ReportResult<()> {
    if name.is_empty()
        || name == "."
        || name == ".."
        || name.contains(['/', '\\'])
        || name.contains('\0')
    {
        return Err(ReportError::Invalid(format!(
            "'{name}' is not a scenario name (one path component, no '/', not '..')"
        )));
    }
    Ok(())
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Renders one scenario's page from its results directory.
pub fn render_one(results: &Path, out: &Path) -> ReportResult<PathBuf> {
    let scenario_text = std::fs::read_to_string(results.join("scenario.toml"))
        .with_context(|| format!("reading {}", results.join("scenario.toml").display()))?;
    let scenario = Scenario::parse(
        &scenario_text,
        &results.join("scenario.toml").display().to_string(),
    )
    .context("reading the results' scenario")?;
    let summary = read_frame(&results.join("summary.parquet"))?;
    let speedup = std::fs::read_to_string(results.join("speedup.csv")).ok();
    let timeseries = read_frame(&results.join("timeseries.parquet"))?;
    let table_path = results.join("table.parquet");
    let table = if table_path.exists() {
        Some(read_frame(&table_path)?)
    } else {
        None
    };
    let inputs = Inputs {
        scenario: &scenario,
        summary: &summary,
        timeseries: &timeseries,
        table: table.as_ref(),
        speedup: speedup.as_deref(),
        results: Some(results),
    };
    let page = pages::page(&inputs)?;
    std::fs::create_dir_all(out)?;
    for chart in &page.charts {
        plot::render(chart, out)?;
    }
    for h in &page.heatmaps {
        plot::render_heatmap(h, out)?;
    }
    for g in &page.images {
        plot::render_grid(g, out)?;
    }
    let mut csv = String::from("metric,value,paper,unit\n");
    for m in &page.metrics {
        let _ = writeln!(
            csv,
            "{},{},{},{}",
            m.name,
            m.value,
            m.paper.map(|p| p.to_string()).unwrap_or_default(),
            m.unit
        );
    }
    std::fs::write(out.join("summary.csv"), csv)?;
    let html = page_html(&inputs, &scenario_text, &page);
    let path = out.join("index.html");
    std::fs::write(&path, html)?;
    Ok(path)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn fmt(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{x:.3e}")
    } else {
        format!("{x:.4}")
    }
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:left}\
th{background:#f3f3f3}pre{background:#f7f7f7;padding:1em;overflow-x:auto;font-size:85%}\
figure{margin:1.5em 0}figcaption{color:#555;font-size:90%}img{max-width:100%;border:1px solid #eee}";

/// The run's facts: study, method, seeds, commit, wall time, cost and status.
fn provenance_table(inputs: &Inputs) -> String {
    let s = inputs.scenario;
    let wall = summary_values(inputs.summary, "wall_time_s");
    let (wall_mean, _) = mean_sd(&wall);
    let evals = summary_values(inputs.summary, "rhs_evaluations");
    let statuses = summary_text(inputs.summary, "status");
    let failed = summary_values(inputs.summary, "seed").len() < inputs.summary.height();
    let mut h = String::new();
    let _ = write!(
        h,
        "<table><tr><th>study</th><td>{}</td></tr><tr><th>method</th><td>{}, dt = {} ms</td></tr>\
         <tr><th>seeds</th><td>{:?}</td></tr><tr><th>commit</th><td>{}</td></tr>\
         <tr><th>wall time</th><td>{:.1} s per run (mean), {:.1} s in all</td></tr>\
         <tr><th>right-hand-side evaluations</th><td>{:.3e} per run (mean)</td></tr><tr><th>run status</th><td>{}</td></tr></table>",
        s.study.kind().name(),
        s.method.name(),
        s.protocol.dt,
        s.seeds,
        esc(&summary_text(inputs.summary, "commit").join(", ")),
        wall_mean,
        wall.iter().sum::<f64>(),
        mean_sd(&evals).0,
        esc(&statuses.join(", "))
            + if failed {
                " (see summary.parquet for errors)"
            } else {
                ""
            },
    );
    h
}

fn page_html(inputs: &Inputs, scenario_text: &str, page: &Page) -> String {
    let s = inputs.scenario;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{0}</title><style>{STYLE}</style></head><body>",
        esc(&s.name)
    );
    let _ = write!(
        h,
        "<p><a href=\"../index.html\">← all reports</a></p><h1>{}</h1><p>{}</p>",
        esc(&s.name),
        esc(&s.description)
    );
    h.push_str(&provenance_table(inputs));
    let _ = write!(
        h,
        "<h2>Headline numbers</h2><p>Mean over seeds (± sample sd where shown in the note). Also in <a href=\"summary.csv\">summary.csv</a>.</p>"
    );
    let _ = write!(
        h,
        "<table><tr><th>metric</th><th>ours</th><th>paper</th><th>unit</th><th>how measured</th></tr>"
    );
    for m in &page.metrics {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&m.name),
            fmt(m.value),
            m.paper.map(fmt).unwrap_or_else(|| "—".into()),
            esc(&m.unit),
            m.note
        );
    }
    h.push_str("</table>");
    for n in &page.notes {
        let _ = write!(h, "<p>{n}</p>");
    }
    if let Some(t) = &page.table {
        h.push_str(t);
    }
    h.push_str("<h2>Figures</h2>");
    for c in &page.charts {
        let _ = write!(
            h,
            "<figure><img src=\"{0}.png\" alt=\"{1}\"><figcaption>{1} (<a href=\"{0}.svg\">SVG</a>)</figcaption></figure>",
            esc(&c.stem),
            esc(&c.title)
        );
    }
    for g in &page.images {
        let _ = write!(
            h,
            "<figure><img src=\"{0}.png\" alt=\"{1}\"><figcaption>{1}</figcaption></figure>",
            esc(&g.stem),
            esc(&g.title)
        );
    }
    let _ = write!(
        h,
        "<h2>Scenario as run</h2><pre>{}</pre></body></html>",
        esc(scenario_text)
    );
    h
}

/// Writes reports/index.html linking every reports/<name>/index.html with its headline numbers.
pub fn write_index(reports: &Path, failed: &[(String, String)]) -> ReportResult<PathBuf> {
    std::fs::create_dir_all(reports)?;
    let mut names: Vec<String> = std::fs::read_dir(reports)?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("index.html").exists())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    let mut h = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>dendritic reports</title><style>{STYLE}</style></head><body>"
    );
    h.push_str("<h1>dendritic reports</h1><p>Reproductions of Sacramento, Costa, Bengio &amp; Senn, <i>Dendritic cortical microcircuits approximate the backpropagation algorithm</i> (NeurIPS 2018). Each page is rendered from results/ by <code>dendritic report</code>.</p><table><tr><th>report</th><th>headline numbers (ours / paper)</th></tr>");
    for n in &names {
        let csv = std::fs::read_to_string(reports.join(n).join("summary.csv")).unwrap_or_default();
        let nums: Vec<String> = csv
            .lines()
            .skip(1)
            .filter_map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                let v: f64 = f.get(1)?.parse().ok()?;
                let paper = f
                    .get(2)
                    .filter(|p| !p.is_empty())
                    .map(|p| format!(" / {p}"))
                    .unwrap_or_default();
                Some(format!(
                    "<code>{}</code> = {}{} {}",
                    f[0],
                    fmt(v),
                    paper,
                    f.get(3).unwrap_or(&"")
                ))
            })
            .collect();
        let _ = write!(
            h,
            "<tr><td><a href=\"{n}/index.html\">{n}</a></td><td>{}</td></tr>",
            nums.join("<br>")
        );
    }
    h.push_str("</table>");
    if !failed.is_empty() {
        h.push_str("<h2>Not rendered</h2><table><tr><th>scenario</th><th>why</th></tr>");
        for (n, why) in failed {
            let _ = write!(h, "<tr><td>{}</td><td>{}</td></tr>", esc(n), esc(why));
        }
        h.push_str("</table>");
    }
    h.push_str("</body></html>");
    let path = reports.join("index.html");
    crate::record::lock::write_atomic(&path, h.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
