//! Top-down reconstruction of the input layer (the disinhibition study, paper-spec §8.4).
//!
//! P1 defines top-down weights W^PP_{k,k+1} only for hidden layers k ≥ 1. The reconstruction
//! extends rule 10 to k = 0: hidden layer 1 predicts the input rates,
//!
//!   x̂ = φ(W_{0,1} r_1 + b_0),   dW_{0,1}/dt = η (r_0 − x̂) r_1ᵀ,   db_0/dt = η (r_0 − x̂),
//!
//! with r_0 = x the input rates (pixels in [0, 1], inside the range of the logistic φ). The
//! bias b_0 is our addition (every neuron of the paper's MNIST network has a learnable bias);
//! it lets the prediction carry the mean image. Not from the paper: a hypothesis, labelled so.

use crate::linalg::gemm;
use ndarray::{Array1, Array2, ArrayView2, Zip};

use super::transfer::Transfer;
use crate::rng::Rng;

/// W_{0,1}, b_0 and φ of the input layer's top-down prediction, with scratch for a batch.
#[derive(Clone, Debug)]
pub struct Reconstruction {
    /// W_{0,1}: n_0 × n_1.
    pub w: Array2<f64>,
    /// b_0: n_0.
    pub b: Array1<f64>,
    /// The transfer function of the prediction.
    pub phi: Transfer,
    /// Scratch of [`Reconstruction::learn`]: x − x̂ of the last batch (batch × n_0).
    scratch: Array2<f64>,
}

impl Reconstruction {
    /// Weights U(−scale, scale), zero bias.
    pub fn new(n_input: usize, n_hidden: usize, scale: f64, phi: Transfer, rng: &mut Rng) -> Self {
        let w = Array2::from_shape_fn((n_input, n_hidden), |_| rng.uniform_in(-scale, scale));
        Reconstruction {
            w,
            b: Array1::zeros(n_input),
            phi,
            scratch: Array2::zeros((0, n_input)),
        }
    }

    /// x̂ = φ(r_1 W_{0,1}ᵀ + b_0) for a batch of hidden rates (rows), into `out`
    /// (batch × n_0).
    pub fn predict_into(&self, r1: ArrayView2<f64>, out: &mut Array2<f64>) {
        gemm(1.0, &r1, &self.w.t(), 0.0, out);
        let phi = self.phi;
        for mut row in out.rows_mut() {
            Zip::from(&mut row)
                .and(&self.b)
                .for_each(|x, &b| *x = phi.phi(*x + b));
        }
    }

    /// x̂ for a batch of hidden rates.
    pub fn predict(&self, r1: ArrayView2<f64>) -> Array2<f64> {
        let mut out = Array2::zeros((r1.nrows(), self.w.nrows()));
        self.predict_into(r1, &mut out);
        out
    }

    /// One minibatch step of the rule: W += η ⟨(x − x̂) r_1ᵀ⟩, b += η ⟨x − x̂⟩, the mean over
    /// the batch (rows of `x` and `r1`). Returns the batch's mean squared prediction error
    /// before the step. No allocation after the first call with a batch size.
    pub fn learn(&mut self, x: ArrayView2<f64>, r1: ArrayView2<f64>, eta: f64) -> f64 {
        if self.scratch.dim() != x.dim() {
            self.scratch = Array2::zeros(x.dim());
        }
        let mut e = std::mem::take(&mut self.scratch);
        self.predict_into(r1, &mut e);
        // e ← x − x̂
        Zip::from(&mut e).and(&x).for_each(|e, &x| *e = x - *e);
        let mse = e.iter().map(|v| v * v).sum::<f64>() / e.len() as f64;
        let alpha = eta / x.nrows() as f64;
        gemm(alpha, &e.t(), &r1, 1.0, &mut self.w);
        for row in e.rows() {
            self.b.scaled_add(alpha, &row);
        }
        self.scratch = e;
        mse
    }
}
