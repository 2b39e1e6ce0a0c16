//! ARCHITECTURE.md kept true: the imports between capsim's top-level modules follow its layers,
//! the model's modules do no I/O, YAML is read in one place, and every module path, type and
//! file the document names exists.
//!
//! Everything here reads the sources as text (comments and string literals removed), so a rule
//! broken anywhere in `src/` fails the test with the file and the line.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Each top-level module and the top-level modules it may import (`crate::<module>`). The
/// order is the layering: a module only imports modules above it in this table.
const ALLOWED_IMPORTS: &[(&str, &[&str])] = &[
    ("units", &[]),
    ("text", &[]),
    ("engine", &["units"]),
    ("cluster", &["units"]),
    ("workload", &["units", "engine"]),
    ("monitoring", &["units"]),
    ("controllers", &["units", "engine", "cluster"]),
    (
        "scenario",
        &[
            "units",
            "text",
            "cluster",
            "workload",
            "controllers",
            "monitoring",
        ],
    ),
    ("report", &["units", "text"]),
    (
        "simulation",
        &[
            "units",
            "engine",
            "cluster",
            "workload",
            "controllers",
            "monitoring",
            "scenario",
            "report",
        ],
    ),
    ("runner", &["units", "scenario", "simulation", "report"]),
    (
        "replications",
        &["units", "scenario", "simulation", "report", "runner"],
    ),
    (
        "sweep",
        &[
            "units",
            "scenario",
            "simulation",
            "report",
            "runner",
            "replications",
        ],
    ),
    (
        "check",
        &["units", "text", "scenario", "report", "replications"],
    ),
    ("plot", &["units", "report"]),
    ("diff", &["units", "text", "report"]),
    ("html", &["units", "text", "report", "plot", "diff"]),
];

/// Modules that model the cluster and must neither touch files nor print: results leave the
/// simulation through `report::Observer` only.
const NO_IO: &[&str] = &[
    "engine",
    "cluster",
    "controllers",
    "workload",
    "monitoring",
    "simulation",
];

/// What the no-I/O modules must not contain.
const IO_TOKENS: &[&str] = &[
    "std::fs",
    "std::io",
    "println!",
    "eprintln!",
    "print!",
    "eprint!",
    "dbg!",
    "File::",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("a readable folder").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The top-level module a file under `src/` belongs to (`None` for `lib.rs`, and for `main.rs` and
/// the files of `src/main/`, the command line, which may use everything).
fn module_of(file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src()).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib" && name != "main").then(|| name.to_string())
}

/// `text` with comments and the contents of string and character literals blanked out, line
/// breaks kept, so that what remains is code at the same line numbers.
fn code_only(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            i += end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(rest.len(), |e| e + 2);
            out.extend(rest[..end].chars().filter(|c| *c == '\n'));
            i += end;
        } else if let Some(after) = raw_string_start(rest) {
            let hashes = &rest[1..after - 1];
            let close = format!("\"{hashes}");
            let end = rest[after..]
                .find(&close)
                .map_or(rest.len(), |e| after + e + close.len());
            out.extend(rest[..end].chars().filter(|c| *c == '\n'));
            i += end;
        } else if rest.starts_with('"') {
            let mut j = 1;
            while j < rest.len() && rest.as_bytes()[j] != b'"' {
                j += if rest.as_bytes()[j] == b'\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            out.extend(rest[..j.min(rest.len())].chars().filter(|c| *c == '\n'));
            i += (j + 1).min(rest.len());
        } else if let Some(len) = char_literal(rest) {
            out.push_str("' '");
            i += len;
        } else {
            let c = rest.chars().next().expect("not at the end");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The length of `r"`, `r#"`, ... at the start of `text`, if it opens a raw string.
fn raw_string_start(text: &str) -> Option<usize> {
    let rest = text.strip_prefix('r')?;
    let hashes = rest.len() - rest.trim_start_matches('#').len();
    rest[hashes..].starts_with('"').then_some(hashes + 2)
}

/// The length of a character literal (`'a'`, `'\n'`, `'\''`) at the start of `text`; `None`
/// for a lifetime.
fn char_literal(text: &str) -> Option<usize> {
    let rest = text.strip_prefix('\'')?;
    let mut chars = rest.char_indices();
    let (_, first) = chars.next()?;
    let after = if first == '\\' {
        let (_, escaped) = chars.next()?;
        if escaped == 'u' {
            rest.find('}')? + 1
        } else {
            1 + escaped.len_utf8()
        }
    } else {
        first.len_utf8()
    };
    rest[after..].starts_with('\'').then_some(after + 2)
}

/// The top-level modules `code` names through `crate::`, with the line of each, including
/// those inside `use crate::{a::..., b::...}` groups.
fn crate_imports(code: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (start, _) in code.match_indices("crate::") {
        let before = code[..start].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let line = code[..start].matches('\n').count() + 1;
        let rest = &code[start + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = matching_brace(group);
            for name in top_level_names(&group[..end]) {
                found.push((line, name));
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push((line, name));
        }
    }
    found
}

/// The index of the `}` closing a group whose `{` was just before `text`.
fn matching_brace(text: &str) -> usize {
    let mut depth = 1;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    text.len()
}

/// The first path segment of each comma-separated item of a `use` group, ignoring nesting.
fn top_level_names(group: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0;
    let mut item = String::new();
    for c in group.chars().chain(std::iter::once(',')) {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    names.push(name);
                }
                item.clear();
                continue;
            }
            _ => {}
        }
        if depth == 0 {
            item.push(c);
        }
    }
    names
}

fn allowed(module: &str) -> Option<&'static [&'static str]> {
    ALLOWED_IMPORTS
        .iter()
        .find(|(m, _)| *m == module)
        .map(|(_, allowed)| *allowed)
}

/// Every violation of the import table in the sources, as `file:line: message`.
fn import_violations() -> Vec<String> {
    let mut problems = Vec::new();
    for file in rust_files(&src()) {
        let Some(module) = module_of(&file) else {
            continue;
        };
        let Some(allowed) = allowed(&module) else {
            problems.push(format!(
                "{}: top-level module {module} is not in ALLOWED_IMPORTS (and ARCHITECTURE.md)",
                file.display()
            ));
            continue;
        };
        let text = fs::read_to_string(&file).expect("a readable source file");
        for (line, target) in crate_imports(&code_only(&text)) {
            if target != module && !allowed.contains(&target.as_str()) {
                problems.push(format!(
                    "{}:{line}: {module} imports crate::{target}; {module} may import only {allowed:?}",
                    file.display()
                ));
            }
        }
    }
    problems
}

#[test]
fn modules_import_only_the_layers_below_them() {
    let problems = import_violations();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_import_table_is_a_layering() {
    // Each module's allowed imports come before it in the table, so the table has no cycle.
    for (i, (module, allowed)) in ALLOWED_IMPORTS.iter().enumerate() {
        for target in *allowed {
            let position = ALLOWED_IMPORTS.iter().position(|(m, _)| m == target);
            assert!(
                position.is_some_and(|p| p < i),
                "{module} may import {target}, which is not above it"
            );
        }
    }
    // Every top-level module of the crate is in the table, and every entry is a module.
    let modules: BTreeSet<String> = rust_files(&src())
        .iter()
        .filter_map(|f| module_of(f))
        .collect();
    let table: BTreeSet<String> = ALLOWED_IMPORTS.iter().map(|(m, _)| m.to_string()).collect();
    assert_eq!(modules, table);
}

#[test]
fn the_model_does_no_io_and_prints_nothing() {
    let mut problems = Vec::new();
    for file in rust_files(&src()) {
        let Some(module) = module_of(&file) else {
            continue;
        };
        if !NO_IO.contains(&module.as_str()) {
            continue;
        }
        let code = code_only(&fs::read_to_string(&file).expect("a readable source file"));
        for (n, line) in code.lines().enumerate() {
            for token in IO_TOKENS {
                let hit = line.match_indices(token).any(|(at, _)| {
                    !line[..at]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if hit {
                    problems.push(format!("{}:{}: {token} in {module}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn only_the_scenario_module_reads_yaml() {
    for file in rust_files(&src()) {
        let code = code_only(&fs::read_to_string(&file).expect("a readable source file"));
        let in_scenario = module_of(&file).as_deref() == Some("scenario");
        assert!(
            in_scenario || !code.contains("serde_yaml"),
            "{} uses serde_yaml; only scenario reads YAML",
            file.display()
        );
    }
}

/// Every backticked name in ARCHITECTURE.md that looks like a path into the crate.
fn named_paths(document: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (i, part) in document.split('`').enumerate() {
        let placeholder = part.contains('<') || part.contains(' ');
        if i % 2 == 1 && !placeholder && (part.contains("::") || part.contains('/')) {
            names.push(part.trim_end_matches("()").to_string());
        }
    }
    names
}

/// Whether `item` (a type, function, constant, trait or module) is declared in `text`.
fn declares(text: &str, item: &str) -> bool {
    [
        "struct", "enum", "fn", "trait", "type", "const", "mod", "static",
    ]
    .iter()
    .any(|kind| {
        text.match_indices(&format!("{kind} {item}"))
            .any(|(at, m)| {
                !text[at + m.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
    })
}

/// The source of module `segments` (`["simulation", "cluster_state"]`): its `.rs` file or its
/// folder's `mod.rs`, if it exists.
fn module_source(segments: &[&str]) -> Option<PathBuf> {
    let base = segments.iter().fold(src(), |path, s| path.join(s));
    let file = base.with_extension("rs");
    if file.is_file() {
        return Some(file);
    }
    let folder = base.join("mod.rs");
    folder.is_file().then_some(folder)
}

/// Whether a path ARCHITECTURE.md names exists: a file or folder of the repository, or a
/// crate path whose modules exist and whose last segments are declared in the module reached.
fn exists(name: &str, everything: &str) -> bool {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if name.contains('/') {
        return root.join(name.trim_end_matches('/')).exists();
    }
    let segments: Vec<&str> = name.split("::").collect();
    if segments[0].starts_with(char::is_uppercase) {
        // `Type::item`: both declared somewhere in the crate.
        return segments.iter().all(|s| declares(everything, s));
    }
    // The longest prefix that is a module; the rest must be declared in it.
    let modules = (1..=segments.len())
        .rev()
        .find_map(|n| module_source(&segments[..n]).map(|source| (n, source)));
    let Some((n, source)) = modules else {
        return false;
    };
    let module_text = fs::read_to_string(&source).expect("a readable source file");
    let folder_text: String = source
        .parent()
        .filter(|_| source.ends_with("mod.rs"))
        .map(|dir| {
            rust_files(dir)
                .iter()
                .map(|f| fs::read_to_string(f).expect("a readable source file"))
                .collect()
        })
        .unwrap_or_default();
    segments[n..].iter().all(|item| {
        declares(&module_text, item) || declares(&folder_text, item) || declares(everything, item)
    })
}

#[test]
fn every_path_architecture_md_names_exists() {
    let document =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md is readable");
    let names = named_paths(&document);
    assert!(
        names.len() > 40,
        "found only {} names: {names:?}",
        names.len()
    );
    let everything: String = rust_files(&src())
        .iter()
        .map(|f| fs::read_to_string(f).expect("a readable source file"))
        .collect();
    let missing: Vec<&String> = names.iter().filter(|n| !exists(n, &everything)).collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names what does not exist: {missing:?}"
    );
}

#[test]
fn the_source_reader_sees_through_comments_strings_and_groups() {
    let code = code_only(
        "use crate::a::B; // crate::commented\nlet s = \"crate::quoted\";\n/* crate::block */\n\
         use crate::{c::D, e::{F, G}};\nlet r = r#\"crate::raw\"#; let c = '\"'; let l: &'static str;\n",
    );
    let names: Vec<String> = crate_imports(&code).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["a", "c", "e"]);
    assert_eq!(code.lines().count(), 5, "line numbers are kept");
    assert!(declares("pub(crate) struct ClusterState {", "ClusterState"));
    assert!(!declares("struct ClusterStateX", "ClusterState"));
}
