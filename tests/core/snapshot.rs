//! Snapshot semantics: Euler's result cannot depend on the order layers are visited in.

use dendritic::model::{Drive, NetworkConfig, Noise, Plasticity, TopDown};
use dendritic::solve::{Euler, Method};

use crate::common::*;

#[test]
fn euler_is_bit_identical_for_every_visiting_order() {
    // 6-5-4-3 with every rule on (τ_w filtered), biases, input low-pass, noise and a target:
    // 500 Euler–Maruyama steps from the same seed.
    let mut config = NetworkConfig::new(&[6, 5, 4, 3]);
    config.bias = true;
    config.tau_in = 3.0;
    config.noise = Noise {
        sigma: 0.1,
        ..Noise::default()
    };
    config.plasticity = Plasticity {
        eta_up: vec![0.01, 0.01, 0.01],
        eta_down: vec![0.005, 0.005],
        eta_ip: vec![0.01, 0.01],
        eta_pi: vec![0.01, 0.01],
        tau_w: 30.0,
        eta_scale: 1.0,
        clip: None,
    };
    let (base, state0) = network(config, 2, 1.0, TopDown::Random, false, 81);
    let input = uniform(2, 6, 0.0, 1.0, 82);
    let trg = uniform(2, 3, -1.0, 1.0, 83);
    let drive = Drive::nudged(input.view(), trg.view());
    let mut results = Vec::new();
    for order in [[1, 2, 3], [3, 2, 1], [2, 3, 1], [3, 1, 2]] {
        let net = base.clone().with_visit_order(&order).unwrap();
        let mut s = state0.clone();
        let mut m = Euler::new(&net, 84);
        for n in 0..500 {
            m.step(&net, &mut s, &drive, n as f64 * 0.1, 0.1).unwrap();
        }
        results.push(s);
    }
    assert_ne!(results[0].y, state0.y, "the state must have moved");
    for r in &results[1..] {
        assert!(
            r.y.iter()
                .zip(&results[0].y)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "visiting order changed the result"
        );
    }
}

#[test]
fn the_fused_euler_step_is_y_plus_dt_times_the_right_hand_side() {
    // 37-20-18-5 (rows longer and shorter than the kernels' 16 lanes), every rule plastic,
    // biases, input low-pass, a target; with τ_w traces and without, with a weight bound and
    // without, batch 1 and 3. One step of the fused Euler against y + dt f(y) from `rhs`.
    for (tau_w, clip, batch) in [
        (30.0, None, 1),
        (30.0, Some(0.9), 3),
        (0.0, None, 3),
        (0.0, Some(0.9), 1),
    ] {
        let mut config = NetworkConfig::new(&[37, 20, 18, 5]);
        config.bias = true;
        config.tau_in = 3.0;
        config.plasticity = Plasticity {
            eta_up: vec![0.3, 0.2, 0.1],
            eta_down: vec![0.05, 0.05],
            eta_ip: vec![0.2, 0.1],
            eta_pi: vec![0.2, 0.1],
            tau_w,
            eta_scale: 1.0,
            clip,
        };
        let (net, mut state) = network(config, batch, 1.0, TopDown::Random, false, 91);
        // Non-zero traces, potentials and filtered input, so that every term is exercised.
        let mut rng = dendritic::rng::Rng::new(92);
        for v in state.y.iter_mut() {
            *v += 0.3 * rng.uniform_in(-1.0, 1.0);
        }
        let input = uniform(batch, 37, 0.0, 1.0, 93);
        let trg = uniform(batch, 5, -1.0, 1.0, 94);
        let drive = Drive::nudged(input.view(), trg.view());
        let dt = 0.1;
        let mut ws = dendritic::model::Workspace::new(&net);
        let mut dy = vec![0.0; net.layout.n_dynamic];
        net.rhs(&state.y, &state.p, &drive, &mut ws, &mut dy);
        let mut want = state.clone();
        for (y, d) in want.y.iter_mut().zip(&dy) {
            *y += dt * d;
        }
        net.project(&mut want);
        Euler::new(&net, 95)
            .step(&net, &mut state, &drive, 0.0, dt)
            .unwrap();
        let scale = want.y.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        let err = max_diff(&state.y, &want.y, want.y.len());
        assert!(
            err <= 1e-13 * scale,
            "τ_w {tau_w} clip {clip:?} batch {batch}: {err:e}"
        );
        if clip.is_some() {
            assert!(
                want.y.iter().any(|v| v.abs() == 0.9),
                "the bound must bind somewhere"
            );
        }
    }
}

#[test]
fn euler_on_two_threads_gives_the_bits_of_one() {
    // 300-200-120-10: W^PP_{1,0} (200 × 300) and the hidden groups are large enough to be cut in
    // two at batch 1 (the row kernels) and batch 6 (the GEMM path); every rule on with τ_w
    // traces, biases, noise and a target, 30 Euler–Maruyama steps.
    for batch in [1, 6] {
        let mut config = NetworkConfig::new(&[300, 200, 120, 10]);
        config.bias = true;
        config.tau_in = 3.0;
        config.noise = Noise {
            sigma: 0.1,
            ..Noise::default()
        };
        config.plasticity = Plasticity {
            eta_up: vec![0.01, 0.01, 0.01],
            eta_down: vec![0.005, 0.005],
            eta_ip: vec![0.01, 0.01],
            eta_pi: vec![0.01, 0.01],
            tau_w: 30.0,
            eta_scale: 1.0,
            clip: None,
        };
        let (net, state0) = network(config, batch, 1.0, TopDown::Random, false, 86);
        let input = uniform(batch, 300, 0.0, 1.0, 87);
        let trg = uniform(batch, 10, -1.0, 1.0, 88);
        let drive = Drive::nudged(input.view(), trg.view());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let run = |threads: usize| {
            pool.install(|| {
                assert_eq!(rayon::current_num_threads(), 2);
                let mut s = state0.clone();
                let mut m = Euler::new(&net, 89);
                m.set_threads(threads);
                for n in 0..30 {
                    m.step(&net, &mut s, &drive, n as f64 * 0.1, 0.1).unwrap();
                }
                s
            })
        };
        let (one, two) = (run(1), run(2));
        assert_ne!(one.y, state0.y, "the state must have moved");
        let same = one
            .y
            .iter()
            .zip(&two.y)
            .filter(|(a, b)| a.to_bits() == b.to_bits())
            .count();
        assert_eq!(
            same,
            one.y.len(),
            "batch {batch}: two threads changed the result"
        );
    }
}
