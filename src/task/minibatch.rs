//! Minibatches of a labelled image set: a shuffled order per epoch, the batch's inputs and its
//! one-hot target potentials, filled in place; and the class read out from a row of rates.

use ndarray::Array2;

use crate::rng::Rng;

/// Index of the largest entry (the class read out from the output rates or potentials).
pub fn argmax(row: ndarray::ArrayView1<f64>) -> usize {
    row.iter()
        .enumerate()
        .fold(
            (0, f64::NEG_INFINITY),
            |b, (j, &v)| if v > b.1 { (j, v) } else { b },
        )
        .0
}

/// The minibatches of one training set: a shuffled order of its images per epoch, and the
/// batch's inputs `x` and one-hot target potentials {u_low, u_high} `target`, filled in place
/// (no allocation per step).
pub struct Minibatches<'a> {
    images: &'a Array2<f64>,
    labels: &'a [u8],
    order: Vec<usize>,
    levels: (f64, f64),
    /// The current batch's inputs (batch × pixels).
    pub x: Array2<f64>,
    /// The current batch's target potentials (batch × 10).
    pub target: Array2<f64>,
}

impl<'a> Minibatches<'a> {
    pub fn new(
        images: &'a Array2<f64>,
        labels: &'a [u8],
        batch: usize,
        levels: (f64, f64),
    ) -> Self {
        Minibatches {
            images,
            labels,
            order: (0..labels.len()).collect(),
            levels,
            x: Array2::zeros((batch, images.ncols())),
            target: Array2::zeros((batch, 10)),
        }
    }

    /// Minibatches per epoch (the last one wraps around to the start of the order).
    pub fn steps(&self) -> usize {
        self.order.len().div_ceil(self.x.nrows())
    }

    /// A new epoch: a fresh shuffle of every image.
    pub fn shuffle(&mut self, rng: &mut Rng) {
        for (i, o) in self.order.iter_mut().enumerate() {
            *o = i;
        }
        rng.shuffle(&mut self.order);
    }

    /// A copy with the same images and shapes (its order is overwritten by the caller).
    pub fn clone_shape(&self) -> Minibatches<'a> {
        Minibatches {
            images: self.images,
            labels: self.labels,
            order: self.order.clone(),
            levels: self.levels,
            x: Array2::zeros((0, 0)),
            target: Array2::zeros((0, 0)),
        }
    }

    /// The current order of the images (for checkpoints).
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// Restores an order saved from [`Minibatches::order`].
    pub fn set_order(&mut self, order: &[usize]) -> Result<(), String> {
        let mut seen = vec![false; self.order.len()];
        if order.len() != self.order.len()
            || order
                .iter()
                .any(|&i| i >= seen.len() || std::mem::replace(&mut seen[i], true))
        {
            return Err(
                "checkpoint's minibatch order is not a permutation of the training images".into(),
            );
        }
        self.order.copy_from_slice(order);
        Ok(())
    }

    /// Fills `x` and `target` with minibatch `step` of the current order.
    pub fn fill(&mut self, step: usize) {
        let b = self.x.nrows();
        let (u_low, u_high) = self.levels;
        self.target.fill(u_low);
        for i in 0..b {
            let idx = self.order[(step * b + i) % self.order.len()];
            self.x.row_mut(i).assign(&self.images.row(idx));
            self.target[[i, self.labels[idx] as usize]] = u_high;
        }
    }
}
