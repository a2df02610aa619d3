//! Forward Euler, and Euler–Maruyama when σ > 0: y ← y + dt f(y) + σ √dt ξ.

use super::{Method, SolveError, Statistics, add_noise, begin_step, end_step};
use crate::model::{Drive, Network, State, Workspace};
use crate::rng::Rng;

/// Forward Euler over one snapshot: every derivative is computed from the state at t, then all
/// are applied (the order layers are visited in cannot matter).
#[derive(Clone, Debug)]
pub struct Euler {
    ws: Workspace,
    dy: Vec<f64>,
    rng: Rng,
    stats: Statistics,
}

impl Euler {
    /// Scratch for `net`; `seed` drives the noise.
    pub fn new(net: &Network, seed: u64) -> Self {
        Euler {
            ws: Workspace::new(net),
            dy: vec![0.0; net.layout.n_dynamic],
            rng: Rng::derived(seed, 0x6e6f697365),
            stats: Statistics::default(),
        }
    }
}

impl Method for Euler {
    fn name(&self) -> &'static str {
        "euler"
    }
    fn order(&self) -> u32 {
        1
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
        net.rhs(&state.y, &state.p, drive, &mut self.ws, &mut self.dy);
        for (y, d) in state.y.iter_mut().zip(&self.dy) {
            *y += dt * d;
        }
        add_noise(net, &mut state.y, dt, &mut self.rng);
        end_step(net, state, &mut self.stats, 1, t + dt)
    }
    fn statistics(&self) -> Statistics {
        self.stats
    }
}
