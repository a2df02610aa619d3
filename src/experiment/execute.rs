//! One run of a scenario: dispatch to its study's protocol, then the checks every run gets
//! (a summary number that is not finite fails the run) and its wall time.

use std::path::Path;
use std::time::Instant;

use indicatif::ProgressBar;

use super::protocol::{RunError, RunOutput, num};
use super::scenario::{Scenario, StudyConfig};
use super::studies;
use crate::record::Cell;

/// Runs one seed of a scenario. `progress` advances by one per presented pattern.
///
/// ```
/// use dendritic::experiment::{Scenario, run_one};
/// use dendritic::record::Cell;
///
/// let mut s = Scenario::load("self_predicting").unwrap();
/// s.protocol.patterns = 3;
/// let out = run_one(&s, 1, None).unwrap();
/// // 3 patterns of 100 ms at dt = 0.1 ms: 3000 Euler steps, one right-hand side each.
/// assert!(matches!(out.summary["steps"], Cell::Num(n) if n == 3000.0));
/// assert!(matches!(out.summary["simulated_ms"], Cell::Num(t) if (t - 300.0).abs() < 1e-9));
/// ```
pub fn run_one(
    scenario: &Scenario,
    seed: u64,
    progress: Option<&ProgressBar>,
) -> Result<RunOutput, RunError> {
    run_one_with(scenario, seed, progress, None)
}

/// [`run_one`], with a directory for the checkpoints of long training runs: an MNIST run then
/// writes one at every epoch's end (even without `mnist.checkpoint_images`) and, started again
/// after an interruption, continues from the last. The drivers pass
/// `results/<name>/checkpoints` (a sweep run: its own directory's).
pub fn run_one_with(
    scenario: &Scenario,
    seed: u64,
    progress: Option<&ProgressBar>,
    checkpoints: Option<&Path>,
) -> Result<RunOutput, RunError> {
    let started = Instant::now();
    use studies::{
        bp_equivalence, disinhibition, integrators, mnist, performance, stiffness, time_stepping,
    };
    let mut out = match &scenario.study {
        StudyConfig::SelfPredicting => time_stepping::self_predicting(scenario, seed, progress)?,
        StudyConfig::TargetLearning => time_stepping::target_learning(scenario, seed, progress)?,
        StudyConfig::Regression => time_stepping::regression(scenario, seed, progress)?,
        StudyConfig::BpEquivalence(eq) => bp_equivalence::run(scenario, eq, seed, progress)?,
        StudyConfig::Integrators(it) => integrators::run(scenario, it, seed, progress)?,
        StudyConfig::Mnist(training) => {
            mnist::run(scenario, training, seed, progress, checkpoints)?
        }
        StudyConfig::Disinhibition { training, settings } => {
            disinhibition::run(scenario, training, settings, seed, progress, checkpoints)?
        }
        StudyConfig::Performance(perf) => performance::run(scenario, perf, seed, progress)?,
        StudyConfig::Stiffness(st) => stiffness::run(scenario, st, seed, progress)?,
    };
    if let Some((key, value)) = out.summary.iter().find_map(|(k, c)| match c {
        Cell::Num(v) if !v.is_finite() => Some((k.clone(), *v)),
        _ => None,
    }) {
        return Err(RunError::NonFinite { seed, key, value });
    }
    num(
        &mut out.summary,
        "wall_time_s",
        started.elapsed().as_secs_f64(),
    );
    Ok(out)
}

/// Total patterns a run presents (for progress bars).
pub fn patterns_per_run(scenario: &Scenario) -> u64 {
    let p = scenario.protocol.patterns as u64;
    match &scenario.study {
        StudyConfig::Regression => {
            if scenario.protocol.shallow_baseline {
                2 * p
            } else {
                p
            }
        }
        StudyConfig::Stiffness(s) => (s.factors.len() * studies::stiffness::METHODS.len()) as u64,
        StudyConfig::BpEquivalence(eq) => {
            (eq.lambdas.len() * eq.top_down.len() * eq.settle.len()) as u64
        }
        _ => p,
    }
}
