//! Engine throughput on the M/M/c scenario (`scenarios/mmc.yaml`: one pod, 8 workers, 720
//! requests/s, exponential 10 ms service), in simulated events per wall-clock second, and the
//! bare event queue under the classic hold model.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

use capsim::engine::queue::EventQueue;
use capsim::report::Discard;
use capsim::scenario::Scenario;
use capsim::simulation::Simulation;
use capsim::units::SimDuration;

fn mmc(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/mmc.yaml");
    let mut scenario = Scenario::load(std::path::Path::new(path)).expect("mmc.yaml is valid");
    scenario.duration = SimDuration::from_secs(30 * 60);
    scenario.warmup = SimDuration::from_secs(60);
    let events = Simulation::new(&scenario)
        .run(&mut Discard)
        .events_processed;
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(events));
    group.sample_size(20);
    group.bench_function("mmc_30min", |b| {
        b.iter(|| black_box(Simulation::new(black_box(&scenario)).run(&mut Discard)))
    });
    group.finish();
}

fn hold(c: &mut Criterion) {
    // The hold model: a queue of 16 pending events; pop one, push one a pseudo-random delay later.
    const OPS: u64 = 1_000_000;
    let mut group = c.benchmark_group("event_queue");
    group.throughput(Throughput::Elements(OPS));
    group.bench_function("hold_16", |b| {
        b.iter(|| {
            let mut q = EventQueue::new();
            let mut x = 0x2545_f491_4f6c_dd1du64;
            for i in 0..16u64 {
                q.push(i, i as u32);
            }
            for _ in 0..OPS {
                let (t, e) = q.pop().expect("the queue holds 16 events");
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                q.push(t + (x & 0xffff), e);
            }
            black_box(q.len())
        })
    });
    group.finish();
}

criterion_group!(benches, mmc, hold);
criterion_main!(benches);
