//! Inputs a scenario file names instead of writing them out: `node_pools_from: FILE` (a live
//! cluster's nodes, `kubectl get nodes -o yaml`). Each is read relative to the scenario file
//! and expanded into the document before validation, under what the file writes itself: the
//! file's own `node_pools.<name>` entries override and complete the pools the nodes give.

use std::path::Path;

use serde_yaml::Value;

use crate::scenario::error::{self, Error};
use crate::scenario::{node_list, yaml_text};

/// The key that names a node list.
const NODE_POOLS_FROM: &str = "node_pools_from";

/// Expands `node_pools_from` in `root` (a scenario document read from a file in `dir`, named
/// `origin` in messages) into `node_pools`; returns the warnings reading the nodes gave, or
/// `None` when there was no `node_pools_from`.
///
/// # Errors
/// A value that is not a file name, a file that cannot be read, every bad node of the file,
/// and a pool whose instance type the catalog lacks with no price given by the scenario.
pub(crate) fn expand_node_pools_from(
    root: &mut Value,
    dir: &Path,
    origin: &str,
) -> Result<Option<Vec<String>>, Error> {
    let Some(value) = root
        .as_mapping_mut()
        .and_then(|m| m.remove(NODE_POOLS_FROM))
    else {
        return Ok(None);
    };
    let invalid = |problem: String| Error::Invalid {
        origin: origin.to_string(),
        path: NODE_POOLS_FROM.to_string(),
        problem,
        allowed: "expected the path of a file holding `kubectl get nodes -o yaml` output, \
                  relative to the scenario file"
            .to_string(),
    };
    let Some(name) = value.as_str() else {
        return Err(invalid(format!("{value:?} is not a file name")));
    };
    let file = dir.join(name);
    let bytes = yaml_text::read_file(&file)
        .map_err(|e| invalid(format!("cannot read \"{}\": {e}", file.display())))?;
    let text = yaml_text::decode(bytes, &file.display().to_string())?;
    let list =
        node_list::pools_from_nodes(&text, &file.display().to_string()).map_err(error::all)?;
    let Some(top) = root.as_mapping_mut() else {
        unreachable!("a document with a key is a map");
    };
    let own = top.remove("node_pools");
    let mut pools = Value::Mapping(list.pools);
    if let Some(own) = own {
        overlay(&mut pools, own);
    }
    check_prices(&pools, &list.unpriced, origin)?;
    top.insert("node_pools".into(), pools);
    Ok(Some(list.warnings))
}

/// A scalar as text (strings as they are, numbers and booleans as YAML writes them), for
/// readers of Kubernetes objects, which write quantities and counts either way.
pub(crate) fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Lays `top` over `base`: maps merge key by key (`top`'s keys win, recursively), anything
/// else in `top` replaces what `base` has.
pub(crate) fn overlay(base: &mut Value, top: Value) {
    match (base, top) {
        (Value::Mapping(base), Value::Mapping(top)) => {
            for (key, value) in top {
                match base.get_mut(&key) {
                    Some(slot) => overlay(slot, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, top) => *base = top,
    }
}

/// Every pool whose machine the catalog does not know must have a price from the scenario.
fn check_prices(pools: &Value, unpriced: &[(String, String)], origin: &str) -> Result<(), Error> {
    let missing: Vec<Error> = unpriced
        .iter()
        .filter(|(pool, _)| {
            let machine = &pools[pool.as_str()]["machine_type"];
            machine.is_mapping() && machine.get("price_per_hour").is_none()
        })
        .map(|(pool, machine)| Error::Invalid {
            origin: origin.to_string(),
            path: format!("node_pools.{pool}.machine_type"),
            problem: format!(
                "the nodes' instance type \"{machine}\" is not in capsim's catalog and no price is given"
            ),
            allowed: format!(
                "expected node_pools.{pool}.machine_type.price_per_hour in the scenario, or a \
                 catalog machine type (`capsim catalog` lists them)"
            ),
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(error::all(missing))
    }
}
