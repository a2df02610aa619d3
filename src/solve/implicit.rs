//! The linear systems of the implicit methods, (I − c J) x = v, for the whole state.
//!
//! J approximates the Jacobian of the right-hand side in blocks:
//! - the potentials: the analytic ∂(du/dt)/∂u with the weights frozen ([`Network::jacobian`],
//!   one dense block per sample, LU-factorised by LAPACK through ndarray-linalg);
//! - the input low-pass: its own decay −1/τ_in, and its drive of layer 1,
//!   ∂(du₁/dt)/∂r₀ = g_B W^PP_{1,0} (the filter does not depend on anything else);
//! - optionally (`sweeps` > 0, plasticity on) every other coupling — of the plastic weights and
//!   traces to the potentials and back — by block-Jacobi sweeps, each one product J x taken as
//!   a directional difference of f.
//!
//! The first two blocks make J lower-triangular in (filter, potentials), so without sweeps the
//! solve is exact for that J: the filter's rows, then one LU solve per sample. The factors are
//! kept until [`ShiftedSystem::factor`] is called again (a stale J costs a W-method nothing in
//! order, and a simplified Newton iteration only speed).

use ndarray::{Array1, Array2};
use ndarray_linalg::{FactorizeInto, LUFactorized, Solve};

use super::method::{SolveError, Statistics};
use crate::model::{Drive, Network, Projection, State, Workspace};

/// I − c J, factorised; see the module doc.
pub(crate) struct ShiftedSystem {
    ws: Workspace,
    /// Index in y of each sample's potentials (in [`Network::jacobian`]'s order).
    index: Vec<Vec<usize>>,
    lu: Vec<LUFactorized<ndarray::OwnedRepr<f64>>>,
    /// J_uu per sample (for the coupling sweeps).
    jac: Vec<Array2<f64>>,
    /// The shift c of the factors (0: none yet).
    shift: f64,
    /// Block-Jacobi sweeps for the coupling of potentials and plastic weights.
    pub sweeps: usize,
    plastic: bool,
    rhs: Array1<f64>,
    probe: Vec<f64>,
    df: Vec<f64>,
}

impl ShiftedSystem {
    /// Scratch for `net`.
    pub fn new(net: &Network, sweeps: usize) -> Self {
        let n = net.layout.n_dynamic;
        ShiftedSystem {
            ws: Workspace::new(net),
            index: (0..net.batch())
                .map(|b| net.layout.potential_index(b))
                .collect(),
            lu: Vec::new(),
            jac: Vec::new(),
            shift: 0.0,
            sweeps,
            plastic: net.layout.synapses.iter().any(|s| s.is_plastic()),
            rhs: Array1::zeros(net.layout.potentials_per_sample()),
            probe: vec![0.0; n],
            df: vec![0.0; n],
        }
    }

    /// The shift of the current factors (0 before the first [`Self::factor`]).
    pub fn shift(&self) -> f64 {
        self.shift
    }

    /// Evaluates J_uu at `state` and factorises I − c J_uu for every sample.
    pub fn factor(
        &mut self,
        net: &Network,
        state: &State,
        drive: &Drive,
        c: f64,
        stats: &mut Statistics,
    ) -> Result<(), SolveError> {
        self.lu.clear();
        self.jac.clear();
        for b in 0..self.index.len() {
            let jac = net.jacobian(state, drive, b, &mut self.ws);
            let mut a = Array2::<f64>::eye(jac.nrows());
            a.scaled_add(-c, &jac);
            self.jac.push(jac);
            let lu = a
                .factorize_into()
                .map_err(|e| SolveError::SingularJacobian {
                    sample: b,
                    message: e.to_string(),
                })?;
            self.lu.push(lu);
        }
        stats.jacobian_evaluations += 1;
        self.shift = c;
        Ok(())
    }

    /// x ← (I − c J)⁻¹ v. `state` is where J is taken (its weights give the filter's drive) and
    /// `f0` = f(state) (used by the sweeps' directional differences).
    #[allow(
        clippy::too_many_arguments,
        reason = "the shifted system (I − cJ) x = v at one state: network, state, drive, shift and buffers"
    )]
    pub fn solve(
        &mut self,
        net: &Network,
        state: &State,
        drive: &Drive,
        f0: &[f64],
        v: &[f64],
        x: &mut [f64],
        stats: &mut Statistics,
    ) -> Result<(), SolveError> {
        x.copy_from_slice(v);
        if let Some(blk) = net.layout.r_in {
            let damp = 1.0 / (1.0 + self.shift / net.config.tau_in);
            for o in &mut x[blk.range()] {
                *o *= damp;
            }
        }
        self.solve_potentials(net, state, v, x, false)?;
        if !self.plastic {
            return Ok(());
        }
        let fast = net.layout.fast_len();
        for _ in 0..self.sweeps {
            // df ← J x ≈ (f(y + ε x) − f(y)) / ε.
            let scale = x.iter().fold(0.0f64, |m, k| m.max(k.abs()));
            if scale == 0.0 {
                break;
            }
            let size = state.y.iter().fold(1.0f64, |m, y| m.max(y.abs()));
            let eps = 1e-7 * size / scale;
            for ((p, y), k) in self.probe.iter_mut().zip(&state.y).zip(x.iter()) {
                *p = y + eps * k;
            }
            net.rhs(&self.probe, &state.p, drive, &mut self.ws, &mut self.df);
            stats.rhs_evaluations += 1;
            for (d, f) in self.df.iter_mut().zip(f0) {
                *d = (*d - f) / eps;
            }
            self.solve_potentials(net, state, v, x, true)?;
            let c = self.shift;
            for ((o, &vi), d) in x[fast..].iter_mut().zip(&v[fast..]).zip(&self.df[fast..]) {
                *o = vi + c * d;
            }
        }
        Ok(())
    }

    /// The potentials' rows: (I − cJ_uu) x_u = v_u + c g, with g = J_ur x_r (the filter's
    /// drive of layer 1) or, when `coupled`, g = (J x)_u − J_uu x_u from `self.df` (every
    /// coupling of the potentials to the rest of the state).
    fn solve_potentials(
        &mut self,
        net: &Network,
        state: &State,
        v: &[f64],
        x: &mut [f64],
        coupled: bool,
    ) -> Result<(), SolveError> {
        let c = self.shift;
        for (b, ((lu, jac), idx)) in self.lu.iter().zip(&self.jac).zip(&self.index).enumerate() {
            let rhs = &mut self.rhs;
            if coupled {
                for (i, (r, &gi)) in rhs.iter_mut().zip(idx).enumerate() {
                    let juu_x: f64 = jac.row(i).iter().zip(idx).map(|(a, &j)| a * x[j]).sum();
                    *r = v[gi] + c * (self.df[gi] - juu_x);
                }
            } else {
                for (r, &i) in rhs.iter_mut().zip(idx) {
                    *r = v[i];
                }
                if let Some(blk) = net.layout.r_in {
                    // J_ur = g_B W^PP_{1,0} on layer 1's rows (the first of a sample's).
                    let w = state.view(&net.w(Projection::Up, 1));
                    let x_r = &x[blk.offset + b * blk.cols..blk.offset + (b + 1) * blk.cols];
                    let g = c * net.config.conductances.g_b;
                    for (i, row) in w.rows().into_iter().enumerate() {
                        let dot: f64 = row.iter().zip(x_r).map(|(a, x)| a * x).sum();
                        rhs[i] += g * dot;
                    }
                }
            }
            lu.solve_inplace(rhs)
                .map_err(|e| SolveError::SingularJacobian {
                    sample: b,
                    message: e.to_string(),
                })?;
            for (r, &i) in rhs.iter().zip(idx) {
                x[i] = *r;
            }
        }
        Ok(())
    }
}
