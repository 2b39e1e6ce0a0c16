//! `cluster_autoscaler`: capsim's expanders against cluster-autoscaler's expander test vectors.
//!
//! Each case lists expansion options (node group, node count, node capacity) and the pods they
//! would take; the expander named by the case (its `expander` field, else the upstream test it
//! comes from) filters them with capsim's own code, and every option is checked: kept as best
//! or not, as `expectedBest` says.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde_json::Value;

use capsim::controllers::cluster_autoscaler::expander::{self, ExpanderContext, ExpansionOption};
use capsim::controllers::cluster_autoscaler::spec::Expander;
use capsim::units::Resources;

use super::{Mismatch, SectionReport, field, list, optional_u64, string};

/// Every expander, to look one up by its `--expander` name.
const EXPANDERS: [Expander; 5] = [
    Expander::Random,
    Expander::MostPods,
    Expander::LeastWaste,
    Expander::Price,
    Expander::Priority,
];

/// The upstream test functions the vectors come from, and the expander each exercises.
const UPSTREAM_TESTS: [(&str, Expander); 5] = [
    ("TestLeastWaste", Expander::LeastWaste),
    ("TestMostPods", Expander::MostPods),
    ("TestPriceExpander", Expander::Price),
    ("TestPriorityExpander", Expander::Priority),
    ("TestRandomExpander", Expander::Random),
];

/// `cluster_autoscaler`: which options each case's expander keeps as best.
pub(super) fn cluster_autoscaler(cases: &[Value], _meta: &Value) -> SectionReport {
    let mut report = SectionReport::default();
    for (i, case) in cases.iter().enumerate() {
        let test = case.get("test").and_then(Value::as_str);
        let title = test.map_or_else(|| format!("case {i}"), str::to_string);
        let label = format!("cluster_autoscaler / {title}");
        if let Err(problem) = check_case(case, &label, &mut report) {
            report.mismatches.push(Mismatch::bad_data(&label, &problem));
        }
    }
    report
}

fn check_case(case: &Value, label: &str, report: &mut SectionReport) -> Result<(), String> {
    let expander = case_expander(case)?;
    let names: Vec<String> = list(case, "options")?
        .iter()
        .map(|o| string(o, "nodeGroup")?.ok_or_else(|| "nodeGroup is missing".to_string()))
        .collect::<Result<_, _>>()?;
    let options = list(case, "options")?
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(i, (o, name))| expansion_option(case, o, i, name))
        .collect::<Result<Vec<_>, String>>()?;
    let expected: Vec<&str> = list(case, "expectedBest")?
        .iter()
        .map(|v| v.as_str().ok_or("expectedBest holds a non-string"))
        .collect::<Result<_, _>>()?;
    if let Some(unknown) = expected.iter().find(|e| !names.iter().any(|n| n == *e)) {
        return Err(format!(
            "expectedBest names {unknown}, which is not an option"
        ));
    }
    let priorities = priorities(case)?;
    let ctx = ExpanderContext {
        priorities: &priorities,
        cluster_node_count: usize::try_from(optional_u64(case, "clusterNodeCount")?.unwrap_or(0))
            .map_err(|_| "clusterNodeCount is too large")?,
    };
    let all: Vec<usize> = (0..options.len()).collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
    let filtered = expander::filter(expander, &options, &all, &ctx, &mut rng);
    let verdict = |best: bool| if best { "best" } else { "not best" }.to_string();
    for (i, name) in names.iter().enumerate() {
        report.checked += 1;
        let want = expected.contains(&name.as_str());
        let got = filtered.kept.contains(&i);
        if want != got {
            report.mismatches.push(Mismatch {
                case: label.to_string(),
                place: format!("option {name}"),
                expected: verdict(want),
                actual: format!("{} ({})", verdict(got), filtered.note),
            });
        }
    }
    Ok(())
}

/// The case's `expander` (as `--expander` spells it), else the one its upstream test exercises
/// (`test` starts with the Go test function's name).
fn case_expander(case: &Value) -> Result<Expander, String> {
    if let Some(name) = string(case, "expander")? {
        return EXPANDERS
            .into_iter()
            .find(|&e| expander::name(e) == name)
            .ok_or_else(|| format!("no expander named {name}"));
    }
    let test = string(case, "test")?.ok_or("neither expander nor test is given")?;
    let function = test.split_whitespace().next().unwrap_or_default();
    UPSTREAM_TESTS
        .iter()
        .find(|(name, _)| *name == function)
        .map(|&(_, e)| e)
        .ok_or_else(|| format!("no expander known for upstream test {function}"))
}

/// One option: its node group, node count and node capacity, and its pods: the option's own
/// `pods` list, else the case's `pod` (upstream's expander tests give every option that pod).
fn expansion_option<'a>(
    case: &Value,
    option: &Value,
    index: usize,
    name: &'a str,
) -> Result<ExpansionOption<'a>, String> {
    let pod_requests = match option.get("pods") {
        Some(_) => list(option, "pods")?
            .iter()
            .map(requests)
            .collect::<Result<_, _>>()?,
        None => vec![requests(field(case, "pod")?)?],
    };
    let node_count = optional_u64(option, "nodeCount")?.ok_or("nodeCount is missing")?;
    Ok(ExpansionOption {
        pool: index,
        pool_name: name,
        group_of: name,
        node_count: u32::try_from(node_count).map_err(|_| "nodeCount is too large")?,
        node_capacity: requests(field(option, "nodeCapacity")?)?,
        node_price_usd_per_hour: price_per_hour(option)?,
        pod_requests,
    })
}

/// Requests or capacity given as `cpu_milli` (millicores) and `memory_bytes` (bytes), each
/// zero when absent.
fn requests(object: &Value) -> Result<Resources, String> {
    Ok(Resources::new(
        optional_u64(object, "cpu_milli")?.unwrap_or(0),
        optional_u64(object, "memory_bytes")?.unwrap_or(0),
    ))
}

/// An option's `nodePricePerHour` in USD, zero when absent (only the price expander reads it).
fn price_per_hour(option: &Value) -> Result<f64, String> {
    match option.get("nodePricePerHour") {
        None => Ok(0.0),
        Some(v) => v
            .as_f64()
            .ok_or_else(|| format!("nodePricePerHour is not a number: {v}")),
    }
}

/// The case's `priorities` (node group name to priority), empty when absent.
fn priorities(case: &Value) -> Result<Vec<(String, i32)>, String> {
    let Some(map) = case.get("priorities") else {
        return Ok(Vec::new());
    };
    map.as_object()
        .ok_or("priorities is not an object")?
        .iter()
        .map(|(name, p)| {
            let p = p
                .as_i64()
                .and_then(|p| i32::try_from(p).ok())
                .ok_or_else(|| format!("priority of {name} is not a whole number: {p}"))?;
            Ok((name.clone(), p))
        })
        .collect()
}

#[test]
fn every_disagreeing_option_is_reported() {
    // The upstream case with the expected best option moved to "balanced", then a case naming
    // an expander capsim does not have: two options disagree, and one case cannot be read.
    let cases: Value = serde_json::from_str(
        r#"[
          {"test": "TestLeastWaste (tampered)", "pod": {"cpu_milli": 500, "memory_bytes": 1048576000},
           "options": [
             {"nodeGroup": "balanced", "nodeCount": 1,
              "nodeCapacity": {"cpu_milli": 8000, "memory_bytes": 16777216000}},
             {"nodeGroup": "lowcpu", "nodeCount": 1,
              "nodeCapacity": {"cpu_milli": 4000, "memory_bytes": 16777216000}}],
           "expectedBest": ["balanced"]},
          {"test": "TestGrpcExpander", "pod": {}, "options": [], "expectedBest": []}
        ]"#,
    )
    .expect("valid JSON");
    let report = cluster_autoscaler(cases.as_array().expect("a list"), &Value::Null);
    let lines: Vec<String> = report.mismatches.iter().map(|m| m.to_string()).collect();
    assert_eq!(report.checked, 2);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(
        lines[0].starts_with(
            "cluster_autoscaler / TestLeastWaste (tampered): option balanced: expected best, \
             got not best (least-waste"
        ),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("option lowcpu: expected not best, got best"),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines[2],
        "cluster_autoscaler / TestGrpcExpander: case data: expected a case capsim can read, \
         got no expander known for upstream test TestGrpcExpander"
    );
}
