//! Maps in `summary.json` come in scenario order, whatever the names sort to.

use crate::util::{TempDir, assert_success, run_yaml};

/// Services in namespaces `zeta` then `alpha`, and a quota of a third namespace `mid` given
/// after one of `alpha`.
const SCENARIO: &str = r#"
name: order
seed: 1
duration: 2m
warmup: 0s
node_pools:
  big: {machine_type: {cpu: 16, memory: 64Gi, price_per_hour: 1.0}, initial_size: 1}
services:
  web:
    namespace: zeta
    replicas: 1
    resources: {requests: {cpu: "1", memory: 1Gi}}
    load: {arrivals: {rate: 5}, service_time: {distribution: exponential, mean: 10ms}}
  api:
    namespace: alpha
    replicas: 1
    resources: {requests: {cpu: "1", memory: 1Gi}}
    load: {arrivals: {rate: 5}, service_time: {distribution: exponential, mean: 10ms}}
quotas:
  mid: {pods: 3}
  alpha: {pods: 5}
"#;

#[test]
fn quotas_come_in_the_order_the_scenario_first_names_each_namespace() {
    let dir = TempDir::new("summary-order");
    let (output, out) = run_yaml(&dir, SCENARIO, &["--no-plots", "--quiet"]);
    assert_success(&output);
    let text = std::fs::read_to_string(out.join("summary.json")).unwrap_or_default();
    let summary: serde_json::Value = serde_json::from_str(&text).expect("summary.json is JSON");
    let quotas: Vec<&str> = (summary["quotas"].as_object().expect("quotas"))
        .keys()
        .map(String::as_str)
        .collect();
    // The services' namespaces in service order, then the quotas' own.
    assert_eq!(quotas, ["zeta", "alpha", "mid"], "{text}");
}
