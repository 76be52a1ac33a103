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

use super::msg::{ClipChecks, Effect, ManifestInfo, Msg, Purpose, Submission};
use super::state::DeviceProblem;
use crate::media::analyze::{AudioCheck, PictureCheck};
use crate::media::capture::{CaptureEvent, CaptureSession};
use crate::media::player::{Player, PlayerEvent};
use crate::media::recorder::{RecordError, RecordSettings, Recording};
use crate::media::source::{Pace, open_audio, open_video};
use crate::upload::{
    AnswerMeta, ItemId, ManifestAnswer, ManifestRequest, State as UploadState, UploadEvent,
    UploadHandle,
};

use super::upload_view::{AnswerMap, forward_uploads, queue_lines};

pub use super::settings::{DeviceSettings, DoctorInput};

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
    uploads: UploadHandle,
    answers: AnswerMap,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Executor {
    /// Needs a tokio runtime: it starts the task that turns upload events into messages.
    pub fn new(
        settings: DeviceSettings,
        tx: mpsc::UnboundedSender<Msg>,
        uploads: (UploadHandle, mpsc::UnboundedReceiver<UploadEvent>),
    ) -> Self {
        let (handle, events) = uploads;
        let answers = AnswerMap::default();
        tokio::spawn(forward_uploads(events, tx.clone(), answers.clone()));
        Executor {
            uploads: handle,
            answers,
            settings,
            tx,
            session: None,
            forwarder: None,
            recording: None,
            analysis: Arc::new(Mutex::new(ClipAnalysis::default())),
            player: None,
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
            Effect::Submit(submission) => self.submit(submission).await,
            Effect::SendManifest(info) => self.send_manifest(info).await,
            Effect::CheckPin { pin } => {
                let hash = self.settings.pin_hash.clone();
                let tx = self.tx.clone();
                tokio::task::spawn_blocking(move || {
                    let ok = hash.is_some_and(|h| crate::pin::verify_pin(pin.expose(), &h));
                    let _ = tx.send(Msg::PinChecked { ok });
                });
            }
            Effect::ShowUploadQueue => self.send(Msg::OperatorPage {
                title: "operator.upload_queue",
                lines: queue_lines(&self.uploads),
            }),
            Effect::RunDiagnostics => {
                let lines = self.diagnostics();
                self.send(Msg::OperatorPage {
                    title: "operator.diagnostics",
                    lines: lines.iter().cloned().chain(["…".to_string()]).collect(),
                });
                // The station checks wait on the network: the page fills in when they finish.
                if let Some(doctor) = self.settings.doctor.clone() {
                    let tx = self.tx.clone();
                    tokio::task::spawn_blocking(move || {
                        let report =
                            crate::doctor::run_in_kiosk(&doctor.config, doctor.file.as_deref());
                        let _ = tx.send(Msg::OperatorPageUpdated {
                            title: "operator.diagnostics",
                            lines: lines.into_iter().chain(report.lines()).collect(),
                        });
                    });
                }
            }
            Effect::CallStaff { session, phase } => {
                if let Some(url) = &self.settings.staff_webhook {
                    let unix = crate::clock::unix_now();
                    let call = super::notify::StaffCall {
                        station_id: self.settings.station_id.clone(),
                        session_id: session,
                        time: crate::clock::rfc3339(unix),
                        unix,
                        phase: phase.to_string(),
                    };
                    super::notify::spawn_staff_call(url.clone(), call);
                }
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

    /// Follows answers queued before a restart: their upload events name the right question,
    /// one delivered while booth was down shows as delivered, and one submitted just before a
    /// crash (moved, maybe not yet queued) is queued again — idempotently.
    pub async fn resume_uploads(&mut self, state: &super::state::State) {
        for (q, p) in state.progress.questions.iter().enumerate() {
            match p
                .answer_id
                .as_deref()
                .and_then(|a| uuid::Uuid::parse_str(a).ok())
            {
                Some(id) => {
                    lock(&self.answers).insert(id, q);
                    if self
                        .uploads
                        .get(ItemId(id))
                        .is_some_and(|v| v.state == UploadState::Delivered)
                    {
                        self.send(Msg::Delivery {
                            question: q,
                            delivery: crate::session::Delivery::Uploaded,
                        });
                    }
                }
                None => {
                    let Some((take, _)) = p
                        .takes
                        .iter()
                        .enumerate()
                        .find(|(_, t)| t.state == crate::session::TakeState::Submitted)
                    else {
                        continue;
                    };
                    self.submit(state.submission(q, take)).await;
                }
            }
        }
    }

    /// Moves the take into the outbox (which a privacy wipe never touches) and queues it. The
    /// answer id comes from the file's content, so doing this again after a crash finds the
    /// same outbox item instead of making a second answer.
    async fn submit(&mut self, s: Submission) {
        let answers_dir = self.settings.outbox.join("answers");
        let target = answers_dir.join(format!(
            "{}--{}--{}.mp4",
            s.session_id, s.question_id, s.attempt
        ));
        let (from, to) = (s.file.clone(), target.clone());
        let moved = tokio::task::spawn_blocking(move || -> Result<(u64, String), String> {
            crate::fsutil::create_private_dir(&answers_dir).map_err(|e| e.to_string())?;
            if from.exists() {
                std::fs::rename(&from, &to).map_err(|e| {
                    format!("cannot move {} to {}: {e}", from.display(), to.display())
                })?;
                crate::fsutil::sync_dir(&answers_dir).map_err(|e| e.to_string())?;
            }
            crate::upload::hash_file(&to).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
        let answer_id = match moved {
            Ok((_, sha256)) => crate::upload::answer_id_for(&sha256),
            Err(e) => {
                tracing::error!(path = %s.file.display(), error = %e, "cannot queue answer");
                self.send(Msg::UploadRefused {
                    question: s.question,
                    reason: e,
                });
                return;
            }
        };
        lock(&self.answers).insert(answer_id, s.question);
        let meta = AnswerMeta {
            interview_id: s.interview_id.clone(),
            candidate_id: s.session_id.clone(),
            question_id: s.question_id.clone(),
            attempt: s.attempt,
            answer_id,
            filename: format!("{}--{}--{}.mp4", s.session_id, s.question_id, s.attempt),
        };
        match self.uploads.enqueue(&target, meta).await {
            Ok(id) => {
                tracing::info!(question = s.question, answer = %id, "answer queued");
                self.send(Msg::Queued {
                    question: s.question,
                    answer_id: id.0.to_string(),
                });
            }
            Err(e) => {
                // The take stays in the outbox directory; the operator sees why.
                tracing::error!(path = %target.display(), error = %e, "cannot queue answer");
                self.send(Msg::UploadRefused {
                    question: s.question,
                    reason: e.to_string(),
                });
            }
        }
    }

    async fn send_manifest(&mut self, info: ManifestInfo) {
        let known = lock(&self.answers).clone();
        let answers = info
            .answers
            .iter()
            .filter_map(|(q, question_id, attempt, seconds, id)| {
                let answer_id = id
                    .as_deref()
                    .and_then(|a| uuid::Uuid::parse_str(a).ok())
                    .or_else(|| known.iter().find(|(_, v)| **v == *q).map(|(k, _)| *k))?;
                Some(ManifestAnswer {
                    answer_id,
                    question_id: question_id.clone(),
                    attempt: *attempt,
                    duration_seconds: *seconds,
                })
            })
            .collect();
        let session = crate::session::Progress::new(&info.session_id, "", 0, 0).session_uuid();
        let request = ManifestRequest {
            station_id: self.settings.station_id.clone(),
            interview_id: info.interview_id.clone(),
            candidate_id: info.session_id.clone(),
            session_id: session,
            started_at_ms: info.started_unix * 1000,
            finished_at_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            answers,
        };
        if !info.grants.is_empty() {
            tracing::info!(grants = ?info.grants, "staff grants this session");
        }
        match self.uploads.enqueue_manifest(request).await {
            Ok(id) => tracing::info!(manifest = %id, "session manifest queued"),
            Err(e) => tracing::error!(error = %e, "cannot queue the session manifest"),
        }
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
        lines.extend(queue_lines(&self.uploads));
        lines
    }

    /// Stops the upload service (it resumes from the server's offset on the next start).
    pub async fn shutdown_uploads(self) {
        self.uploads.shutdown().await;
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
