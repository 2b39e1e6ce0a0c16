use std::io::Write;

use super::*;
use crate::units::SimDuration;
use crate::workload::spec::{TraceCost, TraceKind};

/// A file in a fresh folder of the temporary directory, removed with it.
pub(crate) struct TempFile {
    dir: PathBuf,
    /// The file.
    pub(crate) path: PathBuf,
}

impl TempFile {
    /// Writes `bytes` to a file `name` of its own folder.
    pub(crate) fn new(name: &str, bytes: &[u8]) -> TempFile {
        let dir = std::env::temp_dir().join(format!("capsim-trace-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
        TempFile { dir, path }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn trace_of(path: &Path, values: &[&str]) -> Trace {
    Trace {
        file: path.to_path_buf(),
        kind: TraceKind::Requests,
        cost: TraceCost::Tokens,
        time_column: "TIMESTAMP".into(),
        value_columns: values.iter().map(|v| v.to_string()).collect(),
        start: SimDuration::ZERO,
        time_scale: 1.0,
        rate_scale: 1.0,
        looped: false,
        period_ns: 1,
    }
}

fn scan_ok(path: &Path, values: &[&str]) -> Scan {
    let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    match scan(path, "TIMESTAMP", &values) {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => panic!("{e}"),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn date_times_read_as_utc_nanoseconds() {
    let epoch = date_time_ns("1970-01-01 00:00:00").expect("a date-time");
    assert_eq!(epoch, 0);
    // 2023-11-16 is day 19677 since 1970-01-01.
    let azure = date_time_ns("2023-11-16 18:17:03.9799600").expect("a date-time");
    assert_eq!(
        azure,
        ((19_677 * 86_400 + 18 * 3_600 + 17 * 60 + 3) * 1_000_000_000) + 979_960_000
    );
    assert_eq!(date_time_ns("2023-11-16T18:17:03.97996Z"), Some(azure));
    assert_eq!(
        date_time_ns("2024-02-29 00:00:00").map(|ns| ns / 86_400_000_000_000),
        Some(19_782)
    );
    for bad in [
        "2023-02-29 00:00:00",
        "2023-11-16",
        "2023-11-16 25:00:00",
        "16/11/2023 10:00:00",
        "2023-11-16 10:00:00.",
        "2023-11-16 10:00:00+01:00",
    ] {
        assert_eq!(date_time_ns(bad), None, "{bad}");
    }
    assert_eq!(seconds_ns("1.5"), Some(1_500_000_000));
    assert_eq!(seconds_ns("-1"), None);
}

#[test]
fn a_valid_file_scans_to_its_rows_span_and_values() {
    let file = TempFile::new(
        "ok.csv",
        b"TIMESTAMP,ContextTokens,GeneratedTokens\n\
          2023-11-16 18:17:03.9799600,4808,10\n\
          2023-11-16 18:17:04.0319600,3180,8\n\
          2023-11-16 18:18:04.0319600,100,2\n",
    );
    let found = scan_ok(&file.path, &["ContextTokens", "GeneratedTokens"]);
    assert_eq!(found.rows, 3);
    assert_eq!(found.first_ns, 0);
    assert_eq!(found.last_ns, 60_052_000_000);
    assert_eq!(found.value_sum, 4_818.0 + 3_188.0 + 102.0);
    // The reader gives the same rows, from the origin.
    let mut reader = open(&trace_of(&file.path, &["ContextTokens", "GeneratedTokens"]));
    let mut rows = Vec::new();
    reader.refill(&mut rows);
    let at: Vec<u64> = rows.iter().map(|r| r.at_ns).collect();
    assert_eq!(at, vec![0, 52_000_000, 60_052_000_000]);
    assert_eq!(rows[0].value, 4_818.0);
    reader.refill(&mut rows);
    assert!(rows.is_empty(), "the end");
    reader.rewind();
    reader.refill(&mut rows);
    assert_eq!(rows.len(), 3, "rewound");
}

#[test]
fn bad_rows_are_listed_with_file_line_and_column() {
    let file = TempFile::new(
        "bad.csv",
        b"TIMESTAMP,Tokens\n0.5,10\n1.0,ten\nsoon,3\n0.3,4\n2.0\n3.0,-1\n",
    );
    let values = vec!["Tokens".to_string()];
    let Ok(Err(e)) = scan(&file.path, "TIMESTAMP", &values) else {
        panic!("the file has bad rows");
    };
    let text = e.to_string();
    let lines: Vec<&str> = text.lines().collect();
    let name = file.path.display().to_string();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with(&format!("{name}: line "))),
        "{text}"
    );
    assert!(
        lines[0].contains("line 3: column Tokens: \"ten\" is not a number >= 0;"),
        "{text}"
    );
    assert!(
        lines[1].contains("line 4: column TIMESTAMP: \"soon\" is not a number of seconds;"),
        "{text}"
    );
    assert!(
        lines[2].contains("line 5: column TIMESTAMP: \"0.3\" is before the previous row's time;"),
        "{text}"
    );
    assert!(
        lines[3].contains("line 6: 1 fields, not 2 as in the header;"),
        "{text}"
    );
    assert!(
        lines[4].contains("line 7: column Tokens: \"-1\" is not a number >= 0;"),
        "{text}"
    );
    // A missing column names the header's.
    let Err(problem) = scan(&file.path, "time", &values) else {
        panic!("no column time");
    };
    assert!(
        problem.contains(
            "no column \"time\"; expected one of the header's columns: TIMESTAMP, Tokens"
        ),
        "{problem}"
    );
}

#[test]
fn many_bad_rows_are_capped_and_counted() {
    let mut text = String::from("t\n");
    for _ in 0..25 {
        text.push_str("x\n");
    }
    let file = TempFile::new("many.csv", text.as_bytes());
    let Ok(Err(e)) = scan(&file.path, "t", &[]) else {
        panic!("the file has bad rows");
    };
    let message = e.to_string();
    assert_eq!(message.lines().count(), MAX_PROBLEMS + 1);
    assert!(message.ends_with("and 15 more bad rows"), "{message}");
}

#[test]
fn gzip_files_read_like_plain_ones() {
    let plain = b"t,v\n0,1\n1.5,2\n3,3\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(plain).unwrap_or_else(|e| panic!("{e}"));
    let bytes = gz.finish().unwrap_or_else(|e| panic!("{e}"));
    let file = TempFile::new("trace.csv.gz", &bytes);
    let values = vec!["v".to_string()];
    let Ok(Ok(found)) = scan(&file.path, "t", &values) else {
        panic!("a valid gzip trace");
    };
    assert_eq!(
        (found.rows, found.last_ns, found.value_sum),
        (3, 3_000_000_000, 6.0)
    );
}

#[test]
fn the_reader_holds_one_chunk_of_a_long_file() {
    let mut text = String::from("t\n");
    let n = 10 * TRACE_CHUNK + 7;
    for i in 0..n {
        text.push_str(&format!("{i}\n"));
    }
    let file = TempFile::new("long.csv", text.as_bytes());
    let mut trace = trace_of(&file.path, &[]);
    trace.time_column = "t".into();
    let mut reader = open(&trace);
    let mut rows = Vec::with_capacity(TRACE_CHUNK);
    let mut total = 0;
    loop {
        reader.refill(&mut rows);
        if rows.is_empty() {
            break;
        }
        assert!(rows.len() <= TRACE_CHUNK && rows.capacity() == TRACE_CHUNK);
        assert_eq!(rows[0].at_ns, total as u64 * 1_000_000_000);
        total += rows.len();
    }
    assert_eq!(total, n);
}
