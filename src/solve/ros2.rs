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
//! the whole state. Here J is the analytic Jacobian of the potentials, ∂(du/dt)/∂u with the
//! weights frozen ([`Network::jacobian`], one dense block per sample), and zero for the input
//! low-pass, the plastic weights and their traces. Those slow components are therefore advanced
//! by the method's explicit part (an IMEX split inside one scheme), while the potentials — where
//! the conductances make the system stiff — get the implicit treatment; with the exact J the
//! stability function R(z) = (1 + (1 − 2γ) z + (γ² − 2γ + ½) z²)/(1 − γ z)² tends to 0 as
//! z → −∞ (L-stability; γ² − 2γ + ½ = 0).
//!
//! The LU factors of I − γ h J (LAPACK `dgetrf` through ndarray-linalg) serve both stages and
//! are kept for `jacobian_interval` steps while h is unchanged: a stale J costs nothing in order
//! (the W property), only possibly in stability far from where J was taken. The default, 1,
//! refreshes at every step. Deterministic only (σ > 0 is refused). Fixed step: one step of the
//! requested dt per call, so records fall on the caller's grid.

use ndarray::{Array1, Array2};
use ndarray_linalg::{FactorizeInto, LUFactorized, Solve};

use super::{Method, SolveError, Statistics, begin_step, end_step};
use crate::model::{Drive, Network, State, Workspace};

/// γ = 1 + 1/√2.
pub const GAMMA: f64 = 1.0 + std::f64::consts::FRAC_1_SQRT_2;

/// ROS2 with owned stage buffers and factorisations; see the module doc.
pub struct Ros2 {
    ws: Workspace,
    /// Index in y of each sample's potentials (in [`Network::jacobian`]'s order).
    index: Vec<Vec<usize>>,
    lu: Vec<LUFactorized<ndarray::OwnedRepr<f64>>>,
    /// The h the factors belong to (0: none).
    h_lu: f64,
    since_refresh: u64,
    jacobian_interval: u64,
    f: Vec<f64>,
    k1: Vec<f64>,
    k2: Vec<f64>,
    stage: Vec<f64>,
    rhs: Array1<f64>,
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
    /// Scratch for `net`, refreshing the Jacobian at every step.
    ///
    /// # Errors
    /// [`SolveError::NoiseUnsupported`] when the network has σ > 0.
    pub fn new(net: &Network) -> Result<Self, SolveError> {
        let sigma = net.config.noise.sigma;
        if sigma > 0.0 {
            return Err(SolveError::NoiseUnsupported {
                method: "ros2",
                sigma,
            });
        }
        let n = net.layout.n_dynamic;
        let index: Vec<Vec<usize>> = (0..net.batch())
            .map(|b| net.layout.potential_index(b))
            .collect();
        let m = net.layout.potentials_per_sample();
        Ok(Ros2 {
            ws: Workspace::new(net),
            index,
            lu: Vec::new(),
            h_lu: 0.0,
            since_refresh: 0,
            jacobian_interval: 1,
            f: vec![0.0; n],
            k1: vec![0.0; n],
            k2: vec![0.0; n],
            stage: vec![0.0; n],
            rhs: Array1::zeros(m),
            stats: Statistics::default(),
        })
    }

    /// Keeps J and its factors for `steps` steps (≥ 1) while h is unchanged.
    #[must_use]
    pub fn with_jacobian_interval(mut self, steps: u64) -> Self {
        self.jacobian_interval = steps.max(1);
        self
    }

    /// Factorises I − γ h J for every sample at the current state.
    fn refresh(
        &mut self,
        net: &Network,
        state: &State,
        drive: &Drive,
        h: f64,
    ) -> Result<(), SolveError> {
        self.lu.clear();
        for b in 0..self.index.len() {
            let jac = net.jacobian(state, drive, b, &mut self.ws);
            let m = jac.nrows();
            let mut a = Array2::<f64>::eye(m);
            a.scaled_add(-GAMMA * h, &jac);
            let lu = a
                .factorize_into()
                .map_err(|e| SolveError::SingularJacobian {
                    sample: b,
                    message: e.to_string(),
                })?;
            self.lu.push(lu);
        }
        self.stats.jacobian_evaluations += 1;
        self.h_lu = h;
        self.since_refresh = 0;
        Ok(())
    }

    /// out ← (I − γ h J)⁻¹ v on the potentials, out ← v elsewhere (J is zero there).
    fn solve(
        lu: &[LUFactorized<ndarray::OwnedRepr<f64>>],
        index: &[Vec<usize>],
        rhs: &mut Array1<f64>,
        v: &[f64],
        out: &mut [f64],
    ) -> Result<(), SolveError> {
        out.copy_from_slice(v);
        for (b, (lu, idx)) in lu.iter().zip(index).enumerate() {
            for (r, &i) in rhs.iter_mut().zip(idx) {
                *r = v[i];
            }
            lu.solve_inplace(rhs)
                .map_err(|e| SolveError::SingularJacobian {
                    sample: b,
                    message: e.to_string(),
                })?;
            for (r, &i) in rhs.iter().zip(idx) {
                out[i] = *r;
            }
        }
        Ok(())
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
        if self.lu.is_empty() || dt != self.h_lu || self.since_refresh >= self.jacobian_interval {
            self.refresh(net, state, drive, dt)?;
        }
        self.since_refresh += 1;
        net.rhs(&state.y, &state.p, drive, &mut self.ws, &mut self.f);
        Self::solve(&self.lu, &self.index, &mut self.rhs, &self.f, &mut self.k1)?;
        for ((s, y), k) in self.stage.iter_mut().zip(&state.y).zip(&self.k1) {
            *s = y + dt * k;
        }
        net.rhs(&self.stage, &state.p, drive, &mut self.ws, &mut self.f);
        for (f, k) in self.f.iter_mut().zip(&self.k1) {
            *f -= 2.0 * k;
        }
        Self::solve(&self.lu, &self.index, &mut self.rhs, &self.f, &mut self.k2)?;
        for ((y, a), b) in state.y.iter_mut().zip(&self.k1).zip(&self.k2) {
            *y += dt * (1.5 * a + 0.5 * b);
        }
        end_step(net, state, &mut self.stats, 2, t + dt)
    }
    fn statistics(&self) -> Statistics {
        self.stats
    }
}
