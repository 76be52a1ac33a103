//! The `sandbox` check: whether booth.service lets the kiosk write where its configuration
//! says it writes. `booth doctor` runs outside the unit, so its other checks see the whole
//! file system; the kiosk runs inside it, where `ProtectSystem=strict` leaves only the state
//! directory (and what `ReadWritePaths=` adds) writable. A `dir:` endpoint on a share, the
//! monitoring text file or a data directory elsewhere must be writable there too, or answers
//! wait for ever while the doctor says all is well.
//!
//! The unit (with its drop-ins) is read as systemd would build the kiosk's view of the disk:
//! every setting below becomes a rule on a path, and the most specific rule that covers a
//! path decides what the kiosk may do there.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::UNIT;
use super::files::Settings;
use crate::config::{Config, Endpoint};
use crate::doctor::Check;

const NAME: &str = "sandbox";

/// What the unit lets the kiosk do under a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    Writable,
    ReadOnly,
    Inaccessible,
    /// A directory of the unit's own (PrivateTmp=, ProtectHome=tmpfs): writes there are
    /// seen by nobody else and lost when the kiosk stops.
    Private,
}

impl Access {
    fn words(self) -> &'static str {
        match self {
            Access::Writable => "writable",
            Access::ReadOnly => "read-only",
            Access::Inaccessible => "hidden",
            Access::Private => "private to the unit (nobody else sees what is written there)",
        }
    }
}

/// The kiosk's view of the disk: (path, access) rules, the most specific one applying.
#[derive(Debug, Default)]
pub(super) struct View {
    rules: Vec<(PathBuf, Access)>,
}

impl View {
    /// The view booth.service gives, from its settings.
    pub(super) fn of(unit: &Settings) -> View {
        let mut view = View::default();
        let last = |key: &str| unit.last("Service", key).map(str::to_ascii_lowercase);
        let read_only: &[&str] = match last("ProtectSystem").as_deref() {
            Some("strict") => &["/"],
            Some("full") => &["/usr", "/boot", "/efi", "/etc"],
            Some("yes" | "true" | "on" | "1") => &["/usr", "/boot", "/efi"],
            _ => &[],
        };
        view.add(read_only, Access::ReadOnly);
        // The kernel's own file systems stay as they are.
        view.add(&["/dev", "/proc", "/sys"], Access::Writable);
        let home: &[&str] = &["/home", "/root", "/run/user"];
        match last("ProtectHome").as_deref() {
            Some("yes" | "true" | "on" | "1") => view.add(home, Access::Inaccessible),
            Some("read-only") => view.add(home, Access::ReadOnly),
            Some("tmpfs") => view.add(home, Access::Private),
            _ => {}
        }
        if matches!(
            last("PrivateTmp").as_deref(),
            Some("yes" | "true" | "on" | "1")
        ) {
            view.add(&["/tmp", "/var/tmp"], Access::Private);
        }
        for (key, base) in [
            ("StateDirectory", "/var/lib"),
            ("CacheDirectory", "/var/cache"),
            ("LogsDirectory", "/var/log"),
            ("RuntimeDirectory", "/run"),
        ] {
            for name in list(unit, key) {
                // `name:symlink` makes a symlink too; the directory is the first half.
                let name = name.split(':').next().unwrap_or_default();
                view.rules
                    .push((Path::new(base).join(name), Access::Writable));
            }
        }
        for (key, access) in [
            ("ReadWritePaths", Access::Writable),
            ("ReadOnlyPaths", Access::ReadOnly),
            ("InaccessiblePaths", Access::Inaccessible),
        ] {
            for path in list(unit, key) {
                // '-': ignored when missing; '+': relative to RootDirectory= (none here).
                let path = path.trim_start_matches(['-', '+']);
                view.rules.push((PathBuf::from(path), access));
            }
        }
        view
    }

    fn add(&mut self, paths: &[&str], access: Access) {
        self.rules
            .extend(paths.iter().map(|p| (PathBuf::from(p), access)));
    }

    /// What the kiosk may do at `path`, and the rule's path that decides it (`None`: no rule,
    /// the unit leaves the disk as it is). The deepest rule wins (between equals, the later
    /// setting), except that nothing under a hidden or private directory can be reached: what
    /// is below it on the disk is not there for the kiosk, whatever ReadWritePaths= says.
    pub(super) fn access(&self, path: &Path) -> (Access, Option<&Path>) {
        let covering = || {
            self.rules
                .iter()
                .enumerate()
                .filter(|(_, (rule, _))| path.starts_with(rule))
        };
        let walled = covering()
            .filter(|(_, (_, a))| matches!(a, Access::Inaccessible | Access::Private))
            .min_by_key(|(_, (rule, _))| rule.components().count());
        walled
            .or_else(|| covering().max_by_key(|(i, (rule, _))| (rule.components().count(), *i)))
            .map_or((Access::Writable, None), |(_, (rule, access))| {
                (*access, Some(rule.as_path()))
            })
    }
}

/// Every path of a list setting, in order: an empty assignment empties the list.
fn list<'a>(unit: &'a Settings, key: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    for value in unit.all("Service", key) {
        if value.trim().is_empty() {
            out.clear();
        }
        out.extend(value.split_whitespace());
    }
    out
}

/// What the kiosk writes, and why: (what, the directory it writes in).
fn written(config: &Config) -> Vec<(&'static str, PathBuf)> {
    let mut out = vec![("the data directory", config.station.data_dir.clone())];
    if let Endpoint::Dir(dir) = &config.upload.endpoint {
        out.push(("the dir: endpoint", dir.clone()));
    }
    if let Some(file) = &config.monitoring.textfile
        && let Some(dir) = file.parent()
    {
        out.push(("the monitoring text file's directory", dir.to_path_buf()));
    }
    out
}

/// The check, judging `root` as the station's `/`.
pub(in crate::doctor) fn check(root: &Path, config: &Config) -> Check {
    let Some(unit) = Settings::unit(root, UNIT) else {
        return Check::ok(
            NAME,
            "booth.service is not installed: the kiosk runs without a sandbox here",
        );
    };
    let view = View::of(&unit);
    let mut blocked = Vec::new();
    let mut facts = Vec::new();
    for (what, path) in written(config) {
        let (access, rule) = view.access(&path);
        facts.push(json!({
            "what": what,
            "path": path,
            "access": access.words(),
            "rule": rule,
        }));
        if access != Access::Writable {
            blocked.push((what, path, access));
        }
    }
    let details = json!({ "unit_files": unit.files, "paths": facts });
    if blocked.is_empty() {
        return Check::ok(
            NAME,
            "booth.service lets the kiosk write its data, deliveries and status",
        )
        .with(details);
    }
    let finding = blocked
        .iter()
        .map(|(what, path, access)| {
            format!(
                "{what} {} is {} under booth.service",
                path.display(),
                access.words()
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let paths = blocked
        .iter()
        .map(|(_, path, _)| path.display().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    Check::failure(
        NAME,
        finding,
        format!(
            "let the unit write there with a drop-in: put \"[Service]\\nReadWritePaths={paths}\" \
             in /etc/systemd/system/booth.service.d/paths.conf (or sudo systemctl edit booth), \
             then sudo systemctl daemon-reload && sudo systemctl restart booth; a path under /tmp \
             or /home stays out of the kiosk's reach while the unit has PrivateTmp= or \
             ProtectHome=: choose another place"
        ),
    )
    .with(details)
}

#[cfg(test)]
#[path = "sandbox_tests.rs"]
mod tests;
