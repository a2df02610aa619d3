//! What serde cannot check: every value that parses but is impossible, named by its dotted key.

use super::error::{ScenarioError, locate_key};
use super::raw::{RawScenario, Study};
use super::settings::{Disinhibition, LearnerKind, SettleBy, Stiffness};
use super::typed::{Scenario, StudyConfig};
use crate::model::ModelError;
use crate::solve::MethodKind;
use crate::task::TaskConfig;

/// A value that parses but is impossible: its dotted key and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{key}`: {message}")]
pub struct Invalid {
    /// Dotted key path (`mnist.batch`).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl Invalid {
    /// An error for `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Invalid {
        Invalid {
            key: key.into(),
            message: message.into(),
        }
    }

    /// The same error located in a scenario file: the line of its key in `text`.
    pub fn in_file(self, file: &str, text: &str) -> ScenarioError {
        ScenarioError::Invalid {
            file: file.into(),
            line: locate_key(text, &self.key),
            key: self.key,
            message: self.message,
        }
    }
}

impl Scenario {
    /// Checks a scenario changed after parsing (a command-line override) as a file would be.
    ///
    /// # Errors
    /// The first impossible value, by key.
    pub fn check(&self) -> Result<(), Invalid> {
        Scenario::try_from(RawScenario::from(self.clone())).map(|_| ())
    }
}

impl From<(String, String)> for Invalid {
    fn from((key, message): (String, String)) -> Invalid {
        Invalid { key, message }
    }
}

impl TryFrom<RawScenario> for Scenario {
    type Error = Invalid;

    /// Validates a raw scenario and moves its study's section into [`StudyConfig`]; a section
    /// its study does not read is refused (it would be silently ignored).
    fn try_from(raw: RawScenario) -> Result<Scenario, Invalid> {
        raw.validate()?;
        let absent = |present: bool, key: &str| {
            if present {
                Err(Invalid::new(
                    key,
                    format!(
                        "the {} study does not read a [{key}] table",
                        raw.study.name()
                    ),
                ))
            } else {
                Ok(())
            }
        };
        let study = match raw.study {
            Study::SelfPredicting => StudyConfig::SelfPredicting,
            Study::TargetLearning => StudyConfig::TargetLearning,
            Study::Regression => StudyConfig::Regression,
            Study::BpEquivalence => {
                StudyConfig::BpEquivalence(required(&raw.equivalence, "equivalence")?)
            }
            Study::Integrators => {
                StudyConfig::Integrators(required(&raw.integrators, "integrators")?)
            }
            Study::Mnist => StudyConfig::Mnist(required(&raw.mnist, "mnist")?),
            Study::Disinhibition => StudyConfig::Disinhibition {
                training: required(&raw.mnist, "mnist")?,
                settings: required(&raw.disinhibition, "disinhibition")?,
            },
            Study::Performance => {
                StudyConfig::Performance(required(&raw.performance, "performance")?)
            }
            Study::Stiffness => StudyConfig::Stiffness(required(&raw.stiffness, "stiffness")?),
        };
        let kind = study.kind();
        absent(
            raw.equivalence.is_some() && kind != Study::BpEquivalence,
            "equivalence",
        )?;
        absent(
            raw.integrators.is_some() && kind != Study::Integrators,
            "integrators",
        )?;
        absent(
            raw.mnist.is_some() && !matches!(kind, Study::Mnist | Study::Disinhibition),
            "mnist",
        )?;
        absent(
            raw.disinhibition.is_some() && kind != Study::Disinhibition,
            "disinhibition",
        )?;
        absent(
            raw.performance.is_some() && kind != Study::Performance,
            "performance",
        )?;
        absent(
            raw.stiffness.is_some() && kind != Study::Stiffness,
            "stiffness",
        )?;
        Ok(Scenario {
            name: raw.name,
            description: raw.description,
            study,
            seeds: raw.seeds,
            method: raw.method,
            rtol: raw.rtol,
            atol: raw.atol,
            network: raw.network,
            init: raw.init,
            task: raw.task,
            protocol: raw.protocol,
            record: raw.record,
            sweep: raw.sweep,
        })
    }
}

/// A study's section, present (validation has checked that it is).
fn required<T: Clone>(section: &Option<T>, key: &str) -> Result<T, Invalid> {
    section
        .clone()
        .ok_or_else(|| Invalid::new(key, format!("this study needs a [{key}] table")))
}

impl Disinhibition {
    /// Checks against a network of `n` layers above the input, `test` test images and step
    /// `dt`; returns (key, message).
    pub fn validate(&self, n: usize, test: usize, dt: f64) -> Result<(), (String, String)> {
        self.validate_sets(n, test)?;
        self.validate_settling(dt)?;
        self.validate_gate_schedule(n)
    }

    /// The rates, the classifier and the test images, levels and corruptions.
    fn validate_sets(&self, n: usize, test: usize) -> Result<(), (String, String)> {
        let e = |k: &str, m: String| Err((k.to_string(), m));
        if n != 2 {
            return e(
                "gate_schedule",
                format!(
                    "the study reads hidden layer 1 of a 784-H-10 network: needs 3 sizes, got {}",
                    n + 1
                ),
            );
        }
        if !(self.eta_reconstruction > 0.0 && self.eta_reconstruction.is_finite()) {
            return e(
                "eta_reconstruction",
                format!("must be > 0, got {}", self.eta_reconstruction),
            );
        }
        if self.top_down_epochs > 0 && !(self.eta_top_down > 0.0 && self.eta_top_down.is_finite()) {
            return e(
                "eta_top_down",
                format!(
                    "top_down_epochs = {} needs eta_top_down > 0, got {}",
                    self.top_down_epochs, self.eta_top_down
                ),
            );
        }
        if self.classifier_eta.len() != n {
            return e(
                "classifier_eta",
                format!(
                    "needs {n} values (one per layer), got {}",
                    self.classifier_eta.len()
                ),
            );
        }
        if self.test_images == 0 || self.test_images > test {
            return e(
                "test_images",
                format!(
                    "must lie in 1..={test} (task.test), got {}",
                    self.test_images
                ),
            );
        }
        if let Some(l) = self.levels.iter().find(|l| !(0.0..=1.0).contains(*l)) {
            return e(
                "levels",
                format!("fractions of pixels lie in [0, 1], got {l}"),
            );
        }
        if self.levels.is_empty() || self.corruptions.is_empty() {
            return e(
                "levels",
                "needs at least one level and one corruption".into(),
            );
        }
        Ok(())
    }

    /// Settling and generation: durations against dt, batch sizes, noise.
    fn validate_settling(&self, dt: f64) -> Result<(), (String, String)> {
        let e = |k: &str, m: String| Err((k.to_string(), m));
        if !(self.settle_ms >= dt) {
            return e(
                "settle_ms",
                format!(
                    "must be at least protocol.dt = {dt} ms, got {}",
                    self.settle_ms
                ),
            );
        }
        if self.settle_batch == 0 || self.generation_samples == 0 {
            return e(
                "settle_batch",
                "settle_batch and generation_samples must be ≥ 1".into(),
            );
        }
        if !(self.generation_tau_ms >= dt && self.generation_tau_ms.is_finite()) {
            return e(
                "generation_tau_ms",
                format!(
                    "must be at least protocol.dt = {dt} ms (forward Euler), got {}",
                    self.generation_tau_ms
                ),
            );
        }
        if !(self.generation_sigma >= 0.0 && self.generation_sigma.is_finite()) {
            return e(
                "generation_sigma",
                format!("must be ≥ 0, got {}", self.generation_sigma),
            );
        }
        Ok(())
    }

    /// The gate schedule: from t = 0, strictly increasing, one gate in [0, 1] per hidden layer.
    fn validate_gate_schedule(&self, n: usize) -> Result<(), (String, String)> {
        let e = |k: &str, m: String| Err((k.to_string(), m));
        let Some(first) = self.gate_schedule.first() else {
            return e("gate_schedule", "needs at least one step".into());
        };
        if first.t_ms != 0.0 {
            return e(
                "gate_schedule",
                format!("the first step begins at t_ms = 0, got {}", first.t_ms),
            );
        }
        for (i, w) in self.gate_schedule.windows(2).enumerate() {
            if !(w[1].t_ms > w[0].t_ms) {
                return e(
                    "gate_schedule",
                    format!(
                        "step {} begins at {} ms, not after step {} ({} ms)",
                        i + 2,
                        w[1].t_ms,
                        i + 1,
                        w[0].t_ms
                    ),
                );
            }
        }
        for (i, s) in self.gate_schedule.iter().enumerate() {
            if s.gate.len() != n - 1 {
                return e(
                    "gate_schedule",
                    format!(
                        "step {} has {} gates; needs one per hidden layer ({})",
                        i + 1,
                        s.gate.len(),
                        n - 1
                    ),
                );
            }
            if let Some(g) = s.gate.iter().find(|g| !(0.0..=1.0).contains(*g)) {
                return e(
                    "gate_schedule",
                    format!("step {}: a gate lies in [0, 1], got {g}", i + 1),
                );
            }
        }
        Ok(())
    }
}

impl Stiffness {
    /// Checks what serde cannot: (key within `[stiffness]`, message).
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |k: &str, m: String| Err((k.to_string(), m));
        if self.factors.is_empty()
            || self.factors.iter().any(|f| !(*f >= 1.0 && f.is_finite()))
            || self.factors.windows(2).any(|w| w[1] <= w[0])
        {
            return bad(
                "factors",
                format!("needs ascending factors ≥ 1, got {:?}", self.factors),
            );
        }
        for (k, v) in [
            ("duration_ms", self.duration_ms),
            ("target_error", self.target_error),
            ("coarsest_dt", self.coarsest_dt),
            ("reference_dt", self.reference_dt),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return bad(k, format!("must be finite and > 0, got {v}"));
            }
        }
        if self.coarsest_dt > self.duration_ms {
            return bad(
                "coarsest_dt",
                format!("must not exceed duration_ms = {}", self.duration_ms),
            );
        }
        if self.max_steps == 0 || self.repetitions == 0 || self.stability_steps == 0 {
            return bad(
                "max_steps",
                "max_steps, repetitions and stability_steps must be ≥ 1".into(),
            );
        }
        if self.tolerances.is_empty() || self.tolerances.iter().any(|t| !(*t > 0.0 && *t < 1.0)) {
            return bad(
                "tolerances",
                format!("needs tolerances in (0, 1), got {:?}", self.tolerances),
            );
        }
        Ok(())
    }
}

impl RawScenario {
    /// Checks what serde cannot: returns (dotted key, message).
    pub fn validate(&self) -> Result<(), (String, String)> {
        self.validate_common()?;
        self.validate_mnist_table()?;
        self.validate_task_and_protocol()?;
        self.validate_run()?;
        let n = self.network.n_layers();
        let e = |k: &str, m: String| Err((k.to_string(), m));
        match (self.study, &self.task) {
            (Study::SelfPredicting, TaskConfig::RandomPatterns { .. })
            | (Study::TargetLearning, TaskConfig::SingleAssociation { .. }) => {}
            (Study::BpEquivalence, TaskConfig::SingleAssociation { .. }) => {
                self.validate_bp_equivalence()?
            }
            (Study::Integrators, TaskConfig::SingleAssociation { .. }) => {
                self.validate_integrators()?
            }
            (Study::Mnist, TaskConfig::Mnist { .. }) => self.validate_mnist()?,
            (Study::Disinhibition, TaskConfig::Mnist { test, .. }) => {
                self.validate_disinhibition(n, *test)?
            }
            (Study::Performance, TaskConfig::SingleAssociation { .. }) => {
                self.validate_performance()?
            }
            (Study::Stiffness, TaskConfig::SingleAssociation { .. }) => {
                self.validate_stiffness()?
            }
            (Study::Regression, TaskConfig::Teacher { .. }) => self.validate_regression(n)?,
            (s, _) => return Err(wrong_task(s)),
        }
        if n < 2 && self.study != Study::Regression {
            return e(
                "network.sizes",
                format!(
                    "needs at least one hidden layer (3 sizes), got {:?}",
                    self.network.sizes
                ),
            );
        }
        Ok(())
    }

    /// The name, the network's equations and the initial weights.
    fn validate_common(&self) -> Result<(), (String, String)> {
        let e = |k: &str, m: String| Err((k.to_string(), m));
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return e(
                "name",
                format!(
                    "must be a non-empty file-name-safe word (letters, digits, _ and -), got '{}'",
                    self.name
                ),
            );
        }
        if let Err(ModelError::InvalidParameter { key, message }) = self.network.validate() {
            return e(&format!("network.{key}"), message);
        }
        if let Some(s) = &self.init.scale_down_layers {
            let hidden = self.network.sizes.len().saturating_sub(2);
            if s.len() != hidden {
                return e(
                    "init.scale_down_layers",
                    format!(
                        "needs {hidden} values (one per hidden layer), got {}",
                        s.len()
                    ),
                );
            }
        }
        let g = self.init.transpose_gain;
        if !(g.is_finite() && g > 0.0) {
            return e(
                "init.transpose_gain",
                format!("must be a finite positive number, got {g}"),
            );
        }
        Ok(())
    }

    /// The `[mnist]` table, whichever study reads it.
    fn validate_mnist_table(&self) -> Result<(), (String, String)> {
        let e = |k: &str, m: String| Err((k.to_string(), m));
        if let Some(m) = &self.mnist {
            let n = self.network.sizes.len() - 1;
            if let Some(bad) = m.ideal_layers.iter().flatten().find(|&&k| k == 0 || k >= n) {
                return e(
                    "mnist.ideal_layers",
                    format!("hidden layers are 1..{}, got {bad}", n - 1),
                );
            }
            match (&m.learner, &m.backprop_eta) {
                (LearnerKind::Backprop | LearnerKind::FeedbackAlignment, None) => {
                    return e(
                        "mnist.backprop_eta",
                        "learner = \"backprop\" or \"feedback_alignment\" needs a learning rate per layer".into(),
                    );
                }
                (_, Some(eta)) if eta.len() != n => {
                    return e(
                        "mnist.backprop_eta",
                        format!("needs {n} values (one per layer), got {}", eta.len()),
                    );
                }
                _ => {}
            }
            if m.rate_normalization != crate::learn::RateNormalization::None
                && m.settle == crate::learn::SettleBy::Dynamics
            {
                return e(
                    "mnist.rate_normalization",
                    "is a rule of the two-pass learner; settle = \"dynamics\" learns in continuous time without it".into(),
                );
            }
            if !(m.backprop_weight_decay >= 0.0 && m.backprop_weight_decay.is_finite()) {
                return e(
                    "mnist.backprop_weight_decay",
                    format!("must be finite and ≥ 0, got {}", m.backprop_weight_decay),
                );
            }
            if !(m.eta_decay_per_epoch > 0.0 && m.eta_decay_per_epoch <= 1.0) {
                return e(
                    "mnist.eta_decay_per_epoch",
                    format!("must lie in (0, 1], got {}", m.eta_decay_per_epoch),
                );
            }
            if m.batch == 0 || m.epochs == 0 || m.evaluations_per_epoch == 0 {
                return e(
                    "mnist",
                    "epochs, batch and evaluations_per_epoch must be at least 1".into(),
                );
            }
        }
        Ok(())
    }

    /// The task against the sizes, and the protocol's step and patterns.
    fn validate_task_and_protocol(&self) -> Result<(), (String, String)> {
        let e = |k: &str, m: String| Err((k.to_string(), m));
        if let Err(m) = self.task.validate(&self.network.sizes) {
            let key = m
                .split_whitespace()
                .find(|w| w.starts_with("task."))
                .unwrap_or("task")
                .trim_end_matches(':')
                .to_string();
            return e(&key, m);
        }
        let p = &self.protocol;
        if !(p.dt > 0.0 && p.dt.is_finite()) {
            return e("protocol.dt", format!("must be > 0 ms, got {}", p.dt));
        }
        if !(p.pattern_ms >= p.dt) {
            return e(
                "protocol.pattern_ms",
                format!(
                    "must be at least one step (dt = {}), got {}",
                    p.dt, p.pattern_ms
                ),
            );
        }
        let steps = p.pattern_ms / p.dt;
        if (steps - steps.round()).abs() > 1e-9 * steps {
            return e(
                "protocol.pattern_ms",
                format!(
                    "must be a whole number of steps of dt = {} ms, got {} ms",
                    p.dt, p.pattern_ms
                ),
            );
        }
        if p.patterns == 0 {
            return e("protocol.patterns", "must be ≥ 1".into());
        }
        if !(p.ema_weight > 0.0 && p.ema_weight <= 1.0) {
            return e(
                "protocol.ema_weight",
                format!("must be in (0, 1], got {}", p.ema_weight),
            );
        }
        Ok(())
    }

    /// The seeds, the method against the noise, the tolerances and the recording interval.
    fn validate_run(&self) -> Result<(), (String, String)> {
        let e = |k: &str, m: String| Err((k.to_string(), m));
        let p = &self.protocol;
        if self.seeds.is_empty() {
            return e("seeds", "needs at least one seed".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = self.seeds.iter().find(|s| !seen.insert(**s)) {
            return e(
                "seeds",
                format!(
                    "seed {dup} appears twice (each seed is one run; a duplicate would be averaged as a second sample)"
                ),
            );
        }
        if !self.method.integrates_noise() && self.network.noise.sigma > 0.0 {
            return e(
                "method",
                format!(
                    "{} is not an SDE method and cannot integrate network.noise.sigma = {} > 0; use \"euler\" or \"exponential_euler\"",
                    self.method.name(),
                    self.network.noise.sigma
                ),
            );
        }
        for (key, value) in [("rtol", self.rtol), ("atol", self.atol)] {
            let Some(v) = value else { continue };
            if !self.method.is_adaptive() {
                return e(
                    key,
                    format!(
                        "applies to an adaptive method (method = \"dopri5\"); method is \"{}\"",
                        self.method.name()
                    ),
                );
            }
            if !(v > 0.0 && v.is_finite() && v < 1.0) {
                return e(key, format!("must be in (0, 1), got {v}"));
            }
        }
        if !(self.record.interval_ms >= p.dt) {
            return e(
                "record.interval_ms",
                format!(
                    "must be at least dt = {} ms, got {}",
                    p.dt, self.record.interval_ms
                ),
            );
        }
        Ok(())
    }

    /// The λ sweep: λ in (0, 1), known settle methods, σ = 0, g_D = g_B.
    fn validate_bp_equivalence(&self) -> Result<(), (String, String)> {
        let e = |k: &str, m: String| Err((k.to_string(), m));
        let Some(eq) = &self.equivalence else {
            return e(
                "equivalence",
                "the bp_equivalence study needs an [equivalence] table with `lambdas`".into(),
            );
        };
        if eq.lambdas.is_empty() || eq.lambdas.iter().any(|l| !(*l > 0.0 && *l < 1.0)) {
            return e(
                "equivalence.lambdas",
                format!("needs values in (0, 1), got {:?}", eq.lambdas),
            );
        }
        if let Some(bad) = eq
            .settle
            .iter()
            .find(|s| !["newton", "fixed_point", "two_pass", "dynamics"].contains(&s.as_str()))
        {
            return e(
                "equivalence.settle",
                format!(
                    "unknown settle method \"{bad}\"; use newton, fixed_point, two_pass or dynamics"
                ),
            );
        }
        if self.network.noise.sigma > 0.0 {
            return e(
                "network.noise.sigma",
                "the equivalence is measured at steady state: needs σ = 0".into(),
            );
        }
        if self.network.conductances.g_d != self.network.conductances.g_b {
            return e(
                "network.conductances.g_d",
                "the λ sweep sets λ_I = λ_N, which needs g_D = g_B".into(),
            );
        }
        Ok(())
    }

    /// The accuracy study: at least 3 step sizes dividing the duration, tolerances in (0, 1), σ = 0.
    fn validate_integrators(&self) -> Result<(), (String, String)> {
        let e = |k: &str, m: String| Err((k.to_string(), m));
        let Some(it) = &self.integrators else {
            return e(
                "integrators",
                "the integrators study needs an [integrators] table".into(),
            );
        };
        if it.dts.len() < 3 {
            return e(
                "integrators.dts",
                "needs at least 3 step sizes to fit an order".into(),
            );
        }
        for (key, dts) in [
            ("integrators.dts", &it.dts),
            ("integrators.dopri5_dts", &it.dopri5_dts),
        ] {
            if let Some(dt) = dts.iter().find(|dt| {
                !(**dt > 0.0)
                    || ((it.duration_ms / **dt) - (it.duration_ms / **dt).round()).abs() > 1e-9
            }) {
                return e(
                    key,
                    format!(
                        "{dt} does not divide integrators.duration_ms = {}",
                        it.duration_ms
                    ),
                );
            }
        }
        if it.tolerances.iter().any(|t| !(*t > 0.0 && *t < 1.0)) {
            return e(
                "integrators.tolerances",
                format!("needs tolerances in (0, 1), got {:?}", it.tolerances),
            );
        }
        if self.network.noise.sigma > 0.0 {
            return e(
                "network.noise.sigma",
                "the accuracy study is deterministic: needs σ = 0".into(),
            );
        }
        Ok(())
    }

    /// The MNIST study: its counts, σ = 0, the dynamics learner's steps, checkpoints for an early stop.
    fn validate_mnist(&self) -> Result<(), (String, String)> {
        let e = |k: &str, m: String| Err((k.to_string(), m));
        let p = &self.protocol;
        let Some(m) = &self.mnist else {
            return e(
                "mnist",
                "the mnist study needs an [mnist] table with `epochs`".into(),
            );
        };
        if m.epochs == 0 || m.batch == 0 || m.evaluations_per_epoch == 0 {
            return e(
                "mnist.epochs",
                "mnist.epochs, mnist.batch and mnist.evaluations_per_epoch must be ≥ 1".into(),
            );
        }
        if self.network.noise.sigma > 0.0 {
            return e(
                "network.noise.sigma",
                "the two-pass learner is deterministic: needs σ = 0".into(),
            );
        }
        if m.settle == SettleBy::Dynamics {
            if self.method != MethodKind::Euler {
                return e(
                    "method",
                    format!(
                        "mnist.settle = \"dynamics\" integrates by forward Euler: needs method = \"euler\", got \"{}\"",
                        self.method.name()
                    ),
                );
            }
            let whole = |ms: f64| ((ms / p.dt) - (ms / p.dt).round()).abs() < 1e-9;
            if !(m.learn_ms >= p.dt && whole(m.learn_ms)) {
                return e(
                    "mnist.learn_ms",
                    format!(
                        "must be a positive whole number of protocol.dt = {} ms, got {}",
                        p.dt, m.learn_ms
                    ),
                );
            }
            if !(m.settle_ms >= 0.0 && whole(m.settle_ms)) {
                return e(
                    "mnist.settle_ms",
                    format!(
                        "must be a whole number (≥ 0) of protocol.dt = {} ms, got {}",
                        p.dt, m.settle_ms
                    ),
                );
            }
        }
        if m.stop_after_images > 0 && m.checkpoint_images == 0 {
            return e(
                "mnist.stop_after_images",
                "stopping early needs checkpoints: set mnist.checkpoint_images too".into(),
            );
        }
        Ok(())
    }

    /// The disinhibition study: the two-pass microcircuit and its `[disinhibition]` table.
    fn validate_disinhibition(&self, n: usize, test: usize) -> Result<(), (String, String)> {
        let e = |k: &str, m: String| Err((k.to_string(), m));
        let p = &self.protocol;
        let Some(m) = &self.mnist else {
            return e(
                "mnist",
                "the disinhibition study trains by an [mnist] table (epochs, batch)".into(),
            );
        };
        if m.learner != LearnerKind::Microcircuit || m.settle != SettleBy::TwoPass {
            return e(
                "mnist.learner",
                "the disinhibition study trains the two-pass microcircuit".into(),
            );
        }
        let Some(d) = &self.disinhibition else {
            return e(
                "disinhibition",
                "the disinhibition study needs a [disinhibition] table".into(),
            );
        };
        d.validate(n, test, p.dt)
            .map_err(|(k, m)| (format!("disinhibition.{k}"), m))?;
        Ok(())
    }

    /// The speed study: repetitions, sizes, steps.
    fn validate_performance(&self) -> Result<(), (String, String)> {
        let e = |k: &str, m: String| Err((k.to_string(), m));
        let Some(perf) = &self.performance else {
            return e(
                "performance",
                "the performance study needs a [performance] table".into(),
            );
        };
        if perf.repetitions < 3 || perf.epoch_repetitions < 1 {
            return e(
                "performance.repetitions",
                "needs repetitions ≥ 3 (medians) and epoch_repetitions ≥ 1".into(),
            );
        }
        if perf.small_sizes.len() < 3 || perf.small_sizes.contains(&0) {
            return e(
                "performance.small_sizes",
                format!("needs ≥ 3 positive sizes, got {:?}", perf.small_sizes),
            );
        }
        if perf.batch == 0
            || perf.steps_small == 0
            || perf.steps_large == 0
            || perf.steps_batch == 0
            || perf.epoch_images == 0
        {
            return e(
                "performance.batch",
                "batch, steps_small, steps_large, steps_batch and epoch_images must be ≥ 1".into(),
            );
        }
        if !(perf.eta.is_finite()) {
            return e(
                "performance.eta",
                format!("must be finite, got {}", perf.eta),
            );
        }
        Ok(())
    }

    /// The stiffness study: its table, σ = 0.
    fn validate_stiffness(&self) -> Result<(), (String, String)> {
        let e = |k: &str, m: String| Err((k.to_string(), m));
        let Some(st) = &self.stiffness else {
            return e(
                "stiffness",
                "the stiffness study needs a [stiffness] table".into(),
            );
        };
        st.validate()
            .map_err(|(k, m)| (format!("stiffness.{k}"), m))?;
        if self.network.noise.sigma > 0.0 {
            return e(
                "network.noise.sigma",
                "the stiffness study compares deterministic methods: needs σ = 0".into(),
            );
        }
        Ok(())
    }

    /// The regression study: a test set, one hidden layer.
    fn validate_regression(&self, n: usize) -> Result<(), (String, String)> {
        let e = |k: &str, m: String| Err((k.to_string(), m));
        let p = &self.protocol;
        if p.test_every == 0 || p.test_patterns == 0 {
            return e(
                "protocol.test_every",
                "the regression study needs protocol.test_every ≥ 1 and protocol.test_patterns ≥ 1"
                    .into(),
            );
        }
        if n != 2 {
            return e(
                "network.sizes",
                format!(
                    "the regression study compares a one-hidden-layer microcircuit with a shallow learner: needs 3 sizes, got {:?}",
                    self.network.sizes
                ),
            );
        }
        Ok(())
    }
}

/// The error for a study whose task is of the wrong kind.
fn wrong_task(s: Study) -> (String, String) {
    let want = match s {
        Study::SelfPredicting => "random_patterns",
        Study::Regression => "teacher",
        Study::TargetLearning
        | Study::BpEquivalence
        | Study::Integrators
        | Study::Performance
        | Study::Stiffness => "single_association",
        Study::Mnist | Study::Disinhibition => "mnist",
    };
    (
        "task.kind".to_string(),
        format!("study `{}` needs task kind \"{want}\"", s.name()),
    )
}
