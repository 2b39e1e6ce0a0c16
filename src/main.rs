//! The `capsim` command line: parses arguments, calls the library, prints the result.
//!
//! Exit codes: 0 success, 1 `check` found a failing assertion, 2 bad input or an I/O error (with
//! one `capsim: ...` line on standard error). Everything else lives in the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use capsim::check::{self, CheckOptions};
use capsim::plot;
use capsim::report::table;
use capsim::runner::run_to_dir;
use capsim::scenario::model::SweepDimension;
use capsim::scenario::{self, Document, Override, Scenario, catalog};
use capsim::sweep::plan::dimension_from_param;
use capsim::sweep::{self, Plan, Progress, SweepOptions};

/// The reference scenario, built in so that `capsim run` works from any folder.
const REFERENCE_SCENARIO: &str = include_str!("../scenarios/ai-infra.yaml");
const REFERENCE_NAME: &str = "scenarios/ai-infra.yaml";

/// capsim: a discrete-event simulator of a Kubernetes cluster's capacity.
#[derive(Debug, Parser)]
#[command(name = "capsim", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options that edit the scenario before it is validated.
#[derive(Debug, Args)]
struct Edits {
    /// Set a value in the scenario before validation: a dotted path and a YAML value
    /// (services.web.replicas=3, node_pools.p.machine_type=c2-standard-8). Repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_override)]
    set: Vec<Override>,
    /// Seed for every random stream, replacing the scenario's (same as --set seed=N).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Simulated duration, such as 2h or 90m (same as --set duration=D).
    #[arg(long, value_name = "D")]
    duration: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a scenario and write its results.
    Run {
        /// Scenario file (YAML). Without one, the built-in reference scenario
        /// (scenarios/ai-infra.yaml) runs.
        scenario: Option<PathBuf>,
        /// Output folder [default: outputs/<scenario name>/].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        #[command(flatten)]
        edits: Edits,
        /// Print nothing on standard output.
        #[arg(long, short)]
        quiet: bool,
        /// Do not draw the charts (plots/).
        #[arg(long)]
        no_plots: bool,
    },
    /// Run every point of a parameter grid, several seeds each, in parallel.
    Sweep {
        /// Scenario file (YAML); its `sweep` section, if any, gives the grid.
        scenario: PathBuf,
        /// A grid dimension: PATH=v1,v2,... (values are YAML). Repeatable; replaces the file's
        /// entry for the same path.
        #[arg(long = "param", value_name = "PATH=V1,V2,...", value_parser = dimension_from_param)]
        params: Vec<SweepDimension>,
        /// Replications per point, replacing the file's.
        #[arg(long, value_name = "N")]
        replications: Option<u32>,
        #[command(flatten)]
        edits: Edits,
        /// Runs at once [default: the number of CPUs].
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// Sweep folder [default: outputs/<scenario name>-sweep/].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Also write every run's full outputs under runs/.
        #[arg(long)]
        keep_runs: bool,
        /// Keep the runs already in the folder and run only the others.
        #[arg(long)]
        resume: bool,
        /// Run only shard I of N (0-based): every N-th run from I.
        #[arg(long, value_name = "I/N", value_parser = parse_shard)]
        shard: Option<(u32, u32)>,
        /// No progress on standard error.
        #[arg(long, short)]
        quiet: bool,
        /// Do not draw the charts (plots/).
        #[arg(long)]
        no_plots: bool,
    },
    /// Combine the folders of a sharded sweep into one.
    Merge {
        /// Shard folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The combined folder.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Run a scenario and judge its `expect` assertions (and a baseline): the CI gate.
    Check {
        /// Scenario file (YAML).
        scenario: PathBuf,
        #[command(flatten)]
        edits: Edits,
        /// A summary.json to compare every metric with.
        #[arg(long, value_name = "SUMMARY.json")]
        baseline: Option<PathBuf>,
        /// Relative tolerance for the baseline, such as 5% or 0.05.
        #[arg(long, value_name = "T", default_value = "5%", value_parser = parse_tolerance)]
        tolerance: f64,
        /// Replications to judge over [default: the scenario's sweep.replications, else 1].
        #[arg(long, value_name = "N")]
        replications: Option<u32>,
        /// Judge on the unfavourable 95% confidence bound instead of the mean.
        #[arg(long)]
        conservative: bool,
        /// Write the verdict as JUnit XML.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Replications at once [default: the number of CPUs].
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
    },
    /// Redraw the charts of a run or sweep folder into its plots/ folder.
    Plot {
        /// A run folder (timeseries.csv, summary.json) or a sweep folder (sweep.json, points.csv).
        dir: PathBuf,
    },
    /// Check scenario files without running them.
    Validate {
        /// Scenario files (YAML).
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
    /// List the built-in machine types: capacity, allocatable to pods, and prices.
    Catalog,
    /// Write the scenario Kubernetes manifests make (capsim's format, assumed values
    /// commented) on standard output.
    Import {
        /// Manifest files or folders (YAML: multi-document, `kind: List`, Helm output).
        #[arg(required = true)]
        manifests: Vec<PathBuf>,
        /// The nodes, as `kubectl get nodes -o yaml` prints them, for the node pools
        /// [default: one autoscaled pool of the cheapest catalog machine that fits].
        #[arg(long, value_name = "FILE")]
        nodes: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            scenario,
            out,
            edits,
            quiet,
            no_plots,
        } => run(scenario.as_deref(), out, &edits, quiet, !no_plots),
        Command::Sweep {
            scenario,
            params,
            replications,
            edits,
            jobs,
            out,
            keep_runs,
            resume,
            shard,
            quiet,
            no_plots,
        } => sweep(
            &scenario,
            &params,
            replications,
            &edits,
            SweepOptions {
                jobs: jobs.unwrap_or_else(default_jobs),
                out: out.unwrap_or_default(),
                keep_runs,
                resume,
                shard,
                progress: if quiet {
                    Progress::Quiet
                } else {
                    Progress::Auto
                },
            },
            !no_plots,
        ),
        Command::Merge { dirs, out } => merge(&dirs, &out),
        Command::Plot { dir } => redraw(&dir),
        Command::Check {
            scenario,
            edits,
            baseline,
            tolerance,
            replications,
            conservative,
            junit,
            jobs,
        } => {
            return check(
                &scenario,
                &edits,
                baseline.map(|b| (b, tolerance)),
                replications,
                conservative,
                junit.as_deref(),
                jobs.unwrap_or_else(default_jobs),
            );
        }
        Command::Validate { scenarios } => return validate(&scenarios),
        Command::Catalog => {
            print!("{}", catalog::render());
            Ok(())
        }
        Command::Import { manifests, nodes } => import(&manifests, nodes.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

/// Prints each line of `message` as `capsim: <line>` (manifests report every problem, one per
/// line) and returns exit code 2.
fn fail(message: &str) -> ExitCode {
    for line in message.lines() {
        eprintln!("capsim: {line}");
    }
    ExitCode::from(2)
}

/// The scenario document with the command line's edits applied.
fn document(path: Option<&Path>, edits: &Edits) -> Result<Document, String> {
    let mut document = match path {
        Some(path) => Document::load(path),
        None => Document::from_yaml_str(REFERENCE_SCENARIO, REFERENCE_NAME),
    }
    .map_err(|e| e.to_string())?;
    warn(document.warnings());
    let mut settings = edits.set.clone();
    if let Some(seed) = edits.seed {
        settings.push(Override {
            path: "seed".into(),
            value: seed.to_string(),
        });
    }
    if let Some(duration) = &edits.duration {
        settings.push(Override {
            path: "duration".into(),
            value: duration.clone(),
        });
    }
    for o in &settings {
        document.set(o).map_err(|e| e.to_string())?;
    }
    Ok(document)
}

/// Validates the document, printing the warnings validation gives.
fn scenario_of(document: &Document) -> Result<Scenario, String> {
    let (scenario, warnings) = document
        .scenario_with_warnings()
        .map_err(|e| e.to_string())?;
    warn(&warnings);
    Ok(scenario)
}

/// Draws a folder's charts; a failure is reported but does not undo the results.
fn draw(dir: &Path, draw: fn(&Path) -> Result<Vec<PathBuf>, plot::PlotError>) {
    if let Err(e) = draw(dir) {
        eprintln!("capsim: warning: charts not drawn: {e}");
    }
}

fn run(
    path: Option<&Path>,
    out: Option<PathBuf>,
    edits: &Edits,
    quiet: bool,
    plots: bool,
) -> Result<(), String> {
    let scenario = scenario_of(&document(path, edits)?)?;
    let out = out.unwrap_or_else(|| Path::new("outputs").join(&scenario.name));
    let report = run_to_dir(&scenario, &out)
        .map_err(|e| format!("writing results to {}: {e}", out.display()))?;
    if plots {
        draw(&out, plot::plot_run);
    }
    if !quiet {
        print!("{}", table::render(&report.outcome.summary));
        println!("results: {}", out.display());
    }
    let info = &report.info;
    eprintln!(
        "simulated {} in {:.2} s wall: {} events, {:.1}M events/s",
        scenario.duration,
        info.wall_s,
        info.events_processed,
        info.events_per_s / 1e6
    );
    Ok(())
}

fn sweep(
    path: &Path,
    params: &[SweepDimension],
    replications: Option<u32>,
    edits: &Edits,
    mut options: SweepOptions,
    plots: bool,
) -> Result<(), String> {
    let mut document = document(Some(path), edits)?;
    if let Some(r) = replications {
        document
            .set(&Override {
                path: "sweep.replications".into(),
                value: r.to_string(),
            })
            .map_err(|e| e.to_string())?;
    }
    let plan = Plan::new(&document, params).map_err(|e| e.to_string())?;
    warn(&plan.warnings);
    if options.out.as_os_str().is_empty() {
        options.out = Path::new("outputs").join(format!("{}-sweep", plan.scenario));
    }
    if let Some((index, count)) = options.shard {
        eprintln!(
            "sweep {}: shard {index}/{count}: {} of {} runs",
            plan.scenario,
            plan.shard(index, count).len(),
            plan.runs.len()
        );
    }
    let report = sweep::run(&plan, &options).map_err(|e| e.to_string())?;
    if plots {
        draw(&options.out, plot::plot_sweep);
    }
    if report.runs_discarded > 0 {
        eprintln!(
            "sweep: removed {} runs of an earlier sweep from {} (use --resume to keep them)",
            report.runs_discarded,
            options.out.display()
        );
    }
    eprintln!(
        "sweep {}: {} points x {} replications = {} runs; {} simulated now in {:.2} s wall with {} jobs \
         ({:.2} runs/s, {:.1}M events/s){}; results: {}",
        plan.scenario,
        plan.points.len(),
        plan.replications,
        plan.runs.len(),
        report.runs_executed,
        report.wall_s,
        options.jobs,
        report.runs_executed as f64 / report.wall_s.max(1e-9),
        report.events as f64 / report.wall_s.max(1e-9) / 1e6,
        if report.runs_resumed > 0 {
            format!(", {} resumed", report.runs_resumed)
        } else {
            String::new()
        },
        options.out.display()
    );
    Ok(())
}

fn merge(dirs: &[PathBuf], out: &Path) -> Result<(), String> {
    let (merged, missing) = sweep::merge(dirs, out).map_err(|e| e.to_string())?;
    draw(out, plot::plot_sweep);
    if missing.is_empty() {
        eprintln!("merged {merged} runs into {}", out.display());
    } else {
        eprintln!(
            "merged {merged} runs into {}; {} runs still missing (first: {:?}): merge the other \
             shards too",
            out.display(),
            missing.len(),
            &missing[..missing.len().min(5)]
        );
    }
    Ok(())
}

/// `capsim plot`: redraws the charts of a run or sweep folder and says how many files it drew.
fn redraw(dir: &Path) -> Result<(), String> {
    let files = plot::plot_dir(dir).map_err(|e| e.to_string())?;
    eprintln!(
        "drew {} files in {}",
        files.len(),
        dir.join("plots").display()
    );
    Ok(())
}

fn check(
    path: &Path,
    edits: &Edits,
    baseline: Option<(PathBuf, f64)>,
    replications: Option<u32>,
    conservative: bool,
    junit: Option<&Path>,
    jobs: usize,
) -> ExitCode {
    let scenario = match document(Some(path), edits).and_then(|d| scenario_of(&d)) {
        Ok(s) => s,
        Err(message) => return fail(&message),
    };
    let options = CheckOptions {
        replications: replications
            .or_else(|| scenario.sweep.as_ref().map(|s| s.replications))
            .unwrap_or(1),
        conservative,
        baseline,
        jobs,
    };
    let report = match check::check(&scenario, &options) {
        Ok(report) => report,
        Err(e) => return fail(&e.to_string()),
    };
    print!("{}", check::render(&report));
    if let Some(file) = junit
        && let Err(e) = std::fs::write(file, check::junit(&report))
    {
        return fail(&format!("{}: {e}", file.display()));
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Prints each warning on standard error.
fn warn(warnings: &[String]) {
    for w in warnings {
        eprintln!("capsim: warning: {w}");
    }
}

/// `capsim import`: the scenario on standard output, warnings on standard error.
fn import(manifests: &[PathBuf], nodes: Option<&Path>) -> Result<(), String> {
    let imported = scenario::import(manifests, nodes).map_err(|e| e.to_string())?;
    warn(&imported.warnings);
    print!("{}", imported.yaml);
    Ok(())
}

/// `capsim validate`: every file is validated, each bad one with all its errors (on standard
/// error, one a line), each good one summed up in a line; exit code 2 when any is bad.
fn validate(paths: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for path in paths {
        match validate_one(path) {
            Ok(summary) => println!("{}: ok ({summary})", path.display()),
            Err(message) => {
                fail(&message);
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// Validates one file: what it holds, or every error it has.
fn validate_one(path: &Path) -> Result<String, String> {
    let document = Document::load(path).map_err(|e| e.to_string())?;
    warn(document.warnings());
    let scenario = scenario_of(&document)?;
    let jobs = match scenario.jobs.len() {
        0 => String::new(),
        n => format!(", {n} jobs"),
    };
    Ok(format!(
        "{}: {} node pools, {} services{jobs}, {} simulated",
        scenario.name,
        scenario.node_pools.len(),
        scenario.services.len(),
        scenario.duration
    ))
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn parse_override(text: &str) -> Result<Override, String> {
    text.parse()
}

fn parse_shard(text: &str) -> Result<(u32, u32), String> {
    let parsed = text
        .split_once('/')
        .and_then(|(i, n)| Some((i.trim().parse::<u32>().ok()?, n.trim().parse::<u32>().ok()?)));
    match parsed {
        Some((index, count)) if count > 0 && index < count => Ok((index, count)),
        _ => Err(format!(
            "{text:?} is not a shard; expected I/N with 0 <= I < N, such as 0/4"
        )),
    }
}

fn parse_tolerance(text: &str) -> Result<f64, String> {
    let (number, scale) = match text.strip_suffix('%') {
        Some(n) => (n, 0.01),
        None => (text, 1.0),
    };
    number
        .trim()
        .parse::<f64>()
        .ok()
        .map(|v| v * scale)
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("{text:?} is not a tolerance; expected a percentage such as 5% or a fraction such as 0.05"))
}
