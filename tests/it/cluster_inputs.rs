//! A scenario built on a live cluster's node list (`node_pools_from`).

use capsim::scenario::Scenario;
use capsim::units::{Bytes, Millicores};

use crate::util::{TempDir, capsim, repo_root};

const NODES: &str = include_str!("../data/nodes/gke-nodes.yaml");

/// The node list with the GPU node's instance type changed to one capsim's catalog lacks.
fn nodes_of_an_unknown_type() -> String {
    NODES.replace(
        "instance-type: a2-highgpu-1g",
        "instance-type: a2-ultragpu-1g",
    )
}

/// A scenario on `nodes.yaml` with one idle service and `pools` as its own node pools section.
fn scenario_on_nodes(pools: &str) -> String {
    format!(
        "name: on-nodes\nduration: 1h\nnode_pools_from: nodes.yaml\n{pools}\n\
         services:\n  web:\n    replicas: 3\n    resources: {{requests: {{cpu: 500m, memory: 1Gi}}}}\n"
    )
}

/// The scenario's pool names, in order.
fn pool_names(scenario: &Scenario) -> Vec<&str> {
    scenario
        .node_pools
        .iter()
        .map(|p| p.name.as_str())
        .collect()
}

#[test]
fn node_pools_come_from_the_nodes_and_the_scenario_completes_them() {
    let dir = TempDir::new("node-pools-from");
    dir.write("nodes.yaml", NODES);
    let file = dir.write(
        "scenario.yaml",
        &scenario_on_nodes(
            "node_pools:\n  default-pool: {autoscaling: {min_nodes: 2, max_nodes: 5}}\n  \
             gpu-pool: {spot: true}",
        ),
    );
    let scenario = Scenario::load(&file).expect("valid scenario");
    assert_eq!(pool_names(&scenario), ["default-pool", "gpu-pool"]);
    let default = &scenario.node_pools[0];
    assert_eq!(default.machine.name, "n2-standard-8");
    assert_eq!(default.initial_size, 2);
    assert_eq!((default.min_nodes, default.max_nodes), (2, 5));
    assert_eq!(default.allocatable.cpu, Millicores(7910));
    assert_eq!(default.allocatable.memory, Bytes(29_226_116 * 1024));
    assert_eq!(default.max_pods, 110);
    assert_eq!(
        default
            .labels
            .get("topology.kubernetes.io/region")
            .map(String::as_str),
        Some("us-central1")
    );
    let gpu = &scenario.node_pools[1];
    assert_eq!(gpu.machine.name, "a2-highgpu-1g");
    assert_eq!(gpu.machine.capacity.cpu, Millicores(12_000));
    assert!(gpu.spot);
    let catalog_spot = capsim::scenario::catalog::lookup("a2-highgpu-1g")
        .and_then(|e| e.spot_usd_per_hour)
        .expect("a2-highgpu-1g has a spot price");
    assert!(
        (gpu.price_usd_per_hour - catalog_spot).abs() < 1e-12,
        "spot price"
    );
    // The node's one A100, as its status.allocatable reports it (the only extended resource
    // of the scenario, so at index 0); the CPU pool has none.
    assert_eq!(gpu.allocatable.extended.0[0], 1);
    assert_eq!(gpu.machine.capacity.extended.0[0], 1);
    assert!(default.allocatable.extended.is_zero());
    // GKE's GPU taint, reported by the node and not added twice.
    assert_eq!(gpu.taints.len(), 1);
    assert_eq!(gpu.taints[0].key, "nvidia.com/gpu");
    assert_eq!(
        gpu.labels
            .get("node.kubernetes.io/instance-type")
            .map(String::as_str),
        Some("a2-highgpu-1g")
    );
}

#[test]
fn an_unknown_instance_type_without_a_price_is_an_error_naming_it() {
    let dir = TempDir::new("node-pools-unpriced");
    dir.write("nodes.yaml", &nodes_of_an_unknown_type());
    dir.write("scenario.yaml", &scenario_on_nodes(""));
    let output = capsim(dir.path(), &["validate", "scenario.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("node_pools.gpu-pool.machine_type")
            && stderr.contains("\"a2-ultragpu-1g\" is not in capsim's catalog"),
        "{stderr}"
    );
}

#[test]
fn every_bad_node_is_reported_at_once_one_line_each() {
    let dir = TempDir::new("node-pools-bad");
    let bad = NODES.replacen("cpu: 7910m", "cpu: seven", 1).replacen(
        "memory: 87524292Ki",
        "memory: lots",
        1,
    );
    dir.write("nodes.yaml", &bad);
    dir.write("scenario.yaml", &scenario_on_nodes(""));
    let output = capsim(dir.path(), &["validate", "scenario.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines.iter().all(|l| l.starts_with("capsim: ")), "{stderr}");
    assert!(
        lines[0].contains(
            "(Node gke-ai-default-pool-3f1c2a7e-0x1q): status.allocatable.cpu: \"seven\""
        ),
        "{stderr}"
    );
    assert!(
        lines[1].contains("(Node gke-ai-gpu-pool-8b2d91c4-kk2p): status.capacity.memory: \"lots\""),
        "{stderr}"
    );
}

#[test]
fn the_shipped_example_runs_on_its_node_list() {
    let scenario = Scenario::load(&repo_root().join("scenarios/existing-cluster.yaml"))
        .expect("the shipped example is valid");
    assert_eq!(scenario.node_pools.len(), 2);
    assert_eq!(scenario.node_pools[0].initial_size, 2);
}

#[test]
fn import_with_nodes_writes_their_pools_and_marks_the_unknown_price() {
    let dir = TempDir::new("import-nodes");
    let nodes = dir.write("nodes.yaml", &nodes_of_an_unknown_type());
    let manifest = repo_root().join("tests/data/manifests/staging.yaml");
    let output = capsim(
        dir.path(),
        &[
            "import",
            &manifest.display().to_string(),
            "--nodes",
            &nodes.display().to_string(),
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let yaml = String::from_utf8_lossy(&output.stdout).to_string();
    let file = dir.write("imported.yaml", &yaml);
    let scenario = Scenario::load(&file).expect("the imported scenario is valid");
    assert_eq!(pool_names(&scenario), ["default-pool", "gpu-pool"]);
    assert_eq!(scenario.node_pools[0].initial_size, 2);
    assert_eq!(scenario.node_pools[1].machine.name, "a2-ultragpu-1g");
    assert!(
        yaml.contains("price_per_hour: 0  # assumed: 0; the catalog does not know a2-ultragpu-1g"),
        "{yaml}"
    );
    // staging/web's GPU limit became its request, and only the GPU pool offers one.
    assert_eq!(scenario.services[0].pod.requests.extended.0[0], 1);
    assert_eq!(scenario.node_pools[1].allocatable.extended.0[0], 1);
    assert!(
        stderr.contains("capsim: warning: node pool gpu-pool: instance type a2-ultragpu-1g"),
        "{stderr}"
    );
}

#[test]
fn node_list_warnings_reach_the_user_once() {
    let dir = TempDir::new("node-pools-warn");
    dir.write("nodes.yaml", NODES);
    dir.write("scenario.yaml", &scenario_on_nodes(""));
    let output = capsim(dir.path(), &["validate", "scenario.yaml"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr.matches("cordoned node(s)").count(), 1, "{stderr}");
}
