//! A small reader for the CSV files capsim writes: a header line, then rows of plain cells.
//!
//! capsim's cells never hold quotes, commas or newlines (numbers, DNS labels, YAML scalars), so
//! a line is split on commas and nothing more; a `csv` crate would add quoting rules these files
//! never use. Use `Csv::parse` and then `Csv::numbers` for a numeric column; every error names
//! the file, the line and the column. This reader does not know what the columns mean.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::plot::PlotError;

/// A parsed CSV file.
#[derive(Debug, Clone)]
pub(crate) struct Csv {
    /// The file, for error messages.
    pub(crate) path: PathBuf,
    /// Column names, in order.
    pub(crate) header: Vec<String>,
    /// Data rows, each with as many cells as the header.
    pub(crate) rows: Vec<Row>,
    index: HashMap<String, usize>,
}

/// One data row.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// 1-based line number in the file.
    pub(crate) line: usize,
    /// The cells, as written.
    pub(crate) cells: Vec<String>,
}

impl Csv {
    /// Parses `text`, read from `path`. Blank lines are skipped; every other line must have as
    /// many cells as the header.
    ///
    /// # Errors
    /// An empty file, an empty or duplicated column name, or a row with the wrong number of
    /// cells.
    pub(crate) fn parse(path: &Path, text: &str) -> Result<Csv, PlotError> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((header_line, header)) = lines.next() else {
            return Err(csv_error(path, 1, "empty file: expected a header line"));
        };
        let header: Vec<String> = header.split(',').map(|c| c.trim().to_string()).collect();
        let mut index = HashMap::new();
        for (i, name) in header.iter().enumerate() {
            if name.is_empty() {
                return Err(csv_error(
                    path,
                    header_line,
                    format!("column {} has no name", i + 1),
                ));
            }
            if index.insert(name.clone(), i).is_some() {
                return Err(csv_error(
                    path,
                    header_line,
                    format!("duplicate column {name}"),
                ));
            }
        }
        let mut rows = Vec::new();
        for (line, text) in lines {
            let cells: Vec<String> = text.split(',').map(|c| c.trim().to_string()).collect();
            if cells.len() != header.len() {
                return Err(csv_error(
                    path,
                    line,
                    format!(
                        "expected {} cells as in the header, found {}",
                        header.len(),
                        cells.len()
                    ),
                ));
            }
            rows.push(Row { line, cells });
        }
        Ok(Csv {
            path: path.to_path_buf(),
            header,
            rows,
            index,
        })
    }

    /// The index of column `name`.
    pub(crate) fn column(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The index of column `name`, or an error naming it.
    ///
    /// # Errors
    /// When the header has no such column.
    pub(crate) fn require(&self, name: &str) -> Result<usize, PlotError> {
        self.column(name)
            .ok_or_else(|| self.error(1, format!("missing column {name}")))
    }

    /// Every row's value in column `col`, as numbers; an empty cell is NaN (no value).
    ///
    /// # Errors
    /// A cell that is neither empty nor a number, naming its line and column.
    pub(crate) fn numbers(&self, col: usize) -> Result<Vec<f64>, PlotError> {
        self.rows.iter().map(|row| self.number(row, col)).collect()
    }

    /// One cell as a number; an empty cell is NaN.
    ///
    /// # Errors
    /// A cell that is neither empty nor a number.
    pub(crate) fn number(&self, row: &Row, col: usize) -> Result<f64, PlotError> {
        let cell = &row.cells[col];
        if cell.is_empty() {
            return Ok(f64::NAN);
        }
        cell.parse::<f64>().map_err(|_| {
            self.error(
                row.line,
                format!("column {}: not a number: {cell:?}", self.header[col]),
            )
        })
    }

    /// An error at `line` of this file.
    pub(crate) fn error(&self, line: usize, message: impl Into<String>) -> PlotError {
        csv_error(&self.path, line, message)
    }
}

fn csv_error(path: &Path, line: usize, message: impl Into<String>) -> PlotError {
    PlotError::Csv {
        path: path.to_path_buf(),
        line,
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Csv, PlotError> {
        Csv::parse(Path::new("t.csv"), text)
    }

    #[test]
    fn reads_header_rows_and_empty_cells() {
        let csv = parse("a,b,c\r\n1,,x\n\n2.5,3,y\n").unwrap();
        assert_eq!(csv.header, ["a", "b", "c"]);
        assert_eq!(csv.rows.len(), 2);
        // The blank line 3 is skipped but still counted.
        assert_eq!(csv.rows[1].line, 4);
        let b = csv.numbers(csv.require("b").unwrap()).unwrap();
        assert!(b[0].is_nan());
        assert_eq!(b[1], 3.0);
        assert_eq!(csv.numbers(0).unwrap(), [1.0, 2.5]);
    }

    #[test]
    fn errors_name_the_file_line_and_column() {
        let cases = [
            ("", "t.csv: line 1: empty file: expected a header line"),
            ("a,,c\n", "t.csv: line 1: column 2 has no name"),
            ("a,b,a\n", "t.csv: line 1: duplicate column a"),
            (
                "a,b\n1,2\n1,2,3\n",
                "t.csv: line 3: expected 2 cells as in the header, found 3",
            ),
            (
                "a,b\n1\n",
                "t.csv: line 2: expected 2 cells as in the header, found 1",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text).unwrap_err().to_string(), want, "{text:?}");
        }
        let csv = parse("a,b\n1,2\n3,abc\n").unwrap();
        assert_eq!(
            csv.numbers(1).unwrap_err().to_string(),
            "t.csv: line 3: column b: not a number: \"abc\""
        );
        assert_eq!(
            csv.require("z").unwrap_err().to_string(),
            "t.csv: line 1: missing column z"
        );
    }
}
