//! `booth record`: one recording from the command line, stopped by `--duration`, by the
//! sources ending, or by SIGINT / SIGTERM / SIGHUP (which finish the file cleanly).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use super::{Exit, report_error};
use crate::logging::console;
use crate::media::capture::{CaptureSession, NotReady};
use crate::media::open::{open_audio, open_video};
use crate::media::recorder::{RecordError, RecordSettings};
use crate::media::recording::{self, RecordingControl, RecordingOutcome, RecordingSpec};
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
    // Registered first, so that a signal while the sources warm up stops the recording as
    // soon as it starts instead of killing the process.
    let signals = match Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch signals");
            None
        }
    };
    let (session, epoch) = match open_session(args) {
        Ok(opened) => opened,
        Err(exit) => return exit,
    };
    let (vdesc, adesc) = session.describe();

    // Files read as fast as possible share the epoch as time zero; live sources first warm
    // up, and the answer starts once both deliver.
    let origin = if session.is_live() {
        if let Err(why) = session.wait_ready(Duration::from_secs(10)) {
            return fail_to_start(&why);
        }
        Instant::now()
    } else {
        epoch
    };
    let end = args.duration.map(|d| origin + Duration::from_secs_f64(d));
    let mut settings = RecordSettings::new(&args.output);
    settings.video_bitrate = args.video_kbps.map(|k| k * 1000);
    settings.audio_bitrate = args.audio_kbps * 1000;
    let handle = match recording::start(
        &session,
        RecordingSpec {
            settings,
            origin,
            end,
        },
    ) {
        Ok(h) => h,
        Err(e) => {
            report_error(&e);
            return Exit::Failed;
        }
    };
    console(&format!(
        "booth: recording {} from {vdesc} and {adesc}",
        args.output.display()
    ));
    let watcher = signals.map(|s| stop_on_signals(s, handle.control()));
    let outcome = handle.wait();
    if let Some((signals, thread)) = watcher {
        signals.close();
        let _ = thread.join();
    }
    session.stop();
    finish(outcome, args.json)
}

/// Stops the recording on SIGINT / SIGTERM / SIGHUP (the file is finished cleanly); the thread
/// ends when the returned handle is closed.
fn stop_on_signals(
    mut signals: Signals,
    control: RecordingControl,
) -> (signal_hook::iterator::Handle, std::thread::JoinHandle<()>) {
    let handle = signals.handle();
    let thread = std::thread::spawn(move || {
        for signal in signals.forever() {
            tracing::info!(signal, "stopping the recording");
            control.stop();
        }
    });
    (handle, thread)
}

/// Opens both sources and starts capturing, with the epoch its file and synthetic sources
/// count from; says so when the camera gives another format than asked for.
fn open_session(args: &RecordArgs) -> Result<(CaptureSession, Instant), Exit> {
    let request = VideoRequest {
        width: args.size.0,
        height: args.size.1,
        fps: args.fps,
    };
    let epoch = Instant::now();
    let failed = |e: CaptureError| {
        report_error(&e);
        capture_exit(&e)
    };
    let video = open_video(&args.video, request, args.pace, epoch).map_err(failed)?;
    let format = video.format();
    if (format.width, format.height) != (request.width, request.height)
        || (format.fps - request.fps as f64).abs() > 0.01
    {
        console(&format!(
            "booth: {} gives {format}, not the {}x{}@{} asked for; recording {format}",
            args.video, request.width, request.height, request.fps
        ));
    }
    let audio = open_audio(&args.audio, args.pace, epoch).map_err(failed)?;
    Ok((CaptureSession::start(video, audio), epoch))
}

fn fail_to_start(why: &NotReady) -> Exit {
    match why {
        NotReady::Failed(e) => {
            report_error(&**e);
            capture_exit(e)
        }
        NotReady::Ended | NotReady::TimedOut => {
            console("booth: the camera or microphone delivered nothing within 10 s");
            Exit::Device
        }
    }
}

fn finish(outcome: RecordingOutcome, json: bool) -> Exit {
    let source_failure = outcome.source_failure.as_deref();
    match outcome.summary {
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
