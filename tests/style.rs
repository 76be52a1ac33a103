//! Project rules that a compiler does not check: outside tests, `unwrap()` and `expect()`
//! appear only on invariants stated in a comment beside them.

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

/// Test-only files: a module's `tests.rs`, `<module>_tests.rs` and the screen snapshots.
fn is_test_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name == "tests.rs" || name.ends_with("_tests.rs") || name == "snapshots.rs"
}

#[test]
fn unwrap_and_expect_outside_tests_state_their_invariant() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 50, "found only {} source files", files.len());
    let mut bare = Vec::new();
    for path in files.iter().filter(|p| !is_test_file(p)) {
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // A module's tests come last, after its `#[cfg(test)]`.
        let end = lines
            .iter()
            .position(|l| l.trim_start() == "#[cfg(test)]")
            .unwrap_or(lines.len());
        for (i, line) in lines[..end].iter().enumerate() {
            if !(line.contains(".unwrap()") || line.contains(".expect(")) {
                continue;
            }
            let nearby = lines[i.saturating_sub(2)..=i].join("\n");
            if !nearby.contains("invariant") {
                bare.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        bare.is_empty(),
        "unwrap()/expect() without a stated invariant:\n{}",
        bare.join("\n")
    );
}
