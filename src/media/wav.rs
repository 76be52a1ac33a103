//! `--audio file:voice.wav`: reads a RIFF/WAVE file as if it were a microphone, converting
//! 16/24/32-bit integer or 32-bit float PCM to interleaved i16 and handing it out in 10 ms
//! chunks stamped `epoch + k * 10 ms`, paced in real time or as fast as the consumer pulls.
//!
//! The file must already be at 48 kHz: resampling belongs to ffmpeg, and the error says how.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Instant;

use super::frame::{AUDIO_RATE, AudioChunk, frames_to_duration};
use super::source::{AudioSource, CaptureError, Pace};
use super::y4m::read_full;

/// Sample frames per chunk: 10 ms, like a typical device period.
const CHUNK_FRAMES: usize = 480;
/// The 14 bytes after the format code in the KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT GUIDs.
const SUBTYPE_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];
/// `fmt ` chunks are 16 to 40 bytes; anything far bigger is not a format description.
const MAX_FMT_LEN: u32 = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sample {
    I16,
    I24,
    I32,
    F32,
}

impl Sample {
    fn bytes(self) -> usize {
        match self {
            Sample::I16 => 2,
            Sample::I24 => 3,
            Sample::I32 | Sample::F32 => 4,
        }
    }

    /// One little-endian sample as i16, rounded to nearest and saturated.
    fn to_i16(self, b: &[u8]) -> i16 {
        match self {
            Sample::I16 => i16::from_le_bytes([b[0], b[1]]),
            Sample::I24 => {
                // Sign-extend by placing the 24 bits at the top of an i32.
                let v = i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8;
                ((v + 128) >> 8).min(i32::from(i16::MAX)) as i16
            }
            Sample::I32 => {
                let v = i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                ((v + 32_768) >> 16).min(i64::from(i16::MAX)) as i16
            }
            // `as` saturates and maps NaN to 0; 32768 matches ffmpeg's float/int scaling.
            Sample::F32 => (f32::from_le_bytes([b[0], b[1], b[2], b[3]]) * 32_768.0).round() as i16,
        }
    }
}

/// The parts of `fmt ` booth uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Format {
    channels: u16,
    sample: Sample,
}

impl Format {
    /// Bytes per sample frame (one sample of every channel).
    fn block_align(self) -> usize {
        usize::from(self.channels) * self.sample.bytes()
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Checks a `fmt ` chunk body. Errors are the detail of a [`CaptureError::BadFile`].
fn parse_fmt(b: &[u8], offset: u64) -> Result<Format, String> {
    if b.len() < 16 {
        return Err(format!(
            "fmt chunk at byte offset {offset} is {} bytes, expected at least 16",
            b.len()
        ));
    }
    let (mut tag, channels, rate) = (u16_at(b, 0), u16_at(b, 2), u32_at(b, 4));
    let (block_align, bits) = (u16_at(b, 12), u16_at(b, 14));
    if tag == 0xFFFE {
        if b.len() < 40 {
            return Err(format!(
                "WAVE_FORMAT_EXTENSIBLE fmt chunk at byte offset {offset} is {} bytes, \
                 expected 40",
                b.len()
            ));
        }
        if b[26..40] != SUBTYPE_TAIL {
            return Err("WAVE_FORMAT_EXTENSIBLE sub-format is not PCM or IEEE float".into());
        }
        tag = u16_at(b, 24);
    }
    let sample = match (tag, bits) {
        (1, 16) => Sample::I16,
        (1, 24) => Sample::I24,
        (1, 32) => Sample::I32,
        (3, 32) => Sample::F32,
        (1 | 3, _) => {
            let kind = if tag == 1 { "integer" } else { "float" };
            return Err(format!(
                "{bits}-bit {kind} samples are not supported (booth reads 16-, 24- and 32-bit \
                 integer and 32-bit float WAV; convert with: ffmpeg -i in.wav -c:a pcm_s16le \
                 out.wav)"
            ));
        }
        _ => {
            return Err(format!(
                "format tag 0x{tag:04X} is not supported (booth reads uncompressed PCM or float \
                 WAV; convert with: ffmpeg -i in.wav -c:a pcm_s16le out.wav)"
            ));
        }
    };
    if channels != 1 && channels != 2 {
        return Err(format!(
            "has {channels} channels; booth records mono or stereo (convert it with: \
             ffmpeg -i in.wav -ac 2 out.wav)"
        ));
    }
    if rate != AUDIO_RATE {
        return Err(format!(
            "is {rate} Hz; booth records at {AUDIO_RATE} Hz (convert it with: \
             ffmpeg -i in.wav -ar {AUDIO_RATE} out.wav)"
        ));
    }
    let format = Format { channels, sample };
    if usize::from(block_align) != format.block_align() {
        return Err(format!(
            "fmt block align {block_align} does not match {channels} channel(s) of {bits} bits"
        ));
    }
    Ok(format)
}

/// A WAV file played back as an audio source.
pub struct WavSource {
    path: PathBuf,
    reader: BufReader<File>,
    format: Format,
    /// Bytes of sample data left, or `None` when the header does not say (streamed WAV).
    remaining: Option<u64>,
    pace: Pace,
    epoch: Instant,
    /// Sample frames handed out so far; the next chunk's start.
    frames: u64,
    /// Reused raw bytes of one chunk.
    raw: Vec<u8>,
    ended: bool,
}

impl WavSource {
    pub fn open(path: &Path, pace: Pace, epoch: Instant) -> Result<Self, CaptureError> {
        let io_err = |source| CaptureError::FileIo {
            path: path.to_path_buf(),
            source,
        };
        let bad = |detail: String| CaptureError::BadFile {
            path: path.to_path_buf(),
            detail,
        };
        let mut reader = BufReader::new(File::open(path).map_err(io_err)?);
        let mut head = [0u8; 12];
        let got = read_full(&mut reader, &mut head).map_err(io_err)?;
        if got < 12 || &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
            return Err(bad("not a WAV file (no RIFF/WAVE header)".into()));
        }
        let mut offset = 12u64;
        let mut format = None;
        loop {
            let mut ch = [0u8; 8];
            if read_full(&mut reader, &mut ch).map_err(io_err)? < 8 {
                return Err(bad(format!(
                    "no data chunk before the end (byte offset {offset})"
                )));
            }
            let (id, size) = ([ch[0], ch[1], ch[2], ch[3]], u32_at(&ch, 4));
            let name = String::from_utf8_lossy(&id).into_owned();
            let body_at = offset + 8;
            match &id {
                b"fmt " => {
                    if size > MAX_FMT_LEN {
                        return Err(bad(format!(
                            "fmt chunk at byte offset {offset} claims {size} bytes"
                        )));
                    }
                    let mut body = vec![0u8; size as usize + (size & 1) as usize];
                    if read_full(&mut reader, &mut body).map_err(io_err)? < size as usize {
                        return Err(bad(format!(
                            "file ends inside the fmt chunk at byte offset {offset}"
                        )));
                    }
                    format = Some(parse_fmt(&body[..size as usize], offset).map_err(bad)?);
                }
                b"data" => {
                    let format = format.ok_or_else(|| {
                        bad(format!(
                            "data chunk at byte offset {offset} comes before fmt"
                        ))
                    })?;
                    // ffmpeg writing to a pipe cannot go back to fill in the size.
                    let remaining = (size != 0 && size != u32::MAX).then_some(u64::from(size));
                    let raw = vec![0u8; CHUNK_FRAMES * format.block_align()];
                    return Ok(WavSource {
                        path: path.to_path_buf(),
                        reader,
                        format,
                        remaining,
                        pace,
                        epoch,
                        frames: 0,
                        raw,
                        ended: false,
                    });
                }
                _ => {
                    // Chunk bodies are padded to an even length.
                    let skip = u64::from(size) + u64::from(size & 1);
                    let skipped =
                        std::io::copy(&mut reader.by_ref().take(skip), &mut std::io::sink())
                            .map_err(io_err)?;
                    if skipped < u64::from(size) {
                        return Err(bad(format!(
                            "file ends inside the '{name}' chunk at byte offset {offset}"
                        )));
                    }
                }
            }
            offset = body_at + u64::from(size) + u64::from(size & 1);
        }
    }
}

impl AudioSource for WavSource {
    fn describe(&self) -> String {
        let kind = match self.format.sample {
            Sample::I16 => "16-bit",
            Sample::I24 => "24-bit",
            Sample::I32 => "32-bit",
            Sample::F32 => "32-bit float",
        };
        let ch = if self.format.channels == 1 {
            "mono"
        } else {
            "stereo"
        };
        format!(
            "WAV file {} ({AUDIO_RATE} Hz {kind} {ch})",
            self.path.display()
        )
    }

    fn channels(&self) -> u16 {
        self.format.channels
    }

    fn is_live(&self) -> bool {
        self.pace == Pace::Realtime
    }

    fn next_chunk(&mut self) -> Result<Option<AudioChunk>, CaptureError> {
        if self.ended {
            return Ok(None);
        }
        let align = self.format.block_align();
        let mut want = self.raw.len();
        if let Some(left) = self.remaining {
            want = want.min(usize::try_from(left).unwrap_or(usize::MAX));
        }
        let got = read_full(&mut self.reader, &mut self.raw[..want]).map_err(|source| {
            CaptureError::FileIo {
                path: self.path.clone(),
                source,
            }
        })?;
        if let Some(left) = self.remaining.as_mut() {
            *left -= got as u64;
            if got < want {
                tracing::warn!(
                    "{}: the data chunk is {} bytes shorter than its header says; \
                     stopping at the end of the file",
                    self.path.display(),
                    *left
                );
            }
        }
        if got % align != 0 {
            tracing::warn!(
                "{}: the file ends inside a sample frame; dropping its last {} bytes",
                self.path.display(),
                got % align
            );
        }
        let frames = got / align;
        if frames < CHUNK_FRAMES {
            self.ended = true;
            if frames == 0 {
                return Ok(None);
            }
        }
        let sample = self.format.sample;
        let samples: Vec<i16> = self.raw[..frames * align]
            .chunks_exact(sample.bytes())
            .map(|b| sample.to_i16(b))
            .collect();
        let captured = self.epoch + frames_to_duration(self.frames);
        self.frames += frames as u64;
        if self.pace == Pace::Realtime {
            // Like a device: a buffer is released once its last sample has been "recorded".
            let due = self.epoch + frames_to_duration(self.frames);
            let wait = due.saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                thread::sleep(wait);
            }
        }
        Ok(Some(AudioChunk {
            channels: self.format.channels,
            samples,
            captured,
        }))
    }
}

#[cfg(test)]
#[path = "wav_tests.rs"]
mod tests;
