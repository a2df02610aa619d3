//! Dense kernels of the hot paths: the matrix products of the dendrites and the plasticity
//! updates, chosen by shape.
//!
//! - Up to [`SKINNY`] rows against a row-major weight matrix (`r Wᵀ`, the dendrites of a
//!   batch-1 step) are row dot products, and outer products (`eᵀ r` at batch 1, a rank-1
//!   plasticity term) a loop: no packing, no call overhead, no allocation.
//! - Up to [`SKINNY_GEMM`] rows against a row-major weight matrix go to [`skinny_gemm`], a
//!   register-blocked kernel that does not pack the weights.
//! - Everything larger goes to OpenBLAS's `cblas_dgemm` (Debian's libopenblas, already linked
//!   for LAPACK), kept at one thread so that results never depend on the thread count.
//! - Anything with strides BLAS cannot take falls back to ndarray's `general_mat_mul`.
//!
//! The loops accumulate in independent lanes combined by a fixed tree, every product added by
//! a fused multiply–add (`f64::mul_add`, one rounding). They are written once, portably, and
//! compiled for the x86-64 baseline and for AVX2 + FMA; the row kernels are also written with
//! AVX-512 intrinsics. The version is chosen once at run time. The arithmetic — which products
//! are summed in which order, each rounded once — is the same in every version (the baseline
//! calls libm's correctly rounded `fma`, slowly), so results are bit-identical on every x86-64.

// Lane-by-lane loops index their arrays: the lane is the point of the loop.
#![allow(clippy::needless_range_loop)]

use std::sync::OnceLock;

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayBase, ArrayView2, ArrayViewMut2, Data, DataMut, Ix2};

/// Elements per chunk of the row dot products and updates (4 AVX-512 or 8 AVX2 independent
/// accumulators).
const UPDATE_LANES: usize = 32;

/// Up to this many rows (samples), `A Wᵀ` with a row-major W is computed as row dot products
/// instead of by a packed GEMM (measured: at 10 rows OpenBLAS is 1.7× faster on the MNIST
/// learner's epoch, packing included; `dendritic run performance`).
pub const SKINNY: usize = 4;

/// Up to this many rows (samples), `A Wᵀ` goes to [`skinny_gemm`] rather than OpenBLAS.
pub const SKINNY_GEMM: usize = 32;

/// Up to this many rows (samples), `C = α A B` with a row-major B (k × n), β = 0 and
/// m·n·k > [`NN_BLOCKED`] goes to [`gemm_nn`] rather than OpenBLAS (backprop's δ_{k+1} W_{k+1}).
/// Up to 11 rows the order of [`gemm_nn`] is that of OpenBLAS 0.3.21's SkylakeX/Cooper Lake
/// kernels bit for bit (tested); from 12 rows on, OpenBLAS sums its last columns differently.
pub const NN_ROWS: usize = 11;

/// OpenBLAS 0.3.21 (SkylakeX/Cooper Lake) takes its unblocked "small matrix" kernel up to
/// m·n·k = 10⁶ and its blocked driver above; [`gemm_nn`] reproduces the blocked one.
pub const NN_BLOCKED: usize = 1_000_000;

mod rank_update;
pub use rank_update::{RankUpdate, matches_blas, update_then_products};

const CBLAS_ROW_MAJOR: i32 = 101;
const CBLAS_NO_TRANS: i32 = 111;
const CBLAS_TRANS: i32 = 112;

#[link(name = "openblas")]
unsafe extern "C" {
    fn cblas_dgemm(
        layout: i32,
        trans_a: i32,
        trans_b: i32,
        m: i32,
        n: i32,
        k: i32,
        alpha: f64,
        a: *const f64,
        lda: i32,
        b: *const f64,
        ldb: i32,
        beta: f64,
        c: *mut f64,
        ldc: i32,
    );
    fn openblas_set_num_threads(n: i32);
    fn openblas_get_corename() -> *const std::ffi::c_char;
}

/// The OpenBLAS kernel in use (e.g. "Haswell", "SkylakeX", "Zen"), as OpenBLAS names it.
pub fn blas_core() -> String {
    // SAFETY: OpenBLAS returns a pointer to a static NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(openblas_get_corename()) }
        .to_string_lossy()
        .into_owned()
}

/// OpenBLAS runs on the calling thread only: parallelism is ours (rayon over runs, or over
/// rows in a step), and a BLAS that split its sums by thread count would break reproducibility.
fn blas_single_threaded() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| unsafe { openblas_set_num_threads(1) });
}

/// The instruction sets the loops are compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// x86-64 baseline (SSE2), or any other architecture.
    Baseline,
    /// AVX2 with FMA.
    Avx2,
    /// AVX-512F with FMA.
    Avx512,
}

/// The instruction set the loops use on this CPU (detected once).
pub fn isa() -> Isa {
    static ISA: OnceLock<Isa> = OnceLock::new();
    *ISA.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if std::env::var_os("DENDRITIC_BASELINE_ISA").is_some() {
                return Isa::Baseline;
            }
            let fma = std::is_x86_feature_detected!("fma");
            if fma && std::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if fma && std::is_x86_feature_detected!("avx2") {
                return Isa::Avx2;
            }
        }
        Isa::Baseline
    })
}

/// How one row of a weight matrix and its trace change in a step of the plasticity rules
/// (Eqs. 7–10 with the τ_w low-pass, paper-spec §3.1), integrated by forward Euler:
/// with a trace, `w ← w + c Δ` then `Δ ← a Δ + Σ_s e_s x_s`; without, `w ← w + Σ_s e_s x_s`;
/// then `w ← clamp(w, −clip, clip)` when a bound is set. The factors e_s carry dt, η, 1/τ_w
/// and 1/batch already.
#[derive(Clone, Copy, Debug)]
pub struct RowUpdate {
    /// The trace's decay factor a = 1 − dt/τ_w.
    pub a: f64,
    /// The weight's rate c = dt η.
    pub c: f64,
    /// The optional weight bound.
    pub clip: Option<f64>,
}

macro_rules! kernels {
    ($modname:ident, $($feature:literal),*) => {
        #[allow(
            unsafe_op_in_unsafe_fn,
            reason = "the kernels are unsafe for their target features only; every intrinsic is in bounds"
        )]
        mod $modname {
            use super::RowUpdate;

            /// See `row_dot_body`, for every sample.
            $(#[target_feature(enable = $feature)])*
            pub unsafe fn row_dots(w: &[f64], x: &[f64], out: &mut [f64]) {
                let m = w.len();
                for (s, o) in out.iter_mut().enumerate() {
                    *o = super::row_dot_body(w, &x[s * m..(s + 1) * m]);
                }
            }

            /// See `update_traced_body` / `update_direct_body`, for every row of a block.
            $(#[target_feature(enable = $feature)])*
            pub unsafe fn update_rows(w: &mut [f64], mut d: Option<&mut [f64]>, m: usize, x: &[f64], e: &[f64], u: RowUpdate) {
                let rows = w.len() / m;
                let b = e.len() / rows;
                for r in 0..rows {
                    let (wr, er) = (&mut w[r * m..(r + 1) * m], &e[r * b..(r + 1) * b]);
                    match d.as_mut() {
                        Some(d) => super::update_traced_body(wr, &mut d[r * m..(r + 1) * m], x, er, u),
                        None => super::update_direct_body(wr, x, er, u.clip),
                    }
                }
            }




            /// See `dot8_body`.
            $(#[target_feature(enable = $feature)])*
            pub unsafe fn dot8(w: &[f64], x: &[f64]) -> f64 {
                super::dot8_body(w, x)
            }

            /// out_i = 1/(1 + e^{−scale·in_i}).
            $(#[target_feature(enable = $feature)])*
            pub unsafe fn logistic(scale: f64, input: &[f64], out: &mut [f64]) {
                for (o, &u) in out.iter_mut().zip(input) {
                    *o = super::logistic_body(scale * u);
                }
            }

            /// out_i = γ log(1 + e^{β(scale·in_i − θ)}).
            $(#[target_feature(enable = $feature)])*
            pub unsafe fn softplus(p: [f64; 4], input: &[f64], out: &mut [f64]) {
                let [gamma, beta, theta, scale] = p;
                for (o, &u) in out.iter_mut().zip(input) {
                    *o = gamma * super::softplus_body(beta * (scale * u - theta));
                }
            }

            /// c_j ← β c_j + α a b_j (one row of an outer product).
            $(#[target_feature(enable = $feature)])*
            pub unsafe fn axpby(c: &mut [f64], b: &[f64], alpha: f64, beta: f64) {
                super::axpby_body(c, b, alpha, beta)
            }
        }
    };
}

kernels!(baseline,);
#[cfg(target_arch = "x86_64")]
kernels!(avx2, "avx2", "fma");
#[cfg(target_arch = "x86_64")]
kernels!(avx512, "avx512f", "fma");

macro_rules! dispatch {
    ($f:ident($($arg:expr),*)) => {{
        // SAFETY: a version compiled for an instruction set runs only where `isa()` found it.
        unsafe {
            match isa() {
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512 => avx512::$f($($arg),*),
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2 => avx2::$f($($arg),*),
                _ => baseline::$f($($arg),*),
            }
        }
    }};
}

/// The Taylor coefficients 1/n! of e^r, n = 0 … 13.
const EXP_TAYLOR: [f64; 14] = [
    1.0,
    1.0,
    0.5,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

/// e^x for x ≤ 0, branch-free (so that loops over it vectorise): x = k ln 2 + r, |r| ≤ ln2/2,
/// e^r by its Taylor polynomial to degree 13 (truncation < 4e-18) in fused multiply–adds, times
/// 2^k built from the bits of the rounding shift; 0 below −708; NaN stays NaN.
#[inline(always)]
fn exp_neg_body(x: f64) -> f64 {
    const SHIFT: f64 = 6_755_399_441_055_744.0; // 1.5 · 2^52: adding it rounds to an integer
    const LN2_HI: f64 = 6.931_471_803_691_238e-1; // 21 trailing zero bits: k ln2_hi is exact
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const C: [f64; 14] = EXP_TAYLOR;
    let under = x < -708.0;
    let xc = if under { -708.0 } else { x };
    let t = xc.mul_add(std::f64::consts::LOG2_E, SHIFT);
    let k = t - SHIFT;
    let r = (-k).mul_add(LN2_LO, (-k).mul_add(LN2_HI, xc));
    let mut p = C[13];
    for c in C[..13].iter().rev() {
        p = p.mul_add(r, *c);
    }
    let ki = (t.to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64);
    let scale = f64::from_bits((ki.wrapping_add(1023) as u64) << 52);
    if under { 0.0 } else { p * scale }
}

/// log(1 + t) for t ∈ [0, 1], branch-free: with m = 1 + t (or (1 + t)/2 when 1 + t > √2,
/// adding ln 2), log m = 2 atanh(s), s = (m − 1)/(m + 1) formed from t without cancellation
/// (|s| ≤ 0.172), by its series to s²³ (truncation < 1e-18).
#[inline(always)]
fn log1p_unit_body(t: f64) -> f64 {
    let big = t > std::f64::consts::SQRT_2 - 1.0;
    let num = if big { t - 1.0 } else { t };
    let den = if big { t + 3.0 } else { t + 2.0 };
    let e = if big { std::f64::consts::LN_2 } else { 0.0 };
    let s = num / den;
    let s2 = s * s;
    let mut p: f64 = 1.0 / 23.0;
    for k in (0..11).rev() {
        p = p.mul_add(s2, 1.0 / (2 * k + 1) as f64);
    }
    (2.0 * s).mul_add(p, e)
}

/// The logistic 1/(1 + e^{−x}) from e^{−|x|}.
#[inline(always)]
fn logistic_body(x: f64) -> f64 {
    let e = exp_neg_body(-x.abs());
    let num = if x >= 0.0 { 1.0 } else { e };
    num / (1.0 + e)
}

/// log(1 + e^x) = max(x, 0) + log(1 + e^{−|x|}).
#[inline(always)]
fn softplus_body(x: f64) -> f64 {
    let pos = if x > 0.0 { x } else { 0.0 };
    pos + log1p_unit_body(exp_neg_body(-x.abs()))
}

/// The fixed summation tree of eight lanes.
#[inline(always)]
fn tree8(a: &[f64; 8]) -> f64 {
    ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]))
}

/// w · x in eight lanes summed by [`tree8`], the last < 8 products added in order: the
/// arithmetic of every (row, sample) pair of [`skinny_gemm`], in each of its versions.
#[inline(always)]
fn dot8_body(w: &[f64], x: &[f64]) -> f64 {
    let k = w.len();
    let k8 = k / 8 * 8;
    let mut acc = [0.0; 8];
    for (wc, xc) in w[..k8].chunks_exact(8).zip(x[..k8].chunks_exact(8)) {
        for l in 0..8 {
            acc[l] = wc[l].mul_add(xc[l], acc[l]);
        }
    }
    let mut s = tree8(&acc);
    for j in k8..k {
        s = w[j].mul_add(x[j], s);
    }
    s
}

/// The fixed summation tree of the 32 lanes of [`row_dot`]: lane l + 16 onto l, then l + 8
/// onto l, then the eight lanes pairwise.
#[inline(always)]
fn tree32(a: &[f64; UPDATE_LANES]) -> f64 {
    let mut h = [0.0; 16];
    for l in 0..16 {
        h[l] = a[l] + a[l + 16];
    }
    let mut q = [0.0; 8];
    for l in 0..8 {
        q[l] = h[l] + h[l + 8];
    }
    ((q[0] + q[4]) + (q[2] + q[6])) + ((q[1] + q[5]) + (q[3] + q[7]))
}

/// The lanes' sum: [`tree32`], or, for rows shorter than 32 (only lanes 0–7 were used),
/// [`tree8`] of lanes 0–7 (the same up to the sign of an exact zero, and cheaper).
#[inline(always)]
fn reduce32(a: &[f64; UPDATE_LANES], full: usize) -> f64 {
    if full == 0 {
        tree8(a[..8].try_into().expect("8 lanes"))
    } else {
        tree32(a)
    }
}

/// w · x in 32 lanes: chunks of 32 into lanes 0–31, then chunks of 8 into lanes 0–7, each
/// product added by one fused multiply–add; the last < 8 elements (the row's tail) into lanes
/// 0 … 6 as one more, partial, chunk of 8; the lanes summed by [`tree32`]. The AVX-512 version
/// does exactly this (the tail as a chunk loaded under a mask: its missing lanes add 0 · 0,
/// which leaves a lane's bits as they are, since a lane that starts at +0 never holds −0).
/// Until 2026-12 the tail was added in order after the tree, which the AVX-512 batch-1 kernel
/// had to gather across eight rows; as a chunk it is one masked load per row (the small
/// network's 50 × 30 block 2.3× faster): results changed by rounding only (ARCHITECTURE.md).
#[inline(always)]
fn row_dot_body(w: &[f64], x: &[f64]) -> f64 {
    let m = w.len();
    let (full, eights) = (m / UPDATE_LANES * UPDATE_LANES, m / 8 * 8);
    let mut acc = [0.0; UPDATE_LANES];
    for (wc, xc) in w[..full]
        .chunks_exact(UPDATE_LANES)
        .zip(x[..full].chunks_exact(UPDATE_LANES))
    {
        for l in 0..UPDATE_LANES {
            acc[l] = wc[l].mul_add(xc[l], acc[l]);
        }
    }
    for (wc, xc) in w[full..eights]
        .chunks_exact(8)
        .zip(x[full..eights].chunks_exact(8))
    {
        for l in 0..8 {
            acc[l] = wc[l].mul_add(xc[l], acc[l]);
        }
    }
    for l in 0..m - eights {
        acc[l] = w[eights + l].mul_add(x[eights + l], acc[l]);
    }
    reduce32(&acc, full)
}

/// acc = Σ_s e_s x_s[j .. j + UPDATE_LANES] for the rows x_s (length m) of `x`.
#[inline(always)]
fn hebbian_chunk(x: &[f64], m: usize, e: &[f64], j: usize) -> [f64; UPDATE_LANES] {
    let mut acc = [0.0; UPDATE_LANES];
    for (xs, &es) in x.chunks_exact(m).zip(e) {
        let xc: &[f64; UPDATE_LANES] = xs[j..j + UPDATE_LANES].try_into().expect("chunk");
        for l in 0..UPDATE_LANES {
            acc[l] = es.mul_add(xc[l], acc[l]);
        }
    }
    acc
}

#[inline(always)]
fn hebbian_one(x: &[f64], m: usize, e: &[f64], j: usize) -> f64 {
    let mut acc = 0.0;
    for (xs, &es) in x.chunks_exact(m).zip(e) {
        acc = es.mul_add(xs[j], acc);
    }
    acc
}

#[inline(always)]
fn update_traced_body(w: &mut [f64], d: &mut [f64], x: &[f64], e: &[f64], u: RowUpdate) {
    let m = w.len();
    let full = m / UPDATE_LANES * UPDATE_LANES;
    for (c, (wc, dc)) in w[..full]
        .chunks_exact_mut(UPDATE_LANES)
        .zip(d[..full].chunks_exact_mut(UPDATE_LANES))
        .enumerate()
    {
        let acc = hebbian_chunk(x, m, e, c * UPDATE_LANES);
        let wc: &mut [f64; UPDATE_LANES] = wc.try_into().expect("chunk");
        let dc: &mut [f64; UPDATE_LANES] = dc.try_into().expect("chunk");
        for l in 0..UPDATE_LANES {
            let old = dc[l];
            wc[l] = u.c.mul_add(old, wc[l]);
            dc[l] = u.a.mul_add(old, acc[l]);
        }
    }
    for j in full..m {
        let acc = hebbian_one(x, m, e, j);
        let old = d[j];
        w[j] = u.c.mul_add(old, w[j]);
        d[j] = u.a.mul_add(old, acc);
    }
    if let Some(c) = u.clip {
        for v in w.iter_mut() {
            *v = v.clamp(-c, c);
        }
    }
}

#[inline(always)]
fn update_direct_body(w: &mut [f64], x: &[f64], e: &[f64], clip: Option<f64>) {
    let m = w.len();
    let full = m / UPDATE_LANES * UPDATE_LANES;
    for (c, wc) in w[..full].chunks_exact_mut(UPDATE_LANES).enumerate() {
        let acc = hebbian_chunk(x, m, e, c * UPDATE_LANES);
        let wc: &mut [f64; UPDATE_LANES] = wc.try_into().expect("chunk");
        for l in 0..UPDATE_LANES {
            wc[l] += acc[l];
        }
    }
    for j in full..m {
        w[j] += hebbian_one(x, m, e, j);
    }
    if let Some(c) = clip {
        for v in w.iter_mut() {
            *v = v.clamp(-c, c);
        }
    }
}

#[inline(always)]
fn axpby_body(c: &mut [f64], b: &[f64], alpha: f64, beta: f64) {
    if beta == 0.0 {
        for (c, &b) in c.iter_mut().zip(b) {
            *c = alpha * b;
        }
    } else if beta == 1.0 {
        for (c, &b) in c.iter_mut().zip(b) {
            *c += alpha * b;
        }
    } else {
        for (c, &b) in c.iter_mut().zip(b) {
            *c = beta * *c + alpha * b;
        }
    }
}

/// `out_i = 1/(1 + e^{−scale·in_i})`, vectorised (within 1e-15 (a few ulp) of libm's; the same bits on
/// every instruction set).
pub fn logistic_map(scale: f64, input: &[f64], out: &mut [f64]) {
    assert_eq!(input.len(), out.len());
    #[cfg(target_arch = "x86_64")]
    if isa() == Isa::Avx512 {
        // SAFETY: lengths checked above; AVX-512 and FMA detected.
        return unsafe { x86::logistic_512(scale, input, out) };
    }
    dispatch!(logistic(scale, input, out))
}

/// `out_i = γ log(1 + e^{β(scale·in_i − θ)})`, vectorised (as [`logistic_map`]).
pub fn softplus_map(gamma: f64, beta: f64, theta: f64, scale: f64, input: &[f64], out: &mut [f64]) {
    assert_eq!(input.len(), out.len());
    #[cfg(target_arch = "x86_64")]
    if isa() == Isa::Avx512 {
        // SAFETY: lengths checked above; AVX-512 and FMA detected.
        return unsafe { x86::softplus_512([gamma, beta, theta, scale], input, out) };
    }
    dispatch!(softplus([gamma, beta, theta, scale], input, out))
}

/// `out[r B + s] = w_r · x_s` for every row w_r (length m) of `w` and sample x_s of `x`,
/// B = out.len() / rows: [`row_dots`] over a block of rows in one call.
pub fn block_dots(w: &[f64], m: usize, x: &[f64], out: &mut [f64]) {
    let rows = w.len() / m.max(1);
    assert!(
        rows * m == w.len() && rows > 0 && out.len().is_multiple_of(rows),
        "block_dots: shapes"
    );
    let b = out.len() / rows;
    assert!(x.len() >= b * m, "block_dots: x too short");
    #[cfg(target_arch = "x86_64")]
    if isa() == Isa::Avx512 {
        // SAFETY: shapes checked above; AVX-512 and FMA detected.
        return unsafe {
            if b == 1 {
                x86::block_dots1_512(w, m, x, out)
            } else {
                x86::block_dots_512(w, m, x, out)
            }
        };
    }
    for r in 0..rows {
        row_dots(&w[r * m..(r + 1) * m], x, &mut out[r * b..(r + 1) * b]);
    }
}

/// `C[s, i] = α W_i · X_s + β C[s, i]` for the m samples X_s (rows of `x`, length k) and the n
/// rows W_i of `w` (row-major n × k): the dendrites of a small batch, register-blocked (4 rows
/// × 5 samples per block with AVX-512) and without packing the weights. Each pair is summed as
/// `dot8_body` does, on every instruction set.
pub fn skinny_gemm(
    alpha: f64,
    w: &[f64],
    n: usize,
    x: &[f64],
    m: usize,
    beta: f64,
    c: &mut ArrayViewMut2<f64>,
) {
    let k = w.len().checked_div(n).unwrap_or(0);
    assert!(
        w.len() == n * k && x.len() >= m * k && c.dim() == (m, n),
        "skinny_gemm: shapes"
    );
    let mut put = |s: usize, i: usize, v: f64| {
        let cv = &mut c[[s, i]];
        *cv = if beta == 0.0 {
            alpha * v
        } else {
            beta * *cv + alpha * v
        };
    };
    #[cfg(target_arch = "x86_64")]
    if isa() == Isa::Avx512 {
        // SAFETY: shapes checked above; AVX-512 and FMA detected.
        unsafe { x86::skinny_512(w, n, x, m, k, put) };
        return;
    }
    for i in 0..n {
        for s in 0..m {
            let (wi, xs) = (&w[i * k..(i + 1) * k], &x[s * k..(s + 1) * k]);
            put(s, i, dispatch!(dot8(wi, xs)));
        }
    }
}

/// The blocks [lo, hi) of the inner dimension k in which [`gemm_nn`] sums: those of OpenBLAS
/// 0.3.21's level-3 driver with its SkylakeX/Cooper Lake parameters (GEMM_Q = 384,
/// GEMM_UNROLL_M = 16): 384 while at least 768 remain, then the rest halved (rounded up to 16)
/// when it exceeds 384, then the remainder. k = 500 gives [0, 256) and [256, 500).
fn nn_k_blocks(k: usize) -> impl Iterator<Item = (usize, usize)> {
    let mut lo = 0;
    std::iter::from_fn(move || {
        if lo >= k {
            return None;
        }
        let left = k - lo;
        let len = if left >= 768 {
            384
        } else if left > 384 {
            (left / 2).div_ceil(16) * 16
        } else {
            left
        };
        lo += len;
        Some((lo - len, lo))
    })
}

/// The order of [`gemm_nn`], one element at a time: C starts at +0; for every block of
/// [`nn_k_blocks`], acc = Σ_j a_j b_j by fused multiply–adds in j from 0, then C ← acc·α + C
/// (fused).
#[allow(
    clippy::too_many_arguments,
    reason = "a BLAS-style kernel: the three matrices with their strides"
)]
fn gemm_nn_body(
    alpha: f64,
    a: &[f64],
    lda: usize,
    b: &[f64],
    ldb: usize,
    c: &mut [f64],
    ldc: usize,
    (m, k, n): (usize, usize, usize),
) {
    for s in 0..m {
        for i in 0..n {
            let mut cv = 0.0;
            for (lo, hi) in nn_k_blocks(k) {
                let mut acc = 0.0;
                for j in lo..hi {
                    acc = a[s * lda + j].mul_add(b[j * ldb + i], acc);
                }
                cv = acc.mul_add(alpha, cv);
            }
            c[s * ldc + i] = cv;
        }
    }
}

/// `C = α A B` for a few rows of A (m × k, row stride `lda`) and a row-major B (k × n, row
/// stride `ldb`) into C (m × n, row stride `ldc`): the error sent down, δ_{k+1} W_{k+1}, of a
/// minibatch. Register-blocked (up to 11 rows × 16 columns per panel with AVX-512), nothing
/// packed; every element summed as [`gemm_nn_body`] says, on every instruction set.
#[allow(
    clippy::too_many_arguments,
    reason = "a BLAS-style kernel: the three matrices with their strides"
)]
pub fn gemm_nn(
    alpha: f64,
    a: &[f64],
    lda: usize,
    b: &[f64],
    ldb: usize,
    c: &mut [f64],
    ldc: usize,
    (m, k, n): (usize, usize, usize),
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        lda >= k
            && ldb >= n
            && ldc >= n
            && a.len() >= (m - 1) * lda + k
            && (k == 0 || b.len() >= (k - 1) * ldb + n)
            && c.len() >= (m - 1) * ldc + n,
        "gemm_nn: shapes"
    );
    #[cfg(target_arch = "x86_64")]
    if isa() == Isa::Avx512 {
        // SAFETY: every index the kernel touches is within the lengths checked above; AVX-512
        // and FMA detected.
        unsafe { x86::gemm_nn_512(alpha, a, lda, b, ldb, c, ldc, (m, k, n)) };
        return;
    }
    gemm_nn_body(alpha, a, lda, b, ldb, c, ldc, (m, k, n));
}

/// `out[s] = w · x_s` for the rows x_s (length w.len()) of `x`, s < out.len(): one weight row
/// against every sample of a batch (see `row_dot_body` for the order of the sums).
pub fn row_dots(w: &[f64], x: &[f64], out: &mut [f64]) {
    let m = w.len();
    assert!(x.len() >= out.len() * m, "row_dots: x too short");
    #[cfg(target_arch = "x86_64")]
    if isa() == Isa::Avx512 {
        // SAFETY: lengths checked above; AVX-512 and FMA detected.
        return unsafe { x86::row_dots_512(w, x, out) };
    }
    dispatch!(row_dots(w, x, out))
}

/// The Euler step of one weight row and its trace (see [`RowUpdate`]); `x` holds the batch's
/// pre-synaptic rates row after row (row length w.len()), `e` one factor per sample.
pub fn update_row_traced(w: &mut [f64], d: &mut [f64], x: &[f64], e: &[f64], u: RowUpdate) {
    let m = w.len();
    update_rows(w, Some(d), m, x, e, u)
}

/// The Euler step of a block of rows (row stride m, `w.len() / m` rows) with their traces
/// (`d`, or none), the factors of row r in `e[r B .. (r+1) B]`: per element the arithmetic of
/// [`update_row_traced`] / [`update_row_direct`], four rows at a time where AVX-512 is there.
pub fn update_rows(
    w: &mut [f64],
    d: Option<&mut [f64]>,
    m: usize,
    x: &[f64],
    e: &[f64],
    u: RowUpdate,
) {
    let rows = w.len() / m.max(1);
    assert!(
        rows > 0 && rows * m == w.len() && e.len().is_multiple_of(rows),
        "update_rows: shapes"
    );
    let b = e.len() / rows;
    assert!(
        x.len() >= b * m && d.as_ref().is_none_or(|d| d.len() == w.len()),
        "update_rows: shapes"
    );
    // SAFETY (all): shapes checked above; the instruction set detected.
    #[cfg(target_arch = "x86_64")]
    match isa() {
        Isa::Avx512 if rows == 4 && b >= 4 => return unsafe { x86::update4_512(w, d, m, x, e, u) },
        Isa::Avx512 if b == 1 && m >= 8 => {
            return unsafe { x86::update_flat1_512(w, d, m, x, e, u) };
        }
        Isa::Avx512 => return unsafe { x86::update_block_512(w, d, m, x, e, u) },
        _ => {}
    }
    dispatch!(update_rows(w, d, m, x, e, u))
}

/// The Euler step of one weight row without a trace: `w ← w + Σ_s e_s x_s` (then the bound).
pub fn update_row_direct(w: &mut [f64], x: &[f64], e: &[f64], clip: Option<f64>) {
    let m = w.len();
    update_rows(
        w,
        None,
        m,
        x,
        e,
        RowUpdate {
            a: 0.0,
            c: 0.0,
            clip,
        },
    )
}

/// The AVX-512 versions of the row kernels, with intrinsics (AVX2 machines run the portable
/// bodies compiled for AVX2 + FMA, which LLVM vectorises): lane for lane the
/// arithmetic of the portable bodies (`row_dot_body`, `dot8_body`, `update_*_body`), so the results are the same
/// bits.
#[cfg(target_arch = "x86_64")]
#[allow(
    unsafe_op_in_unsafe_fn,
    reason = "the kernels are unsafe for their target features only; every intrinsic is in bounds"
)]
mod x86 {
    use super::{RowUpdate, UPDATE_LANES};
    use core::arch::x86_64::*;

    /// One panel of `gemm_nn_512`: R rows × 16 columns (masked by `mask`) over the inner block
    /// [lo, hi), added to C as acc·α + C.
    #[inline]
    #[allow(
        clippy::too_many_arguments,
        reason = "one register panel of gemm_nn_512"
    )]
    unsafe fn nn_panel_512<const R: usize>(
        alpha: __m512d,
        a: *const f64,
        lda: usize,
        b: *const f64,
        ldb: usize,
        c: *mut f64,
        ldc: usize,
        (lo, hi): (usize, usize),
        mask: [__mmask8; 2],
    ) {
        let mut acc = [[_mm512_setzero_pd(); 2]; R];
        for j in lo..hi {
            let bj = b.add(j * ldb);
            let b0 = _mm512_maskz_loadu_pd(mask[0], bj);
            let b1 = _mm512_maskz_loadu_pd(mask[1], bj.add(8));
            for (r, acc) in acc.iter_mut().enumerate() {
                let ar = _mm512_set1_pd(*a.add(r * lda + j));
                acc[0] = _mm512_fmadd_pd(ar, b0, acc[0]);
                acc[1] = _mm512_fmadd_pd(ar, b1, acc[1]);
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            let cr = c.add(r * ldc);
            for h in 0..2 {
                let old = _mm512_maskz_loadu_pd(mask[h], cr.add(8 * h));
                _mm512_mask_storeu_pd(cr.add(8 * h), mask[h], _mm512_fmadd_pd(acc[h], alpha, old));
            }
        }
    }

    /// `gemm_nn` with AVX-512: C zeroed, then for every inner block, panels of up to 11 rows ×
    /// 16 columns (22 accumulators, B's two chunks loaded once per j, A's entries broadcast).
    #[target_feature(enable = "avx512f,fma")]
    #[allow(
        clippy::too_many_arguments,
        reason = "a BLAS-style kernel: the three matrices with their strides"
    )]
    pub unsafe fn gemm_nn_512(
        alpha: f64,
        a: &[f64],
        lda: usize,
        b: &[f64],
        ldb: usize,
        c: &mut [f64],
        ldc: usize,
        (m, k, n): (usize, usize, usize),
    ) {
        for s in 0..m {
            c[s * ldc..s * ldc + n].fill(0.0);
        }
        let al = _mm512_set1_pd(alpha);
        let (ap, bp, cp) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
        for blk in super::nn_k_blocks(k) {
            let mut c0 = 0;
            while c0 < n {
                let left = (n - c0).min(16);
                let mask = [
                    (((1u32 << left.min(8)) - 1) & 0xff) as __mmask8,
                    (((1u32 << left.saturating_sub(8)) - 1) & 0xff) as __mmask8,
                ];
                let mut s0 = 0;
                while s0 < m {
                    let rows = (m - s0).min(11);
                    let (pa, pb, pc) = (ap.add(s0 * lda), bp.add(c0), cp.add(s0 * ldc + c0));
                    macro_rules! panel {
                        ($($r:literal)*) => {
                            match rows {
                                $($r => nn_panel_512::<$r>(al, pa, lda, pb, ldb, pc, ldc, blk, mask),)*
                                _ => unreachable!(),
                            }
                        };
                    }
                    panel!(1 2 3 4 5 6 7 8 9 10 11);
                    s0 += rows;
                }
                c0 += 16;
            }
        }
    }

    /// See `row_dot_body`: four 8-lane registers, then one for the chunks of 8 and the tail.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    pub unsafe fn row_dots_512(w: &[f64], x: &[f64], out: &mut [f64]) {
        let m = w.len();
        assert!(x.len() >= out.len() * m);
        let (full, eights) = (m / UPDATE_LANES * UPDATE_LANES, m / 8 * 8);
        let wp = w.as_ptr();
        // Four samples at a time share each load of the weights; every sample keeps its own
        // four registers, so its sums are the same as alone.
        let groups = out.len() / 4 * 4;
        for s0 in (0..groups).step_by(4) {
            let mut acc = [[_mm512_setzero_pd(); 4]; 4];
            let mut j = 0;
            while j < full {
                let wv: [__m512d; 4] = std::array::from_fn(|k| _mm512_loadu_pd(wp.add(j + 8 * k)));
                for t in 0..4 {
                    let xp = x.as_ptr().add((s0 + t) * m + j);
                    for k in 0..4 {
                        acc[t][k] =
                            _mm512_fmadd_pd(wv[k], _mm512_loadu_pd(xp.add(8 * k)), acc[t][k]);
                    }
                }
                j += UPDATE_LANES;
            }
            while j < eights {
                let wv = _mm512_loadu_pd(wp.add(j));
                for t in 0..4 {
                    acc[t][0] = _mm512_fmadd_pd(
                        wv,
                        _mm512_loadu_pd(x.as_ptr().add((s0 + t) * m + j)),
                        acc[t][0],
                    );
                }
                j += 8;
            }
            let mask = tail_mask(m);
            for t in 0..4 {
                let xt = _mm512_maskz_loadu_pd(mask, x.as_ptr().add((s0 + t) * m + eights));
                acc[t][0] = tail_fma_512(wp.add(eights), xt, mask, acc[t][0]);
            }
            for t in 0..4 {
                let mut a = [0.0; UPDATE_LANES];
                for k in 0..4 {
                    _mm512_storeu_pd(a.as_mut_ptr().add(8 * k), acc[t][k]);
                }
                out[s0 + t] = super::reduce32(&a, full);
            }
        }
        for (s, o) in out.iter_mut().enumerate().skip(groups) {
            let mut a = [0.0; 8];
            _mm512_storeu_pd(a.as_mut_ptr(), row_lanes_512(wp, x.as_ptr().add(s * m), m));
            *o = super::tree8(&a);
        }
    }

    /// Where a block of `skinny_512` lies: rows from `i0` of `w` and samples from `s0` of `x`
    /// (both row-major with rows of length `k`).
    #[derive(Clone, Copy)]
    struct BlockAt<'a> {
        w: &'a [f64],
        x: &'a [f64],
        k: usize,
        i0: usize,
        s0: usize,
    }

    impl BlockAt<'_> {
        /// The same place `r` rows and `t` samples on.
        fn moved(self, r: usize, t: usize) -> Self {
            BlockAt {
                i0: self.i0 + r,
                s0: self.s0 + t,
                ..self
            }
        }
    }

    /// The (R rows) × (T samples) block of `skinny_gemm` from row `i0` and sample `s0`: one
    /// 8-lane register per pair, the weights loaded once for T samples and the rates once for
    /// R rows.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    unsafe fn skinny_block_512<const R: usize, const T: usize>(
        at: BlockAt,
        out: &mut [[f64; 5]; 4],
    ) {
        let BlockAt { w, x, k, i0, s0 } = at;
        let k8 = k / 8 * 8;
        // A block of four rows meeting its first samples prefetches the next four (see
        // `skinny_512`).
        let prefetch = R == 4 && s0 == 0;
        let (wp, xp) = (w.as_ptr().add(i0 * k), x.as_ptr().add(s0 * k));
        let mut acc = [[_mm512_setzero_pd(); T]; R];
        let mut j = 0;
        while j < k8 {
            if prefetch {
                // The next R rows, the same columns, into the second-level cache (no effect
                // on the arithmetic; a prefetch never faults, so rows past the end are
                // harmless).
                for r in 0..R {
                    _mm_prefetch::<_MM_HINT_T1>(wp.wrapping_add((R + r) * k + j).cast::<i8>());
                }
            }
            let wv: [__m512d; R] = std::array::from_fn(|r| _mm512_loadu_pd(wp.add(r * k + j)));
            for t in 0..T {
                let xv = _mm512_loadu_pd(xp.add(t * k + j));
                for r in 0..R {
                    acc[r][t] = _mm512_fmadd_pd(wv[r], xv, acc[r][t]);
                }
            }
            j += 8;
        }
        // A copy goes to memory, not the loop's array: passing `acc` itself kept it on the
        // stack (zeroed by a call to memset for every block).
        let sums = acc;
        finish_block_512(&sums, at, out);
    }

    /// The sums of a `skinny_block_512`: pair (r, t) is `tree8` of `acc[r][t]` and then the
    /// tail's products (k mod 8 of them) added in order, as `dot8_body`, with the eight lanes
    /// of a register for the samples. Apart from the block's loop (not inlined), so that its
    /// accumulators stay in registers.
    #[target_feature(enable = "avx512f,fma")]
    #[inline(never)]
    unsafe fn finish_block_512<const R: usize, const T: usize>(
        acc: &[[__m512d; T]; R],
        at: BlockAt,
        out: &mut [[f64; 5]; 4],
    ) {
        let BlockAt { w, x, k, i0, s0 } = at;
        let k8 = k / 8 * 8;
        // The tail's rates, lane t for sample s0 + t (zero past T).
        let mut xt = [_mm512_setzero_pd(); 7];
        for (jt, j) in (k8..k).enumerate() {
            let mut lanes = [0.0; 8];
            for t in 0..T {
                lanes[t] = x[(s0 + t) * k + j];
            }
            xt[jt] = _mm512_loadu_pd(lanes.as_ptr());
        }
        for r in 0..R {
            let mut v = [_mm512_setzero_pd(); 8];
            v[..T].copy_from_slice(&acc[r]);
            // Lane t: tree8 of pair (r, t), then the tail's products added in order.
            let mut sum = tree8_lanes_512(v);
            for (jt, j) in (k8..k).enumerate() {
                sum = _mm512_fmadd_pd(_mm512_set1_pd(w[(i0 + r) * k + j]), xt[jt], sum);
            }
            let mut lanes = [0.0; 8];
            _mm512_storeu_pd(lanes.as_mut_ptr(), sum);
            out[r][..T].copy_from_slice(&lanes[..T]);
        }
    }

    /// Lane t: `tree8` of the lanes of `v[t]`, for eight registers at once, by a transposed
    /// reduction: first a_l + a_{l+4} (the 256-bit halves of two registers side by side), then
    /// (a_0 + a_4) + (a_2 + a_6) and (a_1 + a_5) + (a_3 + a_7) (their 128-bit quarters), then
    /// those two. The same additions of the same operands as `tree8`, so the same bits, in
    /// 7 vector additions instead of 56 scalar ones.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn tree8_lanes_512(v: [__m512d; 8]) -> __m512d {
        /// The 128-bit quarters `LO` of a and b side by side, plus their quarters `HI`.
        #[target_feature(enable = "avx512f")]
        #[inline]
        unsafe fn add_quarters<const LO: i32, const HI: i32>(a: __m512d, b: __m512d) -> __m512d {
            _mm512_add_pd(
                _mm512_shuffle_f64x2::<LO>(a, b),
                _mm512_shuffle_f64x2::<HI>(a, b),
            )
        }
        // [a.q0, a.q1, b.q0, b.q1] + [a.q2, a.q3, b.q2, b.q3]: lane l of a (b) gets a_l + a_{l+4}.
        let halves = |a, b| add_quarters::<0x44, 0xEE>(a, b);
        // Quarters 0 and 2 (b_0, b_1 of two registers each) + quarters 1 and 3 (b_2, b_3).
        let quarters = |a, b| add_quarters::<0x88, 0xDD>(a, b);
        let u0 = quarters(halves(v[0], v[1]), halves(v[2], v[3]));
        let u1 = quarters(halves(v[4], v[5]), halves(v[6], v[7]));
        // Lanes [v0, v4, v1, v5, v2, v6, v3, v7] after the last addition, put in order.
        let s = _mm512_add_pd(_mm512_unpacklo_pd(u0, u1), _mm512_unpackhi_pd(u0, u1));
        _mm512_permutexvar_pd(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), s)
    }

    /// `skinny_gemm` with AVX-512: blocks of 4 rows × 5 samples. While a block of rows meets
    /// its first five samples, the next four rows are prefetched into the second-level cache:
    /// the two-pass learner's products stream ≈ 11 MB of weights a minibatch, and the
    /// hardware prefetcher alone left them waiting on the loads (≈ 8 % of its passes; the
    /// same bits).
    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn skinny_512(
        w: &[f64],
        n: usize,
        x: &[f64],
        m: usize,
        k: usize,
        mut put: impl FnMut(usize, usize, f64),
    ) {
        let mut out = [[0.0; 5]; 4];
        let mut i0 = 0;
        while i0 < n {
            let rows = (n - i0).min(4);
            let mut s0 = 0;
            while s0 < m {
                let ts = (m - s0).min(5);
                let at = BlockAt { w, x, k, i0, s0 };
                match (rows, ts) {
                    (4, 5) => skinny_block_512::<4, 5>(at, &mut out),
                    (4, _) => {
                        for t in 0..ts {
                            let mut o = [[0.0; 5]; 4];
                            skinny_block_512::<4, 1>(at.moved(0, t), &mut o);
                            for r in 0..4 {
                                out[r][t] = o[r][0];
                            }
                        }
                    }
                    (_, 5) => {
                        for r in 0..rows {
                            let mut o = [[0.0; 5]; 4];
                            skinny_block_512::<1, 5>(at.moved(r, 0), &mut o);
                            out[r] = o[0];
                        }
                    }
                    _ => {
                        for r in 0..rows {
                            for t in 0..ts {
                                let mut o = [[0.0; 5]; 4];
                                skinny_block_512::<1, 1>(at.moved(r, t), &mut o);
                                out[r][t] = o[0][0];
                            }
                        }
                    }
                }
                for r in 0..rows {
                    for t in 0..ts {
                        put(s0 + t, i0 + r, out[r][t]);
                    }
                }
                s0 += ts;
            }
            i0 += rows;
        }
    }

    /// `row_dots_512` for every row of a block (out[r B + s]), in one call.
    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn block_dots_512(w: &[f64], m: usize, x: &[f64], out: &mut [f64]) {
        let rows = w.len() / m;
        let b = out.len() / rows;
        for r in 0..rows {
            row_dots_512(&w[r * m..(r + 1) * m], x, &mut out[r * b..(r + 1) * b]);
        }
    }

    /// Lanes 0 … t − 1 of a row's tail chunk (t = m mod 8 < 8 columns) for [`tail_fma_512`].
    #[inline]
    fn tail_mask(m: usize) -> __mmask8 {
        (1u8 << (m % 8)) - 1
    }

    /// `acc` plus a row's tail as one more chunk of its lanes (`row_dot_body`): the weights at
    /// `wp` loaded under `mask`, times the rates' tail `xt` (zero beyond it), so the lanes from
    /// t on add 0 · 0, which leaves them as they are.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    unsafe fn tail_fma_512(wp: *const f64, xt: __m512d, mask: __mmask8, acc: __m512d) -> __m512d {
        if mask == 0 {
            acc
        } else {
            _mm512_fmadd_pd(_mm512_maskz_loadu_pd(mask, wp), xt, acc)
        }
    }

    /// The eight lanes of `row_dot_body` for one row before its tree: the chunks of 32 in four
    /// registers folded as `tree32`'s first two levels do (lane l + 16 onto l, then l + 8 onto
    /// l), the chunks of 8 and then the tail (under a mask) into the first; lane l then holds
    /// `tree32`'s (or, for rows shorter than 32, `tree8`'s) operand l.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    unsafe fn row_lanes_512(wp: *const f64, xp: *const f64, m: usize) -> __m512d {
        let (full, eights) = (m / UPDATE_LANES * UPDATE_LANES, m / 8 * 8);
        let mut acc = [_mm512_setzero_pd(); 4];
        let mut j = 0;
        while j < full {
            for k in 0..4 {
                acc[k] = _mm512_fmadd_pd(
                    _mm512_loadu_pd(wp.add(j + 8 * k)),
                    _mm512_loadu_pd(xp.add(j + 8 * k)),
                    acc[k],
                );
            }
            j += UPDATE_LANES;
        }
        while j < eights {
            acc[0] = _mm512_fmadd_pd(
                _mm512_loadu_pd(wp.add(j)),
                _mm512_loadu_pd(xp.add(j)),
                acc[0],
            );
            j += 8;
        }
        let mask = tail_mask(m);
        let xt = _mm512_maskz_loadu_pd(mask, xp.add(eights));
        acc[0] = tail_fma_512(wp.add(eights), xt, mask, acc[0]);
        if full == 0 {
            acc[0]
        } else {
            _mm512_add_pd(_mm512_add_pd(acc[0], acc[2]), _mm512_add_pd(acc[1], acc[3]))
        }
    }

    /// `tree8` of each of eight registers at once, lane r of the result from `q[r]`: the
    /// registers transposed while they are summed, every addition the one `tree8` makes
    /// (((q0 + q4) + (q2 + q6)) + ((q1 + q5) + (q3 + q7)), operands perhaps swapped).
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    unsafe fn tree8_x8_512(q: &[__m512d; 8]) -> __m512d {
        // Lanes l + 4 onto l, two rows per register: rows (0, 2), (4, 6), (1, 3), (5, 7).
        let s1 = |a: __m512d, b: __m512d| {
            _mm512_add_pd(
                _mm512_shuffle_f64x2::<0x44>(a, b),
                _mm512_shuffle_f64x2::<0xEE>(a, b),
            )
        };
        let (p02, p46, p13, p57) = (
            s1(q[0], q[2]),
            s1(q[4], q[6]),
            s1(q[1], q[3]),
            s1(q[5], q[7]),
        );
        // Lanes l + 2 onto l, four rows per register: rows (0, 2, 4, 6) and (1, 3, 5, 7), two
        // lanes each.
        let s2 = |a: __m512d, b: __m512d| {
            _mm512_add_pd(
                _mm512_shuffle_f64x2::<0x88>(a, b),
                _mm512_shuffle_f64x2::<0xDD>(a, b),
            )
        };
        let (even, odd) = (s2(p02, p46), s2(p13, p57));
        // Lane 1 onto lane 0: rows 0, 1, …, 7 in order.
        _mm512_add_pd(_mm512_unpacklo_pd(even, odd), _mm512_unpackhi_pd(even, odd))
    }

    /// The eight lanes of one row of `n8` · 8 to `n8` · 8 + 7 < 64 columns as `row_lanes_512`
    /// sums them, the rates' chunks held in registers (`xv`, and the tail `xt` under `tmask`)
    /// instead of loaded again for every row.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    unsafe fn row_lanes_x_512<const N8: usize>(
        wp: *const f64,
        xv: &[__m512d; N8],
        xt: __m512d,
        tmask: __mmask8,
    ) -> __m512d {
        if N8 < 4 {
            let mut q = _mm512_setzero_pd();
            for (c, &xc) in xv.iter().enumerate() {
                q = _mm512_fmadd_pd(_mm512_loadu_pd(wp.add(8 * c)), xc, q);
            }
            tail_fma_512(wp.add(8 * N8), xt, tmask, q)
        } else {
            let mut acc = [_mm512_setzero_pd(); 4];
            for (c, a) in acc.iter_mut().enumerate() {
                *a = _mm512_fmadd_pd(_mm512_loadu_pd(wp.add(8 * c)), xv[c], *a);
            }
            for c in 4..N8 {
                acc[0] = _mm512_fmadd_pd(_mm512_loadu_pd(wp.add(8 * c)), xv[c], acc[0]);
            }
            acc[0] = tail_fma_512(wp.add(8 * N8), xt, tmask, acc[0]);
            _mm512_add_pd(_mm512_add_pd(acc[0], acc[2]), _mm512_add_pd(acc[1], acc[3]))
        }
    }

    /// The rows of a block eight at a time: `lanes` gives a row's eight lanes before its tree
    /// (from the row's first element, its tail included), then the tree of all eight rows in
    /// registers.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    unsafe fn block_dots1_with(
        w: &[f64],
        m: usize,
        out: &mut [f64],
        lanes: impl Fn(*const f64) -> __m512d,
    ) {
        let rows = out.len();
        let wp = w.as_ptr();
        let mut r0 = 0;
        while r0 < rows {
            let nr = (rows - r0).min(8);
            let mut q = [_mm512_setzero_pd(); 8];
            for (r, qr) in q.iter_mut().enumerate().take(nr) {
                *qr = lanes(wp.add((r0 + r) * m));
            }
            let sum = tree8_x8_512(&q);
            let mask: __mmask8 = if nr == 8 { 0xff } else { (1u8 << nr) - 1 };
            _mm512_mask_storeu_pd(out.as_mut_ptr().add(r0), mask, sum);
            r0 += nr;
        }
    }

    /// `block_dots1_512` for rows of 8 · N8 to 8 · N8 + 7 < 64 columns: the same sums, the
    /// rates' whole chunks loaded once for all rows.
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn block_dots1_x_512<const N8: usize>(w: &[f64], m: usize, x: &[f64], out: &mut [f64]) {
        let mut xv = [_mm512_setzero_pd(); N8];
        for (c, xc) in xv.iter_mut().enumerate() {
            *xc = _mm512_loadu_pd(x.as_ptr().add(8 * c));
        }
        let tmask = tail_mask(m);
        let xt = _mm512_maskz_loadu_pd(tmask, x.as_ptr().add(8 * N8));
        block_dots1_with(w, m, out, |row| row_lanes_x_512::<N8>(row, &xv, xt, tmask));
    }

    /// `block_dots_512` for one sample: eight rows at a time, each summed as `row_dot_body`
    /// (its lanes, the tail a masked chunk, then the tree of all eight rows in registers).
    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn block_dots1_512(w: &[f64], m: usize, x: &[f64], out: &mut [f64]) {
        let rows = out.len();
        assert!(w.len() == rows * m && x.len() >= m);
        match m / 8 {
            1 => return block_dots1_x_512::<1>(w, m, x, out),
            2 => return block_dots1_x_512::<2>(w, m, x, out),
            3 => return block_dots1_x_512::<3>(w, m, x, out),
            4 => return block_dots1_x_512::<4>(w, m, x, out),
            5 => return block_dots1_x_512::<5>(w, m, x, out),
            6 => return block_dots1_x_512::<6>(w, m, x, out),
            7 => return block_dots1_x_512::<7>(w, m, x, out),
            _ => {}
        }
        // Rows of 64 columns or more, or fewer than 8 (no whole chunk: their lanes are zero).
        let xp = x.as_ptr();
        block_dots1_with(w, m, out, |row| row_lanes_512(row, xp, m));
    }

    /// The lanes `valid` of one chunk of `update_flat1_512` (weights at `wk`, trace at `dk`,
    /// rates at `xk`, all in one row whose factor is `e`), loaded and stored under the mask.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    unsafe fn update_masked_512(
        wk: *mut f64,
        dk: Option<*mut f64>,
        xk: *const f64,
        e: f64,
        valid: __mmask8,
        u: RowUpdate,
    ) {
        let acc = _mm512_fmadd_pd(
            _mm512_set1_pd(e),
            _mm512_maskz_loadu_pd(valid, xk),
            _mm512_setzero_pd(),
        );
        apply_masked_512(wk, dk, acc, valid, _mm512_set1_pd(u.a), _mm512_set1_pd(u.c));
    }

    /// The lanes `valid` of one chunk's Euler step from its Hebbian term `acc`: with a trace
    /// at `dk`, `w ← w + c d` and `d ← a d + acc`; without, `w ← w + acc`.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    unsafe fn apply_masked_512(
        wk: *mut f64,
        dk: Option<*mut f64>,
        acc: __m512d,
        valid: __mmask8,
        a: __m512d,
        c: __m512d,
    ) {
        let wv = _mm512_maskz_loadu_pd(valid, wk);
        match dk {
            Some(dk) => {
                let old = _mm512_maskz_loadu_pd(valid, dk);
                _mm512_mask_storeu_pd(wk, valid, _mm512_fmadd_pd(c, old, wv));
                _mm512_mask_storeu_pd(dk, valid, _mm512_fmadd_pd(a, old, acc));
            }
            None => _mm512_mask_storeu_pd(wk, valid, _mm512_add_pd(wv, acc)),
        }
    }

    /// `update_block_512` for one sample and rows of at least 8: the block as one flat array,
    /// eight elements at a time whichever rows they belong to (a chunk straddles at most two),
    /// so that short rows pay no per-row tail. Every chunk but a last partial one is loaded and
    /// stored without masks (masked stores cost Zen 4 dearly): a chunk that straddles rows i and
    /// i + 1 takes its rates from x's last eight columns followed by its first eight, and its
    /// factors e_i, e_{i+1} blended by lane. Per element the arithmetic of `update_512`:
    /// `acc = e_r x_j + 0` by one fused multiply–add, then the weight and the trace.
    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn update_flat1_512(
        w: &mut [f64],
        mut d: Option<&mut [f64]>,
        m: usize,
        x: &[f64],
        e: &[f64],
        u: RowUpdate,
    ) {
        let total = w.len();
        let rows = e.len();
        assert!(m >= 8 && total == rows * m && x.len() >= m);
        assert!(d.as_ref().is_none_or(|d| d.len() == total));
        let (a, c, zero) = (
            _mm512_set1_pd(u.a),
            _mm512_set1_pd(u.c),
            _mm512_setzero_pd(),
        );
        // x's last eight columns, then its first eight: the rates of a chunk that starts at
        // column o > m − 8 are xt[o + 8 − m ..][..8].
        let mut xt = [0.0f64; 16];
        xt[..8].copy_from_slice(&x[m - 8..m]);
        xt[8..].copy_from_slice(&x[..8]);
        let (wp, xp, ep, xtp) = (w.as_mut_ptr(), x.as_ptr(), e.as_ptr(), xt.as_ptr());
        let dp = d.as_mut().map(|d| d.as_mut_ptr());
        let whole = total / 8 * 8;
        // Element k is column o of row i: row i's whole chunks from column o, then (when
        // rem = m − o > 0 columns are left) the chunk of its last rem columns and row i + 1's
        // first 8 − rem. One body per case, so that the inner loop is a plain counted one.
        let (mut k, mut i, mut o) = (0, 0, 0);
        macro_rules! flat_loop {
            (|$wk:ident, $at:ident, $acc:ident| $body:block) => {
                while k < whole {
                    let inside = ((m - o) / 8).min((whole - k) / 8);
                    let ev = _mm512_set1_pd(*ep.add(i));
                    for _ in 0..inside {
                        let $acc = _mm512_fmadd_pd(ev, _mm512_loadu_pd(xp.add(o)), zero);
                        let $wk = wp.add(k);
                        let $at = k;
                        $body
                        k += 8;
                        o += 8;
                    }
                    if k >= whole {
                        break;
                    }
                    let rem = m - o;
                    if rem == 0 {
                        i += 1;
                        o = 0;
                        continue;
                    }
                    // Lanes from rem on belong to row i + 1 (which exists: the chunk is whole).
                    let next = (0xffu32 << rem) as __mmask8;
                    let ev2 = _mm512_mask_blend_pd(next, ev, _mm512_set1_pd(*ep.add(i + 1)));
                    let $acc = _mm512_fmadd_pd(ev2, _mm512_loadu_pd(xtp.add(8 - rem)), zero);
                    let $wk = wp.add(k);
                    let $at = k;
                    $body
                    k += 8;
                    o = 8 - rem;
                    i += 1;
                }
            };
        }
        match dp {
            Some(dp) => flat_loop!(|wk, at, acc| {
                let dk = dp.add(at);
                let (wv, old) = (_mm512_loadu_pd(wk), _mm512_loadu_pd(dk));
                _mm512_storeu_pd(wk, _mm512_fmadd_pd(c, old, wv));
                _mm512_storeu_pd(dk, _mm512_fmadd_pd(a, old, acc));
            }),
            None => flat_loop!(|wk, at, acc| {
                let _ = at;
                _mm512_storeu_pd(wk, _mm512_add_pd(_mm512_loadu_pd(wk), acc));
            }),
        }
        if k < total {
            // The last < 8 elements, all in the last row (rows are at least 8 long).
            let valid = ((1u32 << (total - k)) - 1) as __mmask8;
            update_masked_512(
                wp.add(k),
                dp.map(|dp| dp.add(k)),
                xp.add(o),
                *ep.add(i),
                valid,
                u,
            );
        }
        if let Some(c) = u.clip {
            for v in w.iter_mut() {
                *v = v.clamp(-c, c);
            }
        }
    }

    /// `exp_neg_body` of eight lanes: the same operations, lane for lane.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    unsafe fn exp_neg_512(x: __m512d) -> __m512d {
        const SHIFT: f64 = 6_755_399_441_055_744.0;
        const LN2_HI: f64 = 6.931_471_803_691_238e-1;
        const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
        let under = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(x, _mm512_set1_pd(-708.0));
        let xc = _mm512_mask_blend_pd(under, x, _mm512_set1_pd(-708.0));
        let shift = _mm512_set1_pd(SHIFT);
        let t = _mm512_fmadd_pd(xc, _mm512_set1_pd(std::f64::consts::LOG2_E), shift);
        let k = _mm512_sub_pd(t, shift);
        let sign = _mm512_set1_epi64(i64::MIN);
        let nk = _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(k), sign));
        let r = _mm512_fmadd_pd(
            nk,
            _mm512_set1_pd(LN2_LO),
            _mm512_fmadd_pd(nk, _mm512_set1_pd(LN2_HI), xc),
        );
        let mut p = _mm512_set1_pd(super::EXP_TAYLOR[13]);
        for c in super::EXP_TAYLOR[..13].iter().rev() {
            p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(*c));
        }
        let ki = _mm512_sub_epi64(
            _mm512_castpd_si512(t),
            _mm512_set1_epi64(SHIFT.to_bits() as i64),
        );
        let scale = _mm512_castsi512_pd(_mm512_slli_epi64::<52>(_mm512_add_epi64(
            ki,
            _mm512_set1_epi64(1023),
        )));
        _mm512_maskz_mov_pd(!under, _mm512_mul_pd(p, scale))
    }

    /// `log1p_unit_body` of eight lanes.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    unsafe fn log1p_unit_512(t: __m512d) -> __m512d {
        let big =
            _mm512_cmp_pd_mask::<_CMP_GT_OQ>(t, _mm512_set1_pd(std::f64::consts::SQRT_2 - 1.0));
        let num = _mm512_mask_blend_pd(big, t, _mm512_sub_pd(t, _mm512_set1_pd(1.0)));
        let den = _mm512_mask_blend_pd(
            big,
            _mm512_add_pd(t, _mm512_set1_pd(2.0)),
            _mm512_add_pd(t, _mm512_set1_pd(3.0)),
        );
        let e = _mm512_maskz_mov_pd(big, _mm512_set1_pd(std::f64::consts::LN_2));
        let s = _mm512_div_pd(num, den);
        let s2 = _mm512_mul_pd(s, s);
        let mut p = _mm512_set1_pd(1.0 / 23.0);
        for k in (0..11).rev() {
            p = _mm512_fmadd_pd(p, s2, _mm512_set1_pd(1.0 / (2 * k + 1) as f64));
        }
        _mm512_fmadd_pd(_mm512_add_pd(s, s), p, e)
    }

    /// e^{−|x|} of eight lanes.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    unsafe fn exp_neg_abs_512(x: __m512d) -> __m512d {
        let sign = _mm512_set1_epi64(i64::MIN);
        exp_neg_512(_mm512_castsi512_pd(_mm512_or_si512(
            _mm512_castpd_si512(x),
            sign,
        )))
    }

    /// Applies `f` to `input` eight lanes at a time, the last < 8 lanes masked (their inputs
    /// zero), so that every element is computed by the vectorised body.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    unsafe fn map_512(input: &[f64], out: &mut [f64], f: impl Fn(__m512d) -> __m512d) {
        let n = input.len().min(out.len());
        let mut j = 0;
        while j + 8 <= n {
            _mm512_storeu_pd(
                out.as_mut_ptr().add(j),
                f(_mm512_loadu_pd(input.as_ptr().add(j))),
            );
            j += 8;
        }
        if j < n {
            let mask: __mmask8 = (1u8 << (n - j)) - 1;
            let v = _mm512_maskz_loadu_pd(mask, input.as_ptr().add(j));
            _mm512_mask_storeu_pd(out.as_mut_ptr().add(j), mask, f(v));
        }
    }

    /// `softplus` (γ log(1 + e^{β(scale·u − θ)})) with intrinsics, lane for lane the
    /// arithmetic of `softplus_body`.
    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn softplus_512(p: [f64; 4], input: &[f64], out: &mut [f64]) {
        let [gamma, beta, theta, scale] = p.map(|v| _mm512_set1_pd(v));
        map_512(input, out, |u| {
            let x = _mm512_mul_pd(beta, _mm512_sub_pd(_mm512_mul_pd(scale, u), theta));
            let pos =
                _mm512_maskz_mov_pd(_mm512_cmp_pd_mask::<_CMP_GT_OQ>(x, _mm512_setzero_pd()), x);
            let y = _mm512_add_pd(pos, log1p_unit_512(exp_neg_abs_512(x)));
            _mm512_mul_pd(gamma, y)
        });
    }

    /// `logistic` (1/(1 + e^{−scale·u})) with intrinsics, lane for lane `logistic_body`.
    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn logistic_512(scale: f64, input: &[f64], out: &mut [f64]) {
        let scale = _mm512_set1_pd(scale);
        let one = _mm512_set1_pd(1.0);
        map_512(input, out, |u| {
            let x = _mm512_mul_pd(scale, u);
            let e = exp_neg_abs_512(x);
            let num = _mm512_mask_blend_pd(
                _mm512_cmp_pd_mask::<_CMP_GE_OQ>(x, _mm512_setzero_pd()),
                e,
                one,
            );
            _mm512_div_pd(num, _mm512_add_pd(one, e))
        });
    }

    /// `update_512` for every row of a block, in one call.
    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn update_block_512(
        w: &mut [f64],
        mut d: Option<&mut [f64]>,
        m: usize,
        x: &[f64],
        e: &[f64],
        u: RowUpdate,
    ) {
        let rows = w.len() / m;
        let b = e.len() / rows;
        for r in 0..rows {
            let dr = d.as_mut().map(|d| &mut d[r * m..(r + 1) * m]);
            update_512(&mut w[r * m..(r + 1) * m], dr, x, &e[r * b..(r + 1) * b], u);
        }
    }

    /// Four rows of `update_512` at once (row stride m, factors e[r B + s]): each chunk of x_s
    /// is loaded once for the four rows; per element the arithmetic of `update_512`.
    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn update4_512(
        w: &mut [f64],
        mut d: Option<&mut [f64]>,
        m: usize,
        x: &[f64],
        e: &[f64],
        u: RowUpdate,
    ) {
        let b = e.len() / 4;
        assert!(
            w.len() == 4 * m && x.len() >= b * m && d.as_ref().is_none_or(|d| d.len() == 4 * m)
        );
        let full = m / UPDATE_LANES * UPDATE_LANES;
        let (a, c) = (_mm512_set1_pd(u.a), _mm512_set1_pd(u.c));
        let (wp, xp) = (w.as_mut_ptr(), x.as_ptr());
        let dp = d.as_mut().map(|d| d.as_mut_ptr());
        let mut j = 0;
        while j < full {
            // Software prefetch (no effect on the arithmetic): the traces 64 columns ahead into
            // the first-level cache, and the next four rows' weights — which the caller's
            // product reads next, from memory — into the second. Measured on the batch-10 step
            // of 784-500-500-10 (`dendritic run performance`): 13 % and 10 % faster. A
            // prefetch never faults, so addresses past the block are harmless.
            if let Some(dp) = dp {
                for r in 0..4 {
                    for q in 0..4 {
                        let ahead = r * m + j + 64 + 8 * q;
                        _mm_prefetch::<_MM_HINT_T0>(dp.wrapping_add(ahead).cast::<i8>());
                        let next = (4 + r) * m + j + 8 * q;
                        _mm_prefetch::<_MM_HINT_T1>(
                            wp.wrapping_add(next).cast_const().cast::<i8>(),
                        );
                    }
                }
            }
            let mut acc = [[_mm512_setzero_pd(); 4]; 4];
            for s in 0..b {
                let xs = xp.add(s * m + j);
                let xv: [__m512d; 4] = std::array::from_fn(|k| _mm512_loadu_pd(xs.add(8 * k)));
                for r in 0..4 {
                    let ev = _mm512_set1_pd(*e.get_unchecked(r * b + s));
                    for k in 0..4 {
                        acc[r][k] = _mm512_fmadd_pd(ev, xv[k], acc[r][k]);
                    }
                }
            }
            for r in 0..4 {
                for k in 0..4 {
                    let at = r * m + j + 8 * k;
                    let wk = wp.add(at);
                    match dp {
                        Some(dp) => {
                            let dk = dp.add(at);
                            let old = _mm512_loadu_pd(dk);
                            _mm512_storeu_pd(wk, _mm512_fmadd_pd(c, old, _mm512_loadu_pd(wk)));
                            _mm512_storeu_pd(dk, _mm512_fmadd_pd(a, old, acc[r][k]));
                        }
                        None => _mm512_storeu_pd(wk, _mm512_add_pd(_mm512_loadu_pd(wk), acc[r][k])),
                    }
                }
            }
            j += UPDATE_LANES;
        }
        // The rest of each row (from `full` on) as `update_512` does it, then the bound over
        // the whole rows.
        for r in 0..4 {
            let from = r * m + full;
            masked_chunks_512(
                wp.add(from),
                dp.map(|dp| dp.add(from)),
                xp,
                m,
                full,
                m - full,
                &e[r * b..(r + 1) * b],
                u,
            );
        }
        if let Some(c) = u.clip {
            for v in w.iter_mut() {
                *v = v.clamp(-c, c);
            }
        }
    }

    /// The row update of elements `from .. from + n` of a row (w and d point at element
    /// `from`), eight at a time, the last chunk masked: per element the arithmetic of
    /// `update_*_body`.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    #[allow(
        clippy::too_many_arguments,
        reason = "the masked AVX-512 tail of the row update: pointers, lengths and the update's factors"
    )]
    unsafe fn masked_chunks_512(
        wp: *mut f64,
        dp: Option<*mut f64>,
        xp: *const f64,
        m: usize,
        from: usize,
        n: usize,
        e: &[f64],
        u: RowUpdate,
    ) {
        let (a, c) = (_mm512_set1_pd(u.a), _mm512_set1_pd(u.c));
        let mut j = 0;
        while j < n {
            let rem = (n - j).min(8);
            let mask: __mmask8 = if rem == 8 { 0xff } else { (1u8 << rem) - 1 };
            let mut acc = _mm512_setzero_pd();
            for (s, &es) in e.iter().enumerate() {
                let xv = _mm512_maskz_loadu_pd(mask, xp.add(s * m + from + j));
                acc = _mm512_fmadd_pd(_mm512_set1_pd(es), xv, acc);
            }
            apply_masked_512(wp.add(j), dp.map(|dp| dp.add(j)), acc, mask, a, c);
            j += 8;
        }
    }

    /// See `update_traced_body` (with a trace `d`) and `update_direct_body` (without).
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    pub unsafe fn update_512(
        w: &mut [f64],
        mut d: Option<&mut [f64]>,
        x: &[f64],
        e: &[f64],
        u: RowUpdate,
    ) {
        let m = w.len();
        assert!(x.len() >= e.len() * m && d.as_ref().is_none_or(|d| d.len() == m));
        let full = m / UPDATE_LANES * UPDATE_LANES;
        let (a, c) = (_mm512_set1_pd(u.a), _mm512_set1_pd(u.c));
        let (wp, xp) = (w.as_mut_ptr(), x.as_ptr());
        let dp = d.as_mut().map(|d| d.as_mut_ptr());
        let mut j = 0;
        while j < full {
            let mut acc = [_mm512_setzero_pd(); 4];
            for (s, &es) in e.iter().enumerate() {
                let ev = _mm512_set1_pd(es);
                let xs = xp.add(s * m + j);
                for k in 0..4 {
                    acc[k] = _mm512_fmadd_pd(ev, _mm512_loadu_pd(xs.add(8 * k)), acc[k]);
                }
            }
            for k in 0..4 {
                let wk = wp.add(j + 8 * k);
                match dp {
                    Some(dp) => {
                        let dk = dp.add(j + 8 * k);
                        let old = _mm512_loadu_pd(dk);
                        _mm512_storeu_pd(wk, _mm512_fmadd_pd(c, old, _mm512_loadu_pd(wk)));
                        _mm512_storeu_pd(dk, _mm512_fmadd_pd(a, old, acc[k]));
                    }
                    None => _mm512_storeu_pd(wk, _mm512_add_pd(_mm512_loadu_pd(wk), acc[k])),
                }
            }
            j += UPDATE_LANES;
        }
        masked_chunks_512(wp.add(j), dp.map(|dp| dp.add(j)), xp, m, j, m - j, e, u);
        if let Some(c) = u.clip {
            for v in w.iter_mut() {
                *v = v.clamp(-c, c);
            }
        }
    }
}

/// How a matrix view maps onto BLAS: (transposed?, leading dimension), or None.
fn blas_layout(v: &ArrayView2<f64>) -> Option<(bool, usize)> {
    let (r, c) = v.dim();
    let s = v.strides();
    let (s0, s1) = (s[0], s[1]);
    if s0 < 0 || s1 < 0 {
        return None;
    }
    let (s0, s1) = (s0 as usize, s1 as usize);
    if (s1 == 1 || c <= 1) && (s0 >= c.max(1) || r <= 1) {
        return Some((false, if r <= 1 { c.max(1) } else { s0 }));
    }
    if (s0 == 1 || r <= 1) && (s1 >= r.max(1) || c <= 1) {
        return Some((true, if c <= 1 { r.max(1) } else { s1 }));
    }
    None
}

/// C ← α A B + β C. Shapes are checked by the caller's construction (and asserted here).
/// Routes by shape: row dot products for a few rows against a transposed row-major matrix, an
/// outer-product loop for inner dimension 1, OpenBLAS `dgemm` (one thread) otherwise.
pub fn gemm<SA, SB, SC>(
    alpha: f64,
    a: &ArrayBase<SA, Ix2>,
    b: &ArrayBase<SB, Ix2>,
    beta: f64,
    c: &mut ArrayBase<SC, Ix2>,
) where
    SA: Data<Elem = f64>,
    SB: Data<Elem = f64>,
    SC: DataMut<Elem = f64>,
{
    gemm_views(alpha, &a.view(), &b.view(), beta, &mut c.view_mut());
}

/// C ← β C + α A Bᵀ-as-rows for at most `SKINNY` rows of A, by row dot products; false when
/// the layouts do not allow it (nothing is written then).
fn few_rows(
    alpha: f64,
    a: &ArrayView2<f64>,
    b: &ArrayView2<f64>,
    beta: f64,
    c: &mut ArrayViewMut2<f64>,
) -> bool {
    let (m, k) = a.dim();
    let n = b.dim().1;
    let (Some(a_rows), Some(w)) = (row_major(a), row_major(&b.t())) else {
        return false;
    };
    if a_rows.1 != k || c.strides()[1] != 1 {
        return false;
    }
    let mut col = [0.0; SKINNY];
    for i in 0..n {
        let wi = &w.0[i * w.1..i * w.1 + k];
        row_dots(wi, &a_rows.0[..m * k], &mut col[..m]);
        for s in 0..m {
            let v = &mut c[[s, i]];
            *v = if beta == 0.0 {
                alpha * col[s]
            } else {
                beta * *v + alpha * col[s]
            };
        }
    }
    true
}

/// C ← β C + α a bᵀ for an inner dimension of 1 (a rank-1 term); false when B's row is not
/// contiguous (nothing is written then).
fn outer_product(
    alpha: f64,
    a: &ArrayView2<f64>,
    b: &ArrayView2<f64>,
    beta: f64,
    c: &mut ArrayViewMut2<f64>,
) -> bool {
    let row = b.row(0);
    let Some(brow) = row.as_slice() else {
        return false;
    };
    for (mut crow, &ai) in c.rows_mut().into_iter().zip(a.column(0)) {
        if let Some(cs) = crow.as_slice_mut() {
            dispatch!(axpby(cs, brow, alpha * ai, beta));
        } else {
            for (cv, &bv) in crow.iter_mut().zip(brow) {
                *cv = beta * *cv + alpha * ai * bv;
            }
        }
    }
    true
}

fn gemm_views(
    alpha: f64,
    a: &ArrayView2<f64>,
    b: &ArrayView2<f64>,
    beta: f64,
    c: &mut ArrayViewMut2<f64>,
) {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert!(k == k2 && c.dim() == (m, n), "gemm: shapes do not match");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c.map_inplace(|v| *v *= beta);
        return;
    }
    // A few rows of A against Bᵀ = W with W row-major (n × k): C[s, i] = A_s · W_i, by the
    // row dot products (every sample against each weight row, no packing).
    if m <= SKINNY && few_rows(alpha, a, b, beta, c) {
        return;
    }
    // A small batch against Bᵀ = W with W row-major: the register-blocked kernel.
    if m <= SKINNY_GEMM
        && let (Some(a_rows), Some(w)) = (row_major(a), row_major(&b.t()))
        && a_rows.1 == k
        && w.1 == k
    {
        skinny_gemm(alpha, &w.0[..n * k], n, &a_rows.0[..m * k], m, beta, c);
        return;
    }
    // A few rows of A against a row-major B, β = 0, where OpenBLAS would block the inner
    // dimension: its bits, without packing B (backprop's error sent down).
    if beta == 0.0
        && m <= NN_ROWS
        && m * n * k > NN_BLOCKED
        && c.strides()[1] == 1
        && c.strides()[0] >= n as isize
        && let (Some((a_s, lda)), Some((b_s, ldb))) = (row_major(a), row_major(b))
    {
        let ldc = c.strides()[0] as usize;
        let len = (m - 1) * ldc + n;
        // SAFETY: a view with these shape and strides spans `len` elements from its first
        // element, all within the array it borrows mutably.
        let c_s = unsafe { std::slice::from_raw_parts_mut(c.as_mut_ptr(), len) };
        gemm_nn(alpha, a_s, lda, b_s, ldb, c_s, ldc, (m, k, n));
        return;
    }
    // Inner dimension 1: c_i ← β c_i + α a_i b (an outer product, e.g. a rank-1 plasticity term).
    if k == 1 && outer_product(alpha, a, b, beta, c) {
        return;
    }
    let max = i32::MAX as usize;
    if let (Some((ta, lda)), Some((tb, ldb))) = (blas_layout(a), blas_layout(b))
        && c.strides()[1] == 1
        && c.strides()[0] >= n as isize
        && m.max(n).max(k).max(lda).max(ldb) <= max
        && (c.strides()[0] as usize) <= max
    {
        blas_single_threaded();
        let ldc = if m <= 1 { n } else { c.strides()[0] as usize };
        // SAFETY: the views' shapes and strides were checked to describe the given leading
        // dimensions; C does not alias A or B (it is borrowed mutably).
        unsafe {
            cblas_dgemm(
                CBLAS_ROW_MAJOR,
                if ta { CBLAS_TRANS } else { CBLAS_NO_TRANS },
                if tb { CBLAS_TRANS } else { CBLAS_NO_TRANS },
                m as i32,
                n as i32,
                k as i32,
                alpha,
                a.as_ptr(),
                lda as i32,
                b.as_ptr(),
                ldb as i32,
                beta,
                c.as_mut_ptr(),
                ldc as i32,
            );
        }
        return;
    }
    general_mat_mul(alpha, a, b, beta, c);
}

/// A row-major view as (slice from its first element, row stride), when it is one.
fn row_major<'a>(v: &ArrayView2<'a, f64>) -> Option<(&'a [f64], usize)> {
    let (r, c) = v.dim();
    let s = v.strides();
    if r == 0 || c == 0 || (c > 1 && s[1] != 1) || s[0] < 0 {
        return None;
    }
    let stride = if r <= 1 { c } else { s[0] as usize };
    if stride < c {
        return None;
    }
    let len = (r - 1) * stride + c;
    // SAFETY: a view with these shape and strides spans exactly `len` elements from its
    // first element, all within the array it borrows, for the lifetime 'a.
    Some((
        unsafe { std::slice::from_raw_parts(v.as_ptr(), len) },
        stride,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn filled(r: usize, c: usize, seed: f64) -> Array2<f64> {
        Array2::from_shape_fn((r, c), |(i, j)| ((i * 31 + j * 17) as f64 * seed).sin())
    }

    fn reference(
        alpha: f64,
        a: &ArrayView2<f64>,
        b: &ArrayView2<f64>,
        beta: f64,
        c: &Array2<f64>,
    ) -> Array2<f64> {
        let mut out = c.clone();
        general_mat_mul(alpha, a, b, beta, &mut out);
        out
    }

    #[test]
    fn the_inner_blocks_of_the_nn_kernel_are_openblas_level3_blocks() {
        let blocks = |k| nn_k_blocks(k).collect::<Vec<_>>();
        assert_eq!(blocks(0), vec![]);
        assert_eq!(blocks(10), vec![(0, 10)]);
        assert_eq!(blocks(384), vec![(0, 384)]);
        // 385 > Q: half of it (192) rounded up to a multiple of 16, then the rest.
        assert_eq!(blocks(385), vec![(0, 192), (192, 385)]);
        assert_eq!(blocks(500), vec![(0, 256), (256, 500)]);
        // 784 ≥ 2Q: 384, then 400 > Q halved → 200 → 208, then 192.
        assert_eq!(blocks(784), vec![(0, 384), (384, 592), (592, 784)]);
        // 1000 ≥ 2Q: 384, then 616 halved → 308 → 320, then 296.
        assert_eq!(blocks(1000), vec![(0, 384), (384, 704), (704, 1000)]);
    }

    #[test]
    fn a_rows_last_products_are_one_more_chunk_of_its_lanes() {
        // A row's tail (its last m mod 8 products) joins lanes 0, 1, … before the tree, so a
        // tail product cancels its lane's large partner first: 1e17 + 1 − 1e17 + 1 sums to 2
        // exactly, where the tail added after the tree (the order before 8aeab32) gives 1 (the
        // first 1 is lost against 1e17). Rows of 10 (one chunk of 8) and 45 (a chunk of 32,
        // one of 8), products 0 and 1 against the tail's first two.
        for m in [10, 45] {
            let eights = m / 8 * 8;
            let mut w = vec![0.0; m];
            (w[0], w[1], w[eights], w[eights + 1]) = (1e17, 1.0, -1e17, 1.0);
            let x = vec![1.0; m];
            assert_eq!(row_dot_body(&w, &x), 2.0, "m {m}");
            // Every dispatched version, alone and as one of several rows and samples.
            let mut out = [0.0; 5];
            row_dots(&w, &x.repeat(5), &mut out);
            assert_eq!(out, [2.0; 5], "row_dots, m {m}");
            let mut rows = vec![0.0; 9];
            block_dots(&w.repeat(9), m, &x, &mut rows);
            assert_eq!(rows, vec![2.0; 9], "block_dots, m {m}");
        }
    }

    #[test]
    fn the_nn_kernel_gives_its_documented_order_bit_for_bit() {
        // Rows 1–13 (one and two panels), columns with every tail of 16, inner dimensions of
        // one, two and three blocks; strided A, B and C.
        for m in [1, 2, 5, 10, 11, 12, 13] {
            for k in [1, 7, 385, 500, 1000] {
                for n in [1, 8, 9, 16, 17, 31, 100] {
                    let (lda, ldb, ldc) = (k + 3, n + 5, n + 2);
                    let a: Vec<f64> = (0..m * lda).map(|i| (i as f64 * 0.37).sin()).collect();
                    let b: Vec<f64> = (0..k * ldb).map(|i| (i as f64 * 0.11).cos()).collect();
                    let mut got = vec![7.0; m * ldc];
                    let mut want = got.clone();
                    gemm_nn(0.9, &a, lda, &b, ldb, &mut got, ldc, (m, k, n));
                    gemm_nn_body(0.9, &a, lda, &b, ldb, &mut want, ldc, (m, k, n));
                    for (g, w) in got.iter().zip(&want) {
                        assert_eq!(g.to_bits(), w.to_bits(), "m {m} k {k} n {n}");
                    }
                    // The padding between C's rows is untouched; the product is α A B.
                    for s in 0..m {
                        assert!(got[s * ldc + n..(s + 1) * ldc].iter().all(|&v| v == 7.0));
                        for i in 0..n {
                            let exact: f64 = (0..k).map(|j| a[s * lda + j] * b[j * ldb + i]).sum();
                            let v = got[s * ldc + i];
                            assert!(
                                (v - 0.9 * exact).abs() <= 1e-12 * (1.0 + exact.abs()),
                                "m {m} k {k} n {n}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn on_openblas_skylakex_kernels_the_nn_route_is_dgemm_bit_for_bit() {
        // The route exists so that backprop's results do not move: where OpenBLAS runs its
        // SkylakeX or Cooper Lake kernel (this machine's), gemm's new route gives dgemm's bits.
        let core = blas_core().to_lowercase();
        if !(core.contains("skylakex") || core.contains("cooperlake")) {
            eprintln!("OpenBLAS core {core}: its dgemm is not the reference here");
            return;
        }
        for (m, k, n) in [
            (10, 500, 500),
            (1, 1000, 1001),
            (11, 784, 500),
            (7, 500, 784),
            (10, 1000, 300),
        ] {
            assert!(m <= NN_ROWS && m * n * k > NN_BLOCKED);
            let a = filled(m, k, 0.37);
            let b = filled(k, n, 0.11);
            let mut got = Array2::from_elem((m, n), 3.0);
            gemm(0.7, &a, &b, 0.0, &mut got);
            let mut want = Array2::from_elem((m, n), 3.0);
            blas_single_threaded();
            // SAFETY: row-major m × k, k × n and m × n arrays with their row lengths.
            unsafe {
                cblas_dgemm(
                    CBLAS_ROW_MAJOR,
                    CBLAS_NO_TRANS,
                    CBLAS_NO_TRANS,
                    m as i32,
                    n as i32,
                    k as i32,
                    0.7,
                    a.as_ptr(),
                    k as i32,
                    b.as_ptr(),
                    n as i32,
                    0.0,
                    want.as_mut_ptr(),
                    n as i32,
                );
            }
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g.to_bits(), w.to_bits(), "m {m} k {k} n {n}");
            }
        }
    }

    #[test]
    fn every_route_of_gemm_agrees_with_ndarray() {
        // (m, k, n): row dots (m ≤ 4), outer product (k = 1), BLAS (the rest); plain and transposed.
        for &(m, k, n) in &[
            (1, 37, 5),
            (3, 40, 33),
            (1, 1, 9),
            (10, 1, 7),
            (10, 20, 30),
            (7, 3, 1),
        ] {
            let a = filled(m, k, 0.3);
            let at = filled(k, m, 0.7);
            let b = filled(k, n, 1.1);
            let bt = filled(n, k, 0.9);
            let c0 = filled(m, n, 0.5);
            for (av, bv) in [
                (a.view(), b.view()),
                (at.t(), b.view()),
                (a.view(), bt.t()),
                (at.t(), bt.t()),
            ] {
                for (alpha, beta) in [(1.0, 0.0), (0.5, 1.0), (-2.0, 0.25)] {
                    let want = reference(alpha, &av, &bv, beta, &c0);
                    let mut got = c0.clone();
                    gemm(alpha, &av, &bv, beta, &mut got.view_mut());
                    let err = (&got - &want).iter().fold(0.0_f64, |m, v| m.max(v.abs()));
                    assert!(err < 1e-12, "({m},{k},{n}) α {alpha} β {beta}: {err:e}");
                }
            }
        }
    }

    #[test]
    fn the_row_update_is_the_euler_step_of_weight_and_trace() {
        let (b, m) = (3, 37);
        let x = filled(b, m, 0.2);
        let e = [0.3, -0.2, 0.7];
        let mut w: Vec<f64> = (0..m).map(|j| (j as f64 * 0.1).cos()).collect();
        let mut d: Vec<f64> = (0..m).map(|j| (j as f64 * 0.3).sin()).collect();
        let (w0, d0) = (w.clone(), d.clone());
        let u = RowUpdate {
            a: 0.9,
            c: 0.01,
            clip: Some(1.0),
        };
        update_row_traced(&mut w, &mut d, x.as_slice().unwrap(), &e, u);
        for j in 0..m {
            let hebb: f64 = (0..b).map(|s| e[s] * x[[s, j]]).sum();
            assert!((w[j] - (w0[j] + 0.01 * d0[j]).clamp(-1.0, 1.0)).abs() < 1e-15);
            assert!((d[j] - (0.9 * d0[j] + hebb)).abs() < 1e-14);
        }
        let mut w2 = w0.clone();
        update_row_direct(&mut w2, x.as_slice().unwrap(), &e, None);
        for j in 0..m {
            let hebb: f64 = (0..b).map(|s| e[s] * x[[s, j]]).sum();
            assert!((w2[j] - (w0[j] + hebb)).abs() < 1e-14);
        }
    }

    #[test]
    fn the_vectorised_transfer_functions_agree_with_libm_to_a_few_ulp() {
        let n = 200_001;
        let xs: Vec<f64> = (0..n)
            .map(|i| -60.0 + 120.0 * i as f64 / (n - 1) as f64)
            .collect();
        let mut out = vec![0.0; n];
        logistic_map(1.0, &xs, &mut out);
        let worst = xs.iter().zip(&out).fold(0.0_f64, |m, (&x, &o)| {
            let want = if x >= 0.0 {
                1.0 / (1.0 + (-x).exp())
            } else {
                x.exp() / (1.0 + x.exp())
            };
            m.max(((o - want) / want).abs())
        });
        assert!(worst < 1e-15, "logistic {worst:e}");
        softplus_map(0.1, 1.0, 3.0, 2.0, &xs, &mut out);
        let worst = xs.iter().zip(&out).fold(0.0_f64, |m, (&x, &o)| {
            let z = 2.0 * x - 3.0;
            let want = 0.1
                * if z > 30.0 {
                    z + (-z).exp()
                } else {
                    z.exp().ln_1p()
                };
            m.max(((o - want) / want).abs())
        });
        assert!(worst < 1e-15, "softplus {worst:e}");
        // e^x to −708, 0 below; NaN propagates.
        let deep: Vec<f64> = (0..7001).map(|i| -i as f64 * 0.1).collect();
        for &x in &deep {
            let rel = ((exp_neg_body(x) - x.exp()) / x.exp()).abs();
            assert!(rel < 5e-16, "exp({x}) {rel:e}");
        }
        assert_eq!(exp_neg_body(-800.0), 0.0);
        let mut o = [0.0; 2];
        logistic_map(1.0, &[f64::NAN, 0.0], &mut o);
        assert!(o[0].is_nan() && o[1] == 0.5);
        softplus_map(1.0, 1.0, 0.0, 1.0, &[f64::NAN, 0.0], &mut o);
        assert!(o[0].is_nan() && (o[1] - std::f64::consts::LN_2).abs() < 1e-16);
        // The baseline version gives the same bits as the dispatched one, and so does the
        // padded last chunk (1003 = 125 · 8 + 3) as the scalar body.
        let mut base = vec![0.0; 1003];
        unsafe { baseline::softplus([1.0, 1.0, 0.0, 1.0], &xs[..1003], &mut base) };
        softplus_map(1.0, 1.0, 0.0, 1.0, &xs[..1003], &mut out[..1003]);
        for j in 1000..1003 {
            assert_eq!(
                out[j].to_bits(),
                softplus_body(xs[j]).to_bits(),
                "element {j}"
            );
        }
        // Both maps, every element (a whole range of arguments, including the deep negative
        // tail, zeros and NaN), against their scalar bodies: the same bits.
        let mut args: Vec<f64> = xs.iter().step_by(97).map(|x| x * 13.0).collect();
        args.extend([0.0, -0.0, -800.0, 800.0, f64::NAN, 1e-300, -1e-300]);
        let mut got = vec![0.0; args.len()];
        softplus_map(0.7, 1.3, 0.2, 1.1, &args, &mut got);
        for (&a, &g) in args.iter().zip(&got) {
            let want = 0.7 * softplus_body(1.3 * (1.1 * a - 0.2));
            // (A NaN's sign is not propagated alike; NaN stays NaN.)
            assert!(
                g.to_bits() == want.to_bits() || g.is_nan() && want.is_nan(),
                "softplus({a})"
            );
        }
        logistic_map(0.9, &args, &mut got);
        for (&a, &g) in args.iter().zip(&got) {
            let want = logistic_body(0.9 * a);
            assert!(
                g.to_bits() == want.to_bits() || g.is_nan() && want.is_nan(),
                "logistic({a})"
            );
        }
        assert!(
            base.iter()
                .zip(&out)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
    }

    #[test]
    fn the_register_blocked_kernel_sums_every_pair_as_the_portable_one() {
        // 13 rows (4 + 4 + 4 + 1) × 12 samples (5 + 5 + 2); k with no tail after the chunks
        // of 8, with 5 more (k = 37), the longest tail (7) and the learner's 500 (4).
        let (n, m) = (13, 12);
        for k in [37, 40, 47, 500] {
            let w = filled(n, k, 0.41);
            let x = filled(m, k, 0.23);
            let mut c = Array2::zeros((m, n));
            skinny_gemm(
                1.0,
                w.as_slice().unwrap(),
                n,
                x.as_slice().unwrap(),
                m,
                0.0,
                &mut c.view_mut(),
            );
            for i in 0..n {
                for s in 0..m {
                    let (wi, xs) = (w.row(i), x.row(s));
                    let want =
                        unsafe { baseline::dot8(wi.as_slice().unwrap(), xs.as_slice().unwrap()) };
                    assert_eq!(
                        c[[s, i]].to_bits(),
                        want.to_bits(),
                        "k {k}, pair ({i}, {s})"
                    );
                }
            }
        }
    }

    #[test]
    fn the_row_updates_give_the_bits_of_the_portable_body() {
        // Row lengths with and without chunks of 32 and 8 and masked tails; one sample, four
        // (the four-row kernel) and ten; with a trace and without, with the bound.
        for m in [5, 10, 30, 37, 50, 784] {
            for b in [1, 4, 10] {
                let x: Vec<f64> = (0..m * b).map(|j| (j as f64 * 0.13).sin()).collect();
                let e: Vec<f64> = (0..4 * b).map(|j| (j as f64 * 0.7).cos() * 1e-2).collect();
                let w0: Vec<f64> = (0..4 * m).map(|j| (j as f64 * 0.29).cos()).collect();
                let d0: Vec<f64> = (0..4 * m).map(|j| (j as f64 * 0.31).sin()).collect();
                let u = RowUpdate {
                    a: 0.97,
                    c: 3e-3,
                    clip: Some(0.95),
                };
                let (mut w, mut d) = (w0.clone(), d0.clone());
                update_rows(&mut w, Some(&mut d), m, &x, &e, u);
                let mut w2 = w0.clone();
                update_rows(&mut w2, None, m, &x, &e, u);
                for r in 0..4 {
                    let rows = r * m..(r + 1) * m;
                    let er = &e[r * b..(r + 1) * b];
                    let (mut wp, mut dp) = (w0[rows.clone()].to_vec(), d0[rows.clone()].to_vec());
                    update_traced_body(&mut wp, &mut dp, &x, er, u);
                    let mut wq = w0[rows.clone()].to_vec();
                    update_direct_body(&mut wq, &x, er, u.clip);
                    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(
                        bits(&w[rows.clone()]),
                        bits(&wp),
                        "m {m} b {b} row {r}: weights"
                    );
                    assert_eq!(
                        bits(&d[rows.clone()]),
                        bits(&dp),
                        "m {m} b {b} row {r}: trace"
                    );
                    assert_eq!(bits(&w2[rows]), bits(&wq), "m {m} b {b} row {r}: direct");
                }
            }
        }
    }

    #[test]
    fn a_block_at_one_sample_gives_every_row_the_bits_of_the_portable_body() {
        // Whole groups of eight rows and partial ones, rows with and without tails and chunks
        // of 32: the batch-1 block kernels (eight rows' trees in registers, the block updated
        // as one flat array) against the portable row bodies.
        for m in [5, 8, 10, 16, 23, 30, 32, 37, 44, 50, 56, 63, 64, 103, 500] {
            for rows in [1, 3, 8, 13, 17] {
                let w0: Vec<f64> = (0..rows * m).map(|j| (j as f64 * 0.37).sin()).collect();
                let d0: Vec<f64> = (0..rows * m).map(|j| (j as f64 * 0.31).sin()).collect();
                let x: Vec<f64> = (0..m).map(|j| (j as f64 * 0.11).cos()).collect();
                let e: Vec<f64> = (0..rows).map(|j| (j as f64 * 0.7).cos() * 1e-2).collect();
                let mut got = vec![0.0; rows];
                block_dots(&w0, m, &x, &mut got);
                let u = RowUpdate {
                    a: 0.97,
                    c: 3e-3,
                    clip: Some(0.95),
                };
                let (mut w, mut d) = (w0.clone(), d0.clone());
                update_rows(&mut w, Some(&mut d), m, &x, &e, u);
                let mut w2 = w0.clone();
                update_rows(&mut w2, None, m, &x, &e, RowUpdate { clip: None, ..u });
                for r in 0..rows {
                    let span = r * m..(r + 1) * m;
                    let want = row_dot_body(&w0[span.clone()], &x);
                    assert_eq!(
                        got[r].to_bits(),
                        want.to_bits(),
                        "m {m} rows {rows}: dot {r}"
                    );
                    let (mut wp, mut dp) = (w0[span.clone()].to_vec(), d0[span.clone()].to_vec());
                    update_traced_body(&mut wp, &mut dp, &x, &e[r..=r], u);
                    let mut wq = w0[span.clone()].to_vec();
                    update_direct_body(&mut wq, &x, &e[r..=r], None);
                    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(
                        bits(&w[span.clone()]),
                        bits(&wp),
                        "m {m} rows {rows}: row {r}"
                    );
                    assert_eq!(
                        bits(&d[span.clone()]),
                        bits(&dp),
                        "m {m} rows {rows}: trace {r}"
                    );
                    assert_eq!(bits(&w2[span]), bits(&wq), "m {m} rows {rows}: direct {r}");
                }
            }
        }
    }

    #[test]
    fn row_dots_are_exact_on_integers_and_the_same_on_every_instruction_set() {
        let a: Vec<f64> = (0..103).map(|j| j as f64).collect();
        let b: Vec<f64> = (0..103).map(|j| (j % 7) as f64).collect();
        let want: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        let mut out = [0.0];
        row_dots(&a, &b, &mut out);
        assert_eq!(out[0], want);
        // Non-integers, every row length class (< 8, < 32, chunks of 32 and 8 and a tail) and
        // batch (samples alone and in groups of four): the dispatched version gives the bits
        // of the portable one.
        for m in [5, 10, 30, 50, 103, 784] {
            for batch in [1, 5, 10] {
                let w: Vec<f64> = (0..m).map(|j| (j as f64 * 0.37).sin()).collect();
                let x: Vec<f64> = (0..m * batch).map(|j| (j as f64 * 0.11).cos()).collect();
                let mut got = vec![0.0; batch];
                row_dots(&w, &x, &mut got);
                for s in 0..batch {
                    let want = row_dot_body(&w, &x[s * m..(s + 1) * m]);
                    // The portable body's mul_add is libm's correctly rounded fma: the same
                    // result as the hardware instruction.
                    assert_eq!(
                        got[s].to_bits(),
                        want.to_bits(),
                        "m {m}, batch {batch}, sample {s}"
                    );
                }
            }
        }
    }
}
