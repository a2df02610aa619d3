//! Dormand–Prince 5(4): the explicit Runge–Kutta pair behind SciPy's `RK45` and MATLAB's
//! `ode45` (Dormand & Prince 1980; Hairer, Nørsett & Wanner, *Solving ODEs I*, §II.5). Seven
//! stages, first-same-as-last (the seventh stage is the next step's first), the fifth-order
//! solution propagated (local extrapolation) and the difference to the embedded fourth-order
//! one used as the error estimate.
//!
//! Two controls:
//! - [`Control::Fixed`]: one step of exactly the requested dt (6 right-hand sides), for order
//!   studies with the controller off.
//! - [`Control::Adaptive`]: steps chosen by a PI controller (Hairer's `dopri5`: exponents
//!   0.2 − 0.75 β and β = 0.04, safety 0.9, growth in [1/5, 10]) on the error
//!   ‖e / (atol + rtol·max(|y₀|, |y₁|))‖_RMS ≤ 1. The internal steps do not follow the caller's
//!   grid: each call `step(t, dt)` advances the internal solution past t + dt and returns the
//!   value there from the method's continuous extension (Hairer's `contd5`, fourth order), so
//!   records fall on the output grid whatever the internal steps are. A call continues the
//!   internal solution only when it picks up exactly where the last one ended (same t, the
//!   returned state unchanged, same drive, same frozen parameters); otherwise (a new pattern, a
//!   state changed by the caller) it restarts from the caller's state, keeping its step size.
//!
//! Deterministic only: σ > 0 is refused, as for RK4. The whole state is integrated (weights and
//! traces included), and the error norm runs over all of it.

use super::method::{
    LastOutput, Method, SolveError, Statistics, Tolerances, begin_step, check_divergence,
};
use crate::model::{Drive, Network, State, Workspace};

// The Dormand–Prince tableau (a, the fifth-order weights b = a₇·, and e = b − b̂). The nodes
// c = (0, 1/5, 3/10, 4/5, 8/9, 1, 1) are not needed: the drive is held constant over a call,
// so the right-hand side does not depend on t.
const A21: f64 = 1.0 / 5.0;
const A31: f64 = 3.0 / 40.0;
const A32: f64 = 9.0 / 40.0;
const A41: f64 = 44.0 / 45.0;
const A42: f64 = -56.0 / 15.0;
const A43: f64 = 32.0 / 9.0;
const A51: f64 = 19372.0 / 6561.0;
const A52: f64 = -25360.0 / 2187.0;
const A53: f64 = 64448.0 / 6561.0;
const A54: f64 = -212.0 / 729.0;
const A61: f64 = 9017.0 / 3168.0;
const A62: f64 = -355.0 / 33.0;
const A63: f64 = 46732.0 / 5247.0;
const A64: f64 = 49.0 / 176.0;
const A65: f64 = -5103.0 / 18656.0;
const A71: f64 = 35.0 / 384.0;
const A73: f64 = 500.0 / 1113.0;
const A74: f64 = 125.0 / 192.0;
const A75: f64 = -2187.0 / 6784.0;
const A76: f64 = 11.0 / 84.0;
const E1: f64 = 71.0 / 57600.0;
const E3: f64 = -71.0 / 16695.0;
const E4: f64 = 71.0 / 1920.0;
const E5: f64 = -17253.0 / 339200.0;
const E6: f64 = 22.0 / 525.0;
const E7: f64 = -1.0 / 40.0;
// The continuous extension (Hairer's contd5).
const D1: f64 = -12715105075.0 / 11282082432.0;
const D3: f64 = 87487479700.0 / 32700410799.0;
const D4: f64 = -10690763975.0 / 1880347072.0;
const D5: f64 = 701980252875.0 / 199316789632.0;
const D6: f64 = -1453857185.0 / 822651844.0;
const D7: f64 = 69997945.0 / 29380423.0;
// The controller.
const SAFETY: f64 = 0.9;
const BETA: f64 = 0.04;
const EXPONENT: f64 = 0.2 - 0.75 * BETA;
/// h_new ≥ h / MAX_SHRINK.
const MAX_SHRINK: f64 = 5.0;
/// h_new ≤ h · MAX_GROWTH.
const MAX_GROWTH: f64 = 10.0;
/// More internal steps than this in one call is a failure, not a computation.
const MAX_STEPS_PER_CALL: u64 = 10_000_000;

/// How the step size is chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Control {
    /// Exactly the requested dt, one step per call (the controller off).
    Fixed,
    /// Error-controlled internal steps, dense output at the requested times.
    Adaptive(Tolerances),
}

/// Dormand–Prince 5(4) with owned stage buffers; see the module doc.
#[derive(Clone, Debug)]
pub struct Dopri5 {
    control: Control,
    ws: Workspace,
    /// Stages k₁ … k₇ (k₁ is f at the internal solution).
    k: [Vec<f64>; 7],
    stage: Vec<f64>,
    y_new: Vec<f64>,
    /// The internal solution and its time.
    y: Vec<f64>,
    t: f64,
    /// The continuous extension of the last accepted step, over [t_old, t].
    cont: [Vec<f64>; 5],
    t_old: f64,
    /// The next step to try (0: not chosen yet).
    h: f64,
    fac_old: f64,
    last_rejected: bool,
    live: bool,
    last: LastOutput,
    stats: Statistics,
}

impl Dopri5 {
    /// Scratch for `net`.
    ///
    /// # Errors
    /// [`SolveError::NoiseUnsupported`] when the network has σ > 0;
    /// [`SolveError::InvalidTolerance`] for tolerances that are not positive and finite.
    pub fn new(net: &Network, control: Control) -> Result<Self, SolveError> {
        super::method::refuse_noise(net, "dopri5")?;
        if let Control::Adaptive(tol) = control {
            tol.check()?;
        }
        let n = net.layout.n_dynamic;
        Ok(Dopri5 {
            control,
            ws: Workspace::new(net),
            k: std::array::from_fn(|_| vec![0.0; n]),
            stage: vec![0.0; n],
            y_new: vec![0.0; n],
            y: vec![0.0; n],
            t: 0.0,
            cont: std::array::from_fn(|_| vec![0.0; n]),
            t_old: 0.0,
            h: 0.0,
            fac_old: 1e-4,
            last_rejected: false,
            live: false,
            last: LastOutput::default(),
            stats: Statistics::default(),
        })
    }

    /// The step size the controller proposes next (0 before the first adaptive step).
    pub fn proposed_step(&self) -> f64 {
        self.h
    }

    /// Stages 2–6 from k₁ = f(y) at the internal solution y and the fifth-order solution into
    /// `y_new` (5 evaluations); with `with_k7` also k₇ = f(y_new), the error estimate's and the
    /// next step's first stage (6).
    fn stages(&mut self, net: &Network, p: &[f64], drive: &Drive, h: f64, with_k7: bool) {
        let [k1, k2, k3, k4, k5, k6, k7] = &mut self.k;
        let ws = &mut self.ws;
        let s = &mut self.stage;
        let y0 = &self.y;
        for i in 0..s.len() {
            s[i] = y0[i] + h * A21 * k1[i];
        }
        net.rhs(s, p, drive, ws, k2);
        for i in 0..s.len() {
            s[i] = y0[i] + h * (A31 * k1[i] + A32 * k2[i]);
        }
        net.rhs(s, p, drive, ws, k3);
        for i in 0..s.len() {
            s[i] = y0[i] + h * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i]);
        }
        net.rhs(s, p, drive, ws, k4);
        for i in 0..s.len() {
            s[i] = y0[i] + h * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i]);
        }
        net.rhs(s, p, drive, ws, k5);
        for i in 0..s.len() {
            s[i] =
                y0[i] + h * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i]);
        }
        net.rhs(s, p, drive, ws, k6);
        let y1 = &mut self.y_new;
        for i in 0..y1.len() {
            y1[i] =
                y0[i] + h * (A71 * k1[i] + A73 * k3[i] + A74 * k4[i] + A75 * k5[i] + A76 * k6[i]);
        }
        if with_k7 {
            net.rhs(y1, p, drive, ws, k7);
        }
    }

    /// ‖(y₅ − y₄) / (atol + rtol·max(|y₀|, |y₁|))‖_RMS of the last [`Self::stages`].
    fn error_norm(&self, tol: Tolerances, h: f64) -> f64 {
        let [k1, _, k3, k4, k5, k6, k7] = &self.k;
        let mut sum = 0.0;
        for i in 0..self.y.len() {
            let e =
                h * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]);
            let sc = tol.atol + tol.rtol * self.y[i].abs().max(self.y_new[i].abs());
            sum += (e / sc) * (e / sc);
        }
        (sum / self.y.len() as f64).sqrt()
    }

    /// Hairer's starting step (`hinit`): an Euler step's estimate of the second derivative.
    fn initial_step(&mut self, net: &Network, p: &[f64], drive: &Drive, tol: Tolerances) -> f64 {
        let sc = |v: f64| tol.atol + tol.rtol * v.abs();
        let n = self.y.len() as f64;
        let rms = |f: &dyn Fn(usize) -> f64| {
            ((0..self.y.len()).map(|i| f(i).powi(2)).sum::<f64>() / n).sqrt()
        };
        let d0 = rms(&|i| self.y[i] / sc(self.y[i]));
        let d1 = rms(&|i| self.k[0][i] / sc(self.y[i]));
        let h0 = if d0 < 1e-5 || d1 < 1e-5 {
            1e-6
        } else {
            0.01 * d0 / d1
        };
        for i in 0..self.y.len() {
            self.stage[i] = self.y[i] + h0 * self.k[0][i];
        }
        net.rhs(&self.stage, p, drive, &mut self.ws, &mut self.k[1]);
        self.stats.rhs_evaluations += 1;
        let d2 = rms(&|i| (self.k[1][i] - self.k[0][i]) / sc(self.y[i])) / h0;
        let h1 = if d1.max(d2) <= 1e-15 {
            (h0 * 1e-3).max(1e-6)
        } else {
            (0.01 / d1.max(d2)).powf(0.2)
        };
        (100.0 * h0).min(h1)
    }

    /// Starts the internal solution at the caller's state.
    fn restart(&mut self, net: &Network, state: &State, drive: &Drive, t: f64, tol: Tolerances) {
        self.y.copy_from_slice(&state.y);
        self.t = t;
        self.t_old = t;
        net.rhs(&self.y, &state.p, drive, &mut self.ws, &mut self.k[0]);
        self.stats.rhs_evaluations += 1;
        if self.h <= 0.0 {
            self.h = self.initial_step(net, &state.p, drive, tol);
        }
        self.last_rejected = false;
        self.live = true;
    }

    /// One accepted internal step (after as many rejected tries as the controller needs).
    fn advance(
        &mut self,
        net: &Network,
        p: &[f64],
        drive: &Drive,
        tol: Tolerances,
    ) -> Result<(), SolveError> {
        let mut tries = 0u64;
        loop {
            let h = self.h;
            if !(h > 1e-14 * self.t.abs().max(1.0)) || tries > 1000 {
                return Err(SolveError::StepSizeTooSmall {
                    method: "dopri5",
                    t_ms: self.t,
                    h,
                });
            }
            tries += 1;
            self.stages(net, p, drive, h, true);
            self.stats.rhs_evaluations += 6;
            let err = self.error_norm(tol, h);
            if !err.is_finite() {
                // A blow-up inside the step: retreat hard.
                self.stats.rejected_steps += 1;
                self.h = h / MAX_SHRINK;
                self.last_rejected = true;
                continue;
            }
            let fac11 = err.powf(EXPONENT);
            if err <= 1.0 {
                let fac =
                    (fac11 / self.fac_old.powf(BETA) / SAFETY).clamp(1.0 / MAX_GROWTH, MAX_SHRINK);
                let mut h_new = h / fac;
                if self.last_rejected {
                    h_new = h_new.min(h);
                }
                self.fac_old = err.max(1e-4);
                self.dense_coefficients(h);
                self.t_old = self.t;
                self.t += h;
                self.h = h_new;
                self.last_rejected = false;
                self.stats.steps += 1;
                break;
            }
            self.stats.rejected_steps += 1;
            self.h = h / (fac11 / SAFETY).min(MAX_SHRINK);
            self.last_rejected = true;
        }
        // Accepted: the new solution becomes the internal one, k₇ the next k₁ (FSAL).
        std::mem::swap(&mut self.y, &mut self.y_new);
        self.k.swap(0, 6);
        if let Some(c) = net.config.plasticity.clip {
            // The weight bound moves the solution off the step: f must be evaluated anew.
            let mut moved = false;
            for syn in net.layout.synapses.iter().filter(|s| s.is_plastic()) {
                for v in &mut self.y[syn.w.range()] {
                    if v.abs() > c {
                        *v = v.clamp(-c, c);
                        moved = true;
                    }
                }
            }
            if moved {
                net.rhs(&self.y, p, drive, &mut self.ws, &mut self.k[0]);
                self.stats.rhs_evaluations += 1;
            }
        }
        check_divergence(net, &self.y, self.t)
    }

    /// The continuous extension of the step y0 → y_new (Hairer's contd5).
    fn dense_coefficients(&mut self, h: f64) {
        let [k1, _, k3, k4, k5, k6, k7] = &self.k;
        let y0 = &self.y;
        let [c1, c2, c3, c4, c5] = &mut self.cont;
        for i in 0..y0.len() {
            let diff = self.y_new[i] - y0[i];
            let bspl = h * k1[i] - diff;
            c1[i] = y0[i];
            c2[i] = diff;
            c3[i] = bspl;
            c4[i] = diff - h * k7[i] - bspl;
            c5[i] =
                h * (D1 * k1[i] + D3 * k3[i] + D4 * k4[i] + D5 * k5[i] + D6 * k6[i] + D7 * k7[i]);
        }
    }

    /// The continuous extension at time `t` ∈ [t_old, t_internal] into `out`.
    fn interpolate(&self, t: f64, out: &mut [f64]) {
        let h = self.t - self.t_old;
        if h <= 0.0 {
            out.copy_from_slice(&self.y);
            return;
        }
        let th = ((t - self.t_old) / h).clamp(0.0, 1.0);
        let th1 = 1.0 - th;
        let [c1, c2, c3, c4, c5] = &self.cont;
        for i in 0..out.len() {
            out[i] = c1[i] + th * (c2[i] + th1 * (c3[i] + th * (c4[i] + th1 * c5[i])));
        }
    }

    fn step_fixed(
        &mut self,
        net: &Network,
        state: &mut State,
        drive: &Drive,
        t: f64,
        dt: f64,
    ) -> Result<(), SolveError> {
        // One step from the caller's state; only the fifth-order solution is needed.
        self.y.copy_from_slice(&state.y);
        net.rhs(&self.y, &state.p, drive, &mut self.ws, &mut self.k[0]);
        self.stages(net, &state.p, drive, dt, false);
        state.y.copy_from_slice(&self.y_new);
        self.live = false;
        super::method::end_step(net, state, &mut self.stats, 6, t + dt)
    }
}

impl Method for Dopri5 {
    fn name(&self) -> &'static str {
        "dopri5"
    }
    fn order(&self) -> u32 {
        5
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
        let tol = match self.control {
            Control::Fixed => return self.step_fixed(net, state, drive, t, dt),
            Control::Adaptive(tol) => tol,
        };
        if !(self.live && self.last.matches(state, drive, t)) {
            self.restart(net, state, drive, t, tol);
        }
        let t_end = t + dt;
        let mut taken = 0u64;
        while t_end - self.t > 1e-12 * t_end.abs().max(1.0) {
            self.advance(net, &state.p, drive, tol)?;
            taken += 1;
            if taken > MAX_STEPS_PER_CALL {
                return Err(SolveError::StepSizeTooSmall {
                    method: "dopri5",
                    t_ms: self.t,
                    h: self.h,
                });
            }
        }
        if (t_end - self.t).abs() <= 1e-12 * t_end.abs().max(1.0) {
            state.y.copy_from_slice(&self.y);
        } else {
            self.interpolate(t_end, &mut state.y);
        }
        net.project(state);
        check_divergence(net, &state.y, t_end)?;
        self.last.remember(state, drive, t_end);
        Ok(())
    }
    fn statistics(&self) -> Statistics {
        self.stats
    }
}
