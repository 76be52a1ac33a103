//! The outbox summed up for the operator's queue page.

use crate::upload::{State as UploadState, UploadHandle};

/// The outbox as the operator sees it: one line per item, with its state and last error.
pub(super) fn queue_lines(uploads: &UploadHandle) -> Vec<String> {
    let items = uploads.snapshot();
    let open = items
        .iter()
        .filter(|i| i.state != UploadState::Delivered)
        .count();
    let mut lines = vec![format!(
        "outbox: {} item(s), {open} not delivered",
        items.len()
    )];
    lines.extend(items.iter().rev().take(12).map(|i| {
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
