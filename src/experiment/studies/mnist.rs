//! The MNIST study (paper Fig. 3, paper-spec §6.3–6.4): one learner per run — the two-pass
//! steady-state learner on minibatches (one GEMM per layer and synapse group for the whole
//! minibatch, no allocation per step) or backprop on the same feed-forward network — with
//! validation and test error during training and the test error of the best-validation
//! evaluation as the result. The paper's variants (single layer, frozen hidden→hidden weights,
//! 784-1000-10 with learned top-down weights) are scenario variants of the same learner.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::ProgressBar;
use ndarray::{Array2, Axis};

use crate::baseline::{Credit, FeedForward};
use crate::experiment::probe::copy_parameters;
use crate::experiment::protocol::{RunError, RunOutput, initial_network, num, stream};
use crate::experiment::scenario::{
    InterneuronRescaling, InterneuronTeaching, MnistLearner, MnistSettle, MnistTraining, Scenario,
};
use crate::model::{Drive, Network, Projection, State, Workspace};
use crate::record::npz::{self, NpyArray, NpyData};
use crate::record::{SummaryRow, TimeSeries};
use crate::rng::Rng;
use crate::solve::{Euler, FixedPoint, Method, MethodKind, SteadyState, TwoPass};
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

    /// A copy with the same images and shapes (its order is overwritten by the caller).
    fn clone_shape(&self) -> Minibatches<'a> {
        Minibatches {
            images: self.images,
            labels: self.labels,
            order: self.order.clone(),
            levels: self.levels,
            x: Array2::zeros((0, 0)),
            target: Array2::zeros((0, 0)),
        }
    }

    /// The current order of the images (for checkpoints).
    pub(crate) fn order(&self) -> &[usize] {
        &self.order
    }

    /// Restores an order saved from [`Minibatches::order`].
    pub(crate) fn set_order(&mut self, order: &[usize]) -> Result<(), String> {
        let mut seen = vec![false; self.order.len()];
        if order.len() != self.order.len()
            || order
                .iter()
                .any(|&i| i >= seen.len() || std::mem::replace(&mut seen[i], true))
        {
            return Err(
                "checkpoint's minibatch order is not a permutation of the training images".into(),
            );
        }
        self.order.copy_from_slice(order);
        Ok(())
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
    /// The arrays that restore the learner (weights, potentials, …), or None when it cannot
    /// be checkpointed.
    fn checkpoint(&self) -> Option<BTreeMap<String, NpyArray>> {
        None
    }
    /// Restores what [`Learner::checkpoint`] saved.
    fn restore(&mut self, _arrays: &BTreeMap<String, NpyArray>) -> Result<(), String> {
        Err("this learner has no checkpoints".into())
    }
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

    /// Every weight matrix by name (`w_up_1`, …, as NumPy arrays n_post × n_pre) and the flat
    /// state vectors `y` and `p` the run resumes from.
    fn checkpoint(&self) -> Option<BTreeMap<String, NpyArray>> {
        let mut out = state_arrays(&self.net, &self.state);
        out.insert("eta_two_pass".into(), f64_array(self.eta.clone()));
        if let Some(free) = &self.eta_free {
            out.insert("eta_two_pass_free".into(), f64_array(free.clone()));
        }
        Some(out)
    }

    fn restore(&mut self, arrays: &BTreeMap<String, NpyArray>) -> Result<(), String> {
        restore_state(&mut self.state, arrays)?;
        let rates = |k: &str, n: usize| match arrays.get(k).map(|a| &a.data) {
            Some(NpyData::F64(v)) if v.len() == n => Ok(v.clone()),
            _ => Err(format!("checkpoint has no '{k}' of length {n}")),
        };
        self.eta = rates("eta_two_pass", self.eta.len())?;
        if let Some(free) = &mut self.eta_free {
            *free = rates("eta_two_pass_free", free.len())?;
        }
        Ok(())
    }
}

/// The checkpoint arrays of a microcircuit state: its weights and biases by name (`w_up_1`,
/// `b_w_up_1`, …), and `y`, `p`.
fn state_arrays(net: &Network, state: &State) -> BTreeMap<String, NpyArray> {
    let mut out = BTreeMap::new();
    for syn in &net.layout.synapses {
        let name = format!("{}_{}", syn.projection.name(), syn.layer);
        for (key, block) in [(name.clone(), Some(syn.w)), (format!("b_{name}"), syn.bias)] {
            if let Some(block) = block {
                out.insert(
                    key,
                    NpyArray {
                        shape: vec![block.rows, block.cols],
                        data: NpyData::F64(state.view(&block).iter().copied().collect()),
                    },
                );
            }
        }
    }
    for (name, v) in [("y", &state.y), ("p", &state.p)] {
        out.insert(
            name.to_string(),
            NpyArray {
                shape: vec![v.len()],
                data: NpyData::F64(v.clone()),
            },
        );
    }
    out
}

/// Copies `y` and `p` of a checkpoint back into a state of the same layout.
fn restore_state(state: &mut State, arrays: &BTreeMap<String, NpyArray>) -> Result<(), String> {
    for (name, v) in [("y", &mut state.y), ("p", &mut state.p)] {
        match arrays.get(name).map(|a| &a.data) {
            Some(NpyData::F64(data)) if data.len() == v.len() => v.copy_from_slice(data),
            Some(NpyData::F64(data)) => {
                return Err(format!(
                    "checkpoint array '{name}' has {} entries, the network {}",
                    data.len(),
                    v.len()
                ));
            }
            _ => return Err(format!("checkpoint has no float64 array '{name}'")),
        }
    }
    Ok(())
}

/// The full continuous-time learner (issue 17): the microcircuit's ODE with plasticity on
/// while each minibatch is presented, integrated by the fused forward Euler at `dt`. Each
/// presentation holds the weights for `settle_steps` steps (the potentials leave the last
/// image's state), then learns for `learn_steps` steps; the rates per ms are the two-pass
/// learner's η (rescaled the same way) divided by the learning time, so that a settled
/// presentation changes the weights as one two-pass update does. Potentials carry over from
/// one minibatch to the next. Evaluation, probes and checks are those of the inner two-pass
/// learner, on the same state.
pub(crate) struct Dynamics {
    inner: Microcircuit,
    net: Network,
    euler: Euler,
    dt: f64,
    settle_steps: usize,
    learn_steps: usize,
    /// Steps taken (simulated time = steps · dt).
    steps: u64,
}

impl Dynamics {
    pub(crate) fn new(
        inner: Microcircuit,
        training: &MnistTraining,
        dt: f64,
        seed: u64,
    ) -> Result<Self, RunError> {
        let two_pass = &inner.net;
        let eta = learning_rates(two_pass, training);
        let mut config = two_pass.config.clone();
        let p = &mut config.plasticity;
        p.tau_w = 0.0;
        p.eta_scale = 1.0;
        p.clip = None;
        let n = two_pass.n_layers();
        p.eta_up = vec![0.0; n];
        p.eta_down = vec![0.0; n - 1];
        p.eta_ip = vec![0.0; n - 1];
        p.eta_pi = vec![0.0; n - 1];
        let settle_steps = (training.settle_ms / dt).round() as usize;
        let learn_steps = (training.learn_ms / dt).round() as usize;
        let per_ms = 1.0 / (learn_steps as f64 * dt);
        for (syn, &e) in two_pass.layout.synapses.iter().zip(&eta) {
            let k = syn.layer;
            let slot = match syn.projection {
                Projection::Up => &mut p.eta_up[k - 1],
                Projection::Down => &mut p.eta_down[k - 1],
                Projection::Ip => &mut p.eta_ip[k - 1],
                Projection::Pi => &mut p.eta_pi[k - 1],
            };
            *slot = e * per_ms;
        }
        let net = Network::new(config, two_pass.batch())
            .map_err(|source| RunError::Model { seed, source })?;
        // The same groups are plastic, so the state has the same layout.
        let same = net
            .layout
            .synapses
            .iter()
            .zip(&two_pass.layout.synapses)
            .all(|(a, b)| a.w == b.w && a.bias == b.bias)
            && net.layout.n_dynamic == two_pass.layout.n_dynamic;
        if !same {
            return Err(RunError::Task {
                seed,
                message: "the dynamics learner needs the two-pass learner's plastic groups to have non-zero rates (and no τ_w traces)".into(),
            });
        }
        Ok(Dynamics {
            euler: Euler::new(&net, seed),
            inner,
            net,
            dt,
            settle_steps,
            learn_steps,
            steps: 0,
        })
    }
}

impl Learner for Dynamics {
    fn step(&mut self, x: &Array2<f64>, target: &Array2<f64>) -> Result<(), String> {
        let drive = Drive::nudged(x.view(), target.view());
        let state = &mut self.inner.state;
        for (n, learning) in [(self.settle_steps, 0.0), (self.learn_steps, 1.0)] {
            self.euler.set_learning(learning);
            for _ in 0..n {
                let t = self.steps as f64 * self.dt;
                self.euler
                    .step(&self.net, state, &drive, t, self.dt)
                    .map_err(|e| e.to_string())?;
                self.steps += 1;
            }
        }
        Ok(())
    }

    fn error_percent(&mut self, images: &Array2<f64>, labels: &[u8]) -> f64 {
        self.inner.error_percent(images, labels)
    }

    fn check(&self, epoch: f64) -> Result<(), String> {
        self.inner.check(epoch)
    }

    fn report(&self, summary: &mut SummaryRow) {
        num(summary, "dynamics_steps", self.steps as f64);
        num(
            summary,
            "dynamics_simulated_s",
            self.steps as f64 * self.dt / 1000.0,
        );
        num(summary, "dynamics_dt_ms", self.dt);
        num(summary, "dynamics_settle_steps", self.settle_steps as f64);
        num(summary, "dynamics_learn_steps", self.learn_steps as f64);
    }

    fn scale_rates(&mut self, factor: f64) {
        for syn in &mut self.net.layout.synapses {
            syn.eta *= factor;
        }
    }

    fn probe(&self, name: &str, epoch: f64, series: &mut TimeSeries) {
        self.inner.probe(name, epoch, series);
    }

    /// As the two-pass learner's, plus the learning rates (they decay per epoch) and the
    /// step count.
    fn checkpoint(&self) -> Option<BTreeMap<String, NpyArray>> {
        let mut out = state_arrays(&self.net, &self.inner.state);
        let eta: Vec<f64> = self.net.layout.synapses.iter().map(|s| s.eta).collect();
        out.insert(
            "eta_per_ms".into(),
            NpyArray {
                shape: vec![eta.len()],
                data: NpyData::F64(eta),
            },
        );
        out.insert(
            "steps".into(),
            NpyArray {
                shape: vec![1],
                data: NpyData::U64(vec![self.steps]),
            },
        );
        Some(out)
    }

    fn restore(&mut self, arrays: &BTreeMap<String, NpyArray>) -> Result<(), String> {
        restore_state(&mut self.inner.state, arrays)?;
        match arrays.get("eta_per_ms").map(|a| &a.data) {
            Some(NpyData::F64(eta)) if eta.len() == self.net.layout.synapses.len() => {
                for (syn, &e) in self.net.layout.synapses.iter_mut().zip(eta) {
                    syn.eta = e;
                }
            }
            _ => return Err("checkpoint has no 'eta_per_ms' of the right length".into()),
        }
        if let Some(NpyData::U64(s)) = arrays.get("steps").map(|a| &a.data) {
            self.steps = s.first().copied().unwrap_or(0);
        }
        Ok(())
    }
}

/// How the microcircuit settles before an update when not by the two passes alone.
#[allow(
    clippy::large_enum_variant,
    reason = "one per learner, built once per run: boxing the Euler twin saves nothing"
)]
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
            // The dynamics learner steps its own Euler; its inner two-pass learner only evaluates.
            MnistSettle::TwoPass | MnistSettle::Dynamics => Settler::TwoPass,
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
    /// Buffers of the training step (sized at the first minibatch).
    ws: Option<crate::baseline::TrainWorkspace>,
    credit: Credit,
    eta: Vec<f64>,
    learn_bias: bool,
    /// L2 weight decay β: W_k ← (1 − η_k β) W_k after each step.
    weight_decay: f64,
}

impl Learner for Backprop {
    fn step(&mut self, x: &Array2<f64>, target: &Array2<f64>) -> Result<(), String> {
        let ws = self
            .ws
            .get_or_insert_with(|| crate::baseline::TrainWorkspace::new(&self.ff, x.nrows()));
        self.ff.train_step(
            ws,
            x,
            target,
            self.credit,
            &self.eta,
            self.learn_bias,
            self.weight_decay,
        );
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

    /// The feed-forward weights `ff_w_k` (n_k × n_{k−1}), biases `ff_b_k`, feedback matrices
    /// `ff_feedback_k` and the (decayed) rates `eta_backprop`: plain SGD keeps no other state.
    fn checkpoint(&self) -> Option<BTreeMap<String, NpyArray>> {
        let mut out = BTreeMap::new();
        let matrix = |m: &Array2<f64>| NpyArray {
            shape: vec![m.nrows(), m.ncols()],
            data: NpyData::F64(m.iter().copied().collect()),
        };
        for (k, w) in self.ff.w.iter().enumerate() {
            out.insert(format!("ff_w_{}", k + 1), matrix(w));
        }
        for (k, b) in self.ff.b.iter().enumerate() {
            out.insert(format!("ff_b_{}", k + 1), f64_array(b.to_vec()));
        }
        for (k, f) in self.ff.feedback.iter().enumerate() {
            out.insert(format!("ff_feedback_{}", k + 1), matrix(f));
        }
        out.insert("eta_backprop".into(), f64_array(self.eta.clone()));
        Some(out)
    }

    fn restore(&mut self, arrays: &BTreeMap<String, NpyArray>) -> Result<(), String> {
        let take = |name: &str, target: &mut [f64]| -> Result<(), String> {
            match arrays.get(name).map(|a| &a.data) {
                Some(NpyData::F64(v)) if v.len() == target.len() => {
                    target.copy_from_slice(v);
                    Ok(())
                }
                _ => Err(format!(
                    "checkpoint has no float64 '{name}' of {} entries",
                    target.len()
                )),
            }
        };
        for (k, w) in self.ff.w.iter_mut().enumerate() {
            take(
                &format!("ff_w_{}", k + 1),
                w.as_slice_mut().expect("contiguous"),
            )?;
        }
        for (k, b) in self.ff.b.iter_mut().enumerate() {
            take(
                &format!("ff_b_{}", k + 1),
                b.as_slice_mut().expect("contiguous"),
            )?;
        }
        for (k, f) in self.ff.feedback.iter_mut().enumerate() {
            take(
                &format!("ff_feedback_{}", k + 1),
                f.as_slice_mut().expect("contiguous"),
            )?;
        }
        take("eta_backprop", &mut self.eta)
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

/// The scenario's learner, starting from `net` and `state`, and its name in the results.
pub(crate) fn build_learner(
    scenario: &Scenario,
    training: &MnistTraining,
    net: Network,
    state: State,
    seed: u64,
) -> Result<(&'static str, Box<dyn Learner>), RunError> {
    Ok(match training.learner {
        MnistLearner::Microcircuit if training.settle == MnistSettle::Dynamics => {
            let dt = scenario.protocol.dt;
            let inner = Microcircuit::new(net, state, training, dt, seed)?;
            (
                "dynamics",
                Box::new(Dynamics::new(inner, training, dt, seed)?),
            )
        }
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
                    ws: None,
                    credit,
                    eta: training.backprop_eta.clone().expect("validated"),
                    learn_bias: scenario.network.bias,
                    weight_decay: training.backprop_weight_decay,
                }),
            )
        }
    })
}

/// Runs the study for one seed: the scenario's learner over its epochs.
pub fn run(
    scenario: &Scenario,
    training: &MnistTraining,
    seed: u64,
    progress: Option<&ProgressBar>,
    checkpoints: Option<&Path>,
) -> Result<RunOutput, RunError> {
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
    crate::task::mnist::check_pixels(&data, Path::new(dir), scenario.network.sizes[0]).map_err(
        |e| RunError::Task {
            seed,
            message: e.to_string(),
        },
    )?;
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
    let (name, mut learner) = build_learner(scenario, training, net, state, seed)?;
    let mut batches = Minibatches::new(&train_x, train_y, b, (u_low, u_high));
    let steps_per_epoch = batches.steps();
    let eval_every = (steps_per_epoch / training.evaluations_per_epoch).max(1);
    let mut series = TimeSeries::default();
    let mut summary = SummaryRow::new();
    let mut rng = Rng::derived(seed, stream::PATTERNS);
    // (validation error, test error, epoch) of the best validation so far.
    let mut best = (f64::INFINITY, f64::NAN, f64::NAN);
    let started = Instant::now();
    let mut progress_state = Progress::default();
    let task_error = |message: String| RunError::Task { seed, message };
    // Every N images (and at epochs' ends) when asked for; at epochs' ends in the driver's
    // directory otherwise.
    let checkpoint = if training.checkpoint_images > 0 {
        Some(checkpoint_path(scenario, training, seed))
    } else {
        checkpoints.map(|dir| dir.join(checkpoint_file(scenario, seed)))
    };
    let mut resume_at = None;
    if let Some(path) = checkpoint.as_ref().filter(|p| p.exists()) {
        let arrays = npz::read(path).map_err(task_error)?;
        learner
            .restore(&arrays)
            .and_then(|()| progress_state.restore(&arrays, &mut rng, &mut batches))
            .map_err(|m| task_error(format!("resuming from {}: {m}", path.display())))?;
        for (e, v, t) in progress_state.evaluations.clone() {
            series.push(name, e, "validation_error", n as i64, -1, v);
            series.push(name, e, "test_error", n as i64, -1, t);
            if v < best.0 {
                best = (v, t, e);
            }
        }
        resume_at = Some((progress_state.epoch, progress_state.next_step));
        tracing::info!(
            "{}: resuming seed {seed} from {} (epoch {}, minibatch {})",
            scenario.name,
            path.display(),
            progress_state.epoch + 1,
            progress_state.next_step
        );
    }
    let diverged = |message: String| RunError::Task { seed, message };
    let mut evaluate = |learner: &mut Box<dyn Learner>,
                        epoch: f64,
                        best: &mut (f64, f64, f64),
                        ps: &mut Progress| {
        let t0 = Instant::now();
        learner.check(epoch).map_err(diverged)?;
        let v = learner.error_percent(&val_x, val_y);
        let te = learner.error_percent(&test_x, test_y);
        series.push(name, epoch, "validation_error", n as i64, -1, v);
        series.push(name, epoch, "test_error", n as i64, -1, te);
        learner.probe(name, epoch, &mut series);
        ps.evaluations.push((epoch, v, te));
        if v < best.0 {
            *best = (v, te, epoch);
        }
        ps.eval_time += t0.elapsed().as_secs_f64();
        Ok::<(), RunError>(())
    };
    if resume_at.is_none() {
        evaluate(&mut learner, 0.0, &mut best, &mut progress_state)?;
    }
    let save_every = if training.checkpoint_images > 0 {
        training.checkpoint_images.div_ceil(b).max(1)
    } else {
        usize::MAX
    };
    let mut images_this_run = 0usize;
    let (first_epoch, first_step) = resume_at.unwrap_or((0, 0));
    for epoch in first_epoch..training.epochs {
        // A run resumed in the middle of an epoch has its order; otherwise shuffle.
        let resumed_here = resume_at.is_some() && epoch == first_epoch && first_step > 0;
        if !resumed_here {
            progress_state.rng_at_epoch_start = rng.state();
            batches.shuffle(&mut rng);
        }
        let start = if resumed_here { first_step } else { 0 };
        for step in start..steps_per_epoch {
            batches.fill(step);
            let t0 = Instant::now();
            learner
                .step(&batches.x, &batches.target)
                .map_err(|message| RunError::Task {
                    seed,
                    message: format!("epoch {}, minibatch {step}: {message}", epoch + 1),
                })?;
            progress_state.train_time += t0.elapsed().as_secs_f64();
            progress_state.images_seen += b;
            if let Some(pb) = progress {
                pb.inc(1);
            }
            if (step + 1) % eval_every == 0 || step + 1 == steps_per_epoch {
                let e = epoch as f64 + (step + 1) as f64 / steps_per_epoch as f64;
                evaluate(&mut learner, e, &mut best, &mut progress_state)?;
            }
            images_this_run += b;
            let stop =
                training.stop_after_images > 0 && images_this_run >= training.stop_after_images;
            if let Some(path) = &checkpoint
                && stop
                && (step + 1 < steps_per_epoch || epoch + 1 < training.epochs)
            {
                // Asked to stop here: the checkpoint, then an error that says how to go on.
                progress_state.epoch = epoch;
                progress_state.next_step = step + 1;
                if step + 1 == steps_per_epoch {
                    if training.eta_decay_per_epoch != 1.0 {
                        learner.scale_rates(training.eta_decay_per_epoch);
                    }
                    progress_state.epoch = epoch + 1;
                    progress_state.next_step = 0;
                    progress_state.rng_at_epoch_start = rng.state();
                }
                save_checkpoint(path, learner.as_ref(), &progress_state, &batches)
                    .map_err(task_error)?;
                return Err(task_error(format!(
                    "stopped after {images_this_run} images as asked (mnist.stop_after_images); \
                     checkpoint {} (epoch {}, minibatch {}): run again to resume",
                    path.display(),
                    progress_state.epoch + 1,
                    progress_state.next_step
                )));
            }
            if let Some(path) = &checkpoint
                && (step + 1) % save_every == 0
                && step + 1 < steps_per_epoch
            {
                progress_state.epoch = epoch;
                progress_state.next_step = step + 1;
                save_checkpoint(path, learner.as_ref(), &progress_state, &batches)
                    .map_err(task_error)?;
            }
        }
        if training.eta_decay_per_epoch != 1.0 {
            learner.scale_rates(training.eta_decay_per_epoch);
        }
        if let Some(path) = &checkpoint
            && epoch + 1 < training.epochs
        {
            // At an epoch's end (rates decayed): the next epoch starts with its shuffle.
            progress_state.epoch = epoch + 1;
            progress_state.next_step = 0;
            progress_state.rng_at_epoch_start = rng.state();
            save_checkpoint(path, learner.as_ref(), &progress_state, &batches)
                .map_err(task_error)?;
        }
    }
    let Progress {
        train_time,
        eval_time,
        images_seen,
        ..
    } = progress_state;
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
    if let Some(path) = checkpoint.filter(|p| p.exists()) {
        std::fs::remove_file(&path).map_err(|e| {
            task_error(format!(
                "removing the finished run's checkpoint {}: {e}",
                path.display()
            ))
        })?;
    }
    Ok(RunOutput {
        seed,
        series,
        summary,
        table: Vec::new(),
        weights: learner.checkpoint().map(weights_only),
    })
}

/// Where a run's checkpoint lives: `<checkpoint_dir>/<name>-<fingerprint>-seed<seed>.npz`,
/// the fingerprint being the CRC-32 of the scenario as run (so an edited scenario, or another
/// variant of a sweep, never resumes from another's state).
pub fn checkpoint_path(scenario: &Scenario, training: &MnistTraining, seed: u64) -> PathBuf {
    Path::new(&training.checkpoint_dir).join(checkpoint_file(scenario, seed))
}

/// `<name>-<fingerprint>-seed<seed>.npz`, the fingerprint a CRC of the scenario with
/// `stop_after_images` zeroed (so a stopped run and its continuation share it).
pub(crate) fn checkpoint_file(scenario: &Scenario, seed: u64) -> String {
    let mut fingerprinted = scenario.clone();
    if let Some(m) = fingerprinted.study.training_mut() {
        m.stop_after_images = 0;
    }
    let text = toml::to_string(&fingerprinted).unwrap_or_default();
    format!(
        "{}-{:08x}-seed{seed}.npz",
        scenario.name,
        npz::crc32(text.as_bytes())
    )
}

/// The training loop's own state, saved beside the learner's.
#[derive(Clone, Debug, Default)]
struct Progress {
    /// Epoch (from 0) and the next minibatch of it.
    epoch: usize,
    next_step: usize,
    /// The minibatch RNG's state before this epoch's shuffle.
    rng_at_epoch_start: [u64; 4],
    images_seen: usize,
    train_time: f64,
    eval_time: f64,
    /// (epoch, validation error, test error) of every evaluation so far.
    evaluations: Vec<(f64, f64, f64)>,
}

/// A learner's arrays without its run-time state (`y`, `p`, rates, progress): what
/// `export-weights` hands on and `init.from` reads.
pub(crate) fn weights_only(mut arrays: BTreeMap<String, NpyArray>) -> BTreeMap<String, NpyArray> {
    arrays.retain(|k, _| k.starts_with("w_") || k.starts_with("b_w_") || k.starts_with("ff_"));
    arrays
}

fn f64_array(v: Vec<f64>) -> NpyArray {
    NpyArray {
        shape: vec![v.len()],
        data: NpyData::F64(v),
    }
}

fn u64_array(v: Vec<u64>) -> NpyArray {
    NpyArray {
        shape: vec![v.len()],
        data: NpyData::U64(v),
    }
}

impl Progress {
    fn arrays(&self, batches: &Minibatches) -> BTreeMap<String, NpyArray> {
        let mut a = BTreeMap::new();
        a.insert(
            "progress".into(),
            u64_array(vec![
                self.epoch as u64,
                self.next_step as u64,
                self.images_seen as u64,
            ]),
        );
        a.insert(
            "times".into(),
            f64_array(vec![self.train_time, self.eval_time]),
        );
        a.insert(
            "rng_patterns".into(),
            u64_array(self.rng_at_epoch_start.to_vec()),
        );
        a.insert(
            "order".into(),
            u64_array(batches.order().iter().map(|&i| i as u64).collect()),
        );
        let ev = &self.evaluations;
        a.insert(
            "evaluations".into(),
            NpyArray {
                shape: vec![ev.len(), 3],
                data: NpyData::F64(ev.iter().flat_map(|&(e, v, t)| [e, v, t]).collect()),
            },
        );
        a
    }

    fn restore(
        &mut self,
        a: &BTreeMap<String, NpyArray>,
        rng: &mut Rng,
        batches: &mut Minibatches,
    ) -> Result<(), String> {
        let u64s = |k: &str| match a.get(k).map(|x| &x.data) {
            Some(NpyData::U64(v)) => Ok(v.clone()),
            _ => Err(format!("checkpoint has no uint64 array '{k}'")),
        };
        let f64s = |k: &str| match a.get(k).map(|x| &x.data) {
            Some(NpyData::F64(v)) => Ok(v.clone()),
            _ => Err(format!("checkpoint has no float64 array '{k}'")),
        };
        let p = u64s("progress")?;
        let t = f64s("times")?;
        let r = u64s("rng_patterns")?;
        let ev = f64s("evaluations")?;
        if p.len() != 3 || t.len() != 2 || r.len() != 4 || ev.len() % 3 != 0 {
            return Err("checkpoint arrays of the wrong length".into());
        }
        (self.epoch, self.next_step, self.images_seen) =
            (p[0] as usize, p[1] as usize, p[2] as usize);
        (self.train_time, self.eval_time) = (t[0], t[1]);
        self.rng_at_epoch_start = [r[0], r[1], r[2], r[3]];
        self.evaluations = ev.chunks_exact(3).map(|c| (c[0], c[1], c[2])).collect();
        let order: Vec<usize> = u64s("order")?.into_iter().map(|i| i as usize).collect();
        batches.set_order(&order)?;
        *rng = Rng::from_state(self.rng_at_epoch_start);
        if self.next_step > 0 {
            // In the middle of an epoch: the generator as it was after the epoch's shuffle,
            // by replaying the shuffle from the saved state (the order itself is restored).
            let mut replay = batches.clone_shape();
            replay.shuffle(rng);
            if replay.order != order {
                return Err(
                    "the saved minibatch order does not follow from the saved generator".into(),
                );
            }
        }
        Ok(())
    }
}

fn save_checkpoint(
    path: &Path,
    learner: &dyn Learner,
    progress: &Progress,
    batches: &Minibatches,
) -> Result<(), String> {
    let Some(mut arrays) = learner.checkpoint() else {
        return Err(
            "mnist.checkpoint_images is set but this learner cannot be checkpointed".into(),
        );
    };
    arrays.extend(progress.arrays(batches));
    npz::write(path, &arrays).map_err(|e| format!("writing checkpoint {}: {e}", path.display()))?;
    if crate::record::test_hook::fires("DENDRITIC_TEST_KILL_AFTER_CHECKPOINT") {
        crate::record::test_hook::kill_self();
    }
    Ok(())
}
