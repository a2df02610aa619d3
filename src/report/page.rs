//! What a study's page is made of, and what it reads.

use std::path::Path;

use polars::prelude::DataFrame;

use super::plot::{self, Chart};
use crate::experiment::scenario::Scenario;

/// A headline number, with the paper's value where it has one.
#[derive(Clone, Debug)]
pub struct Metric {
    /// Stable name (part of the summary.csv contract).
    pub name: String,
    /// Our value.
    pub value: f64,
    /// The paper's value, if it reports one.
    pub paper: Option<f64>,
    /// Unit ("" for ratios).
    pub unit: String,
    /// How it is measured, for the page.
    pub note: String,
}

impl Metric {
    /// A metric without a paper value.
    pub fn new(name: &str, value: f64, unit: &str, note: &str) -> Metric {
        Metric {
            name: name.into(),
            value,
            paper: None,
            unit: unit.into(),
            note: note.into(),
        }
    }
    /// The same metric with the paper's value.
    pub fn paper(mut self, v: f64) -> Metric {
        self.paper = Some(v);
        self
    }
}

/// What a study's report contributes to its page.
pub struct Page {
    /// Headline numbers.
    pub metrics: Vec<Metric>,
    /// Figures, rendered into the page directory.
    pub charts: Vec<Chart>,
    /// Free HTML paragraphs (what is shown, how to read it).
    pub notes: Vec<String>,
    /// An HTML table of detailed numbers, if any.
    pub table: Option<String>,
    /// Heatmaps, rendered after the charts.
    pub heatmaps: Vec<plot::Heatmap>,
    /// Image grids (PNG), shown after the charts.
    pub images: Vec<plot::ImageGrid>,
}

/// Everything a study report reads.
pub struct Inputs<'a> {
    /// The scenario as run.
    pub scenario: &'a Scenario,
    /// One row per seed.
    pub summary: &'a DataFrame,
    /// The long time series.
    pub timeseries: &'a DataFrame,
    /// Study-specific measurements (table.parquet), when the study writes them.
    pub table: Option<&'a DataFrame>,
    /// speedup.csv of a sweep (`threads,runs,wall_s`), when measured.
    pub speedup: Option<&'a str>,
    /// The scenario's results directory (results/<name>), for pages that quote a sibling
    /// study's numbers (mnist_dynamics quotes the NumPy epoch of results/performance).
    pub results: Option<&'a Path>,
}
