//! Files that hold a candidate's recordings and progress: created private (0600 files in 0700
//! directories), replaced atomically (write, fsync, rename, fsync the directory) so a power cut
//! leaves either the old or the new version, never half of one.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Mode for files holding candidate data.
pub const FILE_MODE: u32 = 0o600;
/// Mode for directories booth creates.
pub const DIR_MODE: u32 = 0o700;

/// An I/O error with the path it happened on, so messages name the file.
#[derive(Debug, thiserror::Error)]
#[error("{action} {}: {source}", path.display())]
pub struct FsError {
    pub action: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

impl FsError {
    pub fn new(action: &'static str, path: &Path, source: io::Error) -> Self {
        FsError {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn kind(&self) -> io::ErrorKind {
        self.source.kind()
    }
}

/// Creates `dir` and any missing parents with mode 0700. Existing directories keep their mode:
/// an operator may have chosen a shared data directory on purpose.
pub fn create_private_dir(dir: &Path) -> Result<(), FsError> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|e| FsError::new("cannot create directory", dir, e))
}

/// Creates the parent directory of `path` (0700) if it is missing.
pub fn create_parent_dir(path: &Path) -> Result<(), FsError> {
    match path.parent() {
        Some(parent) => create_private_dir(parent),
        None => Ok(()),
    }
}

/// Creates (or truncates) a file with mode 0600, creating its directory if needed.
pub fn create_private_file(path: &Path) -> Result<File, FsError> {
    create_parent_dir(path)?;
    OpenOptions::new()
        .write(true)
        .read(true)
        .create(true)
        .truncate(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(|e| FsError::new("cannot create", path, e))
}

/// Flushes a directory entry change (create, rename, unlink) to disk.
pub fn sync_dir(dir: &Path) -> Result<(), FsError> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| FsError::new("cannot sync directory", dir, e))
}

/// The temporary sibling used while replacing `path`.
pub fn temp_sibling(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Renames `from` over `to` and makes the rename durable.
pub fn rename_durable(from: &Path, to: &Path) -> Result<(), FsError> {
    fs::rename(from, to).map_err(|e| FsError::new("cannot rename into place", to, e))?;
    sync_dir(to.parent().unwrap_or(Path::new(".")))
}

/// Writes `bytes` to `path` atomically: a private temporary sibling, fsync, rename, fsync dir.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FsError> {
    let tmp = temp_sibling(path);
    let mut f = create_private_file(&tmp)?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| FsError::new("cannot write", &tmp, e))?;
    drop(f);
    rename_durable(&tmp, path)
}

/// Bytes an unprivileged writer can still use on the filesystem holding `path`, or holding
/// its nearest existing ancestor when it does not exist yet (a recording's directory is
/// created when the recording starts).
pub fn free_bytes(path: &Path) -> Result<u64, FsError> {
    let mut probe = path;
    while fs::symlink_metadata(probe).is_err() {
        match probe.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => probe = parent,
            _ => {
                probe = Path::new(".");
                break;
            }
        }
    }
    let st = rustix::fs::statvfs(probe)
        .map_err(|e| FsError::new("cannot measure free space on", probe, e.into()))?;
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn private_file_and_dirs_have_private_modes() -> crate::TestResult {
        let root = tempfile::tempdir()?;
        let path = root.path().join("a/b/answer.mp4");
        drop(create_private_file(&path)?);
        let mode = |p: &Path| fs::metadata(p).map(|m| m.permissions().mode() & 0o777);
        assert_eq!(mode(&path)?, 0o600);
        assert_eq!(mode(&root.path().join("a"))?, 0o700);
        assert_eq!(mode(&root.path().join("a/b"))?, 0o700);
        Ok(())
    }

    #[test]
    fn atomic_write_replaces_whole_file() -> crate::TestResult {
        let root = tempfile::tempdir()?;
        let path = root.path().join("state.json");
        write_atomic(&path, b"first version, rather long")?;
        write_atomic(&path, b"second")?;
        assert_eq!(fs::read(&path)?, b"second");
        assert!(!temp_sibling(&path).exists());
        Ok(())
    }

    #[test]
    fn free_space_is_measured_for_paths_not_yet_created() -> crate::TestResult {
        let root = tempfile::tempdir()?;
        let here = free_bytes(root.path())?;
        assert!(here > 0);
        let later = free_bytes(&root.path().join("sessions/c1/answer.mp4"))?;
        // The same filesystem; other writers may change it a little in between.
        assert!(later.abs_diff(here) < 64 << 20, "{here} then {later}");
        let st = rustix::fs::statvfs(root.path())?;
        assert!(here <= st.f_blocks.saturating_mul(st.f_frsize));
        Ok(())
    }

    #[test]
    fn errors_name_the_path() {
        let err = create_private_file(Path::new("/proc/booth-cannot-exist/x")).unwrap_err();
        assert!(
            err.to_string().contains("/proc/booth-cannot-exist"),
            "{err}"
        );
    }
}
