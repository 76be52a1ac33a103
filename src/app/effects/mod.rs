//! Carrying out the flow's effects — all of them, in the order `update` asked for them, off the
//! UI task: devices, recordings and playback (`media`), putting sent takes in the outbox and
//! following their upload (`delivery`), saving the candidate's progress, the privacy wipe that
//! ends a session, the operator's PIN and pages, calling staff (the station's services the
//! front end handed over: webhook, diagnostics), and stopping. The terminal bell is not here:
//! the run loop rings it through the terminal's owner. Reports come back as `Msg`s naming the
//! session and take they belong to.
//!
//! One owner, one order: a wipe asked for after a submit runs after that submit is in the
//! outbox; a quit runs after everything before it. The run loop only routes and draws.

mod delivery;
mod media;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::msg::{Effect, Msg};
use super::upload_view::queue_lines;
use crate::app::state::{CodeProblem, OperatorPage};
use crate::codes::{CodeRefusal, RosterWatch, UsedCodes};
use crate::interview::Catalog;
use crate::session::Progress;
use crate::sync::lock;
use crate::upload::{UploadEvent, UploadHandle};
use delivery::{AnswerMap, forward_uploads};
use media::{Devices, Playback, Recorder};

pub use super::settings::{DeviceSettings, Diagnostics, StationServices};

/// The station's files the executor reads and writes besides the media: where sessions live,
/// the interviews (a new session is for the default one), and the roster of codes.
pub struct StationFiles {
    pub data_dir: PathBuf,
    pub catalog: Arc<Catalog>,
    pub roster: Option<PathBuf>,
}

/// The roster as the kiosk follows it, and the single-use codes already used here.
struct CodeDesk {
    roster: Option<RosterWatch>,
    used: Option<UsedCodes>,
}

pub struct Executor {
    settings: DeviceSettings,
    data_dir: PathBuf,
    catalog: Arc<Catalog>,
    codes: Arc<Mutex<CodeDesk>>,
    tx: mpsc::UnboundedSender<Msg>,
    devices: Devices,
    recorder: Recorder,
    playback: Playback,
    uploads: UploadHandle,
    answers: AnswerMap,
}

/// How the executor's work ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The flow asked to quit; everything was stopped in order.
    Quit,
    /// The channel closed (the loop went away) without a quit.
    Closed,
}

impl Executor {
    /// Needs a tokio runtime: it starts the task that turns upload events into messages.
    pub fn new(
        settings: DeviceSettings,
        station: StationFiles,
        tx: mpsc::UnboundedSender<Msg>,
        uploads: (UploadHandle, mpsc::UnboundedReceiver<UploadEvent>),
    ) -> Self {
        let (handle, events) = uploads;
        let answers = AnswerMap::default();
        tokio::spawn(forward_uploads(events, tx.clone(), answers.clone()));
        let StationFiles {
            data_dir,
            catalog,
            roster,
        } = station;
        let codes = CodeDesk {
            roster: roster.map(RosterWatch::new),
            used: None,
        };
        // The clip checks: fed by the devices' forwarder, read by the recorder.
        let analysis = Arc::default();
        Executor {
            uploads: handle,
            answers,
            devices: Devices::new(tx.clone(), Arc::clone(&analysis)),
            recorder: Recorder::new(tx.clone(), analysis, &settings),
            playback: Playback::new(tx.clone(), settings.sound_output),
            settings,
            data_dir,
            catalog,
            codes: Arc::new(Mutex::new(codes)),
            tx,
        }
    }

    fn send(&self, msg: Msg) {
        let _ = self.tx.send(msg);
    }

    /// Takes effects in order until the flow quits or the channel closes, then stops
    /// everything in order: media first (a recording is finalized), then the uploads.
    pub async fn run(
        mut self,
        mut effects: mpsc::UnboundedReceiver<(Effect, tracing::Span)>,
    ) -> Ended {
        use tracing::Instrument;
        let mut ended = Ended::Closed;
        while let Some((effect, span)) = effects.recv().await {
            if effect == Effect::Quit {
                ended = Ended::Quit;
                break;
            }
            self.execute(effect).instrument(span).await;
        }
        self.shutdown().await;
        ended
    }

    /// Carries out one effect. Slow work (opening devices, finalizing a recording, hashing)
    /// runs on blocking threads; a recording's outcome arrives later as a message.
    pub async fn execute(&mut self, effect: Effect) {
        tracing::debug!(effect = effect_name(&effect), "effect");
        match effect {
            Effect::OpenDevices { opening } => self.devices.open(opening, &self.settings).await,
            Effect::StartRecording {
                purpose,
                file,
                limit,
            } => self
                .recorder
                .start(self.devices.session(), purpose, file, limit),
            Effect::StopRecording => self.recorder.stop(),
            Effect::Play { file } => self.playback.play(file),
            Effect::StopPlayback => self.playback.stop(),
            Effect::PausePlayback { paused } => self.playback.pause(paused),
            Effect::DeleteFile(path) => match crate::fsutil::remove_file(&path) {
                Ok(()) => tracing::info!(path = %path.display(), "deleted"),
                Err(e) => tracing::warn!(error = %e, "cannot delete"),
            },
            Effect::SaveProgress { dir, progress } => {
                let saved = tokio::task::spawn_blocking(move || progress.save(&dir)).await;
                match saved {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "cannot save progress"),
                    Err(e) => tracing::error!(error = %e, "progress save task failed"),
                }
            }
            Effect::NoteActivity { dir } => {
                if let Err(e) = crate::session::note_activity(&dir, crate::clock::unix_now()) {
                    tracing::warn!(error = %e, "cannot note the candidate's activity");
                }
            }
            Effect::Submit(submission) => self.submit(submission).await,
            Effect::SendManifest(info) => self.send_manifest(info).await,
            Effect::EndSession {
                session,
                dir,
                progress,
            } => self.end_session(session, dir, progress).await,
            Effect::CheckPin { pin } => {
                let hash = self.settings.pin_hash.clone();
                let tx = self.tx.clone();
                tokio::task::spawn_blocking(move || {
                    let ok = hash.is_some_and(|h| crate::pin::verify_pin(pin.expose(), &h));
                    let _ = tx.send(Msg::PinChecked { ok });
                });
            }
            Effect::ShowUploadQueue => self.send(Msg::OperatorPage {
                page: OperatorPage::UploadQueue,
                lines: queue_lines(&self.uploads),
            }),
            Effect::RunDiagnostics => self.run_diagnostics(),
            Effect::CheckCode { code } => self.check_code(code),
            Effect::ExtendRecording { limit } => self.recorder.extend(limit),
            Effect::PrintReceipt { text } => self.print_receipt(text),
            Effect::CallStaff { session, phase } => {
                if let Some(webhook) = &self.settings.services.webhook {
                    webhook.call(session, phase);
                }
            }
            // The terminal's owner rings it (the run loop, between two frames); nothing here
            // may write to the terminal while it is drawn.
            Effect::RingBell => {}
            // `run` stops on it; executed on its own it stops media and uploads.
            Effect::Quit => self.stop_media(),
        }
    }

    /// The privacy wipe and a new session, after every effect asked for before it.
    async fn end_session(&mut self, session: String, dir: PathBuf, known: Box<Progress>) {
        let data_dir = self.data_dir.clone();
        let interview = self.catalog.default_interview();
        let next = interview.clone();
        let ended = tokio::task::spawn_blocking(move || {
            let now = crate::clock::unix_now();
            super::sessions::end_session(&data_dir, &dir, Some(&known), &interview, now)
        })
        .await;
        let msg = match ended {
            Ok(Ok((progress, dir))) => {
                tracing::info!(ended = %session, next = %progress.session_id, "new session");
                Msg::SessionStarted {
                    progress,
                    dir,
                    interview: next,
                }
            }
            Ok(Err(e)) => Msg::SessionEndFailed {
                detail: e.to_string(),
            },
            Err(e) => Msg::SessionEndFailed {
                detail: format!("the wipe task failed: {e}"),
            },
        };
        self.send(msg);
    }

    /// Looks a code up in the roster (re-read when its file changed; the last good version
    /// when the new one is broken), off the async threads. Without a roster every well-formed
    /// code is for the station's one interview.
    fn check_code(&self, code: String) {
        let (codes, catalog, data_dir, tx) = (
            self.codes.clone(),
            self.catalog.clone(),
            self.data_dir.clone(),
            self.tx.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let mut desk = lock(&codes);
            let CodeDesk { roster, used } = &mut *desk;
            let result = match roster {
                None => Ok(catalog.default_interview()),
                Some(watch) => {
                    if used.is_none() {
                        *used = UsedCodes::open(&data_dir)
                            .map_err(|e| tracing::error!(error = %e, "cannot read the used codes"))
                            .ok();
                    }
                    match used {
                        Some(used) => {
                            let now = crate::clock::unix_now();
                            crate::codes::check_code(watch, used, &catalog, &code, now)
                                .map_err(|r| refusal_problem(&r))
                        }
                        None => Err(CodeProblem::NoRoster),
                    }
                }
            };
            let _ = tx.send(Msg::CodeChecked { code, result });
        });
    }

    /// Pipes the receipt to the configured printer command, in the background and under a
    /// time limit; a printer problem is logged and never holds the candidate up.
    fn print_receipt(&self, text: String) {
        let Some(command) = self.settings.receipt_command.clone() else {
            return;
        };
        tokio::spawn(async move {
            match super::printer::print(&command, &text).await {
                Ok(()) => tracing::info!("receipt printed"),
                Err(e) => tracing::warn!(error = %e, "the receipt could not be printed"),
            }
        });
    }

    fn run_diagnostics(&self) {
        let lines = self.diagnostics();
        self.send(Msg::OperatorPage {
            page: OperatorPage::Diagnostics,
            lines: lines.iter().cloned().chain(["…".to_string()]).collect(),
        });
        // The station checks wait on the network: the page fills in when they finish.
        if let Some(checks) = self.settings.services.diagnostics.clone() {
            let tx = self.tx.clone();
            tokio::task::spawn_blocking(move || {
                let _ = tx.send(Msg::OperatorPageUpdated {
                    page: OperatorPage::Diagnostics,
                    lines: lines.into_iter().chain(checks.run()).collect(),
                });
            });
        }
    }

    /// Plain lines about the station for the operator: devices, disk, outbox.
    fn diagnostics(&self) -> Vec<String> {
        let mut lines = vec![format!("booth {}", env!("CARGO_PKG_VERSION"))];
        match self.devices.session() {
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

    /// Stops media in order: playback, the recording (finalized), the devices.
    fn stop_media(&mut self) {
        self.playback.stop();
        self.recorder.finish();
        self.devices.close();
    }

    /// Stops everything in order: media (a recording is finalized), then the uploads (they
    /// resume from the server's offset on the next start).
    pub async fn shutdown(mut self) {
        let mut this = tokio::task::spawn_blocking(move || {
            self.stop_media();
            self
        })
        .await;
        match &mut this {
            Ok(executor) => executor.uploads.clone().shutdown().await,
            Err(e) => tracing::error!(error = %e, "stopping media failed"),
        }
    }
}

/// What the candidate is told about a refused code.
fn refusal_problem(r: &CodeRefusal) -> CodeProblem {
    match r {
        CodeRefusal::Unknown => CodeProblem::Unknown,
        CodeRefusal::NotYet { .. } => CodeProblem::NotYet,
        CodeRefusal::Expired { .. } => CodeProblem::Expired,
        CodeRefusal::Used => CodeProblem::Used,
        CodeRefusal::NoSuchInterview { .. } => CodeProblem::NoInterview,
        CodeRefusal::NoRoster => CodeProblem::NoRoster,
    }
}

/// The effect's name for the log (a saved progress or a PIN is not written out).
fn effect_name(effect: &Effect) -> &'static str {
    match effect {
        Effect::OpenDevices { .. } => "open_devices",
        Effect::StartRecording { .. } => "start_recording",
        Effect::StopRecording => "stop_recording",
        Effect::Play { .. } => "play",
        Effect::StopPlayback => "stop_playback",
        Effect::PausePlayback { .. } => "pause_playback",
        Effect::DeleteFile(_) => "delete_file",
        Effect::SaveProgress { .. } => "save_progress",
        Effect::NoteActivity { .. } => "note_activity",
        Effect::Submit(_) => "submit",
        Effect::SendManifest(_) => "send_manifest",
        Effect::CheckPin { .. } => "check_pin",
        Effect::ShowUploadQueue => "show_upload_queue",
        Effect::RunDiagnostics => "run_diagnostics",
        Effect::CallStaff { .. } => "call_staff",
        Effect::RingBell => "ring_bell",
        Effect::EndSession { .. } => "end_session",
        Effect::CheckCode { .. } => "check_code",
        Effect::ExtendRecording { .. } => "extend_recording",
        Effect::PrintReceipt { .. } => "print_receipt",
        Effect::Quit => "quit",
    }
}

#[cfg(test)]
mod devices_tests;
#[cfg(test)]
mod tests;
