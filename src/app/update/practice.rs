//! The way into every recording and the practice question, as rules of `update`: the
//! microphone's gate, then the 3-2-1 countdown (its length from the interview or the station,
//! zero for none; Esc goes back, and nothing is recorded or counted before it ends), then the
//! recording for its [`Slot`]. The practice take is recorded and reviewed like an answer, but
//! it is never submitted, never counted against an attempt, and may be tried again as often
//! as the candidate likes; its file stays in the session directory (wiped with it) and is
//! deleted when it is recorded again or left behind.

use super::super::msg::{Effect, Key, Purpose, RecordingProblem};
use super::super::state::{Notice, Phase, PracticeStep, Prep, Slot, State};
use super::answer::start_answer;
use super::devices::must_wait;

/// The candidate asked to record `slot` (or the preparation ran out): once the microphone has
/// heard them, the countdown starts; until then the screen asks for a sound.
pub(super) fn try_start(state: &mut State, slot: Slot) -> Vec<Effect> {
    // A lost camera or microphone: the place is kept and the sentence says why.
    if must_wait(state) {
        return Vec::new();
    }
    if state.heard_sound() {
        return begin(state, slot);
    }
    state.session.phase = match slot {
        Slot::Question(q) => Phase::Question {
            q,
            prep: Prep::WaitingForSound,
        },
        Slot::Practice => Phase::Practice(PracticeStep::WaitingForSound),
    };
    Vec::new()
}

/// The countdown before recording `slot`, or the recording at once when it is off.
pub(super) fn begin(state: &mut State, slot: Slot) -> Vec<Effect> {
    if must_wait(state) {
        return Vec::new();
    }
    if let Slot::Question(q) = slot
        && state.attempts_left(q) == 0
    {
        return Vec::new();
    }
    let countdown = state.countdown();
    if countdown.is_zero() {
        return record(state, slot);
    }
    state.session.notice = None;
    state.session.phase = Phase::Countdown {
        slot,
        ends: state.now + countdown,
    };
    Vec::new()
}

/// The countdown is over: the recording starts.
pub(super) fn record(state: &mut State, slot: Slot) -> Vec<Effect> {
    if must_wait(state) {
        back_from_countdown(state, slot);
        return Vec::new();
    }
    match slot {
        Slot::Question(q) => start_answer(state, q),
        Slot::Practice => start_practice(state),
    }
}

/// Keys during the countdown: Esc goes back to where the candidate asked to record, without
/// using an attempt; nothing else interrupts the 3-2-1.
pub(super) fn countdown_key(state: &mut State, slot: Slot, key: Key) -> Vec<Effect> {
    if key == Key::Esc {
        back_from_countdown(state, slot);
    }
    Vec::new()
}

/// Back to where the candidate asked to record `slot`, nothing used.
fn back_from_countdown(state: &mut State, slot: Slot) {
    state.session.phase = match slot {
        Slot::Question(q) => Phase::Question {
            q,
            prep: Prep::Ready,
        },
        Slot::Practice => Phase::Practice(PracticeStep::Ready),
    };
}

/// Where the candidate goes after the device test: the practice question when the interview
/// has one, else the questions.
pub(super) fn after_device_test(state: &State) -> Phase {
    if state.session.interview.practice.is_some() {
        Phase::Practice(PracticeStep::Ready)
    } else {
        questions(state)
    }
}

fn questions(state: &State) -> Phase {
    Phase::Questions {
        selected: state.next_open_question(0).unwrap_or(0),
    }
}

/// The practice question again, from the question list.
pub(super) fn open(state: &mut State) -> Vec<Effect> {
    if state.session.interview.practice.is_some() {
        state.session.notice = None;
        state.session.phase = Phase::Practice(PracticeStep::Ready);
    }
    Vec::new()
}

fn start_practice(state: &mut State) -> Vec<Effect> {
    state.session.notice = None;
    state.session.playback = Default::default();
    state.session.phase = Phase::Practice(PracticeStep::Recording {
        started: None,
        stopping: false,
    });
    vec![Effect::StartRecording {
        purpose: Purpose::Practice {
            session: state.session.progress.session_id.clone(),
        },
        file: state.practice_path(),
        limit: state.slot_limit(Slot::Practice),
    }]
}

/// Keys on the practice screens: start, stop or hide the picture, and on the review record
/// again (as often as the candidate likes), watch, or go on to the questions.
pub(super) fn practice_key(state: &mut State, step: PracticeStep, key: Key) -> Vec<Effect> {
    match step {
        PracticeStep::Ready => match key {
            Key::Enter | Key::Char('s') => try_start(state, Slot::Practice),
            Key::Esc => leave(state),
            _ => Vec::new(),
        },
        PracticeStep::WaitingForSound => match key {
            Key::Esc => leave(state),
            _ => Vec::new(),
        },
        PracticeStep::Recording {
            started: Some(_),
            stopping: false,
        } => match key {
            Key::Enter | Key::Char('s') => stop(state),
            Key::Char('h') => {
                state.session.preview_hidden = !state.session.preview_hidden;
                Vec::new()
            }
            _ => Vec::new(),
        },
        PracticeStep::Recording { .. } => Vec::new(),
        PracticeStep::Review { playing, seconds } => match key {
            Key::Enter => leave(state),
            Key::Char('r') => {
                let file = state.practice_path();
                state.session.playback = Default::default();
                let mut fx = vec![Effect::StopPlayback, Effect::DeleteFile(file)];
                fx.extend(begin(state, Slot::Practice));
                fx
            }
            Key::Char('p') | Key::Space => {
                state.session.phase = Phase::Practice(PracticeStep::Review {
                    playing: !playing,
                    seconds,
                });
                vec![if playing {
                    Effect::StopPlayback
                } else {
                    Effect::Play {
                        file: state.practice_path(),
                    }
                }]
            }
            _ => Vec::new(),
        },
    }
}

/// Stops the practice take (a tick at its limit, or the candidate's key).
pub(super) fn stop(state: &mut State) -> Vec<Effect> {
    if let Phase::Practice(PracticeStep::Recording { stopping, .. }) = &mut state.session.phase {
        *stopping = true;
    }
    vec![Effect::StopRecording]
}

/// On to the questions; the practice take, if any, is deleted (it was never going anywhere).
fn leave(state: &mut State) -> Vec<Effect> {
    state.session.notice = None;
    state.session.playback = Default::default();
    state.session.phase = questions(state);
    vec![
        Effect::StopPlayback,
        Effect::DeleteFile(state.practice_path()),
    ]
}

/// The practice take is saved: the candidate reviews it (nothing is counted or saved in the
/// progress: the practice is not part of the interview's record).
pub(super) fn saved(state: &mut State, seconds: f64) {
    if matches!(state.session.phase, Phase::Practice(_)) {
        state.session.phase = Phase::Practice(PracticeStep::Review {
            playing: false,
            seconds,
        });
    }
}

/// The practice take failed: what was kept is reviewable; otherwise back to the start, with
/// a plain sentence. Staff are called only when the disk is full.
pub(super) fn failed(
    state: &mut State,
    problem: RecordingProblem,
    kept_seconds: Option<f64>,
) -> Vec<Effect> {
    if !matches!(state.session.phase, Phase::Practice(_)) {
        return Vec::new();
    }
    match kept_seconds {
        Some(seconds) if seconds > 0.0 => saved(state, seconds),
        _ => state.session.phase = Phase::Practice(PracticeStep::Ready),
    }
    if problem == RecordingProblem::NoSpace {
        state.session.notice = Some(Notice::NoSpace);
        return state.call_staff();
    }
    state.session.notice = Some(Notice::PracticeFailed);
    Vec::new()
}
