//! Proves the test support in `tests/common`: the PulseAudio microphone reaches ALSA's
//! `default` device with the expected signal, in real time, one daemon per test; the ffprobe and
//! ffmpeg helpers read what ffmpeg itself wrote; the signal analysis is accurate.

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Records `seconds` from ALSA's `default` device with arecord, under `pulse.envs()`.
/// Returns the recording and how long arecord took.
fn arecord(pulse: &Pulse, dir: &Path, name: &str, seconds: u32) -> (Wav, Duration) {
    let path = dir.join(name);
    let start = Instant::now();
    let out = run(
        Command::new("arecord")
            .args([
                "-q", "-D", "default", "-f", "S16_LE", "-r", "48000", "-c", "1",
            ])
            .args(["-d", &seconds.to_string()])
            .arg(&path)
            .envs(pulse.envs()),
        "alsa-utils",
    );
    let elapsed = start.elapsed();
    assert!(
        out.status.success(),
        "arecord failed ({}):\n{}\n--- pulseaudio log:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        pulse.log()
    );
    (read_wav(&path), elapsed)
}

fn peak(samples: &[f32]) -> f64 {
    samples
        .iter()
        .fold(0.0f64, |m, &x| m.max(f64::from(x.abs())))
}

#[test]
fn sine_microphone_reaches_alsa_default_in_real_time() {
    let pulse = Pulse::start_sine(1000);
    let dir = tempfile::tempdir().unwrap();
    let (wav, elapsed) = arecord(&pulse, dir.path(), "sine.wav", 1);

    assert_eq!((wav.rate, wav.channels), (48_000, 1));
    assert_eq!(wav.samples.len(), 48_000);
    let freq = dominant_frequency(&wav.samples, 48_000.0);
    assert!((freq - 1000.0).abs() <= 5.0, "dominant frequency {freq} Hz");
    // Same level as module-sine-source (measured: peak 16384 of 32768, RMS 11585): -6 dBFS peak.
    let (peak, rms) = (peak(&wav.samples), rms(&wav.samples));
    assert!((peak - SINE_AMPLITUDE).abs() < 0.01, "peak {peak}");
    assert!(
        (rms - SINE_AMPLITUDE / 2f64.sqrt()).abs() < 0.01,
        "rms {rms}"
    );
    // Nearly all of it is the tone: no gaps, clicks or other signal.
    let tone = tone_amplitude(&wav.samples, 48_000.0, 1000.0);
    assert!(tone > 0.45, "1000 Hz amplitude {tone}");
    // A microphone delivers in real time: a second of audio takes a second to record
    // (module-sine-source would hand over 2 s at once).
    assert!(
        elapsed >= Duration::from_millis(900),
        "1 s recorded in {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(10),
        "1 s recorded in {elapsed:?}"
    );
}

#[test]
fn pipe_microphone_plays_a_wav_file() {
    let dir = tempfile::tempdir().unwrap();
    let wav_in = dir.path().join("a440.wav");
    write_wav(&wav_in, 48_000, 1, &sine(440.0, 0.25, 48_000, 1.0));
    let pulse = Pulse::start_pipe(&wav_in);
    let (wav, elapsed) = arecord(&pulse, dir.path(), "out.wav", 1);

    assert_eq!(wav.samples.len(), 48_000);
    let freq = dominant_frequency(&wav.samples, 48_000.0);
    assert!((freq - 440.0).abs() <= 5.0, "dominant frequency {freq} Hz");
    let rms = rms(&wav.samples);
    assert!((rms - 0.25 / 2f64.sqrt()).abs() < 0.01, "rms {rms}");
    assert!(
        elapsed >= Duration::from_millis(900),
        "1 s recorded in {elapsed:?}"
    );
}

#[test]
fn parallel_daemons_are_independent() {
    let low = Pulse::start_sine(500);
    let high = Pulse::start_sine(3000);
    assert_ne!(low.server(), high.server());
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| arecord(&low, dir.path(), "low.wav", 1).0);
        let b = s.spawn(|| arecord(&high, dir.path(), "high.wav", 1).0);
        (a.join().unwrap(), b.join().unwrap())
    });
    let (fa, fb) = (
        dominant_frequency(&a.samples, 48e3),
        dominant_frequency(&b.samples, 48e3),
    );
    assert!((fa - 500.0).abs() <= 5.0, "first daemon: {fa} Hz");
    assert!((fb - 3000.0).abs() <= 5.0, "second daemon: {fb} Hz");
}

#[test]
fn dropping_pulse_stops_the_daemon() {
    let pulse = Pulse::start_sine(1000);
    let pid = pulse.pid();
    let socket = pulse.server().trim_start_matches("unix:").to_owned();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    assert!(pulse.pactl(&["list", "short", "sources"]).contains("mic"));
    drop(pulse);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "pulseaudio {pid} still running"
    );
    assert!(!Path::new(&socket).exists(), "{socket} left behind");
}

const ORPHAN_CHILD: &str = "BOOTH_HARNESS_ORPHAN_CHILD";

/// A test process that is killed outright (no destructors) must not leave its daemon behind.
#[test]
fn killed_test_process_leaves_no_daemon() {
    use std::io::{BufRead, BufReader};
    if std::env::var_os(ORPHAN_CHILD).is_some() {
        let pulse = Pulse::start_sine(1000);
        println!(
            "PULSE_PID {} PULSE_DIR {}",
            pulse.pid(),
            pulse.dir().display()
        );
        std::thread::sleep(Duration::from_secs(60));
        panic!("the parent test should have killed this process");
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "killed_test_process_leaves_no_daemon",
            "--nocapture",
        ])
        .env(ORPHAN_CHILD, "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let line = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.split_once("PULSE_PID ").map(|(_, rest)| rest.to_owned()))
        .expect("the child test printed no PULSE_PID");
    let (pid, dir) = line
        .split_once(" PULSE_DIR ")
        .expect("PULSE_PID <pid> PULSE_DIR <dir>");
    let pid: u32 = pid.parse().unwrap();
    let dir = std::path::PathBuf::from(dir.trim());
    assert!(dir.is_dir());
    let stat = format!("/proc/{pid}/stat");
    assert!(Path::new(&stat).exists(), "daemon {pid} not running");
    child.kill().unwrap(); // SIGKILL: no Drop runs in the child
    child.wait().unwrap();
    // Gone, or a zombie waiting for a reaper: either way no longer running.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let state = std::fs::read_to_string(&stat).unwrap_or_default();
        let running = state
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'));
        if !running {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "pulseaudio {pid} outlived its test process: {state}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // ... and its temporary directory is removed too.
    while dir.exists() {
        assert!(Instant::now() < deadline, "{} left behind", dir.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One second of ffmpeg's test picture (320x240, 25 fps) and a 1000 Hz tone, H.264 + AAC.
fn reference_mp4(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("reference.mp4");
    run_ok(
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-y"])
            .args(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"])
            .args(["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000"])
            .args([
                "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
            ])
            .arg(&path),
        "ffmpeg",
    );
    path
}

#[test]
fn probe_and_decode_helpers_read_an_ffmpeg_mp4() {
    let dir = tempfile::tempdir().unwrap();
    let mp4 = reference_mp4(dir.path());

    let p = probe(&mp4);
    assert!(p.format_name.contains("mp4"), "{}", p.format_name);
    let d = p.duration.expect("format duration");
    assert!((0.95..1.1).contains(&d), "duration {d}");
    let v = p.video();
    assert_eq!(
        (v.codec_name.as_str(), v.width, v.height),
        ("h264", Some(320), Some(240))
    );
    assert_eq!(v.avg_frame_rate, Some(25.0));
    assert_eq!(v.nb_frames, Some(25));
    assert!((v.duration.expect("video duration") - 1.0).abs() < 1e-6);
    let a = p.audio();
    assert_eq!(
        (a.codec_name.as_str(), a.sample_rate, a.channels),
        ("aac", Some(48_000), Some(1))
    );
    assert!(a.width.is_none() && a.avg_frame_rate.is_none());

    assert_decodes_cleanly(&mp4);

    let audio = decode_audio_mono_f32(&mp4);
    assert!(
        (47_000..50_000).contains(&audio.len()),
        "{} samples",
        audio.len()
    );
    let freq = dominant_frequency(&audio, 48_000.0);
    assert!((freq - 1000.0).abs() <= 5.0, "dominant frequency {freq} Hz");

    let frames = decode_luma_means(&mp4);
    assert_eq!(frames.len(), 25);
    for (i, &(t, luma)) in frames.iter().enumerate() {
        assert!((t - i as f64 * 0.04).abs() < 1e-3, "frame {i} at {t} s");
        assert!((16.0..=235.0).contains(&luma), "frame {i} luma {luma}");
    }
}

#[test]
fn luma_means_follow_the_picture() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("black-white.mp4");
    run_ok(
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-y", "-filter_complex"])
            .arg(
                "color=c=black:s=64x36:r=10:d=0.5[a];color=c=white:s=64x36:r=10:d=0.5[b];\
                 [a][b]concat=n=2:v=1:a=0,format=yuv420p",
            )
            .args(["-c:v", "libx264"])
            .arg(&path),
        "ffmpeg",
    );
    let frames = decode_luma_means(&path);
    assert_eq!(frames.len(), 10);
    for &(t, luma) in &frames {
        let expected = if t < 0.45 { 16.0 } else { 235.0 }; // limited-range black and white
        assert!(
            (luma - expected).abs() < 2.0,
            "at {t} s: luma {luma}, expected {expected}"
        );
    }
}

#[test]
#[should_panic(expected = "does not decode")]
fn assert_decodes_cleanly_rejects_a_truncated_mp4() {
    let dir = tempfile::tempdir().unwrap();
    let mp4 = reference_mp4(dir.path());
    let bytes = std::fs::read(&mp4).unwrap();
    std::fs::write(&mp4, &bytes[..bytes.len() / 2]).unwrap();
    assert_decodes_cleanly(&mp4);
}

#[test]
fn goertzel_measures_a_tone_and_ignores_others() {
    let s = sine(1000.0, 0.3, 48_000, 1.0);
    assert!((tone_amplitude(&s, 48_000.0, 1000.0) - 0.3).abs() < 1e-3);
    assert!(tone_amplitude(&s, 48_000.0, 2000.0) < 1e-3);
    assert!((rms(&s) - 0.3 / 2f64.sqrt()).abs() < 1e-4);
}

#[test]
fn dominant_frequency_finds_the_strongest_tone() {
    let s = sine(1234.5, 0.5, 48_000, 1.0);
    let f = dominant_frequency(&s, 48_000.0);
    assert!((f - 1234.5).abs() < 0.5, "{f}");

    let mixed: Vec<f32> = sine(300.0, 0.2, 48_000, 0.5)
        .iter()
        .zip(sine(3000.0, 0.5, 48_000, 0.5))
        .map(|(a, b)| a + b)
        .collect();
    let f = dominant_frequency(&mixed, 48_000.0);
    assert!((f - 3000.0).abs() < 1.0, "{f}");
}

#[test]
fn wav_files_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stereo.wav");
    let samples = [0.0f32, 0.5, -0.5, 1.0, 0.25, -1.0];
    write_wav(&path, 44_100, 2, &samples);
    let wav = read_wav(&path);
    assert_eq!((wav.rate, wav.channels, wav.samples.len()), (44_100, 2, 6));
    for (a, b) in wav.samples.iter().zip(samples) {
        assert!((a - b).abs() < 1e-4, "{a} != {b}");
    }
    assert_eq!(wav.mono().len(), 3);
    // ffprobe agrees with the header.
    let a = probe(&path).audio().clone();
    assert_eq!(
        (a.codec_name.as_str(), a.sample_rate, a.channels),
        ("pcm_s16le", Some(44_100), Some(2))
    );
}

/// Set in the child process that [`cpal_default_input_hears_the_microphone`] starts.
const CPAL_CHILD: &str = "BOOTH_HARNESS_CPAL_CHILD";

/// cpal (ALSA host, `default` input) in a child process, so that the Pulse environment is in
/// place before ALSA reads its configuration: the path booth's microphone code takes.
#[test]
fn cpal_default_input_hears_the_microphone() {
    if std::env::var_os(CPAL_CHILD).is_some() {
        return cpal_capture_one_second();
    }
    let pulse = Pulse::start_sine(1000);
    let out = run(
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "cpal_default_input_hears_the_microphone"])
            .args(["--nocapture", "--test-threads=1"])
            .env(CPAL_CHILD, "1")
            .envs(pulse.envs()),
        "(the test binary itself)",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let result = stdout
        .lines()
        .find_map(|l| l.split_once("CPAL_RESULT ").map(|(_, r)| r));
    let Some(result) = result.filter(|_| out.status.success()) else {
        panic!(
            "cpal child failed ({}):\n{stdout}\n{}\n--- pulseaudio log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            pulse.log()
        );
    };
    let field = |name: &str| -> f64 {
        let prefix = format!("{name}=");
        result
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(prefix.as_str()))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {result}"))
    };
    let (freq, rms, first, second) = (
        field("freq"),
        field("rms"),
        field("first_s"),
        field("one_second_s"),
    );
    assert!((freq - 1000.0).abs() <= 5.0, "{result}");
    assert!(
        (rms - SINE_AMPLITUDE / 2f64.sqrt()).abs() < 0.02,
        "{result}"
    );
    assert!(first < 1.0, "first audio only after {first} s: {result}");
    assert!((0.8..3.0).contains(&second), "{result}");
}

/// The child's half: capture one second of mono f32 at 48 kHz and print what it heard.
fn cpal_capture_one_second() {
    use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
    use std::sync::{Arc, Mutex};

    let device = cpal::default_host()
        .default_input_device()
        .expect("no default input device");
    let config = cpal::StreamConfig {
        channels: 1,
        sample_rate: 48_000,
        buffer_size: cpal::BufferSize::Default,
    };
    /// The samples, when the first arrived, when a full second was there.
    #[derive(Default)]
    struct Captured {
        samples: Vec<f32>,
        first: Option<Instant>,
        full: Option<Instant>,
    }
    let captured: Arc<Mutex<Captured>> = Arc::default();
    let sink = Arc::clone(&captured);
    let stream = device
        .build_input_stream::<f32, _, _>(
            config,
            move |data, _| {
                let mut c = sink.lock().unwrap();
                let now = Instant::now();
                c.first.get_or_insert(now);
                c.samples.extend_from_slice(data);
                if c.samples.len() >= 48_000 && c.full.is_none() {
                    c.full = Some(now);
                }
            },
            |e| eprintln!("cpal stream error: {e}"),
            None,
        )
        .expect("building the cpal input stream");
    let started = Instant::now();
    stream.play().expect("starting the cpal input stream");
    while captured.lock().unwrap().full.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no second of audio in 10 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(stream);
    let c = captured.lock().unwrap();
    let samples = &c.samples[..48_000];
    let (first, full) = (c.first.unwrap(), c.full.unwrap());
    let first_s = first.duration_since(started).as_secs_f64();
    let second = full.duration_since(first).as_secs_f64();
    println!(
        "CPAL_RESULT freq={:.2} rms={:.4} first_s={first_s:.3} one_second_s={second:.3}",
        dominant_frequency(samples, 48_000.0),
        rms(samples)
    );
}
