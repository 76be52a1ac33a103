//! A candidate's arrival and departure, as rules of `update`: the code typed (or scanned) on
//! the welcome screen and its checks, the interview it picks, the privacy notice accepted or
//! declined, and the done screen that clears itself for the next person.

use std::sync::Arc;

use crate::app::msg::{Effect, Key};
use crate::app::state::{CodeEntry, CodeMode, CodeProblem, Phase, State};
use crate::codes::{CodeFormat, CodeRules, mask};
use crate::interview::Interview;
use crate::session::{ConsentRecord, Progress};

/// Longest text the code field takes (a scanner sending garbage fills no memory).
const MAX_TYPED: usize = 64;

pub(super) fn welcome_key(state: &mut State, mut entry: CodeEntry, key: Key) -> Vec<Effect> {
    if let Key::Left | Key::Right = key {
        switch_language(state, key == Key::Right);
        return Vec::new();
    }
    if state.settings.codes == CodeMode::Off {
        return begin(state, None, None);
    }
    if entry.checking {
        return Vec::new();
    }
    // A key the field takes clears the last problem; any other changes nothing.
    match key {
        Key::Char(c) if entry.typed.len() < MAX_TYPED => entry.typed.push(c.to_ascii_uppercase()),
        Key::Backspace => {
            entry.typed.pop();
        }
        Key::Esc => entry.typed.clear(),
        Key::Enter => {
            entry.problem = None;
            return submit_code(state, entry, false);
        }
        _ => return Vec::new(),
    }
    entry.problem = None;
    state.session.phase = Phase::Welcome(entry);
    Vec::new()
}

/// Staff typed a code for a candidate who has none: it is checked like the candidate's own,
/// and a problem shows on the welcome screen.
pub(super) fn operator_code(state: &mut State, typed: String) -> Vec<Effect> {
    if !matches!(state.session.phase, Phase::Welcome(_)) {
        return Vec::new();
    }
    tracing::info!(code = %mask(&typed), "staff entered a code");
    let entry = CodeEntry {
        typed,
        problem: None,
        checking: false,
    };
    submit_code(state, entry, true)
}

fn submit_code(state: &mut State, mut entry: CodeEntry, by_staff: bool) -> Vec<Effect> {
    let typed = entry.typed.trim().to_string();
    if typed.is_empty() && state.settings.codes == CodeMode::Optional && !by_staff {
        return begin(state, None, None);
    }
    match check_format(&typed, state.settings.code_rules) {
        Err(problem) => {
            entry.problem = Some(problem);
            state.session.phase = Phase::Welcome(entry);
            Vec::new()
        }
        Ok(code) if state.settings.roster => {
            entry.checking = true;
            state.session.phase = Phase::Welcome(entry);
            vec![Effect::CheckCode { code }]
        }
        Ok(code) => begin(state, Some(code), None),
    }
}

/// The station's rules for a code's form, as the welcome screen says them.
fn check_format(code: &str, rules: CodeRules) -> Result<String, CodeProblem> {
    crate::codes::normalize(code, &rules).map_err(|e| match e {
        CodeFormat::Empty => CodeProblem::Empty,
        CodeFormat::TooShort { min } => CodeProblem::TooShort { min },
        CodeFormat::TooLong { max } => CodeProblem::TooLong { max },
        CodeFormat::BadCharacter { .. } => CodeProblem::BadCharacter,
    })
}

/// The roster's answer about a code the candidate entered.
pub(super) fn code_checked(
    state: &mut State,
    code: String,
    result: Result<Arc<Interview>, CodeProblem>,
) -> Vec<Effect> {
    let Phase::Welcome(entry) = &state.session.phase else {
        return Vec::new();
    };
    if !entry.checking || entry.typed.trim() != code {
        return Vec::new();
    }
    match result {
        Ok(interview) => begin(state, Some(code), Some(interview)),
        Err(problem) => {
            tracing::info!(code = %mask(&code), ?problem, "a code was refused");
            state.session.phase = Phase::Welcome(CodeEntry {
                typed: String::new(),
                problem: Some(problem),
                checking: false,
            });
            Vec::new()
        }
    }
}

/// The candidate begins: with their code (and the interview it picked), or without one.
pub(super) fn begin(
    state: &mut State,
    code: Option<String>,
    interview: Option<Arc<Interview>>,
) -> Vec<Effect> {
    // A language picked on the welcome screen must survive a restart too.
    let mut changed = state.session.progress.language.is_some();
    if let Some(interview) = interview
        && interview.id != state.session.interview.id
    {
        let p = &state.session.progress;
        let language = p.language.clone();
        state.session.progress = Progress::for_interview(&p.session_id, &interview, p.started_unix);
        state.session.progress.language = language;
        // The code's interview, in the language the candidate picked (where it has it).
        state.session.interview = Arc::new(interview.in_language(&state.session.text.code));
        changed = true;
    }
    if let Some(code) = &code {
        tracing::info!(code = %mask(code), interview = %state.session.interview.id, "candidate code accepted");
        changed = true;
    }
    state.session.progress.candidate_ref = code;
    state.session.notice = None;
    state.session.phase =
        if state.session.interview.consent.is_some() && state.session.progress.consent.is_none() {
            Phase::Consent
        } else {
            Phase::Overview
        };
    // Whose session this is, and in which language, must survive a restart; an anonymous
    // start in the interview's own language changes nothing.
    if changed {
        vec![state.save()]
    } else {
        Vec::new()
    }
}

pub(super) fn consent_key(state: &mut State, key: Key) -> Vec<Effect> {
    let Some(consent) = state.session.interview.consent.as_ref() else {
        state.session.phase = Phase::Overview;
        return Vec::new();
    };
    match key {
        Key::Char('a') => {
            state.session.progress.consent = Some(ConsentRecord {
                sha256: consent.sha256.clone(),
                accepted_unix: state.wall.unix_at(state.now),
            });
            tracing::info!(sha256 = %consent.sha256, "privacy notice accepted");
            state.session.phase = Phase::Overview;
            vec![state.save()]
        }
        Key::Char('d') => {
            tracing::info!("privacy notice declined; nothing recorded");
            state.session.phase = Phase::Declined {
                ends: state.now + state.settings.declined_wait,
            };
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Enter on the done screen: finished, the screen clears for the next person.
pub(super) fn finish(state: &mut State) -> Vec<Effect> {
    tracing::info!("the candidate finished");
    super::lifecycle::end_session(state)
}

/// The candidate picks the language on the welcome screen (the interview's is the default):
/// one the interview can be read in and booth has words for, or any of booth's when the
/// interview has no translations. The interview's texts follow.
pub(super) fn switch_language(state: &mut State, forward: bool) {
    let all = crate::i18n::languages();
    let interview = state.session.interview.languages();
    let offered: Vec<_> = all
        .iter()
        .filter(|t| {
            interview.len() < 2 || interview.iter().any(|l| crate::i18n::primary(l) == t.code)
        })
        .collect();
    if offered.is_empty() {
        return;
    }
    let at = offered
        .iter()
        .position(|t| t.code == state.session.text.code)
        .unwrap_or(0);
    let next = if forward {
        (at + 1) % offered.len()
    } else {
        (at + offered.len() - 1) % offered.len()
    };
    let text = offered[next].clone();
    state.session.interview = Arc::new(state.session.interview.in_language(&text.code));
    // Saved with the session once the candidate begins (see `begin`).
    state.session.progress.language = Some(text.code.clone());
    state.session.text = text;
}
