//! Where pictures and sound come from: the `VideoSource` and `AudioSource` traits, the spec
//! strings operators write (`v4l2:/dev/video0`, `test`, `file:clip.y4m`, `alsa:hw:1,0`,
//! `tone`, `file:voice.wav`) and why a source fails. Opening a source from a spec is
//! [`super::open`]'s job: this module imports none of the sources, they import it.
//!
//! A source is pulled by one capture thread; it blocks until its next item is due (a camera's
//! next frame, or a file's next frame paced in real time) and stamps it with the monotonic
//! instant of capture. Sources never convert to anything but I420 / i16.

use std::path::PathBuf;
use std::time::Instant;

use super::frame::{AudioChunk, VideoFormat, VideoFrame};

/// How a file or synthetic source releases its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pace {
    /// Like a device: each item is released when its capture time comes.
    #[default]
    Realtime,
    /// As fast as the consumer takes them; timestamps stay nominal. The capture thread then
    /// blocks instead of dropping when the encoder is behind.
    None,
}

impl std::str::FromStr for Pace {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "realtime" => Ok(Pace::Realtime),
            "none" => Ok(Pace::None),
            other => Err(format!(
                "unknown pace '{other}' (expected 'realtime' or 'none')"
            )),
        }
    }
}

/// What the caller would like from a camera; the source reports what it really gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoRequest {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

impl Default for VideoRequest {
    fn default() -> Self {
        VideoRequest {
            width: 1280,
            height: 720,
            fps: 30,
        }
    }
}

/// A parsed `--video` spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoSpec {
    /// The first V4L2 camera.
    Default,
    /// A V4L2 device by path (`/dev/video2`) or index (`2`).
    V4l2(String),
    /// The synthetic test pattern.
    Test,
    /// The synthetic talking head (a realistic, mostly static scene).
    Head,
    /// A Y4M file.
    File(PathBuf),
}

/// A parsed `--audio` spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioSpec {
    /// ALSA's default input device (PulseAudio / PipeWire reach it through ALSA).
    Default,
    /// A named ALSA device, e.g. `hw:1,0`, `plughw:CARD=Webcam,DEV=0`, `pulse`.
    Alsa(String),
    /// The synthetic tone with sync beeps.
    Tone,
    /// A WAV file.
    File(PathBuf),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown {kind} source '{spec}': expected {expected}")]
pub struct SpecError {
    pub kind: &'static str,
    pub spec: String,
    pub expected: &'static str,
}

impl std::str::FromStr for VideoSpec {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || SpecError {
            kind: "video",
            spec: s.to_string(),
            expected: "'default', 'v4l2:<path or index>', 'test', 'head' or 'file:<path.y4m>'",
        };
        match s {
            "default" => Ok(VideoSpec::Default),
            "test" => Ok(VideoSpec::Test),
            "head" => Ok(VideoSpec::Head),
            _ => {
                if let Some(dev) = s.strip_prefix("v4l2:") {
                    if dev.is_empty() {
                        return Err(bad());
                    }
                    Ok(VideoSpec::V4l2(dev.to_string()))
                } else if let Some(path) = s.strip_prefix("file:") {
                    if path.is_empty() {
                        return Err(bad());
                    }
                    Ok(VideoSpec::File(PathBuf::from(path)))
                } else {
                    Err(bad())
                }
            }
        }
    }
}

impl std::fmt::Display for VideoSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VideoSpec::Default => write!(f, "default"),
            VideoSpec::V4l2(d) => write!(f, "v4l2:{d}"),
            VideoSpec::Test => write!(f, "test"),
            VideoSpec::Head => write!(f, "head"),
            VideoSpec::File(p) => write!(f, "file:{}", p.display()),
        }
    }
}

impl std::str::FromStr for AudioSpec {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || SpecError {
            kind: "audio",
            spec: s.to_string(),
            expected: "'default', 'alsa:<device>', 'tone' or 'file:<path.wav>'",
        };
        match s {
            "default" => Ok(AudioSpec::Default),
            "tone" => Ok(AudioSpec::Tone),
            _ => {
                if let Some(dev) = s.strip_prefix("alsa:") {
                    if dev.is_empty() {
                        return Err(bad());
                    }
                    Ok(AudioSpec::Alsa(dev.to_string()))
                } else if let Some(path) = s.strip_prefix("file:") {
                    if path.is_empty() {
                        return Err(bad());
                    }
                    Ok(AudioSpec::File(PathBuf::from(path)))
                } else {
                    Err(bad())
                }
            }
        }
    }
}

impl std::fmt::Display for AudioSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AudioSpec::Default => write!(f, "default"),
            AudioSpec::Alsa(d) => write!(f, "alsa:{d}"),
            AudioSpec::Tone => write!(f, "tone"),
            AudioSpec::File(p) => write!(f, "file:{}", p.display()),
        }
    }
}

/// Why a source could not be opened or stopped delivering. Every variant names the device or
/// file, because the operator reading it is standing next to several of each.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("camera {device} not found{hint}")]
    CameraNotFound { device: String, hint: String },
    #[error("camera {device} is busy{}", holder_text(.holder))]
    CameraBusy {
        device: String,
        holder: Option<String>,
    },
    #[error("camera {device} cannot be read by this user (add the user to the 'video' group)")]
    CameraPermission { device: String },
    #[error("camera {device}: {detail}")]
    Camera { device: String, detail: String },
    #[error("camera {device} stopped delivering pictures: {detail}")]
    CameraLost { device: String, detail: String },
    /// One picture that cannot be decoded (a USB transfer glitch): the capture loop skips and
    /// counts it, and only a sustained run of them ends the recording (as `CameraLost`).
    #[error("camera {device} sent a picture that cannot be decoded: {detail}")]
    CorruptFrame {
        device: String,
        /// When the picture was taken: runs of bad pictures are timed by it.
        captured: Instant,
        detail: String,
    },
    #[error("microphone {device} not found{hint}")]
    MicrophoneNotFound { device: String, hint: String },
    #[error("microphone {device} is busy (another program is recording from it)")]
    MicrophoneBusy { device: String },
    #[error(
        "microphone {device} cannot be opened by this user (add the user to the 'audio' group)"
    )]
    MicrophonePermission { device: String },
    #[error("microphone {device}: {detail}")]
    Microphone { device: String, detail: String },
    #[error("microphone {device} stopped delivering sound: {detail}")]
    MicrophoneLost { device: String, detail: String },
    #[error("cannot read {}: {source}", path.display())]
    FileIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {detail}", path.display())]
    BadFile { path: PathBuf, detail: String },
    #[error(
        "unsupported picture size {width}x{height}: width and height must be even and between 16 and 3840x2160"
    )]
    BadSize { width: u32, height: u32 },
}

fn holder_text(holder: &Option<String>) -> String {
    match holder {
        Some(h) => format!(" (held by {h})"),
        None => " (another program is using it)".to_string(),
    }
}

/// How a camera is found again after it went away (unplugged, reset by USB), even when it
/// comes back under another `/dev/videoN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraId {
    /// Its `/dev/v4l/by-id/...` link, when udev made one (USB cameras with a serial number).
    pub by_id: Option<PathBuf>,
    /// The driver's `bus_info` (VIDIOC_QUERYCAP): the USB port or platform device.
    pub bus_info: String,
    /// The driver's card name (VIDIOC_QUERYCAP), e.g. "HD Pro Webcam C920".
    pub card: String,
}

impl std::fmt::Display for CameraId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.by_id {
            Some(link) => write!(f, "{}", link.display()),
            None => write!(f, "'{}' at {}", self.card, self.bus_info),
        }
    }
}

/// Where the sources were found when they were last open: the same devices are looked for
/// there when they are opened again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownDevices {
    pub camera: Option<CameraId>,
    /// The microphone's ALSA name as cpal lists it (`hw:CARD=Webcam,DEV=0`): by card name,
    /// not by a card number that changes when it comes back.
    pub microphone: Option<String>,
}

/// A camera-like producer of I420 frames.
pub trait VideoSource: Send {
    /// One line for logs and `devices`: what this is and what it negotiated.
    fn describe(&self) -> String;
    /// How to find this very camera again; `None` for sources that are not devices.
    fn camera_id(&self) -> Option<CameraId> {
        None
    }
    /// What the source really delivers.
    fn format(&self) -> VideoFormat;
    /// Whether items arrive on their own clock (camera, realtime file) or on demand.
    fn is_live(&self) -> bool;
    /// Blocks until the next frame. `Ok(None)` is a clean end (a file ran out).
    fn next_frame(&mut self) -> Result<Option<VideoFrame>, CaptureError>;
}

/// A microphone-like producer of interleaved i16 audio at [`super::frame::AUDIO_RATE`].
pub trait AudioSource: Send {
    fn describe(&self) -> String;
    /// The device's stable name, to open the same one again; `None` for sources that are not
    /// devices.
    fn stable_name(&self) -> Option<String> {
        None
    }
    fn channels(&self) -> u16;
    fn is_live(&self) -> bool;
    /// Blocks until the next chunk. `Ok(None)` is a clean end.
    fn next_chunk(&mut self) -> Result<Option<AudioChunk>, CaptureError>;
}

/// Validates a requested or delivered picture size against what the encoder accepts.
pub fn check_size(width: u32, height: u32) -> Result<(), CaptureError> {
    let ok = width.is_multiple_of(2)
        && height.is_multiple_of(2)
        && (16..=3840).contains(&width)
        && (16..=2160).contains(&height);
    if ok {
        Ok(())
    } else {
        Err(CaptureError::BadSize { width, height })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_video_specs() {
        assert_eq!("default".parse::<VideoSpec>(), Ok(VideoSpec::Default));
        assert_eq!("test".parse::<VideoSpec>(), Ok(VideoSpec::Test));
        assert_eq!("head".parse::<VideoSpec>(), Ok(VideoSpec::Head));
        assert_eq!(
            "v4l2:/dev/video2".parse::<VideoSpec>(),
            Ok(VideoSpec::V4l2("/dev/video2".into()))
        );
        assert_eq!(
            "v4l2:1".parse::<VideoSpec>(),
            Ok(VideoSpec::V4l2("1".into()))
        );
        assert_eq!(
            "file:a b.y4m".parse::<VideoSpec>(),
            Ok(VideoSpec::File("a b.y4m".into()))
        );
        let err = "webcam".parse::<VideoSpec>().unwrap_err();
        assert!(err.to_string().contains("'webcam'"), "{err}");
        assert!("v4l2:".parse::<VideoSpec>().is_err());
        assert!("file:".parse::<VideoSpec>().is_err());
    }

    #[test]
    fn parses_audio_specs() {
        assert_eq!("default".parse::<AudioSpec>(), Ok(AudioSpec::Default));
        assert_eq!("tone".parse::<AudioSpec>(), Ok(AudioSpec::Tone));
        assert_eq!(
            "alsa:hw:Loopback,1,0".parse::<AudioSpec>(),
            Ok(AudioSpec::Alsa("hw:Loopback,1,0".into()))
        );
        assert_eq!(
            "file:x.wav".parse::<AudioSpec>(),
            Ok(AudioSpec::File("x.wav".into()))
        );
        assert!("mic".parse::<AudioSpec>().is_err());
    }

    #[test]
    fn spec_display_round_trips() -> crate::TestResult {
        for s in ["default", "test", "head", "v4l2:/dev/video0", "file:x.y4m"] {
            assert_eq!(s.parse::<VideoSpec>()?.to_string(), s);
        }
        for s in ["default", "tone", "alsa:hw:0", "file:x.wav"] {
            assert_eq!(s.parse::<AudioSpec>()?.to_string(), s);
        }
        Ok(())
    }

    #[test]
    fn sizes_are_checked() {
        assert!(check_size(1280, 720).is_ok());
        assert!(check_size(1281, 720).is_err());
        assert!(check_size(8, 8).is_err());
        assert!(check_size(4096, 2160).is_err());
    }

    #[test]
    fn busy_error_names_holder() {
        let e = CaptureError::CameraBusy {
            device: "/dev/video0".into(),
            holder: Some("cheese (pid 42)".into()),
        };
        assert_eq!(
            e.to_string(),
            "camera /dev/video0 is busy (held by cheese (pid 42))"
        );
    }
}
