//! Tests of what the charts are drawn from: which sweep points the Pareto frontier holds and
//! why the others are greyed, sweep files with missing figures, the run figure's cost rate
//! and titles, and the floor of confidence intervals. Fixtures are `tests`'.

use super::pareto::Verdict;
use super::pareto_chart::ParetoFigure;
use super::run_data::RunData;
use super::sweep_chart::key_metrics;
use super::sweep_data::SweepData;
use super::tests::{
    TempDir, run_folder, summary, svg_text, sweep_folder, sweep_folder_failing, two_parameter_sweep,
};
use super::*;
use crate::report::timeseries::{Layout, csv_header, csv_line};
use crate::report::{IntervalRow, PoolInterval, ServiceInterval};

/// Four points of one parameter for service `api` (SLO 250 ms, budget 0.1%):
/// `cheap` refuses a third of its requests, `slow` misses the SLO, `good` and `fast` meet both.
fn four_points() -> TempDir {
    let rows = vec![
        (vec!["cheap"], 30.0, vec![100.0]),
        (vec!["good"], 40.0, vec![120.0]),
        (vec!["slow"], 35.0, vec![300.0]),
        (vec!["fast"], 60.0, vec![90.0]),
    ];
    sweep_folder_failing(&["p"], &["api"], &rows, &[0.33, 0.0005, 0.0, 0.0])
}

#[test]
fn points_that_miss_an_objective_are_off_the_frontier_and_greyed() {
    let dir = four_points();
    let data = SweepData::load(&dir.0).unwrap();
    let keys = key_metrics(&data);
    let figure = ParetoFigure::new(&data, &keys[0], &keys[1], "api");
    let ok = Verdict::default();
    let refuses = Verdict {
        over_budget: true,
        ..ok
    };
    let slow = Verdict {
        misses_slo: true,
        ..ok
    };
    assert_eq!(figure.verdicts(), [refuses, ok, slow, ok]);
    // Over latency and cost alone, `cheap` (100 ms, 30 USD) would beat `good` and be on the
    // frontier with `fast`; it refuses a third of its traffic, so `good` is there instead.
    assert_eq!(figure.frontier(), [3, 1]);

    plot_sweep(&dir.0).unwrap();
    let svg = svg_text(&dir.0.join("plots/pareto-api.svg"));
    for text in [
        "misses SLO: not on frontier",
        "refuses &gt; budget (0.1% failed): not on frontier",
        "p=cheap",
    ] {
        assert!(svg.contains(text), "no {text:?} in the Pareto chart");
    }
}

#[test]
fn a_sweep_where_every_point_fails_too_many_requests_says_it_has_no_frontier() {
    let rows = vec![
        (vec!["a"], 30.0, vec![100.0]),
        (vec!["b"], 40.0, vec![90.0]),
    ];
    let dir = sweep_folder_failing(&["p"], &["api"], &rows, &[0.0026, 0.0026]);
    plot_sweep(&dir.0).unwrap();
    let svg = svg_text(&dir.0.join("plots/pareto-api.svg"));
    assert!(svg.contains("Pareto frontier: none, no point meets its objectives"));
}

#[test]
fn without_failures_the_legend_does_not_grey_anything() {
    let rows = vec![
        (vec!["a"], 30.0, vec![100.0]),
        (vec!["b"], 40.0, vec![90.0]),
    ];
    let dir = sweep_folder(&["p"], &["api"], &rows);
    plot_sweep(&dir.0).unwrap();
    let svg = svg_text(&dir.0.join("plots/pareto-api.svg"));
    assert!(!svg.contains("not on frontier"), "nothing is greyed");
}

/// `points.csv` of `dir` with the cell of `column` at data row `row` emptied.
fn empty_cell(dir: &TempDir, column: &str, row: usize) {
    let path = dir.0.join("points.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let at = lines[0].split(',').position(|c| c == column).unwrap();
    let mut cells: Vec<&str> = lines[row + 1].split(',').collect();
    cells[at] = "";
    lines[row + 1] = cells.join(",");
    dir.write("points.csv", &(lines.join("\n") + "\n"));
}

#[test]
fn an_empty_latency_cell_is_a_missing_point_not_an_error() {
    let dir = two_parameter_sweep();
    // Point 0: the vector store's p99 alone is empty (no run completed a request), its
    // interval kept; point 1: the model's p99 is empty in all three cells.
    empty_cell(&dir, "services.vector-store.latency_ms.p99.mean", 0);
    for figure in ["mean", "ci_low", "ci_high"] {
        let column = format!("services.model-inference.latency_ms.p99.{figure}");
        empty_cell(&dir, &column, 1);
    }
    let data = SweepData::load(&dir.0).unwrap();
    let keys = key_metrics(&data);
    let vs = ParetoFigure::new(&data, &keys[0], &keys[1], "vector-store");
    assert!(vs.verdicts()[0].misses_slo, "no latency meets no objective");
    assert!(!vs.frontier().contains(&0));
    let model = ParetoFigure::new(&data, &keys[0], &keys[2], "model-inference");
    assert!(!model.frontier().contains(&1));
    assert!(!model.frontier().is_empty());

    plot_sweep(&dir.0).unwrap();
    let heat = svg_text(&dir.0.join("plots/heatmap-p99-vector-store.svg"));
    assert!(heat.contains("no data"), "the empty cell is a grey cell");
    svg_text(&dir.0.join("plots/p99-model-inference-vs-target_cpu.svg"));
}

#[test]
fn every_chart_draws_intervals_of_non_negative_metrics_from_zero() {
    let rows = vec![(vec!["a"], 0.5, vec![2.0]), (vec!["b"], 4.0, vec![1.0])];
    let dir = sweep_folder(&["p"], &["api"], &rows);
    // Few replications, a wide spread: intervals reaching below zero.
    let path = dir.0.join("points.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let low = |m: &str| {
        header
            .iter()
            .position(|c| *c == format!("{m}.ci_low"))
            .unwrap()
    };
    let (cost_low, p99_low) = (low("cost.total_usd"), low("services.api.latency_ms.p99"));
    let mut cells: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    cells[cost_low] = "-1.5".into();
    cells[p99_low] = "-3".into();
    lines[1] = cells.join(",");
    dir.write("points.csv", &(lines.join("\n") + "\n"));

    // The Pareto chart, the lines and the heat maps all draw from these.
    let data = SweepData::load(&dir.0).unwrap();
    let keys = key_metrics(&data);
    assert_eq!(keys[0].metric.ci_low[0], 0.0, "cost");
    assert_eq!(keys[1].metric.ci_low[0], 0.0, "p99");
    assert!(
        data.metrics
            .iter()
            .all(|m| m.ci_low.iter().all(|v| *v >= 0.0))
    );
}

/// A run folder of ten-second intervals on one node of 0.7 USD an hour, the cumulative cost
/// written to 4 decimals as capsim writes it.
fn ten_second_run() -> TempDir {
    let layout = Layout {
        services: vec![("a".into(), vec![])],
        jobs: vec![],
        pools: vec!["p".into()],
    };
    let mut text = csv_header(&layout);
    for k in 1..=60 {
        let time_s = 10.0 * f64::from(k);
        let row = IntervalRow {
            time_s,
            width_s: 10.0,
            services: vec![ServiceInterval::default()],
            jobs: vec![],
            pools: vec![PoolInterval {
                nodes: 1,
                nodes_ready: 1,
                cpu_requested_pct: 10.0,
            }],
            cost_usd_cumulative: 0.7 * time_s / 3600.0,
            cost_usd_per_hour: 0.7,
        };
        csv_line(&row, &mut text);
    }
    let dir = TempDir::new("rate");
    dir.write("timeseries.csv", &text);
    dir.write("summary.json", &summary(&[("a", None)], &["p"]));
    dir
}

#[test]
fn the_cost_rate_is_the_file_s_own_not_a_difference_of_rounded_totals() {
    let dir = ten_second_run();
    let data = RunData::load(&dir.0).unwrap();
    // 0.7 USD/h over 10 s is 0.0019444 USD, written 0.0019 or 0.002: differences of the
    // rounded totals would read 0.684 or 0.72 USD/h.
    assert!(
        data.cost_usd_per_h.iter().all(|&r| r == 0.7),
        "{:?}",
        &data.cost_usd_per_h[..6]
    );
    // A file written before the column still gives a rate, derived from the totals.
    let text = std::fs::read_to_string(dir.0.join("timeseries.csv")).unwrap();
    let old: Vec<String> = text
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string())
        .collect();
    dir.write("timeseries.csv", &(old.join("\n") + "\n"));
    let data = RunData::load(&dir.0).unwrap();
    assert!((data.cost_usd_per_h[5] - 0.7).abs() < 0.05);
}

#[test]
fn run_titles_give_the_summary_s_figures_over_the_measured_window() {
    let dir = run_folder();
    let data = RunData::load(&dir.0).unwrap();
    // The time series' cost from the start of the run is far more than the summary's.
    assert_eq!(data.cost_measured_usd, 2.5);
    plot_run(&dir.0).unwrap();
    let svg = svg_text(&dir.0.join("plots/timeseries.svg"));
    for text in [
        "2.5 USD over the 50 min after the warm-up",
        "measured from 10 min to 1 h (warm-up shaded)",
    ] {
        assert!(svg.contains(text), "no {text:?} in the run figure");
    }
}
