//! The stiff scenario (scenarios/stiff.toml at its stiffest factor): ROS2 stays stable far
//! above the explicit methods' limit and keeps its second order where the potentials are stiff.

use dendritic::analysis::stability::dt_limit;
use dendritic::experiment::Scenario;
use dendritic::experiment::stiffness::stiffen;
use dendritic::model::{Drive, Network, Plasticity, State};
use dendritic::solve::{Method, MethodKind, Ros2, SteadyStateConfig};

use crate::common::*;

/// The stiff scenario's network, coupling × its largest factor, with its initial weights (seed
/// 1), an input and a target; plasticity as in the scenario unless `frozen`.
fn stiffest(frozen: bool) -> (Network, State, ndarray::Array2<f64>, ndarray::Array2<f64>) {
    let s = Scenario::load("stiff").unwrap();
    let dendritic::experiment::StudyConfig::Stiffness(st) = &s.study else {
        panic!("stiff is a stiffness scenario");
    };
    let factor = *st.factors.last().unwrap();
    let mut config = stiffen(&s.network, factor);
    if frozen {
        config.plasticity = Plasticity::default();
    }
    let net = Network::new(config, 1).unwrap();
    let mut state = net.zero_state();
    net.initialise(
        &mut state,
        &s.init,
        &mut dendritic::rng::Rng::derived(1, dendritic::experiment::stream::WEIGHTS),
    );
    let input = uniform(1, 30, 0.0, 1.0, 3);
    let target = uniform(1, 10, 0.1, 0.9, 4);
    (net, state, input, target)
}

fn run(method: &mut dyn Method, net: &Network, state: &mut State, drive: &Drive, dt: f64, t: f64) {
    integrate(method, net, state, drive, dt, (t / dt).round() as usize);
}

#[test]
fn implicit_methods_are_stable_far_above_the_euler_limit_and_euler_is_not() {
    let (net, mut fixed, input, _) = stiffest(true);
    let free = Drive::free(input.view());
    SteadyStateConfig::Newton {
        tolerance: 1e-12,
        maximum_iterations: 100,
    }
    .build(&net)
    .settle(&net, &mut fixed, &free)
    .unwrap();
    let limit = dt_limit(MethodKind::Euler, &net, &fixed, &free, 0);
    let np = net.layout.n_potentials;
    let mut start = fixed.clone();
    for (i, v) in start.y[..np].iter_mut().enumerate() {
        *v += 1e-6 * if i % 2 == 0 { 1.0 } else { -1.0 };
    }
    // ROS2 and BDF2 at 10× and 100× Euler's limit: the perturbation decays.
    for kind in [MethodKind::Ros2, MethodKind::Bdf2] {
        for ratio in [10.0, 100.0] {
            let mut s = start.clone();
            let mut m = kind.build(&net, 0).unwrap();
            run(
                m.as_mut(),
                &net,
                &mut s,
                &free,
                ratio * limit,
                200.0 * ratio * limit,
            );
            let d = max_diff(&s.y, &fixed.y, np);
            assert!(
                d < 1e-7,
                "{kind:?} at {ratio}× the Euler limit: perturbation {d:e}"
            );
        }
    }
    // Euler at 1.1× its limit: the perturbation grows (the limit is real).
    let mut s = start.clone();
    let mut m = MethodKind::Euler.build(&net, 0).unwrap();
    let steps = 2000;
    let grew = (0..steps).any(|n| {
        m.step(&net, &mut s, &free, n as f64 * 1.1 * limit, 1.1 * limit)
            .is_err()
            || max_diff(&s.y, &fixed.y, np) > 1e-6
    });
    assert!(
        grew,
        "Euler at 1.1× its predicted limit {limit:e} stayed stable"
    );
}

/// The stiffest network with plasticity on, started on its slow manifold (the potentials
/// settled for the filter's start r₀ = 0 and the initial weights), the drive, and RK4's solution
/// at t = 20 ms with dt = 1/5000 ms (below its stability limit; a step of 1/20000 moves it by
/// 7e-10).
fn on_manifold() -> (Network, State, Drive<'static>, Vec<f64>) {
    let (net, mut state, input, target) = stiffest(false);
    let (frozen, mut settled, _, _) = stiffest(true);
    let zeros = ndarray::Array2::<f64>::zeros((1, 30));
    SteadyStateConfig::Newton {
        tolerance: 1e-10,
        maximum_iterations: 100,
    }
    .build(&frozen)
    .settle(
        &frozen,
        &mut settled,
        &Drive::nudged(zeros.view(), target.view()),
    )
    .unwrap();
    let np = net.layout.n_potentials;
    state.y[..np].copy_from_slice(&settled.y[..np]);
    let (input, target) = (Box::leak(Box::new(input)), Box::leak(Box::new(target)));
    let drive = Drive::nudged(input.view(), target.view());
    let mut reference = state.clone();
    let mut rk4 = MethodKind::Rk4.build(&net, 0).unwrap();
    run(
        rk4.as_mut(),
        &net,
        &mut reference,
        &drive,
        1.0 / 5000.0,
        20.0,
    );
    (net, state, drive, reference.y)
}

fn errors(
    make: &dyn Fn(&Network) -> Box<dyn Method>,
    start: &State,
    net: &Network,
    drive: &Drive,
    reference: &[f64],
    dts: &[f64],
) -> Vec<f64> {
    dts.iter()
        .map(|&dt| {
            let mut s = start.clone();
            let mut m = make(net);
            run(m.as_mut(), net, &mut s, drive, dt, 20.0);
            max_diff(&s.y, reference, s.y.len())
        })
        .collect()
}

const DTS: [f64; 4] = [0.04, 0.02, 0.01, 0.005];

/// The errors over [`DTS`] and their fitted order, asserted to be `order` ± 0.2.
fn assert_order(
    label: &str,
    make: &dyn Fn(&Network) -> Box<dyn Method>,
    start: &State,
    net: &Network,
    drive: &Drive,
    reference: &[f64],
    order: f64,
) -> Vec<f64> {
    let errs = errors(make, start, net, drive, reference, &DTS);
    let slope = loglog_slope(&DTS, &errs);
    eprintln!("{label}: errors {errs:?} slope {slope}");
    assert!(
        (slope - order).abs() <= 0.2,
        "{label}: order {slope}, errors {errs:?}"
    );
    errs
}

#[test]
fn implicit_methods_keep_their_order_where_the_potentials_are_stiff() {
    // The stiffest factor, every plasticity rule on, dt from 40× down to 5× Euler's limit.
    let (net, start, drive, reference) = on_manifold();
    assert_order(
        "BDF2",
        &|n| MethodKind::Bdf2.build(n, 0).unwrap(),
        &start,
        &net,
        &drive,
        &reference,
        2.0,
    );
    assert_order(
        "ROS2",
        &|n| MethodKind::Ros2.build(n, 0).unwrap(),
        &start,
        &net,
        &drive,
        &reference,
        2.0,
    );
}

#[test]
fn ros2_needs_the_weights_coupling_in_its_jacobian() {
    // Without the sweeps J holds the potentials and the filter only; the weights drive the
    // potentials with a gain that grows with the conductances, h‖J − J_exact‖ is large, and
    // the W-method falls to first order (and is 30× less accurate at these steps).
    let (net, start, drive, reference) = on_manifold();
    assert_order(
        "ROS2 without sweeps",
        &|n| Box::new(Ros2::new(n).unwrap().with_sweeps(0)),
        &start,
        &net,
        &drive,
        &reference,
        1.0,
    );
}

#[test]
fn an_unresolved_initial_layer_bounds_the_error() {
    // From the zero state the potentials first jump onto the slow manifold in ~1/(s g) ms,
    // a layer no step here resolves. The weights, which read the potentials, keep what the
    // method made of it: BDF2's error levels off at an h-independent O(1/s) floor, ROS2's
    // falls only like h. (The stiffness study starts on the manifold for that reason.)
    let (net, state, input, target) = stiffest(false);
    let drive = Drive::nudged(input.view(), target.view());
    let mut reference = state.clone();
    let mut rk4 = MethodKind::Rk4.build(&net, 0).unwrap();
    run(
        rk4.as_mut(),
        &net,
        &mut reference,
        &drive,
        1.0 / 5000.0,
        20.0,
    );
    let bdf2 = errors(
        &|n| MethodKind::Bdf2.build(n, 0).unwrap(),
        &state,
        &net,
        &drive,
        &reference.y,
        &DTS,
    );
    let ros2 = errors(
        &|n| MethodKind::Ros2.build(n, 0).unwrap(),
        &state,
        &net,
        &drive,
        &reference.y,
        &DTS,
    );
    eprintln!("from rest: BDF2 {bdf2:?}, ROS2 {ros2:?}");
    assert!(
        bdf2[3] / bdf2[2] > 0.8,
        "BDF2 from rest still converges: {bdf2:?}"
    );
    let slope = loglog_slope(&DTS, &ros2);
    assert!(
        (slope - 1.0).abs() <= 0.2,
        "ROS2 from rest: order {slope}, errors {ros2:?}"
    );
}

#[test]
fn ros2_keeps_its_order_when_only_the_filter_is_slow() {
    // Weights frozen: the slow input filter does not read the potentials, and ROS2 with the
    // filter's block in J is second order at the stiffest factor.
    let (net, state, input, target) = stiffest(true);
    let drive = Drive::nudged(input.view(), target.view());
    let t_end = 20.0;
    let mut reference = state.clone();
    let mut rk4 = MethodKind::Rk4.build(&net, 0).unwrap();
    run(
        rk4.as_mut(),
        &net,
        &mut reference,
        &drive,
        1.0 / 5000.0,
        t_end,
    );
    let dts = [0.04, 0.02, 0.01, 0.005];
    let errs: Vec<f64> = dts
        .iter()
        .map(|&dt| {
            let mut s = state.clone();
            let mut m = Ros2::new(&net).unwrap();
            run(&mut m, &net, &mut s, &drive, dt, t_end);
            max_diff(&s.y, &reference.y, s.y.len())
        })
        .collect();
    let slope = loglog_slope(&dts, &errs);
    assert!(
        (slope - 2.0).abs() <= 0.2,
        "ROS2 order {slope} (weights frozen), errors {errs:?}"
    );
}
