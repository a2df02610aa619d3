//! Corrupted digits for the denoising protocol of the disinhibition study (our design; the
//! paper's protocol is not public, paper-spec §8.4).

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// How an image is corrupted; `level` ∈ [0, 1] is the fraction of pixels affected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Corruption {
    /// round(level · n) pixels, chosen uniformly without replacement, replaced by independent
    /// U(0, 1) values.
    PixelNoise,
    /// A square of side round(√(level · n)) (clamped to the image), at a uniformly random
    /// position, set to 0 (background).
    Occlusion,
}

impl Corruption {
    /// Its name in results and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Corruption::PixelNoise => "pixel_noise",
            Corruption::Occlusion => "occlusion",
        }
    }

    /// Corrupted copies of square images (rows of `images`, side² pixels each).
    pub fn apply(&self, images: ArrayView2<f64>, level: f64, rng: &mut Rng) -> Array2<f64> {
        let n = images.ncols();
        let side = (n as f64).sqrt().round() as usize;
        assert_eq!(side * side, n, "square images");
        let mut out = images.to_owned();
        let mut index: Vec<usize> = (0..n).collect();
        for mut row in out.rows_mut() {
            match self {
                Corruption::PixelNoise => {
                    let m = (level * n as f64).round() as usize;
                    // Partial Fisher–Yates: the first m entries are a uniform m-subset.
                    for i in 0..m {
                        let j = i + rng.below(n - i);
                        index.swap(i, j);
                        row[index[i]] = rng.uniform();
                    }
                }
                Corruption::Occlusion => {
                    let s = ((level * n as f64).sqrt().round() as usize).min(side);
                    if s == 0 {
                        continue;
                    }
                    let (r0, c0) = (rng.below(side - s + 1), rng.below(side - s + 1));
                    for r in r0..r0 + s {
                        for c in c0..c0 + s {
                            row[r * side + c] = 0.0;
                        }
                    }
                }
            }
        }
        out
    }
}

/// Mean over images (rows) and pixels of (a − b)².
pub fn mse(a: ArrayView2<f64>, b: ArrayView2<f64>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    let n = a.len();
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        / n as f64
}
