//! The `[logging]` section: how the kiosk keeps its log under `<data_dir>/logs` — text or JSON
//! lines, and how many daily files are kept before the oldest goes.

use serde::Deserialize;
use toml::Spanned;

use super::fields::{int, whole};
use crate::tomlfile::{Diagnostic, Document};

pub(super) const KEEP_FILES: (i64, i64) = (1, 366);

/// A validated `[logging]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logging {
    /// One JSON object per line instead of text.
    pub json: bool,
    /// Daily files kept under `<data_dir>/logs`; the oldest beyond this are deleted.
    pub keep_files: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLogging {
    json: Spanned<bool>,
    keep_files: Spanned<i64>,
}

/// What each `[logging]` field accepts, for messages.
pub(super) fn expectation(field: &str) -> Option<String> {
    Some(match field {
        "json" => "true or false".to_string(),
        "keep_files" => whole(KEEP_FILES),
        _ => return None,
    })
}

pub(super) fn build(doc: &Document<'_>, l: RawLogging) -> Result<Logging, Diagnostic> {
    Ok(Logging {
        json: *l.json.get_ref(),
        keep_files: int(doc, &l.keep_files, "keep_files", KEEP_FILES)?,
    })
}
