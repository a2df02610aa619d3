//! A learner's state as named arrays (the `.npz` checkpoints), and back.

use std::collections::BTreeMap;

use super::learner::LearnError;
use crate::model::{Network, State};
use crate::record::npz::{NpyArray, NpyData};

/// A float64 vector as an array.
pub fn f64_array(v: Vec<f64>) -> NpyArray {
    NpyArray {
        shape: vec![v.len()],
        data: NpyData::F64(v),
    }
}

/// A u64 vector as an array.
pub fn u64_array(v: Vec<u64>) -> NpyArray {
    NpyArray {
        shape: vec![v.len()],
        data: NpyData::U64(v),
    }
}

/// The checkpoint arrays of a microcircuit state: its weights and biases by name (`w_up_1`,
/// `b_w_up_1`, …), and `y`, `p`.
pub fn state_arrays(net: &Network, state: &State) -> BTreeMap<String, NpyArray> {
    let mut out = BTreeMap::new();
    for syn in &net.layout.synapses {
        let name = format!("{}_{}", syn.projection.name(), syn.layer);
        for (key, block) in [(name.clone(), Some(syn.w)), (format!("b_{name}"), syn.bias)] {
            if let Some(block) = block {
                out.insert(
                    key,
                    NpyArray {
                        shape: vec![block.rows, block.cols],
                        data: NpyData::F64(state.view(&block).iter().copied().collect()),
                    },
                );
            }
        }
    }
    for (name, v) in [("y", &state.y), ("p", &state.p)] {
        out.insert(
            name.to_string(),
            NpyArray {
                shape: vec![v.len()],
                data: NpyData::F64(v.clone()),
            },
        );
    }
    out
}

/// Copies `y` and `p` of a checkpoint back into a state of the same layout.
pub fn restore_state(
    state: &mut State,
    arrays: &BTreeMap<String, NpyArray>,
) -> Result<(), LearnError> {
    for (name, v) in [("y", &mut state.y), ("p", &mut state.p)] {
        match arrays.get(name).map(|a| &a.data) {
            Some(NpyData::F64(data)) if data.len() == v.len() => v.copy_from_slice(data),
            Some(NpyData::F64(data)) => {
                return Err(LearnError::Checkpoint(format!(
                    "checkpoint array '{name}' has {} entries, the network {}",
                    data.len(),
                    v.len()
                )));
            }
            _ => {
                return Err(LearnError::Checkpoint(format!(
                    "checkpoint has no float64 array '{name}'"
                )));
            }
        }
    }
    Ok(())
}
