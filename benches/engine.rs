//! Engine throughput on the M/M/c scenario (`scenarios/mmc.yaml`: one pod, 8 workers, 720
//! requests/s, exponential 10 ms service), in simulated events per wall-clock second; the same
//! model as a bare hand-written loop, the yardstick for what the engine costs; and the bare
//! event queue under the classic hold model.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand_distr::{Distribution, Exp1};
use std::cmp::Reverse;
use std::collections::binary_heap::PeekMut;
use std::collections::{BinaryHeap, VecDeque};
use std::hint::black_box;

use capsim::engine::queue::EventQueue;
use capsim::engine::rng::{SimRng, stream};
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
    let horizon_us = 30 * 60 * 1_000_000;
    group.throughput(Throughput::Elements(mmc_bare(horizon_us).0));
    group.bench_function("mmc_bare_30min", |b| {
        b.iter(|| black_box(mmc_bare(black_box(horizon_us))))
    });
    group.finish();
}

/// The M/M/8 model of `scenarios/mmc.yaml` as a plain loop: no pods, no observer, no
/// statistics beyond a latency sum. Times are integer microseconds drawn as capsim draws them
/// (exact arrival times rounded; Xoshiro256++ streams, `Exp1`). The heap holds (time, sequence,
/// event), the event being the arrival time of the request that completes, or `ARRIVAL`; the
/// event just handled is replaced in place by the one it schedules (one sift, not a pop and a
/// push). Returns the events handled (arrivals and completions up to `horizon_us`) and the sum
/// of latencies.
fn mmc_bare(horizon_us: u64) -> (u64, u64) {
    const ARRIVAL: u64 = u64::MAX;
    const WORKERS: u32 = 8;
    const MEAN_GAP_US: f64 = 1e6 / 720.0;
    const MEAN_SERVICE_US: f64 = 10_000.0;
    let mut arrivals = stream(7, "arrivals/queue");
    let mut service = stream(7, "service-time/queue");
    let exp = |rng: &mut SimRng, mean: f64| Distribution::<f64>::sample(&Exp1, rng) * mean;
    let mut draw_service = || (exp(&mut service, MEAN_SERVICE_US) + 0.5) as u64;
    let mut heap: BinaryHeap<Reverse<(u64, u64, u64)>> = BinaryHeap::with_capacity(64);
    let mut waiting: VecDeque<u64> = VecDeque::with_capacity(4_096);
    let (mut seq, mut busy, mut events, mut latency_sum_us) = (0u64, 0u32, 0u64, 0u64);
    let mut next_arrival_us = exp(&mut arrivals, MEAN_GAP_US);
    heap.push(Reverse(((next_arrival_us + 0.5) as u64, seq, ARRIVAL)));
    loop {
        let Some(mut top) = heap.peek_mut() else {
            break;
        };
        let Reverse((now, _, event)) = *top;
        if now > horizon_us {
            break;
        }
        events += 1;
        seq += 1;
        if event == ARRIVAL {
            next_arrival_us += exp(&mut arrivals, MEAN_GAP_US);
            *top = Reverse(((next_arrival_us + 0.5) as u64, seq, ARRIVAL));
            drop(top);
            if busy < WORKERS {
                busy += 1;
                seq += 1;
                heap.push(Reverse((now + draw_service(), seq, now)));
            } else {
                waiting.push_back(now);
            }
        } else {
            latency_sum_us += now - event;
            if let Some(arrived_us) = waiting.pop_front() {
                *top = Reverse((now + draw_service(), seq, arrived_us));
            } else {
                PeekMut::pop(top);
                busy -= 1;
            }
        }
    }
    (events, latency_sum_us)
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
