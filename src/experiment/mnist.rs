//! The MNIST study (paper Fig. 3, paper-spec §6.3–6.4): one learner per run — the two-pass
//! steady-state learner on minibatches (one GEMM per layer and synapse group for the whole
//! minibatch, no allocation per step) or backprop on the same feed-forward network — with
//! validation and test error during training and the test error of the best-validation
//! evaluation as the result. The paper's variants (single layer, frozen hidden→hidden weights,
//! 784-1000-10 with learned top-down weights) are scenario variants of the same learner.

use std::path::Path;
use std::time::Instant;

use indicatif::ProgressBar;
use ndarray::{Array2, Axis};

use super::probe::copy_parameters;
use super::run::{RunError, RunOutput, initial_network, num, stream};
use super::scenario::{
    InterneuronRescaling, InterneuronTeaching, MnistLearner, MnistSettle, MnistTraining, Scenario,
};
use crate::baseline::{Credit, FeedForward};
use crate::model::{Drive, Network, Projection, State, Workspace};
use crate::record::{SummaryRow, TimeSeries};
use crate::rng::Rng;
use crate::solve::{FixedPoint, Method, MethodKind, SteadyState, TwoPass};
use crate::task::TaskConfig;
use crate::task::mnist::{Mnist, load};

/// Index of the largest entry (the class read out from the output rates or potentials).
pub(crate) fn argmax(row: ndarray::ArrayView1<f64>) -> usize {
    row.iter()
        .enumerate()
        .fold(
            (0, f64::NEG_INFINITY),
            |b, (j, &v)| if v > b.1 { (j, v) } else { b },
        )
        .0
}

/// The minibatches of one training set: a shuffled order of its images per epoch, and the
/// batch's inputs `x` and one-hot target potentials {u_low, u_high} `target`, filled in place
/// (no allocation per step).
pub(crate) struct Minibatches<'a> {
    images: &'a Array2<f64>,
    labels: &'a [u8],
    order: Vec<usize>,
    levels: (f64, f64),
    /// The current batch's inputs (batch × pixels).
    pub(crate) x: Array2<f64>,
    /// The current batch's target potentials (batch × 10).
    pub(crate) target: Array2<f64>,
}

impl<'a> Minibatches<'a> {
    pub(crate) fn new(
        images: &'a Array2<f64>,
        labels: &'a [u8],
        batch: usize,
        levels: (f64, f64),
    ) -> Self {
        Minibatches {
            images,
            labels,
            order: (0..labels.len()).collect(),
            levels,
            x: Array2::zeros((batch, images.ncols())),
            target: Array2::zeros((batch, 10)),
        }
    }

    /// Minibatches per epoch (the last one wraps around to the start of the order).
    pub(crate) fn steps(&self) -> usize {
        self.order.len().div_ceil(self.x.nrows())
    }

    /// A new epoch: a fresh shuffle of every image.
    pub(crate) fn shuffle(&mut self, rng: &mut Rng) {
        for (i, o) in self.order.iter_mut().enumerate() {
            *o = i;
        }
        rng.shuffle(&mut self.order);
    }

    /// Fills `x` and `target` with minibatch `step` of the current order.
    pub(crate) fn fill(&mut self, step: usize) {
        let b = self.x.nrows();
        let (u_low, u_high) = self.levels;
        self.target.fill(u_low);
        for i in 0..b {
            let idx = self.order[(step * b + i) % self.order.len()];
            self.x.row_mut(i).assign(&self.images.row(idx));
            self.target[[i, self.labels[idx] as usize]] = u_high;
        }
    }
}

/// A learner of the study: one minibatch step, and the classification error of its current
/// weights.
pub(crate) trait Learner {
    fn step(&mut self, x: &Array2<f64>, target: &Array2<f64>) -> Result<(), String>;
    fn error_percent(&mut self, images: &Array2<f64>, labels: &[u8]) -> f64;
    /// An error when a weight or potential left the finite range (a diverging run).
    fn check(&self, epoch: f64) -> Result<(), String>;
    /// Numbers of its own for the summary.
    fn report(&self, _summary: &mut SummaryRow) {}
    /// Multiplies every learning rate by `factor` (the per-epoch decay).
    fn scale_rates(&mut self, factor: f64);
    /// Quantities of its own recorded at every evaluation.
    fn probe(&self, _name: &str, _epoch: f64, _series: &mut TimeSeries) {}
}

/// The two-pass learner's rate per synapse group (in `net.layout.synapses` order): the
/// configured rates, rescaled by the inverse mixing factor when `rescale_by_mixing` (paper-spec
/// §6.3). W^PP_{k,k−1} is divided by s_k, the dilution of the teaching signal reaching layer k;
/// W^IP_{k,k} by λ_I ("interneuron": its rule is a delta rule on the interneuron's own nudging,
/// φ(u^I) − φ(v̂^I) ≈ λ_I φ' (u_{k+1} − v̂^I), our derivation) or by λ_I s_{k+1} / c_k
/// ("tracking": then ΔW^IP_{k,k} = c_k ΔW^PP_{k+1,k} in the linear regime). W^PI and the
/// top-down weights are not rescaled.
pub fn learning_rates(net: &Network, training: &MnistTraining) -> Vec<f64> {
    let mixing = net.teaching_dilution();
    let lambda_int = net.config.conductances.lambda_interneuron();
    net.layout
        .synapses
        .iter()
        .map(|syn| {
            let s = match syn.projection {
                Projection::Up => mixing[syn.layer],
                Projection::Ip => match training.interneuron_rescaling {
                    InterneuronRescaling::Interneuron => lambda_int,
                    InterneuronRescaling::Tracking => {
                        lambda_int * mixing[syn.layer + 1] / net.self_predicting_factor(syn.layer)
                    }
                },
                _ => 1.0,
            };
            if training.rescale_by_mixing {
                syn.eta / s
            } else {
                syn.eta
            }
        })
        .collect()
}

/// Whether `projection` learns from the pass without the target under `teaching`.
fn free_pass(teaching: InterneuronTeaching, projection: Projection) -> bool {
    match teaching {
        InterneuronTeaching::Free => projection == Projection::Ip,
        InterneuronTeaching::FreeLateral => matches!(projection, Projection::Ip | Projection::Pi),
        InterneuronTeaching::Nudged | InterneuronTeaching::Ideal => false,
    }
}

/// The microcircuit's two-pass learner (paper-spec §6.4).
pub(crate) struct Microcircuit {
    net: Network,
    state: State,
    two_pass: TwoPass,
    settle: Settler,
    /// The two-pass potentials of the current minibatch (when settling further).
    two_pass_u: Vec<f64>,
    /// Σ over minibatches of max |u_settled − u_two-pass|, and the count.
    shift: (f64, usize),
    /// Learning rate per synapse group, rescaled by the inverse mixing factor.
    eta: Vec<f64>,
    /// With `interneuron_teaching = "free"` or `"free_lateral"`: the rates of the groups that
    /// learn from the passes without the target (taken out of `eta`), applied after them.
    eta_free: Option<Vec<f64>>,
    /// Which state the lateral weights learn from.
    teaching: InterneuronTeaching,
    /// With `interneuron_teaching = "ideal"`: the hidden layers k whose W^IP is set to
    /// c_k W^PP_{k+1,k} after every minibatch (empty otherwise).
    ideal_layers: Vec<usize>,
    eval: Network,
    eval_state: State,
    eval_ws: Workspace,
}

impl Microcircuit {
    pub(crate) fn new(
        net: Network,
        state: State,
        training: &MnistTraining,
        dt: f64,
        seed: u64,
    ) -> Result<Self, RunError> {
        let settle = Settler::new(&net, training, dt, seed)?;
        let eta = learning_rates(&net, training);
        let ideal_layers: Vec<usize> = match training.interneuron_teaching {
            InterneuronTeaching::Ideal => training
                .ideal_layers
                .clone()
                .unwrap_or_else(|| (1..net.n_layers()).collect()),
            _ => Vec::new(),
        };
        // W^IP of an ideal layer is overwritten after every step: no need to learn it.
        let mut eta = eta;
        for (i, syn) in net.layout.synapses.iter().enumerate() {
            if syn.projection == Projection::Ip && ideal_layers.contains(&syn.layer) {
                eta[i] = 0.0;
            }
        }
        let (eta, eta_free) = match training.interneuron_teaching {
            InterneuronTeaching::Nudged | InterneuronTeaching::Ideal => (eta, None),
            teaching @ (InterneuronTeaching::Free | InterneuronTeaching::FreeLateral) => {
                let free = |i: usize| free_pass(teaching, net.layout.synapses[i].projection);
                let split = |in_free_pass: bool| {
                    (0..eta.len())
                        .map(|i| if free(i) == in_free_pass { eta[i] } else { 0.0 })
                        .collect::<Vec<f64>>()
                };
                (split(false), Some(split(true)))
            }
        };
        let eval = Network::new(net.config.clone(), 500)
            .map_err(|source| RunError::Model { seed, source })?;
        Ok(Microcircuit {
            settle,
            two_pass_u: vec![0.0; net.layout.n_potentials],
            shift: (0.0, 0),
            two_pass: TwoPass::new(&net),
            eval_state: eval.zero_state(),
            eval_ws: Workspace::new(&eval),
            eval,
            net,
            state,
            eta,
            eta_free,
            teaching: training.interneuron_teaching,
            ideal_layers,
        })
    }
}

impl Microcircuit {
    /// The network being trained and its state.
    pub(crate) fn network(&self) -> (&Network, &State) {
        (&self.net, &self.state)
    }

    /// Sets the learning rate of every synapse group of `projection` to `eta` (as is, no
    /// rescaling; 0 holds the group). The group must be plastic in the network's config.
    pub(crate) fn set_rate(&mut self, projection: Projection, eta: f64) {
        for (i, syn) in self.net.layout.synapses.iter().enumerate() {
            if syn.projection == projection {
                match &mut self.eta_free {
                    Some(free) if free_pass(self.teaching, projection) => free[i] = eta,
                    _ => self.eta[i] = eta,
                }
            }
        }
    }

    /// r_k of the last minibatch's two-pass state.
    pub(crate) fn rates(&self, k: usize) -> ndarray::ArrayView2<'_, f64> {
        self.two_pass.workspace().r[k].view()
    }
}

impl Learner for Microcircuit {
    fn step(&mut self, x: &Array2<f64>, target: &Array2<f64>) -> Result<(), String> {
        if let Some(eta_free) = &self.eta_free {
            self.two_pass
                .passes(&self.net, &mut self.state, &Drive::free(x.view()));
            self.two_pass
                .apply_plasticity(&self.net, &mut self.state, eta_free);
        }
        let drive = Drive::nudged(x.view(), target.view());
        self.two_pass.passes(&self.net, &mut self.state, &drive);
        match &mut self.settle {
            Settler::TwoPass => {
                self.two_pass
                    .apply_plasticity(&self.net, &mut self.state, &self.eta);
            }
            settled => {
                let np = self.net.layout.n_potentials;
                self.two_pass_u.copy_from_slice(&self.state.y[..np]);
                settled.settle(&self.net, &mut self.state, &drive)?;
                let max_shift = self.state.y[..np]
                    .iter()
                    .zip(&self.two_pass_u)
                    .fold(0.0_f64, |m, (a, b)| m.max((a - b).abs()));
                self.shift.0 += max_shift;
                self.shift.1 += 1;
                let ws = settled.workspace();
                self.net.dendrites(&self.state.y, &self.state.p, &drive, ws);
                self.net
                    .apply_minibatch_plasticity(&mut self.state, ws, &self.eta);
            }
        }
        for &k in &self.ideal_layers {
            self.net.set_self_predicting_layer(&mut self.state, k);
        }
        Ok(())
    }

    /// The free (no target) bottom-up prediction state, the exact steady state of a
    /// self-predicting network without a target; the class is the most active output.
    fn error_percent(&mut self, images: &Array2<f64>, labels: &[u8]) -> f64 {
        copy_parameters(&self.net, &self.state, &self.eval, &mut self.eval_state);
        let chunk = self.eval.batch();
        let n = self.eval.n_layers();
        let mut x = Array2::zeros((chunk, images.ncols()));
        let mut wrong = 0;
        for start in (0..labels.len()).step_by(chunk) {
            let end = (start + chunk).min(labels.len());
            x.slice_mut(ndarray::s![..end - start, ..])
                .assign(&images.slice(ndarray::s![start..end, ..]));
            self.eval.bottom_up_pass(
                &mut self.eval_state,
                &Drive::free(x.view()),
                &mut self.eval_ws,
            );
            let u = self.eval.u_pyr(&self.eval_state, n);
            wrong += u
                .axis_iter(Axis(0))
                .take(end - start)
                .zip(&labels[start..end])
                .filter(|(row, l)| argmax(*row) != **l as usize)
                .count();
        }
        100.0 * wrong as f64 / labels.len() as f64
    }

    fn report(&self, summary: &mut SummaryRow) {
        if self.shift.1 > 0 {
            num(
                summary,
                "settle_shift_mean",
                self.shift.0 / self.shift.1 as f64,
            );
        }
    }

    fn scale_rates(&mut self, factor: f64) {
        self.eta.iter_mut().for_each(|e| *e *= factor);
        if let Some(free) = &mut self.eta_free {
            free.iter_mut().for_each(|e| *e *= factor);
        }
    }

    /// `interneuron_mismatch` of every hidden layer (see [`Network::interneuron_mismatch`]);
    /// with plastic top-down weights also their RMS entry, `top_down_alignment` and
    /// `top_down_common_mode`.
    fn probe(&self, name: &str, epoch: f64, series: &mut TimeSeries) {
        for k in 1..self.net.n_layers() {
            let m = self.net.interneuron_mismatch(&self.state, k);
            series.push(name, epoch, "interneuron_mismatch", k as i64, -1, m);
            if self.net.config.eta_down(k) != 0.0 {
                let (net, state) = (&self.net, &self.state);
                let down = state.view(&net.w(Projection::Down, k));
                let rms = (down.iter().map(|w| w * w).sum::<f64>() / down.len() as f64).sqrt();
                series.push(name, epoch, "top_down_rms", k as i64, -1, rms);
                let a = net.top_down_alignment(state, k);
                series.push(name, epoch, "top_down_alignment", k as i64, -1, a);
                let c = net.top_down_common_mode(state, k);
                series.push(name, epoch, "top_down_common_mode", k as i64, -1, c);
                let pi = state.view(&net.w(Projection::Pi, k));
                let (mut diff, mut norm) = (0.0, 0.0);
                for (&p, &d) in pi.iter().zip(down.iter()) {
                    diff += (p + d).powi(2);
                    norm += d * d;
                }
                let m = (diff / norm).sqrt();
                series.push(name, epoch, "lateral_mismatch", k as i64, -1, m);
            }
        }
    }

    fn check(&self, epoch: f64) -> Result<(), String> {
        if let Some(i) = self.state.y.iter().position(|v| !v.is_finite()) {
            return Err(format!(
                "the microcircuit diverged by epoch {epoch:.2}: entry {i} of the state is {}",
                self.state.y[i]
            ));
        }
        crate::solve::check_divergence(&self.eval, &self.eval_state.y, 0.0)
            .map_err(|e| format!("by epoch {epoch:.2}: {e}"))
    }
}

/// How the microcircuit settles before an update when not by the two passes alone.
enum Settler {
    TwoPass,
    FixedPoint(FixedPoint),
    /// Forward Euler on a twin whose weights are all frozen (so they do not move while the
    /// potentials settle), `steps` steps of `dt`.
    Euler {
        twin: Network,
        twin_state: State,
        method: Box<dyn Method>,
        ws: Workspace,
        steps: usize,
        dt: f64,
    },
}

impl Settler {
    fn new(net: &Network, training: &MnistTraining, dt: f64, seed: u64) -> Result<Self, RunError> {
        Ok(match training.settle {
            MnistSettle::TwoPass => Settler::TwoPass,
            MnistSettle::FixedPoint => {
                Settler::FixedPoint(FixedPoint::new(net, training.settle_tolerance, 5000, 1.0))
            }
            MnistSettle::Euler => {
                let mut config = net.config.clone();
                let p = &mut config.plasticity;
                for eta in [&mut p.eta_up, &mut p.eta_down, &mut p.eta_ip, &mut p.eta_pi] {
                    eta.iter_mut().for_each(|e| *e = 0.0);
                }
                let twin = Network::new(config, net.batch())
                    .map_err(|source| RunError::Model { seed, source })?;
                let method = MethodKind::Euler
                    .build(&twin, seed)
                    .map_err(|source| RunError::Solve { seed, source })?;
                Settler::Euler {
                    twin_state: twin.zero_state(),
                    ws: Workspace::new(net),
                    twin,
                    method,
                    steps: (training.settle_ms / dt).round() as usize,
                    dt,
                }
            }
        })
    }

    fn settle(&mut self, net: &Network, state: &mut State, drive: &Drive) -> Result<(), String> {
        match self {
            Settler::TwoPass => Ok(()),
            Settler::FixedPoint(fp) => fp
                .settle(net, state, drive)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Settler::Euler {
                twin,
                twin_state,
                method,
                steps,
                dt,
                ..
            } => {
                copy_parameters(net, state, twin, twin_state);
                let np = net.layout.n_potentials;
                twin_state.y[..np].copy_from_slice(&state.y[..np]);
                for n in 0..*steps {
                    method
                        .step(twin, twin_state, drive, n as f64 * *dt, *dt)
                        .map_err(|e| e.to_string())?;
                }
                state.y[..np].copy_from_slice(&twin_state.y[..np]);
                Ok(())
            }
        }
    }

    /// Scratch for the dendrites at the settled state.
    fn workspace(&mut self) -> &mut Workspace {
        match self {
            Settler::TwoPass => unreachable!("the two passes keep their own"),
            Settler::FixedPoint(fp) => fp.workspace(),
            Settler::Euler { ws, .. } => ws,
        }
    }
}

/// Backprop (or feedback alignment through the microcircuit's own top-down weights) on the
/// microcircuit's feed-forward limit.
struct Backprop {
    ff: FeedForward,
    credit: Credit,
    eta: Vec<f64>,
    learn_bias: bool,
    /// L2 weight decay β: W_k ← (1 − η_k β) W_k after each step.
    weight_decay: f64,
}

impl Learner for Backprop {
    fn step(&mut self, x: &Array2<f64>, target: &Array2<f64>) -> Result<(), String> {
        self.ff
            .step(x, target, self.credit, &self.eta, self.learn_bias);
        if self.weight_decay > 0.0 {
            for (w, eta) in self.ff.w.iter_mut().zip(&self.eta) {
                *w *= 1.0 - eta * self.weight_decay;
            }
        }
        Ok(())
    }

    fn error_percent(&mut self, images: &Array2<f64>, labels: &[u8]) -> f64 {
        let mut wrong = 0;
        for start in (0..labels.len()).step_by(1000) {
            let end = (start + 1000).min(labels.len());
            let xs = images.slice(ndarray::s![start..end, ..]).to_owned();
            let fwd = self.ff.forward(&xs);
            wrong += fwd.u[self.ff.n_layers()]
                .axis_iter(Axis(0))
                .zip(&labels[start..end])
                .filter(|(row, l)| argmax(*row) != **l as usize)
                .count();
        }
        100.0 * wrong as f64 / labels.len() as f64
    }

    fn scale_rates(&mut self, factor: f64) {
        self.eta.iter_mut().for_each(|e| *e *= factor);
    }

    fn check(&self, epoch: f64) -> Result<(), String> {
        for (k, w) in self.ff.w.iter().enumerate() {
            if w.iter().any(|v| !v.is_finite()) {
                return Err(format!(
                    "backprop diverged by epoch {epoch:.2}: W_{} is not finite",
                    k + 1
                ));
            }
        }
        Ok(())
    }
}

/// Runs the study for one seed: the scenario's learner over its epochs.
pub fn run(
    scenario: &Scenario,
    seed: u64,
    progress: Option<&ProgressBar>,
) -> Result<RunOutput, RunError> {
    let training = scenario.mnist.as_ref().expect("validated");
    let TaskConfig::Mnist {
        dir,
        train,
        validation,
        test,
        rate_low,
        rate_high,
    } = &scenario.task
    else {
        unreachable!("validated")
    };
    let data: Mnist = load(Path::new(dir)).map_err(|e| RunError::Task {
        seed,
        message: format!("{e} (run `make data` to install MNIST)"),
    })?;
    let phi = scenario.network.phi;
    let (Some(u_low), Some(u_high)) = (phi.inverse(*rate_low), phi.inverse(*rate_high)) else {
        return Err(RunError::Task {
            seed,
            message: "target rates outside the range of φ".into(),
        });
    };
    if train + validation > data.train_labels.len() || *test > data.test_labels.len() {
        return Err(RunError::Task {
            seed,
            message: format!(
                "task.train + task.validation = {} and task.test = {test} exceed the data ({} \
                 training and {} test images)",
                train + validation,
                data.train_labels.len(),
                data.test_labels.len()
            ),
        });
    }
    let train_x = data
        .train_images
        .slice(ndarray::s![..*train, ..])
        .to_owned();
    let train_y = &data.train_labels[..*train];
    let val_x = data
        .train_images
        .slice(ndarray::s![*train..*train + *validation, ..])
        .to_owned();
    let val_y = &data.train_labels[*train..*train + *validation];
    let test_x = data.test_images.slice(ndarray::s![..*test, ..]).to_owned();
    let test_y = &data.test_labels[..*test];
    let b = training.batch;
    let (net, state) = initial_network(scenario.network.clone(), b, scenario, seed)?;
    let n = net.n_layers();
    let (name, mut learner): (&str, Box<dyn Learner>) = match training.learner {
        MnistLearner::Microcircuit => (
            "microcircuit",
            Box::new(Microcircuit::new(
                net,
                state,
                training,
                scenario.protocol.dt,
                seed,
            )?),
        ),
        MnistLearner::Backprop | MnistLearner::FeedbackAlignment => {
            let mut ff = FeedForward::from_microcircuit(&net, &state);
            ff.loss = training.backprop_loss;
            let (name, credit) = match training.learner {
                MnistLearner::Backprop => ("backprop", Credit::Backprop),
                _ => ("feedback_alignment", Credit::FeedbackAlignment),
            };
            (
                name,
                Box::new(Backprop {
                    ff,
                    credit,
                    eta: training.backprop_eta.clone().expect("validated"),
                    learn_bias: scenario.network.bias,
                    weight_decay: training.backprop_weight_decay,
                }),
            )
        }
    };
    let mut batches = Minibatches::new(&train_x, train_y, b, (u_low, u_high));
    let steps_per_epoch = batches.steps();
    let eval_every = (steps_per_epoch / training.evaluations_per_epoch).max(1);
    let mut series = TimeSeries::default();
    let mut summary = SummaryRow::new();
    let mut rng = Rng::derived(seed, stream::PATTERNS);
    // (validation error, test error, epoch) of the best validation so far.
    let mut best = (f64::INFINITY, f64::NAN, f64::NAN);
    let started = Instant::now();
    let mut train_time = 0.0;
    let mut eval_time = 0.0;
    let mut images_seen = 0usize;
    let diverged = |message: String| RunError::Task { seed, message };
    let mut evaluate = |learner: &mut Box<dyn Learner>, epoch: f64, best: &mut (f64, f64, f64)| {
        let t0 = Instant::now();
        learner.check(epoch).map_err(diverged)?;
        let v = learner.error_percent(&val_x, val_y);
        let te = learner.error_percent(&test_x, test_y);
        series.push(name, epoch, "validation_error", n as i64, -1, v);
        series.push(name, epoch, "test_error", n as i64, -1, te);
        learner.probe(name, epoch, &mut series);
        if v < best.0 {
            *best = (v, te, epoch);
        }
        eval_time += t0.elapsed().as_secs_f64();
        Ok::<(), RunError>(())
    };
    evaluate(&mut learner, 0.0, &mut best)?;
    for epoch in 0..training.epochs {
        batches.shuffle(&mut rng);
        for step in 0..steps_per_epoch {
            batches.fill(step);
            let t0 = Instant::now();
            learner
                .step(&batches.x, &batches.target)
                .map_err(|message| RunError::Task {
                    seed,
                    message: format!("epoch {}, minibatch {step}: {message}", epoch + 1),
                })?;
            train_time += t0.elapsed().as_secs_f64();
            images_seen += b;
            if let Some(pb) = progress {
                pb.inc(1);
            }
            if (step + 1) % eval_every == 0 || step + 1 == steps_per_epoch {
                let e = epoch as f64 + (step + 1) as f64 / steps_per_epoch as f64;
                evaluate(&mut learner, e, &mut best)?;
            }
        }
        if training.eta_decay_per_epoch != 1.0 {
            learner.scale_rates(training.eta_decay_per_epoch);
        }
    }
    let epochs = images_seen as f64 / *train as f64;
    num(&mut summary, "test_error", best.1);
    num(&mut summary, "validation_error", best.0);
    num(&mut summary, "best_epoch", best.2);
    num(&mut summary, "epochs_trained", epochs);
    num(&mut summary, "epoch_time_s", train_time / epochs);
    num(&mut summary, "evaluation_time_s", eval_time);
    num(&mut summary, "images_seen", images_seen as f64);
    num(
        &mut summary,
        "total_time_s",
        started.elapsed().as_secs_f64(),
    );
    learner.report(&mut summary);
    Ok(RunOutput {
        seed,
        series,
        summary,
        table: Vec::new(),
    })
}
