//! The scenario file as serde reads it.

use serde::{Deserialize, Serialize};

use super::settings::{
    Disinhibition, Equivalence, Integrators, Performance, Protocol, Recording, Stiffness, Sweep,
    Training,
};
use crate::model::{Initialisation, NetworkConfig};
use crate::solve::MethodKind;
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
/// A scenario file as serde reads it: every study's section optional. [`Scenario`] is what a
/// validated one becomes (`TryFrom`); the study's section then lives in [`StudyConfig`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
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
    pub mnist: Option<Training>,
    /// The disinhibition study's settings (disinhibition only; training by `[mnist]`).
    #[serde(default)]
    pub disinhibition: Option<Disinhibition>,
    /// The integrator study's settings (integrators only).
    #[serde(default)]
    pub integrators: Option<Integrators>,
    /// The performance study's settings (performance only).
    #[serde(default)]
    pub performance: Option<Performance>,
    /// The stiffness study's settings (stiffness only).
    #[serde(default)]
    pub stiffness: Option<Stiffness>,
    /// A parameter sweep (runs = grid points × seeds).
    #[serde(default)]
    pub sweep: Option<Sweep>,
}

fn default_seeds() -> Vec<u64> {
    vec![1]
}
