use std::path::PathBuf;

use super::*;
use crate::scenario::trace::tests::TempFile;

/// The hand-written pod list in Alibaba's `openb_pod_list` layout.
fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/pods")
        .join(name)
}

/// The options with every key left to its default: Alibaba's column names.
fn alibaba() -> PodTraceOptions {
    PodTraceOptions {
        columns: PodColumns {
            time: "creation_time".into(),
            run: RunColumns::Times {
                end: "deletion_time".into(),
                scheduled: Column {
                    name: "scheduled_time".into(),
                    required: false,
                },
            },
            cpu: "cpu_milli".into(),
            memory: "memory_mib".into(),
            gpu: Column {
                name: "num_gpu".into(),
                required: false,
            },
        },
        start: SimDuration::ZERO,
        time_scale: 1.0,
        until: SimDuration::from_secs(86_400),
        gpu_slot: 1,
    }
}

fn read_ok(path: &Path, options: &PodTraceOptions) -> PodTrace {
    match read(path, options) {
        Ok(Ok(trace)) => trace,
        Ok(Err(e)) => panic!("{e}"),
        Err(e) => panic!("{e}"),
    }
}

/// The error reading `text` as the file `name` gives (each test its own name: tests run at once).
fn read_err(name: &str, text: &str, options: &PodTraceOptions) -> String {
    let file = TempFile::new(name, text.as_bytes());
    match read(&file.path, options) {
        Ok(Ok(trace)) => panic!("accepted: {trace:?}"),
        Ok(Err(e)) => e.to_string(),
        Err(e) => e,
    }
}

#[test]
fn the_alibaba_layout_reads_with_no_keys_sorted_by_creation() {
    let trace = read_ok(&sample("alibaba-sample.csv"), &alibaba());
    let lines: Vec<u32> = trace.pods.iter().map(|p| p.line).collect();
    // Created at 0, 60, 60 (file order kept), 120, 300, 600, 900, 1800, 2400, 3000.
    assert_eq!(lines, [3, 5, 7, 2, 4, 6, 8, 9, 11, 10]);
    assert_eq!(trace.gpu_pods, 6);
    assert_eq!(trace.dropped, 0);
    let by_line = |line: u32| trace.pods.iter().find(|p| p.line == line).copied();
    let first = by_line(2).unwrap_or_else(|| panic!("line 2"));
    assert_eq!(first.created_at, SimDuration::from_secs(120));
    // Scheduled at 150, deleted at 3720.
    assert_eq!(first.run_time, Some(SimDuration::from_secs(3_570)));
    assert_eq!(first.requests.cpu, Millicores(8_000));
    assert_eq!(first.requests.memory, Bytes(16 * Bytes::GIB));
    assert_eq!(first.requests.extended.0, [0, 1, 0, 0], "GPUs in slot 1");
}

#[test]
fn run_times_follow_the_scheduled_time_when_valid() {
    let trace = read_ok(&sample("alibaba-sample.csv"), &alibaba());
    let run = |line: u32| {
        let pod = trace.pods.iter().find(|p| p.line == line);
        pod.unwrap_or_else(|| panic!("line {line}")).run_time
    };
    let secs = |s: u64| Some(SimDuration::from_secs(s));
    assert_eq!(run(4), None, "never deleted: runs to the end");
    assert_eq!(run(6), secs(300), "no scheduled time: from creation");
    assert_eq!(run(7), secs(20), "deleted at 90, scheduled at 70");
    assert_eq!(
        run(8),
        secs(100),
        "never scheduled, deleted 100s after creation"
    );
    // GPU sharing (gpu_milli 500) is one whole GPU.
    let shared = trace.pods.iter().find(|p| p.line == 5);
    assert_eq!(shared.map(|p| p.requests.extended.0[1]), Some(1));
}

#[test]
fn a_gzipped_trace_reads_the_same() {
    let plain = read_ok(&sample("alibaba-sample.csv"), &alibaba());
    let gz = read_ok(&sample("alibaba-sample.csv.gz"), &alibaba());
    assert_eq!(plain, gz);
}

#[test]
fn start_and_time_scale_move_and_squeeze_the_trace_and_late_rows_are_dropped() {
    let options = PodTraceOptions {
        start: SimDuration::from_secs(10),
        time_scale: 60.0,
        until: SimDuration::from_secs(40),
        ..alibaba()
    };
    let trace = read_ok(&sample("alibaba-sample.csv"), &options);
    // 10 + creation/60 < 40 keeps creations before 1800 s: 7 rows.
    assert_eq!(trace.pods.len(), 7);
    assert_eq!(trace.dropped, 3);
    let first = trace.pods.iter().find(|p| p.line == 2);
    assert_eq!(
        first.map(|p| (p.created_at, p.run_time)),
        Some((
            SimDuration::from_secs(12),
            Some(SimDuration::from_secs_f64(59.5))
        ))
    );
}

#[test]
fn a_duration_column_gives_run_times_directly() {
    let text = "t,len,cpu,mem\n5,30,100,64\n1,,200,128\n";
    let file = TempFile::new("pods-durations.csv", text.as_bytes());
    let options = PodTraceOptions {
        columns: PodColumns {
            time: "t".into(),
            run: RunColumns::Duration("len".into()),
            cpu: "cpu".into(),
            memory: "mem".into(),
            gpu: Column {
                name: "num_gpu".into(),
                required: false,
            },
        },
        ..alibaba()
    };
    let trace = read_ok(&file.path, &options);
    let runs: Vec<Option<SimDuration>> = trace.pods.iter().map(|p| p.run_time).collect();
    assert_eq!(runs, [None, Some(SimDuration::from_secs(30))]);
    assert_eq!(trace.gpu_pods, 0);
}

#[test]
fn every_bad_row_is_named_by_line_and_column() {
    let header = "name,cpu_milli,memory_mib,num_gpu,creation_time,deletion_time,scheduled_time\n";
    let text = format!(
        "{header}a,1000,1024,0,0,10,1\nb,abc,1024,0,0,10,1\nc,1000,1024,0,50,10,\nd,1000,1024,-1,0,,\n"
    );
    let message = read_err("pods-bad.csv", &text, &alibaba());
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), 3, "{message}");
    assert!(lines[0].ends_with(
        "pods-bad.csv: line 3: column cpu_milli: \"abc\" is not a number >= 0; expected millicores"
    ));
    assert!(
        lines[1].contains("line 4: column deletion_time: \"10\" is before the pod's creation"),
        "{message}"
    );
    assert!(
        lines[2].contains("line 5: column num_gpu: \"-1\""),
        "{message}"
    );
}

#[test]
fn many_bad_rows_are_listed_up_to_a_cap_then_counted() {
    let mut text = String::from("creation_time,deletion_time,cpu_milli,memory_mib\n");
    for _ in 0..25 {
        text.push_str("x,1,1,1\n");
    }
    let message = read_err("pods-many.csv", &text, &alibaba());
    assert!(message.ends_with("and 15 more bad rows"), "{message}");
}

#[test]
fn a_missing_column_names_the_header() {
    let message = read_err(
        "pods-short.csv",
        "creation_time,cpu_milli\n0,1\n",
        &alibaba(),
    );
    assert_eq!(
        message,
        "line 1: no column \"deletion_time\"; expected one of the header's columns: \
         creation_time, cpu_milli"
    );
    let mut options = alibaba();
    options.columns.gpu.required = true;
    let text = "creation_time,deletion_time,cpu_milli,memory_mib\n0,1,1,1\n";
    assert!(read_err("pods-no-gpu.csv", text, &options).contains("no column \"num_gpu\""));
}
