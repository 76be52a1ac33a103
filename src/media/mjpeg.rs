//! MJPEG decoding to I420 (stub until the conversion branch lands).

#[derive(Debug, thiserror::Error)]
#[error("mjpeg: {0}")]
pub struct MjpegError(pub String);

pub fn decode_mjpeg(_jpeg: &[u8], _dst: &mut Vec<u8>) -> Result<(u32, u32), MjpegError> {
    Err(MjpegError("not implemented".into()))
}
