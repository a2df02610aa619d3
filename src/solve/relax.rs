//! Relaxation: a steady state found by integrating the dynamics in simulated time with the
//! weights frozen — a time stepper on a twin of the network whose plasticity is off, for a
//! fixed duration from the current potentials. The check on the two-pass and fixed-point
//! solutions that makes no assumption beyond the ODE itself.

use super::kind::MethodKind;
use super::method::{Method, SolveError};
use super::simulation::Simulation;
use super::steady::{Settled, SteadyState};
use crate::model::{Drive, Network, State, Workspace, copy_parameters};

/// Settles by `steps` steps of `dt` of a time stepper on a weight-frozen twin.
pub struct Relax {
    twin: Network,
    twin_state: State,
    method: Box<dyn Method>,
    steps: u64,
    dt: f64,
    /// Scratch of the caller's (the dendrites at the settled state).
    ws: Workspace,
    /// Scratch of the residual.
    residual_ws: Workspace,
    du: Vec<f64>,
}

impl Relax {
    /// A relaxation of `net` (its batch and equations, plasticity off) by `kind` at step `dt`
    /// for `duration_ms` (rounded to whole steps); `seed` seeds a stochastic method's noise.
    ///
    /// # Errors
    /// The twin's network or method cannot be built.
    pub fn new(
        net: &Network,
        kind: MethodKind,
        dt: f64,
        duration_ms: f64,
        seed: u64,
    ) -> Result<Relax, SolveError> {
        super::method::check_dt(dt)?;
        let mut config = net.config.clone();
        let p = &mut config.plasticity;
        for eta in [&mut p.eta_up, &mut p.eta_down, &mut p.eta_ip, &mut p.eta_pi] {
            eta.iter_mut().for_each(|e| *e = 0.0);
        }
        let twin = Network::new(config, net.batch())?;
        let method = kind.build(&twin, seed)?;
        Ok(Relax {
            twin_state: twin.zero_state(),
            ws: Workspace::new(net),
            residual_ws: Workspace::new(net),
            du: vec![0.0; net.layout.n_potentials],
            twin,
            method,
            steps: (duration_ms / dt).round() as u64,
            dt,
        })
    }

    /// Scratch the caller may use for the dendrites at the settled state.
    pub fn workspace(&mut self) -> &mut Workspace {
        &mut self.ws
    }
}

impl SteadyState for Relax {
    fn name(&self) -> &'static str {
        "relax"
    }

    /// Copies the weights and potentials into the twin, integrates from t = 0, and copies the
    /// potentials back.
    fn settle(
        &mut self,
        net: &Network,
        state: &mut State,
        drive: &Drive,
    ) -> Result<Settled, SolveError> {
        copy_parameters(net, state, &self.twin, &mut self.twin_state);
        let np = net.layout.n_potentials;
        self.twin_state.y[..np].copy_from_slice(&state.y[..np]);
        let spent_before = self.method.statistics().rhs_evaluations;
        let mut sim =
            Simulation::new(&self.twin, &mut self.twin_state, &mut *self.method, self.dt)?;
        sim.run(self.steps, drive, &mut [])?;
        let rhs_evaluations = sim.statistics().rhs_evaluations - spent_before;
        state.y[..np].copy_from_slice(&self.twin_state.y[..np]);
        net.rhs_potentials(
            &state.y,
            &state.p,
            drive,
            &mut self.residual_ws,
            &mut self.du,
        );
        Ok(Settled {
            iterations: self.steps as usize,
            residual: self.du.iter().fold(0.0, |m, d| f64::max(m, d.abs())),
            rhs_evaluations,
        })
    }
}
