//! Measuring the run: time-series rows at each interval, the warm-up cut, and the summary at the
//! end.

use indexmap::IndexMap;

use crate::report::stats::Gauge;
use crate::report::summary::{
    AlertSummary, AllocationEfficiency, Cost, CpuSummary, Level, PoolCost, PoolSummary,
    QuotaSummary, RequestCounts, ScalingSummary, ServiceSummary, SimulatedSpan, Summary,
};
use crate::report::timeseries::round;
use crate::report::{IntervalRow, Observer, PoolInterval, ServiceInterval};
use crate::simulation::Simulation;
use crate::units::SimTime;

impl Simulation<'_> {
    /// The end of an interval: expire waiting requests, collect CPU usage and hand a row to
    /// the observer.
    pub(super) fn on_tick<O: Observer>(&mut self, observer: &mut O) {
        let now = self.clock.now();
        if now <= self.last_row {
            return;
        }
        self.expire_all_queues(now);
        self.collect_cpu_usage(now);
        #[cfg(test)]
        self.assert_active_pod_counts();
        let width = now.since(self.last_row);
        let width_s = width.as_secs_f64();
        let services = self
            .services
            .iter_mut()
            .map(|svc| {
                let interval = &mut svc.interval;
                let row = ServiceInterval {
                    arrivals_per_s: interval.arrivals as f64 / width_s,
                    completed: interval.latency.count(),
                    rejected: interval.rejected,
                    timed_out: interval.timed_out,
                    ready: svc.ready.len() as u32,
                    desired: svc.desired,
                    pending: svc.pending_gauge.value() as u32,
                    latency_p50_ms: interval.latency.quantile_ms(0.5),
                    latency_p99_ms: interval.latency.quantile_ms(0.99),
                    cpu_used_cores: interval.cpu_area as f64 / width.0 as f64 / 1_000.0,
                    cpu_requested_cores: svc.cpu_requested_gauge.value() as f64 / 1_000.0,
                    hpa_metrics: svc.hpa_metrics.clone(),
                };
                interval.arrivals = 0;
                interval.rejected = 0;
                interval.timed_out = 0;
                interval.cpu_area = 0;
                interval.latency.clear();
                row
            })
            .collect::<Vec<_>>();
        self.evaluate_alerts(&services);
        let pools = self
            .pools
            .iter()
            .map(|p| PoolInterval {
                nodes: p.nodes_total.value() as u32,
                nodes_ready: p.nodes_ready.value() as u32,
                cpu_requested_pct: if p.cpu_allocatable.value() > 0 {
                    p.cpu_requested.value() as f64 * 100.0 / p.cpu_allocatable.value() as f64
                } else {
                    0.0
                },
            })
            .collect();
        let row = IntervalRow {
            time_s: now.as_secs_f64(),
            width_s,
            services,
            pools,
            cost_usd_cumulative: self.cost_since_start(now),
        };
        observer.interval(&row);
        self.last_row = now;
        self.schedule_next_tick();
    }

    /// The warm-up is over: measured statistics start from here.
    pub(super) fn on_warmup_end(&mut self) {
        let now = self.clock.now();
        self.expire_all_queues(now);
        self.collect_cpu_usage(now);
        for svc in &mut self.services {
            svc.ready_gauge.restart(now);
            svc.pending_gauge.restart(now);
            svc.cpu_requested_gauge.restart(now);
            svc.at_max_gauge.restart(now);
        }
        for pool in &mut self.pools {
            for gauge in [
                &mut pool.nodes_measured,
                &mut pool.nodes_ready,
                &mut pool.cpu_requested,
                &mut pool.cpu_allocatable,
                &mut pool.memory_requested,
                &mut pool.memory_allocatable,
            ] {
                gauge.restart(now);
            }
        }
    }

    /// Drops requests that waited past their timeout in every pod, so each is counted in the
    /// interval it expired in.
    fn expire_all_queues(&mut self, now: SimTime) {
        let warmup_end = self.warmup_end;
        for pod in self.pods.iter_mut() {
            self.services[usize::from(pod.service)].expire_queue(&mut pod.server, now, warmup_end);
        }
    }

    /// Moves each pod's CPU usage since the last collection into its service's counters.
    fn collect_cpu_usage(&mut self, now: SimTime) {
        let measured = now > self.warmup_end;
        for pod in self.pods.iter_mut() {
            let total = pod.server.cpu_usage_area(now);
            let area = total - pod.cpu_area_collected;
            pod.cpu_area_collected = total;
            let svc = &mut self.services[usize::from(pod.service)];
            svc.interval.cpu_area += area;
            if measured {
                svc.cpu_used_area += u128::from(area);
            }
        }
    }

    /// What every node has cost from the start of the run to `now`, in USD.
    fn cost_since_start(&self, now: SimTime) -> f64 {
        self.pools
            .iter()
            .zip(&self.scenario.node_pools)
            .map(|(p, spec)| p.nodes_total.integral_secs(now) / 3_600.0 * spec.price_usd_per_hour)
            .sum()
    }

    /// The summary of the measured window, at the end of the run.
    pub(super) fn summary(&self) -> Summary {
        let now = self.clock.now();
        let scenario = self.scenario;
        let measured_s = now.since(self.warmup_end).as_secs_f64();
        let mut by_pool = IndexMap::new();
        let mut node_pools = IndexMap::new();
        let mut total_usd = 0.0;
        for (state, spec) in self.pools.iter().zip(&scenario.node_pools) {
            let node_hours = state.nodes_measured.integral_secs(now) / 3_600.0;
            let usd = node_hours * spec.price_usd_per_hour;
            total_usd += usd;
            by_pool.insert(
                spec.name.clone(),
                PoolCost {
                    usd: round(usd, 4),
                    node_hours: round(node_hours, 4),
                },
            );
            let ratio = |used: &Gauge, total: &Gauge| {
                let total = total.integral_secs(now);
                if total > 0.0 {
                    round(used.integral_secs(now) / total, 4)
                } else {
                    0.0
                }
            };
            node_pools.insert(
                spec.name.clone(),
                PoolSummary {
                    machine_type: spec.machine.name.clone(),
                    price_usd_per_hour: spec.price_usd_per_hour,
                    nodes: gauge_level(&state.nodes_measured, now),
                    nodes_ready: gauge_level(&state.nodes_ready, now),
                    nodes_added: state.nodes_added,
                    nodes_removed: state.nodes_removed,
                    preempted: state.preempted,
                    allocation_efficiency: AllocationEfficiency {
                        cpu: ratio(&state.cpu_requested, &state.cpu_allocatable),
                        memory: ratio(&state.memory_requested, &state.memory_allocatable),
                    },
                },
            );
        }
        let mut services = IndexMap::new();
        for (s, (svc, spec)) in self.services.iter().zip(&scenario.services).enumerate() {
            let c = svc.counts;
            let used_cores = if measured_s > 0.0 {
                svc.cpu_used_area as f64 / (measured_s * 1e6) / 1_000.0
            } else {
                0.0
            };
            let requested_cores = svc.cpu_requested_gauge.mean(now) / 1_000.0;
            services.insert(
                spec.name.clone(),
                ServiceSummary {
                    namespace: spec.namespace.clone(),
                    slo_p99_ms: spec.slo_p99.map(|d| d.as_millis_f64()),
                    requests: RequestCounts {
                        arrived: c.arrived,
                        completed: c.completed,
                        rejected: c.rejected_queue_full + c.rejected_no_ready_pod,
                        rejected_queue_full: c.rejected_queue_full,
                        rejected_no_ready_pod: c.rejected_no_ready_pod,
                        timed_out: c.timed_out,
                        killed: c.killed,
                        in_flight_at_end: svc.in_flight_measured,
                    },
                    throughput_per_s: if measured_s > 0.0 {
                        round(c.completed as f64 / measured_s, 4)
                    } else {
                        0.0
                    },
                    latency_ms: svc.latency.summary().into(),
                    wait_ms: svc.wait.summary().into(),
                    replicas: gauge_level(&svc.ready_gauge, now),
                    pending_pod_seconds: round(svc.pending_gauge.integral_secs(now), 3),
                    scaling: ScalingSummary {
                        scale_ups: svc.scaling.scale_ups,
                        scale_downs: svc.scaling.scale_downs,
                        direction_changes: svc.scaling.direction_changes,
                        time_at_max_replicas_s: round(svc.at_max_gauge.integral_secs(now), 3),
                        hpa_sync_offset_s: self
                            .hpas
                            .iter()
                            .find(|h| h.service == s)
                            .map(|h| round(h.sync_offset.as_secs_f64(), 6)),
                    },
                    cpu: CpuSummary {
                        used_cores_mean: round(used_cores, 4),
                        requested_cores_mean: round(requested_cores, 4),
                        utilization_of_requests: if requested_cores > 0.0 {
                            round(used_cores / requested_cores, 4)
                        } else {
                            0.0
                        },
                    },
                },
            );
        }
        let quotas = scenario
            .namespaces
            .iter()
            .zip(&self.namespaces)
            .map(|(name, ns)| {
                (
                    name.clone(),
                    QuotaSummary {
                        rejected_pods: ns.rejected_pods,
                    },
                )
            })
            .collect();
        let alerts = scenario
            .monitoring
            .alerts
            .iter()
            .zip(&self.alerts)
            .map(|(rule, state)| {
                (
                    rule.name.clone(),
                    AlertSummary {
                        fired: state.fired,
                        firing_s: round(state.firing_time(now, self.warmup_end).as_secs_f64(), 3),
                    },
                )
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
            cost: Cost {
                total_usd: round(total_usd, 4),
                by_pool,
            },
            node_pools,
            services,
            quotas,
            alerts,
        }
    }
}

fn gauge_level(gauge: &Gauge, now: SimTime) -> Level {
    let (min, max) = gauge.min_max(now);
    Level::new(min, max, gauge.mean(now))
}
