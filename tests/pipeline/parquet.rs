//! Parquet written by a run reads back with identical shape and values.

use dendritic::experiment::run_scenario;
use dendritic::record::read_frame;

use crate::common::*;

#[test]
fn parquet_round_trip_is_exact() {
    let dir = scratch("parquet");
    let scenario = tiny("self_predicting");
    let out = run_scenario(&scenario, &dir, true, false).unwrap();
    assert!(out.failures.is_empty());
    // 2 seeds × 4 patterns × 200 steps / 100 steps per sample × 2 quantities.
    assert_eq!(out.timeseries.height(), 2 * 4 * 2 * 2);
    assert_eq!(out.summary.height(), 2);
    for (name, df) in [("summary", &out.summary), ("timeseries", &out.timeseries)] {
        let back =
            read_frame(&dir.join("self_predicting").join(format!("{name}.parquet"))).unwrap();
        assert_eq!(back.shape(), df.shape(), "{name}");
        assert_eq!(back.get_column_names(), df.get_column_names(), "{name}");
        assert!(
            back.equals_missing(df),
            "{name}: values differ after the round trip"
        );
        assert!(
            dir.join("self_predicting")
                .join(format!("{name}.csv"))
                .exists()
        );
    }
    // Parameters are columns of the summary, by their scenario path.
    let g_a = out
        .summary
        .column("network.conductances.g_a")
        .unwrap()
        .f64()
        .unwrap()
        .get(0);
    assert_eq!(g_a, Some(0.8));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn runs_are_reproducible_from_scenario_and_seed() {
    let dir = scratch("repro");
    let scenario = tiny("target_learning");
    let a = run_scenario(&scenario, &dir.join("a"), false, false).unwrap();
    let b = run_scenario(&scenario, &dir.join("b"), false, false).unwrap();
    assert!(a.timeseries.equals_missing(&b.timeseries));
    std::fs::remove_dir_all(&dir).ok();
}
