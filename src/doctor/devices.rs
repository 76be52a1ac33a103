//! The doctor's device checks: the camera (present, openable by this user, its formats, who
//! holds it when busy, and one real picture), the microphone (opened with booth's own
//! `AudioSource` and listened to for three seconds) and the speaker that plays question videos.
//! Synthetic and file sources are named as such. Each device step runs under a time limit.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;

use super::{CAMERA_LIMIT, Check, MIC_LIMIT, MIC_LISTEN, SPEAKER_LIMIT, access, bounded};
use crate::config::Config;
use crate::media::analyze::{AudioCheck, AudioVerdict, LevelMeter};
use crate::media::frame::AUDIO_RATE;
use crate::media::holders::describe_holders;
use crate::media::open::{open_audio, open_video};
use crate::media::source::{AudioSpec, CaptureError, Pace, VideoRequest, VideoSpec};
use crate::media::v4l2;
use crate::status::KioskStatus;

const NAME_CAMERA: &str = "camera";
const NAME_MIC: &str = "microphone";

pub(super) fn camera(config: &Config, kiosk: Option<&KioskStatus>) -> Check {
    let d = &config.devices;
    let spec = &d.video;
    let request = VideoRequest {
        width: d.width,
        height: d.height,
        fps: d.fps,
    };
    let details = json!({ "spec": spec.to_string() });
    match spec {
        VideoSpec::Test => Check::ok(
            NAME_CAMERA,
            "synthetic test pattern (colour bars): no camera is used, fine for a demo, not for \
             candidates",
        )
        .with(details),
        VideoSpec::Head => Check::ok(
            NAME_CAMERA,
            "synthetic talking head: no camera is used, fine for a demo or a bench, not for \
             candidates",
        )
        .with(details),
        VideoSpec::File(path) => file_source(NAME_CAMERA, path, || {
            open_video(spec, request, Pace::None, Instant::now()).map(|s| s.describe())
        }),
        VideoSpec::Default | VideoSpec::V4l2(_) => real_camera(spec, request, kiosk),
    }
}

/// A `file:` source: named as a file, and opened to prove it is one booth can read.
fn file_source(
    name: &'static str,
    path: &Path,
    open: impl FnOnce() -> Result<String, CaptureError>,
) -> Check {
    let details = json!({ "spec": format!("file:{}", path.display()), "file": path });
    match open() {
        Ok(description) => Check::ok(
            name,
            format!(
                "plays the file {} (not a live device): {description}",
                path.display()
            ),
        ),
        Err(e) => Check::failure(
            name,
            e.to_string(),
            format!(
                "check the file, or set [devices] {} to a real device",
                kind(name)
            ),
        ),
    }
    .with(details)
}

fn kind(name: &str) -> &'static str {
    if name == NAME_CAMERA {
        "video"
    } else {
        "audio"
    }
}

fn real_camera(spec: &VideoSpec, request: VideoRequest, kiosk: Option<&KioskStatus>) -> Check {
    let cameras = v4l2::list_cameras();
    let path = match camera_path(spec, &cameras) {
        Ok(p) => p,
        Err(check) => return check,
    };
    let shown = path.display().to_string();
    if !path.exists() {
        let err = CaptureError::CameraNotFound {
            device: shown,
            hint: String::new(),
        };
        return camera_missing(err.to_string(), &cameras);
    }
    let what = format!("camera {shown}");
    if let Some(denied) = access::denied(&path) {
        let (finding, fix) = denied.words(&what);
        return Check::failure(NAME_CAMERA, finding, fix).with(json!({
            "spec": spec.to_string(), "device": shown, "group": denied.group, "user": denied.user,
        }));
    }
    let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
    let listing = cameras
        .iter()
        .find(|c| std::fs::canonicalize(&c.device).is_ok_and(|p| p == real));
    let formats: Vec<String> = listing
        .map(|l| {
            l.formats
                .iter()
                .map(|f| {
                    let top = f.fps.first().copied().unwrap_or(0.0);
                    format!("{} {}x{}@{top}", f.pixel_format, f.width, f.height)
                })
                .collect()
        })
        .unwrap_or_default();
    let name = listing.map(|l| l.name.clone()).unwrap_or_default();
    let details = json!({
        "spec": spec.to_string(),
        "device": shown,
        "name": name,
        "formats": formats,
        "holders": describe_holders(&path),
    });
    if listing.is_none() {
        return Check::failure(
            NAME_CAMERA,
            format!("{what} is not a camera (it captures no pictures; a USB camera's second node carries only metadata)"),
            "set [devices] video to the camera `booth devices` lists",
        )
        .with(details);
    }
    if formats.is_empty() {
        return Check::failure(
            NAME_CAMERA,
            format!("{what} ({name}) offers no picture format booth can record (MJPEG, YUYV, NV12, YU12, GREY)"),
            "use another camera; `booth devices` lists what each offers",
        )
        .with(details);
    }
    let offered = format!("{name}, offers {}", list(formats.iter().cloned()));
    if let Some(k) = kiosk {
        return Check::ok(
            NAME_CAMERA,
            format!(
                "{what} ({offered}); not opened: the kiosk (pid {}) is running{}",
                k.pid,
                k.camera
                    .as_ref()
                    .map(|c| format!(" and records from {c}"))
                    .unwrap_or_default()
            ),
        )
        .with(details);
    }
    one_picture(spec, request, &what, &offered, details)
}

/// The camera node the spec names, or the first working camera for a synthetic or
/// default spec; the failing check when there is none.
fn camera_path(spec: &VideoSpec, cameras: &[v4l2::CameraListing]) -> Result<PathBuf, Check> {
    Ok(match spec {
        VideoSpec::V4l2(name) => match v4l2::resolve_device(name) {
            Ok(d) => d.path,
            Err(e) => return Err(camera_missing(e.to_string(), cameras)),
        },
        _ => match cameras
            .iter()
            .find(|c| c.error.is_none())
            .or(cameras.first())
        {
            Some(c) => PathBuf::from(&c.device),
            None => {
                let nodes = v4l2::video_nodes();
                let finding = if nodes.is_empty() {
                    "no camera is connected: /dev has no video devices".to_string()
                } else {
                    format!(
                        "none of the video devices is a camera: {}",
                        list(nodes.iter().map(|p| p.display().to_string()))
                    )
                };
                return Err(camera_missing(finding, cameras));
            }
        },
    })
}

/// One real picture: the only proof the camera is not busy and its driver delivers.
fn one_picture(
    spec: &VideoSpec,
    request: VideoRequest,
    what: &str,
    offered: &str,
    mut details: serde_json::Value,
) -> Check {
    let open_spec = spec.clone();
    let opened = bounded("camera", CAMERA_LIMIT, move || {
        let mut source = open_video(&open_spec, request, Pace::Realtime, Instant::now())?;
        let description = source.describe();
        source.next_frame().map(|f| (description, f.is_some()))
    });
    details["opened"] = json!(opened.as_ref().map(|r| r.is_ok()));
    match opened {
        Some(Ok((description, true))) => {
            Check::ok(NAME_CAMERA, format!("{description}; {offered}")).with(details)
        }
        Some(Ok((description, false))) => Check::failure(
            NAME_CAMERA,
            format!("{description} opened but delivered no picture"),
            "unplug the camera and plug it in again; check `dmesg` for USB errors",
        )
        .with(details),
        Some(Err(e)) => Check::failure(NAME_CAMERA, e.to_string(), camera_fix(&e)).with(details),
        None => Check::failure(
            NAME_CAMERA,
            format!("{what} gave no picture within {} s", CAMERA_LIMIT.as_secs()),
            "unplug the camera and plug it in again; check `dmesg` for USB errors",
        )
        .with(details),
    }
}

fn camera_fix(e: &CaptureError) -> String {
    match e {
        CaptureError::CameraBusy {
            holder: Some(h), ..
        } => format!(
            "close {h}: only one program can record from a camera (booth run, cheese, a browser…)"
        ),
        CaptureError::CameraBusy { .. } => {
            "close the other program using the camera (run `booth doctor` as root to see which)"
                .to_string()
        }
        CaptureError::CameraPermission { .. } => {
            "add the user to group video: sudo adduser $USER video, then log in again".to_string()
        }
        _ => "unplug the camera and plug it in again; `booth devices` lists what it offers"
            .to_string(),
    }
}

fn camera_missing(finding: String, cameras: &[v4l2::CameraListing]) -> Check {
    let present: Vec<String> = cameras.iter().map(|c| c.device.clone()).collect();
    Check::failure(
        NAME_CAMERA,
        finding,
        "plug the camera in, or set [devices] video to one that `booth devices` lists \
         (\"default\" takes the first)",
    )
    .with(json!({ "cameras_present": present }))
}

/// "a, b, c (+4 more)".
fn list(items: impl Iterator<Item = String>) -> String {
    let all: Vec<String> = items.collect();
    let mut text = all.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
    if all.len() > 3 {
        text.push_str(&format!(" (+{} more)", all.len() - 3));
    }
    text
}

/// What three seconds of the microphone sounded like.
struct Heard {
    description: String,
    peak_dbfs: f32,
    rms_dbfs: f32,
    verdict: AudioVerdict,
    seconds: f64,
}

pub(super) fn microphone(config: &Config, kiosk: Option<&KioskStatus>) -> Check {
    let spec = config.devices.audio.clone();
    let details = json!({ "spec": spec.to_string() });
    match &spec {
        AudioSpec::Tone => {
            return Check::ok(
                NAME_MIC,
                "synthetic tone with beeps: no microphone is used, fine for a demo, not for \
                 candidates",
            )
            .with(details);
        }
        AudioSpec::File(path) => {
            return file_source(NAME_MIC, path, || {
                open_audio(&spec, Pace::None, Instant::now()).map(|s| s.describe())
            });
        }
        AudioSpec::Default | AudioSpec::Alsa(_) => {}
    }
    if let Some(k) = kiosk {
        return Check::ok(
            NAME_MIC,
            format!(
                "microphone {spec} not measured: the kiosk (pid {}) is running{}",
                k.pid,
                k.microphone
                    .as_ref()
                    .map(|m| format!(" and records from {m}"))
                    .unwrap_or_default()
            ),
        )
        .with(details);
    }
    let open_spec = spec.clone();
    let heard = bounded("microphone", MIC_LIMIT, move || listen(&open_spec));
    match heard {
        Some(Ok(h)) => heard_check(h, details),
        Some(Err(e)) => Check::failure(NAME_MIC, e.to_string(), mic_fix(&e)).with(details),
        None => Check::failure(
            NAME_MIC,
            format!(
                "microphone {spec} delivered no sound within {} s",
                MIC_LIMIT.as_secs()
            ),
            "unplug the microphone and plug it in again; check `arecord -l`",
        )
        .with(details),
    }
}

/// The verdict on what the microphone heard.
fn heard_check(h: Heard, mut details: serde_json::Value) -> Check {
    details["peak_dbfs"] = json!(h.peak_dbfs);
    details["rms_dbfs"] = json!(h.rms_dbfs);
    details["seconds"] = json!(h.seconds);
    let levels = format!(
        "peak {:.0} dBFS, RMS {:.0} dBFS over {:.1} s",
        h.peak_dbfs, h.rms_dbfs, h.seconds
    );
    match h.verdict {
        AudioVerdict::NoSound => Check::warning(
            NAME_MIC,
            format!("{} heard nothing ({levels})", h.description),
            "check the microphone's mute switch and its capture level (alsamixer, F4), \
             then speak while `booth doctor` listens",
        ),
        AudioVerdict::Clipping => Check::warning(
            NAME_MIC,
            format!("{} is clipping ({levels})", h.description),
            "turn the capture level down (alsamixer, F4)",
        ),
        _ => Check::ok(NAME_MIC, format!("{}: {levels}", h.description)),
    }
    .with(details)
}

fn mic_fix(e: &CaptureError) -> &'static str {
    match e {
        CaptureError::MicrophoneNotFound { .. } => {
            "plug the microphone in, or set [devices] audio to one `booth devices` lists"
        }
        CaptureError::MicrophoneBusy { .. } => {
            "close the other program recording from it (a hw: device takes one program)"
        }
        CaptureError::MicrophonePermission { .. } => {
            "add the user to group audio: sudo adduser $USER audio, then log in again"
        }
        _ => "check the device with `arecord -l`; `booth devices` lists what booth sees",
    }
}

/// Opens the microphone with booth's own source and measures [`MIC_LISTEN`] of it.
fn listen(spec: &AudioSpec) -> Result<Heard, CaptureError> {
    let mut source = open_audio(spec, Pace::Realtime, Instant::now())?;
    let description = source.describe();
    let mut meter = LevelMeter::new(source.channels());
    let mut check = AudioCheck::new();
    let (mut sum_squares, mut samples, mut frames) = (0f64, 0u64, 0u64);
    let wanted = (MIC_LISTEN.as_secs_f64() * f64::from(AUDIO_RATE)) as u64;
    while frames < wanted {
        let Some(chunk) = source.next_chunk()? else {
            break;
        };
        for level in meter.push(&chunk.samples) {
            check.add(level);
        }
        sum_squares += chunk
            .samples
            .iter()
            .map(|&s| f64::from(s) * f64::from(s))
            .sum::<f64>();
        samples += chunk.samples.len() as u64;
        frames += chunk.samples.len() as u64 / u64::from(chunk.channels.max(1));
    }
    let rms = (sum_squares / samples.max(1) as f64).sqrt();
    let rms_dbfs = if rms > 0.0 {
        (20.0 * (rms / 32768.0).log10()) as f32
    } else {
        crate::media::analyze::SILENCE_DBFS
    };
    Ok(Heard {
        description,
        peak_dbfs: check.loudest_peak_dbfs(),
        rms_dbfs: rms_dbfs.max(crate::media::analyze::SILENCE_DBFS),
        verdict: check.verdict(),
        seconds: frames as f64 / f64::from(AUDIO_RATE),
    })
}

/// The default output device, which plays the questions' videos.
pub(super) fn speaker() -> Check {
    const NAME: &str = "speaker";
    let found = bounded("speaker", SPEAKER_LIMIT, || {
        use cpal::traits::{DeviceTrait, HostTrait};
        let device = cpal::default_host().default_output_device()?;
        let name = device.to_string();
        let usable = device
            .supported_output_configs()
            .map(|mut c| c.next().is_some())
            .map_err(|e| e.to_string());
        Some((name, usable))
    });
    let fix = "plug in speakers or headphones and check `aplay -l`; without sound the candidate \
               sees the question videos with a 'no sound' note";
    match found {
        Some(Some((name, Ok(true)))) => Check::ok(NAME, format!("question videos play on {name}"))
            .with(json!({ "device": name })),
        Some(Some((name, Ok(false)))) => {
            Check::warning(NAME, format!("{name} offers no way to play sound"), fix)
                .with(json!({ "device": name }))
        }
        Some(Some((name, Err(e)))) => Check::warning(NAME, format!("{name} cannot play: {e}"), fix)
            .with(json!({ "device": name })),
        Some(None) => Check::warning(NAME, "no sound output device", fix),
        None => Check::warning(
            NAME,
            format!(
                "the sound output did not answer within {} s",
                SPEAKER_LIMIT.as_secs()
            ),
            fix,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Verdict;

    fn config(video: &str, audio: &str) -> crate::TestResult<Config> {
        Ok(Config::parse(
            &format!("[devices]\nvideo = \"{video}\"\naudio = \"{audio}\"\n"),
            Path::new("/etc/booth/config.toml"),
        )?)
    }

    #[test]
    fn synthetic_sources_say_so() -> crate::TestResult {
        let c = config("test", "tone")?;
        let cam = camera(&c, None);
        assert_eq!(cam.verdict, Verdict::Ok);
        assert!(cam.finding.contains("synthetic"), "{}", cam.finding);
        let mic = microphone(&c, None);
        assert_eq!(mic.verdict, Verdict::Ok);
        assert!(mic.finding.contains("synthetic"), "{}", mic.finding);
        Ok(())
    }

    #[test]
    fn a_missing_file_or_device_is_a_failure_naming_it() -> crate::TestResult {
        let c = config("file:/nowhere/clip.y4m", "file:/nowhere/voice.wav")?;
        let cam = camera(&c, None);
        assert_eq!(cam.verdict, Verdict::Failure);
        assert!(cam.finding.contains("/nowhere/clip.y4m"), "{}", cam.finding);
        let mic = microphone(&c, None);
        assert_eq!(mic.verdict, Verdict::Failure);
        assert!(
            mic.finding.contains("/nowhere/voice.wav"),
            "{}",
            mic.finding
        );

        let c = config("v4l2:/dev/video97", "tone")?;
        let cam = camera(&c, None);
        assert_eq!(cam.verdict, Verdict::Failure);
        assert!(cam.finding.contains("/dev/video97"), "{}", cam.finding);
        assert!(cam.fix.ok_or("no fix")?.contains("booth devices"));
        Ok(())
    }

    #[test]
    fn lists_stay_short() {
        let items = ["a", "b", "c", "d", "e"].map(String::from);
        assert_eq!(list(items.into_iter()), "a, b, c (+2 more)");
    }
}
