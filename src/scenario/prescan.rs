//! A linear pass over YAML text before the YAML parser reads it, refusing what the parser would
//! take too long or too much memory to refuse itself: nesting deeper than `MAX_DEPTH` levels
//! (the parser takes time quadratic in the depth to reach its own recursion limit), and aliases
//! that would repeat their anchors into more than `MAX_EXPANDED_NODES` nodes (the "billion
//! laughs": a few lines that expand to billions of values).
//!
//! Use `check` on any text before `serde_yaml` parses it. The pass knows just enough YAML to find
//! flow brackets, block indentation, `-` and `?` entries, anchors and aliases outside quoted
//! scalars, block scalars and comments; where it is unsure it counts a level too many rather than
//! one too few, so that nothing deep gets past it. It decides nothing else about the text.

/// The deepest nesting of lists and maps inside each other a YAML text may have: far above any
/// scenario or manifest (which nest about ten levels), and far below where the parser slows down.
pub(crate) const MAX_DEPTH: usize = 64;

/// The most values (scalars and collections) a text may make once its aliases are expanded, when
/// aliases are used: a million values is far beyond any scenario, and a bound on the memory a few
/// lines of anchors and aliases can ask for.
pub(crate) const MAX_EXPANDED_NODES: u64 = 1_000_000;

/// What the pass refuses, and where (1-based line and column, in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// 1-based line of the bracket, entry or alias that crosses the limit.
    pub(crate) line: usize,
    /// 1-based column, in characters.
    pub(crate) column: usize,
    /// What is wrong and what is allowed.
    pub(crate) kind: RefusalKind,
}

/// Which limit a text crosses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RefusalKind {
    /// Lists and maps nested more than `MAX_DEPTH` levels.
    TooDeep,
    /// The alias `name` here makes the expanded text more than `MAX_EXPANDED_NODES` values.
    TooManyNodes {
        /// The alias's name, without `*`.
        name: String,
    },
}

impl Refusal {
    /// What is wrong, for a message.
    pub(crate) fn problem(&self) -> String {
        match &self.kind {
            RefusalKind::TooDeep => {
                format!("lists and maps are nested more than {MAX_DEPTH} levels deep")
            }
            RefusalKind::TooManyNodes { name } => format!(
                "the alias {} makes the document more than {MAX_EXPANDED_NODES} values once its \
                 aliases are expanded",
                crate::scenario::error::shown(&format!("*{name}"))
            ),
        }
    }

    /// What is allowed, for a message.
    pub(crate) fn allowed(&self) -> String {
        match &self.kind {
            RefusalKind::TooDeep => {
                format!("expected at most {MAX_DEPTH} levels of lists and maps inside each other")
            }
            RefusalKind::TooManyNodes { .. } => format!(
                "expected anchors and aliases that repeat at most {MAX_EXPANDED_NODES} values in all"
            ),
        }
    }
}

/// An anchor whose node is still being read: the count of values when it began, and how its
/// node ends.
struct OpenAnchor {
    name: String,
    nodes_at_start: u64,
    end: AnchorEnd,
}

/// How an anchored node ends.
#[derive(Clone, Copy, PartialEq)]
enum AnchorEnd {
    /// Not known yet: decided by the next token (a collection, a scalar or the end of the line).
    Pending,
    /// A flow collection: when the flow depth falls back to this.
    Flow(usize),
    /// A block collection: at the first line indented at most this column.
    Block(usize),
}

/// The pass's state.
struct Scan<'a> {
    text: &'a [u8],
    i: usize,
    line: usize,
    line_start: usize,
    /// Columns of the open block collections, innermost last.
    blocks: Vec<usize>,
    flow: usize,
    /// At the start of a token: a quote, a bracket or a `-` here is an indicator.
    fresh: bool,
    /// Column of the last key or `-` entry on this line (what a block scalar or anchor belongs to).
    node_column: usize,
    nodes: u64,
    /// The last column computed on this line (byte offset, column), so that columns cost
    /// linear time in all.
    column_cache: std::cell::Cell<(usize, usize)>,
    open: Vec<OpenAnchor>,
    anchors: std::collections::HashMap<String, u64>,
    /// Where the first alias is used (1-based line and column).
    first_alias: Option<(usize, usize)>,
}

/// What a text that passes `check` holds that a message may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Summary {
    /// Where the first alias is used (1-based line and column), if any: where to point when the
    /// YAML parser finds the aliases repeat too much for it.
    pub(crate) first_alias: Option<(usize, usize)>,
}

/// Checks `text` against `MAX_DEPTH` and `MAX_EXPANDED_NODES`, in time linear in its length.
///
/// # Errors
/// Where the first limit is crossed.
pub(crate) fn check(text: &str) -> Result<Summary, Refusal> {
    let mut scan = Scan {
        text: text.as_bytes(),
        i: 0,
        line: 1,
        line_start: 0,
        blocks: Vec::new(),
        flow: 0,
        fresh: true,
        node_column: 0,
        nodes: 0,
        column_cache: std::cell::Cell::new((0, 1)),
        open: Vec::new(),
        anchors: std::collections::HashMap::new(),
        first_alias: None,
    };
    scan.line_begins()?;
    while scan.i < scan.text.len() {
        scan.step()?;
    }
    Ok(Summary {
        first_alias: scan.first_alias,
    })
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t' || b == b'\n' || b == b'\r'
}

fn is_flow_indicator(b: u8) -> bool {
    matches!(b, b',' | b'[' | b']' | b'{' | b'}')
}

impl Scan<'_> {
    fn at(&self, i: usize) -> u8 {
        self.text.get(i).copied().unwrap_or(b'\n')
    }

    /// 1-based column of byte `i` on the current line, in characters.
    fn column_of(&self, i: usize) -> usize {
        let i = i.min(self.text.len());
        let (mut from, mut column) = self.column_cache.get();
        if from < self.line_start || from > i {
            (from, column) = (self.line_start, 1);
        }
        column += self.text[from..i]
            .iter()
            .filter(|&&b| b & 0xC0 != 0x80)
            .count();
        self.column_cache.set((i, column));
        column
    }

    fn refuse(&self, i: usize, kind: RefusalKind) -> Refusal {
        Refusal {
            line: self.line,
            column: self.column_of(i),
            kind,
        }
    }

    fn depth_check(&self, i: usize) -> Result<(), Refusal> {
        if self.blocks.len() + self.flow > MAX_DEPTH {
            Err(self.refuse(i, RefusalKind::TooDeep))
        } else {
            Ok(())
        }
    }

    /// Moves past a line break at `self.i`, and reads the next line's indentation.
    fn newline(&mut self) -> Result<(), Refusal> {
        self.i += 1;
        self.line += 1;
        self.line_start = self.i;
        self.fresh = true;
        self.line_begins()
    }

    /// The indentation of the line beginning at `self.i`: closes the block collections and
    /// anchors it ends, and opens a level when it is deeper.
    fn line_begins(&mut self) -> Result<(), Refusal> {
        let mut j = self.i;
        while self.at(j) == b' ' {
            j += 1;
        }
        let indent = j - self.i;
        self.i = j;
        self.node_column = indent;
        let first = self.at(j);
        if self.flow > 0 || first == b'\n' || first == b'\r' || first == b'#' {
            return Ok(());
        }
        let marker = &self.text[j..self.text.len().min(j + 3)];
        if indent == 0 && (marker == b"---" || marker == b"...") && is_blank(self.at(j + 3)) {
            self.blocks.clear();
            self.close_anchors(|_| true);
            return Ok(());
        }
        self.close_anchors(|end| matches!(end, AnchorEnd::Block(c) if indent <= c));
        while self.blocks.last().is_some_and(|&c| c > indent) {
            self.blocks.pop();
        }
        if self.blocks.last() != Some(&indent) {
            self.blocks.push(indent);
        }
        self.depth_check(j)
    }

    /// Ends the open anchors whose end `ends` says has come, recording their sizes.
    fn close_anchors(&mut self, ends: impl Fn(AnchorEnd) -> bool) {
        let mut k = 0;
        while k < self.open.len() {
            if ends(self.open[k].end) {
                let anchor = self.open.remove(k);
                let size = self.nodes.saturating_sub(anchor.nodes_at_start).max(1);
                self.anchors.insert(anchor.name, size);
            } else {
                k += 1;
            }
        }
    }

    /// Reads one token, or one byte of one.
    fn step(&mut self) -> Result<(), Refusal> {
        let b = self.text[self.i];
        if b == b'\n' {
            // An anchor with nothing after it on its line anchors the block below.
            let column = self.node_column;
            for anchor in &mut self.open {
                if anchor.end == AnchorEnd::Pending {
                    anchor.end = AnchorEnd::Block(column);
                }
            }
            return self.newline();
        }
        if b == b' ' || b == b'\t' || b == b'\r' {
            self.i += 1;
            return Ok(());
        }
        let after_blank = self.i == 0 || is_blank(self.text[self.i - 1]);
        if b == b'#' && (self.fresh || after_blank) {
            while self.i < self.text.len() && self.text[self.i] != b'\n' {
                self.i += 1;
            }
            return Ok(());
        }
        if self.flow > 0 && matches!(b, b']' | b'}') {
            self.flow -= 1;
            let flow = self.flow;
            self.close_anchors(|end| matches!(end, AnchorEnd::Flow(d) if d > flow));
            self.i += 1;
            self.fresh = false;
            return Ok(());
        }
        if self.flow > 0 && b == b',' {
            self.i += 1;
            self.fresh = true;
            return Ok(());
        }
        if self.fresh {
            return self.token(b);
        }
        let next = self.at(self.i + 1);
        if b == b':' && (is_blank(next) || (self.flow > 0 && is_flow_indicator(next))) {
            self.fresh = true;
        }
        self.i += 1;
        Ok(())
    }

    /// Reads the token that begins at `self.i` with `b`.
    fn token(&mut self, b: u8) -> Result<(), Refusal> {
        let next = self.at(self.i + 1);
        match b {
            b'[' | b'{' => {
                self.flow += 1;
                self.value(AnchorEnd::Flow(self.flow));
                self.depth_check(self.i)?;
                self.i += 1;
                return Ok(());
            }
            b'-' | b'?' | b':' if is_blank(next) => {
                if self.flow == 0 && b != b':' {
                    let column = self.column_of(self.i) - 1;
                    self.node_column = column;
                    if self.blocks.last().is_some_and(|&c| c < column) {
                        self.blocks.push(column);
                    }
                    self.depth_check(self.i)?;
                }
                self.i += 1;
                return Ok(());
            }
            b'&' | b'!' => {
                let start = self.i + 1;
                self.skip_name();
                if b == b'&' {
                    let name = String::from_utf8_lossy(&self.text[start..self.i]).into_owned();
                    self.open.push(OpenAnchor {
                        name,
                        nodes_at_start: self.nodes,
                        end: AnchorEnd::Pending,
                    });
                }
                return Ok(());
            }
            b'*' => return self.alias(),
            b'|' | b'>' if self.flow == 0 => {
                self.value(AnchorEnd::Flow(usize::MAX));
                self.block_scalar();
                return Ok(());
            }
            _ => {}
        }
        if self.flow == 0 {
            self.node_column = self.column_of(self.i) - 1;
        }
        self.value(AnchorEnd::Flow(usize::MAX));
        match b {
            b'"' => self.skip_quoted(b'"')?,
            b'\'' => self.skip_quoted(b'\'')?,
            _ => self.i += 1,
        }
        self.fresh = false;
        Ok(())
    }

    /// Counts a value, and tells the anchors waiting for one how it ends (`end`, or at once for
    /// a scalar, whose end is given as `Flow(usize::MAX)`).
    fn value(&mut self, end: AnchorEnd) {
        self.nodes = self.nodes.saturating_add(1);
        for anchor in &mut self.open {
            if anchor.end == AnchorEnd::Pending {
                anchor.end = end;
            }
        }
        self.close_anchors(|end| end == AnchorEnd::Flow(usize::MAX));
    }

    /// Moves past an anchor, tag or alias name.
    fn skip_name(&mut self) {
        self.i += 1;
        while self.i < self.text.len() {
            let c = self.text[self.i];
            if is_blank(c) || is_flow_indicator(c) {
                break;
            }
            self.i += 1;
        }
    }

    /// An alias: the values of its anchor are counted again.
    fn alias(&mut self) -> Result<(), Refusal> {
        let at = self.i;
        if self.first_alias.is_none() {
            self.first_alias = Some((self.line, self.column_of(at)));
        }
        let start = self.i + 1;
        self.skip_name();
        let name = String::from_utf8_lossy(&self.text[start..self.i]).into_owned();
        let size = self.anchors.get(&name).copied().unwrap_or(1);
        self.value(AnchorEnd::Flow(usize::MAX));
        self.nodes = self.nodes.saturating_add(size - 1);
        self.fresh = false;
        if self.nodes > MAX_EXPANDED_NODES {
            return Err(self.refuse(at, RefusalKind::TooManyNodes { name }));
        }
        Ok(())
    }

    /// Moves past a block scalar (`|` or `>`): the rest of its line and every following line
    /// that is blank or indented more than the key or entry it belongs to.
    fn block_scalar(&mut self) {
        let owner = self.node_column;
        while self.i < self.text.len() && self.text[self.i] != b'\n' {
            self.i += 1;
        }
        loop {
            // At a line break: look at the next line.
            let start = self.i + 1;
            if start >= self.text.len() {
                self.i = self.text.len();
                return;
            }
            let mut j = start;
            while self.at(j) == b' ' {
                j += 1;
            }
            let blank = matches!(self.at(j), b'\n' | b'\r');
            if !blank && j - start <= owner {
                return;
            }
            self.line += 1;
            self.line_start = start;
            self.i = j;
            while self.i < self.text.len() && self.text[self.i] != b'\n' {
                self.i += 1;
            }
        }
    }

    /// Moves past a quoted scalar (`quote` is `"` or `'`), counting its lines: in a
    /// double-quoted one a backslash escapes the next character, in a single-quoted one `''` is
    /// a quote.
    fn skip_quoted(&mut self, quote: u8) -> Result<(), Refusal> {
        self.i += 1;
        while self.i < self.text.len() {
            match self.text[self.i] {
                b'\\' if quote == b'"' && self.at(self.i + 1) != b'\n' => self.i += 2,
                b'\'' if quote == b'\'' && self.at(self.i + 1) == b'\'' => self.i += 2,
                c if c == quote => {
                    self.i += 1;
                    return Ok(());
                }
                b'\n' => {
                    self.line += 1;
                    self.i += 1;
                    self.line_start = self.i;
                }
                _ => self.i += 1,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "prescan_tests.rs"]
mod tests;
