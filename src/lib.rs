//! # dendritic
//!
//! A simulator of the dendritic error microcircuit of Sacramento, Costa, Bengio & Senn,
//! "Dendritic cortical microcircuits approximate the backpropagation algorithm" (NeurIPS 2018).
//!
//! Data flows one way: a [`experiment::Scenario`] (TOML) defines the [`model::Network`] (the
//! problem), the [`solve`] method, the [`task`] and the protocol; the driver in [`experiment`]
//! runs it and hands what it saw to [`record`] (polars DataFrames, Parquet); [`report`] renders
//! figures and pages from those files alone.

pub mod analysis;
pub mod baseline;
pub mod error;
pub mod experiment;
pub mod learn;
pub mod linalg;
pub mod model;
pub mod record;
pub mod report;
pub mod rng;
pub mod solve;
pub mod task;

// ndarray-linalg links OpenBLAS's LAPACK; make sure every binary (tests, benches) links it.
extern crate ndarray_linalg as _;
