//! `booth record`: one recording from the command line, stopped by `--duration`, by the
//! sources ending, or by SIGINT / SIGTERM / SIGHUP (which finish the file cleanly).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;

use super::{Exit, report_error};
use crate::logging::console;
use crate::media::capture::{CaptureEvent, CaptureSession};
use crate::media::open::{open_audio, open_video};
use crate::media::recorder::{RecordError, RecordSettings, Recording, Summary};
use crate::media::source::{AudioSpec, CaptureError, Pace, VideoRequest, VideoSpec};

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Camera: default, v4l2:<path or index>, test, or file:<path.y4m>.
    #[arg(long, value_name = "SRC")]
    pub video: VideoSpec,
    /// Microphone: default, alsa:<device>, tone, or file:<path.wav>.
    #[arg(long, value_name = "SRC")]
    pub audio: AudioSpec,
    /// Seconds to record; without it, records until interrupted or the sources end.
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// The MP4 to write (a crash-safe FILE.part exists while recording).
    #[arg(long, value_name = "FILE.mp4")]
    pub output: PathBuf,
    /// Picture size to ask the camera for.
    #[arg(long, default_value = "1280x720", value_parser = parse_size)]
    pub size: (u32, u32),
    /// Frame rate to ask the camera for.
    #[arg(long, default_value_t = 30)]
    pub fps: u32,
    /// realtime: files play like a device; none: as fast as the encoder goes.
    #[arg(long, default_value = "realtime")]
    pub pace: Pace,
    /// Video bitrate in kb/s (default: 2500 at 720p30, scaled to the picture size).
    #[arg(long, value_name = "KBPS")]
    pub video_kbps: Option<u32>,
    /// Audio bitrate in kb/s.
    #[arg(long, value_name = "KBPS", default_value_t = 128)]
    pub audio_kbps: u32,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("'{s}' is not a size like 1280x720"))?;
    let w = w.parse().map_err(|_| format!("bad width in '{s}'"))?;
    let h = h.parse().map_err(|_| format!("bad height in '{s}'"))?;
    Ok((w, h))
}

fn capture_exit(e: &CaptureError) -> Exit {
    match e {
        CaptureError::FileIo { .. }
        | CaptureError::BadFile { .. }
        | CaptureError::BadSize { .. } => Exit::BadInput,
        _ => Exit::Device,
    }
}

pub fn run(args: &RecordArgs) -> Exit {
    if let Some(d) = args.duration
        && !(d > 0.0 && d.is_finite())
    {
        console(&format!(
            "booth: --duration must be a positive number of seconds, not {d}"
        ));
        return Exit::BadInput;
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        if let Err(e) = signal_hook::flag::register(sig, stop.clone()) {
            tracing::warn!(error = %e, signal = sig, "cannot watch signal");
        }
    }

    let request = VideoRequest {
        width: args.size.0,
        height: args.size.1,
        fps: args.fps,
    };
    let epoch = Instant::now();
    let video = match open_video(&args.video, request, args.pace, epoch) {
        Ok(v) => v,
        Err(e) => {
            report_error(&e);
            return capture_exit(&e);
        }
    };
    let format = video.format();
    if (format.width, format.height) != (request.width, request.height)
        || (format.fps - request.fps as f64).abs() > 0.01
    {
        console(&format!(
            "booth: {} gives {format}, not the {}x{}@{} asked for; recording {format}",
            args.video, request.width, request.height, request.fps
        ));
    }
    let audio = match open_audio(&args.audio, args.pace, epoch) {
        Ok(a) => a,
        Err(e) => {
            report_error(&e);
            return capture_exit(&e);
        }
    };
    let session = CaptureSession::start(video, audio);
    let (vdesc, adesc) = session.describe();

    // Files read as fast as possible share the epoch as time zero; live sources first warm
    // up, and the answer starts once both deliver.
    let origin = if session.is_live() {
        if !session.wait_ready(Duration::from_secs(10)) {
            return fail_to_start(&session);
        }
        Instant::now()
    } else {
        epoch
    };
    let end = args.duration.map(|d| origin + Duration::from_secs_f64(d));
    let mut settings = RecordSettings::new(&args.output);
    settings.video_bitrate = args.video_kbps.map(|k| k * 1000);
    settings.audio_bitrate = args.audio_kbps * 1000;
    let recording = match Recording::start(&session, origin, end, &settings) {
        Ok(r) => r,
        Err(e) => {
            report_error(&e);
            return Exit::Failed;
        }
    };
    console(&format!(
        "booth: recording {} from {vdesc} and {adesc}",
        args.output.display()
    ));

    // A source that fails (a camera unplugged) ends the recording there: recording on with
    // one source would make an answer the operator cannot use, and hide the failure until the
    // full duration had passed.
    let mut events: Vec<CaptureEvent> = Vec::new();
    let failed = |events: &[CaptureEvent]| {
        events.iter().any(|e| {
            matches!(
                e,
                CaptureEvent::VideoFailed(_) | CaptureEvent::AudioFailed(_)
            )
        })
    };
    while !recording.is_finished()
        && !stop.load(Ordering::Relaxed)
        && session.attached()
        && !failed(&events)
    {
        std::thread::sleep(Duration::from_millis(20));
        events.extend(session.events().try_iter());
    }
    let result = if stop.load(Ordering::Relaxed) || failed(&events) {
        recording.stop(&session)
    } else {
        recording.wait(&session)
    };
    events.extend(session.events().try_iter());
    session.stop();
    finish(result, &events, args.json)
}

fn fail_to_start(session: &CaptureSession) -> Exit {
    for event in session.events().try_iter() {
        if let CaptureEvent::VideoFailed(e) | CaptureEvent::AudioFailed(e) = event {
            report_error(&e);
            return capture_exit(&e);
        }
    }
    console("booth: the camera or microphone delivered nothing within 10 s");
    Exit::Device
}

fn finish(result: Result<Summary, RecordError>, events: &[CaptureEvent], json: bool) -> Exit {
    let source_failure = events.iter().find_map(|e| match e {
        CaptureEvent::VideoFailed(e) | CaptureEvent::AudioFailed(e) => Some(e),
        _ => None,
    });
    match result {
        Ok(s) => {
            if json {
                let v = serde_json::json!({
                    "output": s.output,
                    "video_frames": s.video_frames,
                    "video_seconds": s.video_seconds,
                    "audio_seconds": s.audio_seconds,
                    "dropped_frames": s.dropped_frames,
                    "undecodable_frames": s.undecodable_frames,
                    "bytes": s.bytes,
                    "fragments": s.fragments,
                    "finalized": s.finalized,
                    "complete": source_failure.is_none(),
                    "cpu_seconds": crate::procinfo::cpu_seconds(),
                    "peak_rss_kib": crate::procinfo::peak_rss_kib(),
                });
                println!("{v}");
            } else {
                let undecodable = match s.undecodable_frames {
                    0 => String::new(),
                    n => format!(", {n} undecodable skipped"),
                };
                println!(
                    "recorded {:.2} s ({} frames, {} dropped{undecodable}) to {} ({:.1} MB)",
                    s.video_seconds,
                    s.video_frames,
                    s.dropped_frames,
                    s.output.display(),
                    s.bytes as f64 / 1e6
                );
            }
            if !s.finalized {
                console(&format!(
                    "booth: the disk had no room to rewrite {} with its index first, so it is kept as recorded (a fragmented MP4, which plays); `booth recover {}` rewrites it once there is room",
                    s.output.display(),
                    s.output.display()
                ));
            }
            match source_failure {
                Some(e) => {
                    report_error(e);
                    console("booth: the recording was cut short; what was captured is kept");
                    Exit::Failed
                }
                None => Exit::Ok,
            }
        }
        Err(e) => {
            if let Some(src) = source_failure {
                report_error(src);
            }
            report_error(&e);
            match (&e, source_failure) {
                (RecordError::NoPicture, Some(src)) => capture_exit(src),
                _ => Exit::Failed,
            }
        }
    }
}
