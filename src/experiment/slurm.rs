//! Slurm job scripts for a sweep (`dendritic slurm`): an array job with one shard of the sweep
//! per task, all writing one shared results directory, and a merge-and-report job that starts
//! when every task has succeeded (`--dependency=afterok`).
//!
//! Shards write disjoint run directories and hold the scenario's lock shared; only the merge
//! job takes it exclusively (see [`crate::record::lock`]). Each task runs with `--resume`, so a
//! failed task can be resubmitted alone (`sbatch --array=<i> …`) and recomputes only its
//! missing or failed runs.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// What can be wrong with a request for job scripts.
#[derive(Debug, Error, PartialEq)]
pub enum SlurmError {
    /// `--array` of zero, or more tasks than runs.
    #[error("--array {array}: needs 1 ≤ N ≤ the sweep's {runs} runs")]
    Array {
        /// Tasks asked for.
        array: usize,
        /// Runs in the sweep.
        runs: usize,
    },
    /// `--time` not in Slurm's [D-]HH:MM:SS form.
    #[error("--time '{0}': expected HH:MM:SS or D-HH:MM:SS")]
    Time(String),
    /// `--cpus-per-task` of zero.
    #[error("--cpus-per-task must be ≥ 1")]
    Cpus,
    /// A value that would break the script's quoting.
    #[error(
        "{what} '{value}' contains a character that is not allowed in a job script (quote, backslash, $, newline)"
    )]
    Unsafe {
        /// Which option.
        what: &'static str,
        /// Its value.
        value: String,
    },
}

/// The job scripts for one sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct SlurmJob {
    /// The scenario as given on the command line (an embedded name or a path).
    pub scenario: String,
    /// The scenario's `name` (its results directory).
    pub name: String,
    /// Array tasks = shards.
    pub array: usize,
    /// Runs in the sweep (for the check).
    pub runs: usize,
    /// `--partition`, if any.
    pub partition: Option<String>,
    /// `--time` of each array task.
    pub time: String,
    /// `--cpus-per-task` (the task's `--threads`).
    pub cpus_per_task: usize,
    /// Shared results root.
    pub results: String,
    /// Reports root (the merge job renders there).
    pub reports: String,
    /// The dendritic binary as the jobs call it.
    pub binary: String,
    /// Where the scripts and the jobs' output files go.
    pub dir: String,
}

fn check_time(t: &str) -> bool {
    let (days, hms) = match t.split_once('-') {
        Some((d, rest)) => (Some(d), rest),
        None => (None, t),
    };
    let ok_num = |s: &str, max: u32| {
        !s.is_empty() && s.len() <= 2 && s.parse::<u32>().is_ok_and(|v| v <= max)
    };
    let parts: Vec<&str> = hms.split(':').collect();
    days.is_none_or(|d| !d.is_empty() && d.parse::<u32>().is_ok())
        && parts.len() == 3
        && parts[0].parse::<u32>().is_ok()
        && ok_num(parts[1], 59)
        && ok_num(parts[2], 59)
}

impl SlurmJob {
    /// Checks the request.
    ///
    /// # Errors
    /// [`SlurmError`] naming the option.
    pub fn check(&self) -> Result<(), SlurmError> {
        if self.array == 0 || self.array > self.runs {
            return Err(SlurmError::Array {
                array: self.array,
                runs: self.runs,
            });
        }
        if !check_time(&self.time) {
            return Err(SlurmError::Time(self.time.clone()));
        }
        if self.cpus_per_task == 0 {
            return Err(SlurmError::Cpus);
        }
        for (what, value) in [
            ("scenario", &self.scenario),
            ("--results", &self.results),
            ("--reports", &self.reports),
            ("--binary", &self.binary),
            ("--dir", &self.dir),
            (
                "--partition",
                self.partition.as_ref().unwrap_or(&String::new()),
            ),
        ] {
            if value
                .chars()
                .any(|c| matches!(c, '"' | '\'' | '\\' | '$' | '`' | '\n'))
            {
                return Err(SlurmError::Unsafe {
                    what,
                    value: value.clone(),
                });
            }
        }
        Ok(())
    }

    /// The array job's script.
    pub fn array_script(&self) -> String {
        let n = self.array;
        let mut s = format!(
            "#!/bin/bash\n\
             # One shard of the sweep '{name}' per array task, into the shared results directory.\n\
             #SBATCH --job-name={name}\n\
             #SBATCH --array=0-{last}\n\
             #SBATCH --cpus-per-task={cpus}\n\
             #SBATCH --time={time}\n",
            name = self.name,
            last = n - 1,
            cpus = self.cpus_per_task,
            time = self.time,
        );
        if let Some(p) = &self.partition {
            s.push_str(&format!("#SBATCH --partition={p}\n"));
        }
        s.push_str(&format!(
            "#SBATCH --output={dir}/{name}-%A_%a.out\n\
             set -euo pipefail\n\
             echo \"SLURM_JOB_ID=$SLURM_JOB_ID SLURM_ARRAY_JOB_ID=$SLURM_ARRAY_JOB_ID SLURM_ARRAY_TASK_ID=$SLURM_ARRAY_TASK_ID host=$(hostname)\"\n\
             \"{bin}\" run \"{scenario}\" --results \"{results}\" --shard \"$SLURM_ARRAY_TASK_ID/{n}\" --resume --quiet --threads \"${{SLURM_CPUS_PER_TASK:-1}}\"\n",
            dir = self.dir,
            name = self.name,
            bin = self.binary,
            scenario = self.scenario,
            results = self.results,
        ));
        s
    }

    /// The merge-and-report job's script.
    pub fn merge_script(&self) -> String {
        let mut s = format!(
            "#!/bin/bash\n\
             # Merges the shards of '{name}' and renders its report, after every array task succeeded.\n\
             #SBATCH --job-name={name}-merge\n\
             #SBATCH --cpus-per-task=1\n\
             #SBATCH --time=00:30:00\n",
            name = self.name,
        );
        if let Some(p) = &self.partition {
            s.push_str(&format!("#SBATCH --partition={p}\n"));
        }
        s.push_str(&format!(
            "#SBATCH --output={dir}/{name}-merge-%j.out\n\
             set -euo pipefail\n\
             echo \"SLURM_JOB_ID=$SLURM_JOB_ID host=$(hostname)\"\n\
             \"{bin}\" merge \"{name}\" --results \"{results}\"\n\
             \"{bin}\" report \"{name}\" --results \"{results}\" --reports \"{reports}\"\n",
            dir = self.dir,
            name = self.name,
            bin = self.binary,
            results = self.results,
            reports = self.reports,
        ));
        s
    }

    /// Path of the array job's script.
    pub fn array_path(&self) -> PathBuf {
        Path::new(&self.dir).join(format!("{}.sbatch", self.name))
    }

    /// Path of the merge job's script.
    pub fn merge_path(&self) -> PathBuf {
        Path::new(&self.dir).join(format!("{}-merge.sbatch", self.name))
    }

    /// The two submissions, the merge depending on the array's success.
    pub fn commands(&self) -> String {
        format!(
            "jobid=$(sbatch --parsable {array})\n\
             sbatch --dependency=afterok:${{jobid%%;*}} {merge}\n",
            array = self.array_path().display(),
            merge = self.merge_path().display(),
        )
    }

    /// What `dendritic slurm` prints: both scripts and the commands that submit them.
    pub fn render(&self) -> String {
        format!(
            "# {}\n{}\n# {}\n{}\n# submit both (the merge waits for every array task):\n{}",
            self.array_path().display(),
            self.array_script(),
            self.merge_path().display(),
            self.merge_script(),
            self.commands()
        )
    }

    /// Writes both scripts into `dir` (atomically) and returns their paths.
    ///
    /// # Errors
    /// The I/O error, naming the path.
    pub fn write(&self) -> std::io::Result<(PathBuf, PathBuf)> {
        let (a, m) = (self.array_path(), self.merge_path());
        crate::record::lock::write_atomic(&a, self.array_script().as_bytes())?;
        crate::record::lock::write_atomic(&m, self.merge_script().as_bytes())?;
        Ok((a, m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slurm_times() {
        for ok in ["02:00:00", "0:30:00", "1-00:00:00", "100:00:00"] {
            assert!(check_time(ok), "{ok}");
        }
        for bad in ["2h", "02:00", "00:60:00", "-01:00:00", "1-2:3", ""] {
            assert!(!check_time(bad), "{bad}");
        }
    }
}
