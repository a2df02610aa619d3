//! The tables of a scenario file: the protocol, the recording, and each study's own section.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::solve::SteadyStateConfig;

pub use crate::learn::config::{
    InterneuronRescaling, InterneuronTeaching, LearnerKind, SettleBy, Training,
};

/// One step of a disinhibition-gate schedule: from `t_ms` on, hidden layer k's gate is
/// `gate[k − 1]` (1 = the normal circuit, 0 = interneuron inhibition of the apical dendrite
/// silenced).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateStep {
    /// When the step begins, ms from the start of a settling period.
    pub t_ms: f64,
    /// The gate of each hidden layer k = 1..N−1.
    pub gate: Vec<f64>,
}

/// The gate in force at time t of a schedule (the last step with t_ms ≤ t).
pub fn gate_at(schedule: &[GateStep], t_ms: f64) -> &[f64] {
    schedule
        .iter()
        .rev()
        .find(|s| s.t_ms <= t_ms + 1e-9)
        .or(schedule.first())
        .map(|s| s.gate.as_slice())
        .unwrap_or(&[])
}

/// The disinhibition study's settings (training itself is set by `[mnist]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disinhibition {
    /// Rate of the input reconstruction rule (rule 10 at k = 0), per minibatch, not rescaled.
    pub eta_reconstruction: f64,
    /// W_{0,1} starts U(±scale).
    #[serde(default = "default_reconstruction_scale")]
    pub reconstruction_scale: f64,
    /// Epochs of a second training phase after `[mnist]`'s: the bottom-up weights W^PP_{k,k−1}
    /// (and their biases) are held, the top-down weights learn by rule 10 at `eta_top_down`,
    /// the interneuron weights and the reconstruction keep learning. Rule 10's "slow
    /// time-scale" taken to its limit: the top-down weights learn the class-conditional hidden
    /// activity of a network that has finished learning (learning them fast *during* the
    /// bottom-up learning spoils it: the interneurons lag).
    #[serde(default)]
    pub top_down_epochs: usize,
    /// Rule 10's rate in the second phase (per minibatch, not rescaled).
    #[serde(default)]
    pub eta_top_down: f64,
    /// Epochs of the backprop classifier that judges images (same shape, same start,
    /// cross-entropy loss).
    pub classifier_epochs: usize,
    /// Its learning rate per layer.
    pub classifier_eta: Vec<f64>,
    /// How many test images are corrupted and denoised (the first ones of the test set).
    pub test_images: usize,
    /// Corruption levels (fraction of pixels).
    pub levels: Vec<f64>,
    /// Corruption kinds.
    pub corruptions: Vec<crate::task::corrupt::Corruption>,
    /// Simulated time of each settling period (forward Euler at `protocol.dt`), ms.
    pub settle_ms: f64,
    /// The gate over a settling period in the "gate open" condition; the "gate closed"
    /// ablation keeps every gate at 1 throughout.
    pub gate_schedule: Vec<GateStep>,
    /// Generated images per class.
    pub generation_samples: usize,
    /// Somatic noise σ during generation (Euler–Maruyama), the source of variety between
    /// samples of a class.
    #[serde(default)]
    pub generation_sigma: f64,
    /// What drives the input layer during generation: "blank" (no stimulus, x = 0
    /// throughout) or "reconstruction" (no stimulus, so the input rates follow their own
    /// top-down reconstruction, τ dx/dt = x̂ − x from x = 0, with τ = `generation_tau_ms`).
    #[serde(default)]
    pub generation_input: GenerationInput,
    /// τ of the input layer following its reconstruction during generation, ms.
    #[serde(default = "default_generation_tau")]
    pub generation_tau_ms: f64,
    /// Images settled together (the batch of the settling network).
    #[serde(default = "default_settle_batch")]
    pub settle_batch: usize,
}

/// The input layer during generation (see [`Disinhibition`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GenerationInput {
    /// x = 0 throughout.
    #[default]
    Blank,
    /// x follows x̂ with time constant `generation_tau_ms`.
    Reconstruction,
}

fn default_generation_tau() -> f64 {
    1.0
}
fn default_reconstruction_scale() -> f64 {
    0.05
}
fn default_settle_batch() -> usize {
    500
}

/// The integrator-accuracy study.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Integrators {
    /// Step sizes (ms) for the convergence study, each a whole divisor of `duration_ms`.
    pub dts: Vec<f64>,
    /// Time at which errors are measured, ms.
    pub duration_ms: f64,
    /// The reference solution's RK4 step = smallest dt / this.
    #[serde(default = "default_refinement")]
    pub reference_refinement: usize,
    /// Values of g_A for the steady-state solvers' error.
    pub g_a: Vec<f64>,
    /// Steps run to classify a dt as stable or not.
    #[serde(default = "default_stability_steps")]
    pub stability_steps: usize,
    /// Step sizes for Dopri5's order with its controller off (its errors reach round-off at
    /// the other methods' steps).
    #[serde(default = "default_dopri5_dts")]
    pub dopri5_dts: Vec<f64>,
    /// Tolerances (rtol = atol) of Dopri5's work–precision curve.
    #[serde(default = "default_tolerances")]
    pub tolerances: Vec<f64>,
}

fn default_dopri5_dts() -> Vec<f64> {
    vec![0.8, 0.4, 0.2, 0.1]
}
fn default_tolerances() -> Vec<f64> {
    vec![1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10]
}

fn default_refinement() -> usize {
    64
}
fn default_stability_steps() -> usize {
    4000
}

/// The λ sweep of the backprop-equivalence study.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Equivalence {
    /// Values of λ = λ_A = λ_N = λ_I, set through g_A = g_som = λ (g_lk + g_B)/(1 − λ)
    /// (g_D = g_B makes λ_I = λ_N).
    pub lambdas: Vec<f64>,
    /// Top-down initialisations compared ("transpose" → backprop, "random" → feedback alignment).
    #[serde(default = "default_top_downs")]
    pub top_down: Vec<crate::model::TopDown>,
    /// How states are settled: "newton", "fixed_point", "two_pass", "dynamics" (RK4).
    #[serde(default = "default_settle")]
    pub settle: Vec<String>,
    /// RK4 step for "dynamics", ms.
    #[serde(default = "default_dyn_dt")]
    pub dynamics_dt: f64,
    /// Integration time for "dynamics", ms.
    #[serde(default = "default_dyn_ms")]
    pub dynamics_ms: f64,
}

fn default_top_downs() -> Vec<crate::model::TopDown> {
    vec![
        crate::model::TopDown::Transpose,
        crate::model::TopDown::Random,
    ]
}
fn default_settle() -> Vec<String> {
    vec!["newton".into(), "two_pass".into(), "dynamics".into()]
}
fn default_dyn_dt() -> f64 {
    0.05
}
fn default_dyn_ms() -> f64 {
    200.0
}

/// How patterns are presented and tested (all times in ms, on the integer grid t = n dt).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    /// Integration step, ms.
    pub dt: f64,
    /// Presentation time of one pattern, ms (a whole number of steps).
    pub pattern_ms: f64,
    /// Training patterns.
    pub patterns: usize,
    /// Test every this many patterns (regression).
    #[serde(default)]
    pub test_every: usize,
    /// Size of the held-out test set (regression).
    #[serde(default)]
    pub test_patterns: usize,
    /// Weight of a new test error in the plotted exponential moving average.
    #[serde(default = "default_ema")]
    pub ema_weight: f64,
    /// Train the shallow learner beside the microcircuit (regression; default true).
    #[serde(default = "yes")]
    pub shallow_baseline: bool,
    /// Learning rates per layer of the backprop and feedback-alignment baselines trained beside
    /// the regression (one step per pattern); none = no baselines.
    #[serde(default)]
    pub baseline_eta: Option<Vec<f64>>,
    /// How test states are settled (weights frozen, σ = 0).
    #[serde(default = "default_test_solver")]
    pub test_solver: SteadyStateConfig,
    /// Length of the before/after trace windows, ms.
    #[serde(default = "default_window")]
    pub trace_window_ms: f64,
    /// Time without target before the target appears (target learning), ms.
    #[serde(default)]
    pub target_onset_ms: f64,
    /// Run even when dt exceeds the explicit method's stability limit at the initial state (a
    /// named deviation for studies of instability; off: such a run is refused).
    #[serde(default)]
    pub beyond_stability_limit: bool,
}

fn yes() -> bool {
    true
}

fn default_ema() -> f64 {
    0.1
}
fn default_window() -> f64 {
    200.0
}
fn default_test_solver() -> SteadyStateConfig {
    SteadyStateConfig::Newton {
        tolerance: 1e-9,
        maximum_iterations: 100,
    }
}

impl Protocol {
    /// Steps per pattern.
    pub fn steps_per_pattern(&self) -> usize {
        (self.pattern_ms / self.dt).round() as usize
    }
}

/// What to record, and how often.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    /// Sampling interval of the norms' time series, ms.
    #[serde(default = "default_interval")]
    pub interval_ms: f64,
}

fn default_interval() -> f64 {
    10.0
}

impl Default for Recording {
    fn default() -> Self {
        Recording {
            interval_ms: default_interval(),
        }
    }
}

/// The `[performance]` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Performance {
    /// Layer sizes of the small network (the large one is `network.sizes`).
    pub small_sizes: Vec<usize>,
    /// Timed steps per repetition, small network, batch 1.
    pub steps_small: usize,
    /// Timed steps per repetition, large network, batch 1.
    pub steps_large: usize,
    /// Timed steps per repetition, large network, `batch` images.
    pub steps_batch: usize,
    /// Images integrated side by side in the batched measurement.
    pub batch: usize,
    /// Repetitions of every measurement (the median is reported; at least 3).
    pub repetitions: usize,
    /// Learning rate of every plastic group (all but the top-down weights), as numpy_step.py.
    pub eta: f64,
    /// Training images per timed epoch.
    pub epoch_images: usize,
    /// Timed epochs of each learner (median reported).
    pub epoch_repetitions: usize,
    /// The scenario whose `microcircuit` and `backprop` variants are timed per epoch.
    pub mnist_scenario: String,
    /// Where numpy_step.py and numpy_mlp.py are (relative to the working directory).
    pub numpy_dir: String,
}

/// The `[stiffness]` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stiffness {
    /// Factors s on g_B, g_A, g_D and g_som (ascending; the last is "the stiffest point").
    pub factors: Vec<f64>,
    /// Time at which the error is measured, ms.
    pub duration_ms: f64,
    /// The error to reach, max |y − y_ref| over the state at t = duration_ms.
    #[serde(default = "default_stiff_target")]
    pub target_error: f64,
    /// The first dt tried by the fixed-step methods (then halved).
    pub coarsest_dt: f64,
    /// A fixed-step method gives up beyond this many steps (its cost is then at least the time
    /// of its finest run).
    pub max_steps: u64,
    /// Tolerances (rtol = atol) tried by Dopri5, loosest first.
    pub tolerances: Vec<f64>,
    /// The reference's RK4 step is min(reference_dt, RK4 limit / 8).
    pub reference_dt: f64,
    /// Steps between Jacobian refreshes of ROS2 (1: every step).
    #[serde(default = "default_jacobian_interval")]
    pub jacobian_interval: u64,
    /// Timed repetitions of each method's cheapest sufficient setting (median reported).
    #[serde(default = "default_stiff_repetitions")]
    pub repetitions: usize,
    /// Steps run to classify a dt as stable.
    #[serde(default = "default_stiff_stability_steps")]
    pub stability_steps: usize,
}

fn default_stiff_target() -> f64 {
    1e-6
}
fn default_jacobian_interval() -> u64 {
    1
}
fn default_stiff_repetitions() -> usize {
    3
}
fn default_stiff_stability_steps() -> usize {
    2000
}

/// The `[sweep]` table of a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Sweep {
    /// Parameter path → values; the runs are the cartesian product (keys in sorted order).
    #[serde(default)]
    pub grid: BTreeMap<String, Vec<toml::Value>>,
    /// Named variants of the scenario (`[[sweep.variant]]`), each a set of parameter paths →
    /// values applied before the grid; the runs are variants × grid points × seeds.
    #[serde(default, rename = "variant")]
    pub variants: Vec<Variant>,
}

/// A named variant of a scenario: `name = "frozen_hidden"` and `set = { "a.b" = value, … }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Its name (a column `variant` of the merged summary).
    pub name: String,
    /// Parameter path → value.
    #[serde(default)]
    pub set: BTreeMap<String, toml::Value>,
}
