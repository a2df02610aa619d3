//! BDF2, the second-order backward differentiation formula, for stiff dynamics:
//!
//! ```text
//! yₙ₊₁ − (4/3) yₙ + (1/3) yₙ₋₁ = (2/3) h f(yₙ₊₁)
//! ```
//!
//! A- and L-stable (both roots of (1 − 2z/3) ζ² − (4/3) ζ + 1/3 vanish as z → −∞). On
//! `scenarios/stiff.toml` at its stiffest factor, plasticity on, started on the slow manifold,
//! it is second order and 8× more accurate than ROS2 at the same step (tests/core/stiff.rs);
//! started from rest, the unresolved initial layer leaves an h-independent O(1/s) error in the
//! weights (8e-7 there).
//!
//! Each step solves the implicit equation for the whole state (potentials, input filter,
//! plastic weights and traces) by a simplified Newton iteration with the matrix
//! I − (2/3) h J of [`super::implicit`] (the potentials' analytic Jacobian and the filter's block;
//! the weights' couplings are left to the iteration), from the linear extrapolation
//! 2yₙ − yₙ₋₁, until the update is below `newton_tolerance` × (1 + max |y|). J is refreshed
//! every `jacobian_interval` steps (default 1), and at once when the iteration stalls.
//!
//! The history yₙ₋₁ is used only when a call continues the last one exactly (same t, the
//! returned state unchanged, same drive and dt); otherwise — the first step, a new pattern —
//! the step is implicit Euler (BDF1), whose one-step local error O(h²) keeps the global error
//! second order. Deterministic only (σ > 0 is refused). One step of the requested dt per call.

use super::implicit::ShiftedSystem;
use super::method::{LastOutput, Method, SolveError, Statistics, begin_step, end_step};
use crate::model::{Drive, Network, State, Workspace};

/// Newton iterations before the Jacobian is refreshed, and before giving up after that.
const MAX_ITERATIONS: usize = 8;

/// BDF2 with owned scratch and history; see the module doc.
pub struct Bdf2 {
    ws: Workspace,
    system: ShiftedSystem,
    jacobian_interval: u64,
    since_refresh: u64,
    newton_tolerance: f64,
    /// yₙ₋₁, valid when `last` matches the caller's state.
    previous: Vec<f64>,
    have_previous: bool,
    last: LastOutput,
    last_dt: f64,
    /// The iterate Y ≈ yₙ₊₁, and where it started.
    y: Vec<f64>,
    predictor: Vec<f64>,
    /// (4/3) yₙ − (1/3) yₙ₋₁ (or yₙ for the Euler start).
    base: Vec<f64>,
    f: Vec<f64>,
    residual: Vec<f64>,
    delta: Vec<f64>,
    stats: Statistics,
}

impl std::fmt::Debug for Bdf2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bdf2")
            .field("jacobian_interval", &self.jacobian_interval)
            .field("newton_tolerance", &self.newton_tolerance)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Bdf2 {
    /// Scratch for `net`: Jacobian at every step, Newton tolerance 1e-10.
    ///
    /// # Errors
    /// [`SolveError::NoiseUnsupported`] when the network has σ > 0.
    pub fn new(net: &Network) -> Result<Self, SolveError> {
        super::method::refuse_noise(net, "bdf2")?;
        let n = net.layout.n_dynamic;
        Ok(Bdf2 {
            ws: Workspace::new(net),
            system: ShiftedSystem::new(net, 0),
            jacobian_interval: 1,
            since_refresh: 0,
            newton_tolerance: 1e-10,
            previous: vec![0.0; n],
            have_previous: false,
            last: LastOutput::default(),
            last_dt: 0.0,
            y: vec![0.0; n],
            predictor: vec![0.0; n],
            base: vec![0.0; n],
            f: vec![0.0; n],
            residual: vec![0.0; n],
            delta: vec![0.0; n],
            stats: Statistics::default(),
        })
    }

    /// Keeps J and its factors for `steps` steps (≥ 1) while the shift is unchanged.
    #[must_use]
    pub fn with_jacobian_interval(mut self, steps: u64) -> Self {
        self.jacobian_interval = steps.max(1);
        self
    }

    /// The Newton iteration stops when max |ΔY| ≤ tolerance × (1 + max |Y|).
    #[must_use]
    pub fn with_newton_tolerance(mut self, tolerance: f64) -> Self {
        self.newton_tolerance = tolerance;
        self
    }

    /// Simplified Newton on Y − base − c f(Y) = 0 from the current `self.y`; the number of
    /// right-hand sides used, or `None` when it did not converge in [`MAX_ITERATIONS`].
    fn newton(
        &mut self,
        net: &Network,
        state: &State,
        drive: &Drive,
        c: f64,
    ) -> Result<Option<u64>, SolveError> {
        let mut previous_norm = f64::INFINITY;
        for iteration in 1..=MAX_ITERATIONS {
            net.rhs(&self.y, &state.p, drive, &mut self.ws, &mut self.f);
            for (((r, y), b), f) in self
                .residual
                .iter_mut()
                .zip(&self.y)
                .zip(&self.base)
                .zip(&self.f)
            {
                *r = -(y - b - c * f);
            }
            let stats = &mut self.stats;
            self.system.solve(
                net,
                state,
                drive,
                &self.f,
                &self.residual,
                &mut self.delta,
                stats,
            )?;
            let mut norm = 0.0f64;
            let mut size = 1.0f64;
            for (y, d) in self.y.iter_mut().zip(&self.delta) {
                *y += d;
                norm = norm.max(d.abs());
                size = size.max(y.abs());
            }
            if !norm.is_finite() || (iteration > 2 && norm > previous_norm) {
                return Ok(None);
            }
            if norm <= self.newton_tolerance * size {
                return Ok(Some(iteration as u64));
            }
            previous_norm = norm;
        }
        Ok(None)
    }
}

impl Method for Bdf2 {
    fn name(&self) -> &'static str {
        "bdf2"
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
        let multistep =
            self.have_previous && dt == self.last_dt && self.last.matches(state, drive, t);
        let beta = if multistep {
            for (((b, y), p), x) in self
                .base
                .iter_mut()
                .zip(&state.y)
                .zip(&self.previous)
                .zip(self.y.iter_mut())
            {
                *b = (4.0 * y - p) / 3.0;
                *x = 2.0 * y - p;
            }
            2.0 / 3.0
        } else {
            self.base.copy_from_slice(&state.y);
            self.y.copy_from_slice(&state.y);
            1.0
        };
        let c = beta * dt;
        self.predictor.copy_from_slice(&self.y);
        if self.system.shift() != c || self.since_refresh >= self.jacobian_interval {
            self.system.factor(net, state, drive, c, &mut self.stats)?;
            self.since_refresh = 0;
        }
        self.since_refresh += 1;
        let evaluations = match self.newton(net, state, drive, c)? {
            Some(n) => n,
            None => {
                // Stalled: a fresh Jacobian at the last iterate, and the iteration again from
                // the predictor.
                let at = State {
                    y: self.y.clone(),
                    p: state.p.clone(),
                };
                self.system.factor(net, &at, drive, c, &mut self.stats)?;
                self.since_refresh = 1;
                self.y.copy_from_slice(&self.predictor);
                self.newton(net, state, drive, c)?
                    .ok_or(SolveError::NotConverged {
                        method: "bdf2 (Newton)",
                        iterations: 2 * MAX_ITERATIONS,
                        residual: self.delta.iter().fold(0.0, |m: f64, d| m.max(d.abs())),
                        tolerance: self.newton_tolerance,
                    })?
                    + MAX_ITERATIONS as u64
            }
        };
        self.previous.copy_from_slice(&state.y);
        state.y.copy_from_slice(&self.y);
        self.have_previous = true;
        end_step(net, state, &mut self.stats, evaluations, t + dt)?;
        self.last.remember(state, drive, t + dt);
        self.last_dt = dt;
        Ok(())
    }
    fn statistics(&self) -> Statistics {
        self.stats
    }
}
