//! The time loop on the integer grid t = n·dt: a network, its state, a [`Method`] and the step
//! counter, driven for a number of steps under one drive while observers look at the state at
//! their cadence. Every study that integrates in simulated time goes through it, so t is
//! always n·dt (never a sum of dt's) and every run counts its steps the same way.
//!
//! An adaptive method with dense output (Dopri5) is driven the same way: each call
//! `step(t, dt)` advances its own internal solution past t + dt and interpolates there, so the
//! observers still see the output grid.
//!
//! ```
//! use dendritic::model::{Drive, Network, NetworkConfig};
//! use dendritic::solve::{MethodKind, Simulation, Stop};
//! use ndarray::Array2;
//!
//! let net = Network::new(NetworkConfig::new(&[3, 4, 2]), 1).unwrap();
//! let state = net.zero_state();
//! let method = MethodKind::Rk4.build(&net, 0).unwrap();
//! let mut sim = Simulation::new(net, state, method, 0.1).unwrap();
//! let input = Array2::from_elem((1, 3), 0.5);
//! let drive = Drive::free(input.view());
//! // 100 steps of 0.1 ms, watching nothing: the clock stands at exactly 10 ms.
//! assert_eq!(sim.run(100, &drive, &mut []).unwrap(), Stop::Reached);
//! assert_eq!(sim.t(), 10.0);
//! assert_eq!(sim.statistics().steps, 100);
//! ```

use std::borrow::{Borrow, BorrowMut};
use std::ops::ControlFlow;

use super::method::{Method, SolveError, Statistics};
use crate::model::{Drive, Network, State};

/// Why [`Simulation::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Every requested step was taken.
    Reached,
    /// An observer asked to stop (at the step it saw).
    Observer,
}

/// What an observer sees after a step.
#[derive(Clone, Copy)]
pub struct Moment<'a, 'd> {
    /// Steps taken since t = 0.
    pub n: u64,
    /// n·dt, ms.
    pub t: f64,
    /// The network.
    pub net: &'a Network,
    /// Its state after step n.
    pub state: &'a State,
    /// The drive of that step.
    pub drive: &'a Drive<'d>,
}

/// Something that looks at the simulation every `every()` steps (after the step whose count is
/// a multiple of it) and may ask it to stop. Recorders of time series and online statistics
/// are observers.
pub trait Observer {
    /// The cadence in steps (≥ 1; 1 = after every step).
    fn every(&self) -> u64 {
        1
    }

    /// Sees the state after a step; `Break` stops the run.
    fn observe(&mut self, at: Moment<'_, '_>) -> ControlFlow<()>;
}

/// A closure observing after every step.
impl<F: FnMut(Moment<'_, '_>) -> ControlFlow<()>> Observer for F {
    fn observe(&mut self, at: Moment<'_, '_>) -> ControlFlow<()> {
        self(at)
    }
}

/// A network being integrated: its state, its method, and the step counter n (t = n·dt).
///
/// It owns the network, the state and the method (`Simulation::new(net, state, method, dt)`)
/// or borrows them (`Simulation::new(&net, &mut state, &mut *method, dt)`, for a study that
/// integrates one network from many starts, or reuses one method).
pub struct Simulation<
    N: Borrow<Network> = Network,
    S: BorrowMut<State> = State,
    M: BorrowMut<dyn Method> = Box<dyn Method>,
> {
    net: N,
    state: S,
    method: M,
    n: u64,
    dt: f64,
}

impl<N: Borrow<Network>, S: BorrowMut<State>, M: BorrowMut<dyn Method>> Simulation<N, S, M> {
    /// A simulation at t = 0 with step `dt` (ms).
    ///
    /// # Errors
    /// [`SolveError::InvalidStep`] when dt is not a positive finite number.
    pub fn new(net: N, state: S, method: M, dt: f64) -> Result<Simulation<N, S, M>, SolveError> {
        super::method::check_dt(dt)?;
        Ok(Simulation {
            net,
            state,
            method,
            n: 0,
            dt,
        })
    }

    /// The same simulation with its clock at step `n` (t = n·dt): a run that goes on from where
    /// an earlier one stopped (a learner presenting one minibatch after another).
    #[must_use]
    pub fn starting_at(mut self, n: u64) -> Self {
        self.n = n;
        self
    }

    /// The method, to change between runs (e.g. `Euler::set_learning`).
    pub fn method_mut(&mut self) -> &mut M {
        &mut self.method
    }

    /// Simulated time, n·dt ms.
    pub fn t(&self) -> f64 {
        self.n as f64 * self.dt
    }

    /// Steps taken.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// The step, ms.
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// The network.
    pub fn net(&self) -> &Network {
        self.net.borrow()
    }

    /// The state.
    pub fn state(&self) -> &State {
        self.state.borrow()
    }

    /// The state, to change between runs (a reset, weights loaded from a file).
    pub fn state_mut(&mut self) -> &mut State {
        self.state.borrow_mut()
    }

    /// The method's counters.
    pub fn statistics(&self) -> Statistics {
        self.method.borrow().statistics()
    }

    /// The network and its state.
    pub fn into_parts(self) -> (N, S) {
        (self.net, self.state)
    }

    /// Sets the potentials to the bottom-up pass of `drive` (the model's `bottom_up_pass`),
    /// as a start for a run; the clock does not move.
    pub fn bottom_up_pass(&mut self, drive: &Drive, ws: &mut crate::model::Workspace) {
        self.net
            .borrow()
            .bottom_up_pass(self.state.borrow_mut(), drive, ws);
    }

    /// One step of dt under `drive`, from t = n·dt.
    ///
    /// # Errors
    /// The method's: divergence (naming time and layer), a failed Newton iteration, …
    pub fn step(&mut self, drive: &Drive) -> Result<(), SolveError> {
        let t = self.t();
        self.method.borrow_mut().step(
            self.net.borrow(),
            self.state.borrow_mut(),
            drive,
            t,
            self.dt,
        )?;
        self.n += 1;
        Ok(())
    }

    /// `steps` steps under `drive`; after each, every observer whose cadence divides the step
    /// count (counted from t = 0, not from this call) sees the state.
    ///
    /// # Errors
    /// As [`Simulation::step`]; the steps before the failure stay taken.
    pub fn run(
        &mut self,
        steps: u64,
        drive: &Drive,
        observers: &mut [&mut dyn Observer],
    ) -> Result<Stop, SolveError> {
        for _ in 0..steps {
            self.step(drive)?;
            let mut stop = false;
            for o in observers.iter_mut() {
                let at = Moment {
                    n: self.n,
                    t: self.t(),
                    net: self.net.borrow(),
                    state: self.state.borrow(),
                    drive,
                };
                if self.n.is_multiple_of(o.every().max(1)) && o.observe(at).is_break() {
                    stop = true;
                }
            }
            if stop {
                return Ok(Stop::Observer);
            }
        }
        Ok(Stop::Reached)
    }
}
