//! Tests of whole folders: run and sweep fixtures written by hand into a temporary folder,
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
    assert_eq!(plot_dir(&dir.0).unwrap(), files);
}

/// A sweep folder over `params` with `rows` of `(values, cost, p99 per service)`.
fn sweep_folder(
    params: &[&str],
    services: &[&str],
    rows: &[(Vec<&str>, f64, Vec<f64>)],
) -> TempDir {
    let dir = TempDir::new("sweep");
    let quoted: Vec<String> = params.iter().map(|p| format!("{p:?}")).collect();
    dir.write(
        "sweep.json",
        &format!(
            r#"{{"scenario": "fixture", "parameters": [{}], "replications": 3, "runs": {},
                "points": {}, "slo_p99_ms": {{"{}": 250.0}}}}"#,
            quoted.join(", "),
            3 * rows.len(),
            rows.len(),
            services[0]
        ),
    );
    let mut csv = String::from("point");
    for p in params {
        write!(csv, ",{p}").unwrap();
    }
    csv.push_str(",runs");
    let mut metrics = vec!["cost.total_usd".to_string()];
    for s in services {
        metrics.push(format!("services.{s}.latency_ms.p99"));
        metrics.push(format!("services.{s}.latency_ms.mean"));
    }
    for m in &metrics {
        write!(csv, ",{m}.mean,{m}.ci_low,{m}.ci_high").unwrap();
    }
    csv.push('\n');
    for (i, (values, cost, p99)) in rows.iter().enumerate() {
        write!(csv, "{i},{},3", values.join(",")).unwrap();
        write!(csv, ",{cost},{},{}", cost * 0.97, cost * 1.03).unwrap();
        for p in p99 {
            write!(
                csv,
                ",{p},{},{},{},{},{}",
                p * 0.9,
                p * 1.1,
                p / 3.0,
                p / 3.5,
                p / 2.5
            )
            .unwrap();
        }
        csv.push('\n');
    }
    dir.write("points.csv", &csv);
    dir
}

fn two_parameter_sweep() -> TempDir {
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

#[test]
fn bad_sweep_files_are_errors() {
    let dir = two_parameter_sweep();
    dir.write(
        "sweep.json",
        r#"{"scenario": "s", "parameters": ["a"], "replications": 1}"#,
    );
    let err = plot_sweep(&dir.0).unwrap_err().to_string();
    assert!(
        err.contains("points.csv: line 1: parameter columns ["),
        "{err}"
    );
    assert!(
        err.ends_with("differ from sweep.json's parameters [a]"),
        "{err}"
    );
    dir.write("sweep.json", r#"{"parameters": [1]}"#);
    let err = plot_sweep(&dir.0).unwrap_err().to_string();
    assert!(
        err.ends_with("sweep.json: parameters: expected a list of strings"),
        "{err}"
    );
    std::fs::remove_file(dir.0.join("points.csv")).unwrap();
    dir.write("sweep.json", r#"{"parameters": ["a"]}"#);
    let err = plot_sweep(&dir.0).unwrap_err().to_string();
    assert!(err.ends_with("points.csv: file not found"), "{err}");
}
