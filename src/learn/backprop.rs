//! Backprop, or feedback alignment through the microcircuit's own top-down weights, on the
//! microcircuit's feed-forward limit (`baseline::FeedForward`).

use std::collections::BTreeMap;

use ndarray::{Array2, Axis};

use super::checkpoint::f64_array;
use super::learner::{LearnError, Learner};
use crate::baseline::{Credit, FeedForward};
use crate::record::npz::{NpyArray, NpyData};
use crate::task::minibatch::argmax;

/// Backprop (or feedback alignment through the microcircuit's own top-down weights) on the
/// microcircuit's feed-forward limit.
pub struct BackpropLearner {
    ff: FeedForward,
    /// Buffers of the training step (sized at the first minibatch).
    ws: Option<crate::baseline::TrainWorkspace>,
    credit: Credit,
    eta: Vec<f64>,
    learn_bias: bool,
    /// L2 weight decay β: W_k ← (1 − η_k β) W_k after each step.
    weight_decay: f64,
}

impl BackpropLearner {
    /// Trains `ff` with per-layer rates `eta`, the biases too when `learn_bias`, and L2 decay
    /// `weight_decay`.
    pub fn new(
        ff: FeedForward,
        credit: Credit,
        eta: Vec<f64>,
        learn_bias: bool,
        weight_decay: f64,
    ) -> BackpropLearner {
        BackpropLearner {
            ff,
            ws: None,
            credit,
            eta,
            learn_bias,
            weight_decay,
        }
    }
}

impl Learner for BackpropLearner {
    fn step(&mut self, x: &Array2<f64>, target: &Array2<f64>) -> Result<(), LearnError> {
        let ws = self
            .ws
            .get_or_insert_with(|| crate::baseline::TrainWorkspace::new(&self.ff, x.nrows()));
        self.ff.train_step(
            ws,
            x,
            target,
            self.credit,
            &self.eta,
            self.learn_bias,
            self.weight_decay,
        );
        Ok(())
    }

    fn error_percent(&mut self, images: &Array2<f64>, labels: &[u8]) -> f64 {
        let mut wrong = 0;
        for start in (0..labels.len()).step_by(1000) {
            let end = (start + 1000).min(labels.len());
            let xs = images.slice(ndarray::s![start..end, ..]).to_owned();
            let fwd = self.ff.forward(&xs);
            wrong += fwd.u[self.ff.n_layers()]
                .axis_iter(Axis(0))
                .zip(&labels[start..end])
                .filter(|(row, l)| argmax(*row) != **l as usize)
                .count();
        }
        100.0 * wrong as f64 / labels.len() as f64
    }

    fn scale_rates(&mut self, factor: f64) {
        self.eta.iter_mut().for_each(|e| *e *= factor);
    }

    /// The feed-forward weights `ff_w_k` (n_k × n_{k−1}), biases `ff_b_k`, feedback matrices
    /// `ff_feedback_k` and the (decayed) rates `eta_backprop`: plain SGD keeps no other state.
    fn checkpoint(&mut self) -> Option<BTreeMap<String, NpyArray>> {
        let mut out = BTreeMap::new();
        let matrix = |m: &Array2<f64>| NpyArray {
            shape: vec![m.nrows(), m.ncols()],
            data: NpyData::F64(m.iter().copied().collect()),
        };
        for (k, w) in self.ff.w.iter().enumerate() {
            out.insert(format!("ff_w_{}", k + 1), matrix(w));
        }
        for (k, b) in self.ff.b.iter().enumerate() {
            out.insert(format!("ff_b_{}", k + 1), f64_array(b.to_vec()));
        }
        for (k, f) in self.ff.feedback.iter().enumerate() {
            out.insert(format!("ff_feedback_{}", k + 1), matrix(f));
        }
        out.insert("eta_backprop".into(), f64_array(self.eta.clone()));
        Some(out)
    }

    fn restore(&mut self, arrays: &BTreeMap<String, NpyArray>) -> Result<(), LearnError> {
        let take = |name: &str, target: &mut [f64]| -> Result<(), LearnError> {
            match arrays.get(name).map(|a| &a.data) {
                Some(NpyData::F64(v)) if v.len() == target.len() => {
                    target.copy_from_slice(v);
                    Ok(())
                }
                _ => Err(LearnError::Checkpoint(format!(
                    "checkpoint has no float64 '{name}' of {} entries",
                    target.len()
                ))),
            }
        };
        for (k, w) in self.ff.w.iter_mut().enumerate() {
            take(
                &format!("ff_w_{}", k + 1),
                w.as_slice_mut().expect("contiguous"),
            )?;
        }
        for (k, b) in self.ff.b.iter_mut().enumerate() {
            take(
                &format!("ff_b_{}", k + 1),
                b.as_slice_mut().expect("contiguous"),
            )?;
        }
        for (k, f) in self.ff.feedback.iter_mut().enumerate() {
            take(
                &format!("ff_feedback_{}", k + 1),
                f.as_slice_mut().expect("contiguous"),
            )?;
        }
        take("eta_backprop", &mut self.eta)
    }

    fn check(&mut self, epoch: f64) -> Result<(), LearnError> {
        for (k, w) in self.ff.w.iter().enumerate() {
            if w.iter().any(|v| !v.is_finite()) {
                return Err(LearnError::Diverged(format!(
                    "backprop diverged by epoch {epoch:.2}: W_{} is not finite",
                    k + 1
                )));
            }
        }
        Ok(())
    }
}
