//! The roster as the kiosk sees it while operators' scripts replace it (often by renaming a
//! new file over it): re-read whenever the file's identity, time or length changed, and when
//! a new version is malformed (or gone), the last good one stays in use and the problem is
//! logged once for that version.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use super::roster::{Roster, RosterError};
use super::used::{Stamp, stamp};

/// What was on disk when it was last looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Never,
    Missing,
    Unreadable(std::io::ErrorKind),
    Version(Stamp),
}

/// A file changed this recently may change again within the file system's timestamp
/// granularity without its stamp showing it; such a version is read again next time.
const SETTLE: Duration = Duration::from_secs(2);

/// A roster file followed across replacements.
#[derive(Debug)]
pub struct RosterWatch {
    path: PathBuf,
    seen: Seen,
    /// The version seen is old enough that its stamp tells every later change.
    settled: bool,
    /// sha256 of the bytes last read, so reading an unchanged file again changes nothing.
    content: Option<Vec<u8>>,
    good: Option<Roster>,
    problem: Option<RosterError>,
}

impl RosterWatch {
    /// Follows `path`; nothing is read until [`RosterWatch::current`].
    pub fn new(path: impl Into<PathBuf>) -> RosterWatch {
        RosterWatch {
            path: path.into(),
            seen: Seen::Never,
            settled: false,
            content: None,
            good: None,
            problem: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The roster to use (the newest good version), and what is wrong with the file as it is
    /// now, if anything. Costs one `stat` when nothing changed.
    pub fn current(&mut self) -> (Option<&Roster>, Option<&RosterError>) {
        let now = match stamp(&self.path) {
            Ok(Some(s)) => Seen::Version(s),
            Ok(None) => Seen::Missing,
            Err(e) => Seen::Unreadable(e.kind()),
        };
        if now != self.seen || !self.settled {
            self.settled = !matches!(now, Seen::Version(_)) || !changed_lately(&self.path);
            self.reread();
            self.seen = now;
        }
        (self.good.as_ref(), self.problem.as_ref())
    }

    fn reread(&mut self) {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(source) => {
                let e = RosterError::Read {
                    path: self.path.clone(),
                    source,
                };
                self.content = None;
                self.complain(e);
                return;
            }
        };
        let digest = Sha256::digest(&bytes).to_vec();
        if self.content.as_ref() == Some(&digest) {
            return;
        }
        self.content = Some(digest);
        match Roster::from_bytes(&bytes, &self.path) {
            Ok(roster) => {
                tracing::info!(
                    path = %self.path.display(),
                    codes = roster.rows().len(),
                    "roster read"
                );
                self.good = Some(roster);
                self.problem = None;
            }
            Err(e) => self.complain(e),
        }
    }

    fn complain(&mut self, e: RosterError) {
        match &self.good {
            Some(_) => tracing::error!(
                error = %e,
                "the roster cannot be used; the last good version stays in use"
            ),
            None => tracing::error!(error = %e, "the roster cannot be used"),
        }
        self.problem = Some(e);
    }
}

fn changed_lately(path: &Path) -> bool {
    let modified = std::fs::metadata(path).and_then(|m| m.modified());
    match modified.map(|m| SystemTime::now().duration_since(m)) {
        Ok(Ok(age)) => age < SETTLE,
        // In the future (a clock set back), or unknown: assume it may still change.
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "code,interview\nAB-1234,iv-a\n";

    #[test]
    fn a_replaced_roster_is_read_again_and_a_bad_one_keeps_the_last_good() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("roster.csv");
        let mut watch = RosterWatch::new(&path);

        // Not there yet: no roster, and the reason.
        let (roster, problem) = watch.current();
        assert!(roster.is_none());
        assert!(
            matches!(problem, Some(RosterError::Read { .. })),
            "{problem:?}"
        );

        std::fs::write(&path, GOOD)?;
        let (roster, problem) = watch.current();
        assert_eq!(
            roster
                .ok_or("no roster")?
                .lookup("AB-1234", 0)?
                .interview_id,
            "iv-a"
        );
        assert!(problem.is_none());

        // Replaced by rename, as scripts do, with a malformed version.
        let next = dir.path().join("roster.csv.new");
        std::fs::write(&next, "code,interview\nAB-1234,iv-a\nCD 5678,iv-b\n")?;
        std::fs::rename(&next, &path)?;
        let (roster, problem) = watch.current();
        let roster = roster.ok_or("the last good roster was dropped")?;
        assert_eq!(roster.lookup("AB-1234", 0)?.interview_id, "iv-a");
        let problem = problem.ok_or("no problem reported")?;
        assert_eq!(problem.line(), Some(3));
        assert!(
            problem
                .to_string()
                .starts_with(&format!("{}:3:1: ", path.display()))
        );

        // Fixed in place: the new codes count.
        std::fs::write(&path, "code,interview\nAB-1234,iv-a\nCD-5678,iv-b\n")?;
        let (roster, problem) = watch.current();
        assert_eq!(
            roster
                .ok_or("no roster")?
                .lookup("cd-5678", 0)?
                .interview_id,
            "iv-b"
        );
        assert!(problem.is_none());

        // Removed: the last good version stays, and the removal is the problem.
        std::fs::remove_file(&path)?;
        let (roster, problem) = watch.current();
        assert!(roster.is_some());
        assert!(matches!(problem, Some(RosterError::Read { .. })));
        Ok(())
    }

    #[test]
    fn an_edit_in_place_keeping_the_length_is_seen() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("roster.csv");
        std::fs::write(&path, GOOD)?;
        let mut watch = RosterWatch::new(&path);
        assert!(watch.current().0.is_some());
        // Same length, same inode, maybe the same timestamp: the version was too fresh to
        // trust its stamp, so it is read again.
        std::fs::write(&path, GOOD.replace("iv-a", "iv-z"))?;
        let (roster, _) = watch.current();
        assert_eq!(
            roster
                .ok_or("no roster")?
                .lookup("AB-1234", 0)?
                .interview_id,
            "iv-z"
        );
        Ok(())
    }
}
