//! The manifests of `tests/data/manifests`, each fact checked against the value worked out by
//! hand from Kubernetes' rules.

use std::path::{Path, PathBuf};

use crate::cluster::disruption::{DisruptionBudget, PodCount};
use crate::controllers::hpa::spec::{HpaMetric, ResourceName};
use crate::scenario::catalog::{self, Provider};
use crate::scenario::error::Error;
use crate::scenario::{Document, Scenario};
use crate::units::{Bytes, DurationDist, Millicores, SimDuration};

use super::translate;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/manifests")
        .join(name)
}

fn loaded() -> (Scenario, Vec<String>) {
    let document = Document::load(&data("scenario.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let scenario = document.scenario().unwrap_or_else(|e| panic!("{e}"));
    (scenario, document.warnings().to_vec())
}

fn service<'a>(s: &'a Scenario, name: &str) -> &'a crate::scenario::model::Service {
    s.services
        .iter()
        .find(|x| x.name == name)
        .unwrap_or_else(|| panic!("no service {name}"))
}

const MI: u64 = Bytes::MIB;
const GI: u64 = Bytes::GIB;

#[test]
fn a_helm_rendered_file_gives_replicas_effective_resources_and_the_pod_settings() {
    let (s, _) = loaded();
    let names: Vec<&str> = s.services.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["web", "db", "worker", "api"]);
    let web = service(&s, "web");
    assert_eq!((web.namespace.as_str(), web.replicas), ("shop", 3));
    // cpu: containers 250m + 100m = 350m; the init container's 1 is more: 1000m.
    assert_eq!(web.pod.requests.cpu, Millicores(1_000));
    // memory: 256Mi + 128M = 268435456 + 128000000 = 396435456 > init 300Mi (314572800).
    assert_eq!(web.pod.requests.memory, Bytes(396_435_456));
    // No cpu limit on the proxy: the pod has none. Memory: 512Mi + 1e9 = 1536870912 > 300Mi.
    assert_eq!(web.pod.limits.cpu, Millicores::ZERO);
    assert_eq!(web.pod.limits.memory, Bytes(1_536_870_912));
    assert_eq!(web.termination_grace, SimDuration::from_secs(45));
    // The slower readiness probe of the two containers: 10s.
    assert_eq!(
        web.startup.ready,
        DurationDist::Constant(SimDuration::from_secs(10))
    );
    assert_eq!(web.labels.get("tier").map(String::as_str), Some("frontend"));
    assert_eq!(web.pod.tolerations.len(), 1);
    assert_eq!(web.pod.affinity.preferred.len(), 1);
    assert_eq!(
        web.disruption_budget,
        Some(DisruptionBudget::MaxUnavailable(PodCount::Percent(25)))
    );
    // The scenario completes the manifest: load and server.
    assert!(web.load.is_some());
    assert_eq!(web.server.concurrency, 8);
}

#[test]
fn a_kind_list_gives_statefulsets_deployments_v1_hpas_and_v1beta1_pdbs() {
    let (s, _) = loaded();
    let db = service(&s, "db");
    // replicas absent: 1. Limits without requests: requests = limits = 2 cores, 4Gi.
    assert_eq!(db.replicas, 1);
    assert_eq!(db.pod.requests.cpu, Millicores(2_000));
    assert_eq!(db.pod.requests.memory, Bytes(4 * GI));
    assert_eq!(db.pod.limits.memory, Bytes(4 * GI));
    assert!(db.load.is_none(), "no load: idle pods that hold capacity");
    // `services.shop/db` in the scenario reaches the workload called db.
    assert_eq!(
        db.startup.image_pull,
        DurationDist::Constant(SimDuration::from_secs(20))
    );
    assert_eq!(
        db.disruption_budget,
        Some(DisruptionBudget::MinAvailable(PodCount::Count(1)))
    );
    let worker = service(&s, "worker");
    // The scenario's replicas replace the manifest's 2; the rest stays.
    assert_eq!(worker.replicas, 5);
    // 1.5 cores = 1500m; 1.5Gi = 1536Mi.
    assert_eq!(worker.pod.requests.cpu, Millicores(1_500));
    assert_eq!(worker.pod.requests.memory, Bytes(1_536 * MI));
    assert_eq!(worker.pod.limits.cpu, Millicores::ZERO);
}

#[test]
fn hpas_of_each_version_get_their_bounds_and_targets() {
    let (s, warnings) = loaded();
    let hpa = |name: &str| {
        let i = s.services.iter().position(|x| x.name == name);
        s.autoscaling.hpa.iter().find(|h| Some(h.service) == i)
    };
    let web = hpa("web").unwrap_or_else(|| panic!("web has an HPA"));
    assert_eq!((web.min_replicas, web.max_replicas), (3, 12));
    // The External metric is dropped (with a warning); the cpu target stays.
    assert_eq!(
        web.metrics,
        [HpaMetric::ResourceUtilization {
            resource: ResourceName::Cpu,
            average_utilization_percent: 60
        }]
    );
    let down = web.behavior.as_ref().and_then(|b| b.scale_down.as_ref());
    assert_eq!(down.and_then(|d| d.stabilization_window_seconds), Some(120));
    // v1: minReplicas defaults to 1; targetCPUUtilizationPercentage is a cpu Utilization metric.
    let worker = hpa("worker").unwrap_or_else(|| panic!("worker has an HPA"));
    assert_eq!((worker.min_replicas, worker.max_replicas), (1, 6));
    assert_eq!(
        worker.metrics,
        [HpaMetric::ResourceUtilization {
            resource: ResourceName::Cpu,
            average_utilization_percent: 75
        }]
    );
    // Two HPAs on api: neither acts.
    assert!(hpa("api").is_none());
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("api-cpu, api-memory") && w.contains("AmbiguousSelector")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("External metric ignored"))
    );
}

#[test]
fn limit_range_defaults_complete_containers_and_quotas_take_the_smallest_limit() {
    let (s, _) = loaded();
    let api = service(&s, "api");
    assert_eq!(api.replicas, 4);
    // api: memory 256Mi given, cpu from defaultRequest 100m; limits from default 500m, 512Mi.
    // sidecar: requests 100m, 128Mi (defaultRequest); limits 500m, 512Mi (default).
    // limited: limit cpu 250m sets its request 250m (before the LimitRange); memory 128Mi, 512Mi.
    // requests: 100 + 100 + 250 = 450m; 256 + 128 + 128 = 512Mi.
    assert_eq!(api.pod.requests.cpu, Millicores(450));
    assert_eq!(api.pod.requests.memory, Bytes(512 * MI));
    // limits: 500 + 500 + 250 = 1250m; 3 x 512Mi = 1536Mi.
    assert_eq!(api.pod.limits.cpu, Millicores(1_250));
    assert_eq!(api.pod.limits.memory, Bytes(1_536 * MI));
    let team = s.quotas.iter().find(|q| q.namespace == "team");
    let team = team.unwrap_or_else(|| panic!("team has a quota"));
    // requests.cpu 4 and its alias cpu 3500m both hold: 3500m. pods: min(1e3, 20) = 20.
    assert_eq!(team.requests_cpu, Some(Millicores(3_500)));
    assert_eq!(team.limits_memory, Some(Bytes(16 * GI)));
    assert_eq!(team.pods, Some(20));
    assert_eq!(team.requests_memory, None);
}

#[test]
fn daemonsets_take_their_requests_and_a_pod_slot_from_every_node() {
    let (s, _) = loaded();
    let entry = catalog::lookup("n2-standard-8").unwrap_or_else(|| panic!("in the catalog"));
    let full = catalog::allocatable(Provider::Gke, entry.capacity(), 110);
    let pool = &s.node_pools[0];
    // node-exporter tolerates everything and requests 100m and 64Mi.
    assert_eq!(
        pool.allocatable.cpu,
        full.cpu.saturating_sub(Millicores(100))
    );
    assert_eq!(
        pool.allocatable.memory,
        full.memory.saturating_sub(Bytes(64 * MI))
    );
    assert_eq!(pool.max_pods, 109);
}

#[test]
fn rejected_objects_and_other_kinds_are_warnings() {
    let (scenario, warnings) = loaded();
    // The chart's spread constraint is carried over, not warned of.
    let web = (scenario.services.iter()).find(|s| s.name == "web");
    let spread = web
        .map(|s| s.pod.placement.spread.clone())
        .unwrap_or_default();
    assert_eq!(spread.len(), 1);
    assert_eq!(spread[0].topology_key, "topology.kubernetes.io/zone");
    assert_eq!(spread[0].max_skew, 1);
    assert!(
        !warnings
            .iter()
            .any(|w| w.contains("topologySpreadConstraints"))
    );
    let expected = [
        // The API server's rule, with the file and the document.
        "limits.yaml: document 6 (Deployment greedy): skipped: spec.template.spec.containers[0].resources.requests.cpu: 3 must be less than or equal to cpu limit of 500m",
        "count/secrets not enforced",
        "Deployment cruncher (namespace lab): skipped: the ResourceQuota rejects its pods: must specify requests memory",
        "skipped: ConfigMap (1), Namespace (1), Service (1), ServiceAccount (1), ServiceMonitor (1)",
    ];
    for e in expected {
        assert!(
            warnings.iter().any(|w| w.contains(e)),
            "{e} not in {warnings:?}"
        );
    }
    // Each kind is listed once.
    assert_eq!(
        warnings
            .iter()
            .filter(|w| w.contains("kinds capsim does not model"))
            .count(),
        1
    );
}

#[test]
fn malformed_values_are_all_reported_with_file_document_and_field() {
    let err = translate(&[(data("bad.yaml"), "bad.yaml".to_string())])
        .map(|_| ())
        .unwrap_err();
    let Error::Manifests { problems } = &err else {
        panic!("{err}");
    };
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].starts_with(
        "bad.yaml: document 3 (Deployment web): spec.template.spec.containers[0].resources.requests.cpu: \"abc\" is not a cpu quantity; expected"
    ), "{}", problems[0]);
    assert!(problems[1].starts_with(
        "bad.yaml: document 3 (Deployment web): spec.template.spec.containers[1].resources.limits.memory: \"lots\" is not a memory quantity;"
    ), "{}", problems[1]);
}

#[test]
fn names_shared_by_two_namespaces_are_qualified_and_extended_resources_kept() {
    let t = translate(&[
        (data("shop-helm.yaml"), "shop-helm.yaml".to_string()),
        (data("staging.yaml"), "staging.yaml".to_string()),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let services = t.fragment.get("services").and_then(|s| s.as_mapping());
    let keys: Vec<&str> = services
        .map(|m| m.keys().filter_map(|k| k.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(keys, ["shop/web", "staging/web"]);
    let staging = services.and_then(|m| m.get("staging/web"));
    // 0.0001 cores rounds up to 1m, as the API server stores it.
    let cpu = staging.and_then(|s| s.get("resources")?.get("requests")?.get("cpu")?.as_str());
    assert_eq!(cpu, Some("1m"));
    // The GPU limit is kept, and sets the request as Kubernetes defaults it.
    let gpu = |side: &str| {
        staging.and_then(|s| {
            s.get("resources")?
                .get(side)?
                .get("nvidia.com/gpu")?
                .as_u64()
        })
    };
    assert_eq!((gpu("requests"), gpu("limits")), (Some(1), Some(1)));
    assert!(
        !t.warnings.iter().any(|w| w.contains("not modelled")),
        "{:?}",
        t.warnings
    );
    // The HPA follows its workload's qualified name.
    let hpa = t
        .fragment
        .get("autoscaling")
        .and_then(|a| a.get("hpa")?.get("shop/web"));
    assert!(hpa.is_some());
}

/// The translation of manifest `text`, with its warnings.
fn from_text(text: &str) -> (serde_yaml::Value, Vec<String>) {
    let mut issues = super::Issues::default();
    let objects = super::objects::read_text(text, "m.yaml", &mut issues);
    let t = super::from_objects(&objects, &mut issues);
    assert!(issues.errors.is_empty(), "{:?}", issues.errors);
    (serde_yaml::Value::Mapping(t.fragment), issues.warnings)
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  replicas: 2\n  template:\n    metadata: {labels: {app: app}}\n    spec:\n      containers:\n      - name: c\n        resources: {requests: {cpu: 500m, memory: 1Gi}}\n";

#[test]
fn objects_the_api_server_rejects_are_skipped_with_their_rule() {
    let cases = [
        (
            DEPLOYMENT.replace("replicas: 2", "replicas: -1"),
            "m.yaml: document 1 (Deployment app): skipped: spec.replicas: -1 must be greater than or equal to 0",
        ),
        (
            format!(
                "{DEPLOYMENT}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: h}}\nspec: {{scaleTargetRef: {{kind: Deployment, name: app}}, minReplicas: 4, maxReplicas: 2}}\n"
            ),
            "m.yaml: document 2 (HorizontalPodAutoscaler h): skipped: spec.maxReplicas: 2 must be greater than or equal to minReplicas 4",
        ),
        (
            format!(
                "{DEPLOYMENT}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: h}}\nspec: {{scaleTargetRef: {{kind: Deployment, name: other}}, maxReplicas: 2}}\n"
            ),
            "(HorizontalPodAutoscaler h): skipped: its target Deployment other is not among the manifests",
        ),
        (
            format!(
                "{DEPLOYMENT}---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: p}}\nspec: {{minAvailable: 1, maxUnavailable: 1}}\n"
            ),
            "(PodDisruptionBudget p): skipped: spec: minAvailable and maxUnavailable cannot both be set",
        ),
        (
            format!(
                "apiVersion: v1\nkind: LimitRange\nmetadata: {{name: lr}}\nspec: {{limits: [{{type: Container, max: {{cpu: 400m}}}}]}}\n---\n{DEPLOYMENT}"
            ),
            // max sets the default limit 400m, below the 500m request.
            "(Deployment app): skipped: spec.template.spec.containers[0].resources.requests.cpu: 500m must be less than or equal to cpu limit of 400m",
        ),
    ];
    for (text, expected) in cases {
        let (fragment, warnings) = from_text(&text);
        assert!(
            warnings.iter().any(|w| w.contains(expected)),
            "{expected} not in {warnings:?}"
        );
        if expected.contains("Deployment app): skipped") {
            assert!(fragment.get("services").is_none(), "{fragment:?}");
        }
    }
}

#[test]
fn sidecars_count_with_the_containers_and_before_later_init_containers() {
    // Init containers in order: sidecar (restartPolicy Always) 200m, then a regular one 1 core;
    // one container 300m. Running: 300m + 200m = 500m; the regular init container runs beside
    // the sidecar started before it: 1000m + 200m = 1200m. The pod requests 1200m.
    let text = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec:\n  template:\n    spec:\n      initContainers:\n      - {name: mesh, restartPolicy: Always, resources: {requests: {cpu: 200m}}}\n      - {name: setup, resources: {requests: {cpu: \"1\"}}}\n      containers:\n      - {name: c, resources: {requests: {cpu: 300m}}}\n";
    let (fragment, _) = from_text(text);
    let cpu = fragment.get("services").and_then(|s| {
        s.get("s")?
            .get("resources")?
            .get("requests")?
            .get("cpu")?
            .as_str()
    });
    assert_eq!(cpu, Some("1200m"));
}

#[test]
fn gpu_limits_become_the_services_gpu_request_summed_like_cpu() {
    // Two containers with 1 GPU each; an init container with 3: the pod needs max(2, 3) = 3.
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: infer}\nspec:\n  template:\n    spec:\n      initContainers:\n      - {name: warm, resources: {limits: {nvidia.com/gpu: 3}}}\n      containers:\n      - {name: a, resources: {limits: {nvidia.com/gpu: 1}}}\n      - {name: b, resources: {requests: {nvidia.com/gpu: \"1\"}, limits: {nvidia.com/gpu: \"1\"}}}\n";
    let (fragment, warnings) = from_text(text);
    let gpu = |side: &str| {
        fragment.get("services").and_then(|s| {
            s.get("infer")?
                .get("resources")?
                .get(side)?
                .get("nvidia.com/gpu")?
                .as_u64()
        })
    };
    assert_eq!((gpu("requests"), gpu("limits")), (Some(3), Some(3)));
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn gpu_requests_the_api_server_rejects_skip_the_workload() {
    let base = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        resources: ";
    let cases = [
        (
            "{requests: {nvidia.com/gpu: 2}, limits: {nvidia.com/gpu: 1}}",
            "skipped: spec.template.spec.containers[0].resources.requests.nvidia.com/gpu: 2 must be equal to nvidia.com/gpu limit of 1",
        ),
        (
            "{requests: {nvidia.com/gpu: 1}}",
            "skipped: spec.template.spec.containers[0].resources.requests.nvidia.com/gpu: Limit must be set for non overcommitable resources",
        ),
    ];
    for (resources, expected) in cases {
        let (fragment, warnings) = from_text(&format!("{base}{resources}\n"));
        assert!(
            warnings.iter().any(|w| w.contains(expected)),
            "{expected} not in {warnings:?}"
        );
        assert!(fragment.get("services").is_none(), "{fragment:?}");
    }
}

#[test]
fn an_empty_pdb_selector_selects_every_pod_in_v1_and_none_in_v1beta1() {
    for (version, selected) in [("policy/v1", true), ("policy/v1beta1", false)] {
        let text = format!(
            "{DEPLOYMENT}---\napiVersion: {version}\nkind: PodDisruptionBudget\nmetadata: {{name: p}}\nspec: {{minAvailable: 50%, selector: {{}}}}\n"
        );
        let (fragment, _) = from_text(&text);
        let budget = fragment
            .get("services")
            .and_then(|s| s.get("app")?.get("disruption_budget"));
        assert_eq!(budget.is_some(), selected, "{version}");
    }
}

/// A one-GPU Deployment and a ResourceQuota whose `spec.hard` is `hard`.
fn gpu_quota(hard: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: infer}}\nspec:\n  template:\n    spec:\n      containers:\n      - {{name: c, resources: {{limits: {{nvidia.com/gpu: 1}}}}}}\n---\napiVersion: v1\nkind: ResourceQuota\nmetadata: {{name: q}}\nspec:\n  hard: {{{hard}}}\n"
    )
}

#[test]
fn a_quota_keeps_extended_requests_and_warns_of_keys_kubernetes_does_not_count() {
    let (fragment, warnings) = from_text(&gpu_quota(
        "requests.nvidia.com/gpu: 2, limits.nvidia.com/gpu: 4, nvidia.com/gpu: \"4\"",
    ));
    let hard = fragment.get("quotas").and_then(|q| q.get("default"));
    let expected: serde_yaml::Value =
        serde_yaml::from_str("{requests.nvidia.com/gpu: 2}").unwrap_or_default();
    assert_eq!(hard, Some(&expected), "{fragment:?}");
    assert!(
        fragment
            .get("services")
            .is_some_and(|s| s.get("infer").is_some())
    );
    assert_eq!(
        warnings,
        [
            "m.yaml: document 2 (ResourceQuota q): spec.hard: limits.nvidia.com/gpu, nvidia.com/gpu \
          limit nothing: Kubernetes counts an extended resource in a quota only as \
          requests.<name>, such as requests.nvidia.com/gpu"
        ]
    );
}

#[test]
fn a_gpu_quota_below_one_pod_skips_the_gpu_workload() {
    let (fragment, warnings) = from_text(&gpu_quota("requests.nvidia.com/gpu: 0"));
    assert!(fragment.get("services").is_none(), "{fragment:?}");
    assert!(
        warnings.iter().any(|w| w.contains(
            "Deployment infer (namespace default): skipped: the ResourceQuota rejects its pods: \
             exceeded quota: requests.nvidia.com/gpu is limited to 0"
        )),
        "{warnings:?}"
    );
    // One GPU per pod fits a quota of one.
    let (fragment, _) = from_text(&gpu_quota("requests.nvidia.com/gpu: 1"));
    assert!(fragment.get("services").is_some(), "{fragment:?}");
}
