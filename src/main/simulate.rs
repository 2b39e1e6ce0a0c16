//! The commands that simulate (`run`, `sweep`, `merge` of a sweep's shards, `check`) and what
//! they share: the scenario document with the command line's edits, and the charts and report
//! written after the results.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use capsim::check::{self, BaselineOptions, CheckOptions};
use capsim::html;
use capsim::plot;
use capsim::report::files::{TIMESERIES_CSV, write_atomically};
use capsim::report::openmetrics::{self, RunLabels};
use capsim::report::table;
use capsim::runner::progress::RunProgress;
use capsim::runner::run_to_dir_watched;
use capsim::scenario::budget::Limits;
use capsim::scenario::model::SweepDimension;
use capsim::scenario::{Document, Override, Scenario};
use capsim::sweep::{self, Plan, SweepOptions};

use crate::{Edits, OpenMetricsArgs, Outputs, REFERENCE_NAME, REFERENCE_SCENARIO, fail};

/// The scenario document with the command line's edits applied.
pub(crate) fn document(path: Option<&Path>, edits: &Edits) -> Result<Document, String> {
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

/// Validates the document and holds the run to `limits`, printing the warnings validation
/// gives.
pub(crate) fn scenario_of(document: &Document, limits: Limits) -> Result<Scenario, String> {
    let (scenario, warnings) = document
        .scenario_within(limits)
        .map_err(|e| e.to_string())?;
    warn(&warnings);
    Ok(scenario)
}

/// Draws a folder's charts and writes its report (or removes an earlier report), after its
/// results are complete.
///
/// # Errors
/// A chart or the report cannot be written (a full disk): the message says that the results
/// are complete and which command makes what is missing; a report of earlier results is not
/// left beside charts that failed.
pub(crate) fn finish(
    dir: &Path,
    outputs: Outputs,
    charts: fn(&Path) -> Result<Vec<PathBuf>, plot::PlotError>,
) -> Result<(), String> {
    let complete = format!("the results in {} are complete", dir.display());
    if !outputs.no_plots
        && let Err(e) = charts(dir)
    {
        let _ = html::remove_stale_report(dir);
        return Err(format!(
            "{e}; {complete}: capsim plot {} draws the charts again",
            dir.display()
        ));
    }
    if outputs.no_report {
        html::remove_stale_report(dir).map_err(|e| format!("{e}; {complete}"))
    } else {
        html::write_report(&[dir], None, &[])
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "{e}; {complete}: capsim report {} writes the report again",
                    dir.display()
                )
            })
    }
}

pub(crate) fn run(
    path: Option<&Path>,
    out: Option<PathBuf>,
    edits: &Edits,
    quiet: bool,
    outputs: Outputs,
    openmetrics: &OpenMetricsArgs,
) -> Result<(), String> {
    let scenario = scenario_of(&document(path, edits)?, edits.size.limits())?;
    let out = out.unwrap_or_else(|| Path::new("outputs").join(&scenario.name));
    folder_for_results(&out)?;
    let openmetrics_start = openmetrics_start(openmetrics, &scenario)?;
    let mut progress = RunProgress::new(scenario.duration, !quiet);
    let report = run_to_dir_watched(&scenario, &out, |simulated_s, events| {
        progress.update(simulated_s, events);
    });
    progress.finish();
    let report = report.map_err(|e| {
        format!(
            "writing results to {}: {e}; nothing of the run is kept",
            out.display()
        )
    })?;
    finish(&out, outputs, plot::plot_run)?;
    if let (Some(file), Some(start)) = (&openmetrics.openmetrics, openmetrics_start) {
        let labels = RunLabels {
            scenario: scenario.name.clone(),
            seed: scenario.seed,
        };
        let text = openmetrics::from_timeseries(&out.join(TIMESERIES_CSV), &labels, start)
            .map_err(|e| e.to_string())?;
        write_atomically(file, &text).map_err(|e| {
            format!(
                "--openmetrics {}: {e}; the results in {} are complete",
                file.display(),
                out.display()
            )
        })?;
    }
    if !quiet {
        let table = table::render(&report.outcome.summary);
        crate::out::print(&format!("{table}results: {}\n", out.display()))?;
    }
    let info = &report.info;
    note!(
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

pub(crate) fn sweep(
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
    let plan = Plan::new(&document, params, edits.size.limits()).map_err(|e| e.to_string())?;
    warn(&plan.warnings);
    if options.out.as_os_str().is_empty() {
        options.out = Path::new("outputs").join(format!("{}-sweep", plan.scenario));
    }
    folder_for_results(&options.out)?;
    if let Some((index, count)) = options.shard {
        note!(
            "sweep {}: shard {index}/{count}: {} of {} runs",
            plan.scenario,
            plan.shard(index, count).len(),
            plan.runs.len()
        );
    }
    let report = sweep::run(&plan, &options).map_err(|e| e.to_string())?;
    finish(&options.out, outputs, plot::plot_sweep)?;
    if report.runs_discarded > 0 {
        note!(
            "sweep: removed {} runs of an earlier sweep from {} (use --resume to keep them)",
            report.runs_discarded,
            options.out.display()
        );
    }
    note!(
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
pub(crate) fn merge(dirs: &[PathBuf], out: &Path, allow_partial: bool) -> ExitCode {
    let merged = match sweep::merge(dirs, out) {
        Ok(merged) => merged,
        Err(e) => return fail(&e.to_string()),
    };
    let outputs = Outputs {
        no_plots: false,
        no_report: false,
    };
    if let Err(e) = finish(out, outputs, plot::plot_sweep) {
        return fail(&e);
    }
    let missing = &merged.missing;
    if missing.is_empty() {
        note!("merged {} runs into {}", merged.runs, out.display());
        return ExitCode::SUCCESS;
    }
    note!(
        "merged {} runs into {}; {} runs missing from every folder: merge the other shards too",
        merged.runs,
        out.display(),
        missing.len()
    );
    for m in missing {
        note!(
            "  missing: run {} (point {}, replication {})",
            m.run,
            m.point,
            m.replication
        );
    }
    if allow_partial {
        ExitCode::SUCCESS
    } else {
        note!(
            "capsim: merge: {} runs missing; use --allow-partial to accept a partial merge",
            missing.len()
        );
        ExitCode::from(1)
    }
}

pub(crate) fn check(
    path: &Path,
    edits: &Edits,
    baseline: Option<BaselineOptions>,
    replications: Option<u32>,
    conservative: bool,
    junit: Option<PathBuf>,
    jobs: usize,
) -> ExitCode {
    let scenario =
        match document(Some(path), edits).and_then(|d| scenario_of(&d, edits.size.limits())) {
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
    if let Err(e) = crate::out::print(&check::render(&report)) {
        return fail(&e);
    }
    if let Some(file) = &options.junit
        && let Err(e) = write_atomically(file, &check::junit(&report))
    {
        return fail(&format!("{}: --junit: {e}", file.display()));
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Refuses an output folder that is a file, before anything runs.
fn folder_for_results(out: &Path) -> Result<(), String> {
    if out.exists() && !out.is_dir() {
        return Err(format!(
            "--out {}: is a file, not a folder; expected a folder for the results (created when \
             missing)",
            out.display()
        ));
    }
    Ok(())
}

/// Prints each warning on standard error.
pub(crate) fn warn(warnings: &[String]) {
    for w in warnings {
        note!("capsim: warning: {w}");
    }
}
