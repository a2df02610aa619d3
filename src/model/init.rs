//! Initialisation (paper-spec §4.2, §6.2): uniform random weights, top-down weights as the
//! transpose of the forward weights or random, the closed-form self-predicting state, and the
//! bottom-up prediction state of the potentials.

use ndarray::Zip;
use serde::{Deserialize, Serialize};

use super::deferred::Deferred;
use super::dynamics::Workspace;
use super::layout::Projection;
use super::network::{Drive, Network, State, nudge};
use crate::rng::Rng;

/// How the top-down weights W^PP_{k,k+1} start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TopDown {
    /// Independent uniform random (feedback alignment when kept fixed).
    #[default]
    Random,
    /// W^PP_{k,k+1} = (W^PP_{k+1,k})^T (backprop in the λ → 0 limit).
    Transpose,
}

/// How weights are drawn. All scales are half-widths of U(−s, s).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Initialisation {
    /// Scale of W^PP_{k,k−1} (paper: U(−1, 1), unverified).
    #[serde(default = "one")]
    pub scale_up: f64,
    /// Scale of W^PP_{k,k+1}.
    #[serde(default = "one")]
    pub scale_down: f64,
    /// Scales of W^PP_{k,k+1} per hidden layer k = 1..N−1, overriding `scale_down` (the
    /// feedback reaching layer k is then set apart from the feedback reaching layer k−1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down_layers: Option<Vec<f64>>,
    /// Scale of W^IP (when not self-predicting).
    #[serde(default = "one")]
    pub scale_ip: f64,
    /// Scale of W^PI (when not self-predicting).
    #[serde(default = "one")]
    pub scale_pi: f64,
    /// Scale of the biases (0: biases start at zero).
    #[serde(default)]
    pub scale_bias: f64,
    /// A constant added to every pyramidal bias b^P_k (0 by default). A negative offset starts
    /// the network with sparse rates (φ(−2) ≈ 0.12 for the logistic), which keeps ‖r_k‖² and
    /// with it the largest stable learning rate of a wide layer in check (our choice for MNIST;
    /// the paper's initial scales are not public).
    #[serde(default)]
    pub bias_offset: f64,
    /// Top-down weights.
    #[serde(default)]
    pub top_down: TopDown,
    /// With `top_down = "transpose"`: W^PP_{k,k+1} = g (W^PP_{k+1,k})^T at the start (1 by
    /// default; a larger g gives the fixed feedback the scale that makes the hidden layers learn
    /// fast, as `scale_down` does for random feedback).
    #[serde(default = "one")]
    pub transpose_gain: f64,
    /// Set W^IP and W^PI to the closed-form self-predicting state (paper-spec §4.2).
    #[serde(default)]
    pub self_predicting: bool,
    /// Weights (and biases) from a NumPy `.npz` file, by the names a run exports
    /// (`w_up_1`, `w_ip_1`, …, `b_w_up_1`, …; `dendritic export-weights`), after the random
    /// initialisation (which they replace wherever the file has a matrix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

fn one() -> f64 {
    1.0
}

impl Default for Initialisation {
    fn default() -> Self {
        Initialisation {
            scale_up: 1.0,
            scale_down: 1.0,
            scale_down_layers: None,
            scale_ip: 1.0,
            scale_pi: 1.0,
            scale_bias: 0.0,
            bias_offset: 0.0,
            top_down: TopDown::Random,
            transpose_gain: 1.0,
            self_predicting: false,
            from: None,
        }
    }
}

impl Network {
    /// Draws every weight and bias as the initialisation says (in a fixed order: up, down, IP,
    /// PI, layer by layer, so the numbers depend only on the seed), then applies the top-down
    /// and self-predicting options. Potentials, traces and the input filter are left as they are.
    pub fn initialise(&self, state: &mut State, init: &Initialisation, rng: &mut Rng) {
        for syn in &self.layout.synapses {
            let s = match syn.projection {
                Projection::Up => init.scale_up,
                Projection::Down => match &init.scale_down_layers {
                    Some(s) => s[syn.layer - 1],
                    None => init.scale_down,
                },
                Projection::Ip => init.scale_ip,
                Projection::Pi => init.scale_pi,
            };
            state
                .view_mut(&syn.w)
                .mapv_inplace(|_| rng.uniform_in(-s, s));
            if let Some(b) = syn.bias {
                let sb = init.scale_bias;
                let offset = if syn.projection == Projection::Up {
                    init.bias_offset
                } else {
                    0.0
                };
                state.view_mut(&b).mapv_inplace(|_| {
                    offset
                        + if sb > 0.0 {
                            rng.uniform_in(-sb, sb)
                        } else {
                            0.0
                        }
                });
            }
        }
        if init.top_down == TopDown::Transpose {
            self.set_top_down_transpose(state);
            let g = init.transpose_gain;
            if g != 1.0 {
                for k in 1..self.n_layers() {
                    state
                        .view_mut(&self.w(Projection::Down, k))
                        .mapv_inplace(|w| g * w);
                }
            }
        }
        if init.self_predicting {
            self.set_self_predicting(state);
        }
    }

    /// The dilution s_k of the teaching signal reaching layer k at steady state, to leading
    /// order in λ (our derivation from paper-spec §2.6): s_N = λ_N, s_k = s_{k+1} λ_A (1 − λ_I).
    /// Indexed by k (entry 0 unused).
    pub fn teaching_dilution(&self) -> Vec<f64> {
        let c = self.config.conductances;
        let n = self.n_layers();
        let mut s = vec![1.0; n + 1];
        s[n] = c.lambda_output();
        for k in (1..n).rev() {
            s[k] = s[k + 1] * c.lambda_apical() * (1.0 - c.lambda_interneuron());
        }
        s
    }

    /// W^PP_{k,k+1} ← (W^PP_{k+1,k})^T for every hidden layer.
    pub fn set_top_down_transpose(&self, state: &mut State) {
        for k in 1..self.n_layers() {
            let up = self.weights(state, Projection::Up, k + 1);
            state.view_mut(&self.w(Projection::Down, k)).assign(&up.t());
        }
    }

    /// The factor c_k with W^IP_{k,k} = c_k W^PP_{k+1,k} in the self-predicting state:
    /// c = g_B (g_lk+g_D) / [g_D (g_lk+g_B+g_A,k+1)], g_A,N = 0 (paper-spec §4.2).
    pub fn self_predicting_factor(&self, k: usize) -> f64 {
        let c = &self.config.conductances;
        c.basal_attenuation(k + 1 == self.n_layers()) / c.interneuron_attenuation()
    }

    /// How far the interneurons of hidden layer k are from predicting the layer above
    /// (paper-spec §4.2): ‖W^IP_{k,k} − c_k W^PP_{k+1,k}‖_F / ‖c_k W^PP_{k+1,k}‖_F; 0 in the
    /// self-predicting state. Any offset (a lag behind a learning W^PP_{k+1,k}, or a teaching
    /// signal learned from the nudged state) reaches the apical dendrites of layer k through
    /// the top-down weights, as an error the layer above does not carry.
    pub fn interneuron_weight_mismatch(&self, state: &State, k: usize) -> f64 {
        let c = self.self_predicting_factor(k);
        let up = state.view(&self.w(Projection::Up, k + 1));
        let ip = state.view(&self.w(Projection::Ip, k));
        let (mut diff, mut norm) = (0.0, 0.0);
        for (&u, &i) in up.iter().zip(ip.iter()) {
            diff += (i - c * u).powi(2);
            norm += (c * u).powi(2);
        }
        (diff / norm).sqrt()
    }

    /// Cosine of the angle between the top-down weights W^PP_{k,k+1} and the transpose of the
    /// forward weights they feed back, (W^PP_{k+1,k})^T: 1 for the transposed (backprop)
    /// feedback, about 0 for random feedback that has not aligned.
    pub fn top_down_alignment(&self, state: &State, k: usize) -> f64 {
        let down = state.view(&self.w(Projection::Down, k));
        let up = state.view(&self.w(Projection::Up, k + 1));
        let (mut dot, mut nd, mut nu) = (0.0, 0.0, 0.0);
        for (&d, &u) in down.iter().zip(up.t().iter()) {
            dot += d * u;
            nd += d * d;
            nu += u * u;
        }
        dot / (nd * nu).sqrt()
    }

    /// The share of ‖W^PP_{k,k+1}‖² in the component common to its columns (each row replaced
    /// by its mean): the part of the top-down input that depends only on Σ_i r_{k+1,i}.
    pub fn top_down_common_mode(&self, state: &State, k: usize) -> f64 {
        let down = state.view(&self.w(Projection::Down, k));
        let cols = down.ncols() as f64;
        let common: f64 = down
            .rows()
            .into_iter()
            .map(|row| row.sum().powi(2) / cols)
            .sum();
        common / down.iter().map(|w| w * w).sum::<f64>()
    }

    /// The closed-form self-predicting weights (paper-spec §4.2): W^PI_{k,k} = −W^PP_{k,k+1},
    /// W^IP_{k,k} = c_k W^PP_{k+1,k} (and the interneuron bias c_k b_{k+1}).
    pub fn set_self_predicting(&self, state: &mut State) {
        for k in 1..self.n_layers() {
            self.set_self_predicting_layer(state, k);
        }
    }

    /// [`Network::set_self_predicting`] for hidden layer k alone.
    pub fn set_self_predicting_layer(&self, state: &mut State, k: usize) {
        {
            let c = self.self_predicting_factor(k);
            let down = self.weights(state, Projection::Down, k);
            state
                .view_mut(&self.w(Projection::Pi, k))
                .assign(&down.mapv(|w| -w));
            let up = self.weights(state, Projection::Up, k + 1);
            state
                .view_mut(&self.w(Projection::Ip, k))
                .assign(&up.mapv(|w| c * w));
            let (b_up, b_ip) = (
                self.layout.synapses(Projection::Up, k + 1).bias,
                self.layout.synapses(Projection::Ip, k).bias,
            );
            if let (Some(bu), Some(bi)) = (b_up, b_ip) {
                let v = state.view(&bu).mapv(|b| c * b);
                state.view_mut(&bi).assign(&v);
            }
        }
    }

    /// The bottom-up prediction state (paper-spec §6.4, first pass): layer by layer,
    /// u^P_k = v̂_B,k = g_B/(g_lk+g_B+g_A) v_B,k (apical input assumed silent), the output
    /// nudged to (1−λ_N) v̂_B + λ_N u_trgt when a target is given, then
    /// u^I_k = (1−λ_I) v̂^I_k + λ_I u^P_{k+1}; the input filter is set to the input.
    /// In a self-predicting network without a target this is the exact steady state.
    pub fn bottom_up_pass(&self, state: &mut State, drive: &Drive, ws: &mut Workspace) {
        self.upward_pass(state, drive, ws, None);
    }

    /// [`Network::bottom_up_pass`], adding the weight changes `held` holds while computing the
    /// dendrites through those weights (the same bits, see [`Deferred`]).
    pub(crate) fn upward_pass(
        &self,
        state: &mut State,
        drive: &Drive,
        ws: &mut Workspace,
        mut held: Option<&mut Deferred>,
    ) {
        let l = &self.layout;
        let n = self.n_layers();
        let c = self.config.conductances;
        if let Some(b) = l.r_in {
            b.view_mut(&mut state.y).assign(&drive.input);
        }
        self.input_rates(&state.y, drive, ws);
        for k in 1..=n {
            self.upward_dendrite(state, ws, Projection::Up, k, held.as_deref_mut());
            let mut u = l.u_pyr[k].view_mut(&mut state.y);
            match (k == n, drive.target) {
                (true, Some(t)) => {
                    Zip::from(&mut u)
                        .and(&ws.v_basal[k])
                        .and(&t)
                        .for_each(|u, &vb, &trg| {
                            *u = self.soma_steady(c.g_b, vb, trg);
                        })
                }
                _ => {
                    let att = c.basal_attenuation(k == n);
                    Zip::from(&mut u)
                        .and(&ws.v_basal[k])
                        .for_each(|u, &vb| *u = att * vb);
                }
            }
            self.pyr_rates(&state.y, ws, k);
        }
        for k in 1..n {
            self.upward_dendrite(state, ws, Projection::Ip, k, held.as_deref_mut());
            self.settle_interneuron(state, ws, k);
        }
        debug_assert!(
            held.is_none_or(|d| !d.is_pending()),
            "a held change outlived the pass"
        );
    }

    /// Steady state of a soma with one dendrite (conductance g_x, potential v) and somatic
    /// nudging towards `trg`: (g_x v + i(0)) / (g_lk + g_x − ∂i/∂u). For current nudging this is
    /// (1−λ) g_x/(g_lk+g_x) v + λ trg with λ = g_som/(g_lk+g_x+g_som) (paper-spec §2.6).
    pub(crate) fn soma_steady(&self, g_x: f64, v: f64, trg: f64) -> f64 {
        let c = self.config.conductances;
        let (i0, di_du, _) = nudge(self.config.nudging, c.g_som, trg, 0.0);
        (g_x * v + i0) / (c.g_lk + g_x - di_du)
    }

    /// u^I_k ← its steady state given v^I_k (in `ws`) and u^P_{k+1}; updates r^I_k.
    pub(crate) fn settle_interneuron(&self, state: &mut State, ws: &mut Workspace, k: usize) {
        let l = &self.layout;
        let g_d = self.config.conductances.g_d;
        let (ui_blk, up_blk) = (l.u_int[k], l.u_pyr[k + 1]);
        // u^I_k and u^P_{k+1} are batch × n_{k+1} blocks of y, cell for cell.
        assert_eq!(ui_blk.cols, up_blk.cols, "interneurons of layer {k}");
        let [ui, up] = state
            .y
            .get_disjoint_mut([ui_blk.range(), up_blk.range()])
            .expect("two blocks of y");
        let v_int = ws.v_int[k].as_slice().expect("standard layout");
        let cells = ui.iter_mut().zip(up.iter()).zip(v_int);
        for ((u, &trg), &v) in cells {
            *u = self.soma_steady(g_d, v, trg);
        }
        self.int_rates(&state.y, ws, k);
    }
}
