//! A node's utilization as the scale-down planner judges it (`simulator/utilization/info.go`)
//! and the thresholds it is judged against (`core/scaledown/eligibility`), and which
//! terminating pods still count on their node (`utils/drain` `IsPodLongTerminating`).

use crate::cluster::pool::NodePool;
use crate::units::{Resources, SimDuration, SimTime};

/// A pool's scale-down utilization thresholds, as fractions of allocatable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// CPU requests must be below this fraction of allocatable CPU.
    pub cpu: f64,
    /// Memory requests must be below this fraction of allocatable memory.
    pub memory: f64,
    /// On a node with a GPU, GPU requests must be at or below this fraction of its GPUs.
    pub gpu: f64,
}

impl Thresholds {
    /// The thresholds of `pool`: its `cpu_threshold_percent` and `memory_threshold_percent` as
    /// fractions, each defaulting to `global` (`--scale-down-utilization-threshold`), and its
    /// `gpu_threshold_percent`, defaulting to `global_gpu`
    /// (`--scale-down-gpu-utilization-threshold`); `None` for a pool that is not autoscaled.
    pub fn for_pool(pool: &NodePool, global: f64, global_gpu: f64) -> Option<Thresholds> {
        let a = pool.autoscaling.as_ref()?;
        Some(Thresholds {
            cpu: a.cpu_threshold_percent.map_or(global, |p| p / 100.0),
            memory: a.memory_threshold_percent.map_or(global, |p| p / 100.0),
            gpu: a.gpu_threshold_percent.map_or(global_gpu, |p| p / 100.0),
        })
    }

    /// Whether a node with this utilization may be removed. A node with a GPU: its GPU
    /// utilization at or below the GPU threshold (upstream 1.37's
    /// `isNodeAtOrBelowUtilizationThreshold`: `utilization > threshold` is not underutilized),
    /// CPU and memory not counted. Any other node: both resources strictly below their
    /// thresholds.
    pub fn is_underutilized(&self, u: Utilization) -> bool {
        match u.gpu {
            Some(gpu) => gpu <= self.gpu,
            None => u.cpu < self.cpu && u.memory < self.memory,
        }
    }
}

/// Requests over allocatable, per resource.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Utilization {
    /// CPU requested / CPU allocatable.
    pub cpu: f64,
    /// Memory requested / memory allocatable.
    pub memory: f64,
    /// GPUs requested / GPUs allocatable; `None` on a node without a GPU.
    pub gpu: Option<f64>,
}

/// The utilization of a node whose pods request `requested`; 0 for a resource the node has
/// none of (upstream then fails to compute it and the node counts as unused). `gpu` is the
/// index of `nvidia.com/gpu` among the scenario's extended resources, if it names it; the node
/// has a GPU when its allocatable amount there is nonzero (upstream's `NodeHasGpuAllocatable`).
pub fn utilization(
    requested: Resources,
    allocatable: Resources,
    gpu: Option<usize>,
) -> Utilization {
    let ratio = |r: u64, a: u64| if a == 0 { 0.0 } else { r as f64 / a as f64 };
    let amount = |r: &Resources, i: usize| u64::from(r.extended.0.get(i).copied().unwrap_or(0));
    Utilization {
        cpu: ratio(requested.cpu.0, allocatable.cpu.0),
        memory: ratio(requested.memory.0, allocatable.memory.0),
        gpu: gpu
            .filter(|&i| amount(&allocatable, i) > 0)
            .map(|i| ratio(amount(&requested, i), amount(&allocatable, i))),
    }
}

/// `PodLongTerminatingExtraThreshold` (`utils/drain/drain.go`): how long past the end of its
/// grace period a terminating pod is still taken to hold its node.
pub const POD_LONG_TERMINATING_EXTRA_THRESHOLD: SimDuration = SimDuration::from_secs(30);

/// A pod that has been asked to stop and is still bound to its node: its requests still count
/// on the node, and the scale-down simulation still has to place it elsewhere, until it is
/// long terminating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminatingPod {
    /// The pod's spec index.
    pub spec: usize,
    /// When it was deleted (its `deletionTimestamp`).
    pub deleted_at: SimTime,
    /// Its `terminationGracePeriodSeconds`.
    pub grace: SimDuration,
}

impl TerminatingPod {
    /// Whether the pod still counts at `now`: it is not long terminating.
    pub fn counts_at(&self, now: SimTime) -> bool {
        !is_long_terminating(self.deleted_at, self.grace, now)
    }
}

/// `IsPodLongTerminating`: a pod deleted at `deleted_at` with grace period `grace` has been
/// terminating too long at `now` when `deleted_at + grace + 30s` is before `now`. Such a pod
/// counts neither towards its node's utilization (`utilization.Calculate`) nor among the pods
/// to move (the `LongTerminating` drainability rule skips it).
pub fn is_long_terminating(deleted_at: SimTime, grace: SimDuration, now: SimTime) -> bool {
    deleted_at + grace + POD_LONG_TERMINATING_EXTRA_THRESHOLD < now
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::cluster_autoscaler::testing::pool;
    use crate::units::Bytes;

    #[test]
    fn pool_thresholds_fall_back_to_the_global_one() {
        let mut p = pool("p", 4, 16, 0, 10);
        let set = |p: &mut NodePool, cpu, memory, gpu| {
            if let Some(a) = p.autoscaling.as_mut() {
                a.cpu_threshold_percent = cpu;
                a.memory_threshold_percent = memory;
                a.gpu_threshold_percent = gpu;
            }
        };
        let cases = [
            // (cpu %, memory %, gpu %, want cpu, want memory, want gpu) with a global 0.5 and
            // a global GPU 0.4.
            (Some(70.0), Some(75.0), None, 0.7, 0.75, 0.4),
            (None, None, None, 0.5, 0.5, 0.4),
            (Some(80.0), None, Some(60.0), 0.8, 0.5, 0.6),
            (None, Some(30.0), Some(100.0), 0.5, 0.3, 1.0),
        ];
        for (cpu, memory, gpu, want_cpu, want_memory, want_gpu) in cases {
            set(&mut p, cpu, memory, gpu);
            let t = Thresholds::for_pool(&p, 0.5, 0.4).expect("autoscaled");
            assert_eq!(
                (t.cpu, t.memory, t.gpu),
                (want_cpu, want_memory, want_gpu),
                "{cpu:?} {memory:?} {gpu:?}"
            );
        }
        p.autoscaling = None;
        assert_eq!(Thresholds::for_pool(&p, 0.5, 0.4), None);
    }

    #[test]
    fn underutilized_means_strictly_below_both_thresholds() {
        let t = Thresholds {
            cpu: 0.7,
            memory: 0.75,
            gpu: 0.5,
        };
        let u = |cpu, memory| Utilization {
            cpu,
            memory,
            gpu: None,
        };
        assert!(t.is_underutilized(u(0.69, 0.74)));
        assert!(!t.is_underutilized(u(0.7, 0.1)), "at the cpu threshold");
        assert!(!t.is_underutilized(u(0.1, 0.75)), "at the memory threshold");
        assert!(!t.is_underutilized(u(0.9, 0.1)));
    }

    #[test]
    fn utilization_is_requests_over_allocatable() {
        // 3 of 4 CPU, 4 of 16 GiB: 0.75 and 0.25.
        let alloc = Resources::new(4_000, 16 * Bytes::GIB);
        let u = utilization(Resources::new(3_000, 4 * Bytes::GIB), alloc, None);
        assert_eq!((u.cpu, u.memory), (0.75, 0.25));
        // A resource the node has none of counts as unused.
        let u = utilization(
            Resources::new(3_000, 4 * Bytes::GIB),
            Resources::new(0, 16 * Bytes::GIB),
            None,
        );
        assert_eq!((u.cpu, u.memory), (0.0, 0.25));
    }

    #[test]
    fn a_gpu_node_is_judged_by_its_gpus_alone_at_or_below_the_threshold() {
        let u = |cpu, memory, gpu| Utilization { cpu, memory, gpu };
        let cases = [
            // (GPU threshold, cpu, memory, GPU utilization, underutilized)
            // One GPU pod of a small CPU request on a 1-GPU node: 100% of its GPUs.
            (0.5, 0.05, 0.03, Some(1.0), false),
            // One 1-GPU pod on a 2-GPU node: 50%, at the threshold, is underutilized.
            (0.5, 0.05, 0.03, Some(0.5), true),
            (0.6, 0.05, 0.03, Some(0.5), true),
            (0.4, 0.05, 0.03, Some(0.5), false),
            // No GPU requested: underutilized however busy its CPU and memory.
            (0.5, 0.9, 0.95, Some(0.0), true),
            // Without a GPU the CPU and memory rule holds, strictly below.
            (0.5, 0.5, 0.1, None, false),
            (0.5, 0.49, 0.1, None, true),
        ];
        for (gpu_threshold, cpu, memory, gpu, want) in cases {
            let t = Thresholds {
                cpu: 0.5,
                memory: 0.5,
                gpu: gpu_threshold,
            };
            assert_eq!(
                t.is_underutilized(u(cpu, memory, gpu)),
                want,
                "threshold {gpu_threshold}, cpu {cpu}, memory {memory}, gpu {gpu:?}"
            );
        }
    }

    #[test]
    fn gpu_utilization_is_gpu_requests_over_allocatable_gpus() {
        // nvidia.com/gpu at index 1, another device at index 0.
        let with = |fpga: u16, gpus: u16| {
            let mut r = Resources::new(8_000, 32 * Bytes::GIB);
            r.extended.0[0] = fpga;
            r.extended.0[1] = gpus;
            r
        };
        let cases = [
            // (requested fpga, gpus; allocatable fpga, gpus; GPU index; want)
            ((0, 1), (0, 2), Some(1), Some(0.5)),
            ((0, 2), (0, 2), Some(1), Some(1.0)),
            ((0, 0), (0, 2), Some(1), Some(0.0)),
            // No GPU allocatable at the GPU's index: not a GPU node.
            ((1, 0), (2, 0), Some(1), None),
            // The scenario names no GPU.
            ((0, 1), (0, 2), None, None),
        ];
        for ((rf, rg), (af, ag), index, want) in cases {
            let u = utilization(with(rf, rg), with(af, ag), index);
            assert_eq!(u.gpu, want, "{rf}/{rg} of {af}/{ag} at {index:?}");
        }
    }

    /// `TestIsPodLongTerminating` (cluster-autoscaler 1.37, `utils/drain/drain_test.go`): each
    /// case's deletion time before the test time, its grace period (`None`: unset, the API
    /// default of 30s), and whether it is long terminating.
    #[test]
    fn long_terminating_follows_upstream_cases() {
        const DEFAULT_GRACE: SimDuration = SimDuration::from_secs(30);
        let extra = POD_LONG_TERMINATING_EXTRA_THRESHOLD;
        let two_min = SimDuration::from_secs(120);
        let test_time = SimTime::ZERO + SimDuration::from_secs(3_600);
        let before = |d: SimDuration| SimTime(test_time.0 - d.0);
        let cases: [(&str, SimDuration, Option<SimDuration>, bool); 6] = [
            // "No deletion timestamp" has no counterpart: such a pod is not terminating.
            (
                "Just deleted no grace period defined",
                SimDuration::ZERO,
                None,
                false,
            ),
            (
                "Deleted for longer than PodLongTerminatingExtraThreshold with no grace period",
                SimDuration(3 * extra.0),
                None,
                true,
            ),
            (
                "Just deleted with grace period defined to 0",
                SimDuration::ZERO,
                Some(SimDuration::ZERO),
                false,
            ),
            (
                "Deleted for longer than PodLongTerminatingExtraThreshold with grace period \
                 defined to 0",
                SimDuration(2 * extra.0),
                Some(SimDuration::ZERO),
                true,
            ),
            (
                "Deleted for longer than PodLongTerminatingExtraThreshold but not longer than \
                 grace period (2 min)",
                SimDuration(2 * extra.0),
                Some(two_min),
                false,
            ),
            (
                "Deleted for longer than grace period (2 min) and \
                 PodLongTerminatingExtraThreshold",
                SimDuration(2 * extra.0 + two_min.0),
                Some(two_min),
                true,
            ),
        ];
        for (name, ago, grace, want) in cases {
            let got = is_long_terminating(before(ago), grace.unwrap_or(DEFAULT_GRACE), test_time);
            assert_eq!(got, want, "{name}");
        }
        // The boundary: exactly grace + 30s after deletion still counts (`Before` is strict).
        let at = before(DEFAULT_GRACE + extra);
        assert!(!is_long_terminating(at, DEFAULT_GRACE, test_time));
        assert!(is_long_terminating(
            SimTime(at.0 - 1),
            DEFAULT_GRACE,
            test_time
        ));
    }

    /// `TestCalculate` (cluster-autoscaler 1.37, `simulator/utilization/info_test.go`), its
    /// terminated-pod case: a 2000m / 2000000 node with two pods of 100m / 200000, one pod
    /// without requests, and one more 100m / 200000 pod deleted 10 minutes ago with the default
    /// grace period, which is skipped: utilization max(0.1, 0.2) = 0.2, cpu 0.1.
    #[test]
    fn long_terminating_pods_do_not_count_towards_utilization() {
        let test_time = SimTime::ZERO + SimDuration::from_secs(3_600);
        let pod = Resources::new(100, 200_000);
        let no_requests = Resources::ZERO;
        let node = Resources::new(2_000, 2_000_000);
        let terminated = TerminatingPod {
            spec: 0,
            deleted_at: SimTime(test_time.0 - SimDuration::from_secs(600).0),
            grace: SimDuration::from_secs(30),
        };
        let mut requested = pod + pod + no_requests;
        if terminated.counts_at(test_time) {
            requested += pod;
        }
        let u = utilization(requested, node, None);
        assert_eq!((u.cpu, u.memory), (0.1, 0.2));
        assert_eq!(u.cpu.max(u.memory), 0.2);
        // Deleted 10 seconds ago it still counts: 300m and 600000.
        let recent = TerminatingPod {
            deleted_at: SimTime(test_time.0 - SimDuration::from_secs(10).0),
            ..terminated
        };
        assert!(recent.counts_at(test_time));
        let u = utilization(pod + pod + pod, node, None);
        assert!((u.cpu - 0.15).abs() < 1e-12 && (u.memory - 0.3).abs() < 1e-12);
    }
}
