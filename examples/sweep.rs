//! A parameter sweep from Rust: the embedded `self_predicting` scenario (paper Fig. S1) over
//! the somatic nudging conductance g_som and three seeds, every run in parallel (rayon), the
//! summaries gathered into one polars DataFrame.
//!
//! ```text
//! cargo run --release --example sweep
//! ```
//!
//! The same sweep as a scenario file is a `[sweep.grid]` table
//! (`"network.conductances.g_som" = [0.3, 0.8]`) run by `dendritic run`.

use dendritic::experiment::{Scenario, run_one};
use dendritic::record::{Cell, summary_dataframe};
use polars::prelude::*;
use rayon::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut base = Scenario::load("self_predicting")?;
    base.protocol.patterns = 100; // shorter than the scenario: 100 patterns of 100 ms
    let grid: Vec<(f64, u64)> = [0.3, 0.8]
        .iter()
        .flat_map(|&g| [1, 2, 3].map(|seed| (g, seed)))
        .collect();
    let rows = grid
        .par_iter()
        .map(|&(g_som, seed)| {
            let mut scenario = base.clone();
            scenario.network.conductances.g_som = g_som;
            scenario.seeds = vec![seed];
            scenario.check()?; // a changed scenario is checked as a file would be
            let mut out = run_one(&scenario, seed, None)?;
            out.summary.insert("g_som".into(), Cell::Num(g_som));
            out.summary.insert("seed".into(), Cell::Id(seed));
            Ok(out.summary)
        })
        .collect::<Result<Vec<_>, Box<dyn std::error::Error + Send + Sync>>>()
        .map_err(|e| e as Box<dyn std::error::Error>)?;
    let mut table = summary_dataframe(&rows)?.select([
        "g_som",
        "seed",
        "interneuron_mismatch_initial",
        "interneuron_mismatch_final",
    ])?;
    CsvWriter::new(std::io::stdout()).finish(&mut table)?;
    // The lateral weights learn the self-predicting state whatever g_som: the mismatch falls.
    let falls = rows.iter().all(|r| {
        match (
            &r["interneuron_mismatch_initial"],
            &r["interneuron_mismatch_final"],
        ) {
            (Cell::Num(a), Cell::Num(b)) => b < a,
            _ => false,
        }
    });
    assert!(
        falls,
        "rules 8 and 9 reduce the interneuron mismatch in every run"
    );
    Ok(())
}
