//! Rules of the practice question, the countdown before every recording and the question
//! video (replays, pause, a video that cannot be played), one message at a time.

use std::path::PathBuf;
use std::sync::Arc;

use super::fixtures::tick;
use super::fixtures::*;
use super::*;
use crate::app::msg::{ClipChecks, RecordingProblem};
use crate::app::state::{Notice, PracticeStep, Slot};
use crate::interview::{Interview, Practice};
use crate::media::analyze::{AudioVerdict, PictureVerdict};

fn practice() -> Purpose {
    Purpose::Practice {
        session: "s1".into(),
    }
}

/// At the end of the device test, with a practice question and the station's 3-2-1.
fn with_practice() -> crate::TestResult<State> {
    let mut st = state()?;
    st.settings.countdown = secs(3);
    Arc::make_mut(&mut st.session.interview).practice = Some(Practice {
        text: "What did you have for breakfast?".into(),
        answer_limit: secs(60),
    });
    ready_devices(&mut st);
    st.session.phase = Phase::DeviceTest(TestStep::Review {
        checks: ClipChecks {
            picture: PictureVerdict::Ok,
            sound: AudioVerdict::Ok,
        },
        playing: false,
    });
    update(&mut st, loud());
    key(&mut st, Key::Enter);
    Ok(st)
}

/// Records one practice take through its countdown; returns the effects of the countdown's
/// end.
fn practise(st: &mut State) -> Vec<Effect> {
    key(st, Key::Enter);
    let fx = tick(st, secs(3));
    update(
        st,
        Msg::RecordingStarted {
            purpose: practice(),
        },
    );
    tick(st, secs(5));
    key(st, Key::Char('s'));
    update(
        st,
        Msg::RecordingSaved {
            purpose: practice(),
            seconds: 5.0,
            checks: None,
        },
    );
    fx
}

#[test]
fn the_practice_is_offered_after_the_device_test() -> crate::TestResult {
    let st = with_practice()?;
    assert_eq!(st.session.phase, Phase::Practice(PracticeStep::Ready));
    // Without one, the questions come next as before.
    let mut plain = state()?;
    plain.session.phase = Phase::DeviceTest(TestStep::Review {
        checks: ClipChecks {
            picture: PictureVerdict::Ok,
            sound: AudioVerdict::Ok,
        },
        playing: false,
    });
    key(&mut plain, Key::Enter);
    assert_eq!(plain.session.phase, Phase::Questions { selected: 0 });
    Ok(())
}

#[test]
fn a_practice_take_is_recorded_in_the_session_and_never_submitted_or_counted() -> crate::TestResult
{
    let mut st = with_practice()?;
    let before = st.session.progress.clone();
    let fx = practise(&mut st);
    assert_eq!(
        fx,
        vec![Effect::StartRecording {
            purpose: practice(),
            file: PathBuf::from("/data/s1/practice.mp4"),
            limit: secs(60),
        }]
    );
    assert_eq!(
        st.session.phase,
        Phase::Practice(PracticeStep::Review {
            playing: false,
            seconds: 5.0
        })
    );
    // Nothing of it is in the progress, and sending is not a key here: Enter leaves it.
    assert_eq!(st.session.progress, before);
    let fx = key(&mut st, Key::Enter);
    assert!(!fx.iter().any(|e| matches!(
        e,
        Effect::Submit(_) | Effect::SaveProgress { .. } | Effect::SendManifest(_)
    )));
    assert!(fx.contains(&Effect::DeleteFile(PathBuf::from("/data/s1/practice.mp4"))));
    assert_eq!(st.session.phase, Phase::Questions { selected: 0 });
    assert_eq!(st.session.progress, before);
    assert_eq!(st.attempts_left(0), 2);
    Ok(())
}

#[test]
fn the_practice_may_be_tried_again_without_limit() -> crate::TestResult {
    let mut st = with_practice()?;
    for _ in 0..12 {
        practise(&mut st);
        assert!(matches!(
            st.session.phase,
            Phase::Practice(PracticeStep::Review { .. })
        ));
        let fx = key(&mut st, Key::Char('r'));
        assert!(fx.contains(&Effect::DeleteFile(st.practice_path())));
        assert_eq!(
            st.session.phase,
            Phase::Countdown {
                slot: Slot::Practice,
                ends: st.now + secs(3)
            }
        );
        key(&mut st, Key::Esc);
    }
    assert_eq!(st.session.progress.questions[0].attempts_used, 0);
    // And from the question list, P opens it again.
    key(&mut st, Key::Esc);
    assert_eq!(st.session.phase, Phase::Questions { selected: 0 });
    key(&mut st, Key::Char('p'));
    assert_eq!(st.session.phase, Phase::Practice(PracticeStep::Ready));
    Ok(())
}

#[test]
fn a_failed_practice_take_says_so_and_costs_nothing() -> crate::TestResult {
    let mut st = with_practice()?;
    key(&mut st, Key::Enter);
    tick(&mut st, secs(3));
    let fx = update(
        &mut st,
        Msg::RecordingFailed {
            purpose: practice(),
            problem: RecordingProblem::Station,
            detail: "encoder".into(),
            kept_seconds: None,
        },
    );
    assert!(fx.is_empty());
    assert_eq!(st.session.phase, Phase::Practice(PracticeStep::Ready));
    assert_eq!(st.session.notice, Some(Notice::PracticeFailed));
    Ok(())
}

#[test]
fn the_practice_take_stops_at_its_limit() -> crate::TestResult {
    let mut st = with_practice()?;
    key(&mut st, Key::Enter);
    tick(&mut st, secs(3));
    update(
        &mut st,
        Msg::RecordingStarted {
            purpose: practice(),
        },
    );
    assert!(tick(&mut st, secs(59)).is_empty());
    assert_eq!(tick(&mut st, secs(1)), vec![Effect::StopRecording]);
    Ok(())
}

#[test]
fn the_countdown_runs_before_an_answer_and_its_length_comes_from_the_settings() -> crate::TestResult
{
    let mut st = at_questions()?;
    st.settings.countdown = secs(5);
    update(&mut st, loud());
    key(&mut st, Key::Enter);
    // Question 1 has 30 s to prepare; Enter starts now, and the countdown comes first.
    assert!(key(&mut st, Key::Enter).is_empty());
    let ends = st.now + secs(5);
    assert_eq!(
        st.session.phase,
        Phase::Countdown {
            slot: Slot::Question(0),
            ends
        }
    );
    assert!(tick(&mut st, secs(4)).is_empty());
    assert!(st.session.progress.questions[0].takes.is_empty());
    let fx = tick(&mut st, secs(1));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::StartRecording { .. }))
    );
    assert!(matches!(st.session.phase, Phase::Recording { q: 0, .. }));
    Ok(())
}

#[test]
fn the_interview_countdown_wins_over_the_station_and_zero_turns_it_off() -> crate::TestResult {
    let mut st = at_questions()?;
    st.settings.countdown = secs(3);
    Arc::make_mut(&mut st.session.interview).countdown = Some(secs(0));
    update(&mut st, loud());
    key(&mut st, Key::Enter);
    let fx = key(&mut st, Key::Enter);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::StartRecording { .. }))
    );
    assert!(matches!(st.session.phase, Phase::Recording { .. }));
    let mut longer = at_questions()?;
    Arc::make_mut(&mut longer.session.interview).countdown = Some(secs(7));
    assert_eq!(longer.countdown(), secs(7));
    Ok(())
}

#[test]
fn escape_during_the_countdown_goes_back_without_using_an_attempt() -> crate::TestResult {
    let mut st = at_questions()?;
    st.settings.countdown = secs(3);
    update(&mut st, loud());
    key(&mut st, Key::Enter);
    key(&mut st, Key::Enter);
    // Other keys do not interrupt the 3-2-1.
    assert!(key(&mut st, Key::Char('s')).is_empty());
    assert!(matches!(st.session.phase, Phase::Countdown { .. }));
    assert!(key(&mut st, Key::Esc).is_empty());
    assert_eq!(
        st.session.phase,
        Phase::Question {
            q: 0,
            prep: Prep::Ready
        }
    );
    assert_eq!(st.attempts_left(0), 2);
    assert!(st.session.progress.questions[0].takes.is_empty());
    // The time the countdown would have ended changes nothing.
    assert!(tick(&mut st, secs(10)).is_empty());
    Ok(())
}

#[test]
fn the_countdown_waits_for_the_microphone_gate() -> crate::TestResult {
    let mut st = at_questions()?;
    st.settings.countdown = secs(3);
    key(&mut st, Key::Enter);
    key(&mut st, Key::Enter);
    assert_eq!(
        st.session.phase,
        Phase::Question {
            q: 0,
            prep: Prep::WaitingForSound
        }
    );
    update(&mut st, loud());
    assert!(matches!(
        st.session.phase,
        Phase::Countdown {
            slot: Slot::Question(0),
            ..
        }
    ));
    Ok(())
}

fn with_video(replays: u32) -> crate::TestResult<(State, PathBuf)> {
    let mut st = at_questions()?;
    let video = PathBuf::from("/assets/q.mp4");
    let q = &mut Arc::make_mut(&mut st.session.interview).questions[0];
    q.video = Some(video.clone());
    q.video_replays = replays;
    Ok((st, video))
}

#[test]
fn a_question_video_may_be_replayed_as_often_as_allowed() -> crate::TestResult {
    let (mut st, video) = with_video(2)?;
    let fx = key(&mut st, Key::Enter);
    assert!(fx.contains(&Effect::Play {
        file: video.clone()
    }));
    update(&mut st, Msg::PlaybackEnded);
    for _ in 0..2 {
        assert!(st.replays_left(0) >= 1);
        let fx = key(&mut st, Key::Char('v'));
        assert!(fx.contains(&Effect::Play {
            file: video.clone()
        }));
        assert_eq!(
            st.session.phase,
            Phase::Question {
                q: 0,
                prep: Prep::Watching { paused: false }
            }
        );
        update(&mut st, Msg::PlaybackEnded);
    }
    assert_eq!(st.replays_left(0), 0);
    assert!(key(&mut st, Key::Char('v')).is_empty());
    assert!(matches!(
        st.session.phase,
        Phase::Question {
            prep: Prep::Counting { .. },
            ..
        }
    ));
    Ok(())
}

#[test]
fn zero_replays_means_once_only() -> crate::TestResult {
    let (mut st, _) = with_video(0)?;
    key(&mut st, Key::Enter);
    key(&mut st, Key::Enter);
    assert_eq!(st.replays_left(0), 0);
    assert!(key(&mut st, Key::Char('v')).is_empty());
    Ok(())
}

#[test]
fn replays_are_counted_per_question_and_reset_for_the_next_candidate() -> crate::TestResult {
    let (mut st, _) = with_video(1)?;
    let q2 = &mut Arc::make_mut(&mut st.session.interview).questions[1];
    q2.video = Some(PathBuf::from("/assets/q2.mp4"));
    key(&mut st, Key::Enter);
    key(&mut st, Key::Enter);
    key(&mut st, Key::Char('v'));
    assert_eq!(st.replays_left(0), 0);
    assert_eq!(st.replays_left(1), 1, "question 2 has its own count");
    let interview = st.session.interview.clone();
    update(
        &mut st,
        Msg::SessionStarted {
            progress: crate::session::Progress::new("s2", &interview.id, 2, 0),
            dir: PathBuf::from("/data/s2"),
            interview,
        },
    );
    assert_eq!(st.video_plays(0), 0);
    assert_eq!(st.replays_left(0), 1);
    Ok(())
}

#[test]
fn space_or_p_pauses_and_resumes_the_question_video() -> crate::TestResult {
    let (mut st, _) = with_video(1)?;
    key(&mut st, Key::Enter);
    assert_eq!(
        key(&mut st, Key::Space),
        vec![Effect::PausePlayback { paused: true }]
    );
    assert_eq!(
        st.session.phase,
        Phase::Question {
            q: 0,
            prep: Prep::Watching { paused: true }
        }
    );
    // Paused, the preparation clock does not run.
    assert!(tick(&mut st, secs(300)).is_empty());
    assert_eq!(
        key(&mut st, Key::Char('p')),
        vec![Effect::PausePlayback { paused: false }]
    );
    assert_eq!(
        st.session.phase,
        Phase::Question {
            q: 0,
            prep: Prep::Watching { paused: false }
        }
    );
    Ok(())
}

#[test]
fn a_video_that_cannot_be_played_is_said_and_the_question_read() -> crate::TestResult {
    let (mut st, _) = with_video(1)?;
    key(&mut st, Key::Enter);
    update(&mut st, Msg::PlaybackFailed);
    assert_eq!(st.session.notice, Some(Notice::VideoFailed));
    assert!(matches!(
        st.session.phase,
        Phase::Question {
            q: 0,
            prep: Prep::Counting { .. }
        }
    ));
    assert!(
        st.last_error
            .as_deref()
            .is_some_and(|e| e.contains("/assets/q.mp4"))
    );
    Ok(())
}

#[test]
fn an_interview_practice_reaches_the_state() -> crate::TestResult {
    let text = format!(
        "{INTERVIEW}\ncountdown_seconds = 0\n[practice]\ntext = \"Warm up.\"\nmax_seconds = 30\n"
    );
    // Top-level keys after a table belong to it; put them first.
    let text = text.replacen(
        "id = \"test-interview\"",
        "countdown_seconds = 0\nid = \"test-interview\"",
        1,
    );
    let text = text.replace("\ncountdown_seconds = 0\n[practice]", "\n[practice]");
    let iv = Interview::parse(&text, std::path::Path::new("t.toml"))?;
    assert_eq!(iv.countdown, Some(secs(0)));
    assert_eq!(iv.practice.as_ref().map(|p| p.answer_limit), Some(secs(30)));
    Ok(())
}
