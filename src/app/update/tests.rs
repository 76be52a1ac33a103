//! Rules of the flow, one message at a time: attempts, limits, the noise gate, minimum
//! length, automatic start, submission and the station-fault rules.

use std::path::PathBuf;
use std::sync::Arc;

use super::fixtures::*;
use super::fixtures::{submitted, tick};
use super::*;
use crate::app::msg::{ClipChecks, RecordingProblem};
use crate::app::state::{DeviceStatus, Notice};
use crate::media::analyze::{AudioVerdict, PictureVerdict};
use crate::session::{Take, TakeState};

fn good_checks() -> ClipChecks {
    ClipChecks {
        picture: PictureVerdict::Ok,
        sound: AudioVerdict::Ok,
    }
}

#[test]
fn welcome_overview_then_device_test_opens_the_devices() -> crate::TestResult {
    let mut st = state()?;
    assert_eq!(st.session.phase, Phase::Welcome(Default::default()));
    assert!(key(&mut st, Key::Char('a')).is_empty());
    assert_eq!(st.session.phase, Phase::Overview);
    assert_eq!(
        key(&mut st, Key::Enter),
        vec![Effect::OpenDevices { opening: 1 }]
    );
    assert_eq!(st.session.phase, Phase::DeviceTest(TestStep::Ready));
    assert_eq!(st.devices.status, DeviceStatus::Opening);
    Ok(())
}

#[test]
fn device_test_records_checks_and_deletes_the_clip() -> crate::TestResult {
    let mut st = state()?;
    key(&mut st, Key::Enter);
    key(&mut st, Key::Enter);
    // No recording until the devices are open.
    assert!(key(&mut st, Key::Char('r')).is_empty());
    ready_devices(&mut st);
    let fx = key(&mut st, Key::Char('r'));
    let clip = PathBuf::from("/data/s1/device-test.mp4");
    assert_eq!(
        fx,
        vec![Effect::StartRecording {
            purpose: test_clip(),
            file: clip.clone(),
            limit: secs(8),
        }]
    );
    // Too early to stop by key; the clip stops by itself at its length.
    assert!(key(&mut st, Key::Enter).is_empty());
    assert_eq!(tick(&mut st, secs(8)), vec![Effect::StopRecording]);
    update(
        &mut st,
        Msg::RecordingSaved {
            purpose: test_clip(),
            seconds: 8.0,
            checks: Some(good_checks()),
        },
    );
    assert!(matches!(
        st.session.phase,
        Phase::DeviceTest(TestStep::Review { .. })
    ));
    assert_eq!(
        key(&mut st, Key::Char('p')),
        vec![Effect::Play { file: clip.clone() }]
    );
    let fx = key(&mut st, Key::Enter);
    assert_eq!(
        fx,
        vec![Effect::StopPlayback, Effect::DeleteFile(clip), st.save(),]
    );
    assert!(st.session.progress.device_test_passed);
    assert_eq!(st.session.phase, Phase::Questions { selected: 0 });
    // The test clip never becomes an upload.
    assert!(!fx.iter().any(|e| matches!(e, Effect::Submit(_))));
    Ok(())
}

#[test]
fn failed_checks_offer_record_again_first() -> crate::TestResult {
    let mut st = state()?;
    key(&mut st, Key::Enter);
    key(&mut st, Key::Enter);
    ready_devices(&mut st);
    key(&mut st, Key::Char('r'));
    tick(&mut st, secs(8));
    let checks = ClipChecks {
        picture: PictureVerdict::Ok,
        sound: AudioVerdict::NoSound,
    };
    update(
        &mut st,
        Msg::RecordingSaved {
            purpose: test_clip(),
            seconds: 8.0,
            checks: Some(checks),
        },
    );
    let fx = key(&mut st, Key::Enter);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::StartRecording { .. })),
        "{fx:?}"
    );
    assert!(!st.session.progress.device_test_passed);
    tick(&mut st, secs(8));
    update(
        &mut st,
        Msg::RecordingSaved {
            purpose: test_clip(),
            seconds: 8.0,
            checks: Some(checks),
        },
    );
    // "Continue anyway" stays possible: a station fault must not lock the candidate out.
    key(&mut st, Key::Char('c'));
    assert!(st.session.progress.device_test_passed);
    Ok(())
}

#[test]
fn preparation_counts_down_then_waits_for_sound_then_starts() -> crate::TestResult {
    let mut st = at_questions()?;
    let fx = key(&mut st, Key::Enter);
    assert_eq!(fx, vec![st.save()]);
    let ends = st.now + secs(30);
    assert_eq!(
        st.session.phase,
        Phase::Question {
            q: 0,
            prep: Prep::Counting { ends }
        }
    );
    assert!(tick(&mut st, secs(29)).is_empty());
    // Time is up but nobody has been heard: wait, and say so.
    assert!(tick(&mut st, secs(1)).is_empty());
    assert_eq!(
        st.session.phase,
        Phase::Question {
            q: 0,
            prep: Prep::WaitingForSound
        }
    );
    assert!(update(&mut st, quiet()).is_empty());
    let fx = update(&mut st, loud());
    assert_eq!(fx.len(), 2, "{fx:?}");
    assert!(fx[0].is_save(), "{fx:?}");
    assert_eq!(
        fx[1],
        Effect::StartRecording {
            purpose: answer(0, 0),
            file: PathBuf::from("/data/s1/q1-take1.mp4"),
            limit: secs(60),
        }
    );
    assert_eq!(
        st.session.progress.questions[0].takes[0].state,
        TakeState::Recording
    );
    Ok(())
}

#[test]
fn candidate_may_start_early_once_heard() -> crate::TestResult {
    let mut st = at_questions()?;
    update(&mut st, loud());
    key(&mut st, Key::Enter);
    tick(&mut st, secs(5));
    let fx = key(&mut st, Key::Enter);
    assert!(
        matches!(fx.last(), Some(Effect::StartRecording { .. })),
        "{fx:?}"
    );
    assert!(matches!(
        st.session.phase,
        Phase::Recording { q: 0, take: 0, .. }
    ));
    Ok(())
}

#[test]
fn minimum_length_blocks_an_early_stop_and_the_limit_stops_by_itself() -> crate::TestResult {
    let mut st = at_questions()?;
    recording_q1(&mut st);
    tick(&mut st, secs(5));
    assert!(
        key(&mut st, Key::Char('s')).is_empty(),
        "stopped before the minimum"
    );
    tick(&mut st, secs(5));
    assert_eq!(key(&mut st, Key::Char('s')), vec![Effect::StopRecording]);

    let mut st = at_questions()?;
    recording_q1(&mut st);
    assert!(tick(&mut st, secs(59)).is_empty());
    assert_eq!(tick(&mut st, secs(1)), vec![Effect::StopRecording]);
    // Stopping is asked once.
    assert!(tick(&mut st, secs(1)).is_empty());
    Ok(())
}

#[test]
fn silence_warning_after_three_seconds_while_recording() -> crate::TestResult {
    let mut st = at_questions()?;
    recording_q1(&mut st);
    tick(&mut st, secs(2));
    assert_eq!(st.silent_for(), None);
    tick(&mut st, secs(1));
    assert_eq!(st.silent_for(), Some(secs(3)));
    update(&mut st, loud());
    assert_eq!(st.silent_for(), None);
    Ok(())
}

#[test]
fn attempts_are_counted_and_rerecording_stops_when_they_run_out() -> crate::TestResult {
    let mut st = at_questions()?;
    recording_q1(&mut st);
    tick(&mut st, secs(20));
    key(&mut st, Key::Enter);
    saved(&mut st, 0, 0);
    assert_eq!(st.session.progress.questions[0].attempts_used, 1);
    assert_eq!(st.attempts_left(0), 1);
    assert_eq!(
        st.session.phase,
        Phase::Review {
            q: 0,
            take: 0,
            playing: false
        }
    );
    // Re-record: the old take is deleted, preparation starts again.
    let fx = key(&mut st, Key::Char('r'));
    assert!(fx.contains(&Effect::DeleteFile(PathBuf::from("/data/s1/q1-take1.mp4"))));
    assert_eq!(
        st.session.progress.questions[0].takes[0].state,
        TakeState::Discarded
    );
    assert!(matches!(st.session.phase, Phase::Question { q: 0, .. }));
    key(&mut st, Key::Enter);
    assert!(matches!(st.session.phase, Phase::Recording { take: 1, .. }));
    saved(&mut st, 0, 1);
    assert_eq!(st.attempts_left(0), 0);
    // No attempts left: 'r' does nothing, only submitting remains.
    assert!(key(&mut st, Key::Char('r')).is_empty());
    let fx = key(&mut st, Key::Enter);
    assert!(fx.contains(&Effect::Submit(crate::app::msg::Submission {
        take: take_ref(0, 1),
        file: PathBuf::from("/data/s1/q1-take2.mp4"),
        interview_id: "test-interview".into(),
        candidate_ref: None,
        question_id: "q1".into(),
        attempt: 2,
        seconds: 12.0,
    })));
    // Nothing counts as sent until the outbox has it.
    assert_eq!(st.session.phase, Phase::Submitting { q: 0, take: 1 });
    assert_eq!(
        st.session.progress.questions[0].delivery,
        Delivery::NotSubmitted
    );
    submitted(&mut st, 0, 1);
    assert_eq!(st.session.progress.questions[0].delivery, Delivery::Queued);
    assert_eq!(
        st.session.progress.questions[0].takes[1].state,
        TakeState::Submitted
    );
    assert_eq!(st.session.phase, Phase::Questions { selected: 1 });
    Ok(())
}

#[test]
fn no_preparation_means_the_candidate_starts_it() -> crate::TestResult {
    let mut st = at_questions()?;
    key(&mut st, Key::Down);
    key(&mut st, Key::Enter);
    assert_eq!(
        st.session.phase,
        Phase::Question {
            q: 1,
            prep: Prep::Ready
        }
    );
    // Nothing starts by itself.
    assert!(tick(&mut st, secs(600)).is_empty());
    Ok(())
}

#[test]
fn submitting_the_last_answer_finishes() -> crate::TestResult {
    let mut st = at_questions()?;
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
    assert!(matches!(st.session.phase, Phase::Done { .. }));
    assert!(st.session.progress.all_submitted());
    // The last submission also sends the session manifest, listing both answers.
    let Some(Effect::SendManifest(m)) = last.last() else {
        panic!("no manifest in {last:?}")
    };
    assert_eq!(m.answers.len(), 2);
    assert_eq!(m.answers[1].1, "q2");
    // A submitted question cannot be opened again.
    st.session.phase = Phase::Questions { selected: 0 };
    assert!(key(&mut st, Key::Enter).is_empty());
    Ok(())
}

#[test]
fn a_station_fault_keeps_the_take_and_costs_no_attempt() -> crate::TestResult {
    let mut st = at_questions()?;
    recording_q1(&mut st);
    update(
        &mut st,
        Msg::RecordingFailed {
            purpose: answer(0, 0),
            problem: RecordingProblem::Device(crate::app::state::DeviceProblem::Camera),
            detail: "camera /dev/video0 stopped delivering pictures".into(),
            kept_seconds: Some(14.0),
        },
    );
    assert_eq!(
        st.session.progress.questions[0].takes[0].state,
        TakeState::Interrupted
    );
    assert_eq!(st.session.progress.questions[0].attempts_used, 0);
    assert_eq!(st.attempts_left(0), 2);
    assert!(matches!(
        st.session.phase,
        Phase::Review { q: 0, take: 0, .. }
    ));
    // While the camera is reopened, its sentence is the one on screen (the review says the
    // take was cut short); the interrupted notice is for a fault the devices survived.
    assert_eq!(
        st.session.notice,
        Some(Notice::DeviceLost(crate::app::state::DeviceProblem::Camera))
    );
    // Submitting the interrupted take is allowed, camera or not.
    let fx = key(&mut st, Key::Enter);
    assert!(fx.iter().any(|e| matches!(e, Effect::Submit(_))));
    Ok(())
}

#[test]
fn a_recording_that_never_started_returns_to_the_question() -> crate::TestResult {
    let mut st = at_questions()?;
    recording_q1(&mut st);
    update(
        &mut st,
        Msg::RecordingFailed {
            purpose: answer(0, 0),
            problem: RecordingProblem::Device(crate::app::state::DeviceProblem::Camera),
            detail: "camera not found".into(),
            kept_seconds: None,
        },
    );
    assert_eq!(
        st.session.progress.questions[0].takes[0].state,
        TakeState::Discarded
    );
    assert_eq!(
        st.session.phase,
        Phase::Question {
            q: 0,
            prep: Prep::Ready
        }
    );
    assert_eq!(st.attempts_left(0), 2);
    Ok(())
}

#[test]
fn terminate_while_recording_saves_first_then_quits() -> crate::TestResult {
    let mut st = at_questions()?;
    recording_q1(&mut st);
    assert_eq!(update(&mut st, Msg::Terminate), vec![Effect::StopRecording]);
    let fx = update(
        &mut st,
        Msg::RecordingSaved {
            purpose: answer(0, 0),
            seconds: 3.0,
            checks: None,
        },
    );
    assert_eq!(fx, vec![st.save(), Effect::Quit]);
    let mut idle = at_questions()?;
    assert_eq!(
        update(&mut idle, Msg::Terminate),
        vec![Effect::StopPlayback, idle.save(), Effect::Quit]
    );
    Ok(())
}

#[test]
fn help_opens_anywhere_and_swallows_keys_until_closed() -> crate::TestResult {
    let mut st = at_questions()?;
    key(&mut st, Key::Help);
    assert!(st.session.help);
    assert!(key(&mut st, Key::Enter).is_empty());
    assert!(!st.session.help);
    assert_eq!(st.session.phase, Phase::Questions { selected: 0 });
    // `?` is Help already as the terminal's key (tui::translate); here it is a plain key.
    key(&mut st, Key::Char('?'));
    assert!(!st.session.help);
    key(&mut st, Key::Help);
    assert!(st.session.help);
    key(&mut st, Key::Help);
    assert!(!st.session.help);
    Ok(())
}

#[test]
fn a_video_question_prepares_after_the_video() -> crate::TestResult {
    let mut st = at_questions()?;
    let video = PathBuf::from("/assets/q.mp4");
    Arc::make_mut(&mut st.session.interview).questions[0].video = Some(video.clone());
    let fx = key(&mut st, Key::Enter);
    assert!(fx.contains(&Effect::Play { file: video }));
    assert_eq!(
        st.session.phase,
        Phase::Question {
            q: 0,
            prep: Prep::Watching { paused: false }
        }
    );
    // The preparation clock does not run while the video plays.
    assert!(tick(&mut st, secs(120)).is_empty());
    update(&mut st, Msg::PlaybackEnded);
    let ends = st.now + secs(30);
    assert_eq!(
        st.session.phase,
        Phase::Question {
            q: 0,
            prep: Prep::Counting { ends }
        }
    );
    Ok(())
}

#[test]
fn resuming_with_a_pending_take_opens_its_review() -> crate::TestResult {
    let mut st = at_questions()?;
    st.session.progress.questions[0].takes.push(Take {
        state: TakeState::Interrupted,
        seconds: Some(9.0),
        ..Take::recording("q1-take1.mp4".into())
    });
    key(&mut st, Key::Enter);
    assert_eq!(
        st.session.phase,
        Phase::Review {
            q: 0,
            take: 0,
            playing: false
        }
    );
    Ok(())
}

#[test]
fn the_welcome_screen_switches_language_with_the_arrows() -> crate::TestResult {
    let mut st = state()?;
    assert_eq!(st.session.text.code, "en");
    key(&mut st, Key::Right);
    assert_eq!(st.session.text.code, "de");
    assert_eq!(st.session.phase, Phase::Welcome(Default::default()));
    key(&mut st, Key::Left);
    assert_eq!(st.session.text.code, "en");
    key(&mut st, Key::Enter);
    assert_eq!(st.session.phase, Phase::Overview);
    Ok(())
}

#[test]
fn the_picked_language_is_saved_and_a_restart_goes_on_in_it() -> crate::TestResult {
    let mut st = state()?;
    // The interview's own language, untouched: an anonymous start saves nothing.
    assert!(key(&mut st, Key::Enter).is_empty());
    let mut st = state()?;
    key(&mut st, Key::Right);
    let effects = key(&mut st, Key::Enter);
    let saved = effects
        .iter()
        .find_map(|e| match e {
            Effect::SaveProgress { progress, .. } => Some(progress.clone()),
            _ => None,
        })
        .ok_or("the pick was not saved")?;
    assert_eq!(saved.language.as_deref(), Some("de"));
    // The station restarts: the session comes back from what was saved.
    let fresh = state()?;
    let resumed = Session::new(
        Arc::new((*fresh.session.interview).clone()),
        *saved,
        PathBuf::from("/data/s1"),
        fresh.now,
    );
    assert_eq!(resumed.text.code, "de");
    Ok(())
}
