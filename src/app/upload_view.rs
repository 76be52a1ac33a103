//! The upload service as the flow sees it: its events turned into messages for the question
//! each answer belongs to, and the outbox summed up for the operator's queue page.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;

use super::msg::Msg;
use crate::upload::{ItemId, State as UploadState, UploadEvent, UploadHandle};

/// Which question each queued answer belongs to, so upload events reach the right line.
pub(super) type AnswerMap = Arc<Mutex<HashMap<uuid::Uuid, usize>>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Turns upload events into the flow's messages, naming the question each answer belongs to.
pub(super) async fn forward_uploads(
    mut events: mpsc::UnboundedReceiver<UploadEvent>,
    tx: mpsc::UnboundedSender<Msg>,
    answers: AnswerMap,
) {
    while let Some(event) = events.recv().await {
        let question = |id: &ItemId| lock(&answers).get(&id.0).copied();
        let msg = match &event {
            UploadEvent::Progress { id, sent, total } => {
                question(id).map(|q| Msg::UploadProgress {
                    question: q,
                    sent: *sent,
                    total: *total,
                })
            }
            UploadEvent::Waiting { id, reason, .. } => {
                tracing::warn!(answer = %id, %reason, "upload waiting");
                question(id).map(|q| Msg::UploadWaiting { question: q })
            }
            UploadEvent::Delivered { id, url } => {
                tracing::info!(answer = %id, %url, "answer delivered");
                question(id).map(|q| Msg::Delivery {
                    question: q,
                    delivery: crate::session::Delivery::Uploaded,
                })
            }
            UploadEvent::Refused { id, reason } => question(id).map(|q| Msg::UploadRefused {
                question: q,
                reason: reason.clone(),
            }),
            _ => None,
        };
        if let Some(m) = msg
            && tx.send(m).is_err()
        {
            break;
        }
    }
}

/// The outbox as the operator sees it: one line per item, with its state and last error.
pub(super) fn queue_lines(uploads: &UploadHandle) -> Vec<String> {
    let items = uploads.snapshot();
    let summary = uploads.summary();
    let mut lines = vec![format!(
        "outbox: {}",
        summary.line(crate::upload::outbox::now_ms())
    )];
    lines.extend(summary.problem_lines().into_iter().flatten());
    // Newest first, but what is not delivered before what is: an old stuck answer must not
    // scroll out of sight behind a day of deliveries.
    let (done, open): (Vec<_>, Vec<_>) = items
        .iter()
        .rev()
        .partition(|i| i.state == UploadState::Delivered);
    lines.extend(open.into_iter().chain(done).take(12).map(|i| {
        let mut line = format!(
            "  {} {:?} {:.1}/{:.1} MB",
            i.filename,
            i.state,
            i.sent as f64 / 1e6,
            i.total as f64 / 1e6
        );
        if let Some(why) = i.waiting.as_ref().or(i.last_error.as_ref()) {
            line.push_str(&format!(" — {why}"));
        }
        line
    }));
    lines
}
