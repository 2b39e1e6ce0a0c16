//! ResourceQuota admission: whether creating a pod would exceed its namespace's quota.

use std::fmt;

use crate::cluster::spec::PodSpec;
use crate::scenario::model::Quota;
use crate::units::Resources;

/// What the pods of a namespace hold against its quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QuotaUsage {
    /// Sum of requests.
    pub requests: Resources,
    /// Sum of limits.
    pub limits: Resources,
    /// Pods.
    pub pods: u32,
}

impl QuotaUsage {
    /// Charges a created pod.
    pub fn add(&mut self, pod: &PodSpec) {
        self.requests += pod.requests;
        self.limits += pod.limits;
        self.pods += 1;
    }

    /// Releases a deleted pod.
    pub fn remove(&mut self, pod: &PodSpec) {
        self.requests -= pod.requests;
        self.limits -= pod.limits;
        self.pods -= 1;
    }
}

/// A refused pod creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaExceeded {
    /// Namespace of the quota.
    pub namespace: String,
}

impl fmt::Display for QuotaExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exceeded quota: {}", self.namespace)
    }
}

/// Whether `pod` may be created given `used`.
///
/// # Errors
/// `QuotaExceeded` when any limit would be passed.
pub fn admit(quota: &Quota, used: &QuotaUsage, pod: &PodSpec) -> Result<(), QuotaExceeded> {
    let over = quota
        .requests_cpu
        .is_some_and(|h| used.requests.cpu + pod.requests.cpu > h)
        || quota
            .requests_memory
            .is_some_and(|h| used.requests.memory + pod.requests.memory > h)
        || quota
            .limits_cpu
            .is_some_and(|h| used.limits.cpu + pod.limits.cpu > h)
        || quota
            .limits_memory
            .is_some_and(|h| used.limits.memory + pod.limits.memory > h)
        || quota.pods.is_some_and(|h| used.pods + 1 > h);
    if over {
        Err(QuotaExceeded {
            namespace: quota.namespace.clone(),
        })
    } else {
        Ok(())
    }
}
