//! The built-in machine catalog: capacity and list prices of common GKE and EKS machine types,
//! and each provider's formula for what the kubelet leaves allocatable to pods.
//!
//! Use `lookup` to resolve a scenario's `machine_type` name, `allocatable` to derive a node's
//! allocatable resources, and `render` to list the catalog (`capsim catalog`). Prices are
//! on-demand and spot list prices in USD per hour (GCP us-central1, AWS us-east-1); spot prices
//! move daily, so they are typical values, not quotes. Each machine also has a relative
//! per-vCPU speed (1.0 is an N2 vCPU), one per machine series, derived from Google's published
//! CoreMark scores (see the series constants below and the README).
//! This file holds data and arithmetic only; it does not know about node pools or YAML.

use crate::text::table::push_columns;
use crate::units::{Bytes, Millicores, Resources};

/// The managed Kubernetes service a machine type belongs to, which sets the kubelet's
/// reservations and the default pod limit per node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// Google Kubernetes Engine.
    Gke,
    /// Amazon Elastic Kubernetes Service.
    Eks,
}

impl Provider {
    /// The default `max_pods` per node: GKE's 110; for EKS, the ENI limit of the catalog's
    /// 2xlarge types (4 ENIs x 15 IPv4 addresses: 4 x (15 - 1) + 2 = 58).
    pub fn default_max_pods(self) -> u32 {
        match self {
            Provider::Gke => 110,
            Provider::Eks => 58,
        }
    }
}

/// One machine type of the catalog.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CatalogEntry {
    /// Machine type name, as the cloud spells it.
    pub name: &'static str,
    /// Which managed Kubernetes runs it.
    pub provider: Provider,
    /// vCPUs.
    pub vcpus: u64,
    /// Memory in GiB.
    pub memory_gib: u64,
    /// On-demand list price in USD per hour.
    pub on_demand_usd_per_hour: f64,
    /// Typical spot price in USD per hour.
    pub spot_usd_per_hour: Option<f64>,
    /// Relative per-vCPU speed of the machine's series: work runs this many times faster than
    /// on an N2 vCPU (1.0).
    pub speed: f64,
    /// NVIDIA GPUs attached (the node's `nvidia.com/gpu` capacity); 0 for CPU-only machines.
    pub gpus: u16,
    /// The GPU model as GKE's `cloud.google.com/gke-accelerator` label names it
    /// (`nvidia-l4`); empty without GPUs.
    pub accelerator: &'static str,
}

impl CatalogEntry {
    /// vCPUs and memory of the machine (its GPUs are `gpus`, placed in a scenario's table of
    /// extended resources by validation).
    pub fn capacity(&self) -> Resources {
        Resources::cpu_memory(
            Millicores::from_cores(self.vcpus),
            Bytes::from_gib(self.memory_gib),
        )
    }
}

/// The per-vCPU speed of the reference machine: a vCPU of GCE's N2 series.
pub const REFERENCE_SPEED: f64 = 1.0;

/// A GKE catalog entry: vCPUs, GiB, on-demand and spot USD per hour, per-vCPU speed.
const fn gke(
    name: &'static str,
    vcpus: u64,
    gib: u64,
    on_demand: f64,
    spot: f64,
    speed: f64,
) -> CatalogEntry {
    entry(name, Provider::Gke, vcpus, gib, (on_demand, spot), speed)
}

/// An EKS catalog entry, as `gke`.
const fn eks(
    name: &'static str,
    vcpus: u64,
    gib: u64,
    on_demand: f64,
    spot: f64,
    speed: f64,
) -> CatalogEntry {
    entry(name, Provider::Eks, vcpus, gib, (on_demand, spot), speed)
}

const fn entry(
    name: &'static str,
    provider: Provider,
    vcpus: u64,
    memory_gib: u64,
    (on_demand, spot): (f64, f64),
    speed: f64,
) -> CatalogEntry {
    CatalogEntry {
        name,
        provider,
        vcpus,
        memory_gib,
        on_demand_usd_per_hour: on_demand,
        spot_usd_per_hour: Some(spot),
        speed,
        gpus: 0,
        accelerator: "",
    }
}

/// `entry` with `gpus` NVIDIA GPUs of model `accelerator`.
const fn with_gpus(entry: CatalogEntry, gpus: u16, accelerator: &'static str) -> CatalogEntry {
    CatalogEntry {
        gpus,
        accelerator,
        ..entry
    }
}

/// Per-vCPU speed of each machine series, relative to N2.
///
/// GKE series: Google's CoreMark score of the series' 8-vCPU standard machine type ("CoreMark
/// scores of VM instances", PerfKitBenchmarker, one thread per vCPU), divided by its vCPUs and
/// by n2-standard-8's 138,567 / 8 = 17,321 per vCPU, rounded to two decimals; a test below
/// repeats the arithmetic. Series Google has not scored, and the EKS series, are scaled from the
/// scored series with the same processor by the ratio of the all-core turbo frequencies each
/// cloud states. The README lists every figure and its source.
mod speed {
    /// N2 (Intel Ice Lake at 3.4 GHz all-core turbo): the reference, 138,567 for n2-standard-8.
    pub(super) const N2: f64 = super::REFERENCE_SPEED;
    /// N2D (AMD Milan): n2d-standard-8 scores 163,858, 20,482 per vCPU.
    pub(super) const N2D: f64 = 1.18;
    /// Tau T2D (AMD Milan, one core per vCPU, no SMT): t2d-standard-8 scores 238,534, 29,817
    /// per vCPU.
    pub(super) const T2D: f64 = 1.72;
    /// E2 (Intel, the cost-optimized series): e2-standard-8 scores 103,957, 12,995 per vCPU
    /// (e2-highmem-8: 104,083).
    pub(super) const E2: f64 = 0.75;
    /// C2 (Intel Cascade Lake at 3.8 GHz all-core turbo): c2-standard-8 scores 146,712, 18,339
    /// per vCPU.
    pub(super) const C2: f64 = 1.06;
    /// C3 (Intel Sapphire Rapids at 3.0 GHz all-core turbo): c3-standard-8 scores 160,341,
    /// 20,043 per vCPU.
    pub(super) const C3: f64 = 1.16;
    /// C4 (Intel Emerald Rapids at 3.1 GHz all-core turbo) has no published score. N4 runs the
    /// same processor at 2.9 GHz and n4-standard-8 scores 177,655, 22,207 per vCPU (1.282):
    /// 1.282 x 3.1 / 2.9 = 1.37.
    pub(super) const C4: f64 = 1.37;
    /// EKS m6i, c6i, r6i (Intel Ice Lake 8375C at 3.5 GHz all-core turbo): N2's processor
    /// generation, 3.5 / 3.4 = 1.03.
    pub(super) const EC2_6I: f64 = 1.03;
    /// EKS m7i, c7i, r7i (Intel Sapphire Rapids 8488C at 3.2 GHz all-core turbo): C3's
    /// processor generation, 1.157 x 3.2 / 3.0 = 1.23. AWS's own "up to 15% better price
    /// performance than the 6th generation" at 5% higher prices gives 1.03 x 1.15 x 1.05 = 1.24,
    /// one hundredth apart.
    pub(super) const EC2_7I: f64 = 1.23;
    /// GPU machines (GKE G2 and A2, EKS G5 and G6): their host vCPUs have no published score
    /// that capsim could scale, so they run at the reference speed. Their GPUs are counted as
    /// a resource for scheduling only; work is never simulated as running on a GPU.
    pub(super) const GPU_HOST: f64 = super::REFERENCE_SPEED;
}

/// Every machine type the catalog knows, GKE first, grouped by series.
///
/// On-demand prices are list prices. Spot prices are typical values. Those of n2d-standard-8,
/// t2d-standard-8 and e2-highmem-8 are Google's us-central1 Spot prices of May 2023, the period
/// the n2 and e2 entries' come from; n2-standard-16's is twice n2-standard-8's, as N2 is billed
/// per vCPU and GiB; c4-standard-8, launched later, has its first published Spot price (August
/// 2024). For m7i, c7i and r7i no dated Spot price was at hand: they keep the Spot discount of
/// their 6th-generation counterparts (m6i and c6i 39%, r6i 38% of on-demand).
///
/// GPU machine types: on-demand list prices of g2-standard-8 (1 NVIDIA L4) and a2-highgpu-1g
/// (1 NVIDIA A100 40GB) in us-central1, GPU included, and of g5.xlarge, g5.2xlarge (1 NVIDIA
/// A10G) and g6.xlarge (1 NVIDIA L4) in us-east-1. GPU Spot capacity is scarce and its price
/// moves most of all; no dated quote was at hand, so each gets 40% of its on-demand price as a
/// typical value.
pub const CATALOG: &[CatalogEntry] = &[
    gke("c2-standard-8", 8, 32, 0.4176, 0.1003, speed::C2),
    gke("c3-standard-8", 8, 32, 0.4028, 0.0996, speed::C3),
    gke("c4-standard-8", 8, 30, 0.3953, 0.1581, speed::C4),
    gke("e2-standard-8", 8, 32, 0.2681, 0.0805, speed::E2),
    gke("e2-highmem-8", 8, 64, 0.3616, 0.1085, speed::E2),
    gke("n2-standard-8", 8, 32, 0.3885, 0.0943, speed::N2),
    gke("n2-standard-16", 16, 64, 0.7769, 0.1886, speed::N2),
    gke("n2-highmem-4", 4, 32, 0.2620, 0.0636, speed::N2),
    gke("n2-highmem-8", 8, 64, 0.5239, 0.1272, speed::N2),
    gke("n2-highmem-16", 16, 128, 1.0479, 0.2545, speed::N2),
    gke("n2d-standard-8", 8, 32, 0.3380, 0.0510, speed::N2D),
    gke("t2d-standard-8", 8, 32, 0.3380, 0.0536, speed::T2D),
    with_gpus(
        gke("g2-standard-8", 8, 32, 0.8536, 0.3414, speed::GPU_HOST),
        1,
        "nvidia-l4",
    ),
    with_gpus(
        gke("a2-highgpu-1g", 12, 85, 3.6734, 1.4694, speed::GPU_HOST),
        1,
        "nvidia-tesla-a100",
    ),
    eks("m6i.2xlarge", 8, 32, 0.384, 0.150, speed::EC2_6I),
    eks("m7i.2xlarge", 8, 32, 0.4032, 0.1575, speed::EC2_7I),
    eks("r6i.2xlarge", 8, 64, 0.504, 0.190, speed::EC2_6I),
    eks("r7i.2xlarge", 8, 64, 0.5292, 0.1995, speed::EC2_7I),
    eks("c6i.2xlarge", 8, 16, 0.340, 0.133, speed::EC2_6I),
    eks("c7i.2xlarge", 8, 16, 0.357, 0.1397, speed::EC2_7I),
    with_gpus(
        eks("g5.xlarge", 4, 16, 1.006, 0.4024, speed::GPU_HOST),
        1,
        "nvidia-a10g",
    ),
    with_gpus(
        eks("g5.2xlarge", 8, 32, 1.212, 0.4848, speed::GPU_HOST),
        1,
        "nvidia-a10g",
    ),
    with_gpus(
        eks("g6.xlarge", 4, 16, 0.8048, 0.3219, speed::GPU_HOST),
        1,
        "nvidia-l4",
    ),
];

/// The catalog entry called `name`, if any (names are case-sensitive, as the clouds' are).
pub fn lookup(name: &str) -> Option<&'static CatalogEntry> {
    CATALOG.iter().find(|e| e.name == name)
}

/// Every catalog name, in catalog order.
pub fn names() -> Vec<&'static str> {
    CATALOG.iter().map(|e| e.name).collect()
}

/// The memory the kubelet keeps free before it starts evicting pods (`memory.available<100Mi`).
pub const EVICTION_THRESHOLD: Bytes = Bytes(100 * Bytes::MIB);

/// What pods may request on a node of `capacity`: capacity minus the kubelet and system
/// reservations of `provider`, minus the eviction threshold.
///
/// CPU (both providers): 6% of the first core, 1% of the next, 0.5% of the next two and 0.25%
/// of every core above four, rounded up to a whole millicore.
///
/// Memory on GKE: 25% of the first 4 GiB, 20% of the next 4 GiB, 10% of the next 8 GiB, 6% of
/// the next 112 GiB (up to 128 GiB) and 2% above, rounded up to a whole byte. On EKS:
/// 255 MiB + 11 MiB per pod of `max_pods`. Both then keep the 100 MiB eviction threshold.
/// Extended resources (GPUs) are allocatable in full, as the device plugin reports them.
pub fn allocatable(provider: Provider, capacity: Resources, max_pods: u32) -> Resources {
    let cpu_reserved = cpu_reserved(capacity.cpu);
    let memory_reserved = match provider {
        Provider::Gke => gke_memory_reserved(capacity.memory),
        Provider::Eks => Bytes(255 * Bytes::MIB + 11 * Bytes::MIB * u64::from(max_pods)),
    } + EVICTION_THRESHOLD;
    Resources {
        cpu: capacity.cpu.saturating_sub(cpu_reserved),
        memory: capacity.memory.saturating_sub(memory_reserved),
        extended: capacity.extended,
    }
}

/// Reserves `per_10k / 10000` of each band `[from, to)` of `amount`, summed, rounded up.
fn banded(amount: u64, bands: &[(u64, u64, u64)]) -> u64 {
    let reserved: u128 = bands
        .iter()
        .map(|&(from, to, per_10k)| {
            let in_band = amount.min(to).saturating_sub(from);
            u128::from(in_band) * u128::from(per_10k)
        })
        .sum();
    // The sum is at most u64::MAX x 600, so the quotient fits back into u64.
    u64::try_from(reserved.div_ceil(10_000)).unwrap_or(u64::MAX)
}

fn cpu_reserved(cpu: Millicores) -> Millicores {
    const CORE: u64 = 1_000;
    Millicores(banded(
        cpu.0,
        &[
            (0, CORE, 600),           // 6% of the first core
            (CORE, 2 * CORE, 100),    // 1% of the second
            (2 * CORE, 4 * CORE, 50), // 0.5% of the third and fourth
            (4 * CORE, u64::MAX, 25), // 0.25% of the rest
        ],
    ))
}

fn gke_memory_reserved(memory: Bytes) -> Bytes {
    const GIB: u64 = Bytes::GIB;
    Bytes(banded(
        memory.0,
        &[
            (0, 4 * GIB, 2_500),        // 25% of the first 4 GiB
            (4 * GIB, 8 * GIB, 2_000),  // 20% of the next 4 GiB
            (8 * GIB, 16 * GIB, 1_000), // 10% of the next 8 GiB
            (16 * GIB, 128 * GIB, 600), // 6% of the next 112 GiB
            (128 * GIB, u64::MAX, 200), // 2% above 128 GiB
        ],
    ))
}

/// The built-in machine catalog as a table: capacity, per-vCPU speed, what a node leaves
/// allocatable to pods (with the provider's default pod limit), GPUs, and prices.
pub fn render() -> String {
    let mut rows = vec![vec![
        "machine type".to_string(),
        "provider".into(),
        "vCPU".into(),
        "speed".into(),
        "memory GiB".into(),
        "allocatable cpu".into(),
        "allocatable GiB".into(),
        "max pods".into(),
        "GPUs".into(),
        "on-demand USD/h".into(),
        "spot USD/h".into(),
    ]];
    for entry in CATALOG {
        let max_pods = entry.provider.default_max_pods();
        let alloc = allocatable(entry.provider, entry.capacity(), max_pods);
        rows.push(vec![
            entry.name.to_string(),
            format!("{:?}", entry.provider).to_uppercase(),
            entry.vcpus.to_string(),
            format!("{:.2}", entry.speed),
            entry.memory_gib.to_string(),
            format!("{}m", alloc.cpu.0),
            format!("{:.2}", alloc.memory.as_gib_f64()),
            max_pods.to_string(),
            if entry.gpus == 0 {
                "-".to_string()
            } else {
                format!("{} {}", entry.gpus, entry.accelerator)
            },
            format!("{:.4}", entry.on_demand_usd_per_hour),
            entry
                .spot_usd_per_hour
                .map_or_else(|| "-".to_string(), |p| format!("{p:.4}")),
        ]);
    }
    let mut out = String::new();
    push_columns(&mut out, &rows);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = Bytes::GIB;
    const MIB: u64 = Bytes::MIB;

    fn alloc(name: &str) -> Resources {
        let e = lookup(name).expect("catalog entry used by the test");
        allocatable(e.provider, e.capacity(), e.provider.default_max_pods())
    }

    #[test]
    fn cpu_reservations() {
        let cases = [
            // 8 cores: 60 + 10 + 2 x 5 + 4 x 2.5 = 90m reserved
            ("c2-standard-8", 7_910),
            ("m6i.2xlarge", 7_910),
            // 4 cores: 60 + 10 + 2 x 5 = 80m reserved
            ("n2-highmem-4", 3_920),
            // 16 cores: 80 + 12 x 2.5 = 110m reserved
            ("n2-highmem-16", 15_890),
            ("n2-standard-16", 15_890),
        ];
        for (name, millicores) in cases {
            assert_eq!(alloc(name).cpu, Millicores(millicores), "{name}");
        }
        // 5 cores: 80 + 2.5 = 82.5m, rounded up to 83m
        assert_eq!(cpu_reserved(Millicores(5_000)), Millicores(83));
        // 0.5 core: 6% of 500m = 30m
        assert_eq!(cpu_reserved(Millicores(500)), Millicores(30));
    }

    #[test]
    fn gke_memory_reservations() {
        // 32 GiB: 1 + 0.8 + 0.8 + 0.06 x 16 = 3.56 GiB = 3822520893.44 B, rounded up,
        // plus 100 MiB eviction threshold.
        let reserved_32 = 3_822_520_894 + 100 * MIB;
        assert_eq!(alloc("c2-standard-8").memory, Bytes(32 * GIB - reserved_32));
        // 64 GiB: 1 + 0.8 + 0.8 + 0.06 x 48 = 5.48 GiB = 5884105195.52 B, rounded up
        let reserved_64 = 5_884_105_196 + 100 * MIB;
        assert_eq!(alloc("n2-highmem-8").memory, Bytes(64 * GIB - reserved_64));
        // 128 GiB: 1 + 0.8 + 0.8 + 0.06 x 112 = 9.32 GiB = 10007273799.68 B, rounded up
        let reserved_128 = 10_007_273_800 + 100 * MIB;
        assert_eq!(
            alloc("n2-highmem-16").memory,
            Bytes(128 * GIB - reserved_128)
        );
        // 256 GiB: 9.32 + 0.02 x 128 = 11.88 GiB = 12756052869.12 B, rounded up
        assert_eq!(gke_memory_reserved(Bytes(256 * GIB)), Bytes(12_756_052_870));
        // 30 GiB (c4-standard-8): 1 + 0.8 + 0.8 + 0.06 x 14 = 3.44 GiB = 3693671874.56 B,
        // rounded up
        let reserved_30 = 3_693_671_875 + 100 * MIB;
        assert_eq!(alloc("c4-standard-8").memory, Bytes(30 * GIB - reserved_30));
        // 2 GiB: 25% = 0.5 GiB exactly
        assert_eq!(gke_memory_reserved(Bytes(2 * GIB)), Bytes(GIB / 2));
    }

    #[test]
    fn eks_memory_reservations() {
        // 255 MiB + 11 MiB x 58 pods = 893 MiB, plus 100 MiB eviction = 993 MiB
        assert_eq!(alloc("m6i.2xlarge").memory, Bytes(32 * GIB - 993 * MIB));
        assert_eq!(alloc("r6i.2xlarge").memory, Bytes(64 * GIB - 993 * MIB));
        assert_eq!(alloc("c6i.2xlarge").memory, Bytes(16 * GIB - 993 * MIB));
        assert_eq!(alloc("m7i.2xlarge").memory, Bytes(32 * GIB - 993 * MIB));
        // max_pods 110: 255 + 1210 + 100 = 1565 MiB
        let cap = Resources::new(8_000, 32 * GIB);
        assert_eq!(
            allocatable(Provider::Eks, cap, 110).memory,
            Bytes(32 * GIB - 1_565 * MIB)
        );
    }

    #[test]
    fn catalog_is_consistent() {
        for e in CATALOG {
            assert!(e.on_demand_usd_per_hour > 0.0, "{}", e.name);
            let spot = e
                .spot_usd_per_hour
                .expect("every catalog entry has a spot price");
            assert!(spot > 0.0 && spot < e.on_demand_usd_per_hour, "{}", e.name);
            assert_eq!(lookup(e.name), Some(e));
            assert_eq!(e.gpus == 0, e.accelerator.is_empty(), "{}", e.name);
        }
        assert_eq!(lookup("g2-standard-8").map(|e| e.gpus), Some(1));
        assert_eq!(lookup("n2-standard-8").map(|e| e.gpus), Some(0));
        assert_eq!(lookup("c2-standard-8").map(|e| e.vcpus), Some(8));
        assert_eq!(lookup("C2-STANDARD-8"), None);
        assert_eq!(names().len(), CATALOG.len());
        let mut sorted = names();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), CATALOG.len(), "names are unique");
    }

    #[test]
    fn every_speed_is_finite_and_positive_and_n2_is_the_reference() {
        for e in CATALOG {
            assert!(e.speed.is_finite() && e.speed > 0.0, "{}", e.name);
            if e.name.starts_with("n2-") {
                assert_eq!(e.speed, speed::N2, "{}", e.name);
            }
        }
        assert_eq!(speed::N2, 1.0);
        assert_eq!(REFERENCE_SPEED, 1.0);
        assert_eq!(lookup("n2-standard-8").map(|e| e.speed), Some(1.0));
    }

    #[test]
    fn speeds_follow_the_published_scores() {
        // Google's CoreMark score of each series' 8-vCPU standard type, per vCPU, over
        // n2-standard-8's, rounded to two decimals.
        const N2_PER_VCPU: f64 = 138_567.0 / 8.0;
        let scored = [
            ("n2d-standard-8", 163_858.0),
            ("t2d-standard-8", 238_534.0),
            ("e2-standard-8", 103_957.0),
            ("e2-highmem-8", 104_083.0),
            ("c2-standard-8", 146_712.0),
            ("c3-standard-8", 160_341.0),
        ];
        let round = |x: f64| (x * 100.0).round() / 100.0;
        for (name, score) in scored {
            let e = lookup(name).expect("scored type is in the catalog");
            let ratio = score / e.vcpus as f64 / N2_PER_VCPU;
            assert_eq!(e.speed, round(ratio), "{name}: {ratio:.4}");
        }
        // C4: N4's score (same Emerald Rapids processor) at C4's 3.1 GHz instead of N4's 2.9.
        let n4 = 177_655.0 / 8.0 / N2_PER_VCPU;
        assert_eq!(speed::C4, round(n4 * 3.1 / 2.9));
        // AWS Ice Lake at 3.5 GHz against N2's Ice Lake at 3.4; AWS Sapphire Rapids at 3.2 GHz
        // against C3's at 3.0.
        assert_eq!(speed::EC2_6I, round(3.5 / 3.4));
        let c3 = 160_341.0 / 8.0 / N2_PER_VCPU;
        assert_eq!(speed::EC2_7I, round(c3 * 3.2 / 3.0));
        // AWS's own claim, 15% better price performance at 5% higher prices, gives 1.24.
        let claimed = speed::EC2_6I * 1.15 * (0.4032 / 0.384);
        assert_eq!(round(claimed), 1.24);
    }

    #[test]
    fn tiny_machines_saturate_at_zero() {
        // 10m: 6% is 0.6m, rounded up to 1m reserved; 1 KiB of memory is less than the
        // 256 B + 100 MiB reserved.
        let cap = Resources::new(10, 1024);
        assert_eq!(allocatable(Provider::Gke, cap, 110), Resources::new(9, 0));
    }
}
