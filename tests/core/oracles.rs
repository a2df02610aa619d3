//! Analytic oracles: exponential relaxation of one compartment, and the steady states of a
//! hidden cell, an output cell and an interneuron (paper-spec §2.6).

use dendritic::model::{Drive, NetworkConfig, Nudging, Projection, TopDown, Workspace};
use dendritic::solve::{MethodKind, SteadyStateConfig};
use ndarray::array;

use crate::common::*;

#[test]
fn one_compartment_relaxes_exponentially() {
    // Network 1-1: one output cell, no target: du/dt = −(g_lk+g_B) u + g_B w x.
    let config = NetworkConfig::new(&[1, 1]);
    let (net, mut state) = network(config, 1, 1.0, TopDown::Random, false, 1);
    let w = net.weights(&state, Projection::Up, 1)[[0, 0]];
    let x = 0.7;
    let u0 = -0.4;
    state.y[0] = u0;
    let input = array![[x]];
    let drive = Drive::free(input.view());
    let c = net.config.conductances;
    let g = c.g_lk + c.g_b;
    // u is driven by r_0 = x directly (φ only acts on layer ≥ 1 rates).
    let u_inf = c.g_b * w * x / g;
    let exact = |t: f64| u_inf + (u0 - u_inf) * (-g * t).exp();
    for (kind, dt, tol) in [
        // Exponential Euler is exact for a linear compartment: only round-off remains.
        (MethodKind::ExponentialEuler, 0.5f64, 1e-14),
        // RK4's local error is (g dt)⁵/120 ≈ 1e-13 at dt = 0.01; 500 steps stay below 1e-10.
        (MethodKind::Rk4, 0.01, 1e-10),
        // Euler's global error is ≈ t g² dt e^{−gt}/2 · |u0 − u∞| ≤ 3e-4 at dt = 0.001.
        (MethodKind::Euler, 0.001, 3e-4),
    ] {
        let mut s = state.clone();
        let mut m = kind.build(&net, 0).unwrap();
        let steps = (5.0 / dt).round() as usize;
        let mut worst: f64 = 0.0;
        for n in 0..steps {
            m.step(&net, &mut s, &drive, n as f64 * dt, dt).unwrap();
            worst = worst.max((s.y[0] - exact((n + 1) as f64 * dt)).abs());
        }
        assert!(worst < tol, "{kind:?}: max error {worst:e} ≥ {tol:e}");
    }
}

/// Integrates a 4-5-3-2 network with RK4 for 300 ms (slowest rate ~0.5/ms: e^{-150} leaves
/// only round-off) and returns it settled.
fn settled(
    target: bool,
    nudging: Nudging,
    g_som: f64,
) -> (
    dendritic::model::Network,
    dendritic::model::State,
    ndarray::Array2<f64>,
    ndarray::Array2<f64>,
) {
    let mut config = NetworkConfig::new(&[4, 5, 3, 2]);
    config.nudging = nudging;
    config.conductances.g_som = g_som;
    let (net, mut state) = network(config, 2, 1.0, TopDown::Random, false, 5);
    let input = uniform(2, 4, 0.0, 1.0, 6);
    let trg = uniform(2, 2, -0.8, 0.8, 7);
    {
        let drive = if target {
            Drive::nudged(input.view(), trg.view())
        } else {
            Drive::free(input.view())
        };
        let mut m = MethodKind::Rk4.build(&net, 0).unwrap();
        integrate(m.as_mut(), &net, &mut state, &drive, 0.05, 6000);
    }
    (net, state, input, trg)
}

#[test]
fn hidden_and_output_steady_states() {
    for nudging in [
        Nudging::Current,
        Nudging::Conductance {
            e_exc: 1.0,
            e_inh: -1.0,
        },
    ] {
        let (net, state, input, trg) = settled(true, nudging, 0.8);
        let drive = Drive::nudged(input.view(), trg.view());
        let mut ws = Workspace::new(&net);
        net.dendrites(&state.y, &state.p, &drive, &mut ws);
        let c = net.config.conductances;
        let n = net.n_layers();
        // Hidden: u = (g_B v_B + g_A v_A)/(g_lk + g_B + g_A). 1e-10 allows round-off in the
        // dendrite sums (|terms| ≲ 10) but nothing of the dynamics.
        for k in 1..n {
            let u = net.u_pyr(&state, k);
            for ((u, vb), va) in u
                .iter()
                .zip(ws.v_basal[k].iter())
                .zip(ws.v_apical[k].iter())
            {
                let want = (c.g_b * vb + c.g_a * va) / (c.g_lk + c.g_b + c.g_a);
                assert!(
                    (u - want).abs() < 1e-10,
                    "{nudging:?} hidden layer {k}: {u} vs {want}"
                );
            }
        }
        // Output: u = (1 − λ) v̂_B + λ u_trgt, λ = g_som/(g_lk+g_B+g_som), v̂_B = g_B/(g_lk+g_B) v_B.
        let lam = c.lambda_output();
        let u = net.u_pyr(&state, n);
        for ((u, vb), t) in u.iter().zip(ws.v_basal[n].iter()).zip(trg.iter()) {
            let want = (1.0 - lam) * c.g_b / (c.g_lk + c.g_b) * vb + lam * t;
            assert!(
                (u - want).abs() < 1e-10,
                "{nudging:?} output: {u} vs {want}"
            );
        }
        // Interneuron: u^I = (1 − λ_I) v̂^I + λ_I u^P_{k+1}.
        let li = c.lambda_interneuron();
        for k in 1..n {
            let ui = net.u_int(&state, k);
            let up = net.u_pyr(&state, k + 1);
            for ((u, vi), t) in ui.iter().zip(ws.v_int[k].iter()).zip(up.iter()) {
                let want = (1.0 - li) * c.interneuron_attenuation() * vi + li * t;
                assert!(
                    (u - want).abs() < 1e-10,
                    "{nudging:?} interneuron {k}: {u} vs {want}"
                );
            }
        }
    }
}

#[test]
fn attenuation_factors_make_dendritic_predictions_exact() {
    // Anchors pitfall 6 (an operator-precedence slip g_D/g_lk + g_D in a public code): with the
    // interneuron nudging off (g_som = 0) and no target, each interneuron settles at exactly
    // v̂^I = g_D/(g_lk+g_D) v^I and the output at v̂_B = g_B/(g_lk+g_B) v_B, so the induction
    // terms of rules 7 (output) and 8 vanish.
    let (net, state, input, _) = settled(false, Nudging::Current, 0.0);
    let drive = Drive::free(input.view());
    let mut ws = Workspace::new(&net);
    net.dendrites(&state.y, &state.p, &drive, &mut ws);
    let c = net.config.conductances;
    let phi = net.config.phi;
    let n = net.n_layers();
    for k in 1..n {
        for (u, vi) in net.u_int(&state, k).iter().zip(ws.v_int[k].iter()) {
            assert!((phi.phi(*u) - phi.phi(c.interneuron_attenuation() * vi)).abs() < 1e-12);
        }
    }
    for (u, vb) in net.u_pyr(&state, n).iter().zip(ws.v_basal[n].iter()) {
        assert!((phi.phi(*u) - phi.phi(c.basal_attenuation(true) * vb)).abs() < 1e-12);
    }
}

#[test]
fn steady_state_solvers_reproduce_the_oracle_state() {
    // The same oracle state found by long RK4 integration is found by Newton.
    let (net, reference, input, trg) = settled(true, Nudging::Current, 0.8);
    let drive = Drive::nudged(input.view(), trg.view());
    let mut state = reference.clone();
    state.y[..net.layout.n_potentials].fill(0.0);
    let mut newton = SteadyStateConfig::Newton {
        tolerance: 1e-12,
        maximum_iterations: 50,
    }
    .build(&net);
    let s = newton.settle(&net, &mut state, &drive).unwrap();
    assert!(s.iterations < 20, "Newton took {} iterations", s.iterations);
    assert!(max_diff(&state.y, &reference.y, net.layout.n_potentials) < 1e-10);
}

#[test]
fn conductance_nudging_equals_current_nudging_in_range() {
    // paper-spec §2.3: with E_inh ≤ u_trgt ≤ E_exc the balanced conductances give exactly
    // g_som (u_trgt − u). Compare the two right-hand sides on a random state (targets in ±0.8).
    let mk = |nudging| {
        let mut c = NetworkConfig::new(&[4, 5, 3]);
        c.nudging = nudging;
        network(c, 3, 1.0, TopDown::Random, false, 9)
    };
    let (a, mut sa) = mk(Nudging::Current);
    let (b, _) = mk(Nudging::Conductance {
        e_exc: 1.0,
        e_inh: -1.0,
    });
    for (i, v) in sa.y[..a.layout.n_potentials].iter_mut().enumerate() {
        *v = ((i * 37 % 17) as f64 / 17.0 - 0.5) * 1.6;
    }
    let input = uniform(3, 4, 0.0, 1.0, 2);
    let trg = uniform(3, 3, -0.8, 0.8, 3);
    let drive = Drive::nudged(input.view(), trg.view());
    let (mut wa, mut wb) = (Workspace::new(&a), Workspace::new(&b));
    let mut da = vec![0.0; a.layout.n_dynamic];
    let mut db = vec![0.0; b.layout.n_dynamic];
    a.rhs(&sa.y, &sa.p, &drive, &mut wa, &mut da);
    b.rhs(&sa.y, &sa.p, &drive, &mut wb, &mut db);
    assert!(max_diff(&da, &db, da.len()) < 1e-14);
}

#[test]
fn jacobian_matches_finite_differences() {
    // Central differences with h = 1e-6: truncation ~h² ≈ 1e-12, round-off ~1e-16/h ≈ 1e-10.
    let mut config = NetworkConfig::new(&[3, 4, 3, 2]);
    config.nudging = Nudging::Conductance {
        e_exc: 1.0,
        e_inh: -1.0,
    };
    let (net, mut state) = network(config, 2, 1.0, TopDown::Random, false, 4);
    for (i, v) in state.y[..net.layout.n_potentials].iter_mut().enumerate() {
        // Potentials in ±0.9, away from the reversal potentials ±1 where the conductance-based
        // nudging has a kink (one conductance clips to zero).
        *v = ((i * 29 % 13) as f64 / 13.0 - 0.5) * 1.8;
    }
    let input = uniform(2, 3, 0.0, 1.0, 5);
    let trg = uniform(2, 2, -0.9, 0.9, 6);
    let drive = Drive::nudged(input.view(), trg.view());
    let mut ws = Workspace::new(&net);
    let np = net.layout.n_potentials;
    for b in 0..2 {
        let jac = net.jacobian(&state, &drive, b, &mut ws);
        let idx = net.layout.potential_index(b);
        for (col, &j) in idx.iter().enumerate() {
            let h = 1e-6;
            let (mut fp, mut fm) = (vec![0.0; np], vec![0.0; np]);
            let mut s = state.clone();
            s.y[j] += h;
            net.rhs_potentials(&s.y, &s.p, &drive, &mut ws, &mut fp);
            s.y[j] -= 2.0 * h;
            net.rhs_potentials(&s.y, &s.p, &drive, &mut ws, &mut fm);
            for (row, &i) in idx.iter().enumerate() {
                let fd = (fp[i] - fm[i]) / (2.0 * h);
                assert!(
                    (fd - jac[[row, col]]).abs() < 1e-7,
                    "b {b} J[{row},{col}] = {} vs fd {fd}; y_i {} y_j {}",
                    jac[[row, col]],
                    state.y[i],
                    state.y[j]
                );
            }
        }
    }
    let _ = &mut state;
}

#[test]
fn dopri5_is_fifth_order_on_exponential_relaxation() {
    // The 1-1 oracle above: u' = −g (u − u∞). N fixed steps give exactly
    // u∞ + (u0 − u∞) R(z)^N with Dormand–Prince's stability function
    // R(z) = Σ_{k≤5} z^k/k! + z⁶/600 = e^z + z⁶/3600 + O(z⁷), z = −g h: the error is known in
    // closed form, and it is fifth order (the controller off).
    use dendritic::solve::{Control, Dopri5};
    let config = NetworkConfig::new(&[1, 1]);
    let (net, mut state) = network(config, 1, 1.0, TopDown::Random, false, 1);
    let w = net.weights(&state, Projection::Up, 1)[[0, 0]];
    let (x, u0) = (0.7, -0.4);
    state.y[0] = u0;
    let input = array![[x]];
    let drive = Drive::free(input.view());
    let c = net.config.conductances;
    let g = c.g_lk + c.g_b;
    let u_inf = c.g_b * w * x / g;
    let t_end = 4.0;
    let exact = u_inf + (u0 - u_inf) * (-g * t_end).exp();
    let dts = [0.2, 0.1, 0.05, 0.025];
    let mut errs = Vec::new();
    for &dt in &dts {
        let mut s = state.clone();
        let mut m = Dopri5::new(&net, Control::Fixed).unwrap();
        integrate(
            &mut m,
            &net,
            &mut s,
            &drive,
            dt,
            (t_end / dt).round() as usize,
        );
        let err = (s.y[0] - exact).abs();
        let z: f64 = -g * dt;
        let r = 1.0
            + z
            + z.powi(2) / 2.0
            + z.powi(3) / 6.0
            + z.powi(4) / 24.0
            + z.powi(5) / 120.0
            + z.powi(6) / 600.0;
        let steps = (t_end / dt).round() as i32;
        let predicted = ((r.powi(steps) - (z * steps as f64).exp()) * (u0 - u_inf)).abs();
        eprintln!("dopri5 dt {dt}: error {err:e}, closed form {predicted:e}");
        assert!(
            (err - predicted).abs() < 1e-4 * predicted + 1e-15,
            "dt {dt}: {err:e} vs {predicted:e}"
        );
        errs.push(err);
    }
    let slope = loglog_slope(&dts, &errs);
    assert!(
        (slope - 5.0).abs() <= 0.3,
        "Dopri5 order {slope}, errors {errs:?}"
    );
}
