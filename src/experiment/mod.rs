//! The driver side: scenario files, the run protocol of each study, and running a scenario's
//! seeds in parallel into Parquet files.

mod error;
pub mod execute;
pub mod probe;
pub mod protocol;
pub mod scenario;
pub mod slurm;
pub mod studies;
pub mod sweep;

pub use execute::{patterns_per_run, run_one, run_one_with};
pub use studies::{disinhibition, integrators, mnist, performance, stiffness};

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use polars::prelude::*;
use rayon::prelude::*;

pub use error::{DriverError, DriverResult};
pub use protocol::{RunError, RunOutput, stream};
pub use scenario::{Scenario, ScenarioError, Study, StudyConfig};

use crate::error::Context;
use crate::record::{Cell, SummaryRow, summary_dataframe, write_frame};

/// Every scalar parameter of a scenario as a flat `section.key` → value map (arrays and
/// tables written as TOML text), for summary columns.
pub fn flatten_parameters(scenario: &Scenario) -> SummaryRow {
    fn walk(prefix: &str, v: &toml::Value, out: &mut SummaryRow) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            toml::Value::Float(x) => {
                out.insert(prefix.to_string(), Cell::Num(*x));
            }
            toml::Value::Integer(i) => {
                out.insert(prefix.to_string(), Cell::Num(*i as f64));
            }
            toml::Value::String(s) => {
                out.insert(prefix.to_string(), Cell::Text(s.clone()));
            }
            other => {
                out.insert(prefix.to_string(), Cell::Text(other.to_string()));
            }
        }
    }
    let mut out = SummaryRow::new();
    if let Ok(v) = toml::Value::try_from(scenario) {
        walk("", &v, &mut out);
    }
    out.remove("seeds");
    out.remove("description");
    out
}

/// The commit this program was built from (short hash, "+dirty" when the tree had uncommitted
/// changes, "unknown" outside a git checkout), embedded at build time by build.rs.
pub fn commit() -> String {
    env!("DENDRITIC_COMMIT").to_string()
}

/// Writes a scenario's trained weights (`weights-seed<S>.npz`), summary, time series and, when
/// the study has one, its table.
fn write_outputs(
    dir: &Path,
    weights: &[(
        u64,
        std::collections::BTreeMap<String, crate::record::npz::NpyArray>,
    )],
    summary: &mut DataFrame,
    timeseries: &mut DataFrame,
    table_rows: &[SummaryRow],
    csv: bool,
) -> DriverResult<()> {
    for (seed, w) in weights {
        let path = dir.join(format!("weights-seed{seed}.npz"));
        crate::error::Context::with_context(crate::record::npz::write(&path, w), || {
            format!("writing {}", path.display())
        })?;
    }
    write_frame(summary, &dir.join("summary.parquet"), csv)?;
    write_frame(timeseries, &dir.join("timeseries.parquet"), csv)?;
    if !table_rows.is_empty() {
        write_frame(
            &mut summary_dataframe(table_rows)?,
            &dir.join("table.parquet"),
            csv,
        )?;
    }
    Ok(())
}

/// Every seed of a scenario in parallel, each with its checkpoint directory.
fn run_seeds(
    scenario: &Scenario,
    root: &Path,
    pb: &ProgressBar,
) -> Vec<(u64, Result<RunOutput, RunError>)> {
    let checkpoints = results_dir(root, scenario).join("checkpoints");
    scenario
        .seeds
        .par_iter()
        .map(|&seed| {
            (
                seed,
                run_one_with(scenario, seed, Some(pb), Some(&checkpoints)),
            )
        })
        .collect()
}

/// A progress bar over `total` patterns (hidden unless `show`).
fn progress_bar(name: &str, total: u64, show: bool) -> ProgressBar {
    let pb = if show {
        ProgressBar::new(total)
    } else {
        ProgressBar::hidden()
    };
    pb.set_style(
        ProgressStyle::with_template(
            "{prefix:>16} [{bar:30}] {pos}/{len} patterns, {elapsed} (eta {eta})",
        )
        .expect("template")
        .progress_chars("=> "),
    );
    pb.set_prefix(name.to_string());
    pb
}

/// The seeds' time series one under the other (empty when none).
fn stack(frames: Vec<DataFrame>) -> PolarsResult<DataFrame> {
    let mut it = frames.into_iter();
    let Some(mut acc) = it.next() else {
        return Ok(DataFrame::empty());
    };
    for f in it {
        acc.vstack_mut(&f)?;
    }
    Ok(acc)
}

/// Where a scenario's results go.
pub fn results_dir(root: &Path, scenario: &Scenario) -> PathBuf {
    root.join(&scenario.name)
}

/// Outcome of running every seed of a scenario.
pub struct ScenarioResults {
    /// One row per seed (failed seeds have `status = "failed"` and `error`).
    pub summary: DataFrame,
    /// The time series of all successful seeds.
    pub timeseries: DataFrame,
    /// Seeds that failed, with their errors.
    pub failures: Vec<(u64, String)>,
}

/// Runs all seeds of a scenario in parallel (rayon; each seed's numbers do not depend on the
/// thread count) and writes results/<name>/{summary,timeseries}.parquet (and CSV when asked),
/// plus the scenario as run. A failing seed is recorded, not fatal.
pub fn run_scenario(
    scenario: &Scenario,
    root: &Path,
    csv: bool,
    show_progress: bool,
) -> DriverResult<ScenarioResults> {
    // The scenario's files are written at the end: no other process may write them meanwhile.
    let _lock = crate::record::lock::exclusive(&results_dir(root, scenario).join(".lock"))?;
    let per_run = patterns_per_run(scenario);
    let pb = progress_bar(
        &scenario.name,
        per_run * scenario.seeds.len() as u64,
        show_progress,
    );
    let params = flatten_parameters(scenario);
    let commit = commit();
    let outputs = run_seeds(scenario, root, &pb);
    pb.finish_and_clear();
    let mut rows = Vec::new();
    let mut frames = Vec::new();
    let mut table_rows = Vec::new();
    let mut failures = Vec::new();
    let mut weights = Vec::new();
    for (seed, out) in outputs {
        let mut row = params.clone();
        row.insert("seed".into(), Cell::Id(seed));
        row.insert("scenario".into(), Cell::Text(scenario.name.clone()));
        row.insert("commit".into(), Cell::Text(commit.clone()));
        match out {
            Ok(o) => {
                row.insert("status".into(), Cell::Text("ok".into()));
                row.extend(o.summary);
                frames.push(o.series.to_dataframe(seed)?);
                table_rows.extend(o.table);
                if let Some(w) = o.weights {
                    weights.push((seed, w));
                }
            }
            Err(e) => {
                tracing::error!("{}: {e}", scenario.name);
                row.insert("status".into(), Cell::Text("failed".into()));
                row.insert("error".into(), Cell::Text(e.to_string()));
                failures.push((seed, e.to_string()));
            }
        }
        rows.push(row);
    }
    let mut summary = summary_dataframe(&rows)?;
    let mut timeseries = stack(frames)?;
    let dir = results_dir(root, scenario);
    if failures.len() == scenario.seeds.len() && dir.join("summary.parquet").exists() {
        // Nothing new worth keeping: the earlier results stay as they were.
        tracing::error!(
            "{}: every seed failed; the earlier results in {} are kept",
            scenario.name,
            dir.display()
        );
        return Ok(ScenarioResults {
            summary,
            timeseries,
            failures,
        });
    }
    write_outputs(
        &dir,
        &weights,
        &mut summary,
        &mut timeseries,
        &table_rows,
        csv,
    )?;
    crate::record::lock::write_atomic(
        &dir.join("scenario.toml"),
        toml::to_string_pretty(scenario)
            .context("writing scenario.toml")?
            .as_bytes(),
    )?;
    Ok(ScenarioResults {
        summary,
        timeseries,
        failures,
    })
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
