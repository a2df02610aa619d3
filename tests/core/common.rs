//! Fixtures shared by the core tests.

use dendritic::model::{Drive, Initialisation, Network, NetworkConfig, State, TopDown};
use dendritic::rng::Rng;
use dendritic::solve::Method;
use ndarray::Array2;

/// A network with U(−scale, scale) weights from `seed`, potentials at rest.
pub fn network(
    config: NetworkConfig,
    batch: usize,
    scale: f64,
    top_down: TopDown,
    self_predicting: bool,
    seed: u64,
) -> (Network, State) {
    let net = Network::new(config, batch).expect("valid config");
    let mut state = net.zero_state();
    let init = Initialisation {
        scale_up: scale,
        scale_down: scale,
        scale_down_layers: None,
        scale_ip: scale,
        scale_pi: scale,
        scale_bias: 0.0,
        bias_offset: 0.0,
        top_down,
        transpose_gain: 1.0,
        self_predicting,
        from: None,
    };
    net.initialise(&mut state, &init, &mut Rng::new(seed));
    (net, state)
}

/// A batch × n matrix of U(lo, hi) entries.
pub fn uniform(rows: usize, cols: usize, lo: f64, hi: f64, seed: u64) -> Array2<f64> {
    let mut rng = Rng::new(seed);
    Array2::from_shape_fn((rows, cols), |_| rng.uniform_in(lo, hi))
}

/// Integrates `steps` steps of size dt from t = 0 (t_n = n dt, never accumulated).
pub fn integrate(
    method: &mut dyn Method,
    net: &Network,
    state: &mut State,
    drive: &Drive,
    dt: f64,
    steps: usize,
) {
    for n in 0..steps {
        method
            .step(net, state, drive, n as f64 * dt, dt)
            .expect("no divergence");
    }
}

/// Least-squares slope of log(err) against log(dt).
pub fn loglog_slope(dts: &[f64], errs: &[f64]) -> f64 {
    let xs: Vec<f64> = dts.iter().map(|d| d.ln()).collect();
    let ys: Vec<f64> = errs.iter().map(|e| e.ln()).collect();
    let n = xs.len() as f64;
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    sxy / sxx
}

/// max |a − b| over the first `n` entries.
pub fn max_diff(a: &[f64], b: &[f64], n: usize) -> f64 {
    a[..n]
        .iter()
        .zip(&b[..n])
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Integrates `steps` steps of size dt from t0 (t_n = t0 + n dt).
pub fn integrate_from(
    method: &mut dyn Method,
    net: &Network,
    state: &mut State,
    drive: &Drive,
    t0: f64,
    dt: f64,
    steps: usize,
) {
    for n in 0..steps {
        method
            .step(net, state, drive, t0 + n as f64 * dt, dt)
            .expect("no divergence");
    }
}
