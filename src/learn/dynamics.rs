//! The full continuous-time learner: the microcircuit's ODE with plasticity on while each
//! minibatch is presented (the fused forward Euler step).

use std::collections::BTreeMap;

use ndarray::Array2;

use super::checkpoint::{restore_state, state_arrays};
use super::config::Training;
use super::learner::{LearnError, Learner, num};
use super::two_pass::{TwoPassLearner, learning_rates};
use crate::model::{Drive, Network, Projection};
use crate::record::npz::{NpyArray, NpyData};
use crate::record::{SummaryRow, TimeSeries};
use crate::solve::{Euler, Simulation};

/// The full continuous-time learner (issue 17): the microcircuit's ODE with plasticity on
/// while each minibatch is presented, integrated by the fused forward Euler at `dt`. Each
/// presentation holds the weights for `settle_steps` steps (the potentials leave the last
/// image's state), then learns for `learn_steps` steps; the rates per ms are the two-pass
/// learner's η (rescaled the same way) divided by the learning time, so that a settled
/// presentation changes the weights as one two-pass update does. Potentials carry over from
/// one minibatch to the next. Evaluation, probes and checks are those of the inner two-pass
/// learner, on the same state.
pub struct DynamicsLearner {
    inner: TwoPassLearner,
    net: Network,
    euler: Euler,
    dt: f64,
    settle_steps: usize,
    learn_steps: usize,
    /// Steps taken (simulated time = steps · dt).
    steps: u64,
}

impl DynamicsLearner {
    pub fn new(
        inner: TwoPassLearner,
        training: &Training,
        dt: f64,
        seed: u64,
    ) -> Result<Self, LearnError> {
        let two_pass = &inner.net;
        let eta = learning_rates(two_pass, training);
        let mut config = two_pass.config.clone();
        let p = &mut config.plasticity;
        p.tau_w = 0.0;
        p.eta_scale = 1.0;
        p.clip = None;
        let n = two_pass.n_layers();
        p.eta_up = vec![0.0; n];
        p.eta_down = vec![0.0; n - 1];
        p.eta_ip = vec![0.0; n - 1];
        p.eta_pi = vec![0.0; n - 1];
        let settle_steps = (training.settle_ms / dt).round() as usize;
        let learn_steps = (training.learn_ms / dt).round() as usize;
        let per_ms = 1.0 / (learn_steps as f64 * dt);
        for (syn, &e) in two_pass.layout.synapses.iter().zip(&eta) {
            let k = syn.layer;
            let slot = match syn.projection {
                Projection::Up => &mut p.eta_up[k - 1],
                Projection::Down => &mut p.eta_down[k - 1],
                Projection::Ip => &mut p.eta_ip[k - 1],
                Projection::Pi => &mut p.eta_pi[k - 1],
            };
            *slot = e * per_ms;
        }
        let net = Network::new(config, two_pass.batch())?;
        // The same groups are plastic, so the state has the same layout.
        let same = net
            .layout
            .synapses
            .iter()
            .zip(&two_pass.layout.synapses)
            .all(|(a, b)| a.w == b.w && a.bias == b.bias)
            && net.layout.n_dynamic == two_pass.layout.n_dynamic;
        if !same {
            return Err(LearnError::Settings(
                "the dynamics learner needs the two-pass learner's plastic groups to have non-zero rates (and no τ_w traces)".into(),
            ));
        }
        Ok(DynamicsLearner {
            euler: Euler::new(&net, seed),
            inner,
            net,
            dt,
            settle_steps,
            learn_steps,
            steps: 0,
        })
    }
}

impl Learner for DynamicsLearner {
    fn step(&mut self, x: &Array2<f64>, target: &Array2<f64>) -> Result<(), LearnError> {
        let drive = Drive::nudged(x.view(), target.view());
        let state = &mut self.inner.state;
        let mut sim =
            Simulation::new(&self.net, state, &mut self.euler, self.dt)?.starting_at(self.steps);
        for (n, learning) in [(self.settle_steps, 0.0), (self.learn_steps, 1.0)] {
            sim.method_mut().set_learning(learning);
            sim.run(n as u64, &drive, &mut [])?;
        }
        self.steps = sim.n();
        Ok(())
    }

    fn error_percent(&mut self, images: &Array2<f64>, labels: &[u8]) -> f64 {
        self.inner.error_percent(images, labels)
    }

    fn check(&mut self, epoch: f64) -> Result<(), LearnError> {
        self.inner.check(epoch)
    }

    fn report(&self, summary: &mut SummaryRow) {
        num(summary, "dynamics_steps", self.steps as f64);
        num(
            summary,
            "dynamics_simulated_s",
            self.steps as f64 * self.dt / 1000.0,
        );
        num(summary, "dynamics_dt_ms", self.dt);
        num(summary, "dynamics_settle_steps", self.settle_steps as f64);
        num(summary, "dynamics_learn_steps", self.learn_steps as f64);
    }

    fn scale_rates(&mut self, factor: f64) {
        for syn in &mut self.net.layout.synapses {
            syn.eta *= factor;
        }
    }

    fn probe(
        &mut self,
        name: &str,
        epoch: f64,
        series: &mut TimeSeries,
        probe_set: Option<(&Array2<f64>, &Array2<f64>)>,
    ) {
        self.inner.probe(name, epoch, series, probe_set);
    }

    /// As the two-pass learner's, plus the learning rates (they decay per epoch) and the
    /// step count.
    fn checkpoint(&mut self) -> Option<BTreeMap<String, NpyArray>> {
        let mut out = state_arrays(&self.net, &self.inner.state);
        let eta: Vec<f64> = self.net.layout.synapses.iter().map(|s| s.eta).collect();
        out.insert(
            "eta_per_ms".into(),
            NpyArray {
                shape: vec![eta.len()],
                data: NpyData::F64(eta),
            },
        );
        out.insert(
            "steps".into(),
            NpyArray {
                shape: vec![1],
                data: NpyData::U64(vec![self.steps]),
            },
        );
        Some(out)
    }

    fn restore(&mut self, arrays: &BTreeMap<String, NpyArray>) -> Result<(), LearnError> {
        restore_state(&mut self.inner.state, arrays)?;
        match arrays.get("eta_per_ms").map(|a| &a.data) {
            Some(NpyData::F64(eta)) if eta.len() == self.net.layout.synapses.len() => {
                for (syn, &e) in self.net.layout.synapses.iter_mut().zip(eta) {
                    syn.eta = e;
                }
            }
            _ => {
                return Err(LearnError::Checkpoint(
                    "checkpoint has no 'eta_per_ms' of the right length".to_string(),
                ));
            }
        }
        if let Some(NpyData::U64(s)) = arrays.get("steps").map(|a| &a.data) {
            self.steps = s.first().copied().unwrap_or(0);
        }
        Ok(())
    }
}
