//! The Horizontal Pod Autoscaler (autoscaling/v2) as Kubernetes' controller-manager implements
//! it, in `pkg/controller/podautoscaler/`.
//!
//! Files: `observation` (what the HPA sees of a pod), `replica_calculator` (one metric's
//! proposal), `stabilization` (recommendation windows), `behavior` (defaults and rate limits),
//! `legacy` (the `2 × current` limit without `behavior`).

pub mod behavior;
pub mod legacy;
pub mod observation;
pub mod replica_calculator;
pub mod stabilization;
