//! The solution: what a run saw, as polars DataFrames with named, unit-bearing columns, and
//! their Parquet/CSV files. Recorders push into plain vectors in the hot loop; polars appears
//! only when a run is finished.

pub mod compare;
pub mod lock;
pub mod npz;
pub mod observe;
pub mod test_hook;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use polars::prelude::*;

/// The x value of a recorded row: simulated time, a training epoch, a corruption level or an
/// image index. Written as the `axis` column beside the value (`t_ms`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum X {
    /// Simulated time, ms.
    Time(f64),
    /// Training epochs (fractions during an epoch).
    Epoch(f64),
    /// A corruption level (fraction of pixels).
    Level(f64),
    /// The index of a stored image.
    Image(f64),
}

impl X {
    /// The `axis` column's name for this kind.
    pub fn axis(self) -> &'static str {
        match self {
            X::Time(_) => "time_ms",
            X::Epoch(_) => "epoch",
            X::Level(_) => "level",
            X::Image(_) => "image",
        }
    }

    /// The value.
    pub fn value(self) -> f64 {
        match self {
            X::Time(v) | X::Epoch(v) | X::Level(v) | X::Image(v) => v,
        }
    }
}

/// A long time series: one row per (x, quantity, layer, neuron) sample.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimeSeries {
    /// Which learner of a run ("microcircuit", "shallow", …; "" when there is one).
    pub variant: Vec<String>,
    /// The x value: simulated time in ms, or what `axis` says.
    pub t_ms: Vec<f64>,
    /// What the x value is (`X::axis`): "time_ms", "epoch", "level" or "image".
    pub axis: Vec<&'static str>,
    /// What was measured (e.g. "apical_norm", "test_error").
    pub quantity: Vec<&'static str>,
    /// Layer k (−1 when not layer-specific).
    pub layer: Vec<i64>,
    /// Neuron index (−1 for norms and summaries).
    pub neuron: Vec<i64>,
    /// The value.
    pub value: Vec<f64>,
}

impl TimeSeries {
    /// Appends one sample at simulated time `t_ms` (layer and neuron −1 when not specific).
    pub fn push(
        &mut self,
        variant: &str,
        t_ms: f64,
        quantity: &'static str,
        layer: i64,
        neuron: i64,
        value: f64,
    ) {
        self.push_at(X::Time(t_ms), variant, quantity, layer, neuron, value);
    }

    /// Appends one sample at `x` (an epoch, a level, an image index or a time).
    pub fn push_at(
        &mut self,
        x: X,
        variant: &str,
        quantity: &'static str,
        layer: i64,
        neuron: i64,
        value: f64,
    ) {
        self.variant.push(variant.to_string());
        self.t_ms.push(x.value());
        self.axis.push(x.axis());
        self.quantity.push(quantity);
        self.layer.push(layer);
        self.neuron.push(neuron);
        self.value.push(value);
    }

    /// Appends another series.
    pub fn extend(&mut self, other: TimeSeries) {
        self.variant.extend(other.variant);
        self.t_ms.extend(other.t_ms);
        self.axis.extend(other.axis);
        self.quantity.extend(other.quantity);
        self.layer.extend(other.layer);
        self.neuron.extend(other.neuron);
        self.value.extend(other.value);
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.t_ms.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.t_ms.is_empty()
    }

    /// The series as a DataFrame with a leading `seed` column.
    pub fn to_dataframe(&self, seed: u64) -> PolarsResult<DataFrame> {
        let n = self.len();
        df!(
            "seed" => vec![seed; n],
            "variant" => self.variant.clone(),
            "t_ms" => self.t_ms.clone(),
            "axis" => self.axis.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "quantity" => self.quantity.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "layer" => self.layer.clone(),
            "neuron" => self.neuron.clone(),
            "value" => self.value.clone(),
        )
    }
}

/// One cell of a summary row.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// A number.
    Num(f64),
    /// An identifier (seed, run index): a u64 column, exact beyond 2^53.
    Id(u64),
    /// Text.
    Text(String),
}

/// A summary row: column name → value, kept in name order.
pub type SummaryRow = BTreeMap<String, Cell>;

/// Builds a DataFrame from summary rows; a column missing from a row is null there. Columns
/// holding any text are text.
pub fn summary_dataframe(rows: &[SummaryRow]) -> PolarsResult<DataFrame> {
    let mut names: Vec<&String> = rows.iter().flat_map(|r| r.keys()).collect();
    names.sort();
    names.dedup();
    let mut columns = Vec::new();
    for name in names {
        let is_text = rows
            .iter()
            .any(|r| matches!(r.get(name), Some(Cell::Text(_))));
        let is_id = rows
            .iter()
            .all(|r| matches!(r.get(name), Some(Cell::Id(_)) | None));
        let col = if is_text {
            let v: Vec<Option<String>> = rows
                .iter()
                .map(|r| match r.get(name) {
                    Some(Cell::Text(s)) => Some(s.clone()),
                    Some(Cell::Num(x)) => Some(x.to_string()),
                    Some(Cell::Id(x)) => Some(x.to_string()),
                    None => None,
                })
                .collect();
            Column::new(name.as_str().into(), v)
        } else if is_id {
            let v: Vec<Option<u64>> = rows
                .iter()
                .map(|r| match r.get(name) {
                    Some(Cell::Id(x)) => Some(*x),
                    _ => None,
                })
                .collect();
            Column::new(name.as_str().into(), v)
        } else {
            let v: Vec<Option<f64>> = rows
                .iter()
                .map(|r| match r.get(name) {
                    Some(Cell::Num(x)) => Some(*x),
                    Some(Cell::Id(x)) => Some(*x as f64),
                    _ => None,
                })
                .collect();
            Column::new(name.as_str().into(), v)
        };
        columns.push(col);
    }
    DataFrame::new_infer_height(columns)
}

/// Writes a DataFrame to Parquet atomically (a temporary file renamed into place), and to CSV
/// beside it when `csv` is set.
pub fn write_frame(df: &mut DataFrame, path: &Path, csv: bool) -> PolarsResult<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let named = |p: &Path, e: &dyn std::fmt::Display| polars_err!(ComputeError: "writing {}: {e}", p.display());
    // The CSV first: the Parquet file's presence marks a complete result.
    if csv {
        let csv_path = path.with_extension("csv");
        let tmp = lock::temporary(&csv_path);
        File::create(&tmp)
            .map_err(|e| named(&tmp, &e))
            .and_then(|mut f| CsvWriter::new(&mut f).include_header(true).finish(df))
            .map_err(|e| named(&csv_path, &e))?;
        std::fs::rename(&tmp, &csv_path).map_err(|e| named(&csv_path, &e))?;
    }
    let tmp = lock::temporary(path);
    File::create(&tmp)
        .map_err(|e| named(&tmp, &e))
        .and_then(|f| ParquetWriter::new(f).finish(df).map(|_| ()))
        .map_err(|e| named(path, &e))?;
    std::fs::rename(&tmp, path).map_err(|e| named(path, &e))?;
    Ok(())
}

/// Reads a Parquet file.
pub fn read_frame(path: &Path) -> PolarsResult<DataFrame> {
    let file = File::open(path)
        .map_err(|e| polars_err!(ComputeError: "cannot open {}: {e}", path.display()))?;
    // A damaged file can make the Parquet reader panic: that is an error naming the file.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ParquetReader::new(file).finish()
    })) {
        Ok(r) => r.map_err(|e| polars_err!(ComputeError: "reading {}: {e}", path.display())),
        Err(_) => Err(
            polars_err!(ComputeError: "reading {}: not a readable Parquet file (damaged?)", path.display()),
        ),
    }
}
