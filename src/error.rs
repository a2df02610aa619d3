//! What the library's errors share: an error together with what was being done when it
//! happened ([`Contextual`]), and the [`Context`] extension that attaches it. Each layer has its
//! own `thiserror` enum (`model::ModelError`, `solve::SolveError`, `experiment::ScenarioError`,
//! `experiment::RunError`, `experiment::DriverError`, `learn::LearnError`,
//! `report::ReportError`, `record::lock::LockError`); only the command line uses `anyhow`.

use std::fmt::Display;

/// An error and what was being done: "reading results/x/summary.parquet: …".
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
pub struct Contextual {
    /// What was being done.
    pub context: String,
    /// What went wrong.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// Attaches what was being done to a failed result.
pub trait Context<T> {
    /// With a fixed description.
    ///
    /// # Errors
    /// The error, described.
    fn context(self, context: impl Display) -> Result<T, Contextual>;
    /// With a description made only on failure.
    ///
    /// # Errors
    /// The error, described.
    fn with_context<C: Display>(self, context: impl FnOnce() -> C) -> Result<T, Contextual>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> Context<T> for Result<T, E> {
    fn context(self, context: impl Display) -> Result<T, Contextual> {
        self.map_err(|e| Contextual {
            context: context.to_string(),
            source: Box::new(e),
        })
    }

    fn with_context<C: Display>(self, context: impl FnOnce() -> C) -> Result<T, Contextual> {
        self.map_err(|e| Contextual {
            context: context().to_string(),
            source: Box::new(e),
        })
    }
}
