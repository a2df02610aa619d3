//! Two results of one scenario compared column by column (`dendritic compare`): the check that
//! a sharded or clustered run reproduced a single-process one.

use polars::prelude::*;

/// The differences between two summary frames, rows matched in order after sorting both by
/// `run` (sweeps) or `seed`, every column but those named in `ignore` compared exactly
/// (floats bit for bit, NaN equal to NaN). Empty when they agree.
///
/// # Errors
/// A polars error (a column of an unexpected type).
pub fn differences(a: &DataFrame, b: &DataFrame, ignore: &[&str]) -> PolarsResult<Vec<String>> {
    let key = if a.column("run").is_ok() {
        "run"
    } else {
        "seed"
    };
    let sort = |df: &DataFrame| -> PolarsResult<DataFrame> {
        if df.column(key).is_ok() {
            df.sort([key], Default::default())
        } else {
            Ok(df.clone())
        }
    };
    let (a, b) = (sort(a)?, sort(b)?);
    let mut out = Vec::new();
    if a.height() != b.height() {
        out.push(format!("{} rows against {}", a.height(), b.height()));
        return Ok(out);
    }
    let names = |df: &DataFrame| -> std::collections::BTreeSet<String> {
        df.get_column_names()
            .iter()
            .map(|n| n.to_string())
            .filter(|n| !ignore.contains(&n.as_str()))
            .collect()
    };
    let (na, nb) = (names(&a), names(&b));
    for n in na.symmetric_difference(&nb) {
        out.push(format!("column `{n}` is in one result only"));
    }
    for n in na.intersection(&nb) {
        let (ca, cb) = (a.column(n)?, b.column(n)?);
        for i in 0..a.height() {
            let (va, vb) = (ca.get(i)?, cb.get(i)?);
            let same = match (va.extract::<f64>(), vb.extract::<f64>()) {
                (Some(x), Some(y)) if va.dtype().is_primitive_numeric() => {
                    x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
                }
                _ => va == vb,
            };
            if !same {
                out.push(format!("row {i}, column `{n}`: {va} against {vb}"));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_ignore_the_named_columns_and_row_order() {
        let a = df!("run" => [0u64, 1], "x" => [1.0, 2.0], "wall_time_s" => [3.0, 4.0]).unwrap();
        let b = df!("run" => [1u64, 0], "x" => [2.0, 1.0], "wall_time_s" => [9.0, 9.0]).unwrap();
        assert!(differences(&a, &b, &["wall_time_s"]).unwrap().is_empty());
        assert_eq!(differences(&a, &b, &[]).unwrap().len(), 2);
        let c =
            df!("run" => [0u64, 1], "x" => [1.0, 2.0000000000000004], "wall_time_s" => [3.0, 4.0])
                .unwrap();
        let d = differences(&a, &c, &["wall_time_s"]).unwrap();
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].contains("`x`"), "{d:?}");
    }
}
