//! The whole state of the screen, read by `view` and changed only by `update`, in two parts:
//! the station's ([`State`]: settings, the flow's clock, the devices, the operator menu) and the
//! candidate's ([`Session`]: the interview, the persisted progress, where they are, their
//! language, what is playing). A new candidate replaces the `Session` as one value, so nothing
//! of the last candidate can stay behind on screen.

mod code;
mod devices;
mod operator;
mod phase;
mod settings;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::msg::{Effect, Submission, TakeRef};
use crate::i18n::Text;
use crate::interview::{Interview, Question};
use crate::session::{Progress, TakeState};

pub use code::{CodeEntry, CodeProblem};
pub use devices::{
    DeviceProblem, DeviceStatus, Devices, Playback, REOPEN_FIRST, REOPEN_MAX, Reopen, UploadView,
    reopen_delay,
};
pub use operator::{Operator, OperatorAction, OperatorPage, OperatorStep};
pub use phase::{Notice, Phase, PracticeStep, Prep, Slot, TestStep};
pub use settings::{CodeMode, Settings, Target};

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

/// Everything that belongs to one candidate. Replaced whole when the next candidate's session
/// starts ([`Session::new`]): a field added here is reset with the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub interview: Arc<Interview>,
    pub progress: Progress,
    /// Where this candidate's recordings and progress live.
    pub dir: PathBuf,
    pub phase: Phase,
    /// A short plain message about the last thing that went wrong, shown until the next step.
    pub notice: Option<Notice>,
    pub help: bool,
    /// How many lines help is scrolled down (the screen stops at its last line).
    pub help_scroll: u16,
    /// The words on screen, in the candidate's language.
    pub text: Arc<Text>,
    /// The take or question video being shown.
    pub playback: Playback,
    /// Per question: its answer's upload, while it runs.
    pub uploads: Vec<UploadView>,
    /// The candidate may hide their own picture while answering.
    pub preview_hidden: bool,
    /// Per question: how often its video has started playing for this candidate.
    pub video_plays: Vec<u32>,
    /// The last key the candidate pressed (idle detection).
    pub last_input: Instant,
    /// The reset countdown on screen, ending at this instant.
    pub idle_ends: Option<Instant>,
    /// When the candidate's activity was last noted on disk (at most every few seconds).
    pub activity_noted: Option<Instant>,
}

impl Session {
    /// A candidate's session as it starts (or resumes, with `progress` from the disk): on the
    /// welcome screen, in the interview's language.
    pub fn new(interview: Arc<Interview>, progress: Progress, dir: PathBuf, now: Instant) -> Self {
        // A candidate who picked a language before a restart goes on in it.
        let (text, interview) = match &progress.language {
            Some(picked) => (
                crate::i18n::for_language(picked),
                Arc::new(interview.in_language(picked)),
            ),
            None => (crate::i18n::for_language(&interview.language), interview),
        };
        Session {
            text,
            interview,
            progress,
            dir,
            phase: Phase::Welcome(CodeEntry::default()),
            notice: None,
            help: false,
            help_scroll: 0,
            playback: Playback::default(),
            uploads: Vec::new(),
            preview_hidden: false,
            video_plays: Vec::new(),
            last_input: now,
            idle_ends: None,
            activity_noted: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct State {
    pub settings: Settings,
    /// The candidate on screen.
    pub session: Session,
    pub now: Instant,
    pub devices: Devices,
    /// Terminal size in cells.
    pub size: (u16, u16),
    /// Leaving once the current recording is safely saved.
    pub quitting: bool,
    pub operator: Operator,
    /// The last technical problem, for the station's status (not shown to candidates).
    pub last_error: Option<String>,
    /// Wall-clock time, for the stamps on consents and grants.
    pub wall: WallClock,
}

impl State {
    pub fn new(settings: Settings, session: Session, now: Instant) -> Self {
        State {
            settings,
            session,
            now,
            devices: Devices::closed(),
            size: (80, 24),
            quitting: false,
            operator: Operator {
                step: OperatorStep::Closed,
                failures: 0,
                locked_until: None,
            },
            last_error: None,
            wall: WallClock { at: now, unix: 0 },
        }
    }

    /// Take `take` of question `q` of this session, as reports name it.
    pub fn take_ref(&self, q: usize, take: usize) -> TakeRef {
        TakeRef {
            session: self.session.progress.session_id.clone(),
            question: q,
            take,
        }
    }

    /// Whether a report about `session` concerns the candidate on screen.
    pub fn is_current(&self, session: &str) -> bool {
        self.session.progress.session_id == session
    }

    /// The effect that writes the progress as it is now.
    pub fn save(&self) -> Effect {
        Effect::SaveProgress {
            dir: self.session.dir.clone(),
            progress: Box::new(self.session.progress.clone()),
        }
    }

    /// Calls staff to this candidate: the webhook (if the station has one) and, where the
    /// station rings it, the terminal bell.
    pub fn call_staff(&self) -> Vec<Effect> {
        let mut fx = vec![Effect::CallStaff {
            session: self.session.progress.session_id.clone(),
            phase: self.session.phase.name(),
        }];
        if self.settings.staff_bell {
            fx.push(Effect::RingBell);
        }
        fx
    }

    /// What the upload side needs of take `take` of question `q`.
    pub fn submission(&self, q: usize, take: usize) -> Submission {
        let progress = &self.session.progress;
        Submission {
            take: self.take_ref(q, take),
            file: self.take_path(q, take),
            candidate_ref: progress.candidate_ref.clone(),
            interview_id: self.session.interview.id.clone(),
            question_id: self.question(q).id.clone(),
            attempt: take as u32 + 1,
            seconds: progress.questions[q].takes[take].seconds.unwrap_or(0.0),
        }
    }

    pub fn question(&self, q: usize) -> &Question {
        &self.session.interview.questions[q]
    }

    /// The answer limit of question `q`, with any extra time staff granted.
    pub fn answer_limit(&self, q: usize) -> Duration {
        self.question(q).answer_limit
            + Duration::from_secs(self.session.progress.questions[q].extra_answer_seconds)
    }

    /// The preparation time of question `q`, with any extra time staff granted.
    pub fn preparation(&self, q: usize) -> Duration {
        self.question(q).preparation
            + Duration::from_secs(self.session.progress.questions[q].extra_preparation_seconds)
    }

    /// Attempts the candidate may still start for question `q`.
    pub fn attempts_left(&self, q: usize) -> u32 {
        let p = &self.session.progress.questions[q];
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
        let Phase::Recording {
            started: Some(started),
            ..
        } = self.session.phase
        else {
            return None;
        };
        let since = self.devices.last_sound.map_or(started, |t| t.max(started));
        let silent = self.now.saturating_duration_since(since);
        (silent >= self.settings.silence_warning).then_some(silent)
    }

    /// The file of a take, inside the session directory.
    pub fn take_path(&self, q: usize, take: usize) -> PathBuf {
        self.session
            .dir
            .join(&self.session.progress.questions[q].takes[take].file)
    }

    /// The question staff grants apply to: the one being answered, or the one selected.
    pub fn grant_question(&self) -> Option<usize> {
        match self.session.phase {
            Phase::Question { q, .. }
            | Phase::Recording { q, .. }
            | Phase::Review { q, .. }
            | Phase::Countdown {
                slot: Slot::Question(q),
                ..
            } => Some(q),
            Phase::Questions { selected } => Some(selected),
            _ => self.session.progress.current,
        }
    }

    /// The upload view of question `q` (default when nothing is known).
    pub fn upload(&self, q: usize) -> UploadView {
        self.session.uploads.get(q).copied().unwrap_or_default()
    }

    /// Applies an upload report to question `q`.
    pub fn record_upload(&mut self, q: usize, f: impl FnOnce(&mut UploadView)) {
        let uploads = &mut self.session.uploads;
        if uploads.len() <= q {
            uploads.resize(q + 1, UploadView::default());
        }
        f(&mut uploads[q]);
    }

    pub fn test_clip_path(&self) -> PathBuf {
        self.session.dir.join("device-test.mp4")
    }

    /// The practice take's file: in the session directory, never in the outbox.
    pub fn practice_path(&self) -> PathBuf {
        self.session.dir.join(crate::session::PRACTICE_FILE)
    }

    /// The 3-2-1 before each recording: the interview's, else the station's.
    pub fn countdown(&self) -> Duration {
        self.session
            .interview
            .countdown
            .unwrap_or(self.settings.countdown)
    }

    /// Times question `q`'s video has started playing for this candidate.
    pub fn video_plays(&self, q: usize) -> u32 {
        self.session.video_plays.get(q).copied().unwrap_or(0)
    }

    /// Whether question `q`'s video may be watched (once more).
    pub fn replays_left(&self, q: usize) -> u32 {
        let Some(plays) = self.video_plays(q).checked_sub(1) else {
            return u32::from(self.question(q).video.is_some());
        };
        self.question(q).video_replays.saturating_sub(plays)
    }

    /// Counts one more start of question `q`'s video.
    pub fn note_video_play(&mut self, q: usize) {
        let plays = &mut self.session.video_plays;
        if plays.len() <= q {
            plays.resize(q + 1, 0);
        }
        plays[q] += 1;
    }

    /// The text on screen while `slot` is answered.
    pub fn slot_text(&self, slot: Slot) -> &str {
        match slot {
            Slot::Question(q) => &self.question(q).text,
            Slot::Practice => self
                .session
                .interview
                .practice
                .as_ref()
                .map_or("", |p| p.text.as_str()),
        }
    }

    /// Where a recording for `slot` stops by itself.
    pub fn slot_limit(&self, slot: Slot) -> Duration {
        match slot {
            Slot::Question(q) => self.answer_limit(q),
            Slot::Practice => self
                .session
                .interview
                .practice
                .as_ref()
                .map_or(Duration::ZERO, |p| p.answer_limit),
        }
    }

    /// The shortest recording for `slot` the candidate may stop (none for the practice).
    pub fn slot_minimum(&self, slot: Slot) -> Duration {
        match slot {
            Slot::Question(q) => self.question(q).minimum_answer.unwrap_or_default(),
            Slot::Practice => Duration::ZERO,
        }
    }

    /// The next question without a submitted answer, starting from `from`.
    pub fn next_open_question(&self, from: usize) -> Option<usize> {
        let questions = &self.session.progress.questions;
        let n = questions.len();
        (0..n)
            .map(|i| (from + i) % n)
            .find(|&i| questions[i].submitted_take().is_none())
    }

    /// Whether a take of question `q` is recorded and waiting for the candidate's decision.
    pub fn pending_take(&self, q: usize) -> Option<usize> {
        self.session.progress.questions[q]
            .current_take()
            .filter(|(_, t)| matches!(t.state, TakeState::Saved | TakeState::Interrupted))
            .map(|(i, _)| i)
    }
}
