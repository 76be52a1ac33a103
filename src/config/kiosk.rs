//! The `[kiosk]` section: how a station behaves between and around candidates — lockdown, the
//! operator PIN, the idle reset, calling staff, the look of the screen and the heartbeat.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::fields::{int, must_be, secs};
use super::upload::{is_loopback, parse_http_url};
use crate::tomlfile::{Diagnostic, Document};

pub(super) const IDLE_RESET: (i64, i64) = (0, 86_400);
pub(super) const IDLE_COUNTDOWN: (i64, i64) = (5, 300);
pub(super) const HEARTBEAT: (i64, i64) = (10, 3600);
pub(super) const GRANT: (i64, i64) = (10, 600);
pub(super) const DONE: (i64, i64) = (5, 3600);
pub(super) const RECEIPT_RULE: &str = "a shell command that prints text from its standard input (like \"lp -d receipts\"), or \"\" for none";
pub(super) const THEME_RULE: &str = "\"standard\" or \"high-contrast\"";
pub(super) const TEXT_SIZE_RULE: &str = "\"normal\" or \"large\"";
pub(super) const PIN_RULE: &str =
    "an argon2id hash made by `booth hash-pin` (\"$argon2id$...\"), or \"\" for no operator menu";
pub(super) const URL_RULE: &str = "an http(s) URL, or \"\" for none";
/// Why plain http:// is refused, the same policy as the upload endpoint's.
const PLAIN_HTTP: &str = "plain http:// is allowed only to 127.0.0.1, ::1 and localhost, unless \
                          [upload] allow_plain_http = true";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThemeName {
    Standard,
    HighContrast,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextSize {
    Normal,
    Large,
}

/// A validated `[kiosk]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Kiosk {
    pub lockdown: bool,
    /// The operator PIN's argon2id hash; `None` keeps the operator menu shut.
    pub operator_pin_hash: Option<String>,
    /// `None` never resets.
    pub idle_reset: Option<Duration>,
    pub idle_countdown: Duration,
    pub call_staff_bell: bool,
    pub call_staff_webhook: Option<String>,
    pub theme: ThemeName,
    pub text_size: TextSize,
    pub heartbeat_url: Option<String>,
    pub heartbeat_interval: Duration,
    pub grant: Duration,
    /// The done screen clears itself for the next candidate after this long.
    pub done: Duration,
    /// A receipt is piped to this shell command when a candidate finishes.
    pub receipt_command: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKiosk {
    lockdown: Spanned<bool>,
    operator_pin_hash: Spanned<String>,
    idle_reset_seconds: Spanned<i64>,
    idle_countdown_seconds: Spanned<i64>,
    call_staff_bell: Spanned<bool>,
    call_staff_webhook: Spanned<String>,
    theme: Spanned<String>,
    text_size: Spanned<String>,
    heartbeat_url: Spanned<String>,
    heartbeat_seconds: Spanned<i64>,
    grant_seconds: Spanned<i64>,
    done_seconds: Spanned<i64>,
    receipt_command: Spanned<String>,
}

/// What each `[kiosk]` field accepts, for messages.
pub(super) fn expectation(field: &str) -> Option<String> {
    let whole = |(lo, hi): (i64, i64)| format!("a whole number between {lo} and {hi}");
    Some(match field {
        "lockdown" | "call_staff_bell" => "true or false".to_string(),
        "operator_pin_hash" => PIN_RULE.to_string(),
        "idle_reset_seconds" => format!("{} (0 = never)", whole(IDLE_RESET)),
        "idle_countdown_seconds" => whole(IDLE_COUNTDOWN),
        "call_staff_webhook" | "heartbeat_url" => URL_RULE.to_string(),
        "theme" => THEME_RULE.to_string(),
        "text_size" => TEXT_SIZE_RULE.to_string(),
        "heartbeat_seconds" => whole(HEARTBEAT),
        "grant_seconds" => whole(GRANT),
        "done_seconds" => whole(DONE),
        "receipt_command" => RECEIPT_RULE.to_string(),
        _ => return None,
    })
}

/// An optional http(s) URL under the upload endpoint's policy: what the station says about
/// itself (and who is standing at it) is not sent readable across the network either.
fn optional_url(
    doc: &Document<'_>,
    v: &Spanned<String>,
    field: &str,
    allow_plain_http: bool,
) -> Result<Option<String>, Diagnostic> {
    let s = v.get_ref().trim();
    if s.is_empty() {
        return Ok(None);
    }
    let url = parse_http_url(s).map_err(|why| {
        doc.error(
            &v.span(),
            None,
            format!("{} ({why})", must_be(field, URL_RULE, s)),
        )
    })?;
    if url.plain && !allow_plain_http && !is_loopback(&url.host) {
        return Err(doc.error(
            &v.span(),
            None,
            format!(
                "field '{field}' must use https:// for {} ({PLAIN_HTTP})",
                url.host
            ),
        ));
    }
    Ok(Some(s.to_string()))
}

fn pin_hash(doc: &Document<'_>, v: &Spanned<String>) -> Result<Option<String>, Diagnostic> {
    let h = v.get_ref().trim();
    if h.is_empty() {
        return Ok(None);
    }
    crate::pin::parse_hash(h).map_err(|e| {
        doc.error(
            &v.span(),
            None,
            format!("{} ({e})", must_be("operator_pin_hash", PIN_RULE, "…")),
        )
    })?;
    Ok(Some(h.to_string()))
}

fn theme(doc: &Document<'_>, v: &Spanned<String>) -> Result<ThemeName, Diagnostic> {
    match v.get_ref().as_str() {
        "standard" => Ok(ThemeName::Standard),
        "high-contrast" => Ok(ThemeName::HighContrast),
        other => Err(doc.error(&v.span(), None, must_be("theme", THEME_RULE, other))),
    }
}

fn text_size(doc: &Document<'_>, v: &Spanned<String>) -> Result<TextSize, Diagnostic> {
    match v.get_ref().as_str() {
        "normal" => Ok(TextSize::Normal),
        "large" => Ok(TextSize::Large),
        other => Err(doc.error(&v.span(), None, must_be("text_size", TEXT_SIZE_RULE, other))),
    }
}

pub(super) fn build(
    doc: &Document<'_>,
    k: RawKiosk,
    allow_plain_http: bool,
) -> Result<Kiosk, Diagnostic> {
    let seconds = |v: &Spanned<i64>, field, range| int(doc, v, field, range).map(secs);
    let idle = int(doc, &k.idle_reset_seconds, "idle_reset_seconds", IDLE_RESET)?;
    let receipt = k.receipt_command.get_ref().trim();
    Ok(Kiosk {
        lockdown: *k.lockdown.get_ref(),
        operator_pin_hash: pin_hash(doc, &k.operator_pin_hash)?,
        idle_reset: (idle > 0).then(|| secs(idle)),
        idle_countdown: seconds(
            &k.idle_countdown_seconds,
            "idle_countdown_seconds",
            IDLE_COUNTDOWN,
        )?,
        call_staff_bell: *k.call_staff_bell.get_ref(),
        call_staff_webhook: optional_url(
            doc,
            &k.call_staff_webhook,
            "call_staff_webhook",
            allow_plain_http,
        )?,
        theme: theme(doc, &k.theme)?,
        text_size: text_size(doc, &k.text_size)?,
        heartbeat_url: optional_url(doc, &k.heartbeat_url, "heartbeat_url", allow_plain_http)?,
        heartbeat_interval: seconds(&k.heartbeat_seconds, "heartbeat_seconds", HEARTBEAT)?,
        grant: seconds(&k.grant_seconds, "grant_seconds", GRANT)?,
        done: seconds(&k.done_seconds, "done_seconds", DONE)?,
        receipt_command: (!receipt.is_empty()).then(|| receipt.to_string()),
    })
}
