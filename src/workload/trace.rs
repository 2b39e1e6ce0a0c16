//! Arrivals replayed from a recorded trace: one row per request, or a `time,rate` series that
//! drives a Poisson process piecewise.
//!
//! Use `TraceArrivals::new` with a `TraceSource` (the reader lives where I/O is allowed) and
//! call `TraceArrivals::next_after` like `ArrivalProcess::next_after`. Rows come in chunks of at
//! most `TRACE_CHUNK`, so memory does not grow with the trace's length and the per-arrival path
//! has no dynamic call and no allocation (one call through the source per chunk).
//!
//! Times: a row's time is nanoseconds of trace time from the trace's origin; pass `p` of a
//! looped trace adds `p × period_ns`. Trace time `x` plays at `start + x / time_scale`,
//! truncated to the microsecond. `rate_scale = k + f` (whole part `k`, fraction `f`) replays
//! each request `k` times, plus once more with probability `f` (drawn from the arrival stream);
//! the `n` copies of a row are spread evenly over the gap to the next row (copy `j` at
//! `t + j × gap / n`), so traffic scales without synthetic bursts. A rate series' rate is
//! multiplied by `rate_scale` (and, in simulated time, by `time_scale`).

use std::fmt;

use rand::RngExt;
use rand_distr::Exp1;

use crate::engine::rng::SimRng;
use crate::units::{Millicores, SimDuration, SimTime, round_to_u64};
use crate::workload::cost::micros_per_token;
use crate::workload::spec::{CostModel, Trace, TraceCost, TraceKind};

/// Most rows a trace source hands over at once, and so the most a replay holds.
pub const TRACE_CHUNK: usize = 4_096;

/// One row of a trace: when, and the sum of its value columns (0 without any).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceRow {
    /// Nanoseconds of trace time from the trace's origin.
    pub at_ns: u64,
    /// Tokens, a service time in seconds, or a rate in requests per second.
    pub value: f64,
}

/// Where a replay's rows come from: the file reader, or rows in memory in tests.
pub trait TraceSource: Send + fmt::Debug {
    /// Replaces `rows` with the next rows of the trace, at most `TRACE_CHUNK`, in file order;
    /// leaves it empty at the end of the trace.
    fn refill(&mut self, rows: &mut Vec<TraceRow>);

    /// Starts again from the first row (for a looped trace).
    fn rewind(&mut self);
}

/// A row placed in the run: trace time including its pass's offset, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Placed {
    x_ns: f64,
    value: f64,
}

/// The state of a trace being replayed in one run.
#[derive(Debug)]
pub struct TraceArrivals {
    source: Box<dyn TraceSource>,
    kind: TraceKind,
    rows: Vec<TraceRow>,
    next_row: usize,
    /// Completed passes over the file (a looped trace).
    pass: u64,
    looped: bool,
    period_ns: f64,
    start_us: f64,
    /// Trace nanoseconds per simulated microsecond: `1000 × time_scale`.
    ns_per_us: f64,
    whole_copies: u32,
    fraction: f64,
    rate_scale: f64,
    /// The row being replayed and the one after it (to know the gap or the step's end).
    current: Option<Placed>,
    lookahead: Option<Placed>,
    /// Requests: copies of `current` to play, and how many are played.
    copies: u32,
    played: u32,
    /// Rates: the exact trace time of the last arrival, and the current step's end.
    t_ns: f64,
    step_end_ns: f64,
}

impl TraceArrivals {
    /// A replay of `trace` reading rows from `source` (positioned at its first row).
    pub fn new(trace: &Trace, source: Box<dyn TraceSource>) -> TraceArrivals {
        let whole = trace.rate_scale.floor();
        TraceArrivals {
            source,
            kind: trace.kind,
            rows: Vec::with_capacity(TRACE_CHUNK),
            next_row: 0,
            pass: 0,
            looped: trace.looped,
            period_ns: trace.period_ns as f64,
            start_us: trace.start.0 as f64,
            ns_per_us: 1_000.0 * trace.time_scale,
            whole_copies: whole as u32,
            fraction: trace.rate_scale - whole,
            rate_scale: trace.rate_scale,
            current: None,
            lookahead: None,
            copies: 0,
            played: 0,
            t_ns: 0.0,
            step_end_ns: 0.0,
        }
    }

    /// Rows held in memory now (never more than `TRACE_CHUNK`).
    pub fn buffered_rows(&self) -> usize {
        self.rows.capacity()
    }

    /// The time of the next arrival and its row's value, or `None` if none happens before
    /// `horizon` (rows past it are not read).
    #[inline]
    pub fn next_after(&mut self, rng: &mut SimRng, horizon: SimTime) -> Option<(SimTime, f64)> {
        let (x_ns, value) = match self.kind {
            TraceKind::Requests => self.next_request(rng)?,
            TraceKind::Rates => self.next_poisson(rng, horizon)?,
        };
        let at = self.sim_time(x_ns);
        (at <= horizon).then_some((at, value))
    }

    /// Trace time `x_ns` in the run.
    #[inline]
    fn sim_time(&self, x_ns: f64) -> SimTime {
        SimTime((self.start_us + (x_ns / self.ns_per_us).floor()) as u64)
    }

    /// The next copy of a request row.
    #[inline]
    fn next_request(&mut self, rng: &mut SimRng) -> Option<(f64, f64)> {
        loop {
            if let Some(row) = self.current
                && self.played < self.copies
            {
                let gap = self.lookahead.map_or(0.0, |next| next.x_ns - row.x_ns);
                let x = row.x_ns + f64::from(self.played) * gap / f64::from(self.copies);
                self.played += 1;
                return Some((x, row.value));
            }
            self.advance()?;
            self.played = 0;
            let extra = self.fraction > 0.0 && rng.random::<f64>() < self.fraction;
            self.copies = self.whole_copies + u32::from(extra);
        }
    }

    /// The next arrival of the rate series' Poisson process.
    fn next_poisson(&mut self, rng: &mut SimRng, horizon: SimTime) -> Option<(f64, f64)> {
        loop {
            if self.t_ns >= self.step_end_ns {
                if self.sim_time(self.step_end_ns) > horizon && self.current.is_some() {
                    return None;
                }
                let row = self.advance()?;
                self.t_ns = self.t_ns.max(row.x_ns);
                // A pass's last step ends with its period, even when the next pass's first row
                // comes later (a series whose first row is after 0).
                let pass_end = ((row.x_ns / self.period_ns).floor() + 1.0) * self.period_ns;
                self.step_end_ns = self
                    .lookahead
                    .map_or(pass_end, |next| next.x_ns.min(pass_end));
                continue;
            }
            let row = self.current?;
            let rate_per_ns = row.value * self.rate_scale / 1e9;
            if rate_per_ns <= 0.0 {
                self.t_ns = self.step_end_ns;
                continue;
            }
            let gap: f64 = rng.sample(Exp1);
            let candidate = self.t_ns + gap / rate_per_ns;
            if candidate >= self.step_end_ns {
                // Memorylessness: restart from the step's end under the next step's rate.
                self.t_ns = self.step_end_ns;
                continue;
            }
            self.t_ns = candidate;
            return Some((candidate, row.value));
        }
    }

    /// Trace time at which the pass being read starts.
    fn pass_origin(&self) -> f64 {
        self.pass as f64 * self.period_ns
    }

    /// Moves to the next row: the lookahead becomes current, and a new lookahead is read.
    fn advance(&mut self) -> Option<Placed> {
        let row = match self.lookahead.take() {
            Some(row) => Some(row),
            None if self.current.is_none() => self.fetch(),
            None => None,
        };
        self.current = row;
        let row = row?;
        self.lookahead = self.fetch();
        Some(row)
    }

    /// The next row of the file, placed in its pass; a looped trace starts again at the end.
    fn fetch(&mut self) -> Option<Placed> {
        if self.next_row == self.rows.len() {
            self.source.refill(&mut self.rows);
            self.next_row = 0;
            if self.rows.is_empty() {
                if !self.looped {
                    return None;
                }
                self.pass += 1;
                self.source.rewind();
                self.source.refill(&mut self.rows);
                if self.rows.is_empty() {
                    return None;
                }
            }
        }
        let row = self.rows[self.next_row];
        self.next_row += 1;
        Some(Placed {
            x_ns: self.pass_origin() + row.at_ns as f64,
            value: row.value,
        })
    }
}

/// How a request trace's row value becomes the request's work.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RowWork {
    /// The row says nothing of cost: the service's cost model draws the work.
    Drawn,
    /// The value is a token count under the inference model: `overhead + max(round(tokens),
    /// 1) × micros_per_token`, as when the tokens are drawn.
    Tokens {
        /// Microseconds per token on one worker.
        micros_per_token: f64,
        /// Fixed microseconds per request.
        overhead_us: f64,
    },
    /// The value is the service time in seconds.
    Seconds,
}

impl RowWork {
    /// How `trace`'s rows give work under `cost`, for workers of `cpu_per_worker`.
    pub fn new(trace: &Trace, cost: &CostModel, cpu_per_worker: Millicores) -> RowWork {
        match (trace.kind, trace.cost, cost) {
            (TraceKind::Requests, TraceCost::Tokens, CostModel::Inference(model)) => {
                RowWork::Tokens {
                    micros_per_token: micros_per_token(model, cpu_per_worker),
                    overhead_us: model.overhead.0 as f64,
                }
            }
            (TraceKind::Requests, TraceCost::ServiceTimeS, _) => RowWork::Seconds,
            _ => RowWork::Drawn,
        }
    }

    /// The work of a request whose row value is `value`; `None` when it is drawn.
    #[inline]
    pub fn work(self, value: f64) -> Option<SimDuration> {
        let us = match self {
            RowWork::Drawn => return None,
            RowWork::Tokens {
                micros_per_token,
                overhead_us,
            } => overhead_us + value.round().max(1.0) * micros_per_token,
            RowWork::Seconds => value * 1e6,
        };
        Some(SimDuration(round_to_u64(us)))
    }
}

#[cfg(test)]
#[path = "trace_tests.rs"]
mod tests;
