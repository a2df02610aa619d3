//! Fig. 1B: target learning.

use super::common::*;
use crate::report::data::seeds;
use crate::report::error::ReportResult;
use crate::report::page::{Inputs, Page, PaperFigure};
use crate::report::plot::Chart;

/// The headline numbers: (summary column, unit, how measured).
const METRICS: [(&str, &str, &str); 4] = [
    (
        "output_target_mismatch_rel",
        "",
        "after learning: max over output cells of |u_N − u_trgt| ÷ range of u_trgt, u_N the network's own steady state with the target removed and σ = 0",
    ),
    (
        "apical_error_rel",
        "",
        "‖time-averaged v_A‖ over the last pattern ÷ over the first pattern after the target appears (the systematic apical deflection; averaging over the pattern removes the noise)",
    ),
    (
        "apical_norm_rel",
        "",
        "the same ratio for the mean of the instantaneous ‖v_A‖, noise included (its floor is set by σ)",
    ),
    (
        "output_target_mismatch_rel_initial",
        "",
        "the same mismatch before learning",
    ),
];

/// Seed `seed`'s traces before and after learning: output and target, apical inputs, input.
fn trace_charts(inputs: &Inputs, seed: u64) -> ReportResult<Vec<Chart>> {
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
    Ok(charts)
}

/// Fig. 1B: the output reaches its target; the apical error appears and cancels again.
pub(super) fn target_learning(inputs: &Inputs) -> ReportResult<Page> {
    let metrics = means(inputs, &METRICS);
    let seed = *seeds(inputs.timeseries)?.first().unwrap_or(&0);
    let mut charts = trace_charts(inputs, seed)?;
    charts.push(chart(
        "apical_norm",
        "Apical error norm during learning",
        "time (ms)",
        "‖v_A‖",
        seeds_and_mean(inputs, "apical_norm", "", "mean over seeds")?,
        true,
    ));
    let mismatch = seeds_and_mean(inputs, "interneuron_mismatch", "", "mean over seeds")?;
    let has_mismatch = !mismatch.is_empty();
    if has_mismatch {
        charts.push(chart(
            "interneuron_mismatch",
            "Interneurons predicting the output layer during learning",
            "time (ms)",
            "‖u_P(2) − u_I(1)‖²",
            mismatch,
            true,
        ));
    }
    charts.push(chart(
        "output_target_distance",
        "Distance of the (nudged) output from its target",
        "time (ms)",
        "‖u_N − u_trgt‖",
        seeds_and_mean(inputs, "output_target_distance", "", "mean over seeds")?,
        false,
    ));
    let mut rows = vec![
        vec![
            ("B(i)", "input_before".to_string()),
            ("B(ii)", "input_after".to_string()),
        ],
        vec![
            ("B(i)", "output_before".to_string()),
            ("B(ii)", "output_after".to_string()),
        ],
        vec![
            ("B(i)", "apical_before".to_string()),
            ("B(ii)", "apical_after".to_string()),
        ],
    ];
    let mut c_row = Vec::new();
    if has_mismatch {
        c_row.push(("C(i)", "interneuron_mismatch".to_string()));
    }
    c_row.push(("C(ii)", "apical_norm".to_string()));
    rows.push(c_row);
    let figure = PaperFigure {
        figure: "Fig. 1",
        caption: format!(
            "As the paper's Fig. 1: B(i) before and B(ii) after learning, each a column of sensory input, output with its target, and the hidden cell's apical inputs (top-down and interneuron cancellation); C(i) the interneurons' mismatch with the layer above and C(ii) the apical norm over the whole run. Panel A (the circuit's schematic) is not reproduced. Traces of seed {seed}; the paper's network size and φ for Fig. 1 are not stated (paper-spec §3), so ours are in the scenario below."
        ),
        rows,
    };
    Ok(Page {
        figure: Some(figure),
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
