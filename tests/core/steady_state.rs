//! Steady-state solvers: fixed point and Newton against long Euler integration; the two-pass
//! scheme's error proportional to g_A.

use dendritic::model::{Drive, NetworkConfig, Noise, TopDown, Workspace};
use dendritic::solve::{MethodKind, SolveError, SteadyStateConfig};

use crate::common::*;

#[test]
fn fixed_point_and_newton_agree_with_long_euler() {
    // 8-6-5-3, U(−1, 1) weights, random top-down and lateral weights (not self-predicting),
    // paper conductances, target on, batch 3. Euler dt = 0.05 ms for 500 ms: the slowest mode
    // decays like e^{−0.5 t}, so Euler sits at its fixed point (the same as the ODE's) to
    // round-off.
    let config = NetworkConfig::new(&[8, 6, 5, 3]);
    let (net, state0) = network(config, 3, 1.0, TopDown::Random, false, 41);
    let input = uniform(3, 8, 0.0, 1.0, 42);
    let trg = uniform(3, 3, -1.0, 1.0, 43);
    let drive = Drive::nudged(input.view(), trg.view());
    let mut reference = state0.clone();
    let mut euler = MethodKind::Euler.build(&net, 0).unwrap();
    integrate(euler.as_mut(), &net, &mut reference, &drive, 0.05, 10_000);
    let np = net.layout.n_potentials;
    for config in [
        SteadyStateConfig::FixedPoint {
            tolerance: 1e-12,
            maximum_iterations: 100_000,
            damping: 0.7,
        },
        SteadyStateConfig::Newton {
            tolerance: 1e-12,
            maximum_iterations: 50,
        },
    ] {
        let mut s = state0.clone();
        let settled = config.build(&net).settle(&net, &mut s, &drive).unwrap();
        let d = max_diff(&s.y, &reference.y, np);
        eprintln!("{config:?}: {settled:?}, max diff to Euler {d:e}");
        assert!(d < 1e-8, "{config:?} differs from long Euler by {d:e}");
        assert!(settled.residual < 1e-12);
    }
}

#[test]
fn two_pass_error_is_proportional_to_g_a() {
    // 10-8-6-4 in the closed-form self-predicting state with transposed top-down weights,
    // a target on the output; g_A halved four times. The two-pass scheme neglects the
    // feedback of changed lower layers, an O(λ_A) = O(g_A) effect.
    let gs = [0.2, 0.1, 0.05, 0.025];
    let mut errs = Vec::new();
    for &g_a in &gs {
        let mut config = NetworkConfig::new(&[10, 8, 6, 4]);
        config.conductances.g_a = g_a;
        let (net, state0) = network(config, 2, 1.0, TopDown::Transpose, true, 51);
        let input = uniform(2, 10, 0.0, 1.0, 52);
        let trg = uniform(2, 4, -1.0, 1.0, 53);
        let drive = Drive::nudged(input.view(), trg.view());
        let mut exact = state0.clone();
        SteadyStateConfig::Newton {
            tolerance: 1e-13,
            maximum_iterations: 50,
        }
        .build(&net)
        .settle(&net, &mut exact, &drive)
        .unwrap();
        let mut approx = state0.clone();
        let s = SteadyStateConfig::TwoPass
            .build(&net)
            .settle(&net, &mut approx, &drive)
            .unwrap();
        assert_eq!(s.iterations, 2);
        errs.push(max_diff(&approx.y, &exact.y, net.layout.n_potentials));
    }
    let slope = loglog_slope(&gs, &errs);
    eprintln!("two-pass errors {errs:?}, slope {slope}");
    assert!(
        (slope - 1.0).abs() <= 0.1,
        "two-pass error ∝ g_A^{slope}, errors {errs:?}"
    );
}

#[test]
fn two_pass_is_exact_without_target_in_the_self_predicting_state() {
    let config = NetworkConfig::new(&[10, 8, 6, 4]);
    let (net, state0) = network(config, 2, 1.0, TopDown::Random, true, 61);
    let input = uniform(2, 10, 0.0, 1.0, 62);
    let drive = Drive::free(input.view());
    let mut s = state0.clone();
    let settled = SteadyStateConfig::TwoPass
        .build(&net)
        .settle(&net, &mut s, &drive)
        .unwrap();
    // The residual is round-off of the dendrite sums (|v| ≲ 10).
    assert!(settled.residual < 1e-12, "residual {:e}", settled.residual);
    let mut ws = Workspace::new(&net);
    net.dendrites(&s.y, &s.p, &drive, &mut ws);
    assert!(
        ws.v_apical[1]
            .iter()
            .chain(ws.v_apical[2].iter())
            .all(|v| v.abs() < 1e-12)
    );
}

#[test]
fn iterative_solvers_report_non_convergence() {
    let config = NetworkConfig::new(&[8, 6, 3]);
    let (net, state0) = network(config, 1, 1.0, TopDown::Random, false, 71);
    let input = uniform(1, 8, 0.0, 1.0, 72);
    let drive = Drive::free(input.view());
    let mut s = state0.clone();
    let err = SteadyStateConfig::FixedPoint {
        tolerance: 1e-12,
        maximum_iterations: 3,
        damping: 1.0,
    }
    .build(&net)
    .settle(&net, &mut s, &drive)
    .unwrap_err();
    match err {
        SolveError::NotConverged {
            iterations,
            residual,
            ..
        } => {
            assert_eq!(iterations, 3);
            assert!(residual > 1e-12);
        }
        other => panic!("expected NotConverged, got {other}"),
    }
    assert!(err.to_string().contains("did not converge"));
    // σ > 0 is refused by every steady-state solver.
    let mut config = NetworkConfig::new(&[8, 6, 3]);
    config.noise = Noise {
        sigma: 0.1,
        ..Noise::default()
    };
    let (noisy, mut s) = network(config, 1, 1.0, TopDown::Random, false, 71);
    for c in [
        SteadyStateConfig::TwoPass,
        SteadyStateConfig::Newton {
            tolerance: 1e-9,
            maximum_iterations: 5,
        },
    ] {
        let e = c.build(&noisy).settle(&noisy, &mut s, &drive).unwrap_err();
        assert!(matches!(e, SolveError::NoiseUnsupported { .. }), "{e}");
    }
}
