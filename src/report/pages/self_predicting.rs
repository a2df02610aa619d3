//! Fig. S1: the self-predicting state.

use super::common::*;
use crate::report::error::ReportResult;
use crate::report::page::{Inputs, Page, PaperFigure};

pub(super) fn self_predicting(inputs: &Inputs) -> ReportResult<Page> {
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
    let figure = PaperFigure {
        figure: "Fig. S1",
        caption: "The Supplementary Material that holds Fig. S1 is not public (paper-spec §4.3): its panels are not known to us. We show the two quantities the main text says it shows, the self-predicting state emerging from a random start, in the order of Fig. 1C: (i) the interneurons' mismatch with the layer above, (ii) the apical norm."
            .to_string(),
        rows: vec![vec![
            ("(i)", "interneuron_mismatch".to_string()),
            ("(ii)", "apical_norm".to_string()),
        ]],
    };
    Ok(Page {
        figure: Some(figure),
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
