//! The classical fourth-order Runge–Kutta method on the whole state (weights and traces
//! included, so plasticity is integrated consistently). Deterministic only.

use super::method::{Method, SolveError, Statistics, begin_step, end_step};
use crate::model::{Drive, Network, State, Workspace};

/// Classical RK4 with owned stage buffers.
#[derive(Clone, Debug)]
pub struct Rk4 {
    ws: Workspace,
    k: [Vec<f64>; 4],
    tmp: Vec<f64>,
    stats: Statistics,
}

impl Rk4 {
    /// Scratch for `net`.
    ///
    /// # Errors
    /// [`SolveError::NoiseUnsupported`] when the network has σ > 0.
    pub fn new(net: &Network) -> Result<Self, SolveError> {
        super::method::refuse_noise(net, "rk4")?;
        let n = net.layout.n_dynamic;
        Ok(Rk4 {
            ws: Workspace::new(net),
            k: std::array::from_fn(|_| vec![0.0; n]),
            tmp: vec![0.0; n],
            stats: Statistics::default(),
        })
    }
}

impl Method for Rk4 {
    fn name(&self) -> &'static str {
        "rk4"
    }
    fn order(&self) -> u32 {
        4
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
        let [k1, k2, k3, k4] = &mut self.k;
        net.rhs(&state.y, &state.p, drive, &mut self.ws, k1);
        for ((t, y), k) in self.tmp.iter_mut().zip(&state.y).zip(k1.iter()) {
            *t = y + 0.5 * dt * k;
        }
        net.rhs(&self.tmp, &state.p, drive, &mut self.ws, k2);
        for ((t, y), k) in self.tmp.iter_mut().zip(&state.y).zip(k2.iter()) {
            *t = y + 0.5 * dt * k;
        }
        net.rhs(&self.tmp, &state.p, drive, &mut self.ws, k3);
        for ((t, y), k) in self.tmp.iter_mut().zip(&state.y).zip(k3.iter()) {
            *t = y + dt * k;
        }
        net.rhs(&self.tmp, &state.p, drive, &mut self.ws, k4);
        let h6 = dt / 6.0;
        for (i, y) in state.y.iter_mut().enumerate() {
            *y += h6 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        }
        end_step(net, state, &mut self.stats, 4, t + dt)
    }
    fn statistics(&self) -> Statistics {
        self.stats
    }
}
