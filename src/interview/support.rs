//! The interview's `[support]` table: who the candidate can turn to, with an optional email
//! address and phone number, each checked enough to catch a slip.

use serde::Deserialize;
use toml::Spanned;

use super::{Support, must_be, non_empty};
use crate::tomlfile::{Diagnostic, Document};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSupport {
    contact: Spanned<String>,
    pub(super) contact_by_language: super::RawByLanguage,
    email: Option<Spanned<String>>,
    phone: Option<Spanned<String>>,
}

pub(super) fn build(doc: &Document<'_>, raw: RawSupport) -> Result<Support, Diagnostic> {
    let contact = non_empty(doc, raw.contact, "contact")?;
    let email = raw
        .email
        .map(|v| {
            let s = v.get_ref().trim();
            let ok = s.split_once('@').is_some_and(|(user, host)| {
                !user.is_empty() && host.contains('.') && !host.contains('@')
            }) && !s.contains(char::is_whitespace);
            if ok {
                Ok(s.to_string())
            } else {
                let allowed = "an email address like \"desk@example.com\"";
                Err(doc.error(&v.span(), None, must_be("email", allowed, v.get_ref())))
            }
        })
        .transpose()?;
    let phone = raw
        .phone
        .map(|v| {
            let s = v.get_ref().trim();
            let ok = s.chars().any(|c| c.is_ascii_digit())
                && s.chars()
                    .all(|c| c.is_ascii_digit() || " +-()./".contains(c));
            if ok {
                Ok(s.to_string())
            } else {
                let allowed = "a phone number (digits, spaces and + - ( ) . /)";
                Err(doc.error(&v.span(), None, must_be("phone", allowed, v.get_ref())))
            }
        })
        .transpose()?;
    Ok(Support {
        contact,
        email,
        phone,
    })
}
