//! What each station-config field accepts: the limits, how they are worded in messages, and
//! the checks that turn one written value into its typed form (or a diagnostic pointing at it).

use std::path::PathBuf;
use std::time::Duration;

use toml::Spanned;

use super::Upload;
use super::upload::{self, Endpoint};
use crate::media::source::{AudioSpec, VideoSpec, check_size};
use crate::tomlfile::{self, Diagnostic, Document};

/// Inclusive limits, shared by validation and the messages that state them.
pub(super) const FPS: (i64, i64) = (1, 60);
pub(super) const VIDEO_KBPS: (i64, i64) = (250, 20_000);
pub(super) const AUDIO_KBPS: (i64, i64) = (32, 320);
pub(super) const NOISE_GATE_DBFS: (f64, f64) = (-90.0, 0.0);
pub(super) const SILENCE_WARNING: (i64, i64) = (1, 30);
pub(super) const TEST_CLIP: (i64, i64) = (5, 15);
pub(super) const COUNTDOWN: (i64, i64) = (0, 10);
pub(super) const CHUNK_MIB: (i64, i64) = (1, 1024);
pub(super) const CONCURRENCY: (i64, i64) = (1, 8);

pub(super) const STATION_ID_RULE: &str =
    "1-64 letters, digits, '.', '_' and '-' (like \"booth-01\")";
pub(super) const SIZE_RULE: &str =
    "WIDTHxHEIGHT with even numbers, width 16-3840 and height 16-2160 (like \"1280x720\")";
pub(super) const PATH_RULE: &str = "a path";
pub(super) const RETENTION_RULE: &str = "\"delete\" or \"keep\"";

/// What each field accepts, worded for messages; see [`tomlfile::Expectations`].
pub(super) fn expectation(table: Option<&str>, field: &str) -> Option<String> {
    let text = match (table, field) {
        (None, section) => return Some(format!("a [{section}] table")),
        (Some("station"), "id") => STATION_ID_RULE,
        (Some("station"), "data_dir") | (Some("upload"), "token_file") => PATH_RULE,
        (Some("interview"), field) => return super::interviews::expectation(field),
        (Some("devices"), "video") => video_rule(),
        (Some("devices"), "audio") => audio_rule(),
        (Some("devices"), "size") => SIZE_RULE,
        (Some("devices"), "fps") => return Some(whole(FPS)),
        (Some("recording"), "video_kbps") => return Some(whole(VIDEO_KBPS)),
        (Some("recording"), "audio_kbps") => return Some(whole(AUDIO_KBPS)),
        (Some("recording"), "noise_gate_dbfs") => {
            let (lo, hi) = NOISE_GATE_DBFS;
            return Some(format!("a number between {lo} and {hi}"));
        }
        (Some("recording"), "silence_warning_seconds") => return Some(whole(SILENCE_WARNING)),
        (Some("recording"), "test_clip_seconds") => return Some(whole(TEST_CLIP)),
        (Some("recording"), "countdown_seconds") => return Some(whole(COUNTDOWN)),
        (Some("upload"), "endpoint") => upload::ENDPOINT_RULE,
        (Some("upload"), "chunk_mib" | "max_chunk_mib") => return Some(whole(CHUNK_MIB)),
        (Some("upload"), "concurrency") => return Some(whole(CONCURRENCY)),
        (Some("upload"), "retention") => RETENTION_RULE,
        (Some("upload"), "allow_plain_http") => "true or false",
        (Some("kiosk"), field) => return super::kiosk::expectation(field),
        (Some("logging"), field) => return super::logging::expectation(field),
        (Some("monitoring"), field) => return super::monitoring::expectation(field),
        _ => return None,
    };
    Some(text.to_string())
}

pub(super) fn whole((lo, hi): (i64, i64)) -> String {
    format!("a whole number between {lo} and {hi}")
}

/// The media module's own wording of what a video spec may be, so the two cannot drift: an
/// empty spec is never valid, and the error carries the list.
pub(super) fn video_rule() -> &'static str {
    match "".parse::<VideoSpec>() {
        Err(e) => e.expected,
        Ok(_) => "a video source",
    }
}

pub(super) fn audio_rule() -> &'static str {
    match "".parse::<AudioSpec>() {
        Err(e) => e.expected,
        Ok(_) => "an audio source",
    }
}

pub(super) fn must_be(field: &str, allowed: &str, found: &str) -> String {
    format!("field '{field}' must be {allowed}, found {found:?}")
}

pub(super) fn int(
    doc: &Document<'_>,
    v: &Spanned<i64>,
    field: &str,
    (lo, hi): (i64, i64),
) -> Result<u32, Diagnostic> {
    let n = *v.get_ref();
    match u32::try_from(n) {
        Ok(ok) if (lo..=hi).contains(&n) => Ok(ok),
        _ => Err(doc.error(
            &v.span(),
            None,
            format!("field '{field}' must be between {lo} and {hi}, found {n}"),
        )),
    }
}

pub(super) fn secs(n: u32) -> Duration {
    Duration::from_secs(u64::from(n))
}

pub(super) fn noise_gate(doc: &Document<'_>, v: &Spanned<f64>) -> Result<f64, Diagnostic> {
    let (lo, hi) = NOISE_GATE_DBFS;
    let n = *v.get_ref();
    // `contains` is false for NaN, which TOML can spell.
    if (lo..=hi).contains(&n) {
        Ok(n)
    } else {
        Err(doc.error(
            &v.span(),
            None,
            format!("field 'noise_gate_dbfs' must be between {lo} and {hi}, found {n}"),
        ))
    }
}

pub(super) fn station_id(doc: &Document<'_>, v: &Spanned<String>) -> Result<String, Diagnostic> {
    let s = v.get_ref();
    let ok = (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(s.clone())
    } else {
        Err(doc.error(&v.span(), None, must_be("id", STATION_ID_RULE, s)))
    }
}

/// Whether the value at `span` is the built-in default (the first file of the merge), not
/// something a station's file set.
pub(super) fn built_in(doc: &Document<'_>, span: &tomlfile::Span) -> bool {
    doc.layer_of(span) == 0
}

/// A path, read from the directory of the file that wrote it.
pub(super) fn path(
    doc: &Document<'_>,
    v: &Spanned<String>,
    field: &str,
) -> Result<PathBuf, Diagnostic> {
    let s = v.get_ref();
    if s.trim().is_empty() {
        Err(doc.error(&v.span(), None, must_be(field, PATH_RULE, s)))
    } else {
        Ok(doc.resolve(v))
    }
}

pub(super) fn video(doc: &Document<'_>, v: &Spanned<String>) -> Result<VideoSpec, Diagnostic> {
    let spec = v
        .get_ref()
        .parse::<VideoSpec>()
        .map_err(|e| doc.error(&v.span(), None, must_be("video", e.expected, v.get_ref())))?;
    Ok(match spec {
        VideoSpec::File(p) => VideoSpec::File(doc.dir_of(&v.span()).join(p)),
        other => other,
    })
}

pub(super) fn audio(doc: &Document<'_>, v: &Spanned<String>) -> Result<AudioSpec, Diagnostic> {
    let spec = v
        .get_ref()
        .parse::<AudioSpec>()
        .map_err(|e| doc.error(&v.span(), None, must_be("audio", e.expected, v.get_ref())))?;
    Ok(match spec {
        AudioSpec::File(p) => AudioSpec::File(doc.dir_of(&v.span()).join(p)),
        other => other,
    })
}

pub(super) fn size(doc: &Document<'_>, v: &Spanned<String>) -> Result<(u32, u32), Diagnostic> {
    let s = v.get_ref();
    let parsed = s
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
        .filter(|&(w, h)| check_size(w, h).is_ok());
    parsed.ok_or_else(|| doc.error(&v.span(), None, must_be("size", SIZE_RULE, s)))
}

pub(super) fn endpoint(doc: &Document<'_>, v: &Spanned<String>) -> Result<Endpoint, Diagnostic> {
    let s = v.get_ref();
    upload::parse_endpoint(s, doc.dir_of(&v.span())).map_err(|reason| {
        let mut message = must_be("endpoint", upload::ENDPOINT_RULE, s);
        if let Some(reason) = reason {
            message.push_str(&format!(" ({reason})"));
        }
        doc.error(&v.span(), None, message)
    })
}

/// Plain http:// would send recordings and the token readable to anyone on the network path;
/// it is allowed only to this machine unless the operator says otherwise.
pub(super) fn check_plain_http(
    doc: &Document<'_>,
    upload: &Upload,
    span: &tomlfile::Span,
) -> Result<(), Diagnostic> {
    let Endpoint::Tus(url) = &upload.endpoint else {
        return Ok(());
    };
    let Ok(parsed) = upload::parse_http_url(url) else {
        return Ok(()); // Checked when it was read; cannot fail here.
    };
    if !parsed.plain || upload.allow_plain_http || upload::is_loopback(&parsed.host) {
        return Ok(());
    }
    let message = format!(
        "field 'endpoint' must use https:// for {} (plain http:// is allowed only to \
         127.0.0.1, ::1 and localhost, unless [upload] allow_plain_http = true)",
        parsed.host
    );
    Err(doc.error(span, Some("endpoint"), message))
}

/// Chunks grow from `chunk_mib` to `max_chunk_mib`. A station that sets only a large
/// `chunk_mib` gets fixed chunks of that size; setting `max_chunk_mib` below `chunk_mib` is an
/// error.
pub(super) fn settle_chunks(
    doc: &Document<'_>,
    upload: &mut Upload,
    max_span: &tomlfile::Span,
) -> Result<(), Diagnostic> {
    if upload.max_chunk_bytes >= upload.chunk_bytes {
        return Ok(());
    }
    if built_in(doc, max_span) {
        upload.max_chunk_bytes = upload.chunk_bytes;
        return Ok(());
    }
    Err(doc.error(
        max_span,
        Some("max_chunk_mib"),
        format!(
            "field 'max_chunk_mib' must be at least chunk_mib ({}), found {}",
            upload.chunk_bytes >> 20,
            upload.max_chunk_bytes >> 20
        ),
    ))
}
