//! The sections of a run folder's report: the scenario in words, the summary tables and the
//! charts. The timeline and the waiting pods have files of their own (`timeline`, `waiting`).
//!
//! Use `RunFiles::read` to read a run folder once, then `sections`. Everything shown comes
//! from the folder's files through `report`'s record types; the tables are the terminal's
//! (`report::table`), so both show the same figures.

use std::path::Path;

use crate::html::page::{Table, escape, figure, paragraph};
use crate::html::{HtmlError, Section, timeline, waiting};
use crate::plot::{self, SvgChart};
use crate::report::events::read_events;
use crate::report::files::{EVENTS_JSONL, RUN_JSON, SUMMARY_JSON, read_json};
use crate::report::setup::RunSetup;
use crate::report::{ClusterEvent, RunInfo, Summary, table};
use crate::units::SimDuration;

/// Everything the report shows of a run folder, read once.
#[derive(Debug)]
pub(crate) struct RunFiles {
    /// `summary.json` as its record.
    pub(crate) summary: Summary,
    /// `summary.json` as plain JSON, for fields other changes add before `Summary` has them.
    pub(crate) summary_json: serde_json::Value,
    /// `run.json`'s scenario setup, when it records one.
    pub(crate) setup: Option<RunSetup>,
    /// `events.jsonl`, in time order.
    pub(crate) events: Vec<ClusterEvent>,
    /// The charts `plot` draws from `timeseries.csv` and `summary.json`.
    pub(crate) charts: Vec<SvgChart>,
}

impl RunFiles {
    /// Reads the run folder `dir`.
    ///
    /// # Errors
    /// A missing or malformed `summary.json`, `run.json`, `events.jsonl` or `timeseries.csv`.
    pub(crate) fn read(dir: &Path) -> Result<RunFiles, HtmlError> {
        let summary_path = dir.join(SUMMARY_JSON);
        let summary = Summary::read(&summary_path)?;
        let summary_json = read_json(&summary_path, "summary.json")?;
        let info: RunInfo = read_json(&dir.join(RUN_JSON), "run.json")?;
        let events = read_events(&dir.join(EVENTS_JSONL))?;
        let charts = plot::run_svgs(dir)?;
        Ok(RunFiles {
            summary,
            summary_json,
            setup: info.setup,
            events,
            charts,
        })
    }
}

/// The run's sections, each with its anchor (`prefix` + name) and heading for the contents.
pub(crate) fn sections(files: &RunFiles, prefix: &str) -> Vec<Section> {
    let anchor = |name: &str| format!("{prefix}{name}");
    vec![
        Section::new(anchor("scenario"), "Scenario", &scenario(files)),
        Section::new(
            anchor("summary"),
            "Summary",
            &summary(&files.summary, prefix),
        ),
        Section::new(anchor("charts"), "Charts", &charts(&files.charts)),
        Section::new(
            anchor("decisions"),
            "Decisions",
            &timeline::render(&files.events, prefix),
        ),
        Section::new(
            anchor("waiting"),
            "Pods that waited",
            &waiting::render(files),
        ),
    ]
}

/// A span of seconds as capsim writes durations: `2h`, `1h30m`, `90s`.
pub(crate) fn span(secs: f64) -> String {
    SimDuration::from_secs_f64(secs).to_string()
}

/// The scenario in words, then its pools and services as configured.
fn scenario(files: &RunFiles) -> String {
    let s = &files.summary;
    let span_of = &s.simulated;
    let warmup = if span_of.warmup_s > 0.0 {
        format!(
            "the first {} of them warm-up; the figures cover the last {}",
            span(span_of.warmup_s),
            span(span_of.measured_s)
        )
    } else {
        "no warm-up: the figures cover the whole run".to_string()
    };
    let mut out = paragraph(&format!(
        "Scenario {}, seed {}: {} simulated, {warmup}.",
        s.scenario,
        s.seed,
        span(span_of.duration_s),
    ));
    let Some(setup) = &files.setup else {
        out.push_str(&paragraph(
            "run.json records no scenario setup (written by an earlier capsim): the pools below \
             are the summary's.",
        ));
        return out;
    };
    if !setup.description.is_empty() {
        out.push_str(&format!(
            "<p class=\"note\">{}</p>\n",
            escape(&setup.description)
        ));
    }
    let version = if setup.kubernetes_version.is_empty() {
        String::new()
    } else {
        format!(
            "; kube-scheduler of Kubernetes {}",
            setup.kubernetes_version
        )
    };
    out.push_str(&paragraph(&format!(
        "Time series every {}; {}{version}.",
        span(setup.resolution_s),
        if setup.cluster_autoscaler {
            "a Cluster Autoscaler resizes the autoscaled pools"
        } else {
            "no Cluster Autoscaler: pools keep their size"
        }
    )));
    out.push_str("<h3>Node pools</h3>\n");
    out.push_str(&pools_table(setup).render());
    if !setup.services.is_empty() {
        out.push_str("<h3>Services</h3>\n");
        out.push_str(&services_table(setup).render());
    }
    if !setup.jobs.is_empty() {
        out.push_str(&paragraph(&format!("Jobs: {}.", setup.jobs.join(", "))));
    }
    out
}

/// One row per pool: machine, size, price, limits.
fn pools_table(setup: &RunSetup) -> Table {
    let mut table = Table::new(
        "",
        &[
            "pool",
            "machine",
            "vCPU",
            "memory GiB",
            "spot",
            "USD/h per node",
            "initial nodes",
            "min",
            "max",
            "autoscaled",
        ],
    );
    for (name, p) in &setup.node_pools {
        table.rows.push(vec![
            name.clone(),
            p.machine_type.clone(),
            format!("{}", p.cpu_cores),
            format!("{:.1}", p.memory_gib),
            yes_no(p.spot),
            format!("{:.4}", p.price_usd_per_hour),
            p.initial_nodes.to_string(),
            p.min_nodes.to_string(),
            p.max_nodes.to_string(),
            yes_no(p.autoscaled),
        ]);
    }
    table
}

/// One row per service: replicas, requests, HPA.
fn services_table(setup: &RunSetup) -> Table {
    let mut table = Table::new(
        "",
        &[
            "service",
            "namespace",
            "replicas",
            "cpu request (cores)",
            "memory request GiB",
            "HPA",
        ],
    );
    for (name, s) in &setup.services {
        let hpa = s.hpa.as_ref().map_or_else(
            || "none".to_string(),
            |h| {
                format!(
                    "{} to {} replicas on {}",
                    h.min_replicas,
                    h.max_replicas,
                    h.metrics.join(", ")
                )
            },
        );
        table.rows.push(vec![
            name.clone(),
            s.namespace.clone(),
            s.replicas.to_string(),
            format!("{}", s.cpu_request_cores),
            format!("{:.2}", s.memory_request_gib),
            hpa,
        ]);
    }
    table
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

/// The summary's tables: services, jobs, pools and cost, quotas, alerts, memory; each table's
/// id is `prefix` and its name (`services`, `pools`, ...).
fn summary(s: &Summary, prefix: &str) -> String {
    let id = |name: &str| format!("{prefix}{name}");
    let mut out = String::new();
    if !s.services.is_empty() {
        out.push_str("<h3>Services</h3>\n");
        out.push_str(&Table::from_rows(&id("services"), table::service_rows(s)).render());
    }
    if !s.jobs.is_empty() {
        out.push_str("<h3>Jobs</h3>\n");
        out.push_str(&Table::from_rows(&id("jobs"), table::job_rows(s)).render());
    }
    out.push_str("<h3>Node pools and cost</h3>\n");
    out.push_str(&Table::from_rows(&id("pools"), table::pool_rows(s)).render());
    out.push_str(&paragraph(&format!(
        "Total cost of the measured window: {:.2} USD.",
        s.cost.total_usd
    )));
    let mut quotas = Table::new(
        &id("quotas"),
        &["namespace", "pod creations refused by quota"],
    );
    for (ns, q) in &s.quotas {
        quotas
            .rows
            .push(vec![ns.clone(), q.rejected_pods.to_string()]);
    }
    if !quotas.rows.is_empty() {
        out.push_str("<h3>Quotas</h3>\n");
        out.push_str(&quotas.render());
    }
    if !s.alerts.is_empty() {
        let mut alerts = Table::new(&id("alerts"), &["alert", "times fired", "firing s"]);
        for (name, a) in &s.alerts {
            alerts.rows.push(vec![
                name.clone(),
                a.fired.to_string(),
                format!("{:.0}", a.firing_s),
            ]);
        }
        out.push_str("<h3>Alerts</h3>\n");
        out.push_str(&alerts.render());
    }
    for line in table::memory_lines(s)
        .into_iter()
        .chain(table::availability_lines(s))
    {
        out.push_str(&paragraph(&line));
    }
    out
}

/// The run's charts, inline.
fn charts(charts: &[SvgChart]) -> String {
    charts
        .iter()
        .map(|c| {
            figure(
                &c.svg,
                "Arrivals, replicas, nodes, p99 latency and cost rate over simulated time \
                 (warm-up shaded).",
            )
        })
        .collect()
}
