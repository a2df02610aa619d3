//! The learners' settings: the scenario file's `[mnist]` table.

use serde::{Deserialize, Serialize};

/// The MNIST study's training settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Training {
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
    pub settle: SettleBy,
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
    pub learner: LearnerKind,
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
    /// A named deviation, off by default: "presynaptic" divides the two-pass learner's rate of
    /// every synapse group, at every minibatch, by 1 + ⟨‖r_pre‖²⟩, the mean power of its
    /// presynaptic rates (1 for the bias input) — a normalised delta rule, whose gain no longer
    /// grows with the rates' power (which differs between data sets and grows in training).
    /// The rates η then carry that power's units' inverse: they are not the "none" rates.
    #[serde(default, skip_serializing_if = "RateNormalization::is_none")]
    pub rate_normalization: RateNormalization,
}

/// How the two-pass learner scales its rates per minibatch (see [`Training`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateNormalization {
    /// The configured rates as they are (the paper).
    #[default]
    None,
    /// Divided by 1 + ⟨‖r_pre‖²⟩ of the minibatch, per synapse group.
    Presynaptic,
}

impl RateNormalization {
    /// Whether this is the default (not written to saved scenarios, so older run identities
    /// stay as they were).
    pub fn is_none(&self) -> bool {
        *self == RateNormalization::None
    }
}

fn one_f64() -> f64 {
    1.0
}

/// How the MNIST learner rescales W^IP's learning rate (see [`Training`]).
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

/// Which state the MNIST microcircuit's W^IP learns from (see [`Training`]).
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

/// How the MNIST microcircuit settles before each update (see [`Training`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettleBy {
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
pub enum LearnerKind {
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
