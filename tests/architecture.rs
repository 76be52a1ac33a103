//! The rules of ARCHITECTURE.md about what may import what, checked over the source: every
//! `crate::…` and `super::…` path outside tests is resolved to the module it names, and a
//! forbidden one fails with its file and line. The few imports that break a rule today and
//! are being removed are listed by name; when one is gone, its entry must go too. Beside
//! them, the rule clippy cannot hold by itself: `unwrap()`/`expect()` are denied
//! (`[lints.clippy]` in Cargo.toml; tests may, see clippy.toml), and the few places outside
//! tests that rely on an invariant allow the lint there and say which invariant, in a
//! comment with that word, beside the allow.

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A module (by its path from the crate root) must not import modules under these paths.
struct Rule {
    from: &'static str,
    never: &'static [&'static str],
    why: &'static str,
}

const RULES: &[Rule] = &[
    Rule {
        from: "media",
        never: &["app", "ui", "cli", "tui"],
        why: "media is a library with no terminal in it (rule 1)",
    },
    Rule {
        from: "upload",
        never: &["app", "ui", "cli", "tui"],
        why: "upload is a library with no terminal in it (rule 1)",
    },
    Rule {
        from: "session",
        never: &["media", "upload", "app"],
        why: "plain data depends on no worker (rule 2)",
    },
    Rule {
        from: "interview",
        never: &["media", "upload", "app"],
        why: "plain data depends on no worker (rule 2)",
    },
    Rule {
        from: "codes",
        never: &["media", "upload", "app"],
        why: "plain data depends on no worker (rule 2)",
    },
    Rule {
        from: "config",
        never: &["media", "upload", "app"],
        why: "plain data depends on no worker (rule 2)",
    },
    Rule {
        from: "app::update",
        never: &[
            "app::effects",
            "app::run",
            "app::start",
            "media",
            "upload",
            "ui",
            "tui",
            "cli",
            "doctor",
            "status",
        ],
        why: "update is pure: no worker, no screen (rule 3)",
    },
    Rule {
        from: "app::state",
        never: &[
            "app::effects",
            "app::update",
            "app::run",
            "ui",
            "tui",
            "cli",
        ],
        why: "the state is data that update changes and ui reads",
    },
    Rule {
        from: "ui",
        never: &[
            "app::effects",
            "app::update",
            "app::run",
            "app::start",
            "tui",
            "cli",
            "upload",
            "doctor",
        ],
        why: "ui draws &State and nothing else",
    },
    Rule {
        from: "status",
        never: &["app"],
        why: "status must not import the app (rule 2)",
    },
    Rule {
        from: "clock",
        never: &["*"],
        why: "a leaf imports nothing of booth (rule 2)",
    },
    Rule {
        from: "sync",
        never: &["*"],
        why: "a leaf imports nothing of booth (rule 2)",
    },
    Rule {
        from: "names",
        never: &["*"],
        why: "a leaf imports nothing of booth (rule 2)",
    },
];

/// Imports that break a rule today, each being removed (issue 13): (module, import).
const KNOWN: &[(&str, &str)] = &[
    // The device specs (VideoSpec, AudioSpec) are media::source's types; config parses them.
    ("config", "media::source"),
    ("config::fields", "media::source"),
];

/// A source file: its module path (`app::update::station`) and its lines outside tests.
struct Source {
    file: PathBuf,
    module: Vec<String>,
    lines: Vec<(usize, String)>,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Test-only files: a module's `tests.rs`, `<module>_tests.rs`, fixtures and snapshots.
fn is_test_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name == "tests.rs"
        || name == "fixtures.rs"
        || name.ends_with("_tests.rs")
        || name.ends_with("snapshots.rs")
}

fn sources() -> Vec<Source> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|f| !is_test_file(f))
        .map(|file| {
            let rel = file.strip_prefix(&src).unwrap().with_extension("");
            let mut module: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
                .collect();
            if module.last().is_some_and(|m| m == "mod") {
                module.pop();
            }
            if module == ["lib"] || module == ["main"] {
                module.clear();
            }
            let text = std::fs::read_to_string(&file).unwrap();
            let mut lines = Vec::new();
            for (i, line) in text.lines().enumerate() {
                // A module's own tests come last, after its `#[cfg(test)]`.
                if line.trim_start() == "#[cfg(test)]" {
                    break;
                }
                lines.push((i + 1, code_of(line).to_string()));
            }
            Source {
                file,
                module,
                lines,
            }
        })
        .collect()
}

/// The line without its comment (`//` at the start or after a space).
fn code_of(line: &str) -> &str {
    if line.trim_start().starts_with("//") {
        return "";
    }
    match line.find(" //") {
        Some(i) => &line[..i],
        None => line,
    }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The identifiers of a path after its prefix: `a::b::{c, d}` gives `[a, b]` (a group ends
/// the path: its items belong to `a::b`).
fn path_after(rest: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut rest = rest;
    loop {
        let ident: String = rest.chars().take_while(|&c| is_ident(c)).collect();
        if ident.is_empty() {
            break;
        }
        rest = &rest[ident.len()..];
        segments.push(ident);
        match rest.strip_prefix("::") {
            Some(r) => rest = r,
            None => break,
        }
    }
    segments
}

/// Every module path a line names through `crate::` or `super::`, resolved from `module`.
fn imports(module: &[String], line: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(i) = line[at..].find("crate::").map(|i| i + at) {
        let before = line[..i].chars().last();
        if !before.is_some_and(is_ident) {
            found.push(path_after(&line[i + "crate::".len()..]));
        }
        at = i + 1;
    }
    let mut at = 0;
    while let Some(i) = line[at..].find("super::").map(|i| i + at) {
        let before = line[..i].chars().last();
        // The first `super` of a chain only.
        if before.is_some_and(|c| is_ident(c) || c == ':') {
            at = i + 1;
            continue;
        }
        let mut base: Vec<String> = module.to_vec();
        let mut rest = &line[i..];
        while let Some(r) = rest.strip_prefix("super::") {
            base.pop();
            rest = r;
        }
        base.extend(path_after(rest));
        found.push(base);
        at = i + 1;
    }
    found
}

/// Whether `path` is under `prefix` (`*`: any path of booth's).
fn starts_with(path: &[String], prefix: &str) -> bool {
    if prefix == "*" {
        return !path.is_empty();
    }
    let prefix: Vec<&str> = prefix.split("::").collect();
    path.len() >= prefix.len() && path.iter().zip(&prefix).all(|(a, b)| a == b)
}

#[test]
fn no_module_imports_what_architecture_md_forbids() {
    let sources = sources();
    assert!(sources.len() > 80, "found only {} files", sources.len());
    let mut broken = Vec::new();
    let mut known_seen = BTreeSet::new();
    for src in &sources {
        let rules: Vec<&Rule> = RULES
            .iter()
            .filter(|r| starts_with(&src.module, r.from))
            .collect();
        if rules.is_empty() {
            continue;
        }
        let module = src.module.join("::");
        for (n, line) in &src.lines {
            for path in imports(&src.module, line) {
                for rule in &rules {
                    let Some(never) = rule.never.iter().find(|p| starts_with(&path, p)) else {
                        continue;
                    };
                    let known = KNOWN
                        .iter()
                        .find(|(m, i)| *m == module && starts_with(&path, i));
                    match known {
                        Some(k) => {
                            known_seen.insert(*k);
                        }
                        None => broken.push(format!(
                            "{}:{n}: {module} imports {} ({never}): {}",
                            src.file.display(),
                            path.join("::"),
                            rule.why
                        )),
                    }
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "forbidden imports:\n{}",
        broken.join("\n")
    );
    let stale: Vec<_> = KNOWN.iter().filter(|k| !known_seen.contains(k)).collect();
    assert!(
        stale.is_empty(),
        "these known exceptions are gone; remove them from KNOWN: {stale:?}"
    );
}

/// `update`'s rules live beside its router (`update/mod.rs`) and never import it: they import
/// each other by module (`super::lifecycle::…`) or the app's data (`super::super::state`).
#[test]
fn the_update_rules_never_import_their_router() {
    let sources = sources();
    let rules: Vec<&Source> = sources
        .iter()
        .filter(|s| s.module.len() == 3 && starts_with(&s.module, "app::update"))
        .collect();
    assert!(rules.len() >= 5, "found {} rule files", rules.len());
    let siblings: BTreeSet<&str> = rules.iter().map(|s| s.module[2].as_str()).collect();
    let mut broken = Vec::new();
    for src in &rules {
        for (n, line) in &src.lines {
            if line.contains("super::*") {
                broken.push(format!("{}:{n}: a glob of the router", src.file.display()));
            }
            for path in imports(&src.module, line) {
                let into_router = starts_with(&path, "app::update")
                    && !path.get(2).is_some_and(|m| siblings.contains(m.as_str()));
                if into_router {
                    broken.push(format!(
                        "{}:{n}: imports {}",
                        src.file.display(),
                        path.join("::")
                    ));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "update's rules import the router:\n{}",
        broken.join("\n")
    );
}

/// `update` does no I/O and reads no clock (rule 3); crossterm is the terminal module's alone
/// (rule 4); unsafe code is allowed in the VT ioctls only (rule 6).
#[test]
fn io_clocks_crossterm_and_unsafe_stay_where_they_belong() {
    let mut broken = Vec::new();
    for src in sources() {
        let module = src.module.join("::");
        for (n, line) in &src.lines {
            let at = format!("{}:{n}", src.file.display());
            if starts_with(&src.module, "app::update") {
                for io in [
                    "std::fs",
                    "Instant::now",
                    "SystemTime",
                    "std::thread",
                    "tokio::",
                    "unix_now",
                ] {
                    if line.contains(io) {
                        broken.push(format!("{at}: update uses {io}"));
                    }
                }
            }
            if line.contains("crossterm::") && module != "tui" {
                broken.push(format!("{at}: crossterm outside tui"));
            }
            if line.contains("allow(unsafe_code)") && module != "vt::ioctl" {
                broken.push(format!("{at}: unsafe code allowed outside vt::ioctl"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_scanner_resolves_paths() {
    let module: Vec<String> = ["app", "update", "station"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let got = imports(
        &module,
        "use super::super::msg::{Effect, Key}; let x = crate::media::source::open(); pub(crate) fn f() {}",
    );
    let want: Vec<Vec<String>> = vec![
        vec!["media".into(), "source".into(), "open".into()],
        vec!["app".into(), "msg".into()],
    ];
    assert_eq!(got, want);
    assert_eq!(
        imports(&module, "use super::lifecycle::end_session;"),
        vec![vec![
            "app".to_string(),
            "update".into(),
            "lifecycle".into(),
            "end_session".into()
        ]]
    );
    assert!(imports(&module, "// use crate::ui::view;").len() == 1);
    assert_eq!(code_of("// use crate::ui::view;"), "");
}

#[test]
fn clippy_denies_unwrap_and_expect() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let lints = manifest
        .split("[lints.clippy]")
        .nth(1)
        .expect("Cargo.toml has no [lints.clippy] table");
    for lint in ["unwrap_used = \"deny\"", "expect_used = \"deny\""] {
        assert!(
            lints.contains(lint),
            "Cargo.toml's [lints.clippy] lacks {lint}"
        );
    }
}

#[test]
fn every_allowed_unwrap_states_its_invariant() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 50, "found only {} source files", files.len());
    let mut bare = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !(line.contains("clippy::unwrap_used") || line.contains("clippy::expect_used")) {
                continue;
            }
            let nearby = lines[i.saturating_sub(2)..(i + 2).min(lines.len())].join("\n");
            if !nearby.contains("invariant") {
                bare.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        bare.is_empty(),
        "unwrap()/expect() allowed without a stated invariant:\n{}",
        bare.join("\n")
    );
}
