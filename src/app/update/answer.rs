//! The life of an answer, as rules of `update`: waiting for the microphone, recording, the
//! limit and the minimum length, review, re-record or submit (with the manifest after the
//! last answer), and what happens when the station saves or loses a take (the practice's
//! takes are handed to `practice`).

use std::time::Instant;

use super::super::msg::{
    ClipChecks, Effect, Key, ManifestInfo, Purpose, RecordingProblem, SubmitProblem, TakeRef,
};
use super::super::state::{Notice, Phase, Prep, State, TestStep};
use crate::session::{Delivery, Take, TakeState};

pub(super) fn start_answer(state: &mut State, q: usize) -> Vec<Effect> {
    if state.attempts_left(q) == 0 {
        return Vec::new();
    }
    let question = state.question(q).id.clone();
    let limit = state.answer_limit(q);
    let progress = &mut state.session.progress.questions[q];
    let take = progress.takes.len();
    progress
        .takes
        .push(Take::recording(format!("{question}-take{}.mp4", take + 1)));
    state.session.progress.current = Some(q);
    state.session.notice = None;
    state.session.phase = Phase::Recording {
        q,
        take,
        started: None,
        stopping: false,
    };
    // Progress first: if the station dies mid-answer, the restart knows which file to recover.
    vec![
        state.save(),
        Effect::StartRecording {
            purpose: Purpose::Answer(state.take_ref(q, take)),
            file: state.take_path(q, take),
            limit,
        },
    ]
}

pub(super) fn stop_answer(state: &mut State) -> Vec<Effect> {
    if let Phase::Recording { stopping, .. } = &mut state.session.phase {
        *stopping = true;
    }
    vec![Effect::StopRecording]
}

/// Keys while an answer records: stop (once past the minimum length), hide the picture.
pub(super) fn recording_key(
    state: &mut State,
    q: usize,
    started: Instant,
    key: Key,
) -> Vec<Effect> {
    match key {
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
    }
}

pub(super) fn review_key(
    state: &mut State,
    q: usize,
    take: usize,
    playing: bool,
    key: Key,
) -> Vec<Effect> {
    let file = state.take_path(q, take);
    match key {
        Key::Enter | Key::Char('s') => submit(state, q, take),
        Key::Char('r') if state.attempts_left(q) > 0 => {
            state.session.progress.questions[q].takes[take].state = TakeState::Discarded;
            state.session.playback = Default::default();
            state.session.phase = Phase::Question {
                q,
                prep: preparation(state, q),
            };
            vec![Effect::StopPlayback, Effect::DeleteFile(file), state.save()]
        }
        Key::Char('p') | Key::Space => {
            state.session.phase = Phase::Review {
                q,
                take,
                playing: !playing,
            };
            vec![if playing {
                Effect::StopPlayback
            } else {
                Effect::Play { file }
            }]
        }
        _ => Vec::new(),
    }
}

/// The candidate sends the take: it goes to the outbox first, and only when that is certain
/// (`submitted`) does the screen move on.
pub(super) fn submit(state: &mut State, q: usize, take: usize) -> Vec<Effect> {
    state.session.notice = None;
    state.session.playback = Default::default();
    state.session.phase = Phase::Submitting { q, take };
    vec![
        Effect::StopPlayback,
        Effect::Submit(state.submission(q, take)),
    ]
}

/// The take is safely in the outbox: it counts as sent, and the candidate moves on.
pub(super) fn submitted(state: &mut State, take: TakeRef, answer_id: String) -> Vec<Effect> {
    let TakeRef {
        question: q, take, ..
    } = take;
    let Some(t) = state.session.progress.questions[q].takes.get_mut(take) else {
        return Vec::new();
    };
    t.state = TakeState::Submitted;
    t.submit_failed = false;
    let progress = &mut state.session.progress.questions[q];
    if progress.delivery == Delivery::NotSubmitted {
        progress.delivery = Delivery::Queued;
    }
    progress.answer_id = Some(answer_id);
    state.session.progress.current = None;
    let mut fx = vec![state.save()];
    if state.session.phase != (Phase::Submitting { q, take }) {
        return fx;
    }
    match state.next_open_question(q + 1) {
        Some(next) => state.session.phase = Phase::Questions { selected: next },
        None => {
            state.session.phase = Phase::Done {
                ends: state.now + state.settings.done_wait,
            };
            fx.push(Effect::SendManifest(manifest(state)));
            if state.settings.receipt {
                fx.push(Effect::PrintReceipt {
                    text: super::receipt::text(state),
                });
            }
        }
    }
    fx
}

/// The take could not be put in the outbox: it stays as it was, the candidate may try again,
/// and staff are called.
pub(super) fn submit_failed(
    state: &mut State,
    take: TakeRef,
    problem: SubmitProblem,
    detail: String,
) -> Vec<Effect> {
    let TakeRef {
        question: q, take, ..
    } = take;
    tracing::error!(question = q, take, ?problem, %detail, "an answer could not be queued");
    state.last_error = Some(format!(
        "answer {} could not be queued ({}): {detail}",
        q + 1,
        problem.words()
    ));
    if let Some(t) = state.session.progress.questions[q].takes.get_mut(take) {
        t.submit_failed = true;
    }
    if state.session.phase == (Phase::Submitting { q, take }) {
        state.session.phase = Phase::Review {
            q,
            take,
            playing: false,
        };
    }
    state.session.notice = Some(Notice::SubmitFailed);
    let mut fx = vec![state.save()];
    fx.extend(state.call_staff());
    fx
}

/// The session manifest's content, from the progress.
pub(super) fn manifest(state: &State) -> ManifestInfo {
    let answers = state
        .session
        .progress
        .questions
        .iter()
        .enumerate()
        .filter_map(|(q, p)| {
            let (i, take) = p
                .takes
                .iter()
                .enumerate()
                .find(|(_, t)| t.state == TakeState::Submitted)?;
            Some((
                q,
                state.question(q).id.clone(),
                i as u32 + 1,
                take.seconds.unwrap_or(0.0),
                p.answer_id.clone(),
            ))
        })
        .collect();
    ManifestInfo {
        session_id: state.session.progress.session_id.clone(),
        interview_id: state.session.interview.id.clone(),
        candidate_ref: state.session.progress.candidate_ref.clone(),
        started_unix: state.session.progress.started_unix,
        finished_unix: state.wall.unix_at(state.now),
        answers,
        consent: state.session.progress.consent.clone(),
        grants: state.session.progress.grants.clone(),
    }
}

pub(super) fn recording_saved(
    state: &mut State,
    purpose: Purpose,
    seconds: f64,
    checks: Option<ClipChecks>,
) -> Vec<Effect> {
    let mut fx = Vec::new();
    match purpose {
        // The router hands the practice's takes to `practice`.
        Purpose::Practice { .. } => {}
        Purpose::TestClip { .. } => {
            if let (Phase::DeviceTest(_), Some(checks)) = (&state.session.phase, checks) {
                state.session.phase = Phase::DeviceTest(TestStep::Review {
                    checks,
                    playing: false,
                });
            }
        }
        Purpose::Answer(TakeRef { question, take, .. }) => {
            let progress = &mut state.session.progress.questions[question];
            if let Some(t) = progress.takes.get_mut(take) {
                t.state = TakeState::Saved;
                t.seconds = Some(seconds);
                progress.attempts_used += 1;
            }
            state.session.phase = Phase::Review {
                q: question,
                take,
                playing: false,
            };
            fx.push(state.save());
        }
    }
    if state.quitting {
        fx.push(Effect::Quit);
    }
    fx
}

pub(super) fn recording_failed(
    state: &mut State,
    purpose: Purpose,
    problem: RecordingProblem,
    detail: String,
    kept_seconds: Option<f64>,
) -> Vec<Effect> {
    let mut fx = Vec::new();
    match purpose {
        // The router hands the practice's takes to `practice`.
        Purpose::Practice { .. } => {}
        Purpose::TestClip { .. } => {
            tracing::warn!(%detail, "test clip failed");
            state.session.notice = Some(Notice::TestClipFailed);
            state.session.phase = Phase::DeviceTest(TestStep::Ready);
        }
        Purpose::Answer(TakeRef { question, take, .. }) => {
            let Some(t) = state.session.progress.questions[question]
                .takes
                .get_mut(take)
            else {
                return fx;
            };
            match kept_seconds {
                Some(seconds) if seconds > 0.0 => {
                    // A station fault never costs an attempt: the take is kept and shown, but
                    // not counted.
                    t.state = TakeState::Interrupted;
                    t.seconds = Some(seconds);
                    t.note = Some(detail);
                    state.session.notice = Some(Notice::AnswerInterrupted);
                    state.session.phase = Phase::Review {
                        q: question,
                        take,
                        playing: false,
                    };
                }
                _ => {
                    t.state = TakeState::Discarded;
                    t.note = Some(detail);
                    state.session.notice = Some(match problem {
                        RecordingProblem::NoSpace => Notice::NoSpace,
                        _ => Notice::AnswerDidNotStart,
                    });
                    state.session.phase = Phase::Question {
                        q: question,
                        prep: Prep::Ready,
                    };
                }
            }
            fx.push(state.save());
            if problem == RecordingProblem::NoSpace {
                fx.extend(state.call_staff());
            }
        }
    }
    if state.quitting {
        fx.push(Effect::Quit);
    }
    fx
}

pub(super) fn questions_key(state: &mut State, selected: usize, key: Key) -> Vec<Effect> {
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
    // The video plays by itself the first time; after that it is a replay, on request.
    match state.question(q).video.clone() {
        Some(video) if state.video_plays(q) == 0 => {
            fx.extend(play_video(state, q, video));
        }
        _ => {
            state.session.phase = Phase::Question {
                q,
                prep: preparation(state, q),
            };
        }
    }
    fx
}

/// Plays question `q`'s video from the start, counting the viewing.
pub(super) fn play_video(state: &mut State, q: usize, video: std::path::PathBuf) -> Vec<Effect> {
    state.note_video_play(q);
    state.session.playback = Default::default();
    state.session.phase = Phase::Question {
        q,
        prep: Prep::Watching { paused: false },
    };
    vec![Effect::StopPlayback, Effect::Play { file: video }]
}

pub(super) fn preparation(state: &State, q: usize) -> Prep {
    let prep = state.preparation(q);
    if prep.is_zero() {
        Prep::Ready
    } else {
        Prep::Counting {
            ends: state.now + prep,
        }
    }
}
