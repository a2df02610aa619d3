//! The time steppers by name: what a scenario file's `method = "…"` builds.

use serde::{Deserialize, Serialize};

use super::bdf2::Bdf2;
use super::dopri5::{Control, Dopri5};
use super::euler::Euler;
use super::exp_euler::ExponentialEuler;
use super::method::{Method, SolveError, Tolerances};
use super::rk4::Rk4;
use super::ros2::Ros2;
use crate::model::Network;

/// Which time stepper, as named in a scenario file (`method = "rk4"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MethodKind {
    /// Forward Euler; Euler–Maruyama when σ > 0. Order 1.
    #[default]
    Euler,
    /// Classical Runge–Kutta, deterministic only. Order 4.
    Rk4,
    /// Exponential Euler, exact for the leak and linear filters; exact OU noise. Order 1.
    ExponentialEuler,
    /// Dormand–Prince 5(4), adaptive with dense output (tolerances `rtol`, `atol`);
    /// deterministic only. Order 5.
    Dopri5,
    /// ROS2, the L-stable Rosenbrock–W method (linearly implicit); deterministic only. Order
    /// 2, first in the stiff limit when slow components read the stiff ones.
    Ros2,
    /// BDF2, the L-stable second-order backward differentiation formula (simplified Newton on
    /// the whole state); deterministic only. Order 2, kept in the stiff limit.
    Bdf2,
}

impl MethodKind {
    /// The fixed-step explicit steppers (the ones `dendritic stability` bounds).
    pub const FIXED_STEP: [MethodKind; 3] = [
        MethodKind::Euler,
        MethodKind::Rk4,
        MethodKind::ExponentialEuler,
    ];

    /// Every stepper.
    pub const ALL: [MethodKind; 6] = [
        MethodKind::Euler,
        MethodKind::Rk4,
        MethodKind::ExponentialEuler,
        MethodKind::Dopri5,
        MethodKind::Ros2,
        MethodKind::Bdf2,
    ];

    /// Builds the stepper for `net` (adaptive ones with the default [`Tolerances`]); `seed`
    /// drives its noise.
    ///
    /// # Errors
    /// [`SolveError::NoiseUnsupported`] for the deterministic methods with σ > 0.
    pub fn build(self, net: &Network, seed: u64) -> Result<Box<dyn Method>, SolveError> {
        self.build_with(net, seed, Tolerances::default())
    }

    /// Builds the stepper for `net` with the tolerances an adaptive method uses.
    ///
    /// # Errors
    /// [`SolveError::NoiseUnsupported`] for the deterministic methods with σ > 0;
    /// [`SolveError::InvalidTolerance`].
    pub fn build_with(
        self,
        net: &Network,
        seed: u64,
        tolerances: Tolerances,
    ) -> Result<Box<dyn Method>, SolveError> {
        Ok(match self {
            MethodKind::Euler => Box::new(Euler::new(net, seed)),
            MethodKind::Rk4 => Box::new(Rk4::new(net)?),
            MethodKind::ExponentialEuler => Box::new(ExponentialEuler::new(net, seed)),
            MethodKind::Dopri5 => Box::new(Dopri5::new(net, Control::Adaptive(tolerances))?),
            MethodKind::Ros2 => Box::new(Ros2::new(net)?),
            MethodKind::Bdf2 => Box::new(Bdf2::new(net)?),
        })
    }

    /// Name as in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            MethodKind::Euler => "euler",
            MethodKind::Rk4 => "rk4",
            MethodKind::ExponentialEuler => "exponential_euler",
            MethodKind::Dopri5 => "dopri5",
            MethodKind::Ros2 => "ros2",
            MethodKind::Bdf2 => "bdf2",
        }
    }

    /// The stepper of that scenario-file name.
    pub fn from_name(name: &str) -> Option<MethodKind> {
        MethodKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether σ > 0 can be integrated (Euler–Maruyama, exponential Euler).
    pub fn integrates_noise(self) -> bool {
        matches!(self, MethodKind::Euler | MethodKind::ExponentialEuler)
    }

    /// Whether the step size is chosen by an error controller (`rtol`/`atol` apply).
    pub fn is_adaptive(self) -> bool {
        self == MethodKind::Dopri5
    }

    /// Whether explicit in the potentials, so that a dt above the stability limit diverges.
    pub fn is_explicit(self) -> bool {
        !matches!(self, MethodKind::Ros2 | MethodKind::Bdf2)
    }
}
