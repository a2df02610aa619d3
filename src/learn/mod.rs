//! Learners: what updates the weights from minibatches, behind one [`Learner`] trait — the
//! paper's two-pass microcircuit ([`TwoPassLearner`]), the full continuous-time learner
//! ([`DynamicsLearner`]), and backprop or feedback alignment on the feed-forward limit
//! ([`BackpropLearner`]). Their settings are the scenario's `[mnist]` table ([`config`]).

pub mod backprop;
pub mod checkpoint;
pub mod config;
pub mod dynamics;
mod learner;
pub mod probes;
pub mod trainer;
pub mod two_pass;

pub use backprop::BackpropLearner;
pub use config::{
    InterneuronRescaling, InterneuronTeaching, LearnerKind, RateNormalization, SettleBy, Training,
};
pub use dynamics::DynamicsLearner;
pub use learner::{LearnError, Learner};
pub use two_pass::{TwoPassLearner, learning_rates};
