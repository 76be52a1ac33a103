//! `booth record` and `booth recover` end to end, with real parts: the binary, ffprobe/ffmpeg
//! to check every file it writes, and a user-space PulseAudio daemon as the microphone that
//! cpal reaches through ALSA's `default`.

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// The encoder holds its bitrate on scenes with detail.
#[path = "record/bitrate.rs"]
mod bitrate;
mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::*;

/// Checks a finished recording: one H.264 and one AAC stream, the expected picture, both
/// durations within 50 ms of `seconds`, a clean decode and a private file.
fn assert_recording(path: &Path, width: u32, height: u32, fps: f64, seconds: f64) -> Probe {
    assert_decodes_cleanly(path);
    let p = probe(path);
    let v = p.video();
    let a = p.audio();
    assert_eq!(v.codec_name, "h264");
    assert_eq!(a.codec_name, "aac");
    assert_eq!((v.width, v.height), (Some(width), Some(height)));
    assert_eq!(a.sample_rate, Some(48_000));
    let vd = v.duration.expect("video duration");
    let ad = a.duration.expect("audio duration");
    assert!(
        (vd - seconds).abs() <= 0.05,
        "video lasts {vd} s, expected {seconds}"
    );
    assert!(
        (ad - seconds).abs() <= 0.05,
        "audio lasts {ad} s, expected {seconds}"
    );
    let frames = v.nb_frames.expect("frame count") as f64;
    assert!(
        (frames - fps * seconds).abs() <= 2.0,
        "{frames} frames for {seconds} s at {fps} fps"
    );
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{} has mode {mode:o}", path.display());
    assert!(
        !booth::media::mux::partial_path(path).exists(),
        "the .part file was left behind"
    );
    p
}

fn record(args: &[&str]) -> std::process::Output {
    run(booth().arg("record").args(args), "booth")
}

#[test]
fn synthetic_sources_make_a_valid_mp4() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/answer.mp4");
    let o = record(&[
        "--video",
        "test",
        "--audio",
        "tone",
        "--duration",
        "4",
        "--size",
        "640x360",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_recording(&out, 640, 360, 30.0, 4.0);
    // A directory booth created is private too.
    let mode = std::fs::metadata(dir.path().join("nested"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    // OpenH264's and ALSA's own stderr chatter is kept off the operator's terminal.
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("[OpenH264]"), "{stderr}");
}

/// White frames (mean luma above 200) and beep onsets (first sample above 0.2 after quiet) in
/// a recording of the synthetic sources.
fn sync_marks(path: &Path) -> (Vec<f64>, Vec<f64>) {
    let whites: Vec<f64> = decode_luma_means(path)
        .into_iter()
        .filter(|&(_, m)| m > 200.0)
        .map(|(t, _)| t)
        .collect();
    let audio = decode_audio_mono_f32(path);
    let mut onsets = Vec::new();
    let mut i = 0;
    while i < audio.len() {
        if audio[i].abs() > 0.2 {
            onsets.push(i as f64 / 48_000.0);
            i += 48_000; // the next beep is 2 s later
        } else {
            i += 1;
        }
    }
    (whites, onsets)
}

#[test]
fn sync_marks_stay_together_across_a_minute() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sync.mp4");
    let o = record(&[
        "--video",
        "test",
        "--audio",
        "tone",
        "--duration",
        "60",
        "--size",
        "640x360",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_recording(&out, 640, 360, 30.0, 60.0);
    let (whites, onsets) = sync_marks(&out);
    assert!(whites.len() >= 29, "white frames at {whites:?}");
    assert_eq!(
        whites.len(),
        onsets.len(),
        "whites {whites:?} onsets {onsets:?}"
    );
    for (w, b) in whites.iter().zip(&onsets) {
        let skew = (w - b) * 1000.0;
        assert!(
            skew.abs() <= 15.0,
            "white frame at {w:.4} s, beep at {b:.4} s: {skew:.1} ms apart"
        );
    }
    // Marks are 2 s apart on both tracks: no drift, no dropped stretch.
    for pair in whites.windows(2) {
        assert!((pair[1] - pair[0] - 2.0).abs() < 0.04, "{pair:?}");
    }
}

#[test]
fn y4m_and_wav_files_encode_as_fast_as_possible_and_faithfully() {
    let dir = tempfile::tempdir().unwrap();
    let y4m = dir.path().join("in.y4m");
    let wav = dir.path().join("in.wav");
    run_ok(
        Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=320x240:rate=25:duration=3",
            ])
            .args(["-pix_fmt", "yuv420p", "-y"])
            .arg(&y4m),
        "ffmpeg",
    );
    write_wav(&wav, 48_000, 1, &sine(440.0, 0.25, 48_000, 3.0));
    let out = dir.path().join("file.mp4");
    let started = Instant::now();
    let o = record(&[
        "--video",
        &format!("file:{}", y4m.display()),
        "--audio",
        &format!("file:{}", wav.display()),
        "--pace",
        "none",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "--pace none ran in real time"
    );
    assert_recording(&out, 320, 240, 25.0, 3.0);
    // The picture is the source's, frame for frame.
    let psnr = run_ok(
        Command::new("ffmpeg")
            .args(["-v", "info", "-nostats", "-i"])
            .arg(&out)
            .arg("-i")
            .arg(&y4m)
            .args(["-lavfi", "[0:v][1:v]psnr", "-f", "null", "-"]),
        "ffmpeg",
    );
    let text = String::from_utf8_lossy(&psnr.stderr);
    let avg: f64 = text
        .split("average:")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no PSNR in {text}"));
    assert!(avg > 32.0, "PSNR {avg} dB");
    let audio = decode_audio_mono_f32(&out);
    let f = dominant_frequency(&audio[4800..], 48_000.0);
    assert!((f - 440.0).abs() < 3.0, "{f} Hz");
}

#[test]
fn real_microphone_path_records_the_pulseaudio_sine() {
    let pulse = Pulse::start_sine(1000);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mic.mp4");
    let o = run(
        booth()
            .envs(pulse.envs())
            .args([
                "record",
                "--video",
                "test",
                "--audio",
                "default",
                "--duration",
                "4",
            ])
            .args(["--size", "320x240", "--output"])
            .arg(&out),
        "booth",
    );
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stderr),
        pulse.log()
    );
    assert_recording(&out, 320, 240, 30.0, 4.0);
    let audio = decode_audio_mono_f32(&out);
    let steady = &audio[24_000..audio.len() - 4_800];
    let f = dominant_frequency(steady, 48_000.0);
    assert!((f - 1000.0).abs() < 5.0, "dominant frequency {f} Hz");
    let amp = tone_amplitude(steady, 48_000.0, 1000.0);
    assert!(
        (amp - SINE_AMPLITUDE).abs() < 0.06,
        "1 kHz amplitude {amp}, the microphone sends {SINE_AMPLITUDE}"
    );
}

#[test]
fn real_microphone_path_records_a_wav_through_a_pipe_source() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("voice.wav");
    // Longer than the recording, so that however late the pipe starts feeding (a busy
    // machine), the steady part measured below is all tone.
    write_wav(&wav, 48_000, 1, &sine(440.0, 0.3, 48_000, 6.0));
    let pulse = Pulse::start_pipe(&wav);
    let out = dir.path().join("pipe.mp4");
    let o = run(
        booth()
            .envs(pulse.envs())
            .args([
                "record",
                "--video",
                "test",
                "--audio",
                "default",
                "--duration",
                "3",
            ])
            .args(["--size", "320x240", "--output"])
            .arg(&out),
        "booth",
    );
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stderr),
        pulse.log()
    );
    let audio = decode_audio_mono_f32(&out);
    let steady = &audio[24_000..audio.len() - 4_800];
    let f = dominant_frequency(steady, 48_000.0);
    assert!((f - 440.0).abs() < 3.0, "dominant frequency {f} Hz");
    // Per 0.1 s window (44 whole cycles), median: a moment the pipe's feeder ran late on a
    // loaded machine is a short gap in the sound, not a quieter tone.
    let mut amps: Vec<f64> = steady
        .chunks_exact(4_800)
        .map(|w| tone_amplitude(w, 48_000.0, 440.0))
        .collect();
    amps.sort_by(f64::total_cmp);
    let amp = amps[amps.len() / 2];
    assert!(
        (amp - 0.3).abs() < 0.05,
        "440 Hz amplitude {amp} (windows {amps:?})"
    );
}

/// Starts `booth record` and waits until it says it is recording; returns the child and the
/// instant of that line.
fn start_recording(args: &[&str]) -> (Child, Instant, std::thread::JoinHandle<String>) {
    let mut child = booth()
        .arg("record")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start booth");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.starts_with("booth: recording") {
                let _ = tx.send(Instant::now());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let started = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("booth never said it was recording");
    (child, started, reader)
}

fn random_between(lo: f64, hi: f64) -> f64 {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    lo + (hi - lo) * (nanos % 10_000) as f64 / 10_000.0
}

#[test]
fn sigkill_then_recover_keeps_all_but_the_last_moments() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("killed.mp4");
    let (mut child, started, _reader) = start_recording(&[
        "--video",
        "test",
        "--audio",
        "tone",
        "--duration",
        "60",
        "--size",
        "640x360",
        "--output",
        out.to_str().unwrap(),
    ]);
    let wait = random_between(2.5, 7.0);
    std::thread::sleep(Duration::from_secs_f64(wait));
    child.kill().unwrap(); // SIGKILL
    let captured = started.elapsed().as_secs_f64();
    child.wait().unwrap();
    let partial = booth::media::mux::partial_path(&out);
    assert!(partial.exists(), "no partial file after the kill");
    assert!(!out.exists());

    let o = run(booth().arg("recover").arg(dir.path()), "booth");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains("recovered") && said.contains("killed.mp4"),
        "{said}"
    );
    assert!(!partial.exists(), "the partial file is still there");
    assert_decodes_cleanly(&out);
    let p = probe(&out);
    let vd = p.video().duration.unwrap();
    let ad = p.audio().duration.unwrap();
    assert!(
        vd >= captured - 1.5 && vd <= captured + 0.2,
        "killed after {captured:.2} s of recording, recovered {vd:.2} s of video"
    );
    assert!(ad >= captured - 1.5, "recovered only {ad:.2} s of sound");

    // Running it again finds nothing left to do.
    let o = run(booth().arg("recover").arg(dir.path()), "booth");
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("nothing to recover"));
}

fn send_signal(child: &Child, signal: &str) {
    run_ok(
        Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string()),
        "procps",
    );
}

#[test]
fn sigterm_finishes_the_file_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("term.mp4");
    let (child, started, reader) = start_recording(&[
        "--video",
        "test",
        "--audio",
        "tone",
        "--size",
        "320x240",
        "--output",
        out.to_str().unwrap(),
    ]);
    std::thread::sleep(Duration::from_secs(2));
    send_signal(&child, "TERM");
    let recorded = started.elapsed().as_secs_f64();
    let o = child.wait_with_output().unwrap();
    let stderr = reader.join().unwrap();
    assert!(o.status.success(), "exit {:?}: {stderr}", o.status);
    let p = probe(&out);
    let vd = p.video().duration.unwrap();
    assert!(
        (vd - recorded).abs() < 0.3,
        "stopped after {recorded:.2} s, file has {vd:.2} s"
    );
    assert_decodes_cleanly(&out);
}

fn stderr_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn missing_devices_and_files_are_named_with_distinct_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out: PathBuf = dir.path().join("x.mp4");
    let out = out.to_str().unwrap();

    let o = record(&[
        "--video",
        "v4l2:/dev/video9",
        "--audio",
        "tone",
        "--output",
        out,
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr_of(&o));
    assert!(
        stderr_of(&o).contains("camera /dev/video9 not found"),
        "{}",
        stderr_of(&o)
    );

    let o = record(&[
        "--video",
        "test",
        "--audio",
        "alsa:hw:NoSuchCard,0",
        "--output",
        out,
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr_of(&o));
    assert!(
        stderr_of(&o).contains("microphone hw:NoSuchCard,0"),
        "{}",
        stderr_of(&o)
    );

    let o = record(&[
        "--video",
        "file:/no/such/clip.y4m",
        "--audio",
        "tone",
        "--output",
        out,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr_of(&o));
    assert!(
        stderr_of(&o).contains("/no/such/clip.y4m"),
        "{}",
        stderr_of(&o)
    );

    let o = record(&["--video", "webcam", "--audio", "tone", "--output", out]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr_of(&o));
    assert!(stderr_of(&o).contains("'webcam'"), "{}", stderr_of(&o));

    assert!(!Path::new(out).exists());
}

/// Waits until the recording's partial file holds at least one complete fragment.
fn wait_for_a_fragment(partial: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !booth::media::mux::scan::scan(partial).is_ok_and(|s| s.fragments >= 1) {
        assert!(
            Instant::now() < deadline,
            "no fragment in {}",
            partial.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn recover_keeps_a_finished_answer_beside_a_later_partial_of_the_same_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("answer.mp4");
    let args = |seconds: &'static str| {
        [
            "--video",
            "test",
            "--audio",
            "tone",
            "--duration",
            seconds,
            "--size",
            "320x240",
        ]
    };
    let o = record(&[&args("2")[..], &["--output", out.to_str().unwrap()]].concat());
    assert!(o.status.success(), "{}", stderr_of(&o));
    let finished = std::fs::read(&out).unwrap();

    // A later run under the same name is killed mid-answer.
    let (mut child, _, _reader) =
        start_recording(&[&args("60")[..], &["--output", out.to_str().unwrap()]].concat());
    let partial = booth::media::mux::partial_path(&out);
    wait_for_a_fragment(&partial);
    child.kill().unwrap();
    child.wait().unwrap();

    let o = run(booth().arg("recover").arg(dir.path()), "booth");
    assert!(o.status.success(), "{}", stderr_of(&o));
    let said = String::from_utf8_lossy(&o.stdout);
    let aside = dir.path().join("answer.recovered.mp4");
    assert!(
        said.contains(&aside.display().to_string()) && said.contains("left as it was"),
        "{said}"
    );
    assert_eq!(
        std::fs::read(&out).unwrap(),
        finished,
        "the finished answer changed"
    );
    assert!(!partial.exists());
    assert_decodes_cleanly(&aside);
    assert!(probe(&aside).video().duration.unwrap() >= 0.9);
}
