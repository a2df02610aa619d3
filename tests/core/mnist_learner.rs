//! The MNIST learner (paper-spec §6.4): one minibatch step of the two-pass learner against the
//! same step computed by hand, scalar by scalar, on a 3-2-2 network with a batch of 2.

use dendritic::experiment::scenario::Training;
use dendritic::learn::learning_rates;
use dendritic::model::{Drive, Network, NetworkConfig, Projection, State};
use dendritic::solve::TwoPass;
use ndarray::{Array2, array};

fn sigma(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// (W, b) of a synapse group as plain nested vectors.
fn get(net: &Network, state: &State, p: Projection, k: usize) -> (Vec<Vec<f64>>, Vec<f64>) {
    let syn = net.layout.synapses(p, k);
    let w = state.view(&syn.w);
    let rows = w.rows().into_iter().map(|r| r.to_vec()).collect();
    let b = syn
        .bias
        .map(|b| state.view(&b).row(0).to_vec())
        .unwrap_or_else(|| vec![0.0; w.nrows()]);
    (rows, b)
}

/// Every weight a distinct number in (−1, 1) and every bias one in (−0.5, 0.5), from a
/// deterministic sequence started at `v`.
fn fill_distinct(net: &Network, state: &mut State, mut v: f64) {
    for syn in net.layout.synapses.clone() {
        state.view_mut(&syn.w).mapv_inplace(|_| {
            v = (v * 7.31 + 0.123).fract();
            2.0 * v - 1.0
        });
        if let Some(b) = syn.bias {
            state.view_mut(&b).mapv_inplace(|_| {
                v = (v * 5.17 + 0.311).fract();
                v - 0.5
            });
        }
    }
}

fn affine(w: &[Vec<f64>], b: &[f64], x: &[f64]) -> Vec<f64> {
    w.iter()
        .zip(b)
        .map(|(row, bi)| row.iter().zip(x).map(|(a, c)| a * c).sum::<f64>() + bi)
        .collect()
}

/// A 3-2-2 network with biases, the hand computation's conductances and rates, no traces.
fn hand_config() -> NetworkConfig {
    let mut config = NetworkConfig::new(&[3, 2, 2]);
    config.bias = true;
    let c = &mut config.conductances;
    (c.g_lk, c.g_b, c.g_a, c.g_d, c.g_som) = (0.1, 1.0, 0.3, 1.2, 0.7);
    let p = &mut config.plasticity;
    p.eta_up = vec![0.3, 0.2];
    p.eta_ip = vec![0.15];
    p.eta_pi = vec![0.05];
    p.eta_down = vec![0.07];
    p.tau_w = 0.0;
    config
}

/// The weights of the hand computation.
struct HandWeights<'a> {
    w1: &'a [Vec<f64>],
    b1: &'a [f64],
    w2: &'a [Vec<f64>],
    b2: &'a [f64],
    wip: &'a [Vec<f64>],
    bip: &'a [f64],
    wpi: &'a [Vec<f64>],
    wd: &'a [Vec<f64>],
}

/// By hand (paper-spec §6.4, current nudging) for one sample: upward pass, nudged output,
/// interneurons settled on it, apical potential, hidden soma as the conductance-weighted
/// mixture; returns the post factors (Eqs. 7–10) and presynaptic rates of the five groups
/// (W^PP_1, W^PP_2, W^IP, W^PI, W^down).
fn hand_factors(w: &HandWeights, x: &[f64], t: &[f64; 2]) -> [(Vec<f64>, Vec<f64>); 5] {
    let (g_lk, g_b, g_a, g_d, g_som) = (0.1, 1.0, 0.3, 1.2, 0.7);
    let (a1, a2, ai) = (
        g_b / (g_lk + g_b + g_a),
        g_b / (g_lk + g_b),
        g_d / (g_lk + g_d),
    );
    let vb1 = affine(w.w1, w.b1, x);
    let r1_up: Vec<f64> = vb1.iter().map(|v| sigma(a1 * v)).collect();
    let vb2 = affine(w.w2, w.b2, &r1_up);
    let u2: Vec<f64> = (0..2)
        .map(|i| (g_b * vb2[i] + g_som * t[i]) / (g_lk + g_b + g_som))
        .collect();
    let r2: Vec<f64> = u2.iter().map(|&u| sigma(u)).collect();
    let vi = affine(w.wip, w.bip, &r1_up);
    let ui: Vec<f64> = (0..2)
        .map(|i| (g_d * vi[i] + g_som * u2[i]) / (g_lk + g_d + g_som))
        .collect();
    let ri: Vec<f64> = ui.iter().map(|&u| sigma(u)).collect();
    let vtd = affine(w.wd, &[0.0, 0.0], &r2);
    let va: Vec<f64> = (0..2)
        .map(|i| vtd[i] + (0..2).map(|j| w.wpi[i][j] * ri[j]).sum::<f64>())
        .collect();
    let u1: Vec<f64> = (0..2)
        .map(|i| (g_b * vb1[i] + g_a * va[i]) / (g_lk + g_b + g_a))
        .collect();
    let r1: Vec<f64> = u1.iter().map(|&u| sigma(u)).collect();
    let down: Vec<f64> = (0..2).map(|i| r1[i] - sigma(vtd[i])).collect();
    [
        (
            (0..2).map(|i| r1[i] - sigma(a1 * vb1[i])).collect(),
            x.to_vec(),
        ),
        (
            (0..2).map(|i| r2[i] - sigma(a2 * vb2[i])).collect(),
            r1.clone(),
        ),
        ((0..2).map(|i| ri[i] - sigma(ai * vi[i])).collect(), r1),
        ((0..2).map(|i| -va[i]).collect(), ri),
        (down, r2),
    ]
}

#[allow(
    clippy::needless_range_loop,
    reason = "i indexes the post-synaptic neuron of e, of the expected weights and of the biases"
)]
#[test]
fn one_minibatch_step_matches_the_hand_computed_update() {
    let config = hand_config();
    let net = Network::new(config.clone(), 2).expect("valid");
    let mut state = net.zero_state();
    fill_distinct(&net, &mut state, 0.37);
    let x: Array2<f64> = array![[0.2, 0.9, 0.4], [0.7, 0.1, 0.5]];
    let t: Array2<f64> = array![[1.386, -2.197], [-2.197, 1.386]];
    let (w1, b1) = get(&net, &state, Projection::Up, 1);
    let (w2, b2) = get(&net, &state, Projection::Up, 2);
    let (wip, bip) = get(&net, &state, Projection::Ip, 1);
    let (wpi, _) = get(&net, &state, Projection::Pi, 1);
    let (wd, _) = get(&net, &state, Projection::Down, 1);

    let mut expect = [
        (w1.clone(), b1.clone()),
        (w2.clone(), b2.clone()),
        (wip.clone(), bip.clone()),
        (wpi.clone(), vec![0.0; 2]),
        (wd.clone(), vec![0.0; 2]),
    ];
    let eta = [0.3, 0.2, 0.15, 0.05, 0.07];
    let weights = HandWeights {
        w1: &w1,
        b1: &b1,
        w2: &w2,
        b2: &b2,
        wip: &wip,
        bip: &bip,
        wpi: &wpi,
        wd: &wd,
    };
    for s in 0..2 {
        let x: Vec<f64> = x.row(s).to_vec();
        let groups = hand_factors(&weights, &x, &[t[[s, 0]], t[[s, 1]]]);
        for (g, (e, pre)) in groups.iter().enumerate() {
            for i in 0..2 {
                for (j, r) in pre.iter().enumerate() {
                    expect[g].0[i][j] += eta[g] * e[i] * r / 2.0;
                }
                expect[g].1[i] += eta[g] * e[i] / 2.0;
            }
        }
    }

    let mut two_pass = TwoPass::new(&net);
    let drive = Drive::nudged(x.view(), t.view());
    two_pass.passes(&net, &mut state, &drive);
    let rates: Vec<f64> = net.layout.synapses.iter().map(|s| s.eta).collect();
    two_pass.apply_plasticity(&net, &mut state, &rates);
    let order = [
        (Projection::Up, 1),
        (Projection::Up, 2),
        (Projection::Ip, 1),
        (Projection::Pi, 1),
        (Projection::Down, 1),
    ];
    let mut max_change: f64 = 0.0;
    for (g, &(proj, k)) in order.iter().enumerate() {
        let (w, b) = get(&net, &state, proj, k);
        let before = [&w1, &w2, &wip, &wpi, &wd][g];
        for i in 0..2 {
            for j in 0..w[i].len() {
                max_change = max_change.max((w[i][j] - before[i][j]).abs());
                assert!(
                    (w[i][j] - expect[g].0[i][j]).abs() < 1e-13,
                    "{proj:?} {k} W[{i},{j}]: {} vs hand {}",
                    w[i][j],
                    expect[g].0[i][j]
                );
            }
            if net.layout.synapses(proj, k).bias.is_some() {
                assert!(
                    (b[i] - expect[g].1[i]).abs() < 1e-13,
                    "{proj:?} {k} b[{i}]: {} vs hand {}",
                    b[i],
                    expect[g].1[i]
                );
            }
        }
    }
    // The step is not trivially zero.
    assert!(max_change > 1e-3, "largest weight change {max_change}");
}

/// A 4-3-3-2 network with biases, distinct weights from `fill`, set self-predicting, and the
/// per-synapse rates that make only `projection` plastic (at `rate`).
fn self_predicting_net(projection: Projection, rate: f64, fill: f64) -> (Network, State, Vec<f64>) {
    let mut config = NetworkConfig::new(&[4, 3, 3, 2]);
    config.bias = true;
    match projection {
        Projection::Ip => config.plasticity.eta_ip = vec![rate, rate],
        Projection::Pi => config.plasticity.eta_pi = vec![rate, rate],
        _ => unreachable!("only the interneuron projections are used here"),
    }
    config.plasticity.tau_w = 0.0;
    let net = Network::new(config, 2).expect("valid");
    let mut state = net.zero_state();
    fill_distinct(&net, &mut state, fill);
    net.set_self_predicting(&mut state);
    let eta: Vec<f64> = net
        .layout
        .synapses
        .iter()
        .map(|s| {
            if s.projection == projection {
                rate
            } else {
                0.0
            }
        })
        .collect();
    (net, state, eta)
}

/// A batch of two inputs and two output targets (as potentials, φ^{-1} of 0.8 and 0.1).
fn two_samples() -> (Array2<f64>, Array2<f64>) {
    (
        array![[0.2, 0.9, 0.4, 0.0], [0.7, 0.1, 0.5, 1.0]],
        array![[1.386, -2.197], [-2.197, 1.386]],
    )
}

#[test]
fn interneurons_taught_by_the_free_passes_learn_nothing_in_the_self_predicting_state() {
    // `mnist.interneuron_teaching = "free"` rests on this: without the target, the two passes
    // leave W^IP's factor φ(u^I) − φ(v̂^I) at 0 in the self-predicting state (W^IP only tracks
    // W^PP_{k+1,k}), while the nudged passes move it (it learns the teaching signal too).
    let (net, state, eta) = self_predicting_net(Projection::Ip, 0.2, 0.61);
    let (x, t) = two_samples();
    let ip = |s: &State, k| net.weights(s, Projection::Ip, k);
    let mut two_pass = TwoPass::new(&net);

    let mut free = state.clone();
    two_pass.passes(&net, &mut free, &Drive::free(x.view()));
    two_pass.apply_plasticity(&net, &mut free, &eta);
    let mut nudged = state.clone();
    two_pass.passes(&net, &mut nudged, &Drive::nudged(x.view(), t.view()));
    two_pass.apply_plasticity(&net, &mut nudged, &eta);
    for k in 1..3 {
        let moved = |s: &State| {
            (&ip(s, k) - &ip(&state, k))
                .iter()
                .fold(0.0_f64, |m, d| m.max(d.abs()))
        };
        assert!(moved(&free) < 1e-14, "free, layer {k}: {:e}", moved(&free));
        assert!(
            moved(&nudged) > 1e-5,
            "nudged, layer {k}: {:e}",
            moved(&nudged)
        );
    }
}

#[test]
fn rule_9_learns_the_teaching_signal_in_the_nudged_passes_and_nothing_in_the_free_ones() {
    // `mnist.interneuron_teaching = "free_lateral"` rests on this. In the self-predicting state
    // the free passes leave v_A = 0 and so W^PI where it is; the nudged passes move it by
    // −η v_A (r^I)^T with v_A = W^PP_{k,k+1} r_{k+1} + W^PI r^I = W^PP_{k,k+1} (r_{k+1} − r^I),
    // the teaching signal itself, which rule 9 then learns to cancel.
    let (net, state, eta) = self_predicting_net(Projection::Pi, 0.3, 0.37);
    let (x, t) = two_samples();
    let pi = |s: &State, k| net.weights(s, Projection::Pi, k);
    let mut two_pass = TwoPass::new(&net);

    let mut free = state.clone();
    two_pass.passes(&net, &mut free, &Drive::free(x.view()));
    two_pass.apply_plasticity(&net, &mut free, &eta);
    for k in 1..3 {
        let moved = (&pi(&free, k) - &pi(&state, k))
            .iter()
            .fold(0.0_f64, |m, d| m.max(d.abs()));
        assert!(moved < 1e-14, "free, layer {k}: {moved:e}");
    }

    let mut nudged = state.clone();
    two_pass.passes(&net, &mut nudged, &Drive::nudged(x.view(), t.view()));
    let (r, r_int) = (
        two_pass.workspace().r.clone(),
        two_pass.workspace().r_int.clone(),
    );
    two_pass.apply_plasticity(&net, &mut nudged, &eta);
    let mut largest = 0.0_f64;
    for k in 1..3 {
        let down = net.weights(&state, Projection::Down, k);
        // v_A per sample (rows), then ΔW^PI = −η ⟨v_A (r^I)^T⟩ over the batch of 2.
        let v_a = (&r[k + 1] - &r_int[k]).dot(&down.t());
        let hand = v_a.t().dot(&r_int[k]) * (-0.3 / 2.0);
        let step = &pi(&nudged, k) - &pi(&state, k);
        for ((i, j), h) in hand.indexed_iter() {
            assert!(
                (step[[i, j]] - h).abs() < 1e-14,
                "nudged, layer {k}, W^PI[{i},{j}]: {} vs hand {h}",
                step[[i, j]]
            );
            largest = largest.max(h.abs());
        }
    }
    assert!(
        largest > 1e-4,
        "the nudged step is trivially small: {largest:e}"
    );
}

#[test]
fn tracking_rates_keep_the_interneurons_self_predicting_to_first_order() {
    // `mnist.interneuron_rescaling = "tracking"`: W^IP_{k,k}'s rate is divided by
    // λ_I s_{k+1} / c_k, so that one two-pass step moves it by c_k times the step of
    // W^PP_{k+1,k} (both rules see the same teaching term, W^IP's diluted by λ_I), and the
    // network stays self-predicting. Weak conductances (λ ≈ 0.01) make the linear regime
    // exact to ~1 %; g_D = 0.5 makes c_k ≈ 1.08–1.09, so a rate without c_k is 8 % off.
    let mut config = NetworkConfig::new(&[4, 3, 3, 2]);
    config.bias = true;
    let c = &mut config.conductances;
    (c.g_lk, c.g_b, c.g_a, c.g_d, c.g_som) = (0.1, 1.0, 0.01, 0.5, 0.01);
    config.plasticity.eta_up = vec![0.0, 0.3, 0.3];
    config.plasticity.eta_ip = vec![0.3, 0.3];
    config.plasticity.tau_w = 0.0;
    let net = Network::new(config, 2).expect("valid");
    let mut state = net.zero_state();
    fill_distinct(&net, &mut state, 0.29);
    net.set_self_predicting(&mut state);
    let training: Training =
        toml::from_str("epochs = 1\ninterneuron_rescaling = \"tracking\"").expect("valid");
    let eta = learning_rates(&net, &training);
    let x: Array2<f64> = array![[0.2, 0.9, 0.4, 0.0], [0.7, 0.1, 0.5, 1.0]];
    let t: Array2<f64> = array![[1.386, -2.197], [-2.197, 1.386]];
    let mut after = state.clone();
    let mut two_pass = TwoPass::new(&net);
    two_pass.passes(&net, &mut after, &Drive::nudged(x.view(), t.view()));
    two_pass.apply_plasticity(&net, &mut after, &eta);
    for k in 1..3 {
        let ck = net.self_predicting_factor(k);
        assert!((ck - 1.0).abs() > 0.07, "c_{k} = {ck}");
        let d_ip =
            &net.weights(&after, Projection::Ip, k) - &net.weights(&state, Projection::Ip, k);
        let d_pp = (&net.weights(&after, Projection::Up, k + 1)
            - &net.weights(&state, Projection::Up, k + 1))
            * ck;
        let norm = d_pp.iter().fold(0.0_f64, |m, d| m.max(d.abs()));
        let off = (&d_ip - &d_pp).iter().fold(0.0_f64, |m, d| m.max(d.abs()));
        assert!(norm > 1e-4, "layer {k}: W^PP_{{k+1,k}} moved by {norm:e}");
        assert!(
            off < 0.03 * norm,
            "layer {k}: ΔW^IP − c ΔW^PP = {off:e} against {norm:e}"
        );
    }
}

/// W^IP_{1,1} − c_1 W^PP_{2,1} of a 5-4-1-1 network, flattened.
fn ip_error(net: &Network, state: &State) -> Vec<f64> {
    let c = net.self_predicting_factor(1);
    let ip = net.weights(state, Projection::Ip, 1);
    let up = net.weights(state, Projection::Up, 2);
    ip.iter().zip(up.iter()).map(|(i, u)| i - c * u).collect()
}

#[test]
fn tracking_interneurons_correct_themselves_with_the_predicted_gain_and_diverge_above_two() {
    // With `interneuron_rescaling = "tracking"` the layer-1 interneurons learn at
    // η c_1 / (λ_I s_2). Their delta rule then shrinks an error E = W^IP_{1,1} − c_1 W^PP_{2,1}
    // lying along the presynaptic rates r_1 by the gain g = η a_2 φ'(u_2) ‖r_1‖² / s_2 per step
    // (a_2 the basal attenuation of layer 2; scenarios/mnist_tracking.toml): it converges for
    // g < 2 and diverges for g > 2, which caps the hidden→hidden rate of the MNIST study.
    // One fixed image, no target, every other weight frozen, weak g_A (layer 1 barely moves).
    let mut config = NetworkConfig::new(&[5, 4, 1, 1]);
    let c = &mut config.conductances;
    (c.g_lk, c.g_b, c.g_a, c.g_d, c.g_som) = (0.1, 1.0, 0.02, 1.0, 0.5);
    config.plasticity.eta_up = vec![0.0, 0.0, 0.0];
    config.plasticity.eta_ip = vec![1.0, 0.0];
    config.plasticity.eta_pi = vec![0.0, 0.0];
    config.plasticity.tau_w = 0.0;
    let net = Network::new(config, 1).expect("valid");
    let mut state = net.zero_state();
    fill_distinct(&net, &mut state, 0.43);
    net.set_self_predicting(&mut state);
    let training: Training =
        toml::from_str("epochs = 1\ninterneuron_rescaling = \"tracking\"").expect("valid");
    let eta_one = learning_rates(&net, &training);
    let x: Array2<f64> = array![[0.9, 0.1, 0.6, 0.3, 0.8]];

    // The predicted gain at η = 1, by hand: the upward pass of layer 1, the free potential of
    // layer 2 (its apical dendrite is silent in the self-predicting state).
    let cond = &net.config.conductances;
    let (a1, a2) = (cond.basal_attenuation(false), cond.basal_attenuation(false));
    let (w1, _) = get(&net, &state, Projection::Up, 1);
    let (w2, _) = get(&net, &state, Projection::Up, 2);
    let r1: Vec<f64> = affine(&w1, &[0.0; 4], x.row(0).as_slice().unwrap())
        .iter()
        .map(|v| sigma(a1 * v))
        .collect();
    let u2 = a2 * affine(&w2, &[0.0], &r1)[0];
    let norm2: f64 = r1.iter().map(|r| r * r).sum();
    let s2 = net.teaching_dilution()[2];
    let gain_per_eta = a2 * sigma(u2) * (1.0 - sigma(u2)) * norm2 / s2;

    let run = |gain: f64, steps: usize| -> (f64, f64) {
        let eta: Vec<f64> = eta_one.iter().map(|e| e * gain / gain_per_eta).collect();
        let mut s = state.clone();
        // Perturb W^IP_{1,1} along r_1 by 1e-4 (relative to ‖r_1‖).
        let ip = net.layout.synapses(Projection::Ip, 1).w;
        for (w, r) in s.view_mut(&ip).iter_mut().zip(&r1) {
            *w += 1e-4 * r / norm2.sqrt();
        }
        let e0 = ip_error(&net, &s);
        let mut two_pass = TwoPass::new(&net);
        let mut first = 0.0;
        for step in 0..steps {
            two_pass.passes(&net, &mut s, &Drive::free(x.view()));
            two_pass.apply_plasticity(&net, &mut s, &eta);
            if step == 0 {
                let e1 = ip_error(&net, &s);
                let dot: f64 = e1.iter().zip(&e0).map(|(a, b)| a * b).sum();
                first = dot / e0.iter().map(|a| a * a).sum::<f64>();
            }
        }
        let len = |e: &[f64]| e.iter().map(|a| a * a).sum::<f64>().sqrt();
        (first, len(&ip_error(&net, &s)) / len(&e0))
    };
    for gain in [0.5, 1.5, 2.5] {
        let (first, _) = run(gain, 1);
        assert!(
            (first - (1.0 - gain)).abs() < 1e-3 * gain,
            "gain {gain}: one step scaled the error by {first}, predicted {}",
            1.0 - gain
        );
    }
    let (_, shrunk) = run(1.5, 12);
    assert!(shrunk < 1e-3, "gain 1.5: error × {shrunk:e} after 12 steps");
    let (_, grown) = run(2.5, 12);
    assert!(grown > 50.0, "gain 2.5: error × {grown} after 12 steps");
}

/// `mnist.rate_normalization = "presynaptic"` (issue 20): the learner's step is the hand step
/// with every group's rate divided by 1 + ⟨‖r_pre‖²⟩ over the minibatch, the presynaptic rates
/// being those of that group's hand-computed factors.
#[allow(
    clippy::needless_range_loop,
    reason = "i and j index the post- and presynaptic neurons of e, the weights and the hand's copy"
)]
#[test]
fn presynaptic_normalisation_divides_each_rate_by_one_plus_the_presynaptic_power() {
    let config = hand_config();
    let net = Network::new(config.clone(), 2).expect("valid");
    let mut state = net.zero_state();
    fill_distinct(&net, &mut state, 0.37);
    let x: Array2<f64> = array![[0.2, 0.9, 0.4], [0.7, 0.1, 0.5]];
    let t: Array2<f64> = array![[1.386, -2.197], [-2.197, 1.386]];
    let order = [
        (Projection::Up, 1),
        (Projection::Up, 2),
        (Projection::Ip, 1),
        (Projection::Pi, 1),
        (Projection::Down, 1),
    ];
    let before: Vec<(Vec<Vec<f64>>, Vec<f64>)> = order
        .iter()
        .map(|&(p, k)| get(&net, &state, p, k))
        .collect();
    let weights = HandWeights {
        w1: &before[0].0,
        b1: &before[0].1,
        w2: &before[1].0,
        b2: &before[1].1,
        wip: &before[2].0,
        bip: &before[2].1,
        wpi: &before[3].0,
        wd: &before[4].0,
    };
    let factors: Vec<_> = (0..2)
        .map(|s| hand_factors(&weights, &x.row(s).to_vec(), &[t[[s, 0]], t[[s, 1]]]))
        .collect();
    // The configured rate of each group, in the hand's order.
    let eta: Vec<f64> = order
        .iter()
        .map(|&(p, k)| net.layout.synapses(p, k).eta)
        .collect();
    let mut expect = before.clone();
    for g in 0..5 {
        let power: f64 = (0..2)
            .map(|s| factors[s][g].1.iter().map(|r| r * r).sum::<f64>())
            .sum::<f64>()
            / 2.0;
        let rate = eta[g] / (1.0 + power);
        for f in &factors {
            let (e, pre) = &f[g];
            for i in 0..2 {
                for (j, r) in pre.iter().enumerate() {
                    expect[g].0[i][j] += rate * e[i] * r / 2.0;
                }
                expect[g].1[i] += rate * e[i] / 2.0;
            }
        }
    }
    let training: Training = toml::from_str(
        "epochs = 1\nrescale_by_mixing = false\nrate_normalization = \"presynaptic\"",
    )
    .expect("settings");
    let mut learner =
        dendritic::TwoPassLearner::new(net, state, &training, 0.1, 1).expect("learner");
    dendritic::Learner::step(&mut learner, &x, &t).expect("step");
    let (net, state) = learner.network();
    for (g, &(proj, k)) in order.iter().enumerate() {
        let (w, b) = get(net, state, proj, k);
        for i in 0..2 {
            for j in 0..w[i].len() {
                assert!(
                    (w[i][j] - expect[g].0[i][j]).abs() < 1e-13,
                    "{proj:?} {k} W[{i},{j}]: {} vs hand {}",
                    w[i][j],
                    expect[g].0[i][j]
                );
            }
            if net.layout.synapses(proj, k).bias.is_some() {
                assert!((b[i] - expect[g].1[i]).abs() < 1e-13, "{proj:?} {k} b[{i}]");
            }
        }
    }
    // The normalisation matters here: every power is well above 0 (x alone gives 1.01 and 0.75).
    let changed = (0..5).all(|g| (expect[g].0[0][0] - before[g].0[0][0]).abs() > 1e-5);
    assert!(changed, "the step is not trivially zero");
}

/// The credit probes (issue 20) on a self-predicting 4-3-3-2 network whose top-down weights
/// are the transposed forward weights: nothing is left in the apical dendrites without a
/// target, the feedback is aligned (0°), feedback alignment through it is backprop (same
/// angle to the learner's update), the input's power is ⟨‖x‖²⟩; with a target the apical
/// error is not 0. After the top-down weights are perturbed, the free apical error and the
/// feedback angle are no longer 0.
#[test]
fn credit_probes_see_a_self_predicting_transposed_network_as_backprop() {
    let (net, mut state, _) = self_predicting_net(Projection::Ip, 0.1, 0.41);
    net.set_top_down_transpose(&mut state);
    net.set_self_predicting(&mut state);
    let (x, t) = two_samples();
    let power = (0..2)
        .map(|s| x.row(s).iter().map(|v| v * v).sum::<f64>())
        .sum::<f64>()
        / 2.0;
    let probes = dendritic::learn::probes::credit_probes(&net, &state, &x, &t);
    assert_eq!(probes.len(), 3);
    assert!((probes[0].presynaptic_power - power).abs() < 1e-14);
    for p in &probes {
        assert!((p.angle_fa_deg - p.angle_bp_deg).abs() < 1e-6, "{p:?}");
        assert!(p.angle_bp_deg > 0.0 && p.angle_bp_deg < 90.0, "{p:?}");
    }
    for p in &probes[..2] {
        assert!(p.apical_rms_free < 1e-12, "{p:?}");
        assert!(p.feedback_angle_deg < 1e-5, "{p:?}");
        assert!(p.apical_rms_nudged > 1e-3, "{p:?}");
    }
    // Perturb W^PP_{1,2}: feedback and interneuron cancellation are off, the angle is not 0.
    let down = net.layout.synapses(Projection::Down, 1).w;
    state.view_mut(&down)[[0, 1]] += 0.5;
    let off = dendritic::learn::probes::credit_probes(&net, &state, &x, &t);
    assert!(off[0].apical_rms_free > 1e-3, "{:?}", off[0]);
    assert!(off[0].feedback_angle_deg > 1.0, "{:?}", off[0]);
    assert!(
        (off[0].angle_fa_deg - off[0].angle_bp_deg).abs() > 1e-3,
        "{:?}",
        off[0]
    );
}

/// A two-pass learner on the MNIST study's network (784-500-500-10, batch 10, transposed ×10
/// top-down weights, tracking interneurons, presynaptic normalisation), seeds fixed.
fn mnist_sized_learner() -> dendritic::TwoPassLearner {
    use dendritic::model::{Initialisation, TopDown};
    use dendritic::rng::Rng;
    let training: Training = toml::from_str(
        "epochs = 1\nbatch = 10\ninterneuron_rescaling = \"tracking\"\nrate_normalization = \"presynaptic\"",
    )
    .expect("settings");
    let mut config = NetworkConfig::new(&[784, 500, 500, 10]);
    config.bias = true;
    config.conductances.g_a = 0.8;
    config.conductances.g_som = 1.0;
    config.plasticity.eta_up = vec![4.4, 0.4, 3.0];
    config.plasticity.eta_ip = vec![0.4, 3.0];
    let net = Network::new(config, 10).expect("network");
    let mut state = net.zero_state();
    let init = Initialisation {
        scale_up: 0.3,
        scale_down: 0.3,
        bias_offset: -2.0,
        top_down: TopDown::Transpose,
        transpose_gain: 10.0,
        self_predicting: true,
        ..Initialisation::default()
    };
    net.initialise(&mut state, &init, &mut Rng::new(2));
    dendritic::TwoPassLearner::new(net, state, &training, 0.1, 3).expect("learner")
}

/// Holding each minibatch's change of W^PP_{k,k−1} and W^IP_{k,k} to the next upward pass
/// (where it is added while those weights are read, `model::Deferred`) gives the same bits as
/// adding it at once: the MNIST study's network and minibatch size, 60 minibatches cycling
/// through 7 different ones, a checkpoint taken and an evaluation made in between (both add
/// what is held first). On a machine where the shapes fail the check nothing is held, and the
/// comparison holds trivially (the count says which ran).
#[test]
fn held_weight_changes_give_the_bits_of_changes_made_at_once() {
    use dendritic::Learner;
    use dendritic::rng::Rng;
    let mut held = mnist_sized_learner();
    let mut plain = mnist_sized_learner().without_holding();
    assert_eq!(plain.held_groups(), 0);
    let isa = dendritic::linalg::isa();
    let core = dendritic::linalg::blas_core().to_lowercase();
    if isa == dendritic::linalg::Isa::Avx512
        && (core.contains("cooperlake") || core.contains("skylakex"))
    {
        // W^PP_{1,0} (500 × 784), W^PP_{2,1} and W^IP_{1,1} (500 × 500); the 10 × 500 groups
        // go to OpenBLAS's small-matrix kernel, which sums otherwise.
        assert_eq!(held.held_groups(), 3);
    }
    let mut rng = Rng::new(5);
    let xs: Vec<Array2<f64>> = (0..7)
        .map(|_| Array2::from_shape_fn((10, 784), |_| rng.uniform()))
        .collect();
    let ts: Vec<Array2<f64>> = (0..7)
        .map(|i| {
            Array2::from_shape_fn((10, 10), |(s, j)| if j == (i + s) % 10 { 0.8 } else { 0.1 })
        })
        .collect();
    let bits = |l: &mut dendritic::TwoPassLearner| -> Vec<u64> {
        l.network().1.y.iter().map(|v| v.to_bits()).collect()
    };
    for q in 0..60 {
        held.step(&xs[q % 7], &ts[q % 7]).expect("step");
        plain.step(&xs[q % 7], &ts[q % 7]).expect("step");
        for k in 0..=3 {
            let same = held
                .rates(k)
                .iter()
                .zip(plain.rates(k).iter())
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "minibatch {q}: r_{k} differs");
        }
        if q == 20 {
            let (a, b) = (
                held.checkpoint().expect("arrays"),
                plain.checkpoint().expect("arrays"),
            );
            assert!(a == b, "the checkpoints differ");
        }
        if q == 40 {
            let labels = [3u8; 10];
            let (a, b) = (
                held.error_percent(&xs[0], &labels),
                plain.error_percent(&xs[0], &labels),
            );
            assert_eq!(a.to_bits(), b.to_bits());
        }
    }
    assert!(
        bits(&mut held) == bits(&mut plain),
        "the final states differ"
    );
}
