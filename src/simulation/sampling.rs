//! Measuring the run as it goes: time-series rows at each interval and the warm-up cut.
//!
//! The summary at the end is `summary`'s.

use crate::report::{IntervalRow, JobInterval, Observer, PoolInterval, ServiceInterval};
use crate::simulation::Simulation;
use crate::units::{SimDuration, SimTime};

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
        self.cluster.check_invariants();
        let width = now.since(self.last_row);
        let services = self.service_rows(width);
        self.evaluate_alerts(&services);
        let pools = (0..self.pools.len())
            .map(|p| {
                let pool = self.cluster.pool(p);
                let allocatable = pool.cpu.allocatable.value();
                PoolInterval {
                    nodes: pool.billed_total.value() as u32,
                    nodes_ready: pool.ready.value() as u32,
                    cpu_requested_pct: if allocatable > 0 {
                        pool.cpu.requested.value() as f64 * 100.0 / allocatable as f64
                    } else {
                        0.0
                    },
                }
            })
            .collect();
        let cost_usd_cumulative = self.cost_since_start(now);
        let width_h = width.as_secs_f64() / 3_600.0;
        let row = IntervalRow {
            time_s: now.as_secs_f64(),
            width_s: width.as_secs_f64(),
            services,
            jobs: self.job_rows(),
            pools,
            cost_usd_cumulative,
            // `on_tick` returned above unless the interval has a width.
            cost_usd_per_hour: (cost_usd_cumulative - self.last_row_cost_usd) / width_h,
        };
        observer.interval(&row);
        observer.progress(row.time_s, self.clock.events_processed());
        self.last_row = now;
        self.last_row_cost_usd = cost_usd_cumulative;
        self.schedule_next_tick();
    }

    /// Each Job's row for the interval ending now, starting the next interval.
    fn job_rows(&mut self) -> Vec<JobInterval> {
        let cluster = &self.cluster;
        (self.jobs.iter_mut())
            .map(|job| {
                let pods = cluster.workload(job.workload);
                JobInterval {
                    running: pods.ready.len() as u32,
                    pending: pods.pending_gauge.value() as u32,
                    completed: std::mem::take(&mut job.interval_completed),
                    cpu_requested_cores: pods.cpu_requested_gauge.value() as f64 / 1_000.0,
                }
            })
            .collect()
    }

    /// Each service's row for an interval of `width` ending now, starting the next interval.
    fn service_rows(&mut self, width: SimDuration) -> Vec<ServiceInterval> {
        let width_s = width.as_secs_f64();
        let cluster = &self.cluster;
        (self.services.iter_mut().enumerate())
            .map(|(s, svc)| {
                let pods = cluster.workload(s);
                let interval = &mut svc.interval;
                let latency = interval.completed_latency();
                let completed = latency.count();
                let quantile = |q| (completed > 0).then(|| latency.quantile_ms(q));
                let (p50_ms, p99_ms) = (quantile(0.5), quantile(0.99));
                let row = ServiceInterval {
                    arrivals_per_s: interval.counts.arrived as f64 / width_s,
                    completed,
                    rejected: interval.counts.rejected_queue_full
                        + interval.counts.rejected_no_ready_pod,
                    timed_out: interval.counts.timed_out,
                    oom_killed: interval.counts.oom_killed,
                    ready: pods.ready.len() as u32,
                    desired: svc.desired,
                    pending: pods.pending_gauge.value() as u32,
                    latency_p50_ms: p50_ms,
                    latency_p99_ms: p99_ms,
                    cpu_used_cores: interval.cpu_area / width.0 as f64 / 1_000.0,
                    cpu_requested_cores: pods.cpu_requested_gauge.value() as f64 / 1_000.0,
                    hpa_metrics: svc.hpa_metrics.clone(),
                };
                svc.close_interval();
                row
            })
            .collect()
    }

    /// The warm-up is over: measured statistics start from here.
    pub(super) fn on_warmup_end(&mut self) {
        let now = self.clock.now();
        self.expire_all_queues(now);
        self.collect_cpu_usage(now);
        self.cluster.restart_gauges(now);
        for svc in &mut self.services {
            svc.at_max_gauge.restart(now);
            svc.quota_short.restart(now);
        }
        for job in &mut self.jobs {
            job.restart_measurement(now);
        }
    }

    /// Drops requests that waited past their timeout in every pod, so each is counted in the
    /// interval it expired in.
    fn expire_all_queues(&mut self, now: SimTime) {
        let warmup_end = self.warmup_end;
        for pod in self.cluster.pods_mut() {
            // A job's pod serves no requests.
            if let Some(svc) = self.services.get_mut(usize::from(pod.service)) {
                svc.expire_queue(&mut pod.server, now, warmup_end);
            }
        }
        self.cluster.recount_request_memory();
    }

    /// Moves each pod's CPU usage since the last collection into its service's counters.
    fn collect_cpu_usage(&mut self, now: SimTime) {
        let measured = now > self.warmup_end;
        for pod in self.cluster.pods_mut() {
            if let Some(svc) = self.services.get_mut(usize::from(pod.service)) {
                svc.collect_usage(pod, now, measured);
            }
        }
    }

    /// What every node has cost from the start of the run to `now`, in USD.
    fn cost_since_start(&self, now: SimTime) -> f64 {
        (self.scenario.node_pools.iter().enumerate())
            .map(|(p, spec)| {
                self.cluster.pool(p).billed_total.integral_secs(now) / 3_600.0
                    * spec.price_usd_per_hour
            })
            .sum()
    }
}
