//! The whole state of the candidate's screen: where they are in the interview (an explicit
//! `Phase`, each variant carrying only what that step needs), their persisted progress, and
//! what the devices last reported. Read by `view`, changed only by `update`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::msg::{ClipChecks, Effect, Submission, TakeRef};
use crate::i18n::Text;
use crate::interview::{Interview, Question};
use crate::media::analyze::Level;
use crate::media::frame::VideoFrame;
use crate::media::source::CaptureError;
use crate::session::{Progress, TakeState};

/// What the operator menu offers, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorAction {
    ExtraAttempt,
    ExtraAnswerTime,
    ExtraPreparation,
    UploadQueue,
    Diagnostics,
    EndSession,
    /// Types a code for a candidate who has none (on the welcome screen).
    EnterCode,
    Quit,
    Close,
}

impl OperatorAction {
    pub const ALL: [OperatorAction; 9] = [
        OperatorAction::ExtraAttempt,
        OperatorAction::ExtraAnswerTime,
        OperatorAction::ExtraPreparation,
        OperatorAction::UploadQueue,
        OperatorAction::Diagnostics,
        OperatorAction::EndSession,
        OperatorAction::EnterCode,
        OperatorAction::Quit,
        OperatorAction::Close,
    ];
}

/// The operator menu behind its PIN.
#[derive(Debug, Clone, PartialEq)]
pub enum OperatorStep {
    Closed,
    /// Typing the PIN (shown as dots); `checking` while the hash is verified.
    Pin {
        digits: String,
        checking: bool,
    },
    Menu {
        selected: usize,
    },
    /// Typing a code for the candidate.
    Code {
        typed: String,
    },
    /// A page of plain lines (the upload queue, diagnostics) until any key; `title` is a
    /// text key.
    Page {
        title: &'static str,
        lines: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    pub step: OperatorStep,
    /// Wrong PINs in a row; five lock the menu for a growing time.
    pub failures: u32,
    pub locked_until: Option<Instant>,
}

/// Station settings the flow's rules depend on.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Sound above this (peak dBFS) opens the "make some noise" gate.
    pub noise_gate_dbfs: f32,
    /// Silence this long while recording shows "we can't hear you".
    pub silence_warning: Duration,
    pub test_clip: Duration,
    /// The shortest test clip the candidate may stop early.
    pub test_clip_minimum: Duration,
    /// Where this candidate's recordings and progress live.
    pub session_dir: PathBuf,
    /// How long a heard sound keeps the gate open.
    pub gate_memory: Duration,
    /// Ctrl+C and the like cannot end booth; only the operator menu quits.
    pub lockdown: bool,
    /// Whether an operator PIN is set (the menu stays shut without one).
    pub operator_pin: bool,
    /// No key for this long (outside a recording) starts the reset countdown.
    pub idle_reset: Option<Duration>,
    /// How long the "are you still there?" countdown runs before the privacy wipe.
    pub idle_countdown: Duration,
    /// Staff granted this much at a time.
    pub grant_step: Duration,
    pub codes: CodeMode,
    pub code_rules: crate::codes::CodeRules,
    /// Codes are looked up in a roster (which also picks the interview).
    pub roster: bool,
    pub target: Target,
    /// Delivered answers are kept on this station (retention = keep).
    pub keeps_copies: bool,
    /// The done screen clears for the next candidate after this long.
    pub done_wait: Duration,
    /// The declined screen clears after this long.
    pub declined_wait: Duration,
    /// A receipt is printed when the candidate finishes.
    pub receipt: bool,
}

impl Settings {
    pub fn new(session_dir: PathBuf) -> Self {
        Settings {
            noise_gate_dbfs: -45.0,
            silence_warning: Duration::from_secs(3),
            test_clip: Duration::from_secs(8),
            test_clip_minimum: Duration::from_secs(5),
            session_dir,
            gate_memory: Duration::from_secs(120),
            lockdown: false,
            operator_pin: false,
            idle_reset: None,
            idle_countdown: Duration::from_secs(30),
            grant_step: Duration::from_secs(60),
            codes: CodeMode::Off,
            code_rules: crate::codes::CodeRules::default(),
            roster: false,
            target: Target::Platform,
            keeps_copies: false,
            done_wait: Duration::from_secs(60),
            declined_wait: Duration::from_secs(20),
            receipt: false,
        }
    }
}

/// The steps of the device test.
#[derive(Debug, Clone, PartialEq)]
pub enum TestStep {
    /// Live preview and meter; the candidate may record a clip.
    Ready,
    Recording {
        started: Instant,
    },
    Saving,
    Review {
        checks: ClipChecks,
        playing: bool,
    },
}

/// Where the candidate is with the question on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prep {
    /// The question video is playing; preparation starts when it ends.
    Watching,
    /// Preparation time running out at `ends`.
    Counting { ends: Instant },
    /// No preparation time (or it was skipped): recording starts on the candidate's key.
    Ready,
    /// Time is up or the candidate asked to start, but the microphone has not heard them yet.
    WaitingForSound,
}

/// The candidate's code as it is being typed (or arrives from a barcode scanner, which types
/// it and presses Enter in a few milliseconds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeEntry {
    pub typed: String,
    /// Why the last code was not accepted, shown until the next key.
    pub problem: Option<CodeProblem>,
    /// The station is looking the code up in its roster.
    pub checking: bool,
}

/// Why a code was not accepted, each with its own plain sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeProblem {
    Empty,
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    BadCharacter,
    Unknown,
    NotYet,
    Expired,
    Used,
    /// The code is fine but this station cannot run its interview (a staff matter).
    NoInterview,
    /// The station cannot read its roster at all (a staff matter).
    NoRoster,
}

impl CodeProblem {
    /// Text key of the sentence shown to the candidate.
    pub fn key(self) -> &'static str {
        match self {
            CodeProblem::Empty => "welcome.code_empty",
            CodeProblem::TooShort { .. } => "welcome.code_too_short",
            CodeProblem::TooLong { .. } => "welcome.code_too_long",
            CodeProblem::BadCharacter => "welcome.code_bad_character",
            CodeProblem::Unknown => "welcome.code_unknown",
            CodeProblem::NotYet => "welcome.code_not_yet",
            CodeProblem::Expired => "welcome.code_expired",
            CodeProblem::Used => "welcome.code_used",
            CodeProblem::NoInterview => "welcome.code_no_interview",
            CodeProblem::NoRoster => "welcome.code_no_roster",
        }
    }
}

/// Whether candidates type a code on the welcome screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeMode {
    /// No code: any key begins (a station without invitations).
    Off,
    /// A code may be typed; Enter on an empty field begins without one.
    Optional,
    /// A code is needed (always with a roster).
    Required,
}

/// Where answers go, so that the screen says what really happened to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A hiring platform that confirms each upload.
    Platform,
    /// A folder (a share or a disk): answers are saved there, not received by anyone yet.
    Folder,
}

/// Wall-clock time, derived from the flow's own clock: the Unix time at one instant, so that
/// `update` can stamp consents and grants without reading a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock {
    pub at: Instant,
    pub unix: u64,
}

impl WallClock {
    pub fn unix_at(&self, t: Instant) -> u64 {
        match t.checked_duration_since(self.at) {
            Some(d) => self.unix + d.as_secs(),
            None => self
                .unix
                .saturating_sub(self.at.duration_since(t).as_secs()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Attract screen between candidates, where they type their code.
    Welcome(CodeEntry),
    /// The interview's privacy notice, accepted by an explicit key.
    Consent,
    /// The candidate declined the notice: nothing was recorded; the screen clears at `ends`.
    Declined {
        ends: Instant,
    },
    Overview,
    DeviceTest(TestStep),
    Questions {
        selected: usize,
    },
    Question {
        q: usize,
        prep: Prep,
    },
    Recording {
        q: usize,
        take: usize,
        /// Set when the pipeline reports it is recording; the clock starts then.
        started: Option<Instant>,
        stopping: bool,
    },
    Review {
        q: usize,
        take: usize,
        playing: bool,
    },
    /// The candidate sent the take; it is being put in the outbox (a moment). Nothing else
    /// happens until that is certain, so the screen never says "sent" before it is.
    Submitting {
        q: usize,
        take: usize,
    },
    /// Every answer is sent; the screen clears for the next candidate at `ends` (or on
    /// Finish).
    Done {
        ends: Instant,
    },
    /// The session is being closed (privacy wipe) and a new one opened.
    Resetting,
    /// The station cannot go on by itself (the session could not be closed): staff are
    /// called; the operator menu still works.
    OutOfOrder,
}

/// What went wrong with the devices, in terms the candidate's screen can say plainly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceProblem {
    CameraBusy,
    Camera,
    Microphone,
    Devices,
}

impl DeviceProblem {
    /// Text key of the sentence shown to the candidate.
    pub fn key(self) -> &'static str {
        match self {
            DeviceProblem::CameraBusy => "devices.problem_camera_busy",
            DeviceProblem::Camera => "devices.problem_camera",
            DeviceProblem::Microphone => "devices.problem_microphone",
            DeviceProblem::Devices => "devices.problem_devices",
        }
    }
}

impl From<&CaptureError> for DeviceProblem {
    fn from(e: &CaptureError) -> Self {
        match e {
            CaptureError::CameraBusy { .. } => DeviceProblem::CameraBusy,
            CaptureError::CameraNotFound { .. }
            | CaptureError::CameraPermission { .. }
            | CaptureError::Camera { .. }
            | CaptureError::CameraLost { .. }
            | CaptureError::CorruptFrame { .. }
            | CaptureError::BadSize { .. } => DeviceProblem::Camera,
            CaptureError::MicrophoneNotFound { .. }
            | CaptureError::MicrophoneBusy { .. }
            | CaptureError::Microphone { .. }
            | CaptureError::MicrophoneLost { .. } => DeviceProblem::Microphone,
            CaptureError::FileIo { .. } | CaptureError::BadFile { .. } => DeviceProblem::Devices,
        }
    }
}

/// A short message shown above the keys until the next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    TestClipFailed,
    AnswerInterrupted,
    AnswerDidNotStart,
    StaffCalled,
    /// The answer could not be put in the outbox; it is kept and staff were called.
    SubmitFailed,
    /// The disk cannot hold an answer: staff were called.
    NoSpace,
}

impl Notice {
    pub fn key(self) -> &'static str {
        match self {
            Notice::TestClipFailed => "test.failed",
            Notice::AnswerInterrupted => "review.interrupted_notice",
            Notice::AnswerDidNotStart => "question.did_not_start",
            Notice::StaffCalled => "common.staff_called",
            Notice::SubmitFailed => "review.submit_failed",
            Notice::NoSpace => "question.no_space",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum DeviceStatus {
    Closed,
    Opening,
    Ready { camera: String, microphone: String },
    Failed(DeviceProblem),
}

#[derive(Debug, Clone)]
pub struct Devices {
    pub status: DeviceStatus,
    pub level: Option<Level>,
    /// When the microphone last heard sound above the gate.
    pub last_sound: Option<Instant>,
    pub preview: Option<Arc<VideoFrame>>,
    /// The candidate may hide their own picture while answering.
    pub preview_hidden: bool,
}

/// An answer's upload as it happens (not persisted: the outbox is the record).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UploadView {
    pub sent: u64,
    pub total: u64,
    /// The network is down or the platform busy: the answer waits on this station.
    pub waiting: bool,
    /// The platform refused it; staff see why in the operator's queue.
    pub refused: bool,
}

/// A take or question video being shown.
#[derive(Debug, Clone, Default)]
pub struct Playback {
    pub frame: Option<Arc<VideoFrame>>,
    pub position: Duration,
    pub length: Duration,
    pub level: Option<Level>,
    /// No speaker: the screen says so and shows the sound as a meter instead.
    pub silent: bool,
}

#[derive(Debug, Clone)]
pub struct State {
    pub interview: Arc<Interview>,
    pub settings: Settings,
    pub progress: Progress,
    pub phase: Phase,
    pub now: Instant,
    pub devices: Devices,
    pub playback: Playback,
    pub help: bool,
    /// Terminal size in cells.
    pub size: (u16, u16),
    /// A short plain message about the last thing that went wrong, shown until the next step.
    pub notice: Option<Notice>,
    /// The words on screen, in the candidate's language.
    pub text: Arc<Text>,
    /// Leaving once the current recording is safely saved.
    pub quitting: bool,
    pub operator: Operator,
    /// The last key the candidate pressed (idle detection).
    pub last_input: Instant,
    /// The reset countdown on screen, ending at this instant.
    pub idle_ends: Option<Instant>,
    /// The last technical problem, for the station's status (not shown to candidates).
    pub last_error: Option<String>,
    /// Per question: its answer's upload, while it runs.
    pub uploads: Vec<UploadView>,
    /// When the candidate's activity was last noted on disk (at most every few seconds).
    pub activity_noted: Option<Instant>,
    /// Wall-clock time, for the stamps on consents and grants.
    pub wall: WallClock,
}

impl State {
    /// Take `take` of question `q` of this session, as reports name it.
    pub fn take_ref(&self, q: usize, take: usize) -> TakeRef {
        TakeRef {
            session: self.progress.session_id.clone(),
            question: q,
            take,
        }
    }

    /// Whether a report about `session` concerns the candidate on screen.
    pub fn is_current(&self, session: &str) -> bool {
        self.progress.session_id == session
    }

    /// The effect that writes the progress as it is now.
    pub fn save(&self) -> Effect {
        Effect::SaveProgress {
            dir: self.settings.session_dir.clone(),
            progress: Box::new(self.progress.clone()),
        }
    }

    /// What the upload side needs of take `take` of question `q`.
    pub fn submission(&self, q: usize, take: usize) -> Submission {
        Submission {
            take: self.take_ref(q, take),
            file: self.take_path(q, take),
            candidate_ref: self.progress.candidate_ref.clone(),
            interview_id: self.interview.id.clone(),
            question_id: self.question(q).id.clone(),
            attempt: take as u32 + 1,
            seconds: self.progress.questions[q].takes[take]
                .seconds
                .unwrap_or(0.0),
        }
    }

    pub fn new(
        interview: Arc<Interview>,
        settings: Settings,
        progress: Progress,
        now: Instant,
    ) -> Self {
        let text = crate::i18n::for_language(&interview.language);
        State {
            text,
            interview,
            settings,
            progress,
            phase: Phase::Welcome(CodeEntry::default()),
            now,
            devices: Devices {
                status: DeviceStatus::Closed,
                level: None,
                last_sound: None,
                preview: None,
                preview_hidden: false,
            },
            playback: Playback::default(),
            help: false,
            size: (80, 24),
            notice: None,
            quitting: false,
            operator: Operator {
                step: OperatorStep::Closed,
                failures: 0,
                locked_until: None,
            },
            last_input: now,
            idle_ends: None,
            last_error: None,
            uploads: Vec::new(),
            activity_noted: None,
            wall: WallClock { at: now, unix: 0 },
        }
    }

    pub fn question(&self, q: usize) -> &Question {
        &self.interview.questions[q]
    }

    /// The answer limit of question `q`, with any extra time staff granted.
    pub fn answer_limit(&self, q: usize) -> Duration {
        self.question(q).answer_limit
            + Duration::from_secs(self.progress.questions[q].extra_answer_seconds)
    }

    /// The preparation time of question `q`, with any extra time staff granted.
    pub fn preparation(&self, q: usize) -> Duration {
        self.question(q).preparation
            + Duration::from_secs(self.progress.questions[q].extra_preparation_seconds)
    }

    /// Attempts the candidate may still start for question `q`.
    pub fn attempts_left(&self, q: usize) -> u32 {
        let p = &self.progress.questions[q];
        (self.question(q).attempts + p.extra_attempts).saturating_sub(p.attempts_used)
    }

    /// Whether the microphone has recently heard the candidate (the "make some noise" rule).
    pub fn heard_sound(&self) -> bool {
        self.devices
            .last_sound
            .is_some_and(|t| self.now.saturating_duration_since(t) <= self.settings.gate_memory)
    }

    /// Seconds of silence while recording, once past the warning threshold.
    pub fn silent_for(&self) -> Option<Duration> {
        let since = match (&self.phase, self.devices.last_sound) {
            (
                Phase::Recording {
                    started: Some(s), ..
                },
                Some(t),
            ) => t.max(*s),
            (
                Phase::Recording {
                    started: Some(s), ..
                },
                None,
            ) => *s,
            _ => return None,
        };
        let silent = self.now.saturating_duration_since(since);
        (silent >= self.settings.silence_warning).then_some(silent)
    }

    /// The file of a take, inside the session directory.
    pub fn take_path(&self, q: usize, take: usize) -> PathBuf {
        self.settings
            .session_dir
            .join(&self.progress.questions[q].takes[take].file)
    }

    /// The upload view of question `q` (default when nothing is known).
    pub fn upload(&self, q: usize) -> UploadView {
        self.uploads.get(q).copied().unwrap_or_default()
    }

    fn upload_mut(&mut self, q: usize) -> &mut UploadView {
        if self.uploads.len() <= q {
            self.uploads.resize(q + 1, UploadView::default());
        }
        &mut self.uploads[q]
    }

    /// Applies an upload report to question `q`.
    pub fn record_upload(&mut self, q: usize, f: impl FnOnce(&mut UploadView)) {
        f(self.upload_mut(q));
    }

    pub fn test_clip_path(&self) -> PathBuf {
        self.settings.session_dir.join("device-test.mp4")
    }

    /// The next question without a submitted answer, starting from `from`.
    pub fn next_open_question(&self, from: usize) -> Option<usize> {
        let n = self.progress.questions.len();
        (0..n)
            .map(|i| (from + i) % n)
            .find(|&i| self.progress.questions[i].submitted_take().is_none())
    }

    /// Whether a take of question `q` is recorded and waiting for the candidate's decision.
    pub fn pending_take(&self, q: usize) -> Option<usize> {
        self.progress.questions[q]
            .current_take()
            .filter(|(_, t)| matches!(t.state, TakeState::Saved | TakeState::Interrupted))
            .map(|(i, _)| i)
    }
}
