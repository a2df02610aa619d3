//! Stability: the dt limit predicted from the Jacobian's eigenvalues separates bounded from
//! diverging runs, and divergence is an error naming time and layer.

use dendritic::analysis::stability::dt_limit;
use dendritic::model::{Drive, NetworkConfig, TopDown, Transfer};
use dendritic::solve::{MethodKind, SolveError, SteadyStateConfig};

use crate::common::*;

/// A 6-5-4 network with U(−0.5, 0.5) weights and no target, at its fixed point (Newton), and a
/// start 1e-3 away from it.
fn at_fixed_point(
    phi: Transfer,
) -> (
    dendritic::model::Network,
    dendritic::model::State,
    dendritic::model::State,
    ndarray::Array2<f64>,
) {
    let mut config = NetworkConfig::new(&[6, 5, 4]);
    config.phi = phi;
    let (net, mut fixed) = network(config, 1, 0.5, TopDown::Random, false, 91);
    let input = uniform(1, 6, 0.0, 1.0, 92);
    let drive = Drive::free(input.view());
    SteadyStateConfig::Newton {
        tolerance: 1e-13,
        maximum_iterations: 50,
    }
    .build(&net)
    .settle(&net, &mut fixed, &drive)
    .unwrap();
    let mut start = fixed.clone();
    for (i, v) in start.y[..net.layout.n_potentials].iter_mut().enumerate() {
        *v += 1e-3 * if i % 2 == 0 { 1.0 } else { -1.0 };
    }
    (net, fixed, start, input)
}

#[test]
fn logistic_network_is_locally_unstable_just_above_the_limit() {
    // With a saturating φ the linearisation is only local: above the limit a perturbation
    // grows (100-fold here) but the leak bounds it once the rates saturate. Below the limit it
    // decays back to the fixed point.
    let (net, fixed, start, input) = at_fixed_point(Transfer::Logistic);
    let drive = Drive::free(input.view());
    let np = net.layout.n_potentials;
    let d0 = max_diff(&start.y, &fixed.y, np);
    for kind in [MethodKind::Euler, MethodKind::Rk4] {
        let limit = dt_limit(kind, &net, &fixed, &drive, 0);
        for (factor, grows) in [(0.97, false), (1.03, true)] {
            let dt = factor * limit;
            let mut s = start.clone();
            let mut m = kind.build(&net, 0).unwrap();
            let mut worst: f64 = 0.0;
            for n in 0..2000 {
                m.step(&net, &mut s, &drive, n as f64 * dt, dt).unwrap();
                worst = worst.max(max_diff(&s.y, &fixed.y, np));
            }
            let last = max_diff(&s.y, &fixed.y, np);
            eprintln!(
                "{kind:?} at {factor}× limit {limit}: max distance {worst:e}, final {last:e}"
            );
            if grows {
                assert!(
                    worst > 100.0 * d0,
                    "{kind:?} above the limit: perturbation did not grow ({worst:e})"
                );
            } else {
                assert!(
                    last < 1e-3 * d0,
                    "{kind:?} below the limit: perturbation did not decay ({last:e})"
                );
            }
        }
    }
}

#[test]
fn predicted_dt_limit_separates_bounded_from_diverging() {
    // Linear φ makes the linearisation exact, so the predicted limit is the true one: run 3000
    // steps at 0.97× (bounded, back at the fixed point) and 1.03× (a divergence error).
    let config = NetworkConfig::new(&[6, 5, 4]);
    let _ = config;
    let (net, fixed, start, input) = at_fixed_point(Transfer::Linear);
    let drive = Drive::free(input.view());
    let np = net.layout.n_potentials;
    for kind in [MethodKind::Euler, MethodKind::Rk4] {
        let limit = dt_limit(kind, &net, &fixed, &drive, 0);
        eprintln!("{kind:?}: predicted dt limit {limit} ms");
        // Below: bounded, and back at the fixed point.
        let dt = 0.97 * limit;
        let mut s = start.clone();
        let mut m = kind.build(&net, 0).unwrap();
        for n in 0..3000 {
            m.step(&net, &mut s, &drive, n as f64 * dt, dt)
                .unwrap_or_else(|e| panic!("{kind:?} at 0.97 limit: {e}"));
        }
        assert!(
            max_diff(&s.y, &fixed.y, np) < 1e-6,
            "{kind:?} below the limit did not return to the fixed point"
        );
        // Above: a divergence error, never NaN.
        let dt = 1.03 * limit;
        let mut s = start.clone();
        let mut m = kind.build(&net, 0).unwrap();
        let mut err = None;
        for n in 0..3000 {
            if let Err(e) = m.step(&net, &mut s, &drive, n as f64 * dt, dt) {
                err = Some((n, e));
                break;
            }
        }
        let (n, e) = err.unwrap_or_else(|| panic!("{kind:?} at 1.03× the limit stayed bounded"));
        match &e {
            SolveError::Diverged { t_ms, layer, .. } => {
                assert!((t_ms - (n + 1) as f64 * dt).abs() < 1e-9);
                assert!((1..=2).contains(layer));
            }
            other => panic!("expected Diverged, got {other}"),
        }
        let msg = e.to_string();
        assert!(
            msg.contains("diverged at t =") && msg.contains("in layer"),
            "{msg}"
        );
    }
}
