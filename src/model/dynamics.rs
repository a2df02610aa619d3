//! The right-hand side: somatic dynamics (Eqs. 1–2, output and interneuron nudging),
//! instantaneous dendrites (Eqs. 3–5), the input low-pass and plasticity (Eqs. 7–10).

use crate::linalg::gemm;
use ndarray::{Array2, ArrayView2, Axis, Zip};

use super::deferred::Deferred;
use super::layout::{Projection, Segment};
use super::network::{Drive, Network, State, nudge};

/// Scratch arrays for one right-hand-side evaluation (no allocation per step).
#[derive(Clone, Debug)]
pub struct Workspace {
    /// r_k = φ(u^P_k), k = 0..N (r_0 are the input rates).
    pub r: Vec<Array2<f64>>,
    /// r^I_k = φ(u^I_k), k = 1..N−1.
    pub r_int: Vec<Array2<f64>>,
    /// v^P_{B,k} (Eq. 3), including the bias.
    pub v_basal: Vec<Array2<f64>>,
    /// Top-down part of the apical potential, v̂^P_{TD,k} = W^PP_{k,k+1} r_{k+1}.
    pub v_td: Vec<Array2<f64>>,
    /// v^P_{A,k} (Eq. 4), with the disinhibition gate on the interneuron term.
    pub v_apical: Vec<Array2<f64>>,
    /// v^I_k (Eq. 5), including the bias.
    pub v_int: Vec<Array2<f64>>,
    /// Post-synaptic factor of the current plasticity rule, per synapse group.
    pub post: Vec<Array2<f64>>,
}

impl Workspace {
    /// Buffers sized for `net`.
    pub fn new(net: &Network) -> Workspace {
        let b = net.batch();
        let s = &net.layout.sizes;
        let n = s.len() - 1;
        let z = |c: usize| Array2::zeros((b, c));
        let per_layer = |f: &dyn Fn(usize) -> usize| (0..=n).map(|k| z(f(k))).collect::<Vec<_>>();
        let post = net
            .layout
            .synapses
            .iter()
            .map(|syn| z(syn.w.rows))
            .collect();
        Workspace {
            r: per_layer(&|k| s[k]),
            r_int: per_layer(&|k| if k >= 1 && k < n { s[k + 1] } else { 0 }),
            v_basal: per_layer(&|k| if k >= 1 { s[k] } else { 0 }),
            v_td: per_layer(&|k| if k >= 1 && k < n { s[k] } else { 0 }),
            v_apical: per_layer(&|k| if k >= 1 && k < n { s[k] } else { 0 }),
            v_int: per_layer(&|k| if k >= 1 && k < n { s[k + 1] } else { 0 }),
            post,
        }
    }
}

/// A read-only view of a weight or bias block given the two flat vectors.
fn param<'a>(y: &'a [f64], p: &'a [f64], b: &super::layout::Block) -> ArrayView2<'a, f64> {
    match b.segment {
        Segment::Dynamic => b.view(y),
        Segment::Frozen => b.view(p),
    }
}

impl Network {
    /// Rates and dendritic potentials of a snapshot (Eqs. 3–5) into `ws`.
    pub fn dendrites(&self, y: &[f64], p: &[f64], drive: &Drive, ws: &mut Workspace) {
        let n = self.n_layers();
        self.input_rates(y, drive, ws);
        for k in 1..=n {
            self.pyr_rates(y, ws, k);
        }
        for k in 1..n {
            self.int_rates(y, ws, k);
        }
        for &k in &self.visit_order {
            self.basal(y, p, ws, k);
            if k < n {
                self.apical(y, p, ws, k, drive.gate(&self.config, k));
                self.int_dendrite(y, p, ws, k);
            }
        }
    }

    /// r_0: the filtered input when τ_in > 0, else the input itself.
    pub(crate) fn input_rates(&self, y: &[f64], drive: &Drive, ws: &mut Workspace) {
        match self.layout.r_in {
            Some(b) => ws.r[0].assign(&b.view(y)),
            None => ws.r[0].assign(&drive.input),
        }
    }

    /// r_k = φ(u^P_k).
    pub(crate) fn pyr_rates(&self, y: &[f64], ws: &mut Workspace, k: usize) {
        let u = &y[self.layout.u_pyr[k].range()];
        self.config.phi.phi_slice(1.0, u, flat_ws_mut(&mut ws.r[k]));
    }

    /// r^I_k = φ(u^I_k).
    pub(crate) fn int_rates(&self, y: &[f64], ws: &mut Workspace, k: usize) {
        let u = &y[self.layout.u_int[k].range()];
        self.config
            .phi
            .phi_slice(1.0, u, flat_ws_mut(&mut ws.r_int[k]));
    }

    /// Eq. 3: v_B,k = W^PP_{k,k−1} r_{k−1} (+ b_k), in row-vector form r W^T.
    pub(crate) fn basal(&self, y: &[f64], p: &[f64], ws: &mut Workspace, k: usize) {
        let up = self.layout.synapses(Projection::Up, k);
        gemm(
            1.0,
            &ws.r[k - 1],
            &param(y, p, &up.w).t(),
            0.0,
            &mut ws.v_basal[k],
        );
        self.add_bias(y, p, Projection::Up, k, &mut ws.v_basal[k]);
    }

    /// Adds the bias of `projection`'s group into layer k (if it has one) to `v`, every row.
    pub(crate) fn add_bias(
        &self,
        y: &[f64],
        p: &[f64],
        projection: Projection,
        k: usize,
        v: &mut Array2<f64>,
    ) {
        if let Some(b) = &self.layout.synapses(projection, k).bias {
            *v += &param(y, p, b);
        }
    }

    /// Eq. 4: v_A,k = W^PP_{k,k+1} r_{k+1} + gate_k W^PI_{k,k} r^I_k (and the top-down part alone).
    pub(crate) fn apical(&self, y: &[f64], p: &[f64], ws: &mut Workspace, k: usize, gate: f64) {
        let down = self.layout.synapses(Projection::Down, k);
        let pi = self.layout.synapses(Projection::Pi, k);
        gemm(
            1.0,
            &ws.r[k + 1],
            &param(y, p, &down.w).t(),
            0.0,
            &mut ws.v_td[k],
        );
        ws.v_apical[k].assign(&ws.v_td[k]);
        gemm(
            gate,
            &ws.r_int[k],
            &param(y, p, &pi.w).t(),
            1.0,
            &mut ws.v_apical[k],
        );
    }

    /// Eq. 5: v^I_k = W^IP_{k,k} r_k (+ b^I_k).
    pub(crate) fn int_dendrite(&self, y: &[f64], p: &[f64], ws: &mut Workspace, k: usize) {
        let ip = self.layout.synapses(Projection::Ip, k);
        gemm(
            1.0,
            &ws.r[k],
            &param(y, p, &ip.w).t(),
            0.0,
            &mut ws.v_int[k],
        );
        self.add_bias(y, p, Projection::Ip, k, &mut ws.v_int[k]);
    }

    /// Somatic derivatives du/dt (Eqs. 1–2 and the output equation of paper-spec §2.3) from the
    /// rates and dendrites already in `ws`; `du` has length `n_potentials`.
    pub(crate) fn potential_derivatives(
        &self,
        y: &[f64],
        drive: &Drive,
        ws: &Workspace,
        du: &mut [f64],
    ) {
        let l = &self.layout;
        let n = self.n_layers();
        let c = self.config.conductances;
        let nudging = self.config.nudging;
        // Flat slices (the blocks are contiguous, the workspace arrays standard): loops that
        // vectorise, each cell's expression as written.
        for &k in &self.visit_order {
            let u = &y[l.u_pyr[k].range()];
            let vb = flat_ws(&ws.v_basal[k]);
            let d = &mut du[l.u_pyr[k].range()];
            if k < n {
                // Eq. 1: −g_lk u + g_B (v_B − u) + g_A (v_A − u).
                let va = flat_ws(&ws.v_apical[k]);
                for (((d, &u), &vb), &va) in d.iter_mut().zip(u).zip(vb).zip(va) {
                    *d = -c.g_lk * u + c.g_b * (vb - u) + c.g_a * (va - u);
                }
            } else {
                // Output: −g_lk u + g_B (v_B − u) + i^P_N.
                match drive.target {
                    None => {
                        for ((d, &u), &vb) in d.iter_mut().zip(u).zip(vb) {
                            *d = -c.g_lk * u + c.g_b * (vb - u);
                        }
                    }
                    Some(t) => {
                        for (((d, &u), &vb), &trg) in d.iter_mut().zip(u).zip(vb).zip(t.iter()) {
                            *d = -c.g_lk * u + c.g_b * (vb - u) + nudge(nudging, c.g_som, trg, u).0;
                        }
                    }
                }
            }
            if k < n {
                // Eq. 2: −g_lk u^I + g_D (v^I − u^I) + i^I_k, nudged towards u^P_{k+1}.
                let ui = &y[l.u_int[k].range()];
                let upper = &y[l.u_pyr[k + 1].range()];
                let vi = flat_ws(&ws.v_int[k]);
                let d = &mut du[l.u_int[k].range()];
                for (((d, &u), &vi), &trg) in d.iter_mut().zip(ui).zip(vi).zip(upper) {
                    *d = -c.g_lk * u + c.g_d * (vi - u) + nudge(nudging, c.g_som, trg, u).0;
                }
            }
        }
    }

    /// du/dt of the potentials only, weights frozen (length `n_potentials`). Used by the
    /// steady-state solvers; the input filter is taken as it is in `y`.
    pub fn rhs_potentials(
        &self,
        y: &[f64],
        p: &[f64],
        drive: &Drive,
        ws: &mut Workspace,
        du: &mut [f64],
    ) {
        debug_assert_eq!(du.len(), self.layout.n_potentials);
        self.dendrites(y, p, drive, ws);
        self.potential_derivatives(y, drive, ws, du);
    }

    /// The full right-hand side dy/dt: potentials, input low-pass, plasticity (weights and
    /// traces). `dy` has the length of `y`.
    pub fn rhs(&self, y: &[f64], p: &[f64], drive: &Drive, ws: &mut Workspace, dy: &mut [f64]) {
        debug_assert_eq!(dy.len(), self.layout.n_dynamic);
        self.dendrites(y, p, drive, ws);
        let np = self.layout.n_potentials;
        self.potential_derivatives(y, drive, ws, &mut dy[..np]);
        if let Some(b) = self.layout.r_in {
            // τ_in dr_0/dt = x − r_0.
            let tau = self.config.tau_in;
            Zip::from(b.view_mut(dy))
                .and(b.view(y))
                .and(&drive.input)
                .for_each(|d, &r, &x| *d = (x - r) / tau);
        }
        self.plasticity(y, p, ws, dy);
    }

    /// Post-synaptic factors of rules 7–10 into `ws.post`, for every synapse group.
    pub(crate) fn post_factors(
        &self,
        y: &[f64],
        p: &[f64],
        ws: &mut Workspace,
        only_plastic: bool,
    ) {
        let c = self.config.conductances;
        let phi = self.config.phi;
        let n = self.n_layers();
        for (i, syn) in self.layout.synapses.iter().enumerate() {
            if only_plastic && !syn.is_plastic() {
                continue;
            }
            let k = syn.layer;
            let e = flat_ws_mut(&mut ws.post[i]);
            // e = r − φ(att · v): φ by the slice, then the difference.
            let mut rate_minus_phi = |r: &[f64], att: f64, v: &[f64]| {
                phi.phi_slice(att, v, e);
                for (e, &r) in e.iter_mut().zip(r) {
                    *e = r - *e;
                }
            };
            match syn.projection {
                Projection::Up => {
                    // Eq. 7: φ(u_k) − φ(v̂_B,k), v̂_B = g_B/(g_lk+g_B+g_A) v_B (g_A = 0 at the output).
                    let att = c.basal_attenuation(k == n);
                    rate_minus_phi(flat_ws(&ws.r[k]), att, flat_ws(&ws.v_basal[k]));
                }
                Projection::Ip => {
                    // Eq. 8: φ(u^I_k) − φ(v̂^I_k), v̂^I = g_D/(g_lk+g_D) v^I.
                    let att = c.interneuron_attenuation();
                    rate_minus_phi(flat_ws(&ws.r_int[k]), att, flat_ws(&ws.v_int[k]));
                }
                Projection::Pi => {
                    // Eq. 9: v_rest − v_A,k with v_rest = 0.
                    for (e, &va) in e.iter_mut().zip(flat_ws(&ws.v_apical[k])) {
                        *e = -va;
                    }
                }
                Projection::Down => {
                    // Eq. 10: φ(u_k) − φ(v̂_TD,k), v̂_TD = W^PP_{k,k+1} r_{k+1}.
                    rate_minus_phi(flat_ws(&ws.r[k]), 1.0, flat_ws(&ws.v_td[k]));
                }
            }
        }
        let _ = (y, p);
    }

    /// The pre-synaptic rates of a synapse group.
    pub(crate) fn pre_rates<'w>(
        &self,
        syn: &super::layout::Synapses,
        ws: &'w Workspace,
    ) -> ArrayView2<'w, f64> {
        let k = syn.layer;
        match syn.projection {
            Projection::Up => ws.r[k - 1].view(),
            Projection::Down => ws.r[k + 1].view(),
            Projection::Ip => ws.r[k].view(),
            Projection::Pi => ws.r_int[k].view(),
        }
    }

    /// Weight and trace derivatives (Eqs. 7–10 with the τ_w low-pass of paper-spec §3.1):
    /// τ_w dΔ/dt = −Δ + ⟨e r^T⟩, dW/dt = η Δ; or dW/dt = η ⟨e r^T⟩ when τ_w = 0. ⟨·⟩ is the
    /// mean over the batch.
    fn plasticity(&self, y: &[f64], p: &[f64], ws: &mut Workspace, dy: &mut [f64]) {
        self.post_factors(y, p, ws, true);
        let inv_b = 1.0 / self.batch() as f64;
        let tau_w = self.config.plasticity.tau_w;
        for (i, syn) in self.layout.synapses.iter().enumerate() {
            if !syn.is_plastic() {
                continue;
            }
            let pre = self.pre_rates(syn, ws);
            let e = &ws.post[i];
            match syn.trace_w {
                None => {
                    let mut dw = syn.w.view_mut(dy);
                    gemm(syn.eta * inv_b, &e.t(), &pre, 0.0, &mut dw);
                    if let Some(b) = syn.bias {
                        // η ⟨e⟩, summed in place (no allocation).
                        let mut db = b.view_mut(dy);
                        db.fill(0.0);
                        for row in e.rows() {
                            db.row_mut(0).scaled_add(syn.eta * inv_b, &row);
                        }
                    }
                }
                Some(tw) => {
                    {
                        let mut dt = tw.view_mut(dy);
                        gemm(inv_b / tau_w, &e.t(), &pre, 0.0, &mut dt);
                        dt.scaled_add(-1.0 / tau_w, &tw.view(y));
                    }
                    Zip::from(syn.w.view_mut(dy))
                        .and(tw.view(y))
                        .for_each(|d, &t| *d = syn.eta * t);
                    if let (Some(b), Some(tb)) = (syn.bias, syn.trace_bias) {
                        // (⟨e⟩ − trace)/τ_w, the mean summed in place (no allocation).
                        let mut dtb = tb.view_mut(dy);
                        dtb.fill(0.0);
                        for row in e.rows() {
                            dtb.row_mut(0).scaled_add(inv_b, &row);
                        }
                        Zip::from(dtb.row_mut(0))
                            .and(tb.view(y).row(0))
                            .for_each(|d, &t| *d = (*d - t) / tau_w);
                        Zip::from(b.view_mut(dy))
                            .and(tb.view(y))
                            .for_each(|d, &t| *d = syn.eta * t);
                    }
                }
            }
        }
    }

    /// Applies the optional weight bound |w| ≤ clip to plastic weights (a projection after
    /// each step; off unless `plasticity.clip` is set).
    pub fn project(&self, state: &mut State) {
        if let Some(c) = self.config.plasticity.clip {
            for syn in self.layout.synapses.iter().filter(|s| s.is_plastic()) {
                for v in &mut state.y[syn.w.range()] {
                    *v = v.clamp(-c, c);
                }
            }
        }
    }
}

impl Network {
    /// One minibatch update of every plastic synapse group s (the MNIST learner, paper-spec
    /// §6.4): W += η_s ⟨e rᵀ⟩ and b += η_s ⟨e⟩ over the batch, with the post-synaptic factors e
    /// of Eqs. 7–10 computed from the rates and dendritic potentials already in `ws` (left
    /// there by the two passes, or by [`Network::dendrites`] at a settled state). `eta` holds
    /// a rate per group in `layout.synapses` order. One GEMM per group accumulates straight
    /// into the weights: no allocation.
    pub fn apply_minibatch_plasticity(&self, state: &mut State, ws: &mut Workspace, eta: &[f64]) {
        self.apply_minibatch_plasticity_held(state, ws, eta, None);
    }

    /// [`Network::apply_minibatch_plasticity`], holding in `held` the weight changes it has a
    /// slot for (added by the next upward pass, see [`Deferred`]); biases change at once.
    pub(crate) fn apply_minibatch_plasticity_held(
        &self,
        state: &mut State,
        ws: &mut Workspace,
        eta: &[f64],
        mut held: Option<&mut Deferred>,
    ) {
        self.post_factors(&state.y, &state.p, ws, true);
        let inv_b = 1.0 / self.batch() as f64;
        for (i, syn) in self.layout.synapses.iter().enumerate() {
            if !syn.is_plastic() || eta[i] == 0.0 {
                continue;
            }
            let pre = self.pre_rates(syn, ws);
            let e = &ws.post[i];
            let alpha = eta[i] * inv_b;
            if !held
                .as_deref_mut()
                .is_some_and(|d| d.hold(i, alpha, e, &pre))
            {
                gemm(alpha, &e.t(), &pre, 1.0, &mut syn.w.view_mut(&mut state.y));
            }
            if let Some(b) = syn.bias {
                let mut bias = b.view_mut(&mut state.y);
                for row in e.rows() {
                    bias.row_mut(0).scaled_add(alpha, &row);
                }
            }
        }
    }

    /// The weight changes per unit η that [`Network::apply_minibatch_plasticity`] would make,
    /// ⟨e rᵀ⟩ over the batch for every synapse group (plastic or not, `layout.synapses` order),
    /// from the rates and dendrites in `ws`, without applying them (a probe; allocates).
    pub fn minibatch_updates(&self, state: &State, ws: &mut Workspace) -> Vec<Array2<f64>> {
        self.post_factors(&state.y, &state.p, ws, false);
        let inv_b = 1.0 / self.batch() as f64;
        self.layout
            .synapses
            .iter()
            .enumerate()
            .map(|(i, syn)| ws.post[i].t().dot(&self.pre_rates(syn, ws)) * inv_b)
            .collect()
    }

    /// The plasticity induction terms of rules 7–10 at a state, for every synapse group (plastic
    /// or not): ⟨e rᵀ⟩ over the batch (and ⟨e⟩ for biases), in the order of `layout.synapses`.
    /// At a settled state these are the steady-state weight changes per unit η (paper-spec §5,
    /// A2; the MNIST learner of §6.4 applies them once per minibatch).
    pub fn induction_terms(
        &self,
        state: &State,
        drive: &Drive,
        ws: &mut Workspace,
    ) -> Vec<(Array2<f64>, Option<ndarray::Array1<f64>>)> {
        self.dendrites(&state.y, &state.p, drive, ws);
        self.post_factors(&state.y, &state.p, ws, false);
        let inv_b = 1.0 / self.batch() as f64;
        self.layout
            .synapses
            .iter()
            .enumerate()
            .map(|(i, syn)| {
                let pre = self.pre_rates(syn, ws);
                let e = &ws.post[i];
                let dw = e.t().dot(&pre) * inv_b;
                let db = syn.bias.map(|_| e.mean_axis(Axis(0)).expect("batch ≥ 1"));
                (dw, db)
            })
            .collect()
    }
}

impl Network {
    /// The dendrite through a group the upward pass reads, adding a held change of its weights
    /// first when `held` has one: Eq. 3 (`Projection::Up`, W^PP_{k,k−1} r_{k−1} into
    /// `ws.v_basal[k]`) or Eq. 5 (`Projection::Ip`, W^IP_{k,k} r_k into `ws.v_int[k]`), bias
    /// included.
    pub(crate) fn upward_dendrite(
        &self,
        state: &mut State,
        ws: &mut Workspace,
        projection: Projection,
        k: usize,
        held: Option<&mut Deferred>,
    ) {
        let i = self.layout.synapse_index(projection, k);
        let (x, out) = match projection {
            Projection::Up => (&ws.r[k - 1], &mut ws.v_basal[k]),
            Projection::Ip => (&ws.r[k], &mut ws.v_int[k]),
            _ => unreachable!("the upward pass reads W^PP_{{k,k−1}} and W^IP_{{k,k}} only"),
        };
        if held.is_some_and(|d| d.product(self, &mut state.y, i, &x.view(), out)) {
            self.add_bias(&state.y, &state.p, projection, k, out);
        } else if projection == Projection::Up {
            self.basal(&state.y, &state.p, ws, k);
        } else {
            self.int_dendrite(&state.y, &state.p, ws, k);
        }
    }
}

/// A workspace array as a flat row-major slice.
pub(crate) fn flat_ws(a: &ndarray::Array2<f64>) -> &[f64] {
    a.as_slice().expect("workspace arrays are standard")
}

/// The same, to write.
pub(crate) fn flat_ws_mut(a: &mut ndarray::Array2<f64>) -> &mut [f64] {
    a.as_slice_mut().expect("workspace arrays are standard")
}
