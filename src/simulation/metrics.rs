//! The metrics pipeline: metrics-server's periodic sample of every running pod, which the HPA
//! reads.
//!
//! Each sample is the pod's average CPU over the window since the previous sample and its memory
//! in use at the sample, as metrics-server reports them; alongside, capsim derives the per-pod
//! load metrics a `Pods` HPA metric can target (requests routed per second over the window,
//! requests in flight at the sample). A pod gets its first sample once its containers have run
//! for a full window, as metrics-server needs two readings to compute a rate.

use crate::controllers::hpa::ResourceSample;
use crate::simulation::cluster_state::PodSample;
use crate::simulation::{Event, Simulation};
use crate::units::Millicores;

impl Simulation<'_> {
    /// metrics-server samples every pod.
    pub(super) fn on_metrics_sample(&mut self) {
        let now = self.clock.now();
        let window = self.scenario.autoscaling.metric_resolution;
        for pod in self.cluster.pods_mut() {
            let cpu_area = pod.server.cpu_usage_area(now);
            let used = cpu_area - pod.cpu_area_at_sample;
            pod.cpu_area_at_sample = cpu_area;
            let arrivals = std::mem::take(&mut pod.arrivals_since_sample);
            let full_window = pod
                .containers_start
                .is_some_and(|start| start + window <= now);
            if !full_window {
                continue;
            }
            // A job's pod is no HPA's target.
            let Some(service) = self.scenario.services.get(usize::from(pod.service)) else {
                continue;
            };
            let server = &service.server;
            let in_flight = pod.server.in_flight();
            pod.sample = Some(PodSample {
                usage: ResourceSample {
                    timestamp: now,
                    window,
                    cpu: Millicores((used / window.0.max(1) as f64) as u64),
                    memory: server.memory_in_use(in_flight),
                },
                requests_per_second: f64::from(arrivals) / window.as_secs_f64(),
                in_flight,
            });
        }
        self.clock.schedule_in(window, Event::MetricsSample);
    }
}
