//! The `capsim` command line: parses arguments, calls the library, prints the result.
//!
//! Exit codes: 0 success, 1 `check` found a failing assertion or `merge` found runs missing
//! (without `--allow-partial`), 2 bad input or an I/O error (with one `capsim: ...` line on
//! standard error per problem). Everything else lives in the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Parser, Subcommand};

use capsim::check::{self, BaselineOptions, CheckOptions};
use capsim::html;
use capsim::plot;
use capsim::report::files::{TIMESERIES_CSV, write_atomically};
use capsim::report::metrics::planner::MetricSelection;
use capsim::report::openmetrics::{self, RunLabels};
use capsim::report::table;
use capsim::runner::progress::RunProgress;
use capsim::runner::run_to_dir_watched;
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

/// `capsim run`'s export of the time series for Prometheus and Grafana.
#[derive(Debug, Args)]
struct OpenMetricsArgs {
    /// Also write the time series as OpenMetrics text with timestamps, for `promtool tsdb
    /// create-blocks-from openmetrics FILE DIR` (examples/grafana/ has a dashboard for it).
    #[arg(long, value_name = "FILE")]
    openmetrics: Option<PathBuf>,
    /// Wall-clock time of simulated time 0 in the OpenMetrics file: Unix seconds or a UTC time
    /// such as 2026-11-30T00:00:00Z [default: the run's length before now, to the minute, so
    /// the run ends now].
    #[arg(long, value_name = "TIME", requires = "openmetrics")]
    openmetrics_start: Option<String>,
}

/// What `run` and `sweep` write after their results.
#[derive(Debug, Clone, Copy, Args)]
struct Outputs {
    /// Do not draw the charts (plots/).
    #[arg(long)]
    no_plots: bool,
    /// Do not write report.html (an earlier one in the folder is removed).
    #[arg(long)]
    no_report: bool,
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
        #[command(flatten)]
        outputs: Outputs,
        #[command(flatten)]
        openmetrics: OpenMetricsArgs,
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
        #[command(flatten)]
        outputs: Outputs,
    },
    /// Combine the folders of a sharded sweep into one.
    Merge {
        /// Shard folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The combined folder.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Exit 0 even when runs of the sweep are missing from every folder (they are still
        /// listed).
        #[arg(long)]
        allow_partial: bool,
    },
    /// Run a scenario and judge its `expect` assertions (and a baseline): the CI gate.
    Check {
        /// Scenario file (YAML).
        scenario: PathBuf,
        #[command(flatten)]
        edits: Edits,
        /// A summary.json (of the same scenario, duration and warm-up) to compare the planner
        /// metrics with.
        #[arg(long, value_name = "SUMMARY.json")]
        baseline: Option<PathBuf>,
        /// Relative tolerance for the baseline, such as 5% or 0.05; each metric's absolute
        /// floor is allowed whatever the tolerance.
        #[arg(long, value_name = "T", default_value = "5%", value_parser = parse_tolerance)]
        tolerance: f64,
        /// The metrics compared with the baseline: names, patterns with * for one name
        /// (services.*.latency_ms.p99), section prefixes (services.web), and `planner` for the
        /// planner metrics [default: planner].
        #[arg(long, value_name = "A,B,...", requires = "baseline")]
        baseline_metrics: Option<String>,
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
    /// Compare two run, sweep or replications folders: every planner metric's change, and
    /// whether it is more than seed-to-seed noise (t-test at 95%).
    Diff {
        /// Folder A: a run folder (summary.json), a sweep folder (sweep.json) or a folder of
        /// replications (runs/*/summary.json).
        a: PathBuf,
        /// Folder B, of the same kind as A.
        b: PathBuf,
        /// Print the rows as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Redraw the charts of a run or sweep folder into its plots/ folder.
    Plot {
        /// A run folder (timeseries.csv, summary.json) or a sweep folder (sweep.json, points.csv).
        dir: PathBuf,
    },
    /// Write one self-contained HTML page describing a run or sweep folder (or two, one after
    /// the other): scenario, tables, charts, decisions, waiting pods; sweep points and charts.
    Report {
        /// A run or sweep folder.
        dir: PathBuf,
        /// A second folder, shown after the first.
        dir2: Option<PathBuf>,
        /// The file to write [default: DIR/report.html].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
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
            outputs,
            openmetrics,
        } => run(
            scenario.as_deref(),
            out,
            &edits,
            quiet,
            outputs,
            &openmetrics,
        ),
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
            outputs,
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
            outputs,
        ),
        Command::Merge {
            dirs,
            out,
            allow_partial,
        } => return merge(&dirs, &out, allow_partial),
        Command::Plot { dir } => redraw(&dir),
        Command::Diff { a, b, json } => diff(&a, &b, json),
        Command::Report { dir, dir2, out } => report(&dir, dir2.as_deref(), out.as_deref()),
        Command::Check {
            scenario,
            edits,
            baseline,
            tolerance,
            baseline_metrics,
            replications,
            conservative,
            junit,
            jobs,
        } => {
            let baseline = baseline.map(|path| BaselineOptions {
                path,
                tolerance,
                metrics: baseline_metrics
                    .as_deref()
                    .map_or_else(MetricSelection::planner, MetricSelection::parse),
            });
            return check(
                &scenario,
                &edits,
                baseline,
                replications,
                conservative,
                junit,
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

/// Draws a folder's charts and writes its report (or removes an earlier report); a failure is
/// reported but does not undo the results.
fn finish(
    dir: &Path,
    outputs: Outputs,
    charts: fn(&Path) -> Result<Vec<PathBuf>, plot::PlotError>,
) {
    if !outputs.no_plots {
        draw(dir, charts);
    }
    let written = if !outputs.no_report {
        html::write_report(&[dir], None, &[]).map(|_| ())
    } else {
        html::remove_stale_report(dir)
    };
    if let Err(e) = written {
        eprintln!("capsim: warning: report not written: {e}");
    }
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
    outputs: Outputs,
    openmetrics: &OpenMetricsArgs,
) -> Result<(), String> {
    let scenario = scenario_of(&document(path, edits)?)?;
    let out = out.unwrap_or_else(|| Path::new("outputs").join(&scenario.name));
    let openmetrics_start = openmetrics_start(openmetrics, &scenario)?;
    let mut progress = RunProgress::new(scenario.duration, !quiet);
    let report = run_to_dir_watched(&scenario, &out, |simulated_s, events| {
        progress.update(simulated_s, events);
    });
    progress.finish();
    let report = report.map_err(|e| format!("writing results to {}: {e}", out.display()))?;
    finish(&out, outputs, plot::plot_run);
    if let (Some(file), Some(start)) = (&openmetrics.openmetrics, openmetrics_start) {
        let labels = RunLabels {
            scenario: scenario.name.clone(),
            seed: scenario.seed,
        };
        let text = openmetrics::from_timeseries(&out.join(TIMESERIES_CSV), &labels, start)
            .map_err(|e| e.to_string())?;
        write_atomically(file, &text).map_err(|e| format!("{}: {e}", file.display()))?;
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

/// The Unix time of simulated time 0 in the OpenMetrics file, when one is asked for: checked
/// with its folder before the run starts.
fn openmetrics_start(args: &OpenMetricsArgs, scenario: &Scenario) -> Result<Option<i64>, String> {
    let Some(file) = &args.openmetrics else {
        return Ok(None);
    };
    let folder = file.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(folder) = folder.filter(|f| !f.is_dir()) {
        return Err(format!(
            "--openmetrics {}: the folder {} does not exist; expected a file in an existing folder",
            file.display(),
            folder.display()
        ));
    }
    let start = match &args.openmetrics_start {
        Some(text) => {
            openmetrics::parse_start(text).map_err(|e| format!("--openmetrics-start: {e}"))?
        }
        None => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            let start = now - scenario.duration.as_secs_f64().ceil() as i64;
            start - start.rem_euclid(60)
        }
    };
    Ok(Some(start))
}

fn sweep(
    path: &Path,
    params: &[SweepDimension],
    replications: Option<u32>,
    edits: &Edits,
    mut options: SweepOptions,
    outputs: Outputs,
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
    finish(&options.out, outputs, plot::plot_sweep);
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

/// `capsim merge`: exit 0 when every run of the sweep is in the combined folder, 1 when some
/// are missing (a result: the folder holds what the shards had; listed on standard error)
/// unless `allow_partial`, 2 when a folder is not a shard of the sweep or cannot be read.
fn merge(dirs: &[PathBuf], out: &Path, allow_partial: bool) -> ExitCode {
    let merged = match sweep::merge(dirs, out) {
        Ok(merged) => merged,
        Err(e) => return fail(&e.to_string()),
    };
    let outputs = Outputs {
        no_plots: false,
        no_report: false,
    };
    finish(out, outputs, plot::plot_sweep);
    let missing = &merged.missing;
    if missing.is_empty() {
        eprintln!("merged {} runs into {}", merged.runs, out.display());
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "merged {} runs into {}; {} runs missing from every folder: merge the other shards too",
        merged.runs,
        out.display(),
        missing.len()
    );
    for m in missing {
        eprintln!(
            "  missing: run {} (point {}, replication {})",
            m.run, m.point, m.replication
        );
    }
    if allow_partial {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "capsim: merge: {} runs missing; use --allow-partial to accept a partial merge",
            missing.len()
        );
        ExitCode::from(1)
    }
}

/// `capsim diff`: the table, or the JSON of `diff::DiffReport`.
fn diff(a: &Path, b: &Path, json: bool) -> Result<(), String> {
    let report = capsim::diff::diff(a, b).map_err(|e| e.to_string())?;
    if json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        println!("{text}");
    } else {
        print!("{}", capsim::diff::render(&report));
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

/// `capsim report`: writes the HTML report of one or two folders and says where.
fn report(dir: &Path, dir2: Option<&Path>, out: Option<&Path>) -> Result<(), String> {
    let mut dirs = vec![dir];
    dirs.extend(dir2);
    let comparison = match dir2 {
        Some(b) => match capsim::diff::diff(dir, b) {
            Ok(report) => html::compare::comparison_rows(&report),
            Err(e) => {
                eprintln!("capsim: warning: no comparison in the report: {e}");
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    let path = html::write_report(&dirs, out, &comparison).map_err(|e| e.to_string())?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn check(
    path: &Path,
    edits: &Edits,
    baseline: Option<BaselineOptions>,
    replications: Option<u32>,
    conservative: bool,
    junit: Option<PathBuf>,
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
        junit,
        jobs,
    };
    let report = match check::check(&scenario, path, &options) {
        Ok(report) => report,
        Err(e) => return fail(&e.to_string()),
    };
    print!("{}", check::render(&report));
    if let Some(file) = &options.junit
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
