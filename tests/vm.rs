//! booth against real device drivers: the kernel's virtual camera (vivid) and loopback sound
//! card (snd-aloop), in a qemu VM, because these machines have neither a camera nor a sound
//! card and cannot load kernel modules. `tests/vm/run.sh` builds and boots the VM once for all
//! of these tests (about a minute and a half under software emulation); `tests/vm/guest.sh`
//! runs booth there in one scenario after another and brings back what it did. The checks
//! are all here, on the host, with ffprobe and ffmpeg.
//!
//! The VM emulates its CPU (no KVM here), so it is several times slower than the machine:
//! booth drops frames there that it would not drop on a real kiosk, and the checks allow for
//! it (they look at the timing of the frames that were kept, not at how many there are).

// Helpers outside the #[test] functions may unwrap as well (clippy.toml covers only
// the test functions themselves): a failed step fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// The kiosk's camera unplugged and plugged back, mid-interview and mid-answer.
#[path = "vm/comeback.rs"]
mod comeback;
mod common;
/// The kiosk on the guest's virtual terminals and its lock on VT switching.
#[path = "vm/console.rs"]
mod console;

use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

/// The two test signals played into the loopback card: frequency (Hz) and amplitude.
const TONE_A: (f64, f64) = (1000.0, 0.5);
const TONE_B: (f64, f64) = (660.0, 0.25);

/// What the VM left: one folder per scenario (see tests/vm/guest.sh).
struct VmRun {
    dir: PathBuf,
}

static VM: OnceLock<Result<VmRun, String>> = OnceLock::new();

/// Boots the VM on first use; every test shares the one run.
fn vm() -> &'static VmRun {
    match VM.get_or_init(boot) {
        Ok(run) => run,
        Err(e) => panic!("{e}"),
    }
}

fn boot() -> Result<VmRun, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vm");
    let inputs = out.join("inputs");
    fs::create_dir_all(&inputs).map_err(|e| format!("creating {}: {e}", inputs.display()))?;
    for (name, (freq, amplitude)) in [("tone-a.wav", TONE_A), ("tone-b.wav", TONE_B)] {
        write_wav(
            &inputs.join(name),
            48_000,
            1,
            &sine(freq, amplitude, 48_000, 20.0),
        );
    }
    fs::write(inputs.join("comeback-interview.toml"), comeback::INTERVIEW)
        .map_err(|e| format!("writing the comeback interview: {e}"))?;
    let started = Instant::now();
    let result = Command::new("bash")
        .arg(root.join("tests/vm/run.sh"))
        .arg(env!("CARGO_BIN_EXE_booth"))
        .arg(&inputs)
        .arg(&out)
        .output()
        .map_err(|e| format!("cannot run tests/vm/run.sh: {e}"))?;
    let log = String::from_utf8_lossy(&result.stderr);
    eprintln!(
        "{log}vm: building and running the VM took {:.0} s",
        started.elapsed().as_secs_f64()
    );
    if !result.status.success() {
        return Err(format!(
            "the test VM could not be built or run ({}):\n{log}",
            result.status
        ));
    }
    let dir = out.join("guest");
    if let Ok(setup) = fs::read_to_string(dir.join("setup.err")) {
        return Err(format!(
            "the VM's devices were not set up:\n{setup}\nsee {}",
            dir.join("init.log").display()
        ));
    }
    Ok(VmRun { dir })
}

/// One scenario's results.
struct Scenario {
    name: &'static str,
    dir: PathBuf,
}

impl Scenario {
    fn get(name: &'static str) -> Scenario {
        let dir = vm().dir.join(name);
        assert!(
            dir.is_dir(),
            "scenario {name} did not run: see {}",
            vm().dir.join("init.log").display()
        );
        Scenario { name, dir }
    }

    fn file(&self, name: &str) -> String {
        fs::read_to_string(self.dir.join(name))
            .unwrap_or_else(|e| panic!("{}/{name}: {e}", self.dir.display()))
    }

    fn exit(&self) -> i32 {
        let text = self.file("exit");
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{}: bad exit code {text:?}", self.name))
    }

    fn stderr(&self) -> String {
        self.file("stderr")
    }

    fn log(&self) -> String {
        self.file("booth.log")
    }

    fn json(&self) -> Value {
        let out = self.file("stdout");
        serde_json::from_str(&out).unwrap_or_else(|e| {
            panic!(
                "{}: booth printed no JSON ({e}):\n{out}\nstderr:\n{}",
                self.name,
                self.stderr()
            )
        })
    }

    fn mp4(&self) -> PathBuf {
        self.dir.join(format!("{}.mp4", self.name))
    }

    /// Context for assertion messages.
    fn context(&self) -> String {
        format!(
            "scenario {} (exit {:?}); stderr:\n{}\nfiles in {}",
            self.name,
            fs::read_to_string(self.dir.join("exit"))
                .unwrap_or_default()
                .trim(),
            fs::read_to_string(self.dir.join("stderr")).unwrap_or_default(),
            self.dir.display()
        )
    }
}

/// The camera's timestamp summary booth logs when it stops (see src/media/v4l2.rs):
/// frames stamped by the driver, by arrival, and frames the driver dropped.
fn camera_stamps(s: &Scenario) -> (u64, u64, u64) {
    let log = s.log();
    let line = log
        .lines()
        .rev()
        .find(|l| l.contains("camera timestamps"))
        .unwrap_or_else(|| panic!("no 'camera timestamps' line in {}'s log:\n{log}", s.name));
    let field = |name: &str| -> u64 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name}= in {line}"))
    };
    (
        field("driver_stamped"),
        field("arrival_stamped"),
        field("driver_dropped"),
    )
}

/// Checks a recording that should have run its full `seconds` at `width`x`height`, `fps`,
/// with `tone` on the microphone: H.264 + AAC, the size and rate (as booth and the driver
/// report them), A/V alignment, the tone's frequency and level, and with
/// `cadence_from_driver` that pictures keep the camera's rhythm (see [`Cadence`]).
fn check_recording(
    s: &Scenario,
    (width, height, fps): (u32, u32, f64),
    seconds: f64,
    (freq, amplitude): (f64, f64),
    cadence_from_driver: bool,
) {
    let ctx = s.context();
    assert_eq!(s.exit(), 0, "{ctx}");
    let summary = s.json();
    assert_eq!(summary["complete"], true, "{summary}\n{ctx}");
    // booth says what it negotiated with the driver.
    let negotiated = format!("{width}x{height}@{fps} YUYV)");
    assert!(
        s.stderr().contains(&negotiated),
        "booth did not report {negotiated}\n{ctx}"
    );

    let mp4 = s.mp4();
    let probe = probe(&mp4);
    assert!(probe.format_name.contains("mp4"), "{probe:?}");
    let (video, audio) = (probe.video(), probe.audio());
    assert_eq!(video.codec_name, "h264", "{probe:?}");
    assert_eq!((video.width, video.height), (Some(width), Some(height)));
    assert_eq!(audio.codec_name, "aac", "{probe:?}");
    assert_eq!(audio.sample_rate, Some(48_000), "{probe:?}");
    assert_decodes_cleanly_vfr(&mp4);

    // The sound runs the whole requested time.
    let audio_seconds = audio.duration.expect("audio duration");
    assert!(
        (audio_seconds - seconds).abs() < 0.1,
        "audio lasts {audio_seconds:.3} s, asked for {seconds} s\n{ctx}"
    );

    // The driver's own account, read while booth recorded: the size, YUYV, the rate.
    let driver = s.file("driver.txt");
    for expected in [
        format!("Width/Height      : {width}/{height}"),
        "Pixel Format      : 'YUYV'".to_string(),
        format!("Frames per second: {fps:.3}"),
    ] {
        assert!(
            driver.contains(&expected),
            "the driver does not say {expected:?}:\n{driver}\n{ctx}"
        );
    }

    // Pictures: from the start to the end, taken from a real test pattern (not black, not
    // blank). Emulation drops frames, so the count only has to be plausible.
    let frames = decode_luma_means(&mp4);
    let period = 1.0 / fps;
    let times: Vec<f64> = frames.iter().map(|f| f.0).collect();
    let nominal = seconds * fps;
    assert!(
        frames.len() as f64 >= 0.25 * nominal,
        "{} frames kept of {nominal:.0} (summary {summary})\n{ctx}",
        frames.len()
    );
    let first = times[0];
    let last = times[times.len() - 1];
    assert!(
        first < 0.25,
        "the first picture is at {first:.3} s, after the sound started\n{ctx}"
    );
    assert!(
        last + period > seconds - 0.35 && last < seconds,
        "the last picture is at {last:.3} s of {seconds} s\n{ctx}"
    );
    let steps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        steps.iter().all(|&d| d > 0.0),
        "picture times go backwards: {times:?}"
    );
    let longest = steps.iter().copied().fold(0.0, f64::max);
    assert!(
        longest < 1.5,
        "a {longest:.3} s hole in the pictures: {times:?}"
    );
    let cadence = Cadence::of(&steps, period);
    if cadence_from_driver {
        // Placed by the driver's timestamps, the pictures keep the camera's rhythm: steps of
        // whole frame periods (dropped frames make longer ones), none much shorter than one.
        assert!(
            cadence.on_grid >= 0.6 && cadence.short <= 0.05,
            "pictures off the camera's {:.1} ms rhythm: {cadence:?}, steps {steps:?}\n{ctx}",
            period * 1000.0
        );
    }
    for (t, luma) in &frames {
        assert!(
            (40.0..=220.0).contains(luma),
            "picture at {t:.3} s has mean luma {luma:.1}: not vivid's test pattern\n{ctx}"
        );
    }

    // Sound: the tone that was played, at its level. Emulation can starve the capture thread
    // long enough for ALSA to overrun (booth logs it): those 10 ms blocks are near silent, and
    // may not be more than a fifth of the recording. The level is the median over 100 ms
    // windows (a whole number of cycles of either tone), which such gaps do not move.
    let samples = decode_audio_mono_f32(&mp4);
    let dominant = dominant_frequency(&samples, 48_000.0);
    assert!(
        (dominant - freq).abs() < 5.0,
        "dominant frequency {dominant:.1} Hz, played {freq} Hz\n{ctx}"
    );
    let blocks: Vec<&[f32]> = samples.chunks_exact(480).collect();
    let quiet = blocks
        .iter()
        .filter(|b| rms(b) < 0.5 * amplitude / 2f64.sqrt())
        .count();
    let silent = quiet as f64 / blocks.len() as f64;
    assert!(
        silent < 0.2,
        "{:.0}% of the sound is missing (ALSA overruns: {})\n{ctx}",
        silent * 100.0,
        s.log().matches("microphone overrun").count()
    );
    let mut levels: Vec<f64> = samples
        .chunks_exact(4800)
        .map(|w| tone_amplitude(w, 48_000.0, freq))
        .collect();
    levels.sort_by(f64::total_cmp);
    let level = levels[levels.len() / 2];
    assert!(
        (level - amplitude).abs() < 0.1 * amplitude,
        "the {freq} Hz tone has amplitude {level:.3}, played at {amplitude}\n{ctx}"
    );
    eprintln!(
        "{}: {} frames ({:.0}% of nominal), {cadence:?}, {:.1}% sound missing, tone {level:.3}",
        s.name,
        frames.len(),
        100.0 * frames.len() as f64 / nominal,
        silent * 100.0
    );
}

/// How picture times relate to the camera's frame period.
#[derive(Debug)]
struct Cadence {
    /// Share of steps within 35% of a whole number of periods (vivid's own jitter under
    /// emulation is up to about a third of a period).
    on_grid: f64,
    /// Share of steps shorter than 40% of a period: pictures bunched together, as stamping
    /// a backlog by its arrival would make them.
    short: f64,
}

impl Cadence {
    fn of(steps: &[f64], period: f64) -> Cadence {
        let n = steps.len().max(1) as f64;
        let on_grid = steps
            .iter()
            .filter(|&&d| {
                let k = (d / period).round().max(1.0);
                (d - k * period).abs() < 0.35 * period
            })
            .count() as f64
            / n;
        let short = steps.iter().filter(|&&d| d < 0.4 * period).count() as f64 / n;
        Cadence { on_grid, short }
    }
}

/// Like `common::assert_decodes_cleanly`, for variable frame rate: a camera's pictures come
/// when they come (and emulation drops some), so they are not on a fixed grid, and ffmpeg's
/// default output time base (one tick per average frame) would merge close ones and complain.
fn assert_decodes_cleanly_vfr(path: &Path) {
    let out = run(
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-i"])
            .arg(path)
            .args(["-enc_time_base", "-1", "-f", "null", "-"]),
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

/// `v4l2-ctl --list-formats-ext` → (fourcc, width, height) → rates in fps (3 decimals).
fn parse_v4l2_formats(text: &str) -> BTreeMap<(String, u32, u32), BTreeSet<i64>> {
    let mut out: BTreeMap<(String, u32, u32), BTreeSet<i64>> = BTreeMap::new();
    let (mut fourcc, mut size) = (String::new(), (0, 0));
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix('[') {
            // [0]: 'YUYV' (YUYV 4:2:2)
            fourcc = rest.split('\'').nth(1).unwrap_or_default().to_string();
        } else if let Some(rest) = line.strip_prefix("Size: Discrete ") {
            let (w, h) = rest.split_once('x').expect("WxH");
            size = (w.parse().expect("width"), h.parse().expect("height"));
            out.entry((fourcc.clone(), size.0, size.1)).or_default();
        } else if line.starts_with("Interval: Discrete") {
            // Interval: Discrete 0.080s (12.500 fps)
            let fps: f64 = line
                .split('(')
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .expect("fps");
            out.entry((fourcc.clone(), size.0, size.1))
                .or_default()
                .insert((fps * 1000.0).round() as i64);
        }
    }
    out
}

#[test]
fn vm_lists_the_vivid_camera_with_its_real_formats() {
    let s = Scenario::get("devices");
    let ctx = s.context();
    assert_eq!(s.exit(), 0, "{ctx}");
    let json = s.json();
    let cameras = json["cameras"].as_array().expect("cameras");
    // vivid also made /dev/video1 (video output) and /dev/video2 (metadata capture), which
    // are not cameras.
    assert_eq!(cameras.len(), 1, "one capture node expected: {json}");
    let camera = &cameras[0];
    assert_eq!(camera["device"], "/dev/video0", "{camera}");
    assert_eq!(camera["name"], "vivid", "{camera}");
    assert_eq!(camera["error"], Value::Null, "{camera}");

    let listed: BTreeMap<(String, u32, u32), BTreeSet<i64>> = camera["formats"]
        .as_array()
        .expect("formats")
        .iter()
        .map(|f| {
            let key = (
                f["pixel_format"]
                    .as_str()
                    .expect("pixel_format")
                    .to_string(),
                f["width"].as_u64().expect("width") as u32,
                f["height"].as_u64().expect("height") as u32,
            );
            let rates = f["fps"]
                .as_array()
                .expect("fps")
                .iter()
                .map(|r| (r.as_f64().expect("fps number") * 1000.0).round() as i64)
                .collect();
            (key, rates)
        })
        .collect();
    // What the driver says, through another program: every format booth can record must be
    // listed with exactly the driver's sizes and rates, and nothing else.
    let truth: BTreeMap<_, _> = parse_v4l2_formats(
        &fs::read_to_string(vm().dir.join("v4l2-formats.txt")).expect("v4l2-formats.txt"),
    )
    .into_iter()
    .filter(|((fourcc, _, _), _)| {
        ["MJPG", "YUYV", "NV12", "YU12", "GREY"].contains(&fourcc.as_str())
    })
    .collect();
    assert_eq!(listed, truth, "booth's listing differs from v4l2-ctl's");
    // The cases nokhwa got wrong: 12.5 fps is 12.5, not 25, and greyscale is there.
    let key = |p: &str, w, h| (p.to_string(), w, h);
    assert_eq!(listed[&key("YUYV", 1280, 720)].iter().max(), Some(&12_500));
    assert!(listed[&key("YUYV", 640, 480)].contains(&12_500));
    assert!(listed.contains_key(&key("GREY", 640, 480)));

    let mics: Vec<&str> = json["microphones"]
        .as_array()
        .expect("microphones")
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert!(
        mics.contains(&"hw:CARD=Loopback,DEV=1"),
        "the loopback card's capture side is not listed: {mics:?}"
    );
}

#[test]
fn vm_records_yuyv_640x360_at_30_with_vivid_default_timestamps() {
    let s = Scenario::get("yuyv360");
    check_recording(&s, (640, 360, 30.0), 4.0, TONE_A, true);
    // vivid's default stamps (end of frame) are on the monotonic clock and believable: every
    // picture is placed by when the driver took it.
    let (driver, arrival, _) = camera_stamps(&s);
    assert!(
        driver > 0 && arrival == 0,
        "driver {driver}, arrival {arrival}"
    );
}

#[test]
fn vm_records_yuyv_640x480_at_25_with_start_of_exposure_timestamps() {
    let s = Scenario::get("yuyv480");
    check_recording(&s, (640, 480, 25.0), 4.0, TONE_B, true);
    let (driver, arrival, _) = camera_stamps(&s);
    assert!(
        driver > 0 && arrival == 0,
        "driver {driver}, arrival {arrival}"
    );
}

#[test]
fn vm_unusable_timestamps_fall_back_to_the_arrival_time_in_sync() {
    let s = Scenario::get("badstamps");
    // Stamped by arrival, pictures that waited in the driver come out bunched together: in
    // step with the sound overall, but not in the camera's rhythm.
    check_recording(&s, (640, 360, 30.0), 4.0, TONE_A, false);
    let (driver, arrival, _) = camera_stamps(&s);
    assert!(
        driver == 0 && arrival > 0,
        "driver {driver}, arrival {arrival}"
    );
    let log = s.log();
    assert_eq!(
        log.matches("timestamps are missing or not believable")
            .count(),
        1,
        "booth should warn once:\n{log}"
    );
}

#[test]
fn vm_takes_the_nearest_format_and_says_so() {
    let s = Scenario::get("nearest");
    // vivid gives 1280x720 at 12.5 fps at most; booth prefers a fluid 640x480 at 25.
    let said = "booth: v4l2:/dev/video0 gives 640x480@25, not the 1280x720@30 asked for";
    assert!(s.stderr().contains(said), "{}", s.context());
    check_recording(&s, (640, 480, 25.0), 3.0, TONE_A, true);
}

#[test]
fn vm_opens_a_camera_left_at_a_fractional_frame_rate() {
    let s = Scenario::get("fractional");
    // The scenario really left vivid at 12.5 fps before booth opened it.
    let before = s.file("info.txt");
    assert!(
        before.contains("12.500"),
        "vivid was not at 12.5 fps:\n{before}"
    );
    check_recording(&s, (640, 360, 30.0), 3.0, TONE_A, true);
}

#[test]
fn vm_busy_camera_names_the_program_holding_it() {
    let s = Scenario::get("busy");
    let ctx = s.context();
    assert_eq!(s.exit(), 3, "{ctx}");
    let pid = s.file("holder.pid");
    let expected = format!(
        "booth: camera /dev/video0 is busy (held by v4l2-ctl (pid {}))",
        pid.trim()
    );
    assert!(
        s.stderr().contains(&expected),
        "expected {expected:?}\n{ctx}"
    );
    assert!(
        !s.mp4().exists(),
        "a busy camera must not leave a recording\n{ctx}"
    );
}

#[test]
fn vm_unplugged_camera_stops_the_recording_and_keeps_it() {
    let s = Scenario::get("lost");
    let ctx = s.context();
    assert_eq!(s.exit(), 1, "{ctx}");
    let stderr = s.stderr();
    assert!(
        stderr.contains(
            "booth: camera /dev/video0 stopped delivering pictures: the camera was disconnected"
        ),
        "{ctx}"
    );
    assert!(
        stderr.contains("the recording was cut short; what was captured is kept"),
        "{ctx}"
    );
    let summary = s.json();
    assert_eq!(summary["complete"], false, "{summary}");
    // booth stops within moments of the unplug, not at the end of its 30 s.
    let at = |f: &str| -> f64 { s.file(f).trim().parse().expect("uptime seconds") };
    let reaction = at("booth-ended-at") - at("unplugged-at");
    assert!(
        reaction < 5.0,
        "booth took {reaction:.1} s to stop after the camera went\n{ctx}"
    );

    let mp4 = s.mp4();
    assert!(mp4.exists(), "no MP4 kept\n{ctx}");
    assert_decodes_cleanly_vfr(&mp4);
    let probe = probe(&mp4);
    let (video, audio) = (probe.video(), probe.audio());
    assert_eq!(
        (video.codec_name.as_str(), audio.codec_name.as_str()),
        ("h264", "aac")
    );
    // It holds what came before the unplug (2 s or more of it), picture and sound together.
    let v = video.duration.expect("video duration");
    let a = audio.duration.expect("audio duration");
    assert!((1.5..10.0).contains(&v), "video {v:.2} s\n{ctx}");
    assert!((a - v).abs() < 0.5, "audio {a:.2} s, video {v:.2} s\n{ctx}");
    let samples = decode_audio_mono_f32(&mp4);
    let dominant = dominant_frequency(&samples, 48_000.0);
    assert!(
        (dominant - TONE_A.0).abs() < 5.0,
        "dominant {dominant:.1} Hz"
    );
}
