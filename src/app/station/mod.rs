//! The station's own rules, beside the candidate's flow: the operator menu behind its PIN
//! (with a growing lockout after wrong tries), what staff may grant, calling staff, and the
//! idle reset that wipes a walked-away candidate's screen before the next one sits down.
//! Pure, like `update`, which hands these messages over.

use std::time::Duration;

use super::msg::{Effect, Key};
use super::state::{Notice, OperatorAction, OperatorStep, Phase, Prep, Session, State, TestStep};
use crate::session::{Grant, GrantKind};

/// Wrong PINs in a row before the menu locks.
const TRIES: u32 = 5;
/// First lockout; each further wrong PIN after that doubles it.
const LOCKOUT: Duration = Duration::from_secs(30);
const MAX_PIN: usize = 12;

pub fn open_operator(state: &mut State) -> Vec<Effect> {
    if !state.settings.operator_pin {
        return Vec::new();
    }
    if let Some(until) = state.operator.locked_until.filter(|u| state.now < *u) {
        let seconds = until.saturating_duration_since(state.now).as_secs();
        state.operator.step = OperatorStep::Page {
            title: "operator.title",
            lines: vec![
                state
                    .session
                    .text
                    .fmt("operator.locked", &[("seconds", &seconds)]),
            ],
        };
        return Vec::new();
    }
    state.operator.step = OperatorStep::Pin {
        digits: String::new(),
        checking: false,
    };
    Vec::new()
}

/// Keys while the operator screens are open.
pub fn operator_key(state: &mut State, key: Key) -> Vec<Effect> {
    match state.operator.step.clone() {
        OperatorStep::Closed => Vec::new(),
        OperatorStep::Pin { checking: true, .. } => Vec::new(),
        OperatorStep::Pin { mut digits, .. } => match key {
            Key::Esc => {
                state.operator.step = OperatorStep::Closed;
                Vec::new()
            }
            Key::Backspace => {
                digits.pop();
                state.operator.step = OperatorStep::Pin {
                    digits,
                    checking: false,
                };
                Vec::new()
            }
            Key::Char(c) if c.is_ascii_alphanumeric() && digits.len() < MAX_PIN => {
                digits.push(c);
                state.operator.step = OperatorStep::Pin {
                    digits,
                    checking: false,
                };
                Vec::new()
            }
            Key::Enter if !digits.is_empty() => {
                state.operator.step = OperatorStep::Pin {
                    digits: String::new(),
                    checking: true,
                };
                vec![Effect::CheckPin { pin: digits.into() }]
            }
            _ => Vec::new(),
        },
        OperatorStep::Menu { selected } => menu_key(state, selected, key),
        OperatorStep::Code { mut typed } => match key {
            Key::Esc => {
                state.operator.step = OperatorStep::Menu { selected: 0 };
                Vec::new()
            }
            Key::Enter => {
                state.operator.step = OperatorStep::Closed;
                super::update::arrival::operator_code(state, typed)
            }
            Key::Backspace => {
                typed.pop();
                state.operator.step = OperatorStep::Code { typed };
                Vec::new()
            }
            Key::Char(c) if typed.len() < 64 => {
                typed.push(c.to_ascii_uppercase());
                state.operator.step = OperatorStep::Code { typed };
                Vec::new()
            }
            _ => Vec::new(),
        },
        OperatorStep::Page { title, .. } => {
            // A lockout page closes; the others go back to the menu.
            state.operator.step = if title == "operator.title" {
                OperatorStep::Closed
            } else {
                OperatorStep::Menu { selected: 0 }
            };
            Vec::new()
        }
    }
}

pub fn pin_checked(state: &mut State, ok: bool) -> Vec<Effect> {
    if !matches!(
        state.operator.step,
        OperatorStep::Pin { checking: true, .. }
    ) {
        return Vec::new();
    }
    if ok {
        state.operator.failures = 0;
        state.operator.locked_until = None;
        state.operator.step = OperatorStep::Menu { selected: 0 };
        tracing::info!("operator menu opened");
    } else {
        state.operator.failures += 1;
        tracing::warn!(failures = state.operator.failures, "wrong operator PIN");
        if state.operator.failures >= TRIES {
            let doublings = (state.operator.failures - TRIES).min(10);
            state.operator.locked_until = Some(state.now + LOCKOUT * 2u32.pow(doublings));
            state.operator.step = OperatorStep::Closed;
        } else {
            state.operator.step = OperatorStep::Pin {
                digits: String::new(),
                checking: false,
            };
        }
    }
    Vec::new()
}

fn menu_key(state: &mut State, selected: usize, key: Key) -> Vec<Effect> {
    let n = OperatorAction::ALL.len();
    match key {
        Key::Up => {
            state.operator.step = OperatorStep::Menu {
                selected: (selected + n - 1) % n,
            }
        }
        Key::Down | Key::Tab => {
            state.operator.step = OperatorStep::Menu {
                selected: (selected + 1) % n,
            }
        }
        Key::Esc => state.operator.step = OperatorStep::Closed,
        Key::Enter => return act(state, OperatorAction::ALL[selected]),
        _ => {}
    }
    Vec::new()
}

/// Records a grant in the candidate's progress (so a restart keeps it and the manifest lists
/// it) and closes the menu.
fn grant(state: &mut State, kind: GrantKind, q: usize, amount: u64) -> Vec<Effect> {
    let grant = Grant {
        kind,
        question: q,
        question_id: state.question(q).id.clone(),
        amount,
        at_unix: state.wall.unix_at(state.now),
    };
    tracing::info!(
        grant = kind.as_str(),
        question = q + 1,
        amount,
        "operator granted"
    );
    state.session.progress.grants.push(grant);
    state.operator.step = OperatorStep::Closed;
    vec![state.save()]
}

fn act(state: &mut State, action: OperatorAction) -> Vec<Effect> {
    let step = state.settings.grant_step;
    match action {
        OperatorAction::ExtraAttempt => {
            if let Some(q) = state.grant_question() {
                state.session.progress.questions[q].extra_attempts += 1;
                return grant(state, GrantKind::ExtraAttempt, q, 1);
            }
        }
        OperatorAction::ExtraAnswerTime => {
            if let Some(q) = state.grant_question() {
                state.session.progress.questions[q].extra_answer_seconds += step.as_secs();
                let mut fx = grant(state, GrantKind::ExtraAnswerTime, q, step.as_secs());
                // An answer being recorded gets the time at once: its recording ends later.
                if let Phase::Recording { q: rq, .. } = state.session.phase
                    && rq == q
                {
                    fx.push(Effect::ExtendRecording {
                        limit: state.answer_limit(q),
                    });
                }
                return fx;
            }
        }
        OperatorAction::ExtraPreparation => {
            if let Some(q) = state.grant_question() {
                state.session.progress.questions[q].extra_preparation_seconds += step.as_secs();
                // A countdown already running gets the time at once.
                if let Phase::Question {
                    prep: Prep::Counting { ends },
                    ..
                } = &mut state.session.phase
                {
                    *ends += step;
                }
                return grant(state, GrantKind::ExtraPreparation, q, step.as_secs());
            }
        }
        OperatorAction::UploadQueue => return vec![Effect::ShowUploadQueue],
        OperatorAction::Diagnostics => return vec![Effect::RunDiagnostics],
        OperatorAction::EndSession => {
            state.operator.step = OperatorStep::Closed;
            return end_session(state);
        }
        OperatorAction::EnterCode => {
            state.operator.step = if matches!(state.session.phase, Phase::Welcome(_)) {
                OperatorStep::Code {
                    typed: String::new(),
                }
            } else {
                OperatorStep::Page {
                    title: "operator.enter_code",
                    lines: vec![
                        state
                            .session
                            .text
                            .get("operator.code_welcome_only")
                            .to_string(),
                    ],
                }
            };
        }
        OperatorAction::Quit => {
            state.operator.step = OperatorStep::Closed;
            return super::update::terminate(state);
        }
        OperatorAction::Close => state.operator.step = OperatorStep::Closed,
    }
    Vec::new()
}

/// Ends the session: what was sent stays in the outbox, the rest of the candidate's traces go.
/// Never during a recording or while a take is going into the outbox (the reset waits for
/// them); the screen is blank until the new session is there.
pub fn end_session(state: &mut State) -> Vec<Effect> {
    if matches!(
        state.session.phase,
        Phase::Recording { .. }
            | Phase::Submitting { .. }
            | Phase::Resetting
            | Phase::DeviceTest(TestStep::Recording { .. } | TestStep::Saving)
    ) {
        return Vec::new();
    }
    state.session.idle_ends = None;
    state.session.help = false;
    state.session.phase = Phase::Resetting;
    tracing::info!(session = %state.session.progress.session_id, "session ended");
    vec![
        Effect::StopPlayback,
        Effect::EndSession {
            session: state.session.progress.session_id.clone(),
            dir: state.session.dir.clone(),
            progress: Box::new(state.session.progress.clone()),
        },
    ]
}

/// Starts the reset countdown after a long silence from the keyboard, and wipes when it ends.
pub fn idle_tick(state: &mut State) -> Vec<Effect> {
    let Some(idle) = state.settings.idle_reset else {
        return Vec::new();
    };
    let busy = matches!(
        state.session.phase,
        Phase::Welcome(_)
            | Phase::Declined { .. }
            | Phase::Recording { .. }
            | Phase::Submitting { .. }
            | Phase::Resetting
            | Phase::OutOfOrder
            | Phase::DeviceTest(TestStep::Recording { .. } | TestStep::Saving)
    ) || state.operator.step != OperatorStep::Closed;
    if busy {
        state.session.idle_ends = None;
        return Vec::new();
    }
    match state.session.idle_ends {
        Some(ends) if state.now >= ends => end_session(state),
        Some(_) => Vec::new(),
        None => {
            if state
                .now
                .saturating_duration_since(state.session.last_input)
                >= idle
            {
                state.session.idle_ends = Some(state.now + state.settings.idle_countdown);
            }
            Vec::new()
        }
    }
}

/// A new candidate's session is in place: it replaces the last one whole (back to the attract
/// screen, everything of the last candidate gone).
pub fn session_started(state: &mut State, session: Session) -> Vec<Effect> {
    state.session = session;
    Vec::new()
}

/// The old session could not be closed: nothing of it is lost (it stays on disk as it was),
/// but the station cannot go on alone. Staff are called; the operator menu can try again.
pub fn session_end_failed(state: &mut State, detail: String) -> Vec<Effect> {
    tracing::error!(%detail, "the session could not be closed");
    state.last_error = Some(format!("the session could not be closed: {detail}"));
    state.session.phase = Phase::OutOfOrder;
    vec![Effect::CallStaff {
        session: state.session.progress.session_id.clone(),
        phase: crate::status::phase_name(&state.session.phase),
    }]
}

pub fn call_staff(state: &mut State) -> Vec<Effect> {
    state.session.notice = Some(Notice::StaffCalled);
    tracing::info!("candidate called staff");
    vec![Effect::CallStaff {
        session: state.session.progress.session_id.clone(),
        phase: crate::status::phase_name(&state.session.phase),
    }]
}

#[cfg(test)]
mod tests;
