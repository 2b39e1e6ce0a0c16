//! How large a run is before its first event: the events it will process, the memory its
//! cluster and queues can hold, and the bytes it writes; and the limits past which capsim
//! refuses it, so that a typo costs an error message instead of a stuck job, an exhausted
//! machine or a full disk.
//!
//! Use `Size::of` for a validated scenario's demands and `Size::check` to hold them to the
//! limits (`Limits::DEFAULT`, or `Limits::LARGE` for `--allow-large`). Every figure is an
//! estimate from the scenario's own numbers (rates × duration, preemption churn, periods), each
//! attributed to the YAML path that causes it, so that a refusal names the value to change and
//! the figure it would need. Estimates are deliberately on the high side (a rate's bound rather
//! than its mean, every queue full at once), never far below what a run does: the tests hold
//! them against runs. This module reads the scenario and decides; it simulates nothing.

use crate::controllers::job::JobPods;
use crate::scenario::error::Error;
use crate::scenario::model::Scenario;
use crate::units::{SimDuration, SimTime};
use crate::workload::arrivals::Workload;
use crate::workload::spec::{DEFAULT_QUEUE_LIMIT, Load, TraceKind};

mod refusal;

use refusal::{Kind, refusal};
pub use refusal::{check_sweep_events, check_sweep_runs, short};

/// Events per request: its arrival and its completion (a timeout or a refusal costs no more).
const EVENTS_PER_REQUEST: f64 = 2.0;
/// Events and log lines of one pod's life (created, scheduled, started, Ready, deleted).
const EVENTS_PER_POD: f64 = 6.0;
/// Events of one node's life besides its pods' (requested, registered, Ready, removed).
const EVENTS_PER_NODE: f64 = 4.0;
/// Bytes of simulator state per node (measured: 5,000 empty nodes add 8.6 MB).
const BYTES_PER_NODE: f64 = 2_048.0;
/// Bytes of simulator state per pod besides its queue (measured: 50,000 pods add 31 MB).
const BYTES_PER_POD: f64 = 1_024.0;
/// Bytes per waiting request: 16 in the queue, doubled for the queue's growth by doubling.
const BYTES_PER_WAITING_REQUEST: f64 = 32.0;
/// Bytes per worker slot a pod reserves up front (in-service record, vacancy and heap entry).
const BYTES_PER_WORKER: f64 = 48.0;
/// Worker slots and queue places a pod reserves at creation, at most (`PodServer::new`).
const RESERVED_AT_MOST: f64 = 4_096.0;
/// Bytes of one `events.jsonl` line, about.
const BYTES_PER_EVENT_LINE: f64 = 160.0;
/// Bytes of one `timeseries.csv` cell, about.
const BYTES_PER_CELL: f64 = 12.0;

/// One part of a run's demand, attributed to the value that causes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Demand {
    /// YAML path of the value to change (`services.web.load.arrivals.rate`).
    pub path: String,
    /// How much: events, bytes of memory or bytes of output, as the list it is in says.
    pub amount: f64,
    /// How the figure comes about, in words (`up to 1e7 requests/s over 1m0s, 2 events each`).
    pub why: String,
}

/// What one run asks of the machine, part by part.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Size {
    /// Events the run processes.
    pub events: Vec<Demand>,
    /// Bytes of memory the simulation may hold at once.
    pub memory_bytes: Vec<Demand>,
    /// Bytes written to the results folder.
    pub output_bytes: Vec<Demand>,
    /// Nodes at once, per pool.
    pub nodes: Vec<Demand>,
}

/// The most a run may ask for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Events per run.
    pub events: f64,
    /// Bytes of memory per run.
    pub memory_bytes: f64,
    /// Bytes of output per run.
    pub output_bytes: f64,
    /// Nodes at once.
    pub nodes: f64,
    /// Runs of one sweep (points × replications).
    pub sweep_runs: f64,
    /// Events of one sweep, all its runs together.
    pub sweep_events: f64,
    /// Whether these are the limits of `--allow-large`, for the message.
    pub large: bool,
}

/// The speed the messages assume, in events per second: the reference scenario's on one core.
pub const EVENTS_PER_S_ASSUMED: f64 = 1e7;

impl Limits {
    /// Without `--allow-large`: a run of about half an hour of one core, 4 GiB, 20 GiB
    /// written; a sweep of 100,000 runs or ten such runs' events.
    pub const DEFAULT: Limits = Limits {
        events: 2e10,
        memory_bytes: 4.0 * GIB,
        output_bytes: 20.0 * GIB,
        nodes: 5_000.0,
        sweep_runs: 1e5,
        sweep_events: 2e11,
        large: false,
    };
    /// With `--allow-large`: what could still finish (a run of about 12 days of one core, 1 TiB
    /// of memory or output; a sweep of ten million runs, whose plan alone takes gigabytes);
    /// past these a run is refused however it is asked.
    pub const LARGE: Limits = Limits {
        events: 1e13,
        memory_bytes: 1024.0 * GIB,
        output_bytes: 1024.0 * GIB,
        nodes: 100_000.0,
        sweep_runs: 1e7,
        sweep_events: 1e14,
        large: true,
    };

    /// The limits for a command given `--allow-large` or not.
    pub const fn new(allow_large: bool) -> Limits {
        if allow_large {
            Limits::LARGE
        } else {
            Limits::DEFAULT
        }
    }
}

pub(super) const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

impl Size {
    /// The demands of one run of `scenario`.
    pub fn of(scenario: &Scenario) -> Size {
        let mut size = Size::default();
        let pods = pod_counts(scenario);
        let nodes = node_count(scenario, pods.iter().map(|p| p.1).sum());
        load_demands(scenario, &pods, &mut size);
        periodic_demands(scenario, &pods, nodes, &mut size);
        churn_demands(scenario, pods.iter().map(|p| p.1).sum(), &mut size);
        state_demands(scenario, &pods, nodes, &mut size);
        node_demands(scenario, pods.iter().map(|p| p.1).sum(), &mut size);
        size
    }

    /// The run's events in all.
    pub fn total_events(&self) -> f64 {
        total(&self.events)
    }

    /// Holds the run to `limits`: one error per limit exceeded, naming the largest part, the
    /// figure and what would bring it within.
    ///
    /// # Errors
    /// An `Error::Invalid` per limit exceeded (an `Error::Many` for several), with `origin`.
    pub fn check(&self, origin: &str, limits: Limits) -> Result<(), Error> {
        let mut errors = Vec::new();
        let checks = [
            (&self.events, limits.events, Kind::Events),
            (&self.memory_bytes, limits.memory_bytes, Kind::Memory),
            (&self.output_bytes, limits.output_bytes, Kind::Output),
            (&self.nodes, limits.nodes, Kind::Nodes),
        ];
        for (demands, limit, kind) in checks {
            let sum = total(demands);
            if sum > limit || !sum.is_finite() {
                errors.push(refusal(origin, demands, sum, limit, kind, limits.large));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(crate::scenario::error::all(errors))
        }
    }
}

/// The sum of some demands.
pub(super) fn total(demands: &[Demand]) -> f64 {
    demands.iter().map(|d| d.amount).sum()
}

/// Seconds in a duration, as a real number.
fn secs(d: SimDuration) -> f64 {
    d.as_secs_f64()
}

/// Each service's and job's path and the most pods it can have at once.
fn pod_counts(scenario: &Scenario) -> Vec<(String, f64)> {
    let mut pods: Vec<(String, f64)> = scenario
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let hpa_max = scenario
                .autoscaling
                .hpa
                .iter()
                .filter(|h| h.service == i)
                .map(|h| h.max_replicas)
                .max()
                .unwrap_or(0);
            (
                format!("services.{}", s.name),
                f64::from(s.replicas.max(hpa_max)),
            )
        })
        .collect();
    for job in &scenario.jobs {
        let most = match &job.pods {
            JobPods::Template(t) => f64::from(t.parallelism.min(t.completions)),
            JobPods::Trace(rows) => rows.len() as f64,
        };
        pods.push((format!("jobs.{}", job.name), most));
    }
    pods
}

/// The most nodes the run can have at once: every pool's initial size, plus what the Cluster
/// Autoscaler may add (no more than one node per pod).
fn node_count(scenario: &Scenario, pods: f64) -> f64 {
    let initial: f64 = scenario
        .node_pools
        .iter()
        .map(|p| f64::from(p.initial_size))
        .sum();
    let Some(ca) = &scenario.autoscaling.cluster_autoscaler else {
        return initial;
    };
    let mut room: f64 = scenario
        .node_pools
        .iter()
        .filter(|p| p.autoscaling.is_some())
        .map(|p| f64::from(p.max_nodes.saturating_sub(p.initial_size)))
        .sum();
    if ca.max_nodes_total > 0 {
        room = room.min(f64::from(ca.max_nodes_total));
    }
    initial + room.min(pods)
}

/// Each pool's most nodes at once: its initial size, and what the Cluster Autoscaler may add
/// to it (no more than one node per pod).
fn node_demands(scenario: &Scenario, pods: f64, size: &mut Size) {
    let autoscaled = scenario.autoscaling.cluster_autoscaler.is_some();
    let mut merged: Option<(f64, f64)> = None;
    for pool in &scenario.node_pools {
        let room = if autoscaled && pool.autoscaling.is_some() {
            f64::from(pool.max_nodes.saturating_sub(pool.initial_size)).min(pods)
        } else {
            0.0
        };
        let path = if room > 0.0 {
            format!("node_pools.{}.autoscaling.max_nodes", pool.group_of)
        } else {
            format!("node_pools.{}.initial_size", pool.group_of)
        };
        // A pool over zones is one group per zone, one after another: one demand for them all.
        let initial = f64::from(pool.initial_size);
        let (initial, room) = match size.nodes.last() {
            Some(last) if last.path == path => {
                let (i, r) = merged.unwrap_or((0.0, 0.0));
                size.nodes.pop();
                (i + initial, r + room)
            }
            _ => (initial, room),
        };
        merged = Some((initial, room));
        size.nodes.push(Demand {
            path,
            amount: initial + room,
            why: format!(
                "{initial} nodes at the start and up to {} added",
                short(room)
            ),
        });
    }
}

/// Requests: each service's arrivals (Poisson thinning candidates, or a trace's rows) and the
/// memory its queues may hold in an overload.
fn load_demands(scenario: &Scenario, pods: &[(String, f64)], size: &mut Size) {
    let end = SimTime(scenario.duration.0);
    for (s, service) in scenario.services.iter().enumerate() {
        let Some(load) = &service.load else { continue };
        let (requests, peak_per_s, why) = requests_of(load, end, scenario.duration);
        let path = format!("services.{}.load.arrivals", service.name);
        size.events.push(Demand {
            path: format!(
                "{path}.{}",
                if load.trace.is_some() {
                    "trace"
                } else {
                    "rate"
                }
            ),
            amount: requests * EVENTS_PER_REQUEST,
            why: format!("{why}, {EVENTS_PER_REQUEST} events each"),
        });
        let server = &service.server;
        let pods_most = pods[s].1;
        let per_pod = f64::from(server.queue_limit.unwrap_or(DEFAULT_QUEUE_LIMIT));
        let mut waiting = pods_most * per_pod;
        let mut bound = format!("{} pods × a queue of {}", short(pods_most), short(per_pod));
        if let Some(timeout) = server.timeout {
            let by_timeout = peak_per_s * secs(timeout + scenario.resolution);
            if by_timeout < waiting {
                waiting = by_timeout;
                bound = format!("{} requests/s waiting up to {timeout}", short(peak_per_s));
            }
        }
        if requests < waiting {
            waiting = requests;
            bound = "every request of the run".to_string();
        }
        size.memory_bytes.push(Demand {
            path: format!("services.{}.server.queue_limit", service.name),
            amount: waiting * BYTES_PER_WAITING_REQUEST,
            why: format!(
                "{} requests waiting at once in an overload ({bound})",
                short(waiting)
            ),
        });
    }
}

/// A load's expected requests over the run, its peak rate, and how they come about.
fn requests_of(load: &Load, end: SimTime, duration: SimDuration) -> (f64, f64, String) {
    match &load.trace {
        // A trace's mean rate over the run, whatever its shape.
        Some(trace) => {
            let rate = load.arrivals.rate_per_s;
            // Played once, a trace lasts its own length, in simulated time, from its start.
            let played_s = (secs(duration) - secs(trace.start)).max(0.0);
            let span_s = if trace.looped {
                played_s
            } else {
                played_s.min(trace.period_ns as f64 / 1e9 / trace.time_scale)
            };
            let requests = rate * span_s;
            let what = match trace.kind {
                TraceKind::Requests => "trace rows",
                TraceKind::Rates => "trace rate",
            };
            (
                requests,
                rate,
                format!(
                    "{} requests from {what} at {} requests/s on average over {duration}",
                    short(requests),
                    short(rate)
                ),
            )
        }
        None => {
            let w = Workload::of(&load.arrivals, end);
            (
                w.candidates,
                w.peak_rate_per_s,
                format!(
                    "{} requests at up to {} requests/s over {duration}",
                    short(w.candidates),
                    short(w.peak_rate_per_s)
                ),
            )
        }
    }
}

/// Events that recur at a period: time-series rows, metrics-server samples, HPA syncs, the
/// Cluster Autoscaler's scans; and the time series they write. (Prometheus scrapes cost
/// nothing: alert rules are evaluated at each time-series row.)
fn periodic_demands(scenario: &Scenario, pods: &[(String, f64)], nodes: f64, size: &mut Size) {
    let run_s = secs(scenario.duration);
    let every = |period: SimDuration| run_s / secs(period).max(1e-6);
    let pods_all: f64 = pods.iter().map(|p| p.1).sum();
    let rows = every(scenario.resolution);
    let columns = 8.0
        + 14.0 * (scenario.services.len() + scenario.jobs.len()) as f64
        + 6.0 * scenario.node_pools.len() as f64;
    size.events.push(Demand {
        path: "resolution".into(),
        amount: rows * (1.0 + pods_all + nodes),
        why: format!(
            "{} time-series rows, each looking at {} pods and {} nodes",
            short(rows),
            short(pods_all),
            short(nodes)
        ),
    });
    size.output_bytes.push(Demand {
        path: "resolution".into(),
        amount: rows * columns * BYTES_PER_CELL,
        why: format!("{} time-series rows of {columns:.0} columns", short(rows)),
    });
    let samples = every(scenario.autoscaling.metric_resolution);
    size.events.push(Demand {
        path: "autoscaling.metric_resolution".into(),
        amount: samples * (1.0 + pods_all),
        why: format!(
            "{} metrics-server samples of {} pods",
            short(samples),
            short(pods_all)
        ),
    });
    for hpa in &scenario.autoscaling.hpa {
        let name = &scenario.services[hpa.service].name;
        let syncs = every(hpa.sync_period);
        size.events.push(Demand {
            path: format!("autoscaling.hpa.{name}.sync_period"),
            amount: syncs * (1.0 + f64::from(hpa.max_replicas)),
            why: format!(
                "{} syncs over up to {} pods",
                short(syncs),
                hpa.max_replicas
            ),
        });
    }
    if let Some(ca) = &scenario.autoscaling.cluster_autoscaler {
        let scans = every(ca.scan_interval);
        size.events.push(Demand {
            path: "autoscaling.cluster_autoscaler.scan_interval".into(),
            amount: scans * (1.0 + nodes),
            why: format!("{} scans over up to {} nodes", short(scans), short(nodes)),
        });
    }
}

/// Pods and nodes that come and go: spot preemptions and node failures (each node replaced
/// after its repair and provisioning delays, its pods recreated) and jobs' pods; events and
/// log lines.
fn churn_demands(scenario: &Scenario, pods_all: f64, size: &mut Size) {
    let run_s = secs(scenario.duration);
    for pool in &scenario.node_pools {
        let slots = f64::from(pool.initial_size.max(if pool.autoscaling.is_some() {
            pool.max_nodes
        } else {
            0
        }));
        let per = EVENTS_PER_NODE + EVENTS_PER_POD * f64::from(pool.max_pods).min(pods_all);
        let provisioning = pool.provisioning_delay.mean();
        let mut churn = |path: String, (what, done): (&str, &str), lifetime, repair| {
            let cycle = lifetime + repair + provisioning;
            let count = slots * run_s / secs(cycle).max(1e-6);
            let why = format!(
                "{} {what} ({} nodes, each {done} after {lifetime} and replaced after {} on \
                 average, over {}), {per:.0} events each for the node and its pods",
                short(count),
                short(slots),
                repair + provisioning,
                scenario.duration
            );
            size.logged(path, count * per, why);
        };
        if let Some(lifetime) = pool.preemption_mean_lifetime {
            let path = format!("node_pools.{}.preemption.mean_lifetime", pool.group_of);
            churn(
                path,
                ("preemptions", "preempted"),
                lifetime,
                SimDuration::ZERO,
            );
        }
        if let Some(failures) = &pool.failures {
            let path = format!("node_pools.{}.failures.mean_time_between", pool.group_of);
            let (between, repair) = (failures.mean_time_between, failures.repair_delay);
            churn(path, ("failures", "failed"), between, repair);
        }
    }
    for job in &scenario.jobs {
        let created = match &job.pods {
            JobPods::Template(t) => f64::from(t.completions),
            JobPods::Trace(rows) => rows.len() as f64,
        };
        let why = format!("{} pods created", short(created));
        size.logged(format!("jobs.{}", job.name), created * EVENTS_PER_POD, why);
    }
}

impl Size {
    /// `events` cluster events caused by `path`, each of them also a line of `events.jsonl`.
    fn logged(&mut self, path: String, events: f64, why: String) {
        self.events.push(Demand {
            path: path.clone(),
            amount: events,
            why: why.clone(),
        });
        self.output_bytes.push(Demand {
            path,
            amount: events * BYTES_PER_EVENT_LINE,
            why,
        });
    }
}

/// Memory of the cluster: every node and pod the run can have at once, with the worker slots
/// and queue places each pod reserves.
fn state_demands(scenario: &Scenario, pods: &[(String, f64)], nodes: f64, size: &mut Size) {
    let node_path = scenario
        .node_pools
        .iter()
        .max_by_key(|p| p.initial_size.max(p.max_nodes))
        .map_or_else(
            || "node_pools".to_string(),
            |p| format!("node_pools.{}", p.group_of),
        );
    size.memory_bytes.push(Demand {
        path: node_path,
        amount: nodes * BYTES_PER_NODE,
        why: format!("{} nodes at most", short(nodes)),
    });
    for (i, (path, count)) in pods.iter().enumerate() {
        let reserved = scenario.services.get(i).map_or(0.0, |s| {
            let queue = f64::from(s.server.queue_limit.unwrap_or(0)).min(RESERVED_AT_MOST);
            let workers = f64::from(s.server.concurrency).min(RESERVED_AT_MOST);
            queue * 16.0 + workers * BYTES_PER_WORKER
        });
        size.memory_bytes.push(Demand {
            path: path.clone(),
            amount: count * (BYTES_PER_POD + reserved),
            why: format!("{} pods at most", short(*count)),
        });
    }
}

#[cfg(test)]
mod tests;
