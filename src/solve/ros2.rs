//! ROS2, the two-stage, second-order, L-stable Rosenbrock–W method of Verwer, Spee, Blom &
//! Hundsdorfer (SIAM J. Sci. Comput. 20, 1999), for stiff potential dynamics:
//!
//! ```text
//! (I − γ h J) k₁ = f(yₙ)
//! (I − γ h J) k₂ = f(yₙ + h k₁) − 2 k₁
//! yₙ₊₁ = yₙ + (3/2) h k₁ + (1/2) h k₂,        γ = 1 + 1/√2
//! ```
//!
//! It is a *W-method*: second order for any matrix J, so J need not be the exact Jacobian of
//! the whole state; here it is the one of [`super::implicit`] (the potentials' analytic block
//! and the input filter's, exact; the coupling to the plastic weights by `sweeps` block-Jacobi
//! sweeps, default 2, each one more right-hand side per stage). With the exact J the stability function
//! R(z) = (1 + (1 − 2γ) z + (γ² − 2γ + ½) z²)/(1 − γ z)² tends to 0 as z → −∞ (L-stability;
//! γ² − 2γ + ½ = 0).
//!
//! **What J must hold.** A W-method keeps its order for any J only while h‖J − J_exact‖ is
//! small; in the stiff limit every coupling of the stiff potentials must be in J. Measured on
//! `scenarios/stiff.toml` at its stiffest factor (tests/core/stiff.rs), started on the slow
//! manifold: second order with the sweeps, first order (and 30× less accurate) without them,
//! because the plastic weights drive the potentials with a gain that grows with the
//! conductances; without the filter's block it is first order even with the weights frozen.
//! Started off the manifold (from rest), the unresolved initial layer leaves an O(h) error in
//! the weights, which read the potentials; [`super::bdf2::Bdf2`] leaves an h-independent O(1/s) one.
//!
//! The LU factors serve both stages and are kept for `jacobian_interval` steps while h is
//! unchanged: a stale J costs nothing in order (the W property), only possibly in stability
//! far from where J was taken. The default, 1, refreshes at every step. Deterministic only
//! (σ > 0 is refused). Fixed step: one step of the requested dt per call, so records fall on
//! the caller's grid.

use super::implicit::ShiftedSystem;
use super::method::{Method, SolveError, Statistics, begin_step, end_step};
use crate::model::{Drive, Network, State, Workspace};

/// γ = 1 + 1/√2.
pub const GAMMA: f64 = 1.0 + std::f64::consts::FRAC_1_SQRT_2;

/// ROS2 with owned stage buffers and factorisations; see the module doc.
pub struct Ros2 {
    ws: Workspace,
    system: ShiftedSystem,
    since_refresh: u64,
    jacobian_interval: u64,
    f0: Vec<f64>,
    f: Vec<f64>,
    k1: Vec<f64>,
    k2: Vec<f64>,
    stage: Vec<f64>,
    stats: Statistics,
}

impl std::fmt::Debug for Ros2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ros2")
            .field("jacobian_interval", &self.jacobian_interval)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Ros2 {
    /// Scratch for `net`, refreshing the Jacobian at every step, two coupling sweeps.
    ///
    /// # Errors
    /// [`SolveError::NoiseUnsupported`] when the network has σ > 0.
    pub fn new(net: &Network) -> Result<Self, SolveError> {
        super::method::refuse_noise(net, "ros2")?;
        let n = net.layout.n_dynamic;
        Ok(Ros2 {
            ws: Workspace::new(net),
            system: ShiftedSystem::new(net, 2),
            since_refresh: 0,
            jacobian_interval: 1,
            f0: vec![0.0; n],
            f: vec![0.0; n],
            k1: vec![0.0; n],
            k2: vec![0.0; n],
            stage: vec![0.0; n],
            stats: Statistics::default(),
        })
    }

    /// Keeps J and its factors for `steps` steps (≥ 1) while h is unchanged.
    #[must_use]
    pub fn with_jacobian_interval(mut self, steps: u64) -> Self {
        self.jacobian_interval = steps.max(1);
        self
    }

    /// Block-Jacobi sweeps for the coupling of potentials and plastic weights (default 2).
    #[must_use]
    pub fn with_sweeps(mut self, sweeps: usize) -> Self {
        self.system.sweeps = sweeps;
        self
    }
}

impl Method for Ros2 {
    fn name(&self) -> &'static str {
        "ros2"
    }
    fn order(&self) -> u32 {
        2
    }
    fn step(
        &mut self,
        net: &Network,
        state: &mut State,
        drive: &Drive,
        t: f64,
        dt: f64,
    ) -> Result<(), SolveError> {
        begin_step(net, drive, dt)?;
        let c = GAMMA * dt;
        if self.system.shift() != c || self.since_refresh >= self.jacobian_interval {
            self.system.factor(net, state, drive, c, &mut self.stats)?;
            self.since_refresh = 0;
        }
        self.since_refresh += 1;
        net.rhs(&state.y, &state.p, drive, &mut self.ws, &mut self.f0);
        let stats = &mut self.stats;
        self.system
            .solve(net, state, drive, &self.f0, &self.f0, &mut self.k1, stats)?;
        for ((s, y), k) in self.stage.iter_mut().zip(&state.y).zip(&self.k1) {
            *s = y + dt * k;
        }
        net.rhs(&self.stage, &state.p, drive, &mut self.ws, &mut self.f);
        for (f, k) in self.f.iter_mut().zip(&self.k1) {
            *f -= 2.0 * k;
        }
        self.system
            .solve(net, state, drive, &self.f0, &self.f, &mut self.k2, stats)?;
        for ((y, a), b) in state.y.iter_mut().zip(&self.k1).zip(&self.k2) {
            *y += dt * (1.5 * a + 0.5 * b);
        }
        end_step(net, state, &mut self.stats, 2, t + dt)
    }
    fn statistics(&self) -> Statistics {
        self.stats
    }
}
