//! What can go wrong while rendering a report.

use polars::prelude::PolarsError;
use thiserror::Error;

use crate::error::Contextual;

/// A report that could not be rendered.
#[derive(Debug, Error)]
pub enum ReportError {
    /// An error and what was being done.
    #[error(transparent)]
    Context(#[from] Contextual),
    /// A results file that polars cannot read, or a column of the wrong type.
    #[error(transparent)]
    Polars(#[from] PolarsError),
    /// A file that cannot be read or written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A figure that plotters cannot draw.
    #[error("drawing {path}: {message}")]
    Draw {
        /// The figure's file.
        path: String,
        /// plotters' message.
        message: String,
    },
    /// Results that lack what the page needs, or a request that cannot be honoured.
    #[error("{0}")]
    Invalid(String),
}

/// A result of the report layer.
pub type ReportResult<T> = Result<T, ReportError>;
