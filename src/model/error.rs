//! Errors of the model: bad parameters and inconsistent shapes.

use thiserror::Error;

/// What can be wrong with a network definition or with the arrays handed to it.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ModelError {
    /// A parameter has an impossible value.
    #[error("invalid parameter `{key}`: {message}")]
    InvalidParameter {
        /// The key, as spelled in a scenario file.
        key: String,
        /// What is wrong and what was expected.
        message: String,
    },
    /// An array does not have the shape the network needs.
    #[error("shape mismatch for {what}: expected {expected:?}, found {found:?}")]
    ShapeMismatch {
        /// Which array.
        what: String,
        /// The shape the network needs.
        expected: Vec<usize>,
        /// The shape it got.
        found: Vec<usize>,
    },
}
