//! Files that hold a candidate's recordings and progress: created private (0600 files in 0700
//! directories), replaced atomically (write, fsync, rename, fsync the directory) so a power cut
//! leaves either the old or the new version, never half of one.
//!
//! Every change booth makes to the data directory's structure goes through here, which is
//! also where [`faults`] can make any of them fail (a full disk, an I/O error) in tests and in
//! the station simulation.

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

/// Failures injected on purpose: a test installs a plan that may fail any operation of this
/// module (with ENOSPC, EIO, …), to prove that nothing is lost when the disk misbehaves. With
/// no plan installed (always, outside tests) every check passes at the cost of one read lock.
pub mod faults {
    use std::io;
    use std::path::Path;
    use std::sync::{Arc, PoisonError, RwLock};

    /// The operations a plan can fail.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Op {
        CreateDir,
        Create,
        Write,
        Sync,
        Rename,
        Remove,
    }

    /// Decides, per operation and path, whether it fails and with which OS error number.
    pub type Plan = dyn Fn(Op, &Path) -> Option<i32> + Send + Sync;

    static PLAN: RwLock<Option<Arc<Plan>>> = RwLock::new(None);

    /// Installs (or, with `None`, removes) the plan for the whole process.
    pub fn install(plan: Option<Arc<Plan>>) {
        *PLAN.write().unwrap_or_else(PoisonError::into_inner) = plan;
    }

    pub(super) fn check(op: Op, path: &Path) -> io::Result<()> {
        let plan = PLAN.read().unwrap_or_else(PoisonError::into_inner);
        match plan.as_ref().and_then(|p| p(op, path)) {
            Some(errno) => Err(io::Error::from_raw_os_error(errno)),
            None => Ok(()),
        }
    }
}

use faults::{Op, check};

/// Creates `dir` and any missing parents with mode 0700. Existing directories keep their mode:
/// an operator may have chosen a shared data directory on purpose.
pub fn create_private_dir(dir: &Path) -> Result<(), FsError> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    check(Op::CreateDir, dir).map_err(|e| FsError::new("cannot create directory", dir, e))?;
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
    check(Op::Create, path).map_err(|e| FsError::new("cannot create", path, e))?;
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
    check(Op::Sync, dir)
        .and_then(|()| File::open(dir))
        .and_then(|d| d.sync_all())
        .map_err(|e| FsError::new("cannot sync directory", dir, e))
}

/// The temporary sibling used while replacing `path`.
pub fn temp_sibling(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Renames `from` to `to` (not durable by itself: sync the directories after).
pub fn rename(from: &Path, to: &Path) -> Result<(), FsError> {
    check(Op::Rename, to)
        .and_then(|()| fs::rename(from, to))
        .map_err(|e| FsError::new("cannot rename into place", to, e))
}

/// Renames `from` over `to` and makes the rename durable.
pub fn rename_durable(from: &Path, to: &Path) -> Result<(), FsError> {
    rename(from, to)?;
    sync_dir(to.parent().unwrap_or(Path::new(".")))
}

/// Removes a file; one already gone is fine.
pub fn remove_file(path: &Path) -> Result<(), FsError> {
    match check(Op::Remove, path).and_then(|()| fs::remove_file(path)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(FsError::new("cannot remove", path, e))
        }
        _ => Ok(()),
    }
}

/// Removes a directory and everything in it; one already gone is fine.
pub fn remove_dir_all(dir: &Path) -> Result<(), FsError> {
    match check(Op::Remove, dir).and_then(|()| fs::remove_dir_all(dir)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(FsError::new("cannot remove", dir, e)),
        _ => Ok(()),
    }
}

/// Copies `from` to a new private file `to` through a temporary sibling, synced before it is
/// renamed into place (for moves across file systems).
pub fn copy_durably(from: &Path, to: &Path) -> Result<(), FsError> {
    let tmp = temp_sibling(to);
    let mut src = File::open(from).map_err(|e| FsError::new("cannot open", from, e))?;
    let mut dst = create_private_file(&tmp)?;
    let copied = check(Op::Write, &tmp)
        .and_then(|()| io::copy(&mut src, &mut dst))
        .and_then(|_| check(Op::Sync, &tmp))
        .and_then(|()| dst.sync_all());
    if let Err(e) = copied {
        drop(dst);
        let _ = fs::remove_file(&tmp);
        return Err(FsError::new("cannot copy to", &tmp, e));
    }
    drop(dst);
    rename_durable(&tmp, to)
}

/// Writes `bytes` to `path` atomically: a private temporary sibling, fsync, rename, fsync dir.
/// On failure the old version (if any) is untouched and no temporary file is left.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FsError> {
    let tmp = temp_sibling(path);
    let mut f = create_private_file(&tmp)?;
    let written = check(Op::Write, &tmp)
        .and_then(|()| f.write_all(bytes))
        .and_then(|()| check(Op::Sync, &tmp))
        .and_then(|()| f.sync_all());
    drop(f);
    let result = written
        .map_err(|e| FsError::new("cannot write", &tmp, e))
        .and_then(|()| rename_durable(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Appends `bytes` to the private file `path` (created 0600 if missing, its directory too)
/// and makes them durable: the data synced, and a new file's directory entry synced.
pub fn append_durably(path: &Path, bytes: &[u8]) -> Result<(), FsError> {
    let created = !path.exists();
    if created {
        create_parent_dir(path)?;
        check(Op::Create, path).map_err(|e| FsError::new("cannot create", path, e))?;
    }
    let mut f = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(|e| FsError::new("cannot open", path, e))?;
    check(Op::Write, path)
        .and_then(|()| f.write_all(bytes))
        .and_then(|()| check(Op::Sync, path))
        .and_then(|()| f.sync_data())
        .map_err(|e| FsError::new("cannot append to", path, e))?;
    if created {
        sync_dir(path.parent().unwrap_or(Path::new(".")))?;
    }
    Ok(())
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
    fn appending_creates_a_private_file_and_adds_to_it() -> crate::TestResult {
        let root = tempfile::tempdir()?;
        let path = root.path().join("d/list");
        append_durably(&path, b"one\n")?;
        append_durably(&path, b"two\n")?;
        assert_eq!(fs::read(&path)?, b"one\ntwo\n");
        assert_eq!(fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
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
