//! What the pages share: chart builders, per-seed means, tables and sibling results.

use crate::report::data::{mean_sd, mean_series, seeds, series, summary_values};
use crate::report::error::ReportResult;
use crate::report::page::{Inputs, Metric};
use crate::report::plot::{Chart, Line};

pub(super) fn chart(
    stem: &str,
    title: &str,
    x: &str,
    y: &str,
    lines: Vec<Line>,
    log_y: bool,
) -> Chart {
    Chart {
        stem: stem.into(),
        title: title.into(),
        x_label: x.into(),
        y_label: y.into(),
        lines,
        log_y,
        log_x: false,
    }
}

/// A chart with both axes logarithmic (work–precision diagrams, convergence plots).
pub(super) fn loglog(stem: &str, title: &str, x: &str, y: &str, lines: Vec<Line>) -> Chart {
    Chart {
        log_x: true,
        ..chart(stem, title, x, y, lines, true)
    }
}

/// The mean over seeds with a mean ± sd band when the seeds share their x values (else the
/// seeds as faint lines behind the mean).
pub(super) fn seeds_and_mean(
    inputs: &Inputs,
    quantity: &str,
    variant: &str,
    name: &str,
) -> ReportResult<Vec<Line>> {
    let per_seed: Vec<Vec<(f64, f64)>> = seeds(inputs.timeseries)?
        .into_iter()
        .map(|s| series(inputs.timeseries, quantity, variant, Some(s)))
        .collect::<Result<_, _>>()?;
    let mean = Line::new(name, mean_series(inputs.timeseries, quantity, variant)?);
    let shared = per_seed.len() > 1
        && per_seed.iter().all(|p| {
            p.len() == per_seed[0].len() && p.iter().zip(&per_seed[0]).all(|(a, b)| a.0 == b.0)
        });
    if shared {
        let band = (0..per_seed[0].len())
            .map(|i| {
                let ys: Vec<f64> = per_seed.iter().map(|p| p[i].1).collect();
                let (m, sd) = crate::report::data::mean_sd(&ys);
                (per_seed[0][i].0, m - sd, m + sd)
            })
            .collect();
        return Ok(vec![mean.with_band(band)]);
    }
    let mut lines: Vec<Line> = per_seed
        .into_iter()
        .map(|points| Line {
            faint: true,
            ..Line::new(String::new(), points)
        })
        .collect();
    lines.push(mean);
    Ok(lines)
}

pub(super) fn metric_mean(
    inputs: &Inputs,
    column: &str,
    name: &str,
    unit: &str,
    note: &str,
) -> Metric {
    let v = summary_values(inputs.summary, column);
    let (m, sd) = mean_sd(&v);
    Metric::new(
        name,
        m,
        unit,
        &format!(
            "{note} ({} seeds, sd {:.3}, min {:.4}, max {:.4})",
            v.len(),
            sd,
            v.iter().cloned().fold(f64::INFINITY, f64::min),
            v.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
        ),
    )
    .sd(if v.len() > 1 { sd } else { f64::NAN })
}

pub(super) fn trace_chart(
    inputs: &Inputs,
    window: &str,
    seed: u64,
    quantities: &[(&str, &str, bool)],
    stem: &str,
    title: &str,
    y: &str,
) -> ReportResult<Chart> {
    let mut lines = Vec::new();
    for &(q, name, dashed) in quantities {
        let pts = series(inputs.timeseries, q, window, Some(seed))?;
        lines.push(if dashed {
            Line::dashed(name, pts)
        } else {
            Line::new(name, pts)
        });
    }
    Ok(chart(stem, title, "time (ms)", y, lines, false))
}

pub(super) fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

pub(super) fn max(v: &[f64]) -> f64 {
    v.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
}

/// (x, y) pairs of two numeric columns of the table rows where `filters` hold, mean over seeds
/// at equal x.
pub(super) fn table_xy(
    table: &polars::prelude::DataFrame,
    filters: &[(&str, &str)],
    x: &str,
    y: &str,
) -> ReportResult<Vec<(f64, f64)>> {
    use polars::prelude::*;
    let mut pred = lit(true);
    for (c, v) in filters {
        pred = pred.and(col(*c).eq(lit(*v)));
    }
    let df = table
        .clone()
        .lazy()
        .filter(pred)
        .group_by([col(x)])
        .agg([col(y).mean()])
        .sort([x], Default::default())
        .collect()?;
    let xs = df.column(x)?.f64()?.clone();
    let ys = df.column(y)?.f64()?.clone();
    Ok(xs
        .iter()
        .zip(ys.iter())
        .filter_map(|(a, b)| Some((a?, b?)))
        .collect())
}

/// The rows of `table` matching `filters`, as the f64 values of `columns` (rows with a missing
/// value left out), in table order.
pub(super) fn table_rows(
    table: &polars::prelude::DataFrame,
    filters: &[(&str, &str)],
    columns: &[&str],
) -> ReportResult<Vec<Vec<f64>>> {
    use polars::prelude::*;
    let mut pred = lit(true);
    for (c, v) in filters {
        pred = pred.and(col(*c).eq(lit(*v)));
    }
    let df = table.clone().lazy().filter(pred).collect()?;
    let cols = columns
        .iter()
        .map(|c| Ok(df.column(c)?.f64()?.clone()))
        .collect::<ReportResult<Vec<_>>>()?;
    Ok((0..df.height())
        .filter_map(|i| cols.iter().map(|c| c.get(i)).collect::<Option<Vec<f64>>>())
        .collect())
}

/// A sibling study's summary (and table) from results/<name>, when it has been run.
pub(super) fn sibling(
    inputs: &Inputs,
    name: &str,
) -> ReportResult<
    Option<(
        polars::prelude::DataFrame,
        Option<polars::prelude::DataFrame>,
    )>,
> {
    let Some(dir) = inputs
        .results
        .and_then(|r| r.parent())
        .map(|root| root.join(name))
    else {
        return Ok(None);
    };
    let summary = dir.join("summary.parquet");
    if !summary.exists() {
        return Ok(None);
    }
    let table = dir.join("table.parquet");
    Ok(Some((
        crate::record::read_frame(&summary)?,
        if table.exists() {
            Some(crate::record::read_frame(&table)?)
        } else {
            None
        },
    )))
}

/// (x, y) sorted by x (a work–precision curve is drawn in order of cost).
pub(super) fn sorted(mut v: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

/// Seed means of summary columns named as the metrics: (column, unit, how measured).
pub(super) fn means(inputs: &Inputs, rows: &[(&str, &str, &str)]) -> Vec<Metric> {
    rows.iter()
        .map(|(column, unit, note)| metric_mean(inputs, column, column, unit, note))
        .collect()
}
