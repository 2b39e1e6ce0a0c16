//! The page around the sections: HTML escaping, the document skeleton with its inline style and
//! its one small script, and tables.
//!
//! Use `escape` for every piece of text that comes from a file, `Table` for every table (each
//! is sortable by clicking a column header), and `document` to wrap the sections into the
//! whole page. Nothing here reads files or knows what a run or a sweep is.
//!
//! The page references nothing outside itself: the style and the script are inline, and no
//! element has a `src` or an `href` other than a fragment (`#section`).

use std::fmt::Write as _;

/// `text` with the five characters HTML gives a meaning to replaced by entities, safe in
/// element content and in quoted attribute values.
///
/// Written here rather than taken from a crate: five replacements, tested below.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A table: a header row and body rows of plain text (escaped when rendered).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// The `id` attribute (none when empty), which tests and links use.
    pub id: String,
    /// Column headers.
    pub headers: Vec<String>,
    /// Rows of cells, each as long as `headers`.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these headers and no rows yet.
    pub fn new(id: &str, headers: &[&str]) -> Table {
        Table {
            id: id.to_string(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// A table whose first row (as `report::table` builds its blocks) is the header.
    pub fn from_rows(id: &str, mut rows: Vec<Vec<String>>) -> Table {
        let headers = if rows.is_empty() {
            Vec::new()
        } else {
            rows.remove(0)
        };
        Table {
            id: id.to_string(),
            headers,
            rows,
        }
    }

    /// The table as HTML, sortable by its headers. Cells that hold a number are right-aligned.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let id = if self.id.is_empty() {
            String::new()
        } else {
            format!(" id=\"{}\"", escape(&self.id))
        };
        let _ = write!(out, "<table class=\"sortable\"{id}><thead><tr>");
        for h in &self.headers {
            let _ = write!(out, "<th title=\"sort\">{}</th>", escape(h));
        }
        out.push_str("</tr></thead><tbody>\n");
        for row in &self.rows {
            out.push_str("<tr>");
            for cell in row {
                if is_number(cell) {
                    let _ = write!(out, "<td class=\"n\">{}</td>", escape(cell));
                } else {
                    let _ = write!(out, "<td>{}</td>", escape(cell));
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table>\n");
        out
    }
}

/// Whether a cell reads as a number (for alignment; the script sorts the same way).
fn is_number(cell: &str) -> bool {
    let cell = cell.trim().trim_end_matches('%');
    !cell.is_empty() && cell.parse::<f64>().is_ok()
}

/// The whole page: `title`, a table of contents of `(anchor, heading)` pairs, then `body`.
pub fn document(title: &str, contents: &[(String, String)], body: &str) -> String {
    let mut out = String::with_capacity(body.len() + STYLE.len() + SCRIPT.len() + 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(out, "<header><h1>{}</h1>", escape(title));
    if !contents.is_empty() {
        out.push_str("<nav>");
        for (anchor, heading) in contents {
            let _ = write!(
                out,
                "<a href=\"#{}\">{}</a> ",
                escape(anchor),
                escape(heading)
            );
        }
        out.push_str("</nav>");
    }
    out.push_str("</header>\n<main>\n");
    out.push_str(body);
    out.push_str("</main>\n<footer>Written by capsim ");
    out.push_str(env!("CARGO_PKG_VERSION"));
    out.push_str(" from the folder's files; click a column header to sort a table.</footer>\n");
    let _ = writeln!(out, "<script>{SCRIPT}</script>\n</body>\n</html>");
    out
}

/// A section with an anchor and a heading.
pub fn section(anchor: &str, heading: &str, content: &str) -> String {
    format!(
        "<section id=\"{}\">\n<h2>{}</h2>\n{content}</section>\n",
        escape(anchor),
        escape(heading)
    )
}

/// A paragraph of escaped text.
pub fn paragraph(text: &str) -> String {
    format!("<p>{}</p>\n", escape(text))
}

/// A chart: an SVG document drawn by `plot`, inline, with a caption.
pub fn figure(svg: &str, caption: &str) -> String {
    format!(
        "<figure>{}\n<figcaption>{}</figcaption></figure>\n",
        svg.trim(),
        escape(caption)
    )
}

/// The page's style: readable tables, charts as wide as the page.
const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#24364b;color:#fff;padding:12px 24px}
header h1{margin:0 0 6px 0;font-size:22px}
nav a{color:#cfe0f5;margin-right:14px;font-size:14px;text-decoration:none}
main{padding:8px 24px;max-width:1500px}
section{background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:4px 18px 14px;margin:14px 0;overflow-x:auto}
h2{font-size:19px;border-bottom:1px solid #eee;padding-bottom:4px}
h3{font-size:16px;margin:16px 0 6px}
.folder>h2{font-size:21px;background:#eef3f8;padding:8px;border:none}
table{border-collapse:collapse;font-size:13px;margin:6px 0 10px}
th,td{border:1px solid #ddd;padding:3px 8px;vertical-align:top}
th{background:#f1f4f7;cursor:pointer;user-select:none;white-space:nowrap}
th.asc::after{content:' \\25B2'}th.desc::after{content:' \\25BC'}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td:first-child{white-space:nowrap}
tbody tr:nth-child(even){background:#fafbfc}
figure{margin:10px 0}
figure svg{max-width:min(100%,1200px);height:auto;border:1px solid #eee}
figcaption{font-size:13px;color:#555}
.note{color:#666;font-size:13px}
details{font-size:13px}
footer{color:#777;font-size:12px;padding:10px 24px 24px}
";

/// Sorts a table's rows when its header is clicked: a cell that starts with a number by that
/// number (`41.2 [40.1, 42.3]` by 41.2), `h:mm:ss` times by their seconds, other text as text
/// (digit runs compared as numbers); a second click reverses the order.
const SCRIPT: &str = "
document.querySelectorAll('table.sortable th').forEach(function(th){
th.addEventListener('click',function(){
var table=th.closest('table'),body=table.tBodies[0],col=th.cellIndex;
var asc=!th.classList.contains('asc');
table.querySelectorAll('th').forEach(function(h){h.classList.remove('asc','desc');});
th.classList.add(asc?'asc':'desc');
var key=function(tr){var t=tr.cells[col]?tr.cells[col].textContent.trim():'';
var c=/^([0-9]+):([0-9][0-9]):([0-9.]+)$/.exec(t);
if(c){return 3600*c[1]+60*c[2]+parseFloat(c[3]);}
var n=parseFloat(t);return (/^-?[0-9]/.test(t)&&!isNaN(n))?n:t;};
var rows=Array.prototype.slice.call(body.rows);
rows.sort(function(a,b){var x=key(a),y=key(b),c;
if(typeof x==='number'&&typeof y==='number'){c=x-y;}
else{c=String(x).localeCompare(String(y),undefined,{numeric:true});}
return asc?c:-c;});
rows.forEach(function(r){body.appendChild(r);});
});});
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_replaces_every_special_character() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("0/3 nodes"), "0/3 nodes");
    }

    #[test]
    fn tables_escape_cells_and_right_align_numbers() {
        let mut table = Table::new("t", &["name", "p99 ms"]);
        table.rows.push(vec!["<web>".into(), "12.50".into()]);
        table.rows.push(vec!["api".into(), "80%".into()]);
        let html = table.render();
        assert!(
            html.starts_with("<table class=\"sortable\" id=\"t\">"),
            "{html}"
        );
        assert!(html.contains("<td>&lt;web&gt;</td><td class=\"n\">12.50</td>"));
        assert!(html.contains("<td class=\"n\">80%</td>"));
        assert_eq!(html.matches("<tr>").count(), 3);
    }

    #[test]
    fn the_page_fetches_nothing() {
        let page = document(
            "r",
            &[("a".into(), "A".into())],
            &section("a", "A", "<p>x</p>"),
        );
        assert!(page.contains("<a href=\"#a\">A</a>"));
        assert!(!page.contains("http"));
        assert!(!page.contains(" src="));
    }
}
