//! The validated scenario: common tables, and the study with its own section.

use serde::{Deserialize, Serialize};

use super::raw::{RawScenario, Study};
use super::settings::{
    Disinhibition, Equivalence, Integrators, Performance, Protocol, Recording, Stiffness, Sweep,
    Training,
};
use crate::model::{Initialisation, NetworkConfig};
use crate::solve::MethodKind;
use crate::task::TaskConfig;

/// A validated experiment: the common tables, and the study with its own section
/// ([`StudyConfig`]). It reads and writes the same TOML as [`RawScenario`] (serde converts
/// through it), so a scenario saved with its results is the file a user would write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawScenario", into = "RawScenario")]
pub struct Scenario {
    /// Name; results go to results/<name>/ and the report to reports/<name>/.
    pub name: String,
    /// What it reproduces, in a sentence.
    pub description: String,
    /// Which experiment, with its own settings.
    pub study: StudyConfig,
    /// Random seeds, one run each.
    pub seeds: Vec<u64>,
    /// The time stepper.
    pub method: MethodKind,
    /// Relative tolerance of an adaptive method (`dopri5`; default 1e-6).
    pub rtol: Option<f64>,
    /// Absolute tolerance of an adaptive method (`dopri5`; default 1e-8).
    pub atol: Option<f64>,
    /// The network's equations.
    pub network: NetworkConfig,
    /// Initial weights.
    pub init: Initialisation,
    /// What is presented.
    pub task: TaskConfig,
    /// How.
    pub protocol: Protocol,
    /// What is recorded.
    pub record: Recording,
    /// A parameter sweep (runs = grid points × seeds).
    pub sweep: Option<Sweep>,
}

/// A study and its own section of the scenario file.
#[derive(Clone, Debug, PartialEq)]
pub enum StudyConfig {
    /// Fig. S1 / 1C (no section of its own).
    SelfPredicting,
    /// Fig. 1B (no section of its own).
    TargetLearning,
    /// Fig. 2 (no section of its own).
    Regression,
    /// Results A1/A2: `[equivalence]`.
    BpEquivalence(Equivalence),
    /// Integrator accuracy: `[integrators]`.
    Integrators(Integrators),
    /// Fig. 3: `[mnist]`.
    Mnist(Training),
    /// Disinhibition: trained by `[mnist]`, then `[disinhibition]`.
    Disinhibition {
        /// The training (`[mnist]`).
        training: Training,
        /// The gate schedules, corruptions and generation (`[disinhibition]`).
        settings: Disinhibition,
    },
    /// The engine's speed: `[performance]`.
    Performance(Performance),
    /// Cost against stiffness: `[stiffness]`.
    Stiffness(Stiffness),
}

impl StudyConfig {
    /// Which study.
    pub fn kind(&self) -> Study {
        match self {
            StudyConfig::SelfPredicting => Study::SelfPredicting,
            StudyConfig::TargetLearning => Study::TargetLearning,
            StudyConfig::Regression => Study::Regression,
            StudyConfig::BpEquivalence(_) => Study::BpEquivalence,
            StudyConfig::Integrators(_) => Study::Integrators,
            StudyConfig::Mnist(_) => Study::Mnist,
            StudyConfig::Disinhibition { .. } => Study::Disinhibition,
            StudyConfig::Performance(_) => Study::Performance,
            StudyConfig::Stiffness(_) => Study::Stiffness,
        }
    }

    /// The MNIST training settings (the mnist and disinhibition studies).
    pub fn training(&self) -> Option<&Training> {
        match self {
            StudyConfig::Mnist(m) | StudyConfig::Disinhibition { training: m, .. } => Some(m),
            _ => None,
        }
    }

    /// The MNIST training settings, to change (the mnist and disinhibition studies).
    pub fn training_mut(&mut self) -> Option<&mut Training> {
        match self {
            StudyConfig::Mnist(m) | StudyConfig::Disinhibition { training: m, .. } => Some(m),
            _ => None,
        }
    }
}

impl From<Scenario> for RawScenario {
    fn from(s: Scenario) -> RawScenario {
        let mut raw = RawScenario {
            name: s.name,
            description: s.description,
            study: s.study.kind(),
            seeds: s.seeds,
            method: s.method,
            rtol: s.rtol,
            atol: s.atol,
            network: s.network,
            init: s.init,
            task: s.task,
            protocol: s.protocol,
            record: s.record,
            equivalence: None,
            mnist: None,
            disinhibition: None,
            integrators: None,
            performance: None,
            stiffness: None,
            sweep: s.sweep,
        };
        match s.study {
            StudyConfig::SelfPredicting | StudyConfig::TargetLearning | StudyConfig::Regression => {
            }
            StudyConfig::BpEquivalence(e) => raw.equivalence = Some(e),
            StudyConfig::Integrators(i) => raw.integrators = Some(i),
            StudyConfig::Mnist(m) => raw.mnist = Some(m),
            StudyConfig::Disinhibition { training, settings } => {
                raw.mnist = Some(training);
                raw.disinhibition = Some(settings);
            }
            StudyConfig::Performance(p) => raw.performance = Some(p),
            StudyConfig::Stiffness(st) => raw.stiffness = Some(st),
        }
        raw
    }
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
