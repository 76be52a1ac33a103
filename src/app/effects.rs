//! Carrying out the flow's effects: opening the camera and microphone, starting and stopping
//! recordings (in pipeline order, off the UI thread), playing takes and question videos,
//! deleting files and handing submitted answers to delivery. Reports come back as `Msg`s.
//!
//! The executor is a task that takes effects in order from a channel, so a slow camera open
//! or a recording being finalized never stalls the screen.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::msg::{ClipChecks, Effect, Msg, Purpose};
use super::state::DeviceProblem;
use crate::media::analyze::{AudioCheck, PictureCheck};
use crate::media::capture::{CaptureEvent, CaptureSession};
use crate::media::player::{Player, PlayerEvent};
use crate::media::recorder::{RecordError, RecordSettings, Recording};
use crate::media::source::{AudioSpec, Pace, VideoRequest, VideoSpec, open_audio, open_video};

/// Where submitted answers go; the upload service implements it for real stations.
pub trait Delivery: Send {
    /// Queues `file` (an answer of question `question`) for the hiring platform.
    fn submit(&mut self, question: usize, file: &Path) -> Result<(), String>;
}

/// What the executor needs to know about the station.
#[derive(Debug, Clone)]
pub struct DeviceSettings {
    pub video: VideoSpec,
    pub audio: AudioSpec,
    pub request: VideoRequest,
    pub video_kbps: u32,
    pub audio_kbps: u32,
    /// Play sound through the default output device during playback.
    pub sound_output: bool,
    /// The operator PIN's argon2id hash, when one is set.
    pub pin_hash: Option<String>,
    /// Ring the terminal bell when the candidate calls staff.
    pub staff_bell: bool,
    /// Where submitted answers wait (for the operator's queue page).
    pub outbox: PathBuf,
}

/// Preview pictures sent to the screen at most this often.
const PREVIEW_INTERVAL: Duration = Duration::from_millis(66);

/// Checks accumulated while the device-test clip records.
#[derive(Default)]
struct ClipAnalysis {
    active: bool,
    picture: PictureCheck,
    sound: AudioCheck,
}

pub struct Executor {
    settings: DeviceSettings,
    tx: mpsc::UnboundedSender<Msg>,
    session: Option<Arc<CaptureSession>>,
    forwarder: Option<CancellationToken>,
    recording: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
    analysis: Arc<Mutex<ClipAnalysis>>,
    player: Option<Player>,
    delivery: Box<dyn Delivery>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Executor {
    pub fn new(
        settings: DeviceSettings,
        tx: mpsc::UnboundedSender<Msg>,
        delivery: Box<dyn Delivery>,
    ) -> Self {
        Executor {
            settings,
            tx,
            session: None,
            forwarder: None,
            recording: None,
            analysis: Arc::new(Mutex::new(ClipAnalysis::default())),
            player: None,
            delivery,
        }
    }

    fn send(&self, msg: Msg) {
        let _ = self.tx.send(msg);
    }

    /// Carries out one effect. Slow work (opening devices, finalizing a recording) runs on
    /// blocking threads; this returns quickly.
    pub async fn execute(&mut self, effect: Effect) {
        match effect {
            Effect::OpenDevices => self.open_devices().await,
            Effect::StartRecording {
                purpose,
                file,
                limit,
            } => self.start_recording(purpose, file, limit),
            Effect::StopRecording => {
                if let Some((stop, _)) = &self.recording {
                    stop.store(true, Ordering::Relaxed);
                }
            }
            Effect::Play { file } => self.play(file),
            Effect::StopPlayback => self.player = None,
            Effect::DeleteFile(path) => match std::fs::remove_file(&path) {
                Ok(()) => tracing::info!(path = %path.display(), "deleted"),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot delete"),
            },
            Effect::Submit { question, file, .. } => match self.delivery.submit(question, &file) {
                Ok(()) => self.send(Msg::Delivery {
                    question,
                    delivery: crate::session::Delivery::Queued,
                }),
                Err(e) => {
                    tracing::error!(path = %file.display(), error = %e, "cannot queue answer")
                }
            },
            Effect::CheckPin { pin } => {
                let hash = self.settings.pin_hash.clone();
                let tx = self.tx.clone();
                tokio::task::spawn_blocking(move || {
                    let ok = hash.is_some_and(|h| crate::pin::verify_pin(&pin, &h));
                    let _ = tx.send(Msg::PinChecked { ok });
                });
            }
            Effect::ShowUploadQueue => self.send(Msg::OperatorPage {
                title: "operator.upload_queue",
                lines: queue_lines(&self.settings.outbox),
            }),
            Effect::RunDiagnostics => {
                let lines = self.diagnostics();
                self.send(Msg::OperatorPage {
                    title: "operator.diagnostics",
                    lines,
                });
            }
            Effect::CallStaff => {
                if self.settings.staff_bell {
                    use std::io::Write;
                    // BEL moves nothing on screen, so it is safe while the TUI draws.
                    let mut out = std::io::stdout();
                    let _ = out.write_all(b"\x07").and_then(|_| out.flush());
                }
            }
            // Handled by the run loop, which owns the state and the session.
            Effect::SaveProgress | Effect::Quit | Effect::EndSession { .. } => {}
        }
    }

    async fn open_devices(&mut self) {
        self.close_devices();
        let settings = self.settings.clone();
        let opened = tokio::task::spawn_blocking(move || {
            let epoch = Instant::now();
            let video = open_video(&settings.video, settings.request, Pace::Realtime, epoch)?;
            let audio = open_audio(&settings.audio, Pace::Realtime, epoch)?;
            Ok::<_, crate::media::source::CaptureError>(CaptureSession::start(video, audio))
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
                    problem: DeviceProblem::from_detail(&e.to_string()),
                });
            }
            Err(e) => tracing::error!(error = %e, "device thread failed"),
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
                                    problem: DeviceProblem::from_detail(&err.to_string()),
                                });
                            }
                        }
                    }
                }
            }
        });
    }

    fn close_devices(&mut self) {
        if let Some(t) = self.forwarder.take() {
            t.cancel();
        }
        self.session = None;
    }

    fn start_recording(&mut self, purpose: Purpose, file: PathBuf, limit: Duration) {
        let fail = |message: &str| Msg::RecordingFailed {
            purpose,
            message: message.to_string(),
            kept_seconds: None,
        };
        let Some(session) = self.session.clone() else {
            self.send(fail("the camera is not ready"));
            return;
        };
        if let Some((_, t)) = &self.recording {
            if !t.is_finished() {
                tracing::error!("a recording is already running");
                return;
            }
            self.recording_done();
        }
        let mut settings = RecordSettings::new(&file);
        settings.video_bitrate = Some(self.settings.video_kbps * 1000);
        settings.audio_bitrate = self.settings.audio_kbps * 1000;
        let origin = Instant::now();
        let recording = match Recording::start(&session, origin, Some(origin + limit), &settings) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, path = %file.display(), "cannot start recording");
                self.send(fail(&e.to_string()));
                return;
            }
        };
        tracing::info!(path = %file.display(), ?purpose, "recording");
        {
            let mut a = lock(&self.analysis);
            *a = ClipAnalysis {
                active: purpose == Purpose::TestClip,
                ..Default::default()
            };
        }
        self.send(Msg::RecordingStarted {
            purpose,
            at: origin,
        });
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
            let checks = {
                let mut a = lock(&analysis);
                a.active = false;
                ClipChecks {
                    picture: a.picture.verdict(),
                    sound: a.sound.verdict(),
                }
            };
            let _ = tx.send(outcome(purpose, result, checks, &session));
        });
        self.recording = Some((stop, waiter));
    }

    /// Called by the run loop when a recording outcome arrived, so the next may start.
    pub fn recording_done(&mut self) {
        if let Some((_, t)) = self.recording.take() {
            let _ = t.join();
        }
    }

    fn play(&mut self, file: PathBuf) {
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

    /// Plain lines about the station for the operator: devices, disk, outbox.
    fn diagnostics(&self) -> Vec<String> {
        let mut lines = vec![format!("booth {}", env!("CARGO_PKG_VERSION"))];
        match &self.session {
            Some(s) => {
                let (camera, mic) = s.describe();
                let c = s.counters();
                lines.push(format!("camera: {camera}"));
                lines.push(format!("microphone: {mic}"));
                lines.push(format!(
                    "frames captured {}, dropped {}",
                    c.frames_captured.load(Ordering::Relaxed),
                    c.frames_dropped.load(Ordering::Relaxed)
                ));
            }
            None => lines.push("camera and microphone: not open".into()),
        }
        lines.extend(queue_lines(&self.settings.outbox));
        lines
    }

    /// Stops everything in order: playback, the recording (finalized), the devices.
    pub fn shutdown(&mut self) {
        self.player = None;
        if let Some((stop, t)) = self.recording.take() {
            stop.store(true, Ordering::Relaxed);
            let _ = t.join();
        }
        self.close_devices();
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
        CaptureEvent::VideoFailed(err) | CaptureEvent::AudioFailed(err) => Some(err.to_string()),
        _ => None,
    });
    match (result, device_failure) {
        (Ok(summary), None) => Msg::RecordingSaved {
            purpose,
            seconds: summary.video_seconds,
            checks: (purpose == Purpose::TestClip).then_some(checks),
        },
        (Ok(summary), Some(detail)) => {
            tracing::error!(%detail, "recording cut short by a device");
            Msg::RecordingFailed {
                purpose,
                message: detail,
                kept_seconds: Some(summary.video_seconds),
            }
        }
        (Err(e), detail) => {
            tracing::error!(error = %e, ?detail, "recording failed");
            let kept_seconds = match &e {
                RecordError::Stopped { kept: Some(p), .. } => kept_length(p),
                _ => None,
            };
            Msg::RecordingFailed {
                purpose,
                message: detail.unwrap_or_else(|| e.to_string()),
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
        match &reports.first()?.outcome {
            recover::Outcome::Recovered { finished, .. } => Some(finished.video_seconds),
            _ => None,
        }
    } else {
        let tracks = crate::media::mp4read::read_tracks(path).ok()?;
        tracks.iter().map(|t| t.length_seconds()).reduce(f64::max)
    }
}

/// Delivery into a directory: the outbox until the upload service takes over.
pub struct DirectoryDelivery {
    pub dir: PathBuf,
    pub prefix: String,
}

impl Delivery for DirectoryDelivery {
    fn submit(&mut self, question: usize, file: &Path) -> Result<(), String> {
        crate::fsutil::create_private_dir(&self.dir).map_err(|e| e.to_string())?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("answer-{question}.mp4"));
        let target = self.dir.join(format!("{}-{name}", self.prefix));
        std::fs::rename(file, &target).map_err(|e| {
            format!(
                "cannot move {} to {}: {e}",
                file.display(),
                target.display()
            )
        })?;
        crate::fsutil::sync_dir(&self.dir).map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// The outbox as the operator sees it: one line per waiting file.
fn queue_lines(outbox: &Path) -> Vec<String> {
    let mut files: Vec<(String, u64)> = std::fs::read_dir(outbox)
        .map(|d| {
            d.flatten()
                .filter_map(|e| {
                    let size = e.metadata().ok()?.len();
                    Some((e.file_name().to_string_lossy().into_owned(), size))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut lines = vec![format!(
        "outbox {}: {} file(s)",
        outbox.display(),
        files.len()
    )];
    lines.extend(
        files
            .into_iter()
            .map(|(name, size)| format!("  {name}  {:.1} MB", size as f64 / 1e6)),
    );
    lines
}
