//! Scenario files: one TOML file per study (paper figure), parsed with serde (unknown keys
//! refused) and validated; every error names the file, the line where it can be found, and
//! the key.
//!
//! One file per job: `raw` (what serde reads), `settings` (the tables), `validate` (what serde
//! cannot check, and `TryFrom<RawScenario> for Scenario`), `typed` (the validated scenario and
//! its [`StudyConfig`]), `load` (files and embedded scenarios), `sweep` (grids and variants
//! expanded into runs), `error`.

mod error;
mod load;
mod raw;
mod settings;
mod sweep;
mod typed;
mod validate;

pub use error::{ScenarioError, locate_key};
pub use load::{EMBEDDED, scenario_text};
pub use raw::{RawScenario, Study};
pub use settings::*;
pub use sweep::{SweepRun, expand};
pub use typed::{Scenario, StudyConfig};
pub use validate::Invalid;
