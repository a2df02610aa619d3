//! Linear stability of the potential dynamics: eigenvalues of the Jacobian at a state and the
//! largest step for which Euler and RK4 are stable on the linearisation.
//!
//! A method with stability function R is stable for the linear problem y' = λ y when
//! |R(dt λ)| ≤ 1. Euler: R(z) = 1 + z, so dt ≤ −2 Re λ / |λ|². RK4:
//! R(z) = 1 + z + z²/2 + z³/6 + z⁴/24; the boundary along each eigenvalue's ray is found by
//! bisection (2.785… / |λ| for real λ).

use ndarray_linalg::Eig;
use num_complex::Complex64;

use crate::model::{Drive, Network, State, Workspace};
use crate::solve::MethodKind;

/// Eigenvalues of the potential Jacobian of sample `b`.
pub fn eigenvalues(net: &Network, state: &State, drive: &Drive, b: usize) -> Vec<Complex64> {
    let mut ws = Workspace::new(net);
    let jac = net.jacobian(state, drive, b, &mut ws);
    let (vals, _) = jac.eig().expect("LAPACK dgeev on a finite matrix");
    vals.to_vec()
}

/// |R(z)| for a method's stability function.
pub fn amplification(method: MethodKind, z: Complex64) -> f64 {
    match method {
        MethodKind::Euler => (Complex64::new(1.0, 0.0) + z).norm(),
        MethodKind::Rk4 => {
            let mut term = Complex64::new(1.0, 0.0);
            let mut sum = term;
            for k in 1..=4 {
                term = term * z / k as f64;
                sum += term;
            }
            sum.norm()
        }
        // Dormand–Prince 5(4) (the propagated fifth-order solution): the degree-5 Taylor
        // polynomial plus z⁶/600 (Hairer & Wanner, Solving ODEs II, §IV.2).
        MethodKind::Dopri5 => {
            let mut term = Complex64::new(1.0, 0.0);
            let mut sum = term;
            for k in 1..=5 {
                term = term * z / k as f64;
                sum += term;
            }
            (sum + z.powu(6) / 600.0).norm()
        }
        // ROS2 with the exact Jacobian: h k₁ = z/(1 − γz), h k₂ = (z(1 + h k₁) − 2 h k₁)/(1 − γz),
        // R = 1 + (3/2) h k₁ + (1/2) h k₂; L-stable (|R| ≤ 1 on the left half-plane, R(−∞) = 0).
        MethodKind::Ros2 => {
            let one = Complex64::new(1.0, 0.0);
            let d = one - crate::solve::ROS2_GAMMA * z;
            let hk1 = z / d;
            let hk2 = (z * (one + hk1) - 2.0 * hk1) / d;
            (one + 1.5 * hk1 + 0.5 * hk2).norm()
        }
        // BDF2: the larger root of (1 − 2z/3) ζ² − (4/3) ζ + 1/3 = 0.
        MethodKind::Bdf2 => {
            let a = Complex64::new(1.0, 0.0) - 2.0 * z / 3.0;
            let (b, c) = (
                Complex64::new(-4.0 / 3.0, 0.0),
                Complex64::new(1.0 / 3.0, 0.0),
            );
            let d = (b * b - 4.0 * a * c).sqrt();
            ((-b + d) / (2.0 * a))
                .norm()
                .max(((-b - d) / (2.0 * a)).norm())
        }
        // Exponential Euler is exact for the diagonal (leak) part; on the full linearisation
        // its amplification is not a function of dt λ alone. Not offered.
        MethodKind::ExponentialEuler => f64::NAN,
    }
}

/// The largest dt with |R(dt λ)| ≤ 1 for one eigenvalue with Re λ < 0 (∞ for λ = 0).
pub fn dt_limit_for(method: MethodKind, lambda: Complex64) -> f64 {
    if lambda.norm() == 0.0 {
        return f64::INFINITY;
    }
    if lambda.re >= 0.0 {
        return 0.0;
    }
    match method {
        MethodKind::Euler => -2.0 * lambda.re / lambda.norm_sqr(),
        _ => {
            // R(0) = 1 and |R| < 1 just inside; bracket the first crossing above 1.
            let (mut lo, mut hi) = (0.0, 1.0 / lambda.norm());
            while amplification(method, lambda * hi) <= 1.0 {
                lo = hi;
                hi *= 2.0;
                if hi > 1e12 {
                    return f64::INFINITY;
                }
            }
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if amplification(method, lambda * mid) <= 1.0 {
                    lo = mid
                } else {
                    hi = mid
                }
            }
            lo
        }
    }
}

/// The largest stable dt over all eigenvalues of the linearisation at `state` (sample `b`).
pub fn dt_limit(method: MethodKind, net: &Network, state: &State, drive: &Drive, b: usize) -> f64 {
    eigenvalues(net, state, drive, b)
        .into_iter()
        .map(|l| dt_limit_for(method, l))
        .fold(f64::INFINITY, f64::min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rk4_real_axis_limit() {
        // The RK4 stability interval on the negative real axis ends at −2.785293563405282.
        let dt = dt_limit_for(MethodKind::Rk4, Complex64::new(-1.0, 0.0));
        assert!((dt - 2.785293563405282).abs() < 1e-9, "{dt}");
    }

    #[test]
    fn euler_limits() {
        assert_eq!(
            dt_limit_for(MethodKind::Euler, Complex64::new(-4.0, 0.0)),
            0.5
        );
        // λ = −1 ± i: |1 + dt λ|² = (1 − dt)² + dt² = 1 → dt = 1.
        assert!((dt_limit_for(MethodKind::Euler, Complex64::new(-1.0, 1.0)) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn dopri5_real_axis_limit() {
        // |1 + z + z²/2 + z³/6 + z⁴/24 + z⁵/120 + z⁶/600| = 1 on the negative real axis at
        // z = −3.3066 (there R = +1; Hairer & Wanner II, Fig. IV.2.1 shows the boundary near −3.3).
        let dt = dt_limit_for(MethodKind::Dopri5, Complex64::new(-1.0, 0.0));
        let r = |z: f64| {
            1.0 + z
                + z * z / 2.0
                + z.powi(3) / 6.0
                + z.powi(4) / 24.0
                + z.powi(5) / 120.0
                + z.powi(6) / 600.0
        };
        assert!((r(-dt).abs() - 1.0).abs() < 1e-9, "R(−{dt}) = {}", r(-dt));
        assert!(r(-0.99 * dt).abs() < 1.0 && r(-1.01 * dt).abs() > 1.0);
        assert!((dt - 3.3066).abs() < 1e-3, "{dt}");
    }

    #[test]
    fn ros2_is_l_stable() {
        // |R| ≤ 1 on the whole left half-plane and R → 0 at −∞: no step limit.
        for re in [-1e-3, -0.1, -1.0, -10.0, -1e3, -1e6] {
            for im in [0.0, 0.5, 5.0, 500.0] {
                let z = Complex64::new(re, im);
                assert!(amplification(MethodKind::Ros2, z) <= 1.0 + 1e-12, "{z}");
            }
        }
        assert!(amplification(MethodKind::Ros2, Complex64::new(-1e9, 0.0)) < 1e-8);
        assert_eq!(
            dt_limit_for(MethodKind::Ros2, Complex64::new(-4.0, 0.0)),
            f64::INFINITY
        );
    }

    #[test]
    fn bdf2_is_a_stable_with_a_root_at_one_for_z_zero() {
        // z = 0: roots 1 and 1/3 (consistency, zero-stability).
        assert!((amplification(MethodKind::Bdf2, Complex64::new(0.0, 0.0)) - 1.0).abs() < 1e-15);
        for re in [-1e-3, -0.1, -1.0, -10.0, -1e3, -1e6] {
            for im in [0.0, 0.5, 5.0, 500.0] {
                let z = Complex64::new(re, im);
                assert!(amplification(MethodKind::Bdf2, z) <= 1.0 + 1e-12, "{z}");
            }
        }
        assert!(amplification(MethodKind::Bdf2, Complex64::new(-1e9, 0.0)) < 1e-4);
    }
}
