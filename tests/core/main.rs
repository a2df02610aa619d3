//! Acceptance tests of the core (issue: the dendritic microcircuit as coupled ODEs).
//! One test binary with a module per capability keeps link time down.

mod bad_input;
mod common;
mod convergence;
mod disinhibition;
mod equivalence;
mod mnist_learner;
mod oracles;
mod self_predicting;
mod snapshot;
mod stability;
mod steady_state;
mod stiff;
