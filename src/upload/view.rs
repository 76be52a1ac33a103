//! What front ends see of the items: [`ItemView`] (one item as shown), [`ItemKind`], the
//! [`UploadEvent`]s a running service tells, and [`list`] for an outbox no service runs on.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::error::UploadError;
use super::outbox::{ItemId, Outbox, Payload, Record, State};

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
    /// The server has every byte (its offset == length), or the copy matched its sha256.
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
