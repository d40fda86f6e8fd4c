//! Tidy checks on the source tree, as text: every Rust file opens with a `//!` saying what it is, the
//! library's modules import only the modules ARCHITECTURE.md says they may, and only the binary knows
//! clap. They read files and run nothing, so they fail the moment a change breaks a rule, with the file
//! and the import that broke it.
//!
//! Imports are found by resolving every `crate::` path (braced groups included) and every `super::` path
//! that climbs to the crate root. It is a text check, not a compiler: it does not see through `pub use`
//! re-exports, which is why modules are named where they are defined.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The module path of a library file: `src/sync/engine.rs` → `[sync, engine]`, `src/sim/http/mod.rs` →
/// `[sim, http]`, `src/lib.rs` → `[]`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> =
        relative.iter().skip(1).map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The code of `text` without comments (line comments and doc comments), so prose naming a module is not
/// an import.
fn code_of(text: &str) -> String {
    text.lines().map(|line| line.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// Every crate-level path the code names, as `module` or `module::item` (the first two segments): from
/// `crate::a::b`, `crate::{a::b, c}`, and `super::…` chains resolved from the file's `module` path.
fn crate_paths(code: &str, module: &[String]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let bytes = code.as_bytes();
    let ident_start = |i: usize| i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
    let mut i = 0;
    while i < code.len() {
        // Bytes, not `str` slices: `i` may sit inside a multi-byte character; the paths are ASCII.
        let rest = &bytes[i..];
        let (path_start, climbs) = if rest.starts_with(b"crate::") && ident_start(i) {
            (i + "crate::".len(), None)
        } else if rest.starts_with(b"super::") && ident_start(i) {
            let mut at = i;
            let mut n = 0;
            while bytes[at..].starts_with(b"super::") {
                at += "super::".len();
                n += 1;
            }
            (at, Some(n))
        } else {
            i += 1;
            continue;
        };
        // In a file at module path `a::b`, `super` is `a` and `super::super` the crate root.
        let prefix: Vec<String> = match climbs {
            None => Vec::new(),
            Some(n) if n <= module.len() => module[..module.len() - n].to_vec(),
            Some(_) => {
                i = path_start;
                continue;
            }
        };
        for path in expand(&code[path_start..]) {
            let full: Vec<String> =
                prefix.iter().cloned().chain(path.split("::").map(str::to_owned)).collect();
            found.insert(full.iter().take(2).cloned().collect::<Vec<_>>().join("::"));
        }
        i = path_start;
    }
    found
}

/// The paths a use-tree starting at `text` names: `a::b::C` → `[a::b]`, `{a::X, b}` → `[a::X, b]`.
fn expand(text: &str) -> Vec<String> {
    let segment_end = |s: &str| s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    if let Some(group) = text.strip_prefix('{') {
        let mut depth = 0;
        let mut items = Vec::new();
        let mut start = 0;
        for (at, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    items.push(group[start..at].trim().to_owned());
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(group[start..at].trim().to_owned());
                    start = at + 1;
                }
                _ => {}
            }
        }
        return items.iter().filter(|i| !i.is_empty()).flat_map(|i| expand(i)).collect();
    }
    let first = &text[..segment_end(text)];
    let after = &text[first.len()..];
    match after.strip_prefix("::") {
        Some(more) if more.starts_with('{') => {
            expand(more).into_iter().map(|p| format!("{first}::{p}")).collect()
        }
        Some(more) => vec![format!("{first}::{}", &more[..segment_end(more)])],
        None => vec![first.to_owned()],
    }
}

#[test]
fn every_rust_file_opens_with_a_doc_comment() {
    let mut missing = Vec::new();
    for dir in ["src", "tests", "benches"] {
        for file in rust_files(&repo().join(dir)) {
            let text = std::fs::read_to_string(&file).expect("readable");
            if !text.starts_with("//!") {
                missing.push(file.strip_prefix(repo()).unwrap_or(&file).display().to_string());
            }
        }
    }
    assert!(missing.is_empty(), "files without a leading //! saying what they are: {missing:?}");
}

/// Which top-level modules each library module may name. `atlassian::wire` is listed on its own: only the
/// crawlers and the simulator know Atlassian JSON.
const MAY_IMPORT: &[(&str, &[&str])] = &[
    ("acl", &[]),
    ("config", &[]),
    ("extract", &[]),
    ("index", &["acl"]),
    ("search", &["acl", "index"]),
    ("atlassian", &["config"]),
    ("sim", &["atlassian::wire"]),
    ("sync", &["acl", "atlassian", "config", "extract", "index"]),
    ("server", &["acl", "atlassian", "config", "index", "search", "sync"]),
    ("demo", &["config", "server", "sim", "sync"]),
    ("eval", &["acl", "config", "demo", "index", "search", "server", "sim", "sync"]),
    ("bench", &["acl", "config", "demo", "index", "search", "server", "sim", "sync"]),
];

/// Files held to a stricter rule than their module: (file, modules it must never name, why).
const NEVER_IMPORTS: &[(&str, &[&str], &str)] = &[(
    "src/sim/oracle.rs",
    &["atlassian", "sync", "acl", "index"],
    "the oracle is written from the model and Atlassian's rules alone, sharing no code with the crawler",
)];

#[test]
fn modules_import_only_what_the_architecture_allows() {
    let top_level: BTreeSet<&str> = MAY_IMPORT.iter().map(|(m, _)| *m).collect();
    let mut problems = Vec::new();
    for file in rust_files(&repo().join("src")) {
        let relative = file.strip_prefix(repo()).expect("under the repo").to_path_buf();
        let shown = relative.display().to_string();
        if shown == "src/main.rs" || shown.starts_with("src/cli/") || shown == "src/lib.rs" {
            continue;
        }
        let module = module_path(&relative);
        let own = module.first().cloned().unwrap_or_default();
        let Some((_, allowed)) = MAY_IMPORT.iter().find(|(m, _)| *m == own) else {
            problems
                .push(format!("{shown}: module {own} is not in the tidy table (add it, with its imports)"));
            continue;
        };
        let code = code_of(&std::fs::read_to_string(&file).expect("readable"));
        for path in crate_paths(&code, &module) {
            let (first, second) = path.split_once("::").unwrap_or((&path, ""));
            if first == own || !top_level.contains(first) {
                continue;
            }
            let wire = first == "atlassian" && second == "wire";
            let ok = if wire { allowed.contains(&"atlassian::wire") } else { allowed.contains(&first) };
            if !ok {
                problems.push(format!("{shown}: module {own} must not import crate::{path}"));
            }
        }
        for (strict, never, why) in NEVER_IMPORTS {
            if shown == *strict {
                for path in crate_paths(&code, &module) {
                    if never.iter().any(|n| path == *n || path.starts_with(&format!("{n}::"))) {
                        problems.push(format!("{shown}: must not import crate::{path}: {why}"));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "import rules broken:\n{}", problems.join("\n"));
}

/// Unfiltered search lives in the benchmark. The import table keeps it from the server and every other
/// library module; in the binary, only the `bench` command (and the command list naming it) reaches it, so
/// the `search` command cannot.
#[test]
fn only_the_bench_command_reaches_the_benchmark() {
    let mut found = Vec::new();
    for file in rust_files(&repo().join("src")) {
        let shown = file.strip_prefix(repo()).expect("under the repo").display().to_string();
        let binary = shown == "src/main.rs" || shown.starts_with("src/cli/");
        if !binary || shown == "src/cli/bench.rs" || shown == "src/cli/mod.rs" {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(&file).expect("readable"));
        if code.contains("permdex::bench") || code.contains("super::bench") {
            found.push(shown);
        }
    }
    assert!(found.is_empty(), "binary files reaching the benchmark (only src/cli/bench.rs may): {found:?}");
}

#[test]
fn only_the_binary_knows_clap() {
    let mut found = Vec::new();
    for file in rust_files(&repo().join("src")) {
        let shown = file.strip_prefix(repo()).expect("under the repo").display().to_string();
        if shown == "src/main.rs" || shown.starts_with("src/cli/") {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(&file).expect("readable"));
        if code.contains("clap::") || code.contains("use clap") {
            found.push(shown);
        }
    }
    assert!(found.is_empty(), "clap outside the binary (src/main.rs, src/cli/): {found:?}");
}

/// The checker itself: each case is a file's module path, its code, and the crate paths it must find.
#[test]
fn the_import_scanner_reads_use_trees_and_super_chains() {
    let m = |s: &str| s.split('/').map(str::to_owned).collect::<Vec<_>>();
    let cases: &[(&str, &str, &[&str])] = &[
        ("search/collect", "use crate::index::Fields;", &["index::Fields"]),
        (
            "search/collect",
            "use crate::{acl::Principal, sync::{view, runs}};",
            &["acl::Principal", "sync::view", "sync::runs"],
        ),
        ("search", "use super::sync::x;", &["sync::x"]),
        ("search/collect", "use super::acl_filter::X;", &["search::acl_filter"]),
        ("search/collect", "use super::super::sync::x;", &["sync::x"]),
        ("sim/http/jira", "use super::super::model::Site;", &["sim::model"]),
        ("sim/http/jira", "use super::super::super::atlassian::wire::jira;", &["atlassian::wire"]),
        ("sim/http/jira", "let x = my_crate::a; // crate::sync", &[]),
    ];
    for (module, code, want) in cases {
        let got = crate_paths(&code_of(code), &m(module));
        let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
        assert_eq!(got, want, "{module}: {code}");
    }
}
