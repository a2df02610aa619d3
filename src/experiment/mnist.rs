//! The MNIST study (paper Fig. 3, paper-spec §6.3–6.4): the two-pass steady-state learner on
//! minibatches (one GEMM per layer for the whole minibatch), the backprop baseline on the same
//! feed-forward network, validation and test error during training, and the test error of the
//! best-validation evaluation.

use std::path::Path;
use std::time::Instant;

use indicatif::ProgressBar;
use ndarray::{Array2, Axis};

use super::probe::copy_parameters;
use super::run::{RunError, RunOutput, initial_network, num, stream};
use super::scenario::Scenario;
use crate::baseline::{Credit, FeedForward};
use crate::model::{Drive, Network, Projection, State, Workspace};
use crate::record::{SummaryRow, TimeSeries};
use crate::rng::Rng;
use crate::solve::TwoPass;
use crate::task::TaskConfig;
use crate::task::mnist::{Mnist, load};

/// Classification error (%) of the free (no target) bottom-up prediction state, which is the
/// exact steady state of a self-predicting network without a target.
fn error_percent(
    eval: &Network,
    eval_state: &mut State,
    ws: &mut Workspace,
    images: &Array2<f64>,
    labels: &[u8],
) -> f64 {
    let chunk = eval.batch();
    let mut wrong = 0;
    let n = eval.n_layers();
    for start in (0..labels.len()).step_by(chunk) {
        let end = (start + chunk).min(labels.len());
        let mut x = Array2::zeros((chunk, images.ncols()));
        x.slice_mut(ndarray::s![..end - start, ..])
            .assign(&images.slice(ndarray::s![start..end, ..]));
        eval.bottom_up_pass(eval_state, &Drive::free(x.view()), ws);
        let u = eval.u_pyr(eval_state, n);
        for (i, row) in u.axis_iter(Axis(0)).take(end - start).enumerate() {
            if argmax(row) != labels[start + i] as usize {
                wrong += 1;
            }
        }
    }
    100.0 * wrong as f64 / labels.len() as f64
}

/// Index of the largest entry (the class read out from the output rates or potentials).
fn argmax(row: ndarray::ArrayView1<f64>) -> usize {
    row.iter()
        .enumerate()
        .fold(
            (0, f64::NEG_INFINITY),
            |b, (j, &v)| if v > b.1 { (j, v) } else { b },
        )
        .0
}

/// Copies minibatch `step` of the shuffled `order` into `x` and `labels` and returns its
/// one-hot target potentials {u_low, u_high}.
fn fill_batch(
    order: &[usize],
    step: usize,
    images: &Array2<f64>,
    all_labels: &[u8],
    x: &mut Array2<f64>,
    labels: &mut [u8],
    (u_low, u_high): (f64, f64),
) -> Array2<f64> {
    let b = labels.len();
    for i in 0..b {
        let idx = order[(step * b + i) % order.len()];
        x.row_mut(i).assign(&images.row(idx));
        labels[i] = all_labels[idx];
    }
    one_hot(labels, u_low, u_high)
}

fn one_hot(labels: &[u8], low: f64, high: f64) -> Array2<f64> {
    let mut t = Array2::from_elem((labels.len(), 10), low);
    for (i, &l) in labels.iter().enumerate() {
        t[[i, l as usize]] = high;
    }
    t
}

/// Runs the study for one seed.
pub fn run(
    scenario: &Scenario,
    seed: u64,
    progress: Option<&ProgressBar>,
) -> Result<RunOutput, RunError> {
    let training = scenario.mnist.as_ref().expect("validated");
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
    let data: Mnist = load(Path::new(dir)).map_err(|e| RunError::Task {
        seed,
        message: format!("{e} (run `make data` to install MNIST)"),
    })?;
    let phi = scenario.network.phi;
    let (u_low, u_high) = (phi.inverse(*rate_low), phi.inverse(*rate_high));
    let (Some(u_low), Some(u_high)) = (u_low, u_high) else {
        return Err(RunError::Task {
            seed,
            message: "target rates outside the range of φ".into(),
        });
    };
    let train_x = data
        .train_images
        .slice(ndarray::s![..*train, ..])
        .to_owned();
    let train_y = &data.train_labels[..*train];
    let val_x = data
        .train_images
        .slice(ndarray::s![*train..*train + *validation, ..])
        .to_owned();
    let val_y = &data.train_labels[*train..*train + *validation];
    let test_x = data.test_images.slice(ndarray::s![..*test, ..]).to_owned();
    let test_y = &data.test_labels[..*test];
    let b = training.batch;
    let (net, mut state) = initial_network(scenario.network.clone(), b, scenario, seed)?;
    let init_state = state.clone();
    let eval = Network::new(scenario.network.clone(), 500)
        .map_err(|source| RunError::Model { seed, source })?;
    let mut eval_state = eval.zero_state();
    let mut eval_ws = Workspace::new(&eval);
    let mut ws = Workspace::new(&net);
    let mut two_pass = TwoPass::new(&net);
    // Learning-rate rescaling by the inverse mixing factor (paper-spec §6.3).
    let n = net.n_layers();
    let mixing = net.teaching_dilution();
    let rate = |proj: Projection, k: usize, eta: f64| -> f64 {
        let s = match proj {
            Projection::Up => mixing[k],
            // W^IP learns to predict the upper layer, whose deviation is diluted like layer k+1's.
            Projection::Ip => mixing[k + 1],
            _ => 1.0,
        };
        if training.rescale_by_mixing {
            eta / s
        } else {
            eta
        }
    };
    let steps_per_epoch = train.div_ceil(b);
    let eval_every = (steps_per_epoch / training.evaluations_per_epoch).max(1);
    let mut series = TimeSeries::default();
    let mut summary = SummaryRow::new();
    let mut rng = Rng::derived(seed, stream::PATTERNS);
    let mut best = (f64::INFINITY, f64::NAN);
    let mut x = Array2::zeros((b, 784));
    let mut labels = vec![0u8; b];
    let started = Instant::now();
    let mut train_time = 0.0;
    let mut images_seen = 0usize;
    for epoch in 0..training.epochs {
        let mut order: Vec<usize> = (0..*train).collect();
        rng.shuffle(&mut order);
        for step in 0..steps_per_epoch {
            let t0 = Instant::now();
            let target = fill_batch(
                &order,
                step,
                &train_x,
                train_y,
                &mut x,
                &mut labels,
                (u_low, u_high),
            );
            let drive = Drive::nudged(x.view(), target.view());
            two_pass.passes(&net, &mut state, &drive);
            let terms = net.induction_terms(&state, &drive, &mut ws);
            for (syn, (dw, db)) in net.layout.synapses.iter().zip(terms) {
                if !syn.is_plastic() {
                    continue;
                }
                let eta = rate(syn.projection, syn.layer, syn.eta);
                state.view_mut(&syn.w).scaled_add(eta, &dw);
                if let (Some(bb), Some(db)) = (syn.bias, db) {
                    state.view_mut(&bb).row_mut(0).scaled_add(eta, &db);
                }
            }
            images_seen += b;
            train_time += t0.elapsed().as_secs_f64();
            if let Some(pb) = progress {
                pb.inc(1);
            }
            if (step + 1) % eval_every == 0 || step + 1 == steps_per_epoch {
                copy_parameters(&net, &state, &eval, &mut eval_state);
                let v = error_percent(&eval, &mut eval_state, &mut eval_ws, &val_x, val_y);
                let te = error_percent(&eval, &mut eval_state, &mut eval_ws, &test_x, test_y);
                let t = images_seen as f64;
                series.push("microcircuit", t, "validation_error", n as i64, -1, v);
                series.push("microcircuit", t, "test_error", n as i64, -1, te);
                if v < best.0 {
                    best = (v, te);
                }
            }
        }
        let _ = epoch;
    }
    let epochs = training.epochs as f64 * (*train as f64 / (steps_per_epoch * b) as f64).min(1.0);
    num(&mut summary, "test_error_microcircuit", best.1);
    num(&mut summary, "validation_error_microcircuit", best.0);
    num(
        &mut summary,
        "epoch_time_microcircuit_s",
        train_time / epochs,
    );
    // Backprop on the same feed-forward network (same start), same minibatches.
    if let Some(eta) = &training.backprop_eta {
        let mut ff = FeedForward::from_microcircuit(&net, &init_state);
        let mut rng = Rng::derived(seed, stream::PATTERNS);
        let mut best = (f64::INFINITY, f64::NAN);
        let mut bp_time = 0.0;
        let mut seen = 0usize;
        let classify = |ff: &FeedForward, xs: &Array2<f64>, ys: &[u8]| -> f64 {
            let u = &ff.forward(xs).u[ff.n_layers()];
            let wrong = u
                .axis_iter(Axis(0))
                .zip(ys)
                .filter(|(row, l)| argmax(*row) != **l as usize)
                .count();
            100.0 * wrong as f64 / ys.len() as f64
        };
        for _ in 0..training.epochs {
            let mut order: Vec<usize> = (0..*train).collect();
            rng.shuffle(&mut order);
            for step in 0..steps_per_epoch {
                let t0 = Instant::now();
                let target = fill_batch(
                    &order,
                    step,
                    &train_x,
                    train_y,
                    &mut x,
                    &mut labels,
                    (u_low, u_high),
                );
                ff.step(&x, &target, Credit::Backprop, eta, scenario.network.bias);
                bp_time += t0.elapsed().as_secs_f64();
                seen += b;
                if let Some(pb) = progress {
                    pb.inc(1);
                }
                if (step + 1) % eval_every == 0 || step + 1 == steps_per_epoch {
                    let v = classify(&ff, &val_x, val_y);
                    let te = classify(&ff, &test_x, test_y);
                    series.push("backprop", seen as f64, "validation_error", n as i64, -1, v);
                    series.push("backprop", seen as f64, "test_error", n as i64, -1, te);
                    if v < best.0 {
                        best = (v, te);
                    }
                }
            }
        }
        num(&mut summary, "test_error_backprop", best.1);
        num(&mut summary, "epoch_time_backprop_s", bp_time / epochs);
        num(
            &mut summary,
            "epoch_time_ratio_microcircuit_over_backprop",
            train_time / bp_time,
        );
    }
    num(&mut summary, "images_seen", images_seen as f64);
    num(
        &mut summary,
        "total_time_s",
        started.elapsed().as_secs_f64(),
    );
    Ok(RunOutput {
        seed,
        series,
        summary,
        table: Vec::new(),
    })
}
