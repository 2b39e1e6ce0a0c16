//! The Horizontal Pod Autoscaler (autoscaling/v2) as Kubernetes' controller-manager implements
//! it, in `pkg/controller/podautoscaler/`.
//!
//! Files: `observation` (what the HPA sees of a pod), `replica_calculator` (one metric's
//! proposal).

pub mod observation;
pub mod replica_calculator;
