//! The interview's optional `[practice]` table: a warm-up question offered after the device
//! test and before the real ones. Its takes are recorded and played back like answers, but
//! never sent, never counted and never limited in number; they stay in the session directory
//! and go with it.
//!
//! ```toml
//! [practice]
//! text = "Tell us what you had for breakfast."
//! max_seconds = 60      # optional, 10-300 (60 when left out)
//! ```

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::tomlfile::{Diagnostic, Document};

/// Inclusive limits of `max_seconds`.
pub(super) const MAX_SECONDS: (i64, i64) = (10, 300);
const DEFAULT_SECONDS: u64 = 60;

/// The practice question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Practice {
    pub text: String,
    /// A practice take stops at this length.
    pub answer_limit: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPractice {
    text: Spanned<String>,
    max_seconds: Option<Spanned<i64>>,
}

/// How the practice fields are worded in messages.
pub(super) fn expectation(field: &str) -> Option<String> {
    Some(match field {
        "text" => "non-empty text: the practice question".to_string(),
        "max_seconds" => {
            let (lo, hi) = MAX_SECONDS;
            format!("a whole number between {lo} and {hi}")
        }
        _ => return None,
    })
}

pub(super) fn build(doc: &Document<'_>, raw: RawPractice) -> Result<Practice, Diagnostic> {
    let text = raw.text.get_ref().trim();
    if text.is_empty() {
        return Err(doc.error(
            &raw.text.span(),
            Some("text"),
            format!(
                "field 'text' must be non-empty text: the practice question, found {:?}",
                raw.text.get_ref()
            ),
        ));
    }
    let seconds = match &raw.max_seconds {
        None => DEFAULT_SECONDS,
        Some(v) => {
            let n = *v.get_ref();
            let (lo, hi) = MAX_SECONDS;
            if !(lo..=hi).contains(&n) {
                return Err(doc.error(
                    &v.span(),
                    Some("max_seconds"),
                    format!("field 'max_seconds' must be between {lo} and {hi}, found {n}"),
                ));
            }
            u64::try_from(n).unwrap_or(DEFAULT_SECONDS)
        }
    };
    Ok(Practice {
        text: text.to_string(),
        answer_limit: Duration::from_secs(seconds),
    })
}
