//! Results A1/A2: the settled microcircuit against backprop and feedback alignment as λ → 0.

use indicatif::ProgressBar;

use crate::experiment::protocol::{RunError, RunOutput, num, single_association, stream, text};
use crate::experiment::scenario::{Equivalence, Scenario};
use crate::model::Network;
use crate::record::{SummaryRow, TimeSeries};
use crate::rng::Rng;

/// The settling of a scenario's `equivalence.settle` name.
fn settle_of(name: &str, eq: &Equivalence) -> crate::analysis::equivalence::Settle {
    use crate::analysis::equivalence::Settle;
    use crate::solve::SteadyStateConfig;
    match name {
        "newton" => Settle::Solver(SteadyStateConfig::Newton {
            tolerance: 1e-15,
            maximum_iterations: 100,
        }),
        "fixed_point" => Settle::Solver(SteadyStateConfig::FixedPoint {
            tolerance: 1e-15,
            maximum_iterations: 1_000_000,
            damping: 0.7,
        }),
        "two_pass" => Settle::Solver(SteadyStateConfig::TwoPass),
        _ => Settle::Dynamics {
            dt: eq.dynamics_dt,
            duration_ms: eq.dynamics_ms,
        },
    }
}

/// The table row of one layer's comparison.
fn comparison_row(
    top_down: crate::model::TopDown,
    settle: crate::analysis::equivalence::Settle,
    lambda: f64,
    c: &crate::analysis::equivalence::LayerComparison,
    seed: u64,
) -> SummaryRow {
    let mut row = SummaryRow::new();
    text(
        &mut row,
        "top_down",
        match top_down {
            crate::model::TopDown::Transpose => "transpose",
            crate::model::TopDown::Random => "random",
        },
    );
    text(&mut row, "settle", settle.name());
    num(&mut row, "lambda", lambda);
    num(&mut row, "layer", c.layer as f64);
    num(&mut row, "scale", c.scale);
    num(&mut row, "angle_du_deg", c.angle_du_deg);
    num(&mut row, "relerr_du", c.relerr_du);
    num(&mut row, "angle_bp_deg", c.angle_bp_deg);
    num(&mut row, "angle_fa_deg", c.angle_fa_deg);
    num(&mut row, "angle_fa_to_bp_deg", c.angle_fa_to_bp_deg);
    num(&mut row, "relerr_dw", c.relerr_dw);
    num(&mut row, "seed", seed as f64);
    row
}

/// Results A1/A2: for each top-down mode, settle method and λ, the layer-by-layer comparison of
/// the settled microcircuit with backprop and feedback alignment (analysis::equivalence).
pub fn run(
    scenario: &Scenario,
    eq: &Equivalence,
    seed: u64,
    progress: Option<&ProgressBar>,
) -> Result<RunOutput, RunError> {
    use crate::analysis::equivalence::{Settle, compare, conductance_for_lambda};
    let (input, target) = single_association(scenario, seed)?;
    let (input, target) = (&input, &target);
    let mut table = Vec::new();
    let mut evals = 0.0;
    for &top_down in &eq.top_down {
        for settle_name in &eq.settle {
            let settle = settle_of(settle_name, eq);
            for &lambda in &eq.lambdas {
                let mut config = scenario.network.clone();
                let g = conductance_for_lambda(
                    lambda,
                    config.conductances.g_lk,
                    config.conductances.g_b,
                );
                config.conductances.g_a = g;
                config.conductances.g_som = g;
                let net =
                    Network::new(config, 1).map_err(|source| RunError::Model { seed, source })?;
                let mut state = net.zero_state();
                let mut init = scenario.init.clone();
                init.top_down = top_down;
                init.self_predicting = true;
                net.initialise(&mut state, &init, &mut Rng::derived(seed, stream::WEIGHTS));
                let layers = compare(&net, &state, input, target, settle)
                    .map_err(|source| RunError::Solve { seed, source })?;
                if let Settle::Dynamics { dt, duration_ms } = settle {
                    evals += 8.0 * (duration_ms / dt).round();
                }
                for c in layers {
                    table.push(comparison_row(top_down, settle, lambda, &c, seed));
                }
                if let Some(pb) = progress {
                    pb.inc(1);
                }
            }
        }
    }
    let mut summary = SummaryRow::new();
    num(&mut summary, "comparisons", table.len() as f64);
    num(&mut summary, "rhs_evaluations", evals);
    Ok(RunOutput {
        seed,
        series: TimeSeries::default(),
        summary,
        table,
        weights: None,
    })
}
