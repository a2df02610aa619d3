//! The robustness sweep of the regression study.

use crate::report::data::{mean_sd, summary_values};
use crate::report::error::ReportResult;
use crate::report::page::{Inputs, Metric, Page};

/// `sweep_speedup_2_threads` from speedup.csv (`threads,runs,wall_s`), when both rows exist.
fn speedup_metric(csv: &str) -> Option<Metric> {
    let rows: Vec<(f64, f64)> = csv
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Some((f.first()?.parse().ok()?, f.get(2)?.parse().ok()?))
        })
        .collect();
    if let (Some(one), Some(two)) = (
        rows.iter().find(|r| r.0 == 1.0),
        rows.iter().find(|r| r.0 == 2.0),
    ) {
        return Some(Metric::new(
            "sweep_speedup_2_threads",
            one.1 / two.1,
            "",
            &format!(
                "wall time of the same sub-sweep with 1 thread ({:.1} s) ÷ with 2 threads ({:.1} s); target ≥ 1.7",
                one.1, two.1
            ),
        ));
    }
    None
}

/// A float column's values (all None when it is missing or not a float).
fn column_values(df: &polars::prelude::DataFrame, name: &str) -> Vec<Option<f64>> {
    df.column(name)
        .ok()
        .and_then(|c| c.f64().ok().map(|c| c.iter().collect()))
        .unwrap_or_else(|| vec![None; df.height()])
}

/// The mean and sd heatmaps of one (η scale, σ) slice.
fn mean_and_sd(
    xs: &[f64],
    ys: &[f64],
    (sc, sg): (f64, f64),
    mean: Vec<Vec<f64>>,
    sd: Vec<Vec<f64>>,
    mark: Vec<Vec<bool>>,
) -> [crate::report::plot::Heatmap; 2] {
    use crate::report::plot::Heatmap;
    let tag = format!("eta{sc}_sigma{sg}").replace('.', "p");
    let xl: Vec<String> = xs.iter().map(|x| format!("{x}")).collect();
    let yl: Vec<String> = ys.iter().map(|y| format!("{y}")).collect();
    [
        Heatmap {
            stem: format!("mean_{tag}"),
            title: format!("Final test error, mean over seeds (η scale {sc}, σ = {sg})"),
            x_label: "g_A (1/ms)".into(),
            y_label: "g_som (1/ms)".into(),
            xs: xl.clone(),
            ys: yl.clone(),
            values: mean,
            mark: mark.clone(),
        },
        Heatmap {
            stem: format!("sd_{tag}"),
            title: format!("Final test error, sd over seeds (η scale {sc}, σ = {sg})"),
            x_label: "g_A (1/ms)".into(),
            y_label: "g_som (1/ms)".into(),
            xs: xl,
            ys: yl,
            values: sd,
            mark,
        },
    ]
}

/// The robustness sweep of the regression: heatmaps of the final test error over (g_A, g_som)
/// for each (learning-rate scale, σ), mean and spread over seeds; the region where learning
/// works is ringed.
pub(super) fn robustness(inputs: &Inputs) -> ReportResult<Page> {
    let s = inputs.summary;
    let col = |name: &str| column_values(s, name);
    let g_a = col("network.conductances.g_a");
    let g_som = col("network.conductances.g_som");
    let scale = col("network.plasticity.eta_scale");
    let sigma = col("network.noise.sigma");
    let fin = col("test_error_microcircuit");
    let ini = col("test_error_microcircuit_initial");
    let uniq = |v: &[Option<f64>]| {
        let mut u: Vec<f64> = v.iter().flatten().cloned().collect();
        u.sort_by(f64::total_cmp);
        u.dedup();
        u
    };
    let (xs, ys, ss, qs) = (uniq(&g_a), uniq(&g_som), uniq(&scale), uniq(&sigma));
    let threshold = 0.8;
    let mut heatmaps = Vec::new();
    let (mut points, mut working) = (0, 0);
    for &sc in &ss {
        for &sg in &qs {
            let mut mean = vec![vec![f64::NAN; xs.len()]; ys.len()];
            let mut sd = mean.clone();
            let mut mark = vec![vec![false; xs.len()]; ys.len()];
            for (r, &y) in ys.iter().enumerate() {
                for (c, &x) in xs.iter().enumerate() {
                    let idx: Vec<usize> = (0..s.height())
                        .filter(|&i| {
                            g_a[i] == Some(x)
                                && g_som[i] == Some(y)
                                && scale[i] == Some(sc)
                                && sigma[i] == Some(sg)
                        })
                        .collect();
                    let finals: Vec<f64> = idx.iter().filter_map(|&i| fin[i]).collect();
                    let ratios: Vec<f64> = idx
                        .iter()
                        .filter_map(|&i| Some(fin[i]? / ini[i]?))
                        .collect();
                    if finals.is_empty() {
                        continue;
                    }
                    let (m, d) = mean_sd(&finals);
                    mean[r][c] = m;
                    sd[r][c] = d;
                    points += 1;
                    if mean_sd(&ratios).0 <= threshold {
                        mark[r][c] = true;
                        working += 1;
                    }
                }
            }
            heatmaps.extend(mean_and_sd(&xs, &ys, (sc, sg), mean, sd, mark));
        }
    }
    let mut metrics = vec![Metric::new(
        "fraction_learning",
        working as f64 / points.max(1) as f64,
        "",
        &format!(
            "fraction of grid points where learning works: mean over seeds of final ÷ initial microcircuit test error ≤ {threshold} ({working} of {points} points)"
        ),
    )];
    metrics.extend(inputs.speedup.and_then(speedup_metric));
    let runs = s.height();
    let failed = summary_values(s, "seed").len();
    Ok(Page {
        figure: None,
        metrics,
        charts: Vec::new(),
        heatmaps,
        images: Vec::new(),
        table: None,
        notes: vec![format!(
            "{runs} runs ({} succeeded). Each cell is one grid point; its colour and number are the microcircuit's final test error (‖r_N − r_trgt‖², held-out patterns, σ = 0); red rings mark where learning works.",
            failed
        )],
    })
}
