//! Results A1/A2: backprop and feedback-alignment equivalence as λ → 0.

use polars::prelude::DataFrame;

use super::common::*;
use crate::experiment::scenario::StudyConfig;
use crate::report::error::{ReportError, ReportResult};
use crate::report::page::{Inputs, Metric, Page};
use crate::report::plot::{Chart, Line};

/// Rows of the equivalence table matching (top_down, settle), as (λ, layer, seed, column value).
fn eq_rows(
    table: &polars::prelude::DataFrame,
    top_down: &str,
    settle: &str,
    column: &str,
) -> ReportResult<Vec<(f64, usize, f64)>> {
    use polars::prelude::*;
    let df = table
        .clone()
        .lazy()
        .filter(
            col("top_down")
                .eq(lit(top_down))
                .and(col("settle").eq(lit(settle))),
        )
        .collect()?;
    let l = df.column("lambda")?.f64()?.clone();
    let k = df.column("layer")?.f64()?.clone();
    let v = df.column(column)?.f64()?.clone();
    Ok(l.iter()
        .zip(k.iter())
        .zip(v.iter())
        .filter_map(|((l, k), v)| Some((l?, k? as usize, v?)))
        .collect())
}

/// Mean over seeds per (λ, layer), as per-layer curves over λ.
fn per_layer(rows: &[(f64, usize, f64)], agg: fn(&[f64]) -> f64) -> Vec<(usize, Vec<(f64, f64)>)> {
    let mut layers: Vec<usize> = rows.iter().map(|r| r.1).collect();
    layers.sort_unstable();
    layers.dedup();
    let mut lambdas: Vec<f64> = rows.iter().map(|r| r.0).collect();
    lambdas.sort_by(f64::total_cmp);
    lambdas.dedup();
    layers
        .into_iter()
        .map(|k| {
            let pts = lambdas
                .iter()
                .map(|&l| {
                    let v: Vec<f64> = rows
                        .iter()
                        .filter(|r| r.1 == k && r.0 == l)
                        .map(|r| r.2)
                        .collect();
                    (l, agg(&v))
                })
                .collect();
            (k, pts)
        })
        .collect()
}

fn log_curves(curves: &[(usize, Vec<(f64, f64)>)], label: &str) -> Vec<Line> {
    curves
        .iter()
        .map(|(k, pts)| {
            Line::new(
                format!("{label} layer {k}"),
                pts.iter().map(|&(l, v)| (l.log10(), v)).collect(),
            )
        })
        .collect()
}

/// The headline numbers at the smallest λ: `[largest angle to backprop (transposed), largest
/// angle to FA (random), mean FA-to-backprop angle, mean angle to backprop (random)]`.
fn metrics(main: &str, min_l: f64, slopes: &[f64], at_min: [f64; 4]) -> Vec<Metric> {
    let [bp_t_max, fa_r_max, fa_bp_mean, bp_r_mean] = at_min;
    vec![
        Metric::new(
            "max_angle_bp_deg_at_min_lambda",
            bp_t_max,
            "deg",
            &format!(
                "top-down = transposed forward weights, {main}: largest angle over layers and seeds between rule 7's change and backprop's update at λ = {min_l:e}"
            ),
        ),
        Metric::new(
            "relerr_slope",
            slopes.iter().cloned().fold(f64::INFINITY, f64::min),
            "",
            &format!(
                "smallest over layers of the fitted log–log slope of ‖ΔW − P‖/‖P‖ against λ (P the A2 prediction); per layer: {}",
                slopes
                    .iter()
                    .map(|s| format!("{s:.3}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Metric::new(
            "max_angle_fa_deg_at_min_lambda",
            fa_r_max,
            "deg",
            &format!(
                "random fixed top-down: largest angle to feedback alignment's update at λ = {min_l:e}"
            ),
        ),
        Metric::new(
            "angle_fa_to_bp_deg",
            fa_bp_mean,
            "deg",
            "random top-down: mean over hidden layers and seeds of the angle between feedback alignment's and backprop's updates (what the microcircuit's update keeps from backprop)",
        ),
        Metric::new(
            "angle_microcircuit_to_bp_deg_random",
            bp_r_mean,
            "deg",
            "random top-down: mean over hidden layers of the microcircuit's angle to backprop at the smallest λ",
        ),
    ]
}

/// Layer 1's angle to backprop against λ, one line per way of settling.
fn settle_lines(table: &DataFrame, settle: &[String]) -> ReportResult<Vec<Line>> {
    let mut methods = Vec::new();
    for s in settle {
        let name = if s == "dynamics" {
            "dynamics_rk4"
        } else {
            s.as_str()
        };
        let rows: Vec<(f64, usize, f64)> = eq_rows(table, "transpose", name, "angle_bp_deg")?
            .into_iter()
            .filter(|r| r.1 == 1)
            .collect();
        for (_, pts) in per_layer(&rows, mean) {
            methods.push(Line::new(
                name.to_string(),
                pts.iter().map(|&(l, v)| (l.log10(), v)).collect(),
            ));
        }
    }
    Ok(methods)
}

/// Every number of the study as an HTML table (means over seeds).
fn numbers_table(table: &DataFrame, settle: &[String]) -> String {
    let mut t = String::from(
        "<h2>All numbers (mean over seeds)</h2><table><tr><th>top-down</th><th>settled by</th><th>λ</th><th>layer</th><th>angle Δu to A1 (deg)</th><th>angle to backprop (deg)</th><th>angle to FA (deg)</th><th>rel. error to A2</th></tr>",
    );
    for td in ["transpose", "random"] {
        for s in settle {
            let name = if s == "dynamics" {
                "dynamics_rk4"
            } else {
                s.as_str()
            };
            let cols = ["angle_du_deg", "angle_bp_deg", "angle_fa_deg", "relerr_dw"]
                .map(|c| per_layer(&eq_rows(table, td, name, c).unwrap_or_default(), mean));
            for (li, (k, pts)) in cols[0].iter().enumerate() {
                for (pi, &(l, du)) in pts.iter().enumerate() {
                    t.push_str(&format!(
                        "<tr><td>{td}</td><td>{name}</td><td>{l:e}</td><td>{k}</td><td>{du:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.3e}</td></tr>",
                        cols[1][li].1[pi].1, cols[2][li].1[pi].1, cols[3][li].1[pi].1
                    ));
                }
            }
        }
    }
    t.push_str("</table>");
    t
}

/// How the page's numbers are computed.
const NOTE: &str = "For each λ the network is settled twice, without and with the target (σ = 0). Δu_k is the somatic deviation, compared with the A1 error term W<sub>k,k+1</sub>D<sub>k+1</sub>⋯D<sub>N</sub>(u<sub>trgt</sub> − u⁻<sub>N</sub>); the weight change is rule 7's induction term ⟨(φ(u<sub>k</sub>) − φ(v̂<sub>B,k</sub>)) r<sub>k−1</sub>ᵀ⟩. \
     Backprop and feedback alignment run on the microcircuit's own feed-forward network (same weights, attenuations and biases) with the output error δ<sub>N</sub> = φ'(u<sub>N</sub>)(u<sub>trgt</sub> − u<sub>N</sub>) of A2. \
     P is A2's leading-order prediction with the scale s<sub>k</sub> = λ<sub>N</sub>[λ<sub>A</sub>(1 − λ<sub>I</sub>)]<sup>N−k</sup> derived from the steady states.";

/// Angles and relative errors against λ, per layer: `rows` = [angle to backprop (transposed),
/// angle to FA (random), angle to backprop (random)].
fn lambda_charts(
    main: &str,
    rows: [&[(f64, usize, f64)]; 3],
    rel_curves: &[(usize, Vec<(f64, f64)>)],
) -> Vec<Chart> {
    let [bp_t, fa_r, bp_r] = rows;
    vec![
        chart(
            "angle_bp_transpose",
            &format!("Transposed top-down: angle of rule 7 to backprop ({main})"),
            "log10 λ",
            "angle (deg)",
            log_curves(&per_layer(bp_t, mean), "backprop,"),
            true,
        ),
        chart(
            "relerr_transpose",
            &format!("Transposed top-down: relative error to the A2 prediction ({main})"),
            "log10 λ",
            "‖ΔW − P‖/‖P‖",
            log_curves(rel_curves, "rel. error,"),
            true,
        ),
        chart(
            "angle_fa_random",
            &format!("Random top-down: angle of rule 7 to feedback alignment ({main})"),
            "log10 λ",
            "angle (deg)",
            log_curves(&per_layer(fa_r, mean), "feedback alignment,"),
            true,
        ),
        chart(
            "angle_bp_random",
            &format!("Random top-down: angle of rule 7 to backprop ({main})"),
            "log10 λ",
            "angle (deg)",
            log_curves(&per_layer(bp_r, mean), "backprop,"),
            false,
        ),
    ]
}

/// Results A1/A2: angles and relative errors against λ, transposed and random top-down.
pub(super) fn bp_equivalence(inputs: &Inputs) -> ReportResult<Page> {
    let table = inputs.table.ok_or_else(|| {
        ReportError::Invalid("bp_equivalence results have no table.parquet".to_string())
    })?;
    let settle = match &inputs.scenario.study {
        StudyConfig::BpEquivalence(e) => e.settle.clone(),
        _ => Vec::new(),
    };
    let main = if settle.iter().any(|s| s == "newton") {
        "newton"
    } else {
        settle.first().map(|s| s.as_str()).unwrap_or("newton")
    };
    let main_name = match main {
        "dynamics" => "dynamics_rk4",
        s => s,
    };
    let bp_t = eq_rows(table, "transpose", main_name, "angle_bp_deg")?;
    let rel_t = eq_rows(table, "transpose", main_name, "relerr_dw")?;
    let fa_r = eq_rows(table, "random", main_name, "angle_fa_deg")?;
    let bp_r = eq_rows(table, "random", main_name, "angle_bp_deg")?;
    let fa_bp = eq_rows(table, "random", main_name, "angle_fa_to_bp_deg")?;
    let min_l = bp_t.iter().map(|r| r.0).fold(f64::INFINITY, f64::min);
    let at_min = |rows: &[(f64, usize, f64)], hidden_only: bool, n_layers: usize| -> Vec<f64> {
        rows.iter()
            .filter(|r| r.0 == min_l && (!hidden_only || r.1 < n_layers))
            .map(|r| r.2)
            .collect()
    };
    let n = inputs.scenario.network.n_layers();
    let rel_curves = per_layer(&rel_t, mean);
    let slopes: Vec<f64> = rel_curves
        .iter()
        .map(|(_, pts)| crate::experiment::integrators::loglog_slope(pts))
        .collect();
    let metrics = metrics(
        main,
        min_l,
        &slopes,
        [
            max(&at_min(&bp_t, false, n)),
            max(&at_min(&fa_r, false, n)),
            mean(&at_min(&fa_bp, true, n)),
            mean(&at_min(&bp_r, true, n)),
        ],
    );
    let mut charts = lambda_charts(main, [&bp_t, &fa_r, &bp_r], &rel_curves);
    let methods = settle_lines(table, &settle)?;
    charts.push(chart(
        "settle_methods",
        "Layer 1 angle to backprop, by how the state is settled (transposed top-down)",
        "log10 λ",
        "angle (deg)",
        methods,
        true,
    ));
    let t = numbers_table(table, &settle);
    Ok(Page {
        figure: None,
        heatmaps: Vec::new(),
        images: Vec::new(),
        metrics,
        charts,
        table: Some(t),
        notes: vec![NOTE.into()],
    })
}
