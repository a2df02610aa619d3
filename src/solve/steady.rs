//! Steady-state solvers of the somatic potentials with the weights frozen and σ = 0:
//! the paper's two-pass scheme (paper-spec §6.4), damped fixed-point iteration, and Newton's
//! method with a dense LU solve per sample (ndarray-linalg).

use ndarray::{Array1, Zip};
use ndarray_linalg::Solve;
use serde::{Deserialize, Serialize};

use super::method::{SolveError, refuse_noise};
use crate::model::{Deferred, Drive, Network, State, Workspace};

/// The outcome of a converged (or, for two-pass, completed) steady-state solve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settled {
    /// Iterations (two-pass: the 2 passes).
    pub iterations: usize,
    /// max |du/dt| over all potentials at the returned state.
    pub residual: f64,
    /// Right-hand-side evaluations spent (Jacobians count as one each).
    pub rhs_evaluations: u64,
}

/// A solver that moves the potentials of `state` to a fixed point of the dynamics.
pub trait SteadyState: Send {
    /// Name, as in scenario files.
    fn name(&self) -> &'static str;
    /// Settles the potentials (the input filter is set to the input first).
    ///
    /// # Errors
    /// [`SolveError::NotConverged`] when the tolerance is not met, [`SolveError::Diverged`]
    /// when the iteration blows up, [`SolveError::NoiseUnsupported`] for σ > 0.
    fn settle(
        &mut self,
        net: &Network,
        state: &mut State,
        drive: &Drive,
    ) -> Result<Settled, SolveError>;
}

/// Which steady-state solver, as named in a scenario file.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "solver", rename_all = "snake_case", deny_unknown_fields)]
pub enum SteadyStateConfig {
    /// The paper's two passes (exact only as g_A → 0).
    TwoPass,
    /// u ← u + α (G(u) − u), G the per-cell steady state given the others.
    FixedPoint {
        /// Stop when max |du/dt| < tolerance.
        #[serde(default = "default_tolerance")]
        tolerance: f64,
        /// Give up after this many iterations.
        #[serde(default = "default_iterations")]
        maximum_iterations: usize,
        /// α in (0, 1].
        #[serde(default = "one")]
        damping: f64,
    },
    /// Newton's method on du/dt = 0.
    Newton {
        /// Stop when max |du/dt| < tolerance.
        #[serde(default = "default_tolerance")]
        tolerance: f64,
        /// Give up after this many iterations.
        #[serde(default = "default_newton_iterations")]
        maximum_iterations: usize,
    },
}

fn default_tolerance() -> f64 {
    1e-12
}
fn default_iterations() -> usize {
    10_000
}
fn default_newton_iterations() -> usize {
    50
}
fn one() -> f64 {
    1.0
}

impl SteadyStateConfig {
    /// Builds the solver for `net`.
    pub fn build(self, net: &Network) -> Box<dyn SteadyState> {
        match self {
            SteadyStateConfig::TwoPass => Box::new(TwoPass::new(net)),
            SteadyStateConfig::FixedPoint {
                tolerance,
                maximum_iterations,
                damping,
            } => Box::new(FixedPoint::new(net, tolerance, maximum_iterations, damping)),
            SteadyStateConfig::Newton {
                tolerance,
                maximum_iterations,
            } => Box::new(Newton::new(net, tolerance, maximum_iterations)),
        }
    }
}

fn max_abs(x: &[f64]) -> f64 {
    x.iter().fold(0.0, |m, v| {
        if v.abs() > m || v.is_nan() {
            v.abs()
        } else {
            m
        }
    })
}

/// The paper's simplified dynamics (paper-spec §6.4): an upward pass to the bottom-up
/// prediction state, the output nudged to (1−λ_N) v̂_B + λ_N u_trgt, then a downward pass
/// k = N−1 … 1 that settles the interneurons on the updated upper layer, recomputes the apical
/// potential (Eq. 4), and sets u^P_k = v̂_B,k + λ_A v_A,k — the convex combination with
/// mixing factor λ_A = g_A/(g_lk+g_B+g_A) of the conductance-derived steady state (paper-spec
/// §2.6). Lower layers are not revisited, which is what makes it approximate: its error
/// vanishes as g_A → 0.
#[derive(Clone, Debug)]
pub struct TwoPass {
    ws: Workspace,
    du: Vec<f64>,
    /// With [`TwoPass::holding`]: the weight changes of [`TwoPass::apply_plasticity`] held to
    /// the next upward pass.
    held: Option<Deferred>,
}

impl TwoPass {
    /// Scratch for `net`.
    pub fn new(net: &Network) -> Self {
        TwoPass {
            ws: Workspace::new(net),
            du: vec![0.0; net.layout.n_potentials],
            held: None,
        }
    }

    /// The same, holding the weight changes of [`TwoPass::apply_plasticity`] that it can
    /// (see [`Deferred`]) until the next [`TwoPass::passes`] adds them while reading those
    /// weights. The same bits as [`TwoPass::new`]; the owner calls [`TwoPass::flush`] before
    /// anything else reads or replaces the weights.
    pub fn holding(net: &Network) -> Self {
        TwoPass {
            held: Some(Deferred::new(net)),
            ..TwoPass::new(net)
        }
    }

    /// How many synapse groups' changes can be held (0 unless [`TwoPass::holding`]).
    pub fn held_groups(&self) -> usize {
        self.held.as_ref().map_or(0, Deferred::slots)
    }

    /// Adds every held weight change to `state`.
    pub fn flush(&mut self, net: &Network, state: &mut State) {
        if let Some(d) = &mut self.held {
            d.flush(net, state);
        }
    }

    /// The two passes without measuring the residual (the MNIST hot path).
    pub fn passes(&mut self, net: &Network, state: &mut State, drive: &Drive) {
        net.upward_pass(state, drive, &mut self.ws, self.held.as_mut());
        if drive.target.is_none() {
            return;
        }
        let c = net.config.conductances;
        let l = &net.layout;
        let ws = &mut self.ws;
        for k in (1..net.n_layers()).rev() {
            // v^I_k is still that of the upward pass (r_k unchanged); nudge towards the new u_{k+1}.
            net.settle_interneuron(state, ws, k);
            net.apical(&state.y, &state.p, ws, k, drive.gate(&net.config, k));
            let g_tot = c.g_lk + c.g_b + c.g_a;
            Zip::from(l.u_pyr[k].view_mut(&mut state.y))
                .and(&ws.v_basal[k])
                .and(&ws.v_apical[k])
                .for_each(|u, &vb, &va| {
                    *u = (c.g_b * vb + c.g_a * va) / g_tot;
                });
            net.pyr_rates(&state.y, ws, k);
        }
    }
}

impl TwoPass {
    /// The rates and dendrites left by the last [`TwoPass::passes`].
    pub fn workspace(&self) -> &Workspace {
        &self.ws
    }

    /// The same, for measurements that recompute factors in it (probes).
    pub fn workspace_mut(&mut self) -> &mut Workspace {
        &mut self.ws
    }

    /// The MNIST learner's weight changes after [`TwoPass::passes`] (paper-spec §6.4):
    /// [`Network::apply_minibatch_plasticity`] on the two passes' rates and dendrites, so the
    /// prediction terms v̂_B,k and v̂^I_k are those of the upward (bottom-up) pass.
    /// With [`TwoPass::holding`], the changes it can hold are added by the next passes.
    pub fn apply_plasticity(&mut self, net: &Network, state: &mut State, eta: &[f64]) {
        net.apply_minibatch_plasticity_held(state, &mut self.ws, eta, self.held.as_mut());
    }
}

impl SteadyState for TwoPass {
    fn name(&self) -> &'static str {
        "two_pass"
    }
    fn settle(
        &mut self,
        net: &Network,
        state: &mut State,
        drive: &Drive,
    ) -> Result<Settled, SolveError> {
        net.check_drive(drive)?;
        refuse_noise(net, "two_pass")?;
        self.passes(net, state, drive);
        net.rhs_potentials(&state.y, &state.p, drive, &mut self.ws, &mut self.du);
        super::method::check_divergence(net, &state.y, 0.0)?;
        Ok(Settled {
            iterations: 2,
            residual: max_abs(&self.du),
            rhs_evaluations: 1,
        })
    }
}

/// The loop both iterative solvers share: set the input filter to the input, evaluate du/dt,
/// stop below the tolerance, give up at the cap (or on a non-finite residual), else `update`
/// the state (which returns the extra right-hand-side evaluations it spent).
#[allow(
    clippy::too_many_arguments,
    reason = "the loop both iterative solvers share: their state, buffers, stopping rule and update"
)]
fn iterate(
    net: &Network,
    state: &mut State,
    drive: &Drive,
    ws: &mut Workspace,
    du: &mut [f64],
    tolerance: f64,
    maximum_iterations: usize,
    method: &'static str,
    mut update: impl FnMut(&mut State, &[f64], &mut Workspace) -> Result<u64, SolveError>,
) -> Result<Settled, SolveError> {
    if let Some(b) = net.layout.r_in {
        b.view_mut(&mut state.y).assign(&drive.input);
    }
    let mut evals = 0;
    for it in 0..=maximum_iterations {
        net.rhs_potentials(&state.y, &state.p, drive, ws, du);
        evals += 1;
        let residual = max_abs(du);
        if residual < tolerance {
            return Ok(Settled {
                iterations: it,
                residual,
                rhs_evaluations: evals,
            });
        }
        if it == maximum_iterations || !residual.is_finite() {
            super::method::check_divergence(net, &state.y, 0.0)?;
            return Err(SolveError::NotConverged {
                method,
                iterations: it,
                residual,
                tolerance,
            });
        }
        evals += update(state, du, ws)?;
        super::method::check_divergence(net, &state.y, 0.0)?;
    }
    unreachable!("the loop returns")
}

/// Damped fixed-point iteration u ← u + α f(u)/a, where a is each cell's total conductance
/// (so u + f/a is the cell's steady state given all the others: a Jacobi sweep).
#[derive(Clone, Debug)]
pub struct FixedPoint {
    /// Stop when max |du/dt| < tolerance.
    pub tolerance: f64,
    /// Iteration cap.
    pub maximum_iterations: usize,
    /// α.
    pub damping: f64,
    ws: Workspace,
    du: Vec<f64>,
    rates: Vec<f64>,
}

impl FixedPoint {
    /// A solver with the given tolerance, iteration cap and damping α.
    pub fn new(net: &Network, tolerance: f64, maximum_iterations: usize, damping: f64) -> Self {
        FixedPoint {
            tolerance,
            maximum_iterations,
            damping,
            ws: Workspace::new(net),
            du: vec![0.0; net.layout.n_potentials],
            rates: vec![0.0; net.layout.n_dynamic],
        }
    }
}

impl FixedPoint {
    /// Its scratch, holding the rates and dendrites of the last evaluated state.
    pub fn workspace(&mut self) -> &mut Workspace {
        &mut self.ws
    }
}

impl SteadyState for FixedPoint {
    fn name(&self) -> &'static str {
        "fixed_point"
    }
    fn settle(
        &mut self,
        net: &Network,
        state: &mut State,
        drive: &Drive,
    ) -> Result<Settled, SolveError> {
        net.check_drive(drive)?;
        refuse_noise(net, "fixed_point")?;
        let (damping, rates) = (self.damping, &mut self.rates);
        iterate(
            net,
            state,
            drive,
            &mut self.ws,
            &mut self.du,
            self.tolerance,
            self.maximum_iterations,
            "fixed_point",
            |state, du, _| {
                net.decay_rates(state, drive, rates);
                for ((u, d), a) in state.y.iter_mut().zip(du).zip(rates.iter()) {
                    *u += damping * d / a;
                }
                Ok(0)
            },
        )
    }
}

/// Newton's method on the potentials: J δ = −f per sample (the samples are uncoupled), with the
/// analytic Jacobian and LAPACK's LU solve.
#[derive(Clone, Debug)]
pub struct Newton {
    /// Stop when max |du/dt| < tolerance.
    pub tolerance: f64,
    /// Iteration cap.
    pub maximum_iterations: usize,
    ws: Workspace,
    du: Vec<f64>,
    index: Vec<Vec<usize>>,
}

impl Newton {
    /// A solver with the given tolerance and iteration cap.
    pub fn new(net: &Network, tolerance: f64, maximum_iterations: usize) -> Self {
        let index = (0..net.batch())
            .map(|b| net.layout.potential_index(b))
            .collect();
        Newton {
            tolerance,
            maximum_iterations,
            ws: Workspace::new(net),
            du: vec![0.0; net.layout.n_potentials],
            index,
        }
    }
}

impl SteadyState for Newton {
    fn name(&self) -> &'static str {
        "newton"
    }
    fn settle(
        &mut self,
        net: &Network,
        state: &mut State,
        drive: &Drive,
    ) -> Result<Settled, SolveError> {
        net.check_drive(drive)?;
        refuse_noise(net, "newton")?;
        let index = &self.index;
        iterate(
            net,
            state,
            drive,
            &mut self.ws,
            &mut self.du,
            self.tolerance,
            self.maximum_iterations,
            "newton",
            |state, du, ws| {
                let mut evals = 0;
                for (b, idx) in index.iter().enumerate() {
                    let jac = net.jacobian(state, drive, b, ws);
                    evals += 1;
                    let rhs: Array1<f64> = idx.iter().map(|&i| -du[i]).collect();
                    let delta = jac
                        .solve_into(rhs)
                        .map_err(|e| SolveError::SingularJacobian {
                            sample: b,
                            message: e.to_string(),
                        })?;
                    for (&i, d) in idx.iter().zip(delta.iter()) {
                        state.y[i] += d;
                    }
                }
                Ok(evals)
            },
        )
    }
}
