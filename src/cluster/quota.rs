//! ResourceQuota admission: whether creating a pod would exceed its namespace's quota, decided and
//! worded as the API server's ResourceQuota admission plugin does.
//!
//! Use `QuotaUsage` for a namespace's running totals (add a pod when it is created, remove it when
//! it is deleted) and call `admit` before creating a pod; a rejected pod is never created, which
//! is how a quota silently caps what an HPA asks for. Nothing here keeps state: the simulation
//! owns one `QuotaUsage` per namespace.
//!
//! Modelled resources: `requests.cpu`, `requests.memory`, `limits.cpu`, `limits.memory`, `pods`,
//! and `requests.<name>` for extended resources (`requests.nvidia.com/gpu`), the only form
//! Kubernetes' pod evaluator counts them in (`isExtendedResourceNameForQuota`: extended resources
//! are never overcommitted, so a limit would say nothing a request does not).
//! Not modelled: quota scopes, other object counts, LimitRange defaults, and the rule that a pod
//! must declare a request (or limit) for every cpu/memory resource its namespace's quota tracks
//! (Kubernetes rejects it with "must specify …"; here a missing value counts as 0).

use std::fmt;

use crate::cluster::spec::{ExtendedNames, PodSpec, extended_name};
use crate::units::{Bytes, MAX_EXTENDED_RESOURCES, Millicores, Resources};

/// A namespace's ResourceQuota (`spec.hard`). Absent entries are unlimited.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Quota {
    /// Namespace the quota applies to.
    pub namespace: String,
    /// `requests.cpu`.
    pub requests_cpu: Option<Millicores>,
    /// `requests.memory`.
    pub requests_memory: Option<Bytes>,
    /// `limits.cpu`.
    pub limits_cpu: Option<Millicores>,
    /// `limits.memory`.
    pub limits_memory: Option<Bytes>,
    /// `pods`.
    pub pods: Option<u32>,
    /// `requests.<name>` of each extended resource, indexed as `Resources.extended` is.
    pub requests_extended: [Option<u32>; MAX_EXTENDED_RESOURCES],
    /// The scenario's extended resource names, which the refusal message spells out.
    pub extended_names: ExtendedNames,
}

/// What the pods of one namespace request and limit in total, as a ResourceQuota's `status.used`
/// counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct QuotaUsage {
    /// Sum of the pods' requests.
    pub requests: Resources,
    /// Sum of the pods' limits (zero for pods that set none).
    pub limits: Resources,
    /// Number of pods.
    pub pods: u32,
}

/// A resource a ResourceQuota can limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuotaResource {
    /// `limits.cpu`, in millicores.
    LimitsCpu,
    /// `limits.memory`, in bytes.
    LimitsMemory,
    /// `pods`, a count.
    Pods,
    /// `requests.cpu`, in millicores.
    RequestsCpu,
    /// `requests.memory`, in bytes.
    RequestsMemory,
    /// `requests.<name>` of the extended resource at this index of the scenario's table, in
    /// whole units.
    RequestsExtended(usize),
}

/// One resource over its quota: the amounts in the resource's unit (millicores, bytes or pods).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExceededResource {
    /// Which resource.
    pub resource: QuotaResource,
    /// What the pod would add.
    pub requested: u64,
    /// What the namespace uses already.
    pub used: u64,
    /// The quota's hard limit.
    pub limited: u64,
}

/// A pod refused by ResourceQuota admission. `Display` gives the API server's message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuotaExceeded {
    /// The quota's name; capsim names each namespace's quota after its namespace.
    pub quota: String,
    /// The resources the pod would push over the limit, sorted by name; never empty.
    pub exceeded: Vec<ExceededResource>,
    /// The scenario's extended resource names, for the names of `RequestsExtended` resources.
    pub extended_names: ExtendedNames,
}

/// Decides whether a pod may be created in a namespace whose quota is `quota` and whose pods use
/// `used`, as the ResourceQuota admission plugin does: for every resource the quota limits and the
/// pod uses a non-zero amount of, `used + pod's amount` must not exceed the limit. Resources the
/// pod does not use are not checked, even if already over their limit (a quota lowered below
/// usage blocks only pods that add to it).
///
/// # Errors
/// `QuotaExceeded` listing every exceeded resource.
pub fn admit(quota: &Quota, used: &QuotaUsage, pod: &PodSpec) -> Result<(), QuotaExceeded> {
    let requested = QuotaUsage::of_pod(pod);
    let mut exceeded: Vec<ExceededResource> = QuotaResource::all()
        .filter_map(|resource| {
            let limited = resource.hard(quota)?;
            let requested = requested.amount(resource);
            if requested == 0 {
                return None;
            }
            let used = used.amount(resource);
            (used.saturating_add(requested) > limited).then_some(ExceededResource {
                resource,
                requested,
                used,
                limited,
            })
        })
        .collect();
    if exceeded.is_empty() {
        return Ok(());
    }
    // Kubernetes prints the resources sorted by name.
    exceeded.sort_by_cached_key(|e| e.resource.name(&quota.extended_names));
    Err(QuotaExceeded {
        quota: quota.namespace.clone(),
        exceeded,
        extended_names: quota.extended_names.clone(),
    })
}

impl QuotaUsage {
    /// No pods.
    pub const ZERO: QuotaUsage = QuotaUsage {
        requests: Resources::ZERO,
        limits: Resources::ZERO,
        pods: 0,
    };

    /// What one pod counts for: its requests, its limits, one pod.
    pub fn of_pod(pod: &PodSpec) -> QuotaUsage {
        QuotaUsage {
            requests: pod.requests,
            limits: pod.limits,
            pods: 1,
        }
    }

    /// Accounts for a pod created in the namespace.
    pub fn add_pod(&mut self, pod: &PodSpec) {
        self.requests += pod.requests;
        self.limits += pod.limits;
        self.pods += 1;
    }

    /// Accounts for a pod of the namespace being deleted.
    ///
    /// # Panics
    /// If the namespace has no pod: removing a pod that was never added is a simulation bug.
    pub fn remove_pod(&mut self, pod: &PodSpec) {
        assert!(
            self.pods > 0,
            "removing a pod from a namespace without pods"
        );
        self.requests -= pod.requests;
        self.limits -= pod.limits;
        self.pods -= 1;
    }

    /// The amount of `resource` used, in its unit.
    pub fn amount(&self, resource: QuotaResource) -> u64 {
        match resource {
            QuotaResource::LimitsCpu => self.limits.cpu.0,
            QuotaResource::LimitsMemory => self.limits.memory.0,
            QuotaResource::Pods => u64::from(self.pods),
            QuotaResource::RequestsCpu => self.requests.cpu.0,
            QuotaResource::RequestsMemory => self.requests.memory.0,
            QuotaResource::RequestsExtended(i) => u64::from(self.requests.extended.0[i]),
        }
    }
}

impl QuotaResource {
    /// The resources with a fixed name, in name order.
    pub const FIXED: [QuotaResource; 5] = [
        QuotaResource::LimitsCpu,
        QuotaResource::LimitsMemory,
        QuotaResource::Pods,
        QuotaResource::RequestsCpu,
        QuotaResource::RequestsMemory,
    ];

    /// Every resource: the fixed ones, then each extended resource's request.
    pub fn all() -> impl Iterator<Item = QuotaResource> {
        QuotaResource::FIXED
            .into_iter()
            .chain((0..MAX_EXTENDED_RESOURCES).map(QuotaResource::RequestsExtended))
    }

    /// The resource's name in a ResourceQuota's `spec.hard`; `extended_names` is the scenario's
    /// table of extended resource names.
    pub fn name(self, extended_names: &[String]) -> String {
        match self {
            QuotaResource::LimitsCpu => "limits.cpu".into(),
            QuotaResource::LimitsMemory => "limits.memory".into(),
            QuotaResource::Pods => "pods".into(),
            QuotaResource::RequestsCpu => "requests.cpu".into(),
            QuotaResource::RequestsMemory => "requests.memory".into(),
            QuotaResource::RequestsExtended(i) => {
                format!("requests.{}", extended_name(extended_names, i))
            }
        }
    }

    /// The quota's hard limit on this resource, if it sets one.
    pub fn hard(self, quota: &Quota) -> Option<u64> {
        match self {
            QuotaResource::LimitsCpu => quota.limits_cpu.map(|m| m.0),
            QuotaResource::LimitsMemory => quota.limits_memory.map(|b| b.0),
            QuotaResource::Pods => quota.pods.map(u64::from),
            QuotaResource::RequestsCpu => quota.requests_cpu.map(|m| m.0),
            QuotaResource::RequestsMemory => quota.requests_memory.map(|b| b.0),
            QuotaResource::RequestsExtended(i) => quota.requests_extended[i].map(u64::from),
        }
    }

    /// `amount` in Kubernetes' canonical quantity notation: cpu as `2` or `500m`, memory as `4Gi`
    /// when a binary suffix is exact, else in bytes; pods and extended resources as a count.
    pub fn format(self, amount: u64) -> String {
        match self {
            QuotaResource::LimitsCpu | QuotaResource::RequestsCpu => {
                format_millicores(Millicores(amount))
            }
            QuotaResource::LimitsMemory | QuotaResource::RequestsMemory => {
                format_bytes(Bytes(amount))
            }
            QuotaResource::Pods | QuotaResource::RequestsExtended(_) => {
                format_decimal_si(amount, 0)
            }
        }
    }
}

impl fmt::Display for QuotaExceeded {
    /// `exceeded quota: <name>, requested: requests.cpu=2, used: requests.cpu=16, limited:
    /// requests.cpu=16`: each list names only the exceeded resources, sorted, joined by `,`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |value: fn(&ExceededResource) -> u64| {
            self.exceeded
                .iter()
                .map(|e| {
                    let name = e.resource.name(&self.extended_names);
                    format!("{name}={}", e.resource.format(value(e)))
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        write!(
            f,
            "exceeded quota: {}, requested: {}, used: {}, limited: {}",
            self.quota,
            list(|e| e.requested),
            list(|e| e.used),
            list(|e| e.limited)
        )
    }
}

impl std::error::Error for QuotaExceeded {}

/// CPU the way `resource.Quantity` prints a DecimalSI value: `2`, `500m`, `1500m`, `2k`.
pub(crate) fn format_millicores(cpu: Millicores) -> String {
    format_decimal_si(cpu.0, -3)
}

/// Memory the way `resource.Quantity` prints a BinarySI value: the largest binary suffix that is
/// exact (`4Gi`, `512Mi`, `1536Mi`), else bytes; below 1024 it switches to DecimalSI as
/// Kubernetes does (`1000` bytes prints as `1k`).
pub(crate) fn format_bytes(memory: Bytes) -> String {
    const SUFFIXES: [&str; 7] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
    let mut mantissa = memory.0;
    if mantissa < 1024 {
        return format_decimal_si(mantissa, 0);
    }
    let mut power = 0;
    while mantissa.is_multiple_of(1024) && power < SUFFIXES.len() - 1 {
        mantissa /= 1024;
        power += 1;
    }
    format!("{mantissa}{}", SUFFIXES[power])
}

/// `mantissa × 10^exponent` (exponent a multiple of 3, from -3) in canonical DecimalSI: factors of
/// 1000 move into the suffix while they divide exactly.
fn format_decimal_si(mut mantissa: u64, mut exponent: i32) -> String {
    if mantissa == 0 {
        return "0".to_string();
    }
    while mantissa.is_multiple_of(1000) && exponent < 18 {
        mantissa /= 1000;
        exponent += 3;
    }
    let suffix = match exponent {
        -3 => "m",
        0 => "",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        _ => "E",
    };
    format!("{mantissa}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::testing::PodBuilder;

    const GIB: u64 = Bytes::GIB;
    const MIB: u64 = Bytes::MIB;

    /// The reference scenario's vector-store quota: requests 16 CPU / 32Gi, limits 32 / 64Gi.
    fn vector_store_quota() -> Quota {
        Quota {
            namespace: "vector-store".into(),
            requests_cpu: Some(Millicores::from_cores(16)),
            requests_memory: Some(Bytes::from_gib(32)),
            limits_cpu: Some(Millicores::from_cores(32)),
            limits_memory: Some(Bytes::from_gib(64)),
            ..Quota::default()
        }
    }

    /// A vector-store pod: requests 2 CPU / 4Gi, limits 4 CPU / 8Gi.
    fn vector_store_pod() -> PodSpec {
        PodBuilder::new()
            .cpu_m(2_000)
            .memory(4 * GIB)
            .limits(4_000, 8 * GIB)
            .build()
    }

    fn usage_of(pods: u32, pod: &PodSpec) -> QuotaUsage {
        let mut usage = QuotaUsage::ZERO;
        for _ in 0..pods {
            usage.add_pod(pod);
        }
        usage
    }

    #[test]
    fn the_ninth_vector_store_pod_exceeds_every_quota() {
        let quota = vector_store_quota();
        let pod = vector_store_pod();
        // 7 pods use 14 CPU / 28Gi requested: the 8th brings it to exactly 16 / 32Gi, allowed.
        assert_eq!(admit(&quota, &usage_of(7, &pod), &pod), Ok(()));
        // 8 pods use 16 / 32Gi requested and 32 / 64Gi limits: a 9th exceeds all four.
        let error = admit(&quota, &usage_of(8, &pod), &pod).expect_err("over quota");
        assert_eq!(
            error.to_string(),
            "exceeded quota: vector-store, \
             requested: limits.cpu=4,limits.memory=8Gi,requests.cpu=2,requests.memory=4Gi, \
             used: limits.cpu=32,limits.memory=64Gi,requests.cpu=16,requests.memory=32Gi, \
             limited: limits.cpu=32,limits.memory=64Gi,requests.cpu=16,requests.memory=32Gi"
        );
        assert_eq!(error.exceeded.len(), 4);
    }

    #[test]
    fn only_exceeded_resources_are_listed() {
        let quota = vector_store_quota();
        let pod = vector_store_pod();
        let cases = [
            // (used requests cpu m, memory, message or None)
            (14_000, 0, None),
            // 15.5 + 2 > 16: cpu only.
            (
                15_500,
                0,
                Some(
                    "exceeded quota: vector-store, requested: requests.cpu=2, \
                     used: requests.cpu=15500m, limited: requests.cpu=16",
                ),
            ),
            // 29.5Gi + 4Gi > 32Gi: memory only.
            (
                0,
                29 * GIB + 512 * MIB,
                Some(
                    "exceeded quota: vector-store, requested: requests.memory=4Gi, \
                     used: requests.memory=30208Mi, limited: requests.memory=32Gi",
                ),
            ),
        ];
        for (cpu, memory, want) in cases {
            let used = QuotaUsage {
                requests: Resources::new(cpu, memory),
                ..QuotaUsage::ZERO
            };
            let got = admit(&quota, &used, &pod).map_err(|e| e.to_string());
            assert_eq!(
                got,
                want.map_or(Ok(()), |m| Err(m.to_string())),
                "{cpu}m {memory}B"
            );
        }
    }

    #[test]
    fn resources_the_pod_does_not_use_are_not_checked() {
        // Already over the cpu limit (the quota was lowered), but the pod requests no cpu.
        let quota = vector_store_quota();
        let used = QuotaUsage {
            requests: Resources::new(20_000, 0),
            limits: Resources::ZERO,
            pods: 10,
        };
        let memory_only = PodBuilder::new().memory(GIB).build();
        assert_eq!(admit(&quota, &used, &memory_only), Ok(()));
        let cpu = PodBuilder::new().cpu_m(1).build();
        assert!(admit(&quota, &used, &cpu).is_err());
    }

    #[test]
    fn pod_count_and_empty_quotas() {
        let quota = Quota {
            namespace: "batch".into(),
            pods: Some(2),
            ..Quota::default()
        };
        let pod = PodBuilder::new().build();
        assert_eq!(admit(&quota, &usage_of(1, &pod), &pod), Ok(()));
        assert_eq!(
            admit(&quota, &usage_of(2, &pod), &pod).map_err(|e| e.to_string()),
            Err("exceeded quota: batch, requested: pods=1, used: pods=2, limited: pods=2".into())
        );
        let none = Quota {
            namespace: "free".into(),
            ..Quota::default()
        };
        assert_eq!(admit(&none, &usage_of(1_000, &pod), &pod), Ok(()));
    }

    #[test]
    fn usage_adds_and_removes_pods() {
        let pod = vector_store_pod();
        let mut usage = QuotaUsage::ZERO;
        usage.add_pod(&pod);
        usage.add_pod(&pod);
        assert_eq!(
            usage,
            QuotaUsage {
                requests: Resources::new(4_000, 8 * GIB),
                limits: Resources::new(8_000, 16 * GIB),
                pods: 2,
            }
        );
        usage.remove_pod(&pod);
        assert_eq!(usage, QuotaUsage::of_pod(&pod));
        usage.remove_pod(&pod);
        assert_eq!(usage, QuotaUsage::ZERO);
    }

    /// A quota of `requests.nvidia.com/gpu: 2` (table: example.com/foo, then nvidia.com/gpu).
    fn gpu_quota() -> Quota {
        let mut requests_extended = [None; MAX_EXTENDED_RESOURCES];
        requests_extended[1] = Some(2);
        Quota {
            namespace: "ml".into(),
            requests_extended,
            extended_names: ["example.com/foo".to_string(), "nvidia.com/gpu".to_string()].into(),
            ..Quota::default()
        }
    }

    /// A pod requesting `gpus` of nvidia.com/gpu (index 1) and 1 CPU.
    fn gpu_pod(gpus: u16) -> PodSpec {
        let mut pod = PodBuilder::new().cpu_m(1_000).build();
        pod.requests.extended.0[1] = gpus;
        pod.limits.extended.0[1] = gpus;
        pod
    }

    #[test]
    fn gpu_pods_are_admitted_up_to_the_quota() {
        let quota = gpu_quota();
        let one = gpu_pod(1);
        assert_eq!(admit(&quota, &usage_of(0, &one), &one), Ok(()));
        assert_eq!(admit(&quota, &usage_of(1, &one), &one), Ok(()));
        let error = admit(&quota, &usage_of(2, &one), &one).expect_err("a third GPU");
        assert_eq!(
            error.to_string(),
            "exceeded quota: ml, requested: requests.nvidia.com/gpu=1, \
             used: requests.nvidia.com/gpu=2, limited: requests.nvidia.com/gpu=2"
        );
        // Two GPUs at once do not fit beside one.
        assert!(admit(&quota, &usage_of(1, &one), &gpu_pod(2)).is_err());
        // A pod without GPUs is not checked against the GPU limit, however full it is.
        let cpu_only = gpu_pod(0);
        assert_eq!(admit(&quota, &usage_of(5, &one), &cpu_only), Ok(()));
        // No limit on the other extended resource: its requests pass.
        let mut foo = gpu_pod(0);
        foo.requests.extended.0[0] = 100;
        assert_eq!(admit(&quota, &usage_of(2, &one), &foo), Ok(()));
    }

    #[test]
    fn extended_resources_sort_by_name_among_the_others() {
        // requests.example.com/foo sorts between requests.cpu and requests.memory, and
        // requests.nvidia.com/gpu after requests.memory.
        let mut quota = gpu_quota();
        quota.requests_extended[0] = Some(0);
        quota.requests_cpu = Some(Millicores(1_000));
        quota.requests_memory = Some(Bytes(GIB));
        let mut pod = PodBuilder::new().cpu_m(1_000).memory(GIB).build();
        pod.requests.extended.0 = [1, 3, 0, 0];
        let used = usage_of(1, &pod);
        let error = admit(&quota, &used, &pod).expect_err("over on all four");
        assert_eq!(
            error.to_string(),
            "exceeded quota: ml, \
             requested: requests.cpu=1,requests.example.com/foo=1,requests.memory=1Gi,requests.nvidia.com/gpu=3, \
             used: requests.cpu=1,requests.example.com/foo=1,requests.memory=1Gi,requests.nvidia.com/gpu=3, \
             limited: requests.cpu=1,requests.example.com/foo=0,requests.memory=1Gi,requests.nvidia.com/gpu=2"
        );
    }

    #[test]
    fn gpu_usage_is_given_back_when_a_pod_goes() {
        let quota = gpu_quota();
        let one = gpu_pod(1);
        let mut usage = usage_of(2, &one);
        assert_eq!(usage.amount(QuotaResource::RequestsExtended(1)), 2);
        assert!(admit(&quota, &usage, &one).is_err());
        usage.remove_pod(&one);
        assert_eq!(usage.amount(QuotaResource::RequestsExtended(1)), 1);
        assert_eq!(admit(&quota, &usage, &one), Ok(()));
    }

    #[test]
    fn quantities_print_the_kubernetes_way() {
        let cpu = [
            (0, "0"),
            (1, "1m"),
            (500, "500m"),
            (1_000, "1"),
            (1_500, "1500m"),
            (16_000, "16"),
            (2_000_000, "2k"),
        ];
        for (m, text) in cpu {
            assert_eq!(format_millicores(Millicores(m)), text);
        }
        let memory = [
            (0, "0"),
            (500, "500"),
            // Below 1024 Kubernetes prints DecimalSI: 1000 bytes is 1k.
            (1_000, "1k"),
            (1_023, "1023"),
            (1_024, "1Ki"),
            (1_500, "1500"),
            (512 * MIB, "512Mi"),
            (1_536 * MIB, "1536Mi"),
            (4 * GIB, "4Gi"),
            (4 * GIB + 1, "4294967297"),
            (1 << 40, "1Ti"),
        ];
        for (b, text) in memory {
            assert_eq!(format_bytes(Bytes(b)), text);
        }
        assert_eq!(QuotaResource::Pods.format(1_000), "1k");
        assert_eq!(QuotaResource::Pods.format(12), "12");
    }

    #[test]
    fn resources_sort_by_name() {
        let mut names: Vec<String> = QuotaResource::FIXED.iter().map(|r| r.name(&[])).collect();
        let sorted = {
            let mut s = names.clone();
            s.sort();
            s
        };
        assert_eq!(names, sorted);
        names.dedup();
        assert_eq!(names.len(), 5);
    }
}
