//! The inputs mutated: every shipped scenario (`scenarios/*.yaml`) and the fuzzer's own seeds
//! (`tests/fuzz/seeds/*.yaml`, settings no shipped scenario uses), with the files each names
//! (its base, manifests, traces, node lists), copied to a work folder so that a case can
//! rewrite any of them and relative paths still resolve (seeds go beside the scenarios).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

/// A shipped scenario and the files a case may mutate for it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The scenario, relative to the work folder (`scenarios/mmc.yaml`).
    pub scenario: PathBuf,
    /// The scenario first, then every file it names, directly or through a file it names.
    pub targets: Vec<PathBuf>,
}

/// The copied tree and its pristine contents.
pub struct Corpus {
    /// The work folder holding `scenarios/`.
    pub root: PathBuf,
    /// Each copied file's original bytes, by path relative to `root`.
    pub originals: BTreeMap<PathBuf, Vec<u8>>,
    /// Every shipped scenario, in file-name order.
    pub entries: Vec<Entry>,
}

impl Corpus {
    /// Copies the project's `scenarios/` into `root` and finds what each scenario names.
    pub fn new(root: &Path) -> Corpus {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut originals = BTreeMap::new();
        copy_tree(source, Path::new("scenarios"), root, &mut originals);
        let seeds = source.join("tests/fuzz/seeds");
        let mut names: Vec<_> = fs::read_dir(&seeds)
            .expect("tests/fuzz/seeds is readable")
            .map(|e| e.expect("tests/fuzz/seeds is readable").file_name())
            .collect();
        names.sort();
        for name in names {
            let rel = Path::new("scenarios").join(&name);
            assert!(
                !originals.contains_key(&rel),
                "seed {rel:?} shadows a scenario"
            );
            let bytes = fs::read(seeds.join(&name)).expect("a seed is readable");
            fs::write(root.join(&rel), &bytes).expect("the work folder is writable");
            originals.insert(rel, bytes);
        }
        let mut entries = Vec::new();
        for rel in originals.keys() {
            let is_scenario = rel.parent() == Some(Path::new("scenarios"))
                && rel.extension().is_some_and(|e| e == "yaml");
            if is_scenario {
                let mut targets = vec![rel.clone()];
                named_files(root, rel, &mut targets);
                entries.push(Entry {
                    scenario: rel.clone(),
                    targets,
                });
            }
        }
        assert!(!entries.is_empty(), "no scenario found under scenarios/");
        Corpus {
            root: root.to_path_buf(),
            originals,
            entries,
        }
    }

    /// Puts back the original bytes of `rel`.
    pub fn restore(&self, rel: &Path) {
        fs::write(self.root.join(rel), &self.originals[rel]).expect("the work folder is writable");
    }
}

fn copy_tree(source: &Path, rel: &Path, root: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    let from = source.join(rel);
    if from.is_dir() {
        fs::create_dir_all(root.join(rel)).expect("the work folder is writable");
        let mut names: Vec<_> = fs::read_dir(&from)
            .expect("scenarios/ is readable")
            .map(|e| e.expect("scenarios/ is readable").file_name())
            .collect();
        names.sort();
        for name in names {
            copy_tree(source, &rel.join(name), root, out);
        }
    } else {
        let bytes = fs::read(&from).expect("scenarios/ is readable");
        fs::write(root.join(rel), &bytes).expect("the work folder is writable");
        out.insert(rel.to_path_buf(), bytes);
    }
}

/// Adds to `targets` every mutable file (YAML or CSV) that a string of the YAML file `rel`
/// names relative to its folder, and, for a YAML file, what that one names in turn.
fn named_files(root: &Path, rel: &Path, targets: &mut Vec<PathBuf>) {
    let Ok(text) = fs::read_to_string(root.join(rel)) else {
        return;
    };
    let dir = rel.parent().unwrap_or(Path::new(""));
    let mut strings = Vec::new();
    for document in serde_yaml::Deserializer::from_str(&text) {
        if let Ok(value) = serde::Deserialize::deserialize(document) {
            collect_strings(&value, &mut strings);
        }
    }
    for s in strings {
        let candidate = dir.join(&s);
        let full = root.join(&candidate);
        let files: Vec<PathBuf> = if full.is_file() {
            vec![candidate]
        } else if full.is_dir() && !s.is_empty() {
            let mut files: Vec<PathBuf> = fs::read_dir(&full)
                .expect("scenarios/ is readable")
                .map(|e| candidate.join(e.expect("readable").file_name()))
                .collect();
            files.sort();
            files
        } else {
            continue;
        };
        for file in files {
            let file = normalize(&file);
            let mutable = file
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "csv");
            if mutable && !targets.contains(&file) {
                targets.push(file.clone());
                if file.extension().is_some_and(|e| e != "csv") {
                    named_files(root, &file, targets);
                }
            }
        }
    }
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Sequence(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Mapping(map) => map.values().for_each(|v| collect_strings(v, out)),
        Value::Tagged(tagged) => collect_strings(&tagged.value, out),
        _ => {}
    }
}

/// `a/./b` and `a/x/../b` as `a/b`, so that each file is one target.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
