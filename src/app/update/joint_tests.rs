//! The flow's rules where it meets the workers and the next candidate: reports that belong
//! to another session, a take that counts as sent only once the outbox has it, a failed
//! submission, the wipe that waits for a submission, the blank screen between candidates, and
//! the activity notes that keep the idle clock across a restart.

use std::path::PathBuf;

use super::fixtures::*;
use super::fixtures::{submitted, tick};
use super::*;
use crate::app::msg::{RecordingProblem, Submission, SubmitProblem, TakeRef};
use crate::app::state::{DeviceProblem, Notice};
use crate::session::TakeState;

/// A take of question 0, recorded and waiting for the candidate's decision.
fn reviewing() -> crate::TestResult<State> {
    let mut st = at_questions()?;
    recording_q1(&mut st);
    saved(&mut st, 0, 0);
    assert!(matches!(
        st.session.phase,
        Phase::Review { q: 0, take: 0, .. }
    ));
    Ok(st)
}

fn other(question: usize, take: usize) -> TakeRef {
    TakeRef {
        session: "someone-else".into(),
        question,
        take,
    }
}

#[test]
fn reports_of_another_session_never_change_this_candidate() -> crate::TestResult {
    let mut st = at_questions()?;
    recording_q1(&mut st);
    let before = st.session.progress.clone();
    let phase = st.session.phase.clone();
    let stale = [
        Msg::RecordingSaved {
            purpose: Purpose::Answer(other(0, 0)),
            seconds: 9.0,
            checks: None,
        },
        Msg::RecordingFailed {
            purpose: Purpose::Answer(other(0, 0)),
            problem: RecordingProblem::Station,
            detail: "late".into(),
            kept_seconds: Some(3.0),
        },
        Msg::Submitted {
            take: other(0, 0),
            answer_id: "a".into(),
        },
        Msg::SubmitFailed {
            take: other(0, 0),
            problem: SubmitProblem::Station,
            detail: "late".into(),
        },
        Msg::Upload {
            session: "someone-else".into(),
            question: 0,
            news: UploadNews::Delivered,
        },
        Msg::Upload {
            session: "someone-else".into(),
            question: 1,
            news: UploadNews::Refused {
                reason: "no".into(),
            },
        },
    ];
    for msg in stale {
        assert!(update(&mut st, msg.clone()).is_empty(), "{msg:?}");
        assert_eq!(st.session.progress, before, "{msg:?} changed the progress");
        assert_eq!(st.session.phase, phase, "{msg:?} changed the screen");
        assert_eq!(st.upload(0), Default::default());
        assert_eq!(st.upload(1), Default::default());
    }
    // A report of this session for a question that does not exist is ignored too.
    let out_of_range = Msg::Upload {
        session: "s1".into(),
        question: 7,
        news: UploadNews::Delivered,
    };
    assert!(update(&mut st, out_of_range).is_empty());
    assert!(!st.session.progress.all_submitted());
    Ok(())
}

#[test]
fn a_take_counts_as_sent_only_once_the_outbox_has_it() -> crate::TestResult {
    let mut st = reviewing()?;
    let fx = key(&mut st, Key::Enter);
    let Some(Effect::Submit(Submission { take, file, .. })) = fx.last() else {
        panic!("no submission in {fx:?}")
    };
    assert_eq!(*take, take_ref(0, 0));
    assert_eq!(file, &PathBuf::from("/data/s1/q1-take1.mp4"));
    assert_eq!(st.session.phase, Phase::Submitting { q: 0, take: 0 });
    assert_eq!(
        st.session.progress.questions[0].takes[0].state,
        TakeState::Saved
    );
    assert!(
        !fx.iter().any(Effect::is_save),
        "nothing to save yet: {fx:?}"
    );
    // Keys wait while the take goes into the outbox.
    assert!(key(&mut st, Key::Char('r')).is_empty());
    assert!(key(&mut st, Key::Enter).is_empty());
    let fx = submitted(&mut st, 0, 0);
    assert!(fx[0].is_save());
    assert_eq!(
        st.session.progress.questions[0].takes[0].state,
        TakeState::Submitted
    );
    assert_eq!(st.session.progress.questions[0].delivery, Delivery::Queued);
    assert_eq!(
        st.session.progress.questions[0].answer_id.as_deref(),
        Some("answer-0-0")
    );
    assert_eq!(st.session.phase, Phase::Questions { selected: 1 });
    Ok(())
}

#[test]
fn a_failed_submission_keeps_the_take_reviewable_and_calls_staff() -> crate::TestResult {
    let mut st = reviewing()?;
    key(&mut st, Key::Enter);
    let fx = update(
        &mut st,
        Msg::SubmitFailed {
            take: take_ref(0, 0),
            problem: SubmitProblem::NoSpace,
            detail: "cannot rename into place: No space left on device".into(),
        },
    );
    assert!(fx[0].is_save());
    assert!(
        fx.iter().any(|e| matches!(e, Effect::CallStaff { .. })),
        "{fx:?}"
    );
    assert_eq!(st.session.notice, Some(Notice::SubmitFailed));
    assert_eq!(
        st.session.phase,
        Phase::Review {
            q: 0,
            take: 0,
            playing: false
        }
    );
    let take = &st.session.progress.questions[0].takes[0];
    assert_eq!(take.state, TakeState::Saved);
    assert!(take.submit_failed, "a later wipe must set it aside");
    assert_eq!(
        st.session.progress.questions[0].delivery,
        Delivery::NotSubmitted
    );
    let status = st.last_error.as_deref().ok_or("no status")?;
    assert!(status.contains("the disk is full"), "{status}");
    // The candidate may try again.
    let fx = key(&mut st, Key::Enter);
    assert!(fx.iter().any(|e| matches!(e, Effect::Submit(_))));
    submitted(&mut st, 0, 0);
    assert!(!st.session.progress.questions[0].takes[0].submit_failed);
    Ok(())
}

#[test]
fn no_session_ends_while_a_take_goes_into_the_outbox() -> crate::TestResult {
    let mut st = reviewing()?;
    st.settings.idle_reset = Some(secs(60));
    key(&mut st, Key::Enter);
    assert!(lifecycle::end_session(&mut st).is_empty());
    // Nor by the idle reset, however long it takes.
    assert!(tick(&mut st, secs(600)).is_empty());
    assert_eq!(st.session.idle_ends, None);
    assert_eq!(st.session.phase, Phase::Submitting { q: 0, take: 0 });
    submitted(&mut st, 0, 0);
    let fx = lifecycle::end_session(&mut st);
    assert!(
        fx.iter().any(|e| matches!(e, Effect::EndSession { .. })),
        "{fx:?}"
    );
    Ok(())
}

#[test]
fn between_candidates_the_screen_is_blank_and_keys_do_nothing() -> crate::TestResult {
    let mut st = at_questions()?;
    st.record_upload(0, |u| u.sent = 10);
    let fx = lifecycle::end_session(&mut st);
    assert_eq!(
        fx.last(),
        Some(&Effect::EndSession {
            session: "s1".into(),
            dir: PathBuf::from("/data/s1"),
            progress: Box::new(st.session.progress.clone()),
        })
    );
    assert_eq!(st.session.phase, Phase::Resetting);
    assert!(key(&mut st, Key::Enter).is_empty());
    assert!(key(&mut st, Key::Char('r')).is_empty());
    assert_eq!(st.session.phase, Phase::Resetting);
    // Asked twice (an operator and the idle reset at once), it ends once.
    assert!(lifecycle::end_session(&mut st).is_empty());
    let progress = crate::session::Progress::new("s2", &st.session.interview.id, 2, 0);
    let interview = st.session.interview.clone();
    update(
        &mut st,
        Msg::SessionStarted {
            progress,
            dir: PathBuf::from("/data/s2"),
            interview,
        },
    );
    assert_eq!(st.session.phase, Phase::Welcome(Default::default()));
    assert_eq!(st.session.dir, PathBuf::from("/data/s2"));
    // Nothing of the previous candidate's uploads shows for the next one.
    assert_eq!(st.upload(0), Default::default());
    Ok(())
}

#[test]
fn a_session_that_cannot_be_closed_puts_the_station_out_of_order() -> crate::TestResult {
    let mut st = at_questions()?;
    lifecycle::end_session(&mut st);
    let fx = update(
        &mut st,
        Msg::SessionEndFailed {
            detail: "cannot rename into place: Input/output error".into(),
        },
    );
    assert_eq!(st.session.phase, Phase::OutOfOrder);
    assert!(matches!(
        fx.as_slice(),
        [Effect::CallStaff {
            phase: "out_of_order",
            ..
        }]
    ));
    assert!(key(&mut st, Key::Enter).is_empty());
    // The operator can try again from there.
    let fx = lifecycle::end_session(&mut st);
    assert!(fx.iter().any(|e| matches!(e, Effect::EndSession { .. })));
    Ok(())
}

#[test]
fn a_full_disk_at_the_start_of_an_answer_calls_staff_and_costs_nothing() -> crate::TestResult {
    let mut st = at_questions()?;
    recording_q1(&mut st);
    let fx = update(
        &mut st,
        Msg::RecordingFailed {
            purpose: answer(0, 0),
            problem: RecordingProblem::NoSpace,
            detail: "no space".into(),
            kept_seconds: None,
        },
    );
    assert_eq!(st.session.notice, Some(Notice::NoSpace));
    assert!(fx.iter().any(|e| matches!(e, Effect::CallStaff { .. })));
    assert_eq!(st.attempts_left(0), 2);
    // A device problem does not call staff by itself: the candidate can retry.
    let mut st = at_questions()?;
    recording_q1(&mut st);
    let fx = update(
        &mut st,
        Msg::RecordingFailed {
            purpose: answer(0, 0),
            problem: RecordingProblem::Device(DeviceProblem::Camera),
            detail: "camera".into(),
            kept_seconds: None,
        },
    );
    assert!(!fx.iter().any(|e| matches!(e, Effect::CallStaff { .. })));
    // The camera is being reopened by itself: its sentence says so, and Enter waits for it.
    assert_eq!(
        st.session.notice,
        Some(Notice::DeviceLost(DeviceProblem::Camera))
    );
    assert_eq!(
        tick(&mut st, secs(1)),
        vec![Effect::OpenDevices { opening: 2 }]
    );
    Ok(())
}

#[test]
fn activity_is_noted_on_disk_at_most_every_ten_seconds() -> crate::TestResult {
    let mut st = state()?;
    let note = |fx: &[Effect]| {
        fx.iter()
            .filter(|e| matches!(e, Effect::NoteActivity { .. }))
            .count()
    };
    // Not on the welcome screen: nobody's session has begun.
    assert_eq!(note(&update(&mut st, Msg::Key(Key::Right))), 0);
    assert_eq!(st.session.phase, Phase::Welcome(Default::default()));
    assert_eq!(note(&update(&mut st, Msg::Key(Key::Char('x')))), 1);
    assert_eq!(st.session.phase, Phase::Overview);
    assert_eq!(note(&update(&mut st, Msg::Key(Key::Char('x')))), 0);
    tick(&mut st, secs(9));
    assert_eq!(note(&update(&mut st, Msg::Key(Key::Char('x')))), 0);
    tick(&mut st, secs(1));
    let fx = update(&mut st, Msg::Key(Key::Char('x')));
    assert_eq!(
        fx,
        vec![Effect::NoteActivity {
            dir: PathBuf::from("/data/s1")
        }]
    );
    Ok(())
}
