//! V4L2 camera (stub).
use super::frame::{VideoFormat, VideoFrame};
use super::source::{CaptureError, VideoRequest, VideoSource};

pub struct V4l2Camera;
impl V4l2Camera {
    pub fn open(device: Option<&str>, _request: VideoRequest) -> Result<Self, CaptureError> {
        Err(CaptureError::CameraNotFound {
            device: device.unwrap_or("default").into(),
            hint: String::new(),
        })
    }
}
impl VideoSource for V4l2Camera {
    fn describe(&self) -> String {
        "v4l2".into()
    }
    fn format(&self) -> VideoFormat {
        VideoFormat {
            width: 0,
            height: 0,
            fps: 0.0,
        }
    }
    fn is_live(&self) -> bool {
        true
    }
    fn next_frame(&mut self) -> Result<Option<VideoFrame>, CaptureError> {
        Ok(None)
    }
}
