//! The paper's two-pass learner (paper-spec §6.4): the potentials of each minibatch by the
//! two passes (or, as a check, settled further by fixed-point iteration or relaxation in
//! simulated time), then rules 7–10 in one GEMM per synapse group.

use std::collections::BTreeMap;

use ndarray::{Array2, Axis};

use super::checkpoint::{f64_array, restore_state, state_arrays};
use super::config::{
    InterneuronRescaling, InterneuronTeaching, RateNormalization, SettleBy, Training,
};
use super::learner::{LearnError, Learner, num};
use crate::model::{Drive, Network, Projection, State, Workspace, copy_parameters};
use crate::record::npz::{NpyArray, NpyData};
use crate::record::{SummaryRow, TimeSeries, X};
use crate::solve::{FixedPoint, MethodKind, Relax, SteadyState, TwoPass};
use crate::task::minibatch::argmax;

/// The two-pass learner's rate per synapse group (in `net.layout.synapses` order): the
/// configured rates, rescaled by the inverse mixing factor when `rescale_by_mixing` (paper-spec
/// §6.3). W^PP_{k,k−1} is divided by s_k, the dilution of the teaching signal reaching layer k;
/// W^IP_{k,k} by λ_I ("interneuron": its rule is a delta rule on the interneuron's own nudging,
/// φ(u^I) − φ(v̂^I) ≈ λ_I φ' (u_{k+1} − v̂^I), our derivation) or by λ_I s_{k+1} / c_k
/// ("tracking": then ΔW^IP_{k,k} = c_k ΔW^PP_{k+1,k} in the linear regime). W^PI and the
/// top-down weights are not rescaled.
pub fn learning_rates(net: &Network, training: &Training) -> Vec<f64> {
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
pub struct TwoPassLearner {
    pub(super) net: Network,
    pub(super) state: State,
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
    /// Whether the rates are divided by the presynaptic power per minibatch.
    normalization: RateNormalization,
    /// The rates of the current minibatch after that normalisation (scratch).
    eta_step: Vec<f64>,
    /// With `interneuron_teaching = "ideal"`: the hidden layers k whose W^IP is set to
    /// c_k W^PP_{k+1,k} after every minibatch (empty otherwise).
    ideal_layers: Vec<usize>,
    eval: Network,
    eval_state: State,
    eval_ws: Workspace,
}

impl TwoPassLearner {
    pub fn new(
        net: Network,
        state: State,
        training: &Training,
        dt: f64,
        seed: u64,
    ) -> Result<Self, LearnError> {
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
        let eval = Network::new(net.config.clone(), 500)?;
        let net_groups = net.layout.synapses.len();
        Ok(TwoPassLearner {
            settle,
            two_pass_u: vec![0.0; net.layout.n_potentials],
            shift: (0.0, 0),
            // The ideal interneurons read W^PP_{k+1,k} right after every update: nothing is
            // held for them.
            two_pass: if ideal_layers.is_empty() {
                TwoPass::holding(&net)
            } else {
                TwoPass::new(&net)
            },
            eval_state: eval.zero_state(),
            eval_ws: Workspace::new(&eval),
            eval,
            net,
            state,
            eta,
            eta_free,
            teaching: training.interneuron_teaching,
            normalization: training.rate_normalization,
            eta_step: vec![0.0; net_groups],
            ideal_layers,
        })
    }
}

impl TwoPassLearner {
    /// The network being trained and its state (every weight change made).
    pub fn network(&mut self) -> (&Network, &State) {
        self.flush();
        (&self.net, &self.state)
    }

    /// Adds the weight changes the two passes hold back (see [`TwoPass::holding`]): called
    /// before anything but the next minibatch's passes reads the weights.
    fn flush(&mut self) {
        self.two_pass.flush(&self.net, &mut self.state);
    }

    /// How many synapse groups' changes are held back from one minibatch to the next upward
    /// pass on this machine (0 where the check of [`crate::linalg::matches_blas`] fails).
    pub fn held_groups(&self) -> usize {
        self.two_pass.held_groups()
    }

    /// This learner adding every weight change at once (the plain path, for comparisons).
    pub fn without_holding(mut self) -> Self {
        self.flush();
        self.two_pass = TwoPass::new(&self.net);
        self
    }

    /// Sets the learning rate of every synapse group of `projection` to `eta` (as is, no
    /// rescaling; 0 holds the group). The group must be plastic in the network's config.
    pub fn set_rate(&mut self, projection: Projection, eta: f64) {
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
    pub fn rates(&self, k: usize) -> ndarray::ArrayView2<'_, f64> {
        self.two_pass.workspace().r[k].view()
    }
}

/// The rates of one minibatch: `eta` as configured, or divided per synapse group by
/// 1 + ⟨‖r_pre‖²⟩ over the batch (the presynaptic rates in `ws`) under
/// [`RateNormalization::Presynaptic`].
fn step_rates(
    normalization: RateNormalization,
    net: &Network,
    ws: &Workspace,
    eta: &[f64],
    out: &mut [f64],
) {
    out.copy_from_slice(eta);
    if normalization == RateNormalization::None {
        return;
    }
    for (i, syn) in net.layout.synapses.iter().enumerate() {
        if eta[i] != 0.0 {
            let pre = net.pre_rates(syn, ws);
            let power = pre.iter().map(|r| r * r).sum::<f64>() / pre.nrows() as f64;
            out[i] = eta[i] / (1.0 + power);
        }
    }
}

impl Learner for TwoPassLearner {
    fn step(&mut self, x: &Array2<f64>, target: &Array2<f64>) -> Result<(), LearnError> {
        if let Some(eta_free) = &self.eta_free {
            self.two_pass
                .passes(&self.net, &mut self.state, &Drive::free(x.view()));
            let ws = self.two_pass.workspace();
            step_rates(
                self.normalization,
                &self.net,
                ws,
                eta_free,
                &mut self.eta_step,
            );
            self.two_pass
                .apply_plasticity(&self.net, &mut self.state, &self.eta_step);
        }
        let drive = Drive::nudged(x.view(), target.view());
        self.two_pass.passes(&self.net, &mut self.state, &drive);
        match &mut self.settle {
            Settler::TwoPass => {
                let ws = self.two_pass.workspace();
                step_rates(
                    self.normalization,
                    &self.net,
                    ws,
                    &self.eta,
                    &mut self.eta_step,
                );
                self.two_pass
                    .apply_plasticity(&self.net, &mut self.state, &self.eta_step);
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
                step_rates(
                    self.normalization,
                    &self.net,
                    ws,
                    &self.eta,
                    &mut self.eta_step,
                );
                self.net
                    .apply_minibatch_plasticity(&mut self.state, ws, &self.eta_step);
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
        self.flush();
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

    /// `interneuron_weight_mismatch` of every hidden layer (see
    /// [`Network::interneuron_weight_mismatch`]);
    /// with plastic top-down weights also their RMS entry, `top_down_alignment` and
    /// `top_down_common_mode`; with a probe set the credit probes of every layer
    /// ([`super::probes::credit_probes`]).
    fn probe(
        &mut self,
        name: &str,
        epoch: f64,
        series: &mut TimeSeries,
        probe_set: Option<(&Array2<f64>, &Array2<f64>)>,
    ) {
        self.flush();
        if let Some((x, target)) = probe_set {
            for p in super::probes::credit_probes(&self.net, &self.state, x, target) {
                let k = p.layer as i64;
                let mut push =
                    |q: &'static str, v: f64| series.push_at(X::Epoch(epoch), name, q, k, -1, v);
                push("update_angle_bp_deg", p.angle_bp_deg);
                push("update_angle_fa_deg", p.angle_fa_deg);
                push("presynaptic_power", p.presynaptic_power);
                if p.layer < self.net.n_layers() {
                    push("apical_rms_free", p.apical_rms_free);
                    push("apical_rms_nudged", p.apical_rms_nudged);
                    push("feedback_angle_deg", p.feedback_angle_deg);
                }
            }
        }
        for k in 1..self.net.n_layers() {
            let m = self.net.interneuron_weight_mismatch(&self.state, k);
            series.push_at(
                X::Epoch(epoch),
                name,
                "interneuron_weight_mismatch",
                k as i64,
                -1,
                m,
            );
            if self.net.config.eta_down(k) != 0.0 {
                let (net, state) = (&self.net, &self.state);
                let down = state.view(&net.w(Projection::Down, k));
                let rms = (down.iter().map(|w| w * w).sum::<f64>() / down.len() as f64).sqrt();
                series.push_at(X::Epoch(epoch), name, "top_down_rms", k as i64, -1, rms);
                let a = net.top_down_alignment(state, k);
                series.push_at(X::Epoch(epoch), name, "top_down_alignment", k as i64, -1, a);
                let c = net.top_down_common_mode(state, k);
                series.push_at(
                    X::Epoch(epoch),
                    name,
                    "top_down_common_mode",
                    k as i64,
                    -1,
                    c,
                );
                let pi = state.view(&net.w(Projection::Pi, k));
                let (mut diff, mut norm) = (0.0, 0.0);
                for (&p, &d) in pi.iter().zip(down.iter()) {
                    diff += (p + d).powi(2);
                    norm += d * d;
                }
                let m = (diff / norm).sqrt();
                series.push_at(X::Epoch(epoch), name, "lateral_mismatch", k as i64, -1, m);
            }
        }
    }

    fn check(&mut self, epoch: f64) -> Result<(), LearnError> {
        self.flush();
        if let Some(i) = self.state.y.iter().position(|v| !v.is_finite()) {
            return Err(LearnError::Diverged(format!(
                "the microcircuit diverged by epoch {epoch:.2}: entry {i} of the state is {}",
                self.state.y[i]
            )));
        }
        crate::solve::check_divergence(&self.eval, &self.eval_state.y, 0.0)
            .map_err(|e| LearnError::Diverged(format!("by epoch {epoch:.2}: {e}")))
    }

    /// Every weight matrix by name (`w_up_1`, …, as NumPy arrays n_post × n_pre) and the flat
    /// state vectors `y` and `p` the run resumes from.
    fn checkpoint(&mut self) -> Option<BTreeMap<String, NpyArray>> {
        self.flush();
        let mut out = state_arrays(&self.net, &self.state);
        out.insert("eta_two_pass".into(), f64_array(self.eta.clone()));
        if let Some(free) = &self.eta_free {
            out.insert("eta_two_pass_free".into(), f64_array(free.clone()));
        }
        Some(out)
    }

    fn restore(&mut self, arrays: &BTreeMap<String, NpyArray>) -> Result<(), LearnError> {
        // Whatever is held lands first: a checkpoint that cannot be read leaves every change.
        self.flush();
        restore_state(&mut self.state, arrays)?;
        let rates = |k: &str, n: usize| match arrays.get(k).map(|a| &a.data) {
            Some(NpyData::F64(v)) if v.len() == n => Ok(v.clone()),
            _ => Err(LearnError::Checkpoint(format!(
                "checkpoint has no '{k}' of length {n}"
            ))),
        };
        self.eta = rates("eta_two_pass", self.eta.len())?;
        if let Some(free) = &mut self.eta_free {
            *free = rates("eta_two_pass_free", free.len())?;
        }
        Ok(())
    }
}

/// How the microcircuit settles before an update: by the two passes alone, or further by a
/// steady-state solver (fixed-point iteration, or relaxation in simulated time on a
/// weight-frozen twin).
#[allow(
    clippy::large_enum_variant,
    reason = "one per learner, built once per run: boxing a solver saves nothing"
)]
enum Settler {
    TwoPass,
    FixedPoint(FixedPoint),
    Relax(Relax),
}

impl Settler {
    fn new(net: &Network, training: &Training, dt: f64, seed: u64) -> Result<Self, LearnError> {
        Ok(match training.settle {
            // The dynamics learner steps its own Euler; its inner two-pass learner only evaluates.
            SettleBy::TwoPass | SettleBy::Dynamics => Settler::TwoPass,
            SettleBy::FixedPoint => {
                Settler::FixedPoint(FixedPoint::new(net, training.settle_tolerance, 5000, 1.0))
            }
            SettleBy::Euler => Settler::Relax(Relax::new(
                net,
                MethodKind::Euler,
                dt,
                training.settle_ms,
                seed,
            )?),
        })
    }

    fn settle(
        &mut self,
        net: &Network,
        state: &mut State,
        drive: &Drive,
    ) -> Result<(), LearnError> {
        let settled = match self {
            Settler::TwoPass => return Ok(()),
            Settler::FixedPoint(fp) => fp.settle(net, state, drive),
            Settler::Relax(relax) => relax.settle(net, state, drive),
        };
        settled.map(|_| ()).map_err(LearnError::from)
    }

    /// Scratch for the dendrites at the settled state.
    fn workspace(&mut self) -> &mut Workspace {
        match self {
            Settler::TwoPass => unreachable!("the two passes keep their own"),
            Settler::FixedPoint(fp) => fp.workspace(),
            Settler::Relax(relax) => relax.workspace(),
        }
    }
}
