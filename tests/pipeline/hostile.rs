//! A careless or hostile user against the binary: every case ends with exit code 1 and a clear
//! error naming the file, key or path — never a panic (101) or an abort (134).

use std::path::{Path, PathBuf};
use std::process::Command;

use dendritic::experiment::scenario::EMBEDDED;
use dendritic::rng::Rng;

use crate::common::{scratch, write_set};

fn embedded(name: &str) -> &'static str {
    EMBEDDED.iter().find(|(n, _)| *n == name).unwrap().1
}

/// self_predicting made tiny (2 patterns of 10 ms).
fn tiny() -> String {
    embedded("self_predicting")
        .replace("patterns = 400", "patterns = 2")
        .replace("pattern_ms = 100.0", "pattern_ms = 10.0")
}

/// mnist_short on the IDX set in `dir`, tiny.
fn mnist_on(dir: &Path) -> String {
    embedded("mnist_short")
        .replace(
            "dir = \"data/mnist\"",
            &format!("dir = \"{}\"", dir.display()),
        )
        .replace("train = 3000", "train = 20")
        .replace("validation = 1000", "validation = 10")
        .replace("test = 2000", "test = 10")
}

/// The four IDX files of `n` train and test images in `dir`.
fn idx_set(dir: &Path) {
    let mut rng = Rng::new(3);
    std::fs::create_dir_all(dir).unwrap();
    write_set(dir, "train", 40, &mut rng);
    write_set(dir, "t10k", 20, &mut rng);
}

struct Case {
    name: &'static str,
    /// (file name, contents) written into the case's directory first.
    files: Vec<(&'static str, Vec<u8>)>,
    /// Arguments; "{dir}" is replaced by the case's directory.
    args: Vec<String>,
    /// Each must appear in the output (stderr and stdout).
    expect: Vec<String>,
}

fn case(name: &'static str, scenario: Option<String>, args: &[&str], expect: &[&str]) -> Case {
    Case {
        name,
        files: scenario
            .map(|t| vec![("s.toml", t.into_bytes())])
            .unwrap_or_default(),
        args: args.iter().map(|s| s.to_string()).collect(),
        expect: expect.iter().map(|s| s.to_string()).collect(),
    }
}

fn run_s<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "run",
        "{dir}/s.toml",
        "--results",
        "{dir}/results",
        "--quiet",
    ];
    v.extend_from_slice(extra);
    v
}

/// Hostile cases, part 1.
fn cases_1(t: &str, mnist: &str, idx: &Path) -> Vec<Case> {
    let with = |a: &str, b: &str| Some(t.replace(a, b));
    let _ = mnist;
    let _ = idx;
    vec![
        // Scenario files.
        case(
            "unknown top-level key",
            Some(t.to_string() + "\ncolour = 1\n"),
            &run_s(&[]),
            &["s.toml", "colour"],
        ),
        case(
            "unknown nested key",
            with("g_lk = 0.1", "g_lk = 0.1\ng_xx = 1.0"),
            &run_s(&[]),
            &["s.toml", "g_xx"],
        ),
        case(
            "wrong type",
            with("patterns = 2", "patterns = \"two\""),
            &run_s(&[]),
            &["s.toml", "patterns"],
        ),
        case(
            "missing required key",
            Some(t.replace("study = \"self_predicting\"\n", "")),
            &run_s(&[]),
            &["s.toml", "study"],
        ),
        case(
            "invalid TOML",
            Some(t.to_string() + "\n[network\n"),
            &run_s(&[]),
            &["s.toml", "line"],
        ),
        case("missing file", None, &run_s(&[]), &["s.toml"]),
        case(
            "unknown embedded name",
            None,
            &["run", "no_such_scenario", "--results", "{dir}/r"],
            &["no_such_scenario", "self_predicting"],
        ),
        case(
            "negative conductance",
            with("g_a = 0.8", "g_a = -0.8"),
            &run_s(&[]),
            &["s.toml", "g_a"],
        ),
        case(
            "nan parameter",
            with("input_high = 1.0", "input_high = nan"),
            &run_s(&[]),
            &["s.toml", "task.input_high", "finite"],
        ),
        case(
            "inf parameter",
            with("g_som = 0.8", "g_som = inf"),
            &run_s(&[]),
            &["s.toml", "g_som", "finite"],
        ),
        case(
            "a layer of zero",
            with("sizes = [30, 20, 10]", "sizes = [30, 0, 10]"),
            &run_s(&[]),
            &["s.toml", "sizes"],
        ),
    ]
}

/// Hostile cases, part 2.
fn cases_2(t: &str, mnist: &str, idx: &Path) -> Vec<Case> {
    let with = |a: &str, b: &str| Some(t.replace(a, b));
    let _ = mnist;
    let _ = idx;
    vec![
        case(
            "learning rates of the wrong length",
            with("eta_pi = [0.0005]", "eta_pi = [0.0005, 0.1]"),
            &run_s(&[]),
            &["s.toml", "eta_pi"],
        ),
        case(
            "pattern time not on the grid",
            with("pattern_ms = 10.0", "pattern_ms = 10.05"),
            &run_s(&[]),
            &["s.toml", "pattern_ms"],
        ),
        case(
            "negative dt",
            with("dt = 0.1", "dt = -0.1"),
            &run_s(&[]),
            &["s.toml", "dt"],
        ),
        case(
            "noise with rk4",
            with("method = \"euler\"", "method = \"rk4\""),
            &run_s(&[]),
            &["s.toml", "method", "SDE"],
        ),
        case(
            "noise with dopri5",
            with("method = \"euler\"", "method = \"dopri5\""),
            &run_s(&[]),
            &["s.toml", "method", "dopri5"],
        ),
        case(
            "rtol with euler",
            with("method = \"euler\"", "method = \"euler\"\nrtol = 1e-6"),
            &run_s(&[]),
            &["s.toml", "rtol"],
        ),
        case(
            "unknown method",
            with("method = \"euler\"", "method = \"leapfrog\""),
            &run_s(&[]),
            &["s.toml", "leapfrog", "bdf2"],
        ),
        case(
            "duplicate seeds",
            with("seeds = [1, 2, 3]", "seeds = [1, 2, 1]"),
            &run_s(&[]),
            &["s.toml", "seeds", "twice"],
        ),
        case(
            "no seeds",
            with("seeds = [1, 2, 3]", "seeds = []"),
            &run_s(&[]),
            &["s.toml", "seeds"],
        ),
        case(
            "seed beyond u64",
            with("seeds = [1, 2, 3]", "seeds = [18446744073709551616]"),
            &run_s(&[]),
            &["s.toml", "seeds"],
        ),
    ]
}

/// Hostile cases, part 3.
fn cases_3(t: &str, mnist: &str, idx: &Path) -> Vec<Case> {
    let with = |a: &str, b: &str| Some(t.replace(a, b));
    let _ = mnist;
    let _ = idx;
    vec![
        case(
            "dt above Euler's stability limit",
            with("dt = 0.1", "dt = 1.0"),
            &run_s(&[]),
            &["protocol.dt", "stability limit", "beyond_stability_limit"],
        ),
        case(
            "a network beyond the memory",
            with("sizes = [30, 20, 10]", "sizes = [100000, 100000, 10]"),
            &run_s(&[]),
            &["network.sizes", "--max-memory"],
        ),
        case(
            "empty sweep grid list",
            Some(t.to_string() + "\n[sweep.grid]\n\"network.conductances.g_a\" = []\n"),
            &run_s(&[]),
            &["s.toml", "sweep.grid", "line"],
        ),
        case(
            "a sweep grid value that is impossible",
            Some(t.to_string() + "\n[sweep.grid]\n\"network.conductances.g_a\" = [0.5, -1.0]\n"),
            &run_s(&[]),
            &["s.toml", "g_a", "-1"],
        ),
        case(
            "duplicate variant names",
            Some(
                t.to_string()
                    + "\n[[sweep.variant]]\nname = \"a\"\n[[sweep.variant]]\nname = \"a\"\n",
            ),
            &run_s(&[]),
            &["s.toml", "sweep.variant", "twice"],
        ),
        // Command-line values.
        case(
            "--method unknown",
            Some(t.to_string()),
            &run_s(&["--method", "leapfrog"]),
            &["--method", "leapfrog", "bdf2"],
        ),
        case(
            "--method refusing the scenario's noise",
            Some(t.to_string()),
            &run_s(&["--method", "rk4"]),
            &["s.toml", "method", "SDE"],
        ),
        case(
            "--threads 0",
            Some(t.to_string()),
            &run_s(&["--threads", "0"]),
            &["--threads"],
        ),
        case(
            "--threads far above the machine",
            Some(t.to_string()),
            &run_s(&["--threads", "100000"]),
            &["--threads 100000"],
        ),
    ]
}

/// Hostile cases, part 4.
fn cases_4(t: &str, mnist: &str, idx: &Path) -> Vec<Case> {
    let _ = mnist;
    let _ = idx;
    vec![
        case(
            "--seeds twice the same",
            Some(t.to_string()),
            &run_s(&["--seeds", "2,2"]),
            &["--seeds", "twice"],
        ),
        case(
            "--shard malformed",
            Some(t.to_string()),
            &run_s(&["--shard", "3of4"]),
            &["--shard", "3of4"],
        ),
        case(
            "--shard index beyond the count",
            Some(t.to_string()),
            &run_s(&["--shard", "4/4"]),
            &["--shard", "4/4"],
        ),
        case(
            "--fresh with --shard",
            Some(t.to_string()),
            &run_s(&["--fresh", "--shard", "0/2"]),
            &["--fresh", "--shard"],
        ),
        case(
            "--max-memory without a size",
            Some(t.to_string()),
            &run_s(&["--max-memory", "lots"]),
            &["--max-memory", "lots"],
        ),
        case(
            "--max-memory below the need",
            Some(t.to_string()),
            &run_s(&["--max-memory", "1K"]),
            &["network.sizes", "--max-memory"],
        ),
        case(
            "an unknown subcommand",
            None,
            &["frobnicate"],
            &["frobnicate"],
        ),
        // Results and reports.
        case(
            "report of a name with ../",
            None,
            &[
                "report",
                "../escape",
                "--results",
                "{dir}/results",
                "--reports",
                "{dir}/rep",
            ],
            &["../escape", "not a scenario name"],
        ),
        case(
            "merge of a name with ../",
            None,
            &["merge", "../escape", "--results", "{dir}/results"],
            &["../escape", "not a scenario name"],
        ),
    ]
}

/// Hostile cases, part 5.
fn cases_5(_t: &str, mnist: &str, idx: &Path) -> Vec<Case> {
    vec![
        case(
            "merge without results",
            None,
            &["merge", "self_predicting", "--results", "{dir}/results"],
            &["{dir}/results/self_predicting"],
        ),
        case(
            "report into the results directory",
            None,
            &["report", "--results", "{dir}", "--reports", "{dir}"],
            &["is the results directory"],
        ),
        case(
            "compare without results",
            None,
            &[
                "compare",
                "x",
                "--results",
                "{dir}/a",
                "--against",
                "{dir}/b",
            ],
            &["{dir}/a/x/summary.parquet"],
        ),
        case(
            "slurm --array 0",
            None,
            &["slurm", "robustness", "--array", "0", "--dir", "{dir}/jobs"],
            &["--array 0"],
        ),
        case(
            "slurm --time malformed",
            None,
            &[
                "slurm",
                "robustness",
                "--array",
                "2",
                "--time",
                "2h",
                "--dir",
                "{dir}/jobs",
            ],
            &["--time", "2h"],
        ),
        // MNIST-format data.
        case(
            "MNIST validation = 0",
            Some(mnist.replace("validation = 10", "validation = 0")),
            &run_s(&[]),
            &["s.toml", "task.validation"],
        ),
        case(
            "MNIST directory missing",
            Some(mnist.replace(&idx.display().to_string(), "/nonexistent/mnist")),
            &run_s(&[]),
            &["/nonexistent/mnist"],
        ),
    ]
}

fn cases(idx: &Path) -> Vec<Case> {
    let t = tiny();
    let mnist = mnist_on(idx);
    let mut v = Vec::new();
    v.extend(cases_1(&t, &mnist, idx));
    v.extend(cases_2(&t, &mnist, idx));
    v.extend(cases_3(&t, &mnist, idx));
    v.extend(cases_4(&t, &mnist, idx));
    v.extend(cases_5(&t, &mnist, idx));
    v.push(damaged_summary());
    v.extend(idx_cases(idx));
    v
}

/// A report of a results summary that is not Parquet.
fn damaged_summary() -> Case {
    Case {
        name: "report of a damaged summary",
        files: vec![
            ("results/sp/summary.parquet", b"PAR1 garbage".to_vec()),
            (
                "results/sp/scenario.toml",
                tiny()
                    .replace("name = \"self_predicting\"", "name = \"sp\"")
                    .into_bytes(),
            ),
        ],
        args: [
            "report",
            "sp",
            "--results",
            "{dir}/results",
            "--reports",
            "{dir}/rep",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        expect: vec!["{dir}/results/sp/summary.parquet".into()],
    }
}

/// IDX files gone wrong: each a copy of the good set with one file replaced.
fn idx_cases(idx: &Path) -> Vec<Case> {
    let mut v = Vec::new();
    let idx_case = |name: &'static str, file: &'static str, bytes: Vec<u8>, expect: &str| {
        // A copy of the good set with one file replaced.
        let mut files: Vec<(&'static str, Vec<u8>)> = [
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        ]
        .iter()
        .map(|f| {
            let path: &'static str = Box::leak(format!("idx/{f}").into_boxed_str());
            (path, std::fs::read(idx.join(f)).unwrap())
        })
        .collect();
        let target: &'static str = Box::leak(format!("idx/{file}").into_boxed_str());
        for f in &mut files {
            if f.0 == target {
                f.1 = bytes.clone();
            }
        }
        files.push(("s.toml", mnist_on(Path::new("{dir}/idx")).into_bytes()));
        Case {
            name,
            files,
            args: run_s(&[]).iter().map(|s| s.to_string()).collect(),
            expect: vec![format!("{{dir}}/idx/{file}"), expect.to_string()],
        }
    };
    let good_images = std::fs::read(idx.join("train-images-idx3-ubyte")).unwrap();
    let mut small_images = vec![0, 0, 8, 3];
    for d in [40u32, 20, 28] {
        small_images.extend(d.to_be_bytes());
    }
    small_images.extend(vec![0u8; 40 * 20 * 28]);
    let mut overflow = vec![0, 0, 8, 3];
    for d in [u32::MAX, u32::MAX, u32::MAX] {
        overflow.extend(d.to_be_bytes());
    }
    let mut wrong_magic = good_images.clone();
    wrong_magic[3] = 0x01;
    let mut bad_label = std::fs::read(idx.join("train-labels-idx1-ubyte")).unwrap();
    bad_label[10] = 42;
    v.push(idx_case(
        "IDX images of another size",
        "train-images-idx3-ubyte",
        small_images,
        "images of 560 pixels",
    ));
    v.push(idx_case(
        "IDX header whose dimensions overflow",
        "train-images-idx3-ubyte",
        overflow,
        "overflow",
    ));
    v.push(idx_case(
        "IDX file truncated",
        "train-images-idx3-ubyte",
        good_images[..1000].to_vec(),
        "length",
    ));
    v.push(idx_case(
        "IDX wrong magic number",
        "train-images-idx3-ubyte",
        wrong_magic,
        "magic",
    ));
    v.push(idx_case(
        "IDX label outside 0–9",
        "train-labels-idx1-ubyte",
        bad_label,
        "label 42",
    ));
    v.push(idx_case(
        "IDX gzip that is not",
        "t10k-images-idx3-ubyte",
        vec![0x1f, 0x8b, 1, 2, 3],
        "gzip",
    ));
    v
}

fn expand(s: &str, dir: &Path) -> String {
    s.replace("{dir}", &dir.display().to_string())
}

#[test]
fn every_hostile_case_is_a_clear_error_with_exit_code_1() {
    let root = scratch("hostile");
    let idx = root.join("good-idx");
    idx_set(&idx);
    let all = cases(&idx);
    assert!(all.len() >= 40, "{} cases", all.len());
    let mut failures = Vec::new();
    for (i, c) in all.iter().enumerate() {
        let dir: PathBuf = root.join(format!("case{i:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        for (f, bytes) in &c.files {
            let path = dir.join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let text = String::from_utf8(bytes.clone()).map(|t| expand(&t, &dir));
            match text {
                Ok(t) => std::fs::write(&path, t).unwrap(),
                Err(_) => std::fs::write(&path, bytes).unwrap(),
            }
        }
        let out = Command::new(env!("CARGO_BIN_EXE_dendritic"))
            .args(c.args.iter().map(|a| expand(a, &dir)))
            .current_dir(&dir)
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        let missing: Vec<String> = c
            .expect
            .iter()
            .map(|e| expand(e, &dir))
            .filter(|e| !text.contains(e.as_str()))
            .collect();
        if out.status.code() != Some(1) || !missing.is_empty() || text.contains("panicked") {
            failures.push(format!(
                "{} (case{i:02}): exit {:?}, missing {missing:?}\n{}",
                c.name,
                out.status.code(),
                text.lines().rev().take(6).collect::<Vec<_>>().join("\n")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );
    std::fs::remove_dir_all(&root).ok();
}
