//! CPU in `ClusterState`: each registered node's CPU, what its pods want of it, and the share
//! each gets, recomputed when a pod's busy workers change.
//!
//! A node's CPU for pods is its allocatable CPU (capacity less the kubelet's and the system's
//! reservations, which the node's own daemons are taken to use). While what the pods want
//! (each capped at its limit) fits, every pod gets what it wants and a change touches only the
//! pod that changed; once it does not fit, `cluster::cpu_sharing::share` divides the node as
//! CFS does and every pod of the node whose CPU moved is handed back to the caller, who
//! reschedules its next completion.

use crate::cluster::cpu_sharing::{self, CpuClaim, QosClass, ShareScratch};
use crate::cluster::spec::PodSpec;
use crate::simulation::cluster_state::slots::Slots;
use crate::simulation::cluster_state::{ClusterState, Pod, PodRef};
use crate::units::{Millicores, SimTime};
use crate::workload::server::ServerLimits;

/// A slot in the node CPU table of a pod not bound to a node.
pub(crate) const NO_CPU_SLOT: u32 = u32::MAX;

/// How one service's pods claim CPU: their serving limits, shares and QoS class.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuProfile {
    /// Workers, CPU per worker and the CPU limit.
    pub(crate) limits: ServerLimits,
    /// `cpu.shares` from the pod's request.
    pub(crate) shares: u64,
    /// Where the kubelet puts the pod in its cgroup tree.
    pub(crate) qos: QosClass,
    /// The most CPU the pod can want: all its workers busy, capped at its limit (millicores).
    pub(crate) peak_millicores: u64,
    /// Whether all its workers busy stay within its limit, so that CFS never throttles it.
    pub(crate) never_throttled: bool,
}

impl CpuProfile {
    /// The profile of pods of `spec` served with `limits`.
    pub(crate) fn new(spec: &PodSpec, limits: ServerLimits) -> CpuProfile {
        let all_busy = limits.wanted_millicores(limits.concurrency);
        CpuProfile {
            limits,
            shares: cpu_sharing::shares_for_request(spec.requests.cpu.0),
            qos: qos_class(spec),
            peak_millicores: limits.within_limit(all_busy),
            never_throttled: all_busy <= limits.cpu_limit.0,
        }
    }
}

impl CpuProfile {
    /// The profile of a job's pods of `spec`: while its containers run, a pod wants its CPU
    /// request (one worker of that size), capped at its limit.
    pub(crate) fn batch(spec: &PodSpec) -> CpuProfile {
        let limits = ServerLimits {
            concurrency: 1,
            queue_limit: 0,
            timeout: None,
            cpu_per_worker: spec.requests.cpu,
            cpu_limit: if spec.limits.cpu.0 > 0 {
                spec.limits.cpu
            } else {
                Millicores(u64::MAX)
            },
        };
        CpuProfile::new(spec, limits)
    }
}

/// What pod `pod` wants of CPU before its limit, in millicores: a worker's CPU for each request
/// in service, and one more while a job's containers run.
#[inline(always)]
pub(super) fn wanted_millicores(limits: &ServerLimits, pod: &Pod) -> u64 {
    limits.wanted_millicores(pod.server.busy() + u32::from(pod.batch_running))
}

/// The pod's QoS class as the kubelet computes it (`GetPodQOS`), from the pod's effective
/// requests and limits.
fn qos_class(spec: &PodSpec) -> QosClass {
    let r = spec.requests;
    let l = spec.limits;
    if r.cpu.0 == 0 && r.memory.0 == 0 && l.cpu.0 == 0 && l.memory.0 == 0 {
        QosClass::BestEffort
    } else if l.cpu.0 > 0 && l.memory.0 > 0 && r.cpu == l.cpu && r.memory == l.memory {
        QosClass::Guaranteed
    } else {
        QosClass::Burstable
    }
}

/// One registered node's CPU.
#[derive(Debug, Clone)]
pub(crate) struct NodeCpu {
    /// CPU the node's pods may use, in millicores.
    capacity_millicores: u64,
    /// Per-vCPU speed of the node's machine.
    pub(crate) speed: f64,
    /// The node's pool, for its contention gauge.
    pool: usize,
    /// What the pods want, each capped at its limit, in millicores (kept while `may_contend`;
    /// recounted when it becomes true).
    pub(crate) demand_millicores: u64,
    /// The most the pods can want together: each one's peak, summed.
    peak_demand_millicores: u64,
    /// Whether the demand exceeds the capacity (the shares were computed by CFS's rules).
    pub(crate) contended: bool,
    /// The pods bound to the node.
    pub(crate) pods: Vec<PodRef>,
}

impl NodeCpu {
    /// Whether the node's pods can ever want more than it has. While they cannot, a pod that
    /// is never throttled always gets what it wants, and its changes need not touch the node.
    #[inline(always)]
    pub(super) fn may_contend(&self) -> bool {
        self.peak_demand_millicores > self.capacity_millicores
    }

    /// CPU the node's pods may use, in millicores.
    #[cfg(test)]
    pub(crate) fn capacity_millicores(&self) -> f64 {
        self.capacity_millicores as f64
    }
}

/// Every registered node's CPU, in slots reused after a node goes, with the scratch space of
/// the division so that it allocates nothing once warm.
#[derive(Debug, Default)]
pub(crate) struct CpuTable {
    pub(crate) nodes: Slots<NodeCpu>,
    claims: Vec<CpuClaim>,
    shares: Vec<f64>,
    scratch: ShareScratch,
}

impl CpuTable {
    /// A slot for a new node of pool `pool`.
    pub(super) fn add(&mut self, capacity_millicores: u64, speed: f64, pool: usize) -> u32 {
        let node = NodeCpu {
            capacity_millicores,
            speed,
            pool,
            demand_millicores: 0,
            peak_demand_millicores: 0,
            contended: false,
            pods: Vec::new(),
        };
        self.nodes.insert(node)
    }

    /// Frees the slot of a node that has gone; returns whether it was contended.
    pub(super) fn remove(&mut self, slot: u32) -> bool {
        let node = &mut self.nodes[slot as usize];
        assert!(node.pods.is_empty(), "a node leaves once its pods are gone");
        let contended = std::mem::replace(&mut node.contended, false);
        self.nodes.release(slot);
        contended
    }
}

impl ClusterState {
    /// Pod `r`'s busy workers changed at `now` (a request started or finished and none took its
    /// place, or the pod was stopped). Gives it and, on a contended node, its neighbours the CPU
    /// they get now, and calls `moved` with every pod whose CPU may have changed, `r` first, so
    /// that the caller reschedules their next completions.
    #[inline(always)]
    pub(crate) fn cpu_demand_changed(
        &mut self,
        r: PodRef,
        now: SimTime,
        moved: impl FnMut(PodRef, &mut Pod),
    ) {
        self.demand_changed(r, now, moved, |limits, pod| {
            limits.wanted_millicores(pod.server.busy())
        });
    }

    /// A job's pod `r` starts (`running`) or stops running its containers at `now`: it wants
    /// its CPU request, or nothing. Calls `moved` as `cpu_demand_changed` does.
    pub(crate) fn set_batch_running(
        &mut self,
        r: PodRef,
        running: bool,
        now: SimTime,
        moved: impl FnMut(PodRef, &mut Pod),
    ) {
        let Some(pod) = self.pods.get_mut(r) else {
            return;
        };
        pod.batch_running = running;
        self.demand_changed(r, now, moved, wanted_millicores);
    }

    /// `cpu_demand_changed` with what the pod wants computed by `wanted_of` from its limits.
    #[inline(always)]
    fn demand_changed(
        &mut self,
        r: PodRef,
        now: SimTime,
        mut moved: impl FnMut(PodRef, &mut Pod),
        wanted_of: impl Fn(&ServerLimits, &Pod) -> u64,
    ) {
        let Some(pod) = self.pods.get_mut(r) else {
            return;
        };
        let profile = &self.cpu_profiles[pod.spec as usize];
        let wanted = wanted_of(&profile.limits, pod);
        if pod.cpu_always_free {
            // Its node can never be short and its limit never binds: it gets what it wants.
            pod.server.set_cpu_wanted(now, wanted);
            return;
        }
        let demand = profile.limits.within_limit(wanted);
        let slot = pod.cpu_slot;
        if slot == NO_CPU_SLOT {
            // Not bound (a pod killed before it started): it gets nothing.
            pod.server.set_cpu(now, 0.0, &profile.limits);
            moved(r, pod);
            return;
        }
        let node = &mut self.cpu.nodes[slot as usize];
        node.demand_millicores = node.demand_millicores - pod.cpu_demand_millicores + demand;
        let got = pod.server.cpu_millicores();
        let was_capped = got < pod.cpu_demand_millicores as f64;
        pod.cpu_demand_millicores = demand;
        if !node.contended && node.demand_millicores <= node.capacity_millicores {
            if demand == wanted && !pod.server.in_service().is_shared() {
                // It gets all it wants and its requests run free: nothing moves.
                pod.server.set_cpu_wanted(now, wanted);
                return;
            }
            pod.server.set_cpu(now, demand as f64, &profile.limits);
            moved(r, pod);
        } else if node.contended && was_capped && demand as f64 > got {
            // It wanted more than its fair share and still does: CFS's division, and every
            // neighbour's share, stay as they are; only its own workers' split changes.
            pod.server.set_cpu(now, got, &profile.limits);
            moved(r, pod);
        } else {
            self.reshare(slot, now, Some(r), moved);
        }
    }

    /// Divides node `slot`'s CPU among its pods as CFS does, from `now` on; calls `moved` with
    /// `first` (if any) and every pod whose CPU changed.
    fn reshare(
        &mut self,
        slot: u32,
        now: SimTime,
        first: Option<PodRef>,
        mut moved: impl FnMut(PodRef, &mut Pod),
    ) {
        let table = &mut self.cpu;
        let node = &mut table.nodes[slot as usize];
        table.claims.clear();
        for r in &node.pods {
            let Some(pod) = self.pods.get(*r) else {
                unreachable!("a node's CPU lists only live pods");
            };
            let profile = &self.cpu_profiles[pod.spec as usize];
            table.claims.push(CpuClaim {
                demand_millicores: pod.cpu_demand_millicores as f64,
                shares: profile.shares,
                qos: profile.qos,
            });
        }
        table.shares.resize(table.claims.len(), 0.0);
        cpu_sharing::share(
            node.capacity_millicores as f64,
            &table.claims,
            &mut table.shares,
            &mut table.scratch,
        );
        for (i, r) in node.pods.iter().enumerate() {
            let Some(pod) = self.pods.get_mut(*r) else {
                unreachable!("a node's CPU lists only live pods");
            };
            let cpu = table.shares[i];
            if Some(*r) == first || cpu != pod.server.cpu_millicores() {
                let profile = &self.cpu_profiles[pod.spec as usize];
                pod.server.set_cpu(now, cpu, &profile.limits);
                moved(*r, pod);
            }
        }
        let contended = node.demand_millicores > node.capacity_millicores;
        if contended != node.contended {
            node.contended = contended;
            self.pools[node.pool]
                .contended
                .add(now, if contended { 1 } else { -1 });
        }
    }

    /// Binds pod `r`'s CPU to node CPU slot `slot`: it runs at the node's speed from now on.
    pub(super) fn attach_cpu(&mut self, r: PodRef, slot: u32) {
        let node = &mut self.cpu.nodes[slot as usize];
        node.pods.push(r);
        let Some(pod) = self.pods.get_mut(r) else {
            return;
        };
        let profile = &self.cpu_profiles[pod.spec as usize];
        pod.cpu_slot = slot;
        pod.cpu_demand_millicores = 0;
        pod.server.set_speed(node.speed);
        let could_contend = node.may_contend();
        node.peak_demand_millicores += profile.peak_millicores;
        pod.cpu_always_free = profile.never_throttled && !node.may_contend();
        if node.may_contend() && !could_contend {
            self.track_node_cpu(slot);
        }
    }

    /// Takes a pod that is being deleted off its node's CPU. Its workers were stopped and its
    /// CPU taken away first (`cpu_demand_changed`), so its neighbours' shares are already right.
    pub(super) fn detach_cpu(&mut self, r: PodRef, pod: &Pod) {
        if pod.cpu_slot == NO_CPU_SLOT {
            return;
        }
        debug_assert_eq!(pod.server.busy(), 0, "a deleted pod wants no CPU");
        let profile = &self.cpu_profiles[pod.spec as usize];
        let node = &mut self.cpu.nodes[pod.cpu_slot as usize];
        node.demand_millicores -= pod.cpu_demand_millicores;
        node.pods.retain(|p| *p != r);
        let could_contend = node.may_contend();
        node.peak_demand_millicores -= profile.peak_millicores;
        if could_contend && !node.may_contend() {
            for p in &node.pods {
                if let Some(pod) = self.pods.get_mut(*p) {
                    // A pod still sharing its CPU must keep being told its rate until it idles:
                    // it stays on the tracked path.
                    pod.cpu_always_free = self.cpu_profiles[pod.spec as usize].never_throttled
                        && !pod.server.in_service().is_shared();
                }
            }
        }
    }

    /// Node `slot` can now be short of CPU: its pods' demands are counted from here on.
    fn track_node_cpu(&mut self, slot: u32) {
        let node = &mut self.cpu.nodes[slot as usize];
        node.demand_millicores = 0;
        for p in &node.pods {
            let Some(pod) = self.pods.get_mut(*p) else {
                unreachable!("a node's CPU lists only live pods");
            };
            let limits = &self.cpu_profiles[pod.spec as usize].limits;
            pod.cpu_always_free = false;
            pod.cpu_demand_millicores = limits.within_limit(wanted_millicores(limits, pod));
            node.demand_millicores += pod.cpu_demand_millicores;
        }
    }

    /// Node CPU slot `slot`.
    #[cfg(test)]
    pub(crate) fn node_cpu(&self, slot: u32) -> &NodeCpu {
        &self.cpu.nodes[slot as usize]
    }
}
