//! `ClusterState`'s invariants, checked by recounting everything from the pod table, and its
//! operations tested one by one.

use crate::cluster::node::Node;
use crate::cluster::quota::{Quota, QuotaUsage};
use crate::report::stats::Gauge;
use crate::simulation::cluster_state::{ClusterState, Pod, PodPhase};
use crate::simulation::tests::{pool, scenario, service};
use crate::units::{Millicores, Resources, SimDuration, SimTime};

impl ClusterState {
    /// Recounts every list, count and gauge from the pod table and the nodes, and checks that
    /// nothing is used beyond its capacity.
    ///
    /// # Panics
    /// On the first invariant that does not hold, naming it.
    pub(crate) fn check_invariants(&self) {
        let pods: Vec<_> = self.pods.iter().collect();
        for (s, w) in self.workloads.iter().enumerate() {
            let of_s = || pods.iter().filter(|p| usize::from(p.service) == s);
            let terminating = of_s().filter(|p| p.phase == PodPhase::Terminating).count();
            let ready = of_s().filter(|p| p.phase == PodPhase::Ready).count();
            let unbound = of_s().filter(|p| p.node.is_none()).count();
            assert_eq!(
                w.active.len(),
                of_s().count() - terminating,
                "service {s}: active"
            );
            assert_eq!(w.terminating.len(), terminating, "service {s}: terminating");
            assert_eq!(w.ready.len(), ready, "service {s}: ready");
            for r in w.active.iter() {
                let pod = self.pods.get(*r).expect("active pods exist");
                assert!(pod.phase != PodPhase::Terminating && usize::from(pod.service) == s);
            }
            for r in w.ready.iter() {
                assert!(w.active.contains(r), "service {s}: a Ready pod is active");
            }
            assert_eq!(
                w.ready_gauge.value(),
                ready as u64,
                "service {s}: ready gauge"
            );
            assert_eq!(
                w.pending_gauge.value(),
                unbound as u64,
                "service {s}: pending"
            );
            assert_eq!(
                w.pending_reasons.waiting(),
                unbound as u64,
                "service {s}: pending pods by reason"
            );
            let cpu: u64 = of_s()
                .filter(|p| p.node.is_some())
                .map(|p| self.pod_specs[p.spec as usize].requests.cpu.0)
                .sum();
            assert_eq!(w.cpu_requested_gauge.value(), cpu, "service {s}: cpu");
        }
        for (spec, count) in self.pending_by_spec.iter().enumerate() {
            let listed = self
                .pending
                .iter()
                .filter(|(_, s)| *s as usize == spec)
                .count();
            assert_eq!(*count as usize, listed, "spec {spec}: pending pods counted");
        }
        for (r, spec) in &self.pending {
            let pod = self.pods.get(*r).expect("pending pods exist");
            assert_eq!(pod.spec, *spec, "a pending pod is listed with its spec");
            assert!(pod.node.is_none(), "only unbound pods wait for a node");
        }
        self.check_nodes(&pods);
        self.check_pools();
        self.check_namespaces(&pods);
    }

    fn check_nodes(&self, pods: &[&crate::simulation::cluster_state::Pod]) {
        for (i, (node, extra)) in self.nodes.iter().zip(&self.node_extras).enumerate() {
            let on_node: Vec<_> = pods.iter().filter(|p| p.node == Some(node.id)).collect();
            let requested = on_node.iter().fold(Resources::ZERO, |sum, p| {
                sum + self.pod_specs[p.spec as usize].requests
            });
            assert_eq!(node.requested, requested, "{}: requests", node.name);
            assert_eq!(
                node.pod_count as usize,
                on_node.len(),
                "{}: pods",
                node.name
            );
            assert!(
                node.requested.cpu <= node.allocatable.cpu,
                "{}: cpu",
                node.name
            );
            assert!(
                node.requested.memory <= node.allocatable.memory,
                "{}: memory",
                node.name
            );
            let extended = node
                .requested
                .extended
                .0
                .iter()
                .zip(node.allocatable.extended.0);
            for (r, (&requested, allocatable)) in extended.enumerate() {
                assert!(
                    requested <= allocatable,
                    "{}: extended resource {r}: {requested} requested of {allocatable}",
                    node.name
                );
            }
            assert!(node.pod_count <= node.max_pods, "{}: pod limit", node.name);
            for (s, counts) in self.active_pods.iter().enumerate() {
                let count = counts[i];
                let recount = on_node
                    .iter()
                    .filter(|p| usize::from(p.service) == s && p.phase != PodPhase::Terminating)
                    .count();
                assert_eq!(count as usize, recount, "{}: active pods of {s}", node.name);
            }
            self.check_node_cpu(node, extra.cpu_slot, &on_node);
            self.check_node_memory(node, extra.memory_slot, &on_node);
        }
        for pod in pods {
            if let Some(id) = pod.node {
                assert!(
                    self.node_index(id).is_some(),
                    "a bound pod's node is registered"
                );
            }
        }
    }

    /// CPU conservation on one node: its pods' demands add up, no pod gets more than it wants
    /// or than its limit, and together they never get more than the node has.
    fn check_node_cpu(&self, node: &Node, slot: u32, on_node: &[&&Pod]) {
        let cpu = self.node_cpu(slot);
        assert_eq!(cpu.pods.len(), on_node.len(), "{}: cpu pods", node.name);
        let mut demand = 0;
        let mut used = 0.0;
        for pod in on_node {
            assert_eq!(pod.cpu_slot, slot, "{}: a pod's cpu slot", node.name);
            let profile = &self.cpu_profiles[pod.spec as usize];
            let wanted = super::cpu::wanted_millicores(&profile.limits, pod);
            let capped = profile.limits.within_limit(wanted);
            let got = pod.server.cpu_millicores();
            if pod.cpu_always_free {
                assert!(
                    !cpu.may_contend() && profile.never_throttled,
                    "{}: only a pod that can never be short runs untracked",
                    node.name
                );
                assert_eq!(got, wanted as f64, "{}: a free pod gets its CPU", node.name);
            } else {
                assert_eq!(pod.cpu_demand_millicores, capped, "{}: demand", node.name);
            }
            assert!(
                got <= capped as f64 + 1e-6,
                "{}: a pod gets {got}m, more than the {capped}m it wants within its limit",
                node.name
            );
            if let Some(rate) = pod.server.requests().shared_rate()
                && wanted > 0
            {
                let expected = (got / wanted as f64).min(1.0) * pod.server.speed();
                assert!(
                    (rate - expected).abs() <= 1e-9 * expected.max(1.0),
                    "{}: a sharing pod's requests run at {rate}, not at its CPU's {expected}",
                    node.name
                );
            }
            demand += capped;
            used += got;
        }
        if cpu.may_contend() {
            assert_eq!(cpu.demand_millicores, demand, "{}: cpu demand", node.name);
            // Every pod gets what CFS's division of the node gives it.
            let claims: Vec<_> = on_node
                .iter()
                .map(|pod| {
                    let profile = &self.cpu_profiles[pod.spec as usize];
                    crate::cluster::cpu_sharing::CpuClaim {
                        demand_millicores: pod.cpu_demand_millicores as f64,
                        shares: profile.shares,
                        qos: profile.qos,
                    }
                })
                .collect();
            let mut expected = vec![0.0; claims.len()];
            crate::cluster::cpu_sharing::share(
                cpu.capacity_millicores(),
                &claims,
                &mut expected,
                &mut Default::default(),
            );
            for (pod, want) in on_node.iter().zip(&expected) {
                let got = pod.server.cpu_millicores();
                assert!(
                    (got - want).abs() <= 1e-6 * want.max(1.0),
                    "{}: a pod gets {got}m where CFS gives it {want}m",
                    node.name
                );
            }
        }
        let capacity = cpu.capacity_millicores();
        assert!(
            used <= capacity * (1.0 + 1e-9) + 1e-6,
            "{}: pods use {used}m of {capacity}m",
            node.name
        );
        assert_eq!(
            cpu.contended,
            demand as f64 > capacity,
            "{}: contention flag",
            node.name
        );
        assert!(
            cpu.may_contend() || !cpu.contended,
            "{}: contended beyond its pods' peak",
            node.name
        );
        if demand as f64 >= capacity {
            assert!(
                (used - capacity).abs() <= 1e-6 * capacity,
                "{}: a contended node is fully used ({used}m of {capacity}m)",
                node.name
            );
        }
    }

    /// Memory on one node: each pod counts what its running containers use, and the node
    /// the sum.
    fn check_node_memory(&self, node: &Node, slot: u32, on_node: &[&&Pod]) {
        let mut sum = 0;
        for pod in on_node {
            assert_eq!(pod.memory_slot, slot, "{}: a pod's memory slot", node.name);
            assert_eq!(
                pod.memory_bytes,
                self.expected_memory(pod),
                "{}: a pod's memory",
                node.name
            );
            sum += pod.memory_bytes;
        }
        assert_eq!(
            self.memory_in_use(slot),
            sum,
            "{}: memory in use",
            node.name
        );
    }

    fn check_pools(&self) {
        for (p, pool) in self.pools.iter().enumerate() {
            let nodes: Vec<_> = self
                .nodes
                .iter()
                .filter(|n| usize::from(n.pool.0) == p)
                .collect();
            let sum = |f: fn(&crate::cluster::node::Node) -> u64| nodes.iter().map(|n| f(n)).sum();
            let creating = pool.upcoming.iter().filter(|u| !u.creation_failed).count();
            let billed = (nodes.len() + creating) as u64;
            let expected: [(&str, &Gauge, u64); 6] = [
                ("ready nodes", &pool.ready, nodes.len() as u64),
                ("billed nodes", &pool.billed_total, billed),
                (
                    "cpu allocatable",
                    &pool.cpu.allocatable,
                    sum(|n| n.allocatable.cpu.0),
                ),
                (
                    "cpu requested",
                    &pool.cpu.requested,
                    sum(|n| n.requested.cpu.0),
                ),
                (
                    "memory allocatable",
                    &pool.memory.allocatable,
                    sum(|n| n.allocatable.memory.0),
                ),
                (
                    "memory requested",
                    &pool.memory.requested,
                    sum(|n| n.requested.memory.0),
                ),
            ];
            for (what, gauge, value) in expected {
                assert_eq!(gauge.value(), value, "pool {p}: {what}");
            }
        }
    }

    fn check_namespaces(&self, pods: &[&crate::simulation::cluster_state::Pod]) {
        for (n, namespace) in self.namespaces.iter().enumerate() {
            let mut usage = QuotaUsage::default();
            for pod in pods
                .iter()
                .filter(|p| self.service_namespace[usize::from(p.service)] == n)
            {
                usage.add_pod(&self.pod_specs[pod.spec as usize]);
            }
            assert_eq!(namespace.usage, usage, "namespace {n}: quota usage");
            if let Some(hard) = &namespace.quota {
                assert!(
                    hard.pods.is_none_or(|max| usage.pods <= max),
                    "namespace {n}: pods"
                );
                assert!(
                    hard.requests_cpu
                        .is_none_or(|max| usage.requests.cpu <= max),
                    "namespace {n}: requests.cpu"
                );
            }
        }
    }
}

fn at(s: u64) -> SimTime {
    SimTime(s * 1_000_000)
}

#[test]
fn a_pod_moves_through_its_life_with_every_list_in_step() {
    let sc = scenario(
        vec![pool("p", 8, 32, 1)],
        vec![service("web", 1, 1000, 1, 1.0, 10)],
        600,
        0,
    );
    let mut c = ClusterState::new(&sc);
    let up = c.request_node(0, at(0));
    let (p, up) = c.take_upcoming(up.request).expect("just asked for");
    c.register_node(p, &sc.node_pools[0], up, at(0));
    c.check_invariants();

    let (pod, serial) = c.create_pod(0, 0, at(1), 0).expect("no quota");
    assert_eq!(serial, 0);
    assert_eq!(c.workload(0).pending_gauge.value(), 1);
    c.check_invariants();
    assert_eq!(c.bind(pod, 0, at(2)), (0, 0));
    assert_eq!(c.nodes()[0].requested.cpu, Millicores(1000));
    assert_eq!(c.pool(0).cpu.requested.value(), 1000);
    c.check_invariants();
    assert!(c.make_ready(pod, at(3)));
    assert!(
        !c.make_ready(pod, at(3)),
        "only a starting pod becomes Ready"
    );
    assert_eq!(*c.workload(0).ready, [pod]);
    c.check_invariants();
    assert_eq!(c.start_terminating(pod, at(4)), Some(true));
    assert!(c.workload(0).ready.is_empty() && c.workload(0).active.is_empty());
    assert_eq!(c.workload_pods_per_node(0)[0], 0);
    c.check_invariants();
    let (removed, node) = c.remove_pod(pod, at(5)).expect("still there");
    assert_eq!((removed.serial, node), (0, Some(0)));
    assert!(c.remove_pod(pod, at(5)).is_none(), "removed once");
    assert_eq!(c.nodes()[0].pod_count, 0);
    c.check_invariants();
    let (node, _) = c.remove_node(0, at(6));
    assert_eq!(node.name, "p-0");
    assert_eq!(c.pool(0).billed_total.value(), 0);
    c.check_invariants();
}

#[test]
fn a_quota_refusal_changes_nothing() {
    let mut sc = scenario(
        vec![pool("p", 8, 32, 1)],
        vec![service("web", 1, 1000, 1, 1.0, 10)],
        600,
        0,
    );
    sc.quotas = vec![Quota {
        namespace: "default".into(),
        requests_cpu: Some(Millicores(1500)),
        ..Quota::default()
    }];
    let mut c = ClusterState::new(&sc);
    c.create_pod(0, 0, at(0), 0).expect("1 of 1.5 CPU");
    let refused = c.create_pod(0, 0, at(0), 0).expect_err("2 of 1.5 CPU");
    assert!(refused.to_string().contains("requests.cpu"), "{refused}");
    assert_eq!(c.workload(0).active.len(), 1);
    c.count_quota_rejection(0);
    assert_eq!(c.quota_rejections().collect::<Vec<_>>(), [1]);
    c.check_invariants();
}

#[test]
fn upcoming_nodes_are_billed_until_given_up_or_registered() {
    let sc = scenario(vec![pool("p", 8, 32, 0)], vec![], 600, 0);
    let mut c = ClusterState::new(&sc);
    let a = c.request_node(0, at(0));
    let b = c.request_node(0, at(1));
    assert_eq!((a.serial, b.serial), (0, 1));
    assert_eq!(c.pool(0).billed_total.value(), 2);
    assert_eq!(
        c.cancel_upcoming(0, at(2)),
        Some(b),
        "the newest goes first"
    );
    assert!(
        c.take_upcoming(b.request).is_none(),
        "a node given up on never registers"
    );
    c.check_invariants();
    let (p, up) = c.take_upcoming(a.request).expect("still upcoming");
    c.register_node(p, &sc.node_pools[0], up, at(3));
    assert_eq!(c.nodes()[0].created_at, at(0), "billed from the request");
    assert_eq!(c.pool(0).billed_total.value(), 1);
    c.check_invariants();
}

#[test]
fn failed_creations_are_not_billed_never_boot_and_are_retried_with_new_requests() {
    let sc = scenario(vec![pool("p", 8, 32, 0)], vec![], 600, 0);
    let mut c = ClusterState::new(&sc);
    let a = c.request_node(0, at(0));
    let b = c.request_node(0, at(1));
    assert_eq!(c.fail_creations(0, at(2)), 2);
    assert_eq!(c.fail_creations(0, at(2)), 0, "each fails once");
    assert_eq!(
        c.pool(0).billed_total.value(),
        0,
        "a failed creation is not billed"
    );
    c.check_invariants();
    assert!(
        c.take_upcoming(a.request).is_none(),
        "a failed VM never boots"
    );
    assert_eq!(
        c.cancel_upcoming(0, at(3)),
        None,
        "only VMs being created are given up"
    );
    let d = c.request_node(0, at(4));
    assert_eq!(c.pool(0).billed_total.value(), 1);
    let deleted = c.delete_failed_creations(0, 1);
    assert_eq!(deleted.len(), 1);
    assert_eq!(
        deleted[0].serial, a.serial,
        "the oldest failed creation goes first"
    );
    c.check_invariants();
    let retried = c.retry_creations(0, at(5));
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].serial, b.serial);
    assert!(retried[0].request != b.request, "a retry is a new request");
    assert!(
        c.take_upcoming(b.request).is_none(),
        "the old boot finds nothing"
    );
    assert_eq!(
        c.pool(0).billed_total.value(),
        2,
        "billed again from the retry"
    );
    c.check_invariants();
    assert!(c.take_upcoming(retried[0].request).is_some());
    assert!(c.take_upcoming(d.request).is_some());
}

#[test]
fn a_pod_still_sharing_when_its_node_can_no_longer_be_short_keeps_its_completions() {
    // Two pods of two 1-CPU workers on a 2-CPU node: together they can want 4 CPUs.
    let sc = scenario(
        vec![pool("p", 2, 8, 1)],
        vec![service("web", 2, 500, 2, 1.0, 10)],
        600,
        0,
    );
    let mut c = ClusterState::new(&sc);
    let up = c.request_node(0, at(0));
    let (p, up) = c.take_upcoming(up.request).expect("just asked for");
    c.register_node(p, &sc.node_pools[0], up, at(0));
    let (a, _) = c.create_pod(0, 0, at(0), 0).expect("no quota");
    let (b, _) = c.create_pod(0, 0, at(0), 0).expect("no quota");
    c.bind(a, 0, at(0));
    c.bind(b, 0, at(0));
    let work = SimDuration::from_millis(10);
    // Starts a request on `r`; returns whether it got its own completion event or the pod's
    // lane was handed back to be rescheduled.
    let start = |c: &mut ClusterState, r, t| {
        let pod = c.pod_mut(r).expect("live");
        let free = pod.server.begin(t, t, work).is_some();
        let mut moved = false;
        c.cpu_demand_changed(r, t, |m, _| moved |= m == r);
        free || moved
    };
    for r in [a, a, b, b] {
        start(&mut c, r, at(1));
    }
    c.check_invariants();
    let pod_a = c.pod_mut(a).expect("live");
    assert!(pod_a.server.in_service().is_shared(), "the node is short");
    // B goes: the node can no longer be short, while A still shares.
    let pod_b = c.pod_mut(b).expect("live");
    pod_b.server.stop_workers(at(2));
    c.cpu_demand_changed(b, at(2), |_, _| {});
    c.remove_pod(b, at(2));
    c.check_invariants();
    // A finishes both requests and takes a new one: its completion must be scheduled.
    for _ in 0..2 {
        c.pod_mut(a)
            .expect("live")
            .server
            .in_service()
            .finish_shared();
        c.cpu_demand_changed(a, at(3), |_, _| {});
    }
    assert!(
        start(&mut c, a, at(4)),
        "a request in service has a completion"
    );
    c.check_invariants();
}

#[test]
#[should_panic(expected = "extended resource 0: 2 requested of 1")]
fn a_node_never_holds_pods_asking_for_more_gpus_than_it_has() {
    let mut gpu_pool = pool("gpu", 8, 32, 1);
    gpu_pool.allocatable.extended.0[0] = 1;
    let mut infer = service("infer", 2, 1000, 1, 1.0, 10);
    infer.pod.requests.extended.0[0] = 1;
    let sc = scenario(vec![gpu_pool], vec![infer], 600, 0);
    let mut c = ClusterState::new(&sc);
    let up = c.request_node(0, at(0));
    let (p, up) = c.take_upcoming(up.request).expect("just asked for");
    c.register_node(p, &sc.node_pools[0], up, at(0));
    let (first, _) = c.create_pod(0, 0, at(1), 0).expect("no quota");
    c.bind(first, 0, at(2));
    c.check_invariants();
    // A second one-GPU pod bound past the scheduler breaks the node's GPU count.
    let (second, _) = c.create_pod(0, 0, at(3), 0).expect("no quota");
    c.bind(second, 0, at(4));
    c.check_invariants();
}
