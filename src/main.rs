//! `dendritic`: run scenarios, render reports, inspect stability. A table of contents; the work
//! is in the library.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use dendritic::experiment::Scenario;
use dendritic::experiment::scenario::Invalid;

#[derive(Parser)]
#[command(
    name = "dendritic",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("DENDRITIC_COMMIT"), ")"),
    about = "Simulator of the dendritic error microcircuit (Sacramento, Costa, Bengio & Senn, NeurIPS 2018)",
    long_about = "Simulator of the dendritic error microcircuit (Sacramento, Costa, Bengio & Senn, NeurIPS 2018).\n\n\
        Experiments are TOML scenario files (see scenarios/); `run` writes results/<name>/*.parquet,\n\
        `report` renders reports/<name>/index.html from those files alone. A scenario is named by\n\
        its path or, for the embedded defaults, by its name (`dendritic list`)."
)]
struct Cli {
    /// Log level (error, warn, info, debug, trace); also RUST_LOG.
    #[arg(long, global = true, default_value = "info")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every seed of one or more scenarios (in parallel) and write Parquet results.
    Run(RunArgs),
    /// Gather a sweep's runs (e.g. from several shards) into summary.parquet and timeseries.parquet.
    Merge(MergeArgs),
    /// Render reports from results (all scenarios found under --results when none is named).
    Report(ReportArgs),
    /// Time the first runs of a sweep with 1 and 2 threads; writes results/<name>/speedup.csv.
    Speedup(SpeedupArgs),
    /// Write Slurm job scripts for a sweep: an array job (one shard per task, `--resume`, a
    /// shared results directory) and a merge-and-report job that waits for it; print both and
    /// the two sbatch commands.
    Slurm(SlurmArgs),
    /// Compare two results of one scenario: every summary column but the wall times, exactly
    /// (exit status 1 when they differ).
    Compare(CompareArgs),
    /// Write a finished run's trained weights as a NumPy .npz file (by name: w_up_1, w_ip_1,
    /// …, biases b_w_up_1, …), for `init.from` or `numpy.load`.
    ExportWeights(ExportWeightsArgs),
    /// List the embedded default scenarios.
    List,
    /// Print a scenario as the program reads it (defaults filled in).
    Show(ShowArgs),
    /// Eigenvalue-based stability limits of dt for Euler, RK4 and Dopri5 at a scenario's initial state.
    Stability(StabilityArgs),
}

/// The arguments of `dendritic run`.
#[derive(Args)]
struct RunArgs {
    /// Scenario files or embedded scenario names.
    #[arg(required = true)]
    scenarios: Vec<String>,
    /// Results root.
    #[arg(long, default_value = "results")]
    results: PathBuf,
    /// Also write CSV beside the Parquet files.
    #[arg(long)]
    csv: bool,
    /// Run only these seeds, e.g. --seeds 1,2,3. Run indices come from the file's seeds, so
    /// seeds run apart merge into one summary; a sweep takes only the file's seeds, a plain
    /// scenario also others (indexed after the file's and after those earlier --seeds added).
    #[arg(long, value_delimiter = ',')]
    seeds: Option<Vec<u64>>,
    /// Sweeps with `[[sweep.variant]]`: run only these variants, e.g. --variants a,b (the run
    /// indices stay the file's; a name the file does not have is an error naming it).
    #[arg(long, value_delimiter = ',')]
    variants: Option<Vec<String>>,
    /// Hide the progress bar.
    #[arg(long)]
    quiet: bool,
    /// Sweeps: skip runs that already finished (results/<name>/runs/*).
    #[arg(long)]
    resume: bool,
    /// Sweeps: run only shard i of N (runs with index % N == i), e.g. --shard 0/4.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(usize, usize)>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Refuse runs whose estimated memory (× the runs in parallel) exceeds this, e.g. 16G,
    /// 512M (default: the machine's available memory).
    #[arg(long, value_parser = parse_bytes)]
    max_memory: Option<u64>,
    /// Remove the scenario's earlier results (results/<name>/, but not other scenarios')
    /// before running; refused with --shard, which must not remove other shards' runs.
    #[arg(long)]
    fresh: bool,
    /// Override the scenario's time stepper: euler, rk4, exponential_euler, dopri5, ros2, bdf2.
    #[arg(long)]
    method: Option<String>,
    /// Override the adaptive method's relative tolerance (with dopri5).
    #[arg(long)]
    rtol: Option<f64>,
    /// Override the adaptive method's absolute tolerance (with dopri5).
    #[arg(long)]
    atol: Option<f64>,
}

/// The arguments of `dendritic merge`.
#[derive(Args)]
struct MergeArgs {
    /// Scenario name.
    name: String,
    /// Results root.
    #[arg(long, default_value = "results")]
    results: PathBuf,
    /// Also write CSV.
    #[arg(long)]
    csv: bool,
}

/// The arguments of `dendritic report`.
#[derive(Args)]
struct ReportArgs {
    /// Scenario names (default: every results/<name>/ present).
    scenarios: Vec<String>,
    /// Results root.
    #[arg(long, default_value = "results")]
    results: PathBuf,
    /// Reports root.
    #[arg(long, default_value = "reports")]
    reports: PathBuf,
}

/// The arguments of `dendritic speedup`.
#[derive(Args)]
struct SpeedupArgs {
    /// Scenario file or embedded name (with a [sweep]).
    scenario: String,
    /// How many runs to time.
    #[arg(long, default_value_t = 8)]
    runs: usize,
    /// Results root.
    #[arg(long, default_value = "results")]
    results: PathBuf,
}

/// The arguments of `dendritic slurm`.
#[derive(Args)]
struct SlurmArgs {
    /// Scenario file or embedded name (with a [sweep], or several seeds).
    scenario: String,
    /// Array tasks (= shards).
    #[arg(long)]
    array: usize,
    /// Partition (default: the cluster's).
    #[arg(long)]
    partition: Option<String>,
    /// Wall-time limit of each array task, [D-]HH:MM:SS.
    #[arg(long, default_value = "02:00:00")]
    time: String,
    /// CPUs per task (also the task's --threads).
    #[arg(long, default_value_t = 1)]
    cpus_per_task: usize,
    /// Shared results root, as the jobs see it.
    #[arg(long, default_value = "results")]
    results: String,
    /// Reports root for the merge job.
    #[arg(long, default_value = "reports")]
    reports: String,
    /// The dendritic binary, as the jobs call it.
    #[arg(long, default_value = "dendritic")]
    binary: String,
    /// Where the scripts and the jobs' output files go.
    #[arg(long, default_value = "slurm")]
    dir: String,
}

/// The arguments of `dendritic compare`.
#[derive(Args)]
struct CompareArgs {
    /// Scenario name.
    name: String,
    /// One results root.
    #[arg(long)]
    results: PathBuf,
    /// The other.
    #[arg(long)]
    against: PathBuf,
    /// Columns left out (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "wall_time_s")]
    ignore: Vec<String>,
}

/// The arguments of `dendritic export-weights`.
#[derive(Args)]
struct ExportWeightsArgs {
    /// Scenario name.
    name: String,
    /// The run's seed (the one run with it; a sweep with variants needs --run).
    #[arg(long)]
    seed: Option<u64>,
    /// The run's index (a sweep).
    #[arg(long)]
    run: Option<usize>,
    /// Results root.
    #[arg(long, default_value = "results")]
    results: PathBuf,
    /// The file to write.
    #[arg(long)]
    out: PathBuf,
}

/// The arguments of `dendritic show`.
#[derive(Args)]
struct ShowArgs {
    /// Scenario file or embedded name.
    scenario: String,
}

/// The arguments of `dendritic stability`.
#[derive(Args)]
struct StabilityArgs {
    /// Scenario file or embedded name.
    scenario: String,
    /// Seed for the initial weights.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// `run --method/--rtol/--atol`: the time stepper chosen on the command line.
struct SolverOverride {
    method: Option<dendritic::solve::MethodKind>,
    rtol: Option<f64>,
    atol: Option<f64>,
}

impl SolverOverride {
    fn parse(method: Option<&str>, rtol: Option<f64>, atol: Option<f64>) -> anyhow::Result<Self> {
        use dendritic::solve::MethodKind;
        let method = match method {
            None => None,
            Some(m) => Some(MethodKind::from_name(m).ok_or_else(|| {
                let names: Vec<_> = MethodKind::ALL.iter().map(|k| k.name()).collect();
                anyhow::anyhow!(
                    "--method {m}: unknown method; use one of {}",
                    names.join(", ")
                )
            })?),
        };
        Ok(SolverOverride { method, rtol, atol })
    }

    /// Sets the scenario's method and tolerances and checks the result as a file would be.
    fn apply(&self, scenario: &mut Scenario, file: &str) -> anyhow::Result<()> {
        if self.method.is_none() && self.rtol.is_none() && self.atol.is_none() {
            return Ok(());
        }
        if let Some(m) = self.method {
            scenario.method = m;
            if !m.is_adaptive() {
                scenario.rtol = None;
                scenario.atol = None;
            }
        }
        if self.rtol.is_some() {
            scenario.rtol = self.rtol;
        }
        if self.atol.is_some() {
            scenario.atol = self.atol;
        }
        scenario.check().map_err(|Invalid { key, message }| {
            anyhow::anyhow!("scenario '{file}' with the command line's solver: `{key}`: {message}")
        })
    }
}

fn human_bytes(b: u64) -> String {
    let b = b as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.0} kB", b / 1e3)
    }
}

fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, scale) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (
            &t[..i],
            match c.to_ascii_uppercase() {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return Err(format!("'{s}': unit must be K, M, G or T")),
            },
        ),
        _ => (t, 1),
    };
    let v: f64 = digits
        .parse()
        .map_err(|_| format!("'{s}' is not a size (e.g. 16G, 512M)"))?;
    if !(v > 0.0 && v.is_finite()) {
        return Err(format!("'{s}' must be positive"));
    }
    Ok((v * scale as f64) as u64)
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("expected i/N, got '{s}'"))?;
    let (i, n): (usize, usize) = (
        i.parse().map_err(|_| format!("bad shard index '{i}'"))?,
        n.parse().map_err(|_| format!("bad shard count '{n}'"))?,
    );
    if n == 0 || i >= n {
        return Err(format!("shard {i}/{n}: need 0 ≤ i < N"));
    }
    Ok((i, n))
}

fn main() {
    // A bad command line is an error like any other (exit 1); --help and --version are not.
    let cli = Cli::try_parse().unwrap_or_else(|e| {
        use clap::error::ErrorKind;
        match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => e.exit(),
            _ => {
                let _ = e.print();
                std::process::exit(1);
            }
        }
    });
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cli.log));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    if let Err(e) = run(cli) {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Merge(args) => cmd_merge(args),
        Command::Run(args) => cmd_run(args),
        Command::Report(args) => cmd_report(args),
        Command::Speedup(args) => cmd_speedup(args),
        Command::Slurm(args) => cmd_slurm(args),
        Command::Compare(args) => cmd_compare(args),
        Command::ExportWeights(args) => cmd_export_weights(args),
        Command::List => cmd_list(),
        Command::Show(args) => cmd_show(args),
        Command::Stability(args) => cmd_stability(args),
    }
}

/// `dendritic merge`.
fn cmd_merge(args: MergeArgs) -> anyhow::Result<()> {
    let MergeArgs { name, results, csv } = args;
    dendritic::report::check_name(&name)?;
    let (summary, _) = dendritic::experiment::sweep::merge(&results, &name, csv)?;
    tracing::info!(
        "{name}: merged {} runs into {}",
        summary.height(),
        results.join(&name).display()
    );
    Ok(())
}

/// `dendritic run`.
fn cmd_run(args: RunArgs) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    check_run_args(&args, cores)?;
    let max_memory = args
        .max_memory
        .or_else(dendritic::experiment::available_memory);
    let solver = SolverOverride::parse(args.method.as_deref(), args.rtol, args.atol)?;
    if let Some(t) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .ok();
    }
    let mut failed = 0;
    for name in &args.scenarios {
        let mut scenario = Scenario::load(name)?;
        solver.apply(&mut scenario, name)?;
        if let Some(limit) = max_memory {
            let runs = args.seeds.as_ref().map_or(scenario.seeds.len(), Vec::len);
            check_memory(&scenario, name, runs, limit, args.threads.unwrap_or(cores))?;
        }
        if args.fresh {
            let removed = dendritic::experiment::sweep::clear(&args.results, &scenario.name)?;
            tracing::info!(
                "--fresh: removed {removed} entr(y/ies) of {}",
                args.results.join(&scenario.name).display()
            );
        }
        failed += run_runs(name, &scenario, &args, &solver)?;
    }
    if failed > 0 {
        anyhow::bail!("{failed} run(s) failed; their errors are in the summaries");
    }
    Ok(())
}

/// What `run` refuses before anything runs: threads beyond 4× the cores, `--fresh` with
/// `--shard`, a seed given twice.
fn check_run_args(args: &RunArgs, cores: usize) -> anyhow::Result<()> {
    if let Some(t) = args.threads
        && (t == 0 || t > 4 * cores)
    {
        anyhow::bail!(
            "--threads {t}: use 1 … {} (this machine has {cores} cores)",
            4 * cores
        );
    }
    if args.fresh && args.shard.is_some() {
        anyhow::bail!(
            "--fresh with --shard would remove the other shards' runs; clear once, before the shards start"
        );
    }
    if let Some(s) = &args.seeds {
        let mut seen = std::collections::BTreeSet::new();
        if let Some(d) = s.iter().find(|x| !seen.insert(**x)) {
            anyhow::bail!("--seeds: seed {d} appears twice");
        }
    }
    Ok(())
}

/// Refuses a scenario whose runs, `threads` of them in parallel, need more than `limit` bytes.
fn check_memory(
    scenario: &Scenario,
    name: &str,
    runs: usize,
    limit: u64,
    threads: usize,
) -> anyhow::Result<()> {
    let per_run = dendritic::experiment::memory_estimate(scenario);
    let parallel = threads.min(runs).max(1) as u64;
    let need = per_run.saturating_mul(parallel);
    if need > limit {
        anyhow::bail!(
            "scenario '{name}', key `network.sizes` = {:?}: the runs need about {} ({} each × {parallel} in parallel), more than the {} allowed (--max-memory, default the machine's available memory); use smaller sizes or fewer --threads",
            scenario.network.sizes,
            human_bytes(need),
            human_bytes(per_run),
            human_bytes(limit)
        );
    }
    Ok(())
}

/// A scenario's runs through the one executor (one result directory per run, resumable,
/// shardable): every seed of a plain scenario (`--seeds`: `sweep::plain_selection`), every
/// variant × grid point × seed of a sweep (`--seeds` picks among the file's); merged unless
/// sharded.
/// Returns the failed runs.
fn run_runs(
    name: &str,
    scenario: &Scenario,
    args: &RunArgs,
    solver: &SolverOverride,
) -> anyhow::Result<usize> {
    use dendritic::experiment::scenario::expand;
    use dendritic::experiment::sweep::{SweepOptions, only_seeds, plain_selection, run_sweep};
    let (base, runs) = if scenario.sweep.is_none() {
        if let Some(v) = &args.variants {
            anyhow::bail!(
                "--variants {}: scenario '{name}' has no [[sweep.variant]]",
                v.join(",")
            );
        }
        plain_selection(scenario, args.seeds.as_deref(), &args.results)
    } else {
        // Expanded from the file's text, so that errors name its lines.
        let text = dendritic::experiment::scenario::scenario_text(name)?;
        let (mut base, mut runs) = expand(&text, name)?;
        solver.apply(&mut base, name)?;
        for run in &mut runs {
            solver.apply(&mut run.scenario, name)?;
        }
        if let Some(s) = &args.seeds {
            runs = only_seeds(&base, runs, s, name)?;
        }
        if let Some(v) = &args.variants {
            runs = dendritic::experiment::sweep::only_variants(&base, runs, v, name)?;
        }
        (base, runs)
    };
    tracing::info!(
        "running {}: {} run(s), method {} ({})",
        base.name,
        runs.len(),
        base.method.name(),
        base.description
    );
    let opts = SweepOptions {
        threads: args.threads,
        resume: args.resume,
        shard: args.shard,
        csv: args.csv,
        progress: !args.quiet,
    };
    let started = std::time::Instant::now();
    let out = run_sweep(&base, &runs, &args.results, &opts)
        .with_context(|| format!("running scenario '{}'", base.name))?;
    tracing::info!(
        "{}: {} runs computed, {} skipped, {} failed in {:.1} s, results in {}",
        base.name,
        out.computed.len(),
        out.skipped.len(),
        out.failed.len(),
        started.elapsed().as_secs_f64(),
        args.results.join(&base.name).display()
    );
    for (i, e) in &out.failed {
        let seed = runs.iter().find(|r| r.index == *i).map_or(0, |r| r.seed);
        tracing::error!("{} run {i} (seed {seed}) failed: {e}", base.name);
    }
    if args.shard.is_none() {
        dendritic::experiment::finish(&args.results, &base.name, &out, args.csv)?;
    }
    Ok(out.failed.len())
}

/// `dendritic report`.
fn cmd_report(args: ReportArgs) -> anyhow::Result<()> {
    let ReportArgs {
        scenarios,
        results,
        reports,
    } = args;
    let written = dendritic::report::render(&scenarios, &results, &reports)?;
    for page in written {
        tracing::info!("wrote {}", page.display());
    }
    Ok(())
}

/// `dendritic speedup`.
fn cmd_speedup(args: SpeedupArgs) -> anyhow::Result<()> {
    let SpeedupArgs {
        scenario,
        runs,
        results,
    } = args;
    let text = dendritic::experiment::scenario::scenario_text(&scenario)?;
    let (base, all) = dendritic::experiment::scenario::expand(&text, &scenario)?;
    let speedup = dendritic::experiment::sweep::measure_speedup(&base, &all, &results, runs)?;
    println!("{}: {runs} runs, 2-thread speedup {speedup:.2}×", base.name);
    Ok(())
}

/// `dendritic slurm`.
fn cmd_slurm(args: SlurmArgs) -> anyhow::Result<()> {
    let SlurmArgs {
        scenario,
        array,
        partition,
        time,
        cpus_per_task,
        results,
        reports,
        binary,
        dir,
    } = args;
    let text = dendritic::experiment::scenario::scenario_text(&scenario)?;
    let (base, runs) = dendritic::experiment::scenario::expand(&text, &scenario)?;
    let job = dendritic::experiment::slurm::SlurmJob {
        scenario,
        name: base.name,
        array,
        runs: runs.len(),
        partition,
        time,
        cpus_per_task,
        results,
        reports,
        binary,
        dir,
    };
    job.check()?;
    job.write()?;
    print!("{}", job.render());
    Ok(())
}

/// `dendritic compare`.
fn cmd_compare(args: CompareArgs) -> anyhow::Result<()> {
    let CompareArgs {
        name,
        results,
        against,
        ignore,
    } = args;
    let read = |root: &std::path::Path| {
        let p = root.join(&name).join("summary.parquet");
        dendritic::record::read_frame(&p).with_context(|| format!("reading {}", p.display()))
    };
    let (a, b) = (read(&results)?, read(&against)?);
    let ignore: Vec<&str> = ignore.iter().map(String::as_str).collect();
    let diff = dendritic::record::compare::differences(&a, &b, &ignore)?;
    if diff.is_empty() {
        println!(
            "{name}: {} and {} agree in every column but {} ({} rows)",
            results.display(),
            against.display(),
            ignore.join(", "),
            a.height()
        );
        Ok(())
    } else {
        for d in diff.iter().take(50) {
            println!("{d}");
        }
        anyhow::bail!(
            "{name}: {} difference(s) between {} and {}",
            diff.len(),
            results.display(),
            against.display()
        )
    }
}

/// `dendritic export-weights`.
fn cmd_export_weights(args: ExportWeightsArgs) -> anyhow::Result<()> {
    let ExportWeightsArgs {
        name,
        seed,
        run,
        results,
        out,
    } = args;
    dendritic::report::check_name(&name)?;
    let dir = results.join(&name);
    let run_weights = |r: u64| {
        dir.join("runs")
            .join(format!("run{r:05}"))
            .join("weights.npz")
    };
    let from = match (seed, run) {
        (Some(s), None) => run_weights(run_of_seed(&dir, s)?),
        (None, Some(r)) => run_weights(r as u64),
        _ => anyhow::bail!(
            "export-weights: give --seed S or --run N (a run index of the scenario's summary)"
        ),
    };
    if !from.exists() {
        anyhow::bail!(
            "{}: no weights there (runs of the MNIST and disinhibition studies write them when they finish)",
            from.display()
        );
    }
    let arrays = dendritic::record::npz::read(&from).map_err(anyhow::Error::msg)?;
    dendritic::record::npz::write(&out, &arrays)
        .with_context(|| format!("writing {}", out.display()))?;
    for (k, a) in &arrays {
        println!("{k}: {:?}", a.shape);
    }
    println!(
        "wrote {} ({} arrays, from {})",
        out.display(),
        arrays.len(),
        from.display()
    );
    Ok(())
}

/// The index of the one run of seed `s` in a scenario's merged summary (an error when none
/// or several runs, e.g. variants of a sweep, have it: then `--run` names one).
fn run_of_seed(dir: &std::path::Path, s: u64) -> anyhow::Result<u64> {
    let path = dir.join("summary.parquet");
    let summary = dendritic::record::read_frame(&path)
        .with_context(|| format!("reading {}", path.display()))?;
    let column = |name: &str| -> anyhow::Result<Vec<Option<u64>>> {
        let c = summary
            .column(name)
            .and_then(|c| c.cast(&polars::prelude::DataType::UInt64))
            .with_context(|| format!("{}: no column `{name}`", path.display()))?;
        Ok(c.u64()?.iter().collect())
    };
    let runs: Vec<u64> = column("seed")?
        .into_iter()
        .zip(column("run")?)
        .filter_map(|(seed, run)| (seed == Some(s)).then_some(run).flatten())
        .collect();
    match runs.as_slice() {
        [r] => Ok(*r),
        [] => anyhow::bail!("{}: no run of seed {s}", path.display()),
        many => anyhow::bail!(
            "{}: runs {many:?} all have seed {s} (variants of a sweep); name one with --run",
            path.display()
        ),
    }
}

/// `dendritic list`.
fn cmd_list() -> anyhow::Result<()> {
    for (name, text) in dendritic::experiment::scenario::EMBEDDED {
        let s = Scenario::parse(text, name)?;
        println!("{name:<20} {}", s.description);
    }
    Ok(())
}

/// `dendritic show`.
fn cmd_show(args: ShowArgs) -> anyhow::Result<()> {
    let ShowArgs { scenario } = args;
    let s = Scenario::load(&scenario)?;
    print!("{}", toml::to_string_pretty(&s)?);
    Ok(())
}

/// `dendritic stability`.
fn cmd_stability(args: StabilityArgs) -> anyhow::Result<()> {
    let StabilityArgs { scenario, seed } = args;
    use dendritic::analysis::stability::{dt_limit, eigenvalues};
    use dendritic::model::{Drive, Network};
    use dendritic::solve::MethodKind;
    let s = Scenario::load(&scenario)?;
    let mut config = s.network.clone();
    config.noise.sigma = 0.0;
    let net = Network::new(config, 1)?;
    let mut state = net.zero_state();
    net.initialise(
        &mut state,
        &s.init,
        &mut dendritic::rng::Rng::derived(seed, dendritic::experiment::stream::WEIGHTS),
    );
    let input = ndarray::Array2::from_elem((1, net.layout.sizes[0]), 0.5);
    let drive = Drive::free(input.view());
    let mut ws = dendritic::model::Workspace::new(&net);
    net.bottom_up_pass(&mut state, &drive, &mut ws);
    let eig = eigenvalues(&net, &state, &drive, 0);
    let slowest = eig.iter().map(|l| l.re).fold(f64::NEG_INFINITY, f64::max);
    let fastest = eig.iter().map(|l| l.norm()).fold(0.0, f64::max);
    println!(
        "{}: {} potentials per sample, linearised at the bottom-up state for inputs 0.5",
        s.name,
        eig.len()
    );
    println!("  eigenvalues: max Re = {slowest:.4} /ms, max |λ| = {fastest:.4} /ms");
    for kind in [MethodKind::Euler, MethodKind::Rk4, MethodKind::Dopri5] {
        println!(
            "  {:<7} stable for dt < {:.4} ms",
            kind.name(),
            dt_limit(kind, &net, &state, &drive, 0)
        );
    }
    println!("  ros2, bdf2: L-stable (no step limit)");
    println!("  scenario dt = {} ms", s.protocol.dt);
    Ok(())
}
