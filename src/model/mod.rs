//! The problem: the dendritic microcircuit's equations (paper-spec §1–4). Nothing here advances
//! time; the methods in [`crate::solve`] do.

pub mod deferred;
pub mod dynamics;
pub mod error;
pub mod init;
pub mod jacobian;
pub mod layout;
pub mod network;
pub mod params;
pub mod reconstruction;
pub mod transfer;

pub use deferred::Deferred;
pub use dynamics::Workspace;
pub use error::ModelError;
pub use init::{Initialisation, TopDown};
pub use layout::{Block, Layout, Projection, Segment, Synapses};
pub use network::{Drive, Network, State, copy_parameters};
pub use params::{Conductances, NetworkConfig, Noise, NoiseConvention, Nudging, Plasticity};
pub use reconstruction::Reconstruction;
pub use transfer::Transfer;
