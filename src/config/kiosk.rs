//! The `[kiosk]` section: how a station behaves between and around candidates — lockdown, the
//! operator PIN, the idle reset, calling staff, the look of the screen and the heartbeat.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::fields::{int, must_be, secs};
use super::pick;
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawKiosk {
    lockdown: Option<Spanned<bool>>,
    operator_pin_hash: Option<Spanned<String>>,
    idle_reset_seconds: Option<Spanned<i64>>,
    idle_countdown_seconds: Option<Spanned<i64>>,
    call_staff_bell: Option<Spanned<bool>>,
    call_staff_webhook: Option<Spanned<String>>,
    theme: Option<Spanned<String>>,
    text_size: Option<Spanned<String>>,
    heartbeat_url: Option<Spanned<String>>,
    heartbeat_seconds: Option<Spanned<i64>>,
    grant_seconds: Option<Spanned<i64>>,
    done_seconds: Option<Spanned<i64>>,
    receipt_command: Option<Spanned<String>>,
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

pub(super) fn build(
    doc: &Document<'_>,
    k: RawKiosk,
    base: Option<&Kiosk>,
    allow_plain_http: bool,
) -> Result<Kiosk, Diagnostic> {
    let s = "kiosk";
    Ok(Kiosk {
        lockdown: pick(
            doc,
            k.lockdown,
            base.map(|b| b.lockdown),
            s,
            "lockdown",
            |v| Ok(*v.get_ref()),
        )?,
        operator_pin_hash: pick(
            doc,
            k.operator_pin_hash,
            base.map(|b| b.operator_pin_hash.clone()),
            s,
            "operator_pin_hash",
            |v| {
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
            },
        )?,
        idle_reset: pick(
            doc,
            k.idle_reset_seconds,
            base.map(|b| b.idle_reset),
            s,
            "idle_reset_seconds",
            |v| int(doc, v, "idle_reset_seconds", IDLE_RESET).map(|n| (n > 0).then(|| secs(n))),
        )?,
        idle_countdown: pick(
            doc,
            k.idle_countdown_seconds,
            base.map(|b| b.idle_countdown),
            s,
            "idle_countdown_seconds",
            |v| int(doc, v, "idle_countdown_seconds", IDLE_COUNTDOWN).map(secs),
        )?,
        call_staff_bell: pick(
            doc,
            k.call_staff_bell,
            base.map(|b| b.call_staff_bell),
            s,
            "call_staff_bell",
            |v| Ok(*v.get_ref()),
        )?,
        call_staff_webhook: pick(
            doc,
            k.call_staff_webhook,
            base.map(|b| b.call_staff_webhook.clone()),
            s,
            "call_staff_webhook",
            |v| optional_url(doc, v, "call_staff_webhook", allow_plain_http),
        )?,
        theme: pick(
            doc,
            k.theme,
            base.map(|b| b.theme),
            s,
            "theme",
            |v| match v.get_ref().as_str() {
                "standard" => Ok(ThemeName::Standard),
                "high-contrast" => Ok(ThemeName::HighContrast),
                other => Err(doc.error(&v.span(), None, must_be("theme", THEME_RULE, other))),
            },
        )?,
        text_size: pick(
            doc,
            k.text_size,
            base.map(|b| b.text_size),
            s,
            "text_size",
            |v| match v.get_ref().as_str() {
                "normal" => Ok(TextSize::Normal),
                "large" => Ok(TextSize::Large),
                other => {
                    Err(doc.error(&v.span(), None, must_be("text_size", TEXT_SIZE_RULE, other)))
                }
            },
        )?,
        heartbeat_url: pick(
            doc,
            k.heartbeat_url,
            base.map(|b| b.heartbeat_url.clone()),
            s,
            "heartbeat_url",
            |v| optional_url(doc, v, "heartbeat_url", allow_plain_http),
        )?,
        heartbeat_interval: pick(
            doc,
            k.heartbeat_seconds,
            base.map(|b| b.heartbeat_interval),
            s,
            "heartbeat_seconds",
            |v| int(doc, v, "heartbeat_seconds", HEARTBEAT).map(secs),
        )?,
        grant: pick(
            doc,
            k.grant_seconds,
            base.map(|b| b.grant),
            s,
            "grant_seconds",
            |v| int(doc, v, "grant_seconds", GRANT).map(secs),
        )?,
        done: pick(
            doc,
            k.done_seconds,
            base.map(|b| b.done),
            s,
            "done_seconds",
            |v| int(doc, v, "done_seconds", DONE).map(secs),
        )?,
        receipt_command: pick(
            doc,
            k.receipt_command,
            base.map(|b| b.receipt_command.clone()),
            s,
            "receipt_command",
            |v| {
                let c = v.get_ref().trim();
                Ok((!c.is_empty()).then(|| c.to_string()))
            },
        )?,
    })
}
