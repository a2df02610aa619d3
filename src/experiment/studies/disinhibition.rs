//! The disinhibition study: attention-like denoising and generation (P2's last claim; its
//! mechanism and protocol are not public, paper-spec §8.4 — everything here is our design).
//!
//! 1. *Training.* A 784-H-10 microcircuit learns MNIST with the two-pass learner (`[mnist]`),
//!    every weight plastic and the top-down weights learned by rule 10, as in the paper's
//!    learned-top-down run. Alongside, the input reconstruction x̂ = φ(W_{0,1} r_1 + b_0) learns
//!    by rule 10 at k = 0 ([`Reconstruction`]) from the two-pass hidden rates.
//! 2. *Judge.* Backprop (cross-entropy) trains the same network shape from the same start: the
//!    classifier that reads corrupted, reconstructed and generated images.
//! 3. *Attention.* A weight-frozen twin settles by forward Euler for `settle_ms` from the
//!    bottom-up prediction state, with the output nudged to a class (the attention signal) or
//!    free, and the disinhibition gate of the hidden layer following `gate_schedule` (gate 0
//!    silences the interneurons' input to the apical dendrite, so the top-down input reaches the
//!    soma unopposed) or held at 1 (the ablation). The image is read as x̂ from the settled r_1.
//! 4. *Denoising.* Test digits corrupted by pixel noise or occlusion at each level; MSE to the
//!    clean digit of the corrupted input and of the reconstruction; the classifier's accuracy on
//!    both. *Generation.* A blank input, the output nudged to a class, somatic noise σ: the
//!    classifier's accuracy on x̂ is the fraction classified as the clamped class.

use std::path::Path;

use indicatif::ProgressBar;
use ndarray::{Array2, Axis, s};

use crate::baseline::{Credit, FeedForward, OutputLoss};
use crate::experiment::probe::copy_parameters;
use crate::experiment::protocol::{RunError, RunOutput, initial_network, num, stream};
use crate::experiment::scenario::{
    Disinhibition, GateStep, GenerationInput, Scenario, Training, gate_at,
};
use crate::learn::{Learner, TwoPassLearner};
use crate::model::{Drive, Network, Projection, Reconstruction, State};
use crate::record::npz::{NpyArray, NpyData};
use crate::record::{SummaryRow, TimeSeries, X};
use crate::rng::Rng;
use crate::solve::{Method, MethodKind, Simulation, SolveError};
use crate::task::corrupt::{Corruption, mse};
use crate::task::minibatch::{Minibatches, argmax};

/// Random stream of the reconstruction's initial weights.
const RECONSTRUCTION: u64 = 11;
/// Random stream of the corruptions.
const CORRUPTION: u64 = 12;
/// Random stream of the classifier's minibatch order.
const CLASSIFIER: u64 = 13;

/// Examples kept per corruption kind for the report's image grid, and samples per class of
/// the generated grid.
const SHOWN: usize = 10;

/// The three conditions of a settling: gate schedule and attention signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Condition {
    /// The scenario's gate schedule, output nudged to the class.
    Open,
    /// Every gate 1 throughout (ablation), output nudged to the class.
    Closed,
    /// The gate schedule, output free (no class signal).
    NoClass,
}

impl Condition {
    fn name(self) -> &'static str {
        match self {
            Condition::Open => "gate_open",
            Condition::Closed => "gate_closed",
            Condition::NoClass => "no_class",
        }
    }
}

/// A weight-frozen twin of the trained network that settles batches of images under a gate
/// schedule and reads the reconstruction.
struct Attention {
    net: Network,
    state: State,
    euler: Box<dyn Method>,
    steps: usize,
    dt: f64,
    open: Vec<GateStep>,
    closed: Vec<GateStep>,
}

impl Attention {
    fn new(
        trained: (&Network, &State),
        d: &Disinhibition,
        dt: f64,
        seed: u64,
    ) -> Result<Self, RunError> {
        let mut config = trained.0.config.clone();
        let p = &mut config.plasticity;
        for eta in [&mut p.eta_up, &mut p.eta_down, &mut p.eta_ip, &mut p.eta_pi] {
            eta.iter_mut().for_each(|e| *e = 0.0);
        }
        config.noise.sigma = 0.0;
        let net = Network::new(config, d.settle_batch)
            .map_err(|source| RunError::Model { seed, source })?;
        let mut state = net.zero_state();
        copy_parameters(trained.0, trained.1, &net, &mut state);
        let euler = MethodKind::Euler
            .build(&net, seed ^ 0x617474)
            .map_err(|source| RunError::Solve { seed, source })?;
        let hidden = net.n_layers() - 1;
        Ok(Attention {
            euler,
            steps: (d.settle_ms / dt).round() as usize,
            dt,
            open: d.gate_schedule.clone(),
            closed: vec![GateStep {
                t_ms: 0.0,
                gate: vec![1.0; hidden],
            }],
            net,
            state,
        })
    }

    /// Settles each row of `inputs` under `condition` (output nudged to `targets` unless
    /// NoClass) with somatic noise `sigma`, and returns the reconstruction x̂ of each. With
    /// `follow = Some(τ)` the input rates are not clamped but follow their reconstruction,
    /// τ dx/dt = x̂ − x, from `inputs` (generation without a stimulus).
    fn reconstruct(
        &mut self,
        inputs: &Array2<f64>,
        targets: &Array2<f64>,
        condition: Condition,
        sigma: f64,
        rec: &Reconstruction,
        follow: Option<f64>,
    ) -> Result<Array2<f64>, String> {
        let b = self.net.batch();
        let (m, n0) = inputs.dim();
        let mut out = Array2::zeros((m, n0));
        let mut x = Array2::zeros((b, n0));
        let mut t = Array2::zeros((b, targets.ncols()));
        let schedule = match condition {
            Condition::Closed => self.closed.clone(),
            _ => self.open.clone(),
        };
        self.net.config.noise.sigma = sigma;
        // Rows past the end of the last chunk are padding: blank input, low target.
        let pad_target = targets.iter().cloned().fold(f64::INFINITY, f64::min);
        let mut ws = crate::model::Workspace::new(&self.net);
        for start in (0..m).step_by(b) {
            let end = (start + b).min(m);
            x.fill(0.0);
            x.slice_mut(s![..end - start, ..])
                .assign(&inputs.slice(s![start..end, ..]));
            t.fill(pad_target);
            t.slice_mut(s![..end - start, ..])
                .assign(&targets.slice(s![start..end, ..]));
            self.net.bottom_up_pass(
                &mut self.state,
                &Drive::free(x.view()).gated(gate_at(&schedule, 0.0)),
                &mut ws,
            );
            let phi = self.net.config.phi;
            let mut r1 = Array2::zeros((b, self.net.layout.sizes[1]));
            let mut xhat = Array2::zeros((b, n0));
            let settling = |e: SolveError| format!("settling ({}): {e}", condition.name());
            let mut sim = Simulation::new(&self.net, &mut self.state, &mut *self.euler, self.dt)
                .map_err(settling)?;
            for _ in 0..self.steps {
                let gate = gate_at(&schedule, sim.t());
                let drive = match condition {
                    Condition::NoClass => Drive::free(x.view()),
                    _ => Drive::nudged(x.view(), t.view()),
                };
                sim.step(&drive.gated(gate)).map_err(settling)?;
                if let Some(tau) = follow {
                    r1.zip_mut_with(&sim.net().u_pyr(sim.state(), 1), |r, &u| *r = phi.phi(u));
                    rec.predict_into(r1.view(), &mut xhat);
                    let a = self.dt / tau;
                    x.zip_mut_with(&xhat, |x, &xh| *x += a * (xh - *x));
                }
            }
            r1.zip_mut_with(&self.net.u_pyr(&self.state, 1), |r, &u| *r = phi.phi(u));
            rec.predict_into(r1.view(), &mut xhat);
            out.slice_mut(s![start..end, ..])
                .assign(&xhat.slice(s![..end - start, ..]));
        }
        self.net.config.noise.sigma = 0.0;
        Ok(out)
    }
}

/// Percentage of rows the classifier assigns to `labels`.
fn accuracy(classifier: &FeedForward, images: &Array2<f64>, labels: &[u8]) -> f64 {
    let fwd = classifier.forward(images);
    let right = fwd.u[classifier.n_layers()]
        .axis_iter(Axis(0))
        .zip(labels)
        .filter(|(row, l)| argmax(*row) == **l as usize)
        .count();
    100.0 * right as f64 / labels.len() as f64
}

/// One-hot target potentials of `labels`.
fn one_hot(labels: &[u8], (u_low, u_high): (f64, f64)) -> Array2<f64> {
    let mut t = Array2::from_elem((labels.len(), 10), u_low);
    for (i, &l) in labels.iter().enumerate() {
        t[[i, l as usize]] = u_high;
    }
    t
}

/// Pushes the pixels of the first `count` rows of `images` as series rows.
fn push_images(
    series: &mut TimeSeries,
    variant: &str,
    quantity: &'static str,
    layer: i64,
    images: &Array2<f64>,
    rows: impl Iterator<Item = usize>,
) {
    for (i, row) in rows.enumerate() {
        for (p, &v) in images.row(row).iter().enumerate() {
            series.push_at(X::Image(i as f64), variant, quantity, layer, p as i64, v);
        }
    }
}

/// What phase 1 trains: the microcircuit, its input reconstruction, and the generator of the
/// minibatch order, with the reconstruction's error per epoch.
struct Training1 {
    mc: TwoPassLearner,
    rec: Reconstruction,
    rng: Rng,
    mse_curve: Vec<f64>,
}

/// Runs the study for one seed.
pub fn run(
    scenario: &Scenario,
    training: &Training,
    d: &Disinhibition,
    seed: u64,
    progress: Option<&ProgressBar>,
    checkpoints: Option<&Path>,
) -> Result<RunOutput, RunError> {
    let sets = super::mnist::load_split(scenario, seed)?;
    let phi = scenario.network.phi;
    let b = training.batch;
    let (net, state) = initial_network(scenario.network.clone(), b, scenario, seed)?;
    let (n0, n1) = (net.layout.sizes[0], net.layout.sizes[1]);
    let mut classifier = FeedForward::from_microcircuit(&net, &state);
    classifier.loss = OutputLoss::CrossEntropy;
    let rec = Reconstruction::new(
        n0,
        n1,
        d.reconstruction_scale,
        phi,
        &mut Rng::derived(seed, RECONSTRUCTION),
    );
    let mc = TwoPassLearner::new(net, state, training, scenario.protocol.dt, seed)
        .map_err(|source| RunError::Learn { seed, source })?;
    let mut series = TimeSeries::default();
    let mut summary = SummaryRow::new();
    let mut state = Training1 {
        mc,
        rec,
        rng: Rng::derived(seed, stream::PATTERNS),
        mse_curve: Vec::new(),
    };
    let mut batches = Minibatches::new(&sets.train_x, &sets.train_y, b, sets.levels);
    // 1. The microcircuit and the reconstruction learn together; then (phase 2) the top-down
    // weights learn with the bottom-up weights held.
    train(
        scenario,
        training,
        d,
        seed,
        progress,
        checkpoints,
        &mut state,
        &mut batches,
        &mut series,
    )?;
    let Training1 { mut mc, rec, .. } = state;
    let mc_error = mc.error_percent(&sets.test_x, &sets.test_y);
    let weights = mc.checkpoint().map(super::mnist::weights_only);
    num(&mut summary, "test_error_microcircuit", mc_error);
    // 2. The judge: backprop on the same shape and start.
    judge(&mut classifier, d, seed, &mut batches)?;
    num(
        &mut summary,
        "classifier_test_error",
        100.0 - accuracy(&classifier, &sets.test_x, &sets.test_y),
    );
    // 3. Attention: denoising.
    let mut att = Attention::new(mc.network(), d, scenario.protocol.dt, seed)?;
    let judged = Judged {
        classifier: &classifier,
        rec: &rec,
        levels: sets.levels,
    };
    denoise(&mut att, &judged, d, seed, &sets, &mut series, &mut summary)?;
    // 4. Generation: blank input, output nudged to each class, somatic noise.
    generate(&mut att, &judged, d, seed, n0, &mut series, &mut summary)?;
    Ok(RunOutput {
        seed,
        series,
        summary,
        table: Vec::new(),
        weights,
    })
}

/// Phase 1 (and the top-down phase after it): every epoch's minibatches, the reconstruction
/// learning beside the microcircuit, a checkpoint at each epoch's end; resumes from one.
#[allow(
    clippy::too_many_arguments,
    reason = "the run's settings and its state, named"
)]
fn train(
    scenario: &Scenario,
    training: &Training,
    d: &Disinhibition,
    seed: u64,
    progress: Option<&ProgressBar>,
    checkpoints: Option<&Path>,
    st: &mut Training1,
    batches: &mut Minibatches,
    series: &mut TimeSeries,
) -> Result<(), RunError> {
    let task_err = |message: String| RunError::Task { seed, message };
    let steps_per_epoch = batches.steps();
    // A checkpoint at every epoch's end (learner, reconstruction, generator, the curve so far);
    // a run started again continues after the last one.
    let checkpoint = checkpoints.map(|dir| dir.join(super::mnist::checkpoint_file(scenario, seed)));
    let mut first_epoch = 0;
    if let Some(path) = checkpoint.as_ref().filter(|p| p.exists()) {
        restore(st, path)
            .map_err(|m| task_err(format!("resuming from {}: {m}", path.display())))?;
        first_epoch = st.mse_curve.len();
        for (i, m) in st.mse_curve.iter().enumerate() {
            series.push_at(
                X::Epoch((i + 1) as f64),
                "training",
                "reconstruction_mse",
                0,
                -1,
                *m,
            );
        }
        tracing::info!(
            "{}: resuming seed {seed} from {} (after epoch {first_epoch})",
            scenario.name,
            path.display()
        );
    }
    for epoch in first_epoch..training.epochs + d.top_down_epochs {
        if epoch == training.epochs {
            start_top_down(st, d, seed)?;
        }
        batches.shuffle(&mut st.rng);
        let mut rec_mse = 0.0;
        for step in 0..steps_per_epoch {
            batches.fill(step);
            st.mc.step(&batches.x, &batches.target).map_err(|m| {
                task_err(format!(
                    "training epoch {}, minibatch {step}: {m}",
                    epoch + 1
                ))
            })?;
            rec_mse += st
                .rec
                .learn(batches.x.view(), st.mc.rates(1), d.eta_reconstruction);
            if let Some(pb) = progress {
                pb.inc(1);
            }
        }
        st.mc
            .check(epoch as f64 + 1.0)
            .map_err(|source| RunError::Learn { seed, source })?;
        if !st.rec.w.iter().all(|v| v.is_finite()) {
            return Err(task_err(format!(
                "the reconstruction W_01 diverged in epoch {}",
                epoch + 1
            )));
        }
        let e = (epoch + 1) as f64;
        let mse_epoch = rec_mse / steps_per_epoch as f64;
        series.push_at(
            X::Epoch(e),
            "training",
            "reconstruction_mse",
            0,
            -1,
            mse_epoch,
        );
        st.mse_curve.push(mse_epoch);
        if training.eta_decay_per_epoch != 1.0 && epoch + 1 < training.epochs {
            st.mc.scale_rates(training.eta_decay_per_epoch);
        }
        if let Some(path) = &checkpoint
            && epoch + 1 < training.epochs + d.top_down_epochs
        {
            save(st, path).map_err(task_err)?;
            if crate::record::test_hook::fires("DENDRITIC_TEST_KILL_AFTER_CHECKPOINT") {
                crate::record::test_hook::kill_self();
            }
        }
    }
    remove_checkpoint(checkpoint.as_deref(), seed)
}

/// The switch to the top-down phase: W^PP_{1,0} held, the top-down weights learning.
fn start_top_down(st: &mut Training1, d: &Disinhibition, seed: u64) -> Result<(), RunError> {
    let plastic = st
        .mc
        .network()
        .0
        .layout
        .synapses(Projection::Down, 1)
        .is_plastic();
    if !plastic {
        return Err(RunError::Task {
            seed,
            message: "disinhibition.top_down_epochs needs plastic top-down weights \
                      (network.plasticity.eta_down > 0)"
                .into(),
        });
    }
    st.mc.set_rate(Projection::Up, 0.0);
    st.mc.set_rate(Projection::Down, d.eta_top_down);
    Ok(())
}

/// The level of `levels` nearest to `x`.
fn nearest(levels: &[f64], x: f64) -> f64 {
    levels
        .iter()
        .copied()
        .min_by(|a, b| (a - x).abs().total_cmp(&(b - x).abs()))
        .unwrap_or(x)
}

/// Removes the finished training's checkpoint, when there is one.
fn remove_checkpoint(checkpoint: Option<&Path>, seed: u64) -> Result<(), RunError> {
    let Some(path) = checkpoint.filter(|p| p.exists()) else {
        return Ok(());
    };
    std::fs::remove_file(path).map_err(|e| RunError::Task {
        seed,
        message: format!(
            "removing the finished training's checkpoint {}: {e}",
            path.display()
        ),
    })
}

/// Restores phase 1 from a checkpoint: learner, reconstruction, error curve, generator.
fn restore(st: &mut Training1, path: &Path) -> Result<(), String> {
    let arrays = crate::record::npz::read(path)?;
    st.mc.restore(&arrays).map_err(|e| e.to_string())?;
    let f64s = |k: &str| match arrays.get(k).map(|a| &a.data) {
        Some(NpyData::F64(v)) => Ok(v.clone()),
        _ => Err(format!("checkpoint has no float64 '{k}'")),
    };
    let w = f64s("reconstruction_w")?;
    let bias = f64s("reconstruction_b")?;
    if w.len() != st.rec.w.len() || bias.len() != st.rec.b.len() {
        return Err("checkpoint's reconstruction has another shape".into());
    }
    st.rec.w.iter_mut().zip(&w).for_each(|(d, s)| *d = *s);
    st.rec.b.iter_mut().zip(&bias).for_each(|(d, s)| *d = *s);
    st.mse_curve = f64s("reconstruction_mse")?;
    match arrays.get("rng").map(|a| &a.data) {
        Some(NpyData::U64(v)) if v.len() == 4 => {
            st.rng = Rng::from_state([v[0], v[1], v[2], v[3]]);
        }
        _ => return Err("checkpoint has no generator state".into()),
    }
    Ok(())
}

/// Writes phase 1's checkpoint.
fn save(st: &mut Training1, path: &Path) -> Result<(), String> {
    let mut arrays = st
        .mc
        .checkpoint()
        .ok_or_else(|| "the microcircuit cannot be checkpointed".to_string())?;
    let vec = |v: Vec<f64>| NpyArray {
        shape: vec![v.len()],
        data: NpyData::F64(v),
    };
    arrays.insert(
        "reconstruction_w".into(),
        vec(st.rec.w.iter().copied().collect()),
    );
    arrays.insert("reconstruction_b".into(), vec(st.rec.b.to_vec()));
    arrays.insert("reconstruction_mse".into(), vec(st.mse_curve.clone()));
    arrays.insert(
        "rng".into(),
        NpyArray {
            shape: vec![4],
            data: NpyData::U64(st.rng.state().to_vec()),
        },
    );
    crate::record::npz::write(path, &arrays)
        .map_err(|e| format!("writing checkpoint {}: {e}", path.display()))
}

/// Phase 2: the backprop judge, on the same shape, start and minibatches.
fn judge(
    classifier: &mut FeedForward,
    d: &Disinhibition,
    seed: u64,
    batches: &mut Minibatches,
) -> Result<(), RunError> {
    let mut crng = Rng::derived(seed, CLASSIFIER);
    for _ in 0..d.classifier_epochs {
        batches.shuffle(&mut crng);
        for step in 0..batches.steps() {
            batches.fill(step);
            classifier.step(
                &batches.x,
                &batches.target,
                Credit::Backprop,
                &d.classifier_eta,
                true,
            );
        }
    }
    if classifier
        .w
        .iter()
        .any(|w| w.iter().any(|v| !v.is_finite()))
    {
        return Err(RunError::Task {
            seed,
            message: "the backprop classifier diverged".into(),
        });
    }
    Ok(())
}

/// What phases 3 and 4 read: the judge, the reconstruction and the target potentials.
struct Judged<'a> {
    classifier: &'a FeedForward,
    rec: &'a Reconstruction,
    levels: (f64, f64),
}

/// Phase 3: corrupted test digits reconstructed under each gate condition.
fn denoise(
    att: &mut Attention,
    j: &Judged,
    d: &Disinhibition,
    seed: u64,
    sets: &super::mnist::Split,
    series: &mut TimeSeries,
    summary: &mut SummaryRow,
) -> Result<(), RunError> {
    let task_err = |message: String| RunError::Task { seed, message };
    let (classifier, rec) = (j.classifier, j.rec);
    let clean = sets.test_x.slice(s![..d.test_images, ..]).to_owned();
    let labels = &sets.test_y[..d.test_images];
    let targets = one_hot(labels, j.levels);
    // The clean digits' own reconstruction (closed gate, no corruption): the floor.
    let floor = att
        .reconstruct(&clean, &targets, Condition::Closed, 0.0, rec, None)
        .map_err(task_err)?;
    num(
        summary,
        "reconstruction_mse_clean",
        mse(floor.view(), clean.view()),
    );
    let mut crr = Rng::derived(seed, CORRUPTION);
    let example_level = nearest(&d.levels, 0.5);
    let headline_level = nearest(&d.levels, 0.3);
    num(summary, "headline_level", headline_level);
    num(summary, "example_level", example_level);
    let shown = SHOWN.min(d.test_images);
    push_images(series, "clean", "example_pixel", -1, &clean, 0..shown);
    for (ci, kind) in d.corruptions.iter().enumerate() {
        let ci = ci as i64;
        for &level in &d.levels {
            let corrupted = kind.apply(clean.view(), level, &mut crr);
            let mse_in = mse(corrupted.view(), clean.view());
            series.push_at(X::Level(level), "input", "mse", ci, -1, mse_in);
            series.push_at(
                X::Level(level),
                "input",
                "accuracy",
                ci,
                -1,
                accuracy(classifier, &corrupted, labels),
            );
            if level == example_level {
                push_images(
                    series,
                    "corrupted",
                    "example_pixel",
                    ci,
                    &corrupted,
                    0..shown,
                );
            }
            for cond in [Condition::Open, Condition::Closed, Condition::NoClass] {
                let xhat = att
                    .reconstruct(&corrupted, &targets, cond, 0.0, rec, None)
                    .map_err(task_err)?;
                let m = mse(xhat.view(), clean.view());
                series.push_at(X::Level(level), cond.name(), "mse", ci, -1, m);
                series.push_at(
                    X::Level(level),
                    cond.name(),
                    "mse_ratio",
                    ci,
                    -1,
                    m / mse_in,
                );
                series.push_at(
                    X::Level(level),
                    cond.name(),
                    "accuracy",
                    ci,
                    -1,
                    accuracy(classifier, &xhat, labels),
                );
                if level == headline_level {
                    num(
                        summary,
                        &format!("mse_ratio_{}_{}", kind.name(), cond.name()),
                        m / mse_in,
                    );
                }
                if level == example_level {
                    push_images(series, cond.name(), "example_pixel", ci, &xhat, 0..shown);
                }
            }
        }
    }

    Ok(())
}

/// Phase 4: generation from a blank input with the output nudged to each class.
fn generate(
    att: &mut Attention,
    j: &Judged,
    d: &Disinhibition,
    seed: u64,
    n0: usize,
    series: &mut TimeSeries,
    summary: &mut SummaryRow,
) -> Result<(), RunError> {
    let task_err = |message: String| RunError::Task { seed, message };
    let (classifier, rec) = (j.classifier, j.rec);
    let (u_low, u_high) = j.levels;
    let per = d.generation_samples;
    let gen_labels: Vec<u8> = (0..10u8)
        .flat_map(|c| std::iter::repeat_n(c, per))
        .collect();
    let blank = Array2::zeros((gen_labels.len(), n0));
    let gen_targets = one_hot(&gen_labels, (u_low, u_high));
    for cond in [Condition::Open, Condition::Closed] {
        let images = att
            .reconstruct(
                &blank,
                &gen_targets,
                cond,
                d.generation_sigma,
                rec,
                match d.generation_input {
                    GenerationInput::Blank => None,
                    GenerationInput::Reconstruction => Some(d.generation_tau_ms),
                },
            )
            .map_err(task_err)?;
        let acc = accuracy(classifier, &images, &gen_labels);
        // Diversity: the per-pixel standard deviation across the samples of a class, averaged
        // over pixels and classes (0 when every sample of a class is the same image).
        let diversity = (0..10)
            .map(|c| {
                let block = images.slice(s![c * per..(c + 1) * per, ..]);
                block.std_axis(Axis(0), 0.0).mean().unwrap_or(0.0)
            })
            .sum::<f64>()
            / 10.0;
        num(
            summary,
            &format!("generation_diversity_{}", cond.name()),
            diversity,
        );
        num(
            summary,
            &format!("generation_class_accuracy_{}", cond.name()),
            acc / 100.0,
        );
        for c in 0..10 {
            push_images(
                series,
                cond.name(),
                "generated_pixel",
                c as i64,
                &images,
                (c * per..(c + 1) * per).take(SHOWN),
            );
        }
    }
    Ok(())
}

/// The corruption kinds' names in `layer` order, as the report reads them.
pub fn corruption_names(d: &Disinhibition) -> Vec<&'static str> {
    d.corruptions.iter().map(Corruption::name).collect()
}
