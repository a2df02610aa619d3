//! The disinhibition study end to end on a small synthetic MNIST written here (IDX files):
//! scenario → run → Parquet → report, with the numbers the report must agree with.

use dendritic::experiment::{Scenario, run_scenario};
use dendritic::report::render;
use dendritic::rng::Rng;
use polars::prelude::SerReader;

use crate::common::{scratch, write_set};

/// disinhibition_short on a synthetic set of 400 + 100 digits written under `root`, a
/// 784-30-10 network, two levels, three generated samples.
fn small_scenario(root: &std::path::Path) -> Scenario {
    let data = root.join("mnist");
    std::fs::create_dir_all(&data).unwrap();
    let mut rng = Rng::new(4);
    write_set(&data, "train", 400, &mut rng);
    write_set(&data, "t10k", 100, &mut rng);
    let mut s = Scenario::load("disinhibition_short").unwrap();
    s.network.sizes = vec![784, 30, 10];
    s.task = dendritic::task::TaskConfig::Mnist {
        dir: data.display().to_string(),
        train: 300,
        validation: 100,
        test: 100,
        rate_low: 0.1,
        rate_high: 0.8,
    };
    let dendritic::experiment::StudyConfig::Disinhibition { settings: d, .. } = &mut s.study else {
        panic!("a disinhibition scenario");
    };
    d.test_images = 100;
    d.levels = vec![0.0, 0.5];
    d.generation_samples = 3;
    d.settle_batch = 64;
    s.check().unwrap();
    s
}

#[test]
fn the_disinhibition_study_runs_and_reports_consistent_numbers() {
    let root = scratch("disinhibition");
    let s = small_scenario(&root);
    let results = root.join("results");
    run_scenario(&s, &results, false, false).unwrap();
    let dir = results.join("disinhibition_short");
    let read = |f: &str| {
        polars::prelude::ParquetReader::new(std::fs::File::open(dir.join(f)).unwrap())
            .finish()
            .unwrap()
    };
    let summary = read("summary.parquet");
    let ts = read("timeseries.parquet");
    let value = |q: &str, v: &str, layer: i64, level: f64| -> f64 {
        use polars::prelude::*;
        let df = ts
            .clone()
            .lazy()
            .filter(
                col("quantity")
                    .eq(lit(q))
                    .and(col("variant").eq(lit(v)))
                    .and(col("layer").eq(lit(layer)))
                    .and(col("t_ms").eq(lit(level))),
            )
            .collect()
            .unwrap();
        df.column("value").unwrap().f64().unwrap().get(0).unwrap()
    };
    let num = |c: &str| summary.column(c).unwrap().f64().unwrap().get(0).unwrap();
    for kind in 0..2 {
        // Level 0 leaves the digits as they are: zero input MSE, and the classifier's accuracy
        // on them is its test accuracy (the first 100 test images are the whole test set).
        assert_eq!(value("mse", "input", kind, 0.0), 0.0);
        let acc = value("accuracy", "input", kind, 0.0);
        assert!(
            (acc - (100.0 - num("classifier_test_error"))).abs() < 1e-9,
            "accuracy {acc} vs test error {}",
            num("classifier_test_error")
        );
        // The ratio is the quotient of the two recorded MSEs.
        let ratio = value("mse_ratio", "gate_open", kind, 0.5);
        let want = value("mse", "gate_open", kind, 0.5) / value("mse", "input", kind, 0.5);
        assert!((ratio - want).abs() < 1e-12);
    }
    // The gate-closed reconstruction of clean digits is the reconstruction_mse_clean floor.
    let floor = num("reconstruction_mse_clean");
    let closed0 = value("mse", "gate_closed", 0, 0.0);
    assert!((floor - closed0).abs() < 1e-12, "{floor} vs {closed0}");
    let acc = num("generation_class_accuracy_gate_open");
    assert!((0.0..=1.0).contains(&acc) && (acc * 30.0 - (acc * 30.0).round()).abs() < 1e-9);
    let reports = root.join("reports");
    render(&["disinhibition_short".to_string()], &results, &reports).unwrap();
    let csv = std::fs::read_to_string(reports.join("disinhibition_short/summary.csv")).unwrap();
    for key in [
        "denoise_mse_ratio_gate_open,",
        "denoise_mse_ratio_gate_closed,",
        "generation_class_accuracy,",
    ] {
        assert!(csv.contains(key), "summary.csv lacks {key}\n{csv}");
    }
    for png in [
        "generated_gate_open.png",
        "generated_gate_closed.png",
        "examples_pixel_noise.png",
        "examples_occlusion.png",
    ] {
        let bytes = std::fs::read(reports.join("disinhibition_short").join(png)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{png}");
    }
}
