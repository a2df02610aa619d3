//! Bad input gives clear errors naming what is wrong.

use dendritic::model::{Drive, ModelError, Network, NetworkConfig, Noise, Plasticity, Projection};
use dendritic::solve::{MethodKind, SolveError};
use ndarray::Array2;

fn err_of(config: NetworkConfig) -> String {
    Network::new(config, 1).unwrap_err().to_string()
}

#[test]
fn invalid_configurations_are_refused_with_their_key() {
    let mut c = NetworkConfig::new(&[3]);
    assert!(err_of(c.clone()).contains("sizes"));
    c.sizes = vec![3, 0, 2];
    assert!(err_of(c.clone()).contains("layer 1 has zero neurons"));
    let mut c = NetworkConfig::new(&[3, 2]);
    c.conductances.g_b = -1.0;
    let e = err_of(c);
    assert!(e.contains("conductances.g_b") && e.contains("≥ 0"), "{e}");
    let mut c = NetworkConfig::new(&[3, 2]);
    c.conductances.g_som = f64::NAN;
    assert!(err_of(c).contains("conductances.g_som"));
    let mut c = NetworkConfig::new(&[3, 4, 2]);
    c.plasticity = Plasticity {
        eta_up: vec![0.1],
        ..Plasticity::default()
    };
    let e = err_of(c);
    assert!(
        e.contains("plasticity.eta_up") && e.contains("needs 2 values"),
        "{e}"
    );
    let mut c = NetworkConfig::new(&[3, 2]);
    c.noise = Noise {
        sigma: -0.1,
        ..Noise::default()
    };
    assert!(err_of(c).contains("noise.sigma"));
    let mut c = NetworkConfig::new(&[3, 2]);
    c.nudging = dendritic::model::Nudging::Conductance {
        e_exc: -1.0,
        e_inh: 1.0,
    };
    assert!(err_of(c).contains("E_exc > E_inh"));
    assert!(
        Network::new(NetworkConfig::new(&[3, 2]), 0)
            .unwrap_err()
            .to_string()
            .contains("batch")
    );
}

#[test]
fn inconsistent_shapes_are_refused() {
    let net = Network::new(NetworkConfig::new(&[3, 4, 2]), 2).unwrap();
    let mut state = net.zero_state();
    let e = net
        .set_weights(&mut state, Projection::Up, 1, Array2::zeros((3, 4)).view())
        .unwrap_err();
    assert_eq!(
        e,
        ModelError::ShapeMismatch {
            what: "w_up of layer 1".into(),
            expected: vec![4, 3],
            found: vec![3, 4]
        }
    );
    let input = Array2::zeros((2, 5));
    let e = net.check_drive(&Drive::free(input.view())).unwrap_err();
    assert!(e.to_string().contains("input (batch × n_0)"), "{e}");
    let input = Array2::zeros((2, 3));
    let target = Array2::zeros((1, 2));
    let e = net
        .check_drive(&Drive::nudged(input.view(), target.view()))
        .unwrap_err();
    assert!(e.to_string().contains("target"), "{e}");
    let other = Network::new(NetworkConfig::new(&[3, 5, 2]), 2).unwrap();
    assert!(net.check_state(&other.zero_state()).is_err());
}

#[test]
fn noise_with_a_deterministic_method_is_refused() {
    let mut c = NetworkConfig::new(&[3, 2]);
    c.noise = Noise {
        sigma: 0.1,
        ..Noise::default()
    };
    let net = Network::new(c, 1).unwrap();
    let e = MethodKind::Rk4
        .build(&net, 0)
        .err()
        .expect("RK4 must refuse σ > 0");
    assert_eq!(
        e,
        SolveError::NoiseUnsupported {
            method: "rk4",
            sigma: 0.1
        }
    );
    assert!(e.to_string().contains("not an SDE method"));
    // The SDE-capable methods accept it.
    assert!(MethodKind::Euler.build(&net, 0).is_ok());
    assert!(MethodKind::ExponentialEuler.build(&net, 0).is_ok());
}

#[test]
fn invalid_step_sizes_are_refused() {
    let net = Network::new(NetworkConfig::new(&[3, 2]), 1).unwrap();
    let mut s = net.zero_state();
    let input = Array2::zeros((1, 3));
    let mut m = MethodKind::Euler.build(&net, 0).unwrap();
    for dt in [0.0, -0.1, f64::NAN] {
        let e = m
            .step(&net, &mut s, &Drive::free(input.view()), 0.0, dt)
            .unwrap_err();
        assert!(matches!(e, SolveError::InvalidStep { .. }));
    }
}
