//! Y4M file source (stub).
use super::frame::{VideoFormat, VideoFrame};
use super::source::{CaptureError, Pace, VideoSource};
use std::path::Path;
use std::time::Instant;

pub struct Y4mSource;
impl Y4mSource {
    pub fn open(path: &Path, _pace: Pace, _epoch: Instant) -> Result<Self, CaptureError> {
        Err(CaptureError::BadFile {
            path: path.to_path_buf(),
            detail: "not implemented".into(),
        })
    }
}
impl VideoSource for Y4mSource {
    fn describe(&self) -> String {
        "y4m".into()
    }
    fn format(&self) -> VideoFormat {
        VideoFormat {
            width: 0,
            height: 0,
            fps: 0.0,
        }
    }
    fn is_live(&self) -> bool {
        false
    }
    fn next_frame(&mut self) -> Result<Option<VideoFrame>, CaptureError> {
        Ok(None)
    }
}
