//! What every time stepper shares: the [`Method`] trait, its errors and counters, the
//! tolerances of adaptive methods, and the checks each step makes.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::model::{Drive, ModelError, Network, State};

/// Potentials beyond this magnitude (or not finite) count as diverged. The model's potentials
/// are O(1–10) in the paper's units.
pub const DIVERGENCE_BOUND: f64 = 1e6;

/// What can go wrong while solving.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SolveError {
    /// The state blew up.
    #[error(
        "simulation diverged at t = {t_ms} ms in layer {layer} ({population} potential = {value:e}); \
         dt may exceed the stability limit (see `dendritic stability`)"
    )]
    Diverged {
        /// Simulated time of the first step that left the bound.
        t_ms: f64,
        /// Layer k of the offending cell.
        layer: usize,
        /// "pyramidal" or "interneuron".
        population: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A deterministic method was asked to integrate a noisy network.
    #[error(
        "method `{method}` is not an SDE method and cannot integrate noise σ = {sigma} > 0; use `euler` (Euler–Maruyama) or `exponential_euler`, or set noise.sigma = 0"
    )]
    NoiseUnsupported {
        /// The method's name.
        method: &'static str,
        /// The configured σ.
        sigma: f64,
    },
    /// An iterative solver stopped without reaching its tolerance.
    #[error(
        "{method} did not converge: residual max|du/dt| = {residual:e} after {iterations} iterations (tolerance {tolerance:e}); try more iterations, damping < 1, or `newton`"
    )]
    NotConverged {
        /// The solver's name.
        method: &'static str,
        /// Iterations done.
        iterations: usize,
        /// Final residual.
        residual: f64,
        /// The tolerance asked for.
        tolerance: f64,
    },
    /// The Newton linear system could not be solved.
    #[error("newton: singular Jacobian for sample {sample} ({message})")]
    SingularJacobian {
        /// Sample of the batch.
        sample: usize,
        /// LAPACK's message.
        message: String,
    },
    /// An adaptive method's controller shrank the step to nothing (a blow-up or a singularity).
    #[error(
        "{method}: step size {h:e} ms too small at t = {t_ms} ms (the solution blows up or the tolerances are beyond round-off)"
    )]
    StepSizeTooSmall {
        /// The method's name.
        method: &'static str,
        /// Internal time reached.
        t_ms: f64,
        /// The step it would have tried.
        h: f64,
    },
    /// Tolerances that are not positive and finite.
    #[error("invalid tolerances rtol = {rtol}, atol = {atol} (both must be finite and > 0)")]
    InvalidTolerance {
        /// Relative tolerance.
        rtol: f64,
        /// Absolute tolerance.
        atol: f64,
    },
    /// A step size that is not positive and finite.
    #[error("invalid step size dt = {dt} ms (must be finite and > 0)")]
    InvalidStep {
        /// The step.
        dt: f64,
    },
    /// Inconsistent model input.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Work counters of a method, cumulative since it was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statistics {
    /// Steps taken.
    pub steps: u64,
    /// Right-hand-side evaluations.
    pub rhs_evaluations: u64,
    /// Steps tried and rejected by an adaptive method's controller (not in `steps`).
    pub rejected_steps: u64,
    /// Jacobian evaluations (and LU factorisations) of an implicit method.
    pub jacobian_evaluations: u64,
}

/// Error tolerances of an adaptive method: a component's local error estimate e is accepted
/// when ‖e / (atol + rtol·|y|)‖_RMS ≤ 1 (SciPy's and Hairer's convention).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tolerances {
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance (potentials are O(1) in the paper's units).
    pub atol: f64,
}

impl Default for Tolerances {
    /// rtol = 1e-6, atol = 1e-8.
    fn default() -> Self {
        Tolerances {
            rtol: 1e-6,
            atol: 1e-8,
        }
    }
}

impl Tolerances {
    /// rtol = atol = `tol`.
    pub fn both(tol: f64) -> Self {
        Tolerances {
            rtol: tol,
            atol: tol,
        }
    }

    /// Both finite and positive.
    ///
    /// # Errors
    /// [`SolveError::InvalidTolerance`] otherwise.
    pub fn check(self) -> Result<(), SolveError> {
        if self.rtol > 0.0 && self.rtol.is_finite() && self.atol > 0.0 && self.atol.is_finite() {
            Ok(())
        } else {
            Err(SolveError::InvalidTolerance {
                rtol: self.rtol,
                atol: self.atol,
            })
        }
    }
}

/// A time stepper for the full state (potentials, input filter, plastic weights, traces).
pub trait Method: Send {
    /// Name, as in scenario files.
    fn name(&self) -> &'static str;
    /// Order of convergence in dt of the deterministic part.
    fn order(&self) -> u32;
    /// Advances `state` from t to t + dt with the drive held constant over the step.
    ///
    /// # Errors
    /// [`SolveError::Diverged`] when a potential leaves [`DIVERGENCE_BOUND`].
    fn step(
        &mut self,
        net: &Network,
        state: &mut State,
        drive: &Drive,
        t: f64,
        dt: f64,
    ) -> Result<(), SolveError>;
    /// Work done so far.
    fn statistics(&self) -> Statistics;
}

/// Where the caller's last step ended, to tell a continuation from a restart.
#[derive(Clone, Debug, Default)]
pub(crate) struct LastOutput {
    t: f64,
    y: Vec<f64>,
    p: Vec<f64>,
    input: Vec<f64>,
    target: Option<Vec<f64>>,
}

impl LastOutput {
    pub(crate) fn matches(&self, state: &State, drive: &Drive, t: f64) -> bool {
        (t - self.t).abs() <= 1e-9 * t.abs().max(1.0)
            && self.y == state.y
            && self.p == state.p
            && drive.input.iter().eq(self.input.iter())
            && match (&drive.target, &self.target) {
                (None, None) => true,
                (Some(a), Some(b)) => a.iter().eq(b.iter()),
                _ => false,
            }
    }

    pub(crate) fn remember(&mut self, state: &State, drive: &Drive, t: f64) {
        self.t = t;
        self.y.clone_from(&state.y);
        self.p.clone_from(&state.p);
        self.input.clear();
        self.input.extend(drive.input.iter());
        match drive.target {
            Some(trg) => {
                let v = self.target.get_or_insert_with(Vec::new);
                v.clear();
                v.extend(trg.iter());
            }
            None => self.target = None,
        }
    }
}

/// [`SolveError::NoiseUnsupported`] for a deterministic method on a noisy network.
pub(crate) fn refuse_noise(net: &Network, method: &'static str) -> Result<(), SolveError> {
    let sigma = net.config.noise.sigma;
    if sigma > 0.0 {
        Err(SolveError::NoiseUnsupported { method, sigma })
    } else {
        Ok(())
    }
}

/// The checks every time step starts with: a valid dt and a drive of the network's shape.
pub(crate) fn begin_step(net: &Network, drive: &Drive, dt: f64) -> Result<(), SolveError> {
    check_dt(dt)?;
    net.check_drive(drive)?;
    Ok(())
}

/// What every time step ends with: the optional weight bound, the counters, the divergence check.
pub(crate) fn end_step(
    net: &Network,
    state: &mut State,
    stats: &mut Statistics,
    rhs_evaluations: u64,
    t_end: f64,
) -> Result<(), SolveError> {
    net.project(state);
    stats.steps += 1;
    stats.rhs_evaluations += rhs_evaluations;
    check_divergence(net, &state.y, t_end)
}

pub(crate) fn check_dt(dt: f64) -> Result<(), SolveError> {
    if dt > 0.0 && dt.is_finite() {
        Ok(())
    } else {
        Err(SolveError::InvalidStep { dt })
    }
}

/// Returns [`SolveError::Diverged`] naming the first potential that is not finite or exceeds
/// [`DIVERGENCE_BOUND`] in magnitude.
pub fn check_divergence(net: &Network, y: &[f64], t_ms: f64) -> Result<(), SolveError> {
    let np = net.layout.n_potentials;
    // Every potential looked at without an early exit (a loop that vectorises), then the first
    // bad one found only when there is one.
    let bounded = |c: &[f64]| {
        c.iter()
            .fold(true, |ok, v| ok & (v.abs() <= DIVERGENCE_BOUND))
    };
    if y[..np].chunks(64).all(bounded) {
        return Ok(());
    }
    if let Some(i) = y[..np].iter().position(|v| !(v.abs() <= DIVERGENCE_BOUND)) {
        let (population, layer) = net.layout.population_of(i).expect("index is a potential");
        return Err(SolveError::Diverged {
            t_ms,
            layer,
            population,
            value: y[i],
        });
    }
    Ok(())
}

/// Adds the somatic noise of one step to every potential: σ √dt ξ (Euler–Maruyama) or σ dt ξ
/// (legacy convention), ξ ~ N(0, 1) drawn in a fixed order.
pub(crate) fn add_noise(net: &Network, y: &mut [f64], dt: f64, rng: &mut crate::rng::Rng) {
    let noise = net.config.noise;
    if noise.sigma == 0.0 {
        return;
    }
    let amp = match noise.convention {
        crate::model::NoiseConvention::EulerMaruyama => noise.sigma * dt.sqrt(),
        crate::model::NoiseConvention::LegacyDt => noise.sigma * dt,
    };
    rng.add_scaled_normals(&mut y[..net.layout.n_potentials], amp);
}
