//! Model parameters: conductances, nudging, noise, plasticity (paper-spec §2–3, §9).
//!
//! Every struct maps one-to-one to a TOML table of a scenario file; unknown keys are refused.

use serde::{Deserialize, Serialize};

use super::error::ModelError;
use super::transfer::Transfer;

/// Conductances in ms⁻¹ (capacitance 1, resting potential 0), paper Eqs. 1–2.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conductances {
    /// g_lk, leak.
    pub g_lk: f64,
    /// g_B, basal dendrite → soma.
    pub g_b: f64,
    /// g_A, apical dendrite → soma (hidden layers; the output layer has none).
    pub g_a: f64,
    /// g_D, interneuron dendrite → soma.
    pub g_d: f64,
    /// g_som, somatic nudging of the output (by the target) and of interneurons (by the layer above).
    pub g_som: f64,
}

impl Default for Conductances {
    /// The values every public reimplementation uses (paper-spec §9): 0.1, 1, 0.8, 1, 0.8.
    fn default() -> Self {
        Conductances {
            g_lk: 0.1,
            g_b: 1.0,
            g_a: 0.8,
            g_d: 1.0,
            g_som: 0.8,
        }
    }
}

impl Conductances {
    /// λ_A = g_A/(g_lk+g_B+g_A), the apical mixing factor of a hidden cell (paper-spec §2.6).
    pub fn lambda_apical(&self) -> f64 {
        self.g_a / (self.g_lk + self.g_b + self.g_a)
    }
    /// λ_N = g_som/(g_lk+g_B+g_som), the target mixing factor of an output cell.
    pub fn lambda_output(&self) -> f64 {
        self.g_som / (self.g_lk + self.g_b + self.g_som)
    }
    /// λ_I = g_som/(g_lk+g_D+g_som), the nudging mixing factor of an interneuron.
    pub fn lambda_interneuron(&self) -> f64 {
        self.g_som / (self.g_lk + self.g_d + self.g_som)
    }
    /// Basal attenuation of Eq. 7, g_B/(g_lk+g_B+g_A), with g_A = 0 for the output layer.
    pub fn basal_attenuation(&self, is_output: bool) -> f64 {
        let g_a = if is_output { 0.0 } else { self.g_a };
        self.g_b / (self.g_lk + self.g_b + g_a)
    }
    /// Dendritic attenuation of Eq. 8, g_D/(g_lk+g_D).
    pub fn interneuron_attenuation(&self) -> f64 {
        self.g_d / (self.g_lk + self.g_d)
    }
}

/// How a target (or the upper-layer potential, for interneurons) nudges a soma (paper-spec §2.3–2.4).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Nudging {
    /// i = g_som (u_trgt − u).
    #[default]
    Current,
    /// i = g_exc (E_exc − u) + g_inh (E_inh − u), with the balanced conductances
    /// g_exc = g_som (u_trgt − E_inh)/(E_exc − E_inh), g_inh = −g_som (u_trgt − E_exc)/(E_exc − E_inh).
    /// Identical to `Current` while E_inh ≤ u_trgt ≤ E_exc; outside, the negative conductance is
    /// clipped to 0 (documented choice; the paper says nothing).
    Conductance {
        /// E_exc, excitatory reversal potential (T1: +1).
        e_exc: f64,
        /// E_inh, inhibitory reversal potential (T1: −1).
        e_inh: f64,
    },
}

/// How σ ξ(t) is discretised over a step of length dt (paper-spec §2.1, NOT FOUND in the paper).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NoiseConvention {
    /// Euler–Maruyama: increment σ·√dt·ξ (white noise of intensity σ²).
    #[default]
    EulerMaruyama,
    /// The increment σ·dt·ξ used by the public reimplementations T1/T2 (amplitude depends on dt).
    LegacyDt,
}

/// Somatic background noise (Eqs. 1–2).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Noise {
    /// σ, the noise amplitude.
    #[serde(default)]
    pub sigma: f64,
    /// The discretisation convention.
    #[serde(default)]
    pub convention: NoiseConvention,
}

/// Learning rates and filtering of the four plasticity rules (Eqs. 7–10). A rate of 0 freezes the
/// matrix (it then leaves the integrated state).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plasticity {
    /// η^PP_{k,k−1} for k = 1..N (rule 7), one per layer; learnable biases share it.
    #[serde(default)]
    pub eta_up: Vec<f64>,
    /// η^PP_{k,k+1} for k = 1..N−1 (rule 10).
    #[serde(default)]
    pub eta_down: Vec<f64>,
    /// η^IP_{k,k} for k = 1..N−1 (rule 8).
    #[serde(default)]
    pub eta_ip: Vec<f64>,
    /// η^PI_{k,k} for k = 1..N−1 (rule 9).
    #[serde(default)]
    pub eta_pi: Vec<f64>,
    /// τ_w in ms, low-pass filter of the plasticity induction terms (paper-spec §3.1); 0 = unfiltered.
    #[serde(default)]
    pub tau_w: f64,
    /// Multiplies every learning rate (1 by default; a handle for robustness sweeps).
    #[serde(default = "one")]
    pub eta_scale: f64,
    /// Optional bound |w| ≤ clip applied to plastic weights after every step (off by default;
    /// a deviation used by some reimplementations, paper-spec anchors §5.8).
    #[serde(default)]
    pub clip: Option<f64>,
}

fn one() -> f64 {
    1.0
}

impl Default for Plasticity {
    fn default() -> Self {
        Plasticity {
            eta_up: Vec::new(),
            eta_down: Vec::new(),
            eta_ip: Vec::new(),
            eta_pi: Vec::new(),
            tau_w: 0.0,
            eta_scale: 1.0,
            clip: None,
        }
    }
}

/// Everything that defines the network's equations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// Pyramidal layer sizes n_0 (input) … n_N (output); interneurons of layer k number n_{k+1}.
    pub sizes: Vec<usize>,
    /// Transfer function φ, shared by all cells.
    #[serde(default)]
    pub phi: Transfer,
    /// Conductances.
    #[serde(default)]
    pub conductances: Conductances,
    /// Nudging form.
    #[serde(default)]
    pub nudging: Nudging,
    /// Somatic noise.
    #[serde(default)]
    pub noise: Noise,
    /// τ_in in ms: first-order low-pass of the input rates (0 = the input is applied directly).
    #[serde(default)]
    pub tau_in: f64,
    /// Learnable bias per neuron (an input fixed at one with a plastic weight, paper-spec §2.5).
    #[serde(default)]
    pub bias: bool,
    /// Plasticity.
    #[serde(default)]
    pub plasticity: Plasticity,
    /// Disinhibition gate per hidden layer k = 1..N−1 multiplying W^PI φ(u^I) (1 = normal
    /// circuit). Empty = all 1. A design of ours (paper-spec §8.4), not in P1.
    #[serde(default)]
    pub gate: Vec<f64>,
}

impl NetworkConfig {
    /// A network with the given sizes, logistic φ, default conductances, no noise, nothing plastic.
    pub fn new(sizes: &[usize]) -> Self {
        NetworkConfig {
            sizes: sizes.to_vec(),
            phi: Transfer::Logistic,
            conductances: Conductances::default(),
            nudging: Nudging::Current,
            noise: Noise::default(),
            tau_in: 0.0,
            bias: false,
            plasticity: Plasticity::default(),
            gate: Vec::new(),
        }
    }

    /// Index of the output layer, N.
    pub fn n_layers(&self) -> usize {
        self.sizes.len() - 1
    }

    /// Checks sizes, signs and lengths; the error names the offending key.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |key: &str, msg: String| {
            Err(ModelError::InvalidParameter {
                key: key.to_string(),
                message: msg,
            })
        };
        if self.sizes.len() < 2 {
            return bad(
                "sizes",
                format!(
                    "need at least an input and an output layer, got {:?}",
                    self.sizes
                ),
            );
        }
        if let Some(k) = self.sizes.iter().position(|&n| n == 0) {
            return bad(
                "sizes",
                format!("layer {k} has zero neurons in {:?}", self.sizes),
            );
        }
        let c = &self.conductances;
        for (key, g) in [
            ("g_lk", c.g_lk),
            ("g_b", c.g_b),
            ("g_a", c.g_a),
            ("g_d", c.g_d),
            ("g_som", c.g_som),
        ] {
            if !(g >= 0.0 && g.is_finite()) {
                return bad(
                    &format!("conductances.{key}"),
                    format!("conductances must be finite and ≥ 0, got {g}"),
                );
            }
        }
        if c.g_lk + c.g_b <= 0.0 {
            return bad(
                "conductances.g_b",
                "g_lk + g_B must be > 0 (the soma would have no time constant)".into(),
            );
        }
        if c.g_lk + c.g_d <= 0.0 {
            return bad("conductances.g_d", "g_lk + g_D must be > 0".into());
        }
        if let Nudging::Conductance { e_exc, e_inh } = self.nudging
            && (!(e_exc > e_inh) || !e_exc.is_finite() || !e_inh.is_finite())
        {
            return bad(
                "nudging",
                format!("need finite E_exc > E_inh, got E_exc = {e_exc}, E_inh = {e_inh}"),
            );
        }
        if let Err(m) = self.phi.validate() {
            return bad("phi", m);
        }
        if !(self.noise.sigma >= 0.0 && self.noise.sigma.is_finite()) {
            return bad(
                "noise.sigma",
                format!("must be finite and ≥ 0, got {}", self.noise.sigma),
            );
        }
        if !(self.tau_in >= 0.0 && self.tau_in.is_finite()) {
            return bad(
                "tau_in",
                format!("must be finite and ≥ 0 ms, got {}", self.tau_in),
            );
        }
        self.validate_plasticity()
    }

    /// The per-layer rates and gates (one per layer or none), the rate scale, τ_w and the clip.
    fn validate_plasticity(&self) -> Result<(), ModelError> {
        let bad = |key: &str, msg: String| {
            Err(ModelError::InvalidParameter {
                key: key.to_string(),
                message: msg,
            })
        };
        let n = self.n_layers();
        let p = &self.plasticity;
        for (key, v, want) in [
            ("plasticity.eta_up", &p.eta_up, n),
            ("plasticity.eta_down", &p.eta_down, n - 1),
            ("plasticity.eta_ip", &p.eta_ip, n - 1),
            ("plasticity.eta_pi", &p.eta_pi, n - 1),
            ("gate", &self.gate, n - 1),
        ] {
            if !v.is_empty() && v.len() != want {
                return bad(
                    key,
                    format!(
                        "needs {want} values (one per layer) or none, got {}",
                        v.len()
                    ),
                );
            }
            if let Some(x) = v.iter().find(|x| !x.is_finite()) {
                return bad(key, format!("values must be finite, got {x}"));
            }
        }
        if !(p.eta_scale >= 0.0 && p.eta_scale.is_finite()) {
            return bad(
                "plasticity.eta_scale",
                format!("must be finite and ≥ 0, got {}", p.eta_scale),
            );
        }
        if !(p.tau_w >= 0.0 && p.tau_w.is_finite()) {
            return bad(
                "plasticity.tau_w",
                format!("must be finite and ≥ 0 ms, got {}", p.tau_w),
            );
        }
        if let Some(c) = p.clip
            && !(c > 0.0)
        {
            return bad("plasticity.clip", format!("must be > 0, got {c}"));
        }
        Ok(())
    }

    /// Rate of rule 7 for layer k (0 when not given).
    pub fn eta_up(&self, k: usize) -> f64 {
        self.plasticity.eta_up.get(k - 1).copied().unwrap_or(0.0) * self.plasticity.eta_scale
    }
    /// Rate of rule 10 for layer k.
    pub fn eta_down(&self, k: usize) -> f64 {
        self.plasticity.eta_down.get(k - 1).copied().unwrap_or(0.0) * self.plasticity.eta_scale
    }
    /// Rate of rule 8 for layer k.
    pub fn eta_ip(&self, k: usize) -> f64 {
        self.plasticity.eta_ip.get(k - 1).copied().unwrap_or(0.0) * self.plasticity.eta_scale
    }
    /// Rate of rule 9 for layer k.
    pub fn eta_pi(&self, k: usize) -> f64 {
        self.plasticity.eta_pi.get(k - 1).copied().unwrap_or(0.0) * self.plasticity.eta_scale
    }
    /// Disinhibition gate of hidden layer k (1 unless set).
    pub fn gate(&self, k: usize) -> f64 {
        self.gate.get(k - 1).copied().unwrap_or(1.0)
    }
}
