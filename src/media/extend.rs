//! Lengthening a recording while it runs (staff granted more answer time): the capture threads
//! go on feeding it until the new end, and the muxer's last frame ends there. Only ever
//! later: a recording is shortened by stopping it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::capture::CaptureSession;
use super::recorder::ticks;

/// Obtained from [`super::recorder::Recording::extension`] before the recording is handed to
/// the thread that waits for it.
#[derive(Debug, Clone)]
pub struct Extension {
    origin: Instant,
    end_ticks: Arc<AtomicU64>,
}

impl Extension {
    pub(super) fn new(origin: Instant, end_ticks: Arc<AtomicU64>) -> Self {
        Extension { origin, end_ticks }
    }

    /// The recording now ends at `end` (if that is later than its end so far). Too late once
    /// the capture threads have passed the old end: the recording has finished by then.
    pub fn extend_to(&self, session: &CaptureSession, end: Instant) {
        session.extend_end(end);
        self.end_ticks
            .fetch_max(ticks(self.origin, end), Ordering::Relaxed);
    }
}
