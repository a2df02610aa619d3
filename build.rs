//! Embeds the provenance of the build: the commit it was built from and whether the tree had
//! uncommitted changes (`DENDRITIC_COMMIT`, e.g. `a1b2c3d` or `a1b2c3d+dirty`; `unknown`
//! outside a git checkout). Every run records it, wherever the binary runs from.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

fn main() {
    // A new commit, a checkout, a staged or an edited file changes the answer.
    for path in [".git/HEAD", ".git/index", "src", "scenarios", "Cargo.toml"] {
        println!("cargo:rerun-if-changed={path}");
    }
    if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"]) {
        println!("cargo:rerun-if-changed=.git/{head}");
    }
    let commit = match git(&["rev-parse", "--short", "HEAD"]) {
        Some(hash) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty { format!("{hash}+dirty") } else { hash }
        }
        None => "unknown".to_string(),
    };
    println!("cargo:rustc-env=DENDRITIC_COMMIT={commit}");
}
