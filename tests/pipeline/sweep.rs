//! Sweeps: thread-count independence, failures and resume, sharding and merging.

use std::path::Path;

use dendritic::experiment::scenario::EMBEDDED;
use dendritic::experiment::scenario::expand;
use dendritic::experiment::sweep::{SweepOptions, merge, only_seeds, run_sweep};
use polars::prelude::DataFrame;

use crate::common::scratch;

/// The embedded target-learning scenario made tiny, with `grid` appended as its sweep.
fn sweep_text(seeds: &str, grid: &str) -> String {
    let base = EMBEDDED
        .iter()
        .find(|(n, _)| *n == "target_learning")
        .unwrap()
        .1;
    let text = base
        .replace("seeds = [1, 2, 3]", &format!("seeds = {seeds}"))
        .replace("patterns = 1000", "patterns = 3")
        .replace("pattern_ms = 100.0", "pattern_ms = 20.0")
        .replace("target_onset_ms = 50.0", "target_onset_ms = 5.0")
        .replace("trace_window_ms = 200.0", "trace_window_ms = 20.0");
    format!("{text}\n[sweep.grid]\n{grid}\n")
}

/// A DataFrame without its wall-time column (the only thread-dependent number).
fn without_wall_time(df: &DataFrame) -> DataFrame {
    df.drop("wall_time_s").unwrap_or_else(|_| df.clone())
}

fn run(text: &str, root: &Path, opts: SweepOptions) -> dendritic::experiment::sweep::SweepOutcome {
    let (base, runs) = expand(text, "sweep.toml").unwrap();
    run_sweep(&base, &runs, root, &opts).unwrap()
}

#[test]
fn a_2x2x3_sweep_is_identical_with_1_and_2_threads() {
    let dir = scratch("sweep-threads");
    let text = sweep_text(
        "[1, 2, 3]",
        "\"network.conductances.g_som\" = [0.4, 0.8]\n\"network.plasticity.tau_w\" = [10.0, 30.0]",
    );
    let (_, runs) = expand(&text, "sweep.toml").unwrap();
    assert_eq!(runs.len(), 12);
    let mut frames = Vec::new();
    for threads in [1, 2] {
        let root = dir.join(format!("t{threads}"));
        let out = run(
            &text,
            &root,
            SweepOptions {
                threads: Some(threads),
                ..Default::default()
            },
        );
        assert_eq!(out.computed.len(), 12);
        assert!(out.failed.is_empty(), "{:?}", out.failed);
        frames.push(merge(&root, "target_learning", false).unwrap());
    }
    let (s1, t1) = &frames[0];
    let (s2, t2) = &frames[1];
    assert_eq!(s1.height(), 12);
    // Parameters are columns of the summary.
    let g_som: Vec<f64> = s1
        .column("network.conductances.g_som")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(
        g_som,
        vec![0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]
    );
    assert!(
        without_wall_time(s1).equals_missing(&without_wall_time(s2)),
        "summaries differ between 1 and 2 threads"
    );
    assert!(
        t1.equals_missing(t2),
        "time series differ between 1 and 2 threads"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_failing_run_is_recorded_and_resume_recomputes_only_what_is_missing() {
    let dir = scratch("sweep-resume");
    // dt = 2.5 ms is beyond Euler's stability limit (~1 ms): that run is refused.
    let text = sweep_text("[1]", "\"protocol.dt\" = [0.1, 0.2, 2.5]");
    let out = run(&text, &dir, SweepOptions::default());
    assert_eq!(out.computed, vec![0, 1, 2]);
    assert_eq!(out.failed.len(), 1);
    assert_eq!(out.failed[0].0, 2);
    assert!(
        out.failed[0].1.contains("stability limit"),
        "{}",
        out.failed[0].1
    );
    let (summary, _) = merge(&dir, "target_learning", false).unwrap();
    let status: Vec<String> = summary
        .column("status")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap().to_string())
        .collect();
    assert_eq!(status, vec!["ok", "ok", "failed"]);
    let error = summary
        .column("error")
        .unwrap()
        .str()
        .unwrap()
        .get(2)
        .unwrap()
        .to_string();
    assert!(error.contains("protocol.dt = 2.5"), "{error}");
    // Resume: only the failed run is recomputed.
    let again = run(
        &text,
        &dir,
        SweepOptions {
            resume: true,
            ..Default::default()
        },
    );
    assert_eq!(again.computed, vec![2]);
    assert_eq!(again.skipped, vec![0, 1]);
    // A lost run is recomputed too, and nothing else.
    std::fs::remove_dir_all(dir.join("target_learning/runs/run00001")).unwrap();
    let again = run(
        &text,
        &dir,
        SweepOptions {
            resume: true,
            ..Default::default()
        },
    );
    assert_eq!(again.computed, vec![1, 2]);
    assert_eq!(again.skipped, vec![0]);
    std::fs::remove_dir_all(&dir).ok();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn two_shards_merged_equal_one_run() {
    let dir = scratch("sweep-shards");
    let text = sweep_text("[1, 2]", "\"network.conductances.g_som\" = [0.4, 0.8]");
    run(&text, &dir.join("whole"), SweepOptions::default());
    let (whole_s, whole_t) = merge(&dir.join("whole"), "target_learning", false).unwrap();
    for i in 0..2 {
        let out = run(
            &text,
            &dir.join(format!("shard{i}")),
            SweepOptions {
                shard: Some((i, 2)),
                ..Default::default()
            },
        );
        assert_eq!(out.computed, if i == 0 { vec![0, 2] } else { vec![1, 3] });
        copy_dir(
            &dir.join(format!("shard{i}/target_learning/runs")),
            &dir.join("merged/target_learning/runs"),
        );
        std::fs::copy(
            dir.join(format!("shard{i}/target_learning/scenario.toml")),
            dir.join("merged/target_learning/scenario.toml"),
        )
        .unwrap();
    }
    let (s, t) = merge(&dir.join("merged"), "target_learning", false).unwrap();
    assert!(without_wall_time(&s).equals_missing(&without_wall_time(&whole_s)));
    assert!(t.equals_missing(&whole_t));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_bad_grid_value_names_the_key() {
    let text = sweep_text("[1]", "\"network.conductances.g_a\" = [0.8, -1.0]");
    let err = expand(&text, "sweep.toml").unwrap_err().to_string();
    assert!(
        err.contains("sweep.toml") && err.contains("g_a") && err.contains("-1"),
        "{err}"
    );
}

#[test]
fn variants_cross_the_grid_and_seeds_and_land_in_the_summary() {
    let dir = scratch("sweep-variants");
    let text = sweep_text("[1, 2]", "\"network.plasticity.tau_w\" = [10.0, 30.0]")
        + "[[sweep.variant]]\nname = \"weak\"\nset = { \"network.conductances.g_som\" = 0.2 }\n\
           [[sweep.variant]]\nname = \"strong\"\nset = { \"network.conductances.g_som\" = 0.9 }\n";
    let (_, runs) = expand(&text, "sweep.toml").unwrap();
    assert_eq!(runs.len(), 2 * 2 * 2);
    // Variants outermost, then the grid, seeds innermost.
    let got: Vec<(String, f64, f64, u64)> = runs
        .iter()
        .map(|r| {
            (
                r.variant.clone(),
                r.scenario.network.conductances.g_som,
                r.scenario.network.plasticity.tau_w,
                r.seed,
            )
        })
        .collect();
    assert_eq!(got[0], ("weak".into(), 0.2, 10.0, 1));
    assert_eq!(got[3], ("weak".into(), 0.2, 30.0, 2));
    assert_eq!(got[4], ("strong".into(), 0.9, 10.0, 1));
    assert_eq!(got[7], ("strong".into(), 0.9, 30.0, 2));
    // Run two of them and merge: the variant is a column.
    let (base, _) = expand(&text, "sweep.toml").unwrap();
    let pick = [runs[0].clone(), runs[7].clone()];
    let out = run_sweep(&base, &pick, &dir, &SweepOptions::default()).unwrap();
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    let (summary, _) = merge(&dir, "target_learning", false).unwrap();
    let variants: Vec<String> = summary
        .column("variant")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap().to_string())
        .collect();
    let g_som: Vec<f64> = summary
        .column("network.conductances.g_som")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    assert_eq!(variants, ["weak", "strong"]);
    assert_eq!(g_som, [0.2, 0.9]);
    // The time series names each run's variant too (the study's own label moves to `label`),
    // and the columns both files share have one dtype.
    let (summary, series) = merge(&dir, "target_learning", false).unwrap();
    let mut names: Vec<String> = series
        .column("variant")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap().to_string())
        .collect();
    names.dedup();
    assert_eq!(names, ["weak", "strong"]);
    assert!(series.column("label").is_ok());
    for c in ["run", "seed", "variant"] {
        assert_eq!(
            summary.column(c).unwrap().dtype(),
            series.column(c).unwrap().dtype(),
            "column {c}"
        );
    }
    assert_eq!(
        summary.column("seed").unwrap().dtype(),
        &polars::prelude::DataType::UInt64
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_edited_grid_recomputes_exactly_the_changed_runs_and_merges_only_the_current_grid() {
    let dir = scratch("sweep-stale");
    let old = sweep_text("[1, 2]", "\"network.conductances.g_a\" = [0.2, 0.8]");
    let out = run(&old, &dir, SweepOptions::default());
    assert_eq!(out.computed, vec![0, 1, 2, 3]);
    // g_a 0.8 → 0.9: runs 2 and 3 (seeds innermost) are of the old grid.
    let new = sweep_text("[1, 2]", "\"network.conductances.g_a\" = [0.2, 0.9]");
    let resume = SweepOptions {
        resume: true,
        ..Default::default()
    };
    let again = run(&new, &dir, resume.clone());
    assert_eq!(again.computed, vec![2, 3]);
    assert_eq!(again.skipped, vec![0, 1]);
    let (summary, _) = merge(&dir, "target_learning", false).unwrap();
    let g_a: Vec<f64> = summary
        .column("network.conductances.g_a")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    assert_eq!(g_a, [0.2, 0.2, 0.9, 0.9]);
    // A smaller grid leaves run directories of the old one behind: never merged.
    let smaller = sweep_text("[1]", "\"network.conductances.g_a\" = [0.2]");
    let again = run(&smaller, &dir, resume);
    assert!(again.computed.is_empty(), "{again:?}");
    let (summary, _) = merge(&dir, "target_learning", false).unwrap();
    assert_eq!(summary.height(), 1);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn duplicate_seeds_and_variant_names_are_refused() {
    let err = expand(
        &sweep_text("[1, 1]", "\"network.conductances.g_a\" = [0.2]"),
        "s.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("s.toml") && err.contains("seeds") && err.contains("twice"),
        "{err}"
    );
    let text = sweep_text("[1]", "\"network.plasticity.tau_w\" = [10.0]")
        + "[[sweep.variant]]\nname = \"a\"\n[[sweep.variant]]\nname = \"a\"\n";
    let err = expand(&text, "s.toml").unwrap_err().to_string();
    assert!(
        err.contains("sweep.variant") && err.contains("\"a\" appears twice"),
        "{err}"
    );
}

#[test]
fn a_bad_variant_value_names_the_variant_and_key() {
    let text = sweep_text("[1]", "\"network.plasticity.tau_w\" = [10.0]")
        + "[[sweep.variant]]\nname = \"broken\"\nset = { \"network.conductances.g_a\" = -2.0 }\n";
    let err = expand(&text, "sweep.toml").unwrap_err().to_string();
    assert!(
        err.contains("sweep.toml") && err.contains("broken") && err.contains("g_a"),
        "{err}"
    );
}

#[test]
fn seeds_select_runs_with_their_file_indices_and_an_unlisted_seed_is_named() {
    let text = sweep_text("[1, 2, 3]", "\"network.conductances.g_som\" = [0.5, 0.8]");
    let (base, runs) = expand(&text, "s.toml").unwrap();
    assert_eq!(runs.len(), 6);
    let kept = only_seeds(&base, runs.clone(), &[2], "s.toml").unwrap();
    // Seeds are innermost: seed 2 is the second run of each grid point.
    let idx: Vec<usize> = kept.iter().map(|r| r.index).collect();
    assert_eq!(idx, vec![1, 4]);
    let err = only_seeds(&base, runs, &[2, 7], "s.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("s.toml") && err.contains("seeds") && err.contains("[7]"),
        "{err}"
    );
}

#[test]
fn variants_select_runs_with_their_file_indices_and_an_unknown_variant_is_named() {
    let text = sweep_text("[1, 2]", "\"network.conductances.g_som\" = [0.5, 0.8]")
        + "[[sweep.variant]]\nname = \"a\"\nset = { \"network.plasticity.tau_w\" = 10.0 }\n\
           [[sweep.variant]]\nname = \"b\"\nset = { \"network.plasticity.tau_w\" = 20.0 }\n";
    let (base, runs) = expand(&text, "v.toml").unwrap();
    assert_eq!(runs.len(), 8);
    let kept =
        dendritic::experiment::sweep::only_variants(&base, runs.clone(), &["b".into()], "v.toml")
            .unwrap();
    // Variants are outermost: b holds the second half of the indices.
    let idx: Vec<usize> = kept.iter().map(|r| r.index).collect();
    assert_eq!(idx, vec![4, 5, 6, 7]);
    assert!(kept.iter().all(|r| r.variant == "b"));
    let err = dendritic::experiment::sweep::only_variants(&base, runs, &["c".into()], "v.toml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("v.toml") && err.contains("\"c\""), "{err}");
}

#[test]
fn a_plain_scenarios_seeds_run_apart_keep_their_indices_and_merge_into_one_summary() {
    use dendritic::experiment::sweep::plain_selection;
    let dir = scratch("plain-seeds");
    let base = crate::common::tiny("target_learning");
    assert_eq!(base.seeds, vec![1, 2]);
    let go = |seeds: Option<&[u64]>| {
        let (whole, runs) = plain_selection(&base, seeds, &dir);
        let out = run_sweep(&whole, &runs, &dir, &SweepOptions::default()).unwrap();
        assert!(out.failed.is_empty(), "{:?}", out.failed);
        let (summary, _) = merge(&dir, &base.name, false).unwrap();
        let seeds: Vec<u64> = summary
            .column("seed")
            .unwrap()
            .u64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        let runs: Vec<(usize, u64)> = runs.iter().map(|r| (r.index, r.seed)).collect();
        (runs, seeds)
    };
    // A seed of the file keeps the file's index...
    assert_eq!(go(Some(&[2])), (vec![(1, 2)], vec![2]));
    let seed2 = dir.join("target_learning/runs/run00001/summary.parquet");
    let written = std::fs::metadata(&seed2).unwrap().modified().unwrap();
    // ...so the other seeds, run later, neither replace it nor leave it out of the summary;
    // a seed outside the file comes after the file's.
    assert_eq!(go(Some(&[1, 7])), (vec![(0, 1), (2, 7)], vec![1, 2, 7]));
    assert_eq!(
        std::fs::metadata(&seed2).unwrap().modified().unwrap(),
        written
    );
    // A later extra seed comes after the earlier one.
    assert_eq!(go(Some(&[8])), (vec![(3, 8)], vec![1, 2, 7, 8]));
    // Without --seeds the runs and the summary are the file's.
    assert_eq!(go(None), (vec![(0, 1), (1, 2)], vec![1, 2]));
    // A new seed after that plain run: the saved scenario.toml lists only the file's seeds
    // now, but the extra seeds' directories keep their indices (7 and 8 are not recomputed,
    // nor overwritten by 9) and join the summary again.
    let seed7 = dir.join("target_learning/runs/run00002/summary.parquet");
    let written7 = std::fs::metadata(&seed7).unwrap().modified().unwrap();
    assert_eq!(go(Some(&[9])), (vec![(4, 9)], vec![1, 2, 7, 8, 9]));
    assert_eq!(
        std::fs::metadata(&seed7).unwrap().modified().unwrap(),
        written7
    );
    // A saved scenario.toml this version cannot read carries no extra seeds over; the
    // directories still hold their seeds' indices.
    let saved = dir.join("target_learning/scenario.toml");
    std::fs::write(&saved, "seeds = [1, 2, 7]\nsede = 4\n").unwrap();
    assert_eq!(go(Some(&[10])), (vec![(5, 10)], vec![1, 2, 7, 8, 9, 10]));
    std::fs::remove_dir_all(&dir).ok();
}
