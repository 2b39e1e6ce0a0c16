//! The `capsim` command line: parses arguments, loads the scenario, runs it, prints the result.
//!
//! Exit codes: 0 success, 2 bad input or an I/O error (with one `capsim: ...` line on standard
//! error). Everything else lives in the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use capsim::report::table;
use capsim::runner::run_to_dir;
use capsim::scenario::{self, Scenario};
use capsim::units::SimDuration;

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
        /// Seed for every random stream, replacing the scenario's.
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
        /// Simulated duration (Go form: 2h, 90m, 1h30m), replacing the scenario's.
        #[arg(long, value_name = "D", value_parser = parse_duration_arg)]
        duration: Option<SimDuration>,
        /// Print nothing on standard output.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Check scenario files without running them.
    Validate {
        /// Scenario files (YAML).
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
    /// List the built-in machine types: capacity, allocatable to pods, and prices.
    Catalog,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            scenario,
            out,
            seed,
            duration,
            quiet,
        } => run(scenario.as_deref(), out, seed, duration, quiet),
        Command::Validate { scenarios } => validate(&scenarios),
        Command::Catalog => {
            print!("{}", table::render_catalog());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("capsim: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(
    path: Option<&Path>,
    out: Option<PathBuf>,
    seed: Option<u64>,
    duration: Option<SimDuration>,
    quiet: bool,
) -> Result<(), String> {
    let scenario = match path {
        Some(path) => Scenario::load(path),
        None => Scenario::from_yaml_str(REFERENCE_SCENARIO, REFERENCE_NAME),
    }
    .map_err(|e| e.to_string())?
    .with_overrides(seed, duration)
    .map_err(|e| e.to_string())?;
    let out = out.unwrap_or_else(|| Path::new("outputs").join(&scenario.name));
    let report = run_to_dir(&scenario, &out)
        .map_err(|e| format!("writing results to {}: {e}", out.display()))?;
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

fn validate(paths: &[PathBuf]) -> Result<(), String> {
    for path in paths {
        let scenario = Scenario::load(path).map_err(|e| e.to_string())?;
        println!(
            "{}: ok ({}: {} node pools, {} services, {} simulated)",
            path.display(),
            scenario.name,
            scenario.node_pools.len(),
            scenario.services.len(),
            scenario.duration
        );
    }
    Ok(())
}

fn parse_duration_arg(text: &str) -> Result<SimDuration, String> {
    let duration = scenario::parse_duration(text)?;
    if duration == SimDuration::ZERO {
        return Err("the duration must be positive".into());
    }
    Ok(duration)
}
