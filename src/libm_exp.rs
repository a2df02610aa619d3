//! libm's `exp`, and the logistic built on it, eight lanes at a time: the same bits as the
//! scalar calls.
//!
//! The MNIST learner's rates, φ = logistic (paper-spec §6.4), call libm's `exp` once per cell
//! and per pass: with the loops around them, ≈ 13 % of a two-pass minibatch (`perf`). glibc
//! (2.28 on; Debian 12 has 2.36) computes `exp` by one fixed sequence of operations — the
//! argument reduced by k ln2/128, a table of 2^(k/128) (`scripts/exp-table.py` derives it),
//! a degree-5 polynomial — and on a CPU with FMA it runs the build of that sequence with fused
//! multiply–adds. With AVX-512, [`logistic_slice`] and [`exp_slice`] perform that same sequence,
//! operation for operation (read from the disassembly of glibc 2.36's `__exp_fma`), in eight
//! lanes. Arguments outside its main range (|x| < 2⁻⁵⁴, |x| ≥ 512, NaN) go to libm itself.
//!
//! At first use a check compares the eight-lane path with the scalar calls on 4,096 arguments.
//! Where they differ in one bit (another libm, or one built otherwise), the scalar calls are
//! used: results never depend on which path ran, only the time does.

use std::sync::OnceLock;

use crate::linalg::{Isa, isa};

/// The numerically stable logistic 1/(1 + e^{−x}), from e^{−|x|} by libm's `exp`.
#[inline]
pub fn logistic(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `out_i = logistic(scale · in_i)`, the bits of [`logistic`].
pub fn logistic_slice(scale: f64, input: &[f64], out: &mut [f64]) {
    assert_eq!(input.len(), out.len(), "logistic_slice: lengths");
    #[cfg(target_arch = "x86_64")]
    if vector_path() {
        // SAFETY: lengths checked; AVX-512 and FMA detected (`vector_path`).
        return unsafe { x86::map_512::<true>(scale, input, out) };
    }
    for (o, &u) in out.iter_mut().zip(input) {
        *o = logistic(scale * u);
    }
}

/// `out_i = in_i.exp()`, the bits of libm's `exp`.
pub fn exp_slice(input: &[f64], out: &mut [f64]) {
    assert_eq!(input.len(), out.len(), "exp_slice: lengths");
    #[cfg(target_arch = "x86_64")]
    if vector_path() {
        // SAFETY: lengths checked; AVX-512 and FMA detected (`vector_path`).
        return unsafe { x86::map_512::<false>(1.0, input, out) };
    }
    for (o, &u) in out.iter_mut().zip(input) {
        *o = u.exp();
    }
}

/// Whether the eight-lane path runs: AVX-512 is there and, on 4,096 arguments, it gave the
/// bits of the scalar calls (checked once).
pub fn vector_path() -> bool {
    static MATCHES: OnceLock<bool> = OnceLock::new();
    *MATCHES.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        if isa() == Isa::Avx512 {
            let args = check_arguments();
            let mut fast = vec![0.0; args.len()];
            // SAFETY: equal lengths; AVX-512 and FMA detected.
            unsafe { x86::map_512::<false>(1.0, &args, &mut fast) };
            let exp_ok = args
                .iter()
                .zip(&fast)
                .all(|(x, e)| x.exp().to_bits() == e.to_bits());
            // SAFETY: as above.
            unsafe { x86::map_512::<true>(1.0, &args, &mut fast) };
            let logistic_ok = args
                .iter()
                .zip(&fast)
                .all(|(&x, r)| logistic(x).to_bits() == r.to_bits());
            return exp_ok && logistic_ok;
        }
        let _ = isa;
        false
    })
}

/// The check's arguments: 4,096 spread over (−40, 40) by a fixed bit pattern, every table
/// index and both signs met, and the edges of the main range.
fn check_arguments() -> Vec<f64> {
    let mut args: Vec<f64> = (0..4088u64)
        .map(|i| {
            let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
            (h as f64 / (1u64 << 53) as f64 - 0.5) * 80.0
        })
        .collect();
    args.extend([0.0, -0.0, 1e-17, -1e-17, 511.9, -511.9, 600.0, f64::NAN]);
    args
}

/// glibc's `__exp_data`: N = 128 table entries per octave.
const N: f64 = 128.0;
/// 1/ln 2 · N (glibc's `invln2N`).
const INV_LN2_N: f64 = f64::from_bits(0x40671547652b82fe);
/// −ln 2/N in two parts (`negln2hiN`, `negln2loN`).
const NEG_LN2_HI_N: f64 = f64::from_bits(0xbf762e42fefa0000);
const NEG_LN2_LO_N: f64 = f64::from_bits(0xbd0cf79abc9e3b3a);
/// 1.5 · 2^52: adding it rounds to an integer (`shift`).
const SHIFT: f64 = f64::from_bits(0x4338000000000000);
/// The polynomial's coefficients C2 … C5 (`poly`).
const C: [f64; 4] = [
    f64::from_bits(0x3fdffffffffffdbd),
    f64::from_bits(0x3fc555555555543c),
    f64::from_bits(0x3fa55555cf172b91),
    f64::from_bits(0x3f81111167a4d017),
];

/// tab[2k] = bits(T_k), tab[2k + 1] = bits(H_k) − k · 2^45, where H_k (1 + T_k) ≈ 2^(k/128):
/// H_k the nearest double to 2^(k/128), T_k the nearest to 2^(k/128)/H_k − 1
/// (`scripts/exp-table.py`).
#[rustfmt::skip]
const TABLE: [u64; 256] = [
    0x0000000000000000, 0x3ff0000000000000, 0x3c9b3b4f1a88bf6e, 0x3feff63da9fb3335,
    0xbc7160139cd8dc5d, 0x3fefec9a3e778061, 0xbc905e7a108766d1, 0x3fefe315e86e7f85,
    0x3c8cd2523567f613, 0x3fefd9b0d3158574, 0xbc8bce8023f98efa, 0x3fefd06b29ddf6de,
    0x3c60f74e61e6c861, 0x3fefc74518759bc8, 0x3c90a3e45b33d399, 0x3fefbe3ecac6f383,
    0x3c979aa65d837b6d, 0x3fefb5586cf9890f, 0x3c8eb51a92fdeffc, 0x3fefac922b7247f7,
    0x3c3ebe3d702f9cd1, 0x3fefa3ec32d3d1a2, 0xbc6a033489906e0b, 0x3fef9b66affed31b,
    0xbc9556522a2fbd0e, 0x3fef9301d0125b51, 0xbc5080ef8c4eea55, 0x3fef8abdc06c31cc,
    0xbc91c923b9d5f416, 0x3fef829aaea92de0, 0x3c80d3e3e95c55af, 0x3fef7a98c8a58e51,
    0xbc801b15eaa59348, 0x3fef72b83c7d517b, 0xbc8f1ff055de323d, 0x3fef6af9388c8dea,
    0x3c8b898c3f1353bf, 0x3fef635beb6fcb75, 0xbc96d99c7611eb26, 0x3fef5be084045cd4,
    0x3c9aecf73e3a2f60, 0x3fef54873168b9aa, 0xbc8fe782cb86389d, 0x3fef4d5022fcd91d,
    0x3c8a6f4144a6c38d, 0x3fef463b88628cd6, 0x3c807a05b0e4047d, 0x3fef3f49917ddc96,
    0x3c968efde3a8a894, 0x3fef387a6e756238, 0x3c875e18f274487d, 0x3fef31ce4fb2a63f,
    0x3c80472b981fe7f2, 0x3fef2b4565e27cdd, 0xbc96b87b3f71085e, 0x3fef24dfe1f56381,
    0x3c82f7e16d09ab31, 0x3fef1e9df51fdee1, 0xbc3d219b1a6fbffa, 0x3fef187fd0dad990,
    0x3c8b3782720c0ab4, 0x3fef1285a6e4030b, 0x3c6e149289cecb8f, 0x3fef0cafa93e2f56,
    0x3c834d754db0abb6, 0x3fef06fe0a31b715, 0x3c864201e2ac744c, 0x3fef0170fc4cd831,
    0x3c8fdd395dd3f84a, 0x3feefc08b26416ff, 0xbc86a3803b8e5b04, 0x3feef6c55f929ff1,
    0xbc924aedcc4b5068, 0x3feef1a7373aa9cb, 0xbc9907f81b512d8e, 0x3feeecae6d05d866,
    0xbc71d1e83e9436d2, 0x3feee7db34e59ff7, 0xbc991919b3ce1b15, 0x3feee32dc313a8e5,
    0x3c859f48a72a4c6d, 0x3feedea64c123422, 0xbc9312607a28698a, 0x3feeda4504ac801c,
    0xbc58a78f4817895b, 0x3feed60a21f72e2a, 0xbc7c2c9b67499a1b, 0x3feed1f5d950a897,
    0x3c4363ed60c2ac11, 0x3feece086061892d, 0x3c9666093b0664ef, 0x3feeca41ed1d0057,
    0x3c6ecce1daa10379, 0x3feec6a2b5c13cd0, 0x3c93ff8e3f0f1230, 0x3feec32af0d7d3de,
    0x3c7690cebb7aafb0, 0x3feebfdad5362a27, 0x3c931dbdeb54e077, 0x3feebcb299fddd0d,
    0xbc8f94340071a38e, 0x3feeb9b2769d2ca7, 0xbc87deccdc93a349, 0x3feeb6daa2cf6642,
    0xbc78dec6bd0f385f, 0x3feeb42b569d4f82, 0xbc861246ec7b5cf6, 0x3feeb1a4ca5d920f,
    0x3c93350518fdd78e, 0x3feeaf4736b527da, 0x3c7b98b72f8a9b05, 0x3feead12d497c7fd,
    0x3c9063e1e21c5409, 0x3feeab07dd485429, 0x3c34c7855019c6ea, 0x3feea9268a5946b7,
    0x3c9432e62b64c035, 0x3feea76f15ad2148, 0xbc8ce44a6199769f, 0x3feea5e1b976dc09,
    0xbc8c33c53bef4da8, 0x3feea47eb03a5585, 0xbc845378892be9ae, 0x3feea34634ccc320,
    0xbc93cedd78565858, 0x3feea23882552225, 0x3c5710aa807e1964, 0x3feea155d44ca973,
    0xbc93b3efbf5e2228, 0x3feea09e667f3bcd, 0xbc6a12ad8734b982, 0x3feea012750bdabf,
    0xbc6367efb86da9ee, 0x3fee9fb23c651a2f, 0xbc80dc3d54e08851, 0x3fee9f7df9519484,
    0xbc781f647e5a3ecf, 0x3fee9f75e8ec5f74, 0xbc86ee4ac08b7db0, 0x3fee9f9a48a58174,
    0xbc8619321e55e68a, 0x3fee9feb564267c9, 0x3c909ccb5e09d4d3, 0x3feea0694fde5d3f,
    0xbc7b32dcb94da51d, 0x3feea11473eb0187, 0x3c94ecfd5467c06b, 0x3feea1ed0130c132,
    0x3c65ebe1abd66c55, 0x3feea2f336cf4e62, 0xbc88a1c52fb3cf42, 0x3feea427543e1a12,
    0xbc9369b6f13b3734, 0x3feea589994cce13, 0xbc805e843a19ff1e, 0x3feea71a4623c7ad,
    0xbc94d450d872576e, 0x3feea8d99b4492ed, 0x3c90ad675b0e8a00, 0x3feeaac7d98a6699,
    0x3c8db72fc1f0eab4, 0x3feeace5422aa0db, 0xbc65b6609cc5e7ff, 0x3feeaf3216b5448c,
    0x3c7bf68359f35f44, 0x3feeb1ae99157736, 0xbc93091fa71e3d83, 0x3feeb45b0b91ffc6,
    0xbc5da9b88b6c1e29, 0x3feeb737b0cdc5e5, 0xbc6c23f97c90b959, 0x3feeba44cbc8520f,
    0xbc92434322f4f9aa, 0x3feebd829fde4e50, 0xbc85ca6cd7668e4b, 0x3feec0f170ca07ba,
    0x3c71affc2b91ce27, 0x3feec49182a3f090, 0x3c6dd235e10a73bb, 0x3feec86319e32323,
    0xbc87c50422622263, 0x3feecc667b5de565, 0x3c8b1c86e3e231d5, 0x3feed09bec4a2d33,
    0xbc91bbd1d3bcbb15, 0x3feed503b23e255d, 0x3c90cc319cee31d2, 0x3feed99e1330b358,
    0x3c8469846e735ab3, 0x3feede6b5579fdbf, 0xbc82dfcd978e9db4, 0x3feee36bbfd3f37a,
    0x3c8c1a7792cb3387, 0x3feee89f995ad3ad, 0xbc907b8f4ad1d9fa, 0x3feeee07298db666,
    0xbc55c3d956dcaeba, 0x3feef3a2b84f15fb, 0xbc90a40e3da6f640, 0x3feef9728de5593a,
    0xbc68d6f438ad9334, 0x3feeff76f2fb5e47, 0xbc91eee26b588a35, 0x3fef05b030a1064a,
    0x3c74ffd70a5fddcd, 0x3fef0c1e904bc1d2, 0xbc91bdfbfa9298ac, 0x3fef12c25bd71e09,
    0x3c736eae30af0cb3, 0x3fef199bdd85529c, 0x3c8ee3325c9ffd94, 0x3fef20ab5fffd07a,
    0x3c84e08fd10959ac, 0x3fef27f12e57d14b, 0x3c63cdaf384e1a67, 0x3fef2f6d9406e7b5,
    0x3c676b2c6c921968, 0x3fef3720dcef9069, 0xbc808a1883ccb5d2, 0x3fef3f0b555dc3fa,
    0xbc8fad5d3ffffa6f, 0x3fef472d4a07897c, 0xbc900dae3875a949, 0x3fef4f87080d89f2,
    0x3c74a385a63d07a7, 0x3fef5818dcfba487, 0xbc82919e2040220f, 0x3fef60e316c98398,
    0x3c8e5a50d5c192ac, 0x3fef69e603db3285, 0x3c843a59ac016b4b, 0x3fef7321f301b460,
    0xbc82d52107b43e1f, 0x3fef7c97337b9b5f, 0xbc892ab93b470dc9, 0x3fef864614f5a129,
    0x3c74b604603a88d3, 0x3fef902ee78b3ff6, 0x3c83c5ec519d7271, 0x3fef9a51fbc74c83,
    0xbc8ff7128fd391f0, 0x3fefa4afa2a490da, 0xbc8dae98e223747d, 0x3fefaf482d8e67f1,
    0x3c8ec3bc41aa2008, 0x3fefba1bee615a27, 0x3c842b94c3a9eb32, 0x3fefc52b376bba97,
    0x3c8a64a931d185ee, 0x3fefd0765b6e4540, 0xbc8e37bae43be3ed, 0x3fefdbfdad9cbe14,
    0x3c77893b4d91cd9d, 0x3fefe7c1819e90d8, 0x3c5305c14160cc89, 0x3feff3c22b8f71f1,
];

#[cfg(target_arch = "x86_64")]
#[allow(
    unsafe_op_in_unsafe_fn,
    reason = "the kernel is unsafe for its target features only; every access is in bounds"
)]
mod x86 {
    use super::{C, INV_LN2_N, NEG_LN2_HI_N, NEG_LN2_LO_N, SHIFT, TABLE, logistic};
    use core::arch::x86_64::*;

    /// e^a for eight lanes by glibc's `__exp_fma` sequence (valid where 2⁻⁵⁴ ≤ |a| < 512),
    /// each step the instruction it compiles to:
    /// kd = a·invln2N + shift (fused); ki = bits(kd); kd −= shift;
    /// r = kd·negln2hiN + a, then + kd·negln2loN (fused); tail = tab[2(ki mod N)];
    /// sbits = tab[2(ki mod N) + 1] + ki · 2^45; r2 = r·r;
    /// tmp = r2²·(C4 + r C5) + (r2·(C2 + r C3) + (r + tail)) (each bracket fused);
    /// e^a = s·tmp + s (fused), s = f64(sbits).
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    unsafe fn exp8(a: __m512d) -> __m512d {
        let shift = _mm512_set1_pd(SHIFT);
        let kd = _mm512_fmadd_pd(a, _mm512_set1_pd(INV_LN2_N), shift);
        let ki = _mm512_castpd_si512(kd);
        let kd = _mm512_sub_pd(kd, shift);
        let r = _mm512_fmadd_pd(kd, _mm512_set1_pd(NEG_LN2_HI_N), a);
        let r = _mm512_fmadd_pd(kd, _mm512_set1_pd(NEG_LN2_LO_N), r);
        let idx = _mm512_slli_epi64::<1>(_mm512_and_si512(ki, _mm512_set1_epi64(N_MASK)));
        let table = TABLE.as_ptr().cast::<i64>();
        let tail = _mm512_castsi512_pd(_mm512_i64gather_epi64::<8>(idx, table));
        let hi = _mm512_i64gather_epi64::<8>(_mm512_add_epi64(idx, _mm512_set1_epi64(1)), table);
        let sbits = _mm512_add_epi64(hi, _mm512_slli_epi64::<45>(ki));
        let c23 = _mm512_fmadd_pd(_mm512_set1_pd(C[1]), r, _mm512_set1_pd(C[0]));
        let r_tail = _mm512_add_pd(r, tail);
        let r2 = _mm512_mul_pd(r, r);
        let c45 = _mm512_fmadd_pd(r, _mm512_set1_pd(C[3]), _mm512_set1_pd(C[2]));
        let t = _mm512_fmadd_pd(c23, r2, r_tail);
        let r4 = _mm512_mul_pd(r2, r2);
        let tmp = _mm512_fmadd_pd(r4, c45, t);
        let s = _mm512_castsi512_pd(sbits);
        _mm512_fmadd_pd(s, tmp, s)
    }

    /// ki mod N as a mask.
    const N_MASK: i64 = super::N as i64 - 1;

    /// The lanes inside `exp8`'s range: 0x3c9 ≤ the exponent field of a ≤ 0x407 (NaN and ∞
    /// have 0x7ff).
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn in_range(a: __m512d) -> __mmask8 {
        let e = _mm512_and_si512(
            _mm512_srli_epi64::<52>(_mm512_castpd_si512(a)),
            _mm512_set1_epi64(0x7ff),
        );
        _mm512_cmpge_epu64_mask(e, _mm512_set1_epi64(0x3c9))
            & _mm512_cmple_epu64_mask(e, _mm512_set1_epi64(0x407))
    }

    /// `out_i = logistic(scale · in_i)` (LOGISTIC) or `exp(in_i)`: eight lanes by `exp8`,
    /// lanes out of its range and the last < 8 elements by the scalar calls.
    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn map_512<const LOGISTIC: bool>(scale: f64, input: &[f64], out: &mut [f64]) {
        let n8 = input.len() / 8 * 8;
        let (sc, one) = (_mm512_set1_pd(scale), _mm512_set1_pd(1.0));
        let sign = _mm512_set1_pd(-0.0);
        let scalar = |x: f64| {
            if LOGISTIC {
                logistic(scale * x)
            } else {
                x.exp()
            }
        };
        for i in (0..n8).step_by(8) {
            let x = _mm512_loadu_pd(input.as_ptr().add(i));
            let v = if LOGISTIC {
                // e = exp(−|z|), z = scale·x; z ≥ 0: 1/(1 + e), else e/(1 + e).
                let z = _mm512_mul_pd(sc, x);
                let a = _mm512_or_pd(z, sign);
                let ok = in_range(a);
                let e = exp8(a);
                let num = _mm512_mask_blend_pd(
                    _mm512_cmp_pd_mask::<_CMP_GE_OQ>(z, _mm512_setzero_pd()),
                    e,
                    one,
                );
                _mm512_storeu_pd(
                    out.as_mut_ptr().add(i),
                    _mm512_div_pd(num, _mm512_add_pd(one, e)),
                );
                ok
            } else {
                _mm512_storeu_pd(out.as_mut_ptr().add(i), exp8(x));
                in_range(x)
            };
            if v != 0xff {
                for l in 0..8 {
                    if v & (1 << l) == 0 {
                        out[i + l] = scalar(input[i + l]);
                    }
                }
            }
        }
        for i in n8..input.len() {
            out[i] = scalar(input[i]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn the_table_is_two_to_the_k_over_128() {
        for k in 0..128u64 {
            let t = f64::from_bits(TABLE[2 * k as usize]);
            let h = f64::from_bits(TABLE[2 * k as usize + 1].wrapping_add(k << 45));
            let exact = 2f64.powf(k as f64 / 128.0);
            // H_k is 2^(k/128) to the nearest double (powf is within an ulp), T_k the rest.
            assert!(
                (h - exact).abs() <= f64::EPSILON * exact,
                "k = {k}: H = {h}"
            );
            assert!(t.abs() <= f64::EPSILON, "k = {k}: T = {t}");
            assert!(
                ((h + h * t) - exact).abs() <= f64::EPSILON * exact,
                "k = {k}"
            );
        }
    }

    /// On this project's platform (glibc ≥ 2.28, x86-64 with AVX-512) the eight-lane path runs
    /// and gives libm's bits on a million arguments over the range of the learner's
    /// potentials and beyond; elsewhere the maps still equal the scalar calls.
    #[test]
    fn the_maps_give_the_bits_of_libm() {
        let mut rng = Rng::new(11);
        let mut x: Vec<f64> = (0..1_000_000)
            .map(|i| {
                let scale = [1.0, 30.0, 700.0, 1e-10][i % 4];
                (rng.uniform() - 0.5) * 2.0 * scale
            })
            .collect();
        x.extend([
            0.0,
            -0.0,
            2e-300,
            5e-324,
            709.7,
            710.0,
            -745.2,
            -746.0,
            f64::INFINITY,
        ]);
        x.extend([
            f64::NEG_INFINITY,
            f64::NAN,
            512.0,
            -512.0,
            511.99999,
            2f64.powi(-54),
        ]);
        let mut out = vec![0.0; x.len()];
        exp_slice(&x, &mut out);
        for (a, e) in x.iter().zip(&out) {
            assert_eq!(a.exp().to_bits(), e.to_bits(), "exp({a:e})");
        }
        for scale in [1.0, 0.8, -1.7] {
            logistic_slice(scale, &x, &mut out);
            for (a, r) in x.iter().zip(&out) {
                assert_eq!(
                    logistic(scale * a).to_bits(),
                    r.to_bits(),
                    "logistic({scale} · {a:e})"
                );
            }
        }
        #[cfg(all(target_arch = "x86_64", target_os = "linux", target_env = "gnu"))]
        if isa() == Isa::Avx512 {
            assert!(
                vector_path(),
                "glibc's exp with FMA: the eight-lane path should run"
            );
        }
    }
}
