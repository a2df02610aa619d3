//! The Jacobian ∂(du/dt)/∂u of the potential dynamics at a state, weights frozen, for one
//! sample of the batch (the samples are uncoupled, so the full Jacobian is block-diagonal).
//! Potentials of a sample are numbered u^P_1 … u^P_N, u^I_1 … u^I_{N−1}
//! (see [`super::layout::Layout::potential_index`]).

use ndarray::Array2;

use super::dynamics::Workspace;
use super::layout::Projection;
use super::network::{Drive, Network, State, nudge};

impl Network {
    /// Offsets of u^P_k (index k) and u^I_k within one sample's potential vector.
    pub fn sample_offsets(&self) -> (Vec<usize>, Vec<usize>) {
        let s = &self.layout.sizes;
        let n = self.n_layers();
        let mut off_p = vec![0; n + 1];
        let mut off_i = vec![0; n + 1];
        let mut o = 0;
        for k in 1..=n {
            off_p[k] = o;
            o += s[k];
        }
        for k in 1..n {
            off_i[k] = o;
            o += s[k + 1];
        }
        (off_p, off_i)
    }

    /// The Jacobian of the potential dynamics for sample `b` (analytic; see the module doc).
    pub fn jacobian(
        &self,
        state: &State,
        drive: &Drive,
        b: usize,
        ws: &mut Workspace,
    ) -> Array2<f64> {
        let y = &state.y;
        let l = &self.layout;
        let n = self.n_layers();
        let c = self.config.conductances;
        let phi = self.config.phi;
        let m = l.potentials_per_sample();
        let (off_p, off_i) = self.sample_offsets();
        let mut jac = Array2::zeros((m, m));
        self.dendrites(&state.y, &state.p, drive, ws);
        let dphi_pyr = |k: usize, j: usize| phi.dphi(l.u_pyr[k].view(y)[[b, j]]);
        for k in 1..=n {
            let nk = l.sizes[k];
            let w_up = state.view(&self.w(Projection::Up, k));
            for i in 0..nk {
                let row = off_p[k] + i;
                let u = l.u_pyr[k].view(y)[[b, i]];
                jac[[row, row]] = if k < n {
                    -(c.g_lk + c.g_b + c.g_a)
                } else {
                    let g = match drive.target {
                        Some(t) => -nudge(self.config.nudging, c.g_som, t[[b, i]], u).1,
                        None => 0.0,
                    };
                    -(c.g_lk + c.g_b + g)
                };
                if k > 1 {
                    for j in 0..l.sizes[k - 1] {
                        jac[[row, off_p[k - 1] + j]] = c.g_b * w_up[[i, j]] * dphi_pyr(k - 1, j);
                    }
                }
            }
            if k < n {
                let w_down = state.view(&self.w(Projection::Down, k));
                let w_pi = state.view(&self.w(Projection::Pi, k));
                let gate = drive.gate(&self.config, k);
                let w_ip = state.view(&self.w(Projection::Ip, k));
                for i in 0..nk {
                    let row = off_p[k] + i;
                    for j in 0..l.sizes[k + 1] {
                        jac[[row, off_p[k + 1] + j]] = c.g_a * w_down[[i, j]] * dphi_pyr(k + 1, j);
                        let ui = l.u_int[k].view(y)[[b, j]];
                        jac[[row, off_i[k] + j]] = c.g_a * gate * w_pi[[i, j]] * phi.dphi(ui);
                    }
                }
                for i in 0..l.sizes[k + 1] {
                    let row = off_i[k] + i;
                    let ui = l.u_int[k].view(y)[[b, i]];
                    let trg = l.u_pyr[k + 1].view(y)[[b, i]];
                    let (_, di_du, di_dtrg) = nudge(self.config.nudging, c.g_som, trg, ui);
                    jac[[row, row]] = -(c.g_lk + c.g_d) + di_du;
                    jac[[row, off_p[k + 1] + i]] += di_dtrg;
                    for j in 0..nk {
                        jac[[row, off_p[k] + j]] = c.g_d * w_ip[[i, j]] * dphi_pyr(k, j);
                    }
                }
            }
        }
        jac
    }
}
