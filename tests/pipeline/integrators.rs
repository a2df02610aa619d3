//! The integrator-accuracy study measures what theory predicts.

use dendritic::experiment::{Scenario, run_one};
use dendritic::record::Cell;

#[test]
fn measured_orders_and_stability_limits_match_theory() {
    let mut s = Scenario::load("integrators").unwrap();
    s.seeds = vec![7];
    let out = run_one(&s, 7, None).unwrap();
    let get = |k: &str| match out.summary.get(k) {
        Some(Cell::Num(x)) => *x,
        other => panic!("{k}: {other:?}"),
    };
    // Orders within ±0.2 of 1 (Euler, exponential Euler) and 4 (RK4), frozen and plastic.
    for (m, p) in [
        ("euler", 1.0),
        ("rk4", 4.0),
        ("exponential_euler", 1.0),
        ("ros2", 2.0),
        ("bdf2", 2.0),
        ("implicit", 2.0),
    ] {
        for suffix in ["", "_plastic"] {
            let o = get(&format!("order_{m}{suffix}"));
            assert!((o - p).abs() <= 0.2, "order_{m}{suffix} = {o}");
        }
    }
    // Dormand–Prince: fifth order on the analytic oracle (controller off); with the controller
    // the achieved error tracks the tolerance over 1e-3 … 1e-10.
    let o = get("order_dopri5");
    assert!((o - 5.0).abs() <= 0.3, "order_dopri5 = {o}");
    for suffix in ["", "_plastic"] {
        let slope = get(&format!("dopri5_error_tolerance_slope{suffix}"));
        assert!((slope - 1.0).abs() <= 0.2, "dopri5_error_tolerance_slope{suffix} = {slope}");
    }
    // Observed stability limits within 10 % of the eigenvalue prediction.
    for m in ["euler", "rk4"] {
        let r = get(&format!("stability_limit_ratio_{m}"));
        assert!((r - 1.0).abs() <= 0.1, "stability_limit_ratio_{m} = {r}");
    }
    // The two-pass scheme's error is first order in g_A.
    let slope = get("two_pass_error_slope_g_a");
    assert!((slope - 1.0).abs() <= 0.15, "two-pass error ∝ g_A^{slope}");
}
