//! What can go wrong while running scenarios and sweeps (beyond a single run's [`RunError`]).

use polars::prelude::PolarsError;
use thiserror::Error;

use super::protocol::RunError;
use super::scenario::ScenarioError;
use crate::error::Contextual;
use crate::record::lock::LockError;

/// A scenario or sweep that could not be run, merged or written.
#[derive(Debug, Error)]
pub enum DriverError {
    /// An error and what was being done.
    #[error(transparent)]
    Context(#[from] Contextual),
    /// A scenario file that cannot be read or is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A run that failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// Another process holds the results.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// A results file that polars cannot read or write.
    #[error(transparent)]
    Polars(#[from] PolarsError),
    /// A file that cannot be read or written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A request that cannot be honoured (memory, threads, an incomplete sweep, …).
    #[error("{0}")]
    Invalid(String),
}

/// A result of the driver layer.
pub type DriverResult<T> = Result<T, DriverError>;
