//! The self-predicting state (paper-spec §4): kept exactly from the closed form, and learned
//! by rules 8 and 9 from random lateral weights (paper Fig. S1).

use dendritic::model::{
    Drive, Initialisation, Network, NetworkConfig, Noise, Plasticity, Projection, State, TopDown,
    Workspace,
};
use dendritic::rng::Rng;
use dendritic::solve::{Euler, Method, MethodKind};
use ndarray::Array2;

use crate::common::*;

/// max |v_A| over hidden layers and max |u^I_k − u^P_{k+1}| at a state.
fn apical_and_mismatch(
    net: &Network,
    state: &State,
    drive: &Drive,
    ws: &mut Workspace,
) -> (f64, f64) {
    net.dendrites(&state.y, &state.p, drive, ws);
    let mut apical: f64 = 0.0;
    let mut mismatch: f64 = 0.0;
    for k in 1..net.n_layers() {
        apical = ws.v_apical[k].iter().fold(apical, |m, v| m.max(v.abs()));
        let d = &net.u_int(state, k) - &net.u_pyr(state, k + 1);
        mismatch = d.iter().fold(mismatch, |m, v| m.max(v.abs()));
    }
    (apical, mismatch)
}

#[test]
fn closed_form_state_keeps_apical_silent_for_200ms() {
    // 30-20-20-10, U(−1, 1) weights, closed-form W^IP and W^PI, no target, σ = 0, a constant
    // U(0, 1) input, potentials started in the bottom-up prediction state. 1e-9 is the bound
    // of the acceptance list; round-off alone is ~1e-15.
    let config = NetworkConfig::new(&[30, 20, 20, 10]);
    let (net, mut state) = network(config, 1, 1.0, TopDown::Random, true, 21);
    let input = uniform(1, 30, 0.0, 1.0, 22);
    let drive = Drive::free(input.view());
    let mut ws = Workspace::new(&net);
    net.bottom_up_pass(&mut state, &drive, &mut ws);
    for kind in [MethodKind::Euler, MethodKind::Rk4] {
        let mut s = state.clone();
        let mut m = kind.build(&net, 0).unwrap();
        let dt = 0.1;
        let mut worst = (0.0f64, 0.0f64);
        for n in 0..2000 {
            m.step(&net, &mut s, &drive, n as f64 * dt, dt).unwrap();
            let (a, d) = apical_and_mismatch(&net, &s, &drive, &mut ws);
            worst = (worst.0.max(a), worst.1.max(d));
        }
        assert!(worst.0 < 1e-9, "{kind:?}: max |v_A| = {:e}", worst.0);
        assert!(
            worst.1 < 1e-9,
            "{kind:?}: max |u_I − u_(k+1)| = {:e}",
            worst.1
        );
    }
}

/// Mean over the pattern of the apical norm ‖v_A,1‖ and of ‖u^I_1 − u^P_2‖².
struct PatternMeans {
    apical: f64,
    mismatch: f64,
}

#[test]
fn rules_8_and_9_learn_the_self_predicting_state() {
    // Protocol (T1/T3 of paper-spec §4.3, which the SM would fix but we cannot read):
    // 30-20-10, logistic φ, U(−1, 1) initial weights, only W^IP (η = 0.0002375) and W^PI
    // (η = 0.0005) plastic, τ_w = 30 ms, σ = 0.1 (Euler–Maruyama), no target, input rates
    // U(0, 1) held 100 ms per pattern through the τ_in = 3 ms low-pass, dt = 0.1 ms.
    // We compare the first pattern with the mean of the last 10 of 400 patterns (40 s).
    // The quantities are those the paper plots in Fig. 1C: the apical norm ‖v_A,1‖ (ii) and
    // the interneuron mismatch ‖u^P_2 − u^I_1‖² (i, a squared norm), each averaged over the
    // pattern's 1000 steps. (The unsquared mismatch falls about 8.7-fold in this protocol.)
    let mut config = NetworkConfig::new(&[30, 20, 10]);
    config.tau_in = 3.0;
    config.noise = Noise {
        sigma: 0.1,
        ..Noise::default()
    };
    config.plasticity = Plasticity {
        eta_ip: vec![0.0002375],
        eta_pi: vec![0.0005],
        tau_w: 30.0,
        ..Plasticity::default()
    };
    let (net, mut state) = network(config, 1, 1.0, TopDown::Random, false, 31);
    let mut euler = Euler::new(&net, 32);
    let mut ws = Workspace::new(&net);
    let mut rng = Rng::new(33);
    let dt = 0.1;
    let steps_per_pattern = 1000;
    let patterns = 400;
    let mut means = Vec::new();
    for p in 0..patterns {
        let input = Array2::from_shape_fn((1, 30), |_| rng.uniform());
        let drive = Drive::free(input.view());
        let (mut a_sum, mut d_sum) = (0.0, 0.0);
        for n in 0..steps_per_pattern {
            let t = (p * steps_per_pattern + n) as f64 * dt;
            euler.step(&net, &mut state, &drive, t, dt).unwrap();
            net.dendrites(&state.y, &state.p, &drive, &mut ws);
            a_sum += ws.v_apical[1].iter().map(|v| v * v).sum::<f64>().sqrt();
            let d = &net.u_int(&state, 1) - &net.u_pyr(&state, 2);
            d_sum += d.iter().map(|v| v * v).sum::<f64>();
        }
        means.push(PatternMeans {
            apical: a_sum / steps_per_pattern as f64,
            mismatch: d_sum / steps_per_pattern as f64,
        });
    }
    let last = &means[patterns - 10..];
    let late_apical = last.iter().map(|m| m.apical).sum::<f64>() / 10.0;
    let late_mismatch = last.iter().map(|m| m.mismatch).sum::<f64>() / 10.0;
    let apical_drop = means[0].apical / late_apical;
    let mismatch_drop = means[0].mismatch / late_mismatch;
    eprintln!(
        "apical {} -> {late_apical} ({apical_drop}x); mismatch {} -> {late_mismatch} ({mismatch_drop}x)",
        means[0].apical, means[0].mismatch
    );
    assert!(
        apical_drop >= 10.0,
        "apical norm fell only {apical_drop}-fold"
    );
    assert!(
        mismatch_drop >= 10.0,
        "interneuron mismatch fell only {mismatch_drop}-fold"
    );
}

#[test]
fn interneuron_weight_mismatch_measures_the_distance_from_self_prediction() {
    // 0 in the closed-form state. W^IP = c W^PP + E with E_ij = ±0.5 c W^PP_ij (alternating
    // signs) has ‖E‖_F = 0.5 ‖c W^PP‖_F exactly, so the mismatch is 0.5.
    let config = NetworkConfig::new(&[6, 5, 4, 3]);
    let (net, mut state) = network(config, 1, 1.0, TopDown::Random, true, 5);
    for k in 1..net.n_layers() {
        assert!(net.interneuron_weight_mismatch(&state, k) < 1e-15);
    }
    let k = 2;
    let c = net.self_predicting_factor(k);
    let up = net.weights(&state, Projection::Up, k + 1);
    let mut sign = 1.0;
    let ip = up.mapv(|w| {
        sign = -sign;
        c * w * (1.0 + 0.5 * sign)
    });
    net.set_weights(&mut state, Projection::Ip, k, ip.view())
        .unwrap();
    assert!((net.interneuron_weight_mismatch(&state, k) - 0.5).abs() < 1e-14);
    assert!(net.interneuron_weight_mismatch(&state, 1) < 1e-15);
}

#[test]
fn a_transposed_start_scales_the_top_down_weights_by_the_gain() {
    // `init.transpose_gain`: W^PP_{k,k+1} = g (W^PP_{k+1,k})^T, and the self-predicting
    // interneurons cancel the scaled feedback (W^PI_{k,k} = −W^PP_{k,k+1}).
    let net = Network::new(NetworkConfig::new(&[3, 4, 5, 2]), 1).expect("valid");
    let mut state = net.zero_state();
    let init = Initialisation {
        scale_up: 0.5,
        top_down: TopDown::Transpose,
        transpose_gain: 2.5,
        self_predicting: true,
        ..Initialisation::default()
    };
    net.initialise(&mut state, &init, &mut Rng::new(3));
    for k in 1..3 {
        let up = net.weights(&state, Projection::Up, k + 1);
        let down = net.weights(&state, Projection::Down, k);
        let pi = net.weights(&state, Projection::Pi, k);
        assert!(
            up.iter().any(|w| w.abs() > 0.1),
            "layer {k}: no weights drawn"
        );
        for ((i, j), d) in down.indexed_iter() {
            assert_eq!(*d, 2.5 * up[[j, i]], "layer {k}, ({i}, {j})");
            assert_eq!(pi[[i, j]], -d, "layer {k}, ({i}, {j})");
        }
    }
}

#[test]
fn top_down_alignment_and_common_mode_measure_what_they_say() {
    // Transposed feedback (any gain) is aligned exactly; random feedback drawn independently
    // of the forward weights is nearly orthogonal to them (|cos| ~ 1/√(n_k n_{k+1})).
    let net = Network::new(NetworkConfig::new(&[3, 40, 50, 2]), 1).expect("valid");
    let mut state = net.zero_state();
    let transposed = Initialisation {
        scale_up: 0.5,
        top_down: TopDown::Transpose,
        transpose_gain: 7.0,
        ..Initialisation::default()
    };
    net.initialise(&mut state, &transposed, &mut Rng::new(5));
    for k in 1..3 {
        let a = net.top_down_alignment(&state, k);
        assert!((a - 1.0).abs() < 1e-12, "layer {k}: alignment {a}");
    }
    let random = Initialisation {
        scale_up: 0.5,
        scale_down: 0.5,
        ..Initialisation::default()
    };
    net.initialise(&mut state, &random, &mut Rng::new(5));
    let a = net.top_down_alignment(&state, 1);
    assert!(a.abs() < 0.15, "random feedback aligned by {a}");

    // Common mode: rows [a, a, …] are all common mode; rows summing to zero have none; a
    // mixture splits ‖W‖² exactly: row (1 + x_j) with Σ x_j = 0 has common share n/(n + Σx²).
    let w = net.w(Projection::Down, 1);
    let (rows, cols) = (40, 50);
    state
        .view_mut(&w)
        .assign(&Array2::from_shape_fn((rows, cols), |(i, _)| {
            i as f64 - 3.5
        }));
    let c = net.top_down_common_mode(&state, 1);
    assert!((c - 1.0).abs() < 1e-12, "constant rows: {c}");
    state
        .view_mut(&w)
        .assign(&Array2::from_shape_fn((rows, cols), |(_, j)| {
            if j % 2 == 0 { 1.0 } else { -1.0 }
        }));
    let c = net.top_down_common_mode(&state, 1);
    assert!(c.abs() < 1e-12, "zero-sum rows: {c}");
    state
        .view_mut(&w)
        .assign(&Array2::from_shape_fn((rows, cols), |(_, j)| {
            1.0 + if j % 2 == 0 { 2.0 } else { -2.0 }
        }));
    // Each row: n = 50 entries, Σx² = 50·4 = 200, so the share is 50 / 250.
    let c = net.top_down_common_mode(&state, 1);
    assert!((c - 0.2).abs() < 1e-12, "mixed rows: {c}");
}
