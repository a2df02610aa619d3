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
