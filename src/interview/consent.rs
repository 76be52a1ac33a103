//! The interview's optional `[consent]` table: the privacy notice (how answers are used, how
//! long they are kept) a candidate must accept before the camera records, and the sha256 that
//! the session manifest carries to say which text was accepted.
//!
//! ```toml
//! [consent]
//! title = "Before we start"     # optional
//! text = """
//! Your answers are recorded on video and sent to the hiring team at Example Ltd. …"""
//! ```

use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::tomlfile::{Diagnostic, Document};

/// What the candidate is asked to accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// A heading for the consent screen; the screen's own wording when `None`.
    pub title: Option<String>,
    /// The notice exactly as TOML gives it (line continuations joined, a `"""` block's final
    /// newline kept), so that [`Consent::sha256`] can be recomputed from the file by anyone.
    /// Screens may trim it for display.
    pub text: String,
    /// Lowercase hex sha256 of `text`'s UTF-8 bytes.
    pub sha256: String,
}

impl Consent {
    /// A consent for `text` with its hash.
    pub fn new(title: Option<String>, text: String) -> Consent {
        let sha256 = sha256_hex(text.as_bytes());
        Consent {
            title,
            text,
            sha256,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConsent {
    title: Option<Spanned<String>>,
    title_by_language: super::RawByLanguage,
    text: Spanned<String>,
    text_by_language: super::RawByLanguage,
}

impl RawConsent {
    /// The title's and the text's translations, taken out for `translations` to check.
    pub(super) fn take_translations(&mut self) -> (super::RawByLanguage, super::RawByLanguage) {
        (self.title_by_language.take(), self.text_by_language.take())
    }
}

/// How the consent fields are worded in messages.
pub(super) fn expectation(field: &str) -> Option<&'static str> {
    Some(match field {
        "title" => "non-empty text (a heading for the consent screen)",
        "text" => "non-empty text: the privacy notice the candidate accepts",
        _ => return None,
    })
}

pub(super) fn build(doc: &Document<'_>, raw: RawConsent) -> Result<Consent, Diagnostic> {
    let title = raw
        .title
        .map(|t| {
            let trimmed = t.get_ref().trim();
            if trimmed.is_empty() {
                Err(empty(doc, &t, "title"))
            } else {
                Ok(trimmed.to_string())
            }
        })
        .transpose()?;
    if raw.text.get_ref().trim().is_empty() {
        return Err(empty(doc, &raw.text, "text"));
    }
    Ok(Consent::new(title, raw.text.into_inner()))
}

fn empty(doc: &Document<'_>, v: &Spanned<String>, field: &str) -> Diagnostic {
    let allowed = expectation(field).unwrap_or("non-empty text");
    doc.error(
        &v.span(),
        Some(field),
        format!("field '{field}' must be {allowed}, found {:?}", v.get_ref()),
    )
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
