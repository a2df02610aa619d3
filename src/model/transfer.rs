//! Transfer functions φ, r = φ(u) (paper-spec §2.5), each with its derivative φ'.

use serde::{Deserialize, Serialize};

/// The neuronal transfer function φ mapping a somatic potential to a firing rate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[derive(Default)]
pub enum Transfer {
    /// φ(u) = 1 / (1 + e^{−u}) (MNIST, Fig. 3).
    #[default]
    Logistic,
    /// φ(u) = γ log(1 + e^{β(u − θ)}) (regression, Fig. 2; paper: γ = 0.1, β = 1, θ = 3).
    SoftRectifier {
        /// γ, the output scale.
        gamma: f64,
        /// β, the sharpness.
        beta: f64,
        /// θ, the threshold.
        theta: f64,
    },
    /// φ(u) = tanh(u).
    Tanh,
    /// φ(u) = u.
    Linear,
}

impl Transfer {
    /// The paper's soft rectifier γ = 0.1, β = 1, θ = 3 (Fig. 2).
    pub const PAPER_SOFT_RECTIFIER: Transfer = Transfer::SoftRectifier {
        gamma: 0.1,
        beta: 1.0,
        theta: 3.0,
    };

    /// φ(u).
    #[inline]
    pub fn phi(&self, u: f64) -> f64 {
        match *self {
            Transfer::Logistic => logistic(u),
            Transfer::SoftRectifier { gamma, beta, theta } => gamma * softplus(beta * (u - theta)),
            Transfer::Tanh => u.tanh(),
            Transfer::Linear => u,
        }
    }

    /// out_i = φ(scale · in_i) over a slice: vectorised for the logistic and the soft rectifier
    /// (`linalg::logistic_map`, `linalg::softplus_map`, within 1e-15 of [`Transfer::phi`]),
    /// element by element otherwise.
    pub fn phi_map(&self, scale: f64, input: &[f64], out: &mut [f64]) {
        match *self {
            Transfer::Logistic => crate::linalg::logistic_map(scale, input, out),
            Transfer::SoftRectifier { gamma, beta, theta } => {
                crate::linalg::softplus_map(gamma, beta, theta, scale, input, out)
            }
            _ => {
                for (o, &u) in out.iter_mut().zip(input) {
                    *o = self.phi(scale * u);
                }
            }
        }
    }

    /// out_i = φ(scale · in_i) over a slice, the bits of [`Transfer::phi`] (the logistic eight
    /// lanes at a time where `libm_exp` can: the two-pass learner's rates).
    pub fn phi_slice(&self, scale: f64, input: &[f64], out: &mut [f64]) {
        match *self {
            Transfer::Logistic => crate::libm_exp::logistic_slice(scale, input, out),
            _ => {
                for (o, &u) in out.iter_mut().zip(input) {
                    *o = self.phi(scale * u);
                }
            }
        }
    }

    /// φ'(u).
    #[inline]
    pub fn dphi(&self, u: f64) -> f64 {
        match *self {
            Transfer::Logistic => {
                let s = logistic(u);
                s * (1.0 - s)
            }
            Transfer::SoftRectifier { gamma, beta, theta } => {
                gamma * beta * logistic(beta * (u - theta))
            }
            Transfer::Tanh => {
                let t = u.tanh();
                1.0 - t * t
            }
            Transfer::Linear => 1.0,
        }
    }

    /// Φ(u), an antiderivative of φ (Φ' = φ): softplus for the logistic, log cosh for tanh,
    /// u²/2 for the linear φ; for the soft rectifier by Simpson's rule from a point where
    /// φ ≈ γ e^{β(u−θ)} (relative accuracy ~1e-12). Used by the Bregman loss of the baselines.
    pub fn antiderivative(&self, u: f64) -> f64 {
        match *self {
            Transfer::Logistic => softplus(u),
            Transfer::Tanh => u.abs() + (-2.0 * u.abs()).exp().ln_1p() - std::f64::consts::LN_2,
            Transfer::Linear => 0.5 * u * u,
            Transfer::SoftRectifier { gamma, beta, theta } => {
                let lo = theta - 40.0 / beta;
                let tail = gamma / beta * (beta * (lo - theta)).exp();
                if u <= lo {
                    return gamma / beta * (beta * (u - theta)).exp();
                }
                let n = 4000;
                let h = (u - lo) / n as f64;
                let mut s = self.phi(lo) + self.phi(u);
                for i in 1..n {
                    s += self.phi(lo + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
                }
                tail + s * h / 3.0
            }
        }
    }

    /// φ^{-1}(r), where it exists (used to turn target rates into target potentials).
    pub fn inverse(&self, r: f64) -> Option<f64> {
        let u = match *self {
            Transfer::Logistic if r > 0.0 && r < 1.0 => (r / (1.0 - r)).ln(),
            Transfer::SoftRectifier { gamma, beta, theta } if r > 0.0 => {
                theta + ((r / gamma).exp_m1()).ln() / beta
            }
            Transfer::Tanh if r > -1.0 && r < 1.0 => r.atanh(),
            Transfer::Linear => r,
            _ => return None,
        };
        u.is_finite().then_some(u)
    }

    /// Whether φ is infinitely differentiable (all four are; kept for clarity in tests).
    pub fn name(&self) -> &'static str {
        match self {
            Transfer::Logistic => "logistic",
            Transfer::SoftRectifier { .. } => "soft_rectifier",
            Transfer::Tanh => "tanh",
            Transfer::Linear => "linear",
        }
    }

    /// Checks the parameters (γ, β > 0, all finite).
    pub fn validate(&self) -> Result<(), String> {
        if let Transfer::SoftRectifier { gamma, beta, theta } = *self {
            if !(gamma > 0.0 && gamma.is_finite()) {
                return Err(format!("soft rectifier gamma must be > 0, got {gamma}"));
            }
            if !(beta > 0.0 && beta.is_finite()) {
                return Err(format!("soft rectifier beta must be > 0, got {beta}"));
            }
            if !theta.is_finite() {
                return Err(format!("soft rectifier theta must be finite, got {theta}"));
            }
        }
        Ok(())
    }
}

/// Numerically stable logistic function (defined beside its eight-lane version).
pub use crate::libm_exp::logistic;

/// Numerically stable log(1 + e^x).
#[inline]
pub fn softplus(x: f64) -> f64 {
    if x > 30.0 {
        x + (-x).exp()
    } else {
        x.exp().ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_central_differences() {
        // Central differences with h = 1e-5 have truncation error ~h² φ''' ≈ 1e-10 and
        // rounding error ~1e-16/h ≈ 1e-11; 1e-8 leaves a wide margin.
        let fs = [
            Transfer::Logistic,
            Transfer::PAPER_SOFT_RECTIFIER,
            Transfer::Tanh,
            Transfer::Linear,
        ];
        for f in fs {
            for &u in &[-5.0, -1.3, 0.0, 0.7, 2.9, 3.0, 6.0] {
                let h = 1e-5;
                let fd = (f.phi(u + h) - f.phi(u - h)) / (2.0 * h);
                assert!(
                    (fd - f.dphi(u)).abs() < 1e-8,
                    "{f:?} at {u}: {fd} vs {}",
                    f.dphi(u)
                );
            }
        }
    }

    #[test]
    fn inverse_round_trips() {
        for f in [
            Transfer::Logistic,
            Transfer::PAPER_SOFT_RECTIFIER,
            Transfer::Tanh,
        ] {
            for &u in &[-2.0, 0.3, 1.5, 4.0] {
                let r = f.phi(u);
                let back = f.inverse(r).unwrap();
                assert!((back - u).abs() < 1e-9, "{f:?}: {u} -> {r} -> {back}");
            }
        }
        // logit(0.8) = ln 4, the MNIST target potential of paper-spec §6.3.
        assert!((Transfer::Logistic.inverse(0.8).unwrap() - 4f64.ln()).abs() < 1e-15);
    }
}
