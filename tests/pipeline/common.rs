//! Shared helpers: small versions of the embedded scenarios and scratch directories.

use std::path::{Path, PathBuf};

use dendritic::experiment::Scenario;
use dendritic::rng::Rng;

/// A fresh scratch directory under the system temp dir.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dendritic-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An embedded scenario shrunk to a few short patterns and two seeds.
pub fn tiny(name: &str) -> Scenario {
    let mut s = Scenario::load(name).unwrap();
    s.seeds = vec![1, 2];
    s.protocol.patterns = 4;
    s.protocol.pattern_ms = 20.0;
    s.protocol.trace_window_ms = 20.0;
    s.protocol.test_every = 2;
    s.protocol.test_patterns = 5;
    s.protocol.target_onset_ms = 5.0;
    s.check().unwrap();
    s
}

/// Writes an IDX image file and its labels: `n` noisy 28×28 images, class c a bright bar in
/// row band c.
pub fn write_set(dir: &Path, prefix: &str, n: usize, rng: &mut Rng) {
    let mut img = vec![0, 0, 8, 3];
    for d in [n as u32, 28, 28] {
        img.extend(d.to_be_bytes());
    }
    let mut lab = vec![0, 0, 8, 1];
    lab.extend((n as u32).to_be_bytes());
    for i in 0..n {
        let c = i % 10;
        lab.push(c as u8);
        for p in 0..784 {
            let row = p / 28;
            let on = row >= 2 + 2 * c && row < 4 + 2 * c && (p % 28) > 3 && (p % 28) < 24;
            let v = if on {
                200 + rng.below(56)
            } else {
                rng.below(30)
            };
            img.push(v as u8);
        }
    }
    std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte")), img).unwrap();
    std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte")), lab).unwrap();
}
