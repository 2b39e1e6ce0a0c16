//! Node pools: machine type (catalog or inline) and its per-vCPU speed, size and autoscaling
//! bounds, labels (with the provider's well-known ones added), taints (with GKE's GPU taint on
//! GPU machine types), pod limit, allocatable (GPUs included) and provisioning delay.

use std::fmt::Display;

use crate::cluster::pool::{MachineType, NodeFailures, NodePool, PoolAutoscaling};
use crate::cluster::spec::{Labels, Taint, TaintEffect};
use crate::scenario::catalog::{self, Provider};
use crate::scenario::error::Error;
use crate::scenario::schema::{MachineTypeFile, PoolFile, ResourcesFile, Scalar, TaintFile};
use crate::units::{DurationDist, Resources, SimDuration};

use super::zones;

/// How long a node stays NotReady before the cloud repairs it, unless its pool says: GKE's
/// node auto-repair acts on a node NotReady "over the given time threshold (approximately 10
/// minutes)" (GKE docs, "Auto-repair nodes", Repair criteria).
const DEFAULT_REPAIR_DELAY: SimDuration = SimDuration::from_secs(600);
use super::{Cx, each, keep, name_chars, none_of, optional};

/// What a pool's nodes are, from its machine type.
struct PoolNodes {
    machine: MachineType,
    allocatable: Resources,
    price_usd_per_hour: f64,
    labels: Labels,
    max_pods: u32,
    /// Whether GKE taints the nodes for their GPUs.
    gke_gpu: bool,
}
use crate::scenario::admission::{NVIDIA_GPU, gke_gpu_taint};

/// Name of inline machine types.
const CUSTOM_MACHINE: &str = "custom";

/// The highest relative per-vCPU speed a file may give. The fastest catalog series is under
/// twice an N2 vCPU, so a larger value is almost surely a benchmark score or a clock rate
/// written where the ratio belongs.
const MAX_SPEED: f64 = 10.0;

/// The highest price per node-hour a file may give, in USD: ten thousand times the dearest
/// catalog machine's, so that a real price always fits, and low enough that what the run costs
/// (node-hours times price) stays a finite sum that the summary and the time series can print.
pub(super) const MAX_PRICE_USD_PER_HOUR: f64 = 1e6;

/// The most the node pools may cost over a run, in USD: 2^53 cents, the largest amount a
/// 64-bit float (in which costs are summed) holds to the cent.
pub(super) const MAX_RUN_COST_USD: f64 = 9.007_199_254_740_992e13;

/// The label GKE sets on every node to its node pool's name.
pub(super) const GKE_NODEPOOL_LABEL: &str = "cloud.google.com/gke-nodepool";

/// The label GKE sets on GPU nodes to the GPU model (`nvidia-l4`).
pub(super) const GKE_ACCELERATOR_LABEL: &str = "cloud.google.com/gke-accelerator";

/// Taint effects, as Kubernetes spells them (for taints and tolerations).
pub(super) const TAINT_EFFECTS: [(&str, TaintEffect); 3] =
    variant_names!(TaintEffect: NoSchedule, PreferNoSchedule, NoExecute);

impl Cx<'_> {
    /// Validates the pool `name`, reporting every problem it has, into its node groups (one,
    /// or one per zone: `zones::node_groups`); what depends on the machine type (price,
    /// allocatable, labels) is checked only when the machine type is valid.
    pub(super) fn pool(&self, name: &str, p: &PoolFile) -> Result<Vec<NodePool>, Error> {
        let path = format!("node_pools.{name}");
        let mut errors = Vec::new();
        keep(&mut errors, self.dns_label(&path, "node pool", name));
        let zones = keep(&mut errors, self.zones(&path, p.zones.as_deref()));
        let machine = self.machine(&format!("{path}.machine_type"), &p.machine_type);
        let machine = keep(&mut errors, machine);
        let speed = optional(&path, "speed", p.speed.as_ref(), |sp, s| self.speed(sp, s));
        let speed = keep(&mut errors, speed);
        let max_pods = optional(&path, "max_pods", p.max_pods.as_ref(), |mp, s| {
            self.whole_u32(mp, s, "pod count", 1, 256)
        });
        let max_pods = keep(&mut errors, max_pods);
        let size = keep(&mut errors, self.pool_size(&path, p));
        let provisioning_delay = match &p.provisioning_delay {
            Some(d) => self.duration_dist(&format!("{path}.provisioning_delay"), d, false),
            None => Ok(DurationDist::Constant(SimDuration::from_secs(90))),
        };
        let provisioning_delay = keep(&mut errors, provisioning_delay);
        let taints = each(&format!("{path}.taints"), &p.taints, |tp, t| {
            self.taint(tp, t)
        });
        let taints = keep(&mut errors, taints);
        let preemption_mean_lifetime = keep(&mut errors, self.preemption(&path, p));
        let failures = keep(&mut errors, self.failures(&path, p));
        let nodes = match (machine, speed, max_pods) {
            (Some((mut machine, provider)), Some(speed), Some(max_pods)) => {
                if let Some(speed) = speed {
                    machine.speed = speed;
                }
                let max_pods = max_pods.unwrap_or_else(|| provider.default_max_pods());
                let nodes = self.pool_nodes(&path, name, p, (machine, provider), max_pods);
                keep(&mut errors, nodes)
            }
            _ => None,
        };
        none_of(errors)?;
        let (
            Some(nodes),
            Some((initial_size, min_nodes, max_nodes, autoscaling)),
            Some(provisioning_delay),
            Some(mut taints),
            Some(preemption_mean_lifetime),
            Some(failures),
        ) = (
            nodes,
            size,
            provisioning_delay,
            taints,
            preemption_mean_lifetime,
            failures,
        )
        else {
            unreachable!("a pool value is missing without an error");
        };
        if nodes.gke_gpu {
            let gpu_taint = gke_gpu_taint();
            if !taints.iter().any(|t| t.key == gpu_taint.key) {
                taints.push(gpu_taint);
            }
        }
        let pool = NodePool {
            name: name.to_string(),
            group_of: name.to_string(),
            zone: None,
            machine: nodes.machine,
            allocatable: nodes.allocatable,
            initial_size,
            min_nodes,
            max_nodes,
            autoscaling,
            spot: p.spot,
            preemption_mean_lifetime,
            failures,
            price_usd_per_hour: nodes.price_usd_per_hour,
            labels: nodes.labels,
            taints,
            max_pods: nodes.max_pods,
            provisioning_delay,
        };
        Ok(zones::node_groups(pool, zones.flatten().as_deref()))
    }

    /// What a pool's nodes are, given its valid machine type: GPUs, allocatable, price and
    /// labels.
    fn pool_nodes(
        &self,
        path: &str,
        name: &str,
        p: &PoolFile,
        (mut machine, provider): (MachineType, Provider),
        max_pods: u32,
    ) -> Result<PoolNodes, Error> {
        let gpu_type = match &p.machine_type {
            MachineTypeFile::Named(n) => catalog::lookup(n).filter(|e| e.gpus > 0),
            MachineTypeFile::Inline(_) => None,
        };
        if let Some(entry) = gpu_type {
            let i = self.extended_index(&format!("{path}.machine_type"), NVIDIA_GPU)?;
            machine.capacity.extended.0[i] = entry.gpus;
        }
        let mut errors = Vec::new();
        let price_usd_per_hour = keep(&mut errors, self.pool_price(path, p, &machine));
        let computed = catalog::allocatable(provider, machine.capacity, max_pods);
        let allocatable = match &p.allocatable {
            None => Ok(computed),
            Some(over) => {
                self.allocatable(&format!("{path}.allocatable"), over, computed, &mut machine)
            }
        };
        let allocatable = keep(&mut errors, allocatable);
        let labels = self.pool_labels(path, name, &machine, provider, p);
        let mut labels = keep(&mut errors, labels);
        none_of(errors)?;
        if let (Some(entry), Some(labels)) =
            (gpu_type.filter(|_| provider == Provider::Gke), &mut labels)
        {
            labels
                .entry(GKE_ACCELERATOR_LABEL.to_string())
                .or_insert_with(|| entry.accelerator.to_string());
        }
        match (price_usd_per_hour, allocatable, labels) {
            (Some(price_usd_per_hour), Some(allocatable), Some(labels)) => Ok(PoolNodes {
                machine,
                allocatable,
                price_usd_per_hour,
                labels,
                max_pods,
                gke_gpu: provider == Provider::Gke && gpu_type.is_some(),
            }),
            _ => unreachable!("a node value is missing without an error"),
        }
    }

    /// A node's price per hour: the machine's spot price for a spot pool (which the machine
    /// must have), else its on-demand price.
    fn pool_price(&self, path: &str, p: &PoolFile, machine: &MachineType) -> Result<f64, Error> {
        if !p.spot {
            return Ok(machine.on_demand_usd_per_hour);
        }
        machine.spot_usd_per_hour.ok_or_else(|| {
            self.invalid(
                &format!("{path}.spot"),
                format!(
                    "spot nodes asked for, but machine type \"{}\" has no spot price",
                    machine.name
                ),
                "expected spot: false, or an inline machine with spot_price_per_hour",
            )
        })
    }

    /// `allocatable` given in the file: each resource given replaces the `computed` one, and
    /// none may exceed the machine's capacity. An extended resource the machine does not come
    /// with (a GPU of an inline machine) is added to its capacity as given.
    fn allocatable(
        &self,
        path: &str,
        over: &ResourcesFile,
        computed: Resources,
        machine: &mut MachineType,
    ) -> Result<Resources, Error> {
        let mut extended = computed.extended;
        let given = self.extended_amounts(path, &over.extended)?;
        for (name, _) in &over.extended {
            let i = self.extended_index(path, name)?;
            let capacity = &mut machine.capacity.extended.0[i];
            if *capacity == 0 {
                *capacity = given.0[i];
            }
            extended.0[i] = self.within_capacity(path, name, given.0[i], *capacity)?;
        }
        let cpu = match &over.cpu {
            Some(s) => self.cpu(&format!("{path}.cpu"), s)?,
            None => computed.cpu,
        };
        let memory = match &over.memory {
            Some(s) => self.memory(&format!("{path}.memory"), s)?,
            None => computed.memory,
        };
        let cpu = self.within_capacity(path, "cpu", cpu, machine.capacity.cpu)?;
        let memory = self.within_capacity(path, "memory", memory, machine.capacity.memory)?;
        Ok(Resources {
            cpu,
            memory,
            extended,
        })
    }

    /// `value`, an allocatable amount of `resource`, unless it exceeds the machine's
    /// `capacity`.
    fn within_capacity<T: PartialOrd + Display>(
        &self,
        path: &str,
        resource: &str,
        value: T,
        capacity: T,
    ) -> Result<T, Error> {
        if value > capacity {
            return Err(self.invalid(
                &format!("{path}.{resource}"),
                format!("{value} is more than the machine's {capacity} {resource}"),
                "expected allocatable <= capacity",
            ));
        }
        Ok(value)
    }

    /// The mean lifetime of a spot pool's nodes, when `preemption` is given (only spot pools
    /// may give it).
    fn preemption(&self, path: &str, p: &PoolFile) -> Result<Option<SimDuration>, Error> {
        match &p.preemption {
            None => Ok(None),
            Some(_) if !p.spot => Err(self.invalid(
                &format!("{path}.preemption"),
                "preemption is given for a pool that is not spot",
                "expected spot: true with it, as only Spot VMs are preempted",
            )),
            Some(pre) => Ok(Some(self.positive_duration(
                &format!("{path}.preemption.mean_lifetime"),
                &pre.mean_lifetime,
            )?)),
        }
    }

    /// The pool's random node failures, when `failures` is given; the repair delay defaults to
    /// the 10 minutes GKE's node auto-repair waits for a NotReady node ("Repair criteria" in
    /// GKE's "Auto-repair nodes" page).
    fn failures(&self, path: &str, p: &PoolFile) -> Result<Option<NodeFailures>, Error> {
        let Some(f) = &p.failures else {
            return Ok(None);
        };
        let mean = self.positive_duration(
            &format!("{path}.failures.mean_time_between"),
            &f.mean_time_between,
        );
        let repair = match &f.repair_delay {
            Some(d) => self.positive_duration(&format!("{path}.failures.repair_delay"), d),
            None => Ok(DEFAULT_REPAIR_DELAY),
        };
        let mut errors = Vec::new();
        let (mean, repair) = (keep(&mut errors, mean), keep(&mut errors, repair));
        none_of(errors)?;
        let (Some(mean_time_between), Some(repair_delay)) = (mean, repair) else {
            unreachable!("a failures value is missing without an error");
        };
        Ok(Some(NodeFailures {
            mean_time_between,
            repair_delay,
        }))
    }

    /// The machine type and the provider whose reservations apply to it.
    fn machine(&self, path: &str, m: &MachineTypeFile) -> Result<(MachineType, Provider), Error> {
        match m {
            MachineTypeFile::Named(name) => {
                let Some(entry) = catalog::lookup(name) else {
                    return Err(self.unknown(path, "machine type", name, &catalog::names()));
                };
                let machine = MachineType {
                    name: entry.name.to_string(),
                    capacity: entry.capacity(),
                    on_demand_usd_per_hour: entry.on_demand_usd_per_hour,
                    spot_usd_per_hour: entry.spot_usd_per_hour,
                    speed: entry.speed,
                };
                Ok((machine, entry.provider))
            }
            MachineTypeFile::Inline(inline) => {
                let cpu = self.cpu(&format!("{path}.cpu"), &inline.cpu)?;
                let memory = self.memory(&format!("{path}.memory"), &inline.memory)?;
                if cpu.0 == 0 || memory.0 == 0 {
                    let (field, text) = if cpu.0 == 0 {
                        ("cpu", inline.cpu.text())
                    } else {
                        ("memory", inline.memory.text())
                    };
                    return Err(self.invalid(
                        &format!("{path}.{field}"),
                        format!("\"{text}\" is zero"),
                        "expected a machine with some cpu and memory",
                    ));
                }
                let price = |field: &str, s: &Scalar| {
                    self.real(
                        &format!("{path}.{field}"),
                        s,
                        |v| (0.0..=MAX_PRICE_USD_PER_HOUR).contains(&v),
                        &format!(
                            "expected a price in USD per hour from 0 to {MAX_PRICE_USD_PER_HOUR:e} \
                             (a node's price, such as 0.42; a larger one makes the run's cost \
                             overflow)"
                        ),
                    )
                };
                let on_demand = price("price_per_hour", &inline.price_per_hour)?;
                let spot = inline
                    .spot_price_per_hour
                    .as_ref()
                    .map(|s| price("spot_price_per_hour", s))
                    .transpose()?;
                let speed = match &inline.speed {
                    Some(s) => self.speed(&format!("{path}.speed"), s)?,
                    None => catalog::REFERENCE_SPEED,
                };
                let machine = MachineType {
                    name: self.machine_name(path, inline.name.as_deref())?,
                    capacity: Resources::cpu_memory(cpu, memory),
                    on_demand_usd_per_hour: on_demand,
                    spot_usd_per_hour: spot,
                    speed,
                };
                Ok((machine, Provider::Gke))
            }
        }
    }

    /// Checks that the pools cannot cost more than `MAX_RUN_COST_USD` over `duration`, every
    /// pool at its largest size all along: a dearer run's cost is not a number its outputs
    /// can hold to the cent.
    pub(super) fn run_cost(&self, pools: &[NodePool], duration: SimDuration) -> Result<(), Error> {
        let hours = duration.as_secs_f64() / 3600.0;
        let most_usd: f64 = pools
            .iter()
            .map(|p| f64::from(p.max_nodes.max(p.initial_size)) * p.price_usd_per_hour * hours)
            .sum();
        if most_usd <= MAX_RUN_COST_USD {
            return Ok(());
        }
        Err(self.invalid(
            "node_pools",
            format!(
                "the pools could cost {most_usd:.3e} USD over the {duration} run \
                 (every pool at its max_nodes, at its price per hour)"
            ),
            format!(
                "expected at most {MAX_RUN_COST_USD:.3e} USD (2^53 cents, what a 64-bit float \
                 sums to the cent): lower max_nodes, a price or the duration"
            ),
        ))
    }

    /// A relative per-vCPU speed: finite, above zero and at most `MAX_SPEED`.
    fn speed(&self, path: &str, s: &Scalar) -> Result<f64, Error> {
        self.real(
            path,
            s,
            |v| v > 0.0 && v <= MAX_SPEED,
            &format!(
                "expected a relative per-vCPU speed above 0 and at most {MAX_SPEED} \
                 (1.0 is an N2 vCPU; 1.3 does 30% more work per second)"
            ),
        )
    }

    /// `(initial_size, min_nodes, max_nodes, autoscaling)` of a pool.
    fn pool_size(
        &self,
        path: &str,
        p: &PoolFile,
    ) -> Result<(u32, u32, u32, Option<PoolAutoscaling>), Error> {
        let initial = |default: u32| match &p.initial_size {
            Some(s) => self.whole_u32(&format!("{path}.initial_size"), s, "count", 0, u32::MAX),
            None => Ok(default),
        };
        let Some(a) = &p.autoscaling else {
            let size = initial(1)?;
            return Ok((size, size, size, None));
        };
        let apath = format!("{path}.autoscaling");
        let min = match &a.min_nodes {
            Some(s) => self.whole_u32(&format!("{apath}.min_nodes"), s, "count", 0, u32::MAX)?,
            None => 0,
        };
        let max = self.whole_u32(
            &format!("{apath}.max_nodes"),
            &a.max_nodes,
            "count",
            1,
            u32::MAX,
        )?;
        if max < min {
            return Err(self.invalid(
                &format!("{apath}.max_nodes"),
                format!("\"{}\" is below min_nodes {min}", a.max_nodes.text()),
                "expected max_nodes >= min_nodes",
            ));
        }
        let threshold = |field: &str, s: &Option<Scalar>| {
            s.as_ref()
                .map(|s| {
                    self.real(
                        &format!("{apath}.{field}"),
                        s,
                        |v| v > 0.0 && v <= 100.0,
                        "expected a percentage in (0, 100]",
                    )
                })
                .transpose()
        };
        let cpu_threshold_percent = threshold("cpu_threshold", &a.cpu_threshold)?;
        let memory_threshold_percent = threshold("memory_threshold", &a.memory_threshold)?;
        let gpu_threshold_percent = threshold("gpu_threshold", &a.gpu_threshold)?;
        if a.enabled == Some(false) {
            let size = initial(1)?;
            return Ok((size, size, size, None));
        }
        let size = initial(min)?;
        if size < min || size > max {
            return Err(self.invalid(
                &format!("{path}.initial_size"),
                format!("{size} is outside the autoscaling range {min}..{max}"),
                "expected min_nodes <= initial_size <= max_nodes",
            ));
        }
        Ok((
            size,
            min,
            max,
            Some(PoolAutoscaling {
                cpu_threshold_percent,
                memory_threshold_percent,
                gpu_threshold_percent,
            }),
        ))
    }

    /// An inline machine's name: as given (a label value, which its nodes carry as their
    /// instance type), else `custom`.
    fn machine_name(&self, path: &str, name: Option<&str>) -> Result<String, Error> {
        let Some(name) = name else {
            return Ok(CUSTOM_MACHINE.to_string());
        };
        let ok = name.len() <= 63 && name_chars(name);
        if ok {
            Ok(name.to_string())
        } else {
            Err(self.invalid(
                &format!("{path}.name"),
                format!("\"{name}\" is not a label value"),
                "expected at most 63 letters, digits, '-', '_' and '.', such as a2-highgpu-1g",
            ))
        }
    }

    /// The user's labels plus the ones the provider sets on every node of the pool.
    fn pool_labels(
        &self,
        path: &str,
        name: &str,
        machine: &MachineType,
        provider: Provider,
        p: &PoolFile,
    ) -> Result<Labels, Error> {
        let mut well_known = vec![("node.kubernetes.io/instance-type", machine.name.clone())];
        match provider {
            Provider::Gke => {
                well_known.push((GKE_NODEPOOL_LABEL, name.to_string()));
                if p.spot {
                    well_known.push(("cloud.google.com/gke-spot", "true".to_string()));
                }
            }
            Provider::Eks => {
                well_known.push(("eks.amazonaws.com/nodegroup", name.to_string()));
                let capacity = if p.spot { "SPOT" } else { "ON_DEMAND" };
                well_known.push(("eks.amazonaws.com/capacityType", capacity.to_string()));
            }
        }
        let mut labels = Labels::new();
        for (key, value) in &p.labels.0 {
            let lpath = format!("{path}.labels.{key}");
            if key.is_empty() {
                return Err(self.invalid(
                    &lpath,
                    "a label key is empty",
                    "expected a non-empty key",
                ));
            }
            let gke = provider == Provider::Gke;
            let zones = p.zones.as_deref().unwrap_or_default();
            if let Some((zone, own)) = zones::disagreement(key, value.text(), zones, gke) {
                return Err(self.invalid(
                    &lpath,
                    format!(
                        "\"{}\" is not what the pool's zones set: zone {zone}'s nodes get \
                         \"{own}\"",
                        value.text()
                    ),
                    "expected no zone or region label in a pool with zones (each node gets its \
                     zone's), or the one value every zone gives",
                ));
            }
            if well_known.iter().any(|(k, _)| k == key) {
                return Err(self.invalid(
                    &lpath,
                    format!("\"{key}\" is set by the provider on every node"),
                    "expected a label the provider does not set (remove this one)",
                ));
            }
            labels.insert(key.clone(), value.text().to_string());
        }
        labels.extend(well_known.into_iter().map(|(k, v)| (k.to_string(), v)));
        Ok(labels)
    }

    /// A node taint.
    fn taint(&self, path: &str, t: &TaintFile) -> Result<Taint, Error> {
        if t.key.is_empty() {
            return Err(self.invalid(
                &format!("{path}.key"),
                "the taint key is empty",
                "expected a non-empty key",
            ));
        }
        let effect = self.one_of(
            &format!("{path}.effect"),
            "taint effect",
            &t.effect,
            &TAINT_EFFECTS,
        )?;
        Ok(Taint {
            key: t.key.clone(),
            value: t
                .value
                .as_ref()
                .map(|v| v.text().to_string())
                .unwrap_or_default(),
            effect,
        })
    }
}
