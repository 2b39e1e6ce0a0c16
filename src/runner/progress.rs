//! How far a run has come, shown on standard error while it goes on: simulated time, events per
//! second and the wall time left.
//!
//! Use `RunProgress::new` before the run, `RunProgress::update` from the run's progress callback
//! (`runner::run_to_dir_watched`), and `RunProgress::finish` after it. On a terminal it is one
//! bar that redraws in place; otherwise (a CI log, a file) one plain line at each tenth of the
//! simulated duration, so a log gets ten lines however long the run. Nothing is shown when
//! `show` is false (`--quiet`). It only reads the wall clock; the run's results never depend on
//! it.

use std::io::{IsTerminal, Write as _};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::units::SimDuration;

/// Plain lines per run when standard error is not a terminal: one at each tenth.
const PLAIN_LINES: u32 = 10;

/// Progress of one run on standard error.
#[derive(Debug)]
pub struct RunProgress {
    duration_s: f64,
    started: Instant,
    bar: Option<ProgressBar>,
    plain: bool,
    /// The next tenth (1..=10) a plain line is due at.
    next_tenth: u32,
}

impl RunProgress {
    /// Progress of a run of `duration`: a bar on a terminal, plain lines otherwise, nothing
    /// when `show` is false.
    pub fn new(duration: SimDuration, show: bool) -> RunProgress {
        let terminal = std::io::stderr().is_terminal();
        let duration_s = duration.as_secs_f64();
        let bar = (show && terminal).then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(duration_s.ceil() as u64),
                ProgressDrawTarget::stderr_with_hz(4),
            );
            if let Ok(style) = ProgressStyle::with_template("{bar:30} {msg}") {
                bar.set_style(style);
            }
            bar
        });
        RunProgress {
            duration_s,
            started: Instant::now(),
            bar,
            plain: show && !terminal,
            next_tenth: 1,
        }
    }

    /// The run has simulated `simulated_s` seconds with `events_processed` events so far.
    pub fn update(&mut self, simulated_s: f64, events_processed: u64) {
        if self.bar.is_none() && !self.plain {
            return;
        }
        let wall_s = self.started.elapsed().as_secs_f64();
        if let Some(bar) = &self.bar {
            bar.set_position(simulated_s as u64);
            bar.set_message(status_line(
                simulated_s,
                self.duration_s,
                events_processed,
                wall_s,
            ));
            return;
        }
        if !self.tenth_reached(simulated_s) {
            return;
        }
        while self.tenth_reached(simulated_s) {
            self.next_tenth += 1;
        }
        let _ = writeln!(
            std::io::stderr(),
            "run: {}",
            status_line(simulated_s, self.duration_s, events_processed, wall_s)
        );
    }

    /// Whether `simulated_s` has reached the next tenth a plain line is due at.
    fn tenth_reached(&self, simulated_s: f64) -> bool {
        let due = self.duration_s * f64::from(self.next_tenth) / f64::from(PLAIN_LINES);
        self.next_tenth <= PLAIN_LINES && simulated_s + 1e-9 >= due
    }

    /// The run is over: the bar is cleared (the run's own last line follows).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `simulated 2h0m0s of 24h0m0s (8%), 47.9M events, 13.2M events/s, ETA 40 s`: where the run
/// is, its speed, and the wall time left at that speed.
pub fn status_line(
    simulated_s: f64,
    duration_s: f64,
    events_processed: u64,
    wall_s: f64,
) -> String {
    let fraction = if duration_s > 0.0 {
        (simulated_s / duration_s).clamp(0.0, 1.0)
    } else {
        1.0
    };
    let rate = if wall_s > 0.0 {
        events_processed as f64 / wall_s
    } else {
        0.0
    };
    let eta = if fraction > 0.0 {
        format!("{:.0} s", wall_s * (1.0 - fraction) / fraction)
    } else {
        "unknown".to_string()
    };
    format!(
        "simulated {} of {} ({:.0}%), {} events, {} events/s, ETA {eta}",
        SimDuration::from_secs_f64(simulated_s.round()),
        SimDuration::from_secs_f64(duration_s),
        fraction * 100.0,
        count(events_processed as f64),
        count(rate),
    )
}

/// A count in the units people read: `950`, `48.2k`, `574.7M`.
fn count(x: f64) -> String {
    if x >= 1e9 {
        format!("{:.1}G", x / 1e9)
    } else if x >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_line_says_where_how_fast_and_how_long() {
        let line = status_line(7_200.0, 86_400.0, 47_900_000, 4.0);
        assert_eq!(
            line,
            "simulated 2h0m0s of 24h0m0s (8%), 47.9M events, 12.0M events/s, ETA 44 s"
        );
    }

    #[test]
    fn status_line_before_any_progress_has_no_eta() {
        let line = status_line(0.0, 600.0, 0, 0.0);
        assert!(line.ends_with("ETA unknown"), "{line}");
        assert!(line.contains("(0%)"), "{line}");
    }

    #[test]
    fn counts_use_thousands_millions_and_billions() {
        assert_eq!(count(950.0), "950");
        assert_eq!(count(48_210.0), "48.2k");
        assert_eq!(count(574_700_000.0), "574.7M");
        assert_eq!(count(2.5e9), "2.5G");
    }
}
