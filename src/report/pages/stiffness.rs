//! The stiffness page: cost against stiffness, explicit against implicit.

use super::common::*;
use crate::experiment::scenario::StudyConfig;
use crate::report::error::{ReportError, ReportResult};
use crate::report::page::{Inputs, Page};
use crate::report::plot::{Chart, Line};

/// Median over seeds of each method's wall time to reach the target error, by stiffness factor
/// (only the points where it was reached).
pub(super) fn stiff_chart(table: &polars::prelude::DataFrame, stem: &str) -> ReportResult<Chart> {
    let mut lines = Vec::new();
    for m in crate::experiment::stiffness::METHODS {
        let rows = table_rows(
            table,
            &[("table", "cost"), ("method", m.name())],
            &["factor", "wall_time_s", "reached"],
        )?;
        let mut by_factor: std::collections::BTreeMap<u64, Vec<f64>> = Default::default();
        for r in rows.iter().filter(|r| r[2] > 0.5) {
            by_factor.entry(r[0].to_bits()).or_default().push(r[1]);
        }
        let mut pts: Vec<(f64, f64)> = by_factor
            .into_iter()
            .map(|(s, mut w)| {
                w.sort_by(f64::total_cmp);
                (f64::from_bits(s), w[w.len() / 2])
            })
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        lines.push(Line::new(m.name(), pts));
    }
    Ok(loglog(
        stem,
        "Wall time to reach the target error, by stiffness (median over seeds)",
        "stiffness factor s (g_B, g_A, g_D, g_som × s)",
        "wall time (s)",
        lines,
    ))
}

/// When the implicit method pays: per stiffness factor, each method's wall time to reach the
/// target error (issue 21).
pub(super) fn stiffness(inputs: &Inputs) -> ReportResult<Page> {
    let table = inputs.table.ok_or_else(|| {
        ReportError::Invalid("stiffness results have no table.parquet".to_string())
    })?;
    let mut metrics = Vec::new();
    for (col, unit, note) in STIFF_METRICS {
        metrics.push(metric_mean(inputs, col, col, unit, note));
    }
    let st = match &inputs.scenario.study {
        StudyConfig::Stiffness(s) => Some(s),
        _ => None,
    };
    for &f in st.map(|s| s.factors.as_slice()).unwrap_or(&[]) {
        metrics.push(metric_mean(inputs, &format!("speedup_s{f}"), &format!("speedup_s{f}"), "", &format!("s = {f}: fastest explicit method's time to the target error ÷ BDF2's (< 1: explicit is faster)")));
        metrics.push(metric_mean(
            inputs,
            &format!("speedup_ros2_s{f}"),
            &format!("speedup_ros2_s{f}"),
            "",
            &format!("s = {f}: the same for ROS2"),
        ));
    }
    let mut charts = vec![stiff_chart(table, "wall_time_vs_stiffness")?];
    let mut by_cost = Vec::new();
    let last = st
        .and_then(|s| s.factors.last().copied())
        .unwrap_or(f64::NAN);
    for m in crate::experiment::stiffness::METHODS {
        let pts: Vec<(f64, f64)> = table_rows(
            table,
            &[("table", "attempt"), ("method", m.name())],
            &["factor", "seed", "rhs_evaluations", "error"],
        )?
        .into_iter()
        .filter(|r| r[0] == last && r[1] == 1.0)
        .map(|r| (r[2], r[3]))
        .collect();
        by_cost.push(Line::new(m.name(), sorted(pts)));
    }
    charts.push(loglog(
        "work_precision_stiffest",
        &format!("Work–precision at the stiffest factor s = {last} (seed 1)"),
        "right-hand-side evaluations",
        "max |y − y_ref| at t = T",
        by_cost,
    ));
    Ok(Page {
        figure: None,
        heatmaps: Vec::new(),
        images: Vec::new(),
        metrics,
        charts,
        table: None,
        notes: vec![
            "Every run starts on the slow manifold: the potentials settled (Newton) for the initial weights and the input filter's start r₀ = 0, the target on. From rest, the potentials' initial layer (~1/(s g) ms) is resolved by no step of interest, and the plastic weights, which read the potentials, keep an error of it that no smaller step removes (measured at s = 1024: BDF2 levels off at 8e-7, ROS2 falls only like h; tests/core/stiff.rs).".into(),
            "Fixed-step methods try dt = coarsest_dt, /2, /4, … until the error at t = T is below the target or max_steps is exceeded (then marked not reached; their cost is at least the time of their finest run). Dopri5 tries its tolerances from the loosest. The time reported is the median of the repetitions of the cheapest sufficient setting; the dt limits are the predicted ones at the free fixed point.".into(),
            "ROS2 is a Rosenbrock–W method: its Jacobian holds the potentials' analytic block, the input filter's, and the coupling to the plastic weights by two block-Jacobi sweeps (without them it falls to first order here). BDF2 solves its implicit equation by simplified Newton with the same matrix.".into(),
        ],
    })
}

pub(super) const STIFF_METRICS: [(&str, &str, &str); 3] = [
    (
        "implicit_stable_dt_over_euler_limit",
        "",
        "largest dt ÷ Euler's predicted limit at which ROS2 damps a perturbation of the fixed point, stiffest factor (capped at the largest ratio tried)",
    ),
    (
        "stiff_speedup_implicit_over_best_explicit",
        "",
        "wall time of the fastest explicit method (euler, rk4, exponential_euler, dopri5) to reach the target error ÷ ROS2's, stiffest factor",
    ),
    (
        "euler_dt_limit_stiffest",
        "ms",
        "Euler's predicted largest stable dt at the stiffest factor",
    ),
];
