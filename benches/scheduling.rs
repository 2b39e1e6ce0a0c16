//! Scheduling at scale (`benches/scheduling.yaml`): 1,000 nodes of one pool and 100,000 pods
//! of two services, all placed at time zero through the scheduler's default profile, then a
//! simulated minute of light load. Nearly all of the time is the 100,000 scheduling cycles.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

use capsim::report::Discard;
use capsim::scenario::Scenario;
use capsim::simulation::Simulation;

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

criterion_group!(benches, at_scale);
criterion_main!(benches);
