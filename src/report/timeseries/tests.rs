//! Tests of `timeseries.csv`: what is written reads back to what was written.

use std::path::Path;

use super::*;

fn layout() -> Layout {
    Layout {
        services: vec![
            ("a".into(), vec![]),
            (
                "b-2".into(),
                vec!["cpu_utilization_pct".into(), "requests_per_s".into()],
            ),
        ],
        jobs: vec!["etl".into()],
        pools: vec!["p".into(), "q-1".into()],
    }
}

fn row(time_s: f64, width_s: f64) -> IntervalRow {
    let service = |k: f64, hpa_metrics: Vec<f64>| ServiceInterval {
        arrivals_per_s: 12.5 * k,
        completed: 700 * k as u64,
        rejected: 3,
        timed_out: 1,
        oom_killed: 4,
        ready: 2,
        desired: 3,
        pending: 1,
        latency_p50_ms: Some(1.25),
        latency_p99_ms: Some(40.125 * k),
        cpu_used_cores: 0.75,
        cpu_requested_cores: 2.0,
        hpa_metrics,
    };
    IntervalRow {
        time_s,
        width_s,
        services: vec![service(1.0, vec![]), service(2.0, vec![f64::NAN, 71.5])],
        jobs: vec![JobInterval {
            running: 5,
            pending: 2,
            completed: 7,
            cpu_requested_cores: 2.5,
        }],
        pools: vec![
            PoolInterval {
                nodes: 3,
                nodes_ready: 2,
                cpu_requested_pct: 12.5,
            },
            PoolInterval::default(),
        ],
        cost_usd_cumulative: 0.125 * time_s / 60.0,
        cost_usd_per_hour: 7.5,
    }
}

#[test]
fn the_columns_are_named_by_owner_then_column() {
    let layout = Layout {
        services: vec![("web".into(), vec!["cpu_utilization_pct".into()])],
        jobs: vec!["etl".into()],
        pools: vec!["p".into()],
    };
    assert_eq!(
        csv_header(&layout),
        "time_s,web.arrivals_per_s,web.completed,web.rejected,web.timed_out,web.oom_killed,\
         web.ready_replicas,web.desired_replicas,web.pending_pods,web.latency_p50_ms,\
         web.latency_p99_ms,web.cpu_used_cores,web.cpu_requested_cores,\
         web.hpa.cpu_utilization_pct,etl.running_pods,etl.pending_pods,etl.completed_pods,\
         etl.cpu_requested_cores,p.nodes,p.nodes_ready,p.cpu_requested_pct,\
         cost_usd_cumulative,cost_usd_per_hour\n"
    );
}

#[test]
fn a_header_reads_back_to_its_layout() {
    for layout in [layout(), Layout::default()] {
        assert_eq!(Layout::from_columns(&layout.columns()), Ok(layout));
    }
}

#[test]
fn header_and_line_have_the_same_number_of_columns() {
    let header = csv_header(&layout());
    let mut line = String::new();
    csv_line(&row(60.0, 60.0), &mut line);
    assert_eq!(header.split(',').count(), line.split(',').count());
    assert_eq!(
        header.split(',').count(),
        1 + 2 * SERVICE.len() + 2 + JOB.len() + 2 * POOL.len() + 2
    );
    assert!(
        line.starts_with("60,12.5,700,3,1,4,2,3,1,1.25,40.125,0.75,2,"),
        "{line}"
    );
    // An HPA without a value is an empty cell; the job columns follow the services'.
    assert!(
        line.contains(",2,,71.5,5,2,7,2.5,3,2,12.5,0,0,0,0.125,7.5\n"),
        "{line}"
    );
}

/// `row`, with service `b-2` having completed nothing: its latencies do not exist.
fn row_without_completions(time_s: f64, width_s: f64) -> IntervalRow {
    let mut row = row(time_s, width_s);
    let b = &mut row.services[1];
    (b.completed, b.latency_p50_ms, b.latency_p99_ms) = (0, None, None);
    row
}

#[test]
fn latencies_over_no_completed_request_are_empty_cells_not_zeros() {
    let mut line = String::new();
    csv_line(&row_without_completions(60.0, 60.0), &mut line);
    // b-2: 0 completed, then empty p50 and p99 cells before its CPU.
    assert!(line.contains(",25,0,3,1,4,2,3,1,,,0.75,2,,71.5,"), "{line}");
    let mut text = csv_header(&layout());
    text.push_str(&line);
    let read = TimeSeries::parse(Path::new("t.csv"), &text).unwrap_or_else(|e| panic!("{e}"));
    let b = &read.rows[0].services[1];
    assert_eq!((b.latency_p50_ms, b.latency_p99_ms), (None, None));
    assert_eq!(read.rows[0].services[0].latency_p99_ms, Some(40.125));
}

#[test]
fn rows_written_read_back_to_the_same_rows() {
    let rows = vec![
        row(60.0, 60.0),
        row_without_completions(120.0, 60.0),
        row(150.0, 30.0),
    ];
    let mut text = csv_header(&layout());
    for r in &rows {
        csv_line(r, &mut text);
    }
    let read = TimeSeries::parse(Path::new("t.csv"), &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.layout, layout());
    assert_eq!(read.rows.len(), rows.len());
    for (read, written) in read.rows.iter().zip(&rows) {
        // NaN is not equal to itself: compare the HPA values apart.
        let hpa = |r: &IntervalRow| -> Vec<String> {
            r.services
                .iter()
                .flat_map(|s| s.hpa_metrics.iter().map(|v| v.to_string()))
                .collect()
        };
        assert_eq!(hpa(read), hpa(written));
        let without_hpa = |r: &IntervalRow| {
            let mut r = r.clone();
            r.services.iter_mut().for_each(|s| s.hpa_metrics.clear());
            r
        };
        assert_eq!(without_hpa(read), without_hpa(written));
    }
}

#[test]
fn bad_files_name_the_line_and_column() {
    let header = csv_header(&layout());
    let mut good = header.clone();
    csv_line(&row(60.0, 60.0), &mut good);
    csv_line(&row(120.0, 60.0), &mut good);
    let error = |text: &str| {
        TimeSeries::parse(Path::new("t.csv"), text)
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        error(&good.replacen("time_s", "t", 1)),
        "t.csv: line 1: column 1: expected time_s, found t"
    );
    assert_eq!(
        error(&good.replacen("a.rejected", "a.refused", 1)),
        "t.csv: line 1: column 4: expected a.rejected, found a.refused"
    );
    assert_eq!(
        error(&header.replacen(",cost_usd_cumulative,cost_usd_per_hour", "", 1)),
        "t.csv: line 1: the header ends after 37 columns; expected cost_usd_cumulative next"
    );
    assert_eq!(
        error(&header.replacen("\n", ",extra\n", 1)),
        "t.csv: line 1: column 40: \"extra\" after cost_usd_per_hour, which is the last column"
    );
    assert_eq!(
        error(&header.replacen(",cost_usd_per_hour\n", ",extra\n", 1)),
        "t.csv: line 1: column 39: \"extra\" after cost_usd_cumulative, which is the last column"
    );
    assert_eq!(
        error(&good.replacen("\n60,12.5,", "\n60,abc,", 1)),
        "t.csv: line 2: column a.arrivals_per_s: not a number: \"abc\""
    );
    assert_eq!(
        error(&good.replacen("\n60,12.5,700,", "\n60,12.5,7.5,", 1)),
        "t.csv: line 2: column a.completed: not a whole number: \"7.5\""
    );
    assert_eq!(
        error(&good.replacen("\n120,", "\n30,", 1)),
        "t.csv: line 3: time_s: 30: times must be finite, at least 0 and increasing"
    );
}

#[test]
fn rounding_drops_negative_zero() {
    assert_eq!(round(-0.00001, 3).to_string(), "0");
    assert_eq!(round(2.0005, 3), 2.001);
}

#[test]
fn a_file_written_without_the_cost_rate_reads_with_it_missing() {
    let mut text = csv_header(&layout()).replacen(",cost_usd_per_hour", "", 1);
    let mut line = String::new();
    csv_line(&row(60.0, 60.0), &mut line);
    text.push_str(line.replacen(",7.5\n", "\n", 1).as_str());
    let read = TimeSeries::parse(Path::new("t.csv"), &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.layout, layout());
    assert_eq!(read.rows[0].cost_usd_cumulative, 0.125);
    assert!(read.rows[0].cost_usd_per_hour.is_nan());
}
