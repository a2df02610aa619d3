//! The training loop of a learner: epochs of shuffled minibatches, evaluations on a validation
//! and a test set with the best validation kept, the per-epoch rate decay, checkpoints at a
//! cadence and at every epoch's end, resumption, and an early stop on request.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::ProgressBar;
use ndarray::Array2;

use super::checkpoint::{f64_array, u64_array};
use super::config::Training;
use super::learner::{LearnError, Learner};
use crate::record::npz::{self, NpyArray, NpyData};
use crate::record::{TimeSeries, X};
use crate::rng::Rng;
use crate::task::minibatch::Minibatches;

/// The evaluations of a run: validation and test error (and the learner's probes) into the
/// time series, and the best validation so far as (validation error, test error, epoch).
pub struct Evaluations<'a> {
    /// The learner's name in the series.
    pub name: &'static str,
    /// The output layer's index (the series' `layer`).
    pub layer: i64,
    /// The validation images and labels.
    pub validation: (&'a Array2<f64>, &'a [u8]),
    /// The test images and labels.
    pub test: (&'a Array2<f64>, &'a [u8]),
    /// What was recorded.
    pub series: TimeSeries,
    /// (validation error, test error, epoch) of the best validation so far.
    pub best: (f64, f64, f64),
    /// Fixed images and their target potentials the learner's probes measure on.
    pub probe_set: Option<(Array2<f64>, Array2<f64>)>,
}

impl Evaluations<'_> {
    /// Records one evaluation (already computed or restored).
    pub fn record(&mut self, epoch: f64, v: f64, te: f64) {
        self.series.push_at(
            X::Epoch(epoch),
            self.name,
            "validation_error",
            self.layer,
            -1,
            v,
        );
        self.series
            .push_at(X::Epoch(epoch), self.name, "test_error", self.layer, -1, te);
        if v < self.best.0 {
            self.best = (v, te, epoch);
        }
    }

    /// Checks the learner for divergence and evaluates it at `epoch`.
    ///
    /// # Errors
    /// [`LearnError::Diverged`] when a weight or potential left the finite range.
    pub fn evaluate(
        &mut self,
        learner: &mut dyn Learner,
        epoch: f64,
        ps: &mut Progress,
    ) -> Result<(), LearnError> {
        let t0 = Instant::now();
        learner.check(epoch)?;
        let v = learner.error_percent(self.validation.0, self.validation.1);
        let te = learner.error_percent(self.test.0, self.test.1);
        self.record(epoch, v, te);
        let probe_set = self.probe_set.as_ref().map(|(x, t)| (x, t));
        learner.probe(self.name, epoch, &mut self.series, probe_set);
        ps.evaluations.push((epoch, v, te));
        ps.eval_time += t0.elapsed().as_secs_f64();
        Ok(())
    }
}

/// A run's training loop: its learner, minibatches, generator, progress and checkpoint.
pub struct Trainer<'a> {
    /// The learner.
    pub learner: Box<dyn Learner>,
    /// The training set's minibatches.
    pub batches: Minibatches<'a>,
    /// The generator of the minibatch order.
    pub rng: Rng,
    /// Where the run stands, and its timings.
    pub ps: Progress,
    /// The checkpoint file, when the run has one.
    pub checkpoint: Option<PathBuf>,
}

impl Trainer<'_> {
    /// Restores the learner, the progress and the evaluations so far from an existing
    /// checkpoint; returns where to go on (epoch, minibatch).
    ///
    /// # Errors
    /// [`LearnError::Checkpoint`] for a checkpoint that cannot be read or does not fit.
    pub fn resume(
        &mut self,
        evals: &mut Evaluations,
    ) -> Result<Option<(usize, usize)>, LearnError> {
        let Some(path) = self.checkpoint.clone().filter(|p| p.exists()) else {
            return Ok(None);
        };
        let arrays = npz::read(&path).map_err(LearnError::Checkpoint)?;
        let restored = self
            .learner
            .restore(&arrays)
            .map_err(|e| e.to_string())
            .and_then(|()| self.ps.restore(&arrays, &mut self.rng, &mut self.batches));
        restored.map_err(|m| {
            LearnError::Checkpoint(format!("resuming from {}: {m}", path.display()))
        })?;
        for (e, v, t) in self.ps.evaluations.clone() {
            evals.record(e, v, t);
        }
        tracing::info!(
            "resuming from {} (epoch {}, minibatch {})",
            path.display(),
            self.ps.epoch + 1,
            self.ps.next_step
        );
        Ok(Some((self.ps.epoch, self.ps.next_step)))
    }

    /// The epochs from `resume_at` (or the start): shuffle, minibatch steps, evaluations,
    /// checkpoints, the per-epoch rate decay; stops with an error when asked to stop early.
    ///
    /// # Errors
    /// The learner's, a checkpoint that cannot be written, or [`LearnError::Stopped`].
    pub fn train(
        &mut self,
        training: &Training,
        resume_at: Option<(usize, usize)>,
        evals: &mut Evaluations,
        progress: Option<&ProgressBar>,
    ) -> Result<(), LearnError> {
        let steps_per_epoch = self.batches.steps();
        let eval_every = (steps_per_epoch / training.evaluations_per_epoch).max(1);
        let save_every = if training.checkpoint_images > 0 {
            training.checkpoint_images.div_ceil(training.batch).max(1)
        } else {
            usize::MAX
        };
        let mut images_this_run = 0usize;
        let (first_epoch, first_step) = resume_at.unwrap_or((0, 0));
        for epoch in first_epoch..training.epochs {
            // A run resumed in the middle of an epoch has its order; otherwise shuffle.
            let resumed_here = resume_at.is_some() && epoch == first_epoch && first_step > 0;
            if !resumed_here {
                self.ps.rng_at_epoch_start = self.rng.state();
                self.batches.shuffle(&mut self.rng);
            }
            let start = if resumed_here { first_step } else { 0 };
            for step in start..steps_per_epoch {
                self.step(epoch, step)?;
                if let Some(pb) = progress {
                    pb.inc(1);
                }
                if (step + 1) % eval_every == 0 || step + 1 == steps_per_epoch {
                    let e = epoch as f64 + (step + 1) as f64 / steps_per_epoch as f64;
                    evals.evaluate(self.learner.as_mut(), e, &mut self.ps)?;
                }
                images_this_run += training.batch;
                let stop =
                    training.stop_after_images > 0 && images_this_run >= training.stop_after_images;
                if stop && (step + 1 < steps_per_epoch || epoch + 1 < training.epochs) {
                    self.stop_here(training, epoch, step, images_this_run)?;
                }
                if (step + 1) % save_every == 0 && step + 1 < steps_per_epoch {
                    self.ps.epoch = epoch;
                    self.ps.next_step = step + 1;
                    self.save()?;
                }
            }
            if training.eta_decay_per_epoch != 1.0 {
                self.learner.scale_rates(training.eta_decay_per_epoch);
            }
            if epoch + 1 < training.epochs {
                // At an epoch's end (rates decayed): the next epoch starts with its shuffle.
                self.ps.epoch = epoch + 1;
                self.ps.next_step = 0;
                self.ps.rng_at_epoch_start = self.rng.state();
                self.save()?;
            }
        }
        Ok(())
    }

    /// One minibatch step, timed.
    fn step(&mut self, epoch: usize, step: usize) -> Result<(), LearnError> {
        self.batches.fill(step);
        let t0 = Instant::now();
        self.learner
            .step(&self.batches.x, &self.batches.target)
            .map_err(|e| LearnError::Step {
                epoch: epoch + 1,
                minibatch: step,
                source: Box::new(e),
            })?;
        self.ps.train_time += t0.elapsed().as_secs_f64();
        self.ps.images_seen += self.batches.x.nrows();
        Ok(())
    }

    /// Asked to stop after this minibatch (`mnist.stop_after_images`): the checkpoint, then
    /// an error that says how to go on. Without a checkpoint, nothing happens.
    fn stop_here(
        &mut self,
        training: &Training,
        epoch: usize,
        step: usize,
        images: usize,
    ) -> Result<(), LearnError> {
        let Some(path) = self.checkpoint.clone() else {
            return Ok(());
        };
        self.ps.epoch = epoch;
        self.ps.next_step = step + 1;
        if step + 1 == self.batches.steps() {
            if training.eta_decay_per_epoch != 1.0 {
                self.learner.scale_rates(training.eta_decay_per_epoch);
            }
            self.ps.epoch = epoch + 1;
            self.ps.next_step = 0;
            self.ps.rng_at_epoch_start = self.rng.state();
        }
        self.save()?;
        Err(LearnError::Stopped(format!(
            "stopped after {images} images as asked (mnist.stop_after_images); \
             checkpoint {} (epoch {}, minibatch {}): run again to resume",
            path.display(),
            self.ps.epoch + 1,
            self.ps.next_step
        )))
    }

    /// Writes the checkpoint, when the run has one.
    fn save(&mut self) -> Result<(), LearnError> {
        let Some(path) = &self.checkpoint else {
            return Ok(());
        };
        save_checkpoint(path, self.learner.as_mut(), &self.ps, &self.batches)
            .map_err(LearnError::Checkpoint)
    }

    /// Removes the finished run's checkpoint.
    ///
    /// # Errors
    /// [`LearnError::Checkpoint`] when it cannot be removed.
    pub fn finish(&self) -> Result<(), LearnError> {
        let Some(path) = self.checkpoint.as_ref().filter(|p| p.exists()) else {
            return Ok(());
        };
        std::fs::remove_file(path).map_err(|e| {
            LearnError::Checkpoint(format!(
                "removing the finished run's checkpoint {}: {e}",
                path.display()
            ))
        })
    }
}

/// Where a training run stands (what a checkpoint saves beside the learner).
#[derive(Clone, Debug, Default)]
pub struct Progress {
    /// Epoch (from 0) and the next minibatch of it.
    pub epoch: usize,
    /// The next minibatch of that epoch.
    pub next_step: usize,
    /// The minibatch RNG's state before this epoch's shuffle.
    pub rng_at_epoch_start: [u64; 4],
    /// Images trained on.
    pub images_seen: usize,
    /// Seconds in minibatch steps.
    pub train_time: f64,
    /// Seconds in evaluations.
    pub eval_time: f64,
    /// (epoch, validation error, test error) of every evaluation so far.
    pub evaluations: Vec<(f64, f64, f64)>,
}

impl Progress {
    fn arrays(&self, batches: &Minibatches) -> BTreeMap<String, NpyArray> {
        let mut a = BTreeMap::new();
        a.insert(
            "progress".into(),
            u64_array(vec![
                self.epoch as u64,
                self.next_step as u64,
                self.images_seen as u64,
            ]),
        );
        a.insert(
            "times".into(),
            f64_array(vec![self.train_time, self.eval_time]),
        );
        a.insert(
            "rng_patterns".into(),
            u64_array(self.rng_at_epoch_start.to_vec()),
        );
        a.insert(
            "order".into(),
            u64_array(batches.order().iter().map(|&i| i as u64).collect()),
        );
        let ev = &self.evaluations;
        a.insert(
            "evaluations".into(),
            NpyArray {
                shape: vec![ev.len(), 3],
                data: NpyData::F64(ev.iter().flat_map(|&(e, v, t)| [e, v, t]).collect()),
            },
        );
        a
    }

    fn restore(
        &mut self,
        a: &BTreeMap<String, NpyArray>,
        rng: &mut Rng,
        batches: &mut Minibatches,
    ) -> Result<(), String> {
        let u64s = |k: &str| match a.get(k).map(|x| &x.data) {
            Some(NpyData::U64(v)) => Ok(v.clone()),
            _ => Err(format!("checkpoint has no uint64 array '{k}'")),
        };
        let f64s = |k: &str| match a.get(k).map(|x| &x.data) {
            Some(NpyData::F64(v)) => Ok(v.clone()),
            _ => Err(format!("checkpoint has no float64 array '{k}'")),
        };
        let p = u64s("progress")?;
        let t = f64s("times")?;
        let r = u64s("rng_patterns")?;
        let ev = f64s("evaluations")?;
        if p.len() != 3 || t.len() != 2 || r.len() != 4 || ev.len() % 3 != 0 {
            return Err("checkpoint arrays of the wrong length".into());
        }
        (self.epoch, self.next_step, self.images_seen) =
            (p[0] as usize, p[1] as usize, p[2] as usize);
        (self.train_time, self.eval_time) = (t[0], t[1]);
        self.rng_at_epoch_start = [r[0], r[1], r[2], r[3]];
        self.evaluations = ev.chunks_exact(3).map(|c| (c[0], c[1], c[2])).collect();
        let order: Vec<usize> = u64s("order")?.into_iter().map(|i| i as usize).collect();
        batches.set_order(&order)?;
        *rng = Rng::from_state(self.rng_at_epoch_start);
        if self.next_step > 0 {
            // In the middle of an epoch: the generator as it was after the epoch's shuffle,
            // by replaying the shuffle from the saved state (the order itself is restored).
            let mut replay = batches.clone_shape();
            replay.shuffle(rng);
            if replay.order() != order.as_slice() {
                return Err(
                    "the saved minibatch order does not follow from the saved generator".into(),
                );
            }
        }
        Ok(())
    }
}

pub(crate) fn save_checkpoint(
    path: &Path,
    learner: &mut dyn Learner,
    progress: &Progress,
    batches: &Minibatches,
) -> Result<(), String> {
    let Some(mut arrays) = learner.checkpoint() else {
        return Err(
            "mnist.checkpoint_images is set but this learner cannot be checkpointed".into(),
        );
    };
    arrays.extend(progress.arrays(batches));
    npz::write(path, &arrays).map_err(|e| format!("writing checkpoint {}: {e}", path.display()))?;
    if crate::record::test_hook::fires("DENDRITIC_TEST_KILL_AFTER_CHECKPOINT") {
        crate::record::test_hook::kill_self();
    }
    Ok(())
}
