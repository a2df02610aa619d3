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
use crate::model::dynamics::flat_ws as slice;
use crate::model::{Drive, Network, Projection, Segment, State, Synapses, Workspace};
use crate::rng::Rng;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The threads a new [`Euler`] splits its large synapse groups over (see
/// [`Euler::set_threads`]): 1, unless the executor runs a single run with more threads.
static RUN_THREADS: AtomicUsize = AtomicUsize::new(1);

/// Sets the threads each [`Euler`] created afterwards splits its large groups over (clamped to
/// 1..=2). The executor sets 2 when one run has the pool to itself, 1 otherwise (a sweep's
/// runs already fill the cores). Results are the same bits either way.
pub fn set_run_threads(threads: usize) {
    RUN_THREADS.store(threads.clamp(1, 2), Ordering::Relaxed);
}

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
    /// Threads a group's rows are split over (1 or 2; see [`Euler::set_threads`]).
    threads: usize,
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

    /// Splits each large synapse group's rows between two threads (`threads` ≥ 2; rayon's
    /// pool) or keeps the step on the calling thread (1, the default). Every row is computed
    /// as before, so the results are the same bits either way (a test checks it); a sweep
    /// keeps 1, its runs already fill the cores.
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads.clamp(1, 2);
    }

    /// Scratch for `net`; `seed` drives the noise.
    pub fn new(net: &Network, seed: u64) -> Self {
        Euler {
            ws: Workspace::new(net),
            du: vec![0.0; net.layout.n_potentials],
            scratch: Scratch {
                v: vec![0.0; MAX_BLOCK * net.batch()],
                e: vec![0.0; MAX_BLOCK * net.batch()],
                v2: vec![0.0; MAX_BLOCK * net.batch()],
                e2: vec![0.0; MAX_BLOCK * net.batch()],
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
            threads: RUN_THREADS.load(Ordering::Relaxed),
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

/// Scratch of [`rows`]: values and factors of a block of rows, per sample; `v2`/`e2` are the
/// second thread's when a group's rows are split between two (see [`Euler::set_threads`]).
#[derive(Clone, Debug)]
struct Scratch {
    v: Vec<f64>,
    e: Vec<f64>,
    v2: Vec<f64>,
    e2: Vec<f64>,
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

/// A group is split between two threads only from this many weights × samples on: below it
/// the hand-over costs more than half the work.
const SPLIT_MIN_WORK: usize = 1 << 15;

/// `out` (batch × n_post, row-major) shared by the two halves of a split group: each writes
/// only the columns of its own rows.
#[derive(Clone, Copy)]
struct Out(*mut f64, usize);
// SAFETY: the halves write disjoint columns (rows of the group), and `rows` joins both before
// `out` is read.
unsafe impl Send for Out {}
unsafe impl Sync for Out {}

/// The parameters of one synapse group as the row kernel reads them: plastic weights, trace,
/// bias and bias trace (empty when absent or frozen), or the frozen weights and bias.
struct Params<'a> {
    w: &'a mut [f64],
    trace: &'a mut [f64],
    bias: &'a mut [f64],
    trace_bias: &'a mut [f64],
    frozen_w: &'a [f64],
    frozen_b: &'a [f64],
}

impl<'a> Params<'a> {
    /// Rows `0..at` and `at..` (weights and traces cut at row `at` of `n_pre` columns).
    fn split(self, at: usize, n_pre: usize) -> (Params<'a>, Params<'a>) {
        let cut = |v: &'a mut [f64], k: usize| {
            if v.is_empty() {
                (&mut [][..], &mut [][..])
            } else {
                v.split_at_mut(k)
            }
        };
        let cut_ref = |v: &'a [f64], k: usize| {
            if v.is_empty() {
                (&[][..], &[][..])
            } else {
                v.split_at(k)
            }
        };
        let (w0, w1) = cut(self.w, at * n_pre);
        let (t0, t1) = cut(self.trace, at * n_pre);
        let (b0, b1) = cut(self.bias, at);
        let (tb0, tb1) = cut(self.trace_bias, at);
        let (fw0, fw1) = cut_ref(self.frozen_w, at * n_pre);
        let (fb0, fb1) = cut_ref(self.frozen_b, at);
        (
            Params {
                w: w0,
                trace: t0,
                bias: b0,
                trace_bias: tb0,
                frozen_w: fw0,
                frozen_b: fb0,
            },
            Params {
                w: w1,
                trace: t1,
                bias: b1,
                trace_bias: tb1,
                frozen_w: fw1,
                frozen_b: fb1,
            },
        )
    }
}

/// What every row of a group shares in [`rows`].
#[derive(Clone, Copy)]
struct Shared<'a> {
    n_post: usize,
    n_pre: usize,
    block: usize,
    plastic: bool,
    is_plastic: bool,
    traced: bool,
    scale: f64,
    update: RowUpdate,
    rule: Rule,
    x: &'a [f64],
    /// The scratch of the group's dendritic products (batch × n_post) when they come from a
    /// GEMM: each call of [`row_range`] fills and reads the columns of its own rows.
    full: Option<Out>,
}

/// Rows `first ..` of one synapse group (as many as `params` holds), a block at a time: for
/// every post-synaptic cell i, `out[s, i] = value(s, i, W_i · x_s + b_i)` and, when the group
/// is plastic, the Euler step of row i with the factors of its rule (`post`), while the rows
/// are in cache. `params` starts at row `first`.
#[allow(
    clippy::too_many_arguments,
    clippy::too_many_lines,
    reason = "the fused row kernel of the hot loop: its slices stay borrowed across the whole block"
)]
fn row_range(
    sh: Shared,
    params: Params,
    first: usize,
    out: Out,
    v_scratch: &mut [f64],
    e_scratch: &mut [f64],
    value: &(impl Fn(usize, usize, f64) -> f64 + Sync),
    post: Post,
) {
    let Shared {
        n_post,
        n_pre,
        block,
        plastic,
        is_plastic,
        traced,
        scale,
        update,
        rule,
        x,
        full,
    } = sh;
    let batch = rule.batch;
    let Params {
        w,
        trace,
        bias,
        trace_bias,
        frozen_w,
        frozen_b,
    } = params;
    let n_rows = if is_plastic { w.len() } else { frozen_w.len() } / n_pre.max(1);
    // The dendritic products of rows `j .. j + rows` (columns first + j .. of the batch ×
    // n_post scratch) from one matrix product. Up to `linalg::SKINNY_GEMM` samples, a block's
    // rows at a time, just before they are updated and while they are in cache (each (sample,
    // row) pair is summed alike whatever rows a call covers); beyond, OpenBLAS's, whose order
    // of summation is promised for whole calls only, once for the group.
    let gemm_rows = |wv: &[f64], f: Out, j: usize, rows: usize| {
        let wv = ndarray::ArrayView2::from_shape((rows, n_pre), &wv[j * n_pre..(j + rows) * n_pre])
            .expect("weights");
        let xv =
            ndarray::ArrayView2::from_shape((batch, n_pre), &x[..batch * n_pre]).expect("rates");
        // SAFETY: columns first + j .. first + j + rows of the batch × n_post scratch (row
        // stride f.1 = n_post) are this call's alone.
        let mut t = unsafe {
            ndarray::ArrayViewMut2::from_shape_ptr(
                ndarray::ShapeBuilder::strides((batch, rows), (f.1, 1)),
                f.0.add(first + j),
            )
        };
        linalg::gemm(1.0, &xv, &wv.t(), 0.0, &mut t);
    };
    let per_block = batch <= linalg::SKINNY_GEMM;
    if let (Some(f), false) = (full, per_block) {
        gemm_rows(if is_plastic { w } else { frozen_w }, f, 0, n_rows);
    }
    for j0 in (0..n_rows).step_by(block) {
        let i0 = first + j0;
        let rows = block.min(n_rows - j0);
        let v = &mut v_scratch[..rows * batch];
        let block_w = j0 * n_pre..(j0 + rows) * n_pre;
        if let Some(f) = full {
            if per_block {
                gemm_rows(if is_plastic { w } else { frozen_w }, f, j0, rows);
            }
            for r in 0..rows {
                for s in 0..batch {
                    // SAFETY: inside the scratch, in this call's columns (filled above).
                    v[r * batch + s] = unsafe { *f.0.add(s * f.1 + i0 + r) };
                }
            }
        } else if is_plastic {
            linalg::block_dots(&w[block_w.clone()], n_pre, x, v);
        } else {
            linalg::block_dots(&frozen_w[block_w.clone()], n_pre, x, v);
        }
        let biases: &[f64] = if is_plastic { &*bias } else { frozen_b };
        if batch == 1 {
            // One sample: v and this block's cells of `out` are contiguous, the loop a vector
            // one (the same operations per cell as below).
            // SAFETY: cells i0 .. i0 + rows of out's only row are this call's alone.
            let o = unsafe { std::slice::from_raw_parts_mut(out.0.add(i0), rows) };
            if biases.is_empty() {
                for (r, (vs, o)) in v.iter_mut().zip(o).enumerate() {
                    *vs = value(0, i0 + r, *vs + 0.0);
                    *o = *vs;
                }
            } else {
                let b = &biases[j0..j0 + rows];
                for (r, ((vs, o), &b)) in v.iter_mut().zip(o).zip(b).enumerate() {
                    *vs = value(0, i0 + r, *vs + b);
                    *o = *vs;
                }
            }
        } else {
            for r in 0..rows {
                let i = i0 + r;
                let b = if biases.is_empty() {
                    0.0
                } else {
                    biases[j0 + r]
                };
                for s in 0..batch {
                    let vs = &mut v[r * batch + s];
                    *vs = value(s, i, *vs + b);
                    // SAFETY: (s, i) is inside out (batch × n_post); row i is this call's alone.
                    unsafe { *out.0.add(s * out.1 + i) = *vs };
                }
            }
        }
        if !plastic {
            continue;
        }
        let e = &mut e_scratch[..rows * batch];
        match post {
            Post::Rate { rate, att } => {
                rule.phi.phi_map(att, v, e);
                if batch == 1 {
                    for (e, &rate) in e.iter_mut().zip(&rate[i0..i0 + rows]) {
                        *e = (rate - *e) * scale;
                    }
                } else {
                    for r in 0..rows {
                        for s in 0..batch {
                            let k = r * batch + s;
                            e[k] = (rate[s * n_post + i0 + r] - e[k]) * scale;
                        }
                    }
                }
            }
            Post::Negative => {
                for (e, &v) in e.iter_mut().zip(v.iter()) {
                    *e = -v * scale;
                }
            }
        }
        let d = traced.then(|| &mut trace[block_w.clone()]);
        linalg::update_rows(&mut w[block_w], d, n_pre, x, e, update);
        if !bias.is_empty() {
            for r in 0..rows {
                let j = j0 + r;
                let e_sum: f64 = e[r * batch..(r + 1) * batch].iter().sum();
                if traced {
                    let old = trace_bias[j];
                    bias[j] += update.c * old;
                    trace_bias[j] = update.a * old + e_sum;
                } else {
                    bias[j] += e_sum;
                }
            }
        }
    }
}

/// Rows of one synapse group, a block at a time (see [`row_range`]); `x` is the batch's
/// pre-synaptic rates (batch × n_pre), `out` is batch × n_post, both row-major. With
/// `threads` = 2 and enough work, the rows are cut in two at a block boundary and the halves
/// run side by side: every row's arithmetic is the same, so are the results, bit for bit.
#[allow(
    clippy::too_many_arguments,
    clippy::too_many_lines,
    reason = "one synapse group's set-up for the row kernel: its blocks, factors and the split"
)]
fn rows(
    syn: &Synapses,
    y: &mut [f64],
    p: &[f64],
    x: &[f64],
    out: &mut [f64],
    rule: Rule,
    scratch: &mut Scratch,
    threads: usize,
    value: impl Fn(usize, usize, f64) -> f64 + Sync,
    post: Post,
) {
    let (n_post, n_pre) = (syn.w.rows, syn.w.cols);
    let batch = rule.batch;
    let block = block_rows(n_pre, batch);
    let plastic = syn.is_plastic() && rule.learning != 0.0;
    let none = 0..0;
    let range = |b: Option<crate::model::Block>| b.map_or(none.clone(), |b| b.range());
    // Plastic blocks live in y; a frozen group's weights and bias are read from their segment.
    let params = if syn.is_plastic() {
        let [w, trace, bias, trace_bias] = y
            .get_disjoint_mut([
                syn.w.range(),
                range(syn.trace_w),
                range(syn.bias),
                range(syn.trace_bias),
            ])
            .expect("blocks of one synapse group are disjoint");
        Params {
            w,
            trace,
            bias,
            trace_bias,
            frozen_w: &[],
            frozen_b: &[],
        }
    } else {
        let y: &[f64] = y;
        Params {
            w: &mut [],
            trace: &mut [],
            bias: &mut [],
            trace_bias: &mut [],
            frozen_w: segment(syn.w, y, p),
            frozen_b: syn.bias.map_or(&[][..], |b| segment(b, y, p)),
        }
    };
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
    let Scratch { v, e, v2, e2, full } = scratch;
    let use_gemm = batch >= GEMM_MIN_BATCH;
    assert!(
        !use_gemm || full.len() >= batch * n_post,
        "the GEMM scratch"
    );
    let sh = Shared {
        n_post,
        n_pre,
        block,
        plastic,
        is_plastic: syn.is_plastic(),
        traced,
        scale,
        update,
        rule,
        x,
        full: use_gemm.then_some(Out(full.as_mut_ptr(), n_post)),
    };
    let out = Out(out.as_mut_ptr(), n_post);
    // Cut at a block boundary, so that both halves see the blocks (and the GEMM kernel's
    // row groups) of one thread; above `linalg::SKINNY_GEMM` samples the GEMM is OpenBLAS's,
    // whose order of summation over a part of the rows is not promised: no split there.
    let half = n_post.div_ceil(2 * block) * block;
    if threads >= 2
        && n_post * n_pre * batch >= SPLIT_MIN_WORK
        && half < n_post
        && batch <= linalg::SKINNY_GEMM
    {
        let (lo, hi) = params.split(half, n_pre);
        rayon::join(
            || row_range(sh, lo, 0, out, v, e, &value, post),
            || row_range(sh, hi, half, out, v2, e2, &value, post),
        );
    } else {
        row_range(sh, params, 0, out, v, e, &value, post);
    }
}

/// A block's entries in whichever vector holds it.
fn segment<'a>(blk: crate::model::Block, y: &'a [f64], p: &'a [f64]) -> &'a [f64] {
    match blk.segment {
        Segment::Dynamic => &y[blk.range()],
        Segment::Frozen => &p[blk.range()],
    }
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
        // φ of every potential in one call (they are y[..n_potentials]; `du` is free until
        // `potential_derivatives` fills it): one long vector keeps the polynomials' latency
        // hidden where a call per short layer would wait for it.
        let np = l.n_potentials;
        net.config.phi.phi_map(1.0, &state.y[..np], &mut self.du);
        for k in 1..=n {
            let r = ws.r[k].as_slice_mut().expect("standard");
            r.copy_from_slice(&self.du[l.u_pyr[k].range()]);
        }
        for k in 1..n {
            let r = ws.r_int[k].as_slice_mut().expect("standard");
            r.copy_from_slice(&self.du[l.u_int[k].range()]);
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
        let threads = self.threads;
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
                threads,
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
                threads,
                |_, _, v| v,
                Post::Rate {
                    rate: slice(&r[k]),
                    att: 1.0,
                },
            );
            // Eq. 4, v_A = v_TD + gate W^PI r^I, rule 9: e = v_rest − v_A (v_rest = 0).
            let gate = drive.gate(&net.config, k);
            let td = slice(&v_td[k]);
            let n_td = v_td[k].ncols();
            rows(
                net.layout.synapses(Projection::Pi, k),
                y,
                p,
                slice(&r_int[k]),
                v_apical[k].as_slice_mut().expect("standard"),
                rule,
                scratch,
                threads,
                |s, i, v| td[s * n_td + i] + gate * v,
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
                threads,
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
            let r_in = &mut state.y[b.range()];
            let filter = |r: &mut f64, x: f64| *r += dt * ((x - *r) / tau);
            match drive.input.as_slice() {
                Some(input) => {
                    for (r, &x) in r_in.iter_mut().zip(input) {
                        filter(r, x);
                    }
                }
                None => {
                    for (r, &x) in r_in.iter_mut().zip(drive.input.iter()) {
                        filter(r, x);
                    }
                }
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
