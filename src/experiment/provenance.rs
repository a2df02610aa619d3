//! What a run records about where it came from: the commit of the program, and every
//! parameter of its scenario as summary columns.

use super::scenario::Scenario;
use crate::record::{Cell, SummaryRow};

/// Every scalar parameter of a scenario as a flat `section.key` → value map (arrays and
/// tables written as TOML text), for summary columns.
pub fn flatten_parameters(scenario: &Scenario) -> SummaryRow {
    fn walk(prefix: &str, v: &toml::Value, out: &mut SummaryRow) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            toml::Value::Float(x) => {
                out.insert(prefix.to_string(), Cell::Num(*x));
            }
            toml::Value::Integer(i) => {
                out.insert(prefix.to_string(), Cell::Num(*i as f64));
            }
            toml::Value::String(s) => {
                out.insert(prefix.to_string(), Cell::Text(s.clone()));
            }
            other => {
                out.insert(prefix.to_string(), Cell::Text(other.to_string()));
            }
        }
    }
    let mut out = SummaryRow::new();
    if let Ok(v) = toml::Value::try_from(scenario) {
        walk("", &v, &mut out);
    }
    out.remove("seeds");
    out.remove("description");
    out
}

/// The commit this program was built from (short hash, "+dirty" when the tree had uncommitted
/// changes, "unknown" outside a git checkout), embedded at build time by build.rs.
pub fn commit() -> String {
    env!("DENDRITIC_COMMIT").to_string()
}
