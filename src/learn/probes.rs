//! Probes of the two-pass microcircuit's credit assignment on a fixed set of images, taken at
//! every evaluation without disturbing the run: how far its weight update is from backprop's
//! and from feedback alignment's on the same minibatch, the apical error it works from, how
//! well its fixed feedback is aligned with the forward weights, and the power of the rates
//! each forward weight matrix learns from (which sets the gain of its delta rule).

use ndarray::Array2;

use crate::analysis::equivalence::angle_deg;
use crate::baseline::{Credit, FeedForward};
use crate::model::{Drive, Network, Projection, State};
use crate::solve::TwoPass;

/// The probes of one layer k, averaged over the probe minibatches.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LayerProbe {
    /// Layer k (1..=N).
    pub layer: usize,
    /// Angle (deg) between the learner's rule-7 update of W^PP_{k,k−1} and backprop's
    /// −∂L/∂W_k on the same minibatch (L the microcircuit's own Bregman loss).
    pub angle_bp_deg: f64,
    /// The same against feedback alignment through the network's own top-down weights.
    pub angle_fa_deg: f64,
    /// RMS of the apical potentials v_A,k at the bottom-up state without a target (what the
    /// interneurons fail to cancel; 0 when self-predicting). Hidden layers only (0 at the output).
    pub apical_rms_free: f64,
    /// RMS of v_A,k after the passes with the target (the error the layer learns from).
    pub apical_rms_nudged: f64,
    /// Angle (deg) between the top-down weights W^PP_{k,k+1} and (W^PP_{k+1,k})^T (hidden
    /// layers; 0 at the output).
    pub feedback_angle_deg: f64,
    /// ⟨‖r_{k−1}‖²⟩ over the probe images: the power of W^PP_{k,k−1}'s presynaptic rates. A
    /// delta rule on them corrects its error by a factor ∝ η times the largest eigenvalue of
    /// ⟨r rᵀ⟩, which this bounds from above.
    pub presynaptic_power: f64,
}

/// The probes of every layer for the images `x` (rows) and target potentials `target`, in
/// minibatches of the network's batch size (a remainder is left out). Uses the learner's own
/// two passes, from copies of `state`.
pub fn credit_probes(
    net: &Network,
    state: &State,
    x: &Array2<f64>,
    target: &Array2<f64>,
) -> Vec<LayerProbe> {
    let n = net.n_layers();
    let b = net.batch();
    let chunks = x.nrows() / b;
    let mut out: Vec<LayerProbe> = (1..=n)
        .map(|layer| LayerProbe {
            layer,
            ..LayerProbe::default()
        })
        .collect();
    if chunks == 0 {
        return out;
    }
    let mut two_pass = TwoPass::new(net);
    // Backprop and feedback alignment on the microcircuit's own loss.
    let mut ff = FeedForward::from_microcircuit(net, state);
    ff.loss = crate::baseline::OutputLoss::Bregman;
    let rms = |a: &Array2<f64>| (a.iter().map(|v| v * v).sum::<f64>() / a.len() as f64).sqrt();
    for c in 0..chunks {
        let rows = ndarray::s![c * b..(c + 1) * b, ..];
        let (xc, tc) = (x.slice(rows).to_owned(), target.slice(rows).to_owned());
        let mut st = state.clone();
        let free = Drive::free(xc.view());
        two_pass.passes(net, &mut st, &free);
        // The bottom-up pass leaves the apical potentials alone (it assumes them 0): evaluate
        // them at its state.
        net.dendrites(&st.y, &st.p, &free, two_pass.workspace_mut());
        for p in out.iter_mut() {
            let k = p.layer;
            let ws = two_pass.workspace();
            if k < n {
                p.apical_rms_free += rms(&ws.v_apical[k]);
            }
            let r = &ws.r[k - 1];
            p.presynaptic_power += r.iter().map(|v| v * v).sum::<f64>() / r.nrows() as f64;
        }
        let mut st = state.clone();
        two_pass.passes(net, &mut st, &Drive::nudged(xc.view(), tc.view()));
        let updates = net.minibatch_updates(&st, two_pass.workspace_mut());
        let bp = ff.updates(&xc, &tc, Credit::Backprop);
        let fa = ff.updates(&xc, &tc, Credit::FeedbackAlignment);
        for p in out.iter_mut() {
            let k = p.layer;
            if k < n {
                p.apical_rms_nudged += rms(&two_pass.workspace().v_apical[k]);
            }
            let i = net
                .layout
                .synapses
                .iter()
                .position(|s| s.projection == Projection::Up && s.layer == k);
            if let Some(i) = i {
                p.angle_bp_deg += angle_deg(&updates[i], &bp[k - 1].0);
                p.angle_fa_deg += angle_deg(&updates[i], &fa[k - 1].0);
            }
        }
    }
    let m = chunks as f64;
    for p in out.iter_mut() {
        p.angle_bp_deg /= m;
        p.angle_fa_deg /= m;
        p.apical_rms_free /= m;
        p.apical_rms_nudged /= m;
        p.presynaptic_power /= m;
        if p.layer < n {
            let forward = net.weights(state, Projection::Up, p.layer + 1);
            let feedback = net.weights(state, Projection::Down, p.layer);
            p.feedback_angle_deg = angle_deg(&forward, &feedback.t().to_owned());
        }
    }
    out
}
