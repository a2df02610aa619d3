//! Test-only fault injection: a process that kills itself with SIGKILL at a chosen point, so
//! that tests can check what survives a `kill -9` (checkpoints, atomic writes).
//!
//! `DENDRITIC_TEST_KILL_AFTER_CHECKPOINT=k` kills the process right after its k-th checkpoint;
//! `DENDRITIC_TEST_KILL_IN_WRITE=k` kills it in the middle of its k-th `.npz` write (half the
//! bytes in the temporary file, before the rename). Unset, they cost one environment lookup
//! per checkpoint.

use std::sync::atomic::{AtomicU64, Ordering};

static COUNTS: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

/// Whether the hook `name` (one of the two above) fires at this call: its count in this
/// process reached the variable's value.
pub fn fires(name: &str) -> bool {
    let Some(k) = std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok()) else {
        return false;
    };
    let slot = usize::from(name.ends_with("IN_WRITE"));
    COUNTS[slot].fetch_add(1, Ordering::SeqCst) + 1 == k
}

/// SIGKILL to this process (as `kill -9` from outside: no unwinding, no destructors).
pub fn kill_self() -> ! {
    let _ = std::process::Command::new("kill")
        .args(["-9", &std::process::id().to_string()])
        .status();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}
