//! The studies: each a protocol (one file) on the model, a method and the recorders, returning
//! one [`RunOutput`](super::protocol::RunOutput) per seed. `execute` dispatches to them.

pub mod bp_equivalence;
pub mod disinhibition;
pub mod integrators;
pub mod mnist;
pub mod performance;
pub mod stiffness;
pub mod time_stepping;
