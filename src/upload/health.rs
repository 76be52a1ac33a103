//! Whether the upload endpoint takes answers at all: the problems no retry can fix (no token,
//! a token the platform refuses, a creation URL that is not there, chunks a proxy refuses at
//! the configured size), kept current by the running service and written to
//! `<outbox>/health.json` whenever they change, so `booth status`, `booth doctor` and the
//! heartbeat see a misconfigured station without asking the service.
//!
//! Only the process holding the outbox writes the file (it starts it afresh: what an earlier
//! process saw may have been fixed since). A problem is cleared by evidence against it: the
//! server creating an upload, or taking bytes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::error::UploadError;
use super::problem::EndpointProblem;
use crate::clock::now_ms;
use crate::config::Endpoint;
use crate::fsutil::{self, FsError};

/// The file in the outbox directory.
pub const HEALTH_FILE: &str = "health.json";

/// The endpoint as the health file names it: the tus URL, or `dir:<path>`.
pub fn endpoint_name(endpoint: &Endpoint) -> String {
    match endpoint {
        Endpoint::Dir(dir) => format!("dir:{}", dir.display()),
        Endpoint::Tus(url) => url.clone(),
    }
}

/// Whether `evidence` shows `problem` is gone. A creation says nothing about chunk sizes.
fn cleared_by(problem: &EndpointProblem, evidence: Evidence) -> bool {
    !matches!(
        (problem, evidence),
        (EndpointProblem::ChunkTooLarge { .. }, Evidence::Created)
    )
}

/// What the endpoint just did right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// The server created an upload (the token and the creation URL work).
    Created,
    /// The server took bytes (or a copy was delivered).
    BytesTaken,
}

/// The upload service's view of its endpoint, as `health.json` holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadHealth {
    /// The configured endpoint (a tus URL or `dir:<path>`).
    pub endpoint: String,
    /// `None` while no problem is known.
    pub problem: Option<EndpointProblem>,
    /// The problem in plain words, and what to do, for people reading the file or a heartbeat.
    pub message: Option<String>,
    pub fix: Option<String>,
    /// When the current problem was first seen (ms since the Unix epoch).
    pub since_ms: Option<u64>,
    /// When this was written, and by which process.
    pub updated_ms: u64,
    pub pid: u32,
}

impl UploadHealth {
    /// No problem known for `endpoint`.
    pub fn fresh(endpoint: &str) -> UploadHealth {
        UploadHealth {
            endpoint: endpoint.to_string(),
            problem: None,
            message: None,
            fix: None,
            since_ms: None,
            updated_ms: now_ms(),
            pid: std::process::id(),
        }
    }

    /// `health.json` of an outbox; `None` when no service has written one.
    pub fn read(outbox_dir: &Path) -> Result<Option<UploadHealth>, UploadError> {
        let path = outbox_dir.join(HEALTH_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| UploadError::BadRecord {
                        path,
                        detail: e.to_string(),
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(FsError::new("cannot read", &path, e).into()),
        }
    }

    fn write(&self, outbox_dir: &Path) -> Result<(), UploadError> {
        let path = outbox_dir.join(HEALTH_FILE);
        let json = serde_json::to_vec_pretty(self).map_err(|e| UploadError::BadRecord {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        fsutil::write_atomic(&path, &json)?;
        Ok(())
    }

    /// With `problem` as the current one; `false` when nothing changed.
    fn set(&mut self, problem: Option<EndpointProblem>) -> bool {
        if self.problem == problem {
            return false;
        }
        self.since_ms = problem.as_ref().map(|_| now_ms());
        self.message = problem.as_ref().map(ToString::to_string);
        self.fix = problem.as_ref().map(EndpointProblem::fix);
        self.problem = problem;
        self.updated_ms = now_ms();
        true
    }
}

/// The running service's health: kept in a watch channel for its front ends, and written to
/// the outbox on every change.
pub(super) struct HealthKeeper {
    dir: PathBuf,
    state: watch::Sender<UploadHealth>,
    /// One write at a time, each of the latest state, so the file never goes back in time.
    writing: tokio::sync::Mutex<()>,
}

impl HealthKeeper {
    /// Starts afresh (no problem known) and says so in the outbox.
    pub fn start(outbox_dir: &Path, endpoint: &str) -> HealthKeeper {
        let health = UploadHealth::fresh(endpoint);
        if let Err(e) = health.write(outbox_dir) {
            tracing::warn!(error = %e, "cannot write the upload health file");
        }
        HealthKeeper {
            dir: outbox_dir.to_path_buf(),
            state: watch::Sender::new(health),
            writing: tokio::sync::Mutex::new(()),
        }
    }

    pub fn current(&self) -> UploadHealth {
        self.state.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<UploadHealth> {
        self.state.subscribe()
    }

    /// The endpoint refuses every delivery until `problem` is fixed.
    pub async fn trouble(&self, problem: EndpointProblem) {
        let text = problem.to_string();
        if self.state.send_if_modified(|h| h.set(Some(problem))) {
            tracing::error!(problem = %text, "the upload endpoint refuses: answers wait until the configuration is fixed");
            self.persist().await;
        }
    }

    /// The endpoint did something right: clears a problem that `evidence` disproves.
    pub async fn works(&self, evidence: Evidence) {
        let cleared = self.state.send_if_modified(|h| match &h.problem {
            Some(p) if cleared_by(p, evidence) => h.set(None),
            _ => false,
        });
        if cleared {
            tracing::info!("the upload endpoint works again");
            self.persist().await;
        }
    }

    async fn persist(&self) {
        let _one_at_a_time = self.writing.lock().await;
        let (health, dir) = (self.current(), self.dir.clone());
        let written = tokio::task::spawn_blocking(move || health.write(&dir)).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot write the upload health file"),
            Err(e) => tracing::warn!(error = %e, "the upload health write failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unauthorized() -> EndpointProblem {
        EndpointProblem::Unauthorized {
            method: "POST".into(),
            url: "https://up.example/files/".into(),
            status: 401,
        }
    }

    #[tokio::test]
    async fn problems_are_written_when_they_change_and_cleared_by_evidence() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let keeper = HealthKeeper::start(dir.path(), "https://up.example/files/");
        let on_disk = || UploadHealth::read(dir.path());
        assert_eq!(on_disk()?.ok_or("no health file")?.problem, None);

        keeper.trouble(unauthorized()).await;
        let h = on_disk()?.ok_or("no health file")?;
        assert_eq!(h.problem, Some(unauthorized()));
        let message = h.message.ok_or("no message")?;
        assert!(message.contains("answered 401"), "{message}");
        assert!(h.since_ms.is_some());

        let chunk = EndpointProblem::ChunkTooLarge {
            url: "https://up.example/files/abc".into(),
            bytes: 8 << 20,
        };
        keeper.trouble(chunk.clone()).await;
        // A creation proves the token and the URL, not the chunk size.
        keeper.works(Evidence::Created).await;
        assert_eq!(on_disk()?.ok_or("no health file")?.problem, Some(chunk));
        keeper.works(Evidence::BytesTaken).await;
        let h = on_disk()?.ok_or("no health file")?;
        assert_eq!((h.problem, h.message, h.since_ms), (None, None, None));
        assert_eq!(keeper.current().endpoint, "https://up.example/files/");
        Ok(())
    }

    #[test]
    fn a_missing_file_is_no_health_and_a_broken_one_an_error() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        assert_eq!(UploadHealth::read(dir.path())?, None);
        std::fs::write(dir.path().join(HEALTH_FILE), "{ half")?;
        match UploadHealth::read(dir.path()) {
            Err(UploadError::BadRecord { path, .. }) => {
                assert_eq!(path, dir.path().join(HEALTH_FILE))
            }
            other => return Err(format!("expected BadRecord, got {other:?}").into()),
        }
        Ok(())
    }
}
