//! The kiosk's Prometheus text file for node_exporter's textfile collector (`[monitoring]
//! textfile`): rewritten whenever the kiosk's status changes, and every few seconds besides so
//! that the outbox's figures (which the upload service changes) and the time in it stay
//! current. Replaced atomically (a sibling, then a rename) so the collector never reads half
//! a file; world-readable, since node_exporter runs as another user.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::watch;

use super::KioskStatus;
use crate::config::Config;
use crate::fsutil::{self, FsError};

/// The text file is rewritten at least this often.
pub const TEXTFILE_REFRESH: Duration = Duration::from_secs(15);

/// Where the running kiosk publishes its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusFiles {
    /// `status.json` lives here, and the outbox under it.
    pub data_dir: PathBuf,
    pub station_id: String,
    /// The Prometheus text file, if the station keeps one.
    pub textfile: Option<PathBuf>,
}

impl StatusFiles {
    /// The files of a station running with `config` on `data_dir`.
    pub fn of(config: &Config, data_dir: PathBuf) -> StatusFiles {
        StatusFiles {
            data_dir,
            station_id: config.station.id.clone(),
            textfile: config.monitoring.textfile.clone(),
        }
    }
}

/// Replaces `path` with `text`, mode 0644 whatever the umask. No fsync: the file is a
/// snapshot rewritten every few seconds, and a reader sees the old or the new one either way.
pub fn write(path: &Path, text: &str) -> Result<(), FsError> {
    let tmp = fsutil::temp_sibling(path);
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.set_permissions(std::fs::Permissions::from_mode(0o644))
        })
        .map_err(|e| FsError::new("cannot write", &tmp, e));
    let placed = written.and_then(|()| fsutil::rename(&tmp, path));
    if placed.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    placed
}

/// Keeps `files.textfile` current from the kiosk's status (nothing when there is none) until
/// the kiosk drops its sender.
pub fn spawn(files: StatusFiles, mut kiosk: watch::Receiver<KioskStatus>) {
    let Some(path) = files.textfile.clone() else {
        return;
    };
    tokio::spawn(async move {
        let mut failing = false;
        loop {
            let mut current = kiosk.borrow_and_update().clone();
            current.updated_unix = crate::clock::unix_now();
            let (files, path) = (files.clone(), path.clone());
            let written = tokio::task::spawn_blocking(move || {
                let status = super::station_status_with(
                    &files.station_id,
                    &files.data_dir,
                    Some(current),
                    true,
                );
                let text = super::prometheus::render(&status, crate::clock::now_ms());
                write(&path, &text)
            })
            .await;
            match written {
                // Once per spell of trouble, not every 15 s.
                Ok(Err(e)) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e, "cannot write the monitoring text file");
                }
                Ok(Ok(())) => failing = false,
                _ => {}
            }
            tokio::select! {
                changed = kiosk.changed() => if changed.is_err() { break },
                _ = tokio::time::sleep(TEXTFILE_REFRESH) => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_replaced_whole_and_readable_by_others() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("booth.prom");
        std::fs::write(&path, "old\n")?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        write(&path, "new\n")?;
        assert_eq!(std::fs::read_to_string(&path)?, "new\n");
        let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        let names: Vec<_> = std::fs::read_dir(dir.path())?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()?;
        assert_eq!(names, vec![std::ffi::OsString::from("booth.prom")]);
        // A directory that is not there is an error naming the temporary file.
        let missing = dir.path().join("no/booth.prom");
        match write(&missing, "x\n") {
            Err(e) => assert_eq!(e.path, fsutil::temp_sibling(&missing)),
            Ok(()) => return Err("wrote into a missing directory".into()),
        }
        Ok(())
    }
}
