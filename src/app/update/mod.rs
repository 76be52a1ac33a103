//! Every rule of the candidate's flow, as one pure function: `update(&mut State, Msg)` changes
//! the state and returns the effects to carry out. No I/O, no clocks (time arrives in
//! `Msg::Tick`), no threads — so each rule is tested by feeding messages and reading the state.

use std::time::Duration;

use super::msg::{Effect, Key, ManifestInfo, Msg, Purpose, UploadNews};
use super::state::{DeviceStatus, Notice, OperatorStep, Phase, Prep, Session, State, TestStep};
use super::station;
use crate::session::{Delivery, Take, TakeState};
use answer::{
    recording_failed, recording_saved, review_key, start_answer, stop_answer, submit_failed,
    submitted, try_start,
};

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
        Msg::DevicesReady { camera, microphone } => {
            state.devices.status = DeviceStatus::Ready { camera, microphone };
            Vec::new()
        }
        Msg::DevicesFailed { problem } => {
            state.last_error = Some(format!("devices: {problem:?}"));
            state.devices.status = DeviceStatus::Failed(problem);
            state.devices.preview = None;
            Vec::new()
        }
        Msg::Key(key) => on_key(state, key),
        Msg::RecordingStarted { purpose } if state.is_current(purpose.session()) => {
            let now = state.now;
            match (&mut state.session.phase, &purpose) {
                (
                    Phase::Recording {
                        q, take, started, ..
                    },
                    Purpose::Answer(t),
                ) if (*q, *take) == (t.question, t.take) => *started = Some(now),
                (Phase::DeviceTest(TestStep::Recording { started }), Purpose::TestClip { .. }) => {
                    *started = now
                }
                _ => {}
            }
            Vec::new()
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
            recording_failed(state, purpose, problem, detail, kept_seconds)
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
        Msg::PlaybackFrame(frame) => {
            state.session.playback.frame = Some(frame);
            Vec::new()
        }
        Msg::PlaybackPosition { position, length } => {
            state.session.playback.position = position;
            state.session.playback.length = length;
            Vec::new()
        }
        Msg::PlaybackLevel(level) => {
            state.session.playback.level = Some(level);
            Vec::new()
        }
        Msg::PlaybackSilent => {
            state.session.playback.silent = true;
            Vec::new()
        }
        Msg::PlaybackEnded => playback_ended(state),
        Msg::Submitted { take, answer_id } if state.is_current(&take.session) => {
            submitted(state, take, answer_id)
        }
        Msg::SubmitFailed { take, detail } if state.is_current(&take.session) => {
            submit_failed(state, take, detail)
        }
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
        Msg::Upload { .. } => Vec::new(),
        Msg::Terminate => terminate(state),
        Msg::Interrupt if state.settings.lockdown => {
            tracing::info!("interrupt ignored: the kiosk is locked");
            Vec::new()
        }
        Msg::Interrupt => terminate(state),
        Msg::PinChecked { ok } => station::pin_checked(state, ok),
        Msg::OperatorPage { title, lines } => {
            if state.operator.step != OperatorStep::Closed {
                state.operator.step = OperatorStep::Page { title, lines };
            }
            Vec::new()
        }
        Msg::OperatorPageUpdated { title, lines } => {
            if matches!(&state.operator.step, OperatorStep::Page { title: open, .. } if *open == title)
            {
                state.operator.step = OperatorStep::Page { title, lines };
            }
            Vec::new()
        }
        Msg::CodeChecked { code, result } => arrival::code_checked(state, code, result),
        Msg::SessionStarted {
            progress,
            dir,
            interview,
        } => station::session_started(state, Session::new(interview, progress, dir, state.now)),
        Msg::SessionEndFailed { detail } => station::session_end_failed(state, detail),
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
    let now = state.now;
    let idle = station::idle_tick(state);
    if !idle.is_empty() {
        return idle;
    }
    match state.session.phase.clone() {
        Phase::Question {
            q,
            prep: Prep::Counting { ends },
        } if now >= ends => try_start(state, q),
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
        Phase::Declined { ends } if now >= ends => station::end_session(state),
        _ => Vec::new(),
    }
}

/// A sound was heard: a candidate waiting on the gate starts recording at once.
fn gate_opened(state: &mut State) -> Vec<Effect> {
    match state.session.phase {
        Phase::Question {
            q,
            prep: Prep::WaitingForSound,
        } if state.heard_sound() => start_answer(state, q),
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
        match key {
            Key::Esc | Key::Help | Key::Enter => state.session.help = false,
            Key::Char('c') | Key::Char('C') => {
                state.session.help = false;
                return station::call_staff(state);
            }
            _ => {}
        }
        return Vec::new();
    }
    if key == Key::Help {
        state.session.help = true;
        return Vec::new();
    }
    let key = match key {
        Key::Char(c) => Key::Char(c.to_ascii_lowercase()),
        k => k,
    };
    match state.session.phase.clone() {
        Phase::Welcome(entry) => arrival::welcome_key(state, entry, key),
        Phase::Consent => arrival::consent_key(state, key),
        Phase::Declined { .. } => match key {
            Key::Enter => station::end_session(state),
            _ => Vec::new(),
        },
        Phase::Overview => match key {
            Key::Enter => start_interview(state),
            _ => Vec::new(),
        },
        Phase::DeviceTest(step) => device_test_key(state, step, key),
        Phase::Questions { selected } => questions_key(state, selected, key),
        Phase::Question { q, prep } => match key {
            Key::Enter | Key::Char('s') if prep != Prep::Watching => try_start(state, q),
            Key::Enter | Key::Char('s') => {
                // Skipping the rest of the question video starts the preparation time.
                let mut fx = vec![Effect::StopPlayback];
                fx.extend(playback_ended(state));
                fx
            }
            _ => Vec::new(),
        },
        Phase::Recording {
            q,
            started: Some(started),
            stopping: false,
            ..
        } => match key {
            Key::Enter | Key::Char('s') => {
                let minimum = state.question(q).minimum_answer.unwrap_or_default();
                if state.now.saturating_duration_since(started) >= minimum {
                    stop_answer(state)
                } else {
                    Vec::new()
                }
            }
            Key::Char('h') => {
                state.session.preview_hidden = !state.session.preview_hidden;
                Vec::new()
            }
            _ => Vec::new(),
        },
        Phase::Recording { .. } => Vec::new(),
        Phase::Review { q, take, playing } => review_key(state, q, take, playing, key),
        Phase::Done { .. } => match key {
            Key::Enter => arrival::finish(state),
            _ => Vec::new(),
        },
        Phase::Submitting { .. } | Phase::Resetting | Phase::OutOfOrder => Vec::new(),
    }
}

/// The candidate picks the language on the welcome screen (the interview's is the default).
pub(super) fn switch_language(state: &mut State, forward: bool) {
    let all = crate::i18n::languages();
    if all.is_empty() {
        return;
    }
    let at = all
        .iter()
        .position(|t| t.code == state.session.text.code)
        .unwrap_or(0);
    let next = if forward {
        (at + 1) % all.len()
    } else {
        (at + all.len() - 1) % all.len()
    };
    state.session.text = all[next].clone();
}

fn start_interview(state: &mut State) -> Vec<Effect> {
    state.session.notice = None;
    let mut fx = Vec::new();
    if matches!(
        state.devices.status,
        DeviceStatus::Closed | DeviceStatus::Failed(_)
    ) {
        state.devices.status = DeviceStatus::Opening;
        fx.push(Effect::OpenDevices);
    }
    if state.session.progress.device_test_passed {
        state.session.phase = Phase::Questions {
            selected: state.next_open_question(0).unwrap_or(0),
        };
    } else {
        state.session.phase = Phase::DeviceTest(TestStep::Ready);
    }
    fx
}

fn device_test_key(state: &mut State, step: TestStep, key: Key) -> Vec<Effect> {
    match step {
        TestStep::Ready => match key {
            Key::Enter | Key::Char('r') => match state.devices.status {
                DeviceStatus::Ready { .. } => start_test_clip(state),
                DeviceStatus::Failed(_) | DeviceStatus::Closed => {
                    state.devices.status = DeviceStatus::Opening;
                    vec![Effect::OpenDevices]
                }
                DeviceStatus::Opening => Vec::new(),
            },
            _ => Vec::new(),
        },
        TestStep::Recording { started } => match key {
            Key::Enter | Key::Char('s')
                if state.now.saturating_duration_since(started)
                    >= state.settings.test_clip_minimum =>
            {
                state.session.phase = Phase::DeviceTest(TestStep::Saving);
                vec![Effect::StopRecording]
            }
            _ => Vec::new(),
        },
        TestStep::Saving => Vec::new(),
        TestStep::Review { checks, playing } => {
            let clip = state.test_clip_path();
            match key {
                Key::Enter if checks.all_good() => test_passed(state),
                Key::Char('l') | Key::Char('c') => test_passed(state),
                Key::Enter | Key::Char('r') => {
                    let mut fx = vec![Effect::StopPlayback, Effect::DeleteFile(clip)];
                    fx.extend(start_test_clip(state));
                    fx
                }
                Key::Char('p') | Key::Space => {
                    state.session.phase = Phase::DeviceTest(TestStep::Review {
                        checks,
                        playing: !playing,
                    });
                    vec![if playing {
                        Effect::StopPlayback
                    } else {
                        Effect::Play { file: clip }
                    }]
                }
                _ => Vec::new(),
            }
        }
    }
}

fn start_test_clip(state: &mut State) -> Vec<Effect> {
    state.session.notice = None;
    state.session.playback = Default::default();
    state.session.phase = Phase::DeviceTest(TestStep::Recording { started: state.now });
    vec![Effect::StartRecording {
        purpose: Purpose::TestClip {
            session: state.session.progress.session_id.clone(),
        },
        file: state.test_clip_path(),
        limit: state.settings.test_clip,
    }]
}

fn test_passed(state: &mut State) -> Vec<Effect> {
    state.session.progress.device_test_passed = true;
    state.session.playback = Default::default();
    state.session.phase = Phase::Questions {
        selected: state.next_open_question(0).unwrap_or(0),
    };
    vec![
        Effect::StopPlayback,
        Effect::DeleteFile(state.test_clip_path()),
        state.save(),
    ]
}

fn questions_key(state: &mut State, selected: usize, key: Key) -> Vec<Effect> {
    let n = state.session.interview.questions.len();
    match key {
        Key::Up | Key::Left => {
            state.session.phase = Phase::Questions {
                selected: selected.saturating_sub(1),
            };
            Vec::new()
        }
        Key::Down | Key::Right | Key::Tab => {
            state.session.phase = Phase::Questions {
                selected: (selected + 1).min(n.saturating_sub(1)),
            };
            Vec::new()
        }
        Key::Enter => open_question(state, selected),
        _ => Vec::new(),
    }
}

fn open_question(state: &mut State, q: usize) -> Vec<Effect> {
    if state.session.progress.questions[q]
        .submitted_take()
        .is_some()
    {
        return Vec::new();
    }
    state.session.notice = None;
    state.session.progress.current = Some(q);
    if let Some(take) = state.pending_take(q) {
        state.session.phase = Phase::Review {
            q,
            take,
            playing: false,
        };
        return vec![state.save()];
    }
    if state.attempts_left(q) == 0 {
        return Vec::new();
    }
    let mut fx = vec![state.save()];
    match state.question(q).video.clone() {
        Some(video) => {
            state.session.playback = Default::default();
            state.session.phase = Phase::Question {
                q,
                prep: Prep::Watching,
            };
            fx.push(Effect::Play { file: video });
        }
        None => {
            state.session.phase = Phase::Question {
                q,
                prep: preparation(state, q),
            };
        }
    }
    fx
}

fn preparation(state: &State, q: usize) -> Prep {
    let prep = state.preparation(q);
    if prep.is_zero() {
        Prep::Ready
    } else {
        Prep::Counting {
            ends: state.now + prep,
        }
    }
}

fn playback_ended(state: &mut State) -> Vec<Effect> {
    match state.session.phase.clone() {
        Phase::Question {
            q,
            prep: Prep::Watching,
        } => {
            state.session.phase = Phase::Question {
                q,
                prep: preparation(state, q),
            };
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

pub(super) fn terminate(state: &mut State) -> Vec<Effect> {
    state.quitting = true;
    match &mut state.session.phase {
        Phase::Recording { stopping, .. } => {
            *stopping = true;
            vec![Effect::StopRecording]
        }
        Phase::DeviceTest(TestStep::Recording { .. }) => {
            state.session.phase = Phase::DeviceTest(TestStep::Saving);
            vec![Effect::StopRecording]
        }
        Phase::DeviceTest(TestStep::Saving) => Vec::new(),
        _ => vec![Effect::StopPlayback, state.save(), Effect::Quit],
    }
}

mod answer;
pub mod arrival;
#[cfg(test)]
mod arrival_tests;
#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod joint_tests;
pub mod receipt;
#[cfg(test)]
mod tests;
