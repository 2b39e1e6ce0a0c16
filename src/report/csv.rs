//! Reading the CSV files capsim writes: a header line, then rows of cells, with RFC 4180 quoting
//! (a sweep parameter's value may be a YAML flow map such as `"{cpu: 8, memory: 32Gi}"`).
//!
//! Use `CsvFile::parse`, then `CsvFile::cell` for a typed cell; every error names the file, the
//! line and the column. The parsing itself is the `csv` crate's; this file adds the line
//! numbers, the checks and the messages. It does not know what the columns mean: the record
//! types of `timeseries` and `sweep_files` do.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::report::files::ReadError;

/// A parsed CSV file.
#[derive(Debug, Clone)]
pub(crate) struct CsvFile {
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
    /// The cells, unquoted, without surrounding spaces.
    pub(crate) cells: Vec<String>,
}

impl CsvFile {
    /// Parses `text`, read from `path`. Blank lines are skipped; every other line must have as
    /// many cells as the header.
    ///
    /// # Errors
    /// An empty file, an empty or duplicated column name, a row with the wrong number of cells,
    /// or text the CSV grammar rejects.
    pub(crate) fn parse(path: &Path, text: &str) -> Result<CsvFile, ReadError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        // Line numbers are counted here from byte offsets: the `csv` crate does not count the
        // blank lines it skips, and a record's position is where they start.
        let bytes = text.as_bytes();
        let mut counted = (0, 1);
        let mut line_at = |byte: u64| {
            let mut byte = (byte as usize).min(bytes.len());
            while byte < bytes.len() && matches!(bytes[byte], b'\r' | b'\n') {
                byte += 1;
            }
            let (from, line) = counted;
            counted = (
                byte,
                line + bytes[from..byte].iter().filter(|&&b| b == b'\n').count(),
            );
            counted.1
        };
        let mut lines = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(1, |p| line_at(p.byte()));
                csv_error(path, line, e.to_string())
            })?;
            // A line of spaces is a blank line, not a row of one empty cell.
            if record.len() == 1 && record[0].is_empty() {
                continue;
            }
            let line = record.position().map_or(1, |p| line_at(p.byte()));
            lines.push(Row {
                line,
                cells: record.iter().map(str::to_string).collect(),
            });
        }
        let mut lines = lines.into_iter();
        let Some(Row {
            line: header_line,
            cells: header,
        }) = lines.next()
        else {
            return Err(csv_error(path, 1, "empty file: expected a header line"));
        };
        let mut index = HashMap::new();
        for (i, name) in header.iter().enumerate() {
            if name.is_empty() {
                let message = format!("column {} has no name", i + 1);
                return Err(csv_error(path, header_line, message));
            }
            if index.insert(name.clone(), i).is_some() {
                return Err(csv_error(
                    path,
                    header_line,
                    format!("duplicate column {name}"),
                ));
            }
        }
        let rows: Vec<Row> = lines.collect();
        if let Some(row) = rows.iter().find(|r| r.cells.len() != header.len()) {
            let message = format!(
                "expected {} cells as in the header, found {}",
                header.len(),
                row.cells.len()
            );
            return Err(csv_error(path, row.line, message));
        }
        Ok(CsvFile {
            path: path.to_path_buf(),
            header,
            rows,
            index,
        })
    }

    /// The index of column `name`, or an error naming it.
    ///
    /// # Errors
    /// When the header has no such column.
    pub(crate) fn require(&self, name: &str) -> Result<usize, ReadError> {
        self.index
            .get(name)
            .copied()
            .ok_or_else(|| self.error(1, format!("missing column {name}")))
    }

    /// One cell parsed as a `T`; `what` says what it must be ("a whole number").
    ///
    /// # Errors
    /// A cell that does not parse, naming its line and column.
    pub(crate) fn cell<T: FromStr>(
        &self,
        row: &Row,
        col: usize,
        what: &str,
    ) -> Result<T, ReadError> {
        let cell = &row.cells[col];
        cell.parse::<T>().map_err(|_| {
            self.error(
                row.line,
                format!("column {}: not {what}: {cell:?}", self.header[col]),
            )
        })
    }

    /// An error at `line` of this file.
    pub(crate) fn error(&self, line: usize, message: impl Into<String>) -> ReadError {
        csv_error(&self.path, line, message)
    }
}

fn csv_error(path: &Path, line: usize, message: impl Into<String>) -> ReadError {
    ReadError::Csv {
        path: path.to_path_buf(),
        line,
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<CsvFile, ReadError> {
        CsvFile::parse(Path::new("t.csv"), text)
    }

    #[test]
    fn reads_header_rows_quoted_and_empty_cells() {
        let csv = parse("a,b,c\r\n1,,x\n\n2.5,3,\"{x: 1, y: \"\"q\"\"}\"\n").unwrap();
        assert_eq!(csv.header, ["a", "b", "c"]);
        assert_eq!(csv.rows.len(), 2);
        // The blank line 3 is skipped but still counted.
        assert_eq!(csv.rows[1].line, 4);
        assert_eq!(csv.rows[1].cells[2], "{x: 1, y: \"q\"}");
        // Leading blank lines, and a quoted cell over two lines, count in line numbers.
        let spread = parse("\n\na,b\n\"x\ny\",1\n\n2,3\n").unwrap();
        let lines: Vec<usize> = spread.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [4, 7]);
        assert_eq!(spread.rows[0].cells[0], "x\ny");
        assert_eq!(
            parse("\na,b\n1,2\n\n3\n").unwrap_err().to_string(),
            "t.csv: line 5: expected 2 cells as in the header, found 1"
        );
        let b = csv.require("b").unwrap();
        assert_eq!(csv.rows[0].cells[b], "");
        assert_eq!(csv.cell::<f64>(&csv.rows[1], 0, "a number").unwrap(), 2.5);
        assert_eq!(
            csv.cell::<u32>(&csv.rows[1], b, "a whole number").unwrap(),
            3
        );
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
            csv.cell::<f64>(&csv.rows[1], 1, "a number")
                .unwrap_err()
                .to_string(),
            "t.csv: line 3: column b: not a number: \"abc\""
        );
        assert_eq!(
            csv.cell::<u32>(&csv.rows[0], 0, "a whole number")
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Ok(())
        );
        assert_eq!(
            csv.require("z").unwrap_err().to_string(),
            "t.csv: line 1: missing column z"
        );
    }
}
