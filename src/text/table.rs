//! Aligned text columns for the terminal: the summary table after a run, the machine catalog.
//!
//! Use `push_columns` with the header as the first row; it pads every column to its widest
//! cell. It knows nothing of what the cells mean.

use std::fmt::Write as _;

/// Appends `rows` with columns padded to their widest cell; the first column left-aligned,
/// numbers right-aligned.
pub fn push_columns(out: &mut String, rows: &[Vec<String>]) {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c == 0 {
                let _ = write!(line, "{cell:<w$}", w = widths[c]);
            } else {
                let _ = write!(line, "  {cell:>w$}", w = widths[c]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_pad_to_the_widest_cell_numbers_to_the_right() {
        let rows = [
            vec!["pool".to_string(), "nodes".into()],
            vec!["compute-optimized".into(), "3".into()],
            vec!["mem".into(), "10".into()],
        ];
        let mut out = String::new();
        push_columns(&mut out, &rows);
        assert_eq!(
            out,
            "pool               nodes\ncompute-optimized      3\nmem                   10\n"
        );
    }
}
