//! Opening a source from an operator's spec: the factory that picks the camera (V4L2), the
//! microphone (ALSA), the synthetic pattern, talking head and tone, or a Y4M / WAV file. Kept apart from the
//! traits in [`super::source`] so that the sources import the traits and only this module
//! imports the sources.

use std::time::Instant;

use super::alsa::AlsaMic;
use super::source::{
    AudioSource, AudioSpec, CaptureError, Pace, VideoRequest, VideoSource, VideoSpec, check_size,
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
