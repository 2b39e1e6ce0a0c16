//! The cluster event log: what happened to pods, nodes and quotas, when and why.
//!
//! Use `ClusterEvent` for anything a `kubectl get events` would show. Request-level happenings
//! are not events: they are counted in the statistics instead. `events.jsonl` holds one
//! `ClusterEvent` per line, as serde writes it; read the file back with `read_events`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::report::files::{ReadError, read_text};

/// Reads an `events.jsonl` back into the events that wrote it, in file order.
///
/// # Errors
/// A missing or unreadable file, or a line that is not a `ClusterEvent` (named by its 1-based
/// number).
pub fn read_events(path: &Path) -> Result<Vec<ClusterEvent>, ReadError> {
    let text = read_text(path)?;
    let mut events = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let event = serde_json::from_str(line).map_err(|e| ReadError::Json {
            path: path.to_path_buf(),
            message: format!("line {}: not a capsim event: {e}", i + 1),
        })?;
        events.push(event);
    }
    Ok(events)
}

/// What kind of thing happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// A pod object was created (admitted by its namespace's quota).
    PodCreated,
    /// The scheduler bound a pod to a node.
    PodScheduled,
    /// The scheduler found no node for a pod (the message says why, in kube-scheduler's words).
    PodUnschedulable,
    /// A pod passed its readiness probe and started receiving traffic.
    PodReady,
    /// A pod was asked to stop: it receives no new requests and drains the ones it has.
    PodTerminating,
    /// A pod was evicted: from a node being removed, or by its node's kubelet under memory
    /// pressure (the reason says which); its ReplicaSet replaces it.
    PodEvicted,
    /// The kernel killed a pod's container for using more memory than its limit (the
    /// container's `OOMKilled`): its requests failed and it left the Service's endpoints.
    PodOomKilled,
    /// The kubelet holds an OOM-killed container back before restarting it (`BackOff`, with
    /// the delay: 10 s doubling to 5 minutes).
    PodBackOff,
    /// The kubelet restarted a killed container in place after its back-off; the pod is Ready
    /// again after its readiness delay.
    PodRestarted,
    /// A pod object was removed.
    PodDeleted,
    /// A node was requested (billing starts).
    NodeAdded,
    /// A node became Ready for pods.
    NodeReady,
    /// The Cluster Autoscaler started removing a node: tainted, its pods evicted.
    NodeDraining,
    /// A drain gave up: pods its disruption budgets kept were still there after the eviction
    /// timeout; the node stays and loses its taint.
    NodeDrainFailed,
    /// The cloud preempted a Spot VM: its pods are terminated and a replacement is asked for.
    NodePreempted,
    /// A node stopped reporting (a random failure, or its zone's outage): it is tainted unreachable, its pods stop
    /// serving and are evicted once their toleration of the taint runs out.
    NodeNotReady,
    /// The cloud's auto-repair deleted a NotReady node's VM and asked for a new one.
    NodeRepaired,
    /// A node was removed (billing stops).
    NodeRemoved,
    /// A zone went out (`outages`): its nodes are unreachable and no VM can be created there.
    ZoneOutage,
    /// A zone came back after its outage: its nodes report again and its VMs are created.
    ZoneRecovered,
    /// A pod creation was refused by a ResourceQuota.
    QuotaRejected,
    /// An HPA changed its target's replicas (with the metrics and conditions behind it).
    HpaRescale,
    /// An alert rule started firing (with the value that made it).
    AlertFiring,
    /// A firing alert rule's condition no longer holds.
    AlertResolved,
    /// An HPA's conditions changed without a rescale (for example it hit maxReplicas).
    HpaConditions,
}

/// One entry of `events.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterEvent {
    /// Simulated seconds since the start of the run.
    pub time_s: f64,
    /// What happened.
    pub event: EventKind,
    /// Service (Deployment) concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Job concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Namespace concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Pod concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// Node concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Node pool concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    /// Why, in Kubernetes' words where Kubernetes has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Replicas before an HPA decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_replicas: Option<u32>,
    /// Replicas after an HPA decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_replicas: Option<u32>,
    /// What the controller saw: metric values, conditions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl ClusterEvent {
    /// An event of `kind` at `time_s` with no subject yet; fill in the fields that apply.
    pub fn new(time_s: f64, event: EventKind) -> ClusterEvent {
        ClusterEvent {
            time_s,
            event,
            service: None,
            job: None,
            namespace: None,
            pod: None,
            node: None,
            pool: None,
            reason: None,
            from_replicas: None,
            to_replicas: None,
            detail: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_line_reads_back_to_the_same_event() {
        let event = ClusterEvent {
            pod: Some("web-0".into()),
            from_replicas: Some(2),
            to_replicas: Some(3),
            ..ClusterEvent::new(61.5, EventKind::HpaRescale)
        };
        let line = serde_json::to_string(&event).unwrap_or_else(|e| panic!("{e}"));
        // Absent fields are left out, not written as null.
        assert_eq!(
            line,
            r#"{"time_s":61.5,"event":"HpaRescale","pod":"web-0","from_replicas":2,"to_replicas":3}"#
        );
        let read: ClusterEvent = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read, event);
    }

    #[test]
    fn a_bad_line_is_named_by_its_number() {
        let dir = std::env::temp_dir().join(format!("capsim-events-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("events.jsonl");
        let good = r#"{"time_s":1.0,"event":"NodeReady","node":"p-0"}"#;
        let _ = std::fs::write(&path, format!("{good}\n{good}\n{{\"time_s\":2}}\n"));
        let err = read_events(&path).map(|_| ()).unwrap_err().to_string();
        assert!(
            err.contains("events.jsonl: line 3: not a capsim event: missing field `event`"),
            "{err}"
        );
        let _ = std::fs::write(&path, format!("{good}\n"));
        let events = read_events(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].node.as_deref(), Some("p-0"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
