//! A minibatch's weight change, W ← W + α eᵀ P (a rank-b update, b the batch), fused with the
//! next product through the same weights, C = X Wᵀ, four rows of W at a time: each row comes
//! from memory once for both (the two-pass learner holds a minibatch's change back until its
//! next upward pass reads those weights; see `model::deferred`).
//!
//! **The same bits as the two calls it replaces.** The update is OpenBLAS's `dgemm` (one
//! thread, β = 1) to the last bit; the product is [`super::gemm`] on the updated rows. The
//! update's arithmetic was measured on OpenBLAS 0.3.21's SkylakeX / Cooper Lake kernel: per
//! element, acc = Σ_s e_s p_s by fused multiply–adds in s from +0, then w ← acc·α + w, fused
//! — except where its edge kernel for four leftover columns meets a full group of twelve
//! rows: there the products of even and of odd s go to two accumulators, added at the end
//! (see [`pair_summed`]). Another BLAS, kernel or shape may sum otherwise, so [`matches_blas`]
//! compares the two on the very shape before anything is fused, with numbers that reveal the
//! order of every sum; a shape that fails keeps the two calls.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use ndarray::{ArrayView2, ArrayViewMut2, s};

use super::{Isa, gemm, isa};

/// A rank-b change α eᵀ P of an n × k weight matrix: e (b × n) and P (b × k) row-major.
#[derive(Clone, Copy, Debug)]
pub struct RankUpdate<'a> {
    /// α (η / b for a minibatch).
    pub alpha: f64,
    /// The post-synaptic factors, b × n.
    pub e: &'a [f64],
    /// The presynaptic rates, b × k.
    pub p: &'a [f64],
    /// b, the batch.
    pub b: usize,
}

/// w (n × k, row-major) ← w + α eᵀ P, then c (m × n) = x wᵀ for x (m × k). AVX-512 only:
/// call it for shapes that passed [`matches_blas`].
pub fn update_then_products(
    u: RankUpdate,
    w: &mut [f64],
    (n, k): (usize, usize),
    x: &ArrayView2<f64>,
    c: &mut ArrayViewMut2<f64>,
) {
    let b = u.b;
    assert!(
        u.e.len() == b * n && u.p.len() == b * k && w.len() == n * k && x.ncols() == k,
        "update_then_products: shapes"
    );
    assert!(
        c.dim() == (x.nrows(), n),
        "update_then_products: product shape"
    );
    assert!(isa() == Isa::Avx512, "update_then_products: AVX-512 only");
    let mut i0 = 0;
    while i0 < n {
        let rows = (n - i0).min(4);
        // SAFETY: shapes checked above, rows i0 .. i0 + rows < n; AVX-512 and FMA detected.
        unsafe { x86::update_rows_512(u, w, (n, k), i0, rows) };
        let block =
            ArrayView2::from_shape((rows, k), &w[i0 * k..(i0 + rows) * k]).expect("rows of w");
        gemm(
            1.0,
            x,
            &block.t(),
            0.0,
            &mut c.slice_mut(s![.., i0..i0 + rows]),
        );
        i0 += rows;
    }
}

/// Whether element (i, j) of an n × k update is summed as two accumulators (even and odd s):
/// in OpenBLAS 0.3.21's SkylakeX / Cooper Lake driver, its M dimension is our k and its N our
/// n; k mod 16 leftover columns go to kernels of 8, 4, 2 and 1 columns, and the 4-column one
/// splits the sum when it works on a full group of 12 rows (measured: 500 rows split their
/// first 492, 1,000 rows their first 996, 501 rows their first 492).
fn pair_summed(i: usize, j: usize, n: usize, k: usize) -> bool {
    let k16 = k / 16 * 16;
    let left = k - k16;
    let lo = k16 + if left >= 8 { 8 } else { 0 };
    let hi = if k - lo >= 4 { lo + 4 } else { lo };
    (lo..hi).contains(&j) && i < n / 12 * 12
}

/// Whether [`update_then_products`] gives the same bits as `gemm(α, eᵀ, P, 1, W)` followed
/// by `gemm(1, X, Wᵀ, 0, C)` for n × k weights, batch b in the update and m samples in the
/// product. Two kinds of numbers: random ones (they tell fused from separate roundings), and,
/// for every three samples a < c < d, products 1, 2⁻⁶⁰ and −1 at a, c, d and 0 elsewhere,
/// whose sum is 2⁻⁶⁰ or 0 by whether c or d joins a first: together these reveal the order of
/// every element's sum. False without AVX-512 and for batches over 16 (the C(b, 3) triples
/// grow too many to check). Each shape is checked once a process (≈ 0.1 s at 500 × 784,
/// batch 10).
pub fn matches_blas(n: usize, k: usize, b: usize, m: usize) -> bool {
    static KNOWN: OnceLock<Mutex<HashMap<[usize; 4], bool>>> = OnceLock::new();
    let known = KNOWN.get_or_init(Default::default);
    let key = [n, k, b, m];
    if let Some(&v) = known.lock().expect("not poisoned").get(&key) {
        return v;
    }
    let v = check_shape(n, k, b, m);
    known.lock().expect("not poisoned").insert(key, v);
    v
}

/// [`matches_blas`] without the memo.
fn check_shape(n: usize, k: usize, b: usize, m: usize) -> bool {
    if isa() != Isa::Avx512 || n == 0 || k == 0 || !(1..=16).contains(&b) || m == 0 {
        return false;
    }
    if !matches_on(n, k, b, m, None) {
        return false;
    }
    for a in 0..b {
        for c in a + 1..b {
            for d in c + 1..b {
                if !matches_on(n, k, b, m, Some([a, c, d])) {
                    return false;
                }
            }
        }
    }
    true
}

/// One comparison of [`matches_blas`]: random numbers, or the products 1, 2⁻⁶⁰, −1 at the
/// samples of `triple` (e = those, P = 1, W = 0).
fn matches_on(n: usize, k: usize, b: usize, m: usize, triple: Option<[usize; 3]>) -> bool {
    // A fixed xorshift stream: the same numbers on every call, signs and magnitudes mixed.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ ((n * 31 + k) * 31 + b) as u64;
    let mut draw = |len: usize| -> Vec<f64> {
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2.0
            })
            .collect()
    };
    let (w0, e, p) = match triple {
        None => (draw(n * k), draw(b * n), draw(b * k)),
        Some([a, c, d]) => {
            let q = |s: usize| match s {
                _ if s == a => 1.0,
                _ if s == c => (-60.0_f64).exp2(),
                _ if s == d => -1.0,
                _ => 0.0,
            };
            let e = (0..b * n).map(|i| q(i / n)).collect();
            (vec![0.0; n * k], e, vec![1.0; b * k])
        }
    };
    let x = draw(m * k);
    let alpha = 1e-3 / b as f64;
    fn view(v: &[f64], r: usize, c: usize) -> ArrayView2<'_, f64> {
        ArrayView2::from_shape((r, c), v).expect("shape")
    }
    let (ev, pv, xv) = (view(&e, b, n), view(&p, b, k), view(&x, m, k));
    let mut w_blas = ndarray::Array2::from_shape_vec((n, k), w0.clone()).expect("shape");
    gemm(alpha, &ev.t(), &pv, 1.0, &mut w_blas);
    let mut c_blas = ndarray::Array2::zeros((m, n));
    gemm(1.0, &xv, &w_blas.t(), 0.0, &mut c_blas);
    let mut w_fused = w0;
    let mut c_fused = ndarray::Array2::zeros((m, n));
    update_then_products(
        RankUpdate {
            alpha,
            e: &e,
            p: &p,
            b,
        },
        &mut w_fused,
        (n, k),
        &xv,
        &mut c_fused.view_mut(),
    );
    let same = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
    same(w_blas.as_slice().expect("standard"), &w_fused)
        && same(
            c_blas.as_slice().expect("standard"),
            c_fused.as_slice().expect("standard"),
        )
}

/// The update's arithmetic for one element: one chain, or the even/odd pair where
/// [`pair_summed`].
#[inline(always)]
fn element(
    alpha: f64,
    e: impl Fn(usize) -> f64,
    p: impl Fn(usize) -> f64,
    b: usize,
    pair: bool,
    w: f64,
) -> f64 {
    let acc = if pair {
        let (mut even, mut odd) = (0.0_f64, 0.0_f64);
        for s in 0..b {
            if s % 2 == 0 {
                even = e(s).mul_add(p(s), even);
            } else {
                odd = e(s).mul_add(p(s), odd);
            }
        }
        even + odd
    } else {
        (0..b).fold(0.0_f64, |acc, s| e(s).mul_add(p(s), acc))
    };
    acc.mul_add(alpha, w)
}

#[cfg(target_arch = "x86_64")]
#[allow(
    unsafe_op_in_unsafe_fn,
    reason = "the kernel is unsafe for its target features only; every access is in bounds"
)]
mod x86 {
    use core::arch::x86_64::*;

    /// Rows i0 .. i0 + rows (at most 4) of `update_then_products`' update: four rows × 16
    /// columns per step in the first k − k mod 16 columns (one chain each), prefetching the
    /// next four rows into the second-level cache; the leftover columns (and a block of fewer
    /// rows) element by element.
    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn update_rows_512(
        u: super::RankUpdate,
        w: &mut [f64],
        (n, k): (usize, usize),
        i0: usize,
        rows: usize,
    ) {
        let super::RankUpdate { alpha, e, p, b } = u;
        let k16 = k / 16 * 16;
        let av = _mm512_set1_pd(alpha);
        let wp = w.as_mut_ptr().add(i0 * k);
        let (ep, pp) = (e.as_ptr().add(i0), p.as_ptr());
        let main = if rows == 4 { k16 } else { 0 };
        let mut j = 0;
        while j < main {
            for r in 0..4 {
                // The same columns four rows on (no effect on the arithmetic; a prefetch never
                // faults, so rows past the end are harmless).
                _mm_prefetch::<_MM_HINT_T1>(wp.wrapping_add((4 + r) * k + j).cast::<i8>());
            }
            let mut acc = [[_mm512_setzero_pd(); 2]; 4];
            for s in 0..b {
                let p0 = _mm512_loadu_pd(pp.add(s * k + j));
                let p1 = _mm512_loadu_pd(pp.add(s * k + j + 8));
                for r in 0..4 {
                    let es = _mm512_set1_pd(*ep.add(s * n + r));
                    acc[r][0] = _mm512_fmadd_pd(es, p0, acc[r][0]);
                    acc[r][1] = _mm512_fmadd_pd(es, p1, acc[r][1]);
                }
            }
            for r in 0..4 {
                for h in 0..2 {
                    let q = wp.add(r * k + j + 8 * h);
                    _mm512_storeu_pd(q, _mm512_fmadd_pd(acc[r][h], av, _mm512_loadu_pd(q)));
                }
            }
            j += 16;
        }
        for r in 0..rows {
            for j in main..k {
                let q = wp.add(r * k + j);
                *q = super::element(
                    alpha,
                    |s| *ep.add(s * n + r),
                    |s| *pp.add(s * k + j),
                    b,
                    super::pair_summed(i0 + r, j, n, k),
                    *q,
                );
            }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod x86 {
    pub unsafe fn update_rows_512(
        _: super::RankUpdate,
        _: &mut [f64],
        _: (usize, usize),
        _: usize,
        _: usize,
    ) {
        unreachable!("AVX-512 only")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The measured arithmetic of OpenBLAS's update holds for the learner's large shapes
    /// (784- and 500-column weights, batch 10, ten samples in the product; the 500-column ones
    /// have leftover columns, summed in two ways by row), for other row counts and, without
    /// leftover columns, for other batches. And the check can fail: OpenBLAS 0.3.21 (SkylakeX
    /// / Cooper Lake) updates a 10 × 500 matrix at batch 10 (m·n·k ≤ 10⁶) with its
    /// small-matrix kernel, which sums otherwise, and the check tells it apart.
    #[test]
    fn the_fused_update_gives_the_bits_of_dgemm_and_the_product() {
        if isa() != Isa::Avx512 {
            eprintln!("no AVX-512: nothing is fused on this machine");
            return;
        }
        for (n, k) in [(500, 784), (500, 500), (501, 500), (1000, 500)] {
            assert!(check_shape(n, k, 10, 10), "{n} × {k}");
        }
        for b in [3, 8, 16] {
            assert!(check_shape(500, 784, b, 10), "batch {b}");
        }
        let core = crate::linalg::blas_core().to_lowercase();
        if core.contains("cooperlake") || core.contains("skylakex") {
            assert!(!check_shape(10, 500, 10, 10), "{core}: small-matrix kernel");
        }
        assert!(
            !check_shape(500, 784, 17, 10),
            "batches over 16 are not checked"
        );
    }

    /// The order of the sums matters: summing every element of a 500 × 500 update as one
    /// chain (no even/odd pairs) is caught by the triples, which random numbers alone can
    /// miss.
    #[test]
    fn the_triples_tell_the_order_of_the_sums() {
        if isa() != Isa::Avx512 {
            return;
        }
        assert!(pair_summed(0, 496, 500, 500) && !pair_summed(492, 496, 500, 500));
        assert!(!pair_summed(0, 495, 500, 500) && !pair_summed(0, 100, 500, 784));
        // Where the pair applies, one chain differs from it on the triple (0, 1, 2):
        // ((1 + 2⁻⁶⁰) − 1) = 0 against (1 − 1) + 2⁻⁶⁰.
        let t = (-60.0_f64).exp2();
        let q = [1.0, t, -1.0];
        let chain = element(1.0, |s| q[s], |_| 1.0, 3, false, 0.0);
        let pair = element(1.0, |s| q[s], |_| 1.0, 3, true, 0.0);
        assert_eq!((chain, pair), (0.0, t));
        assert!(matches_on(500, 500, 10, 10, Some([0, 1, 2])));
    }
}
