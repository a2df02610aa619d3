//! Reading scenarios: from a file or embedded in the program, parsed, checked for nan/inf and
//! validated.

use std::path::Path;

use super::error::{ScenarioError, locate_key};
use super::raw::RawScenario;
use super::typed::Scenario;

/// The scenarios shipped with the program (scenarios/*.toml, embedded at compile time).
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "self_predicting",
        include_str!("../../../scenarios/self_predicting.toml"),
    ),
    (
        "target_learning",
        include_str!("../../../scenarios/target_learning.toml"),
    ),
    (
        "regression",
        include_str!("../../../scenarios/regression.toml"),
    ),
    (
        "bp_equivalence",
        include_str!("../../../scenarios/bp_equivalence.toml"),
    ),
    (
        "integrators",
        include_str!("../../../scenarios/integrators.toml"),
    ),
    ("stiff", include_str!("../../../scenarios/stiff.toml")),
    (
        "robustness",
        include_str!("../../../scenarios/robustness.toml"),
    ),
    (
        "robustness_small",
        include_str!("../../../scenarios/robustness_small.toml"),
    ),
    (
        "mnist_short",
        include_str!("../../../scenarios/mnist_short.toml"),
    ),
    ("mnist", include_str!("../../../scenarios/mnist.toml")),
    ("fashion", include_str!("../../../scenarios/fashion.toml")),
    (
        "mnist_dynamics",
        include_str!("../../../scenarios/mnist_dynamics.toml"),
    ),
    (
        "performance",
        include_str!("../../../scenarios/performance.toml"),
    ),
    (
        "disinhibition_short",
        include_str!("../../../scenarios/disinhibition_short.toml"),
    ),
    (
        "disinhibition",
        include_str!("../../../scenarios/disinhibition.toml"),
    ),
];

/// The dotted path of the first float in `value` that is NaN or infinite.
fn non_finite(value: &toml::Value, path: &str) -> Option<String> {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match value {
        toml::Value::Float(x) if !x.is_finite() => Some(path.to_string()),
        toml::Value::Array(items) => items.iter().find_map(|v| non_finite(v, path)),
        toml::Value::Table(t) => t.iter().find_map(|(k, v)| non_finite(v, &join(k))),
        _ => None,
    }
}

/// The text of a scenario file, or of an embedded scenario by name.
///
/// # Errors
/// [`ScenarioError::Io`] / [`ScenarioError::Unknown`].
pub fn scenario_text(name_or_path: &str) -> Result<String, ScenarioError> {
    let path = Path::new(name_or_path);
    if path.exists() || name_or_path.ends_with(".toml") {
        return std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            file: name_or_path.into(),
            source,
        });
    }
    EMBEDDED
        .iter()
        .find(|(n, _)| *n == name_or_path)
        .map(|(_, t)| t.to_string())
        .ok_or_else(|| {
            ScenarioError::Unknown(
                name_or_path.into(),
                EMBEDDED
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })
}

impl Scenario {
    /// Parses and validates scenario text; `file` names it in errors.
    ///
    /// ```
    /// use dendritic::experiment::Scenario;
    ///
    /// let text = Scenario::load("regression").map(|s| toml::to_string(&s).unwrap()).unwrap();
    /// // A section its study does not read is refused, by file, line and key.
    /// let bad = format!("{text}\n[equivalence]\nlambdas = [0.1]\n");
    /// let err = Scenario::parse(&bad, "mine.toml").unwrap_err().to_string();
    /// assert!(err.contains("mine.toml") && err.contains("`equivalence`"), "{err}");
    /// ```
    ///
    /// # Errors
    /// [`ScenarioError::Parse`] or [`ScenarioError::Invalid`].
    pub fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        let raw: RawScenario = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            file: file.into(),
            message: e.to_string().trim_end().to_string(),
        })?;
        // TOML admits nan and inf; no parameter of ours means either.
        if let Ok(value) = toml::from_str::<toml::Value>(text)
            && let Some(key) = non_finite(&value, "")
        {
            return Err(ScenarioError::Invalid {
                file: file.into(),
                line: locate_key(text, &key),
                key,
                message: "must be a finite number (nan and inf are not parameters)".into(),
            });
        }
        Scenario::try_from(raw).map_err(|e| e.in_file(file, text))
    }

    /// Reads a scenario from a path, or an embedded one by name.
    ///
    /// ```
    /// use dendritic::experiment::{Scenario, StudyConfig};
    ///
    /// let s = Scenario::load("bp_equivalence").unwrap();
    /// let StudyConfig::BpEquivalence(eq) = &s.study else { panic!("its own study") };
    /// assert!(eq.lambdas.iter().all(|&l| l > 0.0 && l < 1.0));
    /// // An unknown name lists the embedded scenarios.
    /// let err = Scenario::load("no_such_scenario").unwrap_err().to_string();
    /// assert!(err.contains("self_predicting"));
    /// ```
    ///
    /// # Errors
    /// As [`Scenario::parse`], plus [`ScenarioError::Io`] / [`ScenarioError::Unknown`].
    pub fn load(name_or_path: &str) -> Result<Scenario, ScenarioError> {
        let path = Path::new(name_or_path);
        if path.exists() || name_or_path.ends_with(".toml") {
            let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
                file: name_or_path.into(),
                source,
            })?;
            return Scenario::parse(&text, name_or_path);
        }
        match EMBEDDED.iter().find(|(n, _)| *n == name_or_path) {
            Some((n, text)) => Scenario::parse(text, &format!("<embedded {n}.toml>")),
            None => Err(ScenarioError::Unknown(
                name_or_path.into(),
                EMBEDDED
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            )),
        }
    }
}
