//! The timeline of a run's decisions, from `events.jsonl`: HPA rescales with the metric values
//! behind them, nodes added with the Cluster Autoscaler's reason, drains, removals,
//! preemptions, evictions, OOM kills, quota refusals and alerts.
//!
//! Use `render` on the run's events. A pod's routine life (created, scheduled, Ready,
//! terminating, deleted, restarted) is left out: the waiting pods have their own section
//! (`waiting`), and the counts of every kind are shown above the timeline. A long run lists at
//! most `MAX_ROWS` decisions, of which at most `MAX_REPEATED` HPA condition changes and as many
//! quota refusals, and counts the rest by kind, so that a report stays small.

use std::fmt::Write as _;

use indexmap::IndexMap;

use crate::html::page::{Table, escape, paragraph};
use crate::report::{ClusterEvent, EventKind};

/// The most decisions the timeline lists; the rest are counted in a note.
pub(crate) const MAX_ROWS: usize = 400;

/// The most HPA condition changes, and the most quota refusals, the timeline lists: they
/// repeat, and must not crowd out the rescales and node decisions.
pub(crate) const MAX_REPEATED: usize = 60;

/// Whether an event is a decision the timeline lists (a controller, the cloud, the kubelet or
/// the API server acting), as opposed to a pod's routine life.
pub(crate) fn is_decision(kind: EventKind) -> bool {
    use EventKind::*;
    match kind {
        HpaRescale | HpaConditions | NodeAdded | NodeDraining | NodeDrainFailed | NodePreempted
        | NodeNotReady | NodeRepaired | NodeRemoved | PodEvicted | PodOomKilled | QuotaRejected
        | AlertFiring | AlertResolved | ZoneOutage | ZoneRecovered => true,
        PodCreated | PodScheduled | PodUnschedulable | PodReady | PodTerminating | PodBackOff
        | PodRestarted | PodDeleted | NodeReady => false,
    }
}

/// The counts of every kind of event, then the decisions as a table (see `select`) with
/// id `prefix` + `timeline`.
pub(crate) fn render(events: &[ClusterEvent], prefix: &str) -> String {
    let mut counts: IndexMap<String, usize> = IndexMap::new();
    for e in events {
        *counts.entry(format!("{:?}", e.event)).or_default() += 1;
    }
    let mut out = String::new();
    if events.is_empty() {
        return paragraph("events.jsonl holds no events.");
    }
    let mut kinds = Table::new(
        &format!("{prefix}event-counts"),
        &["event", "count", "listed below"],
    );
    for (kind, n) in &counts {
        let listed = events
            .iter()
            .find(|e| format!("{:?}", e.event) == *kind)
            .is_some_and(|e| is_decision(e.event));
        kinds.rows.push(vec![
            kind.clone(),
            n.to_string(),
            if listed { "yes" } else { "no" }.into(),
        ]);
    }
    out.push_str("<details><summary>Every event by kind</summary>\n");
    out.push_str(&kinds.render());
    out.push_str("</details>\n");

    let decisions: Vec<&ClusterEvent> = events.iter().filter(|e| is_decision(e.event)).collect();
    if decisions.is_empty() {
        out.push_str(&paragraph("No controller decision in this run."));
        return out;
    }
    let _ = writeln!(
        out,
        "<table class=\"sortable\" id=\"{prefix}timeline\"><thead><tr><th>time</th>\
         <th>event</th><th>subject</th><th>what</th><th>why</th></tr></thead><tbody>",
    );
    let (listed, left) = select(&decisions);
    for e in &listed {
        row(&mut out, e);
    }
    out.push_str("</tbody></table>\n");
    if !left.is_empty() {
        let mut rest: IndexMap<String, usize> = IndexMap::new();
        for e in &left {
            *rest.entry(format!("{:?}", e.event)).or_default() += 1;
        }
        let rest: Vec<String> = rest.iter().map(|(k, n)| format!("{n} {k}")).collect();
        out.push_str(&format!(
            "<p class=\"note\">{} more decisions not listed ({}); events.jsonl holds them \
             all.</p>\n",
            left.len(),
            escape(&rest.join(", "))
        ));
    }
    out
}

/// The decisions to list and those left out: every kind in time order, the repetitive kinds
/// (HPA condition changes, quota refusals) at most `MAX_REPEATED` each, `MAX_ROWS` in all.
fn select<'e>(decisions: &[&'e ClusterEvent]) -> (Vec<&'e ClusterEvent>, Vec<&'e ClusterEvent>) {
    let (mut listed, mut left) = (Vec::new(), Vec::new());
    let (mut conditions, mut refusals) = (0, 0);
    for &e in decisions {
        let count = match e.event {
            EventKind::HpaConditions => Some(&mut conditions),
            EventKind::QuotaRejected => Some(&mut refusals),
            _ => None,
        };
        let room = listed.len() < MAX_ROWS;
        match count {
            Some(n) if *n < MAX_REPEATED && room => {
                *n += 1;
                listed.push(e);
            }
            None if room => listed.push(e),
            _ => left.push(e),
        }
    }
    (listed, left)
}

/// One decision as a table row.
fn row(out: &mut String, e: &ClusterEvent) {
    let subject = [&e.service, &e.job, &e.pool, &e.node, &e.pod]
        .iter()
        .filter_map(|s| s.as_deref())
        .collect::<Vec<_>>()
        .join(" / ");
    let what = match (e.from_replicas, e.to_replicas) {
        (Some(from), Some(to)) if from != to => format!("{from} → {to} replicas"),
        (Some(from), Some(_)) => format!("{from} replicas"),
        _ => String::new(),
    };
    let why = why(e);
    let _ = writeln!(
        out,
        "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        clock(e.time_s),
        escape(&format!("{:?}", e.event)),
        escape(&subject),
        escape(&what),
        why
    );
}

/// The reason and the detail as HTML: an HPA's conditions fold away under its metric values.
fn why(e: &ClusterEvent) -> String {
    let mut parts = Vec::new();
    match (&e.reason, e.event) {
        (Some(reason), _) => parts.push(escape(reason)),
        (None, EventKind::NodeAdded) if e.time_s == 0.0 => {
            parts.push("initial node of the pool".into());
        }
        _ => {}
    }
    if let Some(detail) = &e.detail {
        match detail.split_once("; conditions: ") {
            Some((metrics, conditions)) => {
                parts.push(escape(metrics));
                parts.push(format!(
                    "<details><summary>conditions</summary>{}</details>",
                    escape(conditions)
                ));
            }
            None => parts.push(escape(detail)),
        }
    }
    parts.join("<br>")
}

/// Simulated seconds as `h:mm:ss` (tenths when not whole).
pub(crate) fn clock(time_s: f64) -> String {
    let tenths = (time_s * 10.0).round() as u64;
    let (whole, tenth) = (tenths / 10, tenths % 10);
    let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60);
    if tenth == 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{h}:{m:02}:{s:02}.{tenth}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(time_s: f64, kind: EventKind) -> ClusterEvent {
        ClusterEvent::new(time_s, kind)
    }

    #[test]
    fn clock_reads_hours_minutes_seconds() {
        assert_eq!(clock(0.0), "0:00:00");
        assert_eq!(clock(331.514301), "0:05:31.5");
        assert_eq!(clock(90_061.0), "25:01:01");
    }

    #[test]
    fn decisions_are_listed_with_their_reasons_and_routine_events_are_not() {
        let rescale = ClusterEvent {
            service: Some("web".into()),
            reason: Some("All metrics below target".into()),
            from_replicas: Some(3),
            to_replicas: Some(2),
            detail: Some("metrics: cpu 45 (target 70) -> 2 replicas; conditions: A<B".into()),
            ..event(331.5, EventKind::HpaRescale)
        };
        let created = ClusterEvent {
            pod: Some("web-9".into()),
            ..event(332.0, EventKind::PodCreated)
        };
        let html = render(&[rescale, created], "");
        assert!(
            html.contains("<td>web</td><td>3 → 2 replicas</td>"),
            "{html}"
        );
        assert!(html.contains("All metrics below target<br>metrics: cpu 45 (target 70)"));
        assert!(html.contains("<details><summary>conditions</summary>A&lt;B</details>"));
        assert!(
            !html.contains("web-9"),
            "routine pod events are counted, not listed"
        );
        assert!(html.contains("<td>PodCreated</td><td class=\"n\">1</td><td>no</td>"));
    }

    #[test]
    fn a_long_timeline_is_capped_and_repeats_do_not_crowd_out_rescales() {
        let mut events: Vec<ClusterEvent> = (0..MAX_REPEATED + 30)
            .map(|i| event(i as f64, EventKind::HpaConditions))
            .collect();
        events.push(ClusterEvent {
            from_replicas: Some(2),
            to_replicas: Some(5),
            ..event(1000.0, EventKind::HpaRescale)
        });
        let html = render(&events, "");
        assert!(
            html.contains("2 → 5 replicas"),
            "the rescale after the repeats is listed"
        );
        let table = &html[html.find("id=\"timeline\"").unwrap_or(0)..];
        assert_eq!(table.matches("<tr><td").count(), MAX_REPEATED + 1);
        assert!(html.contains("30 more decisions not listed (30 HpaConditions)"));

        let events: Vec<ClusterEvent> = (0..MAX_ROWS + 25)
            .map(|i| event(i as f64, EventKind::NodeRemoved))
            .collect();
        let html = render(&events, "");
        let table = &html[html.find("id=\"timeline\"").unwrap_or(0)..];
        assert_eq!(table.matches("<tr><td").count(), MAX_ROWS);
        assert!(html.contains("25 more decisions not listed (25 NodeRemoved)"));
    }
}
