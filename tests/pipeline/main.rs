//! Tests of the scenario → run → Parquet → report pipeline (issue: scenarios, polars results
//! and static reports). One binary keeps link time down.

mod checkpoint;
mod common;
mod disinhibition;
mod hostile;
mod idx;
mod integrators;
mod parquet;
mod properties;
mod reports;
mod scenario_errors;
mod slurm;
mod sweep;
