//! Zero heap allocations in the hot loops (issue 17): a counting global allocator, counting
//! per thread, around 100 steady-state Euler–Maruyama steps of a network with every rule
//! plastic, and around 10 two-pass minibatches of the MNIST learner's update.
//!
//! Its own test binary, so that the allocator counts nothing but this file's tests.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use dendritic::model::{
    Drive, Initialisation, Network, NetworkConfig, Noise, Plasticity, TopDown, Transfer,
};
use dendritic::rng::Rng;
use dendritic::solve::{Euler, ExponentialEuler, Method, TwoPass};
use ndarray::Array2;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; the counter is a thread-local Cell without
// allocation of its own (const-initialised).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(|c| c.get())
}

fn plastic_network(
    sizes: &[usize],
    batch: usize,
    sigma: f64,
) -> (Network, dendritic::model::State) {
    let mut config = NetworkConfig::new(sizes);
    let n = sizes.len() - 1;
    config.phi = Transfer::PAPER_SOFT_RECTIFIER;
    config.bias = true;
    config.tau_in = 3.0;
    config.noise = Noise {
        sigma,
        ..Noise::default()
    };
    config.plasticity = Plasticity {
        eta_up: vec![1e-3; n],
        eta_down: vec![1e-3; n - 1],
        eta_ip: vec![1e-3; n - 1],
        eta_pi: vec![1e-3; n - 1],
        tau_w: 30.0,
        eta_scale: 1.0,
        clip: None,
    };
    let net = Network::new(config, batch).unwrap();
    let mut state = net.zero_state();
    let init = Initialisation {
        scale_up: 0.5,
        scale_down: 0.5,
        scale_down_layers: None,
        scale_ip: 0.5,
        scale_pi: 0.5,
        scale_bias: 0.1,
        bias_offset: 0.0,
        top_down: TopDown::Random,
        transpose_gain: 1.0,
        self_predicting: false,
        from: None,
    };
    net.initialise(&mut state, &init, &mut Rng::new(5));
    (net, state)
}

fn uniform(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut rng = Rng::new(seed);
    Array2::from_shape_fn((rows, cols), |_| rng.uniform())
}

#[test]
fn euler_steps_allocate_nothing() {
    for batch in [1, 10] {
        let (net, mut state) = plastic_network(&[60, 40, 30, 10], batch, 0.1);
        let input = uniform(batch, 60, 1);
        let target = uniform(batch, 10, 2);
        let drive = Drive::nudged(input.view(), target.view());
        for mut method in [
            Box::new(Euler::new(&net, 3)) as Box<dyn Method>,
            Box::new(ExponentialEuler::new(&net, 3)),
        ] {
            for n in 0..10 {
                method
                    .step(&net, &mut state, &drive, n as f64 * 0.1, 0.1)
                    .unwrap();
            }
            let before = allocations();
            for n in 10..110 {
                method
                    .step(&net, &mut state, &drive, n as f64 * 0.1, 0.1)
                    .unwrap();
            }
            let count = allocations() - before;
            assert_eq!(
                count,
                0,
                "{} at batch {batch}: {count} allocations in 100 steps",
                method.name()
            );
            assert_eq!(method.statistics().steps, 110);
        }
    }
}

#[test]
fn two_pass_minibatches_allocate_nothing() {
    let batch = 10;
    let (net, mut state) = plastic_network(&[50, 40, 30, 10], batch, 0.0);
    let input = uniform(batch, 50, 4);
    let target = uniform(batch, 10, 5);
    let drive = Drive::nudged(input.view(), target.view());
    let mut two_pass = TwoPass::new(&net);
    let eta = vec![0.01; net.layout.synapses.len()];
    two_pass.passes(&net, &mut state, &drive);
    two_pass.apply_plasticity(&net, &mut state, &eta);
    let w0 = state.y.clone();
    let before = allocations();
    for _ in 0..10 {
        two_pass.passes(&net, &mut state, &drive);
        two_pass.apply_plasticity(&net, &mut state, &eta);
    }
    let count = allocations() - before;
    assert_eq!(count, 0, "{count} allocations in 10 two-pass minibatches");
    assert_ne!(w0, state.y, "the minibatches must have learnt");
}

/// The same with the weight changes held to the next upward pass (`TwoPass::holding`): a
/// 784-wide input makes W^PP_{1,0} large enough to be held where the check passes.
#[test]
fn held_two_pass_minibatches_allocate_nothing() {
    let batch = 10;
    let (net, mut state) = plastic_network(&[784, 500, 30, 10], batch, 0.0);
    let input = uniform(batch, 784, 4);
    let target = uniform(batch, 10, 5);
    let drive = Drive::nudged(input.view(), target.view());
    let mut two_pass = TwoPass::holding(&net);
    if dendritic::linalg::isa() == dendritic::linalg::Isa::Avx512 {
        assert!(two_pass.held_groups() >= 1, "W^PP_{{1,0}} is held");
    }
    let eta = vec![0.01; net.layout.synapses.len()];
    two_pass.passes(&net, &mut state, &drive);
    two_pass.apply_plasticity(&net, &mut state, &eta);
    let before = allocations();
    for _ in 0..10 {
        two_pass.passes(&net, &mut state, &drive);
        two_pass.apply_plasticity(&net, &mut state, &eta);
    }
    two_pass.flush(&net, &mut state);
    let count = allocations() - before;
    assert_eq!(
        count, 0,
        "{count} allocations in 10 held two-pass minibatches"
    );
}

#[test]
fn the_counter_counts() {
    let before = allocations();
    let v: Vec<u64> = (0..10).collect();
    assert_eq!(allocations() - before, 1);
    assert_eq!(v.len(), 10);
}
