//! The page of each study: one file per study (mirroring `experiment::studies`), its figures
//! and headline numbers read from the scenario and the results alone.

mod bp_equivalence;
mod common;
mod disinhibition;
mod integrators;
mod mnist;
mod performance;
mod regression;
mod robustness;
mod self_predicting;
mod stiffness;
mod target_learning;

use super::error::ReportResult;
use super::page::{Inputs, Page};
use crate::experiment::scenario::Study;

/// Builds the page of a study.
pub(super) fn page(inputs: &Inputs) -> ReportResult<Page> {
    match inputs.scenario.study.kind() {
        Study::SelfPredicting => self_predicting::self_predicting(inputs),
        Study::TargetLearning => target_learning::target_learning(inputs),
        Study::Regression if inputs.scenario.sweep.is_some() => robustness::robustness(inputs),
        Study::Regression => regression::regression(inputs),
        Study::BpEquivalence => bp_equivalence::bp_equivalence(inputs),
        Study::Integrators => integrators::integrators(inputs),
        Study::Mnist => mnist::mnist(inputs),
        Study::Disinhibition => disinhibition::disinhibition(inputs),
        Study::Performance => performance::performance(inputs),
        Study::Stiffness => stiffness::stiffness(inputs),
    }
}
