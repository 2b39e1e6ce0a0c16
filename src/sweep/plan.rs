//! Planning a sweep: the points of the parameter grid, every point's validated scenario, and
//! each run's seed (`replications::run_seed`).
//!
//! Use `Plan::new` before running anything: every point is validated first, so a bad value
//! anywhere in the grid stops the sweep before the first run. Planning runs nothing.

#![allow(
    clippy::result_large_err,
    reason = "planning fails at most once, before any run; scenario::Error stays a flat enum"
)]

use crate::replications::run_seed;
use crate::scenario::budget::{self, Limits, Size};
use crate::scenario::model::{SeedPolicy, SweepDimension, SweepSpec};
use crate::scenario::{Document, Error, Override, Scenario};

/// One point of the grid: the overrides that make it.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Index in grid order (first dimension slowest).
    pub index: usize,
    /// The point's settings, one per swept path, in dimension order.
    pub settings: Vec<Override>,
    /// The validated scenario of the point (with the base seed).
    pub scenario: Scenario,
}

/// One run: a point and a replication, with its seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RunSpec {
    /// Index over the whole sweep: point-major, replication-minor.
    pub index: usize,
    /// The point.
    pub point: usize,
    /// The replication, 0-based.
    pub replication: u32,
    /// The run's seed.
    pub seed: u64,
}

/// A whole sweep, ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Scenario name.
    pub scenario: String,
    /// The swept paths, in dimension order (a zip group contributes all its paths).
    pub parameters: Vec<String>,
    /// The points, in grid order.
    pub points: Vec<Point>,
    /// Runs per point.
    pub replications: u32,
    /// How seeds were chosen.
    pub seeds: SeedPolicy,
    /// Every run, in index order.
    pub runs: Vec<RunSpec>,
    /// A fingerprint of everything that decides the runs' results, so that resumed and merged
    /// folders are known to belong to the same sweep.
    pub digest: String,
    /// What validating the base scenario warned of, one line each, to show the user once.
    pub warnings: Vec<String>,
}

impl Plan {
    /// Plans the sweep of `document`: its `sweep` section, with `extra` grid dimensions from
    /// the command line added (a path given there replaces the file's), every run and the
    /// sweep as a whole held to `limits` (the number of runs before any point is built).
    ///
    /// # Errors
    /// Any `Error` validating the base document or one of the points (a point's error names
    /// the settings that made it), or a limit exceeded (`scenario::budget`).
    pub fn new(
        document: &Document,
        extra: &[SweepDimension],
        limits: Limits,
    ) -> Result<Plan, Error> {
        let (base, warnings) = document.scenario_within(limits)?;
        let mut spec = base.sweep.clone().unwrap_or(SweepSpec {
            dimensions: Vec::new(),
            replications: 1,
            seeds: SeedPolicy::Common,
        });
        for dimension in extra {
            spec.dimensions
                .retain(|d| !d.paths.iter().any(|p| dimension.paths.contains(p)));
            spec.dimensions.push(dimension.clone());
        }
        let parameters: Vec<String> = spec
            .dimensions
            .iter()
            .flat_map(|d| d.paths.iter().cloned())
            .collect();
        let replications = spec.replications.max(1);
        let grid_points = spec
            .dimensions
            .iter()
            .map(|d| d.values.len() as f64)
            .product();
        budget::check_sweep_runs(document.origin(), grid_points, replications, limits)?;
        let mut points = Vec::new();
        let mut events = Vec::new();
        for (index, settings) in grid(&spec.dimensions).into_iter().enumerate() {
            let (scenario, _) = document
                .with(&settings)?
                .scenario_within(limits)
                .map_err(|e| from_point(e, &settings))?;
            events.push(Size::of(&scenario).total_events());
            points.push(Point {
                index,
                settings,
                scenario,
            });
        }
        budget::check_sweep_events(document.origin(), &events, replications, limits)?;
        let runs = points
            .iter()
            .flat_map(|p| (0..replications).map(move |r| (p.index, r)))
            .enumerate()
            .map(|(index, (point, replication))| RunSpec {
                index,
                point,
                replication,
                seed: run_seed(base.seed, spec.seeds, point, replication),
            })
            .collect();
        let digest = digest(document, &parameters, &points, replications, spec.seeds);
        Ok(Plan {
            scenario: base.name,
            parameters,
            points,
            replications,
            seeds: spec.seeds,
            runs,
            digest,
            warnings,
        })
    }

    /// The runs of shard `index` of `count` (every `count`-th run, so shards get similar mixes
    /// of points).
    pub fn shard(&self, index: u32, count: u32) -> Vec<RunSpec> {
        self.runs
            .iter()
            .filter(|r| r.index % count as usize == index as usize)
            .copied()
            .collect()
    }
}

/// The error of a point's scenario, its origin naming the point's settings as the sweep's
/// (`fw.yaml (with sweep services.web.replicas=５)`) rather than as `--set`s the user never gave.
fn from_point(mut error: Error, settings: &[Override]) -> Error {
    match &mut error {
        Error::Many(errors) => {
            *errors = errors.drain(..).map(|e| from_point(e, settings)).collect();
        }
        Error::Syntax { origin, .. }
        | Error::Invalid { origin, .. }
        | Error::UnknownName { origin, .. }
        | Error::Unschedulable { origin, .. } => {
            for o in settings {
                *origin = origin.replacen(&format!("--set {o}"), &format!("sweep {o}"), 1);
            }
        }
        _ => {}
    }
    error
}

/// A grid dimension from a command-line `PATH=v1,v2,...`: the values are YAML, split at the
/// commas that are not inside brackets, braces or quotes (`machine=[a, b],c` has two values).
///
/// # Errors
/// A message when there is no `=` or no value.
pub fn dimension_from_param(text: &str) -> Result<SweepDimension, String> {
    let Some((path, values)) = text.split_once('=') else {
        return Err(format!(
            "{text:?} is not a parameter; expected PATH=v1,v2,..., such as services.web.replicas=2,4,8"
        ));
    };
    let path = path.trim();
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(format!("{text:?}: expected a dotted path before '='"));
    }
    let mut values_out = Vec::new();
    let (mut depth, mut quote, mut current) = (0i32, None::<char>, String::new());
    for c in values.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                values_out.push(vec![current.trim().to_string()]);
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    values_out.push(vec![current.trim().to_string()]);
    if values_out.iter().any(|v| v[0].is_empty()) {
        return Err(format!(
            "{text:?}: expected non-empty values separated by commas"
        ));
    }
    Ok(SweepDimension {
        paths: vec![path.to_string()],
        values: values_out,
    })
}

/// The cartesian product of the dimensions, first dimension slowest; one empty point when there
/// are none.
pub fn grid(dimensions: &[SweepDimension]) -> Vec<Vec<Override>> {
    let mut points: Vec<Vec<Override>> = vec![Vec::new()];
    for dimension in dimensions {
        let mut next = Vec::with_capacity(points.len() * dimension.values.len());
        for point in &points {
            for values in &dimension.values {
                let mut settings = point.clone();
                settings.extend(
                    dimension
                        .paths
                        .iter()
                        .zip(values)
                        .map(|(path, value)| Override {
                            path: path.clone(),
                            value: value.clone(),
                        }),
                );
                next.push(settings);
            }
        }
        points = next;
    }
    points
}

/// FNV-1a over the document's text and settings, the points and the seeding: a change to any
/// of them changes the digest.
fn digest(
    document: &Document,
    parameters: &[String],
    points: &[Point],
    replications: u32,
    seeds: SeedPolicy,
) -> String {
    let mut text = String::new();
    text.push_str(document.text());
    for o in document.overrides() {
        text.push_str(&format!("\nbase {o}"));
    }
    text.push_str(&format!(
        "\nparameters {parameters:?}\nreplications {replications}\n"
    ));
    text.push_str(&format!("seeds {seeds:?}\n"));
    for point in points {
        for o in &point.settings {
            text.push_str(&format!("{o};"));
        }
        text.push('\n');
    }
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dimension(paths: &[&str], values: &[&[&str]]) -> SweepDimension {
        SweepDimension {
            paths: paths.iter().map(|p| p.to_string()).collect(),
            values: values
                .iter()
                .map(|v| v.iter().map(|s| s.to_string()).collect())
                .collect(),
        }
    }

    fn text(points: &[Vec<Override>]) -> Vec<String> {
        points
            .iter()
            .map(|p| {
                p.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    #[test]
    fn grids_are_cartesian_first_dimension_slowest_and_zips_move_together() {
        let dims = [
            dimension(&["a"], &[&["1"], &["2"]]),
            dimension(&["b", "c"], &[&["x", "10"], &["y", "20"]]),
        ];
        assert_eq!(
            text(&grid(&dims)),
            [
                "a=1 b=x c=10",
                "a=1 b=y c=20",
                "a=2 b=x c=10",
                "a=2 b=y c=20"
            ]
        );
        assert_eq!(grid(&[]), vec![Vec::<Override>::new()]);
    }

    #[test]
    fn command_line_parameters_split_at_top_level_commas() {
        let d = dimension_from_param(
            "node_pools.p.machine_type=c2-standard-8,{cpu: 8, memory: 32Gi},\"a,b\"",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.paths, ["node_pools.p.machine_type"]);
        let values: Vec<&str> = d.values.iter().map(|v| v[0].as_str()).collect();
        assert_eq!(
            values,
            ["c2-standard-8", "{cpu: 8, memory: 32Gi}", "\"a,b\""]
        );
        assert!(dimension_from_param("no-equals").is_err());
        assert!(dimension_from_param("a.b=1,,2").is_err());
        assert!(dimension_from_param(".b=1").is_err());
    }

    const BASE: &str = r#"
name: plan
duration: 10m
node_pools:
  pool: {machine_type: e2-standard-8, initial_size: 1}
services:
  web:
    resources: {requests: {cpu: 500m, memory: 1Gi}}
sweep:
  grid:
    services.web.replicas: [1, 2, 3]
  replications: 2
"#;

    #[test]
    fn plans_validate_every_point_and_number_runs_point_major() {
        let doc = Document::from_yaml_str(BASE, "plan.yaml").unwrap_or_else(|e| panic!("{e}"));
        let plan = Plan::new(&doc, &[], Limits::DEFAULT).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.parameters, ["services.web.replicas"]);
        assert_eq!((plan.points.len(), plan.runs.len()), (3, 6));
        assert_eq!(plan.points[2].scenario.services[0].replicas, 3);
        let r = plan.runs[3];
        assert_eq!((r.index, r.point, r.replication), (3, 1, 1));
        let shard: Vec<usize> = plan.shard(1, 4).iter().map(|r| r.index).collect();
        assert_eq!(shard, [1, 5]);
        // A command-line dimension on the same path replaces the file's.
        let cli = dimension(&["services.web.replicas"], &[&["4"]]);
        let plan = Plan::new(&doc, &[cli], Limits::DEFAULT).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.points.len(), 1);
        // A bad value anywhere in the grid stops the plan, naming the setting.
        let bad = dimension(&["services.web.replicas"], &[&["2"], &["-1"]]);
        let err = Plan::new(&doc, &[bad], Limits::DEFAULT)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("(with sweep services.web.replicas=-1)") && err.contains("\"-1\""),
            "{err}"
        );
    }

    #[test]
    fn the_digest_follows_what_decides_results() {
        let doc = Document::from_yaml_str(BASE, "plan.yaml").unwrap_or_else(|e| panic!("{e}"));
        let a = Plan::new(&doc, &[], Limits::DEFAULT)
            .unwrap_or_else(|e| panic!("{e}"))
            .digest;
        let b = Plan::new(&doc, &[], Limits::DEFAULT)
            .unwrap_or_else(|e| panic!("{e}"))
            .digest;
        assert_eq!(a, b);
        let other = Document::from_yaml_str(&BASE.replace("10m", "20m"), "plan.yaml")
            .unwrap_or_else(|e| panic!("{e}"));
        let c = Plan::new(&other, &[], Limits::DEFAULT)
            .unwrap_or_else(|e| panic!("{e}"))
            .digest;
        assert_ne!(a, c);
    }
}
