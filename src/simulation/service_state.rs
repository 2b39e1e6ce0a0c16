//! What the simulation keeps per service beyond its pods: serving settings and samplers, its
//! random streams, the Deployment's desired replicas and the ReplicaSet's retry state, and the
//! request and scaling statistics.
//!
//! Use `ServiceState::new` once per service. The service's pods, and the gauges that follow
//! them, live in `ClusterState`.

use crate::engine::rng::{SimRng, stream};
use crate::report::stats::{Gauge, Latency};
use crate::scenario::model::Service;
use crate::scenario::trace::open as open_trace;
use crate::simulation::cluster_state::{Pod, UsageSeen};
use crate::simulation::lifecycle::CreateRetry;
use crate::units::{Millicores, SimDuration, SimTime};
use crate::workload::arrivals::ArrivalProcess;
use crate::workload::balancer::Balancer;
use crate::workload::cost::ServiceTimeSampler;
use crate::workload::server::{PodServer, ServerLimits};
use crate::workload::spec::Load;
use crate::workload::trace::{RowWork, TraceArrivals};

/// Request counters of one service, over a window (the measured window, or one time-series
/// interval).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counts {
    pub(crate) arrived: u64,
    pub(crate) completed: u64,
    pub(crate) rejected_queue_full: u64,
    pub(crate) rejected_no_ready_pod: u64,
    pub(crate) timed_out: u64,
    pub(crate) killed: u64,
    pub(crate) oom_killed: u64,
    pub(crate) evicted: u64,
    /// Lost with the pods of a node that failed.
    pub(crate) lost_node_failure: u64,
}

/// What the HPA did to one service in the measured window.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ScalingStats {
    pub(crate) scale_ups: u64,
    pub(crate) scale_downs: u64,
    /// Rescales in the opposite direction to the previous one.
    pub(crate) direction_changes: u64,
    /// Direction of the last rescale (measured or not), to count changes.
    pub(crate) last_direction_up: Option<bool>,
}

/// Figures of the current time-series interval.
#[derive(Debug, Clone)]
pub(crate) struct IntervalStats {
    /// Requests of every arrival time that arrived, were refused or timed out in the interval
    /// (completions are `latency`'s count; `killed`, `evicted` and `lost_node_failure` are not
    /// counted per interval).
    pub(crate) counts: Counts,
    /// Latency of requests completed in the interval that arrived after the warm-up (the
    /// measured ones, folded into the run's distribution when the interval closes).
    pub(crate) latency: Latency,
    /// Latency of requests completed in the interval that arrived during the warm-up.
    pub(crate) latency_warmup: Latency,
    /// CPU used by the service's pods since the last row, in millicore-microseconds.
    pub(crate) cpu_area: f64,
}

impl IntervalStats {
    fn new() -> IntervalStats {
        IntervalStats {
            counts: Counts::default(),
            latency: Latency::new(),
            latency_warmup: Latency::new(),
            cpu_area: 0.0,
        }
    }

    /// The latency of every request completed in the interval, whatever its arrival time:
    /// the row's count and quantiles. Call once, at the interval's end.
    pub(crate) fn completed_latency(&mut self) -> &Latency {
        if self.latency_warmup.count() == 0 {
            &self.latency
        } else {
            self.latency_warmup.merge(&self.latency);
            &self.latency_warmup
        }
    }

    /// Starts the next interval.
    fn clear(&mut self) {
        self.counts = Counts::default();
        self.cpu_area = 0.0;
        self.latency.clear();
        self.latency_warmup.clear();
    }
}

/// How much of the time its pods ran a service's pods were throttled by their CPU limit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Throttling {
    /// Pod-microseconds with at least one request in service.
    pub(crate) active_us: u64,
    /// Pod-microseconds in which the workers wanted more CPU than the limit.
    pub(crate) throttled_us: u64,
}

impl Throttling {
    /// The share of running time spent throttled (as `container_cpu_cfs_throttled_periods_total`
    /// over `container_cpu_cfs_periods_total`); none when the pods never ran.
    pub(crate) fn fraction(&self) -> Option<f64> {
        (self.active_us > 0).then(|| self.throttled_us as f64 / self.active_us as f64)
    }
}

impl ServiceState {
    /// Closes the current time-series interval: its measured latencies join the run's, and
    /// the next interval starts empty.
    pub(crate) fn close_interval(&mut self) {
        self.latency.merge(&self.interval.latency);
        self.interval.clear();
    }

    /// Moves what `pod` used since its last collection into the service's interval and, when
    /// `measured`, measured-window counters.
    pub(crate) fn collect_usage(&mut self, pod: &mut Pod, now: SimTime, measured: bool) {
        let cpu_area = pod.server.cpu_usage_area(now);
        let active_us = pod.server.active_us(now);
        let throttled_us = pod.server.throttled_us(now);
        let seen = &mut pod.collected;
        let area = cpu_area - seen.cpu_area;
        self.interval.cpu_area += area;
        if measured {
            self.cpu_used_area += area;
            self.throttling.active_us += active_us - seen.active_us;
            self.throttling.throttled_us += throttled_us - seen.throttled_us;
        }
        *seen = UsageSeen {
            cpu_area,
            active_us,
            throttled_us,
        };
    }
}

/// A service's start-up delays, drawn from one stream in the order pods need them.
#[derive(Debug)]
pub(crate) struct StartupDelays {
    image_pull: ServiceTimeSampler,
    readiness: ServiceTimeSampler,
    rng: SimRng,
}

impl StartupDelays {
    /// The next image pull's duration.
    pub(crate) fn image_pull(&mut self) -> SimDuration {
        self.image_pull.sample(&mut self.rng)
    }

    /// The next time from container start to a passing readiness probe.
    pub(crate) fn readiness(&mut self) -> SimDuration {
        self.readiness.sample(&mut self.rng)
    }
}

/// Where a service's requests come from.
#[derive(Debug)]
pub(crate) enum ArrivalSource {
    /// A Poisson process following the rate profile.
    Poisson(ArrivalProcess),
    /// A recorded trace, replayed.
    Trace(TraceArrivals),
}

/// The load a service receives.
#[derive(Debug)]
pub(crate) struct LoadState {
    pub(crate) arrivals: ArrivalSource,
    pub(crate) service_time: ServiceTimeSampler,
    /// How a trace row's value becomes its request's work.
    row_work: RowWork,
    /// The work of the request whose arrival is scheduled next, when its trace row fixed it.
    next_work: Option<SimDuration>,
}

impl LoadState {
    /// The load of `spec`, reading its trace (if any) through a fresh reader of the file.
    fn new(spec: &Service, load: &Load) -> LoadState {
        let (arrivals, row_work) = match &load.trace {
            None => (
                ArrivalSource::Poisson(ArrivalProcess::new(&load.arrivals)),
                RowWork::Drawn,
            ),
            Some(trace) => (
                ArrivalSource::Trace(TraceArrivals::new(trace, open_trace(trace))),
                RowWork::new(trace, &load.cost, spec.server.cpu_per_worker),
            ),
        };
        LoadState {
            arrivals,
            service_time: ServiceTimeSampler::new(&load.cost, spec.server.cpu_per_worker),
            row_work,
            next_work: None,
        }
    }

    /// Schedules nothing itself: returns the time of the arrival after the one happening now
    /// (`None` past `horizon`), and the work of the request arriving now when its trace row
    /// fixed it.
    #[inline(always)]
    pub(crate) fn next_arrival(
        &mut self,
        rng: &mut SimRng,
        horizon: SimTime,
    ) -> (Option<SimTime>, Option<SimDuration>) {
        let now_work = self.next_work;
        let next = match &mut self.arrivals {
            ArrivalSource::Poisson(process) => process.next_after(rng, horizon),
            ArrivalSource::Trace(trace) => trace.next_after(rng, horizon).map(|(at, value)| {
                self.next_work = self.row_work.work(value);
                at
            }),
        };
        (next, now_work)
    }
}

/// One service's runtime state.
#[derive(Debug)]
pub(crate) struct ServiceState {
    pub(crate) limits: ServerLimits,
    /// Arrivals and service times, for a service that receives load.
    pub(crate) load: Option<LoadState>,
    pub(crate) balancer: Balancer,
    /// How long a new pod takes to pull its image and pass its readiness probe.
    pub(crate) startup: StartupDelays,
    pub(crate) rng_arrivals: SimRng,
    pub(crate) rng_service: SimRng,
    pub(crate) rng_balancer: SimRng,
    /// The Deployment's `spec.replicas`.
    pub(crate) desired: u32,
    /// The ReplicaSet's retries of pod creations the quota refused.
    pub(crate) create_retry: CreateRetry,
    /// Measured-window counters.
    pub(crate) counts: Counts,
    /// Latency of the measured requests of the intervals closed so far (`close_interval`).
    pub(crate) latency: Latency,
    pub(crate) wait: Latency,
    pub(crate) interval: IntervalStats,
    /// CPU used by the service's pods over the measured window, in millicore-microseconds.
    pub(crate) cpu_used_area: f64,
    /// Time the service's pods had work over the measured window, and the part of it during
    /// which they wanted more CPU than their limit, in microseconds.
    pub(crate) throttling: Throttling,
    /// Measured requests queued or in service.
    pub(crate) in_flight_measured: u64,
    /// Container restarts after an OOM kill, in the measured window.
    pub(crate) restarts: u64,
    /// Pods the kubelet evicted under node memory pressure, in the measured window.
    pub(crate) evictions: u64,
    /// HPA rescales.
    pub(crate) scaling: ScalingStats,
    /// 1 while the HPA's desired replicas are at its maxReplicas.
    pub(crate) at_max_gauge: Gauge,
    /// Pods the ReplicaSet controller lacked at its last sync because the quota refused them.
    pub(crate) quota_short: Gauge,
    /// Each HPA metric's value at the HPA's last sync (NaN before it or when unavailable).
    pub(crate) hpa_metrics: Vec<f64>,
}

/// How every pod of `spec` serves: its workers, queue, timeout, CPU per worker and CPU limit.
pub(crate) fn server_limits(spec: &Service) -> ServerLimits {
    ServerLimits {
        concurrency: spec.server.concurrency,
        queue_limit: spec
            .server
            .queue_limit
            .unwrap_or(crate::workload::spec::DEFAULT_QUEUE_LIMIT),
        timeout: spec.server.timeout,
        cpu_per_worker: spec.server.cpu_per_worker,
        cpu_limit: if spec.pod.limits.cpu > Millicores::ZERO {
            spec.pod.limits.cpu
        } else {
            Millicores(u64::MAX)
        },
    }
}

impl ServiceState {
    /// The state of `spec` at the start of a run seeded with `seed`, whose HPA (if any) has
    /// `hpa_metrics` metrics. Each random stream is named after the service, so adding a
    /// service or an HPA never shifts another's draws.
    pub(crate) fn new(spec: &Service, seed: u64, hpa_metrics: usize) -> ServiceState {
        let name = &spec.name;
        ServiceState {
            limits: server_limits(spec),
            load: spec.load.as_ref().map(|load| LoadState::new(spec, load)),
            balancer: Balancer::new(spec.load_balancer),
            startup: StartupDelays {
                image_pull: ServiceTimeSampler::from_duration(&spec.startup.image_pull),
                readiness: ServiceTimeSampler::from_duration(&spec.startup.ready),
                rng: stream(seed, &format!("startup/{name}")),
            },
            rng_arrivals: stream(seed, &format!("arrivals/{name}")),
            rng_service: stream(seed, &format!("service-time/{name}")),
            rng_balancer: stream(seed, &format!("balancer/{name}")),
            desired: spec.replicas,
            create_retry: CreateRetry::default(),
            counts: Counts::default(),
            latency: Latency::new(),
            wait: Latency::new(),
            interval: IntervalStats::new(),
            cpu_used_area: 0.0,
            throttling: Throttling::default(),
            in_flight_measured: 0,
            restarts: 0,
            evictions: 0,
            scaling: ScalingStats::default(),
            at_max_gauge: Gauge::new(SimTime::ZERO, 0),
            quota_short: Gauge::new(SimTime::ZERO, 0),
            hpa_metrics: vec![f64::NAN; hpa_metrics],
        }
    }

    /// Drops the requests waiting in `server` past the timeout by `now`, counting each in the
    /// current interval and, when it arrived after `warmup_end`, in the measured counters.
    #[inline]
    pub(crate) fn expire_queue(
        &mut self,
        server: &mut PodServer,
        now: SimTime,
        warmup_end: SimTime,
    ) {
        let (interval, counts, in_flight) = (
            &mut self.interval,
            &mut self.counts,
            &mut self.in_flight_measured,
        );
        server.expire(now, &self.limits, |arrived| {
            interval.counts.timed_out += 1;
            if arrived >= warmup_end {
                counts.timed_out += 1;
                *in_flight -= 1;
            }
        });
    }

    /// Draws a service time for the next request.
    #[inline]
    pub(crate) fn sample_service_time(&mut self) -> SimDuration {
        match self.load.as_ref() {
            Some(load) => load.service_time.sample(&mut self.rng_service),
            None => unreachable!("only services with load receive requests"),
        }
    }
}
