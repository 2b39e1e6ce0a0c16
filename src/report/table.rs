//! The summary as a plain-text table for the terminal.
//!
//! Use `render` after a run; it reads only the `Summary`, so what the terminal shows is what
//! `summary.json` holds.

use std::fmt::Write as _;

use crate::report::Summary;
use crate::text::table::push_columns;

/// The summary as aligned text columns, one block for services (when there are any), one for
/// jobs (when there are any), one for pools, then cost and quota rejections.
pub fn render(summary: &Summary) -> String {
    let mut out = String::new();
    let span = &summary.simulated;
    let _ = writeln!(
        out,
        "scenario {}  seed {}  simulated {}  measured {}",
        summary.scenario,
        summary.seed,
        hours(span.duration_s),
        hours(span.measured_s)
    );
    out.push('\n');
    if !summary.services.is_empty() {
        push_columns(&mut out, &service_rows(summary));
        out.push('\n');
    }
    if !summary.jobs.is_empty() {
        push_columns(&mut out, &job_rows(summary));
        out.push('\n');
    }
    push_columns(&mut out, &pool_rows(summary));
    let _ = writeln!(out, "\ntotal cost: {:.2} USD", summary.cost.total_usd);
    let rejected: Vec<String> = summary
        .quotas
        .iter()
        .filter(|(_, q)| q.rejected_pods > 0)
        .map(|(ns, q)| format!("{ns} {}", q.rejected_pods))
        .collect();
    if !rejected.is_empty() {
        let _ = writeln!(
            out,
            "pod creations refused by quota: {}",
            rejected.join(", ")
        );
    }
    for line in memory_lines(summary)
        .into_iter()
        .chain(availability_lines(summary))
        .chain(waiting_lines(summary))
    {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// One line per service, then per Job, whose pods waited unbound or were refused by quota:
/// pod-seconds by reason, then the refused pods' (not pods, so not among the reasons).
fn waiting_lines(summary: &Summary) -> Vec<String> {
    let services = (summary.services.iter()).map(|(name, s)| (name, &s.unschedulable));
    let jobs = (summary.jobs.iter()).map(|(name, j)| (name, &j.unschedulable));
    services
        .chain(jobs)
        .filter(|(_, u)| !u.pod_seconds_by_reason.is_empty() || u.quota_refused_seconds > 0.0)
        .map(|(name, u)| {
            let mut parts: Vec<String> = (u.pod_seconds_by_reason.iter())
                .map(|(reason, seconds)| format!("{reason} {seconds:.0} pod-s"))
                .collect();
            if u.quota_refused_seconds > 0.0 {
                let seconds = u.quota_refused_seconds;
                parts.push(format!("refused by quota {seconds:.0} pod-s (not created)"));
            }
            format!("{name} waited: {}", parts.join(", "))
        })
        .collect()
}

/// One line per service whose pods ran out of memory: OOM kills and the requests they lost,
/// restarts, evictions under node memory pressure.
pub fn memory_lines(summary: &Summary) -> Vec<String> {
    summary
        .services
        .iter()
        .filter(|(_, s)| s.requests.oom_killed + s.restarts + s.evictions + s.requests.evicted > 0)
        .map(|(name, s)| {
            format!(
                "{name} out of memory: {} requests OOM-killed, {} restarts, {} pods evicted \
                 ({} requests lost)",
                s.requests.oom_killed, s.restarts, s.evictions, s.requests.evicted
            )
        })
        .collect()
}

/// One line per service that had fewer Ready pods than it should keep, or lost requests to a
/// node failure: the time below its minimum replicas, below its disruption budget (when it has
/// one), and the requests lost.
pub fn availability_lines(summary: &Summary) -> Vec<String> {
    summary
        .services
        .iter()
        .filter(|(_, s)| {
            let a = &s.availability;
            a.below_min_replicas_s > 0.0
                || a.below_min_available_s.is_some_and(|t| t > 0.0)
                || s.requests.lost_node_failure > 0
        })
        .map(|(name, s)| {
            let a = &s.availability;
            let budget = a.below_min_available_s.map_or(String::new(), |t| {
                format!(", {t:.0} s below its disruption budget")
            });
            format!(
                "{name} availability: {:.0} s below its minimum replicas{budget}, {} requests \
                 lost to node failures",
                a.below_min_replicas_s, s.requests.lost_node_failure
            )
        })
        .collect()
}

/// The headers of the jobs block.
const JOB_COLUMNS: [&str; 9] = [
    "job",
    "submitted",
    "started",
    "completed",
    "evicted",
    "wait p50 s",
    "wait p99 s",
    "wait max s",
    "pending pod-s",
];

/// The jobs block: the headers, then one row per Job; a wait no pod had is `-`. The HTML
/// report shows the same rows.
pub fn job_rows(summary: &Summary) -> Vec<Vec<String>> {
    let mut rows = vec![JOB_COLUMNS.iter().map(|h| h.to_string()).collect()];
    for (name, job) in &summary.jobs {
        let wait = |pick: fn(&crate::report::summary::DelaySummary) -> f64| {
            job.scheduling_delay_s
                .as_ref()
                .map_or_else(|| "-".to_string(), |d| format!("{:.1}", pick(d)))
        };
        rows.push(vec![
            name.clone(),
            job.pods.submitted.to_string(),
            job.pods.started.to_string(),
            job.pods.completed.to_string(),
            job.pods.evicted.to_string(),
            wait(|d| d.p50),
            wait(|d| d.p99),
            wait(|d| d.max),
            format!("{:.0}", job.pending_pod_seconds),
        ]);
    }
    rows
}

/// The headers of the services block.
const SERVICE_COLUMNS: [&str; 13] = [
    "service",
    "arrived",
    "completed",
    "rejected",
    "timed out",
    "mean ms",
    "p50 ms",
    "p99 ms",
    "max ms",
    "wait p99 ms",
    "ready min/mean/max",
    "pending pod-s",
    "cpu used/req",
];

/// The headers of the pools block.
const POOL_COLUMNS: [&str; 6] = [
    "pool",
    "machine",
    "USD/h",
    "nodes min/mean/max",
    "node-hours",
    "cost USD",
];

/// The services block: the headers, then one row per service. The HTML report shows the
/// same rows.
pub fn service_rows(summary: &Summary) -> Vec<Vec<String>> {
    let mut rows = vec![SERVICE_COLUMNS.map(String::from).to_vec()];
    for (name, s) in &summary.services {
        rows.push(vec![
            name.clone(),
            s.requests.arrived.to_string(),
            s.requests.completed.to_string(),
            s.requests.rejected.to_string(),
            s.requests.timed_out.to_string(),
            ms(s.latency_ms.mean),
            ms(s.latency_ms.p50),
            ms(s.latency_ms.p99),
            ms(s.latency_ms.max),
            ms(s.wait_ms.p99),
            format!(
                "{}/{:.2}/{}",
                s.replicas.min, s.replicas.mean, s.replicas.max
            ),
            format!("{:.0}", s.pending_pod_seconds),
            s.cpu
                .utilization_of_requests
                .map_or(MISSING.into(), |u| format!("{:.0}%", u * 100.0)),
        ]);
    }
    rows
}

/// The pools block: the headers, then one row per pool with its cost. The HTML report shows
/// the same rows.
pub fn pool_rows(summary: &Summary) -> Vec<Vec<String>> {
    let mut rows = vec![POOL_COLUMNS.map(String::from).to_vec()];
    for (name, p) in &summary.node_pools {
        let cost = &summary.cost.by_pool[name];
        rows.push(vec![
            name.clone(),
            p.machine_type.clone(),
            format!("{:.4}", p.price_usd_per_hour),
            format!("{}/{:.2}/{}", p.nodes.min, p.nodes.mean, p.nodes.max),
            format!("{:.2}", cost.node_hours),
            format!("{:.2}", cost.usd),
        ]);
    }
    rows
}

/// What the table shows for a statistic over nothing (a null in `summary.json`).
const MISSING: &str = "-";

/// Milliseconds to two decimals, or `MISSING`.
fn ms(value: Option<f64>) -> String {
    value.map_or(MISSING.into(), |v| format!("{v:.2}"))
}

/// Seconds as a readable span: `24h`, `1h50m`, `90s`.
fn hours(secs: f64) -> String {
    crate::units::SimDuration::from_secs_f64(secs).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::example;

    #[test]
    fn workloads_whose_pods_waited_get_a_line_of_their_reasons() {
        let mut summary = example(&[("web", None), ("batch", None)], &["p"]);
        summary.services["batch"]
            .unschedulable
            .pod_seconds_by_reason
            .clear();
        let reasons = &mut summary.services["web"].unschedulable.pod_seconds_by_reason;
        reasons.insert("waiting for a node to provision".into(), 380.0);
        let text = render(&summary);
        assert!(
            text.contains(
                "web waited: Insufficient cpu 30 pod-s, waiting for a node to provision 380 pod-s\n"
            ),
            "{text}"
        );
        assert!(!text.contains("batch waited"), "{text}");
        summary.services["batch"]
            .unschedulable
            .quota_refused_seconds = 600.0;
        let text = render(&summary);
        assert!(
            text.contains("batch waited: refused by quota 600 pod-s (not created)\n"),
            "{text}"
        );
    }

    #[test]
    fn statistics_over_no_request_show_as_missing_not_zero() {
        let mut summary = example(&[("web", None)], &["p"]);
        let web = &mut summary.services["web"];
        let (latency, wait) = (&mut web.latency_ms, &mut web.wait_ms);
        (latency.mean, latency.p50, latency.p99, latency.max) = (None, None, None, None);
        wait.p99 = None;
        web.cpu.utilization_of_requests = None;
        let text = render(&summary);
        let row = (text.lines().find(|l| l.starts_with("web ")))
            .unwrap_or_else(|| panic!("no row in {text}"));
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(&cells[5..10], ["-"; 5], "{row}");
        assert_eq!(cells.last(), Some(&"-"), "{row}");
    }

    #[test]
    fn services_that_ran_out_of_memory_get_a_line_of_their_own() {
        let mut summary = example(&[("web", None), ("batch", None)], &["p"]);
        assert!(!render(&summary).contains("out of memory"));
        let web = &mut summary.services["web"];
        web.requests.oom_killed = 40;
        web.restarts = 3;
        let text = render(&summary);
        assert!(
            text.contains(
                "web out of memory: 40 requests OOM-killed, 3 restarts, 0 pods evicted \
                 (0 requests lost)\n"
            ),
            "{text}"
        );
        assert!(!text.contains("batch out of memory"), "{text}");
    }

    #[test]
    fn services_below_their_minimum_get_a_line_of_their_own() {
        let mut summary = example(&[("web", None), ("batch", None)], &["p"]);
        for s in summary.services.values_mut() {
            s.availability.below_min_replicas_s = 0.0;
            s.requests.lost_node_failure = 0;
        }
        assert!(!render(&summary).contains("availability"));
        let web = &mut summary.services["web"];
        web.requests.lost_node_failure = 12;
        web.availability.below_min_replicas_s = 325.4;
        let text = render(&summary);
        assert!(
            text.contains(
                "web availability: 325 s below its minimum replicas, 12 requests lost to node \
                 failures\n"
            ),
            "{text}"
        );
        summary.services["batch"].availability.below_min_available_s = Some(0.0);
        summary.services["web"].availability.below_min_available_s = Some(300.0);
        let text = render(&summary);
        assert!(
            text.contains("325 s below its minimum replicas, 300 s below its disruption budget"),
            "{text}"
        );
        assert!(!text.contains("batch availability"), "{text}");
    }

    #[test]
    fn jobs_get_a_block_and_a_batch_only_run_shows_no_service_block() {
        use crate::report::summary::{DelaySummary, JobPodCounts, JobSummary, Level};
        let mut summary = example(&[], &["p"]);
        let job = |delay| JobSummary {
            namespace: "batch".into(),
            pods: JobPodCounts {
                submitted: 12,
                started: 11,
                completed: 9,
                evicted: 1,
                quota_rejected: 0,
            },
            scheduling_delay_s: delay,
            pending_pod_seconds: 380.4,
            unschedulable: Default::default(),
            running_pods: Level::new(0, 4, 1.5),
            nodes_requested: 1,
        };
        let delay = DelaySummary {
            p50: 0.0,
            p99: 95.0,
            max: 95.25,
            mean: 47.5,
        };
        summary.jobs.insert("etl".into(), job(Some(delay)));
        summary.jobs.insert("idle".into(), job(None));
        let text = render(&summary);
        assert!(!text.contains("service"), "{text}");
        let line = |name: &str| {
            let line = text.lines().find(|l| l.starts_with(name)).unwrap_or("");
            line.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        assert_eq!(line("etl"), "etl 12 11 9 1 0.0 95.0 95.2 380");
        assert_eq!(line("idle"), "idle 12 11 9 1 - - - 380");
    }
}
