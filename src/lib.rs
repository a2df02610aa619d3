//! # dendritic
//!
//! A simulator of the dendritic error microcircuit of Sacramento, Costa, Bengio & Senn,
//! "Dendritic cortical microcircuits approximate the backpropagation algorithm" (NeurIPS 2018).
//!
//! Data flows one way: a [`experiment::Scenario`] (TOML) defines the [`model::Network`] (the
//! problem), the [`solve`] method, the [`task`] and the protocol; the driver in [`experiment`]
//! runs it and hands what it saw to [`record`] (polars DataFrames, Parquet); [`report`] renders
//! figures and pages from those files alone.
//!
//! The user-facing types are re-exported here. From a network to a result in a few lines:
//!
//! ```
//! use dendritic::{Drive, MethodKind, Network, NetworkConfig, Simulation};
//!
//! let net = Network::new(NetworkConfig::new(&[4, 3, 2]), 1).unwrap();
//! let state = net.zero_state();
//! let method = MethodKind::Rk4.build(&net, 0).unwrap();
//! let mut sim = Simulation::new(net, state, method, 0.05).unwrap();
//! let input = ndarray::Array2::from_elem((1, 4), 0.5);
//! sim.run(200, &Drive::free(input.view()), &mut []).unwrap();
//! assert_eq!(sim.t(), 10.0);
//! ```
//!
//! The examples (`cargo run --example …`): `compare_methods` (a network of your own across
//! every time stepper, into a polars DataFrame), `mnist_learner` (a learner loop on IDX data),
//! `sweep` (a parameter sweep from Rust).

pub mod analysis;
pub mod baseline;
pub mod error;
pub mod experiment;
pub mod learn;
pub mod libm_exp;
pub mod linalg;
pub mod model;
pub mod record;
pub mod report;
pub mod rng;
pub mod solve;
pub mod task;

pub use experiment::{Scenario, StudyConfig, run_one, run_scenario};
pub use learn::{BackpropLearner, DynamicsLearner, Learner, TwoPassLearner};
pub use model::{Drive, Initialisation, Network, NetworkConfig, State};
pub use solve::{Method, MethodKind, Observer, Simulation, SteadyState, SteadyStateConfig, Stop};

// ndarray-linalg links OpenBLAS's LAPACK; make sure every binary (tests, benches) links it.
extern crate ndarray_linalg as _;
