//! Standard output and standard error for the command line: a write that fails (a full disk, a
//! closed pipe) is an error the command reports in one line and exits 2 on, never a panic.

use std::io::{self, Write};

/// Writes `text` to standard output and flushes it.
///
/// # Errors
/// The write failed: the message says so and what capsim needs.
pub(crate) fn print(text: &str) -> Result<(), String> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("standard output: {e}; expected somewhere to write the results"))
}

/// Writes `line` and a newline to standard error. A failure is ignored: there is nowhere left
/// to report it, and the command's results do not depend on it.
pub(crate) fn note(line: &str) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}
