//! Validation of the `sweep` section (what a sweep varies) and of the `expect` assertions.
//!
//! Paths in a sweep are checked for form only here: whether each point yields a valid scenario
//! is checked when the sweep is planned, by validating every point's document.

use crate::scenario::error::Error;
use crate::scenario::model::{CompareOp, Expectation, SeedPolicy, SweepDimension, SweepSpec};
use crate::scenario::schema::SweepFile;

use super::Cx;

const SEED_POLICIES: [(&str, SeedPolicy); 2] = [
    ("common", SeedPolicy::Common),
    ("independent", SeedPolicy::Independent),
];
const OPERATORS: [(&str, CompareOp); 6] =
    spelled!(CompareOp::as_str, CompareOp: Le, Lt, Ge, Gt, Eq, Ne);

impl Cx<'_> {
    /// The `sweep` section.
    pub(super) fn sweep(&self, s: &SweepFile) -> Result<SweepSpec, Error> {
        let mut dimensions = Vec::new();
        for (path, values) in &s.grid.0 {
            let at = format!("sweep.grid.{path}");
            self.sweep_path(&at, path)?;
            if values.is_empty() {
                return Err(self.invalid(
                    &at,
                    "an empty list of values",
                    "expected at least one value, such as [50, 70, 90]",
                ));
            }
            dimensions.push(SweepDimension {
                paths: vec![path.clone()],
                values: values.iter().map(|v| vec![yaml_text(v)]).collect(),
            });
        }
        for (i, group) in s.zip.iter().enumerate() {
            let at = format!("sweep.zip[{i}]");
            let mut lengths = group.0.values().map(Vec::len);
            let Some(len) = lengths.next() else {
                return Err(self.invalid(
                    &at,
                    "an empty group",
                    "expected paths with lists of equal length that vary together",
                ));
            };
            if len == 0 || lengths.any(|l| l != len) {
                return Err(self.invalid(
                    &at,
                    "lists of different or zero lengths",
                    "expected every path of a zip group to list the same number (> 0) of values",
                ));
            }
            for path in group.0.keys() {
                self.sweep_path(&format!("{at}.{path}"), path)?;
            }
            let paths: Vec<String> = group.0.keys().cloned().collect();
            let values = (0..len)
                .map(|k| group.0.values().map(|list| yaml_text(&list[k])).collect())
                .collect();
            dimensions.push(SweepDimension { paths, values });
        }
        let all_paths: Vec<&String> = dimensions.iter().flat_map(|d| &d.paths).collect();
        if let Some(twice) = all_paths
            .iter()
            .enumerate()
            .find(|(i, p)| all_paths[..*i].contains(p))
            .map(|(_, p)| *p)
        {
            return Err(self.invalid(
                "sweep",
                format!("{twice:?} is swept twice"),
                "expected each path in one grid entry or one zip group",
            ));
        }
        let replications = match &s.replications {
            Some(r) => self.whole_u32("sweep.replications", r, "count", 1, 100_000)?,
            None => 1,
        };
        let seeds = match s.seeds.as_deref() {
            None => SeedPolicy::Common,
            Some(name) => self.one_of("sweep.seeds", "seed policy", name, &SEED_POLICIES)?,
        };
        Ok(SweepSpec {
            dimensions,
            replications,
            seeds,
        })
    }

    fn sweep_path(&self, at: &str, path: &str) -> Result<(), Error> {
        if path.split('.').any(str::is_empty) {
            return Err(self.invalid(
                at,
                format!("{path:?} has an empty segment"),
                "expected a dotted path into the scenario, such as services.web.replicas",
            ));
        }
        if path == "sweep" || path.starts_with("sweep.") || path == "name" {
            return Err(self.invalid(
                at,
                format!("{path:?} cannot be swept"),
                "expected a path outside `sweep` and `name`",
            ));
        }
        Ok(())
    }

    /// One `expect` assertion, `PATH OP VALUE`.
    pub(super) fn expectation(&self, at: &str, text: &str) -> Result<Expectation, Error> {
        let parts: Vec<&str> = text.split_whitespace().collect();
        let [metric, op, value] = parts.as_slice() else {
            return Err(self.invalid(
                at,
                format!("{text:?} is not an assertion"),
                "expected \"PATH OP VALUE\", such as \"services.web.latency_ms.p99 <= 250\"",
            ));
        };
        let op = self.one_of(at, "comparison", op, &OPERATORS)?;
        let value: f64 = value
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| {
                self.invalid(
                    at,
                    format!("{value:?} is not a number"),
                    "expected a number to compare with, such as 250 or 0.5",
                )
            })?;
        Ok(Expectation {
            text: text.to_string(),
            metric: (*metric).to_string(),
            op,
            value,
        })
    }
}

/// A YAML value as one line of text that parses back to the same value: plain where that is
/// unambiguous, quoted or in flow (JSON) form otherwise. It is applied as an override and
/// shown in the sweep's CSV files.
pub(crate) fn yaml_text(value: &serde_yaml::Value) -> String {
    use serde_yaml::Value;
    match value {
        Value::String(s) => {
            let plain_round_trips =
                !s.contains(',') && serde_yaml::from_str::<Value>(s).is_ok_and(|v| v == *value);
            if plain_round_trips {
                s.clone()
            } else {
                serde_json::to_string(s).unwrap_or_default()
            }
        }
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        other => serde_json::to_string(other).unwrap_or_else(|_| {
            serde_yaml::to_string(other)
                .map(|t| t.trim_end().replace('\n', " "))
                .unwrap_or_default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    const BASE: &str = "name: s\nduration: 1h\nnode_pools:\n  p: {machine_type: e2-standard-8}\nservices:\n  web: {resources: {requests: {cpu: 500m, memory: 1Gi}}}\n";

    #[test]
    fn sweep_sections_are_validated() {
        let ok = format!(
            "{BASE}sweep:\n  grid: {{services.web.replicas: [1, 2]}}\n  zip:\n    - {{seed: [1, 2, 3], duration: [1h, 2h, 3h]}}\n  replications: 4\n  seeds: independent\n"
        );
        let s = Scenario::from_yaml_str(&ok, "s.yaml").unwrap_or_else(|e| panic!("{e}"));
        let sweep = s.sweep.unwrap_or_default();
        assert_eq!(sweep.dimensions.len(), 2);
        assert_eq!(sweep.dimensions[1].paths, ["seed", "duration"]);
        assert_eq!(sweep.dimensions[1].values[2], ["3", "3h"]);
        assert_eq!(
            (sweep.replications, sweep.seeds),
            (4, SeedPolicy::Independent)
        );
        let cases = [
            (
                "grid: {services.web.replicas: []}",
                "sweep.grid.services.web.replicas",
            ),
            ("zip: [{seed: [1, 2], duration: [1h]}]", "sweep.zip[0]"),
            ("grid: {seed: [1]}\n  zip: [{seed: [2]}]", "swept twice"),
            ("grid: {name: [a]}", "cannot be swept"),
            ("seeds: shared", "seed policy"),
            ("replications: 0", "sweep.replications"),
        ];
        for (section, needle) in cases {
            let yaml = format!("{BASE}sweep:\n  {section}\n");
            let err = Scenario::from_yaml_str(&yaml, "s.yaml")
                .map(|_| ())
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{section}: {err}");
        }
    }

    #[test]
    fn values_become_text_that_parses_back_to_them() {
        let cases = [
            "70",
            "0.5",
            "c2-standard-8",
            "\"70\"",
            "\"yes\"",
            "true",
            "[a, b]",
            "{cpu: 8, memory: 32Gi}",
            "\"a, b\"",
        ];
        for yaml in cases {
            let value: serde_yaml::Value =
                serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("{e}"));
            let text = yaml_text(&value);
            assert!(
                !text.contains('\n') && !text.contains(',') || text.starts_with(['[', '{', '"']),
                "{text}"
            );
            let back: serde_yaml::Value =
                serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{yaml} -> {text}: {e}"));
            assert_eq!(back, value, "{yaml} -> {text}");
        }
    }
}
