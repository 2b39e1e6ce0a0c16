//! Scheduling at scale (`benches/scheduling.yaml`): 1,000 nodes of one pool and 100,000 pods
//! of two services, all placed at time zero through the scheduler's default profile, then a
//! simulated minute of light load. Nearly all of the time is the 100,000 scheduling cycles.
//!
//! `pod_trace_nodes_1000_pods_100k`: the same 1,000 nodes and a pod trace of 100,000 pods
//! created over two hours, each running 2 to 60 minutes, with requests drawn from the sizes of
//! batch work (0.5 to 8 CPUs, 1 to 32 GiB), simulated for three hours: from the first half hour
//! the trace asks for more than the nodes have, so thousands of pods wait
//! and are placed as others finish.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

use std::sync::Arc;

use capsim::controllers::job::{JobPods, JobSpec, TracePod};
use capsim::report::Discard;
use capsim::scenario::Scenario;
use capsim::simulation::Simulation;
use capsim::units::{Bytes, DurationDist, Resources, SimDuration};

fn at_scale(c: &mut Criterion) {
    let text = include_str!("scheduling.yaml");
    let scenario =
        Scenario::from_yaml_str(text, "benches/scheduling.yaml").expect("scheduling.yaml is valid");
    let pods: u64 = scenario
        .services
        .iter()
        .map(|s| u64::from(s.replicas))
        .sum();
    let mut group = c.benchmark_group("scheduling");
    group.throughput(Throughput::Elements(pods));
    group.sample_size(10);
    // About 2 s an iteration: room for criterion's ten samples without its warning.
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("nodes_1000_pods_100k", |b| {
        b.iter(|| black_box(Simulation::new(black_box(&scenario)).run(&mut Discard)))
    });
    group.finish();
}

/// The next value of a SplitMix64 sequence: a deterministic trace without a random crate.
fn split_mix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// 100,000 trace pods created over two hours, in creation order.
fn trace_pods(count: u64) -> Vec<TracePod> {
    const CPU_MILLICORES: [u64; 5] = [500, 1_000, 2_000, 4_000, 8_000];
    let mut state = 7;
    (0..count)
        .map(|i| {
            let r = split_mix(&mut state);
            let cpu = CPU_MILLICORES[(r % 5) as usize];
            let memory_gib = 1 << ((r >> 8) % 6);
            let run_s = 120 + (r >> 16) % (58 * 60);
            TracePod {
                created_at: SimDuration(i * 7_200_000_000 / count),
                run_time: Some(SimDuration::from_secs(run_s)),
                requests: Resources::new(cpu, memory_gib * Bytes::GIB),
                line: i as u32 + 2,
            }
        })
        .collect()
}

fn pod_trace_at_scale(c: &mut Criterion) {
    let text = include_str!("scheduling.yaml");
    let mut scenario =
        Scenario::from_yaml_str(text, "benches/scheduling.yaml").expect("scheduling.yaml is valid");
    let pods = 100_000;
    let template = scenario.services[0].pod.clone();
    scenario.services.clear();
    scenario.duration = SimDuration::from_secs(3 * 3_600);
    scenario.jobs = vec![JobSpec {
        name: "trace".into(),
        namespace: "default".into(),
        pod: template,
        image_pull: DurationDist::Constant(SimDuration::ZERO),
        termination_grace: SimDuration::from_secs(30),
        safe_to_evict: true,
        pods: JobPods::Trace(Arc::from(trace_pods(pods))),
    }];
    let mut group = c.benchmark_group("scheduling");
    group.throughput(Throughput::Elements(pods));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("pod_trace_nodes_1000_pods_100k", |b| {
        b.iter(|| black_box(Simulation::new(black_box(&scenario)).run(&mut Discard)))
    });
    group.finish();
}

criterion_group!(benches, at_scale, pod_trace_at_scale);
criterion_main!(benches);
