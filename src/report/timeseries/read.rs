//! Reading `timeseries.csv` back: the header into its `Layout`, each line into an
//! `IntervalRow`, through the column table of `timeseries` (the writer's), so the reader cannot
//! drift from the writer.

use std::path::Path;

use crate::report::csv::{CsvFile, Row};
use crate::report::files::{ReadError, read_text};
use crate::report::timeseries::{
    COST_COLUMN, COST_RATE_COLUMN, HPA, IntervalRow, JOB, JobInterval, Layout, POOL, PoolInterval,
    SERVICE, ServiceInterval, TIME_COLUMN, parse,
};

impl Layout {
    /// The layout whose `columns` are `columns`: the inverse of `columns`.
    ///
    /// # Errors
    /// A message naming the first column (1-based) that is not where the layout puts it.
    pub fn from_columns(columns: &[String]) -> Result<Layout, String> {
        let mut next = Cursor { columns, at: 0 };
        next.expect(TIME_COLUMN)?;
        let mut layout = Layout::default();
        let first_service_column = format!(".{}", SERVICE[0].name);
        while let Some(service) = next.peek_owner(&first_service_column) {
            for column in &SERVICE {
                next.expect(&format!("{service}.{}", column.name))?;
            }
            let prefix = format!("{service}.{HPA}.");
            let mut hpa_metrics = Vec::new();
            while let Some(metric) = next.peek().and_then(|c| c.strip_prefix(&prefix)) {
                hpa_metrics.push(metric.to_string());
                next.at += 1;
            }
            layout.services.push((service, hpa_metrics));
        }
        let first_job_column = format!(".{}", JOB[0].name);
        while let Some(job) = next.peek_owner(&first_job_column) {
            for column in &JOB {
                next.expect(&format!("{job}.{}", column.name))?;
            }
            layout.jobs.push(job);
        }
        let first_pool_column = format!(".{}", POOL[0].name);
        while let Some(pool) = next.peek_owner(&first_pool_column) {
            for column in &POOL {
                next.expect(&format!("{pool}.{}", column.name))?;
            }
            layout.pools.push(pool);
        }
        next.expect(COST_COLUMN)?;
        // Files written before the cost rate had its column end with the cumulative cost.
        if next.peek() == Some(COST_RATE_COLUMN) {
            next.at += 1;
        }
        match next.peek() {
            None => Ok(layout),
            Some(extra) => Err(format!(
                "column {}: {extra:?} after {}, which is the last column",
                next.at + 1,
                columns[next.at - 1]
            )),
        }
    }
}

/// A position in a header being read back.
struct Cursor<'c> {
    columns: &'c [String],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<&str> {
        self.columns.get(self.at).map(String::as_str)
    }

    /// The owner (service or pool) of the next column, if it ends with `suffix`.
    fn peek_owner(&self, suffix: &str) -> Option<String> {
        let owner = self.peek()?.strip_suffix(suffix)?;
        (!owner.is_empty()).then(|| owner.to_string())
    }

    fn expect(&mut self, want: &str) -> Result<(), String> {
        match self.peek() {
            Some(found) if found == want => {
                self.at += 1;
                Ok(())
            }
            Some(found) => Err(format!(
                "column {}: expected {want}, found {found}",
                self.at + 1
            )),
            None => Err(format!(
                "the header ends after {} columns; expected {want} next",
                self.at
            )),
        }
    }
}

/// A `timeseries.csv` read back.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimeSeries {
    /// The services, their HPA metrics and the pools, from the header.
    pub layout: Layout,
    /// The rows, in time order. `width_s` is the time since the previous row (since 0 for the
    /// first), as the file does not hold it; an empty HPA cell is NaN.
    pub rows: Vec<IntervalRow>,
}

impl TimeSeries {
    /// Reads a `timeseries.csv`.
    ///
    /// # Errors
    /// A missing file, or as `TimeSeries::parse`.
    pub fn read(path: &Path) -> Result<TimeSeries, ReadError> {
        TimeSeries::parse(path, &read_text(path)?)
    }

    /// Parses the text of a `timeseries.csv` read from `path`.
    ///
    /// # Errors
    /// A header that is not a layout's, a row with the wrong number of cells, a cell that does
    /// not parse (named by line and column), or a time that is not finite, at least 0 and
    /// increasing.
    pub fn parse(path: &Path, text: &str) -> Result<TimeSeries, ReadError> {
        let csv = CsvFile::parse(path, text)?;
        let layout = Layout::from_columns(&csv.header).map_err(|m| csv.error(1, m))?;
        let mut rows: Vec<IntervalRow> = Vec::with_capacity(csv.rows.len());
        for line in &csv.rows {
            let row = read_row(&csv, &layout, line)?;
            let previous_s = rows.last().map_or(0.0, |r| r.time_s);
            let increasing = if rows.is_empty() {
                row.time_s >= 0.0
            } else {
                row.time_s > previous_s
            };
            if !increasing || !row.time_s.is_finite() {
                let message = format!(
                    "{TIME_COLUMN}: {}: times must be finite, at least 0 and increasing",
                    row.time_s
                );
                return Err(csv.error(line.line, message));
            }
            rows.push(IntervalRow {
                width_s: row.time_s - previous_s,
                ..row
            });
        }
        Ok(TimeSeries { layout, rows })
    }
}

/// One row's cells as an `IntervalRow` (with `width_s` 0).
fn read_row(csv: &CsvFile, layout: &Layout, line: &Row) -> Result<IntervalRow, ReadError> {
    let has_rate = csv.header.last().map(String::as_str) == Some(COST_RATE_COLUMN);
    let mut col = 0;
    let mut cell = |read: &mut dyn FnMut(&str) -> Result<(), &'static str>| {
        let at = col;
        col += 1;
        read(&line.cells[at]).map_err(|expected| {
            let message = format!(
                "column {}: not {expected}: {:?}",
                csv.header[at], line.cells[at]
            );
            csv.error(line.line, message)
        })
    };
    let mut row = IntervalRow::default();
    cell(&mut |c| parse(&mut row.time_s, c))?;
    for (_, hpa_metrics) in &layout.services {
        let mut s = ServiceInterval::default();
        for column in &SERVICE {
            cell(&mut |c| (column.read)(&mut s, c))?;
        }
        for _ in hpa_metrics {
            let mut value = f64::NAN;
            cell(&mut |c| {
                if c.is_empty() {
                    Ok(())
                } else {
                    parse(&mut value, c)
                }
            })?;
            s.hpa_metrics.push(value);
        }
        row.services.push(s);
    }
    for _ in &layout.jobs {
        let mut j = JobInterval::default();
        for column in &JOB {
            cell(&mut |c| (column.read)(&mut j, c))?;
        }
        row.jobs.push(j);
    }
    for _ in &layout.pools {
        let mut p = PoolInterval::default();
        for column in &POOL {
            cell(&mut |c| (column.read)(&mut p, c))?;
        }
        row.pools.push(p);
    }
    cell(&mut |c| parse(&mut row.cost_usd_cumulative, c))?;
    row.cost_usd_per_hour = f64::NAN;
    if has_rate {
        cell(&mut |c| parse(&mut row.cost_usd_per_hour, c))?;
    }
    Ok(row)
}
