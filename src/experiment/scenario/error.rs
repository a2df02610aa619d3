//! What can be wrong with a scenario file, and where in the file.

use thiserror::Error;

/// What can be wrong with a scenario file.
#[derive(Debug, Error)]
pub enum ScenarioError {
    /// The file cannot be read.
    #[error("cannot read scenario file '{file}': {source}")]
    Io {
        /// The path.
        file: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Not valid TOML, an unknown key, a wrong type or a missing key (toml names line and key).
    #[error("scenario file '{file}': {message}")]
    Parse {
        /// The path.
        file: String,
        /// toml's message, with line, column and key.
        message: String,
    },
    /// A value that parses but is impossible.
    #[error("scenario file '{file}', line {line}, key `{key}`: {message}", line = line.map(|l| l.to_string()).unwrap_or_else(|| "?".into()))]
    Invalid {
        /// The path.
        file: String,
        /// 1-based line of the key, when found.
        line: Option<usize>,
        /// Dotted key path.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// No scenario of that name is embedded and no such file exists.
    #[error("no scenario '{0}': give a path to a .toml file or one of: {1}")]
    Unknown(String, String),
}

/// The 1-based line where a dotted key is set: the first `last = …` after the header of its
/// table (or anywhere, when the table has no header of its own).
pub fn locate_key(text: &str, key: &str) -> Option<usize> {
    // A table of its own (`[sweep.grid]`): its header line.
    if let Some(i) = text.lines().position(|l| l.trim() == format!("[{key}]")) {
        return Some(i + 1);
    }
    let parts: Vec<&str> = key.split('.').collect();
    let last = *parts.last()?;
    let table = parts[..parts.len() - 1].join(".");
    let lines: Vec<&str> = text.lines().collect();
    let is_assignment = |l: &str| {
        let l = l.trim_start();
        l.strip_prefix(last)
            .map(|rest| rest.trim_start().starts_with('='))
            .unwrap_or(false)
    };
    let header = lines.iter().position(|l| l.trim() == format!("[{table}]"));
    if let Some(h) = header {
        for (i, l) in lines.iter().enumerate().skip(h + 1) {
            if l.trim_start().starts_with('[') {
                break;
            }
            if is_assignment(l) {
                return Some(i + 1);
            }
        }
        return Some(h + 1);
    }
    lines.iter().position(|l| is_assignment(l)).map(|i| i + 1)
}
