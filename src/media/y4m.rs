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
        let mut data = vec![0u8; i420_len(w as u32, h as u32)];
        let target = if self.header.chroma == Chroma::C420 {
            &mut data[..]
        } else {
            &mut self.raw[..]
        };
        let got_data = read_full(&mut self.reader, target).map_err(|e| self.io_error(e))?;
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
mod tests {
    use super::*;
    use std::process::Command;
    use std::sync::{Arc, Mutex};

    fn write_y4m(dir: &Path, name: &str, header: &str, frames: &[Vec<u8>]) -> PathBuf {
        let mut bytes = format!("{header}\n").into_bytes();
        for f in frames {
            bytes.extend_from_slice(b"FRAME\n");
            bytes.extend_from_slice(f);
        }
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Runs ffmpeg on 64x48@25 testsrc; `out` are output arguments (tempdir paths have no spaces).
    fn ffmpeg_testsrc(out: &str) {
        let args = "-v error -y -f lavfi -i testsrc=size=64x48:rate=25 ".to_string() + out;
        let run = Command::new("ffmpeg").args(args.split(' ')).output();
        let run = run.expect("ffmpeg must be installed for these tests");
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }

    fn open(path: &Path) -> Y4mSource {
        Y4mSource::open(path, Pace::None, Instant::now()).unwrap()
    }

    fn first_frame(path: &Path) -> VideoFrame {
        open(path).next_frame().unwrap().unwrap()
    }

    fn open_err(path: &Path) -> String {
        match Y4mSource::open(path, Pace::None, Instant::now()) {
            Ok(_) => panic!("{} opened", path.display()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reads_ffmpeg_y4m_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let (y4m, raw) = (dir.path().join("out.y4m"), dir.path().join("out.yuv"));
        let (y4m_s, raw_s) = (y4m.display(), raw.display());
        ffmpeg_testsrc(&format!("-frames:v 5 -pix_fmt yuv420p {y4m_s}"));
        ffmpeg_testsrc(&format!("-frames:v 5 -pix_fmt yuv420p -f rawvideo {raw_s}"));
        let expected = std::fs::read(&raw).unwrap();
        assert_eq!(expected.len(), 5 * i420_len(64, 48));

        let epoch = Instant::now();
        let mut s = Y4mSource::open(&y4m, Pace::None, epoch).unwrap();
        assert_eq!(s.format().to_string(), "64x48@25");
        assert!(!s.is_live());
        assert!(s.describe().contains("out.y4m"), "{}", s.describe());
        for (n, want) in expected.chunks(i420_len(64, 48)).enumerate() {
            let f = s.next_frame().unwrap().unwrap();
            assert_eq!((f.width, f.height), (64, 48));
            assert_eq!(f.captured, epoch + Duration::from_millis(40 * n as u64));
            assert!(f.data == want, "frame {n} differs from ffmpeg's raw output");
        }
        assert!(s.next_frame().unwrap().is_none());
        assert!(s.next_frame().unwrap().is_none());
    }

    #[test]
    fn ffmpeg_422_444_and_gray_match_their_raw_planes() {
        let dir = tempfile::tempdir().unwrap();
        let formats = [("yuv422p", Chroma::C422), ("yuv444p", Chroma::C444)];
        for (pix, chroma) in formats.into_iter().chain([("gray", Chroma::Mono)]) {
            let y4m = dir.path().join(format!("{pix}.y4m"));
            let raw = dir.path().join(format!("{pix}.raw"));
            let (y4m_s, raw_s) = (y4m.display(), raw.display());
            ffmpeg_testsrc(&format!("-frames:v 2 -pix_fmt {pix} {y4m_s}"));
            ffmpeg_testsrc(&format!("-frames:v 2 -pix_fmt {pix} -f rawvideo {raw_s}"));
            let raw = std::fs::read(&raw).unwrap();
            let mut s = open(&y4m);
            assert_eq!(s.header.chroma, chroma);
            for want in raw.chunks(chroma.frame_len(64, 48)) {
                let f = s.next_frame().unwrap().unwrap();
                assert_eq!(f.data.len(), i420_len(64, 48), "{pix}");
                assert!(f.luma() == &want[..64 * 48], "{pix}: luma differs");
                let (_, u, v) = f.planes();
                // testsrc is colourful; only gray may (and must) come out neutral.
                let neutral = u.iter().chain(v).all(|&c| c == 128);
                assert_eq!(neutral, chroma == Chroma::Mono, "{pix}");
            }
            assert!(s.next_frame().unwrap().is_none(), "{pix}");
        }
    }

    /// A 16x16 picture with a luma ramp and chroma planes of `cw` x `chh` from `u`, `v`.
    fn planar(
        cw: usize,
        chh: usize,
        u: fn(usize, usize) -> u8,
        v: fn(usize, usize) -> u8,
    ) -> Vec<u8> {
        let mut out: Vec<u8> = (0..256).map(|i| (i % 200 + 16) as u8).collect();
        out.extend((0..cw * chh).map(|i| u(i % cw, i / cw)));
        out.extend((0..cw * chh).map(|i| v(i % cw, i / cw)));
        out
    }

    #[test]
    fn converts_422_and_444_by_averaging_chroma() {
        let dir = tempfile::tempdir().unwrap();
        let f422 = planar(
            8,
            16,
            |x, y| (10 * y + x) as u8,
            |x, y| (255 - 3 * y - x) as u8,
        );
        let p = write_y4m(
            dir.path(),
            "a.y4m",
            "YUV4MPEG2 W16 H16 F25:1 C422",
            std::slice::from_ref(&f422),
        );
        let f = first_frame(&p);
        let (y, cu, cv) = f.planes();
        assert_eq!(y, &f422[..256]);
        for (cy, cx) in (0..8).flat_map(|cy| (0..8).map(move |cx| (cy, cx))) {
            // Rows 2cy and 2cy+1 differ by 10 (U) and 3 (V); halves round up.
            assert_eq!(cu[cy * 8 + cx], (20 * cy + 5 + cx) as u8);
            assert_eq!(
                cv[cy * 8 + cx],
                (255 - 6 * cy - cx - 1) as u8,
                "({cx},{cy})"
            );
        }

        let f444 = planar(
            16,
            16,
            |x, y| (x + 16 * y) as u8,
            |x, _| 100 + 3 * (x % 2) as u8,
        );
        let p = write_y4m(dir.path(), "b.y4m", "YUV4MPEG2 W16 H16 F25:1 C444", &[f444]);
        let f = first_frame(&p);
        let (_, cu, cv) = f.planes();
        for (cy, cx) in (0..8).flat_map(|cy| (0..8).map(move |cx| (cy, cx))) {
            // Mean of x, x+1, x+16, x+17 at x = 2cx + 32cy is that + 8.5, rounded up.
            assert_eq!(cu[cy * 8 + cx], (2 * cx + 32 * cy + 9) as u8);
            assert_eq!(cv[cy * 8 + cx], 102); // mean 101.5
        }

        let p = write_y4m(
            dir.path(),
            "m.y4m",
            "YUV4MPEG2 W16 H16 F25:1 Cmono",
            &[vec![77; 256]],
        );
        let f = first_frame(&p);
        assert_eq!(f, VideoFrame::filled(16, 16, 77, 128, 128, f.captured));
    }

    #[test]
    fn fractional_rates_give_exact_timestamps_and_frame_params_are_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = b"YUV4MPEG2 W16 H16 F30000:1001 Ip A1:1 C420mpeg2 XFOO=1\n".to_vec();
        for _ in 0..4 {
            bytes.extend_from_slice(b"FRAME Ixyz\n");
            bytes.extend_from_slice(&[16; 384]);
        }
        let p = dir.path().join("ntsc.y4m");
        std::fs::write(&p, bytes).unwrap();
        let epoch = Instant::now();
        let mut s = Y4mSource::open(&p, Pace::None, epoch).unwrap();
        assert!((s.format().fps - 29.97).abs() < 0.001);
        let stamps: Vec<Duration> = std::iter::from_fn(|| s.next_frame().unwrap())
            .map(|f| f.captured - epoch)
            .collect();
        let ns = [0, 33_366_666, 66_733_333, 100_100_000].map(Duration::from_nanos);
        assert_eq!(stamps, ns);
    }

    /// Collects what `f` logs through `tracing`.
    fn logged(f: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink::default();
        let writer = sink.clone();
        let sub = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone());
        tracing::subscriber::with_default(sub.finish(), f);
        String::from_utf8_lossy(&sink.0.lock().unwrap()).into_owned()
    }

    #[test]
    fn truncated_last_frame_ends_cleanly_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let frames = [vec![16; 384], vec![16; 384], vec![16; 100]];
        let p = write_y4m(dir.path(), "t.y4m", "YUV4MPEG2 W16 H16 F25:1", &frames);
        let log = logged(|| {
            let mut s = open(&p);
            assert!(s.next_frame().unwrap().is_some());
            assert!(s.next_frame().unwrap().is_some());
            assert!(s.next_frame().unwrap().is_none());
            assert!(s.next_frame().unwrap().is_none());
        });
        assert!(
            log.contains("WARN") && log.contains("t.y4m: frame 2 at byte offset 804"),
            "{log}"
        );
        assert!(log.contains("100 of 384"), "{log}");

        // Cut inside the third FRAME marker.
        let mut bytes = std::fs::read(&p).unwrap();
        bytes.truncate(804 + 3);
        std::fs::write(&p, &bytes).unwrap();
        let log = logged(|| {
            let mut s = open(&p);
            assert_eq!(std::iter::from_fn(|| s.next_frame().unwrap()).count(), 2);
        });
        assert!(
            log.contains("frame 2") && log.contains("FRAME marker"),
            "{log}"
        );
    }

    #[test]
    fn bad_frame_marker_names_frame_and_offset() {
        let dir = tempfile::tempdir().unwrap();
        let frames = [vec![16; 384], vec![16; 384]];
        let p = write_y4m(dir.path(), "bad.y4m", "YUV4MPEG2 W16 H16 F25:1", &frames);
        let mut bytes = std::fs::read(&p).unwrap();
        let second = 24 + 6 + 384;
        bytes[second..second + 5].copy_from_slice(b"FRAMX");
        std::fs::write(&p, &bytes).unwrap();
        let mut s = open(&p);
        assert!(s.next_frame().unwrap().is_some());
        let e = s.next_frame().unwrap_err().to_string();
        assert!(e.contains("bad.y4m") && e.contains("frame 1"), "{e}");
        assert!(e.contains(&format!("byte offset {second}")), "{e}");
    }

    #[test]
    fn header_errors_name_file_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let e = open_err(&dir.path().join("missing.y4m"));
        assert!(e.contains("missing.y4m"), "{e}");
        let cases = [
            ("YUV4MPEG2 W6x H16 F25:1", "'W6x'"),
            ("YUV4MPEG2 W16 F25:1", "H (height)"),
            ("YUV4MPEG2 W16 H16", "F (frame rate)"),
            ("YUV4MPEG2 W16 H16 F25:0", "'F25:0'"),
            ("YUV4MPEG2 W16 H16 F25:1 C420p10", "C420p10"),
            ("YUV4MPEG2 W63 H48 F25:1", "63x48"),
            ("RIFF W16 H16 F25:1", "not a Y4M file"),
            ("YUV4MPEG2 W16 H16 F25:1 Cé", "Cé"),
        ];
        for (i, (header, needle)) in cases.iter().enumerate() {
            let p = write_y4m(dir.path(), &format!("h{i}.y4m"), header, &[]);
            let e = open_err(&p);
            assert!(
                e.contains(&format!("h{i}.y4m")) && e.contains(needle),
                "{header}: {e}"
            );
        }
        let p = dir.path().join("noline.y4m");
        std::fs::write(&p, vec![b'x'; 10_000]).unwrap();
        assert!(open_err(&p).contains("not a Y4M file"));
    }

    #[test]
    fn realtime_pacing_follows_the_frame_rate() {
        let dir = tempfile::tempdir().unwrap();
        let frames = vec![vec![16; 384]; 5];
        let p = write_y4m(dir.path(), "rt.y4m", "YUV4MPEG2 W16 H16 F50:1", &frames);
        let epoch = Instant::now();
        let mut s = Y4mSource::open(&p, Pace::Realtime, epoch).unwrap();
        assert!(s.is_live());
        while let Some(f) = s.next_frame().unwrap() {
            assert!(Instant::now() >= f.captured);
        }
        assert!(epoch.elapsed() >= Duration::from_millis(80));
    }
}
