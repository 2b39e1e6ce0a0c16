//! The test harness: temporary folders and a handle on the built `capsim` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use capsim::scenario::Scenario;
use capsim::simulation::{Outcome, Simulation};

/// A folder under the target directory, removed when dropped.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// A new empty folder whose name starts with `label`.
    pub fn new(label: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("the target directory is writable");
        TempDir { path }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `text` to `name` in the folder and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path.join(name);
        std::fs::write(&path, text).expect("the temporary folder is writable");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Runs the built `capsim` with `args` in `cwd`.
pub fn capsim(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the capsim binary runs")
}

/// Writes `yaml` as `scenario.yaml` in `dir` and runs `capsim run` on it into `dir/out`, with
/// `extra` arguments; returns the command's output and the results folder.
pub fn run_yaml(dir: &TempDir, yaml: &str, extra: &[&str]) -> (Output, PathBuf) {
    let file = dir.write("scenario.yaml", yaml);
    let out = dir.path().join("out");
    let mut args = vec![
        "run",
        file.to_str().unwrap_or(""),
        "--out",
        out.to_str().unwrap_or(""),
    ];
    args.extend_from_slice(extra);
    (capsim(dir.path(), &args), out)
}

/// Fails the test with the command's standard error unless it exited successfully.
pub fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The repository's root, where `scenarios/` lives.
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Parses a scenario given as YAML text, panicking with the error if it is invalid.
pub fn scenario(yaml: &str) -> Scenario {
    Scenario::from_yaml_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}"))
}

/// Simulates a scenario in memory.
pub fn simulate(scenario: &Scenario) -> Outcome {
    Simulation::new(scenario).run(&mut capsim::report::Discard)
}
