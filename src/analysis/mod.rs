//! Quantities computed from states: stability of the potential dynamics, alignment angles.

pub mod equivalence;
pub mod stability;
