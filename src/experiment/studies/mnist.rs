//! The MNIST study (paper Fig. 3, paper-spec §6.3–6.4): one learner per run — the two-pass
//! steady-state learner on minibatches (one GEMM per layer and synapse group for the whole
//! minibatch, no allocation per step) or backprop on the same feed-forward network — with
//! validation and test error during training and the test error of the best-validation
//! evaluation as the result. The paper's variants (single layer, frozen hidden→hidden weights,
//! 784-1000-10 with learned top-down weights) are scenario variants of the same learner.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::ProgressBar;
use ndarray::Array2;

use crate::baseline::{Credit, FeedForward};
use crate::experiment::protocol::{RunError, RunOutput, initial_network, num, stream};
use crate::experiment::scenario::{LearnerKind, Scenario, SettleBy, Training};
use crate::learn::checkpoint::{f64_array, u64_array};
use crate::learn::{BackpropLearner, DynamicsLearner, LearnError, Learner, TwoPassLearner};
use crate::model::{Network, State};
use crate::record::npz::{self, NpyArray, NpyData};
use crate::record::{SummaryRow, TimeSeries};
use crate::rng::Rng;
use crate::task::TaskConfig;
use crate::task::minibatch::Minibatches;
use crate::task::mnist::{Mnist, load};

/// The scenario's learner, starting from `net` and `state`, and its name in the results.
pub(crate) fn build_learner(
    scenario: &Scenario,
    training: &Training,
    net: Network,
    state: State,
    seed: u64,
) -> Result<(&'static str, Box<dyn Learner>), RunError> {
    let learn = |source: LearnError| RunError::Learn { seed, source };
    let dt = scenario.protocol.dt;
    Ok(match training.learner {
        LearnerKind::Microcircuit if training.settle == SettleBy::Dynamics => {
            let inner = TwoPassLearner::new(net, state, training, dt, seed).map_err(learn)?;
            (
                "dynamics",
                Box::new(DynamicsLearner::new(inner, training, dt, seed).map_err(learn)?),
            )
        }
        LearnerKind::Microcircuit => (
            "microcircuit",
            Box::new(TwoPassLearner::new(net, state, training, dt, seed).map_err(learn)?),
        ),
        LearnerKind::Backprop | LearnerKind::FeedbackAlignment => {
            let mut ff = FeedForward::from_microcircuit(&net, &state);
            ff.loss = training.backprop_loss;
            let (name, credit) = match training.learner {
                LearnerKind::Backprop => ("backprop", Credit::Backprop),
                _ => ("feedback_alignment", Credit::FeedbackAlignment),
            };
            let eta = training.backprop_eta.clone().ok_or_else(|| {
                learn(LearnError::Settings(format!(
                    "learner = \"{name}\" needs mnist.backprop_eta"
                )))
            })?;
            let learner = BackpropLearner::new(
                ff,
                credit,
                eta,
                scenario.network.bias,
                training.backprop_weight_decay,
            );
            (name, Box::new(learner))
        }
    })
}

/// The three sets of a run: training, validation (the end of the training file) and test,
/// and the one-hot target potentials {u_low, u_high}.
pub(crate) struct Split {
    pub(crate) train_x: Array2<f64>,
    pub(crate) train_y: Vec<u8>,
    pub(crate) val_x: Array2<f64>,
    pub(crate) val_y: Vec<u8>,
    pub(crate) test_x: Array2<f64>,
    pub(crate) test_y: Vec<u8>,
    pub(crate) levels: (f64, f64),
}

/// Loads the scenario's MNIST split.
pub(crate) fn load_split(scenario: &Scenario, seed: u64) -> Result<Split, RunError> {
    let TaskConfig::Mnist {
        dir,
        train,
        validation,
        test,
        rate_low,
        rate_high,
    } = &scenario.task
    else {
        unreachable!("validated")
    };
    let task_error = |message: String| RunError::Task { seed, message };
    let data: Mnist = load(Path::new(dir))
        .map_err(|e| task_error(format!("{e} (run `make data` to install MNIST)")))?;
    crate::task::mnist::check_pixels(&data, Path::new(dir), scenario.network.sizes[0])
        .map_err(|e| task_error(e.to_string()))?;
    let phi = scenario.network.phi;
    let (Some(u_low), Some(u_high)) = (phi.inverse(*rate_low), phi.inverse(*rate_high)) else {
        return Err(task_error("target rates outside the range of φ".into()));
    };
    if train + validation > data.train_labels.len() || *test > data.test_labels.len() {
        return Err(task_error(format!(
            "task.train + task.validation = {} and task.test = {test} exceed the data ({} \
             training and {} test images)",
            train + validation,
            data.train_labels.len(),
            data.test_labels.len()
        )));
    }
    let rows = |from: usize, to: usize| data.train_images.slice(ndarray::s![from..to, ..]);
    Ok(Split {
        train_x: rows(0, *train).to_owned(),
        train_y: data.train_labels[..*train].to_vec(),
        val_x: rows(*train, *train + *validation).to_owned(),
        val_y: data.train_labels[*train..*train + *validation].to_vec(),
        test_x: data.test_images.slice(ndarray::s![..*test, ..]).to_owned(),
        test_y: data.test_labels[..*test].to_vec(),
        levels: (u_low, u_high),
    })
}

/// The evaluations of a run: validation and test error (and the learner's probes) into the
/// time series, and the best validation so far as (validation error, test error, epoch).
struct Evaluations<'a> {
    name: &'static str,
    layer: i64,
    split: &'a Split,
    series: TimeSeries,
    best: (f64, f64, f64),
}

impl Evaluations<'_> {
    /// Records one evaluation (already computed or restored).
    fn record(&mut self, epoch: f64, v: f64, te: f64) {
        self.series
            .push(self.name, epoch, "validation_error", self.layer, -1, v);
        self.series
            .push(self.name, epoch, "test_error", self.layer, -1, te);
        if v < self.best.0 {
            self.best = (v, te, epoch);
        }
    }

    /// Checks the learner for divergence and evaluates it at `epoch`.
    fn evaluate(
        &mut self,
        learner: &mut dyn Learner,
        epoch: f64,
        ps: &mut Progress,
        seed: u64,
    ) -> Result<(), RunError> {
        let t0 = Instant::now();
        learner
            .check(epoch)
            .map_err(|source| RunError::Learn { seed, source })?;
        let v = learner.error_percent(&self.split.val_x, &self.split.val_y);
        let te = learner.error_percent(&self.split.test_x, &self.split.test_y);
        self.record(epoch, v, te);
        learner.probe(self.name, epoch, &mut self.series);
        ps.evaluations.push((epoch, v, te));
        ps.eval_time += t0.elapsed().as_secs_f64();
        Ok(())
    }
}

/// A run's training loop: its learner, minibatches, generator, progress and checkpoint.
struct Trainer<'a> {
    learner: Box<dyn Learner>,
    batches: Minibatches<'a>,
    rng: Rng,
    ps: Progress,
    checkpoint: Option<PathBuf>,
    seed: u64,
}

/// Runs the study for one seed: the scenario's learner over its epochs.
pub fn run(
    scenario: &Scenario,
    training: &Training,
    seed: u64,
    progress: Option<&ProgressBar>,
    checkpoints: Option<&Path>,
) -> Result<RunOutput, RunError> {
    let split = load_split(scenario, seed)?;
    let b = training.batch;
    let (net, state) = initial_network(scenario.network.clone(), b, scenario, seed)?;
    let n = net.n_layers();
    let (name, learner) = build_learner(scenario, training, net, state, seed)?;
    let started = Instant::now();
    // Every N images (and at epochs' ends) when asked for; at epochs' ends in the driver's
    // directory otherwise.
    let checkpoint = if training.checkpoint_images > 0 {
        Some(checkpoint_path(scenario, training, seed))
    } else {
        checkpoints.map(|dir| dir.join(checkpoint_file(scenario, seed)))
    };
    let mut trainer = Trainer {
        learner,
        batches: Minibatches::new(&split.train_x, &split.train_y, b, split.levels),
        rng: Rng::derived(seed, stream::PATTERNS),
        ps: Progress::default(),
        checkpoint,
        seed,
    };
    let mut evals = Evaluations {
        name,
        layer: n as i64,
        split: &split,
        series: TimeSeries::default(),
        best: (f64::INFINITY, f64::NAN, f64::NAN),
    };
    let resume_at = trainer.resume(scenario, &mut evals)?;
    if resume_at.is_none() {
        evals.evaluate(trainer.learner.as_mut(), 0.0, &mut trainer.ps, seed)?;
    }
    trainer.train(training, resume_at, &mut evals, progress)?;
    let mut summary = SummaryRow::new();
    let Progress {
        train_time,
        eval_time,
        images_seen,
        ..
    } = trainer.ps;
    let epochs = images_seen as f64 / split.train_y.len() as f64;
    let best = evals.best;
    num(&mut summary, "test_error", best.1);
    num(&mut summary, "validation_error", best.0);
    num(&mut summary, "best_epoch", best.2);
    num(&mut summary, "epochs_trained", epochs);
    num(&mut summary, "epoch_time_s", train_time / epochs);
    num(&mut summary, "evaluation_time_s", eval_time);
    num(&mut summary, "images_seen", images_seen as f64);
    num(
        &mut summary,
        "total_time_s",
        started.elapsed().as_secs_f64(),
    );
    trainer.learner.report(&mut summary);
    trainer.finish()?;
    Ok(RunOutput {
        seed,
        series: evals.series,
        summary,
        table: Vec::new(),
        weights: trainer.learner.checkpoint().map(weights_only),
    })
}

impl Trainer<'_> {
    fn task_error(&self, message: String) -> RunError {
        RunError::Task {
            seed: self.seed,
            message,
        }
    }

    /// Restores the learner, the progress and the evaluations so far from an existing
    /// checkpoint; returns where to go on (epoch, minibatch).
    fn resume(
        &mut self,
        scenario: &Scenario,
        evals: &mut Evaluations,
    ) -> Result<Option<(usize, usize)>, RunError> {
        let Some(path) = self.checkpoint.clone().filter(|p| p.exists()) else {
            return Ok(None);
        };
        let arrays = npz::read(&path).map_err(|m| self.task_error(m))?;
        let restored = self
            .learner
            .restore(&arrays)
            .map_err(|e| e.to_string())
            .and_then(|()| self.ps.restore(&arrays, &mut self.rng, &mut self.batches));
        restored.map_err(|m| self.task_error(format!("resuming from {}: {m}", path.display())))?;
        for (e, v, t) in self.ps.evaluations.clone() {
            evals.record(e, v, t);
        }
        tracing::info!(
            "{}: resuming seed {} from {} (epoch {}, minibatch {})",
            scenario.name,
            self.seed,
            path.display(),
            self.ps.epoch + 1,
            self.ps.next_step
        );
        Ok(Some((self.ps.epoch, self.ps.next_step)))
    }

    /// The epochs from `resume_at` (or the start): shuffle, minibatch steps, evaluations,
    /// checkpoints, the per-epoch rate decay; stops with an error when asked to stop early.
    fn train(
        &mut self,
        training: &Training,
        resume_at: Option<(usize, usize)>,
        evals: &mut Evaluations,
        progress: Option<&ProgressBar>,
    ) -> Result<(), RunError> {
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
                    evals.evaluate(self.learner.as_mut(), e, &mut self.ps, self.seed)?;
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
    fn step(&mut self, epoch: usize, step: usize) -> Result<(), RunError> {
        self.batches.fill(step);
        let t0 = Instant::now();
        self.learner
            .step(&self.batches.x, &self.batches.target)
            .map_err(|message| RunError::Task {
                seed: self.seed,
                message: format!("epoch {}, minibatch {step}: {message}", epoch + 1),
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
    ) -> Result<(), RunError> {
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
        Err(self.task_error(format!(
            "stopped after {images} images as asked (mnist.stop_after_images); \
             checkpoint {} (epoch {}, minibatch {}): run again to resume",
            path.display(),
            self.ps.epoch + 1,
            self.ps.next_step
        )))
    }

    /// Writes the checkpoint, when the run has one.
    fn save(&self) -> Result<(), RunError> {
        let Some(path) = &self.checkpoint else {
            return Ok(());
        };
        save_checkpoint(path, self.learner.as_ref(), &self.ps, &self.batches)
            .map_err(|m| self.task_error(m))
    }

    /// Removes the finished run's checkpoint.
    fn finish(&self) -> Result<(), RunError> {
        let Some(path) = self.checkpoint.as_ref().filter(|p| p.exists()) else {
            return Ok(());
        };
        std::fs::remove_file(path).map_err(|e| {
            self.task_error(format!(
                "removing the finished run's checkpoint {}: {e}",
                path.display()
            ))
        })
    }
}

/// Where a run's checkpoint lives: `<checkpoint_dir>/<name>-<fingerprint>-seed<seed>.npz`,
/// the fingerprint being the CRC-32 of the scenario as run (so an edited scenario, or another
/// variant of a sweep, never resumes from another's state).
pub fn checkpoint_path(scenario: &Scenario, training: &Training, seed: u64) -> PathBuf {
    Path::new(&training.checkpoint_dir).join(checkpoint_file(scenario, seed))
}

/// `<name>-<fingerprint>-seed<seed>.npz`, the fingerprint a CRC of the scenario with
/// `stop_after_images` zeroed (so a stopped run and its continuation share it).
pub(crate) fn checkpoint_file(scenario: &Scenario, seed: u64) -> String {
    let mut fingerprinted = scenario.clone();
    if let Some(m) = fingerprinted.study.training_mut() {
        m.stop_after_images = 0;
    }
    let text = toml::to_string(&fingerprinted).unwrap_or_default();
    format!(
        "{}-{:08x}-seed{seed}.npz",
        scenario.name,
        npz::crc32(text.as_bytes())
    )
}

/// The training loop's own state, saved beside the learner's.
#[derive(Clone, Debug, Default)]
struct Progress {
    /// Epoch (from 0) and the next minibatch of it.
    epoch: usize,
    next_step: usize,
    /// The minibatch RNG's state before this epoch's shuffle.
    rng_at_epoch_start: [u64; 4],
    images_seen: usize,
    train_time: f64,
    eval_time: f64,
    /// (epoch, validation error, test error) of every evaluation so far.
    evaluations: Vec<(f64, f64, f64)>,
}

/// A learner's arrays without its run-time state (`y`, `p`, rates, progress): what
/// `export-weights` hands on and `init.from` reads.
pub(crate) fn weights_only(mut arrays: BTreeMap<String, NpyArray>) -> BTreeMap<String, NpyArray> {
    arrays.retain(|k, _| k.starts_with("w_") || k.starts_with("b_w_") || k.starts_with("ff_"));
    arrays
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

fn save_checkpoint(
    path: &Path,
    learner: &dyn Learner,
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
