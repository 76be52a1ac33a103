//! A roster as TOML, for rosters written by hand:
//!
//! ```toml
//! [[code]]
//! code = "ACME-7Q2K"
//! interview = "support-2026"
//! valid_from = 2026-12-01          # a TOML date, or the same in quotes
//! valid_until = "2026-12-06T18:00:00+01:00"
//! single_use = true
//! ```
//!
//! Messages come from `tomlfile`, like the interview file's, and name file:line:column.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::dates::Bound;
use super::roster::{
    CODE_RULE, INTERVIEW_RULE, Parsed, RosterError, RosterRow, SINGLE_USE_RULE, code_field,
    date_field, interview_field, window,
};
use crate::tomlfile::{Diagnostic, Document};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoster {
    #[serde(default)]
    code: Vec<Spanned<RawCode>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCode {
    code: Spanned<String>,
    interview: Spanned<String>,
    valid_from: Option<Spanned<toml::Value>>,
    valid_until: Option<Spanned<toml::Value>>,
    single_use: Option<Spanned<bool>>,
}

fn expectation(table: Option<&str>, field: &str) -> Option<String> {
    let text = match (table, field) {
        (None, "code") => "one or more [[code]] tables",
        (Some(_), "code") => CODE_RULE,
        (Some(_), "interview") => INTERVIEW_RULE,
        (Some(_), "valid_from" | "valid_until") => super::dates::DATE_RULE,
        (Some(_), "single_use") => SINGLE_USE_RULE,
        _ => return None,
    };
    Some(text.to_string())
}

pub(super) fn parse(text: &str, path: &Path) -> Result<Vec<Parsed>, RosterError> {
    let doc = Document::parse(text, path, expectation).map_err(invalid)?;
    let raw: RawRoster = doc.deserialize().map_err(invalid)?;
    raw.code
        .into_iter()
        .map(|c| row(&doc, c).map_err(invalid))
        .collect()
}

fn row(doc: &Document<'_>, c: Spanned<RawCode>) -> Result<Parsed, Diagnostic> {
    let header = c.span();
    let c = c.into_inner();
    let at =
        |span: &toml::Spanned<String>, field, m: String| doc.error(&span.span(), Some(field), m);
    let (code, prefix) = code_field(c.code.get_ref()).map_err(|m| at(&c.code, "code", m))?;
    let interview_id =
        interview_field(c.interview.get_ref()).map_err(|m| at(&c.interview, "interview", m))?;
    let date = |v: &Option<Spanned<toml::Value>>, field, bound| {
        v.as_ref()
            .map(|v| {
                let written = match v.get_ref() {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Datetime(d) => d.to_string(),
                    other => other.to_string(),
                };
                date_field(field, &written, bound).map_err(|m| doc.error(&v.span(), Some(field), m))
            })
            .transpose()
    };
    let valid_from_unix = date(&c.valid_from, "valid_from", Bound::From)?;
    let valid_until_unix = date(&c.valid_until, "valid_until", Bound::Until)?;
    window(valid_from_unix, valid_until_unix).map_err(|m| {
        let span = c.valid_until.as_ref().map_or(header.clone(), Spanned::span);
        doc.error(&span, Some("valid_until"), m)
    })?;
    // Where the code is written, as every other message about the file shows a field.
    let place = doc.error(&c.code.span(), None, String::new());
    // Only ASCII is allowed in codes, so bytes are characters.
    let length = code.len();
    Ok(Parsed {
        code,
        column: place.column(),
        row: RosterRow {
            line: place.line(),
            interview_id,
            prefix,
            length,
            valid_from_unix,
            valid_until_unix,
            single_use: c.single_use.is_some_and(|s| *s.get_ref()),
        },
    })
}

fn invalid(d: Diagnostic) -> RosterError {
    let message = match d.context() {
        Some(context) => format!("{context}: {}", d.message()),
        None => d.message().to_string(),
    };
    RosterError::Invalid {
        path: d.path().to_path_buf(),
        line: d.line(),
        column: d.column(),
        field: d.field().map(str::to_string),
        message,
    }
}
