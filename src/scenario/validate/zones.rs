//! A pool's `zones`: one node group per zone, as a regional GKE node pool is one managed
//! instance group per zone and an EKS node group over subnets one Auto Scaling group per
//! zone, each of them a node group of the Cluster Autoscaler.
//!
//! A pool without `zones` is one node group, as it always was. A pool with them becomes one
//! `NodePool` per zone, in zone order where the pool stood, named `<pool>-<zone>`, whose nodes
//! carry the user's labels plus `topology.kubernetes.io/zone`, `topology.kubernetes.io/region`
//! and, on GKE, `topology.gke.io/zone`; the provider's pool label keeps the pool's own name, so
//! that a node selector for the pool matches every zone. `initial_size`, `min_nodes` and
//! `max_nodes` are the pool's totals, split as evenly as the zones allow, the first zones
//! taking the remainder.

use crate::cluster::pool::{GKE_ZONE_LABEL, NodePool, REGION_LABEL, ZONE_LABEL};
use crate::scenario::error::Error;

use super::Cx;
use super::pools::GKE_NODEPOOL_LABEL;

/// The value a zone gives label `key` on its nodes, if it sets that label (`gke`: the pool's
/// machines are GKE's).
fn zone_value(key: &str, zone: &str, gke: bool) -> Option<String> {
    match key {
        ZONE_LABEL => Some(zone.to_string()),
        GKE_ZONE_LABEL if gke => Some(zone.to_string()),
        REGION_LABEL => Some(region_of(zone).to_string()),
        _ => None,
    }
}

/// Whether a pool's label `key: value` disagrees with what one of its `zones` sets on its
/// nodes: that zone and its value. A zone or region label every zone gives the same value
/// (the region a node list's nodes carry, say) agrees.
pub(super) fn disagreement<'z>(
    key: &str,
    value: &str,
    zones: &'z [String],
    gke: bool,
) -> Option<(&'z str, String)> {
    zones.iter().find_map(|zone| {
        zone_value(key, zone, gke)
            .filter(|own| own != value)
            .map(|own| (zone.as_str(), own))
    })
}

impl Cx<'_> {
    /// A pool's `zones`: `None` when absent, else a non-empty list of distinct zone names,
    /// each a DNS label that ends in the zone's letter after its region (`us-central1-a`,
    /// `us-east-1a`).
    pub(super) fn zones(
        &self,
        path: &str,
        zones: Option<&[String]>,
    ) -> Result<Option<Vec<String>>, Error> {
        let Some(zones) = zones else {
            return Ok(None);
        };
        let path = format!("{path}.zones");
        if zones.is_empty() {
            return Err(self.invalid(
                &path,
                "the list of zones is empty",
                "expected at least one zone, such as [us-central1-a, us-central1-b], or no \
                 zones key",
            ));
        }
        let mut errors = Vec::new();
        for (i, zone) in zones.iter().enumerate() {
            let zpath = format!("{path}[{i}]");
            if zones[..i].contains(zone) {
                errors.push(self.invalid(
                    &zpath,
                    format!("zone \"{zone}\" is listed twice"),
                    "expected each zone once",
                ));
            } else if let Err(e) = self.zone_name(&zpath, zone) {
                errors.push(e);
            }
        }
        super::none_of(errors)?;
        Ok(Some(zones.to_vec()))
    }

    /// A zone name: a DNS label whose last character is a letter and that has a region before
    /// it.
    fn zone_name(&self, path: &str, zone: &str) -> Result<(), Error> {
        self.dns_label(path, "zone", zone)?;
        if zone.ends_with(|c: char| c.is_ascii_lowercase()) && !region_of(zone).is_empty() {
            return Ok(());
        }
        Err(self.invalid(
            path,
            format!("\"{zone}\" does not end in a zone letter after its region"),
            "expected a region followed by the zone's letter, such as us-central1-a or \
             us-east-1a",
        ))
    }

    /// Checks that no node group made from a zoned pool has the name of another node group,
    /// whether a pool's own name or another zone's group.
    pub(super) fn distinct_groups(&self, groups: &[NodePool]) -> Result<(), Error> {
        let mut errors = Vec::new();
        for (i, g) in groups.iter().enumerate() {
            let Some(zone) = &g.zone else { continue };
            let Some(other) = groups
                .iter()
                .enumerate()
                .find(|&(j, o)| j != i && o.name == g.name && (j < i || o.zone.is_none()))
                .map(|(_, o)| o)
            else {
                continue;
            };
            let clash = match &other.zone {
                None => format!("pool {}", other.name),
                Some(z) => format!("zone {z} of pool {}", other.group_of),
            };
            errors.push(self.invalid(
                &format!("node_pools.{}.zones", g.group_of),
                format!(
                    "zone {zone} makes node group \"{}\", the name of {clash}",
                    g.name
                ),
                "expected pool and zone names whose <pool>-<zone> names no other pool or zone",
            ));
        }
        super::none_of(errors)
    }
}

/// The region of `zone`: the zone without its last letter and a `-` before it
/// (`us-central1-a` → `us-central1`, `us-east-1a` → `us-east-1`).
pub(crate) fn region_of(zone: &str) -> &str {
    let mut chars = zone.chars();
    chars.next_back();
    chars.as_str().trim_end_matches('-')
}

/// `total` split over `parts` as evenly as possible, the first parts taking the remainder
/// (7 over 3: 3, 2, 2).
pub(crate) fn split_evenly(total: u32, parts: usize) -> Vec<u32> {
    let parts_u32 = u32::try_from(parts).unwrap_or(u32::MAX).max(1);
    let (each, rest) = (total / parts_u32, total % parts_u32);
    (0..parts_u32)
        .map(|i| each + u32::from(i < rest))
        .take(parts)
        .collect()
}

/// The node groups of `pool` (validated with its own name and no zone): itself when `zones`
/// is `None`, else one group per zone as this module's documentation describes.
pub(super) fn node_groups(pool: NodePool, zones: Option<&[String]>) -> Vec<NodePool> {
    let Some(zones) = zones else {
        return vec![pool];
    };
    let initial = split_evenly(pool.initial_size, zones.len());
    let min = split_evenly(pool.min_nodes, zones.len());
    let max = split_evenly(pool.max_nodes, zones.len());
    let gke = pool.labels.contains_key(GKE_NODEPOOL_LABEL);
    zones
        .iter()
        .enumerate()
        .map(|(i, zone)| {
            let mut group = pool.clone();
            group.name = format!("{}-{zone}", pool.name);
            group.zone = Some(zone.clone());
            group.initial_size = initial[i];
            group.min_nodes = min[i];
            group.max_nodes = max[i];
            group.labels.insert(ZONE_LABEL.to_string(), zone.clone());
            let region = region_of(zone).to_string();
            group.labels.insert(REGION_LABEL.to_string(), region);
            if gke {
                group
                    .labels
                    .insert(GKE_ZONE_LABEL.to_string(), zone.clone());
            }
            group
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_drop_the_zone_letter_and_its_dash() {
        for (zone, region) in [
            ("us-central1-a", "us-central1"),
            ("europe-west4-c", "europe-west4"),
            ("us-east-1a", "us-east-1"),
            ("eu-central-1b", "eu-central-1"),
        ] {
            assert_eq!(region_of(zone), region, "{zone}");
        }
    }

    #[test]
    fn totals_split_evenly_with_the_first_parts_taking_the_rest() {
        assert_eq!(split_evenly(6, 3), [2, 2, 2]);
        assert_eq!(split_evenly(7, 3), [3, 2, 2]);
        assert_eq!(split_evenly(8, 3), [3, 3, 2]);
        assert_eq!(split_evenly(2, 3), [1, 1, 0]);
        assert_eq!(split_evenly(0, 2), [0, 0]);
        assert_eq!(split_evenly(5, 1), [5]);
    }
}
