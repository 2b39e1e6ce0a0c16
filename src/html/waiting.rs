//! "Pods that waited and why": for each service and Job, the pods the scheduler could not
//! place at once, how long each waited, and kube-scheduler's messages.
//!
//! Use `render` on a run's files. Two sources, both the folder's own: the pod-seconds by
//! reason (kube-scheduler's or the Cluster Autoscaler's) of `summary.json`
//! (`services.<svc>.unschedulable.pod_seconds_by_reason`, read as plain JSON, shown when the
//! summary has it), and the pods of `events.jsonl` that were
//! `PodUnschedulable` before they were `PodScheduled` (or deleted, or the run ended). Each
//! workload lists at most `MAX_PODS` pods, the longest waits first, and counts the rest.

use indexmap::IndexMap;

use crate::html::page::{Table, escape, paragraph};
use crate::html::run::RunFiles;
use crate::html::timeline::clock;
use crate::report::{ClusterEvent, EventKind};

/// The most pods listed per service or Job.
pub(crate) const MAX_PODS: usize = 50;

/// One pod that waited.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Wait {
    /// The pod's name.
    pub(crate) pod: String,
    /// From its creation (or its first `PodUnschedulable` when its creation is not logged).
    pub(crate) from_s: f64,
    /// When it was bound, deleted, or the run ended.
    pub(crate) until_s: f64,
    /// How the wait ended: `scheduled on <node>`, `deleted`, `still waiting at the end`.
    pub(crate) outcome: String,
    /// kube-scheduler's messages, each once, in the order they came.
    pub(crate) messages: Vec<String>,
}

/// A workload's pods that waited, in the order they were created, from `events`; a run that
/// ended at `end_s` leaves the unbound ones waiting until then.
pub(crate) fn waits(events: &[ClusterEvent], end_s: f64) -> IndexMap<String, Vec<Wait>> {
    // Per pod: (workload, creation, wait so far).
    let mut pods: IndexMap<String, (String, f64, Option<Wait>)> = IndexMap::new();
    let mut done: IndexMap<String, Vec<Wait>> = IndexMap::new();
    for e in events {
        let (Some(pod), Some(workload)) = (&e.pod, e.service.as_ref().or(e.job.as_ref())) else {
            continue;
        };
        match e.event {
            EventKind::PodCreated => {
                pods.insert(pod.clone(), (workload.clone(), e.time_s, None));
            }
            EventKind::PodUnschedulable => {
                let entry = pods
                    .entry(pod.clone())
                    .or_insert_with(|| (workload.clone(), e.time_s, None));
                let from_s = entry.1;
                let wait = entry.2.get_or_insert_with(|| Wait {
                    pod: pod.clone(),
                    from_s,
                    until_s: end_s,
                    outcome: "still waiting at the end".into(),
                    messages: Vec::new(),
                });
                if let Some(message) = &e.reason
                    && !wait.messages.contains(message)
                {
                    wait.messages.push(message.clone());
                }
            }
            EventKind::PodScheduled | EventKind::PodDeleted => {
                let Some((workload, _, Some(mut wait))) = pods.swap_remove(pod) else {
                    continue;
                };
                wait.until_s = e.time_s;
                wait.outcome = match (&e.event, &e.node) {
                    (EventKind::PodScheduled, Some(node)) => format!("scheduled on {node}"),
                    (EventKind::PodScheduled, None) => "scheduled".into(),
                    _ => "deleted while waiting".into(),
                };
                done.entry(workload).or_default().push(wait);
            }
            _ => {}
        }
    }
    for (_, (workload, _, wait)) in pods {
        if let Some(wait) = wait {
            done.entry(workload).or_default().push(wait);
        }
    }
    done
}

/// The section: per service and Job, the reasons' pod-seconds and the pods that waited.
pub(crate) fn render(files: &RunFiles) -> String {
    let summary = &files.summary;
    let all = waits(&files.events, summary.simulated.duration_s);
    let mut out = paragraph(
        "Pods the scheduler could not place when they were created: how long each waited for a \
         node and kube-scheduler's message (from events.jsonl; times are simulated h:mm:ss from \
         the start of the run, warm-up included).",
    );
    let workloads = summary
        .services
        .iter()
        .map(|(name, s)| (name, "services", s.pending_pod_seconds))
        .chain(
            summary
                .jobs
                .iter()
                .map(|(name, j)| (name, "jobs", j.pending_pod_seconds)),
        );
    for (name, section, pending_pod_s) in workloads {
        out.push_str(&format!("<h3>{}</h3>\n", escape(name)));
        out.push_str(&paragraph(&format!(
            "{pending_pod_s:.0} pod-seconds Pending in the measured window (summary.json)."
        )));
        if let Some(table) = reasons_table(&files.summary_json, section, name) {
            out.push_str(&table.render());
        }
        if let Some(refused_s) = quota_refused_s(&files.summary_json, section, name) {
            out.push_str(&paragraph(&format!(
                "{refused_s:.0} pod-seconds of pods the ResourceQuota refused to create (never \
                 Pending, so not in the pod-seconds above)."
            )));
        }
        match all.get(name.as_str()) {
            Some(waits) => out.push_str(&pods_table(waits)),
            None => out.push_str(&paragraph("No pod waited for a node.")),
        }
    }
    out
}

/// `<section>.<name>.unschedulable` of the summary (read as plain JSON), when it has one.
fn unschedulable<'a>(
    summary: &'a serde_json::Value,
    section: &str,
    name: &str,
) -> Option<&'a serde_json::Value> {
    summary.get(section)?.get(name)?.get("unschedulable")
}

/// `<section>.<name>.unschedulable.quota_refused_seconds` of the summary, when above zero.
fn quota_refused_s(summary: &serde_json::Value, section: &str, name: &str) -> Option<f64> {
    let seconds = unschedulable(summary, section, name)?
        .get("quota_refused_seconds")?
        .as_f64()?;
    (seconds > 0.0).then_some(seconds)
}

/// `<section>.<name>.unschedulable.pod_seconds_by_reason` of the summary, largest first.
fn reasons_table(summary: &serde_json::Value, section: &str, name: &str) -> Option<Table> {
    let reasons = unschedulable(summary, section, name)?
        .get("pod_seconds_by_reason")?
        .as_object()?;
    let mut rows: Vec<(&String, f64)> = reasons
        .iter()
        .filter_map(|(reason, v)| Some((reason, v.as_f64()?)))
        .collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut table = Table::new("", &["reason", "pod-seconds"]);
    table.rows = rows
        .into_iter()
        .map(|(reason, s)| vec![reason.clone(), format!("{s:.0}")])
        .collect();
    Some(table)
}

/// The pods that waited, longest first, at most `MAX_PODS`, with a note for the rest.
fn pods_table(waits: &[Wait]) -> String {
    let total_s: f64 = waits.iter().map(|w| w.until_s - w.from_s).sum();
    let mut sorted: Vec<&Wait> = waits.iter().collect();
    sorted.sort_by(|a, b| {
        (b.until_s - b.from_s)
            .total_cmp(&(a.until_s - a.from_s))
            .then_with(|| a.from_s.total_cmp(&b.from_s))
    });
    let mut out = paragraph(&format!(
        "{} pods waited, {total_s:.0} pod-seconds in all (whole run).",
        waits.len()
    ));
    let mut table = Table::new(
        "",
        &[
            "pod",
            "created",
            "waited s",
            "until",
            "kube-scheduler's message",
        ],
    );
    for w in sorted.iter().take(MAX_PODS) {
        table.rows.push(vec![
            w.pod.clone(),
            clock(w.from_s),
            format!("{:.1}", w.until_s - w.from_s),
            format!("{} ({})", w.outcome, clock(w.until_s)),
            w.messages.join(" | "),
        ]);
    }
    out.push_str(&table.render());
    if waits.len() > MAX_PODS {
        let rest_s: f64 = sorted[MAX_PODS..]
            .iter()
            .map(|w| w.until_s - w.from_s)
            .sum();
        out.push_str(&format!(
            "<p class=\"note\">{} more pods waited less long ({rest_s:.0} pod-seconds); \
             events.jsonl lists them.</p>\n",
            waits.len() - MAX_PODS
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod_event(time_s: f64, kind: EventKind, pod: &str) -> ClusterEvent {
        ClusterEvent {
            service: Some("web".into()),
            pod: Some(pod.into()),
            ..ClusterEvent::new(time_s, kind)
        }
    }

    #[test]
    fn a_pod_waits_from_its_creation_to_its_binding_with_each_message_once() {
        let message = |m: &str| Some(m.to_string());
        let events = vec![
            pod_event(10.0, EventKind::PodCreated, "web-1"),
            ClusterEvent {
                reason: message("0/3 nodes are available: 3 Insufficient cpu."),
                ..pod_event(10.0, EventKind::PodUnschedulable, "web-1")
            },
            ClusterEvent {
                reason: message("0/4 nodes are available: 4 Insufficient cpu."),
                ..pod_event(50.0, EventKind::PodUnschedulable, "web-1")
            },
            ClusterEvent {
                reason: message("0/3 nodes are available: 3 Insufficient cpu."),
                ..pod_event(60.0, EventKind::PodUnschedulable, "web-1")
            },
            ClusterEvent {
                node: Some("p-3".into()),
                ..pod_event(100.0, EventKind::PodScheduled, "web-1")
            },
            pod_event(20.0, EventKind::PodCreated, "web-2"),
            pod_event(20.0, EventKind::PodScheduled, "web-2"),
            pod_event(30.0, EventKind::PodCreated, "web-3"),
            pod_event(30.0, EventKind::PodUnschedulable, "web-3"),
        ];
        let waits = waits(&events, 600.0);
        let web = &waits["web"];
        assert_eq!(web.len(), 2, "web-2 was bound at once: {web:?}");
        assert_eq!(web[0].pod, "web-1");
        assert_eq!((web[0].from_s, web[0].until_s), (10.0, 100.0));
        assert_eq!(web[0].outcome, "scheduled on p-3");
        assert_eq!(web[0].messages.len(), 2);
        assert_eq!((web[1].from_s, web[1].until_s), (30.0, 600.0));
        assert_eq!(web[1].outcome, "still waiting at the end");
    }

    #[test]
    fn reasons_come_from_the_summary_when_it_has_them() {
        let summary = serde_json::json!({"services": {"web": {"unschedulable": {
            "pod_seconds_by_reason": {"Insufficient cpu": 30.0, "Too many pods": 120.0}}}}});
        let table = reasons_table(&summary, "services", "web").unwrap_or_default();
        assert_eq!(
            table.rows,
            [["Too many pods", "120"], ["Insufficient cpu", "30"]]
        );
        assert!(reasons_table(&summary, "services", "api").is_none());
    }

    #[test]
    fn quota_refusals_show_only_when_there_were_some() {
        let summary = serde_json::json!({"services": {
            "web": {"unschedulable": {"quota_refused_seconds": 600.0}},
            "api": {"unschedulable": {"quota_refused_seconds": 0.0}}}});
        assert_eq!(quota_refused_s(&summary, "services", "web"), Some(600.0));
        assert_eq!(quota_refused_s(&summary, "services", "api"), None);
        assert_eq!(quota_refused_s(&summary, "jobs", "web"), None);
    }
}
