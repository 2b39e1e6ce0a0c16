//! `outages`: zone outages, each a zone of the scenario's pools unreachable from `at` for
//! `duration`.
//!
//! A zone is one that a pool's `zones` names or that a node list's nodes carry in
//! `topology.kubernetes.io/zone`. Outages of the same zone may not overlap (one outage that
//! covers both is what the user means), and each must begin before the run ends.

use crate::cluster::pool::{NodePool, ZoneOutage};
use crate::scenario::error::Error;
use crate::scenario::schema::{OutageFile, Scalar};
use crate::units::SimDuration;

use super::{Cx, keep, none_of};

impl Cx<'_> {
    /// Every outage, each with every problem it has, then any two of one zone that overlap.
    pub(super) fn outages(
        &self,
        outages: &[OutageFile],
        pools: Option<&[NodePool]>,
        run_duration: Option<SimDuration>,
    ) -> Result<Vec<ZoneOutage>, Error> {
        let mut errors = Vec::new();
        let read: Vec<Option<ZoneOutage>> = (outages.iter().enumerate())
            .map(|(i, o)| {
                let path = format!("outages[{i}]");
                keep(&mut errors, self.outage(&path, o, pools, run_duration))
            })
            .collect();
        for (i, outage) in read.iter().enumerate() {
            let Some(o) = outage else { continue };
            let earlier = read[..i].iter().enumerate().find_map(|(j, e)| {
                e.as_ref()
                    .filter(|e| e.zone == o.zone && overlap(e, o))
                    .map(|e| (j, e))
            });
            if let Some((j, e)) = earlier {
                errors.push(self.invalid(
                    &format!("outages[{i}]"),
                    format!(
                        "the outage of {} from {} to {} overlaps outages[{j}] (from {} to {})",
                        o.zone,
                        o.start,
                        o.start + o.duration,
                        e.start,
                        e.start + e.duration
                    ),
                    "expected outages of one zone that do not overlap: write one outage that \
                     covers both",
                ));
            }
        }
        none_of(errors)?;
        Ok(read.into_iter().flatten().collect())
    }

    /// One outage: a zone of the pools, a start within the run, a positive duration.
    fn outage(
        &self,
        path: &str,
        o: &OutageFile,
        pools: Option<&[NodePool]>,
        run_duration: Option<SimDuration>,
    ) -> Result<ZoneOutage, Error> {
        let mut errors = Vec::new();
        let zone = keep(&mut errors, self.outage_zone(path, o, pools));
        let at = format!("{path}.at");
        let start = self.present(
            &at,
            &o.at,
            "start",
            "`at`, the time from the start of the run, such as 10h",
        );
        let start = keep(
            &mut errors,
            start.and_then(|at_value| self.duration(&at, at_value)),
        );
        if let (Some(start), Some(run)) = (start, run_duration)
            && start >= run
        {
            errors.push(self.invalid(
                &format!("{path}.at"),
                format!(
                    "\"{}\" is not before the end of the run ({run})",
                    o.at.text()
                ),
                format!("expected a time before the run's duration, {run}"),
            ));
        }
        let dpath = format!("{path}.duration");
        let duration = self.present(&dpath, &o.duration, "duration", "`duration`, such as 2h");
        let duration = keep(
            &mut errors,
            duration.and_then(|d| self.positive_duration(&dpath, d)),
        );
        none_of(errors)?;
        match (zone, start, duration) {
            (Some(zone), Some(start), Some(duration)) => Ok(ZoneOutage {
                zone,
                start,
                duration,
            }),
            _ => unreachable!("an outage value is missing without an error"),
        }
    }

    /// `value` at `path`, an error naming the outage's `what` as missing when it is empty
    /// (`expected` says what to give).
    fn present<'v>(
        &self,
        path: &str,
        value: &'v Scalar,
        what: &str,
        expected: &str,
    ) -> Result<&'v Scalar, Error> {
        if value.text().is_empty() {
            return Err(self.invalid(
                path,
                format!("the outage's {what} is missing"),
                format!("expected {expected}"),
            ));
        }
        Ok(value)
    }

    /// The outage's zone: one the pools' nodes are in (not checked when the pools are bad).
    fn outage_zone(
        &self,
        path: &str,
        o: &OutageFile,
        pools: Option<&[NodePool]>,
    ) -> Result<String, Error> {
        let path = format!("{path}.zone");
        let zone = o.zone.text();
        if zone.is_empty() {
            return Err(self.invalid(
                &path,
                "the outage's zone is missing",
                "expected `zone`, a zone one of the node pools spans, such as us-central1-b",
            ));
        }
        let Some(pools) = pools else {
            return Ok(zone.to_string());
        };
        let mut zones: Vec<&str> = pools.iter().filter_map(NodePool::zone_name).collect();
        zones.sort_unstable();
        zones.dedup();
        if zones.contains(&zone) {
            return Ok(zone.to_string());
        }
        let allowed = if zones.is_empty() {
            "expected a zone of a node pool, but no pool names zones: give a pool `zones: \
             [...]`"
                .to_string()
        } else {
            format!("expected a zone of the node pools: {}", zones.join(", "))
        };
        Err(self.invalid(
            &path,
            format!("\"{zone}\" is not a zone of any node pool"),
            allowed,
        ))
    }
}

/// Whether two outages share a moment.
fn overlap(a: &ZoneOutage, b: &ZoneOutage) -> bool {
    a.start < b.start + b.duration && b.start < a.start + a.duration
}
