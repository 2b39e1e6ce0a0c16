//! Extended resources (`nvidia.com/gpu`) in a node list: what each node reports allocatable,
//! and the amount a pool of such nodes keeps (the smallest of its nodes').

use indexmap::IndexMap;
use serde_yaml::Value;

use crate::scenario::error::Error;
use crate::scenario::quantity;

use super::{invalid, scalar_text};

/// The extended resources of a node's `status.allocatable` (`map`), each a whole number;
/// `at` names the node in errors.
pub(super) fn allocatable(
    origin: &str,
    at: &str,
    map: &IndexMap<String, Value>,
) -> Result<Vec<(String, u64)>, Vec<Error>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (name, value) in map {
        if !quantity::is_extended_resource(name) {
            continue;
        }
        let text = scalar_text(value).unwrap_or_default();
        match quantity::extended_amount(&text) {
            Ok(n) => out.push((name.clone(), n)),
            Err(p) => errors.push(invalid(
                origin,
                &format!("{at}: status.allocatable.{name}"),
                p,
            )),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Each extended resource any node of a pool reports, with the smallest amount over the nodes
/// (a node without it counts 0), in the order the nodes first name them; resources no node
/// has any of are left out.
pub(super) fn pool_minimum<'a>(
    nodes: impl Iterator<Item = &'a [(String, u64)]> + Clone,
) -> Vec<(String, u64)> {
    let mut names: Vec<&str> = Vec::new();
    for node in nodes.clone() {
        for (name, _) in node {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    names
        .into_iter()
        .map(|name| {
            let amount = nodes
                .clone()
                .map(|node| node.iter().find(|(n, _)| n == name).map_or(0, |&(_, v)| v))
                .min()
                .unwrap_or(0);
            (name.to_string(), amount)
        })
        .filter(|&(_, amount)| amount > 0)
        .collect()
}
