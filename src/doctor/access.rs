//! Whether this user may open a device node, and if not, why in words an operator can act on:
//! which group owns it (`video`, `audio`) and whether this user is in that group. Read from
//! /etc/passwd, /etc/group and /proc/self/status, without libc calls.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// What stands between this user and a device node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Denied {
    pub user: String,
    /// The group owning the node, by name when /etc/group has it.
    pub group: String,
    /// Whether this process already carries that group (then only a new login helps).
    pub in_group: bool,
}

/// `None` when this user can open `path` for reading and writing (as V4L2 and ALSA need).
pub(super) fn denied(path: &Path) -> Option<Denied> {
    use rustix::fs::{Access, access};
    if access(path, Access::READ_OK | Access::WRITE_OK).is_ok() {
        return None;
    }
    let meta = std::fs::metadata(path).ok()?;
    let gid = meta.gid();
    Some(Denied {
        user: user_name(),
        group: group_name(gid).unwrap_or_else(|| gid.to_string()),
        in_group: my_groups().contains(&gid),
    })
}

impl Denied {
    /// The finding and the fix, for `what` ("camera /dev/video0").
    pub fn words(&self, what: &str) -> (String, String) {
        let Denied {
            user,
            group,
            in_group,
        } = self;
        if *in_group {
            (
                format!(
                    "{what} cannot be opened by user {user}, although {user} is in group {group}"
                ),
                "the group was added after this login: log in again, or restart booth \
                 (sudo systemctl restart booth); check the node's mode with ls -l"
                    .to_string(),
            )
        } else {
            (
                format!("{what} cannot be opened by user {user}: it belongs to group {group}"),
                format!(
                    "add the user to the group: sudo adduser {user} {group}, then log in again \
                     (or sudo systemctl restart booth)"
                ),
            )
        }
    }
}

/// This process's user name, or its uid.
pub(super) fn user_name() -> String {
    let uid = status_ids("Uid:").first().copied().unwrap_or(u32::MAX);
    lookup("/etc/passwd", uid).unwrap_or_else(|| uid.to_string())
}

/// The numbers on one line of /proc/self/status ("Uid:", "Gid:", "Groups:"): real id first.
fn status_ids(key: &str) -> Vec<u32> {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|l| {
                l.strip_prefix(key).map(|ids| {
                    ids.split_whitespace()
                        .filter_map(|g| g.parse().ok())
                        .collect()
                })
            })
        })
        .unwrap_or_default()
}

fn group_name(gid: u32) -> Option<String> {
    lookup("/etc/group", gid)
}

/// The name on the line of a passwd/group file whose third field is `id`.
fn lookup(file: &str, id: u32) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let found: u32 = fields.nth(1)?.parse().ok()?;
        (found == id).then(|| name.to_string())
    })
}

/// The primary and supplementary groups of this process.
fn my_groups() -> Vec<u32> {
    let mut groups = status_ids("Gid:");
    groups.extend(status_ids("Groups:"));
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_system_files() -> crate::TestResult {
        // Every Linux system has root as uid and gid 0.
        assert_eq!(lookup("/etc/passwd", 0).as_deref(), Some("root"));
        assert_eq!(lookup("/etc/group", 0).as_deref(), Some("root"));
        assert!(!user_name().is_empty());
        let gid = std::fs::metadata("/proc/self")?.gid();
        assert!(my_groups().contains(&gid), "{:?}", my_groups());
        Ok(())
    }

    #[test]
    fn the_words_say_which_group_and_how_to_join_it() {
        let d = Denied {
            user: "booth".into(),
            group: "video".into(),
            in_group: false,
        };
        let (finding, fix) = d.words("camera /dev/video0");
        assert_eq!(
            finding,
            "camera /dev/video0 cannot be opened by user booth: it belongs to group video"
        );
        assert!(fix.starts_with("add the user to the group: sudo adduser booth video"));
        let (_, fix) = Denied {
            in_group: true,
            ..d
        }
        .words("camera /dev/video0");
        assert!(fix.contains("log in again"), "{fix}");
    }
}
