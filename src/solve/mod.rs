//! Methods: how the state is advanced. Time steppers (Euler–Maruyama, RK4, exponential Euler,
//! the adaptive Dormand–Prince 5(4) and the stiff Rosenbrock–W method ROS2) share the [`Method`]
//! trait; steady-state solvers of the potentials with weights frozen
//! (the paper's two-pass scheme, damped fixed-point iteration, Newton) share [`SteadyState`].
//! A method owns its scratch buffers and counters; the network is passed in on each call.

mod bdf2;
mod dopri5;
mod euler;
mod exp_euler;
mod implicit;
mod kind;
mod method;
mod relax;
mod rk4;
mod ros2;
mod simulation;
mod steady;

pub use bdf2::Bdf2;
pub use dopri5::{Control, Dopri5};
pub use euler::{Euler, set_run_threads};
pub use exp_euler::ExponentialEuler;
pub use kind::MethodKind;
pub use method::{DIVERGENCE_BOUND, Method, SolveError, Statistics, Tolerances, check_divergence};
pub use relax::Relax;
pub use rk4::Rk4;
pub use ros2::{GAMMA as ROS2_GAMMA, Ros2};
pub use simulation::{Moment, Observer, Simulation, Stop};
pub use steady::{FixedPoint, Newton, Settled, SteadyState, SteadyStateConfig, TwoPass};
