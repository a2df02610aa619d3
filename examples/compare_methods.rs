//! A network of your own, integrated by every time stepper from the same start to the same
//! time, each compared with a fine RK4 reference — the results in a polars DataFrame.
//!
//! ```text
//! cargo run --release --example compare_methods
//! ```

use dendritic::model::{Drive, Initialisation, Network, NetworkConfig};
use dendritic::rng::Rng;
use dendritic::solve::{MethodKind, Simulation};
use ndarray::Array2;
use polars::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 8 inputs, one hidden layer of 12, 4 outputs; the paper's conductances and rates.
    let mut config = NetworkConfig::new(&[8, 12, 4]);
    config.plasticity.eta_up = vec![0.01, 0.01];
    let net = Network::new(config, 1)?;
    let mut start = net.zero_state();
    let init = Initialisation {
        scale_up: 1.0,
        scale_down: 1.0,
        self_predicting: true,
        ..Initialisation::default()
    };
    net.initialise(&mut start, &init, &mut Rng::new(7));
    let mut rng = Rng::new(8);
    let input = Array2::from_shape_fn((1, 8), |_| rng.uniform());
    let target = Array2::from_shape_fn((1, 4), |_| rng.uniform_in(-0.5, 0.5));
    let drive = Drive::nudged(input.view(), target.view());
    let duration_ms = 5.0;

    // The reference: RK4 at a step far below the others.
    let integrate = |kind: MethodKind, dt: f64| {
        let mut state = start.clone();
        let steps = (duration_ms / dt).round() as u64;
        let method = kind.build(&net, 0)?;
        let mut sim = Simulation::new(&net, &mut state, method, dt)?;
        sim.run(steps, &drive, &mut [])?;
        let evaluations = sim.statistics().rhs_evaluations;
        drop(sim);
        Ok::<_, dendritic::solve::SolveError>((state, evaluations))
    };
    let (reference, _) = integrate(MethodKind::Rk4, 0.001)?;

    let (mut names, mut dts, mut errors, mut costs) = (vec![], vec![], vec![], vec![]);
    for kind in [
        MethodKind::Euler,
        MethodKind::ExponentialEuler,
        MethodKind::Rk4,
        MethodKind::Dopri5,
        MethodKind::Ros2,
        MethodKind::Bdf2,
    ] {
        for dt in [0.05, 0.025] {
            let (state, evaluations) = integrate(kind, dt)?;
            let error = state
                .y
                .iter()
                .zip(&reference.y)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            names.push(kind.name());
            dts.push(dt);
            errors.push(error);
            costs.push(evaluations);
        }
    }
    // Halving dt divides Euler's error by about 2 and RK4's by about 16.
    let ratio = |m: &str| {
        let e: Vec<f64> = (0..names.len())
            .filter(|&i| names[i] == m)
            .map(|i| errors[i])
            .collect();
        e[0] / e[1]
    };
    let (euler, rk4) = (ratio("euler"), ratio("rk4"));
    let mut table = df!(
        "method" => names,
        "dt_ms" => dts,
        "max_error" => errors,
        "rhs_evaluations" => costs,
    )?;
    CsvWriter::new(std::io::stdout()).finish(&mut table)?;
    println!("error ratio at dt/2: euler {euler:.2}, rk4 {rk4:.2}");
    assert!((1.6..2.4).contains(&euler), "Euler is first order");
    assert!((10.0..22.0).contains(&rk4), "RK4 is fourth order");
    Ok(())
}
