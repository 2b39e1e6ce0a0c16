//! Pod traces: the CSV (or gzip-compressed CSV) behind `jobs.<name>.trace`, one pod a row, read
//! whole at load into `TracePod`s sorted by creation time.
//!
//! The default column names are those of Alibaba's `cluster-trace-gpu-v2023` pod lists
//! (`openb_pod_list_*.csv`: `name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,
//! pod_phase,creation_time,deletion_time,scheduled_time`), which are read with no further key;
//! other columns are ignored. Times are seconds from the trace's own start. A pod runs from
//! its scheduled time (when the row has a valid one: between its creation and its deletion),
//! else from its creation, to its deletion; a pod with no deletion time runs to the end of the
//! run. A duration column may give the run time directly instead. GPUs are whole devices:
//! a fractional count is rounded up and `gpu_milli` (GPU sharing) is not read.
//!
//! Unlike request traces (`scenario::trace`), which are streamed, a pod trace is held in memory
//! for the whole run, one `TracePod` a row; rows created at or after the end of the run are
//! dropped at load. Use `read` from validation only.

use std::path::Path;

use crate::controllers::job::TracePod;
use crate::scenario::error::Error;
use crate::scenario::trace::{RowProblems, csv_reader, for_each_record};
use crate::units::{Bytes, ExtendedResources, Millicores, Resources, SimDuration};

/// A column of the trace, and whether the file must have it (a default name is looked for but
/// may be missing; a name the scenario gives must be there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    /// The header's name for it.
    pub(crate) name: String,
    /// Whether a header without it is an error.
    pub(crate) required: bool,
}

/// Where a pod's run time comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RunColumns {
    /// From its scheduled time (when valid) or its creation time to its deletion time.
    Times {
        /// The deletion time, seconds from the trace's start; empty or `-` when never deleted.
        end: String,
        /// The scheduled time, seconds from the trace's start.
        scheduled: Column,
    },
    /// A column of run times in seconds; empty or `-` when the pod never ended.
    Duration(String),
}

/// The columns a pod trace reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PodColumns {
    /// Creation time, seconds from the trace's start.
    pub(crate) time: String,
    /// The run time.
    pub(crate) run: RunColumns,
    /// CPU request in millicores.
    pub(crate) cpu: String,
    /// Memory request in MiB.
    pub(crate) memory: String,
    /// Whole GPUs (`nvidia.com/gpu`).
    pub(crate) gpu: Column,
}

/// How to read a pod trace into the run's time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PodTraceOptions {
    /// The columns.
    pub(crate) columns: PodColumns,
    /// Added to every creation time.
    pub(crate) start: SimDuration,
    /// Divides creation times and run times (24 replays a day in an hour).
    pub(crate) time_scale: f64,
    /// The run's length: pods created at or after it are dropped.
    pub(crate) until: SimDuration,
    /// The index of `nvidia.com/gpu` in the scenario's extended resources.
    pub(crate) gpu_slot: usize,
}

/// A pod trace as read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PodTrace {
    /// The pods created before the end of the run, stable-sorted by creation time.
    pub(crate) pods: Vec<TracePod>,
    /// How many of them ask for a GPU.
    pub(crate) gpu_pods: usize,
    /// Rows dropped because they are created at or after the end of the run.
    pub(crate) dropped: usize,
}

/// The columns' indexes in the header.
#[derive(Debug, Clone, Copy)]
struct Indexes {
    time: usize,
    end: Option<usize>,
    scheduled: Option<usize>,
    duration: Option<usize>,
    cpu: usize,
    memory: usize,
    gpu: Option<usize>,
}

/// One row's cells, read.
struct Row {
    created_s: f64,
    run_s: Option<f64>,
    requests: Resources,
}

/// Reads the whole pod trace at `path`.
///
/// # Errors
/// `Err(message)` when the file cannot be opened or lacks a column (one line, for the caller
/// to place at the YAML path); `Ok(Err(Error::Trace))` listing the bad rows, each with its
/// line and column.
pub(crate) fn read(
    path: &Path,
    options: &PodTraceOptions,
) -> Result<Result<PodTrace, Error>, String> {
    let mut reader = csv_reader(path).map_err(|e| format!("cannot read it: {e}"))?;
    let header = reader
        .headers()
        .map_err(|e| format!("cannot read its header: {e}"))?
        .clone();
    let indexes = find_columns(&header, &options.columns)?;
    let mut trace = PodTrace {
        pods: Vec::new(),
        gpu_pods: 0,
        dropped: 0,
    };
    let mut problems = RowProblems::default();
    for_each_record(
        &mut reader,
        &mut problems,
        |record, line, problems| match parse_row(record, indexes, &options.columns) {
            Ok(row) => trace.take(row, line, options),
            Err(problem) => problems.push(format!("line {line}: {problem}")),
        },
    );
    if let Some(error) = problems.into_error(path) {
        return Ok(Err(error));
    }
    trace.pods.sort_by_key(|p| p.created_at);
    Ok(Ok(trace))
}

impl PodTrace {
    /// Adds the pod of `row` (read at `line`), or counts it dropped when it comes too late.
    fn take(&mut self, row: Row, line: u64, options: &PodTraceOptions) {
        let created_at =
            options.start + SimDuration::from_secs_f64(row.created_s / options.time_scale);
        if created_at >= options.until {
            self.dropped += 1;
            return;
        }
        let mut requests = row.requests;
        if requests.extended.0[0] > 0 {
            self.gpu_pods += 1;
            let gpus = requests.extended.0[0];
            requests.extended = ExtendedResources::ZERO;
            requests.extended.0[options.gpu_slot] = gpus;
        }
        self.pods.push(TracePod {
            created_at,
            run_time: row
                .run_s
                .map(|s| SimDuration::from_secs_f64(s / options.time_scale)),
            requests,
            line: u32::try_from(line).unwrap_or(u32::MAX),
        });
    }
}

/// Finds the columns in the header; a missing required one is named with the header's.
fn find_columns(header: &csv::StringRecord, columns: &PodColumns) -> Result<Indexes, String> {
    let position = |name: &str| header.iter().position(|h| h == name);
    let find = |name: &str| {
        position(name).ok_or_else(|| {
            let names: Vec<&str> = header.iter().collect();
            format!(
                "line 1: no column \"{name}\"; expected one of the header's columns: {}",
                names.join(", ")
            )
        })
    };
    let optional = |column: &Column| match position(&column.name) {
        None if column.required => find(&column.name).map(Some),
        found => Ok(found),
    };
    let (end, scheduled, duration) = match &columns.run {
        RunColumns::Times { end, scheduled } => (Some(find(end)?), optional(scheduled)?, None),
        RunColumns::Duration(name) => (None, None, Some(find(name)?)),
    };
    Ok(Indexes {
        time: find(&columns.time)?,
        end,
        scheduled,
        duration,
        cpu: find(&columns.cpu)?,
        memory: find(&columns.memory)?,
        gpu: optional(&columns.gpu)?,
    })
}

/// A cell that says "none": empty or `-`.
fn is_blank(text: &str) -> bool {
    text.is_empty() || text == "-"
}

/// A finite number >= 0.
fn non_negative(text: &str) -> Option<f64> {
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

/// Reads one row: its creation time and run time in trace seconds, and its requests (GPUs in
/// slot 0 of the extended resources, for `PodTrace::take` to move).
fn parse_row(record: &csv::StringRecord, at: Indexes, columns: &PodColumns) -> Result<Row, String> {
    let cell = |index: usize| record.get(index).unwrap_or_default();
    let number = |index: usize, name: &str, what: &str| {
        let text = cell(index);
        non_negative(text).ok_or_else(|| {
            format!("column {name}: \"{text}\" is not a number >= 0; expected {what}")
        })
    };
    let created_s = number(at.time, &columns.time, "seconds from the trace's start")?;
    let run_s = match (&columns.run, at.end, at.duration) {
        (RunColumns::Times { end, .. }, Some(index), _) => {
            let scheduled_s = at.scheduled.and_then(|i| non_negative(cell(i)));
            run_until_deletion(cell(index), end, created_s, scheduled_s)?
        }
        (RunColumns::Duration(name), _, Some(index)) if !is_blank(cell(index)) => Some(number(
            index,
            name,
            "the pod's run time in seconds, or an empty cell",
        )?),
        _ => None,
    };
    let cpu = number(at.cpu, &columns.cpu, "millicores")?;
    let memory = number(at.memory, &columns.memory, "MiB")?;
    let gpus = match at.gpu {
        Some(index) if !is_blank(cell(index)) => {
            number(index, &columns.gpu.name, "a number of GPUs")?.ceil()
        }
        _ => 0.0,
    };
    if gpus > f64::from(u16::MAX) {
        return Err(format!(
            "column {}: \"{}\" is more than {} GPUs; expected a number of GPUs",
            columns.gpu.name,
            cell(at.gpu.unwrap_or_default()),
            u16::MAX
        ));
    }
    let mut requests = Resources {
        cpu: Millicores(cpu.ceil() as u64),
        memory: Bytes((memory * Bytes::MIB as f64).round() as u64),
        extended: ExtendedResources::ZERO,
    };
    requests.extended.0[0] = gpus as u16;
    Ok(Row {
        created_s,
        run_s,
        requests,
    })
}

/// The run time of a pod deleted at `text` (column `name`): from its scheduled time when that
/// lies between its creation and its deletion, else from its creation; `None` when the cell is
/// blank (never deleted).
fn run_until_deletion(
    text: &str,
    name: &str,
    created_s: f64,
    scheduled_s: Option<f64>,
) -> Result<Option<f64>, String> {
    if is_blank(text) {
        return Ok(None);
    }
    let Some(deleted_s) = non_negative(text) else {
        return Err(format!(
            "column {name}: \"{text}\" is not a number >= 0; expected seconds from the trace's \
             start, or an empty cell for a pod never deleted"
        ));
    };
    if deleted_s < created_s {
        return Err(format!(
            "column {name}: \"{text}\" is before the pod's creation at {created_s}s; expected a \
             deletion time >= the creation time, or an empty cell for a pod never deleted"
        ));
    }
    let started_s = scheduled_s
        .filter(|s| (created_s..=deleted_s).contains(s))
        .unwrap_or(created_s);
    Ok(Some(deleted_s - started_s))
}

#[cfg(test)]
#[path = "pod_trace_tests.rs"]
mod tests;
