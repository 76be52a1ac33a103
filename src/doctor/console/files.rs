//! Reading the station's settings as systemd, logind, sysctl and the kernel would, under a
//! folder standing in for `/` (so that tests can prepare one): unit files with their
//! drop-ins, `logind.conf` and `system.conf` with theirs, `sysctl.d`, and a process's
//! terminal and capabilities from `/proc`. Every reader answers `None` (or nothing) for what
//! is not there; the checks decide what that means.

use std::path::{Path, PathBuf};

/// Where systemd looks for units and configuration, most important first (a file of the same
/// name in an earlier folder hides the later ones).
const SYSTEMD_DIRS: [&str; 4] = [
    "etc/systemd",
    "run/systemd",
    "usr/local/lib/systemd",
    "usr/lib/systemd",
];
const SYSCTL_DIRS: [&str; 4] = [
    "etc/sysctl.d",
    "run/sysctl.d",
    "usr/local/lib/sysctl.d",
    "usr/lib/sysctl.d",
];

/// The `*.conf` files of `sub` in each of `dirs` under `root`, in the order they apply: by
/// file name, a name in an earlier folder hiding the same name in later ones.
fn dropins(root: &Path, dirs: &[&str], sub: &str) -> Vec<PathBuf> {
    let mut by_name = std::collections::BTreeMap::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".conf") {
                by_name.entry(name).or_insert_with(|| entry.path());
            }
        }
    }
    by_name.into_values().collect()
}

/// One `Key=Value` line of an INI-style file, with the section it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Assignment {
    pub section: String,
    pub key: String,
    pub value: String,
}

/// The assignments of a systemd-style file: `#` and `;` start comments, `[Section]` headers,
/// a trailing backslash continues the line.
pub(super) fn parse_ini(text: &str) -> Vec<Assignment> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut pending = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if pending.is_empty() && (line.starts_with('#') || line.starts_with(';')) {
            continue;
        }
        if let Some(start) = line.strip_suffix('\\') {
            pending.push_str(start);
            pending.push(' ');
            continue;
        }
        let whole = std::mem::take(&mut pending) + line;
        if let Some(name) = whole.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
        } else if let Some((key, value)) = whole.split_once('=') {
            out.push(Assignment {
                section: section.clone(),
                key: key.trim().to_string(),
                value: value.trim().to_string(),
            });
        }
    }
    out
}

/// A configuration as one daemon reads it: its main file and drop-ins, in order.
#[derive(Debug, Default)]
pub(super) struct Settings {
    /// The files read, in order.
    pub files: Vec<PathBuf>,
    assignments: Vec<Assignment>,
}

impl Settings {
    fn read(files: Vec<PathBuf>) -> Settings {
        let mut settings = Settings::default();
        for file in files {
            if let Ok(text) = std::fs::read_to_string(&file) {
                settings.assignments.extend(parse_ini(&text));
                settings.files.push(file);
            }
        }
        settings
    }

    /// `/etc/systemd/<name>` (or the first of the other folders that has it) and every
    /// `<name>.d/*.conf`: how logind reads `logind.conf` and systemd `system.conf`.
    pub fn daemon(root: &Path, name: &str) -> Settings {
        let main = SYSTEMD_DIRS
            .iter()
            .map(|d| root.join(d).join(name))
            .find(|p| p.is_file());
        let mut files: Vec<PathBuf> = main.into_iter().collect();
        files.extend(dropins(root, &SYSTEMD_DIRS, &format!("{name}.d")));
        Settings::read(files)
    }

    /// A unit file (the first folder that has it) and its `<unit>.d/*.conf` drop-ins; `None`
    /// when no folder has it.
    pub fn unit(root: &Path, unit: &str) -> Option<Settings> {
        let main = SYSTEMD_DIRS
            .iter()
            .map(|d| root.join(d).join("system").join(unit))
            .find(|p| p.is_file())?;
        let mut files = vec![main];
        let system_dirs: Vec<String> = SYSTEMD_DIRS.iter().map(|d| format!("{d}/system")).collect();
        let dirs: Vec<&str> = system_dirs.iter().map(String::as_str).collect();
        files.extend(dropins(root, &dirs, &format!("{unit}.d")));
        Some(Settings::read(files))
    }

    /// The last value given to `key` in `section`: the one that counts.
    pub fn last(&self, section: &str, key: &str) -> Option<&str> {
        self.all(section, key).last().copied()
    }

    /// Every value given to `key` in `section`, in order (for settings that accumulate).
    pub fn all(&self, section: &str, key: &str) -> Vec<&str> {
        self.assignments
            .iter()
            .filter(|a| a.section == section && a.key == key)
            .map(|a| a.value.as_str())
            .collect()
    }
}

/// Whether a capability list setting (`AmbientCapabilities=`, `CapabilityBoundingSet=`) ends
/// up holding `cap`, from its assignments in order: `unset` when there are none; an empty one
/// clears the list; `~` lists everything but the names given, merged with what came before.
pub(super) fn capability_in(assignments: &[&str], cap: &str, unset: bool) -> bool {
    let mut held: Option<bool> = None;
    for value in assignments {
        let value = value.trim();
        if value.is_empty() {
            held = Some(false);
        } else if let Some(list) = value.strip_prefix('~') {
            let named = list.split_whitespace().any(|c| c == cap);
            held = Some(held.unwrap_or(true) && !named);
        } else {
            let named = value.split_whitespace().any(|c| c == cap);
            held = Some(held.unwrap_or(false) || named);
        }
    }
    held.unwrap_or(unset)
}

/// Whether `unit` is masked: linked to /dev/null (or left empty) in /etc or /run.
pub(super) fn masked(root: &Path, unit: &str) -> bool {
    ["etc/systemd/system", "run/systemd/system"]
        .iter()
        .any(|d| {
            let path = root.join(d).join(unit);
            let to_null =
                std::fs::read_link(&path).is_ok_and(|target| target == Path::new("/dev/null"));
            let empty = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && m.len() == 0);
            to_null || empty
        })
}

/// The units the station starts at boot: every entry of `/etc/systemd/system/*.wants/`.
pub(super) fn wanted_units(root: &Path) -> Vec<String> {
    let Ok(dirs) = std::fs::read_dir(root.join("etc/systemd/system")) else {
        return Vec::new();
    };
    let mut units: Vec<String> = dirs
        .flatten()
        .filter(|d| d.file_name().to_string_lossy().ends_with(".wants"))
        .filter_map(|d| std::fs::read_dir(d.path()).ok())
        .flat_map(|entries| entries.flatten())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    units.sort();
    units.dedup();
    units
}

/// The value of a sysctl as systemd-sysctl sets it at boot: the last assignment in the
/// `sysctl.d` files (by file name; Debian links `/etc/sysctl.conf` in as `99-sysctl.conf`),
/// and the file that made it.
pub(super) fn sysctl_at_boot(root: &Path, key: &str) -> Option<(String, PathBuf)> {
    let slashed = key.replace('.', "/");
    let mut found = None;
    for file in dropins(root, &SYSCTL_DIRS, "") {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for line in text.lines().map(str::trim) {
            if line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            // A leading '-' only means "ignore failures".
            let line = line.trim_start_matches('-');
            if let Some((k, v)) = line.split_once('=')
                && (k.trim() == key || k.trim() == slashed)
            {
                found = Some((v.trim().to_string(), file.clone()));
            }
        }
    }
    found
}

/// A number as the kernel's sysctl parser takes it: decimal, or hexadecimal after `0x`.
pub(super) fn parse_number(text: &str) -> Option<u32> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// What `/proc/<pid>` says of a process: its controlling terminal and effective capabilities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Process {
    pub pid: u32,
    pub name: String,
    /// The controlling terminal as (major, minor); `None` without one.
    pub tty: Option<(u32, u32)>,
    /// The effective capability mask.
    pub caps: Option<u64>,
}

impl Process {
    pub fn read(root: &Path, pid: u32) -> Option<Process> {
        let dir = root.join("proc").join(pid.to_string());
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        // The name is in parentheses and may hold anything, spaces and ')' included.
        let (head, rest) = stat.rsplit_once(')')?;
        let name = head.split_once('(')?.1.to_string();
        // After the name: state ppid pgrp session tty_nr.
        let tty_nr: u32 = rest.split_whitespace().nth(4)?.parse().ok()?;
        let tty = (tty_nr != 0).then(|| {
            let major = (tty_nr >> 8) & 0xfff;
            let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
            (major, minor)
        });
        let caps = std::fs::read_to_string(dir.join("status"))
            .ok()
            .and_then(|status| {
                status.lines().find_map(|l| {
                    let hex = l.strip_prefix("CapEff:")?;
                    u64::from_str_radix(hex.trim(), 16).ok()
                })
            });
        Some(Process {
            pid,
            name,
            tty,
            caps,
        })
    }

    /// Every process under `root/proc`.
    pub fn all(root: &Path) -> Vec<Process> {
        let Ok(entries) = std::fs::read_dir(root.join("proc")) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .filter_map(|pid| Process::read(root, pid))
            .collect()
    }

    /// The VT of its controlling terminal, when that is one.
    pub fn vt(&self) -> Option<u16> {
        let (major, minor) = self.tty?;
        crate::vt::vt_number(major, minor)
    }
}
