//! MJPEG camera frames to packed limited-range I420: marker checks, the standard Huffman tables
//! that UVC cameras leave out, and the hand-off to zune-jpeg.
//!
//! UVC cameras commonly send baseline JPEGs without a DHT segment, relying on the "typical"
//! tables of ISO/IEC 10918-1 Annex K.3.3 as the AVI1 MJPEG convention allows. zune-jpeg only
//! supplies those when the frame carries an AVI1 APP0 marker (zune-image#136), so we splice a DHT
//! with the Annex K tables in front of the first SOS ourselves when a frame has none.
//!
//! JPEG YCbCr is full range; the encoder signals limited range, so samples are rescaled while
//! the decoder's 4:4:4 output is reduced to 4:2:0.

use std::borrow::Cow;

use zune_jpeg::JpegDecoder;
use zune_jpeg::errors::DecodeErrors;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use super::convert::{self, LUMA_FULL_TO_LIMITED};
use super::frame::i420_len;

/// Why a frame could not be turned into a picture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MjpegError {
    #[error("not a JPEG picture: it starts with {found:02x?} instead of the SOI marker ff d8")]
    NotJpeg { found: Vec<u8> },
    #[error("JPEG picture is truncated: {0}")]
    Truncated(String),
    #[error("JPEG picture is corrupt: {0}")]
    Corrupt(String),
    #[error("unsupported JPEG: {0}")]
    Unsupported(String),
    #[error("JPEG picture of {width}x{height} is too small (at least 2x2 is needed)")]
    TooSmall { width: usize, height: usize },
    #[error("JPEG decoder: {0}")]
    Decoder(String),
}

/// A DHT table class/id byte and the table's symbols grouped by code length 1..=16, exactly as
/// Annex K lists them. The segment's BITS counts are the group sizes, so they cannot disagree.
struct StdTable {
    class_id: u8,
    by_length: [&'static [u8]; 16],
}

/// Annex K.3.3: Tables K.3 (luminance DC), K.5 (luminance AC), K.4 (chrominance DC) and K.6
/// (chrominance AC). Cameras address them as table 0 for Y and 1 for Cb/Cr.
const STD_TABLES: [StdTable; 4] = [
    StdTable {
        class_id: 0x00,
        by_length: [
            &[],
            &[0],
            &[1, 2, 3, 4, 5],
            &[6],
            &[7],
            &[8],
            &[9],
            &[10],
            &[11], //
            &[],
            &[],
            &[],
            &[],
            &[],
            &[],
            &[],
        ],
    },
    StdTable {
        class_id: 0x10,
        by_length: [
            &[],
            &[0x01, 0x02],
            &[0x03],
            &[0x00, 0x04, 0x11],
            &[0x05, 0x12, 0x21],
            &[0x31, 0x41],
            &[0x06, 0x13, 0x51, 0x61],
            &[0x07, 0x22, 0x71],
            &[0x14, 0x32, 0x81, 0x91, 0xa1],
            &[0x08, 0x23, 0x42, 0xb1, 0xc1],
            &[0x15, 0x52, 0xd1, 0xf0],
            &[0x24, 0x33, 0x62, 0x72],
            &[],
            &[],
            &[0x82],
            &[
                0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34,
                0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a,
                0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
                0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86,
                0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2,
                0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
                0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3,
                0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
                0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
            ],
        ],
    },
    StdTable {
        class_id: 0x01,
        by_length: [
            &[],
            &[0, 1, 2],
            &[3],
            &[4],
            &[5],
            &[6],
            &[7],
            &[8],
            &[9],
            &[10],
            &[11], //
            &[],
            &[],
            &[],
            &[],
            &[],
        ],
    },
    StdTable {
        class_id: 0x11,
        by_length: [
            &[],
            &[0x00, 0x01],
            &[0x02],
            &[0x03, 0x11],
            &[0x04, 0x05, 0x21, 0x31],
            &[0x06, 0x12, 0x41, 0x51],
            &[0x07, 0x61, 0x71],
            &[0x13, 0x22, 0x32, 0x81],
            &[0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1],
            &[0x09, 0x23, 0x33, 0x52, 0xf0],
            &[0x15, 0x62, 0x72, 0xd1],
            &[0x0a, 0x16, 0x24, 0x34],
            &[],
            &[0xe1],
            &[0x25, 0xf1],
            &[
                0x17, 0x18, 0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39,
                0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57,
                0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75,
                0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a,
                0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6,
                0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2,
                0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7,
                0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3,
                0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
            ],
        ],
    },
];

/// Marker, length, then per table: class/id, 16 counts and the symbols (12 + 162 + 12 + 162).
const STD_DHT_LEN: usize = 4 + 4 * 17 + 2 * (12 + 162);

/// The whole DHT segment, built at compile time; a miscounted table fails the build.
static STD_DHT: [u8; STD_DHT_LEN] = build_std_dht();

const fn build_std_dht() -> [u8; STD_DHT_LEN] {
    let mut out = [0u8; STD_DHT_LEN];
    let body = STD_DHT_LEN - 2;
    out[0] = 0xFF;
    out[1] = 0xC4;
    out[2] = (body >> 8) as u8;
    out[3] = (body & 0xFF) as u8;
    let mut pos = 4;
    let mut t = 0;
    while t < STD_TABLES.len() {
        let table = &STD_TABLES[t];
        out[pos] = table.class_id;
        let mut len = 0;
        while len < 16 {
            out[pos + 1 + len] = table.by_length[len].len() as u8;
            len += 1;
        }
        pos += 17;
        len = 0;
        while len < 16 {
            let group = table.by_length[len];
            let mut i = 0;
            while i < group.len() {
                out[pos] = group[i];
                pos += 1;
                i += 1;
            }
            len += 1;
        }
        t += 1;
    }
    assert!(
        pos == STD_DHT_LEN,
        "standard Huffman tables have the wrong symbol count"
    );
    out
}

/// The largest picture decoded: the encoder's (and `source::check_size`'s) limit.
const MAX_WIDTH: usize = 3840;
const MAX_HEIGHT: usize = 2160;

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const DHT: u8 = 0xC4;

/// What the header walk found: where the first SOS marker starts, and whether a DHT came first.
struct Headers {
    sos: usize,
    has_dht: bool,
}

/// Walks the segments from SOI to the first SOS, skipping each by its length field, so that
/// bytes inside APPn/COM payloads are never mistaken for markers.
fn walk_headers(jpeg: &[u8]) -> Result<Headers, MjpegError> {
    if jpeg.len() < 2 || jpeg[0] != 0xFF || jpeg[1] != SOI {
        return Err(MjpegError::NotJpeg {
            found: jpeg[..jpeg.len().min(4)].to_vec(),
        });
    }
    let mut pos = 2;
    let mut has_dht = false;
    loop {
        if jpeg.get(pos) != Some(&0xFF) {
            return match jpeg.get(pos) {
                None => Err(MjpegError::Truncated(format!(
                    "headers end at byte {pos} before any image data"
                ))),
                Some(b) => Err(MjpegError::Corrupt(format!(
                    "expected a marker at byte {pos}, found {b:#04x}"
                ))),
            };
        }
        // Any number of 0xFF fill bytes may precede a marker code.
        let mut code_at = pos + 1;
        while jpeg.get(code_at) == Some(&0xFF) {
            code_at += 1;
        }
        let Some(&code) = jpeg.get(code_at) else {
            return Err(MjpegError::Truncated(format!(
                "cut off inside the marker at byte {pos}"
            )));
        };
        match code {
            SOS => return Ok(Headers { sos: pos, has_dht }),
            EOI => {
                return Err(MjpegError::Corrupt(format!(
                    "end of image at byte {pos} before any scan"
                )));
            }
            // TEM and RSTn stand alone; they carry no length.
            0x01 | 0xD0..=0xD7 => {
                pos = code_at + 1;
                continue;
            }
            0x00 | SOI => {
                return Err(MjpegError::Corrupt(format!(
                    "invalid marker ff {code:02x} at byte {pos}"
                )));
            }
            DHT => has_dht = true,
            _ => {}
        }
        let len = match jpeg.get(code_at + 1..code_at + 3) {
            Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
            _ => {
                return Err(MjpegError::Truncated(format!(
                    "cut off in the segment at byte {pos}"
                )));
            }
        };
        if len < 2 {
            return Err(MjpegError::Corrupt(format!(
                "segment ff {code:02x} at byte {pos} has impossible length {len}"
            )));
        }
        pos = code_at + 1 + len;
        if pos > jpeg.len() {
            return Err(MjpegError::Truncated(format!(
                "segment ff {code:02x} at byte {code_at} needs {len} bytes, {} are left",
                jpeg.len() - code_at - 1
            )));
        }
    }
}

/// Whether a DHT segment appears before the first SOS. Baseline frames need every table there;
/// malformed input reports `false`.
pub fn has_huffman_tables(jpeg: &[u8]) -> bool {
    walk_headers(jpeg).is_ok_and(|h| h.has_dht)
}

/// The frame with the Annex K.3.3 tables spliced in before the first SOS when it has no DHT of
/// its own; otherwise (including input too malformed to walk) the frame unchanged.
pub fn with_standard_huffman_tables(jpeg: &[u8]) -> Cow<'_, [u8]> {
    match walk_headers(jpeg) {
        Ok(Headers {
            sos,
            has_dht: false,
        }) => {
            let mut out = Vec::with_capacity(jpeg.len() + STD_DHT.len());
            out.extend_from_slice(&jpeg[..sos]);
            out.extend_from_slice(&STD_DHT);
            out.extend_from_slice(&jpeg[sos..]);
            Cow::Owned(out)
        }
        _ => Cow::Borrowed(jpeg),
    }
}

/// Decodes one MJPEG frame into `dst` as packed limited-range I420, resizing it to fit, and
/// returns the picture size. Odd sizes lose their last column and/or row, since I420 (and the
/// encoder) needs even ones.
///
/// A frame cut short is refused as truncated: zune-jpeg would pad the missing blocks with grey
/// and call it a success, and a half-grey picture in a recording is worse than a dropped frame.
/// Some cameras omit EOI on whole frames, so a missing EOI alone is not an error: such frames are
/// decoded in zune-jpeg's strict mode, which fails when the data runs out before the last block.
/// Other damage inside the entropy data is concealed, not refused, as ffmpeg does.
pub fn decode_mjpeg(jpeg: &[u8], dst: &mut Vec<u8>) -> Result<(u32, u32), MjpegError> {
    let headers = walk_headers(jpeg)?;
    // In entropy-coded data 0xFF is always followed by 0x00 or RSTn, so ff d9 after SOS can
    // only be EOI. Searching from the end finds it at once, even with trailing padding.
    let has_eoi = jpeg[headers.sos..]
        .windows(2)
        .rev()
        .any(|w| w == [0xFF, EOI]);
    let bytes = if headers.has_dht {
        Cow::Borrowed(jpeg)
    } else {
        with_standard_huffman_tables(jpeg)
    };

    // A glitch can turn the size into anything up to 65535x65535; nothing booth records is
    // larger than its encoder's limit, so nothing larger is allocated for.
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::YCbCr)
        .set_strict_mode(!has_eoi)
        .set_max_width(MAX_WIDTH)
        .set_max_height(MAX_HEIGHT);
    let decoder_error = |e| decoder_error(e, has_eoi);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(&bytes[..]), options);
    decoder.decode_headers().map_err(decoder_error)?;
    let input = decoder.input_colorspace();
    let gray = match input {
        Some(ColorSpace::YCbCr) => false,
        Some(ColorSpace::Luma) => {
            decoder.set_options(options.jpeg_set_out_colorspace(ColorSpace::Luma));
            true
        }
        other => return Err(MjpegError::Unsupported(format!("colour space {other:?}"))),
    };
    let Some((width, height)) = decoder.dimensions() else {
        return Err(MjpegError::Decoder(
            "no picture size after reading the headers".into(),
        ));
    };
    let (even_w, even_h) = (width & !1, height & !1);
    if even_w == 0 || even_h == 0 {
        return Err(MjpegError::TooSmall { width, height });
    }
    let pixels = decoder.decode().map_err(decoder_error)?;

    // Both fit in u32: JPEG sizes are 16-bit.
    let (out_w, out_h) = (even_w as u32, even_h as u32);
    dst.resize(i420_len(out_w, out_h), 0);
    if gray {
        let (luma, chroma) = dst.split_at_mut(even_w * even_h);
        for (out, row) in luma.chunks_exact_mut(even_w).zip(pixels.chunks(width)) {
            for (o, p) in out.iter_mut().zip(row) {
                *o = LUMA_FULL_TO_LIMITED[usize::from(*p)];
            }
        }
        chroma.fill(128);
    } else {
        convert::ycbcr444_full_to_i420(&pixels, out_w, out_h, 3 * width, dst)
            .map_err(|e| MjpegError::Decoder(format!("decoder output does not fit: {e}")))?;
    }
    Ok((out_w, out_h))
}

fn decoder_error(e: DecodeErrors, has_eoi: bool) -> MjpegError {
    match e {
        // Without EOI, strict mode's complaint is almost always the data running out.
        e if !has_eoi => MjpegError::Truncated(format!("no end-of-image marker, and {e}")),
        DecodeErrors::ExhaustedData | DecodeErrors::IoErrors(_) => {
            MjpegError::Truncated(format!("{e}"))
        }
        other => MjpegError::Decoder(format!("{other}")),
    }
}

#[cfg(test)]
#[path = "mjpeg_tests.rs"]
mod tests;
