//! `capsim report`: one self-contained HTML file describing a run or sweep folder, or two of
//! them one after the other.
//!
//! Use `write_report` for what the command does (`report.html` in the first folder unless told
//! otherwise), `render` for the page as a string. A run folder's report holds the scenario in
//! words, the summary tables (the terminal's figures), the run's chart, the timeline of every
//! decision and, per service, the pods that waited and why; a sweep folder's holds what was
//! swept, the Pareto charts, the charts against each parameter, the heat maps and the points
//! table. Tables sort by a click on a column header.
//!
//! **Invariant:** reads a folder's files only through `report`'s record types (and `plot`'s
//! charts, drawn in memory from the same files); writes one file; the page references nothing
//! outside itself (inline style, inline SVG, one small inline script, fragment links only), and
//! the same files give the same bytes.

use std::io;
use std::path::{Path, PathBuf};

use crate::plot::PlotError;
use crate::report::ReadError;
use crate::report::files::{REPORT_HTML, SUMMARY_JSON, SWEEP_JSON, write_atomically};

pub mod compare;
pub mod page;
mod run;
mod sweep;
mod timeline;
mod waiting;

pub use compare::ComparisonRow;

/// One section of a folder's report, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Section {
    /// The `id` the table of contents links to.
    pub(crate) anchor: String,
    /// The heading, also the link's text.
    pub(crate) heading: String,
    /// The whole `<section>` element.
    pub(crate) html: String,
}

impl Section {
    /// The section `heading` with id `anchor` around `content`.
    pub(crate) fn new(anchor: String, heading: &str, content: &str) -> Section {
        let html = page::section(&anchor, heading, content);
        Section {
            anchor,
            heading: heading.to_string(),
            html,
        }
    }
}

/// Why a report could not be made. Each variant names the file or folder concerned.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    /// A file the folder must hold is missing or malformed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A chart could not be drawn from the folder's files.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// The folder holds neither a run nor a sweep.
    #[error(
        "{}: not a run folder (no summary.json) nor a sweep folder (no sweep.json); give a \
         folder written by capsim run or capsim sweep",
        path.display()
    )]
    NotAFolder {
        /// The folder.
        path: PathBuf,
    },
    /// Writing the report failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The report file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
}

/// The report of `dirs` (one folder, or two to be shown one after the other) as one HTML page;
/// `comparison` holds the rows of a comparison of the two, shown first (see `compare`).
///
/// # Errors
/// A folder that is neither a run nor a sweep folder, or a missing or malformed file in one.
pub fn render(dirs: &[&Path], comparison: &[ComparisonRow]) -> Result<String, HtmlError> {
    let mut contents = Vec::new();
    let mut body = compare::comparison_section(comparison);
    if !body.is_empty() {
        contents.push(("comparison".to_string(), "A against B".to_string()));
    }
    let labelled = dirs.len() > 1;
    let mut names = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        let label = if labelled {
            format!("{} ", (b'A' + i as u8) as char)
        } else {
            String::new()
        };
        let prefix = if labelled {
            format!("{}-", (b'a' + i as u8) as char)
        } else {
            String::new()
        };
        let (name, sections) = folder_sections(dir, &prefix)?;
        names.push(name);
        let mut folder = String::new();
        if labelled {
            folder.push_str(&format!(
                "<div class=\"folder\" id=\"{prefix}folder\">\n<h2>{}: {}</h2>\n",
                label.trim_end(),
                page::escape(&dir.display().to_string())
            ));
        }
        for section in sections {
            contents.push((section.anchor, format!("{label}{}", section.heading)));
            folder.push_str(&section.html);
        }
        if labelled {
            folder.push_str("</div>\n");
        }
        body.push_str(&folder);
    }
    let title = format!("capsim report: {}", names.join(" and "));
    Ok(page::document(&title, &contents, &body))
}

/// The name (scenario, and what kind of folder) and the sections of one folder.
fn folder_sections(dir: &Path, prefix: &str) -> Result<(String, Vec<Section>), HtmlError> {
    if dir.join(SUMMARY_JSON).is_file() {
        let files = run::RunFiles::read(dir)?;
        let name = format!("run of {}", files.summary.scenario);
        Ok((name, run::sections(&files, prefix)))
    } else if dir.join(SWEEP_JSON).is_file() {
        let files = sweep::SweepFiles::read(dir)?;
        let name = format!("sweep of {}", files.info.scenario);
        Ok((name, sweep::sections(&files, prefix)))
    } else {
        Err(HtmlError::NotAFolder {
            path: dir.to_path_buf(),
        })
    }
}

/// Where the report of a folder goes by default: `DIR/report.html`.
pub fn default_path(dir: &Path) -> PathBuf {
    dir.join(REPORT_HTML)
}

/// Writes the report of `dirs` to `out` (by default `report.html` in the first folder);
/// returns the file written.
///
/// # Errors
/// As `render`, or the file cannot be written.
pub fn write_report(
    dirs: &[&Path],
    out: Option<&Path>,
    comparison: &[ComparisonRow],
) -> Result<PathBuf, HtmlError> {
    let html = render(dirs, comparison)?;
    let path = match (out, dirs.first()) {
        (Some(out), _) => out.to_path_buf(),
        (None, Some(dir)) => default_path(dir),
        (None, None) => default_path(Path::new(".")),
    };
    write_atomically(&path, &html).map_err(|source| HtmlError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Removes `DIR/report.html` if there is one, so that a folder whose results changed does not
/// keep a report of earlier ones.
///
/// # Errors
/// Any I/O error but the file's absence.
pub fn remove_stale_report(dir: &Path) -> Result<(), HtmlError> {
    let path = default_path(dir);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(HtmlError::Io { path, source: e }),
        _ => Ok(()),
    }
}
