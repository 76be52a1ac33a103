//! Synthetic test pattern and tone (stub).
use super::frame::{AudioChunk, VideoFormat, VideoFrame};
use super::source::{AudioSource, CaptureError, Pace, VideoRequest, VideoSource};
use std::time::Instant;

pub struct TestPattern {
    request: VideoRequest,
}
impl TestPattern {
    pub fn new(request: VideoRequest, _pace: Pace, _epoch: Instant) -> Self {
        TestPattern { request }
    }
}
impl VideoSource for TestPattern {
    fn describe(&self) -> String {
        "test pattern".into()
    }
    fn format(&self) -> VideoFormat {
        VideoFormat {
            width: self.request.width,
            height: self.request.height,
            fps: self.request.fps as f64,
        }
    }
    fn is_live(&self) -> bool {
        true
    }
    fn next_frame(&mut self) -> Result<Option<VideoFrame>, CaptureError> {
        Ok(None)
    }
}
pub struct TestTone;
impl TestTone {
    pub fn new(_pace: Pace, _epoch: Instant) -> Self {
        TestTone
    }
}
impl AudioSource for TestTone {
    fn describe(&self) -> String {
        "tone".into()
    }
    fn channels(&self) -> u16 {
        1
    }
    fn is_live(&self) -> bool {
        true
    }
    fn next_chunk(&mut self) -> Result<Option<AudioChunk>, CaptureError> {
        Ok(None)
    }
}
