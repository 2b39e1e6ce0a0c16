//! `capsim import`: the complete scenario some manifests make, in capsim's own format, with a
//! comment on every value assumed, for a user to start from and edit.

use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

use crate::scenario::Scenario;
use crate::scenario::catalog::{self, CATALOG, CatalogEntry};
use crate::scenario::error::{self, Error};
use crate::scenario::{node_list, yaml_text};
use crate::units::Resources;

use super::{Note, Translation, emit, translate};

/// The scenario's name when imported.
const NAME: &str = "imported";
/// The pool's name when the nodes are not given.
const POOL: &str = "default";

/// The name of the pool `capsim import` adds for pods that request GPUs.
const GPU_POOL: &str = "gpu";

/// What `capsim import` makes.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The scenario, as YAML with comments.
    pub yaml: String,
    /// What the manifests' reading skipped or ignored, one line each.
    pub warnings: Vec<String>,
}

/// The complete scenario `manifests` (files or folders) make. `nodes`, the output of
/// `kubectl get nodes -o yaml`, gives the node pools; without it, one autoscaled pool of the
/// cheapest catalog machine that fits the largest pod.
///
/// # Errors
/// `Error::Manifests` for malformed manifests; the node list's errors (`node_list`); any
/// validation error of the scenario made.
pub fn import(manifests: &[PathBuf], nodes: Option<&Path>) -> Result<Imported, Error> {
    let paths: Vec<(PathBuf, String)> = manifests
        .iter()
        .map(|p| (p.clone(), p.display().to_string()))
        .collect();
    let t = translate(&paths)?;
    let mut notes = t.notes.clone();
    let mut root = Mapping::new();
    root.insert("name".into(), NAME.into());
    notes.push(note(&["name"], "assumed: name the scenario"));
    root.insert("duration".into(), "1h".into());
    notes.push(note(&["duration"], "assumed: how long to simulate"));
    let mut warnings = t.warnings.clone();
    root.insert(
        "node_pools".into(),
        node_pools(nodes, &t, &mut notes, &mut warnings)?,
    );
    for (key, value) in &t.fragment {
        root.insert(key.clone(), value.clone());
    }
    if let Some(Value::Mapping(services)) = root.get("services") {
        for (key, service) in services {
            if service.get("load").is_none() {
                let key = key.as_str().unwrap_or_default();
                notes.push(note(
                    &["services", key],
                    "no load in a manifest: its pods run idle and hold capacity; add load, \
                     server and startup.image_pull here",
                ));
            }
        }
    }
    let root = Value::Mapping(root);
    let header = [
        format!(
            "Made by capsim import from {}.",
            paths
                .iter()
                .map(|(_, s)| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        "Comments mark the values assumed; edit them, then `capsim run` this file.".to_string(),
    ];
    let mut yaml = emit::render(&root, &notes, &header);
    let reads_back = serde_yaml::from_str::<Value>(&yaml).is_ok_and(|v| v == root);
    if !reads_back {
        // A shape the commented writer does not cover: the plain form, without the notes.
        yaml = serde_yaml::to_string(&root).unwrap_or_default();
    }
    Scenario::from_yaml_str(&yaml, "the imported scenario")?;
    Ok(Imported { yaml, warnings })
}

fn note(path: &[&str], text: &str) -> Note {
    Note {
        path: path.iter().map(ToString::to_string).collect(),
        text: text.to_string(),
    }
}

/// The `node_pools` section: from `nodes` when given, else one autoscaled pool from the
/// catalog.
fn node_pools(
    nodes: Option<&Path>,
    t: &Translation,
    notes: &mut Vec<Note>,
    warnings: &mut Vec<String>,
) -> Result<Value, Error> {
    let Some(nodes) = nodes else {
        return Ok(catalog_pool(t, notes));
    };
    let origin = nodes.display().to_string();
    let bytes = yaml_text::read_file(nodes).map_err(|e| Error::Invalid {
        origin: origin.clone(),
        path: String::new(),
        problem: format!("cannot read the node list: {e}"),
        allowed: "expected the output of `kubectl get nodes -o yaml`".to_string(),
    })?;
    let text = yaml_text::decode(bytes, &origin)?;
    let mut list = node_list::pools_from_nodes(&text, &origin).map_err(error::all)?;
    for (pool, why) in &list.notes {
        notes.push(note(
            &["node_pools", pool],
            &format!("from the nodes: {why}"),
        ));
    }
    for (pool, machine) in &list.unpriced {
        let Some(entry) = list.pools.get_mut(pool.as_str()) else {
            continue;
        };
        let spot = entry.get("spot") == Some(&Value::Bool(true));
        let prices: &[&str] = if spot {
            &["price_per_hour", "spot_price_per_hour"]
        } else {
            &["price_per_hour"]
        };
        if let Some(Value::Mapping(m)) = entry.get_mut("machine_type") {
            for price in prices {
                m.insert((*price).into(), 0.into());
            }
        }
        for price in prices {
            notes.push(note(
                &["node_pools", pool, "machine_type", price],
                &format!("assumed: 0; the catalog does not know {machine}: give its price"),
            ));
        }
        warnings.push(format!(
            "node pool {pool}: instance type {machine} is not in the catalog; its price is \
             written as 0 for you to replace"
        ));
    }
    warnings.append(&mut list.warnings);
    Ok(Value::Mapping(list.pools))
}

/// What a pod may request on an empty node of `e`, with the provider's default pod limit.
fn allocatable(e: &CatalogEntry) -> Resources {
    catalog::allocatable(e.provider, e.capacity(), e.provider.default_max_pods())
}

/// For manifests whose pods request GPUs: one autoscaled pool of the cheapest catalog GPU
/// machine, of `provider` when one fits (so that GKE's GPU taint keeps other pods off it), whose
/// empty node fits the largest GPU pod; sized for every replica's GPUs. `None` without GPU pods.
fn gpu_pool(t: &Translation, provider: catalog::Provider, notes: &mut Vec<Note>) -> Option<Value> {
    let (cpu, memory, gpus) = t.largest_gpu_pod;
    if gpus == 0 {
        return None;
    }
    let fits = |e: &&CatalogEntry| {
        let a = allocatable(e);
        u64::from(e.gpus) >= gpus && a.cpu.0 >= cpu && a.memory.0 >= memory
    };
    let cheapest = |same_provider: bool| {
        CATALOG
            .iter()
            .filter(fits)
            .filter(|e| !same_provider || e.provider == provider)
            .min_by(|a, b| {
                a.on_demand_usd_per_hour
                    .total_cmp(&b.on_demand_usd_per_hour)
            })
    };
    let Some(entry) = cheapest(true).or_else(|| cheapest(false)) else {
        notes.push(note(
            &["node_pools"],
            "no catalog GPU machine fits the largest GPU pod; add a pool that offers its GPUs",
        ));
        return None;
    };
    let nodes = t.total_gpus.div_ceil(u64::from(entry.gpus)).max(1);
    let mut autoscaling = Mapping::new();
    autoscaling.insert("min_nodes".into(), 0.into());
    autoscaling.insert("max_nodes".into(), (nodes * 3).max(10).into());
    let mut pool = Mapping::new();
    pool.insert("machine_type".into(), entry.name.into());
    pool.insert("initial_size".into(), nodes.into());
    pool.insert("autoscaling".into(), Value::Mapping(autoscaling));
    notes.push(note(
        &["node_pools", GPU_POOL, "machine_type"],
        "assumed: the cheapest catalog GPU machine that fits the largest GPU pod",
    ));
    notes.push(note(
        &["node_pools", GPU_POOL, "initial_size"],
        "assumed: one GPU per replica's request, every replica placed",
    ));
    Some(Value::Mapping(pool))
}

/// One autoscaled pool of the cheapest catalog machine whose empty node, less the DaemonSets'
/// pods, fits the largest pod; sized for every replica's requests.
fn catalog_pool(t: &Translation, notes: &mut Vec<Note>) -> Value {
    let need = (t.largest_pod.0 + t.daemons.0, t.largest_pod.1 + t.daemons.1);
    let fits = |e: &&CatalogEntry| {
        let a = allocatable(e);
        a.cpu.0 >= need.0 && a.memory.0 >= need.1
    };
    let cheapest = CATALOG.iter().filter(fits).min_by(|a, b| {
        a.on_demand_usd_per_hour
            .total_cmp(&b.on_demand_usd_per_hour)
    });
    let (entry, why) = match cheapest {
        Some(e) => (
            e,
            "assumed: the cheapest catalog machine that fits the largest pod",
        ),
        None => (
            CATALOG
                .iter()
                .max_by_key(|e| (e.memory_gib, e.vcpus))
                .unwrap_or(&CATALOG[0]),
            "assumed: no catalog machine fits the largest pod; give a larger inline machine",
        ),
    };
    let a = allocatable(entry);
    let free = (
        a.cpu.0.saturating_sub(t.daemons.0).max(1),
        a.memory.0.saturating_sub(t.daemons.1).max(1),
    );
    let nodes = t
        .total
        .0
        .div_ceil(free.0)
        .max(t.total.1.div_ceil(free.1))
        .max(1);
    let max_nodes = (nodes * 3).max(10);
    let mut autoscaling = Mapping::new();
    autoscaling.insert("min_nodes".into(), 1.into());
    autoscaling.insert("max_nodes".into(), max_nodes.into());
    let mut pool = Mapping::new();
    pool.insert("machine_type".into(), entry.name.into());
    pool.insert("initial_size".into(), nodes.into());
    pool.insert("autoscaling".into(), Value::Mapping(autoscaling));
    let mut pools = Mapping::new();
    pools.insert(POOL.into(), Value::Mapping(pool));
    if let Some(gpu) = gpu_pool(t, entry.provider, notes) {
        pools.insert(GPU_POOL.into(), gpu);
    }
    notes.push(note(&["node_pools", POOL, "machine_type"], why));
    notes.push(note(
        &["node_pools", POOL, "initial_size"],
        "assumed: enough nodes for every replica's requests",
    ));
    notes.push(note(
        &["node_pools", POOL, "autoscaling", "min_nodes"],
        "assumed: the Cluster Autoscaler may scale down to one node",
    ));
    notes.push(note(
        &["node_pools", POOL, "autoscaling", "max_nodes"],
        "assumed: three times the initial size, at least 10",
    ));
    Value::Mapping(pools)
}
