//! The station config, `config.toml`: which devices a booth records from, how, where the
//! recordings go and which interview it runs. This module owns the file's format (operators
//! script against its section and field names, so they are a contract), its validation (every
//! error names file:line:column, the section, the field and what is allowed) and the typed
//! [`Config`] the rest of booth uses.
//!
//! The repository's `config.toml` is compiled in and is both the commented default and the
//! source of every default value. A station's configuration is read in layers ([`files`]): the
//! built-in file, the station's file (`/etc/booth/config.toml`), then the drop-ins in
//! `config.d/*.toml` beside it in name order (one concern per file, as configuration tools
//! write them). The layers are merged as TOML, a later file's value replacing an earlier
//! one's; the merged document is deserialized once and validated once, each complaint naming
//! the file and line of the value it is about, and `booth config` can say where every value in
//! force came from ([`Explained`]).

mod fields;
mod files;
mod interviews;
mod kiosk;
mod logging;
mod monitoring;
mod upload;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::media::source::{AudioSpec, VideoSpec};
pub use crate::tomlfile::Diagnostic;
use crate::tomlfile::Document;
// The per-field checks and limits `build` strings together.
use fields::*;
use files::Files;
pub use files::{DROPIN_DIR, Explained, Setting, dropins};
pub use interviews::InterviewRef;
pub use kiosk::{Kiosk, TextSize, ThemeName};
pub use logging::Logging;
pub use monitoring::Monitoring;
pub use upload::{Endpoint, Retention, TOKEN_ENV, TokenError, UploadToken};

#[cfg(test)]
mod tests;

/// The commented default config, as shipped.
pub const DEFAULT_CONFIG: &str = include_str!("../config.toml");

/// A validated station config.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub station: Station,
    pub devices: Devices,
    pub recording: Recording,
    pub upload: Upload,
    pub interview: InterviewRef,
    pub kiosk: Kiosk,
    pub logging: Logging,
    pub monitoring: Monitoring,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Station {
    pub id: String,
    /// Absolute; outbox, sessions and logs live under it.
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Devices {
    /// `file:` paths are absolute.
    pub video: VideoSpec,
    pub audio: AudioSpec,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    pub video_kbps: u32,
    pub audio_kbps: u32,
    /// Recording cannot start until the microphone hears sound above this.
    pub noise_gate_dbfs: f64,
    /// "We can't hear you" after this much silence while recording.
    pub silence_warning: Duration,
    /// Length of the device-test clip.
    pub test_clip: Duration,
    /// The 3-2-1 before each recording; zero for none.
    pub countdown: Duration,
}

impl Recording {
    /// Video bitrate in bits per second, as the encoder wants it.
    pub fn video_bitrate(&self) -> u32 {
        self.video_kbps.saturating_mul(1000)
    }
    /// Audio bitrate in bits per second.
    pub fn audio_bitrate(&self) -> u32 {
        self.audio_kbps.saturating_mul(1000)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub endpoint: Endpoint,
    /// Absolute; see [`Upload::token`].
    pub token_file: PathBuf,
    /// The first PATCH of an upload, and the smallest (but the last) it ever sends.
    pub chunk_bytes: u64,
    /// On a fast link chunks grow towards about two seconds of sending, up to this.
    pub max_chunk_bytes: u64,
    pub concurrency: u32,
    pub retention: Retention,
    pub allow_plain_http: bool,
}

/// Why a config file was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read the config file: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: cannot list the config drop-ins: {source}", path.display())]
    Dropins {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] Diagnostic),
}

impl ConfigError {
    /// The file (or the drop-in folder), as the caller named it.
    pub fn path(&self) -> &Path {
        match self {
            ConfigError::Read { path, .. } | ConfigError::Dropins { path, .. } => path,
            ConfigError::Invalid(d) => d.path(),
        }
    }
    /// 1-based line, for problems inside the file.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Read { .. } | ConfigError::Dropins { .. } => None,
            ConfigError::Invalid(d) => Some(d.line()),
        }
    }
    /// 1-based column, for problems inside the file.
    pub fn column(&self) -> Option<usize> {
        match self {
            ConfigError::Read { .. } | ConfigError::Dropins { .. } => None,
            ConfigError::Invalid(d) => Some(d.column()),
        }
    }
    /// The field the problem is about.
    pub fn field(&self) -> Option<&str> {
        match self {
            ConfigError::Read { .. } | ConfigError::Dropins { .. } => None,
            ConfigError::Invalid(d) => d.field(),
        }
    }
}

impl Config {
    /// Reads and validates a station's config: the built-in defaults, then `path`, then the
    /// drop-ins in `config.d/*.toml` beside it in name order, each over the ones before.
    /// `None` is the built-in default alone.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        Files::read(path)?.config()
    }

    /// Validates config text over the built-in defaults (no drop-ins). `path` is named in
    /// messages, and relative paths are read from its directory.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        Files::one(text, path).config()
    }

    /// [`Config::load`], and where each value in force was written: `booth config`.
    pub fn explain(path: Option<&Path>) -> Result<Explained, ConfigError> {
        Files::read(path)?.explain()
    }

    /// Replaces the data directory (a command-line override; relative to the current
    /// directory). A `dir:` endpoint inside the old data directory, as the default
    /// `dir:/var/lib/booth/delivered` is, moves along: a run with a scratch data directory
    /// must not deliver into the real one.
    pub fn with_data_dir(mut self, path: impl Into<PathBuf>) -> Config {
        let path = path.into();
        let new = std::path::absolute(&path).unwrap_or(path);
        if let Endpoint::Dir(dir) = &self.upload.endpoint
            && let Ok(inside) = dir.strip_prefix(&self.station.data_dir)
        {
            self.upload.endpoint = Endpoint::Dir(new.join(inside));
        }
        self.station.data_dir = new;
        self
    }
}

/// Deserializes the merged document once and validates it once.
fn validate(doc: &Document<'_>) -> Result<Config, Diagnostic> {
    build(doc, doc.deserialize()?)
}

// ---- the merged files ----------------------------------------------------------------------
// The built-in file sets every field, so after the merge every field is there; one missing
// is a broken build, and the message points into the built-in file. Field order here is the
// order "expected one of: …" lists them in.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    station: RawStation,
    devices: RawDevices,
    recording: RawRecording,
    upload: RawUpload,
    interview: interviews::RawInterviewRef,
    kiosk: kiosk::RawKiosk,
    logging: logging::RawLogging,
    monitoring: monitoring::RawMonitoring,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStation {
    id: Spanned<String>,
    data_dir: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevices {
    video: Spanned<String>,
    audio: Spanned<String>,
    size: Spanned<String>,
    fps: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecording {
    video_kbps: Spanned<i64>,
    audio_kbps: Spanned<i64>,
    noise_gate_dbfs: Spanned<f64>,
    silence_warning_seconds: Spanned<i64>,
    test_clip_seconds: Spanned<i64>,
    countdown_seconds: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpload {
    endpoint: Spanned<String>,
    token_file: Spanned<String>,
    chunk_mib: Spanned<i64>,
    max_chunk_mib: Spanned<i64>,
    concurrency: Spanned<i64>,
    retention: Spanned<String>,
    allow_plain_http: Spanned<bool>,
}

// ---- validation ----------------------------------------------------------------------------

fn build(doc: &Document<'_>, raw: RawConfig) -> Result<Config, Diagnostic> {
    let (s, d, r) = (raw.station, raw.devices, raw.recording);
    let station = Station {
        id: station_id(doc, &s.id)?,
        data_dir: path(doc, &s.data_dir, "data_dir")?,
    };
    let (width, height) = size(doc, &d.size)?;
    let devices = Devices {
        video: video(doc, &d.video)?,
        audio: audio(doc, &d.audio)?,
        width,
        height,
        fps: int(doc, &d.fps, "fps", FPS)?,
    };
    let recording = Recording {
        video_kbps: int(doc, &r.video_kbps, "video_kbps", VIDEO_KBPS)?,
        audio_kbps: int(doc, &r.audio_kbps, "audio_kbps", AUDIO_KBPS)?,
        noise_gate_dbfs: noise_gate(doc, &r.noise_gate_dbfs)?,
        silence_warning: int(
            doc,
            &r.silence_warning_seconds,
            "silence_warning_seconds",
            SILENCE_WARNING,
        )
        .map(secs)?,
        test_clip: int(doc, &r.test_clip_seconds, "test_clip_seconds", TEST_CLIP).map(secs)?,
        countdown: int(doc, &r.countdown_seconds, "countdown_seconds", COUNTDOWN).map(secs)?,
    };
    let upload = upload(doc, raw.upload)?;
    Ok(Config {
        station,
        devices,
        recording,
        interview: interviews::build(doc, raw.interview)?,
        kiosk: kiosk::build(doc, raw.kiosk, upload.allow_plain_http)?,
        logging: logging::build(doc, raw.logging)?,
        monitoring: monitoring::build(doc, raw.monitoring)?,
        upload,
    })
}

fn upload(doc: &Document<'_>, u: RawUpload) -> Result<Upload, Diagnostic> {
    let mib = |v: &Spanned<i64>, field| int(doc, v, field, CHUNK_MIB).map(|n| u64::from(n) << 20);
    let mut upload = Upload {
        endpoint: endpoint(doc, &u.endpoint)?,
        token_file: path(doc, &u.token_file, "token_file")?,
        chunk_bytes: mib(&u.chunk_mib, "chunk_mib")?,
        max_chunk_bytes: mib(&u.max_chunk_mib, "max_chunk_mib")?,
        concurrency: int(doc, &u.concurrency, "concurrency", CONCURRENCY)?,
        retention: u.retention.get_ref().parse().map_err(|()| {
            let found = u.retention.get_ref();
            doc.error(
                &u.retention.span(),
                None,
                must_be("retention", RETENTION_RULE, found),
            )
        })?,
        allow_plain_http: *u.allow_plain_http.get_ref(),
    };
    check_plain_http(doc, &upload, &u.endpoint.span())?;
    settle_chunks(doc, &mut upload, &u.max_chunk_mib.span())?;
    Ok(upload)
}
