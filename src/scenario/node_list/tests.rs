use super::*;

const GKE: &str = include_str!("../../../tests/data/nodes/gke-nodes.yaml");
const EKS: &str = include_str!("../../../tests/data/nodes/eks-karpenter-nodes.yaml");

fn pool<'a>(list: &'a NodeList, name: &str) -> &'a Value {
    list.pools.get(name).unwrap_or_else(|| {
        panic!(
            "no pool {name} in {:?}",
            list.pools.keys().collect::<Vec<_>>()
        )
    })
}

fn text<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(v, |v, k| &v[*k])
}

#[test]
fn gke_nodes_become_one_pool_per_node_pool_label() {
    let list = pools_from_nodes(GKE, "nodes.yaml").expect("valid nodes");
    let names: Vec<_> = list.pools.keys().filter_map(Value::as_str).collect();
    assert_eq!(names, ["default-pool", "gpu-pool"]);
    let default = pool(&list, "default-pool");
    assert_eq!(default["machine_type"], "n2-standard-8");
    assert_eq!(default["initial_size"], 2);
    assert_eq!(default["max_pods"], 110);
    assert_eq!(text(default, &["allocatable", "cpu"]), "7910m");
    assert_eq!(text(default, &["allocatable", "memory"]), "29226116Ki");
    // Labels both nodes carry with one value; the zone differs, the hostname is per node and
    // the instance type and pool label are capsim's own.
    let labels = default["labels"].as_mapping().expect("labels");
    let keys: Vec<_> = labels.keys().filter_map(Value::as_str).collect();
    assert_eq!(
        keys,
        [
            "kubernetes.io/arch",
            "kubernetes.io/os",
            "topology.kubernetes.io/region"
        ]
    );
    // The cordon's taint is the node's state, not the pool's.
    assert!(default.get("taints").is_none());
    assert!(default.get("spot").is_none());
    assert!(
        list.warnings
            .iter()
            .any(|w| w.contains("cordoned") && w.contains("gke-ai-default-pool-3f1c2a7e-7mzt")),
        "{:?}",
        list.warnings
    );
}

#[test]
fn an_instance_type_the_catalog_lacks_keeps_the_nodes_capacity_and_needs_a_price() {
    let nodes = GKE.replace(
        "instance-type: a2-highgpu-1g",
        "instance-type: a2-ultragpu-1g",
    );
    let list = pools_from_nodes(&nodes, "nodes.yaml").expect("valid nodes");
    let gpu = pool(&list, "gpu-pool");
    assert_eq!(text(gpu, &["machine_type", "cpu"]), "12000m");
    assert_eq!(text(gpu, &["machine_type", "memory"]), "87524292Ki");
    assert!(gpu["machine_type"].get("price_per_hour").is_none());
    assert_eq!(
        list.unpriced,
        [("gpu-pool".to_string(), "a2-ultragpu-1g".to_string())]
    );
    assert_eq!(gpu["spot"], true);
    let taint = &gpu["taints"][0];
    assert_eq!(
        (&taint["key"], &taint["value"], &taint["effect"]),
        (
            &Value::from("nvidia.com/gpu"),
            &Value::from("present"),
            &Value::from("NoSchedule")
        )
    );
    assert_eq!(text(gpu, &["allocatable", "cpu"]), "11900m");
}

#[test]
fn gpu_nodes_give_their_pool_the_gpus_they_report() {
    let list = pools_from_nodes(GKE, "nodes.yaml").expect("valid nodes");
    let gpu = pool(&list, "gpu-pool");
    assert_eq!(gpu["machine_type"], "a2-highgpu-1g");
    assert_eq!(text(gpu, &["allocatable", "nvidia.com/gpu"]), 1);
    assert!(list.unpriced.is_empty());
    let default = pool(&list, "default-pool");
    assert!(default["allocatable"].get("nvidia.com/gpu").is_none());
}

#[test]
fn a_pool_keeps_the_fewest_gpus_of_its_nodes_and_a_fraction_is_an_error() {
    let two = [
        ("a".to_string(), vec![("nvidia.com/gpu".to_string(), 2)]),
        ("b".to_string(), vec![("nvidia.com/gpu".to_string(), 1)]),
    ];
    let min = extended::pool_minimum(two.iter().map(|(_, e)| e.as_slice()));
    assert_eq!(min, [("nvidia.com/gpu".to_string(), 1)]);
    let half = GKE.replace(
        "nvidia.com/gpu: \"1\", pods",
        "nvidia.com/gpu: \"0.5\", pods",
    );
    let errors = pools_from_nodes(&half, "nodes.yaml").expect_err("a fractional GPU");
    let message = errors[0].to_string();
    assert!(
        message.contains("status.allocatable.nvidia.com/gpu: \"0.5\" is not a whole number"),
        "{message}"
    );
}

#[test]
fn a_group_of_mixed_instance_types_is_split_by_type() {
    let list = pools_from_nodes(EKS, "nodes.yaml").expect("valid nodes");
    let names: Vec<_> = list.pools.keys().filter_map(Value::as_str).collect();
    assert_eq!(names, ["general-m7i-2xlarge", "general-c7i-2xlarge"]);
    for name in names {
        let p = pool(&list, name);
        assert_eq!(p["initial_size"], 1);
        assert_eq!(p["max_pods"], 58);
        assert_eq!(text(p, &["labels", "team"]), "search");
        assert!(p["labels"].get("karpenter.sh/capacity-type").is_none());
    }
    assert_eq!(
        pool(&list, "general-c7i-2xlarge")["machine_type"],
        "c7i.2xlarge"
    );
    assert!(list.unpriced.is_empty());
    assert!(
        list.warnings
            .iter()
            .any(|w| w.contains("document 3") && w.contains("Service")),
        "{:?}",
        list.warnings
    );
}

#[test]
fn every_bad_node_is_reported_with_its_document_node_and_field() {
    let text = "\
kind: Node
metadata: {name: a, labels: {node.kubernetes.io/instance-type: n2-standard-8}}
status:
  capacity: {cpu: \"8\", memory: 32Gi, pods: \"110\"}
  allocatable: {cpu: lots, memory: 30Gi, pods: \"110\"}
---
kind: Node
metadata: {name: b, labels: {team: x}}
status:
  capacity: {cpu: \"8\", memory: 32Gi, pods: \"110\"}
  allocatable: {cpu: \"7\", pods: \"110\"}
";
    let errors = pools_from_nodes(text, "nodes.yaml").expect_err("two bad nodes");
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert!(
        messages[0]
            .starts_with("nodes.yaml: document 1 (Node a): status.allocatable.cpu: \"lots\""),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].contains("document 2 (Node b): status.allocatable.memory: missing"),
        "{}",
        messages[1]
    );
}

#[test]
fn a_file_without_nodes_is_an_error() {
    let errors = pools_from_nodes("kind: List\nitems: []\n", "nodes.yaml").expect_err("empty");
    assert!(
        errors[0].to_string().contains("holds no Node"),
        "{}",
        errors[0]
    );
}

#[test]
fn pool_names_are_dns_labels() {
    assert_eq!(pool_name("m7i.2xlarge"), "m7i-2xlarge");
    assert_eq!(pool_name("Team_A.pool"), "team-a-pool");
    assert_eq!(pool_name("2nd"), "pool-2nd");
}

#[test]
fn memory_is_written_in_the_largest_binary_unit_that_divides_it() {
    assert_eq!(memory_text(Bytes(32 << 30)), "32Gi");
    assert_eq!(memory_text(Bytes(1536 << 20)), "1536Mi");
    assert_eq!(memory_text(Bytes(29_226_116 << 10)), "29226116Ki");
    assert_eq!(memory_text(Bytes(1000)), "1000");
}
