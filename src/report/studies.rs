//! The figures and headline numbers of each study's page.

use super::data::{ema, mean_sd, mean_series, seeds, series, summary_values};
use super::{Chart, Inputs, Line, Metric, Page};
use crate::experiment::Study;

/// Builds the page of a study.
pub fn page(inputs: &Inputs) -> anyhow::Result<Page> {
    match inputs.scenario.study {
        Study::SelfPredicting => self_predicting(inputs),
        Study::TargetLearning => target_learning(inputs),
        Study::Regression => regression(inputs),
    }
}

fn chart(stem: &str, title: &str, x: &str, y: &str, lines: Vec<Line>, log_y: bool) -> Chart {
    Chart { stem: stem.into(), title: title.into(), x_label: x.into(), y_label: y.into(), lines, log_y }
}

/// Per-seed faint lines plus their mean.
fn seeds_and_mean(inputs: &Inputs, quantity: &str, variant: &str, name: &str) -> anyhow::Result<Vec<Line>> {
    let mut lines = Vec::new();
    for s in seeds(inputs.timeseries)? {
        lines.push(Line { name: String::new(), points: series(inputs.timeseries, quantity, variant, Some(s))?, dashed: false, faint: true });
    }
    lines.push(Line::new(name, mean_series(inputs.timeseries, quantity, variant)?));
    Ok(lines)
}

fn metric_mean(inputs: &Inputs, column: &str, name: &str, unit: &str, note: &str) -> Metric {
    let v = summary_values(inputs.summary, column);
    let (m, sd) = mean_sd(&v);
    Metric::new(name, m, unit, &format!("{note} ({} seeds, sd {:.3}, min {:.4}, max {:.4})", v.len(), sd, v.iter().cloned().fold(f64::INFINITY, f64::min), v.iter().cloned().fold(f64::NEG_INFINITY, f64::max)))
}

fn self_predicting(inputs: &Inputs) -> anyhow::Result<Page> {
    let metrics = vec![
        metric_mean(inputs, "apical_norm_drop_factor", "apical_norm_drop_factor", "", "mean ‖v_A‖ over the first pattern ÷ over the last 10 patterns"),
        metric_mean(inputs, "interneuron_mismatch_drop_factor", "interneuron_mismatch_drop_factor", "", "mean ‖u^P_{k+1} − u^I_k‖² (the paper's Fig. 1C(i) quantity) over the first pattern ÷ over the last 10"),
        metric_mean(inputs, "apical_norm_final", "apical_norm_final", "", "mean ‖v_A‖ over the last 10 patterns"),
        metric_mean(inputs, "interneuron_mismatch_final", "interneuron_mismatch_final", "", "mean ‖u^P_{k+1} − u^I_k‖² over the last 10 patterns"),
    ];
    let charts = vec![
        chart("apical_norm", "Apical potential norm while the self-predicting state is learned (Fig. S1/1C ii)", "time (ms)", "‖v_A‖", seeds_and_mean(inputs, "apical_norm", "", "mean over seeds")?, true),
        chart("interneuron_mismatch", "Interneuron − upper-layer mismatch (Fig. S1/1C i)", "time (ms)", "‖u_P(k+1) − u_I(k)‖²", seeds_and_mean(inputs, "interneuron_mismatch", "", "mean over seeds")?, true),
    ];
    Ok(Page {
        metrics,
        charts,
        notes: vec!["Only W<sup>IP</sup> (rule 8) and W<sup>PI</sup> (rule 9) learn; inputs change every pattern and no target is given. \
            The paper shows both quantities falling towards zero (Fig. 1C, Fig. S1) but gives no number; the protocol is in its Supplementary Material, which we could not read, so the scenario file states our choices."
            .into()],
    })
}

fn trace_chart(inputs: &Inputs, window: &str, seed: u64, quantities: &[(&str, &str, bool)], stem: &str, title: &str, y: &str) -> anyhow::Result<Chart> {
    let mut lines = Vec::new();
    for &(q, name, dashed) in quantities {
        let pts = series(inputs.timeseries, q, window, Some(seed))?;
        lines.push(Line { name: name.into(), points: pts, dashed, faint: false });
    }
    Ok(chart(stem, title, "time (ms)", y, lines, false))
}

fn target_learning(inputs: &Inputs) -> anyhow::Result<Page> {
    let metrics = vec![
        metric_mean(inputs, "output_target_mismatch_rel", "output_target_mismatch_rel", "", "after learning: max over output cells of |u_N − u_trgt| ÷ range of u_trgt, u_N the network's own steady state with the target removed and σ = 0"),
        metric_mean(inputs, "apical_error_rel", "apical_error_rel", "", "‖time-averaged v_A‖ over the last pattern ÷ over the first pattern after the target appears (the systematic apical deflection; averaging over the pattern removes the noise)"),
        metric_mean(inputs, "apical_norm_rel", "apical_norm_rel", "", "the same ratio for the mean of the instantaneous ‖v_A‖, noise included (its floor is set by σ)"),
        metric_mean(inputs, "output_target_mismatch_rel_initial", "output_target_mismatch_rel_initial", "", "the same mismatch before learning"),
    ];
    let seed = *seeds(inputs.timeseries)?.first().unwrap_or(&0);
    let mut charts = Vec::new();
    for (window, label) in [("before", "before learning"), ("after", "after learning")] {
        charts.push(trace_chart(inputs, window, seed, &[("output_u", "output u_N (cell 0)", false), ("target_u", "target u_trgt", true)], &format!("output_{window}"), &format!("Output potential and target, {label} (Fig. 1B)"), "potential")?);
        charts.push(trace_chart(
            inputs,
            window,
            seed,
            &[("apical_top_down", "apical top-down", false), ("apical_cancellation", "apical cancellation (interneurons)", false), ("apical_u", "apical v_A", true)],
            &format!("apical_{window}"),
            &format!("Hidden cell 0 apical inputs, {label} (Fig. 1B)"),
            "potential",
        )?);
        charts.push(trace_chart(inputs, window, seed, &[("input_rate", "input rate r_0 (cell 0)", false)], &format!("input_{window}"), &format!("Sensory input, {label}"), "rate")?);
    }
    charts.push(chart("apical_norm", "Apical error norm during learning", "time (ms)", "‖v_A‖", seeds_and_mean(inputs, "apical_norm", "", "mean over seeds")?, true));
    charts.push(chart("output_target_distance", "Distance of the (nudged) output from its target", "time (ms)", "‖u_N − u_trgt‖", seeds_and_mean(inputs, "output_target_distance", "", "mean over seeds")?, false));
    Ok(Page {
        metrics,
        charts,
        notes: vec![format!(
            "Traces of seed {seed}. The target appears after {} ms; 'before' is the first {} ms of the run, 'after' the last. \
             Before learning the top-down input and its interneuron cancellation part ways when the target appears (an apical error); after learning they cancel again while the output sits on its target.",
            inputs.scenario.protocol.target_onset_ms, inputs.scenario.protocol.trace_window_ms
        )],
    })
}

fn regression(inputs: &Inputs) -> anyhow::Result<Page> {
    let w = inputs.scenario.protocol.ema_weight;
    let micro = summary_values(inputs.summary, "test_error_microcircuit");
    let shallow = summary_values(inputs.summary, "test_error_shallow");
    let ratio = mean_sd(&shallow).0 / mean_sd(&micro).0;
    let metrics = vec![
        metric_mean(inputs, "test_error_microcircuit", "test_error_microcircuit", "squared rate error", "‖r_N − r_trgt‖² on held-out patterns, σ = 0, steady state without target, after training"),
        metric_mean(inputs, "test_error_shallow", "test_error_shallow", "squared rate error", "the same for the shallow learner (only hidden→output weights plastic)"),
        Metric::new("error_ratio_shallow_over_microcircuit", ratio, "", "mean shallow error ÷ mean microcircuit error"),
        metric_mean(inputs, "alignment_angle_deg", "alignment_angle_deg", "deg", "angle between W_up(2,1) and the transposed fixed feedback W_down(1,2)ᵀ at the end").paper(45.0),
    ];
    let mut err_lines = Vec::new();
    for v in ["microcircuit", "shallow"] {
        err_lines.push(Line::new(format!("{v} (EMA, mean over seeds)"), ema(&mean_series(inputs.timeseries, "test_error", v)?, w)));
    }
    let seed = *seeds(inputs.timeseries)?.first().unwrap_or(&0);
    let mut charts = vec![
        chart("test_error", "Test error: microcircuit vs shallow learner (Fig. 2C)", "time (ms)", "‖r_N − r_trgt‖²", err_lines, true),
        chart("alignment_angle", "Forward vs transposed feedback weights (Fig. 2C / S1)", "time (ms)", "angle (deg)", seeds_and_mean(inputs, "alignment_angle_deg", "microcircuit", "mean over seeds")?, false),
        chart("apical_norm", "Apical potential norm during learning (Fig. 2C i)", "time (ms)", "‖v_A‖", seeds_and_mean(inputs, "apical_norm", "microcircuit", "mean over seeds")?, true),
        chart("interneuron_mismatch", "Interneuron mismatch during learning (Fig. 2C ii)", "time (ms)", "‖u_P(2) − u_I(1)‖²", seeds_and_mean(inputs, "interneuron_mismatch", "microcircuit", "mean over seeds")?, true),
    ];
    for (window, label) in [("before", "before learning"), ("after", "after learning")] {
        charts.push(trace_chart(
            inputs,
            window,
            seed,
            &[("output_rate", "output rate r_N (cell 0)", false), ("target_rate", "target rate", true), ("input_rate", "input rate r_0 (cell 0)", false)],
            &format!("rates_{window}"),
            &format!("Output rate and target, {label} (Fig. 2B)"),
            "rate",
        )?);
        charts.push(trace_chart(inputs, window, seed, &[("apical_u", "apical v_A (hidden cell 0)", false)], &format!("apical_{window}"), &format!("Hidden apical potential, {label} (Fig. 2B)"), "potential")?);
    }
    Ok(Page {
        metrics,
        charts,
        notes: vec![format!(
            "The paper shows the curves but gives no final errors; it reports the forward weights aligning to about 45° of the transposed feedback. \
             Test errors are plotted as an exponential moving average with weight {w} on each new test (every {} patterns).",
            inputs.scenario.protocol.test_every
        )],
    })
}
