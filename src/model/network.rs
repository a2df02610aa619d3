//! The network: a validated configuration, its state layout, and the state and drive types.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use super::error::ModelError;
use super::layout::{Block, Layout, Projection, Segment};
use super::params::{NetworkConfig, Nudging};

/// The microcircuit of paper-spec §1–3 for a fixed batch size: the problem, in ODE terms.
/// It computes derivatives from a snapshot of the state and never advances time.
#[derive(Clone, Debug)]
pub struct Network {
    /// The equations' parameters.
    pub config: NetworkConfig,
    /// Where each quantity lives in the state.
    pub layout: Layout,
    /// The order in which layers are visited when derivatives are computed. Irrelevant to the
    /// result by construction (every derivative is computed from one snapshot); settable so
    /// that tests can show it.
    pub(crate) visit_order: Vec<usize>,
}

/// The integrated state `y` and the frozen parameters `p` (see [`Layout`]).
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    /// Potentials, input low-pass, plastic weights and traces.
    pub y: Vec<f64>,
    /// Frozen weights and biases.
    pub p: Vec<f64>,
}

impl State {
    /// A read-only view of a block.
    pub fn view(&self, block: &Block) -> ArrayView2<'_, f64> {
        match block.segment {
            Segment::Dynamic => block.view(&self.y),
            Segment::Frozen => block.view(&self.p),
        }
    }
    /// A mutable view of a block.
    pub fn view_mut(&mut self, block: &Block) -> ArrayViewMut2<'_, f64> {
        match block.segment {
            Segment::Dynamic => block.view_mut(&mut self.y),
            Segment::Frozen => block.view_mut(&mut self.p),
        }
    }
}

/// What the outside world imposes during a step: input rates and, optionally, output targets.
#[derive(Clone, Copy, Debug)]
pub struct Drive<'a> {
    /// r_0, batch × n_0 (before the τ_in low-pass when one is configured).
    pub input: ArrayView2<'a, f64>,
    /// u^trgt_N, batch × n_N; `None` switches the output nudging off (paper-spec §2.3).
    pub target: Option<ArrayView2<'a, f64>>,
    /// The disinhibition gate of each hidden layer (Eq. 4's factor on the interneuron term),
    /// imposed from outside like the input; `None`: the network's `gate` (1 unless set).
    pub gate: Option<&'a [f64]>,
}

impl<'a> Drive<'a> {
    /// Input only, no target.
    pub fn free(input: ArrayView2<'a, f64>) -> Self {
        Drive {
            input,
            target: None,
            gate: None,
        }
    }
    /// Input and target.
    pub fn nudged(input: ArrayView2<'a, f64>, target: ArrayView2<'a, f64>) -> Self {
        Drive {
            input,
            target: Some(target),
            gate: None,
        }
    }

    /// The same drive with the hidden layers' disinhibition gates set (one per hidden layer).
    pub fn gated(self, gate: &'a [f64]) -> Self {
        Drive {
            gate: Some(gate),
            ..self
        }
    }

    /// The gate of hidden layer k: the drive's, else the network's.
    pub fn gate(&self, config: &super::params::NetworkConfig, k: usize) -> f64 {
        match self.gate {
            Some(g) => g.get(k - 1).copied().unwrap_or(1.0),
            None => config.gate(k),
        }
    }
}

/// The somatic nudging current i = g_som (trg − u) or its conductance-based form, and its
/// partial derivatives ∂i/∂u, ∂i/∂trg (paper-spec §2.3–2.4).
#[inline]
pub(crate) fn nudge(nudging: Nudging, g_som: f64, trg: f64, u: f64) -> (f64, f64, f64) {
    match nudging {
        Nudging::Current => (g_som * (trg - u), -g_som, g_som),
        Nudging::Conductance { e_exc, e_inh } => {
            let de = e_exc - e_inh;
            let ge_raw = g_som * (trg - e_inh) / de;
            let gi_raw = -g_som * (trg - e_exc) / de;
            let (ge, dge) = if ge_raw > 0.0 {
                (ge_raw, g_som / de)
            } else {
                (0.0, 0.0)
            };
            let (gi, dgi) = if gi_raw > 0.0 {
                (gi_raw, -g_som / de)
            } else {
                (0.0, 0.0)
            };
            let i = ge * (e_exc - u) + gi * (e_inh - u);
            (i, -(ge + gi), dge * (e_exc - u) + dgi * (e_inh - u))
        }
    }
}

impl Network {
    /// Validates the configuration and lays out the state for `batch` samples.
    ///
    /// # Errors
    /// [`ModelError::InvalidParameter`] naming the bad key, or a zero batch.
    pub fn new(config: NetworkConfig, batch: usize) -> Result<Network, ModelError> {
        config.validate()?;
        if batch == 0 {
            return Err(ModelError::InvalidParameter {
                key: "batch".into(),
                message: "must be ≥ 1".into(),
            });
        }
        let layout = Layout::new(&config, batch);
        let visit_order = (1..=layout.n_layers()).collect();
        Ok(Network {
            config,
            layout,
            visit_order,
        })
    }

    /// The same network with another layer visiting order (a permutation of 1..=N).
    ///
    /// # Errors
    /// When `order` is not a permutation of 1..=N.
    pub fn with_visit_order(mut self, order: &[usize]) -> Result<Network, ModelError> {
        let mut sorted = order.to_vec();
        sorted.sort_unstable();
        if sorted != (1..=self.n_layers()).collect::<Vec<_>>() {
            return Err(ModelError::InvalidParameter {
                key: "visit_order".into(),
                message: format!(
                    "must be a permutation of 1..={}, got {order:?}",
                    self.n_layers()
                ),
            });
        }
        self.visit_order = order.to_vec();
        Ok(self)
    }

    /// N, the index of the output layer.
    pub fn n_layers(&self) -> usize {
        self.layout.n_layers()
    }

    /// Batch size.
    pub fn batch(&self) -> usize {
        self.layout.batch
    }

    /// A state of zeros (all potentials at rest, all weights 0).
    pub fn zero_state(&self) -> State {
        State {
            y: vec![0.0; self.layout.n_dynamic],
            p: vec![0.0; self.layout.n_frozen],
        }
    }

    /// Checks that a drive has the shapes this network needs.
    ///
    /// # Errors
    /// [`ModelError::ShapeMismatch`] naming input or target.
    pub fn check_drive(&self, drive: &Drive) -> Result<(), ModelError> {
        let want_in = [self.batch(), self.layout.sizes[0]];
        if drive.input.shape() != want_in {
            return Err(ModelError::ShapeMismatch {
                what: "input (batch × n_0)".into(),
                expected: want_in.to_vec(),
                found: drive.input.shape().to_vec(),
            });
        }
        if let Some(t) = drive.target {
            let want = [self.batch(), self.layout.sizes[self.n_layers()]];
            if t.shape() != want {
                return Err(ModelError::ShapeMismatch {
                    what: "target (batch × n_N)".into(),
                    expected: want.to_vec(),
                    found: t.shape().to_vec(),
                });
            }
        }
        Ok(())
    }

    /// Checks that a state was made for this network.
    ///
    /// # Errors
    /// [`ModelError::ShapeMismatch`] when the vectors have the wrong lengths.
    pub fn check_state(&self, state: &State) -> Result<(), ModelError> {
        for (what, got, want) in [
            ("state.y", state.y.len(), self.layout.n_dynamic),
            ("state.p", state.p.len(), self.layout.n_frozen),
        ] {
            if got != want {
                return Err(ModelError::ShapeMismatch {
                    what: what.into(),
                    expected: vec![want],
                    found: vec![got],
                });
            }
        }
        Ok(())
    }

    /// The block of a weight matrix.
    pub fn w(&self, projection: Projection, k: usize) -> Block {
        self.layout.synapses(projection, k).w
    }

    /// Copies a matrix into the weights of a projection.
    ///
    /// # Errors
    /// [`ModelError::ShapeMismatch`] when `w` has the wrong shape.
    pub fn set_weights(
        &self,
        state: &mut State,
        projection: Projection,
        k: usize,
        w: ArrayView2<f64>,
    ) -> Result<(), ModelError> {
        let blk = self.w(projection, k);
        if w.shape() != [blk.rows, blk.cols] {
            return Err(ModelError::ShapeMismatch {
                what: format!("{} of layer {k}", projection.name()),
                expected: vec![blk.rows, blk.cols],
                found: w.shape().to_vec(),
            });
        }
        state.view_mut(&blk).assign(&w);
        Ok(())
    }

    /// A copy of the weights of a projection.
    pub fn weights(&self, state: &State, projection: Projection, k: usize) -> Array2<f64> {
        state.view(&self.w(projection, k)).to_owned()
    }

    /// u^P_k as a batch × n_k view.
    pub fn u_pyr<'a>(&self, state: &'a State, k: usize) -> ArrayView2<'a, f64> {
        self.layout.u_pyr[k].view(&state.y)
    }

    /// u^I_k as a batch × n_{k+1} view.
    pub fn u_int<'a>(&self, state: &'a State, k: usize) -> ArrayView2<'a, f64> {
        self.layout.u_int[k].view(&state.y)
    }

    /// Total somatic conductance of each potential, the decay rate a of du/dt = −a u + b
    /// (the dynamics are linear in each cell's own potential), for exponential Euler and the
    /// fixed-point solver. Also 1/τ_in for the input filter, 1/τ_w for traces, 0 for weights.
    pub fn decay_rates(&self, state: &State, drive: &Drive, rates: &mut [f64]) {
        let c = &self.config.conductances;
        let n = self.n_layers();
        let l = &self.layout;
        rates.fill(0.0);
        for k in 1..n {
            rates[l.u_pyr[k].range()].fill(c.g_lk + c.g_b + c.g_a);
        }
        let out = l.u_pyr[n];
        match drive.target {
            None => rates[out.range()].fill(c.g_lk + c.g_b),
            Some(t) => {
                for ((r, &trg), &u) in rates[out.range()]
                    .iter_mut()
                    .zip(t.iter())
                    .zip(out.view(&state.y).iter())
                {
                    *r = c.g_lk + c.g_b - nudge(self.config.nudging, c.g_som, trg, u).1;
                }
            }
        }
        for k in 1..n {
            let ui = l.u_int[k];
            let up = l.u_pyr[k + 1].view(&state.y);
            for ((r, &trg), &u) in rates[ui.range()]
                .iter_mut()
                .zip(up.iter())
                .zip(ui.view(&state.y).iter())
            {
                *r = c.g_lk + c.g_d - nudge(self.config.nudging, c.g_som, trg, u).1;
            }
        }
        if let Some(b) = l.r_in {
            rates[b.range()].fill(1.0 / self.config.tau_in);
        }
        let tau_w = self.config.plasticity.tau_w;
        for s in &l.synapses {
            for t in [s.trace_w, s.trace_bias].into_iter().flatten() {
                rates[t.range()].fill(1.0 / tau_w);
            }
        }
    }
}

/// Copies every weight and bias from one network's state into another's (same sizes and
/// plasticity; batch sizes may differ).
pub fn copy_parameters(from: &Network, src: &State, to: &Network, dst: &mut State) {
    for (a, b) in from.layout.synapses.iter().zip(&to.layout.synapses) {
        assert_eq!(
            (a.projection, a.layer),
            (b.projection, b.layer),
            "networks of the same shape"
        );
        dst.view_mut(&b.w).assign(&src.view(&a.w));
        if let (Some(ba), Some(bb)) = (a.bias, b.bias) {
            dst.view_mut(&bb).assign(&src.view(&ba));
        }
    }
}
