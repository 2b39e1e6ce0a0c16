//! The planner metrics: the summary figures a capacity decision rests on, which `capsim check
//! --baseline` compares and `capsim diff` reports, and the absolute floor under which a change
//! of each is noise.
//!
//! Use `PLANNER_METRICS` (through `MetricSelection::planner`) for the default set, and
//! `MetricSelection::parse` for a user's `a,b,c` list of names and patterns. Use `floor` for
//! the smallest difference of a metric that counts, whatever the relative tolerance.
//!
//! **In** (what a planner sizes and pays for): the cost, in total and per pool, with each
//! pool's node-hours and mean nodes; each service's latency p50, p95 and p99 and its queue
//! wait's p99 (its SLO figures), its completed, rejected and timed-out requests (what users
//! saw), its mean Ready replicas, Pending pod-seconds, CPU utilization of requests (what the
//! HPA targets) and its HPA's scale-ups and scale-downs; each Job's completed pods and its p99
//! scheduling delay; each quota's refused pods.
//!
//! **Out**, and why: the run's own settings (`simulated.*`, prices, SLOs: inputs, not results;
//! a baseline of other settings is refused instead); `requests.arrived` and
//! `throughput_per_s` (the load, or completed over the window: no new information);
//! `in_flight_at_end` (where the run happened to stop); the rejection kinds (parts of
//! `rejected`); requests killed, OOM-killed or evicted, restarts and evictions (rare events
//! whose counts hang on the timing of one pod: gate them with an `expect` assertion such as
//! `== 0`); latency mean, p90 and max and wait mean and p50 (max is one request; the others
//! repeat what p50/p95/p99 say); node and replica min and max, nodes Ready, added and removed
//! (one moment each, summarised by the time-weighted mean); allocation efficiency, contended
//! and throttled fractions (ratios of figures already in); `direction_changes` and
//! `time_at_max_replicas_s` (flapping: assert on it); `hpa_sync_offset_s` (a random phase,
//! not a result); alerts (assert on them).

/// One entry of the planner set: a metric pattern (`*` stands for one name: a service, pool,
/// Job or namespace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannerMetric {
    /// The pattern, such as `services.*.latency_ms.p99`.
    pub pattern: &'static str,
}

/// The default metrics of a baseline comparison and of `capsim diff`, in summary order.
pub const PLANNER_METRICS: &[PlannerMetric] = &[
    PlannerMetric {
        pattern: "cost.total_usd",
    },
    PlannerMetric {
        pattern: "cost.by_pool.*.usd",
    },
    PlannerMetric {
        pattern: "cost.by_pool.*.node_hours",
    },
    PlannerMetric {
        pattern: "node_pools.*.nodes.mean",
    },
    PlannerMetric {
        pattern: "services.*.requests.completed",
    },
    PlannerMetric {
        pattern: "services.*.requests.rejected",
    },
    PlannerMetric {
        pattern: "services.*.requests.timed_out",
    },
    PlannerMetric {
        pattern: "services.*.latency_ms.p50",
    },
    PlannerMetric {
        pattern: "services.*.latency_ms.p95",
    },
    PlannerMetric {
        pattern: "services.*.latency_ms.p99",
    },
    PlannerMetric {
        pattern: "services.*.wait_ms.p99",
    },
    PlannerMetric {
        pattern: "services.*.replicas.mean",
    },
    PlannerMetric {
        pattern: "services.*.pending_pod_seconds",
    },
    PlannerMetric {
        pattern: "services.*.cpu.utilization_of_requests",
    },
    PlannerMetric {
        pattern: "services.*.scaling.scale_ups",
    },
    PlannerMetric {
        pattern: "services.*.scaling.scale_downs",
    },
    PlannerMetric {
        pattern: "jobs.*.pods.completed",
    },
    PlannerMetric {
        pattern: "jobs.*.scheduling_delay_s.p99",
    },
    PlannerMetric {
        pattern: "quotas.*.rejected_pods",
    },
];

/// What a metric counts or measures, which sets its absolute floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    /// US dollars (`_usd`): floor 0.01, a cent.
    Usd,
    /// Node-hours: floor 0.1, six node-minutes.
    NodeHours,
    /// A time-weighted mean of pods or nodes (`.mean` of a level): floor 0.1.
    MeanCount,
    /// Milliseconds (`_ms`): floor 0.5 ms, below what any SLO is written in.
    Millis,
    /// Seconds (`_s`): floor 1 s.
    Seconds,
    /// Pod-seconds (`pending_pod_seconds`): floor 60, one pod Pending for a minute.
    PodSeconds,
    /// Requests (`requests.*`): floor 10.
    Requests,
    /// A fraction between 0 and 1 (utilization, efficiency): floor 0.02, two points.
    Fraction,
    /// Anything else counted (rescales, refused or completed pods): floor 2, so that 0
    /// against 2 is noise.
    Events,
}

impl UnitKind {
    /// The kind of the metric `name`, from its name.
    pub fn of(name: &str) -> UnitKind {
        let last = name.rsplit('.').next().unwrap_or(name);
        let parent = name.rsplit('.').nth(1).unwrap_or("");
        if last.ends_with("_usd") || last == "usd" {
            UnitKind::Usd
        } else if last == "node_hours" {
            UnitKind::NodeHours
        } else if last == "pending_pod_seconds" {
            UnitKind::PodSeconds
        } else if last.ends_with("_ms") || parent.ends_with("_ms") {
            UnitKind::Millis
        } else if last.ends_with("_s") || parent.ends_with("_s") {
            UnitKind::Seconds
        } else if name.contains(".requests.") {
            UnitKind::Requests
        } else if ["utilization", "efficiency", "fraction"]
            .iter()
            .any(|w| last.contains(w) || parent.contains(w))
        {
            UnitKind::Fraction
        } else if last == "mean" {
            UnitKind::MeanCount
        } else {
            UnitKind::Events
        }
    }

    /// The smallest difference that counts, in the metric's own unit.
    pub fn floor(self) -> f64 {
        match self {
            UnitKind::Usd => 0.01,
            UnitKind::NodeHours | UnitKind::MeanCount => 0.1,
            UnitKind::Millis => 0.5,
            UnitKind::Seconds => 1.0,
            UnitKind::PodSeconds => 60.0,
            UnitKind::Requests => 10.0,
            UnitKind::Fraction => 0.02,
            UnitKind::Events => 2.0,
        }
    }
}

/// The absolute floor of metric `name`: a difference at most this large is noise whatever the
/// relative tolerance (see `UnitKind`).
pub fn floor(name: &str) -> f64 {
    UnitKind::of(name).floor()
}

/// Whether `name` matches `pattern`: the same dotted names, `*` standing for any one name;
/// or `pattern` (without `*`) naming a section whose metrics all match (`services.web`).
pub fn matches(pattern: &str, name: &str) -> bool {
    let mut names = name.split('.');
    for part in pattern.split('.') {
        match names.next() {
            Some(n) if part == "*" || part == n => {}
            _ => return false,
        }
    }
    names.next().is_none() || !pattern.contains('*')
}

/// Which metrics to compare: the planner set or a user's list of names and patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricSelection {
    patterns: Vec<String>,
}

/// The word in a `--baseline-metrics` list that stands for the planner set.
pub const PLANNER_KEYWORD: &str = "planner";

impl MetricSelection {
    /// The planner metrics.
    pub fn planner() -> MetricSelection {
        MetricSelection {
            patterns: PLANNER_METRICS
                .iter()
                .map(|m| m.pattern.to_string())
                .collect(),
        }
    }

    /// A comma-separated list of exact names, patterns with `*` for one name, section
    /// prefixes, and `planner` for the planner set.
    pub fn parse(list: &str) -> MetricSelection {
        let mut patterns = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            if item == PLANNER_KEYWORD {
                patterns.extend(MetricSelection::planner().patterns);
            } else {
                patterns.push(item.to_string());
            }
        }
        MetricSelection { patterns }
    }

    /// The patterns, in the order given.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether metric `name` is selected.
    pub fn selects(&self, name: &str) -> bool {
        self.patterns.iter().any(|p| matches(p, name))
    }

    /// The patterns that select none of `names`: a typo, or a metric this scenario lacks.
    /// The planner set's own patterns are never reported (a scenario without Jobs has no Job
    /// metrics).
    pub fn unmatched<'a>(&'a self, names: &[String]) -> Vec<&'a str> {
        let planner = MetricSelection::planner();
        self.patterns
            .iter()
            .filter(|p| !planner.patterns.contains(p))
            .filter(|p| !names.iter().any(|n| matches(p, n)))
            .map(String::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_whole_names_or_sections() {
        assert!(matches(
            "services.*.latency_ms.p99",
            "services.web.latency_ms.p99"
        ));
        assert!(!matches(
            "services.*.latency_ms.p99",
            "services.web.latency_ms.p999"
        ));
        assert!(!matches(
            "services.*.latency_ms",
            "services.web.latency_ms.p99"
        ));
        assert!(matches("services.web", "services.web.latency_ms.p99"));
        assert!(!matches("services.we", "services.web.latency_ms.p99"));
        assert!(matches("cost.total_usd", "cost.total_usd"));
        assert!(!matches("cost.total_usd.x", "cost.total_usd"));
    }

    #[test]
    fn every_planner_metric_has_the_floor_of_its_unit() {
        let kinds: Vec<(&str, UnitKind)> = PLANNER_METRICS
            .iter()
            .map(|m| (m.pattern, UnitKind::of(m.pattern)))
            .collect();
        use UnitKind::*;
        let expected = [
            Usd, Usd, NodeHours, MeanCount, Requests, Requests, Requests, Millis, Millis, Millis,
            Millis, MeanCount, PodSeconds, Fraction, Events, Events, Events, Seconds, Events,
        ];
        assert_eq!(kinds.iter().map(|k| k.1).collect::<Vec<_>>(), expected);
        assert_eq!(floor("services.web.latency_ms.max"), 0.5);
        assert_eq!(floor("quotas.team.rejected_pods"), 2.0);
        assert_eq!(floor("services.web.requests.in_flight_at_end"), 10.0);
        assert_eq!(floor("node_pools.p.allocation_efficiency.cpu"), 0.02);
    }

    #[test]
    fn a_selection_lists_what_it_does_not_find() {
        let names: Vec<String> = ["cost.total_usd", "services.web.latency_ms.p99"]
            .map(String::from)
            .to_vec();
        let chosen = MetricSelection::parse("planner, services.*.latency_ms.p99,servics.web");
        assert!(chosen.selects("cost.by_pool.p.usd"));
        assert!(chosen.selects("services.web.latency_ms.p99"));
        assert!(!chosen.selects("services.web.latency_ms.max"));
        assert_eq!(chosen.unmatched(&names), ["servics.web"]);
        let planner = MetricSelection::planner();
        assert!(!planner.selects("services.web.scaling.hpa_sync_offset_s"));
        assert!(!planner.selects("services.web.requests.in_flight_at_end"));
        assert!(planner.unmatched(&names).is_empty());
    }
}
