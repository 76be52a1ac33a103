//! The executor's media handles, one job each, all on `media`'s shared recording API:
//! [`Devices`] opens the camera and microphone (again: the same ones, found by the stable ids
//! they had when last open) and forwards their pictures, levels and failures to the screen,
//! each report naming the opening it belongs to; [`Recorder`] runs one recording at a time and reports its outcome;
//! [`Playback`] plays a take or a question video. Every report names the purpose (and so the
//! session and take) it belongs to. Nothing here polls: each waits on a channel.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{DeviceSettings, lock};
use crate::app::msg::{ClipChecks, Msg, Purpose, RecordingProblem};
use crate::app::state::DeviceProblem;
use crate::media::analyze::{AudioCheck, PictureCheck};
use crate::media::capture::CaptureSession;
use crate::media::open::{reopen_audio, reopen_video};
use crate::media::player::{Player, PlayerEvent};
use crate::media::recorder::{RecordError, RecordSettings};
use crate::media::recording::{self, RecordingControl, RecordingOutcome, RecordingSpec};
use crate::media::source::{CaptureError, KnownDevices};

/// Preview pictures sent to the screen at most this often.
const PREVIEW_INTERVAL: Duration = Duration::from_millis(66);

type Reports = mpsc::UnboundedSender<Msg>;

/// Checks accumulated while the device-test clip records: the devices' forwarder feeds them,
/// the recorder turns them on and reads the verdict.
#[derive(Default)]
pub(super) struct ClipAnalysis {
    active: bool,
    picture: PictureCheck,
    sound: AudioCheck,
}

/// The camera and microphone while they are open, and the task forwarding what they deliver.
pub(super) struct Devices {
    session: Option<Arc<CaptureSession>>,
    forwarder: Option<CancellationToken>,
    /// The devices as they were found when last open: opened again, it is these.
    known: KnownDevices,
    analysis: Arc<Mutex<ClipAnalysis>>,
    tx: Reports,
}

impl Devices {
    pub(super) fn new(tx: Reports, analysis: Arc<Mutex<ClipAnalysis>>) -> Self {
        Devices {
            session: None,
            forwarder: None,
            known: KnownDevices::default(),
            analysis,
            tx,
        }
    }

    pub(super) fn session(&self) -> Option<&Arc<CaptureSession>> {
        self.session.as_ref()
    }

    /// (Re)opens both devices off the async threads and reports how that went, naming
    /// `opening`.
    pub(super) async fn open(&mut self, opening: u64, settings: &DeviceSettings) {
        self.close();
        let settings = settings.clone();
        let known = self.known.clone();
        let opened = tokio::task::spawn_blocking(move || {
            let epoch = Instant::now();
            let (request, pace) = (settings.request, settings.pace);
            let video = reopen_video(&settings.video, known.camera.as_ref(), request, pace, epoch)?;
            let audio = reopen_audio(&settings.audio, known.microphone.as_deref(), pace, epoch)?;
            Ok::<_, CaptureError>(CaptureSession::start(video, audio))
        })
        .await;
        let msg = match opened {
            Ok(Ok(session)) => {
                let (camera, microphone) = session.describe();
                tracing::info!(%camera, %microphone, opening, "devices open");
                let found = session.known_devices();
                self.known.camera = found.camera.clone().or(self.known.camera.take());
                self.known.microphone = found.microphone.clone().or(self.known.microphone.take());
                let session = Arc::new(session);
                self.forward(opening, &session);
                self.session = Some(session);
                Msg::DevicesReady {
                    opening,
                    camera,
                    microphone,
                }
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, opening, "cannot open devices");
                Msg::DevicesFailed {
                    opening,
                    problem: DeviceProblem::from(&e),
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "device thread failed");
                Msg::DevicesFailed {
                    opening,
                    problem: DeviceProblem::Devices,
                }
            }
        };
        let _ = self.tx.send(msg);
    }

    /// Forwards the newest picture and every level to the screen, feeding the clip checks
    /// while the device-test clip records, and reports each source that fails.
    fn forward(&mut self, opening: u64, session: &Arc<CaptureSession>) {
        let token = CancellationToken::new();
        self.forwarder = Some(token.clone());
        let mut preview = session.preview();
        let mut level = session.level();
        let mut events = session.subscribe_task();
        let tx = self.tx.clone();
        let analysis = self.analysis.clone();
        tokio::spawn(async move {
            let mut last_preview = Instant::now() - PREVIEW_INTERVAL;
            // A source's thread ends when it fails, closing its channel a moment after it
            // published the failure: the forwarder goes on until the failure is reported.
            let (mut pictures, mut levels) = (true, true);
            loop {
                tokio::select! {
                    _ = token.cancelled() => break,
                    changed = preview.changed(), if pictures => {
                        if changed.is_err() { pictures = false; continue; }
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
                    changed = level.changed(), if levels => {
                        if changed.is_err() { levels = false; continue; }
                        let l = *level.borrow_and_update();
                        if let Some(l) = l {
                            let mut a = lock(&analysis);
                            if a.active { a.sound.add(l); }
                            drop(a);
                            let _ = tx.send(Msg::Level(l));
                        }
                    }
                    event = events.recv() => {
                        // `None`: the session is gone.
                        let Some(event) = event else { break };
                        if let Some(err) = event.failure() {
                            tracing::error!(error = %err, "device stopped");
                            let _ = tx.send(Msg::DevicesFailed {
                                opening,
                                problem: DeviceProblem::from(&**err),
                            });
                        }
                    }
                }
            }
        });
    }

    pub(super) fn close(&mut self) {
        if let Some(t) = self.forwarder.take() {
            t.cancel();
        }
        self.session = None;
    }
}

/// One recording at a time: started on the open devices, waited for on a thread of its own,
/// whose very last act is to report the outcome.
pub(super) struct Recorder {
    running: Option<Running>,
    analysis: Arc<Mutex<ClipAnalysis>>,
    /// Video and audio bitrates, b/s.
    bitrates: (u32, u32),
    tx: Reports,
}

struct Running {
    control: RecordingControl,
    thread: JoinHandle<()>,
    origin: Instant,
    /// The flow asked this recording to stop.
    stopped: Arc<AtomicBool>,
}

impl Recorder {
    pub(super) fn new(
        tx: Reports,
        analysis: Arc<Mutex<ClipAnalysis>>,
        settings: &DeviceSettings,
    ) -> Self {
        Recorder {
            running: None,
            analysis,
            bitrates: (settings.video_kbps * 1000, settings.audio_kbps * 1000),
            tx,
        }
    }

    pub(super) fn start(
        &mut self,
        session: Option<&Arc<CaptureSession>>,
        purpose: Purpose,
        file: PathBuf,
        limit: Duration,
    ) {
        let fail = |problem: RecordingProblem, detail: String| Msg::RecordingFailed {
            purpose: purpose.clone(),
            problem,
            detail,
            kept_seconds: None,
        };
        let Some(session) = session.cloned() else {
            let _ = self.tx.send(fail(
                RecordingProblem::Device(DeviceProblem::Devices),
                "the camera is not open".into(),
            ));
            return;
        };
        // The flow can ask for the next recording a moment before the last one's thread has
        // ended (its report is its last act): wait for it, stopping it first should the flow
        // ever ask while one still runs.
        self.finish();
        let mut settings = RecordSettings::new(&file);
        settings.video_bitrate = Some(self.bitrates.0);
        settings.audio_bitrate = self.bitrates.1;
        let origin = Instant::now();
        let spec = RecordingSpec {
            settings,
            origin,
            end: Some(origin + limit),
        };
        let handle = match recording::start(&session, spec) {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, path = %file.display(), "cannot start recording");
                let _ = self.tx.send(fail(problem_of(&e, None), e.to_string()));
                return;
            }
        };
        tracing::info!(path = %file.display(), ?purpose, "recording");
        *lock(&self.analysis) = ClipAnalysis {
            active: matches!(purpose, Purpose::TestClip { .. }),
            ..Default::default()
        };
        let _ = self.tx.send(Msg::RecordingStarted {
            purpose: purpose.clone(),
        });
        let control = handle.control();
        let unreported = fail(RecordingProblem::Station, "cannot start a thread".into());
        let (tx, analysis) = (self.tx.clone(), self.analysis.clone());
        let stopped = Arc::new(AtomicBool::new(false));
        let asked_to_stop = stopped.clone();
        let waiter = std::thread::Builder::new()
            .name("booth-recording".into())
            .spawn(move || {
                let outcome = handle.wait();
                // Held until here: the devices stay open while the recording runs.
                drop(session);
                let checks = finish_checks(&analysis);
                let stopped = asked_to_stop.load(Ordering::SeqCst);
                let _ = tx.send(outcome_msg(purpose, outcome, checks, stopped));
            });
        match waiter {
            Ok(thread) => {
                self.running = Some(Running {
                    control,
                    thread,
                    origin,
                    stopped,
                })
            }
            Err(e) => {
                // The handle went with the closure: its pipeline ends at the limit unwatched.
                tracing::error!(error = %e, "cannot start the recording's thread");
                let _ = self.tx.send(unreported);
            }
        }
    }

    pub(super) fn stop(&self) {
        if let Some(r) = &self.running {
            r.stopped.store(true, Ordering::SeqCst);
            r.control.stop();
        }
    }

    /// Staff granted more time: the recording running now ends `limit` after it started.
    pub(super) fn extend(&self, limit: Duration) {
        match &self.running {
            Some(r) if !r.thread.is_finished() => {
                tracing::info!(
                    seconds = limit.as_secs(),
                    "the answer's recording was lengthened"
                );
                r.control.extend_to(r.origin + limit);
            }
            _ => tracing::warn!("no recording to lengthen"),
        }
    }

    /// Stops the recording (if one runs) and waits until it is finalized and reported.
    pub(super) fn finish(&mut self) {
        if let Some(r) = self.running.take() {
            if !r.thread.is_finished() {
                tracing::info!("waiting for the recording to end");
            }
            r.control.stop();
            if r.thread.join().is_err() {
                tracing::error!("the recording's thread panicked");
            }
        }
    }
}

/// Playing a take or a question video: one at a time, its pictures and sound reported.
pub(super) struct Playback {
    player: Option<Player>,
    sound: bool,
    tx: Reports,
}

impl Playback {
    pub(super) fn new(tx: Reports, sound: bool) -> Self {
        Playback {
            player: None,
            sound,
            tx,
        }
    }

    pub(super) fn play(&mut self, file: PathBuf) {
        self.stop();
        let tx = self.tx.clone();
        self.player = Some(Player::start(file, self.sound, move |e| {
            let msg = match e {
                PlayerEvent::Frame(f) => Msg::PlaybackFrame(f),
                PlayerEvent::Position { position, length } => {
                    Msg::PlaybackPosition { position, length }
                }
                PlayerEvent::Level(l) => Msg::PlaybackLevel(l),
                PlayerEvent::NoSpeaker => Msg::PlaybackSilent,
                PlayerEvent::Ended => Msg::PlaybackEnded,
                PlayerEvent::Failed(_) => Msg::PlaybackFailed,
            };
            let _ = tx.send(msg);
        }));
    }

    /// Stops what plays (and waits for its thread).
    pub(super) fn stop(&mut self) {
        self.player = None;
    }

    /// Holds what plays at its picture, or lets it go on.
    pub(super) fn pause(&mut self, paused: bool) {
        if let Some(player) = &self.player {
            player.pause(paused);
        }
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
/// `stopped`: the flow asked it to stop.
fn outcome_msg(
    purpose: Purpose,
    outcome: RecordingOutcome,
    checks: ClipChecks,
    stopped: bool,
) -> Msg {
    let is_test = matches!(purpose, Purpose::TestClip { .. });
    match (outcome.summary, outcome.source_failure) {
        (Ok(summary), None) => {
            tracing::info!(?purpose, seconds = summary.video_seconds, "recording saved");
            Msg::RecordingSaved {
                purpose,
                seconds: summary.video_seconds,
                checks: is_test.then_some(checks),
            }
        }
        (Ok(summary), Some(err)) => {
            tracing::error!(error = %err, "recording cut short by a device");
            Msg::RecordingFailed {
                purpose,
                problem: RecordingProblem::Device(DeviceProblem::from(&*err)),
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
            let problem = match (&e, &device) {
                // Stopped by the candidate before the camera's first picture: nothing was
                // recorded, but the camera is not lost (no reopen, no "camera stopped").
                (RecordError::NoPicture, None) if stopped => RecordingProblem::Station,
                _ => problem_of(&e, device.as_deref()),
            };
            Msg::RecordingFailed {
                purpose,
                problem,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::analyze::{AudioVerdict, PictureVerdict};

    fn no_picture(stopped: bool) -> Msg {
        let outcome = RecordingOutcome {
            summary: Err(RecordError::NoPicture),
            source_failure: None,
        };
        let checks = ClipChecks {
            picture: PictureVerdict::Ok,
            sound: AudioVerdict::Ok,
        };
        let purpose = Purpose::Practice {
            session: "s".into(),
        };
        outcome_msg(purpose, outcome, checks, stopped)
    }

    #[test]
    fn a_stop_before_the_first_picture_is_not_a_lost_camera() {
        // The candidate pressed S at once: nothing recorded, the camera is fine.
        assert!(matches!(
            no_picture(true),
            Msg::RecordingFailed {
                problem: RecordingProblem::Station,
                ..
            }
        ));
        // No picture by itself, unasked: the camera gave none.
        assert!(matches!(
            no_picture(false),
            Msg::RecordingFailed {
                problem: RecordingProblem::Device(DeviceProblem::Camera),
                ..
            }
        ));
    }
}
