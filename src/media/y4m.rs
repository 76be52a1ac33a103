//! `--video file:clip.y4m`: reads a YUV4MPEG2 file as if it were a camera, converting its 8-bit
//! planar 4:2:0 / 4:2:2 / 4:4:4 / mono pictures to I420 and stamping frame n at
//! `epoch + n / fps`, either paced in real time or as fast as the consumer pulls.
//!
//! The header's interlacing (`I`), aspect (`A`) and extension (`X`) fields are ignored: booth
//! records what is in the planes as progressive limited-range video.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use super::frame::{VideoFormat, VideoFrame, i420_len};
use super::source::{CaptureError, Pace, VideoSource, check_size};

const MAGIC: &[u8] = b"YUV4MPEG2";
/// Longer headers than these are not Y4M; the limit keeps a wrong file from being slurped.
const MAX_STREAM_HEADER: u64 = 4096;
const MAX_FRAME_HEADER: u64 = 1024;

/// How the file lays out its chroma planes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chroma {
    C420,
    C422,
    C444,
    Mono,
}

impl Chroma {
    fn from_tag(tag: &str) -> Option<Chroma> {
        match tag {
            "420jpeg" | "420paldv" | "420mpeg2" | "420" => Some(Chroma::C420),
            "422" => Some(Chroma::C422),
            "444" => Some(Chroma::C444),
            "mono" => Some(Chroma::Mono),
            _ => None,
        }
    }

    /// Bytes of one picture in the file (sizes are even, checked at open).
    fn frame_len(self, w: usize, h: usize) -> usize {
        match self {
            Chroma::C420 => w * h + 2 * (w / 2) * (h / 2),
            Chroma::C422 => w * h + 2 * (w / 2) * h,
            Chroma::C444 => 3 * w * h,
            Chroma::Mono => w * h,
        }
    }
}

/// The parsed stream header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Header {
    width: u32,
    height: u32,
    fps_num: u64,
    fps_den: u64,
    chroma: Chroma,
    /// The `C` value as written (or `420` if absent), for messages.
    tag: String,
}

/// Parses the stream header line (without its newline). Errors are the detail text for a
/// [`CaptureError::BadFile`] and name the offending field.
fn parse_header(line: &[u8]) -> Result<Header, String> {
    let rest = line
        .strip_prefix(MAGIC)
        .filter(|r| r.is_empty() || r[0] == b' ')
        .ok_or_else(|| "not a Y4M file (it does not start with 'YUV4MPEG2 ')".to_string())?;
    let text = String::from_utf8_lossy(rest);
    let (mut width, mut height, mut rate) = (None, None, None);
    let mut tag = "420".to_string();
    for token in text.split(' ').filter(|t| !t.is_empty()) {
        let mut chars = token.chars();
        let key = chars.next();
        let value = chars.as_str();
        let bad = |what: &str| format!("Y4M header field '{token}' is not {what}");
        match key {
            Some('W') => width = Some(value.parse::<u32>().map_err(|_| bad("a width (W)"))?),
            Some('H') => height = Some(value.parse::<u32>().map_err(|_| bad("a height (H)"))?),
            Some('F') => {
                let parsed = value
                    .split_once(':')
                    .and_then(|(n, d)| Some((n.parse::<u64>().ok()?, d.parse::<u64>().ok()?)))
                    .filter(|&(n, d)| n > 0 && d > 0);
                rate = Some(parsed.ok_or_else(|| bad("a frame rate (F<num>:<den>)"))?);
            }
            Some('C') => tag = value.to_string(),
            // Interlacing, pixel aspect and extensions do not change how the planes are read.
            _ => {}
        }
    }
    let missing = |field: &str| format!("Y4M header has no {field} field");
    let width = width.ok_or_else(|| missing("W (width)"))?;
    let height = height.ok_or_else(|| missing("H (height)"))?;
    let (fps_num, fps_den) = rate.ok_or_else(|| missing("F (frame rate)"))?;
    let chroma = Chroma::from_tag(&tag).ok_or_else(|| {
        format!(
            "Y4M colour space C{tag} is not supported (booth reads 8-bit C420jpeg, C420paldv, \
             C420mpeg2, C420, C422, C444 and Cmono)"
        )
    })?;
    Ok(Header {
        width,
        height,
        fps_num,
        fps_den,
        chroma,
        tag,
    })
}

/// Reads until `buf` is full or the file ends; returns how many bytes arrived. Unlike
/// `read_exact`, a short read tells how much of a truncated record is there.
pub(super) fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// A Y4M file played back as a video source.
pub struct Y4mSource {
    path: PathBuf,
    reader: BufReader<File>,
    header: Header,
    pace: Pace,
    epoch: Instant,
    next: u64,
    /// Byte offset of the next frame's `FRAME` marker, for error messages.
    offset: u64,
    /// Reused per frame: the frame header line, and the raw picture when it needs converting.
    line: Vec<u8>,
    raw: Vec<u8>,
    ended: bool,
}

impl Y4mSource {
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
        let mut line = Vec::with_capacity(128);
        reader
            .by_ref()
            .take(MAX_STREAM_HEADER)
            .read_until(b'\n', &mut line)
            .map_err(io_err)?;
        let offset = line.len() as u64;
        if line.pop() != Some(b'\n') {
            return Err(bad(if line.starts_with(MAGIC) {
                format!("Y4M stream header does not end within {MAX_STREAM_HEADER} bytes")
            } else {
                "not a Y4M file (it does not start with 'YUV4MPEG2 ')".to_string()
            }));
        }
        let header = parse_header(&line).map_err(bad)?;
        check_size(header.width, header.height).map_err(|e| bad(e.to_string()))?;
        let raw_len = match header.chroma {
            // 4:2:0 is read straight into the output frame.
            Chroma::C420 => 0,
            c => c.frame_len(header.width as usize, header.height as usize),
        };
        Ok(Y4mSource {
            path: path.to_path_buf(),
            reader,
            header,
            pace,
            epoch,
            next: 0,
            offset,
            line,
            raw: vec![0; raw_len],
            ended: false,
        })
    }

    /// Capture time of frame `n` relative to the epoch: n * den / num seconds, in exact
    /// integer nanoseconds.
    fn frame_offset(&self, n: u64) -> Duration {
        let ns = u128::from(n) * u128::from(self.header.fps_den) * 1_000_000_000
            / u128::from(self.header.fps_num);
        Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
    }

    fn io_error(&self, source: std::io::Error) -> CaptureError {
        CaptureError::FileIo {
            path: self.path.clone(),
            source,
        }
    }

    /// A short last frame ends the recording cleanly; the operator learns why from the log.
    fn truncated(&mut self, n: u64, what: &str) -> Result<Option<VideoFrame>, CaptureError> {
        tracing::warn!(
            "{}: frame {n} at byte offset {} is truncated ({what}); stopping before it",
            self.path.display(),
            self.offset
        );
        self.ended = true;
        Ok(None)
    }
}

impl VideoSource for Y4mSource {
    fn describe(&self) -> String {
        format!(
            "Y4M file {} ({}, C{})",
            self.path.display(),
            self.format(),
            self.header.tag
        )
    }

    fn format(&self) -> VideoFormat {
        VideoFormat {
            width: self.header.width,
            height: self.header.height,
            fps: self.header.fps_num as f64 / self.header.fps_den as f64,
        }
    }

    fn is_live(&self) -> bool {
        self.pace == Pace::Realtime
    }

    fn next_frame(&mut self) -> Result<Option<VideoFrame>, CaptureError> {
        if self.ended {
            return Ok(None);
        }
        let n = self.next;
        self.line.clear();
        let got = self
            .reader
            .by_ref()
            .take(MAX_FRAME_HEADER)
            .read_until(b'\n', &mut self.line)
            .map_err(|e| self.io_error(e))?;
        if got == 0 {
            self.ended = true;
            return Ok(None);
        }
        let terminated = self.line.last() == Some(&b'\n');
        let marker_ok = self.line.starts_with(b"FRAME")
            && matches!(self.line.get(5), Some(b' ' | b'\n'))
            && terminated;
        if !marker_ok {
            // EOF inside what could still be a FRAME line is truncation, not corruption.
            let cut_short = (got as u64) < MAX_FRAME_HEADER && !terminated;
            let prefix_ok = self.line.starts_with(b"FRAME") || b"FRAME".starts_with(&self.line);
            if cut_short && prefix_ok {
                return self.truncated(n, "the file ends inside its FRAME marker");
            }
            let shown: String = String::from_utf8_lossy(&self.line[..got.min(16)])
                .escape_debug()
                .collect();
            return Err(CaptureError::BadFile {
                path: self.path.clone(),
                detail: format!(
                    "frame {n}: expected a FRAME marker at byte offset {}, found \"{shown}\"",
                    self.offset
                ),
            });
        }
        let (w, h) = (self.header.width as usize, self.header.height as usize);
        let want = self.header.chroma.frame_len(w, h);
        let got_data;
        let mut data = if self.header.chroma == Chroma::C420 {
            // Read straight into the frame: zeroing 1.4 MB per 720p frame first costs more
            // than the read.
            let mut data = Vec::with_capacity(want);
            got_data = Read::by_ref(&mut self.reader)
                .take(want as u64)
                .read_to_end(&mut data)
                .map_err(|e| self.io_error(e))?;
            data
        } else {
            got_data =
                read_full(&mut self.reader, &mut self.raw[..]).map_err(|e| self.io_error(e))?;
            vec![0u8; i420_len(w as u32, h as u32)]
        };
        if got_data < want {
            return self.truncated(n, &format!("{got_data} of {want} picture bytes"));
        }
        match self.header.chroma {
            Chroma::C420 => {}
            Chroma::C422 => i422_to_i420(&self.raw, w, h, &mut data),
            Chroma::C444 => i444_to_i420(&self.raw, w, h, &mut data),
            Chroma::Mono => {
                data[..w * h].copy_from_slice(&self.raw);
                data[w * h..].fill(128);
            }
        }
        self.offset += (got + want) as u64;
        self.next += 1;

        let captured = self.epoch + self.frame_offset(n);
        if self.pace == Pace::Realtime {
            let wait = captured.saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                thread::sleep(wait);
            }
        }
        Ok(Some(VideoFrame {
            width: w as u32,
            height: h as u32,
            data,
            captured,
        }))
    }
}

/// Planar 4:2:2 to I420: luma as is, each chroma sample the rounded mean of two rows.
fn i422_to_i420(src: &[u8], w: usize, h: usize, out: &mut [u8]) {
    let (cw, ch) = (w / 2, h / 2);
    out[..w * h].copy_from_slice(&src[..w * h]);
    for plane in 0..2 {
        let sp = &src[w * h + plane * cw * h..][..cw * h];
        let dp = &mut out[w * h + plane * cw * ch..][..cw * ch];
        for (y, drow) in dp.chunks_exact_mut(cw).enumerate() {
            let (a, b) = (&sp[2 * y * cw..][..cw], &sp[(2 * y + 1) * cw..][..cw]);
            for ((d, &a), &b) in drow.iter_mut().zip(a).zip(b) {
                *d = (u16::from(a) + u16::from(b)).div_ceil(2) as u8;
            }
        }
    }
}

/// Planar 4:4:4 to I420: luma as is, each chroma sample the rounded mean of a 2x2 block.
fn i444_to_i420(src: &[u8], w: usize, h: usize, out: &mut [u8]) {
    let (cw, ch) = (w / 2, h / 2);
    out[..w * h].copy_from_slice(&src[..w * h]);
    for plane in 0..2 {
        let sp = &src[w * h * (1 + plane)..][..w * h];
        let dp = &mut out[w * h + plane * cw * ch..][..cw * ch];
        for (y, drow) in dp.chunks_exact_mut(cw).enumerate() {
            let (a, b) = (&sp[2 * y * w..][..w], &sp[(2 * y + 1) * w..][..w]);
            for (x, d) in drow.iter_mut().enumerate() {
                let sum = u16::from(a[2 * x])
                    + u16::from(a[2 * x + 1])
                    + u16::from(b[2 * x])
                    + u16::from(b[2 * x + 1]);
                *d = ((sum + 2) / 4) as u8;
            }
        }
    }
}

#[cfg(test)]
#[path = "y4m_tests.rs"]
mod tests;
