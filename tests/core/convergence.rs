//! Convergence order: error at t = 20 ms against a fine reference, over halvings of dt.

use dendritic::model::{Drive, NetworkConfig, State, TopDown, Transfer};
use dendritic::solve::MethodKind;

use crate::common::*;

/// A 3-layer network (6-5-4), frozen U(−1, 1) weights, logistic φ, input low-pass τ_in = 10 ms
/// (so the dynamics are still moving at t = 20 ms), output nudged towards a target.
fn fixture() -> (
    dendritic::model::Network,
    State,
    ndarray::Array2<f64>,
    ndarray::Array2<f64>,
) {
    let mut config = NetworkConfig::new(&[6, 5, 4]);
    config.phi = Transfer::Logistic;
    config.tau_in = 10.0;
    let (net, state) = network(config, 1, 1.0, TopDown::Random, false, 11);
    let input = uniform(1, 6, 0.0, 1.0, 12);
    let target = uniform(1, 4, -1.0, 1.0, 13);
    (net, state, input, target)
}

fn error_at_20ms(kind: MethodKind, dt: f64, reference: &[f64]) -> f64 {
    let (net, mut state, input, target) = fixture();
    let drive = Drive::nudged(input.view(), target.view());
    let mut m = kind.build(&net, 0).unwrap();
    let steps = (20.0 / dt).round() as usize;
    integrate(m.as_mut(), &net, &mut state, &drive, dt, steps);
    max_diff(&state.y, reference, net.layout.n_potentials)
}

fn reference(dt: f64) -> Vec<f64> {
    let (net, mut state, input, target) = fixture();
    let drive = Drive::nudged(input.view(), target.view());
    let mut m = MethodKind::Rk4.build(&net, 0).unwrap();
    integrate(
        m.as_mut(),
        &net,
        &mut state,
        &drive,
        dt,
        (20.0 / dt).round() as usize,
    );
    state.y
}

#[test]
fn euler_is_first_order() {
    // Reference: RK4 at dt = 1/3200 ms, whose error (~dt⁴) is far below Euler's smallest (~1e-5).
    let reference = reference(1.0 / 3200.0);
    let dts = [0.1, 0.05, 0.025, 0.0125];
    let errs: Vec<f64> = dts
        .iter()
        .map(|&dt| error_at_20ms(MethodKind::Euler, dt, &reference))
        .collect();
    let slope = loglog_slope(&dts, &errs);
    eprintln!("euler errors {errs:?} slope {slope}");
    assert!(
        (slope - 1.0).abs() <= 0.1,
        "Euler order {slope}, errors {errs:?}"
    );
}

#[test]
fn exponential_euler_is_first_order() {
    let reference = reference(1.0 / 3200.0);
    let dts = [0.1, 0.05, 0.025, 0.0125];
    let errs: Vec<f64> = dts
        .iter()
        .map(|&dt| error_at_20ms(MethodKind::ExponentialEuler, dt, &reference))
        .collect();
    let slope = loglog_slope(&dts, &errs);
    eprintln!("exponential euler errors {errs:?} slope {slope}");
    assert!(
        (slope - 1.0).abs() <= 0.1,
        "exponential Euler order {slope}, errors {errs:?}"
    );
}

#[test]
fn rk4_is_fourth_order() {
    // Reference: RK4 at dt = 0.2/64; its error is (1/64)⁴ ≈ 6e-8 of the coarsest run's.
    let reference = reference(0.2 / 64.0);
    let dts = [0.2, 0.1, 0.05, 0.025];
    let errs: Vec<f64> = dts
        .iter()
        .map(|&dt| error_at_20ms(MethodKind::Rk4, dt, &reference))
        .collect();
    let slope = loglog_slope(&dts, &errs);
    eprintln!("rk4 errors {errs:?} slope {slope}");
    assert!(
        errs.iter().all(|&e| e > 1e-13),
        "errors reached round-off: {errs:?}"
    );
    assert!(
        (slope - 4.0).abs() <= 0.3,
        "RK4 order {slope}, errors {errs:?}"
    );
}

/// The fixture integrated by `method` to each time of `grid` (ms), the states there.
fn trajectory(
    method: &mut dyn dendritic::solve::Method,
    grid_dt: f64,
    t_end: f64,
) -> Vec<Vec<f64>> {
    let (net, mut state, input, target) = fixture();
    let drive = Drive::nudged(input.view(), target.view());
    let steps = (t_end / grid_dt).round() as usize;
    let mut out = Vec::with_capacity(steps);
    for n in 0..steps {
        method
            .step(&net, &mut state, &drive, n as f64 * grid_dt, grid_dt)
            .expect("no divergence");
        out.push(state.y.clone());
    }
    out
}

fn net_only() -> dendritic::model::Network {
    fixture().0
}

#[test]
fn dopri5_error_tracks_the_tolerance() {
    use dendritic::solve::{Control, Dopri5, Method, Tolerances};
    // Local extrapolation with error-per-step control: the global error is proportional to the
    // tolerance (slope 1 on a log–log fit), over five decades here.
    let reference = reference(1.0 / 6400.0);
    let net = net_only();
    let tols = [1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9];
    let mut errs = Vec::new();
    let mut steps = Vec::new();
    for &tol in &tols {
        let mut m = Dopri5::new(&net, Control::Adaptive(Tolerances::both(tol))).unwrap();
        // One call for the whole interval: the controller alone picks the steps.
        let last = trajectory(&mut m, 20.0, 20.0).pop().unwrap();
        errs.push(max_diff(&last, &reference, net.layout.n_potentials));
        steps.push(m.statistics().steps);
    }
    let slope = loglog_slope(&tols, &errs);
    eprintln!("dopri5 adaptive errors {errs:?} steps {steps:?} slope {slope}");
    assert!(
        (slope - 1.0).abs() <= 0.2,
        "error–tolerance slope {slope}, errors {errs:?}"
    );
    // And the work grows like tol^(−1/5).
    assert!(steps.windows(2).all(|w| w[1] > w[0]), "steps {steps:?}");
}

#[test]
fn dopri5_records_on_the_output_grid_match_a_fine_reference() {
    use dendritic::solve::{Control, Dopri5, Method, Rk4, Tolerances};
    // Records every 0.1 ms from the continuous extension, while the controller takes steps of
    // its own (far fewer than the records): each within 10 × rtol of RK4 at dt = 0.1/64.
    let net = net_only();
    let rtol = 1e-7;
    let mut m = Dopri5::new(&net, Control::Adaptive(Tolerances { rtol, atol: rtol })).unwrap();
    let dense = trajectory(&mut m, 0.1, 20.0);
    let internal = m.statistics().steps;
    let mut fine = Rk4::new(&net).unwrap();
    let np = net.layout.n_potentials;
    let (netf, mut state, input, target) = fixture();
    let drive = Drive::nudged(input.view(), target.view());
    let mut worst: f64 = 0.0;
    for (n, rec) in dense.iter().enumerate() {
        integrate_from(
            &mut fine,
            &netf,
            &mut state,
            &drive,
            n as f64 * 0.1,
            0.1 / 64.0,
            64,
        );
        worst = worst.max(max_diff(rec, &state.y, np));
    }
    eprintln!(
        "dense output: {} records from {internal} internal steps, worst {worst:e}",
        dense.len()
    );
    assert!(
        internal < dense.len() as u64 / 2,
        "{internal} internal steps"
    );
    assert!(
        worst <= 10.0 * rtol,
        "worst record error {worst:e} > 10 rtol"
    );
    // The records do not depend on the output grid: every 1 ms, the same internal steps and
    // the same values (to the rounding of t = 30 × 0.1 against 3 × 1.0 in the interpolant).
    let mut coarse = Dopri5::new(&net, Control::Adaptive(Tolerances { rtol, atol: rtol })).unwrap();
    let every_ms = trajectory(&mut coarse, 1.0, 20.0);
    for (i, rec) in every_ms.iter().enumerate() {
        let d = max_diff(rec, &dense[10 * i + 9], rec.len());
        assert!(d < 1e-14, "record at {} ms differs by {d:e}", i + 1);
    }
    assert_eq!(coarse.statistics().steps, internal);
}

#[test]
fn ros2_is_second_order_with_a_fresh_or_a_stale_jacobian() {
    use dendritic::solve::Ros2;
    let reference = reference(1.0 / 6400.0);
    let net = net_only();
    let dts = [0.05, 0.025, 0.0125, 0.00625];
    for interval in [1, 8] {
        let errs: Vec<f64> = dts
            .iter()
            .map(|&dt| {
                let mut m = Ros2::new(&net).unwrap().with_jacobian_interval(interval);
                let last = trajectory(&mut m, dt, 20.0).pop().unwrap();
                max_diff(&last, &reference, net.layout.n_potentials)
            })
            .collect();
        let slope = loglog_slope(&dts, &errs);
        eprintln!("ros2 (Jacobian every {interval} steps) errors {errs:?} slope {slope}");
        assert!(
            (slope - 2.0).abs() <= 0.2,
            "ROS2 order {slope} (interval {interval}), errors {errs:?}"
        );
    }
}
