//! Section checks: resources, quotas, pools, load, autoscaling and monitoring.

use super::{BASE, assert_rejected, base_with, load};
use crate::units::{Bytes, Millicores, Resources};

#[test]
fn resources_follow_kubernetes_defaulting() {
    assert_rejected(
        &base_with(
            "requests: {cpu: 500m, memory: 1Gi}",
            "requests: {cpu: \"2\"}\n      limits: {cpu: \"1\"}",
        ),
        &[
            "services.web.resources.requests.cpu: 2000m is above the cpu limit 1000m",
            "expected requests.cpu <= limits.cpu",
        ],
    );
    assert_rejected(
        &base_with(
            "requests: {cpu: 500m, memory: 1Gi}",
            "requests: {memory: 2Gi}\n      limits: {memory: 1Gi}",
        ),
        &["services.web.resources.requests.memory: 2Gi is above the memory limit 1Gi"],
    );
    // A limit without a request sets the request.
    let s = load(&base_with(
        "requests: {cpu: 500m, memory: 1Gi}",
        "limits: {cpu: 1500m}",
    ))
    .expect("valid");
    let pod = &s.services[0].pod;
    assert_eq!(pod.requests, Resources::new(1_500, 0));
    assert_eq!(pod.limits, Resources::new(1_500, 0));
    assert!(pod.has_cpu_request);
    assert!(!pod.has_memory_request);
}

#[test]
fn quotas_are_checked_against_the_services() {
    assert_rejected(
        &format!("{BASE}quotas: {{default: {{requests.cpu: lots}}}}\n"),
        &[
            "quotas.default.requests.cpu: \"lots\" is not a cpu quantity",
            "expected cores such as \"2\" or \"0.5\", or millicores such as \"500m\"",
        ],
    );
    assert_rejected(
        &format!("{BASE}quotas: {{default: {{limits.memory: 8Gi}}}}\n"),
        &[
            "services.web.resources.limits.memory: no memory limit is set, but the ResourceQuota \
             of namespace \"default\" limits limits.memory",
            "Kubernetes rejects every pod without it",
        ],
    );
    assert_rejected(
        &format!("{BASE}quotas: {{default: {{requests.cpu: 250m}}}}\n"),
        &[
            "services.web.resources.requests.cpu: 500m per pod is more than the whole quota requests.cpu 250m",
        ],
    );
    assert_rejected(
        &format!("{BASE}quotas: {{default: {{cpu: \"1\", requests.cpu: \"1\"}}}}\n"),
        &["quotas.default.cpu: both requests.cpu and its alias cpu are given"],
    );
    assert_rejected(
        &format!("{BASE}quotas: {{default: {{requests.storage: 1Gi}}}}\n"),
        &[
            "quotas.default: unknown field \"requests.storage\"",
            "\"requests.memory\"",
        ],
    );
    // A quota in a namespace without services is fine; namespaces come in the order the
    // scenario first names them (the services', then the quotas'), quotas in file order.
    let s = load(&format!(
        "{BASE}quotas: {{zeta: {{pods: 3}}, alpha: {{memory: 1Gi}}, default: {{requests.cpu: \"8\"}}}}\n"
    ))
    .expect("valid");
    assert_eq!(s.namespaces, ["default", "zeta", "alpha"]);
    let order: Vec<&str> = s.quotas.iter().map(|q| q.namespace.as_str()).collect();
    assert_eq!(order, ["zeta", "alpha", "default"]);
    assert_eq!(s.quotas[1].requests_memory, Some(Bytes::from_gib(1)));
    assert_eq!(s.quotas[2].requests_cpu, Some(Millicores(8_000)));
    assert_eq!(s.quotas[0].pods, Some(3));
}

#[test]
fn pools_are_checked() {
    let pool = |extra: &str| {
        base_with(
            "machine_type: c2-standard-8",
            &format!("machine_type: c2-standard-8\n    {extra}"),
        )
    };
    let cases: &[(String, &[&str])] = &[
        (
            pool("preemption: {mean_lifetime: 24h}"),
            &[
                "node_pools.pool.preemption: preemption is given for a pool that is not spot",
                "expected spot: true",
            ],
        ),
        (
            pool("spot: true\n    preemption: {mean_lifetime: 0s}"),
            &["node_pools.pool.preemption.mean_lifetime: \"0s\" is zero"],
        ),
        (
            pool("spot: true\n    preemption: {mean: 1h}"),
            &["node_pools.pool.preemption: unknown field \"mean\""],
        ),
        (
            pool("failures: {mean_time_between: 0s}"),
            &["node_pools.pool.failures.mean_time_between: \"0s\" is zero"],
        ),
        (
            pool("failures: {mean_time_between: 720h, repair_delay: -1m}"),
            &["node_pools.pool.failures.repair_delay: \"-1m\" is negative"],
        ),
        (
            pool("failures: {mean: 720h}"),
            &["node_pools.pool.failures: unknown field \"mean\""],
        ),
        (
            pool("autoscaling: {min_nodes: 2, max_nodes: 4}\n    initial_size: 5"),
            &["node_pools.pool.initial_size: 5 is outside the autoscaling range 2..4"],
        ),
        (
            pool("autoscaling: {min_nodes: 5, max_nodes: 4}"),
            &["node_pools.pool.autoscaling.max_nodes: \"4\" is below min_nodes 5"],
        ),
        (
            pool("autoscaling: {max_nodes: 4, cpu_threshold: 120}"),
            &[
                "node_pools.pool.autoscaling.cpu_threshold: \"120\" is out of range; expected a percentage in (0, 100]",
            ],
        ),
        (
            pool("autoscaling: {max_nodes: 4, gpu_threshold: 0}"),
            &[
                "node_pools.pool.autoscaling.gpu_threshold: \"0\" is out of range; expected a percentage in (0, 100]",
            ],
        ),
        (
            pool("allocatable: {cpu: \"9\"}"),
            &[
                "node_pools.pool.allocatable.cpu: 9000m is more than the machine's 8000m cpu",
                "allocatable <= capacity",
            ],
        ),
        (
            pool("labels: {cloud.google.com/gke-nodepool: other}"),
            &[
                "node_pools.pool.labels.cloud.google.com/gke-nodepool: \"cloud.google.com/gke-nodepool\" is set by the provider",
            ],
        ),
        (
            pool("provisioning_delay: -1s"),
            &["node_pools.pool.provisioning_delay: \"-1s\" is negative"],
        ),
        (
            base_with(
                "machine_type: c2-standard-8",
                "machine_type: {cpu: 8, memory: 32Gi, price_per_hour: 1}\n    spot: true",
            ),
            &[
                "node_pools.pool.spot: spot nodes asked for, but machine type \"custom\" has no spot price",
                "spot_price_per_hour",
            ],
        ),
        (
            base_with(
                "machine_type: c2-standard-8",
                "machine_type: {cpu: 8, memory: 32Gi, price_per_hour: -1}",
            ),
            &["node_pools.pool.machine_type.price_per_hour: \"-1\" is out of range"],
        ),
        (
            base_with("  pool:\n", "  Pool_1:\n"),
            &[
                "node_pools.Pool_1: \"Pool_1\" is not a valid node pool name",
                "lowercase",
            ],
        ),
        (
            base_with(
                "node_pools:\n  pool:\n    machine_type: c2-standard-8\n",
                "node_pools: {}\n",
            ),
            &["node_pools: no node pool is given; expected at least one pool"],
        ),
    ];
    for (yaml, fragments) in cases {
        assert_rejected(yaml, fragments);
    }
}

#[test]
fn speeds_are_checked() {
    let pool = |extra: &str| {
        base_with(
            "machine_type: c2-standard-8",
            &format!("machine_type: c2-standard-8\n    {extra}"),
        )
    };
    let inline = |speed: &str| {
        base_with(
            "machine_type: c2-standard-8",
            &format!("machine_type: {{cpu: 8, memory: 32Gi, price_per_hour: 1, speed: {speed}}}"),
        )
    };
    let allowed = "expected a relative per-vCPU speed above 0 and at most 10 (1.0 is an N2 vCPU;";
    let cases: &[(String, &[&str])] = &[
        (
            pool("speed: 0"),
            &["node_pools.pool.speed: \"0\" is out of range", allowed],
        ),
        (
            pool("speed: -1.2"),
            &["node_pools.pool.speed: \"-1.2\" is out of range", allowed],
        ),
        (
            // A CoreMark score where the ratio belongs.
            pool("speed: 138567"),
            &["node_pools.pool.speed: \"138567\" is out of range", allowed],
        ),
        (
            pool("speed: fast"),
            &["node_pools.pool.speed: \"fast\" is not a number", allowed],
        ),
        (
            // YAML's infinity, which the file's scalar keeps as "inf".
            pool("speed: .inf"),
            &["node_pools.pool.speed: \"inf\" is not a number", allowed],
        ),
        (
            inline("0"),
            &[
                "node_pools.pool.machine_type.speed: \"0\" is out of range",
                allowed,
            ],
        ),
        (
            inline("nan"),
            &[
                "node_pools.pool.machine_type.speed: \"nan\" is not a number",
                allowed,
            ],
        ),
        (
            inline("10.5"),
            &["node_pools.pool.machine_type.speed: \"10.5\" is out of range"],
        ),
    ];
    for (yaml, fragments) in cases {
        assert_rejected(yaml, fragments);
    }
}

#[test]
fn loads_are_checked() {
    let st = |to: &str| base_with("service_time: 10ms", to);
    let cases: &[(String, &[&str])] = &[
        (
            st("service_time: {distribution: lognormal, mean: 10ms, p99: 5ms}"),
            &[
                "services.web.load.service_time.p99: \"5ms\" is not above the mean \"10ms\"",
                "p99 > mean",
            ],
        ),
        (
            st("service_time: {distribution: lognormal, mean: 10ms, p99: 150ms}"),
            &[
                "service_time.p99: \"150ms\" is 15.0 times the mean \"10ms\"",
                "p99 / mean < 14.9",
            ],
        ),
        (
            st("service_time: {distribution: exponential, mean: 10ms, p99: 20ms}"),
            &[
                "service_time.p99: \"p99\" does not apply to distribution exponential",
                "expected only mean",
            ],
        ),
        (
            st("service_time: {distribution: uniform, min: 10ms}"),
            &[
                "service_time.max: distribution uniform needs \"max\"",
                "expected min and max",
            ],
        ),
        (
            st("service_time: {distribution: uniform, min: 10ms, max: 5ms}"),
            &["service_time.max: \"5ms\" is below min \"10ms\""],
        ),
        (
            st(
                "service_time: 10ms\n      model: {type: inference, tokens: 10, tokens_per_core_second: 5}",
            ),
            &[
                "services.web.load: both service_time and model are given",
                "exactly one of",
            ],
        ),
        (
            st(""),
            &["services.web.load: neither service_time nor model is given"],
        ),
        (
            st("model: {type: vector-search, vectors: 1M, dimension: 8, tokens: 5}"),
            &[
                "services.web.load.model.tokens: \"tokens\" does not apply to model type vector-search",
            ],
        ),
        (
            st("model: {type: vector-search, vectors: 1M, dimension: 8, top_k: 20, ef: 10}"),
            &["services.web.load.model.ef: \"10\" is below top_k 20"],
        ),
        (
            st("model: {type: vector-search, vectors: 1M, dimension: 8, recall: 1}"),
            &[
                "services.web.load.model.recall: \"1\" is out of range",
                "strictly between 0 and 1",
            ],
        ),
        (
            st("model: {type: vector-search, dimension: 8}"),
            &["services.web.load.model.vectors: model type vector-search needs \"vectors\""],
        ),
        (
            st(
                "model: {type: inference, tokens: {distribution: lognormal, mean: 250, p99: 100}, tokens_per_core_second: 5}",
            ),
            &["services.web.load.model.tokens.p99: \"100\" is not above the mean \"250\""],
        ),
        (
            st("model: {type: inference, tokens: 250, tokens_per_core_second: 0}"),
            &["services.web.load.model.tokens_per_core_second: \"0\" is zero"],
        ),
        (
            st("model: {type: inference, tokens: 1e300, tokens_per_core_second: 1e-300}"),
            &[
                "services.web.load.model.tokens_per_core_second: 1e300 tokens at 1e-300 tokens per core-second is inf s of work",
            ],
        ),
        (
            base_with(
                "rate: 100}",
                "rate: 100, profile: {type: steps, steps: [{at: 2h, factor: 2}, {at: 1h, factor: 1}]}}",
            ),
            &[
                "services.web.load.arrivals.profile.steps[1].at: \"1h\" is not after the previous point's 2h0m0s",
                "strictly increasing",
            ],
        ),
        (
            base_with(
                "rate: 100}",
                "rate: 100, profile: [{type: constant}, {type: spikes, spikes: [{at: 1h, duration: 0s, factor: 2}]}]}",
            ),
            &["services.web.load.arrivals.profile[1].spikes[0].duration: \"0s\" is zero"],
        ),
        (
            base_with(
                "rate: 100}",
                "rate: 100, profile: {type: diurnal, peak_hour: 24}}",
            ),
            &["profile.peak_hour: \"24\" is out of range; expected an hour of the day in [0, 24)"],
        ),
        (
            base_with(
                "rate: 100}",
                "rate: 100, profile: {type: points, points: [{at: 1h, factor: -1}]}}",
            ),
            &["profile.points[0].factor: \"-1\" is out of range; expected a rate factor >= 0"],
        ),
        (
            base_with(
                "rate: 100}",
                "rate: 100, profile: {type: constant, peak_hour: 3}}",
            ),
            &["profile.peak_hour: \"peak_hour\" does not apply to profile type constant"],
        ),
    ];
    for (yaml, fragments) in cases {
        assert_rejected(yaml, fragments);
    }
}

#[test]
fn autoscaling_and_monitoring_are_checked() {
    let hpa = |body: &str| format!("{BASE}autoscaling:\n  hpa:\n    web: {body}\n");
    let cpu70 = "[{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]";
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            hpa(&format!(
                "{{minReplicas: 3, maxReplicas: 2, metrics: {cpu70}}}"
            )),
            vec!["autoscaling.hpa.web.maxReplicas: \"2\" is below minReplicas 3"],
        ),
        (
            format!(
                "{BASE}autoscaling: {{cluster_autoscaler: {{max_scale_down_parallelism: 0}}}}\n"
            ),
            vec!["autoscaling.cluster_autoscaler.max_scale_down_parallelism: "],
        ),
        (
            // No metric: Kubernetes' default, 80% CPU, needs a CPU request.
            format!(
                "{}autoscaling:\n  hpa:\n    web: {{maxReplicas: 2}}\n",
                base_with(
                    "requests: {cpu: 500m, memory: 1Gi}",
                    "requests: {memory: 1Gi}"
                )
            ),
            vec![
                "autoscaling.hpa.web.metrics: no metric is given, so Kubernetes' default applies \
                 (80% cpu utilization), but service web requests no cpu",
            ],
        ),
        (
            hpa(&format!(
                "{{scaleTargetRef: {{name: api}}, maxReplicas: 2, metrics: {cpu70}}}"
            )),
            vec![
                "autoscaling.hpa.web.scaleTargetRef.name: \"api\" is not the service",
                "expected \"web\"",
            ],
        ),
        (
            hpa("{maxReplicas: 2, metrics: [{type: External}]}"),
            vec![
                "autoscaling.hpa.web.metrics[0].type: unknown metric type \"External\"",
                "\"Resource\", \"Pods\"",
            ],
        ),
        (
            hpa(
                "{maxReplicas: 2, metrics: [{type: Pods, pods: {metric: {name: qps}, target: {type: AverageValue, averageValue: 5}}}]}",
            ),
            vec![
                "metrics[0].pods.metric.name: unknown pod metric \"qps\"",
                "\"requests_per_second\"",
            ],
        ),
        (
            hpa(
                "{maxReplicas: 2, metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageValue: 5}}}]}",
            ),
            vec![
                "resource.target.averageValue: \"averageValue\" does not apply to target type Utilization",
            ],
        ),
        (
            hpa(&format!(
                "{{maxReplicas: 2, metrics: {cpu70}, behavior: {{scaleUp: {{stabilizationWindowSeconds: 4000}}}}}}"
            )),
            vec![
                "behavior.scaleUp.stabilizationWindowSeconds: \"4000\" is out of range; expected a whole number from 0 to 3600",
            ],
        ),
        (
            hpa(&format!(
                "{{maxReplicas: 2, metrics: {cpu70}, behavior: {{scaleDown: {{policies: [{{type: Percent, value: 10, periodSeconds: 0}}]}}}}}}"
            )),
            vec![
                "behavior.scaleDown.policies[0].periodSeconds: \"0\" is out of range; expected a whole number from 1 to 1800",
            ],
        ),
        (
            hpa(&format!(
                "{{maxReplicas: 2, metrics: {cpu70}, behavior: {{scaleDown: {{selectPolicy: Maximum}}}}}}"
            )),
            vec!["behavior.scaleDown.selectPolicy: unknown select policy \"Maximum\""],
        ),
        (
            hpa(&format!(
                "{{maxReplicas: 2, metrics: {cpu70}, tolerance: 1}}"
            )),
            vec![
                "autoscaling.hpa.web.tolerance: \"1\" is out of range; expected a tolerance in [0, 1)",
            ],
        ),
        (
            hpa(&format!(
                "{{maxReplicas: 2, metrics: {cpu70}, sync_period: 30s, sync_offset: 30s}}"
            )),
            vec![
                "autoscaling.hpa.web.sync_offset: \"30s\" is not shorter than the sync period 30s; expected \"random\" or a duration from 0s to below sync_period",
            ],
        ),
        (
            hpa(&format!(
                "{{maxReplicas: 2, metrics: {cpu70}, sync_period: 1us}}"
            )),
            vec![
                "autoscaling.hpa.web.sync_period: \"1us\" is shorter than 1s; expected a period of at least 1s",
            ],
        ),
        (
            format!("{BASE}autoscaling: {{metric_resolution: 5s}}\n"),
            vec![
                "autoscaling.metric_resolution: \"5s\" is shorter than 10s; expected a period of at least 10s: metrics-server refuses",
            ],
        ),
        (
            format!("{BASE}autoscaling: {{cluster_autoscaler: {{scan_interval: 10us}}}}\n"),
            vec!["autoscaling.cluster_autoscaler.scan_interval: \"10us\" is shorter than 1s"],
        ),
        (
            hpa(&format!(
                "{{maxReplicas: 2, metrics: {cpu70}, sync_offset: soon}}"
            )),
            vec!["autoscaling.hpa.web.sync_offset: \"soon\""],
        ),
        (
            format!("{BASE}autoscaling: {{cluster_autoscaler: {{expander: priority}}}}\n"),
            vec![
                "autoscaling.cluster_autoscaler.expander: the priority expander is chosen, but no priorities are given",
            ],
        ),
        (
            format!("{BASE}autoscaling: {{cluster_autoscaler: {{priorities: {{pol: 1}}}}}}\n"),
            vec![
                "autoscaling.cluster_autoscaler.priorities.pol: unknown node pool \"pol\"",
                "(did you mean \"pool\"?)",
            ],
        ),
        (
            format!(
                "{BASE}autoscaling: {{cluster_autoscaler: {{scale_down_utilization_threshold: 0}}}}\n"
            ),
            vec![
                "scale_down_utilization_threshold: \"0\" is out of range; expected a fraction in (0, 1]",
            ],
        ),
        (
            format!(
                "{BASE}autoscaling: {{cluster_autoscaler: {{scale_down_gpu_utilization_threshold: 1.5}}}}\n"
            ),
            vec![
                "autoscaling.cluster_autoscaler.scale_down_gpu_utilization_threshold: \"1.5\" is out of range; expected a fraction in (0, 1]",
            ],
        ),
        (
            format!(
                "{BASE}monitoring: {{alerts: [{{alert: A, service: web, metric: pending_pods, op: \">=\", threshold: 1}}]}}\n"
            ),
            vec![
                "monitoring.alerts[0].op: unknown comparison \">=\"",
                "expected one of \">\", \"<\"",
            ],
        ),
        (
            format!(
                "{BASE}monitoring: {{scrape: [{{job: j, service: web}}, {{job: j, service: web}}]}}\n"
            ),
            vec!["monitoring.scrape[1].job: \"j\" is used by an earlier job"],
        ),
        (
            format!(
                "{BASE}monitoring: {{alerts: [{{alert: A, service: web, metric: pending_pods, threshold: 1}}, {{alert: A, service: web, metric: pending_pods, threshold: 2}}]}}\n"
            ),
            vec!["monitoring.alerts[1].alert: \"A\" is used by an earlier rule"],
        ),
    ];
    for (yaml, fragments) in &cases {
        assert_rejected(yaml, fragments);
    }
    // A utilization target needs the request it is a percentage of.
    let no_memory = base_with("cpu: 500m, memory: 1Gi", "cpu: 500m");
    assert_rejected(
        &format!(
            "{no_memory}autoscaling: {{hpa: {{web: {{maxReplicas: 3, metrics: [{{type: Resource, resource: \
             {{name: memory, target: {{type: Utilization, averageUtilization: 70}}}}}}]}}}}}}\n"
        ),
        &[
            "autoscaling.hpa.web.metrics[0].resource.target: a memory utilization target, but service web requests no memory",
            "services.web.resources.requests.memory",
        ],
    );
}

#[test]
fn disruption_budgets_are_checked() {
    let budget = |b: &str| {
        base_with(
            "    server: {concurrency: 4}\n",
            &format!("    server: {{concurrency: 4}}\n    disruption_budget: {b}\n"),
        )
    };
    let cases = [
        (
            "{minAvailable: 1, maxUnavailable: 1}",
            vec![
                "services.web.disruption_budget: both minAvailable and maxUnavailable are given",
                "expected exactly one of them",
            ],
        ),
        (
            "{}",
            vec!["services.web.disruption_budget: neither minAvailable nor maxUnavailable"],
        ),
        (
            "{maxUnavailable: 150%}",
            vec![
                "services.web.disruption_budget.maxUnavailable: \"150%\" is not a valid percentage",
                "a percentage from 0% to 100%",
            ],
        ),
        (
            "{minAvailable: -1}",
            vec![
                "services.web.disruption_budget.minAvailable: \"-1\" is not a valid number of pods",
            ],
        ),
        (
            "{minAvailble: 1}",
            vec![
                "services.web.disruption_budget: unknown field \"minAvailble\"",
                "(did you mean \"minAvailable\"?)",
            ],
        ),
    ];
    for (b, fragments) in cases {
        assert_rejected(&budget(b), &fragments);
    }
    use crate::cluster::disruption::{DisruptionBudget, PodCount};
    let read = |b: &str| load(&budget(b)).map(|s| s.services[0].disruption_budget);
    assert_eq!(
        read("{minAvailable: 1}").ok(),
        Some(Some(DisruptionBudget::MinAvailable(PodCount::Count(1))))
    );
    assert_eq!(
        read("{max_unavailable: 25%}").ok(),
        Some(Some(DisruptionBudget::MaxUnavailable(PodCount::Percent(
            25
        ))))
    );
}
