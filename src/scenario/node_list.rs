//! A live cluster's nodes as node pools: `kubectl get nodes -o yaml` read into capsim's own
//! `node_pools` section.
//!
//! Use `pools_from_nodes` with the text of the file. Nodes are grouped by the label their
//! provisioner puts on them (GKE's `cloud.google.com/gke-nodepool`, EKS's
//! `eks.amazonaws.com/nodegroup`, Karpenter's `karpenter.sh/nodepool`), else by instance type;
//! a group whose nodes have several instance types is split by type. Each pool gets the
//! allocatable (extended resources such as `nvidia.com/gpu` included), pod limit, labels and
//! taints its nodes report, its node count as
//! `initial_size`, and its machine type from the catalog by `node.kubernetes.io/instance-type`
//! (an inline machine with the nodes' capacity when the catalog does not know the type, whose
//! price the scenario must then give). The result is a YAML fragment in the scenario's schema,
//! validated afterwards like anything the user writes; notes say what was assumed.

use indexmap::IndexMap;
use serde::Deserialize;
use serde_yaml::{Mapping, Value};

use crate::scenario::catalog;
use crate::scenario::error::{Error, Problem};
use crate::scenario::inputs::scalar_text;
use crate::scenario::quantity;
use crate::units::{Bytes, Millicores};

/// Labels that name a node's pool, in the order they are looked for.
const POOL_LABELS: [&str; 3] = [
    "cloud.google.com/gke-nodepool",
    "eks.amazonaws.com/nodegroup",
    "karpenter.sh/nodepool",
];
/// Labels that name a node's instance type (the second is the deprecated beta form).
const INSTANCE_TYPE_LABELS: [&str; 2] = [
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
];
/// Labels that differ from node to node, or that capsim sets itself on every node of a pool
/// (validation refuses them in a pool's `labels`).
const DROPPED_LABELS: [&str; 9] = [
    "kubernetes.io/hostname",
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
    "cloud.google.com/gke-nodepool",
    "cloud.google.com/gke-spot",
    "eks.amazonaws.com/nodegroup",
    "eks.amazonaws.com/capacityType",
    "karpenter.sh/nodepool",
    "karpenter.sh/capacity-type",
];
/// Taints the node lifecycle controller and `kubectl cordon` put on individual nodes for a
/// while; they describe the node's state, not its pool.
const TRANSIENT_TAINT_PREFIX: &str = "node.kubernetes.io/";
/// The most node errors listed; the rest are counted.
const MAX_ERRORS: usize = 20;

/// Node pools built from a node list, with what was assumed.
#[derive(Debug, Default)]
pub(crate) struct NodeList {
    /// `node_pools` entries in the scenario's schema, in the order the pools were first seen.
    pub(crate) pools: Mapping,
    /// Pools whose instance type the catalog does not know: (pool, type). The scenario must
    /// give each one's `machine_type.price_per_hour`.
    pub(crate) unpriced: Vec<(String, String)>,
    /// One note per pool on where its values came from (for `import`'s comments).
    pub(crate) notes: Vec<(String, String)>,
    /// Things the user should know: nodes that disagree within a pool, skipped documents.
    pub(crate) warnings: Vec<String>,
}

/// One node as `kubectl get nodes -o yaml` prints it (only what capsim reads).
#[derive(Debug, Deserialize)]
struct NodeFile {
    #[serde(default)]
    metadata: MetadataFile,
    #[serde(default)]
    spec: NodeSpecFile,
    #[serde(default)]
    status: NodeStatusFile,
}

#[derive(Debug, Default, Deserialize)]
struct MetadataFile {
    #[serde(default)]
    name: String,
    #[serde(default)]
    labels: IndexMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
struct NodeSpecFile {
    #[serde(default)]
    taints: Vec<TaintFile>,
    #[serde(default)]
    unschedulable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct TaintFile {
    key: String,
    #[serde(default)]
    value: Option<String>,
    effect: String,
}

#[derive(Debug, Default, Deserialize)]
struct NodeStatusFile {
    #[serde(default)]
    capacity: IndexMap<String, Value>,
    #[serde(default)]
    allocatable: IndexMap<String, Value>,
}

/// One node's facts, read and checked.
#[derive(Debug)]
struct Node {
    name: String,
    labels: IndexMap<String, String>,
    taints: Vec<TaintFile>,
    unschedulable: bool,
    sizes: NodeSizes,
    /// Extended resources (`nvidia.com/gpu`) allocatable, in whole units.
    extended: Vec<(String, u64)>,
}

/// What a node reports of its size.
#[derive(Debug, Clone, Copy)]
struct NodeSizes {
    capacity_cpu: Millicores,
    capacity_memory: Bytes,
    allocatable_cpu: Millicores,
    allocatable_memory: Bytes,
    pods: u64,
}

/// Reads `kubectl get nodes -o yaml` output (a `List` of nodes, or `Node` documents) from
/// `text`; `origin` names the file in messages.
///
/// # Errors
/// Every node whose values are missing or malformed, each naming the document, the node and
/// the field; a file with no node at all.
pub(crate) fn pools_from_nodes(text: &str, origin: &str) -> Result<NodeList, Vec<Error>> {
    let mut list = NodeList::default();
    let mut nodes = Vec::new();
    let mut errors = Vec::new();
    crate::scenario::yaml_text::check(text, origin).map_err(|e| vec![e])?;
    for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let place = format!("document {}", index + 1);
        let value = match Value::deserialize(document) {
            Ok(v) => v,
            Err(e) => {
                errors.push(crate::scenario::error::from_yaml(origin, &e));
                break;
            }
        };
        read_document(origin, &place, value, &mut nodes, &mut errors, &mut list);
    }
    if errors.is_empty() && nodes.is_empty() {
        errors.push(invalid(
            origin,
            "",
            Problem::new(
                "the file holds no Node",
                "expected the output of `kubectl get nodes -o yaml`",
            ),
        ));
    }
    if !errors.is_empty() {
        if errors.len() > MAX_ERRORS {
            let more = errors.len() - MAX_ERRORS;
            errors.truncate(MAX_ERRORS);
            errors.push(invalid(
                origin,
                "",
                Problem::new(
                    format!("{more} more nodes have errors"),
                    "fix the ones above first",
                ),
            ));
        }
        return Err(errors);
    }
    group(nodes, &mut list);
    Ok(list)
}

/// Reads one YAML document: a `List` of nodes, a `Node`, or something skipped with a warning.
fn read_document(
    origin: &str,
    place: &str,
    value: Value,
    nodes: &mut Vec<(String, Node)>,
    errors: &mut Vec<Error>,
    list: &mut NodeList,
) {
    if value.is_null() {
        return;
    }
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
    match kind {
        "List" | "NodeList" => {
            let items = value.get("items").and_then(Value::as_sequence);
            for (i, item) in items.into_iter().flatten().enumerate() {
                let at = format!("{place}: items[{i}]");
                let item_kind = item.get("kind").and_then(Value::as_str).unwrap_or("Node");
                if item_kind != "Node" {
                    list.warnings.push(format!(
                        "{origin}: {at}: a {item_kind} is not a node; skipped"
                    ));
                    continue;
                }
                read_node(origin, &at, item.clone(), nodes, errors);
            }
        }
        "Node" => read_node(origin, place, value, nodes, errors),
        other => list.warnings.push(format!(
            "{origin}: {place}: a {} is not a node; skipped",
            if other.is_empty() {
                "document without kind"
            } else {
                other
            }
        )),
    }
}

/// Reads one node, or records why it cannot be read.
fn read_node(
    origin: &str,
    place: &str,
    value: Value,
    nodes: &mut Vec<(String, Node)>,
    errors: &mut Vec<Error>,
) {
    let file: NodeFile = match serde_yaml::from_value(value) {
        Ok(f) => f,
        Err(e) => {
            errors.push(invalid(
                origin,
                place,
                Problem::new(
                    format!("not a Node: {e}"),
                    "expected a Node as `kubectl get nodes -o yaml` prints it",
                ),
            ));
            return;
        }
    };
    let at = format!("{place} (Node {})", file.metadata.name);
    let sizes = node_sizes(origin, &at, &file.status);
    let extended = extended::allocatable(origin, &at, &file.status.allocatable);
    let (sizes, extended) = match (sizes, extended) {
        (Ok(sizes), Ok(extended)) => (sizes, extended),
        (sizes, extended) => {
            errors.extend(sizes.err().into_iter().flatten());
            errors.extend(extended.err().into_iter().flatten());
            return;
        }
    };
    let Some(key) = pool_key(&file.metadata.labels) else {
        errors.push(invalid(
            origin,
            &format!("{at}: metadata.labels"),
            Problem::new(
                "the node has neither a pool label nor an instance type",
                format!(
                    "expected one of the labels {} or node.kubernetes.io/instance-type",
                    POOL_LABELS.join(", ")
                ),
            ),
        ));
        return;
    };
    nodes.push((
        key,
        Node {
            name: file.metadata.name,
            labels: file.metadata.labels,
            taints: file.spec.taints,
            unschedulable: file.spec.unschedulable,
            sizes,
            extended,
        },
    ));
}

/// A node's capacity, allocatable and pod limit from its `status`; `at` names it in errors.
fn node_sizes(origin: &str, at: &str, status: &NodeStatusFile) -> Result<NodeSizes, Vec<Error>> {
    let mut errors = Vec::new();
    let mut text = |section: &str, map: &IndexMap<String, Value>, key: &str| {
        let path = format!("{at}: status.{section}.{key}");
        match map.get(key).and_then(scalar_text) {
            Some(text) => Some((path, text)),
            None => {
                errors.push(invalid(
                    origin,
                    &path,
                    Problem::new("missing", "expected the quantity the kubelet reports"),
                ));
                None
            }
        }
    };
    let cpu_cap = text("capacity", &status.capacity, "cpu");
    let mem_cap = text("capacity", &status.capacity, "memory");
    let cpu_alloc = text("allocatable", &status.allocatable, "cpu");
    let mem_alloc = text("allocatable", &status.allocatable, "memory");
    let pods = text("capacity", &status.capacity, "pods");
    let mut parse = |f: Option<(String, String)>, read: fn(&str) -> Result<u64, Problem>| {
        let (path, text) = f?;
        read(&text)
            .map_err(|p| errors.push(invalid(origin, &path, p)))
            .ok()
    };
    let sizes = (
        parse(cpu_cap, |t| quantity::cpu(t).map(|c| c.0)),
        parse(mem_cap, |t| quantity::memory(t).map(|b| b.0)),
        parse(cpu_alloc, |t| quantity::cpu(t).map(|c| c.0)),
        parse(mem_alloc, |t| quantity::memory(t).map(|b| b.0)),
        parse(pods, pod_count),
    );
    match sizes {
        (Some(cc), Some(cm), Some(ac), Some(am), Some(pods)) if errors.is_empty() => {
            Ok(NodeSizes {
                capacity_cpu: Millicores(cc),
                capacity_memory: Bytes(cm),
                allocatable_cpu: Millicores(ac),
                allocatable_memory: Bytes(am),
                pods,
            })
        }
        _ => Err(errors),
    }
}

/// A node's pod capacity: a whole number above zero.
fn pod_count(text: &str) -> Result<u64, Problem> {
    match text.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Problem::new(
            format!("\"{text}\" is not a pod count"),
            "expected a whole number > 0",
        )),
    }
}

/// An `Error::Invalid` at `path` of `origin`.
fn invalid(origin: &str, path: &str, p: Problem) -> Error {
    Error::Invalid {
        origin: origin.to_string(),
        path: path.to_string(),
        problem: p.what,
        allowed: p.allowed,
    }
}

/// The name of the group a node belongs to: its pool label, else its instance type.
fn pool_key(labels: &IndexMap<String, String>) -> Option<String> {
    POOL_LABELS
        .iter()
        .chain(&INSTANCE_TYPE_LABELS)
        .find_map(|k| labels.get(*k).filter(|v| !v.is_empty()).cloned())
}

/// A node's instance type, if labelled.
fn instance_type(node: &Node) -> Option<&str> {
    INSTANCE_TYPE_LABELS
        .iter()
        .find_map(|k| node.labels.get(*k).map(String::as_str))
}

/// Groups nodes into pools, split by instance type where a group mixes types.
fn group(nodes: Vec<(String, Node)>, list: &mut NodeList) {
    let mut groups: IndexMap<String, Vec<Node>> = IndexMap::new();
    for (key, node) in nodes {
        groups.entry(key).or_default().push(node);
    }
    for (key, members) in groups {
        let mut by_type: IndexMap<String, Vec<Node>> = IndexMap::new();
        for node in members {
            let t = instance_type(&node).unwrap_or("").to_string();
            by_type.entry(t).or_default().push(node);
        }
        let split = by_type.len() > 1;
        for (machine, members) in by_type {
            let name = if split {
                pool_name(&format!("{key}-{machine}"))
            } else {
                pool_name(&key)
            };
            let pool = build_pool(&name, &machine, &members, split, list);
            list.pools.insert(Value::from(name), pool);
        }
    }
}

/// A valid pool name (a DNS label) for a group key: lowercase, other characters as '-'.
fn pool_name(key: &str) -> String {
    let mut name: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name = name.trim_matches('-').to_string();
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name.insert_str(0, "pool-");
    }
    name.truncate(63);
    name.trim_end_matches('-').to_string()
}

/// One pool from its nodes (all of instance type `machine`).
fn build_pool(
    name: &str,
    machine: &str,
    nodes: &[Node],
    split: bool,
    list: &mut NodeList,
) -> Value {
    let first = &nodes[0];
    let mut pool = Mapping::new();
    let mut note = format!("{} node(s)", nodes.len());
    if split {
        note.push_str(", one instance type of a group that mixes several");
    }
    match catalog::lookup(machine) {
        Some(_) => {
            pool.insert("machine_type".into(), machine.into());
            note.push_str(&format!(
                "; machine type {machine} and its price from the catalog"
            ));
        }
        None => {
            let mut inline = Mapping::new();
            if !machine.is_empty() {
                inline.insert("name".into(), machine.into());
            }
            inline.insert("cpu".into(), first.sizes.capacity_cpu.to_string().into());
            inline.insert(
                "memory".into(),
                memory_text(first.sizes.capacity_memory).into(),
            );
            pool.insert("machine_type".into(), Value::Mapping(inline));
            let shown = if machine.is_empty() {
                "(none)"
            } else {
                machine
            };
            list.unpriced.push((name.to_string(), shown.to_string()));
            note.push_str(&format!(
                "; instance type {shown} is not in the catalog: capacity from the nodes, price from the scenario"
            ));
        }
    }
    pool.insert("initial_size".into(), (nodes.len() as u64).into());
    if is_spot(&first.labels) {
        pool.insert("spot".into(), true.into());
    }
    let labels = common_labels(nodes);
    if !labels.is_empty() {
        pool.insert("labels".into(), Value::Mapping(labels));
    }
    let taints = common_taints(nodes);
    if !taints.is_empty() {
        pool.insert("taints".into(), Value::Sequence(taints));
    }
    let max_pods = nodes.iter().map(|n| n.sizes.pods).min().unwrap_or(110);
    pool.insert("max_pods".into(), max_pods.into());
    let cpu = nodes
        .iter()
        .map(|n| n.sizes.allocatable_cpu)
        .min()
        .unwrap_or(first.sizes.allocatable_cpu);
    let memory = (nodes.iter().map(|n| n.sizes.allocatable_memory))
        .min()
        .unwrap_or(first.sizes.allocatable_memory);
    let mut allocatable = Mapping::new();
    allocatable.insert("cpu".into(), cpu.to_string().into());
    allocatable.insert("memory".into(), memory_text(memory).into());
    for (name, amount) in extended::pool_minimum(nodes.iter().map(|n| n.extended.as_slice())) {
        allocatable.insert(name.into(), amount.into());
    }
    pool.insert("allocatable".into(), Value::Mapping(allocatable));
    note.push_str("; allocatable, pod limit, labels and taints as the nodes report them");
    note.push_str("; fixed size: a node list does not say the autoscaler's bounds");
    warn_disagreements(name, nodes, cpu, memory, list);
    list.notes.push((name.to_string(), note));
    Value::Mapping(pool)
}

/// Memory as a Kubernetes quantity, in the largest binary unit that divides it.
fn memory_text(memory: Bytes) -> String {
    let b = memory.0;
    for (unit, size) in [("Gi", 1u64 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)] {
        if b >= size && b.is_multiple_of(size) {
            return format!("{}{unit}", b / size);
        }
    }
    b.to_string()
}

/// Whether the provisioner labelled the node as Spot capacity.
fn is_spot(labels: &IndexMap<String, String>) -> bool {
    labels.get("cloud.google.com/gke-spot").map(String::as_str) == Some("true")
        || labels
            .get("eks.amazonaws.com/capacityType")
            .map(String::as_str)
            == Some("SPOT")
        || labels.get("karpenter.sh/capacity-type").map(String::as_str) == Some("spot")
}

/// The labels every node of the pool carries with the same value, less per-node ones and the
/// ones capsim sets itself.
fn common_labels(nodes: &[Node]) -> Mapping {
    let mut labels = Mapping::new();
    for (key, value) in &nodes[0].labels {
        if DROPPED_LABELS.contains(&key.as_str()) {
            continue;
        }
        if nodes.iter().all(|n| n.labels.get(key) == Some(value)) {
            labels.insert(key.as_str().into(), value.as_str().into());
        }
    }
    labels
}

/// The taints every node of the pool carries, less the node lifecycle's transient ones.
fn common_taints(nodes: &[Node]) -> Vec<Value> {
    let mut taints = Vec::new();
    for t in &nodes[0].taints {
        if t.key.starts_with(TRANSIENT_TAINT_PREFIX) || !nodes.iter().all(|n| n.taints.contains(t))
        {
            continue;
        }
        let mut taint = Mapping::new();
        taint.insert("key".into(), t.key.as_str().into());
        if let Some(v) = &t.value {
            taint.insert("value".into(), v.as_str().into());
        }
        taint.insert("effect".into(), t.effect.as_str().into());
        taints.push(Value::Mapping(taint));
    }
    taints
}

/// Warnings for nodes of one pool that differ in what the pool keeps once: allocatable (the
/// smallest is kept), cordoned nodes (counted as schedulable).
fn warn_disagreements(
    name: &str,
    nodes: &[Node],
    cpu: Millicores,
    memory: Bytes,
    list: &mut NodeList,
) {
    let differs = nodes
        .iter()
        .any(|n| n.sizes.allocatable_cpu != cpu || n.sizes.allocatable_memory != memory);
    if differs {
        list.warnings.push(format!(
            "node pool {name}: its nodes report different allocatable resources; the smallest ({cpu} CPU, {}) is used for every node",
            memory_text(memory)
        ));
    }
    let cordoned: Vec<&str> = (nodes.iter())
        .filter(|n| n.unschedulable)
        .map(|n| n.name.as_str())
        .collect();
    if !cordoned.is_empty() {
        list.warnings.push(format!(
            "node pool {name}: {} cordoned node(s) ({}) are simulated as schedulable",
            cordoned.len(),
            cordoned.join(", ")
        ));
    }
}

mod extended;
#[cfg(test)]
mod tests;
