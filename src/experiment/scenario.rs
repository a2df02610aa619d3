//! Scenario files: one TOML file per study (paper figure), parsed with serde (unknown keys
//! refused) and validated; every error names the file, the line where it can be found, and
//! the key.

use std::path::Path;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::model::{Initialisation, ModelError, NetworkConfig};
use crate::solve::{MethodKind, SteadyStateConfig};
use crate::task::TaskConfig;

/// Which experiment a scenario runs, and so which report it gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Study {
    /// Fig. S1 / 1C: learning the self-predicting state (rules 8 and 9).
    SelfPredicting,
    /// Fig. 1B: learning a new input → target association.
    TargetLearning,
    /// Fig. 2: teacher–student nonlinear regression against a shallow learner.
    Regression,
    /// Results A1/A2: the settled microcircuit against backprop and feedback alignment as λ → 0.
    BpEquivalence,
    /// Numerical accuracy of the integrators: orders, cost, stability limits, steady-state solvers.
    Integrators,
    /// Fig. 3: MNIST with the paper's two-pass steady-state learner, beside backprop.
    Mnist,
    /// P2's disinhibition: attention-like denoising and generation (our design, paper-spec §8.4).
    Disinhibition,
    /// The engine's speed: the Euler step and the training epoch against NumPy and the
    /// memory bandwidth (issue 17).
    Performance,
    /// When the implicit method pays: cost to reach a target error as the dendritic coupling
    /// stiffens (issue 21).
    Stiffness,
}

impl Study {
    /// Name as in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Study::SelfPredicting => "self_predicting",
            Study::TargetLearning => "target_learning",
            Study::Regression => "regression",
            Study::BpEquivalence => "bp_equivalence",
            Study::Integrators => "integrators",
            Study::Mnist => "mnist",
            Study::Disinhibition => "disinhibition",
            Study::Performance => "performance",
            Study::Stiffness => "stiffness",
        }
    }
}

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

/// The MNIST study's training settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MnistTraining {
    /// Passes over the training images.
    pub epochs: usize,
    /// Minibatch size (paper: 10); weight changes are averaged over it.
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// Divide each layer's learning rate by the mixing factor that dilutes its teaching signal,
    /// s_N = λ_N, s_k = s_{k+1} λ_A (1 − λ_I) (paper: "rescaling by the inverse mixing factor").
    #[serde(default = "yes")]
    pub rescale_by_mixing: bool,
    /// How W^IP's rate is rescaled: "interneuron" divides by λ_I (its own nudging: W^IP then
    /// corrects its prediction at rate η_IP), "tracking" by λ_I s_{k+1} (W^IP then follows the
    /// teaching-driven change of W^PP_{k+1,k} within the same minibatch, as the paper's
    /// "rescaling by the inverse mixing factor" applied to every rule reads).
    #[serde(default)]
    pub interneuron_rescaling: InterneuronRescaling,
    /// Which state W^IP learns from: "nudged" (the paper's two passes with the target, so the
    /// interneurons also learn to predict the teaching signal reaching the layer above) or
    /// "free" (a deviation, not in the paper: W^IP learns from a second pair of passes without
    /// the target, so it only tracks W^PP_{k+1,k}; one extra upward pass per minibatch) or
    /// "free_lateral" (as "free", W^PI too, so that rule 9 settles at −W^PP_{k,k+1}) or
    /// "ideal" (a diagnostic: W^IP is set to its self-predicting value after every minibatch).
    #[serde(default)]
    pub interneuron_teaching: InterneuronTeaching,
    /// With `interneuron_teaching = "ideal"`: the hidden layers whose W^IP is reset to the
    /// self-predicting value (all when absent); the others learn by the nudged passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ideal_layers: Option<Vec<usize>>,
    /// Evaluate validation and test error this many times per epoch.
    #[serde(default = "one_usize")]
    pub evaluations_per_epoch: usize,
    /// How the microcircuit's state is found before each update: "two_pass" (the paper's
    /// shortcut, default), "fixed_point" (the true steady state, to `settle_tolerance`), or
    /// "euler" (the full dynamics integrated for `settle_ms` at `protocol.dt` with the weights
    /// held, from the two-pass state). The last two compute rules 7–10 from the settled
    /// dendrites (v̂_B from the settled rates).
    #[serde(default)]
    pub settle: MnistSettle,
    /// Stop the fixed-point iteration when max |du/dt| falls below this.
    #[serde(default = "default_settle_tolerance")]
    pub settle_tolerance: f64,
    /// Simulated time of the "euler" settling per minibatch, ms (with `settle = "dynamics"`:
    /// the part of each presentation before plasticity is switched on).
    #[serde(default = "default_settle_ms")]
    pub settle_ms: f64,
    /// With `settle = "dynamics"`: the part of each presentation with plasticity on, ms.
    #[serde(default = "default_settle_ms")]
    pub learn_ms: f64,
    /// Save the learner's state (weights, potentials, the minibatch order and the RNG states,
    /// NumPy `.npz`) every this many training images, and resume from it when the same
    /// scenario and seed run again (0: never). The file is
    /// `<checkpoint_dir>/<name>-<fingerprint>-seed<seed>.npz`, removed when the run finishes.
    #[serde(default)]
    pub checkpoint_images: usize,
    /// Where checkpoints go (relative to the working directory).
    #[serde(default = "default_checkpoint_dir")]
    pub checkpoint_dir: String,
    /// With checkpoints on: train at most this many images in this invocation, then write the
    /// checkpoint and stop the run with an error saying so (0: no limit), so that a long epoch
    /// can be split across working sessions; running again resumes. Not part of the
    /// checkpoint's fingerprint.
    #[serde(default)]
    pub stop_after_images: usize,
    /// Which learner trains: the microcircuit's two-pass learner (default) or backprop on the
    /// same feed-forward network.
    #[serde(default)]
    pub learner: MnistLearner,
    /// Learning rates per layer of the backprop baseline (needed by `learner = "backprop"`).
    #[serde(default)]
    pub backprop_eta: Option<Vec<f64>>,
    /// The backprop baseline's output loss: "bregman" (the microcircuit's own, default),
    /// "potential", "cross_entropy" (standard backprop on a sigmoid network) or "softmax" (a
    /// softmax read-out with the cross-entropy to the target class, the baseline only).
    #[serde(default)]
    pub backprop_loss: crate::baseline::OutputLoss,
    /// L2 weight decay of the backprop baseline: after each step W_k ← (1 − η_k β) W_k (biases
    /// are not decayed). 0, the default, is plain gradient descent.
    #[serde(default)]
    pub backprop_weight_decay: f64,
    /// Every learning rate is multiplied by this factor after each epoch (1 = constant rates,
    /// the default; the paper states no schedule). Applies to both learners.
    #[serde(default = "one_f64")]
    pub eta_decay_per_epoch: f64,
}

fn one_f64() -> f64 {
    1.0
}

/// How the MNIST learner rescales W^IP's learning rate (see [`MnistTraining`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterneuronRescaling {
    /// Divide by λ_I.
    #[default]
    Interneuron,
    /// Divide by λ_I s_{k+1} / c_k, so that in the linear regime ΔW^IP_{k,k} = c_k ΔW^PP_{k+1,k}
    /// and the interneurons stay self-predicting while W^PP_{k+1,k} learns.
    Tracking,
}

/// Which state the MNIST microcircuit's W^IP learns from (see [`MnistTraining`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterneuronTeaching {
    /// The two passes with the target (paper-spec §6.4).
    #[default]
    Nudged,
    /// The upward pass without the target (a deviation, off by default).
    Free,
    /// W^IP (rule 8) and W^PI (rule 9) both learn from the upward pass without the target, the
    /// other rules from the two passes with it (a deviation, off by default). Rule 9 applied
    /// in the nudged state does not settle at W^PI = −W^PP_{k,k+1}: the teaching signal in v_A
    /// correlates with r^I, and W^PI learns to cancel the part of it that is linear in r^I.
    FreeLateral,
    /// A diagnostic, not a model: after every minibatch W^IP_{k,k} is set to c_k W^PP_{k+1,k}
    /// and W^PI_{k,k} to −W^PP_{k,k+1} (paper-spec §4.2), so the interneurons are exactly
    /// self-predicting throughout and the learner isolates what the apical error alone does.
    Ideal,
}

/// How the MNIST microcircuit settles before each update (see [`MnistTraining`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MnistSettle {
    /// The two passes of paper-spec §6.4.
    #[default]
    TwoPass,
    /// Damped fixed-point iteration to the steady state.
    FixedPoint,
    /// Forward Euler in simulated time.
    Euler,
    /// Not a settle before an update but the full continuous-time learner: each minibatch is
    /// presented for `settle_ms` with the weights held and then `learn_ms` with plasticity on
    /// (rules 7–10 as ODEs, forward Euler at `protocol.dt`, τ_w = 0, the weight change the
    /// batch mean), at rates η/`learn_ms` per ms, η the two-pass learner's (rescaled) rates.
    Dynamics,
}

fn default_checkpoint_dir() -> String {
    "checkpoints".into()
}

fn default_settle_tolerance() -> f64 {
    1e-8
}
fn default_settle_ms() -> f64 {
    20.0
}

/// The MNIST learner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MnistLearner {
    /// The two-pass steady-state learner of paper-spec §6.4 (rules 7–10 once per minibatch).
    #[default]
    Microcircuit,
    /// Backprop on the microcircuit's feed-forward limit (same start, same minibatches).
    Backprop,
    /// Feedback alignment on the same feed-forward limit, the error sent down through the
    /// microcircuit's fixed top-down weights (a diagnostic: what the rescaled microcircuit
    /// approximates), with `backprop_eta` and `backprop_loss`.
    FeedbackAlignment,
}

fn default_batch() -> usize {
    10
}
fn yes() -> bool {
    true
}
fn one_usize() -> usize {
    1
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

/// A whole experiment, as read from a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name; results go to results/<name>/ and the report to reports/<name>/.
    pub name: String,
    /// What it reproduces, in a sentence.
    #[serde(default)]
    pub description: String,
    /// Which experiment.
    pub study: Study,
    /// Random seeds, one run each.
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// The time stepper.
    #[serde(default)]
    pub method: MethodKind,
    /// Relative tolerance of an adaptive method (`dopri5`; default 1e-6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtol: Option<f64>,
    /// Absolute tolerance of an adaptive method (`dopri5`; default 1e-8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub atol: Option<f64>,
    /// The network's equations.
    pub network: NetworkConfig,
    /// Initial weights.
    #[serde(default)]
    pub init: Initialisation,
    /// What is presented.
    pub task: TaskConfig,
    /// How.
    pub protocol: Protocol,
    /// What is recorded.
    #[serde(default)]
    pub record: Recording,
    /// The λ sweep (bp_equivalence only).
    #[serde(default)]
    pub equivalence: Option<Equivalence>,
    /// The MNIST study's training settings (mnist only).
    #[serde(default)]
    pub mnist: Option<MnistTraining>,
    /// The disinhibition study's settings (disinhibition only; training by `[mnist]`).
    #[serde(default)]
    pub disinhibition: Option<Disinhibition>,
    /// The integrator study's settings (integrators only).
    #[serde(default)]
    pub integrators: Option<Integrators>,
    /// The performance study's settings (performance only).
    #[serde(default)]
    pub performance: Option<super::performance::Performance>,
    /// The stiffness study's settings (stiffness only).
    #[serde(default)]
    pub stiffness: Option<super::stiffness::Stiffness>,
    /// A parameter sweep (runs = grid points × seeds).
    #[serde(default)]
    pub sweep: Option<super::sweep::Sweep>,
}

fn default_seeds() -> Vec<u64> {
    vec![1]
}

impl Scenario {
    /// The adaptive method's tolerances: the scenario's `rtol`/`atol`, defaults elsewhere.
    pub fn tolerances(&self) -> crate::solve::Tolerances {
        let d = crate::solve::Tolerances::default();
        crate::solve::Tolerances {
            rtol: self.rtol.unwrap_or(d.rtol),
            atol: self.atol.unwrap_or(d.atol),
        }
    }
}

/// What can be wrong with a scenario file.
#[derive(Debug, Error)]
pub enum ScenarioError {
    /// The file cannot be read.
    #[error("cannot read scenario file '{file}': {source}")]
    Io {
        /// The path.
        file: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Not valid TOML, an unknown key, a wrong type or a missing key (toml names line and key).
    #[error("scenario file '{file}': {message}")]
    Parse {
        /// The path.
        file: String,
        /// toml's message, with line, column and key.
        message: String,
    },
    /// A value that parses but is impossible.
    #[error("scenario file '{file}', line {line}, key `{key}`: {message}", line = line.map(|l| l.to_string()).unwrap_or_else(|| "?".into()))]
    Invalid {
        /// The path.
        file: String,
        /// 1-based line of the key, when found.
        line: Option<usize>,
        /// Dotted key path.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// No scenario of that name is embedded and no such file exists.
    #[error("no scenario '{0}': give a path to a .toml file or one of: {1}")]
    Unknown(String, String),
}

/// The scenarios shipped with the program (scenarios/*.toml, embedded at compile time).
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "self_predicting",
        include_str!("../../scenarios/self_predicting.toml"),
    ),
    (
        "target_learning",
        include_str!("../../scenarios/target_learning.toml"),
    ),
    (
        "regression",
        include_str!("../../scenarios/regression.toml"),
    ),
    (
        "bp_equivalence",
        include_str!("../../scenarios/bp_equivalence.toml"),
    ),
    (
        "integrators",
        include_str!("../../scenarios/integrators.toml"),
    ),
    ("stiff", include_str!("../../scenarios/stiff.toml")),
    (
        "robustness",
        include_str!("../../scenarios/robustness.toml"),
    ),
    (
        "robustness_small",
        include_str!("../../scenarios/robustness_small.toml"),
    ),
    (
        "mnist_short",
        include_str!("../../scenarios/mnist_short.toml"),
    ),
    ("mnist", include_str!("../../scenarios/mnist.toml")),
    (
        "mnist_dynamics",
        include_str!("../../scenarios/mnist_dynamics.toml"),
    ),
    (
        "performance",
        include_str!("../../scenarios/performance.toml"),
    ),
    (
        "disinhibition_short",
        include_str!("../../scenarios/disinhibition_short.toml"),
    ),
    (
        "disinhibition",
        include_str!("../../scenarios/disinhibition.toml"),
    ),
];

impl Disinhibition {
    /// Checks against a network of `n` layers above the input, `test` test images and step
    /// `dt`; returns (key, message).
    pub fn validate(&self, n: usize, test: usize, dt: f64) -> Result<(), (String, String)> {
        let e = |k: &str, m: String| Err((k.to_string(), m));
        if n != 2 {
            return e(
                "gate_schedule",
                format!(
                    "the study reads hidden layer 1 of a 784-H-10 network: needs 3 sizes, got {}",
                    n + 1
                ),
            );
        }
        if !(self.eta_reconstruction > 0.0 && self.eta_reconstruction.is_finite()) {
            return e(
                "eta_reconstruction",
                format!("must be > 0, got {}", self.eta_reconstruction),
            );
        }
        if self.top_down_epochs > 0 && !(self.eta_top_down > 0.0 && self.eta_top_down.is_finite()) {
            return e(
                "eta_top_down",
                format!(
                    "top_down_epochs = {} needs eta_top_down > 0, got {}",
                    self.top_down_epochs, self.eta_top_down
                ),
            );
        }
        if self.classifier_eta.len() != n {
            return e(
                "classifier_eta",
                format!(
                    "needs {n} values (one per layer), got {}",
                    self.classifier_eta.len()
                ),
            );
        }
        if self.test_images == 0 || self.test_images > test {
            return e(
                "test_images",
                format!(
                    "must lie in 1..={test} (task.test), got {}",
                    self.test_images
                ),
            );
        }
        if let Some(l) = self.levels.iter().find(|l| !(0.0..=1.0).contains(*l)) {
            return e(
                "levels",
                format!("fractions of pixels lie in [0, 1], got {l}"),
            );
        }
        if self.levels.is_empty() || self.corruptions.is_empty() {
            return e(
                "levels",
                "needs at least one level and one corruption".into(),
            );
        }
        if !(self.settle_ms >= dt) {
            return e(
                "settle_ms",
                format!(
                    "must be at least protocol.dt = {dt} ms, got {}",
                    self.settle_ms
                ),
            );
        }
        if self.settle_batch == 0 || self.generation_samples == 0 {
            return e(
                "settle_batch",
                "settle_batch and generation_samples must be ≥ 1".into(),
            );
        }
        if !(self.generation_tau_ms >= dt && self.generation_tau_ms.is_finite()) {
            return e(
                "generation_tau_ms",
                format!(
                    "must be at least protocol.dt = {dt} ms (forward Euler), got {}",
                    self.generation_tau_ms
                ),
            );
        }
        if !(self.generation_sigma >= 0.0 && self.generation_sigma.is_finite()) {
            return e(
                "generation_sigma",
                format!("must be ≥ 0, got {}", self.generation_sigma),
            );
        }
        let Some(first) = self.gate_schedule.first() else {
            return e("gate_schedule", "needs at least one step".into());
        };
        if first.t_ms != 0.0 {
            return e(
                "gate_schedule",
                format!("the first step begins at t_ms = 0, got {}", first.t_ms),
            );
        }
        for (i, w) in self.gate_schedule.windows(2).enumerate() {
            if !(w[1].t_ms > w[0].t_ms) {
                return e(
                    "gate_schedule",
                    format!(
                        "step {} begins at {} ms, not after step {} ({} ms)",
                        i + 2,
                        w[1].t_ms,
                        i + 1,
                        w[0].t_ms
                    ),
                );
            }
        }
        for (i, s) in self.gate_schedule.iter().enumerate() {
            if s.gate.len() != n - 1 {
                return e(
                    "gate_schedule",
                    format!(
                        "step {} has {} gates; needs one per hidden layer ({})",
                        i + 1,
                        s.gate.len(),
                        n - 1
                    ),
                );
            }
            if let Some(g) = s.gate.iter().find(|g| !(0.0..=1.0).contains(*g)) {
                return e(
                    "gate_schedule",
                    format!("step {}: a gate lies in [0, 1], got {g}", i + 1),
                );
            }
        }
        Ok(())
    }
}

/// The 1-based line where a dotted key is set: the first `last = …` after the header of its
/// table (or anywhere, when the table has no header of its own).
/// The dotted path of the first float in `value` that is NaN or infinite.
fn non_finite(value: &toml::Value, path: &str) -> Option<String> {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match value {
        toml::Value::Float(x) if !x.is_finite() => Some(path.to_string()),
        toml::Value::Array(items) => items.iter().find_map(|v| non_finite(v, path)),
        toml::Value::Table(t) => t.iter().find_map(|(k, v)| non_finite(v, &join(k))),
        _ => None,
    }
}

pub fn locate_key(text: &str, key: &str) -> Option<usize> {
    // A table of its own (`[sweep.grid]`): its header line.
    if let Some(i) = text.lines().position(|l| l.trim() == format!("[{key}]")) {
        return Some(i + 1);
    }
    let parts: Vec<&str> = key.split('.').collect();
    let last = *parts.last()?;
    let table = parts[..parts.len() - 1].join(".");
    let lines: Vec<&str> = text.lines().collect();
    let is_assignment = |l: &str| {
        let l = l.trim_start();
        l.strip_prefix(last)
            .map(|rest| rest.trim_start().starts_with('='))
            .unwrap_or(false)
    };
    let header = lines.iter().position(|l| l.trim() == format!("[{table}]"));
    if let Some(h) = header {
        for (i, l) in lines.iter().enumerate().skip(h + 1) {
            if l.trim_start().starts_with('[') {
                break;
            }
            if is_assignment(l) {
                return Some(i + 1);
            }
        }
        return Some(h + 1);
    }
    lines.iter().position(|l| is_assignment(l)).map(|i| i + 1)
}

/// The text of a scenario file, or of an embedded scenario by name.
///
/// # Errors
/// [`ScenarioError::Io`] / [`ScenarioError::Unknown`].
pub fn scenario_text(name_or_path: &str) -> Result<String, ScenarioError> {
    let path = Path::new(name_or_path);
    if path.exists() || name_or_path.ends_with(".toml") {
        return std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            file: name_or_path.into(),
            source,
        });
    }
    EMBEDDED
        .iter()
        .find(|(n, _)| *n == name_or_path)
        .map(|(_, t)| t.to_string())
        .ok_or_else(|| {
            ScenarioError::Unknown(
                name_or_path.into(),
                EMBEDDED
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })
}

impl Scenario {
    /// Parses and validates scenario text; `file` names it in errors.
    ///
    /// # Errors
    /// [`ScenarioError::Parse`] or [`ScenarioError::Invalid`].
    pub fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            file: file.into(),
            message: e.to_string().trim_end().to_string(),
        })?;
        // TOML admits nan and inf; no parameter of ours means either.
        if let Ok(value) = toml::from_str::<toml::Value>(text)
            && let Some(key) = non_finite(&value, "")
        {
            return Err(ScenarioError::Invalid {
                file: file.into(),
                line: locate_key(text, &key),
                key,
                message: "must be a finite number (nan and inf are not parameters)".into(),
            });
        }
        scenario
            .validate()
            .map_err(|(key, message)| ScenarioError::Invalid {
                file: file.into(),
                line: locate_key(text, &key),
                key,
                message,
            })?;
        Ok(scenario)
    }

    /// Reads a scenario from a path, or an embedded one by name.
    ///
    /// # Errors
    /// As [`Scenario::parse`], plus [`ScenarioError::Io`] / [`ScenarioError::Unknown`].
    pub fn load(name_or_path: &str) -> Result<Scenario, ScenarioError> {
        let path = Path::new(name_or_path);
        if path.exists() || name_or_path.ends_with(".toml") {
            let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
                file: name_or_path.into(),
                source,
            })?;
            return Scenario::parse(&text, name_or_path);
        }
        match EMBEDDED.iter().find(|(n, _)| *n == name_or_path) {
            Some((n, text)) => Scenario::parse(text, &format!("<embedded {n}.toml>")),
            None => Err(ScenarioError::Unknown(
                name_or_path.into(),
                EMBEDDED
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            )),
        }
    }

    /// Checks what serde cannot: returns (dotted key, message).
    pub fn validate(&self) -> Result<(), (String, String)> {
        let e = |k: &str, m: String| Err((k.to_string(), m));
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return e(
                "name",
                format!(
                    "must be a non-empty file-name-safe word (letters, digits, _ and -), got '{}'",
                    self.name
                ),
            );
        }
        if let Err(ModelError::InvalidParameter { key, message }) = self.network.validate() {
            return e(&format!("network.{key}"), message);
        }
        if let Some(s) = &self.init.scale_down_layers {
            let hidden = self.network.sizes.len().saturating_sub(2);
            if s.len() != hidden {
                return e(
                    "init.scale_down_layers",
                    format!(
                        "needs {hidden} values (one per hidden layer), got {}",
                        s.len()
                    ),
                );
            }
        }
        let g = self.init.transpose_gain;
        if !(g.is_finite() && g > 0.0) {
            return e(
                "init.transpose_gain",
                format!("must be a finite positive number, got {g}"),
            );
        }
        if let Some(m) = &self.mnist {
            let n = self.network.sizes.len() - 1;
            if let Some(bad) = m.ideal_layers.iter().flatten().find(|&&k| k == 0 || k >= n) {
                return e(
                    "mnist.ideal_layers",
                    format!("hidden layers are 1..{}, got {bad}", n - 1),
                );
            }
            match (&m.learner, &m.backprop_eta) {
                (MnistLearner::Backprop | MnistLearner::FeedbackAlignment, None) => {
                    return e(
                        "mnist.backprop_eta",
                        "learner = \"backprop\" or \"feedback_alignment\" needs a learning rate per layer".into(),
                    );
                }
                (_, Some(eta)) if eta.len() != n => {
                    return e(
                        "mnist.backprop_eta",
                        format!("needs {n} values (one per layer), got {}", eta.len()),
                    );
                }
                _ => {}
            }
            if !(m.backprop_weight_decay >= 0.0 && m.backprop_weight_decay.is_finite()) {
                return e(
                    "mnist.backprop_weight_decay",
                    format!("must be finite and ≥ 0, got {}", m.backprop_weight_decay),
                );
            }
            if !(m.eta_decay_per_epoch > 0.0 && m.eta_decay_per_epoch <= 1.0) {
                return e(
                    "mnist.eta_decay_per_epoch",
                    format!("must lie in (0, 1], got {}", m.eta_decay_per_epoch),
                );
            }
            if m.batch == 0 || m.epochs == 0 || m.evaluations_per_epoch == 0 {
                return e(
                    "mnist",
                    "epochs, batch and evaluations_per_epoch must be at least 1".into(),
                );
            }
        }
        if let Err(m) = self.task.validate(&self.network.sizes) {
            let key = m
                .split_whitespace()
                .find(|w| w.starts_with("task."))
                .unwrap_or("task")
                .trim_end_matches(':')
                .to_string();
            return e(&key, m);
        }
        let p = &self.protocol;
        if !(p.dt > 0.0 && p.dt.is_finite()) {
            return e("protocol.dt", format!("must be > 0 ms, got {}", p.dt));
        }
        if !(p.pattern_ms >= p.dt) {
            return e(
                "protocol.pattern_ms",
                format!(
                    "must be at least one step (dt = {}), got {}",
                    p.dt, p.pattern_ms
                ),
            );
        }
        let steps = p.pattern_ms / p.dt;
        if (steps - steps.round()).abs() > 1e-9 * steps {
            return e(
                "protocol.pattern_ms",
                format!(
                    "must be a whole number of steps of dt = {} ms, got {} ms",
                    p.dt, p.pattern_ms
                ),
            );
        }
        if p.patterns == 0 {
            return e("protocol.patterns", "must be ≥ 1".into());
        }
        if !(p.ema_weight > 0.0 && p.ema_weight <= 1.0) {
            return e(
                "protocol.ema_weight",
                format!("must be in (0, 1], got {}", p.ema_weight),
            );
        }
        if self.seeds.is_empty() {
            return e("seeds", "needs at least one seed".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = self.seeds.iter().find(|s| !seen.insert(**s)) {
            return e(
                "seeds",
                format!(
                    "seed {dup} appears twice (each seed is one run; a duplicate would be averaged as a second sample)"
                ),
            );
        }
        if !self.method.integrates_noise() && self.network.noise.sigma > 0.0 {
            return e(
                "method",
                format!(
                    "{} is not an SDE method and cannot integrate network.noise.sigma = {} > 0; use \"euler\" or \"exponential_euler\"",
                    self.method.name(),
                    self.network.noise.sigma
                ),
            );
        }
        for (key, value) in [("rtol", self.rtol), ("atol", self.atol)] {
            let Some(v) = value else { continue };
            if !self.method.is_adaptive() {
                return e(
                    key,
                    format!(
                        "applies to an adaptive method (method = \"dopri5\"); method is \"{}\"",
                        self.method.name()
                    ),
                );
            }
            if !(v > 0.0 && v.is_finite() && v < 1.0) {
                return e(key, format!("must be in (0, 1), got {v}"));
            }
        }
        if !(self.record.interval_ms >= p.dt) {
            return e(
                "record.interval_ms",
                format!(
                    "must be at least dt = {} ms, got {}",
                    p.dt, self.record.interval_ms
                ),
            );
        }
        let n = self.network.n_layers();
        match (self.study, &self.task) {
            (Study::SelfPredicting, TaskConfig::RandomPatterns { .. }) => {}
            (Study::TargetLearning, TaskConfig::SingleAssociation { .. }) => {}
            (Study::BpEquivalence, TaskConfig::SingleAssociation { .. }) => {
                let Some(eq) = &self.equivalence else {
                    return e(
                        "equivalence",
                        "the bp_equivalence study needs an [equivalence] table with `lambdas`"
                            .into(),
                    );
                };
                if eq.lambdas.is_empty() || eq.lambdas.iter().any(|l| !(*l > 0.0 && *l < 1.0)) {
                    return e(
                        "equivalence.lambdas",
                        format!("needs values in (0, 1), got {:?}", eq.lambdas),
                    );
                }
                if let Some(bad) = eq.settle.iter().find(|s| {
                    !["newton", "fixed_point", "two_pass", "dynamics"].contains(&s.as_str())
                }) {
                    return e(
                        "equivalence.settle",
                        format!(
                            "unknown settle method \"{bad}\"; use newton, fixed_point, two_pass or dynamics"
                        ),
                    );
                }
                if self.network.noise.sigma > 0.0 {
                    return e(
                        "network.noise.sigma",
                        "the equivalence is measured at steady state: needs σ = 0".into(),
                    );
                }
                if self.network.conductances.g_d != self.network.conductances.g_b {
                    return e(
                        "network.conductances.g_d",
                        "the λ sweep sets λ_I = λ_N, which needs g_D = g_B".into(),
                    );
                }
            }
            (Study::Integrators, TaskConfig::SingleAssociation { .. }) => {
                let Some(it) = &self.integrators else {
                    return e(
                        "integrators",
                        "the integrators study needs an [integrators] table".into(),
                    );
                };
                if it.dts.len() < 3 {
                    return e(
                        "integrators.dts",
                        "needs at least 3 step sizes to fit an order".into(),
                    );
                }
                for (key, dts) in [
                    ("integrators.dts", &it.dts),
                    ("integrators.dopri5_dts", &it.dopri5_dts),
                ] {
                    if let Some(dt) = dts.iter().find(|dt| {
                        !(**dt > 0.0)
                            || ((it.duration_ms / **dt) - (it.duration_ms / **dt).round()).abs()
                                > 1e-9
                    }) {
                        return e(
                            key,
                            format!(
                                "{dt} does not divide integrators.duration_ms = {}",
                                it.duration_ms
                            ),
                        );
                    }
                }
                if it.tolerances.iter().any(|t| !(*t > 0.0 && *t < 1.0)) {
                    return e(
                        "integrators.tolerances",
                        format!("needs tolerances in (0, 1), got {:?}", it.tolerances),
                    );
                }
                if self.network.noise.sigma > 0.0 {
                    return e(
                        "network.noise.sigma",
                        "the accuracy study is deterministic: needs σ = 0".into(),
                    );
                }
            }
            (Study::Mnist, TaskConfig::Mnist { .. }) => {
                let Some(m) = &self.mnist else {
                    return e(
                        "mnist",
                        "the mnist study needs an [mnist] table with `epochs`".into(),
                    );
                };
                if m.epochs == 0 || m.batch == 0 || m.evaluations_per_epoch == 0 {
                    return e(
                        "mnist.epochs",
                        "mnist.epochs, mnist.batch and mnist.evaluations_per_epoch must be ≥ 1"
                            .into(),
                    );
                }
                if self.network.noise.sigma > 0.0 {
                    return e(
                        "network.noise.sigma",
                        "the two-pass learner is deterministic: needs σ = 0".into(),
                    );
                }
                if m.settle == MnistSettle::Dynamics {
                    if self.method != MethodKind::Euler {
                        return e(
                            "method",
                            format!(
                                "mnist.settle = \"dynamics\" integrates by forward Euler: needs method = \"euler\", got \"{}\"",
                                self.method.name()
                            ),
                        );
                    }
                    let whole = |ms: f64| ((ms / p.dt) - (ms / p.dt).round()).abs() < 1e-9;
                    if !(m.learn_ms >= p.dt && whole(m.learn_ms)) {
                        return e(
                            "mnist.learn_ms",
                            format!(
                                "must be a positive whole number of protocol.dt = {} ms, got {}",
                                p.dt, m.learn_ms
                            ),
                        );
                    }
                    if !(m.settle_ms >= 0.0 && whole(m.settle_ms)) {
                        return e(
                            "mnist.settle_ms",
                            format!(
                                "must be a whole number (≥ 0) of protocol.dt = {} ms, got {}",
                                p.dt, m.settle_ms
                            ),
                        );
                    }
                }
                if m.stop_after_images > 0 && m.checkpoint_images == 0 {
                    return e(
                        "mnist.stop_after_images",
                        "stopping early needs checkpoints: set mnist.checkpoint_images too".into(),
                    );
                }
            }
            (Study::Disinhibition, TaskConfig::Mnist { test, .. }) => {
                let Some(m) = &self.mnist else {
                    return e(
                        "mnist",
                        "the disinhibition study trains by an [mnist] table (epochs, batch)".into(),
                    );
                };
                if m.learner != MnistLearner::Microcircuit || m.settle != MnistSettle::TwoPass {
                    return e(
                        "mnist.learner",
                        "the disinhibition study trains the two-pass microcircuit".into(),
                    );
                }
                let Some(d) = &self.disinhibition else {
                    return e(
                        "disinhibition",
                        "the disinhibition study needs a [disinhibition] table".into(),
                    );
                };
                d.validate(n, *test, p.dt)
                    .map_err(|(k, m)| (format!("disinhibition.{k}"), m))?;
            }
            (Study::Performance, TaskConfig::SingleAssociation { .. }) => {
                let Some(perf) = &self.performance else {
                    return e(
                        "performance",
                        "the performance study needs a [performance] table".into(),
                    );
                };
                if perf.repetitions < 3 || perf.epoch_repetitions < 1 {
                    return e(
                        "performance.repetitions",
                        "needs repetitions ≥ 3 (medians) and epoch_repetitions ≥ 1".into(),
                    );
                }
                if perf.small_sizes.len() < 3 || perf.small_sizes.contains(&0) {
                    return e(
                        "performance.small_sizes",
                        format!("needs ≥ 3 positive sizes, got {:?}", perf.small_sizes),
                    );
                }
                if perf.batch == 0
                    || perf.steps_small == 0
                    || perf.steps_large == 0
                    || perf.steps_batch == 0
                    || perf.epoch_images == 0
                {
                    return e(
                        "performance.batch",
                        "batch, steps_small, steps_large, steps_batch and epoch_images must be ≥ 1"
                            .into(),
                    );
                }
                if !(perf.eta.is_finite()) {
                    return e(
                        "performance.eta",
                        format!("must be finite, got {}", perf.eta),
                    );
                }
            }
            (Study::Stiffness, TaskConfig::SingleAssociation { .. }) => {
                let Some(st) = &self.stiffness else {
                    return e(
                        "stiffness",
                        "the stiffness study needs a [stiffness] table".into(),
                    );
                };
                st.validate()
                    .map_err(|(k, m)| (format!("stiffness.{k}"), m))?;
                if self.network.noise.sigma > 0.0 {
                    return e(
                        "network.noise.sigma",
                        "the stiffness study compares deterministic methods: needs σ = 0".into(),
                    );
                }
            }
            (Study::Regression, TaskConfig::Teacher { .. }) => {
                if p.test_every == 0 || p.test_patterns == 0 {
                    return e("protocol.test_every", "the regression study needs protocol.test_every ≥ 1 and protocol.test_patterns ≥ 1".into());
                }
                if n != 2 {
                    return e(
                        "network.sizes",
                        format!(
                            "the regression study compares a one-hidden-layer microcircuit with a shallow learner: needs 3 sizes, got {:?}",
                            self.network.sizes
                        ),
                    );
                }
            }
            (s, _) => {
                let want = match s {
                    Study::SelfPredicting => "random_patterns",
                    Study::TargetLearning => "single_association",
                    Study::Regression => "teacher",
                    Study::BpEquivalence
                    | Study::Integrators
                    | Study::Performance
                    | Study::Stiffness => "single_association",
                    Study::Mnist | Study::Disinhibition => "mnist",
                };
                return e(
                    "task.kind",
                    format!("study `{}` needs task kind \"{want}\"", s.name()),
                );
            }
        }
        if n < 2 && self.study != Study::Regression {
            return e(
                "network.sizes",
                format!(
                    "needs at least one hidden layer (3 sizes), got {:?}",
                    self.network.sizes
                ),
            );
        }
        Ok(())
    }
}
