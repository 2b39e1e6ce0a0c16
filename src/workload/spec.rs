//! What a service's load looks like, as validated data: arrival rates and their profile over the
//! day, the per-request cost model, and delay distributions.
//!
//! Use these types to describe load; `arrivals`, `cost` and `balancer` turn them into draws.
//! Values here are already validated (positive rates, finite parameters), so sampling them
//! never fails.

use std::path::PathBuf;

use crate::units::{Bytes, DurationDist, Millicores, SimDuration, SimTime};

/// A distribution of counts, such as tokens per inference request.
#[derive(Debug, Clone, PartialEq)]
pub enum CountDist {
    /// Always the same count.
    Constant(f64),
    /// Exponential with the given mean.
    Exponential {
        /// Mean count.
        mean: f64,
    },
    /// Lognormal fitted to a mean and a 99th percentile.
    Lognormal {
        /// Mean count.
        mean: f64,
        /// 99th percentile.
        p99: f64,
    },
    /// Uniform between two bounds.
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
}

/// One factor of a time-varying arrival rate. The rate at time `t` is the service's base rate
/// times the product of every profile's factor at `t`.
#[derive(Debug, Clone, PartialEq)]
pub enum RateProfile {
    /// Factor 1 all the time.
    Constant,
    /// A day-long cosine: factor 1 at `peak_hour`, `1 / peak_to_trough` twelve hours away.
    /// Time zero is midnight; the pattern repeats every 24h.
    Diurnal {
        /// Ratio of the peak rate to the trough rate (`>= 1`).
        peak_to_trough: f64,
        /// Hour of the day (0..24, fractional allowed) at which the rate peaks.
        peak_hour: f64,
    },
    /// Piecewise-constant factors: each step holds from its time until the next step's.
    /// Before the first step the factor is 1.
    Steps(Vec<ProfilePoint>),
    /// Multiplicative bursts on top of factor 1.
    Spikes(Vec<Spike>),
    /// Piecewise-linear factors between points, constant before the first and after the last.
    Points(Vec<ProfilePoint>),
}

/// A (time, factor) point of a `Steps` or `Points` profile. Points are sorted by time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProfilePoint {
    /// When the point applies.
    pub at: SimTime,
    /// Rate factor (`>= 0`).
    pub factor: f64,
}

/// A burst: the factor applies during `[start, start + duration)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spike {
    /// Start of the burst.
    pub start: SimTime,
    /// Length of the burst.
    pub duration: SimDuration,
    /// Rate factor during the burst (`>= 0`).
    pub factor: f64,
}

/// How requests arrive: a (possibly non-homogeneous) Poisson process.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrivals {
    /// Base rate in requests per second (the peak of a diurnal profile).
    pub rate_per_s: f64,
    /// Factors multiplied onto the base rate; empty means constant.
    pub profile: Vec<RateProfile>,
}

/// The approximate nearest-neighbour search workload of a vector store (HNSW index).
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSearchModel {
    /// Vectors in the index (N).
    pub vectors: f64,
    /// Vector dimension (d).
    pub dimension: u32,
    /// Neighbours returned per query (k).
    pub top_k: u32,
    /// Target recall@k (0..1), which sets the search breadth `ef` when `ef` is absent.
    pub recall: f64,
    /// Explicit HNSW `ef_search`, overriding the one derived from recall.
    pub ef: Option<u32>,
    /// Coefficient of variation of the per-query cost (lognormal jitter); 0 is deterministic.
    pub jitter_cv: f64,
}

/// CPU inference of a generative model: service time grows with the tokens generated.
#[derive(Debug, Clone, PartialEq)]
pub struct InferenceModel {
    /// Tokens processed per request.
    pub tokens: CountDist,
    /// Tokens per second one core sustains.
    pub tokens_per_core_second: f64,
    /// Fixed per-request overhead (tokenization, prompt set-up).
    pub overhead: SimDuration,
}

/// How long a request occupies a worker.
#[derive(Debug, Clone, PartialEq)]
pub enum CostModel {
    /// An explicit service-time distribution.
    ServiceTime(DurationDist),
    /// HNSW vector search; see `workload::cost` for the formula and its sources.
    VectorSearch(VectorSearchModel),
    /// Token-proportional inference.
    Inference(InferenceModel),
}

/// The load offered to one service.
#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    /// The arrival process (with a trace: its mean rate, for reference only).
    pub arrivals: Arrivals,
    /// The per-request cost.
    pub cost: CostModel,
    /// A recorded trace that replaces the Poisson arrivals, when given.
    pub trace: Option<Trace>,
}

/// What a trace file's rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceKind {
    /// One row per request, at its arrival time.
    Requests,
    /// `time,rate` rows: a piecewise-constant Poisson rate (requests per second) that holds
    /// from each row's time to the next row's.
    Rates,
}

/// What a request trace's value columns say about each request's cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceCost {
    /// Nothing: the service's cost model draws each request's work.
    Drawn,
    /// The sum of the value columns is the request's token count under the inference model.
    Tokens,
    /// The value column is the request's service time in seconds on one worker at
    /// `cpu_per_worker` on the reference machine (its CPU work).
    ServiceTimeS,
}

/// A recorded trace replayed as a service's arrivals, as validated data: the file was read in
/// full once at load, every row parses and times never go back.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// The CSV (or gzip-compressed CSV, `.gz`) file, resolved against the scenario's folder.
    pub file: PathBuf,
    /// Requests or a rate series.
    pub kind: TraceKind,
    /// What the value columns of a request trace mean.
    pub cost: TraceCost,
    /// The timestamp column.
    pub time_column: String,
    /// The columns read per row besides time: summed token counts, a service time, or the rate.
    pub value_columns: Vec<String>,
    /// When the trace's origin plays in the run.
    pub start: SimDuration,
    /// Trace seconds per simulated second (24 replays a day in an hour).
    pub time_scale: f64,
    /// Traffic multiplier: whole copies of each request plus a thinned fraction, or the rate
    /// series' factor.
    pub rate_scale: f64,
    /// Whether the trace starts again after `period_ns` until the run ends.
    pub looped: bool,
    /// The trace's length in nanoseconds of trace time from its origin: the last row's time plus
    /// the mean gap between rows (the loop's period, and the end of a rate series' last step).
    pub period_ns: u64,
}

/// How the Service spreads requests over its Ready pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoadBalancerPolicy {
    /// Each Ready pod in turn.
    RoundRobin,
    /// A uniformly random Ready pod (kube-proxy in iptables mode).
    Random,
    /// The pod with fewer in-flight requests of two picked at random (Envoy's LEAST_REQUEST,
    /// power of two choices).
    LeastRequests,
}

impl LoadBalancerPolicy {
    /// The name used in scenario files.
    pub const fn as_str(self) -> &'static str {
        match self {
            LoadBalancerPolicy::RoundRobin => "round-robin",
            LoadBalancerPolicy::Random => "random",
            LoadBalancerPolicy::LeastRequests => "least-requests",
        }
    }
}

/// The most requests one pod's queue holds when the scenario gives no `queue_limit`: past it
/// requests are refused (`rejected_queue_full`), so that an overload holds the simulator's
/// memory to the pods' number (1.6 MB per pod) rather than letting it grow with the run. No
/// real server lets a queue this deep build up: its clients' timeouts and its memory give out
/// long before; a scenario that reaches it is overloaded by any measure.
pub const DEFAULT_QUEUE_LIMIT: u32 = 100_000;

/// How one pod serves requests.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSpec {
    /// Requests served at once (worker threads).
    pub concurrency: u32,
    /// Requests that may wait in the pod's queue; `None` when the scenario gives no
    /// `queue_limit`, which bounds the queue at `DEFAULT_QUEUE_LIMIT`.
    pub queue_limit: Option<u32>,
    /// Longest a request may wait in the queue before it is dropped; `None` waits forever.
    pub timeout: Option<SimDuration>,
    /// CPU one busy worker uses (pod usage is capped at the CPU limit).
    pub cpu_per_worker: Millicores,
    /// Memory a running pod uses with no request in flight (code, model weights, index).
    pub memory_base: Bytes,
    /// Memory each request queued or in service adds.
    pub memory_per_request: Bytes,
}

impl ServerSpec {
    /// Memory a running pod uses with `in_flight` requests queued or in service: what
    /// metrics-server reports and what a memory alert compares with the request.
    pub fn memory_in_use(&self, in_flight: u32) -> Bytes {
        Bytes(self.memory_base.0 + self.memory_per_request.0 * u64::from(in_flight))
    }
}
