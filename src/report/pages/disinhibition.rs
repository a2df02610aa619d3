//! The disinhibition study: denoising and generation under gate schedules.

use polars::prelude::DataFrame;

use super::common::*;
use crate::experiment::scenario::StudyConfig;
use crate::report::data::{mean_sd, seeds, summary_values};
use crate::report::error::{ReportError, ReportResult};
use crate::report::page::{Inputs, Metric, Page};
use crate::report::plot::{Chart, Line};

/// Mean over seeds of a disinhibition quantity against corruption level, for one condition
/// and corruption kind (`layer`).
fn level_curve(
    ts: &polars::prelude::DataFrame,
    quantity: &str,
    condition: &str,
    layer: i64,
) -> ReportResult<Vec<(f64, f64)>> {
    use polars::prelude::*;
    Ok(crate::report::data::mean_where(
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
    for (t, v) in crate::report::data::pairs(&df)? {
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

/// The headline numbers: the denoising ratios (worst over kinds and per kind), the worst
/// gate-open ratio at ≥ 30 %, generation's class accuracy and diversity, the judges.
fn disinhibition_metrics(
    inputs: &Inputs,
    d: &crate::experiment::scenario::Disinhibition,
    kinds: &[&str],
) -> ReportResult<Vec<Metric>> {
    let ts = inputs.timeseries;
    let mean = |c: &str| mean_sd(&summary_values(inputs.summary, c));
    let headline = mean("headline_level").0;
    let mut metrics = Vec::new();
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
    metrics.extend(generation_metrics(inputs, d));
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
    Ok(metrics)
}

/// Generation's class accuracy (gate open and closed) and diversity.
fn generation_metrics(
    inputs: &Inputs,
    d: &crate::experiment::scenario::Disinhibition,
) -> Vec<Metric> {
    let mean = |c: &str| mean_sd(&summary_values(inputs.summary, c));
    let mut metrics = Vec::new();
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
    metrics
}

/// One corruption kind's rows of the numbers table, its two charts and its image grid.
struct KindOutputs {
    rows: String,
    charts: Vec<Chart>,
    images: Vec<crate::report::plot::ImageGrid>,
}

/// Denoising of one corruption kind: MSE and accuracy against the level, the example grid.
fn kind_outputs(inputs: &Inputs, kind: &str, ki: i64, out: &mut KindOutputs) -> ReportResult<()> {
    let ts = inputs.timeseries;
    let mean = |c: &str| mean_sd(&summary_values(inputs.summary, c));
    let (rows, charts, images) = (&mut out.rows, &mut out.charts, &mut out.images);
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
        let cell = |v: Option<&(f64, f64)>| v.map(|p| format!("{:.4}", p.1)).unwrap_or_default();
        let _ = std::fmt::Write::write_fmt(
            rows,
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
        &format!(
            "Denoising, {kind}: backprop classifier accuracy on corrupted and reconstructed digits"
        ),
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
    images.push(crate::report::plot::ImageGrid {
        stem: format!("examples_{kind}"),
        title: format!(
            "Denoising, {kind} at {:.0} %: clean test digits, corrupted, and the settled reconstruction in each condition (first seed)",
            100.0 * mean("example_level").0
        ),
        side: 28,
        rows: grid_rows,
    });
    Ok(())
}

/// The generated digits, one grid per gate condition.
fn generated_grids(ts: &DataFrame) -> ReportResult<Vec<crate::report::plot::ImageGrid>> {
    let mut images = Vec::new();
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
        images.push(crate::report::plot::ImageGrid {
            stem: format!("generated_{cond}"),
            title: format!("Generated digits, {label}: the output nudged to each class (rows), no stimulus (first seed)"),
            side: 28,
            rows,
        });
    }
    Ok(images)
}

/// The page's prose: design, training, settling, how to read it.
fn disinhibition_notes(
    inputs: &Inputs,
    d: &crate::experiment::scenario::Disinhibition,
) -> Vec<String> {
    let gate = d
        .gate_schedule
        .iter()
        .map(|g| format!("from {} ms: {:?}", g.t_ms, g.gate))
        .collect::<Vec<_>>()
        .join("; ");
    vec![
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
    ]
}

/// The disinhibition study: denoising and generation with the gate open and closed.
pub(super) fn disinhibition(inputs: &Inputs) -> ReportResult<Page> {
    let StudyConfig::Disinhibition { settings: d, .. } = &inputs.scenario.study else {
        return Err(ReportError::Invalid(
            "the scenario has no [disinhibition] table".to_string(),
        ));
    };
    let kinds = crate::experiment::disinhibition::corruption_names(d);
    let metrics = disinhibition_metrics(inputs, d, &kinds)?;
    let mut out = KindOutputs {
        rows: String::new(),
        charts: Vec::new(),
        images: Vec::new(),
    };
    for (ki, kind) in kinds.iter().enumerate() {
        kind_outputs(inputs, kind, ki as i64, &mut out)?;
    }
    out.images.extend(generated_grids(inputs.timeseries)?);
    let rows = &out.rows;
    let table = format!(
        "<table><tr><th>corruption</th><th>level (%)</th><th>MSE input</th><th>MSE gate open</th><th>MSE gate closed</th><th>MSE no class</th><th>accuracy input (%)</th><th>accuracy gate open</th><th>accuracy gate closed</th><th>accuracy no class</th></tr>{rows}</table>"
    );
    Ok(Page {
        figure: None,
        metrics,
        charts: out.charts,
        heatmaps: Vec::new(),
        images: out.images,
        table: Some(table),
        notes: disinhibition_notes(inputs, d),
    })
}
