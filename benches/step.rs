//! One step of each method on 30-50-10 and 784-500-500-10 networks, batch 1 and 10; one MNIST
//! minibatch of each learner; and the batch-1 Euler kernels alone on the small network's block
//! shapes. Run with `make bench`. The OpenBLAS kernel in use is printed by `make bench` (some
//! machines set OPENBLAS_CORETYPE=Haswell); ndarray's own `dot` uses matrixmultiply.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use dendritic::model::{Drive, Initialisation, Network, NetworkConfig, Plasticity, TopDown};
use dendritic::rng::Rng;
use dendritic::solve::{MethodKind, SteadyStateConfig};
use ndarray::Array2;

fn setup(
    sizes: &[usize],
    batch: usize,
) -> (Network, dendritic::model::State, Array2<f64>, Array2<f64>) {
    let n = sizes.len() - 1;
    let mut config = NetworkConfig::new(sizes);
    config.bias = true;
    // Plasticity on everywhere except the top-down weights, as in the paper's Fig. 2.
    config.plasticity = Plasticity {
        eta_up: vec![1e-3; n],
        eta_ip: vec![1e-3; n - 1],
        eta_pi: vec![1e-3; n - 1],
        tau_w: 30.0,
        ..Plasticity::default()
    };
    let net = Network::new(config, batch).unwrap();
    let mut state = net.zero_state();
    let scale = 1.0 / (sizes[0] as f64).sqrt();
    let init = Initialisation {
        scale_up: scale,
        scale_down: scale,
        scale_down_layers: None,
        scale_ip: scale,
        scale_pi: scale,
        scale_bias: 0.0,
        bias_offset: 0.0,
        top_down: TopDown::Random,
        transpose_gain: 1.0,
        self_predicting: true,
        from: None,
    };
    net.initialise(&mut state, &init, &mut Rng::new(1));
    let mut rng = Rng::new(2);
    let input = Array2::from_shape_fn((batch, sizes[0]), |_| rng.uniform());
    let target = Array2::from_shape_fn((batch, sizes[n]), |_| rng.uniform_in(-1.0, 1.0));
    (net, state, input, target)
}

fn bench_steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("step");
    group.sample_size(10);
    for sizes in [vec![30, 50, 10], vec![784, 500, 500, 10]] {
        for batch in [1, 10] {
            let label = format!(
                "{}/b{batch}",
                sizes
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join("-")
            );
            let (net, state, input, target) = setup(&sizes, batch);
            let drive = Drive::nudged(input.view(), target.view());
            for kind in MethodKind::FIXED_STEP {
                let mut m = kind.build(&net, 3).unwrap();
                let mut s = state.clone();
                group.bench_function(BenchmarkId::new(kind.name(), &label), |b| {
                    b.iter(|| m.step(&net, &mut s, &drive, 0.0, 0.01).unwrap())
                });
            }
            // Steady-state solvers with the weights frozen (they ignore plasticity).
            for (name, cfg) in [
                ("two_pass", SteadyStateConfig::TwoPass),
                (
                    "fixed_point",
                    SteadyStateConfig::FixedPoint {
                        tolerance: 1e-10,
                        maximum_iterations: 100_000,
                        damping: 0.7,
                    },
                ),
                (
                    "newton",
                    SteadyStateConfig::Newton {
                        tolerance: 1e-10,
                        maximum_iterations: 50,
                    },
                ),
            ] {
                if name == "newton" && sizes[0] == 784 && batch == 10 {
                    // 10 dense 1520² LU solves per iteration: measured once at batch 1 is enough.
                    continue;
                }
                let mut solver = cfg.build(&net);
                group.bench_function(BenchmarkId::new(name, &label), |b| {
                    b.iter(|| {
                        let mut s = state.clone();
                        solver.settle(&net, &mut s, &drive).unwrap()
                    })
                });
            }
        }
    }
    group.finish();
}

/// One MNIST minibatch (784-500-500-10, batch 10, the full study's plasticity: every W^PP_{k,k−1}
/// and W^IP plastic): the microcircuit's two passes plus rules 7–10 applied into the weights,
/// against one backprop step on the same feed-forward network (the learner's allocation-free
/// `train_step`). Their ratio is the per-epoch
/// cost ratio of the two learners (the MNIST report measures it again on whole epochs).
fn bench_mnist_minibatch(c: &mut Criterion) {
    use dendritic::baseline::{Credit, FeedForward, OutputLoss, TrainWorkspace};
    use dendritic::solve::TwoPass;
    let mut group = c.benchmark_group("mnist_minibatch");
    group.sample_size(20);
    let sizes = [784, 500, 500, 10];
    let mut config = NetworkConfig::new(&sizes);
    config.bias = true;
    config.conductances.g_som = 1.0;
    config.plasticity = Plasticity {
        eta_up: vec![0.05; 3],
        eta_ip: vec![0.05; 2],
        ..Plasticity::default()
    };
    let net = Network::new(config, 10).unwrap();
    let mut state = net.zero_state();
    let init = Initialisation {
        scale_up: 0.3,
        scale_down: 0.3,
        scale_down_layers: None,
        scale_ip: 0.3,
        scale_pi: 0.3,
        scale_bias: 0.0,
        bias_offset: -2.0,
        top_down: TopDown::Random,
        transpose_gain: 1.0,
        self_predicting: true,
        from: None,
    };
    net.initialise(&mut state, &init, &mut Rng::new(1));
    let mut rng = Rng::new(2);
    let input = Array2::from_shape_fn((10, 784), |_| rng.uniform());
    let target = Array2::from_shape_fn((10, 10), |_| rng.uniform_in(-2.0, 1.4));
    let drive = Drive::nudged(input.view(), target.view());
    let eta: Vec<f64> = net.layout.synapses.iter().map(|s| s.eta * 1e-6).collect();
    let mut two_pass = TwoPass::new(&net);
    let mut s = state.clone();
    group.bench_function("microcircuit_two_pass", |b| {
        b.iter(|| {
            two_pass.passes(&net, &mut s, &drive);
            two_pass.apply_plasticity(&net, &mut s, &eta);
        })
    });
    let mut ff = FeedForward::from_microcircuit(&net, &state);
    ff.loss = OutputLoss::CrossEntropy;
    let bp_eta = [1e-6; 3];
    let mut ws = TrainWorkspace::new(&ff, 10);
    group.bench_function("backprop", |b| {
        b.iter(|| {
            ff.train_step(
                &mut ws,
                &input,
                &target,
                Credit::Backprop,
                &bp_eta,
                true,
                0.0,
            )
        })
    });
    group.finish();
}

/// The batch-1 Euler step's two kernels alone, per weight (criterion's elements/s; cycles per
/// weight = clock ÷ that rate): a block's dot products (`linalg::block_dots`) and its update
/// with τ_w traces (`linalg::update_rows`), on the small network's block shapes (50 × 30,
/// 10 × 50, 50 × 10) and on rows that are a multiple of 8 (50 × 32), each with one block (in the
/// first-level cache) and with eight blocks visited in turn (weights and traces 8 × 16 bytes
/// per weight, beyond it). ARCHITECTURE.md's "where the small step's time goes" rests on these.
fn bench_kernels(c: &mut Criterion) {
    use criterion::Throughput;
    use dendritic::linalg::{RowUpdate, block_dots, update_rows};
    let mut group = c.benchmark_group("kernels");
    let u = RowUpdate {
        a: 1.0 - 0.1 / 30.0,
        c: 1e-4,
        clip: None,
    };
    let mut rng = Rng::new(3);
    for (rows, m) in [(50, 30), (10, 50), (50, 10), (50, 32)] {
        for copies in [1, 8] {
            let n = rows * m;
            let mut w: Vec<Vec<f64>> = (0..copies)
                .map(|_| (0..n).map(|_| rng.uniform_in(-0.2, 0.2)).collect())
                .collect();
            let mut d: Vec<Vec<f64>> = (0..copies).map(|_| vec![0.0; n]).collect();
            let x: Vec<f64> = (0..m).map(|_| rng.uniform()).collect();
            let e: Vec<f64> = (0..rows).map(|_| rng.uniform_in(-1e-3, 1e-3)).collect();
            let mut v = vec![0.0; rows];
            let label = format!("{rows}x{m}/{}KB", copies * n * 16 / 1024);
            group.throughput(Throughput::Elements((copies * n) as u64));
            group.bench_function(BenchmarkId::new("block_dots", &label), |b| {
                b.iter(|| {
                    for wc in &w {
                        block_dots(wc, m, &x, &mut v);
                    }
                    v[0]
                })
            });
            group.bench_function(BenchmarkId::new("update_rows", &label), |b| {
                b.iter(|| {
                    for (wc, dc) in w.iter_mut().zip(d.iter_mut()) {
                        update_rows(wc, Some(dc), m, &x, &e, u);
                    }
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_steps, bench_mnist_minibatch, bench_kernels);
criterion_main!(benches);
