//! Results: streaming statistics, the per-interval time series, the cluster event log, the
//! summary, and the files they are written to.
//!
//! Use `Observer` to receive time-series rows and cluster events while a run goes on, and
//! `OutputDir` to write them (with `summary.json` and `run.json`) to a folder. `files` names
//! every output file; each file's content is one record type (`Summary`, `RunInfo`,
//! `ClusterEvent`, `timeseries::Layout` and `IntervalRow`, `sweep_files`' records) that its
//! writer serializes and its readers (`plot`, `html`, `capsim check --baseline`, sweep resume
//! and merge) read back.
//!
//! **Invariant:** `report` never changes the simulation; it reads what the simulation hands it.
//! Its JSON and CSV files are capsim's stable, serializable boundary, and `summary.json` holds
//! only simulated results so that it is byte-identical for the same scenario and seed.

mod csv;
pub mod events;
pub mod files;
pub mod metrics;
pub mod openmetrics;
pub mod setup;
pub mod significance;
pub mod stats;
pub mod summary;
pub mod sweep_files;
pub mod table;
pub mod timeseries;
pub mod writers;

pub use events::{ClusterEvent, EventKind};
pub use files::ReadError;
pub use summary::Summary;
pub use timeseries::{IntervalRow, JobInterval, PoolInterval, ServiceInterval};
pub use writers::{OutputDir, RunInfo};

/// Receives results while a run goes on, so that memory does not grow with simulated time.
pub trait Observer {
    /// One time-series row, at the end of each interval.
    fn interval(&mut self, row: &IntervalRow);
    /// One cluster event (pod, node, quota), in time order.
    fn cluster_event(&mut self, event: &ClusterEvent);
    /// How far the run has come, after each time-series row: the simulated time in seconds and
    /// the events processed so far. For progress displays; results never depend on it.
    fn progress(&mut self, _simulated_s: f64, _events_processed: u64) {}
}

/// An observer that keeps nothing, for runs where only the summary matters.
#[derive(Debug, Default, Clone, Copy)]
pub struct Discard;

impl Observer for Discard {
    fn interval(&mut self, _row: &IntervalRow) {}
    fn cluster_event(&mut self, _event: &ClusterEvent) {}
}

/// An observer that keeps everything in memory, for tests and library users.
#[derive(Debug, Default, Clone)]
pub struct Collect {
    /// Every row received.
    pub rows: Vec<IntervalRow>,
    /// Every event received.
    pub events: Vec<ClusterEvent>,
}

impl Observer for Collect {
    fn interval(&mut self, row: &IntervalRow) {
        self.rows.push(row.clone());
    }
    fn cluster_event(&mut self, event: &ClusterEvent) {
        self.events.push(event.clone());
    }
}
