//! The `[monitoring]` section: where the running kiosk keeps a Prometheus text file for
//! node_exporter's textfile collector (the station's facts, as `booth status --prometheus`
//! prints them).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::fields::must_be;
use crate::tomlfile::{Diagnostic, Document};

pub(super) const TEXTFILE_RULE: &str = "an absolute or relative path ending in \".prom\" (node_exporter's textfile collector reads only those), or \"\" for none";

/// A validated `[monitoring]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Monitoring {
    /// Absolute; `None` writes no text file.
    pub textfile: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMonitoring {
    textfile: Spanned<String>,
}

/// What each `[monitoring]` field accepts, for messages.
pub(super) fn expectation(field: &str) -> Option<String> {
    match field {
        "textfile" => Some(TEXTFILE_RULE.to_string()),
        _ => None,
    }
}

pub(super) fn build(doc: &Document<'_>, m: RawMonitoring) -> Result<Monitoring, Diagnostic> {
    Ok(Monitoring {
        textfile: textfile(doc, &m.textfile)?,
    })
}

fn textfile(doc: &Document<'_>, v: &Spanned<String>) -> Result<Option<PathBuf>, Diagnostic> {
    let s = v.get_ref();
    if s.is_empty() {
        return Ok(None);
    }
    // node_exporter skips any other name, and booth's own temporary sibling ends in ".tmp".
    let named_right = Path::new(s)
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.len() > ".prom".len() && n.ends_with(".prom"));
    if !named_right {
        return Err(doc.error(&v.span(), None, must_be("textfile", TEXTFILE_RULE, s)));
    }
    Ok(Some(doc.resolve(v)))
}
