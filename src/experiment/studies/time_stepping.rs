//! The time-stepping studies on the integer grid t = n·dt, inputs switched at exact pattern
//! boundaries: Fig. S1 (self-predicting), Fig. 1B (target learning) and Fig. 2 (regression).

use std::ops::ControlFlow;

use indicatif::ProgressBar;
use ndarray::Array2;

use crate::experiment::probe::{FreeProbe, alignment_angle_deg, apical_norm, interneuron_mismatch};
use crate::experiment::protocol::{
    RunError, RunOutput, build_task, check_stable_dt, initial_network, num, num_if_defined,
    single_association, steps, stream,
};
use crate::experiment::scenario::Scenario;
use crate::model::{Drive, Workspace};
use crate::record::observe::{Recorder, Sample};
use crate::record::{Cell, SummaryRow, TimeSeries};
use crate::rng::Rng;
use crate::solve::{Moment, Simulation};
use crate::task::Task;

/// The scenario's network for one sample, its initial weights and method, at t = 0 (refused
/// when dt is beyond an explicit method's stability limit), and a workspace to observe it.
fn simulation(
    scenario: &Scenario,
    network: crate::model::NetworkConfig,
    seed: u64,
) -> Result<(Simulation, Workspace), RunError> {
    let (net, state) = initial_network(network, 1, scenario, seed)?;
    check_stable_dt(scenario, &net, &state, seed)?;
    let method = scenario
        .method
        .build_with(
            &net,
            Rng::derived(seed, stream::NOISE).next_u64(),
            scenario.tolerances(),
        )
        .map_err(|source| RunError::Solve { seed, source })?;
    let ws = Workspace::new(&net);
    let sim = Simulation::new(net, state, method, scenario.protocol.dt)
        .map_err(|source| RunError::Solve { seed, source })?;
    Ok((sim, ws))
}

/// Recomputes the dendrites of the simulation's current state into `ws`.
fn observe(sim: &Simulation, drive: &Drive, ws: &mut Workspace) {
    let state = sim.state();
    sim.net().dendrites(&state.y, &state.p, drive, ws);
}

/// Fig. S1: random patterns, no target, rules 8–9; apical norm and interneuron mismatch.
pub fn self_predicting(
    scenario: &Scenario,
    seed: u64,
    progress: Option<&ProgressBar>,
) -> Result<RunOutput, RunError> {
    let p = &scenario.protocol;
    let (mut sim, mut ws) = simulation(scenario, scenario.network.clone(), seed)?;
    let task = build_task(scenario, seed)?;
    let mut rng = Rng::derived(seed, stream::PATTERNS);
    let per = steps(p.pattern_ms, p.dt);
    let every = steps(scenario.record.interval_ms, p.dt).max(1);
    let mut series = TimeSeries::default();
    let mut record_ws = Workspace::new(sim.net());
    let (mut first, mut last) = ((0.0, 0.0), Vec::new());
    for pat in 0..p.patterns {
        let pattern = task.pattern(sim.net().layout.sizes[0], &mut rng);
        let drive = Drive::free(pattern.input.view());
        let (mut a_sum, mut m_sum) = (0.0, 0.0);
        let mut watch = |at: Moment<'_, '_>| {
            at.net
                .dendrites(&at.state.y, &at.state.p, at.drive, &mut ws);
            a_sum += apical_norm(at.net, &ws);
            m_sum += interneuron_mismatch(at.net, at.state);
            ControlFlow::Continue(())
        };
        let mut record = Recorder::new(&mut series, "", every, |at| {
            at.net
                .dendrites(&at.state.y, &at.state.p, at.drive, &mut record_ws);
            vec![
                Sample::global("apical_norm", apical_norm(at.net, &record_ws)),
                Sample::global(
                    "interneuron_mismatch",
                    interneuron_mismatch(at.net, at.state),
                ),
            ]
        });
        sim.run(per, &drive, &mut [&mut watch, &mut record])
            .map_err(|source| RunError::Solve { seed, source })?;
        let means = (a_sum / per as f64, m_sum / per as f64);
        if pat == 0 {
            first = means;
        }
        last.push(means);
        if last.len() > 10 {
            last.remove(0);
        }
        if let Some(pb) = progress {
            pb.inc(1);
        }
    }
    let late_a = last.iter().map(|m| m.0).sum::<f64>() / last.len() as f64;
    let late_m = last.iter().map(|m| m.1).sum::<f64>() / last.len() as f64;
    let mut summary = SummaryRow::new();
    num(&mut summary, "apical_norm_initial", first.0);
    num(&mut summary, "apical_norm_final", late_a);
    num(&mut summary, "interneuron_mismatch_initial", first.1);
    num(&mut summary, "interneuron_mismatch_final", late_m);
    num(&mut summary, "apical_norm_drop_factor", first.0 / late_a);
    num(
        &mut summary,
        "interneuron_mismatch_drop_factor",
        first.1 / late_m,
    );
    finish(sim, seed, series, summary)
}

fn finish(
    sim: Simulation,
    seed: u64,
    series: TimeSeries,
    mut summary: SummaryRow,
) -> Result<RunOutput, RunError> {
    let stats = sim.statistics();
    num(&mut summary, "steps", stats.steps as f64);
    num(
        &mut summary,
        "rhs_evaluations",
        stats.rhs_evaluations as f64,
    );
    num(&mut summary, "simulated_ms", sim.t());
    Ok(RunOutput {
        seed,
        series,
        summary,
        table: Vec::new(),
        weights: None,
    })
}

/// Records neuron 0's traces for Fig. 1B/2B: input rate, output potential and rate, target,
/// and the hidden layer's apical potential split into top-down and interneuron parts.
fn record_traces(
    sim: &Simulation,
    ws: &Workspace,
    drive: &Drive,
    window: &str,
    series: &mut TimeSeries,
) {
    let net = sim.net();
    let n = net.n_layers();
    let phi = net.config.phi;
    let t = sim.t();
    let ws = &ws;
    series.push(window, t, "input_rate", 0, 0, ws.r[0][[0, 0]]);
    let u_out = net.u_pyr(sim.state(), n)[[0, 0]];
    series.push(window, t, "output_u", n as i64, 0, u_out);
    series.push(window, t, "output_rate", n as i64, 0, phi.phi(u_out));
    if let Some(trg) = drive.target {
        series.push(window, t, "target_u", n as i64, 0, trg[[0, 0]]);
        series.push(window, t, "target_rate", n as i64, 0, phi.phi(trg[[0, 0]]));
    }
    let td = ws.v_td[1][[0, 0]];
    let va = ws.v_apical[1][[0, 0]];
    series.push(window, t, "apical_u", 1, 0, va);
    series.push(window, t, "apical_top_down", 1, 0, td);
    series.push(window, t, "apical_cancellation", 1, 0, va - td);
}

/// The largest and the mean |u − u_trgt| of the output, relative to the targets' range.
fn mismatch_rel(u: &Array2<f64>, target: &Array2<f64>) -> (f64, f64) {
    let (lo, hi) = target
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &t| {
            (lo.min(t), hi.max(t))
        });
    let worst = u
        .iter()
        .zip(target.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let mean = u
        .iter()
        .zip(target.iter())
        .map(|(a, b)| (a - b).abs())
        .sum::<f64>()
        / target.len() as f64;
    (worst / (hi - lo), mean / (hi - lo))
}

/// The Euclidean distance between two sequences.
fn distance<'a>(a: impl Iterator<Item = &'a f64>, b: impl Iterator<Item = &'a f64>) -> f64 {
    a.zip(b).map(|(u, t)| (u - t).powi(2)).sum::<f64>().sqrt()
}

/// Fig. 1B's numbers: the output's mismatch before and after, the time-averaged apical error
/// and the apical norm over the first and the last pattern with the target on.
fn target_summary(
    target: &Array2<f64>,
    (before, after): (&Array2<f64>, &Array2<f64>),
    (v_first, v_last): (&[f64], &[f64]),
    (a_first, a_last): (f64, f64),
) -> SummaryRow {
    let mut summary = SummaryRow::new();
    let (b_max, _) = mismatch_rel(before, target);
    let (f_max, f_mean) = mismatch_rel(after, target);
    num(&mut summary, "output_target_mismatch_rel_initial", b_max);
    num(&mut summary, "output_target_mismatch_rel", f_max);
    num(&mut summary, "output_target_mismatch_rel_mean", f_mean);
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    num(&mut summary, "apical_error_initial", norm(v_first));
    num(&mut summary, "apical_error_final", norm(v_last));
    num(
        &mut summary,
        "apical_error_rel",
        norm(v_last) / norm(v_first),
    );
    num(&mut summary, "apical_norm_initial", a_first);
    num(&mut summary, "apical_norm_final", a_last);
    num(&mut summary, "apical_norm_rel", a_last / a_first);
    summary
}

/// Fig. 1B: one input, a new target; rule 7 learns it from a self-predicting start.
pub fn target_learning(
    scenario: &Scenario,
    seed: u64,
    progress: Option<&ProgressBar>,
) -> Result<RunOutput, RunError> {
    let p = &scenario.protocol;
    let (mut sim, mut ws) = simulation(scenario, scenario.network.clone(), seed)?;
    let (input, target) = single_association(scenario, seed)?;
    let (input, target) = (&input, &target);
    let free = Drive::free(input.view());
    let nudged = Drive::nudged(input.view(), target.view());
    let mut probe = FreeProbe::new(sim.net(), 1, p.test_solver)
        .map_err(|source| RunError::Solve { seed, source })?;
    let before = probe
        .output(sim.net(), sim.state(), input)
        .map_err(|source| RunError::Solve { seed, source })?;
    sim.bottom_up_pass(&free, &mut ws);
    let every = steps(scenario.record.interval_ms, p.dt).max(1);
    let onset = steps(p.target_onset_ms, p.dt);
    let per = steps(p.pattern_ms, p.dt);
    let total = onset + per * p.patterns as u64;
    let window = steps(p.trace_window_ms, p.dt);
    let mut series = TimeSeries::default();
    let (mut a_first, mut a_last) = (0.0, 0.0);
    // Time-averaged apical potentials (all hidden cells) over the first and the last pattern
    // with the target on: the systematic apical error, with the noise averaged out.
    let hidden_cells: usize = (1..sim.net().n_layers())
        .map(|k| sim.net().layout.sizes[k])
        .sum();
    let (mut v_first, mut v_last) = (vec![0.0; hidden_cells], vec![0.0; hidden_cells]);
    let accumulate = |acc: &mut Vec<f64>, ws: &Workspace, n: usize| {
        let vals = (1..n).flat_map(|k| ws.v_apical[k].iter().copied().collect::<Vec<_>>());
        for (a, v) in acc.iter_mut().zip(vals) {
            *a += v / per as f64;
        }
    };
    for i in 0..total {
        let drive = if i < onset { &free } else { &nudged };
        sim.step(drive)
            .map_err(|source| RunError::Solve { seed, source })?;
        observe(&sim, drive, &mut ws);
        let a = apical_norm(sim.net(), &ws);
        // The first and last pattern (100 ms) with the target on.
        let n_layers = sim.net().n_layers();
        if i >= onset && i < onset + per {
            a_first += a / per as f64;
            accumulate(&mut v_first, &ws, n_layers);
        }
        if i >= total - per {
            a_last += a / per as f64;
            accumulate(&mut v_last, &ws, n_layers);
        }
        if i < window {
            record_traces(&sim, &ws, drive, "before", &mut series);
        }
        if i >= total - window {
            record_traces(&sim, &ws, drive, "after", &mut series);
        }
        if sim.n() % every == 0 {
            series.push("", sim.t(), "apical_norm", -1, -1, a);
            let n = sim.net().n_layers();
            let err = distance(sim.net().u_pyr(sim.state(), n).iter(), target.iter());
            series.push("", sim.t(), "output_target_distance", n as i64, -1, err);
            let mismatch = interneuron_mismatch(sim.net(), sim.state()); // Fig. 1C(i)
            series.push("", sim.t(), "interneuron_mismatch", -1, -1, mismatch);
        }
        if i >= onset
            && (i - onset + 1).is_multiple_of(per)
            && let Some(pb) = progress
        {
            pb.inc(1);
        }
    }
    let after = probe
        .output(sim.net(), sim.state(), input)
        .map_err(|source| RunError::Solve { seed, source })?;
    let summary = target_summary(
        target,
        (&before, &after),
        (&v_first, &v_last),
        (a_first, a_last),
    );
    finish(sim, seed, series, summary)
}

/// The held-out test set of the regression: inputs and the teacher's target rates.
struct TestSet {
    inputs: Array2<f64>,
    r_targets: Array2<f64>,
}

/// `protocol.test_patterns` inputs from the test stream and the teacher's rates for them.
fn test_set(task: &Task, scenario: &Scenario, seed: u64) -> TestSet {
    let p = &scenario.protocol;
    let n0 = scenario.network.sizes[0];
    let mut test_rng = Rng::derived(seed, stream::TEST);
    let rows: Vec<Array2<f64>> = (0..p.test_patterns)
        .map(|_| task.pattern(n0, &mut test_rng).input)
        .collect();
    let inputs = ndarray::concatenate(
        ndarray::Axis(0),
        &rows.iter().map(|r| r.view()).collect::<Vec<_>>(),
    )
    .expect("same widths");
    let test_targets = task.teacher_target(&inputs).expect("teacher task");
    let phi = scenario.network.phi;
    TestSet {
        r_targets: test_targets.mapv(|u| phi.phi(u)),
        inputs,
    }
}

/// The shallow learner: the same network with only the output weights plastic.
fn shallow_config(network: &crate::model::NetworkConfig) -> crate::model::NetworkConfig {
    let mut shallow = network.clone();
    let n = shallow.n_layers();
    let eta_out = network.plasticity.eta_up.get(n - 1).copied().unwrap_or(0.0);
    shallow.plasticity.eta_up = (1..=n)
        .map(|k| if k == n { eta_out } else { 0.0 })
        .collect();
    shallow.plasticity.eta_ip.clear();
    shallow.plasticity.eta_pi.clear();
    shallow.plasticity.eta_down.clear();
    shallow
}

/// What the regression's learners write into.
struct Outputs {
    series: TimeSeries,
    summary: SummaryRow,
}

/// Fig. 2: teacher–student regression, microcircuit and shallow learner side by side.
pub fn regression(
    scenario: &Scenario,
    seed: u64,
    progress: Option<&ProgressBar>,
) -> Result<RunOutput, RunError> {
    let p = &scenario.protocol;
    let task = build_task(scenario, seed)?;
    let tests = test_set(&task, scenario, seed);
    let mut out = Outputs {
        series: TimeSeries::default(),
        summary: SummaryRow::new(),
    };
    let mut total_stats = (0.0, 0.0, 0.0);
    let mut learners = vec![("microcircuit", scenario.network.clone())];
    if p.shallow_baseline {
        learners.push(("shallow", shallow_config(&scenario.network)));
    }
    for (variant, config) in learners {
        let sim = train_regression(
            scenario, &task, &tests, variant, config, seed, progress, &mut out,
        )?;
        let stats = sim.statistics();
        total_stats.0 += stats.steps as f64;
        total_stats.1 += stats.rhs_evaluations as f64;
        total_stats.2 += sim.t();
    }
    // Backprop and feedback alignment on the microcircuit's own feed-forward network (same
    // initial weights, biases and attenuations; feedback = its fixed top-down weights), trained
    // on the same pattern sequence, one step per pattern (issue: backprop equivalence).
    if let Some(eta) = &p.baseline_eta {
        feed_forward_baselines(scenario, &task, &tests, eta, seed, &mut out)?;
    }
    let Outputs {
        series,
        mut summary,
    } = out;
    let ratio = match (
        summary.get("test_error_shallow"),
        summary.get("test_error_microcircuit"),
    ) {
        (Some(Cell::Num(s)), Some(Cell::Num(m))) => s / m,
        _ => f64::NAN,
    };
    num_if_defined(&mut summary, "error_ratio_shallow_over_microcircuit", ratio);
    num(&mut summary, "steps", total_stats.0);
    num(&mut summary, "rhs_evaluations", total_stats.1);
    num(&mut summary, "simulated_ms", total_stats.2);
    Ok(RunOutput {
        seed,
        series,
        summary,
        table: Vec::new(),
        weights: None,
    })
}

/// The test error (mean squared rate error over the test set) and the alignment angle of a
/// learner, recorded at its current time.
fn regression_test(
    probe: &mut FreeProbe,
    sim: &Simulation,
    tests: &TestSet,
    variant: &'static str,
    series: &mut TimeSeries,
) -> Result<f64, RunError> {
    let net = sim.net();
    let (n, phi) = (net.n_layers(), net.config.phi);
    let u = probe
        .output(net, sim.state(), &tests.inputs)
        .map_err(|source| RunError::Solve { seed: 0, source })?;
    let err = u
        .mapv(|x| phi.phi(x))
        .iter()
        .zip(tests.r_targets.iter())
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        / tests.inputs.nrows() as f64;
    series.push(variant, sim.t(), "test_error", n as i64, -1, err);
    series.push(
        variant,
        sim.t(),
        "alignment_angle_deg",
        1,
        -1,
        alignment_angle_deg(net, sim.state(), 1),
    );
    Ok(err)
}

/// One learner of the regression in simulated time: every pattern's steps, the traces of the
/// first and last window, the recorded norms, a test every `test_every` patterns; its numbers
/// into the summary. Returns the simulation at its end.
#[allow(
    clippy::too_many_arguments,
    reason = "the run's settings and its outputs, named"
)]
fn train_regression(
    scenario: &Scenario,
    task: &Task,
    tests: &TestSet,
    variant: &'static str,
    config: crate::model::NetworkConfig,
    seed: u64,
    progress: Option<&ProgressBar>,
    out: &mut Outputs,
) -> Result<Simulation, RunError> {
    let p = &scenario.protocol;
    let n0 = scenario.network.sizes[0];
    let (mut sim, mut ws) = simulation(scenario, config, seed)?;
    let mut probe = FreeProbe::new(sim.net(), p.test_patterns, p.test_solver)
        .map_err(|source| RunError::Solve { seed, source })?;
    let mut rng = Rng::derived(seed, stream::PATTERNS);
    let per = steps(p.pattern_ms, p.dt);
    let window = steps(p.trace_window_ms, p.dt);
    let total = per * p.patterns as u64;
    let every = steps(scenario.record.interval_ms, p.dt).max(1);
    let with_seed = |e: RunError| match e {
        RunError::Solve { source, .. } => RunError::Solve { seed, source },
        e => e,
    };
    let mut test = |sim: &Simulation, series: &mut TimeSeries| {
        regression_test(&mut probe, sim, tests, variant, series).map_err(with_seed)
    };
    let series = &mut out.series;
    let initial_error = test(&sim, series)?;
    let mut recent = Vec::new();
    for pat in 0..p.patterns {
        let pattern = task.pattern(n0, &mut rng);
        let target = pattern.target.expect("teacher targets");
        let drive = Drive::nudged(pattern.input.view(), target.view());
        for _ in 0..per {
            let i = sim.n();
            sim.step(&drive)
                .map_err(|source| RunError::Solve { seed, source })?;
            let record_trace = variant == "microcircuit" && (i < window || i >= total - window);
            if record_trace || sim.n() % every == 0 {
                observe(&sim, &drive, &mut ws);
            }
            if record_trace {
                let when = if i < window { "before" } else { "after" };
                record_traces(&sim, &ws, &drive, when, series);
            }
            if sim.n() % every == 0 {
                let net = sim.net();
                series.push(
                    variant,
                    sim.t(),
                    "apical_norm",
                    -1,
                    -1,
                    apical_norm(net, &ws),
                );
                let m = interneuron_mismatch(net, sim.state());
                series.push(variant, sim.t(), "interneuron_mismatch", -1, -1, m);
            }
        }
        if (pat + 1) % p.test_every == 0 && pat + 1 < p.patterns {
            recent.push(test(&sim, series)?);
        }
        if let Some(pb) = progress {
            pb.inc(1);
        }
    }
    let last_error = test(&sim, series)?;
    recent.push(last_error);
    // The final error is the mean of the last (up to) 5 tests, a smoothing like the
    // paper's exponential moving average; the last test alone is kept beside it.
    let tail = &recent[recent.len().saturating_sub(5)..];
    let final_error = tail.iter().sum::<f64>() / tail.len() as f64;
    let summary = &mut out.summary;
    num(summary, &format!("test_error_{variant}_last"), last_error);
    num(
        summary,
        &format!("test_error_{variant}_initial"),
        initial_error,
    );
    num(summary, &format!("test_error_{variant}"), final_error);
    if variant == "microcircuit" {
        let angle = alignment_angle_deg(sim.net(), sim.state(), 1);
        num(summary, "alignment_angle_deg", angle);
    }
    Ok(sim)
}

/// Backprop and feedback alignment on the microcircuit's feed-forward limit, one step per
/// pattern of the same sequence, tested as the microcircuit is.
fn feed_forward_baselines(
    scenario: &Scenario,
    task: &Task,
    tests: &TestSet,
    eta: &[f64],
    seed: u64,
    out: &mut Outputs,
) -> Result<(), RunError> {
    use crate::baseline::{Credit, FeedForward};
    let p = &scenario.protocol;
    let n0 = scenario.network.sizes[0];
    let n = scenario.network.n_layers();
    let (net, state) = initial_network(scenario.network.clone(), 1, scenario, seed)?;
    for (variant, credit) in [
        ("backprop", Credit::Backprop),
        ("feedback_alignment", Credit::FeedbackAlignment),
    ] {
        let mut ff = FeedForward::from_microcircuit(&net, &state);
        let mut rng = Rng::derived(seed, stream::PATTERNS);
        let per_ms = p.pattern_ms;
        let test = |ff: &FeedForward, t: f64, series: &mut TimeSeries| -> f64 {
            let r = ff.forward(&tests.inputs).r[n].clone();
            let err = r
                .iter()
                .zip(tests.r_targets.iter())
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
                / p.test_patterns as f64;
            series.push(variant, t, "test_error", n as i64, -1, err);
            if n >= 2 {
                let angle =
                    crate::experiment::probe::angle_deg(&ff.w[1], &ff.feedback[0].t().to_owned());
                series.push(variant, t, "alignment_angle_deg", 1, -1, angle);
            }
            err
        };
        test(&ff, 0.0, &mut out.series);
        let mut recent = Vec::new();
        for pat in 0..p.patterns {
            let pattern = task.pattern(n0, &mut rng);
            let target = pattern.target.expect("teacher targets");
            ff.step(&pattern.input, &target, credit, eta, scenario.network.bias);
            if (pat + 1) % p.test_every == 0 || pat + 1 == p.patterns {
                recent.push(test(&ff, (pat + 1) as f64 * per_ms, &mut out.series));
            }
        }
        let tail = &recent[recent.len().saturating_sub(5)..];
        num(
            &mut out.summary,
            &format!("test_error_{variant}"),
            tail.iter().sum::<f64>() / tail.len() as f64,
        );
    }
    Ok(())
}
