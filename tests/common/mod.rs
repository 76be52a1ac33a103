//! Support for booth's integration tests: the built binary, ffprobe/ffmpeg helpers, signal
//! analysis, WAV files, a private PulseAudio daemon that plays the microphone, for upload
//! tests a real tus server ([`tus_server`]) behind a fault-injecting proxy ([`fault_proxy`]) or,
//! several of them on one store, behind a round-robin balancer ([`balancer`]), and a strict
//! reader of Prometheus' text format ([`prometheus`]).
//!
//! Use it from a test file with `mod common;`. Every external tool it runs is a Debian package
//! that `make test` installs; when one is missing the helper panics and names the package, it
//! never skips.
#![allow(dead_code)] // each test crate uses a different part of this module

pub mod balancer;
pub mod fault_proxy;
pub mod prometheus;
pub mod station;
pub mod tus_server;

use std::fs;
use std::io::ErrorKind;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub mod pulse;
pub mod tmux;

#[allow(unused_imports)] // each test crate uses a different part of this module
pub use pulse::{MIC_RATE, Pulse, SINE_AMPLITUDE};

/// The `booth` binary cargo built for these tests.
pub fn booth() -> Command {
    Command::new(env!("CARGO_BIN_EXE_booth"))
}

// ---------------------------------------------------------------------------------------------
// Running tools
// ---------------------------------------------------------------------------------------------

/// Writes `dir/config.toml` for a kiosk on the synthetic camera and microphone with the
/// bundled interview, its data under `dir/data`; `station` adds lines to `[station]` and
/// `rest` adds whole sections after it.
pub fn kiosk_config(dir: &Path, station: &str, rest: &str) -> std::path::PathBuf {
    let interview = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/interview.toml");
    let text = format!(
        "[station]\ndata_dir = \"{data}\"\n{station}\n\
         [devices]\nvideo = \"test\"\naudio = \"tone\"\nsize = \"640x360\"\n\
         [interview]\nfile = \"{interview}\"\n{rest}\n",
        data = dir.join("data").display(),
        interview = interview.display(),
    );
    let path = dir.join("config.toml");
    fs::write(&path, text).unwrap();
    path
}

/// The MP4 files directly in `dir` (none when it does not exist).
pub fn mp4s_in(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "mp4"))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs `cmd` to completion, capturing stdout and stderr. Panics, naming the Debian package,
/// when the program is not installed. The exit status is left to the caller.
pub fn run(cmd: &mut Command, package: &str) -> Output {
    cmd.stdin(Stdio::null());
    match cmd.output() {
        Ok(out) => out,
        Err(e) => panic!("{}", spawn_error(cmd, package, &e)),
    }
}

/// Like [`run`], and panics with the tool's stderr unless it exited successfully.
pub fn run_ok(cmd: &mut Command, package: &str) -> Output {
    let out = run(cmd, package);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn spawn_error(cmd: &Command, package: &str, e: &std::io::Error) -> String {
    let program = cmd.get_program().to_string_lossy().into_owned();
    if e.kind() == ErrorKind::NotFound {
        format!(
            "`{program}` is not installed: it comes with the Debian package `{package}`. \
             Run `make test` (or scripts/setup.sh), which installs it."
        )
    } else {
        format!("could not run `{program}` (Debian package `{package}`): {e}")
    }
}

// ---------------------------------------------------------------------------------------------
// ffprobe / ffmpeg
// ---------------------------------------------------------------------------------------------

/// What ffprobe says about a media file.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub format_name: String,
    /// The container's duration in seconds.
    pub duration: Option<f64>,
    pub streams: Vec<Stream>,
}

/// One stream of a [`Probe`]. Numbers ffprobe leaves out (or gives as "N/A", "0/0") are `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// "video", "audio", ...
    pub codec_type: String,
    /// "h264", "aac", ...
    pub codec_name: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Frames per second (ffprobe's `avg_frame_rate`, a fraction, evaluated).
    pub avg_frame_rate: Option<f64>,
    pub sample_rate: Option<u32>,
    pub channels: Option<u32>,
    /// The stream's own duration in seconds.
    pub duration: Option<f64>,
    pub nb_frames: Option<u64>,
}

impl Probe {
    /// All streams of one `codec_type`.
    pub fn streams_of(&self, codec_type: &str) -> Vec<&Stream> {
        self.streams
            .iter()
            .filter(|s| s.codec_type == codec_type)
            .collect()
    }

    /// The only video stream; panics unless there is exactly one.
    pub fn video(&self) -> &Stream {
        self.only("video")
    }

    /// The only audio stream; panics unless there is exactly one.
    pub fn audio(&self) -> &Stream {
        self.only("audio")
    }

    fn only(&self, codec_type: &str) -> &Stream {
        match self.streams_of(codec_type).as_slice() {
            [one] => one,
            other => panic!(
                "expected exactly one {codec_type} stream, found {}: {:#?}",
                other.len(),
                self.streams
            ),
        }
    }
}

/// Runs `ffprobe -show_streams -show_format` on `path`.
pub fn probe(path: &Path) -> Probe {
    let out = run_ok(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_streams",
                "-show_format",
                "-of",
                "json",
            ])
            .arg(path),
        "ffmpeg",
    );
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("ffprobe printed invalid JSON for {}: {e}", path.display()));
    let streams = json["streams"]
        .as_array()
        .map(|streams| {
            streams
                .iter()
                .map(|s| Stream {
                    codec_type: text(&s["codec_type"]),
                    codec_name: text(&s["codec_name"]),
                    width: number(&s["width"]).map(|v| v as u32),
                    height: number(&s["height"]).map(|v| v as u32),
                    avg_frame_rate: number(&s["avg_frame_rate"]),
                    sample_rate: number(&s["sample_rate"]).map(|v| v as u32),
                    channels: number(&s["channels"]).map(|v| v as u32),
                    duration: number(&s["duration"]),
                    nb_frames: number(&s["nb_frames"]).map(|v| v as u64),
                })
                .collect()
        })
        .unwrap_or_default();
    Probe {
        format_name: text(&json["format"]["format_name"]),
        duration: number(&json["format"]["duration"]),
        streams,
    }
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// A JSON number, or a string holding a number or a fraction ("30000/1001"). "0/0", "N/A",
/// missing and non-finite values are `None`.
fn number(v: &Value) -> Option<f64> {
    let x = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => match s.split_once('/') {
            Some((num, den)) => num.trim().parse::<f64>().ok()? / den.trim().parse::<f64>().ok()?,
            None => s.trim().parse().ok()?,
        },
        _ => return None,
    };
    x.is_finite().then_some(x)
}

/// Decodes every stream of `path` with ffmpeg and panics unless it succeeds without printing a
/// single error.
pub fn assert_decodes_cleanly(path: &Path) {
    let out = run(
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-i"])
            .arg(path)
            .args(["-f", "null", "-"]),
        "ffmpeg",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "ffmpeg does not decode {} cleanly ({}):\n{stderr}",
        path.display(),
        out.status
    );
}

/// The first audio stream of `path`, mixed to mono and resampled to 48 kHz, as f32 samples.
pub fn decode_audio_mono_f32(path: &Path) -> Vec<f32> {
    let out = run_ok(
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-i"])
            .arg(path)
            .args([
                "-map", "0:a:0", "-ac", "1", "-ar", "48000", "-f", "f32le", "-",
            ]),
        "ffmpeg",
    );
    out.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// For each frame of the first video stream of `path`: its presentation time in seconds and the
/// mean of its Y (luma) plane as coded, 0..=255 (16..=235 for limited-range video).
pub fn decode_luma_means(path: &Path) -> Vec<(f64, f64)> {
    const W: usize = 32;
    const H: usize = 18;
    // Timestamps: ffprobe decodes every frame and reports each one.
    let out = run_ok(
        Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0", "-show_frames"])
            .args(["-show_entries", "frame=pts_time,best_effort_timestamp_time"])
            .args(["-of", "json"])
            .arg(path),
        "ffmpeg",
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("ffprobe -show_frames JSON");
    let times: Vec<f64> = json["frames"]
        .as_array()
        .map(|frames| {
            frames
                .iter()
                .map(|f| {
                    number(&f["pts_time"])
                        .or_else(|| number(&f["best_effort_timestamp_time"]))
                        .unwrap_or_else(|| panic!("video frame without a timestamp: {f}"))
                })
                .collect()
        })
        .unwrap_or_default();
    // Pixels: the Y plane itself (extractplanes, no range conversion), area-averaged to 32x18,
    // every decoded frame passed through (no frame-rate conversion).
    let out = run_ok(
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-i"])
            .arg(path)
            .args(["-map", "0:v:0", "-fps_mode", "passthrough"])
            .args(["-vf", &format!("extractplanes=y,scale={W}:{H}:flags=area")])
            .args(["-pix_fmt", "gray", "-f", "rawvideo", "-"]),
        "ffmpeg",
    );
    let means: Vec<f64> = out
        .stdout
        .chunks_exact(W * H)
        .map(|frame| frame.iter().map(|&p| f64::from(p)).sum::<f64>() / (W * H) as f64)
        .collect();
    assert_eq!(
        times.len(),
        means.len(),
        "ffprobe saw {} video frames in {} but ffmpeg decoded {}",
        times.len(),
        path.display(),
        means.len()
    );
    times.into_iter().zip(means).collect()
}

// ---------------------------------------------------------------------------------------------
// Signal analysis
// ---------------------------------------------------------------------------------------------

/// The power of `samples` at `freq` Hz (Goertzel), normalised as |X(f)|² / N²: a sine of
/// amplitude A at exactly `freq` gives A²/4, so its amplitude is `2 * power.sqrt()`.
pub fn goertzel(samples: &[f32], rate: f64, freq: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let coeff = 2.0 * (std::f64::consts::TAU * freq / rate).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let n = samples.len() as f64;
    (s1 * s1 + s2 * s2 - coeff * s1 * s2).max(0.0) / (n * n)
}

/// The amplitude of the `freq` Hz component of `samples` (2·√[`goertzel`]).
pub fn tone_amplitude(samples: &[f32], rate: f64, freq: f64) -> f64 {
    2.0 * goertzel(samples, rate, freq).sqrt()
}

/// The frequency of the strongest component of `samples` (above DC), in Hz: Hann window,
/// FFT, and interpolation between bins, accurate to well under 1 Hz for a second of a tone.
pub fn dominant_frequency(samples: &[f32], rate: f64) -> f64 {
    assert!(
        samples.len() >= 64,
        "need at least 64 samples, got {}",
        samples.len()
    );
    let len = samples.len().min(1 << 17);
    let n = len.next_power_of_two().max(1 << 12);
    let mut re = vec![0.0f64; n];
    let mut im = vec![0.0f64; n];
    let step = std::f64::consts::TAU / (len - 1) as f64;
    for (i, (r, &x)) in re.iter_mut().zip(&samples[..len]).enumerate() {
        *r = f64::from(x) * (0.5 - 0.5 * (step * i as f64).cos());
    }
    fft(&mut re, &mut im);
    let power: Vec<f64> = re[..n / 2]
        .iter()
        .zip(&im[..n / 2])
        .map(|(r, i)| r * r + i * i)
        .collect();
    let (k, _) =
        power
            .iter()
            .enumerate()
            .skip(1)
            .take(n / 2 - 2)
            .fold(
                (1, f64::MIN),
                |best, (k, &p)| if p > best.1 { (k, p) } else { best },
            );
    // Gaussian interpolation on the log power of the peak bin and its neighbours.
    let (a, b, c) = (
        power[k - 1].max(1e-300).ln(),
        power[k].max(1e-300).ln(),
        power[k + 1].max(1e-300).ln(),
    );
    let denominator = a - 2.0 * b + c;
    let delta = if denominator.abs() > 1e-12 {
        0.5 * (a - c) / denominator
    } else {
        0.0
    };
    (k as f64 + delta.clamp(-0.5, 0.5)) * rate / n as f64
}

/// In-place radix-2 FFT; `re.len()` must be a power of two.
fn fft(re: &mut [f64], im: &mut [f64]) {
    let n = re.len();
    assert!(n.is_power_of_two() && im.len() == n);
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let mut size = 2;
    while size <= n {
        let angle = -std::f64::consts::TAU / size as f64;
        let (wr, wi) = (angle.cos(), angle.sin());
        let half = size / 2;
        for start in (0..n).step_by(size) {
            let (mut cr, mut ci) = (1.0f64, 0.0f64);
            for k in start..start + half {
                let (br, bi) = (
                    re[k + half] * cr - im[k + half] * ci,
                    re[k + half] * ci + im[k + half] * cr,
                );
                re[k + half] = re[k] - br;
                im[k + half] = im[k] - bi;
                re[k] += br;
                im[k] += bi;
                (cr, ci) = (cr * wr - ci * wi, cr * wi + ci * wr);
            }
        }
        size <<= 1;
    }
}

/// Root mean square of `samples` (1.0 = full scale).
pub fn rms(samples: &[f32]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        / samples.len() as f64)
        .sqrt()
}

/// A sine of `amplitude` (1.0 = full scale) at `freq` Hz, `seconds` long.
pub fn sine(freq: f64, amplitude: f64, rate: u32, seconds: f64) -> Vec<f32> {
    let n = (seconds * f64::from(rate)).round() as usize;
    (0..n)
        .map(|i| {
            (amplitude * (std::f64::consts::TAU * freq * i as f64 / f64::from(rate)).sin()) as f32
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// WAV files
// ---------------------------------------------------------------------------------------------

/// A decoded WAV file; samples are interleaved, 1.0 = full scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Wav {
    pub rate: u32,
    pub channels: u16,
    pub samples: Vec<f32>,
}

impl Wav {
    /// The channels averaged into one.
    pub fn mono(&self) -> Vec<f32> {
        let c = usize::from(self.channels.max(1));
        self.samples
            .chunks_exact(c)
            .map(|f| f.iter().sum::<f32>() / c as f32)
            .collect()
    }
}

/// Writes 16-bit PCM WAV; `samples` are interleaved, clipped to [-1, 1].
pub fn write_wav(path: &Path, rate: u32, channels: u16, samples: &[f32]) {
    let data_len = u32::try_from(samples.len() * 2).expect("WAV too long");
    let mut bytes = Vec::with_capacity(44 + samples.len() * 2);
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data_len).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes()); // PCM
    bytes.extend_from_slice(&channels.to_le_bytes());
    bytes.extend_from_slice(&rate.to_le_bytes());
    bytes.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
    bytes.extend_from_slice(&(channels * 2).to_le_bytes());
    bytes.extend_from_slice(&16u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&data_len.to_le_bytes());
    for &s in samples {
        bytes.extend_from_slice(&to_i16(s).to_le_bytes());
    }
    fs::write(path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

fn to_i16(x: f32) -> i16 {
    (x.clamp(-1.0, 1.0) * 32767.0).round() as i16
}

/// Reads a 16-bit PCM or 32-bit float WAV file (plain or WAVE_FORMAT_EXTENSIBLE).
pub fn read_wav(path: &Path) -> Wav {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let bad = |why: &str| -> ! {
        panic!(
            "{} is not a WAV file booth's tests read: {why}",
            path.display()
        )
    };
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        bad("no RIFF/WAVE header");
    }
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let mut format = None; // (tag, channels, rate, bits)
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32_at(pos + 4) as usize;
        let body = pos + 8;
        if id == b"fmt " {
            if size < 16 || body + size > bytes.len() {
                bad("short fmt chunk");
            }
            let mut tag = u16_at(body);
            if tag == 0xFFFE && size >= 26 {
                tag = u16_at(body + 24); // the sub-format GUID starts with the plain tag
            }
            format = Some((tag, u16_at(body + 2), u32_at(body + 4), u16_at(body + 14)));
        } else if id == b"data" {
            let Some((tag, channels, rate, bits)) = format else {
                bad("data before fmt")
            };
            let data = &bytes[body..(body + size).min(bytes.len())];
            let samples = match (tag, bits) {
                (1, 16) => data
                    .chunks_exact(2)
                    .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
                    .collect(),
                (3, 32) => data
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
                _ => bad(&format!("format tag {tag} with {bits} bits per sample")),
            };
            return Wav {
                rate,
                channels,
                samples,
            };
        }
        pos = body + size + (size & 1);
    }
    bad("no data chunk")
}
