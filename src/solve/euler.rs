//! Forward Euler, and Euler–Maruyama when σ > 0: y ← y + dt f(y) + σ √dt ξ.
//!
//! The step is fused: for each row i of each weight matrix, the dendritic potential it feeds
//! (Eqs. 3–5) is computed, then the post-synaptic factor of its rule (Eqs. 7–10), then the
//! row of weights and its trace are advanced, while the row is still in the first-level cache.
//! At batch 1 each weight matrix and trace is read and written once per step, and the fixed
//! ones are read once; from batch 4 on the dendritic products come from one matrix product per
//! group first (the step is then bound by arithmetic, and the weights stay in cache). The
//! result is forward Euler of [`Network::rhs`] up to rounding (a test checks it against
//! `y + dt f(y)`).

use super::method::{Method, SolveError, Statistics, add_noise, begin_step, check_divergence};
use crate::linalg::{self, RowUpdate};
use crate::model::{Drive, Network, Projection, Segment, State, Synapses, Workspace};
use crate::rng::Rng;

/// Forward Euler over one snapshot: every derivative is computed from the state at t, then all
/// are applied (the order layers are visited in cannot matter).
#[derive(Clone, Debug)]
pub struct Euler {
    ws: Workspace,
    du: Vec<f64>,
    scratch: Scratch,
    /// Multiplies every weight change: 1 by default, 0 holds the weights (see
    /// [`Euler::set_learning`]).
    learning: f64,
    rng: Rng,
    stats: Statistics,
}

/// An Euler stepper borrowed by a [`super::Simulation`] that needs its own methods too
/// (`set_learning` between runs).
impl std::borrow::Borrow<dyn Method> for &mut Euler {
    fn borrow(&self) -> &(dyn Method + 'static) {
        &**self
    }
}

impl std::borrow::BorrowMut<dyn Method> for &mut Euler {
    fn borrow_mut(&mut self) -> &mut (dyn Method + 'static) {
        &mut **self
    }
}

impl Euler {
    /// Scales every weight and trace change of the following steps by `factor` (1 after
    /// [`Euler::new`]); 0 holds the weights and traces while the potentials move, as in a
    /// presentation's settling phase. The dendrites are computed from the weights either way.
    pub fn set_learning(&mut self, factor: f64) {
        self.learning = factor;
    }

    /// Scratch for `net`; `seed` drives the noise.
    pub fn new(net: &Network, seed: u64) -> Self {
        Euler {
            ws: Workspace::new(net),
            du: vec![0.0; net.layout.n_potentials],
            scratch: Scratch {
                v: vec![0.0; MAX_BLOCK * net.batch()],
                e: vec![0.0; MAX_BLOCK * net.batch()],
                full: vec![
                    0.0;
                    if net.batch() >= GEMM_MIN_BATCH {
                        net.batch() * net.layout.sizes.iter().max().copied().unwrap_or(0)
                    } else {
                        0
                    }
                ],
            },
            learning: 1.0,
            rng: Rng::derived(seed, 0x6e6f697365),
            stats: Statistics::default(),
        }
    }
}

/// The step's constants of the plasticity rules.
#[derive(Clone, Copy)]
struct Rule {
    dt: f64,
    tau_w: f64,
    clip: Option<f64>,
    inv_batch: f64,
    batch: usize,
    phi: crate::model::Transfer,
    /// Multiplies every weight change (1 normally; 0 holds the weights).
    learning: f64,
}

/// The post-synaptic factor of a rule at cell i of sample s: `rate[s, i] − φ(att v)` (rules 7,
/// 8 and 10) or `−v` (rule 9, v_rest = 0), v being the dendritic potential the rows compute.
#[derive(Clone, Copy)]
enum Post<'a> {
    /// e = rate − φ(att v), with `rate` batch × n_post.
    Rate { rate: &'a [f64], att: f64 },
    /// e = −v.
    Negative,
}

/// Scratch of [`rows`]: values and factors of a block of rows, per sample.
#[derive(Clone, Debug)]
struct Scratch {
    v: Vec<f64>,
    e: Vec<f64>,
    /// batch × n_post dendritic products of a whole group, when they come from one GEMM.
    full: Vec<f64>,
}

/// From this batch size on, a group's dendritic products x Wᵀ come from one matrix product
/// (`linalg::gemm`: the register-blocked small-batch kernel, OpenBLAS beyond 32 samples) before
/// the rows are updated; below it, from the rows' own dot products in the fused pass.
pub const GEMM_MIN_BATCH: usize = 4;

/// Rows per block: enough that φ is evaluated over a vector, few enough that the block's
/// weights and traces stay in the first-level cache between the dot products and the update.
/// With a batch of four or more the step is bound by arithmetic, not memory: blocks of four
/// rows share each load of the pre-synaptic rates.
fn block_rows(n_pre: usize, batch: usize) -> usize {
    if batch >= GEMM_MIN_BATCH {
        4
    } else {
        (1536 / n_pre.max(1)).clamp(1, MAX_BLOCK)
    }
}

const MAX_BLOCK: usize = 64;

/// Rows of one synapse group, a block at a time: for every post-synaptic cell i,
/// `out[s, i] = value(s, i, W_i · x_s + b_i)` and, when the group is plastic, the Euler step of
/// row i with the factors of its rule (`post`), while the rows are in cache. `x` is the
/// batch's pre-synaptic rates (batch × n_pre), `out` is batch × n_post, both row-major.
#[allow(
    clippy::too_many_arguments,
    clippy::too_many_lines,
    reason = "the fused row kernel of the hot loop: its slices stay borrowed across the whole block"
)]
fn rows(
    syn: &Synapses,
    y: &mut [f64],
    p: &[f64],
    x: &[f64],
    out: &mut [f64],
    rule: Rule,
    scratch: &mut Scratch,
    value: impl Fn(usize, usize, f64) -> f64,
    post: Post,
) {
    let (n_post, n_pre) = (syn.w.rows, syn.w.cols);
    let batch = rule.batch;
    let block = block_rows(n_pre, batch);
    let plastic = syn.is_plastic() && rule.learning != 0.0;
    let none = 0..0;
    let range = |b: Option<crate::model::Block>| b.map_or(none.clone(), |b| b.range());
    // Plastic blocks live in y; a frozen group's weights and bias are read from their segment.
    let (w, trace, bias, trace_bias): (&mut [f64], &mut [f64], &mut [f64], &mut [f64]);
    let frozen_w: &[f64];
    let frozen_b: &[f64];
    if syn.is_plastic() {
        let [a, b, c, d] = y
            .get_disjoint_mut([
                syn.w.range(),
                range(syn.trace_w),
                range(syn.bias),
                range(syn.trace_bias),
            ])
            .expect("blocks of one synapse group are disjoint");
        (w, trace, bias, trace_bias) = (a, b, c, d);
        (frozen_w, frozen_b) = (&[], &[]);
    } else {
        let y: &[f64] = y;
        frozen_w = segment(syn.w, y, p);
        frozen_b = syn.bias.map_or(&[][..], |b| segment(b, y, p));
        (w, trace, bias, trace_bias) = (&mut [], &mut [], &mut [], &mut []);
    }
    let traced = syn.trace_w.is_some();
    // The factor each e_s carries into the row update: dt/(τ_w B) into the trace, or dt η/B
    // straight into the weights.
    let scale = rule.learning
        * if traced {
            rule.dt / rule.tau_w * rule.inv_batch
        } else {
            rule.dt * syn.eta * rule.inv_batch
        };
    let update = RowUpdate {
        a: 1.0 - rule.dt / rule.tau_w,
        c: rule.dt * syn.eta * rule.learning,
        clip: rule.clip,
    };
    let use_gemm = batch >= GEMM_MIN_BATCH;
    if use_gemm {
        let wv = if syn.is_plastic() { &*w } else { frozen_w };
        let wv = ndarray::ArrayView2::from_shape((n_post, n_pre), wv).expect("weights");
        let xv =
            ndarray::ArrayView2::from_shape((batch, n_pre), &x[..batch * n_pre]).expect("rates");
        let mut t = ndarray::ArrayViewMut2::from_shape(
            (batch, n_post),
            &mut scratch.full[..batch * n_post],
        )
        .expect("scratch");
        linalg::gemm(1.0, &xv, &wv.t(), 0.0, &mut t);
    }
    for i0 in (0..n_post).step_by(block) {
        let rows = block.min(n_post - i0);
        let v = &mut scratch.v[..rows * batch];
        let block_w = i0 * n_pre..(i0 + rows) * n_pre;
        if use_gemm {
            for r in 0..rows {
                for s in 0..batch {
                    v[r * batch + s] = scratch.full[s * n_post + i0 + r];
                }
            }
        } else if syn.is_plastic() {
            linalg::block_dots(&w[block_w], n_pre, x, v);
        } else {
            linalg::block_dots(&frozen_w[block_w], n_pre, x, v);
        }
        let biases = if syn.is_plastic() { &*bias } else { frozen_b };
        for r in 0..rows {
            let i = i0 + r;
            let b = if biases.is_empty() { 0.0 } else { biases[i] };
            for s in 0..batch {
                let vs = &mut v[r * batch + s];
                *vs = value(s, i, *vs + b);
                out[s * n_post + i] = *vs;
            }
        }
        if !plastic {
            continue;
        }
        let e = &mut scratch.e[..rows * batch];
        match post {
            Post::Rate { rate, att } => {
                rule.phi.phi_map(att, v, e);
                for r in 0..rows {
                    for s in 0..batch {
                        let k = r * batch + s;
                        e[k] = (rate[s * n_post + i0 + r] - e[k]) * scale;
                    }
                }
            }
            Post::Negative => {
                for (e, &v) in e.iter_mut().zip(v.iter()) {
                    *e = -v * scale;
                }
            }
        }
        let block_range = i0 * n_pre..(i0 + rows) * n_pre;
        let d = traced.then(|| &mut trace[block_range.clone()]);
        linalg::update_rows(&mut w[block_range], d, n_pre, x, e, update);
        if !bias.is_empty() {
            for r in 0..rows {
                let i = i0 + r;
                let e_sum: f64 = e[r * batch..(r + 1) * batch].iter().sum();
                if traced {
                    let old = trace_bias[i];
                    bias[i] += update.c * old;
                    trace_bias[i] = update.a * old + e_sum;
                } else {
                    bias[i] += e_sum;
                }
            }
        }
    }
}

/// A block's entries in whichever vector holds it.
fn segment<'a>(blk: crate::model::Block, y: &'a [f64], p: &'a [f64]) -> &'a [f64] {
    match blk.segment {
        Segment::Dynamic => &y[blk.range()],
        Segment::Frozen => &p[blk.range()],
    }
}

/// A workspace array as a flat row-major slice.
fn slice(a: &ndarray::Array2<f64>) -> &[f64] {
    a.as_slice().expect("workspace arrays are standard")
}

impl Euler {
    /// Dendrites (Eqs. 3–5) and the Euler step of every plastic weight and trace (Eqs. 7–10),
    /// row by row; leaves the rates and dendritic potentials of the snapshot in `ws`.
    #[allow(
        clippy::too_many_lines,
        reason = "one pass over the layers in the order of Eqs. 3–10, the hot loop of every Euler step"
    )]
    fn dendrites_and_plasticity(
        &mut self,
        net: &Network,
        state: &mut State,
        drive: &Drive,
        dt: f64,
    ) {
        let n = net.n_layers();
        let ws = &mut self.ws;
        net.input_rates(&state.y, drive, ws);
        let l = &net.layout;
        for k in 1..=n {
            let r = ws.r[k].as_slice_mut().expect("standard");
            net.config.phi.phi_map(1.0, &state.y[l.u_pyr[k].range()], r);
        }
        for k in 1..n {
            let r = ws.r_int[k].as_slice_mut().expect("standard");
            net.config.phi.phi_map(1.0, &state.y[l.u_int[k].range()], r);
        }
        let c = net.config.conductances;
        let rule = Rule {
            dt,
            tau_w: net.config.plasticity.tau_w,
            clip: net.config.plasticity.clip,
            inv_batch: 1.0 / net.batch() as f64,
            batch: net.batch(),
            phi: net.config.phi,
            learning: self.learning,
        };
        let Workspace {
            r,
            r_int,
            v_basal,
            v_td,
            v_apical,
            v_int,
            ..
        } = ws;
        let (y, p) = (&mut state.y, &state.p);
        let scratch = &mut self.scratch;
        for &k in &net.visit_order {
            // Eq. 3, rule 7: e = φ(u_k) − φ(v̂_B,k), v̂_B = g_B/(g_lk+g_B+g_A) v_B.
            let att = c.basal_attenuation(k == n);
            let r_k = &r[k];
            rows(
                net.layout.synapses(Projection::Up, k),
                y,
                p,
                slice(&r[k - 1]),
                v_basal[k].as_slice_mut().expect("standard"),
                rule,
                scratch,
                |_, _, v| v,
                Post::Rate {
                    rate: slice(r_k),
                    att,
                },
            );
            if k == n {
                continue;
            }
            // Eq. 4, top-down part, rule 10: e = φ(u_k) − φ(v̂_TD,k).
            rows(
                net.layout.synapses(Projection::Down, k),
                y,
                p,
                slice(&r[k + 1]),
                v_td[k].as_slice_mut().expect("standard"),
                rule,
                scratch,
                |_, _, v| v,
                Post::Rate {
                    rate: slice(&r[k]),
                    att: 1.0,
                },
            );
            // Eq. 4, v_A = v_TD + gate W^PI r^I, rule 9: e = v_rest − v_A (v_rest = 0).
            let gate = drive.gate(&net.config, k);
            let td = &v_td[k];
            rows(
                net.layout.synapses(Projection::Pi, k),
                y,
                p,
                slice(&r_int[k]),
                v_apical[k].as_slice_mut().expect("standard"),
                rule,
                scratch,
                |s, i, v| td[[s, i]] + gate * v,
                Post::Negative,
            );
            // Eq. 5, rule 8: e = φ(u^I_k) − φ(v̂^I_k), v̂^I = g_D/(g_lk+g_D) v^I.
            let att_i = c.interneuron_attenuation();
            let ri = &r_int[k];
            rows(
                net.layout.synapses(Projection::Ip, k),
                y,
                p,
                slice(&r[k]),
                v_int[k].as_slice_mut().expect("standard"),
                rule,
                scratch,
                |_, _, v| v,
                Post::Rate {
                    rate: slice(ri),
                    att: att_i,
                },
            );
        }
    }
}

impl Method for Euler {
    fn name(&self) -> &'static str {
        "euler"
    }
    fn order(&self) -> u32 {
        1
    }
    fn step(
        &mut self,
        net: &Network,
        state: &mut State,
        drive: &Drive,
        t: f64,
        dt: f64,
    ) -> Result<(), SolveError> {
        begin_step(net, drive, dt)?;
        self.dendrites_and_plasticity(net, state, drive, dt);
        let np = net.layout.n_potentials;
        net.potential_derivatives(&state.y, drive, &self.ws, &mut self.du);
        for (y, d) in state.y[..np].iter_mut().zip(&self.du) {
            *y += dt * d;
        }
        if let Some(b) = net.layout.r_in {
            // τ_in dr_0/dt = x − r_0.
            let tau = net.config.tau_in;
            for (r, &x) in state.y[b.range()].iter_mut().zip(drive.input.iter()) {
                *r += dt * ((x - *r) / tau);
            }
        }
        add_noise(net, &mut state.y, dt, &mut self.rng);
        self.stats.steps += 1;
        self.stats.rhs_evaluations += 1;
        check_divergence(net, &state.y, t + dt)
    }
    fn statistics(&self) -> Statistics {
        self.stats
    }
}
