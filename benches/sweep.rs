//! Sweep throughput (runs per second) with 1 and 2 threads: 8 runs of a shortened
//! target-learning scenario. The 2-thread speedup of the real robustness sweep is measured by
//! `make robustness` and shown in its report.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dendritic::experiment::scenario::EMBEDDED;
use dendritic::experiment::scenario::expand;
use dendritic::experiment::sweep::{SweepOptions, run_sweep};

fn bench_sweep(c: &mut Criterion) {
    let base = EMBEDDED
        .iter()
        .find(|(n, _)| *n == "target_learning")
        .unwrap()
        .1;
    let text = base
        .replace("seeds = [1, 2, 3]", "seeds = [1, 2, 3, 4]")
        .replace("patterns = 1000", "patterns = 20")
        + "\n[sweep.grid]\n\"network.conductances.g_som\" = [0.4, 0.8]\n";
    let (scenario, runs) = expand(&text, "bench").unwrap();
    let root = std::env::temp_dir().join(format!("dendritic-bench-sweep-{}", std::process::id()));
    let mut group = c.benchmark_group("sweep");
    group.sample_size(10);
    group.throughput(Throughput::Elements(runs.len() as u64));
    for threads in [1, 2] {
        group.bench_function(format!("{}_runs_{threads}_threads", runs.len()), |b| {
            b.iter(|| {
                run_sweep(
                    &scenario,
                    &runs,
                    &root,
                    &SweepOptions {
                        threads: Some(threads),
                        ..Default::default()
                    },
                )
                .unwrap()
            })
        });
    }
    group.finish();
    std::fs::remove_dir_all(&root).ok();
}

criterion_group!(benches, bench_sweep);
criterion_main!(benches);
