//! The station config, `config.toml`: which devices a booth records from, how, where the
//! recordings go and which interview it runs. This module owns the file's format (operators
//! script against its section and field names, so they are a contract), its validation (every
//! error names file:line:column, the section, the field and what is allowed) and the typed
//! [`Config`] the rest of booth uses.
//!
//! The repository's `config.toml` is compiled in and is both the commented default and the
//! source of every default value: a field left out of an operator's file takes the value the
//! built-in file gives it.

mod fields;
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
use crate::tomlfile::{self, Document};
// The per-field checks and limits `build` strings together.
use fields::*;
pub use interviews::InterviewRef;
pub use kiosk::{Kiosk, TextSize, ThemeName};
pub use logging::Logging;
pub use monitoring::Monitoring;
pub use upload::{Endpoint, Retention, TOKEN_ENV, TokenError, UploadToken};

#[cfg(test)]
mod tests;

/// The commented default config, as shipped.
pub const DEFAULT_CONFIG: &str = include_str!("../config.toml");

/// How the built-in file is named in messages (only a broken build could produce one).
const DEFAULT_CONFIG_NAME: &str = "config.toml (built in)";

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
    #[error(transparent)]
    Invalid(#[from] Diagnostic),
}

impl ConfigError {
    /// The file, as the caller named it.
    pub fn path(&self) -> &Path {
        match self {
            ConfigError::Read { path, .. } => path,
            ConfigError::Invalid(d) => d.path(),
        }
    }
    /// 1-based line, for problems inside the file.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Read { .. } => None,
            ConfigError::Invalid(d) => Some(d.line()),
        }
    }
    /// 1-based column, for problems inside the file.
    pub fn column(&self) -> Option<usize> {
        match self {
            ConfigError::Read { .. } => None,
            ConfigError::Invalid(d) => Some(d.column()),
        }
    }
    /// The field the problem is about.
    pub fn field(&self) -> Option<&str> {
        match self {
            ConfigError::Read { .. } => None,
            ConfigError::Invalid(d) => d.field(),
        }
    }
}

impl Config {
    /// Reads and validates a config file; `None` is the built-in default.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let Some(path) = path else {
            return built_in();
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Validates config text. `path` is named in messages, and relative paths are read from
    /// its directory. Fields the text leaves out take the built-in default's values.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let base = built_in()?;
        parse_with(text, path, &tomlfile::base_dir(path), Some(&base))
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

fn built_in() -> Result<Config, ConfigError> {
    // The built-in file only has absolute paths; "/" keeps a slip from depending on the cwd.
    parse_with(
        DEFAULT_CONFIG,
        Path::new(DEFAULT_CONFIG_NAME),
        Path::new("/"),
        None,
    )
}

fn parse_with(
    text: &str,
    path: &Path,
    dir: &Path,
    base: Option<&Config>,
) -> Result<Config, ConfigError> {
    let doc = Document::parse(text, path, expectation)?;
    let raw: RawConfig = doc.deserialize()?;
    Ok(build(&doc, raw, dir, base)?)
}

// ---- the file as written -------------------------------------------------------------------
// Every field is optional (the built-in file fills in); field order here is the order
// "expected one of: …" lists them in.

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawStation {
    id: Option<Spanned<String>>,
    data_dir: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawDevices {
    video: Option<Spanned<String>>,
    audio: Option<Spanned<String>>,
    size: Option<Spanned<String>>,
    fps: Option<Spanned<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawRecording {
    video_kbps: Option<Spanned<i64>>,
    audio_kbps: Option<Spanned<i64>>,
    noise_gate_dbfs: Option<Spanned<f64>>,
    silence_warning_seconds: Option<Spanned<i64>>,
    test_clip_seconds: Option<Spanned<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawUpload {
    endpoint: Option<Spanned<String>>,
    token_file: Option<Spanned<String>>,
    chunk_mib: Option<Spanned<i64>>,
    max_chunk_mib: Option<Spanned<i64>>,
    concurrency: Option<Spanned<i64>>,
    retention: Option<Spanned<String>>,
    allow_plain_http: Option<Spanned<bool>>,
}

// ---- validation ----------------------------------------------------------------------------

/// Validates one field if the file sets it, else takes the built-in value. Without a base
/// (reading the built-in file itself) a missing field is a broken build, reported as such.
fn pick<R, T>(
    doc: &Document<'_>,
    raw: Option<Spanned<R>>,
    base: Option<T>,
    section: &str,
    field: &str,
    check: impl FnOnce(&Spanned<R>) -> Result<T, Diagnostic>,
) -> Result<T, Diagnostic> {
    match (raw, base) {
        (Some(value), _) => check(&value),
        (None, Some(value)) => Ok(value),
        (None, None) => Err(doc.error_at_top(format!(
            "[{section}]: missing field '{field}' (the built-in config must set every field)"
        ))),
    }
}

fn build(
    doc: &Document<'_>,
    raw: RawConfig,
    dir: &Path,
    base: Option<&Config>,
) -> Result<Config, Diagnostic> {
    let (s, d, r, u) = (raw.station, raw.devices, raw.recording, raw.upload);
    let station = Station {
        id: pick(
            doc,
            s.id,
            base.map(|b| b.station.id.clone()),
            "station",
            "id",
            |v| station_id(doc, v),
        )?,
        data_dir: pick(
            doc,
            s.data_dir,
            base.map(|b| b.station.data_dir.clone()),
            "station",
            "data_dir",
            |v| path(doc, v, dir, "data_dir"),
        )?,
    };

    let video = pick(
        doc,
        d.video,
        base.map(|b| b.devices.video.clone()),
        "devices",
        "video",
        |v| {
            let spec = v.get_ref().parse::<VideoSpec>().map_err(|e| {
                doc.error(&v.span(), None, must_be("video", e.expected, v.get_ref()))
            })?;
            Ok(match spec {
                VideoSpec::File(p) => VideoSpec::File(dir.join(p)),
                other => other,
            })
        },
    )?;
    let audio = pick(
        doc,
        d.audio,
        base.map(|b| b.devices.audio.clone()),
        "devices",
        "audio",
        |v| {
            let spec = v.get_ref().parse::<AudioSpec>().map_err(|e| {
                doc.error(&v.span(), None, must_be("audio", e.expected, v.get_ref()))
            })?;
            Ok(match spec {
                AudioSpec::File(p) => AudioSpec::File(dir.join(p)),
                other => other,
            })
        },
    )?;
    let base_size = base.map(|b| (b.devices.width, b.devices.height));
    let (width, height) = pick(doc, d.size, base_size, "devices", "size", |v| size(doc, v))?;
    let fps = pick(
        doc,
        d.fps,
        base.map(|b| b.devices.fps),
        "devices",
        "fps",
        |v| int(doc, v, "fps", FPS),
    )?;
    let devices = Devices {
        video,
        audio,
        width,
        height,
        fps,
    };

    let b = base.map(|b| &b.recording);
    let recording = Recording {
        video_kbps: pick(
            doc,
            r.video_kbps,
            b.map(|b| b.video_kbps),
            "recording",
            "video_kbps",
            |v| int(doc, v, "video_kbps", VIDEO_KBPS),
        )?,
        audio_kbps: pick(
            doc,
            r.audio_kbps,
            b.map(|b| b.audio_kbps),
            "recording",
            "audio_kbps",
            |v| int(doc, v, "audio_kbps", AUDIO_KBPS),
        )?,
        noise_gate_dbfs: pick(
            doc,
            r.noise_gate_dbfs,
            b.map(|b| b.noise_gate_dbfs),
            "recording",
            "noise_gate_dbfs",
            |v| noise_gate(doc, v),
        )?,
        silence_warning: pick(
            doc,
            r.silence_warning_seconds,
            b.map(|b| b.silence_warning),
            "recording",
            "silence_warning_seconds",
            |v| int(doc, v, "silence_warning_seconds", SILENCE_WARNING).map(secs),
        )?,
        test_clip: pick(
            doc,
            r.test_clip_seconds,
            b.map(|b| b.test_clip),
            "recording",
            "test_clip_seconds",
            |v| int(doc, v, "test_clip_seconds", TEST_CLIP).map(secs),
        )?,
    };

    let b = base.map(|b| &b.upload);
    let endpoint_span = u.endpoint.as_ref().map(Spanned::span);
    let max_chunk_span = u.max_chunk_mib.as_ref().map(Spanned::span);
    let mut upload = Upload {
        endpoint: pick(
            doc,
            u.endpoint,
            b.map(|b| b.endpoint.clone()),
            "upload",
            "endpoint",
            |v| endpoint(doc, v, dir),
        )?,
        token_file: pick(
            doc,
            u.token_file,
            b.map(|b| b.token_file.clone()),
            "upload",
            "token_file",
            |v| path(doc, v, dir, "token_file"),
        )?,
        chunk_bytes: pick(
            doc,
            u.chunk_mib,
            b.map(|b| b.chunk_bytes),
            "upload",
            "chunk_mib",
            |v| int(doc, v, "chunk_mib", CHUNK_MIB).map(|mib| u64::from(mib) << 20),
        )?,
        max_chunk_bytes: pick(
            doc,
            u.max_chunk_mib,
            b.map(|b| b.max_chunk_bytes),
            "upload",
            "max_chunk_mib",
            |v| int(doc, v, "max_chunk_mib", CHUNK_MIB).map(|mib| u64::from(mib) << 20),
        )?,
        concurrency: pick(
            doc,
            u.concurrency,
            b.map(|b| b.concurrency),
            "upload",
            "concurrency",
            |v| int(doc, v, "concurrency", CONCURRENCY),
        )?,
        retention: pick(
            doc,
            u.retention,
            b.map(|b| b.retention),
            "upload",
            "retention",
            |v| {
                v.get_ref().parse().map_err(|()| {
                    doc.error(
                        &v.span(),
                        None,
                        must_be("retention", RETENTION_RULE, v.get_ref()),
                    )
                })
            },
        )?,
        allow_plain_http: pick(
            doc,
            u.allow_plain_http,
            b.map(|b| b.allow_plain_http),
            "upload",
            "allow_plain_http",
            |v| Ok(*v.get_ref()),
        )?,
    };
    check_plain_http(doc, &upload, endpoint_span)?;
    settle_chunks(doc, &mut upload, max_chunk_span)?;

    let interview = interviews::build(doc, raw.interview, dir, base.map(|b| &b.interview))?;

    let kiosk = kiosk::build(
        doc,
        raw.kiosk,
        base.map(|b| &b.kiosk),
        upload.allow_plain_http,
    )?;
    let logging = logging::build(doc, raw.logging, base.map(|b| &b.logging))?;
    let monitoring = monitoring::build(doc, raw.monitoring, dir, base.map(|b| &b.monitoring))?;

    Ok(Config {
        station,
        devices,
        recording,
        upload,
        interview,
        kiosk,
        logging,
        monitoring,
    })
}
