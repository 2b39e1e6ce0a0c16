//! Tests of whole folders: run fixtures written by hand into a temporary folder,
//! plotted, and the chart files checked (PNG signature and size, SVG text); bad files give a
//! `PlotError` that names the file and line.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// A fresh folder under the system's temporary directory, removed when dropped unless
/// `CAPSIM_KEEP_PLOTS` is set (to look at the charts).
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("capsim-plot-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, file: &str, text: &str) {
        std::fs::write(self.0.join(file), text).unwrap();
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("CAPSIM_KEEP_PLOTS").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A time series of `rows` one-minute intervals for `services` and `pools`, as capsim writes
/// it: the first service has one HPA column, empty until its first sync; the last service's
/// p99 spans three decades and is 0 (no completion) now and then.
fn timeseries(rows: usize, services: &[&str], pools: &[&str]) -> String {
    let mut out = String::from("time_s");
    for (i, s) in services.iter().enumerate() {
        for c in crate::report::timeseries::SERVICE_COLUMNS {
            write!(out, ",{s}.{c}").unwrap();
        }
        if i == 0 {
            write!(out, ",{s}.hpa.cpu_utilization_pct").unwrap();
        }
    }
    for p in pools {
        write!(out, ",{p}.nodes,{p}.nodes_ready,{p}.cpu_requested_pct").unwrap();
    }
    out.push_str(",cost_usd_cumulative\n");
    let mut cost = 0.0;
    for k in 1..=rows {
        let t = 60.0 * k as f64;
        let day = (t / 86_400.0 * std::f64::consts::TAU).sin();
        write!(out, "{t}").unwrap();
        for (i, _) in services.iter().enumerate() {
            let arrivals = 100.0 * (i + 1) as f64 * (1.5 + day);
            let ready = 2 + (arrivals / 100.0) as u32;
            let desired = ready + u32::from(k % 50 < 5);
            let p99 = if i + 1 == services.len() {
                if k % 97 == 0 {
                    0.0
                } else {
                    3.0 * 10f64.powf(1.6 + 1.5 * day)
                }
            } else {
                3.0 + day
            };
            write!(
                out,
                ",{arrivals:.3},{},0,0,{ready},{desired},0,{:.3},{p99:.3},{:.3},{ready}",
                (arrivals * 60.0) as u64,
                p99 / 2.0,
                ready as f64 * 0.7
            )
            .unwrap();
            if i == 0 {
                if k < 3 {
                    out.push(',');
                } else {
                    write!(out, ",{:.3}", 60.0 + 10.0 * day).unwrap();
                }
            }
        }
        let mut nodes_total = 0;
        for (j, _) in pools.iter().enumerate() {
            let nodes = 2 + j as u32 + u32::from(day > 0.3);
            let ready = if k % 40 < 3 { nodes - 1 } else { nodes };
            nodes_total += nodes;
            write!(out, ",{nodes},{ready},{:.2}", 55.0 + 10.0 * day).unwrap();
        }
        cost += f64::from(nodes_total) * 0.45 / 60.0;
        writeln!(out, ",{cost:.4}").unwrap();
    }
    out
}

fn summary(services: &[(&str, Option<f64>)], pools: &[&str]) -> String {
    let services: Vec<String> = services
        .iter()
        .map(|(s, slo)| match slo {
            Some(ms) => format!(r#""{s}": {{"namespace": "default", "slo_p99_ms": {ms}}}"#),
            None => format!(r#""{s}": {{"namespace": "default", "slo_p99_ms": null}}"#),
        })
        .collect();
    let pools: Vec<String> = pools
        .iter()
        .map(|p| format!(r#""{p}": {{"machine_type": "c2-standard-8"}}"#))
        .collect();
    format!(
        r#"{{"scenario": "fixture", "seed": 1,
            "simulated": {{"duration_s": 86400, "warmup_s": 600, "measured_s": 85800}},
            "cost": {{"total_usd": 40.0}},
            "node_pools": {{{}}}, "services": {{{}}}, "quotas": {{}}}}"#,
        pools.join(", "),
        services.join(", ")
    )
}

/// A run folder of a simulated day: two services (one with an SLO), two pools.
fn run_folder() -> TempDir {
    let dir = TempDir::new("run");
    let services = ["vector-store", "model-inference"];
    let pools = ["compute-optimized", "memory-optimized"];
    dir.write("timeseries.csv", &timeseries(1440, &services, &pools));
    dir.write(
        "summary.json",
        &summary(
            &[("vector-store", Some(250.0)), ("model-inference", None)],
            &pools,
        ),
    );
    dir
}

/// Checks the PNG signature, decodes the image and returns its size.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(&[0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n']),
        "{} is not a PNG",
        path.display()
    );
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    // Not blank: some pixels are not white.
    assert!(
        pixels.iter().any(|&b| b < 200),
        "{} is blank",
        path.display()
    );
    (info.width, info.height)
}

/// Reads an SVG, checks that it is one well-closed `<svg>` document and returns its text.
fn svg_text(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains("<svg"), "{}", path.display());
    assert!(text.trim_end().ends_with("</svg>"), "{}", path.display());
    assert_eq!(
        text.matches("<text").count(),
        text.matches("</text>").count(),
        "{}",
        path.display()
    );
    text
}

fn names(files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_run_folder_gives_the_timeseries_figure_as_png_and_svg() {
    let dir = run_folder();
    let files = plot_run(&dir.0).unwrap();
    assert_eq!(names(&files), ["timeseries.png", "timeseries.svg"]);
    for f in &files {
        assert_eq!(f.parent().unwrap(), dir.0.join("plots"));
        assert!(
            std::fs::metadata(f).unwrap().len() > 1000,
            "{}",
            f.display()
        );
    }
    assert_eq!(png_size(&files[0]), (1600, 1800));
    let svg = svg_text(&files[1]);
    for text in [
        "simulated time (h)",
        "arrivals (requests/s)",
        "replicas (pods)",
        "nodes",
        "p99 latency (ms), log scale",
        "cost rate (USD/h)",
        "vector-store SLO 250 ms",
        "model-inference desired",
        "memory-optimized Ready",
        "warm-up",
        "DejaVu Sans",
    ] {
        assert!(svg.contains(text), "no {text:?} in the SVG");
    }
    assert!(!svg.contains("model-inference SLO"), "no SLO given for it");
    // Redrawing replaces the files.
    assert_eq!(plot_run(&dir.0).unwrap(), files);
}

/// The error of plotting a run folder whose time series is `csv`.
fn run_error(csv: &str) -> String {
    let dir = TempDir::new("bad");
    dir.write("timeseries.csv", csv);
    dir.write("summary.json", &summary(&[("a", None)], &["p"]));
    let err = plot_run(&dir.0).unwrap_err().to_string();
    let prefix = dir.0.join("timeseries.csv").display().to_string();
    assert!(err.starts_with(&prefix), "{err}");
    assert!(!dir.0.join("plots/timeseries.png").exists());
    err[prefix.len()..].to_string()
}

#[test]
fn bad_run_files_name_the_file_and_row() {
    let good = timeseries(3, &["a"], &["p"]);
    let mut lines: Vec<&str> = good.lines().collect();
    let header = lines[0];
    assert_eq!(
        run_error(&good.replacen("time_s", "t", 1)),
        ": line 1: missing column time_s"
    );
    let short_row = format!("{header}\n60,1,2\n");
    assert_eq!(
        run_error(&short_row),
        format!(
            ": line 2: expected {} cells as in the header, found 3",
            header.split(',').count()
        )
    );
    // Line 3, second cell (a.arrivals_per_s).
    let mut cells: Vec<&str> = lines[2].split(',').collect();
    cells[1] = "abc";
    let bad_row = cells.join(",");
    lines[2] = &bad_row;
    assert_eq!(
        run_error(&lines.join("\n")),
        ": line 3: column a.arrivals_per_s: not a number: \"abc\""
    );
    let backwards = good.replacen("\n120,", "\n30,", 1);
    assert_eq!(
        run_error(&backwards),
        ": line 3: time_s: 30: times must be finite, at least 0 and increasing"
    );
    assert_eq!(run_error(header), ": line 1: no data rows after the header");
}

#[test]
fn missing_and_disagreeing_files_are_errors() {
    let dir = TempDir::new("missing");
    let err = plot_run(&dir.0).unwrap_err();
    assert!(matches!(&err, PlotError::Missing { path } if path.ends_with("timeseries.csv")));
    assert!(
        err.to_string().ends_with("timeseries.csv: file not found"),
        "{err}"
    );

    dir.write("timeseries.csv", &timeseries(2, &["a"], &["p"]));
    let err = plot_run(&dir.0).unwrap_err();
    assert!(
        err.to_string().ends_with("summary.json: file not found"),
        "{err}"
    );

    dir.write(
        "summary.json",
        &summary(&[("a", None), ("b", None)], &["p"]),
    );
    let err = plot_run(&dir.0).unwrap_err().to_string();
    assert!(
        err.ends_with("summary.json: services [a, b] differ from those of timeseries.csv [a]"),
        "{err}"
    );
    dir.write("summary.json", "{not json");
    let err = plot_run(&dir.0).unwrap_err().to_string();
    assert!(err.contains("summary.json: not valid JSON"), "{err}");
}
