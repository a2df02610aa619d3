//! Checkpoints of the MNIST learners (issue 17): a run stopped part-way (at
//! `mnist.stop_after_images`, checkpoint written) and resumed, twice, ends with exactly the
//! numbers of the same run done in one go — for the full-dynamics learner and the two-pass
//! learner, across an epoch boundary — and the checkpoint is removed when the run finishes.

use std::path::{Path, PathBuf};

use dendritic::experiment::scenario::SettleBy;
use dendritic::experiment::{Scenario, run_one};
use dendritic::record::Cell;
use dendritic::rng::Rng;

use crate::common::{scratch, write_set};

/// `name` (an embedded MNIST scenario) on the synthetic IDX set in `data`: one seed, no sweep,
/// a small network, `train` + `validation` training and `test` test images.
fn on_synthetic(
    name: &str,
    data: &std::path::Path,
    sizes: &[usize],
    (train, validation, test): (usize, usize, usize),
) -> Scenario {
    let mut s = Scenario::load(name).unwrap();
    s.sweep = None;
    s.seeds = vec![1];
    s.network.sizes = sizes.to_vec();
    s.task = dendritic::task::TaskConfig::Mnist {
        dir: data.display().to_string(),
        train,
        validation,
        test,
        rate_low: 0.1,
        rate_high: 0.8,
    };
    s
}

fn number(row: &dendritic::record::SummaryRow, key: &str) -> f64 {
    match row.get(key) {
        Some(Cell::Num(x)) => *x,
        other => panic!("{key}: {other:?}"),
    }
}

/// The error curves of a run: (quantity, t bits, value bits) of every `*_error` row, sorted.
fn error_curve(o: &dendritic::experiment::RunOutput) -> Vec<(String, u64, u64)> {
    let df = o.series.to_dataframe(1).unwrap();
    let v = df
        .column("value")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect::<Vec<_>>();
    let t = df
        .column("t_ms")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect::<Vec<_>>();
    let q = df
        .column("quantity")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap().to_string())
        .collect::<Vec<_>>();
    let mut rows: Vec<(String, u64, u64)> = q
        .into_iter()
        .zip(t)
        .zip(v)
        .filter(|((q, _), _)| q.ends_with("_error"))
        .map(|((q, t), v)| (q, t.to_bits(), v.to_bits()))
        .collect();
    rows.sort();
    rows
}

#[test]
fn a_stopped_and_resumed_run_ends_where_the_uninterrupted_one_does() {
    let (root, data) = synthetic_set("checkpoint", 8, 260, 50);
    for settle in [SettleBy::Dynamics, SettleBy::TwoPass] {
        let mut s = on_synthetic("mnist_dynamics", &data, &[784, 30, 20, 10], (200, 60, 50));
        let m = s.study.training_mut().unwrap();
        m.settle = settle;
        m.epochs = 2;
        m.evaluations_per_epoch = 2;
        m.settle_ms = 1.0;
        m.learn_ms = 0.4;
        m.checkpoint_images = 50;
        m.checkpoint_dir = root.join("checkpoints").display().to_string();
        s.check().unwrap();
        let whole = run_one(&s, 1, None).unwrap();
        let files = || std::fs::read_dir(root.join("checkpoints")).map_or(0, |d| d.count());
        assert_eq!(files(), 0, "a finished run leaves no checkpoint");
        // Stop after 70 images (minibatch 7 of 20), again after 140 more (across the end of
        // epoch 1), then finish.
        let mut stopped = s.clone();
        stopped.study.training_mut().unwrap().stop_after_images = 70;
        let first = run_one(&stopped, 1, None).unwrap_err().to_string();
        assert!(
            first.contains("stopped after 70 images") && first.contains("epoch 1, minibatch 7"),
            "{first}"
        );
        assert_eq!(files(), 1);
        stopped.study.training_mut().unwrap().stop_after_images = 140;
        let second = run_one(&stopped, 1, None).unwrap_err().to_string();
        assert!(second.contains("epoch 2, minibatch 1"), "{second}");
        let resumed = run_one(&s, 1, None).unwrap();
        assert_eq!(files(), 0);
        for key in [
            "test_error",
            "validation_error",
            "best_epoch",
            "images_seen",
        ] {
            assert_eq!(
                number(&resumed.summary, key),
                number(&whole.summary, key),
                "{settle:?}: {key}"
            );
        }
        // Every evaluation is there once, with the same values.
        assert_eq!(error_curve(&resumed), error_curve(&whole), "{settle:?}");
        assert_eq!(
            error_curve(&whole).len(),
            2 * 5,
            "evaluations at 0, ½, 1, 1½, 2 epochs"
        );
    }
}

/// A scratch directory with a synthetic MNIST-format set in `<root>/mnist`: `train` training
/// and `test` test images drawn from `seed`.
fn synthetic_set(name: &str, seed: u64, train: usize, test: usize) -> (PathBuf, PathBuf) {
    let root = scratch(name);
    let data = root.join("mnist");
    std::fs::create_dir_all(&data).unwrap();
    let mut rng = Rng::new(seed);
    write_set(&data, "train", train, &mut rng);
    write_set(&data, "t10k", test, &mut rng);
    (root, data)
}

/// Runs scenario file `f` into `dir` with the kill hook set (it must die by SIGKILL, leaving no
/// summary), then again without: it must resume (`resumed_says` in its log) and end with the
/// summary of the uninterrupted run in `whole`, wall times aside.
fn killed_then_resumed(
    f: &str,
    name: &str,
    whole: &Path,
    dir: &Path,
    hook: (&str, &str),
    resumed_says: &str,
    label: &str,
) {
    use std::os::unix::process::ExitStatusExt;
    let args = ["run", f, "--quiet", "--results", dir.to_str().unwrap()];
    let killed = dendritic(&args, Some(hook));
    assert_eq!(
        killed.status.signal(),
        Some(9),
        "{label}: {:?}",
        killed.status
    );
    assert!(!dir.join(name).join("summary.parquet").exists(), "{label}");
    let resumed = dendritic(&args, None);
    let err = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{label}: {err}");
    assert!(err.contains(resumed_says), "{label} did not resume: {err}");
    let same = dendritic(
        &[
            "compare",
            name,
            "--results",
            whole.to_str().unwrap(),
            "--against",
            dir.to_str().unwrap(),
            "--ignore",
            "wall_time_s,epoch_time_s,evaluation_time_s,total_time_s",
        ],
        None,
    );
    assert!(
        same.status.success(),
        "{label}: {}",
        String::from_utf8_lossy(&same.stdout)
    );
}

/// `dendritic` with the test-only kill hook `hook` = `k` (or none).
fn dendritic(args: &[&str], hook: Option<(&str, &str)>) -> std::process::Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_dendritic"));
    c.args(args)
        .env_remove("DENDRITIC_TEST_KILL_AFTER_CHECKPOINT")
        .env_remove("DENDRITIC_TEST_KILL_IN_WRITE");
    if let Some((k, v)) = hook {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn a_run_killed_after_a_checkpoint_or_mid_write_resumes_to_the_same_numbers() {
    use dendritic::experiment::scenario::LearnerKind;
    let (root, data) = synthetic_set("kill9", 9, 260, 50);
    // Checkpoints every 60 images (asked for), or only at the epochs' ends (what the driver
    // does for every MNIST run, in results/<name>/checkpoints).
    for (learner, every) in [
        (LearnerKind::Microcircuit, 60),
        (LearnerKind::Backprop, 60),
        (LearnerKind::Microcircuit, 0),
    ] {
        let mut s = on_synthetic("mnist_short", &data, &[784, 30, 20, 10], (200, 60, 50));
        let m = s.study.training_mut().unwrap();
        m.learner = learner;
        m.epochs = 3;
        m.evaluations_per_epoch = 2;
        m.checkpoint_images = every;
        m.checkpoint_dir = root.join(format!("ck-{learner:?}")).display().to_string();
        if learner == LearnerKind::Backprop {
            m.backprop_eta = Some(vec![0.5; 3]);
            m.eta_decay_per_epoch = 0.9;
        }
        s.check().unwrap();
        let file = root.join(format!("{learner:?}-{every}.toml"));
        std::fs::write(&file, toml::to_string_pretty(&s).unwrap()).unwrap();
        let f = file.to_str().unwrap();
        let results = |tag: &str| root.join(format!("{learner:?}-{every}-{tag}"));
        let whole = results("whole");
        let out = dendritic(
            &["run", f, "--quiet", "--results", whole.to_str().unwrap()],
            None,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Killed (SIGKILL) right after checkpoint 4 (in epoch 2), and in the middle of writing
        // checkpoint 6: each time a plain rerun resumes from the last whole checkpoint.
        let (after, mid) = if every > 0 { ("4", "6") } else { ("1", "2") };
        for (tag, hook) in [
            ("after", ("DENDRITIC_TEST_KILL_AFTER_CHECKPOINT", after)),
            ("mid-write", ("DENDRITIC_TEST_KILL_IN_WRITE", mid)),
        ] {
            killed_then_resumed(
                f,
                &s.name,
                &whole,
                &results(tag),
                hook,
                "resuming seed 1",
                &format!("{learner:?} {tag}"),
            );
        }
    }
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn exported_weights_load_with_init_from_and_give_the_same_forward_pass() {
    let (root, data) = synthetic_set("export-weights", 10, 160, 60);
    let mut s = on_synthetic("mnist_short", &data, &[784, 30, 20, 10], (120, 40, 60));
    let m = s.study.training_mut().unwrap();
    m.epochs = 1;
    m.evaluations_per_epoch = 1;
    s.check().unwrap();
    let trained = root.join("trained");
    dendritic::experiment::run_scenario(&s, &trained, false, false).unwrap();
    let weights = root.join("w.npz");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dendritic"))
        .args(["export-weights", &s.name, "--seed", "1", "--results"])
        .arg(&trained)
        .arg("--out")
        .arg(&weights)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let arrays = dendritic::record::npz::read(&weights).unwrap();
    assert_eq!(arrays["w_up_1"].shape, vec![30, 784]);
    // The same network from the file, learning switched off: its first evaluation is the
    // trained run's last, to the bit.
    let mut again = s.clone();
    again.init.from = Some(weights.display().to_string());
    for eta in [
        &mut again.network.plasticity.eta_up,
        &mut again.network.plasticity.eta_ip,
        &mut again.network.plasticity.eta_pi,
        &mut again.network.plasticity.eta_down,
    ] {
        eta.iter_mut().for_each(|e| *e = 0.0);
    }
    again.check().unwrap();
    let test_errors = |o: &dendritic::experiment::RunOutput| -> Vec<(f64, f64)> {
        let df = o.series.to_dataframe(1).unwrap();
        let q = df.column("quantity").unwrap().str().unwrap().clone();
        let t = df.column("t_ms").unwrap().f64().unwrap().clone();
        let v = df.column("value").unwrap().f64().unwrap().clone();
        (0..df.height())
            .filter(|&i| q.get(i) == Some("test_error"))
            .map(|i| (t.get(i).unwrap(), v.get(i).unwrap()))
            .collect()
    };
    let first = dendritic::experiment::run_one(&s, 1, None).unwrap();
    let loaded = dendritic::experiment::run_one(&again, 1, None).unwrap();
    let (a, b) = (test_errors(&first), test_errors(&loaded));
    assert_eq!(
        a.last().unwrap().1.to_bits(),
        b[0].1.to_bits(),
        "{a:?} vs {b:?}"
    );
    assert!(
        b.iter().all(|x| x.1.to_bits() == b[0].1.to_bits()),
        "no learning: {b:?}"
    );
    // A file without the network's matrices is an error naming the file and the array.
    let mut bad = s.clone();
    bad.init.from = Some(root.join("missing.npz").display().to_string());
    let err = dendritic::experiment::run_one(&bad, 1, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("init.from") && err.contains("missing.npz"),
        "{err}"
    );
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn a_killed_disinhibition_run_resumes_after_its_last_epoch() {
    let (root, data) = synthetic_set("kill9-disinhibition", 4, 300, 100);
    let mut s = on_synthetic(
        "disinhibition_short",
        &data,
        &[784, 30, 10],
        (200, 100, 100),
    );
    s.study.training_mut().unwrap().epochs = 2;
    let dendritic::experiment::StudyConfig::Disinhibition { settings: d, .. } = &mut s.study else {
        panic!("a disinhibition scenario");
    };
    d.test_images = 50;
    d.levels = vec![0.0, 0.5];
    d.generation_samples = 2;
    d.settle_batch = 50;
    d.top_down_epochs = 1;
    s.check().unwrap();
    let file = root.join("d.toml");
    std::fs::write(&file, toml::to_string_pretty(&s).unwrap()).unwrap();
    let f = file.to_str().unwrap();
    let whole = root.join("whole");
    let out = dendritic(
        &["run", f, "--quiet", "--results", whole.to_str().unwrap()],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Killed after the checkpoint of epoch 2 (of 3: two, then one of the top-down phase).
    killed_then_resumed(
        f,
        &s.name,
        &whole,
        &root.join("killed"),
        ("DENDRITIC_TEST_KILL_AFTER_CHECKPOINT", "2"),
        "after epoch 2",
        "disinhibition",
    );
    std::fs::remove_dir_all(&root).ok();
}

/// One executor (issue 18): a plain scenario runs as a sweep with an empty grid. Its run
/// directory holds the weights, and a rerun that fails (here: the data set is gone) keeps the
/// run's earlier results, merged as before, while the failure is reported.
#[test]
fn a_plain_run_that_fails_again_keeps_its_earlier_results() {
    let (root, data) = synthetic_set("fails-again", 11, 120, 40);
    let mut s = on_synthetic("mnist_short", &data, &[784, 30, 20, 10], (80, 40, 40));
    let m = s.study.training_mut().unwrap();
    m.epochs = 1;
    s.check().unwrap();
    let results = root.join("results");
    let first = dendritic::experiment::run_scenario(&s, &results, false, false).unwrap();
    assert!(first.failures.is_empty());
    assert!(
        results
            .join("mnist_short/runs/run00000/weights.npz")
            .exists()
    );
    let error_of = |df: &polars::prelude::DataFrame| {
        let c = df.column("test_error").unwrap().f64().unwrap().clone();
        c.get(0).unwrap()
    };
    let before = error_of(&first.summary);
    std::fs::remove_dir_all(&data).unwrap();
    let again = dendritic::experiment::run_scenario(&s, &results, false, false).unwrap();
    assert_eq!(again.failures.len(), 1);
    assert_eq!(again.failures[0].0, 1);
    assert!(
        again.failures[0].1.contains("make data"),
        "{:?}",
        again.failures
    );
    let kept = dendritic::record::read_frame(&results.join("mnist_short/summary.parquet")).unwrap();
    let status = kept
        .column("status")
        .unwrap()
        .str()
        .unwrap()
        .get(0)
        .map(str::to_string);
    assert_eq!(status.as_deref(), Some("ok"));
    assert_eq!(error_of(&kept).to_bits(), before.to_bits());
    std::fs::remove_dir_all(&root).ok();
}
