//! The `monitoring` section: Prometheus scrape jobs and alert rules over services.

use crate::monitoring::rules::{AlertMetric, AlertRule, Comparison, Monitoring, ScrapeJob};
use crate::scenario::error::Error;
use crate::scenario::model::Service;
use crate::scenario::schema::{AlertFile, MonitoringFile, ScrapeFile};
use crate::units::SimDuration;

use super::Cx;

const ALERT_METRICS: [(&str, AlertMetric); 4] = spelled!(
    AlertMetric::as_str,
    AlertMetric: CpuUtilization, MemoryUtilization, LatencyP99Ms, PendingPods
);
const COMPARISONS: [(&str, Comparison); 2] =
    spelled!(Comparison::as_str, Comparison: Greater, Less);

/// A list whose entries are named, and how to speak of their names in messages.
struct Naming<F> {
    /// The list's YAML path.
    list: &'static str,
    /// The entry's name.
    name: fn(&F) -> &str,
    /// What the name names, as in "the job name is empty"; also the field that holds it.
    kind: &'static str,
    /// What an entry is called, as in "is used by an earlier rule".
    entry: &'static str,
    /// Follows "expected a name".
    example: &'static str,
    /// Why names must differ.
    why: &'static str,
}

const JOBS: Naming<ScrapeFile> = Naming {
    list: "monitoring.scrape",
    name: |s| &s.job,
    kind: "job",
    entry: "job",
    example: "",
    why: "as Prometheus requires",
};

const ALERTS: Naming<AlertFile> = Naming {
    list: "monitoring.alerts",
    name: |a| &a.alert,
    kind: "alert",
    entry: "rule",
    example: ", such as HighCPUUsage",
    why: "which summary.json reports them by",
};

impl Cx<'_> {
    /// Validates `monitoring` against the services.
    pub(super) fn monitoring(
        &self,
        m: Option<&MonitoringFile>,
        services: &[Service],
    ) -> Result<Monitoring, Error> {
        let Some(m) = m else {
            return Ok(Monitoring::default());
        };
        let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
        let scrapes = self.named_entries(&m.scrape, &JOBS, |p, s| self.scrape_job(p, s, &names))?;
        let alerts =
            self.named_entries(&m.alerts, &ALERTS, |p, a| self.alert_rule(p, a, &names))?;
        Ok(Monitoring { scrapes, alerts })
    }

    /// Reads the list `naming.list`, each entry with `read` after its name is checked against
    /// the names of the entries before it.
    fn named_entries<F, T>(
        &self,
        entries: &[F],
        naming: &Naming<F>,
        read: impl Fn(&str, &F) -> Result<T, Error>,
    ) -> Result<Vec<T>, Error> {
        let mut out = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let p = format!("{}[{i}]", naming.list);
            let n = (naming.name)(entry);
            let taken = entries[..i].iter().any(|e| (naming.name)(e) == n);
            self.new_name(&format!("{p}.{}", naming.kind), n, taken, naming)?;
            out.push(read(&p, entry)?);
        }
        Ok(out)
    }

    /// Rejects an empty name, then one an earlier entry of the list already uses (`taken`).
    fn new_name<F>(
        &self,
        path: &str,
        name: &str,
        taken: bool,
        naming: &Naming<F>,
    ) -> Result<(), Error> {
        if name.is_empty() {
            return Err(self.invalid(
                path,
                format!("the {} name is empty", naming.kind),
                format!("expected a name{}", naming.example),
            ));
        }
        if taken {
            return Err(self.invalid(
                path,
                format!("\"{name}\" is used by an earlier {}", naming.entry),
                format!("expected unique {} names, {}", naming.kind, naming.why),
            ));
        }
        Ok(())
    }

    /// The index of the service `name` among `services`.
    fn service_index(&self, path: &str, name: &str, services: &[&str]) -> Result<usize, Error> {
        services
            .iter()
            .position(|s| *s == name)
            .ok_or_else(|| self.unknown(path, "service", name, services))
    }

    /// One scrape job, its name already checked: the service it scrapes and how often.
    fn scrape_job(
        &self,
        path: &str,
        s: &ScrapeFile,
        services: &[&str],
    ) -> Result<ScrapeJob, Error> {
        Ok(ScrapeJob {
            job: s.job.clone(),
            service: self.service_index(&format!("{path}.service"), &s.service, services)?,
            interval: self.optional_positive_duration(
                &format!("{path}.interval"),
                s.interval.as_ref(),
                SimDuration::from_secs(30),
            )?,
        })
    }

    /// One alert rule, its name already checked.
    fn alert_rule(&self, path: &str, a: &AlertFile, services: &[&str]) -> Result<AlertRule, Error> {
        let service = self.service_index(&format!("{path}.service"), &a.service, services)?;
        let metric = self.one_of(
            &format!("{path}.metric"),
            "alert metric",
            &a.metric,
            &ALERT_METRICS,
        )?;
        let comparison = match a.op.as_deref() {
            None => Comparison::Greater,
            Some(op) => self.one_of(&format!("{path}.op"), "comparison", op, &COMPARISONS)?,
        };
        let threshold = self.real(
            &format!("{path}.threshold"),
            &a.threshold,
            |_| true,
            "expected a number, such as 0.8",
        )?;
        let for_duration = self.optional_duration(
            &format!("{path}.for"),
            a.for_duration.as_ref(),
            SimDuration::ZERO,
        )?;
        Ok(AlertRule {
            name: a.alert.clone(),
            service,
            metric,
            comparison,
            threshold,
            for_duration,
            severity: a.severity.clone().unwrap_or_else(|| "warning".to_string()),
        })
    }
}
