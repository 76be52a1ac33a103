//! The arrows inside `upload`, checked over the source: each module imports only modules
//! below it in [`LAYERS`], straight from the module that defines what it uses (never through
//! `upload`'s re-exports), so `service` and `deliver` cannot grow back into each other and the
//! manifest stays plain data. Also: the plain-data modules outside `upload` that it shares
//! names with import no worker.

use std::path::{Path, PathBuf};

/// Top to bottom; a module may import only the ones after it.
const LAYERS: &[&str] = &[
    "service", "deliver", "courier", "registry", "summary", "view", "health", "tus", "dir",
    "chunks", "outbox", "manifest", "meta", "error", "problem",
];

/// What `upload/mod.rs` itself defines (everything else it has is a re-export).
const DEFINED_IN_MOD: &[&str] = &["Tuning", "outbox_dir"];

fn source(path: &Path) -> crate::TestResult<String> {
    let text = std::fs::read_to_string(path)?;
    // A module's tests come last and may use anything.
    let end = text.find("#[cfg(test)]").unwrap_or(text.len());
    Ok(text[..end]
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// The first segment of every path starting with `prefix::` (`a` of `prefix::a::b`, and each
/// of `prefix::{a, b::c}`).
fn first_segments(text: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let needle = format!("{prefix}::");
    for (at, _) in text.match_indices(&needle) {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &text[at + needle.len()..];
        let group = match rest.strip_prefix('{') {
            Some(inner) => &inner[..inner.find('}').unwrap_or(inner.len())],
            None => rest,
        };
        for part in group.split(',') {
            let ident: String = part
                .trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !ident.is_empty() {
                out.push(ident);
            }
            if !rest.starts_with('{') {
                break;
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> crate::TestResult {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// `service` for `upload/service.rs` and `upload/service/submit.rs`, and whether the file is
/// a child of that module (where `super` is the module itself).
fn module_of(upload: &Path, path: &Path) -> Option<(String, bool)> {
    let rel = path.strip_prefix(upload).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string()
        })
        .collect();
    let nested = parts.len() > 1 && parts.last().is_some_and(|p| p != "mod");
    Some((parts.first()?.clone(), nested))
}

#[test]
fn upload_modules_import_only_the_layers_below_them() -> crate::TestResult {
    let upload = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/upload");
    let mut files = Vec::new();
    rust_files(&upload, &mut files)?;
    let mut wrong = Vec::new();
    let mut checked = 0;
    for path in &files {
        let Some((module, nested)) = module_of(&upload, path) else {
            continue;
        };
        if module == "mod" || module.ends_with("_tests") {
            continue;
        }
        let Some(rank) = LAYERS.iter().position(|l| *l == module) else {
            wrong.push(format!("{}: not in LAYERS", path.display()));
            continue;
        };
        checked += 1;
        let text = source(path)?;
        let mut used = first_segments(&text, "crate::upload");
        if !nested {
            used.extend(first_segments(&text, "super"));
        }
        for name in used {
            let ok = match LAYERS.iter().position(|l| *l == name) {
                Some(r) => r > rank || name == module,
                None => DEFINED_IN_MOD.contains(&name.as_str()),
            };
            if !ok {
                wrong.push(format!("{}: {module} uses {name}", path.display()));
            }
        }
    }
    assert!(checked >= LAYERS.len(), "checked only {checked} files");
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
    Ok(())
}

#[test]
fn plain_data_imports_no_worker() -> crate::TestResult {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let workers = ["upload", "media", "app", "ui", "cli", "tui"];
    for (file, leaf) in [
        ("session.rs", false),
        ("upload/manifest.rs", false),
        ("names.rs", true),
        ("clock.rs", true),
        ("sync.rs", true),
    ] {
        let text = source(&src.join(file))?;
        let used = first_segments(&text, "crate");
        let bad: Vec<&String> = used
            .iter()
            .filter(|m| leaf || workers.contains(&m.as_str()))
            .collect();
        assert!(bad.is_empty(), "{file} imports {bad:?}");
    }
    Ok(())
}

#[test]
fn the_check_reads_use_lines_as_written() {
    let text = "use super::{a, b::c};\nuse crate::upload::d::E;\nlet x = super::f(1);";
    assert_eq!(first_segments(text, "super"), ["a", "b", "f"]);
    assert_eq!(first_segments(text, "crate::upload"), ["d"]);
    assert!(first_segments("use xsuper::a;", "super").is_empty());
}
