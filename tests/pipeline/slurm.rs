//! Slurm job scripts and the locks that let array tasks share one results directory.

use std::process::Command;

use dendritic::experiment::scenario::EMBEDDED;
use dendritic::experiment::scenario::expand;
use dendritic::experiment::slurm::{SlurmError, SlurmJob};

use crate::common::scratch;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dendritic"))
}

fn job(scenario: &str, array: usize) -> SlurmJob {
    let text = EMBEDDED.iter().find(|(n, _)| *n == scenario).unwrap().1;
    let (base, runs) = expand(text, scenario).unwrap();
    SlurmJob {
        scenario: scenario.into(),
        name: base.name,
        array,
        runs: runs.len(),
        partition: Some("compute".into()),
        time: "01:30:00".into(),
        cpus_per_task: 2,
        results: "/shared/results".into(),
        reports: "/shared/reports".into(),
        binary: "/opt/dendritic".into(),
        dir: "jobs".into(),
    }
}

#[test]
fn the_array_script_runs_one_shard_per_task_and_the_merge_waits_for_all() {
    let j = job("robustness", 16);
    assert_eq!(j.runs, 80, "robustness: 16 grid points × 5 seeds");
    j.check().unwrap();
    let a = j.array_script();
    for line in [
        "#SBATCH --array=0-15\n",
        "#SBATCH --cpus-per-task=2\n",
        "#SBATCH --time=01:30:00\n",
        "#SBATCH --partition=compute\n",
        "#SBATCH --output=jobs/robustness-%A_%a.out\n",
    ] {
        assert!(a.contains(line), "array script lacks {line:?}:\n{a}");
    }
    assert!(
        a.contains("\"/opt/dendritic\" run \"robustness\" --results \"/shared/results\" --shard \"$SLURM_ARRAY_TASK_ID/16\" --resume"),
        "{a}"
    );
    let m = j.merge_script();
    assert!(
        m.contains("\"/opt/dendritic\" merge \"robustness\" --results \"/shared/results\"\n"),
        "{m}"
    );
    assert!(m.contains("\"/opt/dendritic\" report \"robustness\" --results \"/shared/results\" --reports \"/shared/reports\"\n"), "{m}");
    let c = j.commands();
    assert_eq!(
        c,
        "jobid=$(sbatch --parsable jobs/robustness.sbatch)\nsbatch --dependency=afterok:${jobid%%;*} jobs/robustness-merge.sbatch\n"
    );
    // Every run belongs to exactly one task: index % 16 == task.
    let covered: std::collections::BTreeSet<usize> = (0..16)
        .flat_map(|t| (0..80).filter(move |i| i % 16 == t))
        .collect();
    assert_eq!(covered.len(), 80);
}

#[test]
fn impossible_requests_are_refused() {
    let mut j = job("robustness_small", 9);
    assert_eq!(j.check(), Err(SlurmError::Array { array: 9, runs: 8 }));
    j.array = 0;
    assert!(matches!(j.check(), Err(SlurmError::Array { .. })));
    j.array = 4;
    j.time = "2h".into();
    assert_eq!(j.check(), Err(SlurmError::Time("2h".into())));
    j.time = "00:10:00".into();
    j.results = "/tmp/$(rm -rf x)".into();
    assert!(matches!(
        j.check(),
        Err(SlurmError::Unsafe {
            what: "--results",
            ..
        })
    ));
}

/// The fenced block after the README's `dendritic slurm robustness --array 16` line.
fn readme_block() -> String {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("<!-- output of: dendritic slurm robustness --array 16 -->")
        .expect("the README shows the output of `dendritic slurm robustness --array 16`");
    let rest = &readme[start..];
    let open = rest.find("```sh\n").unwrap() + "```sh\n".len();
    let close = rest[open..].find("```").unwrap();
    rest[open..open + close].to_string()
}

#[test]
fn the_readme_shows_what_dendritic_slurm_prints() {
    let dir = scratch("slurm-readme");
    let out = bin()
        .args(["slurm", "robustness", "--array", "16"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(readme_block(), printed);
    // And it wrote the two scripts it shows.
    let array = std::fs::read_to_string(dir.join("slurm/robustness.sbatch")).unwrap();
    assert!(printed.contains(&array));
    assert!(dir.join("slurm/robustness-merge.sbatch").exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// robustness_small made tiny (2 patterns a run), written to `dir`.
fn tiny_sweep(dir: &std::path::Path) -> std::path::PathBuf {
    let text = EMBEDDED
        .iter()
        .find(|(n, _)| *n == "robustness_small")
        .unwrap()
        .1
        .replace("patterns = 600", "patterns = 2")
        .replace("test_every = 200", "test_every = 1")
        .replace("test_patterns = 100", "test_patterns = 2");
    let path = dir.join("tiny.toml");
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_second_process_gets_the_lock_error_and_shards_share_the_scenario() {
    let dir = scratch("slurm-locks");
    let scenario = tiny_sweep(&dir);
    let results = dir.join("results");
    let lock = results.join("robustness_small/.lock");
    let run = |args: &[&str]| {
        bin()
            .args(args)
            .args(["--results", results.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let sc = scenario.to_str().unwrap();
    {
        // This test process holds the scenario exclusively, as a plain run or a merge would.
        let _held = dendritic::record::lock::exclusive(&lock).unwrap();
        for args in [
            vec!["run", sc, "--quiet"],
            vec!["run", sc, "--quiet", "--shard", "0/2"],
            vec!["merge", "robustness_small"],
        ] {
            let out = run(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
            assert!(
                err.contains(lock.to_str().unwrap())
                    && err.contains(&format!("pid {}", std::process::id())),
                "{args:?} does not name the lock and its holder: {err}"
            );
        }
    }
    {
        // Held shared, as by a running shard: another shard proceeds, a merge does not.
        let _shard = dendritic::record::lock::shared(&lock).unwrap();
        let out = run(&["run", sc, "--quiet", "--shard", "1/2"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = run(&["merge", "robustness_small"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("shared by running shards"));
    }
    // Released: the other shard, then the merge, complete the sweep.
    let out = run(&["run", sc, "--quiet", "--shard", "0/2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["merge", "robustness_small"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary =
        dendritic::record::read_frame(&results.join("robustness_small/summary.parquet")).unwrap();
    assert_eq!(summary.height(), 8);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn two_processes_on_one_results_directory_one_proceeds_the_other_gets_the_lock_error() {
    let dir = scratch("two-processes");
    let text = EMBEDDED
        .iter()
        .find(|(n, _)| *n == "robustness_small")
        .unwrap()
        .1
        .replace("patterns = 600", "patterns = 40");
    let scenario = dir.join("s.toml");
    std::fs::write(&scenario, text).unwrap();
    let results = dir.join("results");
    let spawn = || {
        bin()
            .args(["run", scenario.to_str().unwrap(), "--quiet", "--results"])
            .arg(&results)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let lock = results.join("robustness_small/.lock");
    let first = spawn();
    // Wait until the first holds the scenario's lock (it writes its pid into it).
    let pid = format!("pid {}", first.id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains(&pid)) {
        assert!(
            std::time::Instant::now() < deadline,
            "the first run never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let second = spawn().wait_with_output().unwrap();
    let first = first.wait_with_output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{err}");
    assert!(err.contains(".lock") && err.contains(&pid), "{err}");
    // Nothing corrupted: the first run's merged summary is whole and readable.
    let summary =
        dendritic::record::read_frame(&results.join("robustness_small/summary.parquet")).unwrap();
    assert_eq!(summary.height(), 8);
    std::fs::remove_dir_all(&dir).ok();
}
