//! Malformed files, wrong shapes, bad numbers and durations, unknown names, pods that fit no
//! pool, and placement rules.

use super::{BASE, assert_rejected, base_with};

#[test]
fn syntax_and_shape_errors_keep_path_and_line() {
    let cases: &[(String, &[&str])] = &[
        (
            base_with("name: t", "name: \"t"),
            &[
                "x.yaml: malformed YAML: found unexpected end of stream",
                "while scanning a quoted scalar at line 2 column 7; expected",
                "expected well-formed YAML",
            ],
        ),
        (
            base_with("replicas: 2", "replicaz: 2"),
            &[
                "x.yaml:9:5: services.web: unknown field \"replicaz\";",
                "expected one of \"namespace\", \"replicas\"",
                "(did you mean \"replicas\"?)",
            ],
        ),
        (
            base_with("replicas: 2", "replicas: [2]"),
            &[
                "x.yaml:9:5: services.web.replicas: found a list;",
                "expected a number or a string",
            ],
        ),
        (
            base_with("    server: {concurrency: 4}\n", "    server: 4\n"),
            &["services.web.server: found integer \"4\"", "expected a map"],
        ),
        (
            base_with("  web:\n", "  web:\n    replicas: 1\n  web:\n"),
            &[
                "services: \"web\" is given twice",
                "expected each name once",
            ],
        ),
        (
            base_with("duration: 1h\n", ""),
            &[
                "missing field \"duration\"",
                "\"duration\" is required here",
            ],
        ),
        (
            base_with(
                "service_time: 10ms",
                "service_time: {distribution: exponential, mena: 1s}",
            ),
            &[
                "services.web.load.service_time: unknown field \"mena\"",
                "(did you mean \"mean\"?)",
            ],
        ),
        (
            base_with(
                "machine_type: c2-standard-8",
                "machine_type: {cpu: 8, memory: 8Gi, price: 1}",
            ),
            &[
                "node_pools.pool.machine_type: unknown field \"price\"",
                "\"price_per_hour\"",
            ],
        ),
        (
            base_with(
                "machine_type: c2-standard-8",
                "machine_type: [c2-standard-8]",
            ),
            &[
                "node_pools.pool.machine_type: found a list",
                "a machine type name or a map",
            ],
        ),
        (
            base_with("name: t\n", "name: t\nname: u\n"),
            &[
                "x.yaml: \"name\" is given twice at line 2 column 1",
                "expected each name once",
            ],
        ),
        (
            base_with(
                "machine_type: c2-standard-8",
                "machine_type: c2-standard-8\n    spot: maybe",
            ),
            &[
                "node_pools.pool.spot: found string \"maybe\"",
                "expected true or false",
            ],
        ),
    ];
    for (yaml, fragments) in cases {
        assert_rejected(yaml, fragments);
    }
}

#[test]
fn numbers_out_of_range_are_rejected() {
    let cases: &[(String, &[&str])] = &[
        (
            base_with("duration: 1h", "duration: 0s"),
            &["duration: \"0s\" is zero; expected a duration > 0"],
        ),
        (
            base_with("concurrency: 4", "concurrency: 0"),
            &[
                "services.web.server.concurrency: \"0\" is out of range; expected a whole number >= 1",
            ],
        ),
        (
            base_with("rate: 100", "rate: 0"),
            &["services.web.load.arrivals.rate: \"0\" is zero; expected a number > 0"],
        ),
        (
            base_with("rate: 100", "rate: .inf"),
            &["services.web.load.arrivals.rate: \"inf\" is not a number"],
        ),
        (
            base_with("service_time: 10ms", "service_time: 0s"),
            &["services.web.load.service_time: \"0s\" is zero; expected a value > 0"],
        ),
        (
            base_with("cpu: 500m", "cpu: 0.0001"),
            &[
                "services.web.resources.requests.cpu: \"0.0001\" is finer than 1m",
                "\"500m\"",
            ],
        ),
        (
            base_with("memory: 1Gi", "memory: -1Gi"),
            &[
                "services.web.resources.requests.memory: \"-1Gi\" is negative",
                "Gi",
            ],
        ),
        (
            base_with(
                "machine_type: c2-standard-8",
                "machine_type: c2-standard-8\n    max_pods: 300",
            ),
            &[
                "node_pools.pool.max_pods: \"300\" is out of range; expected a whole number from 1 to 256",
            ],
        ),
        (
            base_with("name: t", "name: t\nseed: 1.5"),
            &["seed: \"1.5\" is not a valid seed; expected a whole number >= 0"],
        ),
        (
            base_with("name: t", "name: \"my scenario\""),
            &[
                "name: \"my scenario\" is not a valid scenario name",
                "letters, digits",
            ],
        ),
    ];
    for (yaml, fragments) in cases {
        assert_rejected(yaml, fragments);
    }
}

#[test]
fn bad_durations_are_rejected() {
    let cases: &[(String, &[&str])] = &[
        (
            base_with("duration: 1h", "duration: 1h\nwarmup: 5"),
            &["warmup: \"5\" needs a unit; expected a Go duration such as \"300ms\""],
        ),
        (
            base_with("concurrency: 4", "concurrency: 4, timeout: 2 sec"),
            &[
                "services.web.server.timeout: \"2 sec\" has unknown unit \" sec\"",
                "\"2h45m\"",
            ],
        ),
        (
            base_with("duration: 1h", "duration: 1d"),
            &[
                "duration: \"1d\" has unknown unit \"d\"",
                "units ns, us, ms, s, m, h",
            ],
        ),
        (
            base_with("duration: 1h", "duration: 1h\nwarmup: 1h"),
            &[
                "warmup: \"1h0m0s\" is not shorter than the duration 1h0m0s",
                "warmup < duration",
            ],
        ),
        (
            base_with("duration: 1h", "duration: 1h\nresolution: 2h"),
            &[
                "resolution: \"2h0m0s\" is longer than the duration 1h0m0s",
                "resolution <= duration",
            ],
        ),
        (
            base_with("duration: 1h", "duration: 1h\nresolution: 1ms"),
            &[
                "resolution: \"1ms\" gives 3600000 time-series rows over 1h0m0s",
                "at most 1000000 rows: a resolution of 3600us or coarser",
            ],
        ),
        (
            base_with("replicas: 2", "replicas: 1e9"),
            &[
                // YAML reads 1e9 as a float, which a whole-number field refuses.
                "services.web.replicas: \"1000000000.0\" is not a valid count; expected a whole number from 0 to 150000",
            ],
        ),
    ];
    for (yaml, fragments) in cases {
        assert_rejected(yaml, fragments);
    }
}

#[test]
fn unknown_names_list_the_allowed_ones_and_suggest_one() {
    let cases: &[(String, &[&str])] = &[
        (
            base_with("c2-standard-8", "c2-standrd-8"),
            &[
                "node_pools.pool.machine_type: unknown machine type \"c2-standrd-8\"",
                "expected one of \"c2-standard-8\", \"c3-standard-8\"",
                "\"c6i.2xlarge\"",
                "(did you mean \"c2-standard-8\"?)",
            ],
        ),
        (
            base_with(
                "concurrency: 4}",
                "concurrency: 4}\n    load_balancer: least-request",
            ),
            &[
                "services.web.load_balancer: unknown load balancer \"least-request\"",
                "\"round-robin\", \"random\", \"least-requests\"",
                "(did you mean \"least-requests\"?)",
            ],
        ),
        (
            format!("{BASE}autoscaling: {{cluster_autoscaler: {{expander: least-wast}}}}\n"),
            &[
                "autoscaling.cluster_autoscaler.expander: unknown expander \"least-wast\"",
                "\"most-pods\"",
                "(did you mean \"least-waste\"?)",
            ],
        ),
        (
            format!("{BASE}autoscaling: {{hpa: {{wbe: {{maxReplicas: 3}}}}}}\n"),
            &[
                "autoscaling.hpa.wbe: unknown service \"wbe\"",
                "(did you mean \"web\"?)",
            ],
        ),
        (
            format!(
                "{BASE}monitoring: {{alerts: [{{alert: A, service: web, metric: cpu_utilisation, threshold: 1}}]}}\n"
            ),
            &[
                "monitoring.alerts[0].metric: unknown alert metric \"cpu_utilisation\"",
                "\"pending_pods\"",
                "(did you mean \"cpu_utilization\"?)",
            ],
        ),
        (
            format!("{BASE}monitoring: {{scrape: [{{job: j, service: db}}]}}\n"),
            &[
                "monitoring.scrape[0].service: unknown service \"db\"",
                "expected one of \"web\"",
            ],
        ),
        (
            base_with(
                "service_time: 10ms",
                "service_time: {distribution: lognorm, mean: 1s}",
            ),
            &[
                "services.web.load.service_time.distribution: unknown distribution \"lognorm\"",
                "(did you mean \"lognormal\"?)",
            ],
        ),
        (
            base_with("rate: 100}", "rate: 100, profile: {type: diurnel}}"),
            &[
                "services.web.load.arrivals.profile.type: unknown profile type \"diurnel\"",
                "(did you mean \"diurnal\"?)",
            ],
        ),
    ];
    for (yaml, fragments) in cases {
        assert_rejected(yaml, fragments);
    }
}

#[test]
fn a_pod_that_fits_no_pool_is_rejected_with_each_pools_reasons() {
    let yaml = BASE
        .replace("cpu: 500m, memory: 1Gi", "cpu: \"9\", memory: 1Gi")
        .replace(
            "    machine_type: c2-standard-8\n",
            "    machine_type: c2-standard-8\n  tainted:\n    machine_type: n2-highmem-16\n    \
             taints: [{key: gpu, value: a100, effect: NoSchedule}]\n",
        );
    assert_rejected(
        &yaml,
        &[
            "services.web: pod requesting cpu 9, memory 1Gi fits no node pool",
            "pool: Insufficient cpu, allocatable cpu 7910m",
            "tainted: node(s) had untolerated taint {gpu: a100}",
            "expected a pod that an empty node of at least one pool accepts",
        ],
    );
    let selector = base_with("    server:", "    node_selector: {disk: ssd}\n    server:");
    assert_rejected(
        &selector,
        &["pool: node(s) didn't match Pod's node affinity/selector, node labels {"],
    );
}

#[test]
fn affinity_and_tolerations_follow_kubernetes_rules() {
    let affinity = |expr: &str| {
        base_with(
            "    server:",
            &format!(
                "    affinity:\n      nodeAffinity:\n        requiredDuringSchedulingIgnoredDuringExecution:\n          \
                 nodeSelectorTerms: [{{matchExpressions: [{expr}]}}]\n    server:"
            ),
        )
    };
    let path = "services.web.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.\
                nodeSelectorTerms[0].matchExpressions[0]";
    let cases: Vec<(String, Vec<String>)> = vec![
        (
            affinity("{key: a, operator: Inn, values: [x]}"),
            vec![
                format!("{path}.operator: unknown node selector operator \"Inn\""),
                "\"NotIn\", \"Exists\", \"DoesNotExist\", \"Gt\", \"Lt\"".into(),
                "(did you mean \"In\"?)".into(),
            ],
        ),
        (
            affinity("{key: a, operator: In}"),
            vec![format!("{path}.values: operator In is given no value; expected at least one value")],
        ),
        (
            affinity("{key: a, operator: Exists, values: [x]}"),
            vec![format!("{path}.values: operator Exists is given 1 value(s); expected no values")],
        ),
        (
            affinity("{key: a, operator: Gt, values: [big]}"),
            vec![format!("{path}.values[0]: \"big\" is not an integer"), "exactly one integer".into()],
        ),
        (
            affinity("{key: a, operator: Lt, values: [1, 2]}"),
            vec![format!("{path}.values: operator Lt is given 2 values")],
        ),
        (
            base_with(
                "    server:",
                "    affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: \
                 {nodeSelectorTerms: [{}]}}}\n    server:",
            ),
            vec!["nodeSelectorTerms[0].matchExpressions: the term has no expression".into()],
        ),
        (
            base_with(
                "    server:",
                "    affinity: {nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: \
                 [{weight: 101, preference: {}}]}}\n    server:",
            ),
            vec![
                "preferredDuringSchedulingIgnoredDuringExecution[0].weight: \"101\" is out of range; \
                 expected a whole number from 1 to 100"
                    .into(),
            ],
        ),
        (
            base_with(
                "    server:",
                "    affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {}}]}}\n    server:",
            ),
            vec![
                "services.web.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: topologyKey is missing".into(),
                "expected a node label key".into(),
            ],
        ),
        (
            base_with("    server:", "    tolerations: [{key: a, operator: Exists, value: b}]\n    server:"),
            vec!["services.web.tolerations[0].value: \"b\" is given with operator Exists".into()],
        ),
        (
            base_with("    server:", "    tolerations: [{key: a, operator: Exists, tolerationSeconds: 5}]\n    server:"),
            vec!["services.web.tolerations[0].tolerationSeconds: tolerationSeconds is given without effect NoExecute".into()],
        ),
        (
            base_with("    server:", "    tolerations: [{key: a, operator: Exists, effect: NoExecute, tolerationSeconds: 1.5}]\n    server:"),
            vec!["services.web.tolerations[0].tolerationSeconds: \"1.5\" is not a valid number of seconds".into()],
        ),
        (
            base_with("    server:", "    tolerations: [{value: b}]\n    server:"),
            vec![
                "services.web.tolerations[0].key: the key is empty with operator Equal".into(),
                "operator Exists".into(),
            ],
        ),
        (
            base_with("    server:", "    tolerations: [{key: a, operator: Equals}]\n    server:"),
            vec!["unknown toleration operator \"Equals\"".into(), "(did you mean \"Equal\"?)".into()],
        ),
        (
            base_with(
                "machine_type: c2-standard-8",
                "machine_type: c2-standard-8\n    taints: [{key: a, effect: NoSchedul}]",
            ),
            vec![
                "node_pools.pool.taints[0].effect: unknown taint effect \"NoSchedul\"".into(),
                "(did you mean \"NoSchedule\"?)".into(),
            ],
        ),
    ];
    for (yaml, fragments) in &cases {
        let fragments: Vec<&str> = fragments.iter().map(String::as_str).collect();
        assert_rejected(yaml, &fragments);
    }
}
