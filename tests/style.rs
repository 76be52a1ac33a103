//! Project rules around what the compiler checks. Clippy denies `unwrap()` and `expect()`
//! (`[lints.clippy]` in Cargo.toml; tests may, see clippy.toml); the few places outside tests
//! that rely on an invariant allow the lint there and say which invariant, in a comment with
//! that word, beside the allow.

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

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
