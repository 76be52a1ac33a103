//! Every rule of the candidate's flow, as one pure function: `update(&mut State, Msg)` changes
//! the state and returns the effects to carry out. No I/O, no clocks (time arrives in
//! `Msg::Tick`), no threads — so each rule is tested by feeding messages and reading the state.
//!
//! This file routes each message and key to the rules, which live beside it by what they are
//! about: `arrival` (code, consent, done), `device_test`, `answer` (the question list and an
//! answer's life), `question_video` (watching, pausing, replaying, a video that fails),
//! `practice` (the gate and the countdown before every recording, and the practice
//! question), `devices` (a device open, lost and reopened), `station` (the operator menu,
//! grants, the idle reset) and `lifecycle` (a session's end, the next one, leaving). The rules
//! import each other one way only (station → arrival → lifecycle; device_test → practice →
//! answer; question_video → answer; station, device_test and practice → devices) and never
//! this file.

use std::time::Duration;

use super::msg::{Effect, Key, Msg, Purpose, UploadNews};
use super::state::{OperatorStep, Phase, PracticeStep, Prep, Session, Slot, State, TestStep};
use crate::session::Delivery;
use answer::{
    questions_key, recording_failed, recording_key, recording_saved, review_key, stop_answer,
    submit_failed, submitted,
};
use device_test::{device_test_key, start_interview};
use lifecycle::{end_session, session_started, terminate};
use practice::{begin, countdown_key, practice_key, record, try_start};

pub use lifecycle::session_end_failed;

/// The candidate's activity is noted on disk at most this often.
const NOTE_ACTIVITY_EVERY: Duration = Duration::from_secs(10);

pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Tick(now) => {
            state.now = now;
            tick(state)
        }
        Msg::Resize { width, height } => {
            state.size = (width, height);
            Vec::new()
        }
        Msg::Key(key) => on_key(state, key),
        Msg::Level(_) | Msg::Preview(_) | Msg::DevicesReady { .. } | Msg::DevicesFailed { .. } => {
            devices(state, msg)
        }
        Msg::RecordingStarted { .. } | Msg::RecordingSaved { .. } | Msg::RecordingFailed { .. } => {
            recording_report(state, msg)
        }
        Msg::PlaybackFrame(_)
        | Msg::PlaybackPosition { .. }
        | Msg::PlaybackLevel(_)
        | Msg::PlaybackSilent
        | Msg::PlaybackEnded
        | Msg::PlaybackFailed => playback(state, msg),
        Msg::Submitted { .. } | Msg::SubmitFailed { .. } | Msg::Upload { .. } => {
            delivery(state, msg)
        }
        Msg::Terminate => terminate(state),
        Msg::Interrupt if state.settings.lockdown => {
            tracing::info!("interrupt ignored: the kiosk is locked");
            Vec::new()
        }
        Msg::Interrupt => terminate(state),
        Msg::PinChecked { .. } | Msg::OperatorPage { .. } | Msg::OperatorPageUpdated { .. } => {
            station::operator_news(state, msg)
        }
        Msg::CodeChecked { code, result } => arrival::code_checked(state, code, result),
        Msg::SessionStarted {
            progress,
            dir,
            interview,
        } => session_started(state, Session::new(interview, progress, dir, state.now)),
        Msg::SessionEndFailed { detail } => session_end_failed(state, detail),
    }
}

/// What the camera and microphone report.
fn devices(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Level(level) => {
            if level.peak_dbfs >= state.settings.noise_gate_dbfs {
                state.devices.last_sound = Some(state.now);
            }
            state.devices.level = Some(level);
            gate_opened(state)
        }
        Msg::Preview(frame) => {
            state.devices.preview = Some(frame);
            Vec::new()
        }
        Msg::DevicesReady {
            opening,
            camera,
            microphone,
        } => devices::ready(state, opening, camera, microphone),
        Msg::DevicesFailed { opening, problem } => devices::failed(state, opening, problem),
        _ => Vec::new(),
    }
}

/// A recording started, was saved or failed; a report about another session changes nothing.
fn recording_report(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::RecordingStarted { purpose } if state.is_current(purpose.session()) => {
            let now = state.now;
            match (&mut state.session.phase, &purpose) {
                (
                    Phase::Recording {
                        q, take, started, ..
                    },
                    Purpose::Answer(t),
                ) if (*q, *take) == (t.question, t.take) => *started = Some(now),
                (
                    Phase::Practice(PracticeStep::Recording { started, .. }),
                    Purpose::Practice { .. },
                ) => *started = Some(now),
                (Phase::DeviceTest(TestStep::Recording { started }), Purpose::TestClip { .. }) => {
                    *started = now
                }
                _ => {}
            }
            Vec::new()
        }
        Msg::RecordingSaved {
            purpose: Purpose::Practice { session },
            seconds,
            ..
        } if state.is_current(&session) => {
            practice::saved(state, seconds);
            quit_if_asked(state)
        }
        Msg::RecordingFailed {
            purpose: Purpose::Practice { session },
            problem,
            detail,
            kept_seconds,
        } if state.is_current(&session) => {
            tracing::warn!(%detail, "practice take failed");
            state.last_error = Some(detail);
            let mut fx = practice::failed(state, problem, kept_seconds);
            fx.extend(quit_if_asked(state));
            fx
        }
        Msg::RecordingSaved {
            purpose,
            seconds,
            checks,
        } if state.is_current(purpose.session()) => {
            recording_saved(state, purpose, seconds, checks)
        }
        Msg::RecordingFailed {
            purpose,
            problem,
            detail,
            kept_seconds,
        } if state.is_current(purpose.session()) => {
            state.last_error = Some(detail.clone());
            let fx = recording_failed(state, purpose, problem, detail, kept_seconds);
            devices::after_recording_failed(state, problem);
            fx
        }
        Msg::RecordingStarted { purpose }
        | Msg::RecordingSaved { purpose, .. }
        | Msg::RecordingFailed { purpose, .. } => {
            tracing::warn!(
                session = purpose.session(),
                "a recording report for another session ignored"
            );
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Leaving was asked while the practice take recorded: it is saved now.
fn quit_if_asked(state: &State) -> Vec<Effect> {
    if state.quitting {
        vec![Effect::Quit]
    } else {
        Vec::new()
    }
}

/// What the take or question video being played reports.
fn playback(state: &mut State, msg: Msg) -> Vec<Effect> {
    let playback = &mut state.session.playback;
    match msg {
        Msg::PlaybackFrame(frame) => playback.frame = Some(frame),
        Msg::PlaybackPosition { position, length } => {
            playback.position = position;
            playback.length = length;
        }
        Msg::PlaybackLevel(level) => playback.level = Some(level),
        Msg::PlaybackSilent => playback.silent = true,
        Msg::PlaybackEnded => return playback_ended(state),
        Msg::PlaybackFailed => {
            if matches!(
                state.session.phase,
                Phase::Question {
                    prep: Prep::Watching { .. },
                    ..
                }
            ) {
                return question_video::video_failed(state);
            }
            // A take that cannot be played back ends like one played to its end.
            tracing::warn!("a take could not be played back");
            return playback_ended(state);
        }
        _ => {}
    }
    Vec::new()
}

/// A take in the outbox (or not), and an answer's news on its way to the platform.
fn delivery(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Submitted { take, answer_id } if state.is_current(&take.session) => {
            submitted(state, take, answer_id)
        }
        Msg::SubmitFailed {
            take,
            problem,
            detail,
        } if state.is_current(&take.session) => submit_failed(state, take, problem, detail),
        Msg::Submitted { take, .. } | Msg::SubmitFailed { take, .. } => {
            tracing::warn!(session = %take.session, "a submission report for another session ignored");
            Vec::new()
        }
        Msg::Upload {
            session,
            question,
            news,
        } if state.is_current(&session) && question < state.session.progress.questions.len() => {
            upload_news(state, question, news)
        }
        // An answer of an earlier candidate: the outbox has it; this candidate's screen does
        // not change.
        _ => Vec::new(),
    }
}

/// News of an answer of this candidate on its way to the platform.
fn upload_news(state: &mut State, question: usize, news: UploadNews) -> Vec<Effect> {
    match news {
        UploadNews::Progress { sent, total } => state.record_upload(question, |u| {
            u.sent = sent;
            u.total = total;
            u.waiting = false;
        }),
        UploadNews::Waiting => state.record_upload(question, |u| u.waiting = true),
        UploadNews::Delivered => {
            state.record_upload(question, |u| u.waiting = false);
            let q = &mut state.session.progress.questions[question];
            if q.delivery != Delivery::Uploaded {
                q.delivery = Delivery::Uploaded;
                return vec![state.save()];
            }
        }
        UploadNews::Refused { reason } => {
            tracing::error!(question, %reason, "the platform refused an answer");
            state.last_error = Some(format!("answer {} refused: {reason}", question + 1));
            state.record_upload(question, |u| u.refused = true);
        }
    }
    Vec::new()
}

fn tick(state: &mut State) -> Vec<Effect> {
    let idle = station::idle_tick(state);
    if !idle.is_empty() {
        return idle;
    }
    let mut fx = devices::tick(state);
    fx.extend(phase_tick(state));
    fx
}

/// What the flow's clock does on the candidate's screen.
fn phase_tick(state: &mut State) -> Vec<Effect> {
    let now = state.now;
    match state.session.phase.clone() {
        Phase::Question {
            q,
            prep: Prep::Counting { ends },
        } if now >= ends => try_start(state, Slot::Question(q)),
        Phase::Countdown { slot, ends } if now >= ends => record(state, slot),
        Phase::Practice(PracticeStep::Recording {
            started: Some(started),
            stopping: false,
        }) if now >= started + state.slot_limit(Slot::Practice) => practice::stop(state),
        Phase::Recording {
            q,
            started: Some(started),
            stopping: false,
            ..
        } if now >= started + state.answer_limit(q) => stop_answer(state),
        Phase::DeviceTest(TestStep::Recording { started })
            if now >= started + state.settings.test_clip =>
        {
            state.session.phase = Phase::DeviceTest(TestStep::Saving);
            vec![Effect::StopRecording]
        }
        Phase::Done { ends } if now >= ends => arrival::finish(state),
        Phase::Declined { ends } if now >= ends => end_session(state),
        _ => Vec::new(),
    }
}

/// A sound was heard: a candidate waiting on the gate starts recording at once.
fn gate_opened(state: &mut State) -> Vec<Effect> {
    match state.session.phase {
        Phase::Question {
            q,
            prep: Prep::WaitingForSound,
        } if state.heard_sound() => begin(state, Slot::Question(q)),
        Phase::Practice(PracticeStep::WaitingForSound) if state.heard_sound() => {
            begin(state, Slot::Practice)
        }
        _ => Vec::new(),
    }
}

fn on_key(state: &mut State, key: Key) -> Vec<Effect> {
    let mut fx = handle_key(state, key);
    if let Some(note) = note_activity(state) {
        fx.push(note);
    }
    fx
}

/// Notes the candidate's key on disk now and then, so that a restart knows how long the
/// station has been left alone (a walked-away candidate's screen is never reopened).
fn note_activity(state: &mut State) -> Option<Effect> {
    if matches!(state.session.phase, Phase::Welcome(_) | Phase::Resetting) {
        return None;
    }
    let due = state
        .session
        .activity_noted
        .is_none_or(|t| state.now.saturating_duration_since(t) >= NOTE_ACTIVITY_EVERY);
    due.then(|| {
        state.session.activity_noted = Some(state.now);
        Effect::NoteActivity {
            dir: state.session.dir.clone(),
        }
    })
}

fn handle_key(state: &mut State, key: Key) -> Vec<Effect> {
    state.session.last_input = state.now;
    // A key during the reset countdown only says "still here".
    if state.session.idle_ends.take().is_some() {
        return Vec::new();
    }
    if state.operator.step != OperatorStep::Closed {
        return station::operator_key(state, key);
    }
    if key == Key::Operator {
        return station::open_operator(state);
    }
    if state.session.help {
        return help_key(state, key);
    }
    if key == Key::Help {
        state.session.help = true;
        return Vec::new();
    }
    let key = match key {
        Key::Char(c) => Key::Char(c.to_ascii_lowercase()),
        k => k,
    };
    phase_key(state, key)
}

/// Help's keys: close it, call staff, or scroll (a line, or a page of `HELP_PAGE` lines; how
/// far down it can go is the screen's to say, which shows the end where the scroll passes it).
fn help_key(state: &mut State, key: Key) -> Vec<Effect> {
    let scroll = &mut state.session.help_scroll;
    match key {
        Key::Esc | Key::Help | Key::Enter => {
            state.session.help = false;
            *scroll = 0;
        }
        Key::Char('c') | Key::Char('C') => {
            state.session.help = false;
            *scroll = 0;
            return station::call_staff(state);
        }
        Key::Up => *scroll = scroll.saturating_sub(1),
        Key::Down => *scroll = (*scroll + 1).min(HELP_SCROLL_MAX),
        Key::PageUp => *scroll = scroll.saturating_sub(HELP_PAGE),
        Key::PageDown => *scroll = (*scroll + HELP_PAGE).min(HELP_SCROLL_MAX),
        _ => {}
    }
    Vec::new()
}

/// Lines a PgUp/PgDn moves help by, and the furthest it is scrolled (help is a few dozen
/// lines even on the smallest screen).
const HELP_PAGE: u16 = 8;
const HELP_SCROLL_MAX: u16 = 60;

/// A key for the screen the candidate is on.
fn phase_key(state: &mut State, key: Key) -> Vec<Effect> {
    match state.session.phase.clone() {
        Phase::Welcome(entry) => arrival::welcome_key(state, entry, key),
        Phase::Consent => arrival::consent_key(state, key),
        Phase::Declined { .. } => match key {
            Key::Enter => end_session(state),
            _ => Vec::new(),
        },
        Phase::Overview => match key {
            Key::Enter => start_interview(state),
            _ => Vec::new(),
        },
        Phase::DeviceTest(step) => device_test_key(state, step, key),
        Phase::Questions { .. } if key == Key::Char('p') => practice::open(state),
        Phase::Questions { selected } => questions_key(state, selected, key),
        Phase::Question {
            q,
            prep: Prep::Watching { paused },
        } => question_video::watching_key(state, q, paused, key),
        Phase::Question { q, .. } => match key {
            Key::Enter | Key::Char('s') => try_start(state, Slot::Question(q)),
            Key::Char('v') => question_video::replay(state, q),
            _ => Vec::new(),
        },
        Phase::Countdown { slot, .. } => countdown_key(state, slot, key),
        Phase::Practice(step) => practice_key(state, step, key),
        Phase::Recording {
            q,
            started: Some(started),
            stopping: false,
            ..
        } => recording_key(state, q, started, key),
        Phase::Recording { .. } => Vec::new(),
        Phase::Review { q, take, playing } => review_key(state, q, take, playing, key),
        Phase::Done { .. } => match key {
            Key::Enter => arrival::finish(state),
            _ => Vec::new(),
        },
        Phase::Submitting { .. } | Phase::Resetting | Phase::OutOfOrder => Vec::new(),
    }
}

fn playback_ended(state: &mut State) -> Vec<Effect> {
    match state.session.phase.clone() {
        Phase::Question {
            prep: Prep::Watching { .. },
            ..
        } => return question_video::video_over(state),
        Phase::Practice(PracticeStep::Review { seconds, .. }) => {
            state.session.phase = Phase::Practice(PracticeStep::Review {
                playing: false,
                seconds,
            });
        }
        Phase::Review { q, take, .. } => {
            state.session.phase = Phase::Review {
                q,
                take,
                playing: false,
            };
        }
        Phase::DeviceTest(TestStep::Review { checks, .. }) => {
            state.session.phase = Phase::DeviceTest(TestStep::Review {
                checks,
                playing: false,
            });
        }
        _ => {}
    }
    Vec::new()
}

mod answer;
mod arrival;
#[cfg(test)]
mod arrival_tests;
mod device_test;
mod devices;
#[cfg(test)]
mod devices_tests;
#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod joint_tests;
mod lifecycle;
mod practice;
#[cfg(test)]
mod practice_tests;
mod question_video;
mod receipt;
mod station;
#[cfg(test)]
mod station_tests;
#[cfg(test)]
mod tests;
