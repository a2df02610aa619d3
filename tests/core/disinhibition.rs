//! The disinhibition gate (issue: attention-like denoising and generation): gate_k multiplies
//! the interneuron input W^PI φ(u^I) to the apical dendrite of hidden layer k (Eq. 4).

use dendritic::model::{Drive, NetworkConfig, TopDown, Workspace};
use dendritic::solve::SteadyStateConfig;

use crate::common::*;

/// The settled (Newton, no target) apical and top-down potentials of a closed-form
/// self-predicting 10-8-6-4 network with the given gates, batch 3: (max |v_A|, max |v_A − v_TD|,
/// max |v_TD|) over the hidden layers.
fn settled_apical(gate: Vec<f64>) -> (f64, f64, f64) {
    let mut config = NetworkConfig::new(&[10, 8, 6, 4]);
    config.gate = gate;
    let (net, mut state) = network(config, 3, 1.0, TopDown::Random, true, 71);
    let input = uniform(3, 10, 0.0, 1.0, 72);
    let drive = Drive::free(input.view());
    SteadyStateConfig::Newton {
        tolerance: 1e-13,
        maximum_iterations: 50,
    }
    .build(&net)
    .settle(&net, &mut state, &drive)
    .unwrap();
    let mut ws = Workspace::new(&net);
    net.dendrites(&state.y, &state.p, &drive, &mut ws);
    let max = |f: &dyn Fn(usize) -> f64| (1..3).map(f).fold(0.0_f64, f64::max);
    (
        max(&|k| ws.v_apical[k].iter().fold(0.0_f64, |m, v| m.max(v.abs()))),
        max(&|k| {
            (&ws.v_apical[k] - &ws.v_td[k])
                .iter()
                .fold(0.0_f64, |m, v| m.max(v.abs()))
        }),
        max(&|k| ws.v_td[k].iter().fold(0.0_f64, |m, v| m.max(v.abs()))),
    )
}

#[test]
fn gate_one_leaves_the_self_predicting_apical_dendrites_silent() {
    let (va, _, vtd) = settled_apical(vec![1.0, 1.0]);
    assert!(vtd > 0.1, "top-down input is not trivially zero: {vtd}");
    assert!(va < 1e-12, "max |v_A| = {va:e} with the gate closed");
}

#[test]
fn gate_zero_lets_the_top_down_input_reach_the_apical_dendrite_unopposed() {
    let (va, diff, vtd) = settled_apical(vec![0.0, 0.0]);
    assert!(vtd > 0.1 && va > 0.1, "v_TD {vtd}, v_A {va}");
    assert!(
        diff < 1e-14,
        "max |v_A − v_TD| = {diff:e} with the gate open"
    );
    // A half-open gate lies in between: the apical potential is no longer cancelled.
    let (va_half, _, _) = settled_apical(vec![0.5, 0.5]);
    assert!(va_half > 1e-3, "max |v_A| = {va_half:e} at gate ½");
}

/// The gate over time: a forward-Euler settling whose schedule opens the gate half-way ends
/// with v_A = v_TD (the open gate's fixed point), and the closed half leaves it silent.
#[test]
fn a_gate_schedule_switches_the_apical_potential_in_simulated_time() {
    use dendritic::experiment::scenario::{GateStep, gate_at};
    use dendritic::solve::MethodKind;
    let schedule = vec![
        GateStep {
            t_ms: 0.0,
            gate: vec![1.0, 1.0],
        },
        GateStep {
            t_ms: 60.0,
            gate: vec![0.0, 0.0],
        },
    ];
    assert_eq!(gate_at(&schedule, 59.9), &[1.0, 1.0]);
    assert_eq!(gate_at(&schedule, 60.0), &[0.0, 0.0]);
    assert_eq!(gate_at(&schedule, 1e6), &[0.0, 0.0]);
    let config = NetworkConfig::new(&[10, 8, 6, 4]);
    let (mut net, mut state) = network(config, 3, 1.0, TopDown::Random, true, 71);
    let input = uniform(3, 10, 0.0, 1.0, 72);
    let drive = Drive::free(input.view());
    let mut ws = Workspace::new(&net);
    net.bottom_up_pass(&mut state, &drive, &mut ws);
    let mut euler = MethodKind::Euler.build(&net, 1).unwrap();
    let dt = 0.05;
    let apical_at = |net: &dendritic::model::Network, state: &dendritic::model::State| {
        let mut ws = Workspace::new(net);
        net.dendrites(&state.y, &state.p, &drive, &mut ws);
        let va = ws.v_apical[1].iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        let diff = (&ws.v_apical[1] - &ws.v_td[1])
            .iter()
            .fold(0.0_f64, |m, v| m.max(v.abs()));
        (va, diff)
    };
    let mut checked_closed = false;
    for n in 0..2400 {
        let t = n as f64 * dt;
        net.config.gate = gate_at(&schedule, t).to_vec();
        if n == 1199 {
            // 60 ms of the closed gate: the self-predicting state holds, apical silent.
            let (va, _) = apical_at(&net, &state);
            assert!(va < 1e-9, "closed gate: max |v_A| = {va:e}");
            checked_closed = true;
        }
        euler.step(&net, &mut state, &drive, t, dt).unwrap();
    }
    assert!(checked_closed);
    let (va, diff) = apical_at(&net, &state);
    assert!(va > 0.1, "open gate: v_A = {va}");
    assert!(diff < 1e-12, "open gate: max |v_A − v_TD| = {diff:e}");
}

/// Rule 10 at k = 0 (the input reconstruction): one minibatch step against a scalar hand
/// computation, W += η/B Σ_b (x − φ(W r_1 + b_0)) r_1ᵀ, b_0 += η/B Σ_b (x − x̂).
#[test]
fn the_reconstruction_rule_matches_a_hand_computed_step() {
    use dendritic::model::{Reconstruction, Transfer};
    use dendritic::rng::Rng;
    let mut rec = Reconstruction::new(3, 2, 0.5, Transfer::Logistic, &mut Rng::new(5));
    rec.b = ndarray::arr1(&[0.1, -0.2, 0.3]);
    let w0 = rec.w.clone();
    let r1 = ndarray::arr2(&[[0.2, 0.7], [0.9, 0.4]]);
    let x = ndarray::arr2(&[[0.0, 1.0, 0.5], [1.0, 0.0, 0.25]]);
    let eta = 0.3;
    let sig = |u: f64| 1.0 / (1.0 + (-u).exp());
    let mut want_w = w0.clone();
    let mut want_b = rec.b.clone();
    let mut want_mse = 0.0;
    for bi in 0..2 {
        for i in 0..3 {
            let u = w0[[i, 0]] * r1[[bi, 0]] + w0[[i, 1]] * r1[[bi, 1]] + rec.b[i];
            let e = x[[bi, i]] - sig(u);
            want_mse += e * e / 6.0;
            for j in 0..2 {
                want_w[[i, j]] += eta / 2.0 * e * r1[[bi, j]];
            }
            want_b[i] += eta / 2.0 * e;
        }
    }
    let got_mse = rec.learn(x.view(), r1.view(), eta);
    assert!(
        (got_mse - want_mse).abs() < 1e-15,
        "{got_mse} vs {want_mse}"
    );
    let dw = (&rec.w - &want_w)
        .iter()
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    let db = (&rec.b - &want_b)
        .iter()
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    assert!(dw < 1e-15 && db < 1e-15, "ΔW off by {dw:e}, Δb by {db:e}");
}

/// The reconstruction rule is a delta rule on a logistic unit: on data made by a logistic
/// "teacher" x = φ(W* r + b*) it recovers W* and b*.
#[test]
fn the_reconstruction_rule_recovers_a_logistic_teacher() {
    use dendritic::model::{Reconstruction, Transfer};
    use dendritic::rng::Rng;
    let mut rng = Rng::new(9);
    let mut teacher = Reconstruction::new(6, 4, 2.0, Transfer::Logistic, &mut rng);
    teacher.b = ndarray::Array1::from_shape_fn(6, |_| rng.uniform_in(-1.0, 1.0));
    let mut rec = Reconstruction::new(6, 4, 0.05, Transfer::Logistic, &mut rng);
    for step in 0..40_000 {
        let r1 = uniform(10, 4, 0.0, 1.0, 1000 + step);
        let x = teacher.predict(r1.view());
        rec.learn(x.view(), r1.view(), 2.0);
    }
    let dw = (&rec.w - &teacher.w)
        .iter()
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    let db = (&rec.b - &teacher.b)
        .iter()
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    assert!(
        dw < 1e-2 && db < 1e-2,
        "max |W − W*| = {dw:e}, |b − b*| = {db:e}"
    );
}

/// Corruptions affect exactly the stated fraction of pixels.
#[test]
fn corruptions_touch_the_stated_fraction_of_pixels() {
    use dendritic::rng::Rng;
    use dendritic::task::corrupt::{Corruption, mse};
    // Images of constant 2.0 (outside [0, 1], so every replaced pixel is visible).
    let clean = ndarray::Array2::from_elem((50, 784), 2.0);
    let mut rng = Rng::new(3);
    let noisy = Corruption::PixelNoise.apply(clean.view(), 0.3, &mut rng);
    for row in noisy.rows() {
        let changed = row.iter().filter(|&&v| v != 2.0).count();
        assert_eq!(changed, 235, "round(0.3 · 784)");
        assert!(row.iter().all(|&v| v == 2.0 || (0.0..1.0).contains(&v)));
    }
    let occluded = Corruption::Occlusion.apply(clean.view(), 0.3, &mut rng);
    for row in occluded.rows() {
        // side round(√(0.3 · 784)) = 15: a 15 × 15 square of zeros.
        assert_eq!(row.iter().filter(|&&v| v == 0.0).count(), 225);
    }
    // MSE of an occlusion by zeros of constant-2 images: 4 · 225 / 784.
    let m = mse(occluded.view(), clean.view());
    assert!((m - 4.0 * 225.0 / 784.0).abs() < 1e-12, "{m}");
    let full = Corruption::Occlusion.apply(clean.view(), 1.0, &mut rng);
    assert!(full.iter().all(|&v| v == 0.0));
}
