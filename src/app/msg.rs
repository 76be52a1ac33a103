//! Everything that can happen to the flow (`Msg`: keys, ticks, worker reports) and everything
//! the flow can ask for (`Effect`). Typed both ways, so no rule depends on parsing a string.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::app::state::{DeviceProblem, OperatorPage};
use crate::media::analyze::{AudioVerdict, Level, PictureVerdict};
use crate::media::frame::VideoFrame;
use crate::session::Progress;

/// The keys the flow understands, already translated from the terminal's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Enter,
    Esc,
    Up,
    Down,
    Left,
    Right,
    /// Help scrolls a page at a time.
    PageUp,
    PageDown,
    Tab,
    Space,
    /// F1, or `?`.
    Help,
    /// F12: the operator menu (behind its PIN).
    Operator,
    Backspace,
    Char(char),
}

/// One take of one candidate session. Every report about a take names it whole, so a report
/// that arrives after its session ended can never change the next candidate's progress.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TakeRef {
    pub session: String,
    pub question: usize,
    pub take: usize,
}

/// What a recording is for, and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// The device-test clip: never leaves the machine.
    TestClip {
        session: String,
    },
    Answer(TakeRef),
    /// The practice take: never sent, never counted, wiped with the session.
    Practice {
        session: String,
    },
}

impl Purpose {
    /// The candidate session the recording belongs to.
    pub fn session(&self) -> &str {
        match self {
            Purpose::TestClip { session } | Purpose::Practice { session } => session,
            Purpose::Answer(take) => &take.session,
        }
    }
}

/// Why a recording did not start or stopped early, as the flow needs to tell it apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingProblem {
    /// The camera or microphone failed (or was never opened).
    Device(DeviceProblem),
    /// The disk could not hold an answer of this length.
    NoSpace,
    /// Anything else (encoder, file); the detail is in the log.
    Station,
}

/// Why a take could not be put in the outbox, as the station's status tells it apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitProblem {
    /// The disk cannot hold the outbox's copy or record.
    NoSpace,
    /// The take's own file is missing, empty or changed: sending it again will not help.
    Take,
    /// Anything else (the outbox, the upload service); the detail is in the log.
    Station,
}

impl SubmitProblem {
    /// Plain words for the station's status.
    pub fn words(self) -> &'static str {
        match self {
            SubmitProblem::NoSpace => "the disk is full",
            SubmitProblem::Take => "the take's file cannot be read",
            SubmitProblem::Station => "the outbox failed",
        }
    }
}

/// What happened to an answer on its way to the platform, as the question list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadNews {
    /// Bytes of the answer the platform (or the folder) has.
    Progress {
        sent: u64,
        total: u64,
    },
    /// The network or the platform is unavailable; the answer is safe and will be retried.
    Waiting,
    Delivered,
    /// The platform refused it for good (it stays on this station).
    Refused {
        reason: String,
    },
}

/// What the automatic checks found in the device-test clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClipChecks {
    pub picture: PictureVerdict,
    pub sound: AudioVerdict,
}

impl ClipChecks {
    pub fn all_good(&self) -> bool {
        self.picture == PictureVerdict::Ok && self.sound == AudioVerdict::Ok
    }
}

#[derive(Debug, Clone)]
pub enum Msg {
    Key(Key),
    /// Time moves only through ticks, so `update` never reads a clock.
    Tick(Instant),
    Resize {
        width: u16,
        height: u16,
    },
    /// The newest camera picture (at most ~15 a second).
    Preview(Arc<VideoFrame>),
    /// The newest 50 ms microphone level.
    Level(Level),
    /// The devices of opening number `opening` are open (see `Effect::OpenDevices`).
    DevicesReady {
        opening: u64,
        camera: String,
        microphone: String,
    },
    /// Camera or microphone of opening number `opening` could not be opened or stopped
    /// working (details in the log). A report of an earlier opening is stale.
    DevicesFailed {
        opening: u64,
        problem: DeviceProblem,
    },
    /// The pipeline is recording; the flow's clock for it starts now.
    RecordingStarted {
        purpose: Purpose,
    },
    RecordingSaved {
        purpose: Purpose,
        seconds: f64,
        checks: Option<ClipChecks>,
    },
    /// The recording did not start or stopped early; `kept_seconds` is what was saved of it
    /// (if anything). `detail` is for the log and the station's status only.
    RecordingFailed {
        purpose: Purpose,
        problem: RecordingProblem,
        detail: String,
        kept_seconds: Option<f64>,
    },
    /// A picture of the take or question video being played.
    PlaybackFrame(Arc<VideoFrame>),
    PlaybackPosition {
        position: Duration,
        length: Duration,
    },
    /// The sound of what is playing, as it plays.
    PlaybackLevel(Level),
    /// What is playing has sound, but the station has no speaker.
    PlaybackSilent,
    PlaybackEnded,
    /// What was playing could not be played (its detail is in the log).
    PlaybackFailed,
    /// The take is in the outbox (its record durable, the upload service told) under this id.
    Submitted {
        take: TakeRef,
        answer_id: String,
    },
    /// The take could not be put in the outbox; it stays where it was, reviewable. `detail`
    /// (the error's chain) is for the log and the station's status only.
    SubmitFailed {
        take: TakeRef,
        problem: SubmitProblem,
        detail: String,
    },
    /// News of the answer to `question` of `session` on its way to the platform.
    Upload {
        session: String,
        question: usize,
        news: UploadNews,
    },
    /// SIGTERM / SIGHUP: finish any recording cleanly, then leave.
    Terminate,
    /// Ctrl+C, Ctrl+Z, Ctrl+\ or SIGINT: leave like `Terminate` unless the kiosk is locked.
    Interrupt,
    PinChecked {
        ok: bool,
    },
    /// A page the operator asked for (the upload queue, diagnostics) is ready.
    OperatorPage {
        page: OperatorPage,
        lines: Vec<String>,
    },
    /// Newer lines for a page that may still be open (slow diagnostics finishing); ignored
    /// when the operator has moved on.
    OperatorPageUpdated {
        page: OperatorPage,
        lines: Vec<String>,
    },
    /// The roster's answer about a code typed on the welcome screen.
    CodeChecked {
        code: String,
        result: Result<Arc<crate::interview::Interview>, crate::app::state::CodeProblem>,
    },
    /// A new candidate's session replaced the old one after a reset.
    SessionStarted {
        progress: Progress,
        dir: PathBuf,
        /// The interview a candidate without a code gets.
        interview: Arc<crate::interview::Interview>,
    },
    /// The old session could not be closed (the disk failed); it is kept as it was. `detail`
    /// is for the log and the station's status only.
    SessionEndFailed {
        detail: String,
    },
}

/// A take on its way to the platform, with what the upload's metadata needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    pub take: TakeRef,
    pub file: PathBuf,
    pub interview_id: String,
    /// The candidate's code, when one was entered.
    pub candidate_ref: Option<String>,
    pub question_id: String,
    /// The take's number for this question, 1-based.
    pub attempt: u32,
    pub seconds: f64,
}

/// What the session manifest says, from the candidate's progress.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestInfo {
    pub session_id: String,
    pub interview_id: String,
    /// The candidate's code, if one was entered.
    pub candidate_ref: Option<String>,
    pub started_unix: u64,
    pub finished_unix: u64,
    /// Per submitted answer: question index, question id, attempt, seconds, answer id if known.
    pub answers: Vec<(usize, String, u32, f64, Option<String>)>,
    /// The privacy notice accepted, if the interview has one.
    pub consent: Option<crate::session::ConsentRecord>,
    /// What staff granted, with when.
    pub grants: Vec<crate::session::Grant>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// (Re)opens the camera and microphone (the same ones as before, found by their stable
    /// ids, if they were open once); every report about them names `opening`.
    OpenDevices {
        opening: u64,
    },
    StartRecording {
        purpose: Purpose,
        file: PathBuf,
        limit: Duration,
    },
    StopRecording,
    Play {
        file: PathBuf,
    },
    StopPlayback,
    /// Holds what plays at its current picture, or lets it go on from there.
    PausePlayback {
        paused: bool,
    },
    DeleteFile(PathBuf),
    /// Writes the candidate's progress durably into the session directory `dir`.
    SaveProgress {
        dir: PathBuf,
        progress: Box<Progress>,
    },
    /// Notes the candidate's last key in the session directory (the idle clock across a
    /// restart).
    NoteActivity {
        dir: PathBuf,
    },
    /// Puts a take in the outbox; answered by `Submitted` or `SubmitFailed`.
    Submit(Submission),
    /// Queues the session manifest after the last answer.
    SendManifest(ManifestInfo),
    /// Looks a candidate's code up in the roster; answered by `CodeChecked`.
    CheckCode {
        code: String,
    },
    /// Gives the answer being recorded more time (staff granted it): it now ends `limit`
    /// after it started.
    ExtendRecording {
        limit: Duration,
    },
    /// Pipes a plain-text receipt to the station's receipt printer command.
    PrintReceipt {
        text: String,
    },
    /// Checks the operator PIN against the configured hash (slow on purpose).
    CheckPin {
        pin: crate::pin::TypedPin,
    },
    ShowUploadQueue,
    RunDiagnostics,
    /// The staff webhook (when the station has one), which names the session and the screen.
    CallStaff {
        session: String,
        phase: &'static str,
    },
    /// The terminal bell: rung by the run loop through the terminal's owner, between two
    /// frames (never by the executor, which would write under the screen being drawn).
    RingBell,
    /// Privacy wipe of session `session` in `dir` (after every effect before it: a submit
    /// asked for earlier is in the outbox first), then a new session; answered by
    /// `SessionStarted` or `SessionEndFailed`.
    EndSession {
        session: String,
        dir: PathBuf,
        /// The progress as the flow knows it (newer than the disk's if a save failed).
        progress: Box<Progress>,
    },
    /// Stops in order (recording finalized, uploads paused) after every effect before it;
    /// then the run loop ends.
    Quit,
}

impl Effect {
    pub fn is_save(&self) -> bool {
        matches!(self, Effect::SaveProgress { .. })
    }
}
