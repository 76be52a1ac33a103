//! Opening a source from an operator's spec: the factory that picks the camera (V4L2), the
//! microphone (ALSA), the synthetic pattern, talking head and tone, or a Y4M / WAV file; and
//! opening the same device again after it went away ([`reopen_video`], [`reopen_audio`]), by
//! its stable id rather than the node or card number it had. Kept apart from the traits in
//! [`super::source`] so that the sources import the traits and only this module imports the
//! sources.

use std::time::Instant;

use super::alsa::AlsaMic;
use super::source::{
    AudioSource, AudioSpec, CameraId, CaptureError, Pace, VideoRequest, VideoSource, VideoSpec,
    check_size,
};
use super::synthetic::{TalkingHead, TestPattern, TestTone};
use super::v4l2::V4l2Camera;
use super::wav::WavSource;
use super::y4m::Y4mSource;

/// Opens a video source. `epoch` is the shared clock origin synthetic and file sources
/// count from, so that their timestamps line up with the matching audio source.
pub fn open_video(
    spec: &VideoSpec,
    request: VideoRequest,
    pace: Pace,
    epoch: Instant,
) -> Result<Box<dyn VideoSource>, CaptureError> {
    match spec {
        VideoSpec::Test => {
            check_size(request.width, request.height)?;
            Ok(Box::new(TestPattern::new(request, pace, epoch)))
        }
        VideoSpec::Head => {
            check_size(request.width, request.height)?;
            Ok(Box::new(TalkingHead::new(request, pace, epoch)))
        }
        VideoSpec::File(path) => Ok(Box::new(Y4mSource::open(path, pace, epoch)?)),
        VideoSpec::Default => Ok(Box::new(V4l2Camera::open(None, request)?)),
        VideoSpec::V4l2(dev) => Ok(Box::new(V4l2Camera::open(Some(dev), request)?)),
    }
}

/// Opens an audio source; see [`open_video`] for `epoch`.
pub fn open_audio(
    spec: &AudioSpec,
    pace: Pace,
    epoch: Instant,
) -> Result<Box<dyn AudioSource>, CaptureError> {
    match spec {
        AudioSpec::Tone => Ok(Box::new(TestTone::new(pace, epoch))),
        AudioSpec::File(path) => Ok(Box::new(WavSource::open(path, pace, epoch)?)),
        AudioSpec::Default => Ok(Box::new(AlsaMic::open(None)?)),
        AudioSpec::Alsa(dev) => Ok(Box::new(AlsaMic::open(Some(dev))?)),
    }
}

/// Opens the video source again. A camera that was open before (`known`) is looked for by its
/// stable id, wherever it is now; it is never swapped for whatever another camera left at the
/// spec's node. Other sources open as the spec says.
pub fn reopen_video(
    spec: &VideoSpec,
    known: Option<&CameraId>,
    request: VideoRequest,
    pace: Pace,
    epoch: Instant,
) -> Result<Box<dyn VideoSource>, CaptureError> {
    match (spec, known) {
        (VideoSpec::Default | VideoSpec::V4l2(_), Some(id)) => {
            Ok(Box::new(V4l2Camera::open_known(id, request)?))
        }
        _ => open_video(spec, request, pace, epoch),
    }
}

/// Opens the audio source again: a microphone that was open before (`known`, its stable
/// ALSA name) by that name; see [`reopen_video`].
pub fn reopen_audio(
    spec: &AudioSpec,
    known: Option<&str>,
    pace: Pace,
    epoch: Instant,
) -> Result<Box<dyn AudioSource>, CaptureError> {
    match (spec, known) {
        (AudioSpec::Default | AudioSpec::Alsa(_), Some(name)) => {
            Ok(Box::new(AlsaMic::open(Some(name))?))
        }
        _ => open_audio(spec, pace, epoch),
    }
}
