//! A scenario's `[sweep]`: grids and variants, expanded into one resolved scenario per run.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::{ScenarioError, locate_key};
use super::raw::RawScenario;
use super::settings::Variant;
use super::typed::Scenario;

/// One run of a sweep.
#[derive(Clone, Debug)]
pub struct SweepRun {
    /// Position in the expansion (stable: grid in key order, seeds innermost).
    pub index: usize,
    /// The variant (empty without `[[sweep.variant]]`).
    pub variant: String,
    /// The swept parameters of this run.
    pub params: Vec<(String, toml::Value)>,
    /// The seed.
    pub seed: u64,
    /// The scenario with the parameters applied and `seeds = [seed]`.
    pub scenario: Scenario,
}

impl SweepRun {
    /// Directory name, e.g. run00007.
    pub fn dir_name(&self) -> String {
        format!("run{:05}", self.index)
    }

    /// The run's identity: a 64-bit FNV-1a hash (hex) of its fully resolved scenario (every
    /// parameter, defaults filled in, the seed) and its variant's name. Recorded with the run
    /// (`run_identity`); `--resume` and `merge` accept a run directory only when it matches, so
    /// results of an edited grid are never mistaken for the current one.
    pub fn identity(&self) -> String {
        let text = toml::to_string(&self.scenario).unwrap_or_default();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self
            .variant
            .bytes()
            .chain(std::iter::once(0))
            .chain(text.bytes())
        {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

fn set_path(root: &mut toml::Value, path: &str, value: toml::Value) -> Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut cur = root;
    for (i, p) in parts.iter().enumerate() {
        let table = cur
            .as_table_mut()
            .ok_or_else(|| format!("`{}` is not a table", parts[..i].join(".")))?;
        if i + 1 == parts.len() {
            table.insert(p.to_string(), value);
            return Ok(());
        }
        cur = table
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    }
    Ok(())
}

/// Expands a scenario file's sweep into runs. Without a `[sweep]` table every seed is a run.
///
/// # Errors
/// A [`ScenarioError`] naming the file, line and swept key when a grid point is invalid.
pub fn expand(text: &str, file: &str) -> Result<(Scenario, Vec<SweepRun>), ScenarioError> {
    let base = Scenario::parse(text, file)?;
    let value: toml::Value = toml::from_str(text).map_err(|e| ScenarioError::Parse {
        file: file.into(),
        message: e.to_string(),
    })?;
    let sweep = base.sweep.clone().unwrap_or_default();
    let grid = sweep.grid;
    let variants = if sweep.variants.is_empty() {
        vec![Variant::default()]
    } else {
        sweep.variants
    };
    check_sweep(text, file, &grid, &variants)?;
    let keys: Vec<&String> = grid.keys().collect();
    let sizes: Vec<usize> = keys.iter().map(|k| grid[*k].len()).collect();
    let points: usize = sizes.iter().product();
    let mut runs = Vec::with_capacity(variants.len() * points * base.seeds.len());
    for (variant, p) in variants
        .iter()
        .flat_map(|v| (0..points).map(move |p| (v, p)))
    {
        let mut rem = p;
        let mut params = Vec::new();
        for (i, k) in keys.iter().enumerate().rev() {
            params.push(((*k).clone(), grid[*k][rem % sizes[i]].clone()));
            rem /= sizes[i];
        }
        params.reverse();
        for &seed in &base.seeds {
            let scenario = resolve_run(text, file, &value, variant, &params, seed)?;
            runs.push(SweepRun {
                index: runs.len(),
                variant: variant.name.clone(),
                params: params.clone(),
                seed,
                scenario,
            });
        }
    }
    Ok((base, runs))
}

/// Refuses a grid key without values, and variant names that repeat or are empty.
fn check_sweep(
    text: &str,
    file: &str,
    grid: &BTreeMap<String, Vec<toml::Value>>,
    variants: &[Variant],
) -> Result<(), ScenarioError> {
    for (k, v) in grid {
        if v.is_empty() {
            return Err(ScenarioError::Invalid {
                file: file.into(),
                line: locate_key(text, &format!("sweep.grid.{k}")),
                key: format!("sweep.grid.{k}"),
                message: "needs at least one value".into(),
            });
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for v in variants {
        if !names.insert(v.name.as_str()) || (variants.len() > 1 && v.name.is_empty()) {
            return Err(ScenarioError::Invalid {
                file: file.into(),
                line: locate_key(text, "sweep.variant"),
                key: "sweep.variant.name".into(),
                message: format!(
                    "variant names must be distinct and non-empty: \"{}\" {}",
                    v.name,
                    if v.name.is_empty() {
                        "is empty"
                    } else {
                        "appears twice"
                    }
                ),
            });
        }
    }
    Ok(())
}

/// One run's scenario: the file with `seeds = [seed]`, the variant's and the grid point's
/// values set, parsed and validated (errors name the swept keys).
fn resolve_run(
    text: &str,
    file: &str,
    value: &toml::Value,
    variant: &Variant,
    params: &[(String, toml::Value)],
    seed: u64,
) -> Result<Scenario, ScenarioError> {
    let mut v = value.clone();
    if let Some(t) = v.as_table_mut() {
        t.remove("sweep");
        t.insert(
            "seeds".into(),
            toml::Value::Array(vec![toml::Value::Integer(seed as i64)]),
        );
    }
    for (k, x) in &variant.set {
        set_path(&mut v, k, x.clone()).map_err(|message| ScenarioError::Invalid {
            file: file.into(),
            line: locate_key(text, k),
            key: format!("sweep.variant {} {k}", variant.name),
            message,
        })?;
    }
    for (k, x) in params {
        set_path(&mut v, k, x.clone()).map_err(|message| ScenarioError::Invalid {
            file: file.into(),
            line: locate_key(text, &format!("sweep.grid.{k}")),
            key: format!("sweep.grid.{k}"),
            message,
        })?;
    }
    let key_of = |k: &str| {
        let named = if variant.name.is_empty() {
            String::new()
        } else {
            format!("variant {}: ", variant.name)
        };
        named
            + &params
                .iter()
                .map(|(p, x)| format!("{p} = {x}"))
                .collect::<Vec<_>>()
                .join(", ")
            + &format!(" ({k})")
    };
    let raw = RawScenario::deserialize(v).map_err(|e| ScenarioError::Invalid {
        file: file.into(),
        line: locate_key(text, "sweep.grid"),
        key: "sweep.grid".into(),
        message: key_of(&e.to_string()),
    })?;
    let scenario = Scenario::try_from(raw).map_err(|e| ScenarioError::Invalid {
        file: file.into(),
        line: locate_key(text, "sweep.grid"),
        key: e.key,
        message: key_of(&e.message),
    })?;
    Ok(scenario)
}
