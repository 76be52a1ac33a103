//! The executor's media jobs: opening the camera and microphone, forwarding their preview and
//! level to the screen, starting and stopping recordings (in pipeline order, off the UI task)
//! and playing takes and question videos. Every report names the purpose (and so the session
//! and take) it belongs to.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{Executor, lock};
use crate::app::msg::{ClipChecks, Msg, Purpose, RecordingProblem};
use crate::app::state::DeviceProblem;
use crate::media::analyze::{AudioCheck, PictureCheck};
use crate::media::capture::{CaptureEvent, CaptureSession};
use crate::media::extend::Extension;
use crate::media::open::{open_audio, open_video};
use crate::media::player::{Player, PlayerEvent};
use crate::media::recorder::{RecordError, RecordSettings, Recording};
use crate::media::source::CaptureError;

/// Preview pictures sent to the screen at most this often.
const PREVIEW_INTERVAL: Duration = Duration::from_millis(66);

/// Checks accumulated while the device-test clip records.
#[derive(Default)]
pub(super) struct ClipAnalysis {
    active: bool,
    picture: PictureCheck,
    sound: AudioCheck,
}

/// A recording running on its own thread: the flag that stops it, the thread, and how to
/// lengthen it.
pub(super) struct RunningRecording {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
    extension: Extension,
    origin: Instant,
}

impl Executor {
    pub(super) async fn open_devices(&mut self) {
        self.close_devices();
        let settings = self.settings.clone();
        let opened = tokio::task::spawn_blocking(move || {
            let epoch = Instant::now();
            let video = open_video(&settings.video, settings.request, settings.pace, epoch)?;
            let audio = open_audio(&settings.audio, settings.pace, epoch)?;
            Ok::<_, CaptureError>(CaptureSession::start(video, audio))
        })
        .await;
        match opened {
            Ok(Ok(session)) => {
                let (camera, microphone) = session.describe();
                tracing::info!(%camera, %microphone, "devices open");
                let session = Arc::new(session);
                self.forward(&session);
                self.session = Some(session);
                self.send(Msg::DevicesReady { camera, microphone });
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot open devices");
                self.send(Msg::DevicesFailed {
                    problem: DeviceProblem::from(&e),
                });
            }
            Err(e) => {
                tracing::error!(error = %e, "device thread failed");
                self.send(Msg::DevicesFailed {
                    problem: DeviceProblem::Devices,
                });
            }
        }
    }

    /// Forwards the newest picture and every level to the screen, feeding the clip checks
    /// while the device-test clip records, and reports devices that stop working.
    fn forward(&mut self, session: &Arc<CaptureSession>) {
        let token = CancellationToken::new();
        self.forwarder = Some(token.clone());
        let mut preview = session.preview();
        let mut level = session.level();
        let events = session.events().clone();
        let tx = self.tx.clone();
        let analysis = self.analysis.clone();
        tokio::spawn(async move {
            let mut last_preview = Instant::now() - PREVIEW_INTERVAL;
            let mut poll = tokio::time::interval(Duration::from_millis(100));
            loop {
                tokio::select! {
                    _ = token.cancelled() => break,
                    changed = preview.changed() => {
                        if changed.is_err() { break; }
                        let frame = preview.borrow_and_update().clone();
                        if let Some(f) = frame {
                            let mut a = lock(&analysis);
                            if a.active { a.picture.push(&f); }
                            drop(a);
                            if last_preview.elapsed() >= PREVIEW_INTERVAL {
                                last_preview = Instant::now();
                                let _ = tx.send(Msg::Preview(f));
                            }
                        }
                    }
                    changed = level.changed() => {
                        if changed.is_err() { break; }
                        let l = *level.borrow_and_update();
                        if let Some(l) = l {
                            let mut a = lock(&analysis);
                            if a.active { a.sound.add(l); }
                            drop(a);
                            let _ = tx.send(Msg::Level(l));
                        }
                    }
                    _ = poll.tick() => {
                        for e in events.try_iter() {
                            if let CaptureEvent::VideoFailed(err) | CaptureEvent::AudioFailed(err) = e {
                                tracing::error!(error = %err, "device stopped");
                                let _ = tx.send(Msg::DevicesFailed {
                                    problem: DeviceProblem::from(&err),
                                });
                            }
                        }
                    }
                }
            }
        });
    }

    pub(super) fn close_devices(&mut self) {
        if let Some(t) = self.forwarder.take() {
            t.cancel();
        }
        self.session = None;
    }

    pub(super) fn start_recording(&mut self, purpose: Purpose, file: PathBuf, limit: Duration) {
        let fail = |problem: RecordingProblem, detail: String| Msg::RecordingFailed {
            purpose: purpose.clone(),
            problem,
            detail,
            kept_seconds: None,
        };
        let Some(session) = self.session.clone() else {
            self.send(fail(
                RecordingProblem::Device(DeviceProblem::Devices),
                "the camera is not open".into(),
            ));
            return;
        };
        // The last recording's thread sends its outcome as its very last act, so the flow can
        // ask for the next one a moment before that thread has ended: wait for it (stopping
        // it first, should the flow ever ask while one still runs).
        if let Some(last) = self.recording.take() {
            if !last.thread.is_finished() {
                tracing::warn!("the last recording's thread is still ending; waiting for it");
            }
            last.stop.store(true, Ordering::Relaxed);
            let _ = last.thread.join();
        }
        let mut settings = RecordSettings::new(&file);
        settings.video_bitrate = Some(self.settings.video_kbps * 1000);
        settings.audio_bitrate = self.settings.audio_kbps * 1000;
        let origin = Instant::now();
        let recording = match Recording::start(&session, origin, Some(origin + limit), &settings) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, path = %file.display(), "cannot start recording");
                self.send(fail(problem_of(&e, None), e.to_string()));
                return;
            }
        };
        tracing::info!(path = %file.display(), ?purpose, "recording");
        *lock(&self.analysis) = ClipAnalysis {
            active: matches!(purpose, Purpose::TestClip { .. }),
            ..Default::default()
        };
        self.send(Msg::RecordingStarted {
            purpose: purpose.clone(),
        });
        let extension = recording.extension();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let tx = self.tx.clone();
        let analysis = self.analysis.clone();
        let waiter = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) && !recording.is_finished() {
                std::thread::sleep(Duration::from_millis(20));
            }
            let result = if flag.load(Ordering::Relaxed) {
                recording.stop(&session)
            } else {
                recording.wait(&session)
            };
            let checks = finish_checks(&analysis);
            let _ = tx.send(outcome(purpose, result, checks, &session));
        });
        self.recording = Some(RunningRecording {
            stop,
            thread: waiter,
            extension,
            origin,
        });
    }

    pub(super) fn stop_recording(&self) {
        if let Some(r) = &self.recording {
            r.stop.store(true, Ordering::Relaxed);
        }
    }

    /// Staff granted more time: the recording running now ends `limit` after it started.
    pub(super) fn extend_recording(&self, limit: Duration) {
        match (&self.recording, &self.session) {
            (Some(r), Some(session)) if !r.thread.is_finished() => {
                tracing::info!(
                    seconds = limit.as_secs(),
                    "the answer's recording was lengthened"
                );
                r.extension.extend_to(session, r.origin + limit);
            }
            _ => tracing::warn!("no recording to lengthen"),
        }
    }

    pub(super) fn play(&mut self, file: PathBuf) {
        self.player = None;
        let tx = self.tx.clone();
        self.player = Some(Player::start(file, self.settings.sound_output, move |e| {
            let msg = match e {
                PlayerEvent::Frame(f) => Msg::PlaybackFrame(f),
                PlayerEvent::Position { position, length } => {
                    Msg::PlaybackPosition { position, length }
                }
                PlayerEvent::Level(l) => Msg::PlaybackLevel(l),
                PlayerEvent::NoSpeaker => Msg::PlaybackSilent,
                PlayerEvent::Ended | PlayerEvent::Failed(_) => Msg::PlaybackEnded,
            };
            let _ = tx.send(msg);
        }));
    }

    /// Stops media in order: playback, the recording (finalized), the devices.
    pub(super) fn stop_media(&mut self) {
        self.player = None;
        if let Some(r) = self.recording.take() {
            r.stop.store(true, Ordering::Relaxed);
            let _ = r.thread.join();
        }
        self.close_devices();
    }
}

fn finish_checks(analysis: &Mutex<ClipAnalysis>) -> ClipChecks {
    let mut a = lock(analysis);
    a.active = false;
    ClipChecks {
        picture: a.picture.verdict(),
        sound: a.sound.verdict(),
    }
}

/// What kind of problem a recording error is, for the candidate's screen.
fn problem_of(e: &RecordError, device: Option<&CaptureError>) -> RecordingProblem {
    if let Some(err) = device {
        return RecordingProblem::Device(DeviceProblem::from(err));
    }
    match e {
        RecordError::Stopped { cause, .. } => problem_of(cause, None),
        RecordError::NoPicture => RecordingProblem::Device(DeviceProblem::Camera),
        RecordError::NoSpace { .. } => RecordingProblem::NoSpace,
        RecordError::Mux(crate::media::mux::MuxError::Fs(fs))
            if fs.source.raw_os_error() == Some(rustix::io::Errno::NOSPC.raw_os_error()) =>
        {
            RecordingProblem::NoSpace
        }
        _ => RecordingProblem::Station,
    }
}

/// Turns a finished recording into the message for the flow.
fn outcome(
    purpose: Purpose,
    result: Result<crate::media::recorder::Summary, RecordError>,
    checks: ClipChecks,
    session: &CaptureSession,
) -> Msg {
    let device_failure = session.events().try_iter().find_map(|e| match e {
        CaptureEvent::VideoFailed(err) | CaptureEvent::AudioFailed(err) => Some(err),
        _ => None,
    });
    let is_test = matches!(purpose, Purpose::TestClip { .. });
    match (result, device_failure) {
        (Ok(summary), None) => Msg::RecordingSaved {
            purpose,
            seconds: summary.video_seconds,
            checks: is_test.then_some(checks),
        },
        (Ok(summary), Some(err)) => {
            tracing::error!(error = %err, "recording cut short by a device");
            Msg::RecordingFailed {
                purpose,
                problem: RecordingProblem::Device(DeviceProblem::from(&err)),
                detail: err.to_string(),
                kept_seconds: Some(summary.video_seconds),
            }
        }
        (Err(e), device) => {
            tracing::error!(error = %e, device = ?device.as_ref().map(ToString::to_string), "recording failed");
            let kept_seconds = match &e {
                RecordError::Stopped { kept: Some(p), .. } => kept_length(p),
                _ => None,
            };
            Msg::RecordingFailed {
                purpose,
                problem: problem_of(&e, device.as_ref()),
                detail: device.map_or_else(|| e.to_string(), |d| d.to_string()),
                kept_seconds,
            }
        }
    }
}

/// Seconds of video in a kept file (finalizing a partial one first).
fn kept_length(path: &Path) -> Option<f64> {
    use crate::media::mux::recover;
    if path
        .to_string_lossy()
        .ends_with(crate::media::mux::PARTIAL_SUFFIX)
    {
        let reports = recover::recover(path).ok()?;
        let report = reports.first()?;
        match &report.outcome {
            recover::Outcome::Recovered { finished, .. } => Some(finished.video_seconds),
            recover::Outcome::AlreadyFinished => kept_length(&report.output),
            _ => None,
        }
    } else {
        let tracks = crate::media::mp4read::read_tracks(path).ok()?;
        tracks.iter().map(|t| t.length_seconds()).reduce(f64::max)
    }
}
