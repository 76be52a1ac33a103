//! The `[logging]` section: how the kiosk keeps its log under `<data_dir>/logs` — text or JSON
//! lines, and how many daily files are kept before the oldest goes.

use serde::Deserialize;
use toml::Spanned;

use super::fields::{int, whole};
use super::pick;
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawLogging {
    json: Option<Spanned<bool>>,
    keep_files: Option<Spanned<i64>>,
}

/// What each `[logging]` field accepts, for messages.
pub(super) fn expectation(field: &str) -> Option<String> {
    Some(match field {
        "json" => "true or false".to_string(),
        "keep_files" => whole(KEEP_FILES),
        _ => return None,
    })
}

pub(super) fn build(
    doc: &Document<'_>,
    l: RawLogging,
    base: Option<&Logging>,
) -> Result<Logging, Diagnostic> {
    let s = "logging";
    Ok(Logging {
        json: pick(doc, l.json, base.map(|b| b.json), s, "json", |v| {
            Ok(*v.get_ref())
        })?,
        keep_files: pick(
            doc,
            l.keep_files,
            base.map(|b| b.keep_files),
            s,
            "keep_files",
            |v| int(doc, v, "keep_files", KEEP_FILES),
        )?,
    })
}
