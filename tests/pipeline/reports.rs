//! Every page's referenced figures exist and are valid, non-empty PNG/SVG; summary.csv has
//! the contract columns and metric names.

use std::path::Path;

use dendritic::experiment::run_scenario;
use dendritic::report::render;

use crate::common::*;

fn check_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.len() > 1000,
        "{} is too small to hold a chart",
        path.display()
    );
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&bytes[12..16], b"IHDR");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    // The plot is 800 × 480; a chart with named curves adds its legend column (≤ 400 px).
    assert_eq!(height, 480, "{}", path.display());
    assert!(
        (800..=1200).contains(&width),
        "{}: width {width}",
        path.display()
    );
    // Not a blank image: more than one colour in the pixel data (compressed size well above
    // that of a uniform 800×480 image, which deflates to ~1 kB).
    assert!(bytes.len() > 5000, "{} looks blank", path.display());
}

fn check_svg(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        text.contains("<svg") && text.trim_end().ends_with("</svg>"),
        "{} is not an SVG document",
        path.display()
    );
    assert!(
        text.matches("<text").count() >= 5,
        "{}: axis labels and title missing",
        path.display()
    );
    assert!(
        text.contains("<polyline") || text.contains("<path"),
        "{}: no curve",
        path.display()
    );
}

/// The targets of src="…" and href="…" in a page, relative to it.
fn referenced(html: &str, attr: &str) -> Vec<String> {
    html.split(&format!("{attr}=\""))
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|s| s.to_string())
        .collect()
}

/// summary.csv: the contract's columns, a status consistent with the paper column, and the
/// page's headline metrics finite.
fn check_summary_csv(name: &str, path: &Path) {
    let csv = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        csv.lines().next(),
        Some("metric,value,paper,unit,sd,status")
    );
    for line in csv.lines().skip(1) {
        let status = line.rsplit(',').next().unwrap();
        let paper = line.split(',').nth(2).unwrap();
        match status {
            "no paper number" => assert!(paper.is_empty(), "{name}: {line}"),
            "reproduced" | "differs" => assert!(!paper.is_empty(), "{name}: {line}"),
            other => panic!("{name}: status {other:?} in {line}"),
        }
    }
    let want: &[&str] = match name {
        "self_predicting" => &[
            "apical_norm_drop_factor",
            "interneuron_mismatch_drop_factor",
        ],
        "target_learning" => &["output_target_mismatch_rel", "apical_error_rel"],
        _ => &[
            "test_error_microcircuit",
            "test_error_shallow",
            "alignment_angle_deg",
        ],
    };
    for m in want {
        let line = csv
            .lines()
            .find(|l| l.starts_with(&format!("{m},")))
            .unwrap_or_else(|| panic!("{name}: no {m}"));
        let value: f64 = line.split(',').nth(1).unwrap().parse().unwrap();
        assert!(value.is_finite(), "{name}: {m} = {value}");
    }
}

#[test]
fn every_referenced_figure_exists_and_is_valid() {
    let dir = scratch("reports");
    let results = dir.join("results");
    let reports = dir.join("reports");
    for name in ["self_predicting", "target_learning", "regression"] {
        let out = run_scenario(&tiny(name), &results, false, false).unwrap();
        assert!(out.failures.is_empty(), "{name}: {:?}", out.failures);
    }
    let pages = render(&[], &results, &reports).unwrap();
    assert_eq!(pages.len(), 4, "three pages and the index");
    let index = std::fs::read_to_string(reports.join("index.html")).unwrap();
    assert!(
        index.contains("<th>status</th>"),
        "the index is a dashboard"
    );
    for name in ["self_predicting", "target_learning", "regression"] {
        assert!(
            index.contains(&format!("href=\"{name}/index.html\"")),
            "index links {name}"
        );
        // Its thumbnail is one of the page's figures.
        let thumb = index
            .split(&format!("<img src=\"{name}/"))
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_else(|| panic!("no thumbnail of {name}"));
        assert!(reports.join(name).join(thumb).exists(), "{name}/{thumb}");
        let page_dir = reports.join(name);
        let html = std::fs::read_to_string(page_dir.join("index.html")).unwrap();
        for needle in ["commit", "method", "wall time", "Scenario as run"] {
            assert!(
                html.contains(needle),
                "{name}: page does not state {needle}"
            );
        }
        let pngs = referenced(&html, "src");
        assert!(pngs.len() >= 2, "{name}: too few figures");
        for png in &pngs {
            check_png(&page_dir.join(png));
        }
        let svgs: Vec<String> = referenced(&html, "href")
            .into_iter()
            .filter(|h| h.ends_with(".svg"))
            .collect();
        assert_eq!(svgs.len(), pngs.len(), "{name}: every figure has an SVG");
        for svg in &svgs {
            check_svg(&page_dir.join(svg));
        }
        // No NaN shown, and the page (its HTML and SVGs; PNGs aside) stays under 1.5 MB.
        assert!(!html.contains("NaN"), "{name}: the page shows NaN");
        let bytes: u64 = std::iter::once(page_dir.join("index.html"))
            .chain(svgs.iter().map(|s| page_dir.join(s)))
            .map(|p| std::fs::metadata(p).unwrap().len())
            .sum();
        assert!(bytes < 1_500_000, "{name}: {bytes} bytes of HTML and SVG");
        check_summary_csv(name, &page_dir.join("summary.csv"));
        // The paper's figure, panel by panel: each of its panels is labelled and shows an
        // image of the page.
        let (figure, panels): (&str, &[&str]) = match name {
            "target_learning" => ("Fig. 1", &["B(i)", "B(ii)", "C(i)", "C(ii)"]),
            "regression" => ("Fig. 2", &["B(i)", "B(ii)", "C", "C(i)", "C(ii)"]),
            _ => ("Fig. S1", &["(i)", "(ii)"]),
        };
        assert!(
            html.contains(&format!("<h2>{figure}, panel by panel</h2>")),
            "{name}: no {figure} layout"
        );
        for panel in panels {
            let label = format!("<span class=\"panel-label\">{figure} {panel}</span><img src=\"");
            let src = html
                .split(&label)
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or_else(|| panic!("{name}: no panel {figure} {panel}"));
            assert!(
                page_dir.join(src).exists(),
                "{name}: {figure} {panel}: {src}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_diagnostic_screen_says_so_and_the_index_lists_it_apart() {
    let dir = scratch("reports-diagnostic");
    let results = dir.join("results");
    let reports = dir.join("reports");
    let mut s = tiny("self_predicting");
    s.name = "mnist_short".into();
    run_scenario(&s, &results, false, false).unwrap();
    run_scenario(&tiny("self_predicting"), &results, false, false).unwrap();
    render(&[], &results, &reports).unwrap();
    let page = std::fs::read_to_string(reports.join("mnist_short/index.html")).unwrap();
    let commit = dendritic::experiment::commit();
    assert!(
        page.contains("Diagnostic screen, not a headline study")
            && page.contains(&format!("Built from commit {commit}.")),
        "the diagnostic banner names its one commit"
    );
    let headline = std::fs::read_to_string(reports.join("self_predicting/index.html")).unwrap();
    assert!(!headline.contains("Diagnostic screen"));
    let index = std::fs::read_to_string(reports.join("index.html")).unwrap();
    let (main, diagnostics) = index.split_once("<h2>Diagnostic screens</h2>").unwrap();
    assert!(main.contains("href=\"self_predicting/index.html\""));
    assert!(!main.contains("href=\"mnist_short/index.html\""));
    assert!(diagnostics.contains("href=\"mnist_short/index.html\""));
    // A page kept from before summary.csv had a status: listed, with no status claimed.
    let old = reports.join("old_page");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(old.join("index.html"), "<html></html>").unwrap();
    std::fs::write(
        old.join("summary.csv"),
        "metric,value,paper,unit\ntest_error,3.03,1.96,%\n",
    )
    .unwrap();
    render(&["self_predicting".to_string()], &results, &reports).unwrap();
    let index = std::fs::read_to_string(reports.join("index.html")).unwrap();
    let row = index.split("href=\"old_page/index.html\"").nth(1).unwrap();
    assert!(
        row.split("</tr>")
            .next()
            .unwrap()
            .contains("no status recorded"),
        "an old page is neither reproduced nor differing"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_bad_scenario_does_not_stop_the_others_and_the_index_is_written() {
    let dir = scratch("reports-partial");
    let results = dir.join("results");
    let reports = dir.join("reports");
    let out = run_scenario(&tiny("self_predicting"), &results, false, false).unwrap();
    assert!(out.failures.is_empty());
    // A results directory whose summary is not Parquet, and a name that is not one.
    std::fs::create_dir_all(results.join("broken")).unwrap();
    std::fs::write(results.join("broken/summary.parquet"), b"not parquet").unwrap();
    std::fs::write(results.join("broken/scenario.toml"), b"name = \"broken\"").unwrap();
    let names = [
        "broken".to_string(),
        "../escape".to_string(),
        "self_predicting".to_string(),
    ];
    let err = format!("{:#}", render(&names, &results, &reports).unwrap_err());
    assert!(
        err.contains("2 of 3") && err.contains("broken") && err.contains("../escape"),
        "{err}"
    );
    assert!(reports.join("self_predicting/index.html").exists());
    assert!(!dir.join("escape").exists());
    let index = std::fs::read_to_string(reports.join("index.html")).unwrap();
    assert!(index.contains("href=\"self_predicting/index.html\""));
    assert!(
        index.contains("Not rendered")
            && index.contains("broken")
            && index.contains("not a scenario name")
    );
    // Reports into the results directory would overwrite its data: refused.
    let err = render(&[], &results, &results).unwrap_err().to_string();
    assert!(err.contains("is the results directory"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_sweep_page_shows_every_heatmap_it_draws() {
    let dir = scratch("reports-heatmaps");
    let results = dir.join("results");
    let reports = dir.join("reports");
    let text = dendritic::experiment::scenario::EMBEDDED
        .iter()
        .find(|(n, _)| *n == "robustness_small")
        .unwrap()
        .1
        .replace("patterns = 600", "patterns = 2")
        .replace("test_every = 200", "test_every = 1")
        .replace("test_patterns = 100", "test_patterns = 2");
    let s = dendritic::experiment::Scenario::parse(&text, "robustness_small").unwrap();
    run_scenario(&s, &results, false, false).unwrap();
    render(&["robustness_small".to_string()], &results, &reports).unwrap();
    let page = reports.join("robustness_small");
    let html = std::fs::read_to_string(page.join("index.html")).unwrap();
    let drawn: Vec<String> = std::fs::read_dir(&page)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".png"))
        .collect();
    assert!(drawn.len() >= 2, "the sweep draws its heatmaps: {drawn:?}");
    for png in &drawn {
        assert!(
            html.contains(&format!("<img src=\"{png}\"")),
            "{png} is drawn but not shown"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
