//! The HPAs at work: each syncs at its period, reads its target's pods as the API server and
//! metrics-server show them, and resizes the Deployment.
//!
//! The controller is a plain function of what it observes (`controllers::hpa`); this file
//! builds its observation from the simulation's state, applies its decision, and records it.

use rand::RngExt;

use crate::controllers::hpa::spec::{HpaSpec, SyncOffset};
use crate::controllers::hpa::{Hpa, HpaDecision, HpaTimings, ObservedPhase, PodObservation};
use crate::engine::rng::stream;
use crate::report::EventKind;
use crate::simulation::cluster_state::PodPhase;
use crate::simulation::{Event, Simulation};
use crate::units::{SimDuration, SimTime};

/// One HPA and what the simulation remembers of its last sync.
#[derive(Debug)]
pub(super) struct HpaRuntime {
    /// Index of the target service.
    pub(super) service: usize,
    pub(super) hpa: Hpa,
    /// How long after each metrics-server sample instant this HPA syncs.
    pub(super) sync_offset: SimDuration,
    /// The conditions of the last sync, as text, to log only changes.
    last_conditions: String,
    /// For each metric, the time-series column its value goes to (`HpaSpec::column_slots`).
    column_slots: Vec<usize>,
}

impl HpaRuntime {
    /// The controller for `spec`, targeting the service named `service`, in a run seeded with
    /// `seed`: a random sync phase is drawn from a stream named after the service.
    pub(super) fn new(spec: &HpaSpec, service: &str, seed: u64) -> HpaRuntime {
        HpaRuntime {
            service: spec.service,
            hpa: Hpa::new(spec.clone(), HpaTimings::default()),
            sync_offset: match spec.sync_offset {
                SyncOffset::Fixed(offset) => offset,
                SyncOffset::Random => {
                    let mut rng = stream(seed, &format!("hpa-sync-offset/{service}"));
                    SimDuration(rng.random_range(0..spec.sync_period.0))
                }
            },
            last_conditions: String::new(),
            column_slots: spec.column_slots(),
        }
    }
}

impl Simulation<'_> {
    /// HPA `h` syncs: reads the latest metrics of its target's pods and resizes the target.
    pub(super) fn on_hpa_sync(&mut self, h: usize) {
        let now = self.clock.now();
        let s = self.hpas[h].service;
        let pods = self.observe_pods(s, now);
        let current = self.services[s].desired;
        let decision = self.hpas[h].hpa.reconcile(now, current, &pods);
        self.record_hpa_decision(h, &decision);
        if decision.rescale {
            self.set_desired_replicas(s, decision.desired_replicas);
            self.sync_deployment(s);
        }
        let period = self.scenario.autoscaling.hpa[h].sync_period;
        self.clock
            .schedule_in(period, Event::HpaSync { hpa: h as u16 });
    }

    /// What the HPA sees of service `s`'s pods: every pod of the Deployment, terminating ones
    /// included (the HPA ignores them itself), with its latest metrics-server sample.
    fn observe_pods(&self, s: usize, now: SimTime) -> Vec<PodObservation> {
        let spec = &self.scenario.services[s].pod;
        self.cluster
            .deployment_pods(s)
            .map(|pod| {
                let phase = if pod.running(now) {
                    ObservedPhase::Running
                } else {
                    ObservedPhase::Pending
                };
                let ready = pod.phase() == PodPhase::Ready;
                PodObservation {
                    phase,
                    deleting: pod.phase() == PodPhase::Terminating,
                    start_time: pod.bound_at(),
                    ready,
                    // The Ready condition is set False when the kubelet starts the pod, turns
                    // True at readiness, and False again when its container is OOM-killed.
                    ready_transition: pod
                        .ready_since()
                        .or(pod.unready_since())
                        .or(pod.bound_at())
                        .unwrap_or(pod.created_at),
                    requests: spec.requests,
                    has_cpu_request: spec.has_cpu_request,
                    has_memory_request: spec.has_memory_request,
                    usage: pod.sample.map(|m| m.usage),
                    requests_per_second: pod.sample.map(|m| m.requests_per_second),
                    in_flight_requests: pod.sample.map(|m| f64::from(m.in_flight)),
                }
            })
            .collect()
    }

    /// Counts a decision and writes it to the event log when it rescales or its conditions
    /// change.
    fn record_hpa_decision(&mut self, h: usize, decision: &HpaDecision) {
        let now = self.clock.now();
        let s = self.hpas[h].service;
        let max = self.scenario.autoscaling.hpa[h].max_replicas;
        let metrics_text = join(&decision.metrics);
        let conditions_text = join(&decision.conditions);
        let state = &mut self.hpas[h];
        let conditions_changed = state.last_conditions != conditions_text;
        state.last_conditions.clone_from(&conditions_text);
        if !decision.metrics.is_empty() {
            let values = &mut self.services[s].hpa_metrics;
            for (&slot, metric) in state.column_slots.iter().zip(&decision.metrics) {
                if let Some(value) = values.get_mut(slot) {
                    *value = metric.value();
                }
            }
        }
        let measured = self.measured(now);
        let svc = &mut self.services[s];
        svc.at_max_gauge
            .set(now, u64::from(decision.desired_replicas >= max));
        if decision.rescale {
            let up = decision.desired_replicas > decision.current_replicas;
            if measured {
                if up {
                    svc.scaling.scale_ups += 1;
                } else {
                    svc.scaling.scale_downs += 1;
                }
                if svc
                    .scaling
                    .last_direction_up
                    .is_some_and(|was_up| was_up != up)
                {
                    svc.scaling.direction_changes += 1;
                }
            }
            svc.scaling.last_direction_up = Some(up);
            let mut event = self.service_event(EventKind::HpaRescale, s);
            event.from_replicas = Some(decision.current_replicas);
            event.to_replicas = Some(decision.desired_replicas);
            event.reason = Some(decision.reason.clone());
            event.detail = Some(format!(
                "metrics: {metrics_text}; conditions: {conditions_text}"
            ));
            self.log.push(event);
        } else if conditions_changed {
            let mut event = self.service_event(EventKind::HpaConditions, s);
            event.from_replicas = Some(decision.current_replicas);
            event.to_replicas = Some(decision.desired_replicas);
            event.detail = Some(format!(
                "metrics: {metrics_text}; conditions: {conditions_text}"
            ));
            self.log.push(event);
        }
    }
}

/// The items' texts, separated by semicolons.
fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
