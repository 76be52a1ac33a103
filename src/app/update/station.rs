//! The station's own rules, beside the candidate's flow: the operator menu behind its PIN
//! (with a growing lockout after wrong tries), what staff may grant, calling staff, and the
//! idle reset that wipes a walked-away candidate's screen before the next one sits down.
//! Rules of `update`, which hands these messages over.

use std::time::Duration;

use super::super::msg::{Effect, Key, Msg};
use super::super::state::{
    Notice, OperatorAction, OperatorPage, OperatorStep, Phase, PracticeStep, Prep, State, TestStep,
};
use super::devices::reopen_now;
use super::lifecycle::{end_session, terminate};
use crate::session::{Grant, GrantKind};

/// Wrong PINs in a row before the menu locks.
const TRIES: u32 = 5;
/// First lockout; each further wrong PIN after that doubles it.
const LOCKOUT: Duration = Duration::from_secs(30);
const MAX_PIN: usize = 12;

pub(super) fn open_operator(state: &mut State) -> Vec<Effect> {
    if !state.settings.operator_pin {
        return Vec::new();
    }
    if let Some(until) = state.operator.locked_until.filter(|u| state.now < *u) {
        let seconds = until.saturating_duration_since(state.now).as_secs();
        state.operator.step = OperatorStep::Page {
            page: OperatorPage::Locked,
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
pub(super) fn operator_key(state: &mut State, key: Key) -> Vec<Effect> {
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
                super::arrival::operator_code(state, typed)
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
        OperatorStep::Page { page, .. } => {
            state.operator.step = page.after_key();
            Vec::new()
        }
    }
}

/// The operator screens' news: the PIN checked, a page ready or filled in.
pub(super) fn operator_news(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::PinChecked { ok } => return pin_checked(state, ok),
        // A page shows only while the operator screens are open; newer lines only while
        // their page is.
        Msg::OperatorPage { page, lines } if state.operator.step != OperatorStep::Closed => {
            state.operator.step = OperatorStep::Page { page, lines };
        }
        Msg::OperatorPageUpdated { page, lines } if matches!(&state.operator.step, OperatorStep::Page { page: open, .. } if *open == page) =>
        {
            state.operator.step = OperatorStep::Page { page, lines };
        }
        _ => {}
    }
    Vec::new()
}

fn pin_checked(state: &mut State, ok: bool) -> Vec<Effect> {
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
                    page: OperatorPage::CodeWelcomeOnly,
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
        OperatorAction::ReopenDevices => {
            state.operator.step = OperatorStep::Closed;
            tracing::info!("the operator reopens the camera and microphone");
            return reopen_now(state);
        }
        OperatorAction::Quit => {
            state.operator.step = OperatorStep::Closed;
            return terminate(state);
        }
        OperatorAction::Close => state.operator.step = OperatorStep::Closed,
    }
    Vec::new()
}

/// Starts the reset countdown after a long silence from the keyboard, and wipes when it ends.
pub(super) fn idle_tick(state: &mut State) -> Vec<Effect> {
    let Some(idle) = state.settings.idle_reset else {
        return Vec::new();
    };
    let busy = matches!(
        state.session.phase,
        Phase::Welcome(_)
            | Phase::Declined { .. }
            | Phase::Recording { .. }
            | Phase::Practice(PracticeStep::Recording { .. })
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

pub(super) fn call_staff(state: &mut State) -> Vec<Effect> {
    state.session.notice = Some(Notice::StaffCalled);
    tracing::info!("candidate called staff");
    state.call_staff()
}
