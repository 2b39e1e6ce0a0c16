use std::path::PathBuf;

use super::*;
use crate::engine::rng::stream;

/// Rows from memory, handed over in chunks like the file reader; counts the most it held.
#[derive(Debug)]
struct Rows {
    all: Vec<TraceRow>,
    next: usize,
    rewinds: u32,
}

impl Rows {
    fn boxed(all: Vec<TraceRow>) -> Box<Rows> {
        Box::new(Rows {
            all,
            next: 0,
            rewinds: 0,
        })
    }
}

impl TraceSource for Rows {
    fn refill(&mut self, rows: &mut Vec<TraceRow>) {
        rows.clear();
        let end = (self.next + TRACE_CHUNK).min(self.all.len());
        rows.extend_from_slice(&self.all[self.next..end]);
        self.next = end;
    }

    fn rewind(&mut self) {
        self.rewinds += 1;
        self.next = 0;
    }
}

fn trace(kind: TraceKind, period_ns: u64) -> Trace {
    Trace {
        file: PathBuf::from("memory.csv"),
        kind,
        cost: TraceCost::Drawn,
        time_column: "t".into(),
        value_columns: vec![],
        start: SimDuration::ZERO,
        time_scale: 1.0,
        rate_scale: 1.0,
        looped: false,
        period_ns,
    }
}

fn row(at_ns: u64, value: f64) -> TraceRow {
    TraceRow { at_ns, value }
}

/// Every arrival before `horizon_us`, as (time in microseconds, value).
fn replay(t: &Trace, rows: Vec<TraceRow>, horizon_us: u64) -> Vec<(u64, f64)> {
    let mut r = TraceArrivals::new(t, Rows::boxed(rows));
    let mut rng = stream(1, "arrivals/test");
    let mut out = Vec::new();
    while let Some((at, v)) = r.next_after(&mut rng, SimTime(horizon_us)) {
        out.push((at.0, v));
    }
    out
}

#[test]
fn rows_play_at_their_times_truncated_to_the_microsecond() {
    let t = trace(TraceKind::Requests, 10_000);
    let rows = vec![
        row(0, 5.0),
        row(1_999, 6.0),
        row(2_000, 7.0),
        row(9_000, 8.0),
    ];
    let got = replay(&t, rows, 1_000);
    assert_eq!(got, vec![(0, 5.0), (1, 6.0), (2, 7.0), (9, 8.0)]);
    // The horizon stops the replay.
    let rows = vec![row(0, 1.0), row(5_000, 1.0), row(20_000, 1.0)];
    assert_eq!(replay(&t, rows, 10).len(), 2);
}

#[test]
fn start_and_time_scale_move_and_compress_the_trace() {
    let mut t = trace(TraceKind::Requests, 100_000_000);
    t.start = SimDuration(500);
    t.time_scale = 4.0;
    let rows = vec![row(0, 0.0), row(4_000_000, 0.0), row(40_000_000, 0.0)];
    let times: Vec<u64> = replay(&t, rows, u64::MAX).iter().map(|a| a.0).collect();
    assert_eq!(times, vec![500, 1_500, 10_500]);
}

#[test]
fn whole_rate_scale_spreads_copies_over_the_gap() {
    let mut t = trace(TraceKind::Requests, 100_000);
    t.rate_scale = 3.0;
    let rows = vec![row(0, 1.0), row(30_000, 2.0), row(60_000, 3.0)];
    let got = replay(&t, rows, u64::MAX);
    // Copies at 0, 10, 20 us; 30, 40, 50 us; the last row's three at its own time.
    let times: Vec<u64> = got.iter().map(|a| a.0).collect();
    assert_eq!(times, vec![0, 10, 20, 30, 40, 50, 60, 60, 60]);
    assert_eq!(got.iter().filter(|a| a.1 == 2.0).count(), 3);
}

#[test]
fn fractional_rate_scale_thins_with_the_arrival_stream() {
    let n = 20_000u64;
    let rows: Vec<TraceRow> = (0..n).map(|i| row(i * 1_000_000, 1.0)).collect();
    for scale in [0.25, 1.5] {
        let mut t = trace(TraceKind::Requests, n * 1_000_000);
        t.rate_scale = scale;
        let got = replay(&t, rows.clone(), u64::MAX).len() as f64;
        let expected = scale * n as f64;
        // Binomial: sd = sqrt(n f (1 - f)) <= 71; 5 sd.
        assert!((got - expected).abs() < 360.0, "{scale}: {got}");
        // Deterministic: the same stream gives the same replay.
        assert_eq!(replay(&t, rows.clone(), u64::MAX).len() as f64, got);
    }
}

#[test]
fn a_looped_trace_restarts_after_its_period() {
    let mut t = trace(TraceKind::Requests, 3_000);
    t.looped = true;
    let rows = vec![row(0, 1.0), row(1_000, 2.0), row(2_000, 3.0)];
    let times: Vec<u64> = replay(&t, rows, 8).iter().map(|a| a.0).collect();
    assert_eq!(times, vec![0, 1, 2, 3, 4, 5, 6, 7, 8]);
}

#[test]
fn buffered_rows_stay_within_one_chunk_however_long_the_trace() {
    // Ten times a chunk and ten times that: the replay holds one chunk either way.
    for chunks in [10u64, 100] {
        let n = chunks * TRACE_CHUNK as u64;
        let rows: Vec<TraceRow> = (0..n).map(|i| row(i * 1_000, 0.0)).collect();
        let t = trace(TraceKind::Requests, n * 1_000);
        let mut r = TraceArrivals::new(&t, Rows::boxed(rows));
        let mut rng = stream(1, "arrivals/test");
        let mut played = 0u64;
        while r.next_after(&mut rng, SimTime(u64::MAX)).is_some() {
            played += 1;
            assert!(r.buffered_rows() <= TRACE_CHUNK);
        }
        assert_eq!(played, n);
    }
}

#[test]
fn a_rate_series_drives_a_piecewise_poisson_process() {
    // 10/s for 1000 s, then 0 for 1000 s, then 50/s for the last step (the mean step, 1000 s).
    let s = 1_000_000_000u64;
    let rows = vec![row(0, 10.0), row(1_000 * s, 0.0), row(2_000 * s, 50.0)];
    let mut t = trace(TraceKind::Rates, 3_000 * s);
    let got = replay(&t, rows.clone(), u64::MAX);
    let count = |from_s: u64, to_s: u64, arrivals: &[(u64, f64)]| {
        arrivals
            .iter()
            .filter(|a| a.0 >= from_s * 1_000_000 && a.0 < to_s * 1_000_000)
            .count() as f64
    };
    // Poisson: sd 100 and 224; 4 sd.
    assert!((count(0, 1_000, &got) - 10_000.0).abs() < 400.0);
    assert_eq!(count(1_000, 2_000, &got), 0.0);
    assert!((count(2_000, 3_000, &got) - 50_000.0).abs() < 900.0);
    assert_eq!(
        count(3_000, u64::MAX / 1_000_000, &got),
        0.0,
        "the series ends"
    );
    // Rate scale 2 and time scale 4: twice the arrivals, in a quarter of the time.
    t.rate_scale = 2.0;
    t.time_scale = 4.0;
    let scaled = replay(&t, rows, u64::MAX);
    assert!((count(0, 250, &scaled) - 20_000.0).abs() < 600.0);
    assert!((count(500, 750, &scaled) - 100_000.0).abs() < 1_300.0);
    assert_eq!(count(750, u64::MAX / 1_000_000, &scaled), 0.0);
}

#[test]
fn row_work_follows_the_inference_model_or_the_seconds() {
    let t = Trace {
        cost: TraceCost::Tokens,
        ..trace(TraceKind::Requests, 1)
    };
    let model = CostModel::Inference(crate::workload::spec::InferenceModel {
        tokens: crate::workload::spec::CountDist::Constant(1.0),
        tokens_per_core_second: 100.0,
        overhead: SimDuration::from_millis(5),
    });
    // 2 cores per worker: 200 tokens/s, 5 ms per token; 4818 tokens: 5 ms + 24.09 s.
    let work = RowWork::new(&t, &model, Millicores(2_000));
    assert_eq!(work.work(4_818.0), Some(SimDuration(24_095_000)));
    assert_eq!(
        work.work(0.0),
        Some(SimDuration(10_000)),
        "at least one token"
    );
    let t = Trace {
        cost: TraceCost::ServiceTimeS,
        ..t
    };
    let seconds = RowWork::new(&t, &model, Millicores(2_000));
    assert_eq!(seconds.work(0.25), Some(SimDuration(250_000)));
    let drawn = RowWork::new(&trace(TraceKind::Requests, 1), &model, Millicores(1));
    assert_eq!(drawn.work(3.0), None);
}

#[test]
fn a_looped_rate_series_is_silent_before_its_first_row_in_every_pass() {
    // Rows at 100 s and 200 s: 1/s in [100, 200), 5/s in [200, 300), the period being 300 s;
    // nothing in [0, 100) of each pass.
    let s = 1_000_000_000u64;
    let mut t = trace(TraceKind::Rates, 300 * s);
    t.looped = true;
    let got = replay(&t, vec![row(100 * s, 1.0), row(200 * s, 5.0)], 900_000_000);
    for pass in 0..3u64 {
        let base = pass * 300_000_000;
        let within = |from: u64, to: u64| {
            got.iter()
                .filter(|a| a.0 >= base + from * 1_000_000 && a.0 < base + to * 1_000_000)
                .count() as f64
        };
        assert_eq!(within(0, 100), 0.0, "pass {pass}");
        // Poisson means 100 and 500: 5 sd.
        assert!((within(100, 200) - 100.0).abs() < 50.0, "pass {pass}");
        assert!((within(200, 300) - 500.0).abs() < 112.0, "pass {pass}");
    }
}
