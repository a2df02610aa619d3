//! The [`Learner`] trait and its errors.

use std::collections::BTreeMap;

use ndarray::Array2;
use thiserror::Error;

use crate::model::ModelError;
use crate::record::npz::NpyArray;
use crate::record::{SummaryRow, TimeSeries};
use crate::solve::SolveError;

/// Puts a number into a summary row.
pub(crate) fn num(row: &mut SummaryRow, key: &str, v: f64) {
    row.insert(key.to_string(), crate::record::Cell::Num(v));
}

/// Why a learner cannot be built.
#[derive(Debug, Error)]
pub enum LearnError {
    /// Its network cannot be built.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Its solver cannot be built.
    #[error(transparent)]
    Solve(#[from] SolveError),
    /// The settings do not fit the network.
    #[error("{0}")]
    Settings(String),
    /// A weight or potential left the finite range: the learner diverged.
    #[error("{0}")]
    Diverged(String),
    /// A checkpoint that cannot be read, written or does not fit the learner.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// A minibatch step that failed.
    #[error("epoch {epoch}, minibatch {minibatch}: {source}")]
    Step {
        /// The epoch (from 1).
        epoch: usize,
        /// The minibatch of that epoch (from 0).
        minibatch: usize,
        /// What failed.
        source: Box<LearnError>,
    },
    /// Stopped early, as asked (`mnist.stop_after_images`), after writing a checkpoint.
    #[error("{0}")]
    Stopped(String),
}

/// A learner: one minibatch step, and the classification error of its current weights.
pub trait Learner {
    /// One update on a minibatch: inputs (batch × pixels) and target potentials (batch × classes).
    fn step(&mut self, x: &Array2<f64>, target: &Array2<f64>) -> Result<(), LearnError>;
    /// The percentage of `images` misclassified by the current weights.
    fn error_percent(&mut self, images: &Array2<f64>, labels: &[u8]) -> f64;
    /// An error when a weight or potential left the finite range (a diverging run). (`&mut`:
    /// a learner may first add weight changes it held back, as the two-pass learner does.)
    fn check(&mut self, epoch: f64) -> Result<(), LearnError>;
    /// Numbers of its own for the summary.
    fn report(&self, _summary: &mut SummaryRow) {}
    /// Multiplies every learning rate by `factor` (the per-epoch decay).
    fn scale_rates(&mut self, factor: f64);
    /// Quantities of its own recorded at every evaluation; `probe_set` holds fixed images and
    /// their target potentials to measure on, when the run has them.
    fn probe(
        &mut self,
        _name: &str,
        _epoch: f64,
        _series: &mut TimeSeries,
        _probe_set: Option<(&Array2<f64>, &Array2<f64>)>,
    ) {
    }
    /// The arrays that restore the learner (weights, potentials, …), or None when it cannot
    /// be checkpointed.
    fn checkpoint(&mut self) -> Option<BTreeMap<String, NpyArray>> {
        None
    }
    /// Restores what [`Learner::checkpoint`] saved.
    fn restore(&mut self, _arrays: &BTreeMap<String, NpyArray>) -> Result<(), LearnError> {
        Err(LearnError::Checkpoint(
            "this learner has no checkpoints".into(),
        ))
    }
}
