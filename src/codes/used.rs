//! Single-use codes already used at this station: `<data_dir>/used-codes`, one lowercase hex
//! sha256 of a code per line (never the code itself), appended and synced when a code is
//! accepted, so a power cut right after cannot give the code back. Staff can give one back by
//! deleting its line (`printf %s CODE | sha256sum` shows which, the code in upper case); the
//! file is re-read when it changes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::format::code_hash;
use crate::fsutil::{self, FsError};

/// The file's name inside the data directory.
pub const USED_CODES_FILE: &str = "used-codes";

/// What identifies one version of a file on disk.
pub(super) type Stamp = (u64, u64, i64, i64, i64, i64, u64);

/// The file's identity and size, or `None` when it is not there.
pub(super) fn stamp(path: &Path) -> std::io::Result<Option<Stamp>> {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(path) {
        Ok(m) => Ok(Some((
            m.dev(),
            m.ino(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
            m.size(),
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The used codes, as hashes.
#[derive(Debug)]
pub struct UsedCodes {
    path: PathBuf,
    hashes: HashSet<String>,
    /// The version read last.
    stamp: Option<Stamp>,
    /// The file ends without a newline (a write cut short): the next line starts on its own.
    ragged: bool,
}

impl UsedCodes {
    /// Reads `<data_dir>/used-codes`; a missing file is no used codes.
    pub fn open(data_dir: &Path) -> Result<UsedCodes, FsError> {
        let mut used = UsedCodes {
            path: data_dir.join(USED_CODES_FILE),
            hashes: HashSet::new(),
            stamp: None,
            ragged: false,
        };
        used.reload()?;
        Ok(used)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether `code` (in any case, with surrounding space) was used here.
    pub fn contains(&self, code: &str) -> bool {
        self.hashes.contains(&code_hash(code))
    }

    /// How many codes were used here.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Remembers `code` as used, durably; marking it again changes nothing.
    pub fn mark(&mut self, code: &str) -> Result<(), FsError> {
        let hash = code_hash(code);
        if self.hashes.contains(&hash) {
            return Ok(());
        }
        let line = if self.ragged {
            format!("\n{hash}\n")
        } else {
            format!("{hash}\n")
        };
        fsutil::append_durably(&self.path, line.as_bytes())?;
        self.hashes.insert(hash);
        self.ragged = false;
        self.stamp = stamp(&self.path).ok().flatten();
        Ok(())
    }

    /// Re-reads the file if it changed since it was read (staff gave a code back).
    pub fn refresh(&mut self) -> Result<(), FsError> {
        let now = stamp(&self.path).map_err(|e| FsError::new("cannot read", &self.path, e))?;
        if now != self.stamp {
            self.reload()?;
        }
        Ok(())
    }

    fn reload(&mut self) -> Result<(), FsError> {
        let before = stamp(&self.path).map_err(|e| FsError::new("cannot read", &self.path, e))?;
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(FsError::new("cannot read", &self.path, e)),
        };
        self.hashes = text
            .lines()
            .map(str::trim)
            .filter(|l| l.len() == 64 && l.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_ascii_lowercase)
            .collect();
        self.ragged = !text.is_empty() && !text.ends_with('\n');
        self.stamp = before;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn used_codes_survive_a_restart_and_are_stored_as_hashes() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let mut used = UsedCodes::open(dir.path())?;
        assert!(!used.contains("AB-1234"));
        used.mark("ab-1234")?;
        used.mark("AB-1234")?;
        assert!(used.contains(" AB-1234 "));
        assert!(!used.contains("AB-1235"));
        let text = std::fs::read_to_string(dir.path().join(USED_CODES_FILE))?;
        assert_eq!(
            text,
            format!("{}\n", code_hash("AB-1234")),
            "one line, no code"
        );
        assert!(!text.to_ascii_uppercase().contains("AB-1234"));
        let again = UsedCodes::open(dir.path())?;
        assert!(again.contains("AB-1234"));
        assert_eq!(again.len(), 1);
        Ok(())
    }

    #[test]
    fn a_line_cut_short_does_not_swallow_the_next_code() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(USED_CODES_FILE);
        std::fs::write(&path, &code_hash("FIRST-1")[..20])?;
        let mut used = UsedCodes::open(dir.path())?;
        used.mark("SECOND-2")?;
        assert!(UsedCodes::open(dir.path())?.contains("SECOND-2"));
        Ok(())
    }

    #[test]
    fn staff_give_a_code_back_by_deleting_its_line() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let mut used = UsedCodes::open(dir.path())?;
        used.mark("KEEP-1")?;
        used.mark("GIVE-BACK-2")?;
        let path = dir.path().join(USED_CODES_FILE);
        std::fs::write(&path, format!("{}\n", code_hash("KEEP-1")))?;
        used.refresh()?;
        assert!(used.contains("KEEP-1"));
        assert!(!used.contains("GIVE-BACK-2"));
        Ok(())
    }

    #[test]
    fn a_failing_disk_is_reported_and_the_code_is_not_taken_as_marked() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let mut used = UsedCodes::open(dir.path())?;
        // Something that is not a file where the list should be: appending fails.
        std::fs::create_dir(dir.path().join(USED_CODES_FILE))?;
        let e = used.mark("AB-1234").unwrap_err();
        assert!(e.to_string().contains(USED_CODES_FILE), "{e}");
        assert!(!used.contains("AB-1234"));
        assert!(UsedCodes::open(dir.path()).is_err());
        Ok(())
    }
}
