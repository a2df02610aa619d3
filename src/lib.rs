//! # dendritic
//!
//! A simulator of the dendritic error microcircuit of Sacramento, Costa, Bengio & Senn,
//! "Dendritic cortical microcircuits approximate the backpropagation algorithm" (NeurIPS 2018).
//!
//! The network is a set of coupled ODEs ([`model`]), advanced by interchangeable methods
//! ([`solve`]); [`analysis`] holds what is computed from a state (stability, alignment).

pub mod analysis;
pub mod model;
pub mod rng;
pub mod solve;

// ndarray-linalg links OpenBLAS's LAPACK; make sure every binary (tests, benches) links it.
extern crate ndarray_linalg as _;
