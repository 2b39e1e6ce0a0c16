//! The `capsim` command line: parses arguments, calls the library, prints the result.
//!
//! Exit codes: 0 success, 1 `check` found a failing assertion or `merge` found runs missing
//! (without `--allow-partial`), 2 bad input or an I/O error (with one `capsim: ...` line on
//! standard error per problem). Everything else lives in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use capsim::check::BaselineOptions;
use capsim::report::metrics::planner::MetricSelection;
use capsim::scenario::budget::Limits;
use capsim::scenario::model::SweepDimension;
use capsim::scenario::{Override, catalog};
use capsim::sweep::plan::dimension_from_param;
use capsim::sweep::{Progress, SweepOptions};

/// `eprintln!` that never panics: a line on standard error through `out::note`.
macro_rules! note {
    ($($arg:tt)*) => {
        crate::out::note(&format!($($arg)*))
    };
}

#[path = "main/out.rs"]
mod out;
#[path = "main/read.rs"]
mod read;
#[path = "main/simulate.rs"]
mod simulate;

use read::{diff, import, redraw, report, validate};
use simulate::{check, merge, run, sweep};

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
    #[command(flatten)]
    size: SizeArgs,
}

/// How large a run capsim accepts.
#[derive(Debug, Clone, Copy, Args)]
struct SizeArgs {
    /// Run past capsim's size limits (2e10 events, 4 GiB of memory, 20 GiB of output or 5,000
    /// nodes per run; 100,000 runs or 2e11 events per sweep), up to what could still finish.
    #[arg(long)]
    allow_large: bool,
}

impl SizeArgs {
    /// The limits these arguments ask for.
    fn limits(self) -> Limits {
        Limits::new(self.allow_large)
    }
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
        #[arg(long, value_name = "N", value_parser = parse_jobs)]
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
        #[arg(long, value_name = "N", value_parser = parse_jobs)]
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
        #[command(flatten)]
        size: SizeArgs,
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
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
                progress: progress(quiet),
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
            return check(
                &scenario,
                &edits,
                baseline_options(baseline, tolerance, baseline_metrics.as_deref()),
                replications,
                conservative,
                junit,
                jobs.unwrap_or_else(default_jobs),
            );
        }
        Command::Validate { scenarios, size } => return validate(&scenarios, size.limits()),
        Command::Catalog => out::print(&catalog::render()),
        Command::Import { manifests, nodes } => import(&manifests, nodes.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

/// Help and the version as clap prints them (exit 0); a bad argument as one `capsim:` line
/// with clap's reason (exit 2), like every other error.
fn usage_error(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = error.print();
        return if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    let text = error.render().to_string();
    let reason = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("bad arguments");
    let reason = reason.strip_prefix("error: ").unwrap_or(reason);
    let tip = (text.lines().map(str::trim))
        .find_map(|l| l.strip_prefix("tip: "))
        .map_or_else(String::new, |tip| format!(" ({tip})"));
    fail(&format!("{reason}{tip}; see capsim --help"))
}

/// A sweep's progress display: none with `--quiet`.
fn progress(quiet: bool) -> Progress {
    if quiet {
        Progress::Quiet
    } else {
        Progress::Auto
    }
}

/// `check --baseline`'s options, when a baseline is given: the planner metrics unless
/// `--baseline-metrics` chooses.
fn baseline_options(
    baseline: Option<PathBuf>,
    tolerance: f64,
    metrics: Option<&str>,
) -> Option<BaselineOptions> {
    baseline.map(|path| BaselineOptions {
        path,
        tolerance,
        metrics: metrics.map_or_else(MetricSelection::planner, MetricSelection::parse),
    })
}

/// Prints each line of `message` as `capsim: <line>` (manifests report every problem, one per
/// line) and returns exit code 2.
fn fail(message: &str) -> ExitCode {
    for line in message.lines() {
        note!("capsim: {line}");
    }
    ExitCode::from(2)
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
    let expected = "expected a percentage such as 5% or a fraction from 0 to 1 such as 0.05";
    let (number, percent) = match text.strip_suffix('%') {
        Some(n) => (n, true),
        None => (text, false),
    };
    let value = number
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("{text:?} is not a tolerance; {expected}"))?;
    if percent {
        Ok(value * 0.01)
    } else if value <= 1.0 {
        Ok(value)
    } else {
        // A bare 5 is far more likely to mean 5% than 500%: say so rather than guess.
        Err(format!(
            "{text:?} is a fraction above 1 ({:.0}%); {expected} (write {text}% for {text} percent)",
            value * 100.0
        ))
    }
}

/// `--jobs`: how many runs at once, at least one.
fn parse_jobs(text: &str) -> Result<usize, String> {
    text.trim()
        .parse::<usize>()
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| format!("{text:?} is not a number of jobs; expected a whole number >= 1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerances_are_percentages_or_fractions_up_to_one() {
        assert_eq!(parse_tolerance("5%"), Ok(0.05));
        assert_eq!(parse_tolerance("0.05"), Ok(0.05));
        assert_eq!(parse_tolerance("1"), Ok(1.0));
        assert_eq!(parse_tolerance("150%"), Ok(1.5));
        for bad in ["5", "1.5", "-1%", "x", ""] {
            assert!(parse_tolerance(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn jobs_are_at_least_one() {
        assert_eq!(parse_jobs("1"), Ok(1));
        assert_eq!(parse_jobs("16"), Ok(16));
        for bad in ["0", "-1", "two", ""] {
            assert!(parse_jobs(bad).is_err(), "{bad}");
        }
    }
}
