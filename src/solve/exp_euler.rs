//! Exponential Euler. Every component obeys dy/dt = −a y + b(y_others) with a known decay rate a
//! (total somatic conductance, 1/τ_in, 1/τ_w, or 0 for weights). Freezing b over the step gives
//! y ← y + f(y) (1 − e^{−a dt})/a: exact for the leak and the linear filters, first order in the
//! coupling. Noise is added as the exact Ornstein–Uhlenbeck increment σ √((1 − e^{−2a dt})/(2a)) ξ
//! (Euler–Maruyama convention) or σ dt ξ (legacy convention).

use super::method::{Method, SolveError, Statistics, begin_step, end_step};
use crate::model::{Drive, Network, NoiseConvention, State, Workspace};
use crate::rng::Rng;

/// Exponential Euler with owned scratch.
#[derive(Clone, Debug)]
pub struct ExponentialEuler {
    ws: Workspace,
    dy: Vec<f64>,
    rates: Vec<f64>,
    rng: Rng,
    stats: Statistics,
}

impl ExponentialEuler {
    /// Scratch for `net`; `seed` drives the noise.
    pub fn new(net: &Network, seed: u64) -> Self {
        let n = net.layout.n_dynamic;
        ExponentialEuler {
            ws: Workspace::new(net),
            dy: vec![0.0; n],
            rates: vec![0.0; n],
            rng: Rng::derived(seed, 0x6e6f697365),
            stats: Statistics::default(),
        }
    }
}

/// (1 − e^{−a h})/a, → h as a → 0.
#[inline]
fn phi1(a: f64, h: f64) -> f64 {
    let x = a * h;
    if x.abs() < 1e-8 {
        h * (1.0 - 0.5 * x)
    } else {
        -(-x).exp_m1() / a
    }
}

impl Method for ExponentialEuler {
    fn name(&self) -> &'static str {
        "exponential_euler"
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
        net.decay_rates(state, drive, &mut self.rates);
        net.rhs(&state.y, &state.p, drive, &mut self.ws, &mut self.dy);
        for ((y, d), &a) in state.y.iter_mut().zip(&self.dy).zip(&self.rates) {
            *y += d * phi1(a, dt);
        }
        let noise = net.config.noise;
        if noise.sigma > 0.0 {
            let np = net.layout.n_potentials;
            for (y, &a) in state.y[..np].iter_mut().zip(&self.rates[..np]) {
                let amp = match noise.convention {
                    NoiseConvention::EulerMaruyama => noise.sigma * phi1(2.0 * a, dt).sqrt(),
                    NoiseConvention::LegacyDt => noise.sigma * dt,
                };
                *y += amp * self.rng.normal();
            }
        }
        end_step(net, state, &mut self.stats, 1, t + dt)
    }
    fn statistics(&self) -> Statistics {
        self.stats
    }
}
