//! A small, fully specified random number generator, so that every run is reproducible from
//! `(scenario, seed)` on any machine and with any thread count.
//!
//! xoshiro256** (Blackman & Vigna 2018), seeded through SplitMix64; normals by the ziggurat
//! method. We keep it in-tree rather than depending on `rand` so that the stream of numbers
//! can never change under us with a dependency upgrade.

/// xoshiro256** generator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    s: [u64; 4],
}

/// R, the start of the normal ziggurat's tail, and V, the area of each of its 256 layers
/// (Marsaglia & Tsang 2000).
const ZIGGURAT_R: f64 = 3.654_152_885_361_009;
const ZIGGURAT_V: f64 = 0.004_928_673_233_99;

/// The ziggurat's layer edges x_0 > x_1 = R > … > x_256 = 0 and f(x_i) = exp(−x_i²/2):
/// x_0 = V/f(R) (the base layer's width, tail included), f(x_{i+1}) = f(x_i) + V/x_i.
struct Ziggurat {
    x: [f64; 257],
    f: [f64; 257],
}

fn ziggurat() -> &'static Ziggurat {
    static TABLE: std::sync::OnceLock<Ziggurat> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let pdf = |x: f64| (-0.5 * x * x).exp();
        let mut x = [0.0; 257];
        x[0] = ZIGGURAT_V / pdf(ZIGGURAT_R);
        x[1] = ZIGGURAT_R;
        for i in 1..255 {
            x[i + 1] = (-2.0 * (ZIGGURAT_V / x[i] + pdf(x[i])).ln()).sqrt();
        }
        x[256] = 0.0;
        let mut f = [0.0; 257];
        for i in 0..257 {
            f[i] = pdf(x[i]);
        }
        Ziggurat { x, f }
    })
}

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator whose whole stream is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let s = [
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
        ];
        Rng { s }
    }

    /// The generator's whole state (for checkpoints).
    pub fn state(&self) -> [u64; 4] {
        self.s
    }

    /// A generator continuing from a saved [`Rng::state`].
    pub fn from_state(s: [u64; 4]) -> Self {
        Rng { s }
    }

    /// An independent generator derived from this seed and a stream label (e.g. one per
    /// purpose: weights, patterns, noise), so that adding draws to one purpose never shifts
    /// the numbers of another.
    pub fn derived(seed: u64, stream: u64) -> Self {
        let mut x = seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
        Rng::new(splitmix64(&mut x))
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform on [0, 1), 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform on [lo, hi).
    pub fn uniform_in(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in 0..n (n > 0), by rejection (no modulo bias).
    pub fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let x = self.next_u64();
            if x < zone {
                return (x % n) as usize;
            }
        }
    }

    /// Standard normal N(0, 1) by the ziggurat method (Marsaglia & Tsang 2000, 256 layers):
    /// one 64-bit draw and a table look-up for 98.8 % of samples, no transcendental function.
    /// The low 8 bits pick the layer, the high 53 the position in it; the remaining samples
    /// are accepted under the density or drawn from the tail beyond R by Marsaglia's method.
    #[inline]
    pub fn normal(&mut self) -> f64 {
        self.normal_with(ziggurat())
    }

    /// One normal from the table `z`: the first draw inline (accepted 98.8 % of the time), the
    /// rest of the loop out of line on a copy of the state, so that a caller's state never
    /// escapes and can stay in registers.
    #[inline(always)]
    fn normal_with(&mut self, z: &Ziggurat) -> f64 {
        let bits = self.next_u64();
        let (i, u) = Self::layer_and_position(bits);
        let x = u * z.x[i];
        if x.abs() < z.x[i + 1] {
            return x;
        }
        let mut beyond = Rng { s: self.s };
        let xi = beyond.normal_beyond(z, i, u, x);
        self.s = beyond.s;
        xi
    }

    /// Adds `amp` ξ to every element of `ys` in order, ξ the next standard normals: the same
    /// draws and sums as `*y += amp * self.normal()` element by element, the table looked up once.
    pub fn add_scaled_normals(&mut self, ys: &mut [f64], amp: f64) {
        let z = ziggurat();
        // The state in a local, so that it stays in registers.
        let mut rng = Rng { s: self.s };
        for y in ys {
            *y += amp * rng.normal_with(z);
        }
        self.s = rng.s;
    }

    /// A draw's layer (its low 8 bits) and position in it, uniform on [−1, 1) (its high 53).
    #[inline]
    fn layer_and_position(bits: u64) -> (usize, f64) {
        let i = (bits & 0xff) as usize;
        let u = 2.0 * ((bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)) - 1.0;
        (i, u)
    }

    /// [`Rng::normal`] after a draw (layer `i`, position `u`, x = u·x_i) outside its layer's
    /// rectangle: the tail or the test under the density, then further draws as needed.
    #[cold]
    #[inline(never)]
    fn normal_beyond(&mut self, z: &Ziggurat, mut i: usize, mut u: f64, mut x: f64) -> f64 {
        loop {
            if i == 0 {
                // The tail |x| > R: x = R + e₁/R with e₁, e₂ ~ Exp(1), accepted when 2e₂ ≥ e₁²/R².
                loop {
                    let a = -(1.0 - self.uniform()).ln() / ZIGGURAT_R;
                    let b = -(1.0 - self.uniform()).ln();
                    if 2.0 * b >= a * a {
                        return if u < 0.0 {
                            -(ZIGGURAT_R + a)
                        } else {
                            ZIGGURAT_R + a
                        };
                    }
                }
            }
            let f_x = (-0.5 * x * x).exp();
            if z.f[i + 1] + (z.f[i] - z.f[i + 1]) * self.uniform() < f_x {
                return x;
            }
            (i, u) = Self::layer_and_position(self.next_u64());
            x = u * z.x[i];
            if x.abs() < z.x[i + 1] {
                return x;
            }
        }
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i + 1);
            xs.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_moments() {
        // 200k draws: the standard error of the mean is 1/sqrt(2e5) ≈ 0.0022, of the variance ≈ 0.0032.
        let mut rng = Rng::new(7);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.015, "var {var}");
    }

    /// erfc by the Chebyshev fit of Numerical Recipes (fractional error < 1.2e-7).
    fn erfc(x: f64) -> f64 {
        let z = x.abs();
        let t = 1.0 / (1.0 + 0.5 * z);
        let poly = -z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77))))))));
        let r = t * poly.exp();
        if x >= 0.0 { r } else { 2.0 - r }
    }

    #[test]
    fn scaled_normals_are_the_draws_of_normal_in_order() {
        // 100,000 draws: about 1,200 leave their layer's rectangle (the out-of-line path).
        let (mut a, mut b) = (Rng::new(5), Rng::new(5));
        let mut ys: Vec<f64> = (0..100_000).map(|j| (j as f64 * 0.1).sin()).collect();
        let want: Vec<u64> = ys
            .iter()
            .map(|&y| (y + 0.3 * b.normal()).to_bits())
            .collect();
        a.add_scaled_normals(&mut ys, 0.3);
        assert!(ys.iter().map(|y| y.to_bits()).eq(want));
        assert_eq!(a.next_u64(), b.next_u64(), "the same number of draws");
    }

    #[test]
    fn ziggurat_normals_pass_a_kolmogorov_smirnov_test_and_fill_the_tail() {
        // The layers close: the top layer's recursion lands on f(0) = 1.
        let z = ziggurat();
        assert!(
            (z.f[255] + ZIGGURAT_V / z.x[255] - 1.0).abs() < 1e-9,
            "{}",
            z.f[255] + ZIGGURAT_V / z.x[255]
        );
        let mut rng = Rng::new(11);
        let n = 400_000;
        let mut xs: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        xs.sort_by(f64::total_cmp);
        // D = sup |F_n − Φ|; the 0.1 % critical value is 1.95/√n ≈ 0.0031.
        let d = xs.iter().enumerate().fold(0.0_f64, |d, (i, &x)| {
            let cdf = 0.5 * erfc(-x / std::f64::consts::SQRT_2);
            d.max((cdf - i as f64 / n as f64).abs())
                .max((cdf - (i + 1) as f64 / n as f64).abs())
        });
        assert!(d < 1.95 / (n as f64).sqrt(), "KS distance {d}");
        // Beyond R (the tail algorithm): P(|x| > 3.654) = erfc(3.654/√2) ≈ 2.58e-4, ≈ 103 ± 10.
        let expect = erfc(ZIGGURAT_R / std::f64::consts::SQRT_2) * n as f64;
        let tail = xs.iter().filter(|x| x.abs() > ZIGGURAT_R).count() as f64;
        assert!(
            (tail - expect).abs() < 4.0 * expect.sqrt(),
            "tail {tail} vs {expect}"
        );
    }

    #[test]
    fn the_split_ziggurat_draws_the_sequence_of_its_single_loop() {
        // `normal` (first draw inline, the rest out of line) against the algorithm as one loop,
        // as its doc comment states it: the same draws, bit for bit, through every branch.
        fn one_loop(rng: &mut Rng) -> f64 {
            let z = ziggurat();
            loop {
                let bits = rng.next_u64();
                let i = (bits & 0xff) as usize;
                let u = 2.0 * ((bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)) - 1.0;
                let x = u * z.x[i];
                if x.abs() < z.x[i + 1] {
                    return x;
                }
                if i == 0 {
                    loop {
                        let a = -(1.0 - rng.uniform()).ln() / ZIGGURAT_R;
                        let b = -(1.0 - rng.uniform()).ln();
                        if 2.0 * b >= a * a {
                            return if u < 0.0 {
                                -(ZIGGURAT_R + a)
                            } else {
                                ZIGGURAT_R + a
                            };
                        }
                    }
                }
                if z.f[i + 1] + (z.f[i] - z.f[i + 1]) * rng.uniform() < (-0.5 * x * x).exp() {
                    return x;
                }
            }
        }
        let (mut a, mut b) = (Rng::new(3), Rng::new(3));
        let mut beyond_r = 0;
        for _ in 0..300_000 {
            let (x, y) = (a.normal(), one_loop(&mut b));
            assert_eq!(x.to_bits(), y.to_bits());
            beyond_r += usize::from(x.abs() > ZIGGURAT_R);
        }
        // Expect ≈ 77 draws from the tail (P ≈ 2.58e-4): that branch ran.
        assert!(beyond_r > 30, "{beyond_r} tail draws");
        assert_eq!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn uniform_range_and_mean() {
        let mut rng = Rng::new(1);
        let n = 100_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let u = rng.uniform();
            assert!((0.0..1.0).contains(&u));
            sum += u;
        }
        // standard error 1/sqrt(12 n) ≈ 0.0009
        assert!((sum / n as f64 - 0.5).abs() < 0.005);
    }
}
