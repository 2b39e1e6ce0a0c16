//! Trace files: the CSV (or gzip-compressed CSV) behind `load.arrivals.trace`, checked in full
//! at load (`scan`) and streamed by every run (`open`).
//!
//! A row's time is either a number of seconds from the trace's start (used as is) or a
//! date-time `YYYY-MM-DD HH:MM:SS[.fraction]` (also with `T` between date and time, and an
//! optional trailing `Z`), read as UTC without a timezone database and shifted so that the
//! first row is at 0. The first row decides which; rows must not go back in time. Value
//! columns hold non-negative numbers.
//!
//! **Invariant:** a file `scan` accepted streams without error; if it is changed between the
//! load and a run, the run stops with a panic naming the file and line.

use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::scenario::error::Error;
use crate::scenario::yaml_text;
use crate::workload::spec::Trace;
use crate::workload::trace::{TRACE_CHUNK, TraceRow, TraceSource};

/// Bad rows listed in one error; the rest are counted.
const MAX_PROBLEMS: usize = 10;

/// What `scan` found in a valid trace file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scan {
    /// Data rows.
    pub(crate) rows: u64,
    /// The first and last rows' times, in nanoseconds from the trace's origin.
    pub(crate) first_ns: u64,
    /// See `first_ns`.
    pub(crate) last_ns: u64,
    /// Sum over rows of the value columns' sum.
    pub(crate) value_sum: f64,
}

/// How the time column is written: decided by the first row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clock {
    /// Seconds from the trace's start.
    Seconds,
    /// Date-times; the first row's instant (nanoseconds since 1970) is the origin.
    DateTime { origin_ns: i64 },
}

/// The columns a trace reads, by index.
#[derive(Debug, Clone)]
struct Columns {
    time: usize,
    values: Vec<usize>,
    names: Vec<String>,
}

/// A row that cannot be read: the column and the message.
type RowProblem = String;

/// Opens `path` for reading, decompressing it when its name ends in `.gz`: a regular file only
/// (`yaml_text::open_regular`).
fn open_file(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    let file = BufReader::new(yaml_text::open_regular(path)?.0);
    if path.extension().is_some_and(|e| e == "gz") {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(file)))
    } else {
        Ok(Box::new(file))
    }
}

/// A CSV reader over `path` with its header read.
pub(crate) fn csv_reader(path: &Path) -> io::Result<csv::Reader<Box<dyn Read + Send>>> {
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(open_file(path)?))
}

/// Finds the trace's columns in the header; the missing one is named with the header's.
fn find_columns(
    header: &csv::StringRecord,
    time: &str,
    values: &[String],
) -> Result<Columns, String> {
    let find = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| {
            let names: Vec<&str> = header.iter().collect();
            format!(
                "line 1: no column \"{name}\"; expected one of the header's columns: {}",
                names.join(", ")
            )
        })
    };
    let time_index = find(time)?;
    let indexes = values
        .iter()
        .map(|v| find(v))
        .collect::<Result<Vec<_>, _>>()?;
    let mut names = vec![time.to_string()];
    names.extend(values.iter().cloned());
    Ok(Columns {
        time: time_index,
        values: indexes,
        names,
    })
}

/// Reads one record: its time in nanoseconds (since 1970 or from the start) and the sum of its
/// value columns; `clock` is decided by the first row.
fn parse_record(
    record: &csv::StringRecord,
    columns: &Columns,
    clock: &mut Option<Clock>,
) -> Result<(i64, f64), RowProblem> {
    let text = record.get(columns.time).unwrap_or_default();
    let name = &columns.names[0];
    let at_ns = match *clock {
        Some(Clock::Seconds) => seconds_ns(text).ok_or_else(|| {
            format!(
                "column {name}: \"{text}\" is not a number of seconds; expected seconds >= 0 \
                 from the trace's start, like the first row"
            )
        })?,
        Some(Clock::DateTime { .. }) => date_time_ns(text).ok_or_else(|| {
            format!(
                "column {name}: \"{text}\" is not a date-time; expected YYYY-MM-DD \
                 HH:MM:SS[.fraction] (UTC, optional T and Z), like the first row"
            )
        })?,
        None => {
            if let Some(ns) = seconds_ns(text) {
                *clock = Some(Clock::Seconds);
                ns
            } else if let Some(ns) = date_time_ns(text) {
                *clock = Some(Clock::DateTime { origin_ns: ns });
                ns
            } else {
                return Err(format!(
                    "column {name}: \"{text}\" is not a time; expected seconds >= 0 from the \
                     trace's start or a date-time YYYY-MM-DD HH:MM:SS[.fraction]"
                ));
            }
        }
    };
    let mut value = 0.0;
    for (&index, name) in columns.values.iter().zip(&columns.names[1..]) {
        let text = record.get(index).unwrap_or_default();
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => value += v,
            _ => {
                return Err(format!(
                    "column {name}: \"{text}\" is not a number >= 0; expected a count, \
                     seconds or a rate per second"
                ));
            }
        }
    }
    Ok((at_ns, value))
}

/// Nanoseconds from the origin of a row at `at_ns` under `clock`.
fn from_origin(at_ns: i64, clock: Option<Clock>) -> i64 {
    match clock {
        Some(Clock::DateTime { origin_ns }) => at_ns - origin_ns,
        _ => at_ns,
    }
}

/// Seconds (a plain non-negative number) as nanoseconds.
fn seconds_ns(text: &str) -> Option<i64> {
    let s: f64 = text.parse().ok()?;
    (0.0..9.2e9).contains(&s).then(|| (s * 1e9).round() as i64)
}

/// A date-time `YYYY-MM-DD HH:MM:SS[.fraction][Z]` (or with `T`) as nanoseconds since
/// 1970-01-01 UTC; fractions past nanoseconds are cut.
fn date_time_ns(text: &str) -> Option<i64> {
    let text = text.strip_suffix('Z').unwrap_or(text);
    let b = text.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b' ' | b'T') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let days_in_month = [
        31,
        28 + i64::from(leap(year)),
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let month_ok = (1..=12).contains(&month);
    if !month_ok || day < 1 || day > days_in_month[(month - 1) as usize] {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let fraction_ns = match &text[19..] {
        "" => 0,
        rest => {
            let digits = rest.strip_prefix('.')?;
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let nine: String = digits.chars().chain("000000000".chars()).take(9).collect();
            nine.parse::<i64>().ok()?
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second;
    Some(seconds * 1_000_000_000 + fraction_ns)
}

fn leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// What a scan has found so far.
struct Scanner<'a> {
    columns: Columns,
    time_column: &'a str,
    clock: Option<Clock>,
    previous: Option<i64>,
    scan: Scan,
}

impl Scanner<'_> {
    /// Takes in one record read at `line`: counted, or `Err(line N: problem)`.
    fn record(&mut self, record: &csv::StringRecord, line: u64) -> Result<(), String> {
        let problem = match parse_record(record, &self.columns, &mut self.clock) {
            Err(p) => p,
            Ok((at, _)) if self.previous.is_some_and(|p| at < p) => format!(
                "column {}: \"{}\" is before the previous row's time; expected rows sorted \
                 by time (sort the file first)",
                self.time_column,
                record.get(self.columns.time).unwrap_or_default()
            ),
            Ok((at, value)) => {
                self.previous = Some(at);
                let from = from_origin(at, self.clock).max(0) as u64;
                if self.scan.rows == 0 {
                    self.scan.first_ns = from;
                }
                self.scan.rows += 1;
                self.scan.last_ns = from;
                self.scan.value_sum += value;
                return Ok(());
            }
        };
        Err(format!("line {line}: {problem}"))
    }
}

/// The bad rows of a file being read: the first `MAX_PROBLEMS` listed, the rest counted.
#[derive(Debug, Default)]
pub(crate) struct RowProblems {
    listed: Vec<String>,
    bad: usize,
}

impl RowProblems {
    /// One more bad row: `line N: column NAME: what is wrong; what is allowed`.
    pub(crate) fn push(&mut self, problem: String) {
        self.bad += 1;
        if self.listed.len() < MAX_PROBLEMS {
            self.listed.push(problem);
        }
    }

    /// The `Error::Trace` naming `path` that lists them, when there are any.
    pub(crate) fn into_error(self, path: &Path) -> Option<Error> {
        (self.bad > 0).then(|| Error::Trace {
            file: path.display().to_string(),
            more: self.bad - self.listed.len(),
            problems: self.listed,
        })
    }
}

/// Reads every record of `reader` after its header, handing each to `record` with its line
/// number and each malformed one to `problems`; stops at an I/O error.
pub(crate) fn for_each_record(
    reader: &mut csv::Reader<Box<dyn Read + Send>>,
    problems: &mut RowProblems,
    mut record: impl FnMut(&csv::StringRecord, u64, &mut RowProblems),
) {
    let mut row = csv::StringRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {
                let line = row.position().map_or(line, csv::Position::line);
                record(&row, line, problems);
            }
            Err(e) => {
                let at = line_of(&e).unwrap_or(line);
                problems.push(format!("line {at}: {}", csv_problem(&e)));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
}

/// Reads the whole trace at `path` once, checking every row: the time parses, never goes back,
/// and each value column holds a number >= 0.
///
/// # Errors
/// `Err(message)` when the file cannot be opened or lacks a column (one line, for the caller
/// to place at the YAML path); `Ok(Err(Error::Trace))` listing the bad rows.
pub(crate) fn scan(
    path: &Path,
    time_column: &str,
    value_columns: &[String],
) -> Result<Result<Scan, Error>, String> {
    let mut reader = csv_reader(path).map_err(|e| format!("cannot read it: {e}"))?;
    let header = reader
        .headers()
        .map_err(|e| format!("cannot read its header: {e}"))?
        .clone();
    let mut scanner = Scanner {
        columns: find_columns(&header, time_column, value_columns)?,
        time_column,
        clock: None,
        previous: None,
        scan: Scan {
            rows: 0,
            first_ns: 0,
            last_ns: 0,
            value_sum: 0.0,
        },
    };
    let mut problems = RowProblems::default();
    for_each_record(&mut reader, &mut problems, |record, line, problems| {
        if let Err(problem) = scanner.record(record, line) {
            problems.push(problem);
        }
    });
    match problems.into_error(path) {
        Some(error) => Ok(Err(error)),
        None => Ok(Ok(scanner.scan)),
    }
}

/// The line a CSV error is at, when it says.
fn line_of(e: &csv::Error) -> Option<u64> {
    e.position().map(csv::Position::line)
}

/// A CSV error in the trace's words.
fn csv_problem(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "{len} fields, not {expected_len} as in the header; expected one value per column"
        ),
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text; expected a UTF-8 CSV file".to_string(),
        csv::ErrorKind::Io(e) => {
            format!("cannot be read ({e}); expected a readable CSV or CSV.gz file")
        }
        _ => format!("{e}; expected a CSV row"),
    }
}

/// A trace file being streamed by one run.
pub(crate) struct CsvTrace {
    file: PathBuf,
    columns: Columns,
    clock: Option<Clock>,
    reader: csv::Reader<Box<dyn Read + Send>>,
    record: csv::StringRecord,
}

impl std::fmt::Debug for CsvTrace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvTrace")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl CsvTrace {
    fn new(trace: &Trace) -> CsvTrace {
        let (reader, columns) = Self::start(trace);
        CsvTrace {
            file: trace.file.clone(),
            columns,
            clock: None,
            reader,
            record: csv::StringRecord::new(),
        }
    }

    /// A reader at the first row and the columns, or a panic: the file was valid at load.
    fn start(trace: &Trace) -> (csv::Reader<Box<dyn Read + Send>>, Columns) {
        let changed = |e: String| -> ! {
            panic!(
                "{}: the trace file changed since the scenario was loaded: {e}",
                trace.file.display()
            )
        };
        let mut reader = csv_reader(&trace.file).unwrap_or_else(|e| changed(e.to_string()));
        let header = reader
            .headers()
            .unwrap_or_else(|e| changed(e.to_string()))
            .clone();
        let columns = find_columns(&header, &trace.time_column, &trace.value_columns)
            .unwrap_or_else(|e| changed(e));
        (reader, columns)
    }
}

impl TraceSource for CsvTrace {
    fn refill(&mut self, rows: &mut Vec<TraceRow>) {
        rows.clear();
        while rows.len() < TRACE_CHUNK {
            let more = self.reader.read_record(&mut self.record);
            let parsed = match more {
                Ok(false) => break,
                Ok(true) => parse_record(&self.record, &self.columns, &mut self.clock),
                Err(e) => Err(csv_problem(&e)),
            };
            match parsed {
                Ok((at, value)) => rows.push(TraceRow {
                    at_ns: from_origin(at, self.clock).max(0) as u64,
                    value,
                }),
                Err(p) => panic!(
                    "{}: the trace file changed since the scenario was loaded: line {}: {p}",
                    self.file.display(),
                    self.reader.position().line()
                ),
            }
        }
    }

    fn rewind(&mut self) {
        let trace_file = self.file.clone();
        let mut reader = csv_reader(&trace_file).unwrap_or_else(|e| {
            panic!(
                "{}: the trace file changed since the scenario was loaded: {e}",
                trace_file.display()
            )
        });
        // The header was checked when the run started.
        let _ = reader.headers();
        self.reader = reader;
    }
}

/// A reader of `trace`'s file positioned at its first row, for one run.
///
/// # Panics
/// If the file no longer reads as it did when the scenario was loaded.
pub fn open(trace: &Trace) -> Box<dyn TraceSource> {
    Box::new(CsvTrace::new(trace))
}

#[cfg(test)]
#[path = "trace_tests.rs"]
pub(crate) mod tests;
