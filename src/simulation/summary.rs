//! The summary of the measured window, built at the end of the run from the gauges and counters
//! the simulation kept.

use indexmap::IndexMap;

use crate::report::stats::Gauge;
use crate::report::summary::{
    AlertSummary, AllocationEfficiency, Availability, Cost, CpuSummary, DelaySummary, JobPodCounts,
    JobSummary, Level, PoolCost, PoolCpuSummary, PoolSummary, QuotaSummary, RequestCounts,
    ScalingSummary, ServiceSummary, SimulatedSpan, Summary, Unschedulable,
};
use crate::report::timeseries::round;
use crate::simulation::Simulation;
use crate::simulation::cluster_state::ReadyFloor;
use crate::units::SimTime;

impl Simulation<'_> {
    /// The summary of the measured window, at the end of the run.
    pub(super) fn summary(&self) -> Summary {
        let now = self.clock.now();
        let scenario = self.scenario;
        let measured_s = now.since(self.warmup_end).as_secs_f64();
        let (cost, node_pools) = self.pool_summaries(now);
        let services = (0..self.services.len())
            .map(|s| {
                let name = scenario.services[s].name.clone();
                (name, self.service_summary(s, now, measured_s))
            })
            .collect();
        let quotas = (scenario.namespaces.iter())
            .zip(self.cluster.quota_rejections())
            .map(|(name, rejected_pods)| (name.clone(), QuotaSummary { rejected_pods }))
            .collect();
        let alerts = (scenario.monitoring.alerts.iter())
            .zip(&self.alerts)
            .map(|(rule, state)| {
                let firing = state.firing_time(now, self.warmup_end);
                let summary = AlertSummary {
                    fired: state.fired,
                    firing_s: round(firing.as_secs_f64(), 3),
                };
                (rule.name.clone(), summary)
            })
            .collect();
        Summary {
            scenario: scenario.name.clone(),
            seed: scenario.seed,
            simulated: SimulatedSpan {
                duration_s: scenario.duration.as_secs_f64(),
                warmup_s: scenario.warmup.as_secs_f64(),
                measured_s,
            },
            cost,
            node_pools,
            services,
            jobs: self.job_summaries(now),
            quotas,
            alerts,
        }
    }

    /// Each Job's pods over the measured window.
    fn job_summaries(&self, now: SimTime) -> IndexMap<String, JobSummary> {
        (self.scenario.jobs.iter().zip(&self.jobs))
            .map(|(spec, state)| {
                let counts = state.counts;
                let delay = &state.scheduling_delay;
                let scheduling_delay_s = (delay.count() > 0).then(|| {
                    let summary = delay.summary();
                    let s = |ms: Option<f64>| round(ms.unwrap_or_default() / 1_000.0, 3);
                    DelaySummary {
                        p50: s(summary.p50_ms),
                        p99: s(summary.p99_ms),
                        max: s(summary.max_ms),
                        mean: s(summary.mean_ms),
                    }
                });
                let pods = self.cluster.workload(state.workload);
                let summary = JobSummary {
                    namespace: spec.namespace.clone(),
                    pods: JobPodCounts {
                        submitted: counts.submitted,
                        started: counts.started,
                        completed: counts.completed,
                        evicted: counts.evicted,
                        quota_rejected: counts.quota_rejected,
                    },
                    scheduling_delay_s,
                    pending_pod_seconds: round(pods.pending_gauge.integral_secs(now), 3),
                    unschedulable: self.unschedulable(state.workload, &state.quota_short, now),
                    running_pods: gauge_level(&pods.ready_gauge, now),
                    nodes_requested: state.nodes_requested,
                };
                (spec.name.clone(), summary)
            })
            .collect()
    }

    /// The cost of the measured window, and each pool's nodes and allocation.
    fn pool_summaries(&self, now: SimTime) -> (Cost, IndexMap<String, PoolSummary>) {
        let mut by_pool = IndexMap::new();
        let mut node_pools = IndexMap::new();
        let mut total_usd = 0.0;
        for (p, spec) in self.scenario.node_pools.iter().enumerate() {
            let (nodes, state) = (self.cluster.pool(p), &self.pools[p]);
            let node_hours = nodes.billed_measured.integral_secs(now) / 3_600.0;
            let usd = node_hours * spec.price_usd_per_hour;
            total_usd += usd;
            let cost = PoolCost {
                usd: round(usd, 4),
                node_hours: round(node_hours, 4),
            };
            by_pool.insert(spec.name.clone(), cost);
            let summary = PoolSummary {
                machine_type: spec.machine.name.clone(),
                price_usd_per_hour: spec.price_usd_per_hour,
                nodes: gauge_level(&nodes.billed_measured, now),
                nodes_ready: gauge_level(&nodes.ready, now),
                nodes_added: state.nodes_added,
                nodes_removed: state.nodes_removed,
                preempted: state.preempted,
                allocation_efficiency: AllocationEfficiency {
                    cpu: nodes.cpu.efficiency(now).map(|e| round(e, 4)),
                    memory: nodes.memory.efficiency(now).map(|e| round(e, 4)),
                },
                cpu: PoolCpuSummary {
                    contended_fraction: nodes.contended_fraction(now).map(|f| round(f, 4)),
                },
            };
            node_pools.insert(spec.name.clone(), summary);
        }
        let cost = Cost {
            total_usd: round(total_usd, 4),
            by_pool,
        };
        (cost, node_pools)
    }

    /// Service `s`'s requests, latency, replicas, scaling and CPU over the measured window of
    /// `measured_s` seconds ending at `now`.
    fn service_summary(&self, s: usize, now: SimTime, measured_s: f64) -> ServiceSummary {
        let (spec, svc, pods) = (
            &self.scenario.services[s],
            &self.services[s],
            self.cluster.workload(s),
        );
        let c = svc.counts;
        let used_cores = if measured_s > 0.0 {
            svc.cpu_used_area / (measured_s * 1e6) / 1_000.0
        } else {
            0.0
        };
        let requested_cores = pods.cpu_requested_gauge.mean(now) / 1_000.0;
        ServiceSummary {
            namespace: spec.namespace.clone(),
            slo_p99_ms: spec.slo_p99.map(|d| d.as_millis_f64()),
            slo_max_failed_fraction: Some(spec.slo_max_failed),
            requests: RequestCounts {
                arrived: c.arrived,
                completed: c.completed,
                rejected: c.rejected_queue_full + c.rejected_no_ready_pod,
                rejected_queue_full: c.rejected_queue_full,
                rejected_no_ready_pod: c.rejected_no_ready_pod,
                timed_out: c.timed_out,
                killed: c.killed,
                oom_killed: c.oom_killed,
                evicted: c.evicted,
                lost_node_failure: c.lost_node_failure,
                in_flight_at_end: svc.in_flight_measured,
            },
            throughput_per_s: if measured_s > 0.0 {
                round(c.completed as f64 / measured_s, 4)
            } else {
                0.0
            },
            latency_ms: svc.latency.summary().into(),
            wait_ms: svc.wait.summary().into(),
            replicas: gauge_level(&pods.ready_gauge, now),
            availability: availability(&pods.ready_floor, now),
            pending_pod_seconds: round(pods.pending_gauge.integral_secs(now), 3),
            unschedulable: self.unschedulable(s, &svc.quota_short, now),
            restarts: svc.restarts,
            evictions: svc.evictions,
            scaling: ScalingSummary {
                scale_ups: svc.scaling.scale_ups,
                scale_downs: svc.scaling.scale_downs,
                direction_changes: svc.scaling.direction_changes,
                time_at_max_replicas_s: round(svc.at_max_gauge.integral_secs(now), 3),
                hpa_sync_offset_s: (self.hpas.iter())
                    .find(|h| h.service == s)
                    .map(|h| round(h.sync_offset.as_secs_f64(), 6)),
            },
            cpu: CpuSummary {
                used_cores_mean: round(used_cores, 4),
                requested_cores_mean: round(requested_cores, 4),
                utilization_of_requests: (requested_cores > 0.0)
                    .then(|| round(used_cores / requested_cores, 4)),
                throttled_fraction: svc.throttling.fraction().map(|f| round(f, 4)),
            },
        }
    }
}

impl Simulation<'_> {
    /// Why workload `w`'s pods waited, in the measured window up to `now`, with the pods its
    /// controller lacked because the quota refused them (`quota_short`).
    fn unschedulable(&self, w: usize, quota_short: &Gauge, now: SimTime) -> Unschedulable {
        Unschedulable {
            pod_seconds_by_reason: (self.cluster.pending_seconds_by_reason(w, now).into_iter())
                .map(|(reason, seconds)| (reason.to_string(), round(seconds, 3)))
                .collect(),
            quota_refused_seconds: round(quota_short.integral_secs(now), 3),
        }
    }
}

/// The time below each floor of Ready pods, over the measured window up to `now`.
fn availability(floor: &ReadyFloor, now: SimTime) -> Availability {
    Availability {
        below_min_replicas_s: round(floor.below_min_replicas.integral_secs(now), 3),
        below_min_available_s: (floor.has_budget())
            .then(|| round(floor.below_min_available.integral_secs(now), 3)),
    }
}

fn gauge_level(gauge: &Gauge, now: SimTime) -> Level {
    let (min, max) = gauge.min_max(now);
    Level::new(min, max, gauge.mean(now))
}

impl Simulation<'_> {
    /// The summary of a run that has not started: every section the scenario gives a summary
    /// (its pools, services, Jobs, namespaces and alert rules), with figures of zero or null.
    /// Use it to know a summary's metric names before running anything.
    pub fn empty_summary(&self) -> Summary {
        self.summary()
    }
}
