//! Property tests: random bytes as IDX and Parquet files, and random mutations of every
//! embedded scenario, give an error or a value — never a panic. A fixed number of cases each,
//! from a fixed seed (deterministic in CI).

use dendritic::experiment::Scenario;
use dendritic::experiment::scenario::EMBEDDED;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::common::scratch;

fn runner(cases: u32) -> TestRunner {
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    )
}

/// Bytes that start like an IDX or Parquet file often enough to get past the first check.
fn file_bytes() -> impl Strategy<Value = Vec<u8>> {
    let header = prop_oneof![
        Just(vec![0u8, 0, 8, 3]),
        Just(vec![0u8, 0, 8, 1]),
        Just(b"PAR1".to_vec()),
        Just(vec![0x1f, 0x8b]),
        Just(Vec::new()),
    ];
    (header, proptest::collection::vec(any::<u8>(), 0..400)).prop_map(|(mut h, t)| {
        h.extend(t);
        h
    })
}

#[test]
fn random_bytes_as_idx_and_parquet_files_are_errors_not_panics() {
    let dir = scratch("prop-bytes");
    let path = dir.join("f");
    runner(256)
        .run(&file_bytes(), |bytes| {
            std::fs::write(&path, &bytes).unwrap();
            // Each returns Ok or Err; a panic fails the property.
            let _ = dendritic::task::mnist::read_images(&path);
            let _ = dendritic::task::mnist::read_labels(&path);
            let _ = dendritic::record::npz::read(&path);
            if let Ok(df) = dendritic::record::read_frame(&path) {
                prop_assert!(df.height() < 1_000_000);
            }
            Ok(())
        })
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
}

/// A mutation of a scenario's text: a value replaced by an odd one, a line removed or doubled.
#[derive(Clone, Debug)]
enum Mutation {
    Value(usize, &'static str),
    Remove(usize),
    Double(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let odd = prop::sample::select(vec![
        "0",
        "-1",
        "1e308",
        "-1e-300",
        "nan",
        "inf",
        "\"x\"",
        "[]",
        "[0]",
        "[1, 1]",
        "18446744073709551615",
        "99999999999999999999",
        "{}",
        "true",
        "0.5",
    ]);
    prop_oneof![
        (any::<usize>(), odd).prop_map(|(i, v)| Mutation::Value(i, v)),
        any::<usize>().prop_map(Mutation::Remove),
        any::<usize>().prop_map(Mutation::Double),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let assignments: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains(" = ") && !lines[i].trim_start().starts_with('#'))
        .collect();
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    match *m {
        Mutation::Value(i, v) if !assignments.is_empty() => {
            let at = assignments[i % assignments.len()];
            let key = out[at].split(" = ").next().unwrap().to_string();
            out[at] = format!("{key} = {v}");
        }
        Mutation::Remove(i) if !out.is_empty() => {
            out.remove(i % lines.len());
        }
        Mutation::Double(i) if !out.is_empty() => {
            let l = out[i % lines.len()].clone();
            out.insert(i % lines.len(), l);
        }
        _ => {}
    }
    out.join("\n")
}

#[test]
fn mutated_scenarios_parse_or_give_an_error_naming_the_file() {
    let strategy = (
        0..EMBEDDED.len(),
        proptest::collection::vec(mutation(), 1..4),
    );
    runner(512)
        .run(&strategy, |(which, mutations)| {
            let (name, text) = EMBEDDED[which];
            let mut t = text.to_string();
            for m in &mutations {
                t = apply(&t, m);
            }
            match Scenario::parse(&t, "mutated.toml") {
                Ok(s) => {
                    // What parses is valid through and through: its sweep expands.
                    prop_assert!(!s.seeds.is_empty());
                    let _ = dendritic::experiment::scenario::expand(&t, "mutated.toml");
                    let _ = dendritic::experiment::memory_estimate(&s);
                }
                Err(e) => {
                    let msg = e.to_string();
                    prop_assert!(msg.contains("mutated.toml"), "{name}: {msg}");
                }
            }
            Ok(())
        })
        .unwrap();
}
