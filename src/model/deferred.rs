//! Weight changes held back to the next upward pass: the two-pass learner's minibatch update
//! of W^PP_{k,k−1} and W^IP_{k,k} (paper-spec §6.4) added while the next pass computes the
//! dendrite through those weights (Eqs. 3 and 5), so that each weight row is read from memory
//! once a minibatch rather than twice.

use ndarray::{Array2, ArrayView2};

use super::layout::Projection;
use super::network::{Network, State};
use crate::linalg::{RankUpdate, matches_blas, update_then_products};

/// The held changes, one slot per synapse group (in `layout.synapses` order).
///
/// A slot exists for a plastic W^PP_{k,k−1} or W^IP_{k,k} whose shape passed
/// [`matches_blas`] on this machine: for those, holding a change and adding it by
/// [`update_then_products`] gives the same bits as adding it at once by `gemm` and computing
/// the next product after, so results do not depend on whether anything was held. While a
/// change is held, the state's weights lack it; [`Deferred::flush`] adds everything held, and
/// whoever owns one flushes before anything else reads the weights.
#[derive(Clone, Debug)]
pub struct Deferred {
    slots: Vec<Option<Held>>,
}

/// One group's held change, α eᵀ P.
#[derive(Clone, Debug)]
struct Held {
    /// Whether a change is held (the buffers are kept either way: no allocation per step).
    pending: bool,
    /// η / batch.
    alpha: f64,
    /// The post-synaptic factors e of Eqs. 7–8 (batch × post).
    e: Array2<f64>,
    /// The presynaptic rates (batch × pre).
    pre: Array2<f64>,
}

impl Deferred {
    /// Slots for `net`'s plastic bottom-up and interneuron groups whose shapes pass the check
    /// (none without AVX-512, or where the BLAS sums otherwise).
    pub fn new(net: &Network) -> Deferred {
        let b = net.batch();
        let slots = net
            .layout
            .synapses
            .iter()
            .map(|syn| {
                let used_upward = matches!(syn.projection, Projection::Up | Projection::Ip);
                let (post, pre) = (syn.w.rows, syn.w.cols);
                (used_upward && syn.is_plastic() && matches_blas(post, pre, b, b)).then(|| Held {
                    pending: false,
                    alpha: 0.0,
                    e: Array2::zeros((b, post)),
                    pre: Array2::zeros((b, pre)),
                })
            })
            .collect();
        Deferred { slots }
    }

    /// How many groups can be held.
    pub fn slots(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    /// Whether any change is held.
    pub fn is_pending(&self) -> bool {
        self.slots.iter().flatten().any(|h| h.pending)
    }

    /// Holds group `i`'s change α eᵀ P (copying e and P), or returns false when the group has
    /// no slot (the caller adds it at once then).
    pub fn hold(&mut self, i: usize, alpha: f64, e: &Array2<f64>, pre: &ArrayView2<f64>) -> bool {
        let Some(h) = self.slots.get_mut(i).and_then(Option::as_mut) else {
            return false;
        };
        debug_assert!(!h.pending, "a change is held twice");
        h.e.assign(e);
        h.pre.assign(pre);
        h.alpha = alpha;
        h.pending = true;
        true
    }

    /// The product `out = x Wᵀ` of group `i` (the dendrite through its weights), adding the
    /// held change to the weights first, row block by row block; false when nothing is held
    /// for it (nothing is written then).
    pub fn product(
        &mut self,
        net: &Network,
        y: &mut [f64],
        i: usize,
        x: &ArrayView2<f64>,
        out: &mut Array2<f64>,
    ) -> bool {
        let Some(h) = self.slots.get_mut(i).and_then(Option::as_mut) else {
            return false;
        };
        if !h.pending {
            return false;
        }
        let w = net.layout.synapses[i].w;
        let update = RankUpdate {
            alpha: h.alpha,
            e: h.e.as_slice().expect("standard"),
            p: h.pre.as_slice().expect("standard"),
            b: h.e.nrows(),
        };
        update_then_products(
            update,
            &mut y[w.range()],
            (w.rows, w.cols),
            x,
            &mut out.view_mut(),
        );
        h.pending = false;
        true
    }

    /// Adds every held change to the weights in `state` (by `gemm`, as if never held).
    pub fn flush(&mut self, net: &Network, state: &mut State) {
        for (i, h) in self.slots.iter_mut().enumerate() {
            if let Some(h) = h.as_mut().filter(|h| h.pending) {
                let w = net.layout.synapses[i].w;
                crate::linalg::gemm(
                    h.alpha,
                    &h.e.t(),
                    &h.pre,
                    1.0,
                    &mut w.view_mut(&mut state.y),
                );
                h.pending = false;
            }
        }
    }
}
