//! Delivery of submitted answers to the hiring platform, exactly once and intact, whatever the
//! network does, across crashes and reboots. No terminal code: the TUI and the CLI are two
//! front ends of [`UploadService`].
//!
//! - [`outbox`]: the durable queue on disk (one atomically replaced JSON record per item).
//! - [`tus`]: a small tus 1.0 client (reqwest + rustls) and the URL policy.
//! - [`chunks`]: how large the next PATCH is (grows on a fast link, by time).
//! - `deliver`: one item's delivery loop: resume from the server's offset, chunked PATCH,
//!   backoff with jitter, recreate expired uploads, refuse for good with a reason. It runs
//!   with a `courier` (what every delivery shares: the target, chunk sizes, retention, the
//!   endpoint's health, the server's capabilities).
//! - `registry`: where every item of a running service stands (its view, progress, whether a
//!   delivery runs or the operator is abandoning it), one struct behind one lock; every
//!   record change and every [`UploadEvent`] goes through it. The service and the deliveries
//!   meet there and nowhere else: `service` → `deliver` → `courier` → `registry` → `outbox`.
//! - [`dir`]: the `dir:<path>` target (atomic copy + sha256 check).
//! - [`manifest`]: the session manifest, uploaded after the session's answers; plain data
//!   that the outbox carries (it knows no outbox).
//! - `service`: the actor front ends talk to ([`UploadService`], [`UploadHandle`],
//!   [`UploadEvent`]).
//! - [`health`]: whether the endpoint refuses until its configuration is fixed
//!   ([`UploadHealth`], [`EndpointProblem`]), kept in `<outbox>/health.json` by the service.
//! - [`summary`]: the outbox counted from its records ([`OutboxSummary`]), for every front end
//!   and for monitoring.
//! - `view`: what front ends see ([`ItemView`], [`UploadEvent`], [`list`]).
//!
//! This file only declares and re-exports (and holds [`Tuning`]); inside `upload` each module
//! imports what it uses from the module that defines it, so the `use` lines show the arrows.
//!
//! An item is delivered only when the server reports offset == length, in its answer to the
//! last PATCH or to a HEAD (for `dir:`, when the copy's sha256 matches); only then is the local
//! file deleted (unless retention = keep).
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
mod courier;
mod deliver;
pub mod dir;
mod error;
pub mod health;
pub mod manifest;
pub mod meta;
pub mod outbox;
mod problem;
mod registry;
mod service;
pub mod summary;
pub mod tus;
mod view;

#[cfg(test)]
mod layers_tests;

use std::path::PathBuf;
use std::time::Duration;

pub use error::{UploadError, Verdict};
pub use health::UploadHealth;
pub use manifest::{
    AnswerDelivery, ConsentEntry, GrantEntry, ManifestAnswer, ManifestConsent, ManifestDocument,
    ManifestGrant, ManifestRequest,
};
pub use meta::{AnswerMeta, answer_id_for, hash_file};
pub use outbox::{ItemId, Outbox, Payload, Record, State};
pub use problem::EndpointProblem;
pub use service::{ANSWERS_DIR, NewAnswer, ORPHANS_DIR, UploadHandle, UploadService};
pub use summary::OutboxSummary;
pub use view::{ItemKind, ItemView, UploadEvent, list};

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
