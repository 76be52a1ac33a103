//! Everything that can happen to the flow (`Msg`: keys, ticks, worker reports) and everything
//! the flow can ask for (`Effect`). Typed both ways, so no rule depends on parsing a string.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::app::state::DeviceProblem;
use crate::media::analyze::{AudioVerdict, Level, PictureVerdict};
use crate::media::frame::VideoFrame;
use crate::session::Delivery;

/// The keys the flow understands, already translated from the terminal's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Enter,
    Esc,
    Up,
    Down,
    Left,
    Right,
    Tab,
    Space,
    /// F1, or `?`.
    Help,
    /// F12: the operator menu (behind its PIN).
    Operator,
    Backspace,
    Char(char),
}

/// What a recording is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The device-test clip: never leaves the machine.
    TestClip,
    Answer {
        question: usize,
        take: usize,
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
    DevicesReady {
        camera: String,
        microphone: String,
    },
    /// Camera or microphone could not be opened or stopped working (details in the log).
    DevicesFailed {
        problem: DeviceProblem,
    },
    RecordingStarted {
        purpose: Purpose,
        at: Instant,
    },
    RecordingSaved {
        purpose: Purpose,
        seconds: f64,
        checks: Option<ClipChecks>,
    },
    /// The recording stopped early; `kept_seconds` is what was saved of it (if anything).
    RecordingFailed {
        purpose: Purpose,
        message: String,
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
    Delivery {
        question: usize,
        delivery: Delivery,
    },
    /// The answer to `question` is in the outbox under this id.
    Queued {
        question: usize,
        answer_id: String,
    },
    /// Bytes of the answer to `question` the platform has.
    UploadProgress {
        question: usize,
        sent: u64,
        total: u64,
    },
    /// The network or the platform is unavailable; the answer is safe and will be retried.
    UploadWaiting {
        question: usize,
    },
    /// The platform refused the answer for good (it stays on this station).
    UploadRefused {
        question: usize,
        reason: String,
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
        title: &'static str,
        lines: Vec<String>,
    },
    /// Newer lines for a page that may still be open (slow diagnostics finishing); ignored
    /// when the operator has moved on.
    OperatorPageUpdated {
        title: &'static str,
        lines: Vec<String>,
    },
    /// A new candidate's session replaced the old one after a reset.
    SessionStarted {
        progress: crate::session::Progress,
        dir: std::path::PathBuf,
    },
}

/// A take on its way to the platform, with what the upload's metadata needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    pub question: usize,
    pub take: usize,
    pub file: PathBuf,
    pub session_id: String,
    pub interview_id: String,
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
    pub started_unix: u64,
    /// Per submitted answer: question index, question id, attempt, seconds, answer id if known.
    pub answers: Vec<(usize, String, u32, f64, Option<String>)>,
    /// What staff granted, recorded with the session.
    pub grants: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    OpenDevices,
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
    DeleteFile(PathBuf),
    SaveProgress,
    /// Hands a take to delivery (the outbox, then the platform).
    Submit(Submission),
    /// Queues the session manifest after the last answer.
    SendManifest(ManifestInfo),
    /// Checks the operator PIN against the configured hash (slow on purpose).
    CheckPin {
        pin: crate::pin::TypedPin,
    },
    ShowUploadQueue,
    RunDiagnostics,
    /// The terminal bell and/or the staff webhook, which names the session and the screen.
    CallStaff {
        session: String,
        phase: &'static str,
    },
    /// Privacy wipe of the session in `dir` (what was not sent), then a new session.
    EndSession {
        dir: PathBuf,
    },
    Quit,
}
