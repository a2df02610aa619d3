//! The performance page (issue 17).

use crate::report::data::summary_values;
use crate::report::error::ReportResult;
use crate::report::page::{Inputs, Metric, Page};

/// The rows of the page: summary column, unit, how it is measured.
const ROWS: [(&str, &str, &str); 20] = [
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
        "per-image step time at batch 10 ÷ the batch-1 step (median of the per-repetition ratios)",
    ),
    (
        "euler_step_us_large_2threads",
        "µs",
        "784-500-500-10, batch 1, each large synapse group's rows split over two threads (one run alone on the machine; the same bits as one thread)",
    ),
    (
        "euler_step_us_per_image_large_b10_2threads",
        "µs",
        "the same at batch 10, per image",
    ),
    (
        "two_thread_speedup_large",
        "",
        "euler_step_us_large ÷ euler_step_us_large_2threads (median of the per-repetition ratios)",
    ),
    (
        "two_thread_speedup_large_b10",
        "",
        "euler_step_us_per_image_large_b10 ÷ euler_step_us_per_image_large_b10_2threads (median of the per-repetition ratios)",
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
        "numpy_step_us_small ÷ euler_step_us_small (median of the per-repetition ratios)",
    ),
    (
        "speedup_vs_numpy_large",
        "",
        "numpy_step_us_large ÷ euler_step_us_large (median of the per-repetition ratios)",
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
        "large_step_gb_s ÷ triad_gb_s (median of the per-repetition ratios)",
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
        "twopass_epoch_s ÷ numpy_backprop_epoch_s (median of the per-repetition ratios)",
    ),
    (
        "backprop_over_numpy_backprop",
        "",
        "backprop_epoch_s ÷ numpy_backprop_epoch_s (median of the per-repetition ratios)",
    ),
];

/// The engine's speed: one row per measurement, all from one run (issue 17).
pub(super) fn performance(inputs: &Inputs) -> ReportResult<Page> {
    let metrics = ROWS
        .iter()
        .filter_map(|(name, unit, note)| {
            let v = summary_values(inputs.summary, name);
            v.first().map(|&x| Metric::new(name, x, unit, note))
        })
        .collect();
    // The run's words, escaped: the notes are HTML, and "<unset>" would vanish as a tag.
    let text = |k: &str| {
        crate::report::html::esc(&crate::report::data::summary_text(inputs.summary, k).join(", "))
    };
    // Results written before a text column existed have none.
    let or_dash = |t: String| if t.is_empty() { "—".to_string() } else { t };
    let notes = vec![
        format!(
            "Measured in one run, one thread (but the two-thread rows), medians of the scenario's repetitions. Ours (one and two threads), NumPy's and the triad are interleaved, one repetition of each in turn, and every ratio row is the median of the per-repetition ratios, so that the shared host's drift over the minutes of the study does not enter a ratio. OpenBLAS kernel: <b>{}</b> (OPENBLAS_CORETYPE = {}); our loops: {}. NumPy's BLAS: {}. NumPy step: {}; NumPy epoch: {}. Steps: {}. Epochs: {}.",
            text("blas_core"),
            text("openblas_coretype_env"),
            text("isa"),
            text("numpy_blas"),
            text("numpy_status"),
            text("numpy_epoch_status"),
            or_dash(text("step_spread")),
            or_dash(text("epoch_spread")),
        ),
        "A batch-1 Euler step reads and writes every plastic weight and its trace once and reads every fixed weight once (the step is fused row by row: dendritic potential, post-synaptic factor, weight and trace update while the row is in cache), so its floor is the memory bandwidth; larger batches stream the weights once for all images."
            .to_string(),
    ];
    Ok(Page {
        figure: None,
        metrics,
        charts: Vec::new(),
        notes,
        table: None,
        heatmaps: Vec::new(),
        images: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The run's words reach the notes escaped (an unset OPENBLAS_CORETYPE is recorded as
    /// "<unset>", which a browser would drop as a tag), and the spreads appear beside the
    /// medians; a result without a spread column shows a dash.
    #[test]
    fn the_notes_quote_the_runs_words_escaped_and_its_spreads() {
        use polars::prelude::*;
        let summary = df! {
            "seed" => [1u64],
            "speedup_vs_numpy_small" => [19.5],
            "blas_core" => ["Cooperlake"],
            "openblas_coretype_env" => ["<unset>"],
            "step_spread" => ["small: ours 2.10–2.40 µs"],
        }
        .unwrap();
        let scenario = crate::experiment::scenario::Scenario::load("performance").unwrap();
        let empty = DataFrame::empty();
        let inputs = Inputs::summary_only(&scenario, &summary, &empty);
        let page = performance(&inputs).unwrap();
        let notes = &page.notes[0];
        assert!(
            notes.contains("OPENBLAS_CORETYPE = &lt;unset&gt;"),
            "{notes}"
        );
        assert!(
            notes.contains("Steps: small: ours 2.10–2.40 µs."),
            "{notes}"
        );
        assert!(notes.contains("Epochs: —."), "{notes}");
        assert_eq!(page.metrics.len(), 1);
        assert_eq!(page.metrics[0].value, 19.5);
    }
}
