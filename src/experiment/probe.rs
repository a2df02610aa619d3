//! Measurements taken from a running network without disturbing it: norms of the apical
//! potentials, the interneuron mismatch, alignment angles, and the network's own (free, σ = 0)
//! steady-state output for a set of inputs.

use ndarray::{Array2, Zip};

use crate::model::{Drive, Network, Projection, State, Workspace};
use crate::solve::{SolveError, SteadyStateConfig};

/// ‖v_A‖ over all hidden layers (and the whole batch), from dendrites already in `ws`.
pub fn apical_norm(net: &Network, ws: &Workspace) -> f64 {
    (1..net.n_layers())
        .map(|k| ws.v_apical[k].iter().map(|v| v * v).sum::<f64>())
        .sum::<f64>()
        .sqrt()
}

/// ‖u^P_{k+1} − u^I_k‖² summed over hidden layers (paper Fig. 1C(i)).
pub fn interneuron_mismatch(net: &Network, state: &State) -> f64 {
    let mut s = 0.0;
    for k in 1..net.n_layers() {
        Zip::from(net.u_int(state, k))
            .and(net.u_pyr(state, k + 1))
            .for_each(|a, b| s += (a - b) * (a - b));
    }
    s
}

pub use crate::analysis::equivalence::angle_deg;

/// Angle between the forward weights W^PP_{k+1,k} and the transposed feedback (W^PP_{k,k+1})^T.
pub fn alignment_angle_deg(net: &Network, state: &State, k: usize) -> f64 {
    let forward = net.weights(state, Projection::Up, k + 1);
    let feedback = net.weights(state, Projection::Down, k);
    angle_deg(&forward, &feedback.t().to_owned())
}

pub use crate::model::copy_parameters;

/// A noise-free twin of a network for a batch of probe inputs: its own network (σ = 0),
/// state and solver, reused across probes.
pub struct FreeProbe {
    net: Network,
    state: State,
    solver: SteadyStateConfig,
    ws: Workspace,
}

impl FreeProbe {
    /// A twin of `net` for `batch` inputs.
    pub fn new(
        net: &Network,
        batch: usize,
        solver: SteadyStateConfig,
    ) -> Result<FreeProbe, SolveError> {
        let mut config = net.config.clone();
        config.noise.sigma = 0.0;
        let twin = Network::new(config, batch)?;
        let state = twin.zero_state();
        let ws = Workspace::new(&twin);
        Ok(FreeProbe {
            net: twin,
            state,
            solver,
            ws,
        })
    }

    /// The settled output potentials u_N (batch × n_N) for `inputs` with no target, weights
    /// copied from (`net`, `state`). Starts from the bottom-up prediction state; falls back to
    /// a damped fixed-point iteration when the configured solver does not converge.
    pub fn output(
        &mut self,
        net: &Network,
        state: &State,
        inputs: &Array2<f64>,
    ) -> Result<Array2<f64>, SolveError> {
        copy_parameters(net, state, &self.net, &mut self.state);
        let drive = Drive::free(inputs.view());
        self.net
            .bottom_up_pass(&mut self.state, &drive, &mut self.ws);
        let start = self.state.clone();
        if self
            .solver
            .build(&self.net)
            .settle(&self.net, &mut self.state, &drive)
            .is_err()
        {
            self.state = start;
            let fallback = SteadyStateConfig::FixedPoint {
                tolerance: 1e-9,
                maximum_iterations: 200_000,
                damping: 0.3,
            };
            fallback
                .build(&self.net)
                .settle(&self.net, &mut self.state, &drive)?;
        }
        Ok(self.net.u_pyr(&self.state, self.net.n_layers()).to_owned())
    }
}
