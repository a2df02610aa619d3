//! What every study's protocol shares: the run's output and errors, its random streams, the
//! initial network (with `init.from`), the stability check of explicit methods, the task, and
//! the summary helpers.

use std::path::Path;

use thiserror::Error;

use super::scenario::Scenario;
use crate::model::{Drive, ModelError, Network, State, Workspace};
use crate::record::{Cell, SummaryRow, TimeSeries};
use crate::rng::Rng;
use crate::solve::SolveError;
use crate::task::Task;

/// What a run produced.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// The seed.
    pub seed: u64,
    /// The time series.
    pub series: TimeSeries,
    /// One summary row (parameters are added by the caller).
    pub summary: SummaryRow,
    /// Study-specific measurements, one row each (written as table.parquet when present).
    pub table: Vec<SummaryRow>,
    /// The trained network's weights by name (`w_up_1`, …, `b_w_up_1`, …), written as
    /// `weights.npz` in the run's directory when present.
    pub weights: Option<std::collections::BTreeMap<String, crate::record::npz::NpyArray>>,
}

/// Why a run failed.
#[derive(Debug, Error)]
pub enum RunError {
    /// The simulation failed (diverged, did not converge, …).
    #[error("seed {seed}: {source}")]
    Solve {
        /// The run's seed.
        seed: u64,
        /// What happened.
        source: SolveError,
    },
    /// The network could not be built.
    #[error("seed {seed}: {source}")]
    Model {
        /// The run's seed.
        seed: u64,
        /// What happened.
        source: ModelError,
    },
    /// dt exceeds the explicit method's stability limit at the initial state.
    #[error(
        "seed {seed}: protocol.dt = {dt} ms exceeds {method}'s stability limit {limit:.4} ms at the initial state \
         (the Jacobian's eigenvalues, inputs 0.5): such a run oscillates or diverges instead of \
         integrating the model. Use a smaller dt, an implicit method (bdf2), or set \
         protocol.beyond_stability_limit = true to run it anyway"
    )]
    Unstable {
        /// The run's seed.
        seed: u64,
        /// The scenario's step.
        dt: f64,
        /// The predicted limit.
        limit: f64,
        /// The method.
        method: &'static str,
    },
    /// A result that is not a number.
    #[error(
        "seed {seed}: the result `{key}` = {value} is not finite: the run failed (a diverged learner or an empty evaluation set), it is not a number to average"
    )]
    NonFinite {
        /// The run's seed.
        seed: u64,
        /// The summary column.
        key: String,
        /// Its value.
        value: f64,
    },
    /// The learner could not be built.
    #[error("seed {seed}: {source}")]
    Learn {
        /// The run's seed.
        seed: u64,
        /// What happened.
        source: crate::learn::LearnError,
    },
    /// The task could not be built.
    #[error("seed {seed}: task: {message}")]
    Task {
        /// The run's seed.
        seed: u64,
        /// What happened.
        message: String,
    },
}

/// Random streams of a run, derived from its seed so that each purpose has its own.
pub mod stream {
    /// Initial weights.
    pub const WEIGHTS: u64 = 1;
    /// Fixed parts of the task (teacher, association).
    pub const TASK: u64 = 2;
    /// Training patterns.
    pub const PATTERNS: u64 = 3;
    /// Test patterns.
    pub const TEST: u64 = 4;
    /// Somatic noise.
    pub const NOISE: u64 = 5;
}

/// A network for `batch` samples with the scenario's initial weights drawn from the seed's
/// weight stream (the same weights for every study and learner of that seed).
pub(crate) fn initial_network(
    config: crate::model::NetworkConfig,
    batch: usize,
    scenario: &Scenario,
    seed: u64,
) -> Result<(Network, State), RunError> {
    let net = Network::new(config, batch).map_err(|source| RunError::Model { seed, source })?;
    let mut state = net.zero_state();
    net.initialise(
        &mut state,
        &scenario.init,
        &mut Rng::derived(seed, stream::WEIGHTS),
    );
    if let Some(path) = &scenario.init.from {
        load_weights(&net, &mut state, Path::new(path)).map_err(|message| RunError::Task {
            seed,
            message: format!("init.from: {message}"),
        })?;
    }
    Ok((net, state))
}

/// Replaces the weights (and biases) of `state` by the arrays of a `.npz` file with the names a
/// run exports: every weight matrix must be there, with the network's shape; biases are taken
/// when the file has them.
fn load_weights(net: &Network, state: &mut State, path: &Path) -> Result<(), String> {
    use crate::record::npz::{NpyData, read};
    let arrays = read(path)?;
    for syn in &net.layout.synapses {
        let name = format!("{}_{}", syn.projection.name(), syn.layer);
        for (key, block, required) in [
            (name.clone(), Some(syn.w), true),
            (format!("b_{name}"), syn.bias, false),
        ] {
            let Some(block) = block else { continue };
            match arrays.get(&key) {
                Some(a) if a.shape == [block.rows, block.cols] => match &a.data {
                    NpyData::F64(v) => {
                        for (dst, src) in state.view_mut(&block).iter_mut().zip(v) {
                            *dst = *src;
                        }
                    }
                    NpyData::U64(_) => {
                        return Err(format!("{}: '{key}' is not float64", path.display()));
                    }
                },
                Some(a) => {
                    return Err(format!(
                        "{}: '{key}' has shape {:?}, the network's is [{}, {}]",
                        path.display(),
                        a.shape,
                        block.rows,
                        block.cols
                    ));
                }
                None if required => {
                    return Err(format!(
                        "{}: no array '{key}' (arrays: {})",
                        path.display(),
                        arrays.keys().cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
                None => {}
            }
        }
    }
    Ok(())
}

/// Potentials per sample beyond which the eigenvalue check is skipped (a dense eigensolve).
const STABILITY_CHECK_MAX: usize = 2000;

/// Refuses a fixed-step explicit method (Euler, RK4) whose dt exceeds its stability limit at
/// the initial state, linearised after a bottom-up pass with inputs 0.5 (as `dendritic
/// stability`), unless `protocol.beyond_stability_limit` is set.
pub(crate) fn check_stable_dt(
    scenario: &Scenario,
    net: &Network,
    state: &State,
    seed: u64,
) -> Result<(), RunError> {
    use crate::solve::MethodKind;
    let kind = scenario.method;
    if scenario.protocol.beyond_stability_limit
        || !matches!(kind, MethodKind::Euler | MethodKind::Rk4)
        || net.layout.potentials_per_sample() > STABILITY_CHECK_MAX
    {
        return Ok(());
    }
    let mut lin = state.clone();
    let input = ndarray::Array2::from_elem((net.batch(), net.layout.sizes[0]), 0.5);
    let drive = Drive::free(input.view());
    net.bottom_up_pass(&mut lin, &drive, &mut Workspace::new(net));
    let limit = crate::analysis::stability::dt_limit(kind, net, &lin, &drive, 0);
    let dt = scenario.protocol.dt;
    if dt > limit {
        return Err(RunError::Unstable {
            seed,
            dt,
            limit,
            method: kind.name(),
        });
    }
    Ok(())
}

pub(crate) fn num(row: &mut SummaryRow, key: &str, v: f64) {
    row.insert(key.to_string(), Cell::Num(v));
}

/// A number that may be undefined (a fit over too few points, a speedup where nothing reached
/// the target): absent from the summary then, never NaN.
pub(crate) fn num_if_defined(row: &mut SummaryRow, key: &str, v: f64) {
    if v.is_finite() {
        num(row, key, v);
    }
}

pub(crate) fn steps(ms: f64, dt: f64) -> u64 {
    (ms / dt).round() as u64
}

pub(crate) fn build_task(scenario: &Scenario, seed: u64) -> Result<Task, RunError> {
    scenario
        .task
        .build(
            scenario.network.phi,
            &scenario.network.sizes,
            &mut Rng::derived(seed, stream::TASK),
        )
        .map_err(|message| RunError::Task { seed, message })
}

/// The input and target of a single-association task (the studies that validation pairs
/// with `task.kind = "single_association"`); an error for any other kind.
pub(crate) fn single_association(
    scenario: &Scenario,
    seed: u64,
) -> Result<(ndarray::Array2<f64>, ndarray::Array2<f64>), RunError> {
    match build_task(scenario, seed)? {
        Task::SingleAssociation { input, target } => Ok((input, target)),
        _ => Err(RunError::Task {
            seed,
            message:
                "this study presents one input and its target: task.kind = \"single_association\""
                    .into(),
        }),
    }
}

/// A text cell of a summary row.
pub(crate) fn text(row: &mut SummaryRow, key: &str, v: &str) {
    row.insert(key.to_string(), Cell::Text(v.to_string()));
}
