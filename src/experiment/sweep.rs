//! Sweeps: a scenario's `[sweep.grid]` (lists of values by parameter path, e.g.
//! `"network.conductances.g_som" = [0.1, 0.8]`) crossed with its seeds, run in parallel with
//! rayon. Every run writes its own results atomically under results/<name>/runs/runNNNNN/
//! (the summary last, so its presence marks a finished run); `--resume` skips finished runs,
//! `--shard i/N` runs every N-th, and [`merge`] gathers all runs into one summary DataFrame
//! (a row per run, parameters as columns) and one time series.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use polars::prelude::*;
use rayon::prelude::*;

use super::error::{DriverError, DriverResult};
use super::protocol::{RunError, RunOutput};
use super::provenance::{commit, flatten_parameters};
use super::scenario::{Scenario, ScenarioError, SweepRun, expand};
use crate::error::Context;
use crate::record::{Cell, read_frame, summary_dataframe, write_frame};

/// How a sweep is run.
#[derive(Clone, Debug, Default)]
pub struct SweepOptions {
    /// Worker threads (None: rayon's default, the number of cores).
    pub threads: Option<usize>,
    /// Skip runs that already finished successfully.
    pub resume: bool,
    /// Run only the runs with index % N == i.
    pub shard: Option<(usize, usize)>,
    /// Also write CSV.
    pub csv: bool,
    /// Show a progress bar.
    pub progress: bool,
}

/// What a sweep invocation did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepOutcome {
    /// Runs computed now (indices).
    pub computed: Vec<usize>,
    /// Runs skipped because they had finished (resume).
    pub skipped: Vec<usize>,
    /// Runs that failed now, with their errors.
    pub failed: Vec<(usize, String)>,
}

/// Keeps the runs of the given seeds (`dendritic run --seeds` on a sweep). A sweep's run
/// indices, and so its `--resume`, come from the file's `seeds`; a seed the file does not list
/// has no index and is an error naming it, instead of a sweep of zero runs.
///
/// # Errors
/// [`ScenarioError::Invalid`] on key `seeds` when a seed is not among the file's.
pub fn only_seeds(
    base: &Scenario,
    runs: Vec<SweepRun>,
    seeds: &[u64],
    file: &str,
) -> Result<Vec<SweepRun>, ScenarioError> {
    let missing: Vec<u64> = seeds
        .iter()
        .copied()
        .filter(|s| !base.seeds.contains(s))
        .collect();
    if !missing.is_empty() {
        return Err(ScenarioError::Invalid {
            file: file.into(),
            line: None,
            key: "seeds".into(),
            message: format!(
                "--seeds {missing:?} not among the file's seeds {:?}; a sweep's run indices \
                 come from the file, so add the seeds there",
                base.seeds
            ),
        });
    }
    Ok(runs
        .into_iter()
        .filter(|r| seeds.contains(&r.seed))
        .collect())
}

/// The runs of a scenario without a `[sweep]` table: one per seed, in the order of `seeds`, each
/// the scenario itself with `seeds = [seed]` (what [`expand`] makes of such a file).
pub fn plain_runs(base: &Scenario) -> Vec<SweepRun> {
    base.seeds
        .iter()
        .enumerate()
        .map(|(index, &seed)| {
            let mut scenario = base.clone();
            scenario.seeds = vec![seed];
            SweepRun {
                index,
                variant: String::new(),
                params: Vec::new(),
                seed,
                scenario,
            }
        })
        .collect()
}

/// A plain scenario's runs under `dendritic run --seeds` (`seeds`; all of the file's when
/// `None`): the scenario to save as results/<name>/scenario.toml and the runs to compute now.
///
/// Run indices follow one list of seeds, as a sweep's follow its file: the file's seeds, then
/// the seeds outside the file that earlier `--seeds` runs of the same scenario (the saved
/// scenario.toml, equal to this one but for its seeds) added, then the new ones in the order
/// given. So seeds run apart keep their directories and merge into one summary, and a run of
/// other seeds never replaces an earlier seed's results. Without `--seeds` the list is the
/// file's: runs of earlier extra seeds are then left out of the merge (with a warning) until
/// a `--seeds` run puts them back or `run --fresh` clears them. That later `--seeds` run
/// finds them by their directories (the run directories after the listed seeds' indices, each
/// with the seed its summary records), so a new seed never takes, and overwrites, the index
/// of an extra seed that the saved scenario.toml no longer lists.
pub fn plain_selection(
    base: &Scenario,
    seeds: Option<&[u64]>,
    root: &Path,
) -> (Scenario, Vec<SweepRun>) {
    let Some(seeds) = seeds else {
        return (base.clone(), plain_runs(base));
    };
    let mut all = base.seeds.clone();
    let saved_path = root.join(&base.name).join("scenario.toml");
    if let Ok(text) = std::fs::read_to_string(&saved_path) {
        // A saved scenario this version cannot read (an older schema) is another scenario:
        // its runs are stale either way.
        match Scenario::parse(&text, &saved_path.display().to_string()) {
            Ok(saved) if apart_from_seeds(&saved) == apart_from_seeds(base) => {
                all.extend(saved.seeds.iter().filter(|s| !base.seeds.contains(s)));
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("{e}; its extra seeds are not carried over"),
        }
    }
    // Extra seeds a plain run dropped from scenario.toml: their directories, in index order.
    let runs_dir = root.join(&base.name).join("runs");
    while let Some(seed) = recorded_seed(&runs_dir.join(format!("run{:05}", all.len()))) {
        if all.contains(&seed) {
            break;
        }
        all.push(seed);
    }
    for &s in seeds {
        if !all.contains(&s) {
            all.push(s);
        }
    }
    let mut whole = base.clone();
    whole.seeds = all;
    let runs = plain_runs(&whole)
        .into_iter()
        .filter(|r| seeds.contains(&r.seed))
        .collect();
    (whole, runs)
}

/// The seed a run directory's summary records (None when there is no readable summary).
fn recorded_seed(dir: &Path) -> Option<u64> {
    let df = read_frame(&dir.join("summary.parquet")).ok()?;
    df.column("seed").ok()?.u64().ok()?.get(0)
}

/// A scenario as TOML with its seeds left out: what two invocations' scenarios must share for
/// their runs to be one set.
fn apart_from_seeds(scenario: &Scenario) -> String {
    let mut s = scenario.clone();
    s.seeds.clear();
    toml::to_string(&s).unwrap_or_default()
}

/// The runs of any scenario: [`plain_runs`] without a `[sweep]` table, else its grid and
/// variants expanded (from the scenario as it stands, written out as TOML).
///
/// # Errors
/// A [`ScenarioError`] when a grid point or variant is invalid.
pub fn runs_of(base: &Scenario) -> Result<Vec<SweepRun>, ScenarioError> {
    if base.sweep.is_none() {
        return Ok(plain_runs(base));
    }
    let text = toml::to_string(base).map_err(|e| ScenarioError::Parse {
        file: base.name.clone(),
        message: e.to_string(),
    })?;
    Ok(expand(&text, &base.name)?.1)
}

/// Keeps the runs of the named variants (`dendritic run --variants`); their indices stay the
/// file's, so `--resume` and `merge` see them as the same runs.
///
/// # Errors
/// [`ScenarioError::Invalid`] on key `sweep.variant` naming a variant the file does not have.
pub fn only_variants(
    base: &Scenario,
    runs: Vec<SweepRun>,
    names: &[String],
    file: &str,
) -> Result<Vec<SweepRun>, ScenarioError> {
    let known: Vec<&str> = base
        .sweep
        .iter()
        .flat_map(|s| s.variants.iter().map(|v| v.name.as_str()))
        .collect();
    if let Some(bad) = names.iter().find(|n| !known.contains(&n.as_str())) {
        return Err(ScenarioError::Invalid {
            file: file.into(),
            line: None,
            key: "sweep.variant".into(),
            message: format!("--variants: no variant \"{bad}\"; the file has {known:?}"),
        });
    }
    Ok(runs
        .into_iter()
        .filter(|r| names.contains(&r.variant))
        .collect())
}

fn run_dir(root: &Path, name: &str, run: &SweepRun) -> PathBuf {
    root.join(name).join("runs").join(run.dir_name())
}

/// `runs/<run>.lock`, beside the run's directory.
fn run_lock(dir: &Path) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    dir.with_file_name(name)
}

/// A text cell of a one-row run summary.
fn text_of(df: &DataFrame, column: &str) -> Option<String> {
    df.column(column)
        .ok()
        .and_then(|c| c.str().ok().and_then(|s| s.get(0).map(str::to_string)))
}

/// Whether the run directory holds a finished, successful run with this identity.
fn finished_ok(dir: &Path, identity: &str) -> bool {
    read_frame(&dir.join("summary.parquet"))
        .ok()
        .is_some_and(|df| {
            text_of(&df, "status").as_deref() == Some("ok")
                && text_of(&df, "run_identity").as_deref() == Some(identity)
        })
}

/// Removes everything under results/<name>/ but its lock (`run --fresh`), holding the
/// scenario's lock.
///
/// # Errors
/// The lock held by another process; an I/O error naming the path.
pub fn clear(root: &Path, name: &str) -> DriverResult<usize> {
    let dir = root.join(name);
    if !dir.exists() {
        return Ok(0);
    }
    let _lock = crate::record::lock::exclusive(&dir.join(".lock"))?;
    let mut removed = 0;
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.file_name().is_some_and(|n| n == ".lock") {
            continue;
        }
        if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        }
        .with_context(|| format!("removing {}", path.display()))?;
        removed += 1;
    }
    Ok(removed)
}

/// One run of a sweep under its lock: computed (a panic becomes its error), its row with the
/// swept parameters, identity and commit, written from a plain thread.
fn compute_run(
    base: &Scenario,
    run: &SweepRun,
    root: &Path,
    commit: &str,
    csv: bool,
    pb: &ProgressBar,
) -> (usize, Result<(), String>) {
    let dir = run_dir(root, &base.name, run);
    // Two processes never compute the same run.
    let _run_lock = match crate::record::lock::exclusive(&run_lock(&dir)) {
        Ok(l) => l,
        Err(e) => {
            pb.inc(1);
            return (run.index, Err(e.to_string()));
        }
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        super::execute::run_one_with(
            &run.scenario,
            run.seed,
            None,
            Some(&dir.join("checkpoints")),
        )
    }))
    .unwrap_or_else(|p| {
        Err(RunError::Task {
            seed: run.seed,
            message: format!(
                "panicked: {}",
                p.downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_default()
            ),
        })
    });
    let mut row = flatten_parameters(&run.scenario);
    row.insert("run".into(), Cell::Id(run.index as u64));
    row.insert("seed".into(), Cell::Id(run.seed));
    row.insert("scenario".into(), Cell::Text(base.name.clone()));
    if !run.variant.is_empty() {
        row.insert("variant".into(), Cell::Text(run.variant.clone()));
    }
    row.insert("commit".into(), Cell::Text(commit.to_string()));
    row.insert("run_identity".into(), Cell::Text(run.identity()));
    // Writing goes through polars' own thread pool. Called from a rayon worker, a
    // cross-pool wait lets this worker steal another (hours-long) run meanwhile,
    // delaying this run's files until that one ends; a plain thread's join does not.
    let (status, written) = std::thread::scope(|scope| {
        scope
            .spawn(move || write_run(run, &dir, row, result, csv))
            .join()
            .expect("the writer does not panic")
    });
    pb.inc(1);
    (run.index, written.map_err(|e| e.to_string()).and(status))
}

/// Runs (this shard of) a sweep. Each run's numbers depend only on its scenario and seed, never
/// on the thread count. A run that fails or panics is recorded with its error; the others go on.
pub fn run_sweep(
    base: &Scenario,
    runs: &[SweepRun],
    root: &Path,
    opts: &SweepOptions,
) -> DriverResult<SweepOutcome> {
    let mine: Vec<&SweepRun> = runs
        .iter()
        .filter(|r| opts.shard.map(|(i, n)| r.index % n == i).unwrap_or(true))
        .collect();
    let (todo, skipped): (Vec<&SweepRun>, Vec<&SweepRun>) = mine
        .into_iter()
        .partition(|r| !(opts.resume && finished_ok(&run_dir(root, &base.name, r), &r.identity())));
    let pb = if opts.progress {
        ProgressBar::new(todo.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    pb.set_style(
        ProgressStyle::with_template(
            "{prefix:>16} [{bar:30}] {pos}/{len} runs, {elapsed} (eta {eta})",
        )
        .expect("template")
        .progress_chars("=> "),
    );
    pb.set_prefix(base.name.clone());
    let commit = commit();
    // Shards share the scenario (each writes its own run directories); a whole sweep, which
    // merges at the end, holds it alone.
    let scenario_lock = root.join(&base.name).join(".lock");
    let _lock = if opts.shard.is_some() {
        crate::record::lock::shared(&scenario_lock)?
    } else {
        crate::record::lock::exclusive(&scenario_lock)?
    };
    crate::record::lock::write_atomic(
        &root.join(&base.name).join("scenario.toml"),
        toml::to_string_pretty(base)
            .context("writing the sweep's scenario.toml")?
            .as_bytes(),
    )?;
    let work = || -> Vec<(usize, Result<(), String>)> {
        // One run alone on the pool may split its Euler steps over two threads (the same
        // bits); several keep one thread each.
        crate::solve::set_run_threads(if todo.len() == 1 {
            rayon::current_num_threads()
        } else {
            1
        });
        todo.par_iter()
            .map(|run| compute_run(base, run, root, &commit, opts.csv, &pb))
            .collect()
    };
    let results = match opts.threads {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .context("starting the worker threads")?
            .install(work),
        None => work(),
    };
    pb.finish_and_clear();
    let mut outcome = SweepOutcome {
        skipped: skipped.iter().map(|r| r.index).collect(),
        ..Default::default()
    };
    for (i, r) in results {
        outcome.computed.push(i);
        if let Err(e) = r {
            outcome.failed.push((i, e));
        }
    }
    outcome.computed.sort_unstable();
    Ok(outcome)
}

/// Writes a finished run's files: its time series, then its summary row (last: its presence
/// with status "ok" marks a finished run).
fn write_run(
    run: &SweepRun,
    dir: &Path,
    mut row: crate::record::SummaryRow,
    result: Result<RunOutput, RunError>,
    csv: bool,
) -> (Result<(), String>, DriverResult<()>) {
    let status = match result {
        Ok(out) => {
            row.insert("status".into(), Cell::Text("ok".into()));
            row.insert("error".into(), Cell::Text(String::new()));
            row.extend(out.summary);
            let write = || -> DriverResult<()> {
                let mut ts = out.series.to_dataframe(run.seed)?;
                ts.with_column(Column::new(
                    "run".into(),
                    vec![run.index as u64; ts.height()],
                ))?;
                if !run.variant.is_empty() {
                    // The sweep's variant names the run, as in summary.parquet; what the study
                    // itself called the series (e.g. the learner's kind) becomes `label`.
                    ts.rename("variant", "label".into())?;
                    ts.with_column(Column::new(
                        "variant".into(),
                        vec![run.variant.clone(); ts.height()],
                    ))?;
                }
                write_frame(&mut ts, &dir.join("timeseries.parquet"), csv)?;
                let table = dir.join("table.parquet");
                if out.table.is_empty() {
                    if table.exists() {
                        std::fs::remove_file(&table)
                            .with_context(|| format!("removing {}", table.display()))?;
                    }
                } else {
                    write_frame(&mut summary_dataframe(&out.table)?, &table, csv)?;
                }
                if let Some(w) = &out.weights {
                    let path = dir.join("weights.npz");
                    crate::record::npz::write(&path, w)
                        .with_context(|| format!("writing {}", path.display()))?;
                }
                Ok(())
            };
            write().map_err(|e| e.to_string())
        }
        Err(e) if finished_ok(dir, &run.identity()) => {
            // Nothing new worth keeping: the run's earlier results stay as they were.
            tracing::error!(
                "run {} failed again; its earlier results in {} are kept: {e}",
                run.index,
                dir.display()
            );
            return (Err(e.to_string()), Ok(()));
        }
        Err(e) => {
            row.insert("status".into(), Cell::Text("failed".into()));
            row.insert("error".into(), Cell::Text(e.to_string()));
            Err(e.to_string())
        }
    };
    let written = summary_dataframe(&[row])
        .map_err(DriverError::from)
        .and_then(|mut df| {
            write_frame(&mut df, &dir.join("summary.parquet"), csv).map_err(DriverError::from)
        });
    (status, written)
}

/// Vertically stacks frames whose columns differ (missing columns become nulls), with the
/// columns in sorted order.
fn stack_diagonal(frames: Vec<DataFrame>) -> PolarsResult<DataFrame> {
    let mut names: BTreeMap<String, DataType> = BTreeMap::new();
    for f in &frames {
        for c in f.columns() {
            let dt = c.dtype().clone();
            names
                .entry(c.name().to_string())
                .and_modify(|d| {
                    if *d == DataType::Null {
                        *d = dt.clone()
                    }
                })
                .or_insert(dt);
        }
    }
    let mut out: Option<DataFrame> = None;
    for f in frames {
        let h = f.height();
        let mut cols = Vec::new();
        for (n, dt) in &names {
            let c = match f.column(n) {
                Ok(c) => c.cast(dt)?,
                Err(_) => Column::full_null(n.as_str().into(), h, dt),
            };
            cols.push(c);
        }
        let df = DataFrame::new_infer_height(cols)?;
        match &mut out {
            None => out = Some(df),
            Some(acc) => {
                acc.vstack_mut(&df)?;
            }
        }
    }
    Ok(out.unwrap_or_default())
}

/// Gathers every run under results/<name>/runs/ into results/<name>/summary.parquet (a row per
/// run, sorted by run index) and timeseries.parquet. Shards' run directories can simply be
/// copied into one results root before merging.
pub fn merge(root: &Path, name: &str, csv: bool) -> DriverResult<(DataFrame, DataFrame)> {
    let _lock = crate::record::lock::exclusive(&root.join(name).join(".lock"))?;
    // The current grid: the scenario the runs were launched with.
    let scenario_path = root.join(name).join("scenario.toml");
    let text = std::fs::read_to_string(&scenario_path)
        .with_context(|| format!("reading {}", scenario_path.display()))?;
    let (_, current) = expand(&text, &scenario_path.display().to_string())?;
    let runs = root.join(name).join("runs");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&runs)
        .with_context(|| format!("reading {}", runs.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("summary.parquet").exists())
        .collect();
    dirs.sort();
    let mut summaries = Vec::new();
    let mut series = Vec::new();
    let mut tables = Vec::new();
    let mut stale = Vec::new();
    for d in &dirs {
        let summary_path = d.join("summary.parquet");
        let summary = crate::error::Context::with_context(read_frame(&summary_path), || {
            format!("reading {}", summary_path.display())
        })?;
        let belongs = current.iter().any(|r| {
            run_dir(root, name, r) == *d
                && text_of(&summary, "run_identity").as_deref() == Some(r.identity().as_str())
        });
        if !belongs {
            stale.push(d.display().to_string());
            continue;
        }
        summaries.push(summary);
        for (file, into) in [
            ("timeseries.parquet", &mut series),
            ("table.parquet", &mut tables),
        ] {
            let path = d.join(file);
            if path.exists() {
                into.push(crate::error::Context::with_context(
                    read_frame(&path),
                    || format!("reading {}", path.display()),
                )?);
            }
        }
    }
    if !stale.is_empty() {
        tracing::warn!(
            "{name}: {} run director{} left out of the merge, not of the current grid (its scenario.toml); `run --fresh` clears them: {}",
            stale.len(),
            if stale.len() == 1 { "y" } else { "ies" },
            stale.join(", ")
        );
    }
    let mut summary = stack_diagonal(summaries)?;
    let mut timeseries = stack_diagonal(series)?;
    write_frame(&mut summary, &root.join(name).join("summary.parquet"), csv)?;
    write_frame(
        &mut timeseries,
        &root.join(name).join("timeseries.parquet"),
        csv,
    )?;
    let table = root.join(name).join("table.parquet");
    if tables.is_empty() {
        if table.exists() {
            std::fs::remove_file(&table)
                .with_context(|| format!("removing {}", table.display()))?;
        }
    } else {
        write_frame(&mut stack_diagonal(tables)?, &table, csv)?;
    }
    Ok((summary, timeseries))
}

/// Times the first `runs` runs of a sweep with 1 and with 2 threads (in scratch directories)
/// and writes results/<name>/speedup.csv (`threads,runs,wall_s,runs_per_s`). Returns the
/// speedup of 2 threads over 1.
pub fn measure_speedup(
    base: &Scenario,
    runs: &[SweepRun],
    root: &Path,
    count: usize,
) -> DriverResult<f64> {
    let subset: Vec<SweepRun> = runs.iter().take(count).cloned().collect();
    let mut csv = String::from("threads,runs,wall_s,runs_per_s\n");
    let mut walls = Vec::new();
    for threads in [1, 2] {
        let scratch = std::env::temp_dir().join(format!(
            "dendritic-speedup-{}-{threads}",
            std::process::id()
        ));
        let started = std::time::Instant::now();
        run_sweep(
            base,
            &subset,
            &scratch,
            &SweepOptions {
                threads: Some(threads),
                ..Default::default()
            },
        )?;
        let wall = started.elapsed().as_secs_f64();
        std::fs::remove_dir_all(&scratch).ok();
        csv.push_str(&format!(
            "{threads},{},{wall},{}\n",
            subset.len(),
            subset.len() as f64 / wall
        ));
        walls.push(wall);
    }
    std::fs::create_dir_all(root.join(&base.name))?;
    std::fs::write(root.join(&base.name).join("speedup.csv"), csv)?;
    Ok(walls[0] / walls[1])
}
