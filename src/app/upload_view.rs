//! The outbox summed up for the operator's queue page.

use crate::upload::{State as UploadState, UploadHandle};

/// The outbox as the operator sees it: one line per item, with its state and last error.
pub(super) fn queue_lines(uploads: &UploadHandle) -> Vec<String> {
    let items = uploads.snapshot();
    let summary = uploads.summary();
    let mut lines = vec![format!("outbox: {}", summary.line(crate::clock::now_ms()))];
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
