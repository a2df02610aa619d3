//! Fig. 2: teacher–student regression.

use super::common::*;
use crate::report::data::{ema, mean_sd, mean_series, seeds, summary_values};
use crate::report::error::ReportResult;
use crate::report::page::{Inputs, Metric, Page, PaperFigure};
use crate::report::plot::{Chart, Line};

/// The headline numbers: the learners' test errors, their ratio, the alignment angle.
fn metrics(inputs: &Inputs) -> Vec<Metric> {
    let micro = summary_values(inputs.summary, "test_error_microcircuit");
    let shallow = summary_values(inputs.summary, "test_error_shallow");
    let ratio = mean_sd(&shallow).0 / mean_sd(&micro).0;
    vec![
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
    ]
}

/// Seed `seed`'s traces before and after learning: rates against the target, apical potential.
fn trace_charts(inputs: &Inputs, seed: u64) -> ReportResult<Vec<Chart>> {
    let mut charts = Vec::new();
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
    Ok(charts)
}

/// Each learner's test error, an exponential moving average of the seeds' mean.
fn error_lines(inputs: &Inputs) -> ReportResult<Vec<Line>> {
    let w = inputs.scenario.protocol.ema_weight;
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
    Ok(err_lines)
}

/// Fig. 2: the microcircuit against the shallow learner, backprop and feedback alignment.
#[allow(
    clippy::too_many_lines,
    reason = "the page's metrics, charts and the paper's Fig. 2 layout, in the order shown"
)]
pub(super) fn regression(inputs: &Inputs) -> ReportResult<Page> {
    let w = inputs.scenario.protocol.ema_weight;
    let metrics = metrics(inputs);
    let err_lines = error_lines(inputs)?;
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
    charts.extend(trace_charts(inputs, seed)?);
    let figure = PaperFigure {
        figure: "Fig. 2",
        caption: format!(
            "As the paper's Fig. 2: B(i) before and B(ii) after learning, output rate with its target and the input rate above the hidden cell's apical potential (seed {seed}); C the test error of the microcircuit and of the shallow learner (with backprop and feedback alignment added), its insets C(i) the apical norm and C(ii) the interneuron mismatch (the order of the insets' axis labels in the paper's text). Panel A (the teacher–student schematic) is not reproduced; the alignment angle the paper attributes to Fig. S1 follows under further figures."
        ),
        rows: vec![
            vec![
                ("B(i)", "rates_before".to_string()),
                ("B(ii)", "rates_after".to_string()),
            ],
            vec![
                ("B(i)", "apical_before".to_string()),
                ("B(ii)", "apical_after".to_string()),
            ],
            vec![("C", "test_error".to_string())],
            vec![
                ("C(i)", "apical_norm".to_string()),
                ("C(ii)", "interneuron_mismatch".to_string()),
            ],
        ],
    };
    Ok(Page {
        figure: Some(figure),
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
