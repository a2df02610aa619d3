//! Tasks: what is presented to the network (paper-spec §4.3, §6.1, §6.2). A task produces
//! input patterns and, where it has one, the target potential u^trgt_N of each.

pub mod corrupt;
pub mod minibatch;
pub mod mnist;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::model::Transfer;
use crate::rng::Rng;

/// A task as written in a scenario's `[task]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TaskConfig {
    /// Independent uniform input rates, no target (Fig. S1).
    RandomPatterns {
        /// Lower bound of the input rates.
        #[serde(default)]
        input_low: f64,
        /// Upper bound.
        #[serde(default = "one")]
        input_high: f64,
    },
    /// One fixed input and one fixed target (Fig. 1): target rates U(rate_low, rate_high)
    /// turned into potentials by φ⁻¹.
    SingleAssociation {
        /// Lower bound of the input rates.
        #[serde(default)]
        input_low: f64,
        /// Upper bound.
        #[serde(default = "one")]
        input_high: f64,
        /// Lower bound of the target rates.
        target_rate_low: f64,
        /// Upper bound of the target rates.
        target_rate_high: f64,
    },
    /// The teacher–student regression of Fig. 2: u^trgt = k_{2,1} W_{2,1} φ(k_{1,0} W_{1,0} r_0),
    /// teacher weights and inputs U(−1, 1).
    Teacher {
        /// Teacher layer sizes, e.g. [30, 20, 10].
        sizes: Vec<usize>,
        /// Scale factors k_{k,k−1}, e.g. [2, 10].
        k: Vec<f64>,
        /// Teacher weights are U(−weight_scale, weight_scale).
        #[serde(default = "one")]
        weight_scale: f64,
        /// Lower bound of the input rates.
        #[serde(default = "minus_one")]
        input_low: f64,
        /// Upper bound.
        #[serde(default = "one")]
        input_high: f64,
    },
    /// MNIST digits (Fig. 3) with one-hot target rates {rate_low, rate_high} → potentials by φ⁻¹.
    Mnist {
        /// Directory with the four IDX files (raw or .gz), e.g. data/mnist (`make data`).
        dir: String,
        /// Training images used (the first of the 60000; the paper: 55000).
        #[serde(default = "train_default")]
        train: usize,
        /// Validation images (the next ones; the paper: 5000).
        #[serde(default = "validation_default")]
        validation: usize,
        /// Test images used (of the 10000).
        #[serde(default = "test_default")]
        test: usize,
        /// Target rate of the wrong classes (paper: 0.1).
        #[serde(default = "rate_low_default")]
        rate_low: f64,
        /// Target rate of the right class (paper: 0.8).
        #[serde(default = "rate_high_default")]
        rate_high: f64,
    },
}

fn train_default() -> usize {
    55_000
}
fn validation_default() -> usize {
    5_000
}
fn test_default() -> usize {
    10_000
}
fn rate_low_default() -> f64 {
    0.1
}
fn rate_high_default() -> f64 {
    0.8
}

fn one() -> f64 {
    1.0
}
fn minus_one() -> f64 {
    -1.0
}

/// A task ready to draw patterns from.
#[derive(Clone, Debug)]
pub enum Task {
    /// See [`TaskConfig::RandomPatterns`].
    RandomPatterns {
        /// Input range.
        range: (f64, f64),
    },
    /// See [`TaskConfig::SingleAssociation`].
    SingleAssociation {
        /// The input, 1 × n_0.
        input: Array2<f64>,
        /// The target potential, 1 × n_N.
        target: Array2<f64>,
    },
    /// See [`TaskConfig::Teacher`].
    Teacher {
        /// Teacher weights W_{k,k−1}.
        weights: Vec<Array2<f64>>,
        /// Scale factors.
        k: Vec<f64>,
        /// Input range.
        range: (f64, f64),
        /// φ of the teacher (the student's).
        phi: Transfer,
    },
}

/// One presented pattern.
#[derive(Clone, Debug)]
pub struct Pattern {
    /// 1 × n_0 input rates.
    pub input: Array2<f64>,
    /// 1 × n_N target potentials, if the task has targets.
    pub target: Option<Array2<f64>>,
}

impl TaskConfig {
    /// Checks the task against the student's sizes; the message names the key.
    pub fn validate(&self, sizes: &[usize]) -> Result<(), String> {
        let (n0, nn) = (sizes[0], sizes[sizes.len() - 1]);
        match self {
            TaskConfig::RandomPatterns {
                input_low,
                input_high,
            } if input_low > input_high => Err(format!(
                "task.input_low ({input_low}) exceeds task.input_high ({input_high})"
            )),
            TaskConfig::SingleAssociation {
                target_rate_low,
                target_rate_high,
                ..
            } if target_rate_low > target_rate_high => {
                Err("task.target_rate_low exceeds task.target_rate_high".into())
            }
            TaskConfig::Mnist {
                train,
                validation,
                test,
                ..
            } => {
                if n0 != 784 || nn != 10 {
                    return Err(format!(
                        "task.kind = \"mnist\" needs 784 inputs and 10 outputs, the network has {n0} and {nn}"
                    ));
                }
                if *validation == 0 || *test == 0 {
                    return Err(format!(
                        "task.validation ({validation}) and task.test ({test}) must be ≥ 1: the study reports the test error at the best-validation epoch"
                    ));
                }
                if train + validation > 60_000 || *test > 10_000 || *train == 0 {
                    return Err(format!(
                        "task.train ({train}) + task.validation ({validation}) must be ≤ 60000 and task.test ({test}) ≤ 10000"
                    ));
                }
                Ok(())
            }
            TaskConfig::Teacher { sizes: ts, k, .. } => {
                if ts.len() < 2 || k.len() != ts.len() - 1 {
                    return Err(format!(
                        "task.k needs one factor per teacher layer ({}), got {}",
                        ts.len().saturating_sub(1),
                        k.len()
                    ));
                }
                if ts[0] != n0 || ts[ts.len() - 1] != nn {
                    return Err(format!(
                        "task.sizes {ts:?}: the teacher's input and output sizes must match the student's ({n0} and {nn})"
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Draws the task's fixed parts (teacher weights, the single association) from `rng`.
    pub fn build(&self, phi: Transfer, sizes: &[usize], rng: &mut Rng) -> Result<Task, String> {
        self.validate(sizes)?;
        Ok(match self {
            TaskConfig::RandomPatterns {
                input_low,
                input_high,
            } => Task::RandomPatterns {
                range: (*input_low, *input_high),
            },
            TaskConfig::SingleAssociation {
                input_low,
                input_high,
                target_rate_low,
                target_rate_high,
            } => {
                let input = Array2::from_shape_fn((1, sizes[0]), |_| {
                    rng.uniform_in(*input_low, *input_high)
                });
                let nn = sizes[sizes.len() - 1];
                let mut target = Array2::zeros((1, nn));
                for t in target.iter_mut() {
                    let r = rng.uniform_in(*target_rate_low, *target_rate_high);
                    *t = phi.inverse(r).ok_or_else(|| {
                        format!("target rate {r} is outside the range of φ = {}", phi.name())
                    })?;
                }
                Task::SingleAssociation { input, target }
            }
            TaskConfig::Teacher {
                sizes: ts,
                k,
                weight_scale,
                input_low,
                input_high,
            } => {
                let weights = (1..ts.len())
                    .map(|l| {
                        Array2::from_shape_fn((ts[l], ts[l - 1]), |_| {
                            rng.uniform_in(-weight_scale, *weight_scale)
                        })
                    })
                    .collect();
                Task::Teacher {
                    weights,
                    k: k.clone(),
                    range: (*input_low, *input_high),
                    phi,
                }
            }
            TaskConfig::Mnist { .. } => {
                return Err("MNIST is loaded by its study, not drawn as patterns".into());
            }
        })
    }
}

impl Task {
    /// The next pattern (random tasks draw from `rng`).
    pub fn pattern(&self, n0: usize, rng: &mut Rng) -> Pattern {
        match self {
            Task::RandomPatterns { range } => Pattern {
                input: Array2::from_shape_fn((1, n0), |_| rng.uniform_in(range.0, range.1)),
                target: None,
            },
            Task::SingleAssociation { input, target } => Pattern {
                input: input.clone(),
                target: Some(target.clone()),
            },
            Task::Teacher { range, .. } => {
                let input = Array2::from_shape_fn((1, n0), |_| rng.uniform_in(range.0, range.1));
                let target = self.teacher_target(&input).expect("teacher task");
                Pattern {
                    input,
                    target: Some(target),
                }
            }
        }
    }

    /// The teacher's output potential u^trgt = k_N W_N φ(… φ(k_1 W_1 r_0)) for inputs (rows).
    pub fn teacher_target(&self, input: &Array2<f64>) -> Option<Array2<f64>> {
        let Task::Teacher {
            weights, k, phi, ..
        } = self
        else {
            return None;
        };
        let mut r = input.clone();
        let mut u = Array2::zeros((0, 0));
        for (l, (w, kl)) in weights.iter().zip(k).enumerate() {
            u = r.dot(&w.t()) * *kl;
            if l + 1 < weights.len() {
                r = u.mapv(|x| phi.phi(x));
            }
        }
        Some(u)
    }
}
