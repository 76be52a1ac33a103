//! WAV file source (stub).
use super::frame::AudioChunk;
use super::source::{AudioSource, CaptureError, Pace};
use std::path::Path;
use std::time::Instant;

pub struct WavSource;
impl WavSource {
    pub fn open(path: &Path, _pace: Pace, _epoch: Instant) -> Result<Self, CaptureError> {
        Err(CaptureError::BadFile {
            path: path.to_path_buf(),
            detail: "not implemented".into(),
        })
    }
}
impl AudioSource for WavSource {
    fn describe(&self) -> String {
        "wav".into()
    }
    fn channels(&self) -> u16 {
        1
    }
    fn is_live(&self) -> bool {
        false
    }
    fn next_chunk(&mut self) -> Result<Option<AudioChunk>, CaptureError> {
        Ok(None)
    }
}
