//! The summary as a plain-text table for the terminal.
//!
//! Use `render` after a run; it reads only the `Summary`, so what the terminal shows is what
//! `summary.json` holds.

use std::fmt::Write as _;

use crate::report::Summary;
use crate::text::table::push_columns;

/// The summary as aligned text columns, one block for services, one for pools, then cost and
/// quota rejections.
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

    let mut rows = vec![vec![
        "service".to_string(),
        "arrived".into(),
        "completed".into(),
        "rejected".into(),
        "timed out".into(),
        "mean ms".into(),
        "p50 ms".into(),
        "p99 ms".into(),
        "max ms".into(),
        "wait p99 ms".into(),
        "ready min/mean/max".into(),
        "pending pod-s".into(),
        "cpu used/req".into(),
    ]];
    for (name, s) in &summary.services {
        rows.push(vec![
            name.clone(),
            s.requests.arrived.to_string(),
            s.requests.completed.to_string(),
            s.requests.rejected.to_string(),
            s.requests.timed_out.to_string(),
            format!("{:.2}", s.latency_ms.mean),
            format!("{:.2}", s.latency_ms.p50),
            format!("{:.2}", s.latency_ms.p99),
            format!("{:.2}", s.latency_ms.max),
            format!("{:.2}", s.wait_ms.p99),
            format!(
                "{}/{:.2}/{}",
                s.replicas.min, s.replicas.mean, s.replicas.max
            ),
            format!("{:.0}", s.pending_pod_seconds),
            format!("{:.0}%", s.cpu.utilization_of_requests * 100.0),
        ]);
    }
    push_columns(&mut out, &rows);
    out.push('\n');

    let mut rows = vec![vec![
        "pool".to_string(),
        "machine".into(),
        "USD/h".into(),
        "nodes min/mean/max".into(),
        "node-hours".into(),
        "cost USD".into(),
    ]];
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
    push_columns(&mut out, &rows);
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
    out
}

/// Seconds as a readable span: `24h`, `1h50m`, `90s`.
fn hours(secs: f64) -> String {
    crate::units::SimDuration::from_secs_f64(secs).to_string()
}
