//! ALSA microphone (stub).
use super::frame::AudioChunk;
use super::source::{AudioSource, CaptureError};

pub struct AlsaMic;
impl AlsaMic {
    pub fn open(device: Option<&str>) -> Result<Self, CaptureError> {
        Err(CaptureError::MicrophoneNotFound {
            device: device.unwrap_or("default").into(),
            hint: String::new(),
        })
    }
}
impl AudioSource for AlsaMic {
    fn describe(&self) -> String {
        "alsa".into()
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
