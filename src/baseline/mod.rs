//! Feed-forward baselines on the microcircuit's layers: backprop and feedback alignment.
//!
//! The network is the microcircuit's feed-forward limit (paper-spec §5, "u⁻"): with attenuation
//! a_k = g_B/(g_lk+g_B+g_A,k) (a_N with g_A = 0; a_k = 1 for a plain MLP),
//! u_k = a_k (W_k r_{k−1} + b_k), r_k = φ(u_k), r_0 the input.
//!
//! The output loss the microcircuit descends (paper-spec §5, A2) has the output error
//! δ_N = D_N (u_trgt − u_N). It is the Bregman divergence of Φ (Φ' = φ) between the target and
//! the output potential, L = Σ_i Φ(u_trgt,i) − Φ(u_N,i) − φ(u_N,i)(u_trgt,i − u_N,i), since
//! −∂L/∂u_N = φ'(u_N)(u_trgt − u_N) (our derivation). `OutputLoss::Potential`, ½‖u_trgt − u_N‖²,
//! is offered beside it. Rows are samples; gradients are averaged over the batch.

use ndarray::{Array1, Array2, Axis};

use crate::model::{Network, Projection, State, Transfer};

/// Which credit-assignment rule sends the error down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credit {
    /// δ_k = D_k W_{k+1}ᵀ a_{k+1} δ_{k+1}: the true gradient.
    Backprop,
    /// δ_k = D_k B_k a_{k+1} δ_{k+1} with fixed random B_k (Lillicrap et al. 2016).
    FeedbackAlignment,
}

/// The loss on the output potentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputLoss {
    /// Bregman divergence of Φ: δ_N = φ'(u_N)(u_trgt − u_N), the microcircuit's (A2).
    #[default]
    Bregman,
    /// ½‖u_trgt − u_N‖²: δ_N = u_trgt − u_N.
    Potential,
    /// The Bregman divergence of Φ with its arguments swapped, D_Φ(u_N, u_trgt) (the "matching
    /// loss" of φ): δ_N = φ(u_trgt) − φ(u_N), the error in rates. For the logistic φ this is the
    /// cross-entropy between the target rates and the output rates, the loss of "standard
    /// backprop" on a sigmoid network (the paper's MNIST reference; our choice, paper-spec §6.3).
    CrossEntropy,
    /// A softmax read-out of the output potentials with the cross-entropy to the target class
    /// (the row's largest target): L = −log softmax(u_N)_c, δ_N = onehot_c − softmax(u_N). Not
    /// a microcircuit loss; the "standard backprop" of LeCun's MNIST table (1.53 % with
    /// 500+300 hidden units, softmax, cross-entropy and weight decay), for the baseline only.
    Softmax,
}

/// softmax(u) of one row, computed stably.
fn softmax_row(u: ndarray::ArrayView1<f64>) -> Array1<f64> {
    let max = u.fold(f64::NEG_INFINITY, |m, &x| m.max(x));
    let e = u.mapv(|x| (x - max).exp());
    let z = e.sum();
    e / z
}

/// The index of the largest entry of a row (the target class).
fn class_of(row: ndarray::ArrayView1<f64>) -> usize {
    let mut best = 0;
    for (i, &x) in row.iter().enumerate() {
        if x > row[best] {
            best = i;
        }
    }
    best
}

/// A feed-forward network with the microcircuit's sizes, φ, biases and attenuations.
#[derive(Clone, Debug)]
pub struct FeedForward {
    /// φ.
    pub phi: Transfer,
    /// W_k for k = 1..N at index k−1 (n_k × n_{k−1}).
    pub w: Vec<Array2<f64>>,
    /// b_k (n_k).
    pub b: Vec<Array1<f64>>,
    /// a_k, the basal attenuation.
    pub attenuation: Vec<f64>,
    /// Feedback matrices B_k (n_k × n_{k+1}) for k = 1..N−1 at index k−1 (feedback alignment).
    pub feedback: Vec<Array2<f64>>,
    /// The output loss.
    pub loss: OutputLoss,
}

/// Forward pass values: u_k and r_k for k = 0..N (u_0 unused, r_0 the input).
#[derive(Clone, Debug)]
pub struct Forward {
    /// Potentials u_k (index k; u_0 is the input, unused).
    pub u: Vec<Array2<f64>>,
    /// Rates r_k.
    pub r: Vec<Array2<f64>>,
}

impl FeedForward {
    /// The feed-forward limit of a microcircuit state: its W^PP_{k,k−1}, biases, attenuations,
    /// and its top-down matrices as the feedback-alignment matrices.
    pub fn from_microcircuit(net: &Network, state: &State) -> FeedForward {
        let n = net.n_layers();
        let c = net.config.conductances;
        let w = (1..=n)
            .map(|k| net.weights(state, Projection::Up, k))
            .collect();
        let b = (1..=n)
            .map(|k| match net.layout.synapses(Projection::Up, k).bias {
                Some(blk) => state.view(&blk).row(0).to_owned(),
                None => Array1::zeros(net.layout.sizes[k]),
            })
            .collect();
        let attenuation = (1..=n).map(|k| c.basal_attenuation(k == n)).collect();
        let feedback = (1..n)
            .map(|k| net.weights(state, Projection::Down, k))
            .collect();
        FeedForward {
            phi: net.config.phi,
            w,
            b,
            attenuation,
            feedback,
            loss: OutputLoss::Bregman,
        }
    }

    /// N.
    pub fn n_layers(&self) -> usize {
        self.w.len()
    }

    /// The forward pass for inputs (rows).
    pub fn forward(&self, input: &Array2<f64>) -> Forward {
        let mut u = vec![input.clone()];
        let mut r = vec![input.clone()];
        for k in 1..=self.n_layers() {
            let mut uk = r[k - 1].dot(&self.w[k - 1].t());
            uk += &self.b[k - 1];
            uk *= self.attenuation[k - 1];
            r.push(uk.mapv(|x| self.phi.phi(x)));
            u.push(uk);
        }
        Forward { u, r }
    }

    /// The loss, averaged over the batch.
    pub fn loss(&self, input: &Array2<f64>, target: &Array2<f64>) -> f64 {
        let f = self.forward(input);
        let u = &f.u[self.n_layers()];
        let total: f64 = match self.loss {
            OutputLoss::Potential => u
                .iter()
                .zip(target.iter())
                .map(|(u, t)| 0.5 * (t - u).powi(2))
                .sum(),
            OutputLoss::Bregman => u
                .iter()
                .zip(target.iter())
                .map(|(&u, &t)| {
                    self.phi.antiderivative(t)
                        - self.phi.antiderivative(u)
                        - self.phi.phi(u) * (t - u)
                })
                .sum(),
            OutputLoss::CrossEntropy => u
                .iter()
                .zip(target.iter())
                .map(|(&u, &t)| {
                    self.phi.antiderivative(u)
                        - self.phi.antiderivative(t)
                        - self.phi.phi(t) * (u - t)
                })
                .sum(),
            OutputLoss::Softmax => u
                .axis_iter(Axis(0))
                .zip(target.axis_iter(Axis(0)))
                .map(|(u, t)| -softmax_row(u)[class_of(t)].ln())
                .sum(),
        };
        total / input.nrows() as f64
    }

    /// The error terms δ_k = −∂L/∂u_k (per sample) for k = 1..N (index k; δ_0 empty).
    pub fn deltas(&self, fwd: &Forward, target: &Array2<f64>, credit: Credit) -> Vec<Array2<f64>> {
        let n = self.n_layers();
        let mut d = vec![Array2::zeros((0, 0)); n + 1];
        d[n] = match self.loss {
            OutputLoss::CrossEntropy => target.mapv(|t| self.phi.phi(t)) - &fwd.r[n],
            OutputLoss::Softmax => {
                let mut d = Array2::zeros(fwd.u[n].raw_dim());
                for ((mut d, u), t) in d
                    .axis_iter_mut(Axis(0))
                    .zip(fwd.u[n].axis_iter(Axis(0)))
                    .zip(target.axis_iter(Axis(0)))
                {
                    d.assign(&(-softmax_row(u)));
                    d[class_of(t)] += 1.0;
                }
                d
            }
            _ => target - &fwd.u[n],
        };
        if self.loss == OutputLoss::Bregman {
            d[n] *= &fwd.u[n].mapv(|x| self.phi.dphi(x));
        }
        for k in (1..n).rev() {
            let back = match credit {
                Credit::Backprop => d[k + 1].dot(&self.w[k]) * self.attenuation[k],
                Credit::FeedbackAlignment => {
                    d[k + 1].dot(&self.feedback[k - 1].t()) * self.attenuation[k]
                }
            };
            let dphi = fwd.u[k].mapv(|x| self.phi.dphi(x));
            d[k] = back * dphi;
        }
        d
    }

    /// The descent directions −∂L/∂W_k (backprop) or their feedback-alignment counterparts,
    /// averaged over the batch, with the bias directions: (ΔW_k, Δb_k) for k = 1..N at k−1.
    pub fn updates(
        &self,
        input: &Array2<f64>,
        target: &Array2<f64>,
        credit: Credit,
    ) -> Vec<(Array2<f64>, Array1<f64>)> {
        let fwd = self.forward(input);
        let d = self.deltas(&fwd, target, credit);
        let m = input.nrows() as f64;
        (1..=self.n_layers())
            .map(|k| {
                let a = self.attenuation[k - 1];
                let dw = d[k].t().dot(&fwd.r[k - 1]) * (a / m);
                let db = d[k].sum_axis(Axis(0)) * (a / m);
                (dw, db)
            })
            .collect()
    }

    /// One gradient step W += η ΔW (and biases when `learn_bias`).
    pub fn step(
        &mut self,
        input: &Array2<f64>,
        target: &Array2<f64>,
        credit: Credit,
        eta: &[f64],
        learn_bias: bool,
    ) {
        for (k, (dw, db)) in self.updates(input, target, credit).into_iter().enumerate() {
            self.w[k].scaled_add(eta[k], &dw);
            if learn_bias {
                self.b[k].scaled_add(eta[k], &db);
            }
        }
    }
}

/// The buffers of [`FeedForward::train_step`] for one batch size: u_k, r_k and δ_k.
#[derive(Clone, Debug)]
pub struct TrainWorkspace {
    u: Vec<Array2<f64>>,
    r: Vec<Array2<f64>>,
    d: Vec<Array2<f64>>,
}

impl TrainWorkspace {
    /// Buffers for `batch` samples of `ff`.
    pub fn new(ff: &FeedForward, batch: usize) -> TrainWorkspace {
        let n = ff.n_layers();
        let size = |k: usize| {
            if k == 0 {
                ff.w[0].ncols()
            } else {
                ff.w[k - 1].nrows()
            }
        };
        let bufs = || {
            (0..=n)
                .map(|k| Array2::zeros((batch, size(k))))
                .collect::<Vec<_>>()
        };
        TrainWorkspace {
            u: bufs(),
            r: bufs(),
            d: bufs(),
        }
    }
}

impl FeedForward {
    /// One gradient step, as [`FeedForward::step`] followed by the weight decay
    /// W_k ← (1 − η_k β) W_k, computed in `ws` without allocating: one matrix product per layer
    /// forward, one per layer back, and the update accumulated straight into the weights. φ is
    /// the vectorised [`Transfer::phi_map`] (within 1e-15 of [`Transfer::phi`], which
    /// [`FeedForward::forward`] uses).
    #[allow(
        clippy::too_many_arguments,
        reason = "one allocation-free training step: the minibatch, its buffers and the rule's settings"
    )]
    pub fn train_step(
        &mut self,
        ws: &mut TrainWorkspace,
        input: &Array2<f64>,
        target: &Array2<f64>,
        credit: Credit,
        eta: &[f64],
        learn_bias: bool,
        weight_decay: f64,
    ) {
        use crate::linalg::gemm;
        let n = self.n_layers();
        let phi = self.phi;
        let TrainWorkspace { u, r, d } = ws;
        r[0].assign(input);
        for k in 1..=n {
            let a = self.attenuation[k - 1];
            let (lower, upper) = r.split_at_mut(k);
            gemm(a, &lower[k - 1], &self.w[k - 1].t(), 0.0, &mut u[k]);
            for mut row in u[k].rows_mut() {
                row.scaled_add(a, &self.b[k - 1]);
            }
            // r_k = φ(u_k) by the vectorised maps of the microcircuit's step (`Transfer::phi_map`).
            let rk = upper[0]
                .as_slice_mut()
                .expect("workspace arrays are contiguous");
            phi.phi_map(
                1.0,
                u[k].as_slice().expect("workspace arrays are contiguous"),
                rk,
            );
        }
        // δ_N = −∂L/∂u_N.
        output_error(self.loss, phi, &mut d[n], target, &u[n], &r[n]);
        for k in (1..n).rev() {
            let a = self.attenuation[k];
            let (lower, upper) = d.split_at_mut(k + 1);
            match credit {
                Credit::Backprop => gemm(a, &upper[0], &self.w[k], 0.0, &mut lower[k]),
                Credit::FeedbackAlignment => {
                    gemm(a, &upper[0], &self.feedback[k - 1].t(), 0.0, &mut lower[k])
                }
            }
            if phi == Transfer::Logistic {
                // φ' = φ(1 − φ) from the rates of the forward pass: the same bits as
                // `phi.dphi(u)`, which recomputes φ(u), without a second exponential per cell.
                ndarray::Zip::from(&mut lower[k])
                    .and(&r[k])
                    .for_each(|d, &r| *d *= r * (1.0 - r));
            } else {
                ndarray::Zip::from(&mut lower[k])
                    .and(&u[k])
                    .for_each(|d, &u| *d *= phi.dphi(u));
            }
        }
        let m = input.nrows() as f64;
        for k in 1..=n {
            let a = self.attenuation[k - 1];
            let step = eta[k - 1] * a / m;
            let keep = 1.0 - eta[k - 1] * weight_decay;
            gemm(keep * step, &d[k].t(), &r[k - 1], keep, &mut self.w[k - 1]);
            if learn_bias {
                for row in d[k].rows() {
                    self.b[k - 1].scaled_add(step, &row);
                }
            }
        }
    }
}

/// δ_N = −∂L/∂u_N of a minibatch into `d`, from the output potentials `un` and rates `rn`.
fn output_error(
    loss: OutputLoss,
    phi: Transfer,
    d: &mut Array2<f64>,
    target: &Array2<f64>,
    un: &Array2<f64>,
    rn: &Array2<f64>,
) {
    match loss {
        OutputLoss::CrossEntropy => ndarray::Zip::from(d)
            .and(target)
            .and(rn)
            .for_each(|d, &t, &r| *d = phi.phi(t) - r),
        OutputLoss::Softmax => {
            for ((mut d, u), t) in d.rows_mut().into_iter().zip(un.rows()).zip(target.rows()) {
                let max = u.fold(f64::NEG_INFINITY, |m, &x| m.max(x));
                let mut z = 0.0;
                for (d, &x) in d.iter_mut().zip(u) {
                    *d = (x - max).exp();
                    z += *d;
                }
                d.map_inplace(|v| *v = -*v / z);
                d[class_of(t)] += 1.0;
            }
        }
        OutputLoss::Potential => ndarray::Zip::from(d)
            .and(target)
            .and(un)
            .for_each(|d, &t, &u| *d = t - u),
        OutputLoss::Bregman => ndarray::Zip::from(d)
            .and(target)
            .and(un)
            .for_each(|d, &t, &u| *d = (t - u) * phi.dphi(u)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ff(loss: OutputLoss) -> FeedForward {
        let sizes = [13, 9, 7, 5];
        let mut rng = crate::rng::Rng::new(3);
        let mut m =
            |r: usize, c: usize| Array2::from_shape_fn((r, c), |_| rng.uniform_in(-1.0, 1.0));
        FeedForward {
            phi: Transfer::Logistic,
            w: (1..4).map(|k| m(sizes[k], sizes[k - 1])).collect(),
            b: (1..4).map(|k| m(1, sizes[k]).row(0).to_owned()).collect(),
            attenuation: vec![0.5, 0.6, 0.9],
            feedback: (1..3).map(|k| m(sizes[k], sizes[k + 1])).collect(),
            loss,
        }
    }

    #[test]
    fn the_allocation_free_step_is_the_gradient_step_then_the_decay() {
        let mut rng = crate::rng::Rng::new(4);
        let x = Array2::from_shape_fn((6, 13), |_| rng.uniform());
        let t = Array2::from_shape_fn((6, 5), |_| rng.uniform_in(-1.0, 2.0));
        let eta = [0.3, 0.2, 0.1];
        for loss in [
            OutputLoss::Bregman,
            OutputLoss::Potential,
            OutputLoss::CrossEntropy,
            OutputLoss::Softmax,
        ] {
            for credit in [Credit::Backprop, Credit::FeedbackAlignment] {
                let mut want = ff(loss);
                want.step(&x, &t, credit, &eta, true);
                for (w, e) in want.w.iter_mut().zip(&eta) {
                    *w *= 1.0 - e * 0.01;
                }
                let mut got = ff(loss);
                let mut ws = TrainWorkspace::new(&got, 6);
                got.train_step(&mut ws, &x, &t, credit, &eta, true, 0.01);
                for k in 0..3 {
                    let dw = (&got.w[k] - &want.w[k])
                        .iter()
                        .fold(0.0_f64, |m, v| m.max(v.abs()));
                    let db = (&got.b[k] - &want.b[k])
                        .iter()
                        .fold(0.0_f64, |m, v| m.max(v.abs()));
                    assert!(
                        dw < 1e-13 && db < 1e-13,
                        "{loss:?} {credit:?} layer {k}: {dw:e} {db:e}"
                    );
                }
                assert!(
                    (&got.w[0] - &ff(loss).w[0]).iter().any(|v| v.abs() > 1e-6),
                    "it must learn"
                );
            }
        }
    }
}
