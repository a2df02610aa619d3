//! Where each quantity lives in the flat state vectors.
//!
//! The state is two flat vectors: `y`, everything the methods integrate (somatic potentials,
//! the input low-pass, plastic weights and their plasticity traces), and `p`, the frozen
//! parameters (weights and biases with learning rate 0). Potentials come first in `y`, so
//! `y[..n_potentials]` is the vector the steady-state solvers and the Jacobian work on.

use ndarray::{ArrayView2, ArrayViewMut2};

use super::params::NetworkConfig;

/// Which flat vector a block lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment {
    /// The integrated vector `y`.
    Dynamic,
    /// The frozen parameter vector `p`.
    Frozen,
}

/// A rows × cols matrix stored row-major at `offset` in one segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// Which vector.
    pub segment: Segment,
    /// Start index.
    pub offset: usize,
    /// Rows (batch for potentials, post-synaptic neurons for weights).
    pub rows: usize,
    /// Columns (neurons for potentials, pre-synaptic neurons for weights).
    pub cols: usize,
}

impl Block {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }
    /// Whether the block has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The index range within its segment.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len()
    }
    /// A 2-D view into a flat slice of the block's segment.
    pub fn view<'a>(&self, flat: &'a [f64]) -> ArrayView2<'a, f64> {
        ArrayView2::from_shape((self.rows, self.cols), &flat[self.range()])
            .expect("block inside its segment")
    }
    /// A mutable 2-D view.
    pub fn view_mut<'a>(&self, flat: &'a mut [f64]) -> ArrayViewMut2<'a, f64> {
        let r = self.range();
        ArrayViewMut2::from_shape((self.rows, self.cols), &mut flat[r])
            .expect("block inside its segment")
    }
}

/// The four projections with plasticity rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Projection {
    /// W^PP_{k,k−1}, bottom-up onto basal dendrites (rule 7).
    Up,
    /// W^PP_{k,k+1}, top-down onto apical dendrites (rule 10).
    Down,
    /// W^IP_{k,k}, pyramidal → interneuron dendrite (rule 8).
    Ip,
    /// W^PI_{k,k}, interneuron → apical dendrite (rule 9).
    Pi,
}

impl Projection {
    /// Short name used in tables: `w_up`, `w_down`, `w_ip`, `w_pi`.
    pub fn name(&self) -> &'static str {
        match self {
            Projection::Up => "w_up",
            Projection::Down => "w_down",
            Projection::Ip => "w_ip",
            Projection::Pi => "w_pi",
        }
    }
}

/// One weight matrix (and optional bias) of layer k, with its plasticity bookkeeping.
#[derive(Clone, Debug, PartialEq)]
pub struct Synapses {
    /// Which projection.
    pub projection: Projection,
    /// The layer k of the post-synaptic cells.
    pub layer: usize,
    /// The weights, n_post × n_pre.
    pub w: Block,
    /// The bias (1 × n_post), for `Up` and `Ip` when biases are on.
    pub bias: Option<Block>,
    /// Learning rate η (0 = frozen).
    pub eta: f64,
    /// Low-pass trace of the weight's induction term (when τ_w > 0 and plastic).
    pub trace_w: Option<Block>,
    /// Low-pass trace of the bias's induction term.
    pub trace_bias: Option<Block>,
}

impl Synapses {
    /// Whether the weights are integrated.
    pub fn is_plastic(&self) -> bool {
        self.eta != 0.0
    }
}

/// The full map of the state.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// n_0 … n_N.
    pub sizes: Vec<usize>,
    /// Number of samples integrated side by side.
    pub batch: usize,
    /// u^P_k, batch × n_k, indexed by k (entry 0 is empty).
    pub u_pyr: Vec<Block>,
    /// u^I_k, batch × n_{k+1}, indexed by k (entries 0 and N are empty).
    pub u_int: Vec<Block>,
    /// The low-pass filtered input rates r_0, batch × n_0 (when τ_in > 0).
    pub r_in: Option<Block>,
    /// All weight matrices.
    pub synapses: Vec<Synapses>,
    /// y[..n_potentials] are the somatic potentials.
    pub n_potentials: usize,
    /// Length of y.
    pub n_dynamic: usize,
    /// Length of p.
    pub n_frozen: usize,
}

struct Allocator {
    dynamic: usize,
    frozen: usize,
}

impl Allocator {
    fn take(&mut self, segment: Segment, rows: usize, cols: usize) -> Block {
        let cursor = match segment {
            Segment::Dynamic => &mut self.dynamic,
            Segment::Frozen => &mut self.frozen,
        };
        let b = Block {
            segment,
            offset: *cursor,
            rows,
            cols,
        };
        *cursor += rows * cols;
        b
    }
}

impl Allocator {
    /// One synapse group: plastic weights (and bias) in the dynamic segment, with τ_w traces
    /// when `filtered`; fixed ones in the frozen segment.
    #[allow(
        clippy::too_many_arguments,
        reason = "the shape of one synapse group, named"
    )]
    fn synapse(
        &mut self,
        projection: Projection,
        layer: usize,
        post: usize,
        pre: usize,
        bias: bool,
        eta: f64,
        filtered: bool,
    ) -> Synapses {
        let seg = if eta != 0.0 {
            Segment::Dynamic
        } else {
            Segment::Frozen
        };
        let w = self.take(seg, post, pre);
        let b = bias.then(|| self.take(seg, 1, post));
        let (trace_w, trace_bias) = if eta != 0.0 && filtered {
            (
                Some(self.take(Segment::Dynamic, post, pre)),
                b.map(|_| self.take(Segment::Dynamic, 1, post)),
            )
        } else {
            (None, None)
        };
        Synapses {
            projection,
            layer,
            w,
            bias: b,
            eta,
            trace_w,
            trace_bias,
        }
    }

    /// Every synapse group, in the state's order: W^PP_{k,k−1} for k = 1…N, then for each
    /// hidden layer its top-down, interneuron and lateral groups.
    fn synapses(&mut self, config: &NetworkConfig, sizes: &[usize]) -> Vec<Synapses> {
        let n = sizes.len() - 1;
        let filtered = config.plasticity.tau_w > 0.0;
        let mut out = Vec::new();
        for k in 1..=n {
            let (post, pre) = (sizes[k], sizes[k - 1]);
            let eta = config.eta_up(k);
            out.push(self.synapse(Projection::Up, k, post, pre, config.bias, eta, filtered));
        }
        for k in 1..n {
            let (own, above) = (sizes[k], sizes[k + 1]);
            let down = config.eta_down(k);
            out.push(self.synapse(Projection::Down, k, own, above, false, down, filtered));
            let ip = config.eta_ip(k);
            out.push(self.synapse(Projection::Ip, k, above, own, config.bias, ip, filtered));
            let pi = config.eta_pi(k);
            out.push(self.synapse(Projection::Pi, k, own, above, false, pi, filtered));
        }
        out
    }
}

impl Layout {
    /// Lays out a (validated) configuration for `batch` samples.
    pub fn new(config: &NetworkConfig, batch: usize) -> Layout {
        let sizes = config.sizes.clone();
        let n = sizes.len() - 1;
        let mut a = Allocator {
            dynamic: 0,
            frozen: 0,
        };
        let empty = Block {
            segment: Segment::Dynamic,
            offset: 0,
            rows: 0,
            cols: 0,
        };
        let mut u_pyr = vec![empty; n + 1];
        let mut u_int = vec![empty; n + 1];
        for k in 1..=n {
            u_pyr[k] = a.take(Segment::Dynamic, batch, sizes[k]);
        }
        for k in 1..n {
            u_int[k] = a.take(Segment::Dynamic, batch, sizes[k + 1]);
        }
        let n_potentials = a.dynamic;
        let r_in = (config.tau_in > 0.0).then(|| a.take(Segment::Dynamic, batch, sizes[0]));
        let synapses = a.synapses(config, &sizes);
        Layout {
            sizes,
            batch,
            u_pyr,
            u_int,
            r_in,
            synapses,
            n_potentials,
            n_dynamic: a.dynamic,
            n_frozen: a.frozen,
        }
    }

    /// N, the output layer's index.
    pub fn n_layers(&self) -> usize {
        self.sizes.len() - 1
    }

    /// The synapses of a projection into layer k.
    pub fn synapses(&self, projection: Projection, k: usize) -> &Synapses {
        &self.synapses[self.synapse_index(projection, k)]
    }

    /// The index in `synapses` of the group of `projection` into layer `k`.
    pub fn synapse_index(&self, projection: Projection, k: usize) -> usize {
        self.synapses
            .iter()
            .position(|s| s.projection == projection && s.layer == k)
            .unwrap_or_else(|| panic!("no {} into layer {k}", projection.name()))
    }

    /// Potentials per sample: Σ_k n_k + Σ_{k<N} n_{k+1}.
    pub fn potentials_per_sample(&self) -> usize {
        self.n_potentials / self.batch
    }

    /// Length of the leading part of y that holds the potentials and the input low-pass (the
    /// plastic weights and traces follow it).
    pub fn fast_len(&self) -> usize {
        self.n_potentials + self.r_in.map_or(0, |b| b.len())
    }

    /// Index in y of potential `i` of sample `b`, with potentials of a sample numbered
    /// u^P_1, …, u^P_N, u^I_1, …, u^I_{N−1}.
    pub fn potential_index(&self, b: usize) -> Vec<usize> {
        let n = self.n_layers();
        let mut idx = Vec::with_capacity(self.potentials_per_sample());
        for k in 1..=n {
            let blk = self.u_pyr[k];
            idx.extend((0..blk.cols).map(|i| blk.offset + b * blk.cols + i));
        }
        for k in 1..n {
            let blk = self.u_int[k];
            idx.extend((0..blk.cols).map(|i| blk.offset + b * blk.cols + i));
        }
        idx
    }

    /// Which population a potential index of y belongs to: ("pyramidal" | "interneuron", layer).
    pub fn population_of(&self, index: usize) -> Option<(&'static str, usize)> {
        let n = self.n_layers();
        for k in 1..=n {
            if self.u_pyr[k].range().contains(&index) {
                return Some(("pyramidal", k));
            }
        }
        for k in 1..n {
            if self.u_int[k].range().contains(&index) {
                return Some(("interneuron", k));
            }
        }
        None
    }
}
