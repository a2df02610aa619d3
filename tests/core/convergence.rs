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
