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
    /// The sample sd of our value over seeds, when it is a mean over seeds.
    pub sd: Option<f64>,
    /// The spread the paper states for its value (± half-width), when it states one.
    pub paper_spread: Option<f64>,
}

/// How a headline number compares with the paper's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// |ours − paper| ≤ max(2 sd over our seeds, the paper's stated spread).
    Reproduced,
    /// Further apart than that.
    Differs,
    /// The paper has no number for it.
    NoPaper,
}

impl Status {
    /// The word in summary.csv and on the pages.
    pub fn name(self) -> &'static str {
        match self {
            Status::Reproduced => "reproduced",
            Status::Differs => "differs",
            Status::NoPaper => "no paper number",
        }
    }
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
            sd: None,
            paper_spread: None,
        }
    }
    /// The same metric with the sample sd over seeds of its value.
    pub fn sd(mut self, sd: f64) -> Metric {
        self.sd = sd.is_finite().then_some(sd);
        self
    }
    /// The same metric with the paper's stated spread.
    pub fn paper_spread(mut self, spread: f64) -> Metric {
        self.paper_spread = Some(spread);
        self
    }
    /// Whether it reproduces the paper: |ours − paper| ≤ max(2 sd, the paper's spread).
    pub fn status(&self) -> Status {
        let Some(paper) = self.paper else {
            return Status::NoPaper;
        };
        let tolerance = (2.0 * self.sd.unwrap_or(0.0)).max(self.paper_spread.unwrap_or(0.0));
        if (self.value - paper).abs() <= tolerance {
            Status::Reproduced
        } else {
            Status::Differs
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
    /// The paper's figure this page reproduces, laid out panel by panel (its charts are
    /// shown there, labelled with the paper's panels; the other charts follow).
    pub figure: Option<PaperFigure>,
}

/// One of the paper's figures, laid out as the paper does: rows of panels, each a chart of
/// the page under the paper's panel label. Schematic panels (no data) are named in
/// `caption`, not drawn: we show no copy of the paper's images.
pub struct PaperFigure {
    /// The paper's figure, e.g. "Fig. 1".
    pub figure: &'static str,
    /// What the paper's figure shows, which panels are ours, which are not reproduced.
    pub caption: String,
    /// Rows of panels: (the paper's panel label, e.g. "B(i)", the chart's stem).
    pub rows: Vec<Vec<(&'static str, String)>>,
}

impl PaperFigure {
    /// The stems the layout shows.
    pub fn stems(&self) -> impl Iterator<Item = &str> {
        self.rows.iter().flatten().map(|(_, s)| s.as_str())
    }
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

#[cfg(test)]
impl<'a> Inputs<'a> {
    /// A page's inputs with a summary only: `empty` (an empty frame) stands for the time
    /// series, and there is no table, speed-up or results directory.
    pub(crate) fn summary_only(
        scenario: &'a Scenario,
        summary: &'a DataFrame,
        empty: &'a DataFrame,
    ) -> Self {
        Inputs {
            scenario,
            summary,
            timeseries: empty,
            table: None,
            speedup: None,
            results: None,
        }
    }
}
