//! Backprop equivalence, measured (paper-spec §5, results A1 and A2).
//!
//! For a self-predicting microcircuit with a target applied and settled (σ = 0):
//! (a) the somatic deviation Δu_k = u_k − u⁻_k against the A1 prediction
//!     s_k W_{k,k+1} D_{k+1} ⋯ W_{N−1,N} D_N (u_trgt − u⁻_N), and
//! (b) the steady-state change of rule 7, ⟨(φ(u_k) − φ(v̂_B,k)) r_{k−1}ᵀ⟩, against backprop's
//!     and feedback alignment's update for L = ½‖u_trgt − u_N‖², and against the A2 prediction
//!     s_k D_k (⋯) r⁻_{k−1}ᵀ.
//! The leading-order scale follows from the steady states of paper-spec §2.6 (our derivation):
//! s_N = λ_N and s_k = λ_A (1 − λ_I) s_{k+1}, i.e. s_k = λ_N [λ_A (1 − λ_I)]^{N−k}.

use ndarray::{Array1, Array2};

use super::super::baseline::{Credit, FeedForward};
use crate::model::{Drive, Network, Projection, State, Workspace};
use crate::solve::{MethodKind, Simulation, SolveError, SteadyStateConfig};

/// How the settled states are obtained.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Settle {
    /// A steady-state solver.
    Solver(SteadyStateConfig),
    /// The full dynamics integrated with RK4 for `duration_ms` at step `dt`.
    Dynamics {
        /// Step, ms.
        dt: f64,
        /// Duration, ms.
        duration_ms: f64,
    },
}

impl Settle {
    /// Short name for tables.
    pub fn name(&self) -> &'static str {
        match self {
            Settle::Solver(SteadyStateConfig::TwoPass) => "two_pass",
            Settle::Solver(SteadyStateConfig::FixedPoint { .. }) => "fixed_point",
            Settle::Solver(SteadyStateConfig::Newton { .. }) => "newton",
            Settle::Dynamics { .. } => "dynamics_rk4",
        }
    }

    fn apply(&self, net: &Network, state: &mut State, drive: &Drive) -> Result<(), SolveError> {
        match *self {
            Settle::Solver(cfg) => cfg.build(net).settle(net, state, drive).map(|_| ()),
            Settle::Dynamics { dt, duration_ms } => {
                let steps = (duration_ms / dt).round() as u64;
                let rk4 = MethodKind::Rk4.build(net, 0)?;
                Simulation::new(net, state, rk4, dt)?.run(steps, drive, &mut [])?;
                Ok(())
            }
        }
    }
}

/// The comparison for one layer.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerComparison {
    /// Layer k (1..=N).
    pub layer: usize,
    /// The predicted scale s_k.
    pub scale: f64,
    /// Angle between Δu_k and the A1 error term (deg).
    pub angle_du_deg: f64,
    /// ‖Δu_k − s_k b_k‖ / ‖s_k b_k‖.
    pub relerr_du: f64,
    /// Angle between the rule-7 change and backprop's −∂L/∂W_k (deg).
    pub angle_bp_deg: f64,
    /// Angle between the rule-7 change and feedback alignment's update (deg).
    pub angle_fa_deg: f64,
    /// Angle between feedback alignment's and backprop's updates (deg).
    pub angle_fa_to_bp_deg: f64,
    /// ‖ΔW_k − P_k‖ / ‖P_k‖ with P_k the A2 prediction s_k (D_k b_k) r⁻ᵀ.
    pub relerr_dw: f64,
}

fn angle(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    angle_deg(a, b)
}

/// Angle in degrees between two matrices seen as vectors.
pub fn angle_deg(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let dot: f64 = a.iter().zip(b.iter()).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    (dot / (na * nb)).clamp(-1.0, 1.0).acos().to_degrees()
}

fn relerr(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let num = a
        .iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt();
    let den = b.iter().map(|y| y * y).sum::<f64>().sqrt();
    num / den
}

/// Compares the settled microcircuit with backprop and feedback alignment, layer by layer.
/// `state` should be self-predicting (closed form); its potentials are overwritten.
///
/// # Errors
/// When a settle fails (non-convergence, divergence).
pub fn compare(
    net: &Network,
    state: &State,
    input: &Array2<f64>,
    target: &Array2<f64>,
    settle: Settle,
) -> Result<Vec<LayerComparison>, SolveError> {
    let n = net.n_layers();
    let phi = net.config.phi;
    let mut ws = Workspace::new(net);
    let free_drive = Drive::free(input.view());
    let nudged_drive = Drive::nudged(input.view(), target.view());
    let mut free = state.clone();
    net.bottom_up_pass(&mut free, &free_drive, &mut ws);
    settle.apply(net, &mut free, &free_drive)?;
    let mut nudged = free.clone();
    settle.apply(net, &mut nudged, &nudged_drive)?;
    let ff = FeedForward::from_microcircuit(net, state);
    let fwd = ff.forward(input);
    let bp = ff.updates(input, target, Credit::Backprop);
    let fa = ff.updates(input, target, Credit::FeedbackAlignment);
    let terms = net.induction_terms(&nudged, &nudged_drive, &mut ws);
    let rule7: Vec<&Array2<f64>> = (1..=n)
        .map(|k| {
            let i = net
                .layout
                .synapses
                .iter()
                .position(|s| s.projection == Projection::Up && s.layer == k)
                .expect("every layer has W_up");
            &terms[i].0
        })
        .collect();
    // A1 error terms b_k (rows = samples), b_N = u_trgt − u⁻_N.
    let mut b = vec![Array2::<f64>::zeros((0, 0)); n + 1];
    b[n] = target - &net.u_pyr(&free, n);
    for k in (1..n).rev() {
        let d = net.u_pyr(&free, k + 1).mapv(|u| phi.dphi(u));
        b[k] = (&b[k + 1] * &d).dot(&net.weights(state, Projection::Down, k).t());
    }
    let scale = net.teaching_dilution();
    let batch = input.nrows() as f64;
    let mut out = Vec::new();
    for k in 1..=n {
        let du = &net.u_pyr(&nudged, k) - &net.u_pyr(&free, k);
        let pred = &b[k] * scale[k];
        let d_k = net.u_pyr(&free, k).mapv(|u| phi.dphi(u));
        let p_k = (&pred * &d_k).t().dot(&fwd.r[k - 1]) / batch;
        let _: &Array1<f64> = &bp[k - 1].1;
        out.push(LayerComparison {
            layer: k,
            scale: scale[k],
            angle_du_deg: angle(&du, &b[k]),
            relerr_du: relerr(&du, &pred),
            angle_bp_deg: angle(rule7[k - 1], &bp[k - 1].0),
            angle_fa_deg: angle(rule7[k - 1], &fa[k - 1].0),
            angle_fa_to_bp_deg: angle(&fa[k - 1].0, &bp[k - 1].0),
            relerr_dw: relerr(rule7[k - 1], &p_k),
        });
    }
    Ok(out)
}

/// Conductances g_A = g_som = g such that λ_A = λ_N = λ (and λ_I = λ when g_D = g_B).
pub fn conductance_for_lambda(lambda: f64, g_lk: f64, g_b: f64) -> f64 {
    lambda * (g_lk + g_b) / (1.0 - lambda)
}
