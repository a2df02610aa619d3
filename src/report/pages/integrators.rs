//! The integrators page: orders, work–precision, stability limits, steady-state solvers.

use polars::prelude::DataFrame;

use super::common::*;
use super::stiffness::{STIFF_METRICS, stiff_chart};
use crate::experiment::scenario::StudyConfig;
use crate::report::data::{mean_sd, summary_values};
use crate::report::error::{ReportError, ReportResult};
use crate::report::page::{Inputs, Metric, Page};
use crate::report::plot::{Chart, Line};

const METHODS: [(&str, f64, &str); 6] = [
    ("euler", 1.0, "the network"),
    ("rk4", 4.0, "the network"),
    ("exponential_euler", 1.0, "the network"),
    (
        "dopri5",
        5.0,
        "the analytic oracle (one compartment relaxing exponentially), controller off",
    ),
    ("ros2", 2.0, "the network"),
    ("bdf2", 2.0, "the network"),
];

/// The fitted orders, with and without plasticity, against theory.
fn order_metrics(inputs: &Inputs) -> Vec<Metric> {
    let mut metrics = Vec::new();
    for (m, p, on) in METHODS {
        let mut metric = metric_mean(
            inputs,
            &format!("order_{m}"),
            &format!("order_{m}"),
            "",
            &format!(
                "fitted log–log slope of the error at t = T against dt on {on}, weights frozen"
            ),
        );
        metric.note.push_str(&format!("; theory {p}"));
        metrics.push(metric);
    }
    metrics.push(metric_mean(inputs, "order_dopri5_network", "order_dopri5_network", "", "Dormand–Prince with its controller off on the network, dt 0.8 … 0.1 ms: its errors reach round-off before the asymptotic regime, so the fit is steeper than 5"));
    metrics.push(metric_mean(
        inputs,
        "order_implicit",
        "order_implicit",
        "",
        "the implicit method (BDF2), as order_bdf2; theory 2",
    ));
    for (m, _, _) in METHODS {
        let col = if m == "dopri5" {
            "order_dopri5_network_plastic".to_string()
        } else {
            format!("order_{m}_plastic")
        };
        metrics.push(metric_mean(
            inputs,
            &col,
            &col,
            "",
            "the same on the network with every plasticity rule on (weights and traces integrated)",
        ));
    }
    metrics
}

/// Every headline number: orders, Dopri5's tolerance slope, stability limits, the two-pass
/// slope over g_A, and the stiffness study's numbers when its results are there.
fn integrator_metrics(inputs: &Inputs, stiff: Option<&DataFrame>) -> Vec<Metric> {
    let mut metrics = order_metrics(inputs);
    for (col, note) in [
        (
            "dopri5_error_tolerance_slope",
            "Dormand–Prince with its PI controller: fitted log–log slope of the error at t = T against the tolerance (rtol = atol), weights frozen; 1 means the error tracks the tolerance",
        ),
        (
            "dopri5_error_tolerance_slope_plastic",
            "the same with every plasticity rule on",
        ),
    ] {
        metrics.push(metric_mean(inputs, col, col, "", note));
    }
    for m in ["euler", "rk4"] {
        metrics.push(metric_mean(inputs, &format!("stability_limit_ratio_{m}"), &format!("stability_limit_ratio_{m}"), "", "observed ÷ predicted largest stable dt (prediction from the Jacobian's eigenvalues at the fixed point)"));
        metrics.push(metric_mean(
            inputs,
            &format!("predicted_dt_limit_{m}"),
            &format!("predicted_dt_limit_{m}"),
            "ms",
            "predicted largest stable dt",
        ));
    }
    metrics.push(metric_mean(
        inputs,
        "two_pass_error_slope_g_a",
        "two_pass_error_slope_g_a",
        "",
        "fitted log–log slope of the two-pass scheme's error (against Newton) over g_A",
    ));
    if let Some(summary) = stiff {
        for (col, unit, note) in STIFF_METRICS {
            let v = summary_values(summary, col);
            let (m, sd) = mean_sd(&v);
            if m.is_finite() {
                metrics.push(Metric::new(
                    col,
                    m,
                    unit,
                    &format!("{note}; from results/stiff ({} seeds, sd {sd:.3})", v.len()),
                ));
            }
        }
    }
    metrics
}

/// Error against a cost (right-hand sides or wall time), sorted by cost.
fn against(err: &[(f64, f64)], cost: &[(f64, f64)]) -> Vec<(f64, f64)> {
    sorted(
        err.iter()
            .zip(cost)
            .map(|(&(_, e), &(_, c))| (c, e))
            .collect(),
    )
}

/// Error against dt, against right-hand sides and wall time (work–precision), and Dopri5's
/// error against its tolerance, for `weights` frozen or plastic.
fn work_precision_charts(table: &DataFrame, weights: &str) -> ReportResult<Vec<Chart>> {
    let mut charts = Vec::new();
    let mut by_dt = Vec::new();
    let mut by_cost = Vec::new();
    let mut by_wall = Vec::new();
    for (m, _, _) in METHODS {
        let f = [
            ("table", "convergence"),
            ("method", m),
            ("weights", weights),
        ];
        let err = table_xy(table, &f, "dt", "error")?;
        let evals = table_xy(table, &f, "dt", "rhs_evaluations")?;
        let wall = table_xy(table, &f, "dt", "wall_time_s")?;
        let name = if m == "dopri5" {
            "dopri5 (fixed dt)"
        } else {
            m
        };
        by_dt.push(Line::new(name, err.clone()));
        by_cost.push(Line::new(name, against(&err, &evals)));
        by_wall.push(Line::new(name, against(&err, &wall)));
    }
    let f = [
        ("table", "work_precision"),
        ("method", "dopri5"),
        ("weights", weights),
    ];
    let err = table_xy(table, &f, "tolerance", "error")?;
    let evals = table_xy(table, &f, "tolerance", "rhs_evaluations")?;
    let wall = table_xy(table, &f, "tolerance", "wall_time_s")?;
    by_cost.push(Line::new(
        "dopri5 (adaptive, over rtol)",
        against(&err, &evals),
    ));
    by_wall.push(Line::new(
        "dopri5 (adaptive, over rtol)",
        against(&err, &wall),
    ));
    charts.push(loglog(
        &format!("error_vs_dt_{weights}"),
        &format!("Error at t = T against dt ({weights} weights)"),
        "dt (ms)",
        "max |y − y_ref|",
        by_dt,
    ));
    charts.push(loglog(
        &format!("error_vs_cost_{weights}"),
        &format!("Work–precision: error against right-hand sides ({weights} weights)"),
        "right-hand-side evaluations",
        "max |y − y_ref|",
        by_cost,
    ));
    charts.push(loglog(
        &format!("error_vs_wall_{weights}"),
        &format!("Work–precision: error against wall time ({weights} weights)"),
        "wall time (s)",
        "max |y − y_ref|",
        by_wall,
    ));
    let ideal: Vec<(f64, f64)> = err.iter().map(|&(t, _)| (t, t)).collect();
    charts.push(loglog(
        &format!("error_vs_tolerance_{weights}"),
        &format!("Dormand–Prince: achieved error against tolerance ({weights} weights)"),
        "rtol = atol",
        "max |y − y_ref|",
        vec![
            Line::new("dopri5", err.clone()),
            Line::dashed("error = tolerance", ideal),
        ],
    ));
    Ok(charts)
}

/// The steady-state solvers' error against Newton over g_A.
fn steady_chart(table: &DataFrame) -> ReportResult<Chart> {
    let two = table_xy(table, &[("table", "steady_state")], "g_a", "two_pass_error")?;
    let fp = table_xy(
        table,
        &[("table", "steady_state")],
        "g_a",
        "fixed_point_error",
    )?;
    Ok(chart(
        "steady_state_vs_g_a",
        "Steady-state solvers against Newton, by g_A",
        "log10 g_A (1/ms)",
        "max |u − u_Newton|",
        vec![
            Line::new(
                "two-pass",
                two.iter().map(|&(g, e)| (g.log10(), e)).collect(),
            ),
            Line::new(
                "fixed point",
                fp.iter().map(|&(g, e)| (g.log10(), e.max(1e-17))).collect(),
            ),
        ],
        true,
    ))
}

/// Predicted against observed stability limits, per seed.
fn stability_table(table: &DataFrame) -> ReportResult<String> {
    let mut t = String::from(
        "<h2>Stability limits</h2><table><tr><th>method</th><th>predicted dt (ms)</th><th>observed dt (ms)</th><th>ratio</th></tr>",
    );
    for m in ["euler", "rk4"] {
        let p = table_xy(
            table,
            &[("table", "stability"), ("method", m)],
            "seed",
            "predicted_dt_limit",
        )?;
        let o = table_xy(
            table,
            &[("table", "stability"), ("method", m)],
            "seed",
            "observed_dt_limit",
        )?;
        for (a, b) in p.iter().zip(&o) {
            t.push_str(&format!(
                "<tr><td>{m} (seed {})</td><td>{:.5}</td><td>{:.5}</td><td>{:.4}</td></tr>",
                a.0,
                a.1,
                b.1,
                b.1 / a.1
            ));
        }
    }
    t.push_str("</table>");
    Ok(t)
}

/// Integrators: orders, work–precision, stability limits, steady-state solvers.
pub(super) fn integrators(inputs: &Inputs) -> ReportResult<Page> {
    let table = inputs.table.ok_or_else(|| {
        ReportError::Invalid("integrators results have no table.parquet".to_string())
    })?;
    let stiff = sibling(inputs, "stiff")?;
    let metrics = integrator_metrics(inputs, stiff.as_ref().map(|s| &s.0));
    let mut charts = Vec::new();
    for weights in ["frozen", "plastic"] {
        charts.extend(work_precision_charts(table, weights)?);
    }
    if let Some((_, Some(stiff_table))) = &stiff {
        charts.push(stiff_chart(stiff_table, "stiff_wall_time")?);
    }
    charts.push(steady_chart(table)?);
    Ok(Page {
        figure: None,
        heatmaps: Vec::new(),
        images: Vec::new(),
        metrics,
        charts,
        table: Some(stability_table(table)?),
        notes: vec![format!(
            "Errors are the largest absolute difference over the whole integrated state (potentials, input filter, plastic weights and traces) against RK4 at dt/{}; points below {:e} (round-off) are left out of the fits. \
             The observed stability limit is found by bisection on dt: the largest dt for which a 10⁻⁶ perturbation of the fixed point shrinks over the run (with a saturating φ the potentials stay bounded above the limit, but the fixed point loses stability).",
            match &inputs.scenario.study {
                StudyConfig::Integrators(i) => i.reference_refinement,
                _ => 0,
            },
            crate::experiment::integrators::ROUND_OFF
        ),
        "Methods: euler (Euler–Maruyama), rk4, exponential_euler, dopri5 (Dormand–Prince 5(4), PI step control, dense output: records fall on the output grid whatever its internal steps), ros2 (the L-stable Rosenbrock–W method of Verwer et al. 1999) and bdf2 (second-order BDF, simplified Newton). The work–precision diagrams put the fixed-step methods over dt and Dormand–Prince with its controller over the tolerance on one plot: the method whose curve lies lowest for a given cost is the one to choose at that accuracy.".into(),
        "The stiffness sweep (scenarios/stiff.toml, its own page) stiffens the dendritic coupling until the explicit methods' stable dt is far below what an error of 1e-6 needs; its headline numbers are quoted above and its wall-time plot is the last figure here.".into()],
    })
}
