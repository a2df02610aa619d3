//! The driver side: scenario files, the run protocol of each study, and running a scenario's
//! seeds in parallel into Parquet files.

mod error;
pub mod execute;
pub mod probe;
pub mod protocol;
mod provenance;
pub mod scenario;
pub mod slurm;
pub mod studies;
pub mod sweep;

pub use execute::{patterns_per_run, run_one, run_one_with};
pub use studies::{disinhibition, integrators, mnist, performance, stiffness};

use std::path::{Path, PathBuf};

use polars::prelude::*;

pub use error::{DriverError, DriverResult};
pub use protocol::{RunError, RunOutput, stream};
pub use provenance::{commit, flatten_parameters};
pub use scenario::{Scenario, ScenarioError, Study, StudyConfig};

/// Where a scenario's results go.
pub fn results_dir(root: &Path, scenario: &Scenario) -> PathBuf {
    root.join(&scenario.name)
}

/// Outcome of running every run of a scenario.
pub struct ScenarioResults {
    /// One row per run (failed runs have `status = "failed"` and `error`).
    pub summary: DataFrame,
    /// The time series of all successful runs.
    pub timeseries: DataFrame,
    /// Seeds of the runs that failed, with their errors.
    pub failures: Vec<(u64, String)>,
}

/// Runs a scenario — every seed of a plain one, every variant × grid point × seed of a sweep —
/// through the one executor, [`sweep::run_sweep`] (each run in its own directory
/// results/<name>/runs/runNNNNN/, in parallel, a failing or panicking run recorded with its
/// error), then merges them into results/<name>/{summary,timeseries}.parquet (and
/// table.parquet when the study has one). Each run's numbers depend only on its scenario and
/// seed, never on the thread count. When every run fails, earlier merged results are kept.
///
/// # Errors
/// A lock held by another process, an invalid sweep, or a file that cannot be written.
pub fn run_scenario(
    scenario: &Scenario,
    root: &Path,
    csv: bool,
    show_progress: bool,
) -> DriverResult<ScenarioResults> {
    let runs = sweep::runs_of(scenario)?;
    let opts = sweep::SweepOptions {
        csv,
        progress: show_progress,
        ..Default::default()
    };
    let outcome = sweep::run_sweep(scenario, &runs, root, &opts)?;
    let failures: Vec<(u64, String)> = outcome
        .failed
        .iter()
        .map(|(i, e)| (runs[*i].seed, e.clone()))
        .collect();
    let (summary, timeseries) = finish(root, &scenario.name, &outcome, csv)?;
    Ok(ScenarioResults {
        summary,
        timeseries,
        failures,
    })
}

/// Merges a finished (unsharded) run of a scenario, unless every run computed now failed and
/// merged results exist from before: those are kept (nothing already computed is lost), and
/// returned.
///
/// # Errors
/// A lock held by another process; a file that cannot be read or written.
pub fn finish(
    root: &Path,
    name: &str,
    outcome: &sweep::SweepOutcome,
    csv: bool,
) -> DriverResult<(DataFrame, DataFrame)> {
    let dir = root.join(name);
    let all_failed = !outcome.computed.is_empty() && outcome.failed.len() == outcome.computed.len();
    if all_failed && dir.join("summary.parquet").exists() {
        tracing::error!(
            "{name}: every run failed; the earlier results in {} are kept",
            dir.display()
        );
        let read = |f: &str| crate::record::read_frame(&dir.join(f));
        return Ok((read("summary.parquet")?, read("timeseries.parquet")?));
    }
    sweep::merge(root, name, csv)
}

/// A generous estimate of the memory one run of `scenario` needs, in bytes: the state
/// (weights, their traces, potentials for the batch) times the copies its method keeps, plus an
/// MNIST-format data set when the task loads one. Checked against `--max-memory` before any
/// run starts, so that an impossible network is an error naming `network.sizes`, not an abort.
pub fn memory_estimate(scenario: &Scenario) -> u64 {
    use crate::solve::MethodKind;
    let s: Vec<u64> = scenario.network.sizes.iter().map(|&x| x as u64).collect();
    let n = s.len().saturating_sub(1);
    let mut weights: u64 = 0;
    let mut potentials: u64 = 0;
    for k in 1..=n {
        weights = weights.saturating_add(s[k].saturating_mul(s[k - 1]));
        potentials = potentials.saturating_add(s[k]);
        if k < n {
            // top-down, interneuron ← pyramidal, pyramidal ← interneuron
            weights = weights.saturating_add(s[k].saturating_mul(s[k + 1]).saturating_mul(3));
            potentials = potentials.saturating_add(s[k + 1]);
        }
    }
    let traces = if scenario.network.plasticity.tau_w > 0.0 {
        2
    } else {
        1
    };
    let batch = scenario.study.training().map_or(1, |m| m.batch as u64);
    let state = weights.saturating_mul(traces).saturating_add(
        potentials
            .saturating_add(s.first().copied().unwrap_or(0))
            .saturating_mul(batch),
    );
    let copies: u64 = match scenario.method {
        MethodKind::Euler => 4,
        MethodKind::ExponentialEuler => 5,
        MethodKind::Rk4 => 8,
        MethodKind::Ros2 | MethodKind::Bdf2 => 10,
        MethodKind::Dopri5 => 20,
    };
    let data: u64 = match &scenario.task {
        crate::task::TaskConfig::Mnist { .. } => 2 * 70_000 * 784 * 8,
        _ => 0,
    };
    8u64.saturating_mul(state)
        .saturating_mul(copies)
        .saturating_add(data)
}

/// The memory the machine has available now (MemAvailable of /proc/meminfo), if known.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
