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
mod tests {
    use super::*;
    use std::process::Command;
    use std::time::Duration;

    /// A `fmt ` body: plain for tags 1 and 3, WAVE_FORMAT_EXTENSIBLE wrapping `tag` if `ext`.
    fn fmt(tag: u16, channels: u16, rate: u32, bits: u16, ext: bool) -> Vec<u8> {
        let align = channels * bits / 8;
        let mut b = Vec::new();
        b.extend_from_slice(&(if ext { 0xFFFE } else { tag }).to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
        b.extend_from_slice(&align.to_le_bytes());
        b.extend_from_slice(&bits.to_le_bytes());
        if ext {
            b.extend_from_slice(&[22, 0]);
            b.extend_from_slice(&bits.to_le_bytes());
            b.extend_from_slice(&3u32.to_le_bytes());
            b.extend_from_slice(&tag.to_le_bytes());
            b.extend_from_slice(&SUBTYPE_TAIL);
        }
        b
    }

    /// A RIFF/WAVE file of the given chunks; `data_size` overrides the data chunk's size field.
    fn wav(chunks: &[(&[u8; 4], Vec<u8>)], data_size: Option<u32>) -> Vec<u8> {
        let mut out = b"RIFF\xff\xff\xff\xffWAVE".to_vec();
        for (id, body) in chunks {
            out.extend_from_slice(*id);
            let size = match (*id, data_size) {
                (b"data", Some(s)) => s,
                _ => body.len() as u32,
            };
            out.extend_from_slice(&size.to_le_bytes());
            out.extend_from_slice(body);
            if body.len() % 2 == 1 {
                out.push(0);
            }
        }
        out
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn read_all(path: &Path) -> (u16, Vec<AudioChunk>) {
        let mut s = WavSource::open(path, Pace::None, Instant::now()).unwrap();
        let chunks: Vec<AudioChunk> = std::iter::from_fn(|| s.next_chunk().unwrap()).collect();
        assert!(s.next_chunk().unwrap().is_none());
        (s.channels(), chunks)
    }

    fn samples(path: &Path) -> Vec<i16> {
        read_all(path)
            .1
            .into_iter()
            .flat_map(|c| c.samples)
            .collect()
    }

    fn open_err(path: &Path) -> String {
        match WavSource::open(path, Pace::None, Instant::now()) {
            Ok(_) => panic!("{} opened", path.display()),
            Err(e) => e.to_string(),
        }
    }

    /// Runs ffmpeg on a 1 kHz sine; `input` adds lavfi options, `out` the output arguments.
    fn ffmpeg_sine(input: &str, out: &str) {
        let args = format!("-v error -y -f lavfi -i sine=frequency=1000:{input} {out}");
        let run = Command::new("ffmpeg").args(args.split(' ')).output();
        let run = run.expect("ffmpeg must be installed for these tests");
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{stderr}");
    }

    #[test]
    fn reads_ffmpeg_wavs_like_ffmpeg_raw_output() {
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("ref.raw");
        let sine = "sample_rate=48000 -t 0.5";
        ffmpeg_sine(sine, &format!("-f s16le {}", raw.display()));
        let expected: Vec<i16> = std::fs::read(&raw)
            .unwrap()
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(expected.len(), 24_000);
        assert!(expected.iter().any(|&s| s > 1000), "the sine is not silent");
        for codec in ["pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le"] {
            let p = dir.path().join(format!("{codec}.wav"));
            ffmpeg_sine(sine, &format!("-c:a {codec} {}", p.display()));
            let epoch = Instant::now();
            let mut s = WavSource::open(&p, Pace::None, epoch).unwrap();
            assert!(!s.is_live() && s.channels() == 1, "{codec}");
            let mut got = Vec::new();
            for k in 0..50u64 {
                let c = s.next_chunk().unwrap().unwrap();
                assert_eq!((c.frames(), c.channels), (480, 1), "{codec}");
                assert_eq!(c.captured, epoch + Duration::from_millis(10 * k), "{codec}");
                got.extend(c.samples);
            }
            assert!(s.next_chunk().unwrap().is_none(), "{codec}");
            // s16 sine scaled up losslessly, so converting back must give it exactly.
            assert!(got == expected, "{codec} differs from ffmpeg's s16 output");
        }

        // ffmpeg's mono-to-stereo upmix changes the level, so compare with its own s16 output.
        let (p, raw2) = (dir.path().join("stereo.wav"), dir.path().join("stereo.raw"));
        ffmpeg_sine(sine, &format!("-ac 2 {}", p.display()));
        ffmpeg_sine(sine, &format!("-ac 2 -f s16le {}", raw2.display()));
        let (channels, chunks) = read_all(&p);
        assert_eq!((channels, chunks.len()), (2, 50));
        let got: Vec<u8> = chunks
            .iter()
            .flat_map(|c| c.samples.iter())
            .flat_map(|s| s.to_le_bytes())
            .collect();
        assert!(got == std::fs::read(&raw2).unwrap(), "stereo differs");
        assert!(
            got.chunks_exact(4).all(|f| f[..2] == f[2..]),
            "channels differ"
        );
    }

    #[test]
    fn streamed_ffmpeg_wav_is_read_to_eof_with_a_short_last_chunk() {
        let dir = tempfile::tempdir().unwrap();
        // -f wav to a pipe leaves the sizes at 0xFFFFFFFF; 0.105 s = 10.5 chunks.
        let out = Command::new("sh")
            .arg("-c")
            .arg("ffmpeg -v error -f lavfi -i sine=frequency=1000:sample_rate=48000 -t 0.105 -f wav - | cat")
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(&out.stdout[4..8], &[0xFF; 4], "ffmpeg wrote a RIFF size");
        let p = write(dir.path(), "piped.wav", &out.stdout);
        let (_, chunks) = read_all(&p);
        let frames: Vec<usize> = chunks.iter().map(|c| c.frames()).collect();
        assert_eq!(frames, [[480; 10].as_slice(), &[240]].concat());
        let (first, last) = (chunks[0].captured, &chunks[10]);
        assert_eq!(last.captured, first + Duration::from_millis(100));
        assert_eq!(last.end(), first + Duration::from_millis(105));
    }

    #[test]
    fn extensible_24_bit_rounds_and_saturates_and_skips_odd_chunks() {
        let dir = tempfile::tempdir().unwrap();
        // 1_193_152 is 0x1234C0: its low byte 0xC0 rounds up to 0x1235.
        let values: [i32; 8] = [
            0x7F_FFFF, -0x80_0000, 0x80, 0x7F, -0x80, -0x81, 1_193_152, 0,
        ];
        let data: Vec<u8> = values
            .iter()
            .flat_map(|v| v.to_le_bytes()[..3].to_vec())
            .collect();
        let chunks = [
            (b"JUNK", vec![1, 2, 3]),
            (b"fmt ", fmt(1, 2, 48_000, 24, true)),
            (b"LIST", b"INFOISFT".to_vec()),
            (b"data", data),
        ];
        let p = write(dir.path(), "ext24.wav", &wav(&chunks, None));
        let (channels, read) = read_all(&p);
        assert_eq!((channels, read.len(), read[0].frames()), (2, 1, 4));
        let want = [32_767, -32_768, 1, 0, 0, -1, 0x1234 + 1, 0];
        assert_eq!(read[0].samples, want);
        // Data size 0 (a streamed file) means "until the end".
        let p = write(dir.path(), "zero.wav", &wav(&chunks, Some(0)));
        assert_eq!(samples(&p), want);
    }

    #[test]
    fn int32_and_float_convert_with_saturation() {
        let dir = tempfile::tempdir().unwrap();
        let ints = [i32::MAX, i32::MIN, 0x8000, 0x7FFF, -0x1_0000, 0x4000_0000];
        let data: Vec<u8> = ints.iter().flat_map(|v| v.to_le_bytes()).collect();
        let chunks = [(b"fmt ", fmt(1, 1, 48_000, 32, false)), (b"data", data)];
        let p = write(dir.path(), "i32.wav", &wav(&chunks, None));
        assert_eq!(samples(&p), [32_767, -32_768, 1, 0, -1, 16_384]);

        let floats = [1.5f32, -1.5, 0.5, -1.0, f32::NAN, 1.0 / 65_536.0 * 3.0];
        let data: Vec<u8> = floats.iter().flat_map(|v| v.to_le_bytes()).collect();
        let ext = [
            (b"fmt ", fmt(3, 1, 48_000, 32, true)),
            (b"data", data.clone()),
        ];
        let plain = [(b"fmt ", fmt(3, 1, 48_000, 32, false)), (b"data", data)];
        for (name, chunks) in [("fext.wav", ext), ("f.wav", plain)] {
            let p = write(dir.path(), name, &wav(&chunks, None));
            assert_eq!(
                samples(&p),
                [32_767, -32_768, 16_384, -32_768, 0, 2],
                "{name}"
            );
        }
    }

    #[test]
    fn data_size_is_respected_when_known() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (1..=1000i16).flat_map(|v| v.to_le_bytes()).collect();
        let chunks = [
            (b"fmt ", fmt(1, 1, 48_000, 16, false)),
            (b"data", data),
            (b"LIST", b"INFOtrailing metadata".to_vec()),
        ];
        let p = write(dir.path(), "sized.wav", &wav(&chunks, None));
        let (_, read) = read_all(&p);
        let frames: Vec<usize> = read.iter().map(|c| c.frames()).collect();
        assert_eq!(frames, [480, 480, 40]);
        let all: Vec<i16> = read.into_iter().flat_map(|c| c.samples).collect();
        assert_eq!(all, (1..=1000).collect::<Vec<i16>>());
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let e = open_err(&dir.path().join("missing.wav"));
        assert!(e.contains("missing.wav"), "{e}");

        let p = dir.path().join("44k.wav");
        ffmpeg_sine("sample_rate=44100 -t 0.1", &p.display().to_string());
        let e = open_err(&p);
        let hint = "is 44100 Hz; booth records at 48000 Hz (convert it with: ffmpeg -i in.wav \
                    -ar 48000 out.wav)";
        assert!(e.contains("44k.wav") && e.contains(hint), "{e}");

        let pcm16 = || (b"fmt ", fmt(1, 1, 48_000, 16, false));
        let only_fmt =
            |tag, channels, bits| wav(&[(b"fmt ", fmt(tag, channels, 48_000, bits, false))], None);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"RIFX\0\0\0\0WAVE".to_vec(), "not a WAV file"),
            (only_fmt(1, 3, 16), "3 channels"),
            (only_fmt(1, 1, 8), "8-bit integer"),
            (only_fmt(3, 1, 64), "64-bit float"),
            (only_fmt(2, 1, 4), "format tag 0x0002"),
            (wav(&[(b"fmt ", vec![1, 0, 1, 0])], None), "is 4 bytes"),
            (
                wav(&[(b"data", vec![0; 4]), pcm16()], None),
                "comes before fmt",
            ),
            (wav(&[pcm16()], None), "no data chunk"),
            (
                wav(&[pcm16(), (b"LIST", vec![0; 100])], None)[..60].to_vec(),
                "'LIST'",
            ),
        ];
        for (i, (bytes, needle)) in cases.iter().enumerate() {
            let p = write(dir.path(), &format!("bad{i}.wav"), bytes);
            let e = open_err(&p);
            assert!(
                e.contains(&format!("bad{i}.wav")) && e.contains(needle),
                "{needle}: {e}"
            );
        }
    }

    #[test]
    fn realtime_releases_each_chunk_after_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let chunks = [
            (b"fmt ", fmt(1, 1, 48_000, 16, false)),
            (b"data", vec![0; 4_800]),
        ];
        let p = write(dir.path(), "rt.wav", &wav(&chunks, None));
        let epoch = Instant::now();
        let mut s = WavSource::open(&p, Pace::Realtime, epoch).unwrap();
        assert!(s.is_live());
        let mut n = 0;
        while let Some(c) = s.next_chunk().unwrap() {
            assert!(Instant::now() >= c.end());
            n += 1;
        }
        assert_eq!(n, 5);
        assert!(epoch.elapsed() >= Duration::from_millis(50));
    }
}
