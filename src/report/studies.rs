//! The figures and headline numbers of each study's page.

use super::data::{ema, mean_sd, mean_series, seeds, series, summary_values};
use super::error::{ReportError, ReportResult};
use super::{Chart, Inputs, Line, Metric, Page};
use crate::experiment::{Study, StudyConfig};

/// Builds the page of a study.
pub fn page(inputs: &Inputs) -> ReportResult<Page> {
    match inputs.scenario.study.kind() {
        Study::SelfPredicting => self_predicting(inputs),
        Study::TargetLearning => target_learning(inputs),
        Study::Regression if inputs.scenario.sweep.is_some() => robustness(inputs),
        Study::Regression => regression(inputs),
        Study::BpEquivalence => bp_equivalence(inputs),
        Study::Integrators => integrators(inputs),
        Study::Mnist => mnist(inputs),
        Study::Disinhibition => disinhibition(inputs),
        Study::Performance => performance(inputs),
        Study::Stiffness => stiffness(inputs),
    }
}

/// The engine's speed: one row per measurement, all from one run (issue 17).
fn performance(inputs: &Inputs) -> ReportResult<Page> {
    let rows: [(&str, &str, &str); 16] = [
        (
            "euler_step_us_small",
            "µs",
            "Euler–Maruyama step, 30-50-10, batch 1, plasticity on everywhere but the top-down weights",
        ),
        ("euler_step_us_large", "µs", "the same, 784-500-500-10"),
        (
            "euler_step_us_per_image_large_b10",
            "µs",
            "784-500-500-10, 10 images side by side, per image",
        ),
        (
            "batch_per_image_over_batch1",
            "",
            "per-image step time at batch 10 ÷ the batch-1 step",
        ),
        (
            "numpy_step_us_small",
            "µs",
            "numpy_step.py, 30-50-10, the rows with plasticity",
        ),
        (
            "numpy_step_us_large",
            "µs",
            "numpy_step.py, 784-500-500-10, the rows with plasticity",
        ),
        (
            "speedup_vs_numpy_small",
            "",
            "numpy_step_us_small ÷ euler_step_us_small",
        ),
        (
            "speedup_vs_numpy_large",
            "",
            "numpy_step_us_large ÷ euler_step_us_large",
        ),
        (
            "triad_gb_s",
            "GB/s",
            "STREAM triad a = b + s c over arrays ≥ 4× the last-level cache (24 bytes per element)",
        ),
        (
            "large_step_gb_s",
            "GB/s",
            "bytes a batch-1 step of 784-500-500-10 must move ÷ its time",
        ),
        (
            "large_step_bandwidth_fraction",
            "",
            "large_step_gb_s ÷ triad_gb_s",
        ),
        (
            "twopass_epoch_s",
            "s",
            "training epoch of the two-pass microcircuit (mnist's `microcircuit` variant), 55,000 images, minibatch 10, evaluation excluded",
        ),
        (
            "backprop_epoch_s",
            "s",
            "the same for mnist's `backprop` variant (softmax read-out)",
        ),
        (
            "numpy_backprop_epoch_s",
            "s",
            "numpy_mlp.py, float64, one thread, NumPy's best malloc settings",
        ),
        (
            "twopass_over_numpy_backprop",
            "",
            "twopass_epoch_s ÷ numpy_backprop_epoch_s",
        ),
        (
            "backprop_over_numpy_backprop",
            "",
            "backprop_epoch_s ÷ numpy_backprop_epoch_s",
        ),
    ];
    let metrics = rows
        .iter()
        .filter_map(|(name, unit, note)| {
            let v = summary_values(inputs.summary, name);
            v.first().map(|&x| Metric::new(name, x, unit, note))
        })
        .collect();
    let text = |k: &str| super::data::summary_text(inputs.summary, k).join(", ");
    let notes = vec![
        format!(
            "Measured in one run, one thread, medians of the scenario's repetitions. OpenBLAS              kernel: <b>{}</b> (OPENBLAS_CORETYPE = {}); our loops: {}. NumPy's BLAS: {}.              NumPy step: {}; NumPy epoch: {}.",
            text("blas_core"),
            text("openblas_coretype_env"),
            text("isa"),
            text("numpy_blas"),
            text("numpy_status"),
            text("numpy_epoch_status"),
        ),
        "A batch-1 Euler step reads and writes every plastic weight and its trace once and reads          every fixed weight once (the step is fused row by row: dendritic potential,          post-synaptic factor, weight and trace update while the row is in cache), so its floor          is the memory bandwidth; larger batches stream the weights once for all images."
            .to_string(),
    ];
    Ok(Page {
        metrics,
        charts: Vec::new(),
        notes,
        table: None,
        heatmaps: Vec::new(),
        images: Vec::new(),
    })
}

fn chart(stem: &str, title: &str, x: &str, y: &str, lines: Vec<Line>, log_y: bool) -> Chart {
    Chart {
        stem: stem.into(),
        title: title.into(),
        x_label: x.into(),
        y_label: y.into(),
        lines,
        log_y,
        log_x: false,
    }
}

/// A chart with both axes logarithmic (work–precision diagrams, convergence plots).
fn loglog(stem: &str, title: &str, x: &str, y: &str, lines: Vec<Line>) -> Chart {
    Chart {
        log_x: true,
        ..chart(stem, title, x, y, lines, true)
    }
}

/// Per-seed faint lines plus their mean.
fn seeds_and_mean(
    inputs: &Inputs,
    quantity: &str,
    variant: &str,
    name: &str,
) -> ReportResult<Vec<Line>> {
    let mut lines = Vec::new();
    for s in seeds(inputs.timeseries)? {
        lines.push(Line {
            name: String::new(),
            points: series(inputs.timeseries, quantity, variant, Some(s))?,
            dashed: false,
            faint: true,
        });
    }
    lines.push(Line::new(
        name,
        mean_series(inputs.timeseries, quantity, variant)?,
    ));
    Ok(lines)
}

fn metric_mean(inputs: &Inputs, column: &str, name: &str, unit: &str, note: &str) -> Metric {
    let v = summary_values(inputs.summary, column);
    let (m, sd) = mean_sd(&v);
    Metric::new(
        name,
        m,
        unit,
        &format!(
            "{note} ({} seeds, sd {:.3}, min {:.4}, max {:.4})",
            v.len(),
            sd,
            v.iter().cloned().fold(f64::INFINITY, f64::min),
            v.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
        ),
    )
}

fn self_predicting(inputs: &Inputs) -> ReportResult<Page> {
    let metrics = vec![
        metric_mean(
            inputs,
            "apical_norm_drop_factor",
            "apical_norm_drop_factor",
            "",
            "mean ‖v_A‖ over the first pattern ÷ over the last 10 patterns",
        ),
        metric_mean(
            inputs,
            "interneuron_mismatch_drop_factor",
            "interneuron_mismatch_drop_factor",
            "",
            "mean ‖u^P_{k+1} − u^I_k‖² (the paper's Fig. 1C(i) quantity) over the first pattern ÷ over the last 10",
        ),
        metric_mean(
            inputs,
            "apical_norm_final",
            "apical_norm_final",
            "",
            "mean ‖v_A‖ over the last 10 patterns",
        ),
        metric_mean(
            inputs,
            "interneuron_mismatch_final",
            "interneuron_mismatch_final",
            "",
            "mean ‖u^P_{k+1} − u^I_k‖² over the last 10 patterns",
        ),
    ];
    let charts = vec![
        chart(
            "apical_norm",
            "Apical potential norm while the self-predicting state is learned (Fig. S1/1C ii)",
            "time (ms)",
            "‖v_A‖",
            seeds_and_mean(inputs, "apical_norm", "", "mean over seeds")?,
            true,
        ),
        chart(
            "interneuron_mismatch",
            "Interneuron − upper-layer mismatch (Fig. S1/1C i)",
            "time (ms)",
            "‖u_P(k+1) − u_I(k)‖²",
            seeds_and_mean(inputs, "interneuron_mismatch", "", "mean over seeds")?,
            true,
        ),
    ];
    Ok(Page {
        heatmaps: Vec::new(),
        images: Vec::new(),
        metrics,
        charts,
        table: None,
        notes: vec!["Only W<sup>IP</sup> (rule 8) and W<sup>PI</sup> (rule 9) learn; inputs change every pattern and no target is given. \
            The paper shows both quantities falling towards zero (Fig. 1C, Fig. S1) but gives no number; the protocol is in its Supplementary Material, which we could not read, so the scenario file states our choices."
            .into()],
    })
}

fn trace_chart(
    inputs: &Inputs,
    window: &str,
    seed: u64,
    quantities: &[(&str, &str, bool)],
    stem: &str,
    title: &str,
    y: &str,
) -> ReportResult<Chart> {
    let mut lines = Vec::new();
    for &(q, name, dashed) in quantities {
        let pts = series(inputs.timeseries, q, window, Some(seed))?;
        lines.push(Line {
            name: name.into(),
            points: pts,
            dashed,
            faint: false,
        });
    }
    Ok(chart(stem, title, "time (ms)", y, lines, false))
}

fn target_learning(inputs: &Inputs) -> ReportResult<Page> {
    let metrics = vec![
        metric_mean(
            inputs,
            "output_target_mismatch_rel",
            "output_target_mismatch_rel",
            "",
            "after learning: max over output cells of |u_N − u_trgt| ÷ range of u_trgt, u_N the network's own steady state with the target removed and σ = 0",
        ),
        metric_mean(
            inputs,
            "apical_error_rel",
            "apical_error_rel",
            "",
            "‖time-averaged v_A‖ over the last pattern ÷ over the first pattern after the target appears (the systematic apical deflection; averaging over the pattern removes the noise)",
        ),
        metric_mean(
            inputs,
            "apical_norm_rel",
            "apical_norm_rel",
            "",
            "the same ratio for the mean of the instantaneous ‖v_A‖, noise included (its floor is set by σ)",
        ),
        metric_mean(
            inputs,
            "output_target_mismatch_rel_initial",
            "output_target_mismatch_rel_initial",
            "",
            "the same mismatch before learning",
        ),
    ];
    let seed = *seeds(inputs.timeseries)?.first().unwrap_or(&0);
    let mut charts = Vec::new();
    for (window, label) in [("before", "before learning"), ("after", "after learning")] {
        charts.push(trace_chart(
            inputs,
            window,
            seed,
            &[
                ("output_u", "output u_N (cell 0)", false),
                ("target_u", "target u_trgt", true),
            ],
            &format!("output_{window}"),
            &format!("Output potential and target, {label} (Fig. 1B)"),
            "potential",
        )?);
        charts.push(trace_chart(
            inputs,
            window,
            seed,
            &[
                ("apical_top_down", "apical top-down", false),
                (
                    "apical_cancellation",
                    "apical cancellation (interneurons)",
                    false,
                ),
                ("apical_u", "apical v_A", true),
            ],
            &format!("apical_{window}"),
            &format!("Hidden cell 0 apical inputs, {label} (Fig. 1B)"),
            "potential",
        )?);
        charts.push(trace_chart(
            inputs,
            window,
            seed,
            &[("input_rate", "input rate r_0 (cell 0)", false)],
            &format!("input_{window}"),
            &format!("Sensory input, {label}"),
            "rate",
        )?);
    }
    charts.push(chart(
        "apical_norm",
        "Apical error norm during learning",
        "time (ms)",
        "‖v_A‖",
        seeds_and_mean(inputs, "apical_norm", "", "mean over seeds")?,
        true,
    ));
    charts.push(chart(
        "output_target_distance",
        "Distance of the (nudged) output from its target",
        "time (ms)",
        "‖u_N − u_trgt‖",
        seeds_and_mean(inputs, "output_target_distance", "", "mean over seeds")?,
        false,
    ));
    Ok(Page {
        heatmaps: Vec::new(),
        images: Vec::new(),
        metrics,
        charts,
        table: None,
        notes: vec![format!(
            "Traces of seed {seed}. The target appears after {} ms; 'before' is the first {} ms of the run, 'after' the last. \
             Before learning the top-down input and its interneuron cancellation part ways when the target appears (an apical error); after learning they cancel again while the output sits on its target.",
            inputs.scenario.protocol.target_onset_ms, inputs.scenario.protocol.trace_window_ms
        )],
    })
}

fn regression(inputs: &Inputs) -> ReportResult<Page> {
    let w = inputs.scenario.protocol.ema_weight;
    let micro = summary_values(inputs.summary, "test_error_microcircuit");
    let shallow = summary_values(inputs.summary, "test_error_shallow");
    let ratio = mean_sd(&shallow).0 / mean_sd(&micro).0;
    let metrics = vec![
        metric_mean(
            inputs,
            "test_error_microcircuit",
            "test_error_microcircuit",
            "squared rate error",
            "‖r_N − r_trgt‖² on held-out patterns, σ = 0, steady state without target; mean of the last 5 tests (the last 5 × test_every patterns)",
        ),
        metric_mean(
            inputs,
            "test_error_shallow",
            "test_error_shallow",
            "squared rate error",
            "the same for the shallow learner (only hidden→output weights plastic)",
        ),
        Metric::new(
            "error_ratio_shallow_over_microcircuit",
            ratio,
            "",
            "mean shallow error ÷ mean microcircuit error",
        ),
        metric_mean(
            inputs,
            "test_error_backprop",
            "test_error_backprop",
            "squared rate error",
            "backprop on the microcircuit's feed-forward network, same start and patterns, Bregman output loss (see bp_equivalence); mean of the last 5 tests",
        ),
        metric_mean(
            inputs,
            "test_error_feedback_alignment",
            "test_error_feedback_alignment",
            "squared rate error",
            "feedback alignment with the microcircuit's fixed top-down weights as feedback; mean of the last 5 tests",
        ),
        metric_mean(
            inputs,
            "alignment_angle_deg",
            "alignment_angle_deg",
            "deg",
            "angle between W_up(2,1) and the transposed fixed feedback W_down(1,2)ᵀ at the end",
        )
        .paper(45.0),
    ];
    let mut err_lines = Vec::new();
    for v in ["microcircuit", "shallow", "backprop", "feedback_alignment"] {
        let pts = mean_series(inputs.timeseries, "test_error", v)?;
        if !pts.is_empty() {
            err_lines.push(Line::new(
                format!("{v} (EMA, mean over seeds)"),
                ema(&pts, w),
            ));
        }
    }
    let mut angle_lines = seeds_and_mean(
        inputs,
        "alignment_angle_deg",
        "microcircuit",
        "microcircuit, mean over seeds",
    )?;
    let fa_angle = mean_series(
        inputs.timeseries,
        "alignment_angle_deg",
        "feedback_alignment",
    )?;
    if !fa_angle.is_empty() {
        angle_lines.push(Line::new(
            "feedback alignment (feed-forward), mean over seeds",
            fa_angle,
        ));
    }
    let seed = *seeds(inputs.timeseries)?.first().unwrap_or(&0);
    let mut charts = vec![
        chart(
            "test_error",
            "Test error: microcircuit vs shallow learner (Fig. 2C)",
            "time (ms)",
            "‖r_N − r_trgt‖²",
            err_lines,
            true,
        ),
        chart(
            "alignment_angle",
            "Forward vs transposed feedback weights (Fig. 2C / S1)",
            "time (ms)",
            "angle (deg)",
            angle_lines,
            false,
        ),
        chart(
            "apical_norm",
            "Apical potential norm during learning (Fig. 2C i)",
            "time (ms)",
            "‖v_A‖",
            seeds_and_mean(inputs, "apical_norm", "microcircuit", "mean over seeds")?,
            true,
        ),
        chart(
            "interneuron_mismatch",
            "Interneuron mismatch during learning (Fig. 2C ii)",
            "time (ms)",
            "‖u_P(2) − u_I(1)‖²",
            seeds_and_mean(
                inputs,
                "interneuron_mismatch",
                "microcircuit",
                "mean over seeds",
            )?,
            true,
        ),
    ];
    for (window, label) in [("before", "before learning"), ("after", "after learning")] {
        charts.push(trace_chart(
            inputs,
            window,
            seed,
            &[
                ("output_rate", "output rate r_N (cell 0)", false),
                ("target_rate", "target rate", true),
                ("input_rate", "input rate r_0 (cell 0)", false),
            ],
            &format!("rates_{window}"),
            &format!("Output rate and target, {label} (Fig. 2B)"),
            "rate",
        )?);
        charts.push(trace_chart(
            inputs,
            window,
            seed,
            &[("apical_u", "apical v_A (hidden cell 0)", false)],
            &format!("apical_{window}"),
            &format!("Hidden apical potential, {label} (Fig. 2B)"),
            "potential",
        )?);
    }
    Ok(Page {
        heatmaps: Vec::new(),
        images: Vec::new(),
        metrics,
        charts,
        table: None,
        notes: vec![format!(
            "The paper shows the curves but gives no final errors; it reports the forward weights aligning to about 45° of the transposed feedback. \
             Test errors are plotted as an exponential moving average with weight {w} on each new test (every {} patterns).",
            inputs.scenario.protocol.test_every
        )],
    })
}

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

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}
fn max(v: &[f64]) -> f64 {
    v.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
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

fn bp_equivalence(inputs: &Inputs) -> ReportResult<Page> {
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
    let metrics = vec![
        Metric::new(
            "max_angle_bp_deg_at_min_lambda",
            max(&at_min(&bp_t, false, n)),
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
            max(&at_min(&fa_r, false, n)),
            "deg",
            &format!(
                "random fixed top-down: largest angle to feedback alignment's update at λ = {min_l:e}"
            ),
        ),
        Metric::new(
            "angle_fa_to_bp_deg",
            mean(&at_min(&fa_bp, true, n)),
            "deg",
            "random top-down: mean over hidden layers and seeds of the angle between feedback alignment's and backprop's updates (what the microcircuit's update keeps from backprop)",
        ),
        Metric::new(
            "angle_microcircuit_to_bp_deg_random",
            mean(&at_min(&bp_r, true, n)),
            "deg",
            "random top-down: mean over hidden layers of the microcircuit's angle to backprop at the smallest λ",
        ),
    ];
    let mut charts = vec![
        chart(
            "angle_bp_transpose",
            &format!("Transposed top-down: angle of rule 7 to backprop ({main})"),
            "log10 λ",
            "angle (deg)",
            log_curves(&per_layer(&bp_t, mean), "backprop,"),
            true,
        ),
        chart(
            "relerr_transpose",
            &format!("Transposed top-down: relative error to the A2 prediction ({main})"),
            "log10 λ",
            "‖ΔW − P‖/‖P‖",
            log_curves(&rel_curves, "rel. error,"),
            true,
        ),
        chart(
            "angle_fa_random",
            &format!("Random top-down: angle of rule 7 to feedback alignment ({main})"),
            "log10 λ",
            "angle (deg)",
            log_curves(&per_layer(&fa_r, mean), "feedback alignment,"),
            true,
        ),
        chart(
            "angle_bp_random",
            &format!("Random top-down: angle of rule 7 to backprop ({main})"),
            "log10 λ",
            "angle (deg)",
            log_curves(&per_layer(&bp_r, mean), "backprop,"),
            false,
        ),
    ];
    let mut methods = Vec::new();
    for s in &settle {
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
    charts.push(chart(
        "settle_methods",
        "Layer 1 angle to backprop, by how the state is settled (transposed top-down)",
        "log10 λ",
        "angle (deg)",
        methods,
        true,
    ));
    let mut t = String::from(
        "<h2>All numbers (mean over seeds)</h2><table><tr><th>top-down</th><th>settled by</th><th>λ</th><th>layer</th><th>angle Δu to A1 (deg)</th><th>angle to backprop (deg)</th><th>angle to FA (deg)</th><th>rel. error to A2</th></tr>",
    );
    for td in ["transpose", "random"] {
        for s in &settle {
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
    Ok(Page {
        heatmaps: Vec::new(),
        images: Vec::new(),
        metrics,
        charts,
        table: Some(t),
        notes: vec![
            "For each λ the network is settled twice, without and with the target (σ = 0). Δu_k is the somatic deviation, compared with the A1 error term W<sub>k,k+1</sub>D<sub>k+1</sub>⋯D<sub>N</sub>(u<sub>trgt</sub> − u⁻<sub>N</sub>); the weight change is rule 7's induction term ⟨(φ(u<sub>k</sub>) − φ(v̂<sub>B,k</sub>)) r<sub>k−1</sub>ᵀ⟩. \
             Backprop and feedback alignment run on the microcircuit's own feed-forward network (same weights, attenuations and biases) with the output error δ<sub>N</sub> = φ'(u<sub>N</sub>)(u<sub>trgt</sub> − u<sub>N</sub>) of A2. \
             P is A2's leading-order prediction with the scale s<sub>k</sub> = λ<sub>N</sub>[λ<sub>A</sub>(1 − λ<sub>I</sub>)]<sup>N−k</sup> derived from the steady states."
                .into(),
        ],
    })
}

/// (x, y) pairs of two numeric columns of the table rows where `filters` hold, mean over seeds
/// at equal x.
fn table_xy(
    table: &polars::prelude::DataFrame,
    filters: &[(&str, &str)],
    x: &str,
    y: &str,
) -> ReportResult<Vec<(f64, f64)>> {
    use polars::prelude::*;
    let mut pred = lit(true);
    for (c, v) in filters {
        pred = pred.and(col(*c).eq(lit(*v)));
    }
    let df = table
        .clone()
        .lazy()
        .filter(pred)
        .group_by([col(x)])
        .agg([col(y).mean()])
        .sort([x], Default::default())
        .collect()?;
    let xs = df.column(x)?.f64()?.clone();
    let ys = df.column(y)?.f64()?.clone();
    Ok(xs
        .iter()
        .zip(ys.iter())
        .filter_map(|(a, b)| Some((a?, b?)))
        .collect())
}

/// The rows of `table` matching `filters`, as the f64 values of `columns` (rows with a missing
/// value left out), in table order.
fn table_rows(
    table: &polars::prelude::DataFrame,
    filters: &[(&str, &str)],
    columns: &[&str],
) -> ReportResult<Vec<Vec<f64>>> {
    use polars::prelude::*;
    let mut pred = lit(true);
    for (c, v) in filters {
        pred = pred.and(col(*c).eq(lit(*v)));
    }
    let df = table.clone().lazy().filter(pred).collect()?;
    let cols = columns
        .iter()
        .map(|c| Ok(df.column(c)?.f64()?.clone()))
        .collect::<ReportResult<Vec<_>>>()?;
    Ok((0..df.height())
        .filter_map(|i| cols.iter().map(|c| c.get(i)).collect::<Option<Vec<f64>>>())
        .collect())
}

fn integrators(inputs: &Inputs) -> ReportResult<Page> {
    let table = inputs.table.ok_or_else(|| {
        ReportError::Invalid("integrators results have no table.parquet".to_string())
    })?;
    // (scenario name, theoretical order, what the order is measured on)
    let methods = [
        ("euler", 1.0, "the network"),
        ("rk4", 4.0, "the network"),
        ("exponential_euler", 1.0, "the network"),
        (
            "dopri5",
            5.0,
            "the analytic oracle (one compartment relaxing exponentially), controller off",
        ),
        ("ros2", 2.0, "the network"),
        ("bdf2", 2.0, "the network"),
    ];
    let mut metrics = Vec::new();
    for (m, p, on) in methods {
        let mut metric = metric_mean(
            inputs,
            &format!("order_{m}"),
            &format!("order_{m}"),
            "",
            &format!(
                "fitted log–log slope of the error at t = T against dt on {on}, weights frozen"
            ),
        );
        metric.note.push_str(&format!("; theory {p}"));
        metrics.push(metric);
    }
    metrics.push(metric_mean(inputs, "order_dopri5_network", "order_dopri5_network", "", "Dormand–Prince with its controller off on the network, dt 0.8 … 0.1 ms: its errors reach round-off before the asymptotic regime, so the fit is steeper than 5"));
    metrics.push(metric_mean(
        inputs,
        "order_implicit",
        "order_implicit",
        "",
        "the implicit method (BDF2), as order_bdf2; theory 2",
    ));
    for (m, _, _) in methods {
        let col = if m == "dopri5" {
            "order_dopri5_network_plastic".to_string()
        } else {
            format!("order_{m}_plastic")
        };
        metrics.push(metric_mean(
            inputs,
            &col,
            &col,
            "",
            "the same on the network with every plasticity rule on (weights and traces integrated)",
        ));
    }
    for (col, note) in [
        (
            "dopri5_error_tolerance_slope",
            "Dormand–Prince with its PI controller: fitted log–log slope of the error at t = T against the tolerance (rtol = atol), weights frozen; 1 means the error tracks the tolerance",
        ),
        (
            "dopri5_error_tolerance_slope_plastic",
            "the same with every plasticity rule on",
        ),
    ] {
        metrics.push(metric_mean(inputs, col, col, "", note));
    }
    for m in ["euler", "rk4"] {
        metrics.push(metric_mean(inputs, &format!("stability_limit_ratio_{m}"), &format!("stability_limit_ratio_{m}"), "", "observed ÷ predicted largest stable dt (prediction from the Jacobian's eigenvalues at the fixed point)"));
        metrics.push(metric_mean(
            inputs,
            &format!("predicted_dt_limit_{m}"),
            &format!("predicted_dt_limit_{m}"),
            "ms",
            "predicted largest stable dt",
        ));
    }
    metrics.push(metric_mean(
        inputs,
        "two_pass_error_slope_g_a",
        "two_pass_error_slope_g_a",
        "",
        "fitted log–log slope of the two-pass scheme's error (against Newton) over g_A",
    ));
    let stiff = sibling(inputs, "stiff")?;
    if let Some((summary, _)) = &stiff {
        for (col, unit, note) in STIFF_METRICS {
            let v = summary_values(summary, col);
            let (m, sd) = mean_sd(&v);
            if m.is_finite() {
                metrics.push(Metric::new(
                    col,
                    m,
                    unit,
                    &format!("{note}; from results/stiff ({} seeds, sd {sd:.3})", v.len()),
                ));
            }
        }
    }
    let mut charts = Vec::new();
    for weights in ["frozen", "plastic"] {
        let mut by_dt = Vec::new();
        let mut by_cost = Vec::new();
        let mut by_wall = Vec::new();
        for (m, _, _) in methods {
            let f = [
                ("table", "convergence"),
                ("method", m),
                ("weights", weights),
            ];
            let err = table_xy(table, &f, "dt", "error")?;
            let evals = table_xy(table, &f, "dt", "rhs_evaluations")?;
            let wall = table_xy(table, &f, "dt", "wall_time_s")?;
            let name = if m == "dopri5" {
                "dopri5 (fixed dt)"
            } else {
                m
            };
            by_dt.push(Line::new(name, err.clone()));
            by_cost.push(Line::new(
                name,
                sorted(
                    err.iter()
                        .zip(&evals)
                        .map(|(&(_, e), &(_, c))| (c, e))
                        .collect(),
                ),
            ));
            by_wall.push(Line::new(
                name,
                sorted(
                    err.iter()
                        .zip(&wall)
                        .map(|(&(_, e), &(_, w))| (w, e))
                        .collect(),
                ),
            ));
        }
        let f = [
            ("table", "work_precision"),
            ("method", "dopri5"),
            ("weights", weights),
        ];
        let err = table_xy(table, &f, "tolerance", "error")?;
        let evals = table_xy(table, &f, "tolerance", "rhs_evaluations")?;
        let wall = table_xy(table, &f, "tolerance", "wall_time_s")?;
        by_cost.push(Line::new(
            "dopri5 (adaptive, over rtol)",
            sorted(
                err.iter()
                    .zip(&evals)
                    .map(|(&(_, e), &(_, c))| (c, e))
                    .collect(),
            ),
        ));
        by_wall.push(Line::new(
            "dopri5 (adaptive, over rtol)",
            sorted(
                err.iter()
                    .zip(&wall)
                    .map(|(&(_, e), &(_, w))| (w, e))
                    .collect(),
            ),
        ));
        charts.push(loglog(
            &format!("error_vs_dt_{weights}"),
            &format!("Error at t = T against dt ({weights} weights)"),
            "dt (ms)",
            "max |y − y_ref|",
            by_dt,
        ));
        charts.push(loglog(
            &format!("error_vs_cost_{weights}"),
            &format!("Work–precision: error against right-hand sides ({weights} weights)"),
            "right-hand-side evaluations",
            "max |y − y_ref|",
            by_cost,
        ));
        charts.push(loglog(
            &format!("error_vs_wall_{weights}"),
            &format!("Work–precision: error against wall time ({weights} weights)"),
            "wall time (s)",
            "max |y − y_ref|",
            by_wall,
        ));
        let ideal: Vec<(f64, f64)> = err.iter().map(|&(t, _)| (t, t)).collect();
        charts.push(loglog(
            &format!("error_vs_tolerance_{weights}"),
            &format!("Dormand–Prince: achieved error against tolerance ({weights} weights)"),
            "rtol = atol",
            "max |y − y_ref|",
            vec![
                Line::new("dopri5", err.clone()),
                Line::dashed("error = tolerance", ideal),
            ],
        ));
    }
    if let Some((_, Some(stiff_table))) = &stiff {
        charts.push(stiff_chart(stiff_table, "stiff_wall_time")?);
    }
    let two = table_xy(table, &[("table", "steady_state")], "g_a", "two_pass_error")?;
    let fp = table_xy(
        table,
        &[("table", "steady_state")],
        "g_a",
        "fixed_point_error",
    )?;
    charts.push(chart(
        "steady_state_vs_g_a",
        "Steady-state solvers against Newton, by g_A",
        "log10 g_A (1/ms)",
        "max |u − u_Newton|",
        vec![
            Line::new(
                "two-pass",
                two.iter().map(|&(g, e)| (g.log10(), e)).collect(),
            ),
            Line::new(
                "fixed point",
                fp.iter().map(|&(g, e)| (g.log10(), e.max(1e-17))).collect(),
            ),
        ],
        true,
    ));
    let mut t = String::from(
        "<h2>Stability limits</h2><table><tr><th>method</th><th>predicted dt (ms)</th><th>observed dt (ms)</th><th>ratio</th></tr>",
    );
    for m in ["euler", "rk4"] {
        let p = table_xy(
            table,
            &[("table", "stability"), ("method", m)],
            "seed",
            "predicted_dt_limit",
        )?;
        let o = table_xy(
            table,
            &[("table", "stability"), ("method", m)],
            "seed",
            "observed_dt_limit",
        )?;
        for (a, b) in p.iter().zip(&o) {
            t.push_str(&format!(
                "<tr><td>{m} (seed {})</td><td>{:.5}</td><td>{:.5}</td><td>{:.4}</td></tr>",
                a.0,
                a.1,
                b.1,
                b.1 / a.1
            ));
        }
    }
    t.push_str("</table>");
    Ok(Page {
        heatmaps: Vec::new(),
        images: Vec::new(),
        metrics,
        charts,
        table: Some(t),
        notes: vec![format!(
            "Errors are the largest absolute difference over the whole integrated state (potentials, input filter, plastic weights and traces) against RK4 at dt/{}; points below {:e} (round-off) are left out of the fits. \
             The observed stability limit is found by bisection on dt: the largest dt for which a 10⁻⁶ perturbation of the fixed point shrinks over the run (with a saturating φ the potentials stay bounded above the limit, but the fixed point loses stability).",
            match &inputs.scenario.study {
                StudyConfig::Integrators(i) => i.reference_refinement,
                _ => 0,
            },
            crate::experiment::integrators::ROUND_OFF
        ),
        "Methods: euler (Euler–Maruyama), rk4, exponential_euler, dopri5 (Dormand–Prince 5(4), PI step control, dense output: records fall on the output grid whatever its internal steps), ros2 (the L-stable Rosenbrock–W method of Verwer et al. 1999) and bdf2 (second-order BDF, simplified Newton).          The work–precision diagrams put the fixed-step methods over dt and Dormand–Prince with its controller over the tolerance on one plot: the method whose curve lies lowest for a given cost is the one to choose at that accuracy.".into(),
        "The stiffness sweep (scenarios/stiff.toml, its own page) stiffens the dendritic coupling until the explicit methods' stable dt is far below what an error of 1e-6 needs; its headline numbers are quoted above and its wall-time plot is the last figure here.".into()],
    })
}

/// The robustness sweep of the regression: heatmaps of the final test error over (g_A, g_som)
/// for each (learning-rate scale, σ), mean and spread over seeds; the region where learning
/// works is ringed.
fn robustness(inputs: &Inputs) -> ReportResult<Page> {
    use super::plot::Heatmap;
    let s = inputs.summary;
    let col = |name: &str| -> Vec<Option<f64>> {
        s.column(name)
            .ok()
            .and_then(|c| c.f64().ok().map(|c| c.iter().collect()))
            .unwrap_or_else(|| vec![None; s.height()])
    };
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
            let tag = format!("eta{sc}_sigma{sg}").replace('.', "p");
            let xl: Vec<String> = xs.iter().map(|x| format!("{x}")).collect();
            let yl: Vec<String> = ys.iter().map(|y| format!("{y}")).collect();
            heatmaps.push(Heatmap {
                stem: format!("mean_{tag}"),
                title: format!("Final test error, mean over seeds (η scale {sc}, σ = {sg})"),
                x_label: "g_A (1/ms)".into(),
                y_label: "g_som (1/ms)".into(),
                xs: xl.clone(),
                ys: yl.clone(),
                values: mean,
                mark: mark.clone(),
            });
            heatmaps.push(Heatmap {
                stem: format!("sd_{tag}"),
                title: format!("Final test error, sd over seeds (η scale {sc}, σ = {sg})"),
                x_label: "g_A (1/ms)".into(),
                y_label: "g_som (1/ms)".into(),
                xs: xl,
                ys: yl,
                values: sd,
                mark,
            });
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
    if let Some(csv) = inputs.speedup {
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
            metrics.push(Metric::new("sweep_speedup_2_threads", one.1 / two.1, "", &format!("wall time of the same sub-sweep with 1 thread ({:.1} s) ÷ with 2 threads ({:.1} s); target ≥ 1.7", one.1, two.1)));
        }
    }
    let runs = s.height();
    let failed = summary_values(s, "seed").len();
    Ok(Page {
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

/// The paper's MNIST test errors (%), by our variant names (paper-spec §6.3).
const MNIST_PAPER: [(&str, f64, &str); 5] = [
    (
        "microcircuit",
        1.96,
        "dendritic microcircuit, 784-500-500-10",
    ),
    ("backprop", 1.53, "backprop (the paper's reference mark)"),
    ("single_layer", 8.4, "single layer (shallow learner)"),
    ("frozen_hidden", 2.11, "hidden→hidden weights frozen"),
    (
        "learned_topdown",
        2.48,
        "784-1000-10, top-down learned by rule 10",
    ),
];

/// Per MNIST run: (variant, run index, seed) of the successful runs. The variant is the
/// sweep variant, else the learner.
fn mnist_runs(summary: &polars::prelude::DataFrame) -> Vec<(String, f64, f64)> {
    let text = |c: &str| -> Vec<Option<String>> {
        summary
            .column(c)
            .ok()
            .and_then(|c| {
                c.str()
                    .ok()
                    .map(|s| s.iter().map(|v| v.map(String::from)).collect())
            })
            .unwrap_or_else(|| vec![None; summary.height()])
    };
    let num = |c: &str| -> Vec<f64> {
        summary
            .column(c)
            .ok()
            .and_then(|c| c.cast(&polars::prelude::DataType::Float64).ok())
            .and_then(|c| {
                c.f64()
                    .ok()
                    .map(|s| s.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
            })
            .unwrap_or_else(|| vec![f64::NAN; summary.height()])
    };
    let (variant, learner, status) = (text("variant"), text("mnist.learner"), text("status"));
    let (run, seed) = (num("run"), num("seed"));
    (0..summary.height())
        .filter(|&i| status[i].as_deref().unwrap_or("ok") == "ok")
        .map(|i| {
            let v = variant[i]
                .clone()
                .or_else(|| learner[i].clone())
                .unwrap_or_else(|| "microcircuit".into());
            (v, run[i], seed[i])
        })
        .collect()
}

/// A summary column of the rows of `variant`.
fn mnist_values(summary: &polars::prelude::DataFrame, variant: &str, column: &str) -> Vec<f64> {
    use polars::prelude::*;
    let has_variant = summary.column("variant").is_ok();
    let rows = if has_variant {
        summary
            .clone()
            .lazy()
            .filter(col("variant").eq(lit(variant)))
            .collect()
    } else {
        Ok(summary.clone())
    };
    rows.map(|df| summary_values(&df, column))
        .unwrap_or_default()
}

/// (epoch, value) of one run's quantity (of one layer, if given); runs without a `run` column
/// are told apart by seed.
fn mnist_curve(
    ts: &polars::prelude::DataFrame,
    quantity: &str,
    layer: Option<i64>,
    run: f64,
    seed: f64,
) -> ReportResult<Vec<(f64, f64)>> {
    use polars::prelude::*;
    let mut key = if ts.column("run").is_ok() {
        col("run").cast(DataType::Float64).eq(lit(run))
    } else {
        col("seed").cast(DataType::Float64).eq(lit(seed))
    };
    if let Some(k) = layer {
        key = key.and(col("layer").eq(lit(k)));
    }
    let df = ts
        .clone()
        .lazy()
        .filter(col("quantity").eq(lit(quantity)).and(key))
        .sort(["t_ms"], Default::default())
        .collect()?;
    Ok(super::data::pairs(&df)?)
}

/// The rows of the full-dynamics page (issue 17): the test error after one epoch of the
/// dynamics and of the two-pass learner (same start, same minibatches), the dynamics' epoch
/// time and, from results/performance of the same machine, NumPy's backprop epoch.
fn dynamics_metrics(inputs: &Inputs, runs: &[(String, f64, f64)]) -> ReportResult<Vec<Metric>> {
    let mut out = Vec::new();
    for v in ["dynamics", "two_pass"] {
        let mut at_one = Vec::new();
        for (_, run, seed) in runs.iter().filter(|r| r.0 == v) {
            let curve = mnist_curve(inputs.timeseries, "test_error", None, *run, *seed)?;
            if let Some(&(_, e)) = curve.iter().find(|(t, _)| (t - 1.0).abs() < 1e-9) {
                at_one.push(e);
            }
        }
        if !at_one.is_empty() {
            out.push(Metric::new(
                &format!("test_error_{v}_epoch1"),
                mean_sd(&at_one).0,
                "%",
                &format!(
                    "{v}: test error after one epoch (the full test set), mean of {} seeds",
                    at_one.len()
                ),
            ));
        }
    }
    let epoch = mean_sd(&mnist_values(inputs.summary, "dynamics", "epoch_time_s")).0;
    if epoch.is_finite() {
        out.push(Metric::new(
            "dynamics_epoch_s",
            epoch,
            "s",
            "training wall time of the dynamics learner's epoch (55,000 images; evaluations excluded)",
        ));
    }
    let perf = inputs
        .results
        .and_then(|r| r.parent())
        .map(|root| root.join("performance").join("summary.parquet"))
        .filter(|p| p.exists());
    if let Some(path) = perf {
        let numpy = summary_values(&crate::record::read_frame(&path)?, "numpy_backprop_epoch_s");
        if let Some(&np) = numpy.first() {
            out.push(Metric::new(
                "numpy_backprop_epoch_s",
                np,
                "s",
                &format!(
                    "NumPy backprop epoch on this machine, from {}",
                    path.display()
                ),
            ));
            if epoch.is_finite() {
                out.push(Metric::new(
                    "dynamics_epoch_over_numpy_backprop",
                    epoch / np,
                    "",
                    "dynamics_epoch_s ÷ numpy_backprop_epoch_s",
                ));
            }
        }
    }
    Ok(out)
}

fn mnist(inputs: &Inputs) -> ReportResult<Page> {
    let runs = mnist_runs(inputs.summary);
    let mut variants: Vec<String> = Vec::new();
    for (v, _, _) in &runs {
        if !variants.contains(v) {
            variants.push(v.clone());
        }
    }
    let mut metrics = Vec::new();
    if variants.iter().any(|v| v == "dynamics") {
        metrics.extend(dynamics_metrics(inputs, &runs)?);
    }
    let mut rows = String::new();
    let mut charts = Vec::new();
    let mut test_lines = Vec::new();
    let mut val_lines = Vec::new();
    let mut top_down_lines: Vec<Line> = Vec::new();
    let mut mismatch_lines = Vec::new();
    for v in &variants {
        let errors = mnist_values(inputs.summary, v, "test_error");
        let (m, sd) = mean_sd(&errors);
        let paper = MNIST_PAPER.iter().find(|p| p.0 == v);
        let (mt, _) = mean_sd(&mnist_values(inputs.summary, v, "epoch_time_s"));
        let (be, _) = mean_sd(&mnist_values(inputs.summary, v, "best_epoch"));
        let (ep, _) = mean_sd(&mnist_values(inputs.summary, v, "epochs_trained"));
        let mut metric = Metric::new(
            &format!("test_error_{v}"),
            m,
            "%",
            &format!(
                "{}: test error at the best-validation epoch, mean of {} seeds (sd {sd:.2}; {})",
                paper.map(|p| p.2).unwrap_or(v),
                errors.len(),
                errors
                    .iter()
                    .map(|e| format!("{e:.2}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        if let Some(p) = paper {
            metric = metric.paper(p.1);
        }
        metrics.push(metric);
        metrics.push(Metric::new(
            &format!("epoch_time_{v}_s"),
            mt,
            "s",
            "training wall time per epoch (minibatch steps only, evaluations excluded), mean over seeds",
        ));
        let shift = mnist_values(inputs.summary, v, "settle_shift_mean");
        if !shift.is_empty() {
            metrics.push(Metric::new(
                &format!("settle_shift_{v}"),
                mean_sd(&shift).0,
                "",
                "mean over minibatches of max |u_settled − u_two-pass| over all potentials: how far the settled state lies from the paper's two-pass shortcut",
            ));
        }
        rows.push_str(&format!(
            "<tr><td>{v}</td><td>{m:.2} ± {sd:.2}</td><td>{}</td><td>{}</td><td>{be:.0} of {ep:.0}</td><td>{mt:.1}</td></tr>",
            errors.len(),
            paper.map(|p| format!("{:.2}", p.1)).unwrap_or_else(|| "—".into()),
        ));
        // Mean curve over this variant's seeds, per-seed curves faint.
        let hidden = inputs.scenario.network.sizes.len().saturating_sub(1) as i64;
        let mut curves: Vec<(&str, Option<i64>, &mut Vec<Line>, String)> = vec![
            ("test_error", None, &mut test_lines, v.clone()),
            ("validation_error", None, &mut val_lines, v.clone()),
        ];
        let mut layer_lines: Vec<Vec<Line>> = (1..hidden).map(|_| Vec::new()).collect();
        let mut alignment_lines: Vec<Vec<Line>> = (1..hidden).map(|_| Vec::new()).collect();
        let mut common_lines: Vec<Vec<Line>> = (1..hidden).map(|_| Vec::new()).collect();
        for (((k, lines), al), cm) in (1..hidden)
            .zip(layer_lines.iter_mut())
            .zip(alignment_lines.iter_mut())
            .zip(common_lines.iter_mut())
        {
            curves.push((
                "interneuron_mismatch",
                Some(k),
                lines,
                format!("{v}, layer {k}"),
            ));
            // Probes of plastic top-down weights (empty unless η_down ≠ 0).
            curves.push((
                "top_down_alignment",
                Some(k),
                al,
                format!("{v}, layer {k}: cos(W^down, W^PP^T)"),
            ));
            curves.push((
                "top_down_common_mode",
                Some(k),
                cm,
                format!("{v}, layer {k}: common-mode fraction"),
            ));
        }
        for (q, layer, lines, label) in curves {
            let mut acc: Vec<(f64, f64, usize)> = Vec::new();
            for (_, run, seed) in runs.iter().filter(|r| &r.0 == v) {
                for (i, (t, y)) in mnist_curve(inputs.timeseries, q, layer, *run, *seed)?
                    .into_iter()
                    .enumerate()
                {
                    if i < acc.len() {
                        acc[i].1 += y;
                        acc[i].2 += 1;
                    } else {
                        acc.push((t, y, 1));
                    }
                }
            }
            let pts: Vec<(f64, f64)> = acc.iter().map(|a| (a.0, a.1 / a.2 as f64)).collect();
            let about = match q {
                "top_down_alignment" => Some(
                    "cosine between the learned top-down weights W^PP_{k,k+1} and (W^PP_{k+1,k})^T at the last evaluation, mean over seeds (1 = the transpose, as backprop; 0 = unrelated)",
                ),
                "interneuron_mismatch" => Some(
                    "‖W^IP_k − c_k W^PP_{k+1,k}‖_F / ‖c_k W^PP_{k+1,k}‖_F at the last evaluation, mean over seeds: how far the interneurons are from predicting the layer above (0 = self-predicting)",
                ),
                _ => None,
            };
            if let (Some(about), Some(last)) = (about, pts.last()) {
                metrics.push(Metric::new(
                    &format!("{q}_{v}_layer{}", layer.unwrap_or(0)),
                    last.1,
                    "",
                    about,
                ));
            }
            if !pts.is_empty() {
                lines.push(Line::new(label, pts));
            }
        }
        mismatch_lines.extend(layer_lines.into_iter().flatten());
        top_down_lines.extend(alignment_lines.into_iter().flatten());
        top_down_lines.extend(common_lines.into_iter().flatten());
    }
    let time = |v: &str| mean_sd(&mnist_values(inputs.summary, v, "epoch_time_s")).0;
    let ratio = time("microcircuit") / time("backprop");
    if ratio.is_finite() {
        metrics.push(Metric::new(
            "epoch_time_ratio_microcircuit_over_backprop",
            ratio,
            "",
            "training wall time per epoch, microcircuit ÷ backprop, same binary and machine (target ≤ 3)",
        ));
    }
    charts.push(chart(
        "test_error",
        "MNIST test error during training, mean over seeds (Fig. 3B)",
        "epoch",
        "test error (%)",
        test_lines,
        true,
    ));
    charts.push(chart(
        "validation_error",
        "MNIST validation error (5000 held-out training images), mean over seeds",
        "epoch",
        "validation error (%)",
        val_lines,
        true,
    ));
    if !mismatch_lines.is_empty() {
        charts.push(chart(
            "interneuron_mismatch",
            "Interneurons off self-prediction: ‖W^IP_k − c_k W^PP_{k+1,k}‖ / ‖c_k W^PP_{k+1,k}‖",
            "epoch",
            "relative mismatch",
            mismatch_lines,
            false,
        ));
    }
    if !top_down_lines.is_empty() {
        charts.push(chart(
            "top_down",
            "Learned top-down weights: cos with W^PP^T, common-mode share",
            "epoch",
            "cosine / fraction",
            top_down_lines,
            false,
        ));
    }
    let (train, epochs) = match (&inputs.scenario.task, inputs.scenario.study.training()) {
        (crate::task::TaskConfig::Mnist { train, .. }, Some(m)) => (*train, m.epochs),
        _ => (0, 0),
    };
    let table = format!(
        "<table><tr><th>variant</th><th>test error (%) mean ± sd</th><th>seeds</th><th>paper (%)</th><th>best-validation epoch (mean)</th><th>wall time per epoch (s)</th></tr>{rows}</table>"
    );
    Ok(Page {
        heatmaps: Vec::new(),
        images: Vec::new(),
        metrics,
        charts,
        table: Some(table),
        notes: vec![format!(
            "{train} training images for {epochs} epoch(s). The result of a run is its test error at the epoch of lowest validation error. \
             Errors are those of the free bottom-up prediction state (no target), the exact steady state of a self-predicting network; \
             backprop is evaluated on its feed-forward network. The paper's numbers are for its own study, whose epoch count and rates are not public. \
             Wall times were measured with two runs sharing the machine's two cores (OPENBLAS_CORETYPE=Haswell; the GEMMs are ndarray's matrixmultiply)."
        )],
    })
}

/// Mean over seeds of a disinhibition quantity against corruption level, for one condition
/// and corruption kind (`layer`).
fn level_curve(
    ts: &polars::prelude::DataFrame,
    quantity: &str,
    condition: &str,
    layer: i64,
) -> ReportResult<Vec<(f64, f64)>> {
    use polars::prelude::*;
    Ok(super::data::mean_where(
        ts,
        col("quantity")
            .eq(lit(quantity))
            .and(col("variant").eq(lit(condition)))
            .and(col("layer").eq(lit(layer))),
    )?)
}

/// The stored images of one (quantity, condition, layer) of the first seed: index → pixels.
fn stored_images(
    ts: &polars::prelude::DataFrame,
    quantity: &str,
    condition: &str,
    layer: i64,
) -> ReportResult<Vec<Vec<f64>>> {
    use polars::prelude::*;
    // The first seed's run (a sweep's runs are told apart by `run`).
    let first = seeds(ts)?.first().copied().unwrap_or(0);
    let mut keep = col("quantity")
        .eq(lit(quantity))
        .and(col("variant").eq(lit(condition)))
        .and(col("layer").eq(lit(layer)))
        .and(col("seed").eq(lit(first)));
    if ts.column("run").is_ok() {
        keep = keep.and(col("run").cast(DataType::Float64).eq(lit(0.0)));
    }
    let df = ts
        .clone()
        .lazy()
        .filter(keep)
        .sort(["t_ms", "neuron"], Default::default())
        .collect()?;
    let mut images: Vec<Vec<f64>> = Vec::new();
    let mut last = f64::NAN;
    for (t, v) in super::data::pairs(&df)? {
        if t != last {
            images.push(Vec::new());
            last = t;
        }
        images.last_mut().expect("pushed").push(v);
    }
    Ok(images)
}

const CONDITIONS: [(&str, &str); 3] = [
    ("gate_open", "gate open, class signal"),
    ("gate_closed", "gate closed (ablation), class signal"),
    ("no_class", "gate open, no class signal"),
];

fn disinhibition(inputs: &Inputs) -> ReportResult<Page> {
    let ts = inputs.timeseries;
    let StudyConfig::Disinhibition { settings: d, .. } = &inputs.scenario.study else {
        return Err(ReportError::Invalid(
            "the scenario has no [disinhibition] table".to_string(),
        ));
    };
    let kinds = crate::experiment::disinhibition::corruption_names(d);
    let mean = |c: &str| mean_sd(&summary_values(inputs.summary, c));
    let headline = mean("headline_level").0;
    let mut metrics = Vec::new();
    let mut charts = Vec::new();
    let mut images = Vec::new();
    let mut rows = String::new();
    // Worst case over corruption kinds of each condition's MSE ratio at the headline level.
    for (cond, label) in CONDITIONS {
        let per_kind: Vec<(f64, f64)> = kinds
            .iter()
            .map(|k| mean(&format!("mse_ratio_{k}_{cond}")))
            .collect();
        let worst = per_kind
            .iter()
            .map(|p| p.0)
            .fold(f64::NEG_INFINITY, f64::max);
        metrics.push(Metric::new(
            &format!("denoise_mse_ratio_{cond}"),
            worst,
            "",
            &format!(
                "{label}: reconstruction MSE ÷ corrupted-input MSE (to the clean digits) at {:.0} % corruption, the worst of {} (mean over seeds); < 1 means the reconstruction is closer to the clean digit",
                100.0 * headline,
                kinds
                    .iter()
                    .zip(&per_kind)
                    .map(|(k, p)| format!("{k} {:.3}", p.0))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
        for (k, p) in kinds.iter().zip(&per_kind) {
            metrics.push(Metric::new(
                &format!("denoise_mse_ratio_{cond}_{k}"),
                p.0,
                "",
                &format!("{label}, {k} at {:.0} %", 100.0 * headline),
            ));
        }
    }
    // The worst gate-open ratio at any level ≥ 30 %.
    let mut worst_open = f64::NEG_INFINITY;
    for (ki, _) in kinds.iter().enumerate() {
        for (level, r) in level_curve(ts, "mse_ratio", "gate_open", ki as i64)? {
            if level >= 0.3 - 1e-9 {
                worst_open = worst_open.max(r);
            }
        }
    }
    metrics.push(Metric::new(
        "denoise_mse_ratio_gate_open_worst_at_or_above_30",
        worst_open,
        "",
        "the largest gate-open MSE ratio over every corruption kind and level ≥ 30 % (< 1: the reconstruction is closer to the clean digits at all of them)",
    ));
    let (g_open, _) = mean("generation_class_accuracy_gate_open");
    let (g_closed, _) = mean("generation_class_accuracy_gate_closed");
    metrics.push(Metric::new(
        "generation_class_accuracy",
        g_open,
        "",
        &format!(
            "fraction of generated images (gate open, {} per class) the backprop classifier assigns to the clamped class (target ≥ 0.8)",
            d.generation_samples
        ),
    ));
    metrics.push(Metric::new(
        "generation_diversity",
        mean("generation_diversity_gate_open").0,
        "",
        "gate open: standard deviation of each pixel across the samples of a class, averaged over pixels and classes (how different the samples of one class are; pixels lie in [0, 1])",
    ));
    metrics.push(Metric::new(
        "generation_class_accuracy_gate_closed",
        g_closed,
        "",
        "the same with the gate held closed (ablation); chance is 0.1",
    ));
    for (c, unit, note) in [
        (
            "classifier_test_error",
            "%",
            "the judge: backprop (cross-entropy) on the same network shape, test error",
        ),
        (
            "test_error_microcircuit",
            "%",
            "the trained microcircuit's own test error (free bottom-up state)",
        ),
        (
            "reconstruction_mse_clean",
            "",
            "MSE of the reconstruction of clean test digits (gate closed): the floor of the denoising",
        ),
    ] {
        metrics.push(Metric::new(c, mean(c).0, unit, note));
    }
    for (ki, kind) in kinds.iter().enumerate() {
        let ki = ki as i64;
        let input_mse = level_curve(ts, "mse", "input", ki)?;
        let input_acc = level_curve(ts, "accuracy", "input", ki)?;
        let mut mse_lines = vec![Line::dashed("corrupted input", input_mse.clone())];
        let mut acc_lines = vec![Line::dashed("corrupted input", input_acc.clone())];
        let mut per_cond = Vec::new();
        for (cond, label) in CONDITIONS {
            let m = level_curve(ts, "mse", cond, ki)?;
            let a = level_curve(ts, "accuracy", cond, ki)?;
            mse_lines.push(Line::new(label, m.clone()));
            acc_lines.push(Line::new(label, a.clone()));
            per_cond.push((m, a));
        }
        for (i, &(level, mi)) in input_mse.iter().enumerate() {
            let cell =
                |v: Option<&(f64, f64)>| v.map(|p| format!("{:.4}", p.1)).unwrap_or_default();
            let _ = std::fmt::Write::write_fmt(
                &mut rows,
                format_args!(
                    "<tr><td>{kind}</td><td>{:.0}</td><td>{mi:.4}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    100.0 * level,
                    cell(per_cond[0].0.get(i)),
                    cell(per_cond[1].0.get(i)),
                    cell(per_cond[2].0.get(i)),
                    input_acc.get(i).map(|p| p.1).unwrap_or(f64::NAN),
                    cell(per_cond[0].1.get(i)),
                    cell(per_cond[1].1.get(i)),
                    cell(per_cond[2].1.get(i)),
                ),
            );
        }
        charts.push(chart(
            &format!("mse_{kind}"),
            &format!(
                "Denoising, {kind}: MSE to the clean digit against the fraction of corrupted pixels"
            ),
            "corruption level (fraction of pixels)",
            "MSE to the clean digit",
            mse_lines,
            false,
        ));
        charts.push(chart(
            &format!("accuracy_{kind}"),
            &format!("Denoising, {kind}: backprop classifier accuracy on corrupted and reconstructed digits"),
            "corruption level (fraction of pixels)",
            "accuracy (%)",
            acc_lines,
            false,
        ));
        let mut grid_rows = vec![
            (
                "clean".to_string(),
                stored_images(ts, "example_pixel", "clean", -1)?,
            ),
            (
                "corrupted".to_string(),
                stored_images(ts, "example_pixel", "corrupted", ki)?,
            ),
        ];
        for (cond, _) in CONDITIONS {
            grid_rows.push((
                cond.replace('_', " "),
                stored_images(ts, "example_pixel", cond, ki)?,
            ));
        }
        images.push(super::plot::ImageGrid {
            stem: format!("examples_{kind}"),
            title: format!(
                "Denoising, {kind} at {:.0} %: clean test digits, corrupted, and the settled reconstruction in each condition (first seed)",
                100.0 * mean("example_level").0
            ),
            side: 28,
            rows: grid_rows,
        });
    }
    for (cond, label) in [
        ("gate_open", "gate open"),
        ("gate_closed", "gate closed (ablation)"),
    ] {
        let rows = (0..10)
            .map(|c| {
                Ok((
                    format!("class {c}"),
                    stored_images(ts, "generated_pixel", cond, c)?,
                ))
            })
            .collect::<ReportResult<Vec<_>>>()?;
        images.push(super::plot::ImageGrid {
            stem: format!("generated_{cond}"),
            title: format!("Generated digits, {label}: the output nudged to each class (rows), no stimulus (first seed)"),
            side: 28,
            rows,
        });
    }
    let table = format!(
        "<table><tr><th>corruption</th><th>level (%)</th><th>MSE input</th><th>MSE gate open</th><th>MSE gate closed</th><th>MSE no class</th><th>accuracy input (%)</th><th>accuracy gate open</th><th>accuracy gate closed</th><th>accuracy no class</th></tr>{rows}</table>"
    );
    let gate = d
        .gate_schedule
        .iter()
        .map(|g| format!("from {} ms: {:?}", g.t_ms, g.gate))
        .collect::<Vec<_>>()
        .join("; ");
    Ok(Page {
        metrics,
        charts,
        heatmaps: Vec::new(),
        images,
        table: Some(table),
        notes: vec![
            "<b>Design (ours; the paper's mechanism and protocol are not public, paper-spec §8.4).</b> \
             A gate g_k per hidden layer multiplies the interneurons' input to the apical dendrite, \
             v_A = W^PP_{k,k+1} r_{k+1} + g_k W^PI r^I_k (Eq. 4 with a VIP-like disinhibition of the SST-like interneurons). \
             With g = 1 the circuit is the paper's: in the self-predicting state the interneurons cancel the top-down input and the apical dendrite is silent. \
             With g = 0 the top-down input reaches the soma unopposed, so the upper layer's activity (the class, when the output is nudged) biases the hidden layer."
                .to_string(),
            format!(
                "<b>Training.</b> A {:?} microcircuit learns MNIST with the two-pass learner (every weight plastic, random start, top-down weights by rule 10), \
                 then for {} more epoch(s) the bottom-up weights are held while the top-down weights learn by rule 10 at η = {} \
                 (rule 10's slow time-scale taken to its limit; learning them fast during the bottom-up learning spoils it). \
                 Alongside, the input reconstruction x̂ = φ(W_{{0,1}} r_1 + b_0) learns by rule 10 at k = 0 (η = {}). \
                 The judge is backprop (cross-entropy) on the same network shape, trained {} epoch(s).",
                inputs.scenario.network.sizes,
                d.top_down_epochs,
                d.eta_top_down,
                d.eta_reconstruction,
                d.classifier_epochs
            ),
            format!(
                "<b>Settling.</b> A weight-frozen copy settles for {} ms (forward Euler, dt = {} ms) from the bottom-up prediction state; the gate follows the schedule {gate} \
                 in the gate-open conditions and stays 1 in the ablation. The image read is x̂ from the settled r_1. \
                 <b>Denoising:</b> the first {} test digits, corrupted by pixel noise (that fraction of pixels replaced by U(0, 1)) or occlusion (a square of that area set to 0), \
                 are clamped at the input; the output is nudged to the true class (the attention signal) or left free. \
                 <b>Generation:</b> no stimulus; the output is nudged to a class, the somatic noise is σ = {}, and the input layer {}.",
                d.settle_ms,
                inputs.scenario.protocol.dt,
                d.test_images,
                d.generation_sigma,
                match d.generation_input {
                    crate::experiment::scenario::GenerationInput::Blank => "stays blank".to_string(),
                    crate::experiment::scenario::GenerationInput::Reconstruction => format!(
                        "follows its own reconstruction (τ dx/dt = x̂ − x, τ = {} ms)",
                        d.generation_tau_ms
                    ),
                }
            ),
            "<b>How to read it.</b> The headline ratios are the worst over the corruption kinds; the per-kind numbers follow them. \
             Our reading of where the gate helps and where it does not: with the gate open the hidden soma receives v̂_B + λ_A v_TD, \
             and rule 10 trains v_TD to predict the whole somatic potential. Where the bottom-up evidence is intact (clean digits, light pixel noise) \
             the top-down input is added on top of it and overshoots, so the open gate can cost MSE there; \
             where the evidence is missing (occlusion, heavy noise) it fills in the class. Compare the gate-closed column kind by kind before drawing a conclusion."
                .to_string(),
        ],
    })
}

/// A sibling study's summary (and table) from results/<name>, when it has been run.
fn sibling(
    inputs: &Inputs,
    name: &str,
) -> ReportResult<
    Option<(
        polars::prelude::DataFrame,
        Option<polars::prelude::DataFrame>,
    )>,
> {
    let Some(dir) = inputs
        .results
        .and_then(|r| r.parent())
        .map(|root| root.join(name))
    else {
        return Ok(None);
    };
    let summary = dir.join("summary.parquet");
    if !summary.exists() {
        return Ok(None);
    }
    let table = dir.join("table.parquet");
    Ok(Some((
        crate::record::read_frame(&summary)?,
        if table.exists() {
            Some(crate::record::read_frame(&table)?)
        } else {
            None
        },
    )))
}

/// (x, y) sorted by x (a work–precision curve is drawn in order of cost).
fn sorted(mut v: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

/// Median over seeds of each method's wall time to reach the target error, by stiffness factor
/// (only the points where it was reached).
fn stiff_chart(table: &polars::prelude::DataFrame, stem: &str) -> ReportResult<Chart> {
    let mut lines = Vec::new();
    for m in crate::experiment::stiffness::METHODS {
        let rows = table_rows(
            table,
            &[("table", "cost"), ("method", m.name())],
            &["factor", "wall_time_s", "reached"],
        )?;
        let mut by_factor: std::collections::BTreeMap<u64, Vec<f64>> = Default::default();
        for r in rows.iter().filter(|r| r[2] > 0.5) {
            by_factor.entry(r[0].to_bits()).or_default().push(r[1]);
        }
        let mut pts: Vec<(f64, f64)> = by_factor
            .into_iter()
            .map(|(s, mut w)| {
                w.sort_by(f64::total_cmp);
                (f64::from_bits(s), w[w.len() / 2])
            })
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        lines.push(Line::new(m.name(), pts));
    }
    Ok(loglog(
        stem,
        "Wall time to reach the target error, by stiffness (median over seeds)",
        "stiffness factor s (g_B, g_A, g_D, g_som × s)",
        "wall time (s)",
        lines,
    ))
}

/// When the implicit method pays: per stiffness factor, each method's wall time to reach the
/// target error (issue 21).
fn stiffness(inputs: &Inputs) -> ReportResult<Page> {
    let table = inputs
        .table
        .ok_or_else(|| ReportError::Invalid("stiffness results have no table.parquet".to_string()))?;
    let mut metrics = Vec::new();
    for (col, unit, note) in STIFF_METRICS {
        metrics.push(metric_mean(inputs, col, col, unit, note));
    }
    let st = match &inputs.scenario.study {
        StudyConfig::Stiffness(s) => Some(s),
        _ => None,
    };
    for &f in st.map(|s| s.factors.as_slice()).unwrap_or(&[]) {
        metrics.push(metric_mean(inputs, &format!("speedup_s{f}"), &format!("speedup_s{f}"), "", &format!("s = {f}: fastest explicit method's time to the target error ÷ BDF2's (< 1: explicit is faster)")));
        metrics.push(metric_mean(
            inputs,
            &format!("speedup_ros2_s{f}"),
            &format!("speedup_ros2_s{f}"),
            "",
            &format!("s = {f}: the same for ROS2"),
        ));
    }
    let mut charts = vec![stiff_chart(table, "wall_time_vs_stiffness")?];
    let mut by_cost = Vec::new();
    let last = st
        .and_then(|s| s.factors.last().copied())
        .unwrap_or(f64::NAN);
    for m in crate::experiment::stiffness::METHODS {
        let pts: Vec<(f64, f64)> = table_rows(
            table,
            &[("table", "attempt"), ("method", m.name())],
            &["factor", "seed", "rhs_evaluations", "error"],
        )?
        .into_iter()
        .filter(|r| r[0] == last && r[1] == 1.0)
        .map(|r| (r[2], r[3]))
        .collect();
        by_cost.push(Line::new(m.name(), sorted(pts)));
    }
    charts.push(loglog(
        "work_precision_stiffest",
        &format!("Work–precision at the stiffest factor s = {last} (seed 1)"),
        "right-hand-side evaluations",
        "max |y − y_ref| at t = T",
        by_cost,
    ));
    Ok(Page {
        heatmaps: Vec::new(),
        images: Vec::new(),
        metrics,
        charts,
        table: None,
        notes: vec![
            "Every run starts on the slow manifold: the potentials settled (Newton) for the initial weights and the input filter's start r₀ = 0, the target on. From rest, the potentials' initial layer (~1/(s g) ms) is resolved by no step of interest, and the plastic weights, which read the potentials, keep an error of it that no smaller step removes (measured at s = 1024: BDF2 levels off at 8e-7, ROS2 falls only like h; tests/core/stiff.rs).".into(),
            "Fixed-step methods try dt = coarsest_dt, /2, /4, … until the error at t = T is below the target or max_steps is exceeded (then marked not reached; their cost is at least the time of their finest run). Dopri5 tries its tolerances from the loosest. The time reported is the median of the repetitions of the cheapest sufficient setting; the dt limits are the predicted ones at the free fixed point.".into(),
            "ROS2 is a Rosenbrock–W method: its Jacobian holds the potentials' analytic block, the input filter's, and the coupling to the plastic weights by two block-Jacobi sweeps (without them it falls to first order here). BDF2 solves its implicit equation by simplified Newton with the same matrix.".into(),
        ],
    })
}

const STIFF_METRICS: [(&str, &str, &str); 3] = [
    (
        "implicit_stable_dt_over_euler_limit",
        "",
        "largest dt ÷ Euler's predicted limit at which ROS2 damps a perturbation of the fixed point, stiffest factor (capped at the largest ratio tried)",
    ),
    (
        "stiff_speedup_implicit_over_best_explicit",
        "",
        "wall time of the fastest explicit method (euler, rk4, exponential_euler, dopri5) to reach the target error ÷ ROS2's, stiffest factor",
    ),
    (
        "euler_dt_limit_stiffest",
        "ms",
        "Euler's predicted largest stable dt at the stiffest factor",
    ),
];
