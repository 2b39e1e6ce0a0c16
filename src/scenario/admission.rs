//! What admission adds to a pod before the scheduler sees it, as the scenario's cloud does:
//! GKE's ExtendedResourceToleration plugin, which gives a pod that requests an extended
//! resource the toleration of that resource's taint on GKE's GPU node pools.
//!
//! Use `trace_pod` wherever a pod of a trace job is made: validation checks that it fits some
//! pool with it, and a run creates it with it, so both see the same pod.

use crate::cluster::pool::NodePool;
use crate::cluster::spec::{PodSpec, Taint, TaintEffect, Toleration, TolerationOperator};
use crate::controllers::job::TracePod;
use crate::units::Resources;

pub use crate::cluster::spec::NVIDIA_GPU;

/// The taint GKE puts on the nodes of GPU node pools, `nvidia.com/gpu=present:NoSchedule`, so
/// that only pods that ask for GPUs (and get the matching toleration from the
/// ExtendedResourceToleration admission plugin GKE runs) land on them.
pub fn gke_gpu_taint() -> Taint {
    Taint {
        key: NVIDIA_GPU.to_string(),
        value: "present".to_string(),
        effect: TaintEffect::NoSchedule,
    }
}

/// GKE's ExtendedResourceToleration admission plugin: when GKE has tainted GPU pools, a pod that
/// requests an extended resource gets a toleration of that resource's `NoSchedule` taint (key
/// the resource's name, operator `Exists`), unless it has one already.
pub fn add_extended_resource_tolerations(pod: &mut PodSpec, pools: &[NodePool]) {
    let gpu_taint = gke_gpu_taint();
    if !pools.iter().any(|p| p.taints.contains(&gpu_taint)) {
        return;
    }
    for (i, name) in pod.extended_names.iter().enumerate() {
        let toleration = Toleration {
            key: name.clone(),
            operator: TolerationOperator::Exists,
            value: String::new(),
            effect: Some(TaintEffect::NoSchedule),
            toleration_seconds: None,
        };
        if pod.requests.extended.0[i] > 0 && !pod.tolerations.contains(&toleration) {
            pod.tolerations.push(toleration);
        }
    }
}

/// The pod of one row of a trace job whose pod template is `template` (`JobSpec::pod`): the
/// template's placement rules and tolerations, the row's requests, no limits, and the
/// tolerations admission adds for the extended resources the row requests (`pools` are the
/// scenario's). The template itself cannot carry those: the trace's CPU-only pods share it.
pub fn trace_pod(template: &PodSpec, row: &TracePod, pools: &[NodePool]) -> PodSpec {
    let mut pod = template.clone();
    pod.requests = row.requests;
    pod.limits = Resources::ZERO;
    pod.has_cpu_request = true;
    pod.has_memory_request = true;
    add_extended_resource_tolerations(&mut pod, pools);
    pod
}
