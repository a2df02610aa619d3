//! Shared helpers: small versions of the embedded scenarios and scratch directories.

use std::path::PathBuf;

use dendritic::experiment::Scenario;

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
    s.validate().unwrap();
    s
}
