use super::*;

const BASE: &str = r#"
name: doc
duration: 1h
node_pools:
  pool: {machine_type: e2-standard-8, initial_size: 2}
services:
  web:
    namespace: team
    resources: {requests: {cpu: 500m, memory: 1Gi}}
quotas:
  team: {requests.cpu: "16"}
autoscaling:
  hpa:
    web:
      maxReplicas: 5
      metrics:
        - {type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}
"#;

fn with(settings: &[&str]) -> Result<Scenario, Error> {
    let mut doc = Document::from_yaml_str(BASE, "doc.yaml")?;
    for s in settings {
        let o: Override = s.parse().map_err(|m: String| Error::Override {
            origin: "doc.yaml".into(),
            setting: format!("--set {s}"),
            message: m,
        })?;
        doc.set(&o)?;
    }
    doc.scenario()
}

#[test]
fn overrides_reach_maps_lists_and_dotted_keys() {
    let s = with(&[
        "services.web.replicas=3",
        "node_pools.pool.machine_type=c2-standard-8",
        "autoscaling.hpa.web.metrics.0.resource.target.averageUtilization=55",
        "quotas.team.requests.cpu=8",
        "node_pools.pool.machine_type={cpu: 4, memory: 16Gi, price_per_hour: 0.2}",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.services[0].replicas, 3);
    assert_eq!(s.node_pools[0].machine.name, "custom");
    assert_eq!(s.quotas[0].requests_cpu.map(|c| c.0), Some(8_000));
    match &s.autoscaling.hpa[0].metrics[0] {
        crate::controllers::hpa::spec::HpaMetric::ResourceUtilization {
            average_utilization_percent,
            ..
        } => assert_eq!(*average_utilization_percent, 55),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_overrides_get_clear_errors() {
    let cases: [(&str, &[&str]); 5] = [
        // A typo in a field name: validation names the allowed fields.
        (
            "services.web.replica=3",
            &["services.web", "replica", "replicas"],
        ),
        // A value of the wrong type: the path and the type.
        (
            "services.web.replicas=many",
            &["services.web.replicas", "many"],
        ),
        // Through a scalar.
        (
            "name.first=x",
            &["--set name.first=x", "the string \"doc\""],
        ),
        // Past the end of a list.
        (
            "autoscaling.hpa.web.metrics.3.type=Pods",
            &[
                "--set autoscaling.hpa.web.metrics.3.type=Pods",
                "past the end",
            ],
        ),
        // A list index that is not a number.
        (
            "autoscaling.hpa.web.metrics.first.type=Pods",
            &["not a list index"],
        ),
    ];
    for (setting, needles) in cases {
        let message = match with(&[setting]) {
            Ok(_) => panic!("{setting} was accepted"),
            Err(e) => e.to_string(),
        };
        for needle in needles {
            assert!(
                message.contains(needle),
                "{setting}: {needle:?} not in {message}"
            );
        }
    }
}

#[test]
fn overrides_parse_path_and_value() {
    let o: Override = "a.b=[1, 2]"
        .parse()
        .unwrap_or_else(|e: String| panic!("{e}"));
    assert_eq!((o.path.as_str(), o.value.as_str()), ("a.b", "[1, 2]"));
    assert!("no-equals".parse::<Override>().is_err());
    assert!("a..b=1".parse::<Override>().is_err());
    assert!("=1".parse::<Override>().is_err());
}

#[test]
fn a_file_can_build_on_a_base() {
    let dir = std::env::temp_dir().join(format!("capsim-doc-base-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("base.yaml"), BASE).unwrap_or_else(|e| panic!("{e}"));
    let derived = "base: base.yaml\nset:\n  services.web.replicas: 4\n  quotas.team.requests.cpu: \"8\"\nexpect: [\"cost.total_usd <= 10\"]\n";
    std::fs::write(dir.join("derived.yaml"), derived).unwrap_or_else(|e| panic!("{e}"));
    let doc = Document::load(&dir.join("derived.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let s = doc.scenario().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.services[0].replicas, 4);
    assert_eq!(s.quotas[0].requests_cpu.map(|c| c.0), Some(8_000));
    assert_eq!(s.expectations.len(), 1);
    assert!(doc.origin().contains("based on"), "{}", doc.origin());
    // A cycle is an error, not a hang.
    std::fs::write(dir.join("loop.yaml"), "base: loop.yaml\n").unwrap_or_else(|e| panic!("{e}"));
    let err = Document::load(&dir.join("loop.yaml"))
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("bases deep"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_untouched_document_validates_like_the_file() {
    let doc = Document::from_yaml_str(BASE, "doc.yaml").unwrap_or_else(|e| panic!("{e}"));
    let direct = Scenario::from_yaml_str(BASE, "doc.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(doc.scenario().unwrap_or_else(|e| panic!("{e}")), direct);
}

/// A folder of its own under the system's temporary one, for a test's files.
fn folder(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("capsim-doc-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("base.yaml"), BASE).unwrap_or_else(|e| panic!("{e}"));
    dir
}

fn load_error(dir: &std::path::Path, file: &str, text: &[u8]) -> String {
    std::fs::write(dir.join(file), text).unwrap_or_else(|e| panic!("{e}"));
    match Document::load(&dir.join(file)).and_then(|d| d.scenario()) {
        Ok(_) => panic!("{file} was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn errors_of_a_files_set_entries_are_placed_at_them() {
    let dir = folder("set");
    let file = dir.join("derived.yaml").display().to_string();
    let message = load_error(
        &dir,
        "derived.yaml",
        b"base: base.yaml\nset:\n  services.web.replicas: 2\n  name.first: 3\n",
    );
    assert_eq!(
        message,
        format!(
            "{file}:4:3: set.name.first: \"first\" goes inside the string \"doc\", which has no fields"
        )
    );
    assert!(!message.contains("--set"), "{message}");
    let message = load_error(&dir, "derived.yaml", b"base: base.yaml\nset: [a]\n");
    assert!(
        message.starts_with(&format!("{file}:2:1: set: ")),
        "{message}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_base_that_is_no_scenario_is_named_not_quoted() {
    let dir = folder("nobase");
    let secret = format!("root:x:0:0:{}:/root:/bin/bash\nline two\n", "s".repeat(200));
    std::fs::write(dir.join("passwd"), &secret).unwrap_or_else(|e| panic!("{e}"));
    let file = dir.join("derived.yaml").display().to_string();
    let message = load_error(&dir, "derived.yaml", b"name: x\nbase: passwd\n");
    assert_eq!(
        message,
        format!(
            "{file}:2:1: base: \"passwd\" is not a scenario: it holds a string, not a map of \
             scenario keys; expected the path of a scenario file, relative to this one"
        )
    );
    // A base that is not YAML: its error names it and the base: that named it.
    std::fs::write(dir.join("broken.yaml"), "a: [\n").unwrap_or_else(|e| panic!("{e}"));
    let message = load_error(&dir, "derived.yaml", b"base: broken.yaml\n");
    let broken = dir.join("broken.yaml").display().to_string();
    assert!(
        message.starts_with(&format!(
            "{broken} (the base: of {file}:1:1): malformed YAML"
        )),
        "{message}"
    );
    // Nor invalid UTF-8 in a base, which is placed.
    std::fs::write(dir.join("bytes.yaml"), b"name: x\n\xff\n").unwrap_or_else(|e| panic!("{e}"));
    let message = load_error(&dir, "derived.yaml", b"base: bytes.yaml\n");
    let bytes = dir.join("bytes.yaml").display().to_string();
    assert!(
        message.starts_with(&format!("{bytes}:2:1 (the base: of {file}:1:1): byte 0xff")),
        "{message}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_message_is_one_tidy_line() {
    let long = "z".repeat(100_000);
    let text = BASE
        .replace("name: doc", "name: \"a\\nb\\x01c\"")
        .replace("e2-standard-8", &long);
    let message = match Document::from_yaml_str(&text, "doc.yaml").and_then(|d| d.scenario()) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    };
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), 2, "{message}");
    assert!(
        lines[0].contains("name: \"a\\nb\\u{1}c\" is not a valid scenario name"),
        "{message}"
    );
    assert!(
        lines[1].contains(&format!(
            "unknown machine type \"{}…\" (100000 characters)",
            &long[..60]
        )),
        "{}",
        lines[1]
    );
    assert!(lines.iter().all(|l| l.len() < 1000), "{message}");
}

#[test]
fn manifests_and_node_lists_are_read_as_safely_as_scenarios() {
    let dir = folder("inputs");
    let deep = format!(
        "kind: List\nitems: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    std::fs::write(dir.join("deep.yaml"), &deep).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("bytes.yaml"), b"kind: List\n\xfe\n").unwrap_or_else(|e| panic!("{e}"));
    let scenario = "name: x\nduration: 1h\nmanifests: [deep.yaml]\n";
    let message = load_error(&dir, "s.yaml", scenario.as_bytes());
    assert!(
        message.starts_with("deep.yaml:2:71: lists and maps are nested more than 64 levels"),
        "{message}"
    );
    let scenario = "name: x\nduration: 1h\nnode_pools_from: bytes.yaml\n";
    let message = load_error(&dir, "s.yaml", scenario.as_bytes());
    let bytes = dir.join("bytes.yaml").display().to_string();
    assert!(
        message.starts_with(&format!("{bytes}:2:1: byte 0xfe is not UTF-8 text")),
        "{message}"
    );
    let scenario = "name: x\nduration: 1h\nnode_pools_from: deep.yaml\n";
    let message = load_error(&dir, "s.yaml", scenario.as_bytes());
    assert!(
        message.contains("deep.yaml:2:71: lists and maps"),
        "{message}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_long_override_is_shortened_so_its_reason_shows() {
    let value = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    let message = with(&[&format!("services.web.replicas={value}")])
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains(&format!(
            "--set services.web.replicas={}… (2000 characters): ",
            "[".repeat(60)
        )),
        "{message}"
    );
    assert!(message.contains("nested more than 64 levels"), "{message}");
}
