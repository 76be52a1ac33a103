//! Pixel format conversion to I420 (stub until the conversion branch lands).

#[derive(Debug, thiserror::Error)]
#[error("conversion: {0}")]
pub struct ConvertError(pub String);

pub fn yuyv_to_i420(
    _src: &[u8],
    _w: u32,
    _h: u32,
    _stride: usize,
    _dst: &mut [u8],
) -> Result<(), ConvertError> {
    Err(ConvertError("not implemented".into()))
}
pub fn nv12_to_i420(
    _src: &[u8],
    _w: u32,
    _h: u32,
    _stride: usize,
    _dst: &mut [u8],
) -> Result<(), ConvertError> {
    Err(ConvertError("not implemented".into()))
}
