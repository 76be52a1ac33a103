//! Who has a device open: scans `/proc/<pid>/fd` for links to a path, so "camera busy" can say
//! which program to close. Processes we may not inspect are skipped silently (that is the
//! normal case for other users' processes when not root).

use std::fs;
use std::path::Path;

/// A process holding a file open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub name: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (pid {})", self.name, self.pid)
    }
}

/// Every other process with `path` open, in pid order.
pub fn holders_of(path: &Path) -> Vec<Holder> {
    let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let me = std::process::id();
    let Ok(procs) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds
            .flatten()
            .any(|fd| fs::read_link(fd.path()).is_ok_and(|l| l == target));
        if holds {
            let name = fs::read_to_string(entry.path().join("comm"))
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| "unknown".into());
            found.push(Holder { pid, name });
        }
    }
    found.sort_by_key(|h| h.pid);
    found
}

/// "cheese (pid 42), obs (pid 77)", or `None` when nobody visible holds it.
pub fn describe_holders(path: &Path) -> Option<String> {
    let holders = holders_of(path);
    if holders.is_empty() {
        return None;
    }
    Some(
        holders
            .iter()
            .map(Holder::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    #[test]
    fn finds_the_process_holding_a_file() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("device");
        fs::write(&path, b"x\n")?;
        let mut child = Command::new("tail")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::piped())
            .spawn()?;
        // tail prints the file's line once it has opened it: from then on it holds it. (Its
        // output stays open meanwhile: tail -f ends when its reader goes away.)
        let mut line = String::new();
        let mut output = BufReader::new(child.stdout.take().ok_or("tail has no stdout")?);
        output.read_line(&mut line)?;
        let holders = holders_of(&path);
        child.kill()?;
        drop(output);
        child.wait()?;
        assert_eq!(line, "x\n");
        assert_eq!(
            holders,
            vec![Holder {
                pid: child.id(),
                name: "tail".into()
            }]
        );
        assert!(describe_holders(&path).is_none());
        Ok(())
    }
}
