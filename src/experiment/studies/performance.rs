//! The performance study (issue 17): the Euler step of the full microcircuit ODE and the
//! MNIST training epoch, against the NumPy reference drivers and the machine's memory
//! bandwidth, all measured in one run, one thread, medians of repetitions.
//!
//! Rows (summary.parquet, then reports/performance/summary.csv):
//! - `euler_step_us_small`, `euler_step_us_large`: one Euler–Maruyama step, batch 1, of the
//!   small and the large network with the model settings of `numpy_step.py` (the scenario's
//!   `[network]`), plasticity on everywhere but the top-down weights;
//! - `euler_step_us_per_image_large_b10`: the large network at `batch` images side by side,
//!   per image;
//! - `numpy_step_us_small`, `numpy_step_us_large` and `speedup_vs_numpy_*` when python3 with
//!   numpy, scipy and threadpoolctl is there (the text column `numpy_status` says why not);
//! - `triad_gb_s` (arrays ≥ 4× the last-level cache) and `large_step_bandwidth_fraction`, the
//!   bytes a batch-1 step must move, 2·8·(plastic weights + traces) + 8·fixed weights, ÷ the
//!   step time ÷ the triad bandwidth;
//! - `twopass_epoch_s`, `backprop_epoch_s` (training only, `epoch_images` random images, the
//!   MNIST study's `microcircuit` and `backprop` variants) and `numpy_backprop_epoch_s`
//!   (`numpy_mlp.py`, float64, with the malloc tunables its header names).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use indicatif::ProgressBar;
use ndarray::Array2;

use super::mnist::build_learner;
use crate::experiment::protocol::{RunError, RunOutput, initial_network, num};
use crate::experiment::scenario::{Performance, Scenario};
use crate::model::{Drive, Network, State};
use crate::record::{Cell, SummaryRow, TimeSeries};
use crate::rng::Rng;
use crate::solve::{Euler, Simulation};
use crate::task::minibatch::Minibatches;

/// The median of a non-empty sample.
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// "lo–hi unit" over a non-empty sample, with `digits` decimals: the per-repetition range
/// beside a median, so that a reader can tell a miss from the host's noise.
pub fn spread(xs: &[f64], digits: usize, unit: &str) -> String {
    let (lo, hi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    format!("{lo:.digits$}–{hi:.digits$}{unit}")
}

/// The per-repetition ratios a / b.
fn ratios(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x / y).collect()
}

/// A network of the scenario's equations with other layer sizes, every plastic group at `eta`
/// (top-down weights fixed), weights U(±1/√n_pre) as numpy_step.py, potentials at rest.
fn step_network(
    scenario: &Scenario,
    sizes: &[usize],
    eta: f64,
    batch: usize,
    seed: u64,
) -> Result<(Network, State), RunError> {
    let mut config = scenario.network.clone();
    let n = sizes.len() - 1;
    config.sizes = sizes.to_vec();
    config.plasticity.eta_up = vec![eta; n];
    config.plasticity.eta_ip = vec![eta; n - 1];
    config.plasticity.eta_pi = vec![eta; n - 1];
    config.plasticity.eta_down = vec![0.0; n - 1];
    config.plasticity.eta_scale = 1.0;
    config.gate = Vec::new();
    let net = Network::new(config, batch).map_err(|source| RunError::Model { seed, source })?;
    let mut state = net.zero_state();
    let mut rng = Rng::derived(seed, crate::experiment::protocol::stream::WEIGHTS);
    for syn in &net.layout.synapses {
        let bound = 1.0 / (syn.w.cols as f64).sqrt();
        state
            .view_mut(&syn.w)
            .map_inplace(|w| *w = rng.uniform_in(-bound, bound));
    }
    Ok((net, state))
}

/// Bytes a batch-1 Euler step must move: every plastic weight and its trace read and written
/// once, every fixed weight read once.
pub fn step_bytes(net: &Network) -> f64 {
    let mut bytes = 0.0;
    for syn in &net.layout.synapses {
        let len = syn.w.len() as f64;
        bytes += match (syn.is_plastic(), syn.trace_w.is_some()) {
            (true, true) => 2.0 * 8.0 * 2.0 * len,
            (true, false) => 2.0 * 8.0 * len,
            (false, _) => 8.0 * len,
        };
    }
    bytes
}

/// One measured Euler step's network, state and stepper, kept between repetitions (so that
/// repetitions can be interleaved with NumPy's).
struct StepBench {
    net: Network,
    state: State,
    euler: Euler,
    input: Array2<f64>,
    target: Array2<f64>,
    batch: usize,
    dt: f64,
    seed: u64,
}

impl StepBench {
    /// The network of `sizes` at `batch`, each large synapse group's rows split over `threads`
    /// (1 or 2; [`Euler::set_threads`]), warmed up by 50 steps.
    fn new(
        scenario: &Scenario,
        perf: &Performance,
        sizes: &[usize],
        batch: usize,
        seed: u64,
        threads: usize,
    ) -> Result<StepBench, RunError> {
        let (net, state) = step_network(scenario, sizes, perf.eta, batch, seed)?;
        let mut rng = Rng::derived(seed, crate::experiment::protocol::stream::TASK);
        let n_out = *sizes.last().expect("sizes");
        let input = Array2::from_shape_fn((batch, sizes[0]), |_| rng.uniform());
        let target = Array2::from_shape_fn((batch, n_out), |_| rng.uniform());
        let mut euler = Euler::new(&net, seed);
        euler.set_threads(threads);
        let mut bench = StepBench {
            net,
            state,
            euler,
            input,
            target,
            batch,
            dt: scenario.protocol.dt,
            seed,
        };
        bench.time(50)?;
        Ok(bench)
    }

    /// µs per step (per image when batch > 1) of `steps` steps.
    fn time(&mut self, steps: usize) -> Result<f64, RunError> {
        let seed = self.seed;
        let fail = |e| RunError::Solve { seed, source: e };
        let drive = Drive::nudged(self.input.view(), self.target.view());
        let mut sim =
            Simulation::new(&self.net, &mut self.state, &mut self.euler, self.dt).map_err(fail)?;
        let t0 = Instant::now();
        sim.run(steps as u64, &drive, &mut []).map_err(fail)?;
        Ok(t0.elapsed().as_secs_f64() * 1e6 / (steps * self.batch) as f64)
    }
}

/// The size of the last-level cache in bytes (from sysfs), or 32 MiB.
fn last_level_cache_bytes() -> usize {
    let mut best = 0usize;
    for i in 0..8 {
        let dir = format!("/sys/devices/system/cpu/cpu0/cache/index{i}");
        let Ok(size) = std::fs::read_to_string(format!("{dir}/size")) else {
            continue;
        };
        let s = size.trim();
        let bytes = if let Some(k) = s.strip_suffix('K') {
            k.parse::<usize>().ok().map(|k| k * 1024)
        } else if let Some(m) = s.strip_suffix('M') {
            m.parse::<usize>().ok().map(|m| m * 1024 * 1024)
        } else {
            s.parse().ok()
        };
        best = best.max(bytes.unwrap_or(0));
    }
    if best == 0 { 32 << 20 } else { best }
}

/// STREAM's triad a = b + s c over arrays of ≥ 4× the last-level cache each (24 bytes per
/// element: two reads, one write), median GB/s over `reps`.
pub fn triad_gb_s(reps: usize) -> f64 {
    let n = (4 * last_level_cache_bytes() / 8).max(1 << 20);
    let mut a = vec![0.0f64; n];
    let b: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let c: Vec<f64> = (0..n).map(|i| (n - i) as f64).collect();
    let s = std::hint::black_box(3.0);
    let mut rates = Vec::new();
    for _ in 0..reps + 1 {
        let t0 = Instant::now();
        for ((a, &b), &c) in a.iter_mut().zip(&b).zip(&c) {
            *a = b + s * c;
        }
        std::hint::black_box(&mut a);
        rates.push(24.0 * n as f64 / t0.elapsed().as_secs_f64() / 1e9);
    }
    median(&rates[1..])
}

/// One variant of the MNIST scenario, set up for timed training epochs.
struct EpochBench {
    variant: String,
    learner: Box<dyn crate::learn::Learner>,
    batch: usize,
    pixels: usize,
    /// The minibatch order's stream.
    order: Rng,
}

/// Builds the learner of one variant of the MNIST scenario (from its start, as a run would).
fn epoch_bench(perf: &Performance, variant: &str, seed: u64) -> Result<EpochBench, RunError> {
    let task = |message: String| RunError::Task { seed, message };
    let text = crate::experiment::scenario::scenario_text(&perf.mnist_scenario)
        .map_err(|e| task(e.to_string()))?;
    let file = format!("<{}>", perf.mnist_scenario);
    let (_, runs) =
        crate::experiment::scenario::expand(&text, &file).map_err(|e| task(e.to_string()))?;
    let run = runs
        .into_iter()
        .find(|r| r.variant == variant)
        .ok_or_else(|| {
            task(format!(
                "'{}' has no variant '{variant}'",
                perf.mnist_scenario
            ))
        })?;
    let mnist = run.scenario;
    let crate::experiment::scenario::StudyConfig::Mnist(training) = &mnist.study else {
        return Err(task(format!(
            "'{}' is a {} scenario, not an mnist one",
            perf.mnist_scenario,
            mnist.study.kind().name()
        )));
    };
    let batch = training.batch;
    let (net, state) = initial_network(mnist.network.clone(), batch, &mnist, seed)?;
    let (_, learner) = build_learner(&mnist, training, net, state, seed)?;
    Ok(EpochBench {
        variant: variant.into(),
        learner,
        batch,
        pixels: mnist.network.sizes[0],
        order: Rng::derived(seed, crate::experiment::protocol::stream::PATTERNS),
    })
}

/// Seconds of one training epoch: the learner's steps and its final check, which adds the
/// weight change the two-pass learner holds back from the last minibatch (shuffling and
/// filling the minibatches excluded).
fn timed_epoch(
    bench: &mut EpochBench,
    batches: &mut Minibatches,
    seed: u64,
) -> Result<f64, RunError> {
    batches.shuffle(&mut bench.order);
    let mut t = 0.0;
    for step in 0..batches.steps() {
        batches.fill(step);
        let t0 = Instant::now();
        bench
            .learner
            .step(&batches.x, &batches.target)
            .map_err(|m| RunError::Task {
                seed,
                message: format!("{}: {m}", bench.variant),
            })?;
        t += t0.elapsed().as_secs_f64();
    }
    let t0 = Instant::now();
    bench
        .learner
        .check(0.0)
        .map_err(|source| RunError::Learn { seed, source })?;
    Ok(t + t0.elapsed().as_secs_f64())
}

/// The training epochs of the MNIST scenario's `microcircuit` (two-pass) and `backprop`
/// variants on `epoch_images` random images (U[0, 1) pixels, uniform labels, as numpy_mlp.py),
/// and numpy_mlp.py's epoch, **interleaved**: each repetition times our two epochs and then
/// one of NumPy's, so that the ratio rows are medians of ratios measured minutes apart at
/// most, not of medians taken at different times on a shared host (where NumPy's epoch alone
/// varied 7.4–9.3 s over one hour).
fn epochs(
    perf: &Performance,
    seed: u64,
    progress: Option<&ProgressBar>,
    s: &mut SummaryRow,
) -> Result<(), RunError> {
    let mut two_pass = epoch_bench(perf, "microcircuit", seed)?;
    let mut backprop = epoch_bench(perf, "backprop", seed)?;
    let mut rng = Rng::derived(seed, crate::experiment::protocol::stream::TASK);
    let images = Array2::from_shape_fn((perf.epoch_images, two_pass.pixels), |_| rng.uniform());
    let labels: Vec<u8> = (0..perf.epoch_images)
        .map(|_| rng.below(10) as u8)
        .collect();
    let mut tp_batches = Minibatches::new(&images, &labels, two_pass.batch, (0.1, 0.8));
    let mut bp_batches = Minibatches::new(&images, &labels, backprop.batch, (0.1, 0.8));
    let dir = Path::new(&perf.numpy_dir);
    let mut numpy: Result<Vec<f64>, String> = if perf.epoch_images == 55_000 {
        Ok(Vec::new())
    } else {
        Err("numpy_mlp.py trains 55,000 images, the scenario another number".into())
    };
    let (mut tp, mut bp) = (Vec::new(), Vec::new());
    for _ in 0..perf.epoch_repetitions {
        tp.push(timed_epoch(&mut two_pass, &mut tp_batches, seed)?);
        bp.push(timed_epoch(&mut backprop, &mut bp_batches, seed)?);
        if let Ok(times) = &mut numpy {
            match numpy_epoch_s(dir, 1) {
                Ok(t) => times.push(t),
                Err(e) => numpy = Err(e),
            }
        }
        if let Some(pb) = progress {
            pb.inc(2);
        }
    }
    num(s, "twopass_epoch_s", median(&tp));
    num(s, "backprop_epoch_s", median(&bp));
    match numpy {
        Ok(np) => {
            let (tp_np, bp_np) = (ratios(&tp, &np), ratios(&bp, &np));
            num(s, "numpy_backprop_epoch_s", median(&np));
            num(s, "twopass_over_numpy_backprop", median(&tp_np));
            num(s, "backprop_over_numpy_backprop", median(&bp_np));
            text(
                s,
                "epoch_spread",
                format!(
                    "two-pass {}, backprop {}, NumPy {} over {} interleaved repetitions \
                     (per repetition, two-pass ÷ NumPy {}, backprop ÷ NumPy {})",
                    spread(&tp, 2, "s"),
                    spread(&bp, 2, "s"),
                    spread(&np, 2, "s"),
                    np.len(),
                    spread(&tp_np, 3, ""),
                    spread(&bp_np, 3, ""),
                ),
            );
            text(s, "numpy_epoch_status", "measured".into());
        }
        Err(e) => text(s, "numpy_epoch_status", format!("not measured: {e}")),
    }
    Ok(())
}

/// The Python interpreter for the NumPy drivers: $DENDRITIC_PYTHON, else python3.
fn python() -> String {
    std::env::var("DENDRITIC_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// numpy_mlp.py as shipped (../shared/bench) fails with UnboundLocalError: its `epoch()`
/// assigns the module-level weights (`W1 -= …`) without declaring them global. We run it with
/// that one declaration added at the top of `epoch()`, and nothing else changed.
const MLP_FIX: (&str, &str) = (
    "def epoch(n_batches):\n",
    "def epoch(n_batches):\n    global W1, b1, W2, b2, W3, b3\n",
);

/// Runs a NumPy driver and returns its JSON lines; `fix` replaces the first occurrence of a
/// line of the script (unless the script already contains the replacement).
fn run_python(
    dir: &Path,
    script: &str,
    args: &[&str],
    env: &[(&str, &str)],
    fix: Option<(&str, &str)>,
) -> Result<Vec<String>, String> {
    let path = dir.join(script);
    if !path.exists() {
        return Err(format!("{} not found", path.display()));
    }
    let mut cmd = Command::new(python());
    match fix {
        None => {
            cmd.arg(&path);
        }
        Some((from, to)) => {
            let runner = format!(
                "import sys\npath = sys.argv[1]\nsrc = open(path).read()\nif {to:?} not in src:\n    src = src.replace({from:?}, {to:?}, 1)\nsys.argv = sys.argv[1:]\nexec(compile(src, path, 'exec'), {{'__name__': '__main__', '__file__': path}})\n"
            );
            cmd.arg("-c").arg(runner).arg(&path);
        }
    }
    cmd.args(args).env("OPENBLAS_NUM_THREADS", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start {}: {e}", python()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("").to_string();
        return Err(format!("{script} failed: {last}"));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect())
}

/// The number after `"key": ` in a JSON line.
fn json_number(line: &str, key: &str) -> Option<f64> {
    let pat = format!("\"{key}\": ");
    let rest = &line[line.find(&pat)? + pat.len()..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// The text of `"key": [...]` or `"key": "..."` in a JSON line.
fn json_raw(line: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\": ");
    let rest = &line[line.find(&pat)? + pat.len()..];
    let end = if rest.starts_with('[') {
        rest.find(']')? + 1
    } else {
        rest.find([',', '}']).unwrap_or(rest.len())
    };
    Some(rest[..end].trim().to_string())
}

/// Median µs per step with plasticity and noise of numpy_step.py, and its BLAS.
fn numpy_step_us(
    dir: &Path,
    sizes: &[usize],
    steps: usize,
    reps: usize,
) -> Result<(f64, String), String> {
    let dims = sizes
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join("-");
    let lines = run_python(
        dir,
        "numpy_step.py",
        &[&dims, "1", &steps.to_string(), &reps.to_string()],
        &[],
        None,
    )?;
    let learn: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("\"plasticity\": true"))
        .collect();
    let us: Vec<f64> = learn
        .iter()
        .filter_map(|l| json_number(l, "us_per_step"))
        .collect();
    if us.is_empty() {
        return Err("numpy_step.py printed no timing".into());
    }
    let blas = learn
        .first()
        .and_then(|l| json_raw(l, "blas"))
        .unwrap_or_default();
    Ok((median(&us), blas))
}

/// Median seconds per epoch of numpy_mlp.py (float64, one thread, NumPy's best malloc case).
fn numpy_epoch_s(dir: &Path, epochs: usize) -> Result<f64, String> {
    let lines = run_python(
        dir,
        "numpy_mlp.py",
        &["1", "float64", &epochs.to_string()],
        &[(
            "GLIBC_TUNABLES",
            "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456",
        )],
        Some(MLP_FIX),
    )?;
    let s: Vec<f64> = lines
        .iter()
        .filter_map(|l| json_number(l, "sec_per_epoch"))
        .collect();
    if s.is_empty() {
        return Err("numpy_mlp.py printed no timing".into());
    }
    Ok(median(&s))
}

/// A text cell of the summary.
fn text(s: &mut SummaryRow, k: &str, v: String) {
    s.insert(k.into(), Cell::Text(v));
}

/// Our Euler steps — batch 1 on the small and the large network, and the large one at
/// `batch`, the large ones also on two threads — beside numpy_step.py's and STREAM's triad,
/// **interleaved**: each repetition times each of them once, and every ratio row (speed-ups,
/// two threads over one, batch over batch 1, bandwidth fraction) is the median of the
/// per-repetition ratios, so that a shared host's drift over
/// the minutes of the study does not enter a ratio (medians taken at different times did:
/// NumPy's large step alone read 1,180–1,830 µs on different runs). Without python3 and numpy,
/// ours alone, and `numpy_status` says why.
#[allow(
    clippy::too_many_lines,
    reason = "one repetition loop over every step measured, then its rows"
)]
fn steps_interleaved(
    scenario: &Scenario,
    perf: &Performance,
    seed: u64,
    s: &mut SummaryRow,
) -> Result<(), RunError> {
    let large = scenario.network.sizes.clone();
    let dir = Path::new(&perf.numpy_dir);
    let mut small = StepBench::new(scenario, perf, &perf.small_sizes, 1, seed, 1)?;
    let mut big = StepBench::new(scenario, perf, &large, 1, seed, 1)?;
    let mut batched = StepBench::new(scenario, perf, &large, perf.batch, seed, 1)?;
    // The large runs alone on the machine, each group's rows split over two threads (the same
    // bits as one thread), in a pool of their own.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .map_err(|e| RunError::Task {
            seed,
            message: format!("a two-thread pool: {e}"),
        })?;
    let (mut big2, mut batched2) = pool.install(|| -> Result<_, RunError> {
        Ok((
            StepBench::new(scenario, perf, &large, 1, seed, 2)?,
            StepBench::new(scenario, perf, &large, perf.batch, seed, 2)?,
        ))
    })?;
    let (mut ours_l2, mut ours_b2) = (Vec::new(), Vec::new());
    let bytes = step_bytes(&big.net);
    let (mut ours_s, mut ours_l, mut ours_b, mut triad) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut numpy: Result<(Vec<f64>, Vec<f64>, String), String> =
        Ok((Vec::new(), Vec::new(), String::new()));
    for _ in 0..perf.repetitions {
        ours_s.push(small.time(perf.steps_small)?);
        if let Ok((np_s, _, blas)) = &mut numpy {
            match numpy_step_us(dir, &perf.small_sizes, perf.steps_small, 1) {
                Ok((t, b)) => {
                    np_s.push(t);
                    *blas = b;
                }
                Err(e) => numpy = Err(e),
            }
        }
        ours_l.push(big.time(perf.steps_large)?);
        ours_b.push(batched.time(perf.steps_batch)?);
        ours_l2.push(pool.install(|| big2.time(perf.steps_large))?);
        ours_b2.push(pool.install(|| batched2.time(perf.steps_batch))?);
        triad.push(triad_gb_s(1));
        if let Ok((_, np_l, _)) = &mut numpy {
            match numpy_step_us(dir, &large, perf.steps_large, 1) {
                Ok((t, _)) => np_l.push(t),
                Err(e) => numpy = Err(e),
            }
        }
    }
    let ratio = |a: &[f64], b: &[f64]| median(&ratios(a, b));
    num(s, "euler_step_us_small", median(&ours_s));
    num(s, "euler_step_us_large", median(&ours_l));
    num(s, "large_step_bytes", bytes);
    num(s, "euler_step_us_per_image_large_b10", median(&ours_b));
    num(s, "batch_per_image_over_batch1", ratio(&ours_b, &ours_l));
    let gb_s: Vec<f64> = ours_l.iter().map(|us| bytes / (us * 1e-6) / 1e9).collect();
    num(s, "triad_gb_s", median(&triad));
    num(s, "large_step_gb_s", median(&gb_s));
    num(s, "large_step_bandwidth_fraction", ratio(&gb_s, &triad));
    num(s, "euler_step_us_large_2threads", median(&ours_l2));
    num(
        s,
        "euler_step_us_per_image_large_b10_2threads",
        median(&ours_b2),
    );
    num(s, "two_thread_speedup_large", ratio(&ours_l, &ours_l2));
    num(s, "two_thread_speedup_large_b10", ratio(&ours_b, &ours_b2));
    match numpy {
        Ok((np_s, np_l, blas)) => {
            num(s, "numpy_step_us_small", median(&np_s));
            num(s, "numpy_step_us_large", median(&np_l));
            num(s, "speedup_vs_numpy_small", ratio(&np_s, &ours_s));
            num(s, "speedup_vs_numpy_large", ratio(&np_l, &ours_l));
            text(
                s,
                "step_spread",
                format!(
                    "small: ours {}, NumPy {}, NumPy ÷ ours {}; large: ours {}, NumPy {}, \
                     NumPy ÷ ours {} (per repetition, over {} interleaved repetitions)",
                    spread(&ours_s, 2, "µs"),
                    spread(&np_s, 1, "µs"),
                    spread(&ratios(&np_s, &ours_s), 2, ""),
                    spread(&ours_l, 0, "µs"),
                    spread(&np_l, 0, "µs"),
                    spread(&ratios(&np_l, &ours_l), 2, ""),
                    ours_s.len(),
                ),
            );
            text(s, "numpy_blas", blas);
            text(s, "numpy_status", "measured".into());
        }
        Err(e) => text(s, "numpy_status", format!("not measured: {e}")),
    }
    Ok(())
}

/// Runs the study (one seed: the numbers are timings, the seed fixes weights and inputs).
pub fn run(
    scenario: &Scenario,
    perf: &Performance,
    seed: u64,
    progress: Option<&ProgressBar>,
) -> Result<RunOutput, RunError> {
    let mut s = SummaryRow::new();
    text(&mut s, "blas_core", crate::linalg::blas_core());
    text(&mut s, "isa", format!("{:?}", crate::linalg::isa()));
    text(
        &mut s,
        "openblas_coretype_env",
        std::env::var("OPENBLAS_CORETYPE").unwrap_or_else(|_| "<unset>".into()),
    );
    let tick = || {
        if let Some(pb) = progress {
            pb.inc(1);
        }
    };
    steps_interleaved(scenario, perf, seed, &mut s)?;
    for _ in 0..5 {
        tick();
    }
    epochs(perf, seed, progress, &mut s)?;
    tick();
    Ok(RunOutput {
        seed,
        series: TimeSeries::default(),
        summary: s,
        table: Vec::new(),
        weights: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_fields_are_read_from_the_drivers_lines() {
        let line = r#"{"code": "x", "plasticity": true, "us_per_step": 41.5, "blas": ["Haswell"], "finite": true}"#;
        assert_eq!(json_number(line, "us_per_step"), Some(41.5));
        assert_eq!(json_raw(line, "blas").as_deref(), Some("[\"Haswell\"]"));
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(spread(&[2.5, 1.25, 3.0], 2, "µs"), "1.25–3.00 µs");
        assert_eq!(
            spread(&ratios(&[1.0, 3.0], &[2.0, 4.0]), 3, ""),
            "0.500–0.750"
        );
    }
}
