//! The messages of `budget`'s refusals: the figure, the part that dominates, the limit and the
//! way out; and the checks of a sweep's size, which have no `Size` of their own.

use crate::scenario::error::Error;

use super::{Demand, EVENTS_PER_S_ASSUMED, GIB, Limits};

/// What a limit bounds, for the message.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Events,
    Memory,
    Output,
    Nodes,
}

/// Holds a sweep of `points` points of `replications` runs each to `limits`, before its points
/// are built: `sweep` is the path to name.
///
/// # Errors
/// An `Error::Invalid` at `sweep` naming the runs it would have.
pub fn check_sweep_runs(
    origin: &str,
    points: f64,
    replications: u32,
    limits: Limits,
) -> Result<(), Error> {
    let runs = points * f64::from(replications);
    if runs <= limits.sweep_runs {
        return Ok(());
    }
    Err(Error::Invalid {
        origin: origin.to_string(),
        path: "sweep".into(),
        problem: format!(
            "the sweep has {} runs ({} points × {replications} replications), more than the \
             limit of {} runs",
            short(runs),
            short(points),
            short(limits.sweep_runs)
        ),
        allowed: way_out(limits, format!("{} runs", short(Limits::LARGE.sweep_runs))),
    })
}

/// Holds a sweep's runs together to `limits`: `events` is each point's events per run.
///
/// # Errors
/// An `Error::Invalid` at `sweep` naming the events of the sweep and of its largest point.
pub fn check_sweep_events(
    origin: &str,
    events: &[f64],
    replications: u32,
    limits: Limits,
) -> Result<(), Error> {
    let total = events.iter().sum::<f64>() * f64::from(replications);
    if total <= limits.sweep_events {
        return Ok(());
    }
    let largest = events.iter().copied().fold(0.0, f64::max);
    Err(Error::Invalid {
        origin: origin.to_string(),
        path: "sweep".into(),
        problem: format!(
            "the sweep would need about {} ({} points × {replications} replications, up to {} \
             a run), more than the limit of {} ({} of one core at {:.0e} events/s)",
            amount(total, Kind::Events),
            events.len(),
            amount(largest, Kind::Events),
            amount(limits.sweep_events, Kind::Events),
            wall_time(limits.sweep_events / EVENTS_PER_S_ASSUMED),
            EVENTS_PER_S_ASSUMED
        ),
        allowed: way_out(limits, amount(Limits::LARGE.sweep_events, Kind::Events)),
    })
}

/// What a refusal allows: a smaller run, or `--allow-large` up to `large` when not given yet.
fn way_out(limits: Limits, large: String) -> String {
    if limits.large {
        "expected a smaller run: not even --allow-large goes past this".to_string()
    } else {
        format!("expected a smaller run, or --allow-large to run it anyway (up to {large})")
    }
}

/// The error for a limit exceeded: the total, its largest part and how it comes about, the
/// limit and the way out.
pub(super) fn refusal(
    origin: &str,
    demands: &[Demand],
    sum: f64,
    limit: f64,
    kind: Kind,
    large: bool,
) -> Error {
    let largest = demands.iter().max_by(|a, b| a.amount.total_cmp(&b.amount));
    let (path, why) = largest.map_or(("duration", ""), |d| (d.path.as_str(), d.why.as_str()));
    let (what, reason) = match kind {
        Kind::Events => (
            "events",
            format!(
                ", {} at {:.0e} events/s",
                wall_time(limit / EVENTS_PER_S_ASSUMED),
                EVENTS_PER_S_ASSUMED
            ),
        ),
        Kind::Memory => ("memory", String::new()),
        Kind::Output => ("output", String::new()),
        Kind::Nodes => (
            "nodes",
            ", Kubernetes' tested scalability: 5,000 nodes, 150,000 pods".to_string(),
        ),
    };
    let limits = Limits::new(large);
    let allowed = way_out(limits, amount(Limits::LARGE.limit(kind), kind));
    Error::Invalid {
        origin: origin.to_string(),
        path: path.to_string(),
        problem: format!(
            "the run would need {}{} ({what} limit {}{reason}): {why}",
            if sum.is_finite() { "about " } else { "" },
            amount(sum, kind),
            amount(limit, kind),
        ),
        allowed,
    }
}

impl Limits {
    fn limit(&self, kind: Kind) -> f64 {
        match kind {
            Kind::Events => self.events,
            Kind::Memory => self.memory_bytes,
            Kind::Output => self.output_bytes,
            Kind::Nodes => self.nodes,
        }
    }
}

/// A figure in its unit, short: `5.80e10 events`, `12.3 GiB` (or `4.1 MiB` below a GiB).
fn amount(x: f64, kind: Kind) -> String {
    match kind {
        Kind::Events => format!("{} events", short(x)),
        Kind::Nodes => format!("{} nodes", short(x)),
        Kind::Memory | Kind::Output if x < GIB => format!("{:.1} MiB", x / (1024.0 * 1024.0)),
        Kind::Memory | Kind::Output if x < 1e6 * GIB => format!("{:.1} GiB", x / GIB),
        Kind::Memory | Kind::Output => format!("{} bytes", short(x)),
    }
}

/// A large number in three significant digits (`5.80e10`), or as a whole number below 10^6:
/// how the limits' messages and `capsim validate` show estimates.
pub fn short(x: f64) -> String {
    if !x.is_finite() {
        "more than 1e308".to_string()
    } else if x < 1e6 {
        format!("{x:.0}")
    } else {
        format!("{x:.2e}")
    }
}

/// Seconds of wall time in words (`33 minutes`, `12 days`).
fn wall_time(secs: f64) -> String {
    if secs < 3_600.0 {
        format!("about {:.0} minutes", secs / 60.0)
    } else if secs < 3.0 * 86_400.0 {
        format!("about {:.0} hours", secs / 3_600.0)
    } else {
        format!("about {:.0} days", secs / 86_400.0)
    }
}
