//! Where the candidate is: the explicit [`Phase`], each variant carrying only what that step
//! needs, with the device test's, the preparation's and the practice's own steps, the 3-2-1
//! before a recording ([`Slot`] says whose), and the short notice shown about the last thing
//! that went wrong.

use std::time::Instant;

use super::{CodeEntry, DeviceProblem};

use crate::app::msg::ClipChecks;

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
    /// 3-2-1 before a recording, the camera picture on screen; recording starts at `ends`.
    /// Nothing is recorded or counted yet, so going back costs nothing.
    Countdown {
        slot: Slot,
        ends: Instant,
    },
    /// The practice question (offered after the device test): never sent, never counted.
    Practice(PracticeStep),
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

impl Phase {
    /// The screen's name, as the call-staff webhook and the log give it.
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Welcome(_) => "welcome",
            Phase::Consent => "consent",
            Phase::Declined { .. } => "declined",
            Phase::Overview => "overview",
            Phase::DeviceTest(_) => "device_test",
            Phase::Questions { .. } => "questions",
            Phase::Question { .. } => "question",
            Phase::Countdown { .. } => "countdown",
            Phase::Practice(_) => "practice",
            Phase::Recording { .. } => "recording",
            Phase::Review { .. } => "review",
            Phase::Submitting { .. } => "submitting",
            Phase::Done { .. } => "done",
            Phase::Resetting => "resetting",
            Phase::OutOfOrder => "out_of_order",
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

/// What a recording is for: the answer to a question, or the practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Practice,
    Question(usize),
}

/// The steps of the practice question, like an answer's but never sent or counted.
#[derive(Debug, Clone, PartialEq)]
pub enum PracticeStep {
    /// The practice question on screen; recording starts on the candidate's key.
    Ready,
    /// The candidate asked to start, but the microphone has not heard them yet.
    WaitingForSound,
    Recording {
        /// Set when the pipeline reports it is recording.
        started: Option<Instant>,
        stopping: bool,
    },
    /// The practice take, to watch, record again or leave behind.
    Review { playing: bool, seconds: f64 },
}

/// Where the candidate is with the question on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prep {
    /// The question video is playing (or paused); preparation starts when it ends.
    Watching { paused: bool },
    /// Preparation time running out at `ends`.
    Counting { ends: Instant },
    /// No preparation time (or it was skipped): recording starts on the candidate's key.
    Ready,
    /// Time is up or the candidate asked to start, but the microphone has not heard them yet.
    WaitingForSound,
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
    /// The question video could not be played: the question is read instead.
    VideoFailed,
    /// The practice recording did not start or was cut short.
    PracticeFailed,
    /// The camera or microphone went away; booth is reconnecting it.
    DeviceLost(DeviceProblem),
    /// The lost device works again.
    DevicesBack,
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
            Notice::VideoFailed => "question.video_failed",
            Notice::PracticeFailed => "practice.failed",
            Notice::DeviceLost(problem) => problem.lost_key(),
            Notice::DevicesBack => "devices.back",
        }
    }
}
