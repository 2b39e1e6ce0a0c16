//! Tests of whole folders: run and sweep fixtures written by hand into a temporary folder,
//! plotted, and the chart files checked (PNG signature and size, SVG text); bad files give a
//! `PlotError` that names the file and line.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::report::metrics::{
    COST_TOTAL_USD, service_latency_p99_ms, service_requests_arrived, service_requests_failed,
    service_slo_max_failed_fraction,
};
use crate::report::summary::example;
use crate::report::sweep_files::{Interval, PointRow, PointsTable, SweepInfo};
use crate::report::timeseries::{Layout, csv_header, csv_line};
use crate::report::{IntervalRow, PoolInterval, ServiceInterval};

/// A fresh folder under the system's temporary directory, removed when dropped unless
/// `CAPSIM_KEEP_PLOTS` is set (to look at the charts).
pub(super) struct TempDir(pub(super) PathBuf);

impl TempDir {
    pub(super) fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("capsim-plot-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub(super) fn write(&self, file: &str, text: &str) {
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

/// A time series of `rows` one-minute intervals for `services` and `pools`, written as capsim
/// writes it (`report::timeseries`): the first service has one HPA metric, without a value
/// until its first sync; the last service's p99 spans three decades and is 0 (no completion)
/// now and then.
pub(super) fn timeseries(rows: usize, services: &[&str], pools: &[&str]) -> String {
    let layout = Layout {
        jobs: vec![],
        services: services
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let hpa = if i == 0 {
                    vec!["cpu_utilization_pct".to_string()]
                } else {
                    vec![]
                };
                (s.to_string(), hpa)
            })
            .collect(),
        pools: pools.iter().map(|p| p.to_string()).collect(),
    };
    let mut out = csv_header(&layout);
    let mut cost = 0.0;
    for k in 1..=rows {
        let t = 60.0 * k as f64;
        let day = (t / 86_400.0 * std::f64::consts::TAU).sin();
        let services = (0..services.len())
            .map(|i| {
                let arrivals = 100.0 * (i + 1) as f64 * (1.5 + day);
                let ready = 2 + (arrivals / 100.0) as u32;
                let p99 = if i + 1 == services.len() {
                    if k % 97 == 0 {
                        0.0
                    } else {
                        3.0 * 10f64.powf(1.6 + 1.5 * day)
                    }
                } else {
                    3.0 + day
                };
                let hpa = match (i, k) {
                    (0, 1..=2) => vec![f64::NAN],
                    (0, _) => vec![60.0 + 10.0 * day],
                    _ => vec![],
                };
                ServiceInterval {
                    arrivals_per_s: arrivals,
                    completed: (arrivals * 60.0) as u64,
                    ready,
                    desired: ready + u32::from(k % 50 < 5),
                    // Every 97th interval of the last service completed nothing.
                    latency_p50_ms: (p99 > 0.0).then_some(p99 / 2.0),
                    latency_p99_ms: (p99 > 0.0).then_some(p99),
                    cpu_used_cores: ready as f64 * 0.7,
                    cpu_requested_cores: f64::from(ready),
                    hpa_metrics: hpa,
                    ..ServiceInterval::default()
                }
            })
            .collect();
        let pools: Vec<PoolInterval> = (0..pools.len())
            .map(|j| {
                let nodes = 2 + j as u32 + u32::from(day > 0.3);
                PoolInterval {
                    nodes,
                    nodes_ready: if k % 40 < 3 { nodes - 1 } else { nodes },
                    cpu_requested_pct: 55.0 + 10.0 * day,
                }
            })
            .collect();
        let cost_usd_per_hour = pools.iter().map(|p| f64::from(p.nodes)).sum::<f64>() * 0.45;
        cost += cost_usd_per_hour / 60.0;
        let row = IntervalRow {
            jobs: vec![],
            time_s: t,
            width_s: 60.0,
            services,
            pools,
            cost_usd_cumulative: cost,
            cost_usd_per_hour,
        };
        csv_line(&row, &mut out);
    }
    out
}

/// A `summary.json` for `services` (with their SLOs) and `pools`, written as capsim writes it.
pub(super) fn summary(services: &[(&str, Option<f64>)], pools: &[&str]) -> String {
    serde_json::to_string_pretty(&example(services, pools)).unwrap()
}

/// A run folder of a simulated day: two services (one with an SLO), two pools.
pub(super) fn run_folder() -> TempDir {
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
pub(super) fn svg_text(path: &Path) -> String {
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
    assert_eq!(plot_dir(&dir.0).unwrap(), files);
}

/// A sweep folder over `params` with `rows` of `(values, cost, p99 per service)`, written as
/// capsim writes it (`report::sweep_files`); no request failed.
pub(super) fn sweep_folder(
    params: &[&str],
    services: &[&str],
    rows: &[(Vec<&str>, f64, Vec<f64>)],
) -> TempDir {
    sweep_folder_failing(params, services, rows, &vec![0.0; rows.len()])
}

/// As `sweep_folder`, where `failed[i]` of the million requests that arrived at each service
/// at point `i` were refused, against a budget of 0.1%.
pub(super) fn sweep_folder_failing(
    params: &[&str],
    services: &[&str],
    rows: &[(Vec<&str>, f64, Vec<f64>)],
    failed: &[f64],
) -> TempDir {
    let dir = TempDir::new("sweep");
    let parameters: Vec<String> = params.iter().map(|p| p.to_string()).collect();
    let info = SweepInfo {
        scenario: "fixture".into(),
        plan: "0123456789abcdef".into(),
        point_settings: rows
            .iter()
            .map(|(values, _, _)| {
                params
                    .iter()
                    .zip(values)
                    .map(|(p, v)| format!("{p}={v}"))
                    .collect()
            })
            .collect(),
        parameters: parameters.clone(),
        replications: 3,
        seeds: "common".into(),
        points: rows.len(),
        runs: 3 * rows.len(),
        runs_done: 3 * rows.len(),
        slo_p99_ms: [(services[0].to_string(), 250.0)].into_iter().collect(),
    };
    dir.write("sweep.json", &serde_json::to_string_pretty(&info).unwrap());
    let mut metrics = vec![COST_TOTAL_USD.to_string()];
    for s in services {
        metrics.push(service_latency_p99_ms(s));
        metrics.push(format!("services.{s}.latency_ms.mean"));
        metrics.push(service_requests_arrived(s));
        metrics.push(service_requests_failed(s)[0].clone());
        metrics.push(service_slo_max_failed_fraction(s));
    }
    let interval = |mean: f64, low: f64, high: f64| {
        Some(Interval {
            mean,
            ci_low: mean * low,
            ci_high: mean * high,
        })
    };
    let table = PointsTable {
        parameters,
        metrics,
        rows: rows
            .iter()
            .enumerate()
            .map(|(point, (values, cost, p99))| {
                let mut figures = vec![interval(*cost, 0.97, 1.03)];
                for &p in p99 {
                    figures.push(interval(p, 0.9, 1.1));
                    figures.push(interval(p / 3.0, 3.0 / 3.5, 3.0 / 2.5));
                    figures.push(interval(1e6, 1.0, 1.0));
                    figures.push(interval(failed[point] * 1e6, 0.5, 1.5));
                    figures.push(interval(0.001, 1.0, 1.0));
                }
                PointRow {
                    point,
                    values: values.iter().map(|v| v.to_string()).collect(),
                    runs: 3,
                    metrics: figures,
                }
            })
            .collect(),
    };
    dir.write("points.csv", &table.to_csv());
    dir
}

pub(super) fn two_parameter_sweep() -> TempDir {
    let params = [
        "services.vector-store.autoscaling.target_cpu",
        "node_pools.compute-optimized.machine_type",
    ];
    let mut rows = Vec::new();
    for (m, machine) in ["c2-standard-8", "n2-standard-8"].iter().enumerate() {
        for (t, target) in ["50", "70", "90"].iter().enumerate() {
            let cost = 60.0 - 8.0 * t as f64 + 5.0 * m as f64;
            let p99 = vec![
                3.0 * (1.0 + t as f64 * t as f64 * 40.0),
                900.0 + 100.0 * t as f64,
            ];
            rows.push((vec![*target, *machine], cost, p99));
        }
    }
    sweep_folder(&params, &["vector-store", "model-inference"], &rows)
}

#[test]
fn a_two_parameter_sweep_gives_pareto_line_and_heatmap_charts() {
    let dir = two_parameter_sweep();
    let files = plot_dir(&dir.0).unwrap();
    let mut expected = Vec::new();
    for stem in [
        "pareto-vector-store",
        "pareto-model-inference",
        "cost-vs-target_cpu",
        "cost-vs-machine_type",
        "p99-vector-store-vs-target_cpu",
        "p99-vector-store-vs-machine_type",
        "p99-model-inference-vs-target_cpu",
        "p99-model-inference-vs-machine_type",
        "heatmap-cost",
        "heatmap-p99-vector-store",
        "heatmap-p99-model-inference",
    ] {
        expected.push(format!("{stem}.png"));
        expected.push(format!("{stem}.svg"));
    }
    assert_eq!(names(&files), expected);
    for pair in files.chunks(2) {
        assert_eq!(png_size(&pair[0]), (1400, 950), "{}", pair[0].display());
        let svg = svg_text(&pair[1]);
        assert!(svg.contains("cost (USD)") || svg.contains("p99 latency (ms)"));
    }
    let pareto = svg_text(&dir.0.join("plots/pareto-vector-store.svg"));
    for text in [
        "cost (USD)",
        "vector-store p99 latency (ms), log scale",
        "Pareto frontier",
        "SLO p99 250 ms",
        "target_cpu=90, machine_type=c2-standard-8",
    ] {
        assert!(pareto.contains(text), "no {text:?} in the Pareto chart");
    }
    let lines = svg_text(&dir.0.join("plots/cost-vs-target_cpu.svg"));
    assert!(
        lines.contains("machine_type=n2-standard-8"),
        "a line per machine"
    );
    assert!(lines.contains("services.vector-store.autoscaling.target_cpu"));
    let heat = svg_text(&dir.0.join("plots/heatmap-cost.svg"));
    for text in [
        "node_pools.compute-optimized.machine_type",
        "c2-standard-8",
        "\n44\n",
    ] {
        assert!(heat.contains(text), "no {text:?} in the heat map");
    }
    let heat = svg_text(&dir.0.join("plots/heatmap-p99-vector-store.svg"));
    assert!(heat.contains("above SLO 250 ms"));
}

#[test]
fn a_one_parameter_sweep_has_no_heatmap_and_safe_file_names() {
    let rows = vec![
        (vec!["small pool"], 30.0, vec![400.0]),
        (vec!["large/pool"], 50.0, vec![20.0]),
        (vec!["medium"], 40.0, vec![60.0]),
    ];
    let dir = sweep_folder(&["node_pools.p.max nodes"], &["api"], &rows);
    let files = plot_sweep(&dir.0).unwrap();
    assert_eq!(
        names(&files),
        [
            "pareto-api.png",
            "pareto-api.svg",
            "cost-vs-max_nodes.png",
            "cost-vs-max_nodes.svg",
            "p99-api-vs-max_nodes.png",
            "p99-api-vs-max_nodes.svg",
        ]
    );
    let svg = svg_text(&dir.0.join("plots/cost-vs-max_nodes.svg"));
    // Categories in first-appearance order.
    let (small, large) = (
        svg.find("small pool").unwrap(),
        svg.find("large/pool").unwrap(),
    );
    assert!(small < large);
}

#[test]
fn a_folder_with_neither_is_an_error() {
    let dir = TempDir::new("empty");
    let err = plot_dir(&dir.0).unwrap_err();
    assert!(matches!(err, PlotError::NotAFolder { .. }), "{err}");
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
        ": line 1: column 1: expected time_s, found t"
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
    assert!(
        matches!(&err, PlotError::Read(ReadError::Missing { path }) if path.ends_with("timeseries.csv"))
    );
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

#[test]
fn bad_sweep_files_are_errors() {
    let dir = two_parameter_sweep();
    let mut info = SweepInfo::read(&dir.0.join("sweep.json")).unwrap();
    info.parameters = vec!["a".into()];
    dir.write("sweep.json", &serde_json::to_string(&info).unwrap());
    let err = plot_sweep(&dir.0).unwrap_err().to_string();
    assert!(
        err.contains("points.csv: line 1: parameter columns ["),
        "{err}"
    );
    assert!(
        err.ends_with("differ from sweep.json's parameters [a]"),
        "{err}"
    );
    info.slo_p99_ms.insert("b".into(), 0.0);
    dir.write("sweep.json", &serde_json::to_string(&info).unwrap());
    let err = plot_sweep(&dir.0).unwrap_err().to_string();
    assert!(
        err.ends_with("sweep.json: slo_p99_ms.b: expected a positive number, found 0"),
        "{err}"
    );
    dir.write("sweep.json", r#"{"parameters": [1]}"#);
    let err = plot_sweep(&dir.0).unwrap_err().to_string();
    assert!(
        err.contains("sweep.json: not a capsim sweep.json: invalid type: integer `1`"),
        "{err}"
    );
    std::fs::remove_file(dir.0.join("points.csv")).unwrap();
    info.slo_p99_ms.clear();
    dir.write("sweep.json", &serde_json::to_string(&info).unwrap());
    let err = plot_sweep(&dir.0).unwrap_err().to_string();
    assert!(err.ends_with("points.csv: file not found"), "{err}");
}

#[test]
fn charts_drawn_in_memory_are_the_files_written() {
    let run = run_folder();
    let files = plot_run(&run.0).unwrap();
    let charts = run_svgs(&run.0).unwrap();
    assert_eq!(charts.len(), 1);
    assert_eq!(charts[0].name, "timeseries");
    assert_eq!(charts[0].svg, svg_text(&files[1]));

    let sweep = two_parameter_sweep();
    let files = plot_sweep(&sweep.0).unwrap();
    let charts = sweep_svgs(&sweep.0).unwrap();
    let svg_files: Vec<&PathBuf> = files.iter().skip(1).step_by(2).collect();
    assert_eq!(charts.len(), svg_files.len());
    for (chart, file) in charts.iter().zip(svg_files) {
        assert_eq!(
            format!("{}.svg", chart.name),
            names(std::slice::from_ref(file))[0]
        );
        assert_eq!(chart.svg, svg_text(file), "{}", chart.name);
    }
}
