//! A candidate's arrival and departure: the code (typed, or scanned as a burst of keys and
//! Enter), its checks, the interview it picks, the privacy notice, the done screen that clears
//! itself, and staff grants that stick (in the progress, the manifest and a running answer).

use std::sync::Arc;

use super::fixtures::*;
use super::fixtures::{submitted, tick};
use super::*;
use crate::app::state::{CodeEntry, CodeMode, CodeProblem, OperatorStep, WallClock};
use crate::interview::{Consent, Interview};
use crate::session::GrantKind;

fn with_codes(mode: CodeMode) -> crate::TestResult<State> {
    let mut st = state()?;
    st.settings.codes = mode;
    st.settings.code_rules.min = 6;
    Ok(st)
}

fn type_text(st: &mut State, text: &str) {
    for c in text.chars() {
        key(st, Key::Char(c));
    }
}

fn entry(st: &State) -> CodeEntry {
    match &st.session.phase {
        Phase::Welcome(e) => e.clone(),
        other => panic!("not on the welcome screen: {other:?}"),
    }
}

#[test]
fn a_typed_code_is_checked_and_kept_as_the_candidate_ref() -> crate::TestResult {
    let mut st = with_codes(CodeMode::Required)?;
    // Enter with nothing typed asks for the code; no attempt limit.
    key(&mut st, Key::Enter);
    assert_eq!(entry(&st).problem, Some(CodeProblem::Empty));
    type_text(&mut st, "ab-1");
    assert_eq!(entry(&st).typed, "AB-1", "codes are read in capitals");
    assert_eq!(entry(&st).problem, None, "a key clears the last problem");
    key(&mut st, Key::Enter);
    assert_eq!(entry(&st).problem, Some(CodeProblem::TooShort { min: 6 }));
    key(&mut st, Key::Backspace);
    type_text(&mut st, "1 23");
    key(&mut st, Key::Enter);
    assert_eq!(entry(&st).problem, Some(CodeProblem::BadCharacter));
    key(&mut st, Key::Esc);
    assert_eq!(entry(&st).typed, "");
    type_text(&mut st, "ab-12345");
    let fx = key(&mut st, Key::Enter);
    assert_eq!(st.session.phase, Phase::Overview);
    assert_eq!(
        st.session.progress.candidate_ref.as_deref(),
        Some("AB-12345")
    );
    assert_eq!(fx, vec![st.save()], "whose session it is is saved at once");
    Ok(())
}

#[test]
fn a_scanner_burst_is_the_same_as_typing() -> crate::TestResult {
    // A USB scanner types the whole code and Enter within milliseconds: no tick between keys.
    let mut st = with_codes(CodeMode::Required)?;
    for c in "XK7-4410-QZ\n".chars() {
        let k = if c == '\n' { Key::Enter } else { Key::Char(c) };
        update(&mut st, Msg::Key(k));
    }
    assert_eq!(st.session.phase, Phase::Overview);
    assert_eq!(
        st.session.progress.candidate_ref.as_deref(),
        Some("XK7-4410-QZ")
    );
    Ok(())
}

#[test]
fn an_optional_code_may_be_left_out() -> crate::TestResult {
    let mut st = with_codes(CodeMode::Optional)?;
    assert!(key(&mut st, Key::Enter).is_empty());
    assert_eq!(st.session.phase, Phase::Overview);
    assert_eq!(st.session.progress.candidate_ref, None);
    // Without codes at all, any key begins, as before.
    let mut st = with_codes(CodeMode::Off)?;
    key(&mut st, Key::Char('q'));
    assert_eq!(st.session.phase, Phase::Overview);
    Ok(())
}

fn other_interview() -> crate::TestResult<Arc<Interview>> {
    let text = INTERVIEW
        .replace("test-interview", "sales")
        .replace("q2", "q-close");
    let mut iv = Interview::parse(&text, std::path::Path::new("sales.toml"))?;
    iv.consent = Some(Consent {
        title: None,
        text: "We keep your answers for 90 days.".into(),
        sha256: "c0ffee".into(),
    });
    Ok(Arc::new(iv))
}

#[test]
fn the_roster_picks_the_interview_and_refusals_say_why() -> crate::TestResult {
    let mut st = with_codes(CodeMode::Required)?;
    st.settings.roster = true;
    type_text(&mut st, "SALES-0001");
    let fx = key(&mut st, Key::Enter);
    assert_eq!(
        fx,
        vec![Effect::CheckCode {
            code: "SALES-0001".into()
        }]
    );
    assert!(entry(&st).checking);
    // Keys wait while the roster is read (a scanner's stray Enter does nothing).
    assert!(key(&mut st, Key::Enter).is_empty());
    update(
        &mut st,
        Msg::CodeChecked {
            code: "SALES-0001".into(),
            result: Err(CodeProblem::Used),
        },
    );
    assert_eq!(entry(&st).problem, Some(CodeProblem::Used));
    assert_eq!(
        entry(&st).typed,
        "",
        "a refused code is cleared for the next try"
    );
    type_text(&mut st, "SALES-0002");
    key(&mut st, Key::Enter);
    // A late answer about another code changes nothing.
    update(
        &mut st,
        Msg::CodeChecked {
            code: "SALES-0001".into(),
            result: Ok(other_interview()?),
        },
    );
    assert!(entry(&st).checking);
    update(
        &mut st,
        Msg::CodeChecked {
            code: "SALES-0002".into(),
            result: Ok(other_interview()?),
        },
    );
    assert_eq!(st.session.interview.id, "sales");
    assert_eq!(st.session.progress.interview_id, "sales");
    assert_eq!(st.session.progress.questions[1].question_id, "q-close");
    assert_eq!(
        st.session.progress.session_id, "s1",
        "the same session, now for this interview"
    );
    assert_eq!(
        st.session.phase,
        Phase::Consent,
        "the interview has a privacy notice"
    );
    Ok(())
}

#[test]
fn the_notice_is_accepted_by_an_explicit_key_and_declining_records_nothing() -> crate::TestResult {
    let mut st = with_codes(CodeMode::Off)?;
    st.session.interview = other_interview()?;
    st.wall = WallClock {
        at: st.now,
        unix: 1_800_000_000,
    };
    key(&mut st, Key::Char('x'));
    assert_eq!(st.session.phase, Phase::Consent);
    // Enter is not consent.
    assert!(key(&mut st, Key::Enter).is_empty());
    assert_eq!(st.session.phase, Phase::Consent);
    tick(&mut st, secs(7));
    let fx = key(&mut st, Key::Char('A'));
    assert_eq!(st.session.phase, Phase::Overview);
    let consent = st
        .session
        .progress
        .consent
        .clone()
        .ok_or("no consent recorded")?;
    assert_eq!(consent.sha256, "c0ffee");
    assert_eq!(consent.accepted_unix, 1_800_000_007);
    assert_eq!(fx, vec![st.save()]);

    let mut st = with_codes(CodeMode::Off)?;
    st.session.interview = other_interview()?;
    key(&mut st, Key::Char('x'));
    let fx = key(&mut st, Key::Char('d'));
    assert!(fx.is_empty(), "declining records and opens nothing: {fx:?}");
    assert!(matches!(st.session.phase, Phase::Declined { .. }));
    assert_eq!(st.session.progress.consent, None);
    // The polite end clears itself (or on Enter) into a privacy wipe.
    let wait = st.settings.declined_wait;
    let fx = tick(&mut st, wait);
    assert!(
        fx.iter().any(|e| matches!(e, Effect::EndSession { .. })),
        "{fx:?}"
    );
    Ok(())
}

/// Both questions answered and sent: the done screen.
fn finished() -> crate::TestResult<State> {
    let mut st = at_questions()?;
    for q in 0..2 {
        update(&mut st, loud());
        st.session.phase = Phase::Questions { selected: q };
        key(&mut st, Key::Enter);
        key(&mut st, Key::Enter);
        saved(&mut st, q, 0);
        key(&mut st, Key::Enter);
        submitted(&mut st, q, 0);
    }
    assert!(matches!(st.session.phase, Phase::Done { .. }));
    Ok(st)
}

#[test]
fn the_done_screen_clears_for_the_next_candidate() -> crate::TestResult {
    let mut st = finished()?;
    assert!(tick(&mut st, secs(59)).is_empty());
    let fx = tick(&mut st, secs(1));
    assert!(
        fx.iter().any(|e| matches!(e, Effect::EndSession { .. })),
        "{fx:?}"
    );
    assert_eq!(st.session.phase, Phase::Resetting);
    // Or at once, on Finish.
    let mut st = finished()?;
    let fx = key(&mut st, Key::Enter);
    assert!(
        fx.iter().any(|e| matches!(e, Effect::EndSession { .. })),
        "{fx:?}"
    );
    Ok(())
}

#[test]
fn a_receipt_is_printed_when_the_station_has_a_printer() -> crate::TestResult {
    let mut st = at_questions()?;
    st.settings.receipt = true;
    let mut last = Vec::new();
    for q in 0..2 {
        update(&mut st, loud());
        st.session.phase = Phase::Questions { selected: q };
        key(&mut st, Key::Enter);
        key(&mut st, Key::Enter);
        saved(&mut st, q, 0);
        key(&mut st, Key::Enter);
        last = submitted(&mut st, q, 0);
    }
    let Some(Effect::PrintReceipt { text }) = last.last() else {
        panic!("no receipt in {last:?}")
    };
    assert!(text.contains(&st.session.progress.receipt_code()), "{text}");
    assert!(text.contains("Answer 2:"), "{text}");
    Ok(())
}

fn grant_via_menu(st: &mut State, index: usize) -> Vec<Effect> {
    st.settings.operator_pin = true;
    st.operator.step = OperatorStep::Menu { selected: index };
    key(st, Key::Enter)
}

#[test]
fn grants_are_kept_in_the_progress_with_their_time_and_reach_the_manifest() -> crate::TestResult {
    let mut st = at_questions()?;
    st.wall = WallClock {
        at: st.now,
        unix: 1_800_000_000,
    };
    let fx = grant_via_menu(&mut st, 0);
    assert_eq!(fx, vec![st.save()], "a grant is saved at once");
    tick(&mut st, secs(30));
    grant_via_menu(&mut st, 2);
    let kinds: Vec<(GrantKind, u64, u64)> = st
        .session
        .progress
        .grants
        .iter()
        .map(|g| (g.kind, g.amount, g.at_unix))
        .collect();
    assert_eq!(
        kinds,
        [
            (GrantKind::ExtraAttempt, 1, 1_800_000_000),
            (GrantKind::ExtraPreparation, 60, 1_800_000_030)
        ]
    );
    assert_eq!(st.session.progress.grants[0].question_id, "q1");
    // The manifest lists them, with the candidate's code.
    st.session.progress.candidate_ref = Some("AB-12345".into());
    let m = answer::manifest(&st);
    assert_eq!(m.grants, st.session.progress.grants);
    assert_eq!(m.candidate_ref.as_deref(), Some("AB-12345"));
    Ok(())
}

#[test]
fn extra_answer_time_granted_mid_answer_lengthens_that_recording() -> crate::TestResult {
    let mut st = at_questions()?;
    recording_q1(&mut st);
    tick(&mut st, secs(50));
    let fx = grant_via_menu(&mut st, 1);
    assert!(
        fx.contains(&Effect::ExtendRecording { limit: secs(120) }),
        "{fx:?}"
    );
    // The flow's own limit moves too: no stop at 60 s.
    assert!(tick(&mut st, secs(20)).is_empty());
    assert_eq!(tick(&mut st, secs(50)), vec![Effect::StopRecording]);
    // Granted for another question (the list's selection), nothing running is touched.
    let mut st = at_questions()?;
    let fx = grant_via_menu(&mut st, 1);
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::ExtendRecording { .. }))
    );
    Ok(())
}

#[test]
fn staff_can_enter_a_code_for_a_candidate_who_has_none() -> crate::TestResult {
    let mut st = with_codes(CodeMode::Required)?;
    st.settings.operator_pin = true;
    let enter_code = crate::app::state::OperatorAction::ALL
        .iter()
        .position(|a| *a == crate::app::state::OperatorAction::EnterCode)
        .ok_or("no such action")?;
    st.operator.step = OperatorStep::Menu {
        selected: enter_code,
    };
    key(&mut st, Key::Enter);
    type_text(&mut st, "walk-in-07");
    key(&mut st, Key::Enter);
    assert_eq!(st.operator.step, OperatorStep::Closed);
    assert_eq!(
        st.session.progress.candidate_ref.as_deref(),
        Some("WALK-IN-07")
    );
    assert_eq!(st.session.phase, Phase::Overview);
    // Past the welcome screen the code is the candidate's already: staff are told so.
    st.operator.step = OperatorStep::Menu {
        selected: enter_code,
    };
    key(&mut st, Key::Enter);
    assert!(matches!(st.operator.step, OperatorStep::Page { .. }));
    Ok(())
}

#[test]
fn the_picker_offers_the_interviews_languages_and_switches_its_texts() -> crate::TestResult {
    let mut st = super::fixtures::state()?;
    // Without translations every language booth has is offered.
    for _ in 0..crate::i18n::languages().len() {
        super::fixtures::key(&mut st, Key::Right);
    }
    assert_eq!(st.session.text.code, "en");
    let iv = std::sync::Arc::make_mut(&mut st.session.interview);
    let mut texts = crate::interview::Texts::default();
    texts.questions.insert(0, "Kim jesteś?".into());
    let mut by_language = std::collections::BTreeMap::new();
    by_language.insert("pl".to_string(), texts);
    iv.translations.by_language = by_language;
    let own = iv.questions[0].text.clone();
    // English and Polish only: German is skipped, the question follows the words.
    super::fixtures::key(&mut st, Key::Right);
    assert_eq!(st.session.text.code, "pl");
    assert_eq!(st.session.interview.questions[0].text, "Kim jesteś?");
    super::fixtures::key(&mut st, Key::Right);
    assert_eq!(st.session.text.code, "en");
    assert_eq!(st.session.interview.questions[0].text, own);
    Ok(())
}
