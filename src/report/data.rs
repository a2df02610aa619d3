//! Reading results back: filtered columns of the time series and summary DataFrames.

use polars::prelude::*;

/// (t_ms, value) of one quantity, variant and seed (None = every seed), sorted by time.
pub fn series(
    ts: &DataFrame,
    quantity: &str,
    variant: &str,
    seed: Option<u64>,
) -> PolarsResult<Vec<(f64, f64)>> {
    let mut filter = col("quantity")
        .eq(lit(quantity))
        .and(col("variant").eq(lit(variant)));
    if let Some(s) = seed {
        filter = filter.and(col("seed").eq(lit(s)));
    }
    let df = ts
        .clone()
        .lazy()
        .filter(filter)
        .sort(["t_ms"], Default::default())
        .collect()?;
    pairs(&df)
}

/// The mean over seeds of a quantity at each time.
pub fn mean_series(ts: &DataFrame, quantity: &str, variant: &str) -> PolarsResult<Vec<(f64, f64)>> {
    mean_where(
        ts,
        col("quantity")
            .eq(lit(quantity))
            .and(col("variant").eq(lit(variant))),
    )
}

/// The mean over the rows that pass `filter` at each t_ms, sorted by t_ms.
pub fn mean_where(ts: &DataFrame, filter: Expr) -> PolarsResult<Vec<(f64, f64)>> {
    let df = ts
        .clone()
        .lazy()
        .filter(filter)
        .group_by([col("t_ms")])
        .agg([col("value").mean()])
        .sort(["t_ms"], Default::default())
        .collect()?;
    pairs(&df)
}

/// (t_ms, value) rows of a filtered time series.
pub fn pairs(df: &DataFrame) -> PolarsResult<Vec<(f64, f64)>> {
    if df.height() == 0 {
        return Ok(Vec::new());
    }
    let t = df.column("t_ms")?.f64()?;
    let v = df.column("value")?.f64()?;
    Ok(t.iter()
        .zip(v.iter())
        .filter_map(|(a, b)| Some((a?, b?)))
        .collect())
}

/// The seeds present in a time series, ascending.
pub fn seeds(ts: &DataFrame) -> PolarsResult<Vec<u64>> {
    if ts.height() == 0 {
        return Ok(Vec::new());
    }
    let mut s: Vec<u64> = ts.column("seed")?.u64()?.into_no_null_iter().collect();
    s.sort_unstable();
    s.dedup();
    Ok(s)
}

/// A numeric summary column over the successful runs.
pub fn summary_values(summary: &DataFrame, name: &str) -> Vec<f64> {
    let ok: Vec<bool> = match summary
        .column("status")
        .and_then(|c| c.str().map(|s| s.iter().map(|v| v == Some("ok")).collect()))
    {
        Ok(v) => v,
        Err(_) => vec![true; summary.height()],
    };
    match summary.column(name).and_then(|c| {
        c.cast(&DataType::Float64)
            .and_then(|c| c.f64().map(|c| c.iter().collect::<Vec<_>>()))
    }) {
        Ok(v) => v
            .into_iter()
            .zip(ok)
            .filter_map(|(x, ok)| if ok { x } else { None })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// A text summary column (first row), e.g. method or commit.
pub fn summary_text(summary: &DataFrame, name: &str) -> Vec<String> {
    match summary.column(name).and_then(|c| {
        c.str().map(|s| {
            s.iter()
                .flatten()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
        })
    }) {
        Ok(mut v) => {
            v.sort();
            v.dedup();
            v
        }
        Err(_) => Vec::new(),
    }
}

/// Mean and sample standard deviation.
pub fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let m = xs.iter().sum::<f64>() / n;
    let sd = if xs.len() > 1 {
        (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    (m, sd)
}

/// Exponential moving average with weight `w` on the newest value.
pub fn ema(points: &[(f64, f64)], w: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len());
    let mut acc = None;
    for &(t, v) in points {
        let a = match acc {
            None => v,
            Some(a) => (1.0 - w) * a + w * v,
        };
        acc = Some(a);
        out.push((t, a));
    }
    out
}
