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
