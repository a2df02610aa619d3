//! The stiffness study (`scenarios/stiff.toml`): when does the implicit method pay?
//!
//! The dendritic coupling is stiffened by a factor s: g_B, g_A, g_D and g_som are multiplied by
//! s, g_lk is not. The potentials then relax onto the slow manifold set by the input low-pass
//! (τ_in) and the plastic weights within ~1/(s·g), so the explicit methods' stable dt shrinks
//! like 1/s while the solution itself stays as smooth as before. Exponential Euler is exact for
//! each compartment's own decay but explicit in the coupling between compartments (dendrites,
//! interneuron nudging), which is what grows here.
//!
//! Every run starts on the slow manifold (the potentials settled for the initial weights and
//! the filter's start); see [`onto_manifold`] for why.
//!
//! For every s and every method the study finds the cheapest setting that reaches
//! `target_error` (the largest |y − y_ref| over the whole state at t = `duration_ms`, against
//! RK4 at a step far below its stability limit): the fixed-step methods over dt halvings from
//! `coarsest_dt` (stopping at `max_steps`), Dopri5 over its tolerances. The wall time of that
//! setting (median of `repetitions`) is the method's cost at s. At the stiffest s it also finds
//! how far above Euler's predicted stability limit the implicit method (BDF2) stays stable (a
//! 10⁻⁶ perturbation of the fixed point shrinks).
//!
//! Summary rows: `implicit_stable_dt_over_euler_limit`, `stiff_speedup_implicit_over_best_explicit`
//! (the fastest of euler, rk4, exponential_euler and dopri5 that reached the target, ÷ BDF2's
//! time, at the stiffest s), `euler_dt_limit_stiffest` and, per factor, `speedup_s<factor>`
//! (BDF2) and `speedup_ros2_s<factor>`.

use std::time::Instant;

use indicatif::ProgressBar;

use super::integrators::shrinks;
use crate::analysis::stability::dt_limit;
use crate::experiment::protocol::{
    RunError, RunOutput, initial_network, num, num_if_defined, single_association, text,
};
use crate::experiment::scenario::{Scenario, Stiffness};
use crate::model::{Drive, Network, NetworkConfig, Plasticity, State, Workspace};
use crate::record::{SummaryRow, TimeSeries};
use crate::solve::{
    Bdf2, Method, MethodKind, Ros2, Simulation, SolveError, SteadyStateConfig, Tolerances,
};

/// Ratios dt / (Euler's predicted limit) tried for ROS2's stability, ascending.
pub const STABILITY_RATIOS: [f64; 9] = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 300.0, 1000.0];

/// The methods compared: four explicit, then the implicit ones (BDF2 is "the implicit
/// method" of the headline speedup; ROS2 is reported beside it).
pub const METHODS: [MethodKind; 6] = [
    MethodKind::Euler,
    MethodKind::Rk4,
    MethodKind::ExponentialEuler,
    MethodKind::Dopri5,
    MethodKind::Ros2,
    MethodKind::Bdf2,
];

/// The implicit method of the headline numbers.
pub const IMPLICIT: MethodKind = MethodKind::Bdf2;

/// The network with its dendritic coupling stiffened by `s` (g_B, g_A, g_D, g_som × s).
pub fn stiffen(config: &NetworkConfig, s: f64) -> NetworkConfig {
    let mut c = config.clone();
    c.conductances.g_b *= s;
    c.conductances.g_a *= s;
    c.conductances.g_d *= s;
    c.conductances.g_som *= s;
    c
}

/// One timed integration to `duration_ms` on a uniform output grid of `dt`.
struct Attempt {
    error: f64,
    wall_s: f64,
    stats: crate::solve::Statistics,
}

fn attempt(
    method: &mut (dyn Method + 'static),
    net: &Network,
    state0: &State,
    drive: &Drive,
    dt: f64,
    steps: u64,
    reference: &[f64],
) -> Attempt {
    let mut s = state0.clone();
    let started = Instant::now();
    let failed = Simulation::new(net, &mut s, &mut *method, dt)
        .and_then(|mut sim| sim.run(steps, drive, &mut []))
        .is_err();
    let wall_s = started.elapsed().as_secs_f64();
    let error = if failed {
        f64::INFINITY
    } else {
        s.y.iter()
            .zip(reference)
            .map(|(a, b)| (a - b).abs())
            .fold(
                0.0,
                |m: f64, d| if d.is_nan() { f64::INFINITY } else { m.max(d) },
            )
    };
    Attempt {
        error,
        wall_s,
        stats: method.statistics(),
    }
}

fn build(
    kind: MethodKind,
    net: &Network,
    tol: f64,
    interval: u64,
) -> Result<Box<dyn Method>, SolveError> {
    Ok(match kind {
        MethodKind::Ros2 => Box::new(Ros2::new(net)?.with_jacobian_interval(interval)),
        MethodKind::Bdf2 => Box::new(Bdf2::new(net)?.with_jacobian_interval(interval)),
        k => k.build_with(net, 0, Tolerances::both(tol))?,
    })
}

/// What one method costs at one stiffness.
struct Cost {
    reached: bool,
    /// The setting (dt, or the tolerance for Dopri5) of the cheapest sufficient run, or of the
    /// finest run tried.
    setting: f64,
    wall_s: f64,
}

/// The table row of one method's cost at factor s.
fn cost_row(kind: MethodKind, s: f64, cost: &Cost, limits: (f64, f64), seed: u64) -> SummaryRow {
    let mut row = SummaryRow::new();
    text(&mut row, "table", "cost");
    text(&mut row, "method", kind.name());
    num(&mut row, "factor", s);
    num(&mut row, "setting", cost.setting);
    num(&mut row, "wall_time_s", cost.wall_s);
    num(&mut row, "reached", if cost.reached { 1.0 } else { 0.0 });
    num(&mut row, "euler_dt_limit", limits.0);
    num(&mut row, "rk4_dt_limit", limits.1);
    num(&mut row, "seed", seed as f64);
    row
}

/// The fastest explicit method's time to the target ÷ `kind`'s (NaN when either did not
/// reach it).
fn speedup_of(costs: &[(MethodKind, Cost)], kind: MethodKind) -> f64 {
    let best_explicit = costs
        .iter()
        .filter(|c| c.0.is_explicit() && c.1.reached)
        .map(|c| c.1.wall_s)
        .fold(f64::INFINITY, f64::min);
    match costs.iter().find(|c| c.0 == kind) {
        Some((_, c)) if c.reached && best_explicit.is_finite() => best_explicit / c.wall_s,
        _ => f64::NAN,
    }
}

/// Runs the study for one seed.
pub fn run(
    scenario: &Scenario,
    st: &Stiffness,
    seed: u64,
    progress: Option<&ProgressBar>,
) -> Result<RunOutput, RunError> {
    let (input, target) = single_association(scenario, seed)?;
    let (input, target) = (&input, &target);
    let drive = Drive::nudged(input.view(), target.view());
    let solve = |source| RunError::Solve { seed, source };
    let mut table = Vec::new();
    let mut summary = SummaryRow::new();
    let mut speedup_last = f64::NAN;
    for &s in &st.factors {
        let config = stiffen(&scenario.network, s);
        let (net, mut state0) = initial_network(config.clone(), 1, scenario, seed)?;
        onto_manifold(scenario, &config, &net, &mut state0, target, seed)?;
        // Stability limits at the free fixed point (weights frozen).
        let limits = stability_limits(scenario, &config, input, seed)?;
        let h_ref = st.reference_dt.min(limits.1 / 8.0);
        let ref_steps = (st.duration_ms / h_ref).ceil() as u64;
        let h_ref = st.duration_ms / ref_steps as f64;
        let mut reference = state0.clone();
        let rk4 = MethodKind::Rk4.build(&net, 0).map_err(solve)?;
        Simulation::new(&net, &mut reference, rk4, h_ref)
            .and_then(|mut sim| sim.run(ref_steps, &drive, &mut []))
            .map_err(solve)?;
        let mut costs = Vec::new();
        for kind in METHODS {
            let cost = cost(
                kind,
                st,
                &net,
                &state0,
                &drive,
                &reference.y,
                s,
                seed,
                &mut table,
            )
            .map_err(solve)?;
            table.push(cost_row(kind, s, &cost, limits, seed));
            costs.push((kind, cost));
            if let Some(pb) = progress {
                pb.inc(1);
            }
        }
        let speedup = speedup_of(&costs, IMPLICIT);
        num_if_defined(&mut summary, &format!("speedup_s{s}"), speedup);
        num_if_defined(
            &mut summary,
            &format!("speedup_ros2_s{s}"),
            speedup_of(&costs, MethodKind::Ros2),
        );
        speedup_last = speedup;
        if st.factors.last() == Some(&s) {
            num(&mut summary, "euler_dt_limit_stiffest", limits.0);
            num(&mut summary, "rk4_dt_limit_stiffest", limits.1);
            let ratio = ros2_stable_ratio(scenario, &config, st, input, seed, limits.0)?;
            num(&mut summary, "implicit_stable_dt_over_euler_limit", ratio);
        }
    }
    num_if_defined(
        &mut summary,
        "stiff_speedup_implicit_over_best_explicit",
        speedup_last,
    );
    Ok(RunOutput {
        seed,
        series: TimeSeries::default(),
        summary,
        table,
        weights: None,
    })
}

/// The cheapest setting of `kind` that reaches the target error (see the module doc); every
/// run tried is a row of `table`.
#[allow(
    clippy::too_many_arguments,
    reason = "one method at one stiffness: the network, its start, the reference and the table"
)]
fn cost(
    kind: MethodKind,
    st: &Stiffness,
    net: &Network,
    state0: &State,
    drive: &Drive,
    reference: &[f64],
    s: f64,
    seed: u64,
    table: &mut Vec<SummaryRow>,
) -> Result<Cost, SolveError> {
    // (setting, dt of the output grid, steps)
    let settings: Vec<(f64, f64, u64)> = if kind == MethodKind::Dopri5 {
        st.tolerances
            .iter()
            .map(|&tol| (tol, st.duration_ms, 1))
            .collect()
    } else {
        let mut v = Vec::new();
        let mut dt = st.coarsest_dt;
        loop {
            let steps = (st.duration_ms / dt).round() as u64;
            if steps > st.max_steps {
                break;
            }
            v.push((dt, dt, steps));
            dt /= 2.0;
        }
        v
    };
    let mut last = Cost {
        reached: false,
        setting: f64::NAN,
        wall_s: f64::NAN,
    };
    for (setting, dt, steps) in settings {
        let mut m = build(kind, net, setting, st.jacobian_interval)?;
        let a = attempt(m.as_mut(), net, state0, drive, dt, steps, reference);
        let reached = a.error <= st.target_error;
        let mut row = SummaryRow::new();
        text(&mut row, "table", "attempt");
        text(&mut row, "method", kind.name());
        num(&mut row, "factor", s);
        num(&mut row, "setting", setting);
        num(&mut row, "error", a.error);
        num(&mut row, "steps", a.stats.steps as f64);
        num(&mut row, "rejected_steps", a.stats.rejected_steps as f64);
        num(&mut row, "rhs_evaluations", a.stats.rhs_evaluations as f64);
        num(
            &mut row,
            "jacobian_evaluations",
            a.stats.jacobian_evaluations as f64,
        );
        num(&mut row, "wall_time_s", a.wall_s);
        num(&mut row, "seed", seed as f64);
        table.push(row);
        last = Cost {
            reached,
            setting,
            wall_s: a.wall_s,
        };
        if reached {
            let mut walls = vec![a.wall_s];
            for _ in 1..st.repetitions {
                let mut m = build(kind, net, setting, st.jacobian_interval)?;
                walls.push(attempt(m.as_mut(), net, state0, drive, dt, steps, reference).wall_s);
            }
            walls.sort_by(f64::total_cmp);
            last.wall_s = walls[walls.len() / 2];
            break;
        }
    }
    Ok(last)
}

/// Settles the potentials of `state` (weights frozen at their initial values, the input filter
/// at its start r₀ = 0, the target on): a start on the slow manifold. From rest, the
/// potentials' initial layer (~1/(s g) ms) is resolved by no step of interest, and the weights,
/// which read the potentials, keep an error of it that no method removes by a smaller step
/// (tests/core/stiff.rs); starting on the manifold measures what the methods do on the time
/// scale of the solution.
fn onto_manifold(
    scenario: &Scenario,
    config: &NetworkConfig,
    net: &Network,
    state: &mut State,
    target: &ndarray::Array2<f64>,
    seed: u64,
) -> Result<(), RunError> {
    let mut frozen = config.clone();
    frozen.plasticity = Plasticity::default();
    let (fnet, mut settled) = initial_network(frozen, 1, scenario, seed)?;
    let rest = ndarray::Array2::<f64>::zeros((1, net.layout.sizes[0]));
    SteadyStateConfig::Newton {
        tolerance: 1e-9,
        maximum_iterations: 100,
    }
    .build(&fnet)
    .settle(
        &fnet,
        &mut settled,
        &Drive::nudged(rest.view(), target.view()),
    )
    .map_err(|source| RunError::Solve { seed, source })?;
    let np = net.layout.n_potentials;
    state.y[..np].copy_from_slice(&settled.y[..np]);
    Ok(())
}

/// The free fixed point (weights frozen, no target) of the stiffened network.
fn fixed_point(
    scenario: &Scenario,
    config: &NetworkConfig,
    input: &ndarray::Array2<f64>,
    seed: u64,
) -> Result<(Network, State), RunError> {
    let mut frozen = config.clone();
    frozen.plasticity = Plasticity::default();
    let (net, mut fixed) = initial_network(frozen, 1, scenario, seed)?;
    let free = Drive::free(input.view());
    net.bottom_up_pass(&mut fixed, &free, &mut Workspace::new(&net));
    SteadyStateConfig::Newton {
        tolerance: 1e-12,
        maximum_iterations: 100,
    }
    .build(&net)
    .settle(&net, &mut fixed, &free)
    .map_err(|source| RunError::Solve { seed, source })?;
    Ok((net, fixed))
}

/// Euler's and RK4's predicted largest stable dt at the free fixed point.
fn stability_limits(
    scenario: &Scenario,
    config: &NetworkConfig,
    input: &ndarray::Array2<f64>,
    seed: u64,
) -> Result<(f64, f64), RunError> {
    let (net, fixed) = fixed_point(scenario, config, input, seed)?;
    let free = Drive::free(input.view());
    Ok((
        dt_limit(MethodKind::Euler, &net, &fixed, &free, 0),
        dt_limit(MethodKind::Rk4, &net, &fixed, &free, 0),
    ))
}

/// The largest of [`STABILITY_RATIOS`] × Euler's limit at which the implicit method damps a
/// perturbation of the fixed point (all smaller ratios too).
fn ros2_stable_ratio(
    scenario: &Scenario,
    config: &NetworkConfig,
    st: &Stiffness,
    input: &ndarray::Array2<f64>,
    seed: u64,
    euler_limit: f64,
) -> Result<f64, RunError> {
    let (net, fixed) = fixed_point(scenario, config, input, seed)?;
    let free = Drive::free(input.view());
    let mut best = 0.0;
    for r in STABILITY_RATIOS {
        if shrinks(
            IMPLICIT,
            &net,
            &fixed,
            &free,
            r * euler_limit,
            st.stability_steps,
        ) {
            best = r;
        } else {
            break;
        }
    }
    Ok(best)
}
