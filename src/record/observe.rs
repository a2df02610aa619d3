//! Recorders for [`crate::solve::Simulation`]: observers that write named quantities of the
//! state into a [`TimeSeries`] at their cadence, each sample with its time and, when it belongs
//! to one, its layer and neuron.

use std::ops::ControlFlow;

use super::TimeSeries;
use crate::solve::{Moment, Observer};

/// One recorded quantity at one moment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Its name (the `quantity` column).
    pub quantity: &'static str,
    /// The layer it belongs to, if any.
    pub layer: Option<usize>,
    /// The neuron it belongs to, if any.
    pub neuron: Option<usize>,
    /// Its value.
    pub value: f64,
}

impl Sample {
    /// A quantity of the whole network.
    pub fn global(quantity: &'static str, value: f64) -> Sample {
        Sample {
            quantity,
            layer: None,
            neuron: None,
            value,
        }
    }
}

/// Records what `measure` returns every `every` steps, at the simulation's time.
///
/// ```
/// use dendritic::record::TimeSeries;
/// use dendritic::record::observe::{Recorder, Sample};
/// use dendritic::{Drive, MethodKind, Network, NetworkConfig, Simulation};
///
/// let net = Network::new(NetworkConfig::new(&[2, 3, 1]), 1).unwrap();
/// let state = net.zero_state();
/// let method = MethodKind::Euler.build(&net, 0).unwrap();
/// let mut sim = Simulation::new(net, state, method, 0.1).unwrap();
/// let input = ndarray::Array2::from_elem((1, 2), 0.5);
/// let mut series = TimeSeries::default();
/// let mut output = Recorder::new(&mut series, "", 10, |at| {
///     vec![Sample::global("output_u", at.state.y[0])]
/// });
/// sim.run(100, &Drive::free(input.view()), &mut [&mut output]).unwrap();
/// // Every 10th of 100 steps: 10 samples, at t = 1, 2, …, 10 ms.
/// let df = series.to_dataframe(1).unwrap();
/// assert_eq!(df.height(), 10);
/// ```
pub struct Recorder<'s, F> {
    series: &'s mut TimeSeries,
    variant: &'static str,
    every: u64,
    measure: F,
}

impl<'s, F: FnMut(&Moment<'_, '_>) -> Vec<Sample>> Recorder<'s, F> {
    /// A recorder into `series` (rows labelled `variant`) every `every` steps (at least 1).
    pub fn new(series: &'s mut TimeSeries, variant: &'static str, every: u64, measure: F) -> Self {
        Recorder {
            series,
            variant,
            every: every.max(1),
            measure,
        }
    }
}

impl<F: FnMut(&Moment<'_, '_>) -> Vec<Sample>> Observer for Recorder<'_, F> {
    fn every(&self) -> u64 {
        self.every
    }

    fn observe(&mut self, at: Moment<'_, '_>) -> ControlFlow<()> {
        let index = |i: Option<usize>| i.map_or(-1, |i| i as i64);
        for s in (self.measure)(&at) {
            self.series.push(
                self.variant,
                at.t,
                s.quantity,
                index(s.layer),
                index(s.neuron),
                s.value,
            );
        }
        ControlFlow::Continue(())
    }
}
