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
use crate::learn::trainer::{Evaluations, Progress, Trainer};
use crate::learn::{BackpropLearner, DynamicsLearner, LearnError, Learner, TwoPassLearner};
use crate::model::{Network, State};
use crate::record::npz::{self, NpyArray};
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
    /// Which data set the files hold ([`crate::task::mnist::dataset_name`]).
    pub(crate) dataset: &'static str,
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
        return Err(RunError::Task {
            seed,
            message: "the mnist study reads task.kind = \"mnist\"".into(),
        });
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
        dataset: crate::task::mnist::dataset_name(&data),
    })
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
    };
    let mut evals = Evaluations {
        name,
        layer: n as i64,
        validation: (&split.val_x, &split.val_y),
        test: (&split.test_x, &split.test_y),
        series: TimeSeries::default(),
        best: (f64::INFINITY, f64::NAN, f64::NAN),
        probe_set: probe_set(&split, b),
    };
    let learn = |source| RunError::Learn { seed, source };
    let resume_at = trainer.resume(&mut evals).map_err(learn)?;
    if let Some((epoch, step)) = resume_at {
        tracing::info!(
            "{}: resuming seed {seed} at epoch {}, minibatch {step}",
            scenario.name,
            epoch + 1
        );
    } else {
        evals
            .evaluate(trainer.learner.as_mut(), 0.0, &mut trainer.ps)
            .map_err(learn)?;
    }
    trainer
        .train(training, resume_at, &mut evals, progress)
        .map_err(learn)?;
    let mut summary = SummaryRow::new();
    let Progress {
        train_time,
        eval_time,
        images_seen,
        ..
    } = trainer.ps;
    let epochs = images_seen as f64 / split.train_y.len() as f64;
    let best = evals.best;
    summary.insert(
        "dataset".into(),
        crate::record::Cell::Text(split.dataset.into()),
    );
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
    trainer.finish().map_err(learn)?;
    Ok(RunOutput {
        seed,
        series: evals.series,
        summary,
        table: Vec::new(),
        weights: trainer.learner.checkpoint().map(weights_only),
    })
}

/// The images the learner's probes measure on: the first 100 validation images (rounded down
/// to whole minibatches, at least one) with their target potentials; none when the
/// validation set is smaller than a minibatch.
fn probe_set(split: &Split, batch: usize) -> Option<(Array2<f64>, Array2<f64>)> {
    let n = ((100 / batch).max(1) * batch).min(split.val_y.len() / batch * batch);
    if n == 0 {
        return None;
    }
    let mut batches = Minibatches::new(&split.val_x, &split.val_y, n, split.levels);
    batches.fill(0);
    Some((batches.x, batches.target))
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
/// A learner's arrays without its run-time state (`y`, `p`, rates, progress): what
/// `export-weights` hands on and `init.from` reads.
pub(crate) fn weights_only(mut arrays: BTreeMap<String, NpyArray>) -> BTreeMap<String, NpyArray> {
    arrays.retain(|k, _| k.starts_with("w_") || k.starts_with("b_w_") || k.starts_with("ff_"));
    arrays
}
