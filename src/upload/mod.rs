//! Delivery of submitted answers to the hiring platform, exactly once and intact, whatever the
//! network does, across crashes and reboots. No terminal code: the TUI and the CLI are two
//! front ends of [`UploadService`].
//!
//! - [`outbox`]: the durable queue on disk (one atomically replaced JSON record per item).
//! - [`tus`]: a small tus 1.0 client (reqwest + rustls) and the URL policy.
//! - [`chunks`]: how large the next PATCH is (grows on a fast link, by time).
//! - `deliver`: one item's delivery loop: resume from the server's offset, chunked PATCH,
//!   backoff with jitter, recreate expired uploads, refuse for good with a reason.
//! - [`dir`]: the `dir:<path>` target (atomic copy + sha256 check).
//! - [`manifest`]: the session manifest, uploaded after the session's answers.
//! - `service`: the actor front ends talk to ([`UploadService`], [`UploadHandle`],
//!   [`UploadEvent`]).
//! - [`health`]: whether the endpoint refuses until its configuration is fixed
//!   ([`UploadHealth`], [`EndpointProblem`]), kept in `<outbox>/health.json` by the service.
//! - [`summary`]: the outbox counted from its records ([`OutboxSummary`]), for every front end
//!   and for monitoring.
//!
//! An item is delivered only when the server's HEAD reports offset == length (for `dir:`, when
//! the copy's sha256 matches); only then is the local file deleted (unless retention = keep).
//!
//! A front end starts the service once, inside its tokio runtime, and keeps the handle:
//!
//! ```no_run
//! # async fn demo(config: booth::config::Config) -> Result<(), booth::upload::UploadError> {
//! use booth::upload::{AnswerMeta, UploadEvent, UploadService, outbox_dir};
//! let (handle, mut events) = UploadService::start(&config, &outbox_dir(&config))?;
//! let answer_id = uuid::Uuid::new_v4(); // made when the candidate submits the take
//! let meta = AnswerMeta {
//!     interview_id: "sample".into(),
//!     candidate_id: "c-17".into(),
//!     question_id: "q-intro".into(),
//!     attempt: 1,
//!     answer_id,
//!     filename: "q-intro-1.mp4".into(),
//!     candidate_ref: Some("ACME-7Q2K".into()), // the candidate's code, if the station asks
//! };
//! let id = handle.enqueue(std::path::Path::new("/var/lib/booth/answer.mp4"), meta).await?;
//! while let Some(event) = events.recv().await {
//!     match event {
//!         UploadEvent::Progress { id, sent, total } => { /* progress bar */ }
//!         UploadEvent::Waiting { .. } => { /* "saved on this station, will upload later" */ }
//!         UploadEvent::Delivered { id, .. } => { /* uploaded ✓ */ }
//!         UploadEvent::Refused { id, reason } => { /* tell the operator */ }
//!         _ => {}
//!     }
//! }
//! handle.shutdown().await;
//! # Ok(()) }
//! ```

pub mod chunks;
mod deliver;
pub mod dir;
mod error;
pub mod health;
pub mod manifest;
pub mod meta;
pub mod outbox;
mod service;
pub mod summary;
pub mod tus;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

pub use error::{UploadError, Verdict};
pub use health::{EndpointProblem, UploadHealth};
pub use manifest::{
    AnswerDelivery, ConsentEntry, GrantEntry, ManifestAnswer, ManifestConsent, ManifestDocument,
    ManifestGrant, ManifestRequest,
};
pub use meta::{AnswerMeta, answer_id_for, hash_file};
pub use outbox::{ItemId, Outbox, Payload, Record, State};
pub use service::{ANSWERS_DIR, NewAnswer, ORPHANS_DIR, UploadHandle, UploadService};
pub use summary::OutboxSummary;

use crate::config::Config;

/// The outbox of a station: `<data_dir>/outbox`.
pub fn outbox_dir(config: &Config) -> PathBuf {
    config.station.data_dir.join("outbox")
}

/// Timing knobs that are not part of the station config (tests and `booth upload` flags
/// shorten them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuning {
    /// A request that moves no bytes for this long (sending or awaiting the reply) is dropped.
    pub stall_timeout: Duration,
    pub connect_timeout: Duration,
    /// First retry delay after trouble; doubles (with jitter) up to `retry_max`.
    pub retry_min: Duration,
    pub retry_max: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            stall_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry_min: Duration::from_millis(500),
            retry_max: Duration::from_secs(60),
        }
    }
}

/// What an item is, for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Answer,
    Manifest,
}

/// One item as a front end shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemView {
    pub id: ItemId,
    pub kind: ItemKind,
    pub question_id: Option<String>,
    pub attempt: Option<u32>,
    pub path: PathBuf,
    pub filename: String,
    pub state: State,
    /// Bytes sent so far (confirmed by the server, plus the chunk in flight).
    pub sent: u64,
    pub total: u64,
    /// The upload URL (tus) or the delivered file (dir), once there is one.
    pub url: Option<String>,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// Set while the item waits to retry after network or server trouble: the reason.
    pub waiting: Option<String>,
    pub queued_at_ms: u64,
    pub delivered_at_ms: Option<u64>,
}

impl ItemView {
    pub fn from_record(rec: &Record) -> ItemView {
        let (kind, question_id, attempt) = match &rec.payload {
            Payload::Answer(a) => (
                ItemKind::Answer,
                Some(a.question_id.clone()),
                Some(a.attempt),
            ),
            Payload::Manifest(_) => (ItemKind::Manifest, None, None),
        };
        ItemView {
            id: rec.id,
            kind,
            question_id,
            attempt,
            path: rec.path.clone(),
            filename: rec.filename(),
            state: rec.state,
            sent: rec.confirmed,
            total: rec.size,
            url: rec.url.clone(),
            attempts: rec.attempts,
            last_error: rec.last_error.clone(),
            waiting: None,
            queued_at_ms: rec.queued_at_ms,
            delivered_at_ms: rec.delivered_at_ms,
        }
    }
}

/// What the service tells its front end. Reasons are one line for an operator and never hold
/// the token.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadEvent {
    Queued {
        id: ItemId,
    },
    Progress {
        id: ItemId,
        sent: u64,
        total: u64,
    },
    /// Network or server trouble; the item is safe on disk and is retried after `retry_in`.
    Waiting {
        id: ItemId,
        reason: String,
        retry_in: Duration,
    },
    /// The server has every byte (HEAD offset == length), or the copy matched its sha256.
    Delivered {
        id: ItemId,
        url: String,
    },
    /// Refused for good; the file stays on disk.
    Refused {
        id: ItemId,
        reason: String,
    },
    Abandoned {
        id: ItemId,
    },
}

impl UploadEvent {
    pub fn id(&self) -> ItemId {
        match self {
            UploadEvent::Queued { id }
            | UploadEvent::Progress { id, .. }
            | UploadEvent::Waiting { id, .. }
            | UploadEvent::Delivered { id, .. }
            | UploadEvent::Refused { id, .. }
            | UploadEvent::Abandoned { id } => *id,
        }
    }
}

/// Every item of an outbox as stored, for listing without starting the service (`booth
/// queue`), with the files that could not be read.
pub fn list(outbox_dir: &Path) -> (Vec<ItemView>, Vec<UploadError>) {
    let (records, problems) = Outbox::at(outbox_dir).load_all();
    (
        records.iter().map(ItemView::from_record).collect(),
        problems,
    )
}
