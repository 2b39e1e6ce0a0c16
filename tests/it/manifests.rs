//! Kubernetes manifests: `capsim import` writes a scenario that runs exactly as the same
//! manifests named by a scenario's `manifests:` key, warnings reach the user once, and
//! malformed manifests exit 2 naming the file, the document and the field.

use std::fs;
use std::path::PathBuf;

use crate::util::{TempDir, assert_success, capsim, repo_root};

fn manifests() -> Vec<String> {
    ["shop-helm.yaml", "list.yaml", "limits.yaml"]
        .iter()
        .map(|f| data(f).display().to_string())
        .collect()
}

fn data(name: &str) -> PathBuf {
    repo_root().join("tests/data/manifests").join(name)
}

/// Load on the web service, given on the command line to both runs.
const LOAD: &str = "services.web.load={arrivals: {rate: 30}, service_time: {distribution: exponential, mean: 40ms}}";

fn summary(dir: &TempDir, scenario: &str, out: &str) -> (String, String) {
    let out = dir.path().join(out);
    let output = capsim(
        dir.path(),
        &[
            "run",
            scenario,
            "--out",
            out.to_str().unwrap_or(""),
            "--no-plots",
            "--quiet",
            "--duration",
            "30m",
            "--set",
            LOAD,
        ],
    );
    assert_success(&output);
    let text = fs::read_to_string(out.join("summary.json")).expect("the run wrote summary.json");
    (text, String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn import_then_run_equals_running_the_manifests() {
    let dir = TempDir::new("import-round-trip");
    let mut args = vec!["import"];
    let files = manifests();
    args.extend(files.iter().map(String::as_str));
    let output = capsim(dir.path(), &args);
    assert_success(&output);
    let imported = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(imported.contains("# assumed"), "{imported}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("capsim: warning: "));
    dir.write("imported.yaml", &imported);
    // The same manifests under the imported file's name, duration and node pools.
    let head: String = imported
        .lines()
        .take_while(|l| !l.starts_with("services:"))
        .map(|l| format!("{l}\n"))
        .collect();
    let listed: Vec<String> = files.iter().map(|f| format!("{f:?}")).collect();
    let with_manifests = format!("{head}manifests: [{}]\n", listed.join(", "));
    dir.write("with-manifests.yaml", &with_manifests);

    let (from_import, _) = summary(&dir, "imported.yaml", "a");
    let (from_manifests, stderr) = summary(&dir, "with-manifests.yaml", "b");
    assert_eq!(from_import, from_manifests);
    // Each warning once.
    let skipped = stderr.matches("kinds capsim does not model").count();
    assert_eq!(skipped, 1, "{stderr}");
}

#[test]
fn malformed_manifests_exit_2_naming_file_document_and_field() {
    let dir = TempDir::new("import-bad");
    fs::copy(data("bad.yaml"), dir.path().join("deploy.yaml")).expect("copied");
    let output = capsim(dir.path(), &["import", "deploy.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(
            "capsim: deploy.yaml: document 3 (Deployment web): \
             spec.template.spec.containers[0].resources.requests.cpu: \"abc\" is not a cpu quantity; "
        ),
        "{stderr}"
    );
    assert!(
        // Every problem on a line of its own.
        stderr.contains(
            "\ncapsim: deploy.yaml: document 3 (Deployment web): \
             spec.template.spec.containers[1].resources.limits.memory: \"lots\""
        ),
        "{stderr}"
    );
    // The same through a scenario's manifests: key, relative to the scenario file.
    dir.write(
        "scenario.yaml",
        "name: bad\nduration: 1h\nmanifests: [deploy.yaml]\nnode_pools: {p: {machine_type: e2-standard-8}}\n",
    );
    let output = capsim(dir.path(), &["validate", "scenario.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("deploy.yaml: document 3"));
    // An entry that names nothing is placed in the scenario, at the entry.
    dir.write(
        "missing.yaml",
        "name: bad\nduration: 1h\nmanifests: [deploy.yaml, exponential]\nnode_pools: {p: {machine_type: e2-standard-8}}\n",
    );
    let output = capsim(dir.path(), &["validate", "missing.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(
            "capsim: missing.yaml: manifests[1]: \"exponential\" names no file or folder;"
        ),
        "{stderr}"
    );
}
