//! Reports: static HTML pages with PNG and SVG figures, rendered from results/ alone (a report
//! never re-simulates). Each page states scenario, parameters, commit, method and wall time and
//! writes its headline numbers to summary.csv (`metric,value,paper,unit,sd,status`; status is
//! "reproduced" when |ours − paper| ≤ max(2 sd over seeds, the paper's stated spread)).

pub mod data;
pub mod diagnostics;
mod error;
mod html;
pub mod page;
mod pages;
pub mod plot;
pub mod typeset;

pub use diagnostics::{DIAGNOSTICS, diagnostic};

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::error::Context;

use crate::experiment::Scenario;
use crate::record::read_frame;
use data::{mean_sd, summary_text, summary_values};
pub use error::{ReportError, ReportResult};
use html::esc;
pub use page::{Inputs, Metric, Page, Status};
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
    let mut csv = String::from("metric,value,paper,unit,sd,status\n");
    for m in &page.metrics {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{}",
            m.name,
            m.value,
            m.paper.map(|p| p.to_string()).unwrap_or_default(),
            m.unit,
            m.sd.map(|p| p.to_string()).unwrap_or_default(),
            m.status().name()
        );
    }
    std::fs::write(out.join("summary.csv"), csv)?;
    let html = page_html(&inputs, &scenario_text, &page);
    let path = out.join("index.html");
    std::fs::write(&path, html)?;
    Ok(path)
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

/// The CSS class of a status cell.
fn status_class(s: Status) -> &'static str {
    match s {
        Status::Reproduced => "ok",
        Status::Differs => "bad",
        Status::NoPaper => "none",
    }
}

const STYLE: &str = ".warn{color:#fff;background:#b00;padding:.6em 1em;font-weight:bold}.ok{color:#070}.bad{color:#b00}.none{color:#777}\
body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:left}\
th{background:#f3f3f3}pre{background:#f7f7f7;padding:1em;overflow-x:auto;font-size:85%}\
figure{margin:1.5em 0}figcaption{color:#555;font-size:90%}img{max-width:100%;border:1px solid #eee}\
.fig-row{display:flex;gap:1em;align-items:flex-start}.fig-row figure{flex:1 1 0;min-width:0;margin:.5em 0;position:relative}\
.diag{background:#fff6d5;border-left:4px solid #c90;padding:.6em 1em}.panel-label{display:block;width:max-content;font-weight:bold;background:#222;color:#fff;padding:1px 6px;margin-bottom:2px;font-size:90%}";

/// The banner of a diagnostic screen's page: what it is for and its commits.
fn diagnostic_banner(name: &str, commits: &[String]) -> String {
    diagnostic(name).map_or_else(String::new, |why| {
        format!(
            "<p class=\"diag\">Diagnostic screen, not a headline study: {}. Built from commit{} {}.</p>",
            esc(why),
            if commits.len() == 1 { "" } else { "s" },
            esc(&commits.join(", "))
        )
    })
}

/// The distinct commits the runs were built from, in order of first appearance.
fn commits(inputs: &Inputs) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in summary_text(inputs.summary, "commit") {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// A red warning at the top of a page built from more than one commit or from a dirty tree
/// (a reader could not rebuild what produced its numbers); empty otherwise.
fn provenance_warning(commits: &[String]) -> String {
    let dirty = commits
        .iter()
        .any(|c| c.ends_with("+dirty") || c == "unknown");
    if commits.len() <= 1 && !dirty {
        return String::new();
    }
    let mut why = Vec::new();
    if commits.len() > 1 {
        why.push(format!("{} commits", commits.len()));
    }
    if dirty {
        why.push("a tree with uncommitted changes".into());
    }
    format!(
        "<p class=\"warn\">Built from {}: {}. Re-run from one clean commit to make the numbers reproducible.</p>",
        why.join(" and "),
        esc(&commits.join(", "))
    )
}

/// How the runs advanced: the learner of an MNIST-style study, else the time stepper and dt.
fn method_text(inputs: &Inputs) -> String {
    let s = inputs.scenario;
    match s.study.training() {
        Some(m) => {
            let mut learners = summary_text(inputs.summary, "mnist.learner");
            learners.sort();
            learners.dedup();
            let learners = if learners.is_empty() {
                "microcircuit".to_string()
            } else {
                learners.join(", ")
            };
            format!(
                "learners: {learners}; the microcircuit settles by {} per minibatch of {} (no time stepping)",
                match m.settle {
                    crate::learn::SettleBy::TwoPass =>
                        "the two passes (paper-spec §6.4)".to_string(),
                    crate::learn::SettleBy::FixedPoint => "fixed-point iteration".to_string(),
                    crate::learn::SettleBy::Euler =>
                        format!("Euler relaxation, dt = {} ms", s.protocol.dt),
                    crate::learn::SettleBy::Dynamics => format!(
                        "the full dynamics, forward Euler at dt = {} ms",
                        s.protocol.dt
                    ),
                },
                m.batch
            )
        }
        None => format!("{}, dt = {} ms", s.method.name(), s.protocol.dt),
    }
}

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
        "<table><tr><th>study</th><td>{}</td></tr><tr><th>method</th><td>{}</td></tr>\
         <tr><th>seeds</th><td>{:?}</td></tr><tr><th>commit</th><td>{}</td></tr>",
        s.study.kind().name(),
        esc(&method_text(inputs)),
        s.seeds,
        esc(&commits(inputs).join(", ")),
    );
    if !wall.is_empty() {
        let _ = write!(
            h,
            "<tr><th>wall time</th><td>{wall_mean:.1} s per run (mean), {:.1} s in all</td></tr>",
            wall.iter().sum::<f64>()
        );
    }
    let (evals_mean, _) = mean_sd(&evals);
    if evals_mean.is_finite() {
        let _ = write!(
            h,
            "<tr><th>right-hand-side evaluations</th><td>{evals_mean:.3e} per run (mean)</td></tr>"
        );
    }
    let _ = write!(
        h,
        "<tr><th>run status</th><td>{}</td></tr></table>",
        esc(&statuses.join(", "))
            + if failed {
                " (see summary.parquet for errors)"
            } else {
                ""
            }
    );
    h
}

/// The table "paper vs ours": every headline number the paper also reports, with the distance,
/// the tolerance max(2 sd over our seeds, the paper's stated spread) and the status.
fn paper_vs_ours(page: &Page) -> String {
    let rows: Vec<&Metric> = page.metrics.iter().filter(|m| m.paper.is_some()).collect();
    if rows.is_empty() {
        return "<h2>Paper vs ours</h2><p>The paper reports no number for this study's headline quantities.</p>".into();
    }
    let mut h = String::from(
        "<h2>Paper vs ours</h2><table><tr><th>quantity</th><th>paper</th><th>ours</th><th>|ours − paper|</th><th>tolerance</th><th>status</th></tr>",
    );
    for m in rows {
        let paper = m.paper.unwrap_or(f64::NAN);
        let tolerance = (2.0 * m.sd.unwrap_or(0.0)).max(m.paper_spread.unwrap_or(0.0));
        let ours = match m.sd {
            Some(sd) => format!("{} ± {}", fmt(m.value), fmt(sd)),
            None => fmt(m.value),
        };
        let _ = write!(
            h,
            "<tr><td><code>{}</code> ({})</td><td>{}</td><td>{ours}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
            esc(&m.name),
            esc(&m.unit),
            fmt(paper),
            fmt((m.value - paper).abs()),
            if tolerance > 0.0 {
                fmt(tolerance)
            } else {
                "0 (no spread known)".into()
            },
            status_class(m.status()),
            m.status().name()
        );
    }
    h.push_str("</table>");
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
        "<p><a href=\"../index.html\">← all reports</a></p>{}{}<h1>{}</h1><p>{}</p>",
        provenance_warning(&commits(inputs)),
        diagnostic_banner(&s.name, &commits(inputs)),
        esc(&s.name),
        esc(&s.description)
    );
    h.push_str(&provenance_table(inputs));
    h.push_str(&paper_vs_ours(page));
    let _ = write!(
        h,
        "<h2>Headline numbers</h2><p>Mean over seeds (± sample sd where shown in the note). Also in <a href=\"summary.csv\">summary.csv</a>.</p>"
    );
    let _ = write!(
        h,
        "<table><tr><th>metric</th><th>ours</th><th>paper</th><th>unit</th><th>status</th><th>how measured</th></tr>"
    );
    for m in &page.metrics {
        let ours = match m.sd {
            Some(sd) => format!("{} ± {}", fmt(m.value), fmt(sd)),
            None => fmt(m.value),
        };
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{ours}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            esc(&m.name),
            m.paper.map(fmt).unwrap_or_else(|| "—".into()),
            esc(&m.unit),
            status_class(m.status()),
            m.status().name(),
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
    h.push_str(&figure_html(page));
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

/// The page's figures: the paper's figure first, panel by panel under the paper's panel
/// labels, then every chart not in it ("further figures").
fn figure_html(page: &Page) -> String {
    let mut h = String::new();
    // One figure: a chart's or a heatmap's PNG with its SVG link, under a panel label if any.
    let one = |h: &mut String, stem: &str, title: &str, label: Option<&str>| {
        let label = label.map_or_else(String::new, |l| {
            format!("<span class=\"panel-label\">{}</span>", esc(l))
        });
        let _ = write!(
            h,
            "<figure class=\"panel\">{label}<img src=\"{0}.png\" alt=\"{1}\"><figcaption>{1} (<a href=\"{0}.svg\">SVG</a>)</figcaption></figure>",
            esc(stem),
            esc(title)
        );
    };
    let chart = |stem: &str| page.charts.iter().find(|c| c.stem == stem);
    let mut shown: Vec<&str> = Vec::new();
    if let Some(f) = &page.figure {
        let _ = write!(
            h,
            "<h2>{0}, panel by panel</h2><p class=\"fig-caption\">{1}</p>",
            esc(f.figure),
            f.caption
        );
        for row in &f.rows {
            h.push_str("<div class=\"fig-row\">");
            for (label, stem) in row {
                if let Some(c) = chart(stem) {
                    one(
                        &mut h,
                        &c.stem,
                        &c.title,
                        Some(&format!("{} {label}", f.figure)),
                    );
                    shown.push(stem);
                }
            }
            h.push_str("</div>");
        }
    }
    let rest: Vec<&plot::Chart> = page
        .charts
        .iter()
        .filter(|c| !shown.contains(&c.stem.as_str()))
        .collect();
    if !rest.is_empty() || !page.heatmaps.is_empty() {
        h.push_str(if page.figure.is_some() {
            "<h2>Further figures</h2>"
        } else {
            "<h2>Figures</h2>"
        });
        for c in rest {
            one(&mut h, &c.stem, &c.title, None);
        }
    }
    for m in &page.heatmaps {
        one(&mut h, &m.stem, &m.title, None);
    }
    h
}

/// One page's row of the index: its status over the metrics with a paper number, those
/// numbers (or the first three when none has one), and its first figure as a thumbnail.
fn index_row(reports: &Path, n: &str) -> String {
    let csv = std::fs::read_to_string(reports.join(n).join("summary.csv")).unwrap_or_default();
    let rows: Vec<Vec<String>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .filter(|f: &Vec<String>| f.len() >= 4 && f[1].parse::<f64>().is_ok())
        .collect();
    let with_paper: Vec<&Vec<String>> = rows.iter().filter(|f| !f[2].is_empty()).collect();
    let shown: Vec<&Vec<String>> = if with_paper.is_empty() {
        rows.iter().take(3).collect()
    } else {
        with_paper.clone()
    };
    let count = |s: &str| {
        with_paper
            .iter()
            .filter(|f| f.get(5).map(String::as_str) == Some(s))
            .count()
    };
    let (ok, bad) = (count("reproduced"), count("differs"));
    let status = if with_paper.is_empty() {
        "<span class=\"none\">no paper number</span>".to_string()
    } else if ok + bad == 0 {
        // A page rendered before summary.csv carried a status column.
        "<span class=\"none\">no status recorded (an older page)</span>".to_string()
    } else if bad == 0 {
        format!(
            "<span class=\"ok\">reproduced ({ok} of {})</span>",
            with_paper.len()
        )
    } else {
        format!(
            "<span class=\"bad\">differs ({bad} of {})</span>{}",
            with_paper.len(),
            if ok > 0 {
                format!("<br><span class=\"ok\">{ok} reproduced</span>")
            } else {
                String::new()
            }
        )
    };
    let nums: Vec<String> = shown
        .iter()
        .map(|f| {
            let v: f64 = f[1].parse().unwrap_or(f64::NAN);
            let sd = f.get(4).and_then(|s| s.parse::<f64>().ok());
            let ours = sd.map_or_else(|| fmt(v), |sd| format!("{} ± {}", fmt(v), fmt(sd)));
            let paper = if f[2].is_empty() {
                String::new()
            } else {
                format!(" (paper {})", f[2])
            };
            format!("<code>{}</code> {ours}{paper} {}", esc(&f[0]), esc(&f[3]))
        })
        .collect();
    // The page's first figure.
    let html = std::fs::read_to_string(reports.join(n).join("index.html")).unwrap_or_default();
    let thumb = html
        .split("<img src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .filter(|src| src.ends_with(".png"))
        .map(|src| {
            format!(
                "<a href=\"{n}/index.html\"><img src=\"{n}/{src}\" alt=\"{n}\" width=\"180\"></a>"
            )
        })
        .unwrap_or_default();
    format!(
        "<tr><td><a href=\"{n}/index.html\">{n}</a></td><td>{status}</td><td>{}</td><td>{thumb}</td></tr>",
        nums.join("<br>")
    )
}

/// Writes reports/index.html: a dashboard with one row per page under reports/ (its status
/// against the paper, its headline numbers, a thumbnail of its first figure).
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
    h.push_str("<h1>dendritic reports</h1><p>Reproductions of Sacramento, Costa, Bengio &amp; Senn, <i>Dendritic cortical microcircuits approximate the backpropagation algorithm</i> (NeurIPS 2018). Each page is rendered from results/ by <code>dendritic report</code>. A number is <span class=\"ok\">reproduced</span> when |ours − paper| ≤ max(2 sd over our seeds, the paper's stated spread).</p><table><tr><th>report</th><th>status</th><th>headline numbers: ours (paper)</th><th>main figure</th></tr>");
    for n in names.iter().filter(|n| diagnostic(n).is_none()) {
        h.push_str(&index_row(reports, n));
    }
    h.push_str("</table>");
    let diagnostics: Vec<&String> = names.iter().filter(|n| diagnostic(n).is_some()).collect();
    if !diagnostics.is_empty() {
        h.push_str("<h2>Diagnostic screens</h2><p>Settings screens and reduced checks behind the studies above; each page lists the commits it was built from.</p><table><tr><th>report</th><th>status</th><th>headline numbers: ours (paper)</th><th>main figure</th></tr>");
        for n in diagnostics {
            h.push_str(&index_row(reports, n));
        }
        h.push_str("</table>");
    }
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
