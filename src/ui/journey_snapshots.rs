//! The practice question, the 3-2-1 countdown and the question video's keys, at 80×24 and
//! 160×48: practice ready, recording and reviewed (labelled "not sent"), the countdown before
//! an answer and before the practice, a paused video, the replay key after it, and the plain
//! sentence when a video cannot be played. German too where the words are longest.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::snapshots::{base, snap};
use crate::app::state::{Notice, Phase, PracticeStep, Prep, Slot, State};
use crate::interview::Practice;

fn with_practice() -> crate::TestResult<State> {
    let mut st = base()?;
    Arc::make_mut(&mut st.session.interview).practice = Some(Practice {
        text: "For practice: tell us what you had for breakfast today.".into(),
        answer_limit: Duration::from_secs(60),
    });
    Ok(st)
}

#[test]
fn practice_screens() -> crate::TestResult {
    let mut st = with_practice()?;
    st.session.phase = Phase::Practice(PracticeStep::Ready);
    snap("practice_ready", &st)?;
    st.session.phase = Phase::Practice(PracticeStep::Recording {
        started: Some(st.now - Duration::from_secs(7)),
        stopping: false,
    });
    snap("practice_recording", &st)?;
    st.session.phase = Phase::Practice(PracticeStep::Review {
        playing: false,
        seconds: 7.0,
    });
    snap("practice_review", &st)?;
    st.session.text = crate::i18n::for_language("de");
    snap("practice_review_de", &st)?;
    st.session.phase = Phase::Practice(PracticeStep::Ready);
    snap("practice_ready_de", &st)?;
    Ok(())
}

#[test]
fn countdown_screens() -> crate::TestResult {
    let mut st = with_practice()?;
    st.session.phase = Phase::Countdown {
        slot: Slot::Question(1),
        ends: st.now + Duration::from_millis(2400),
    };
    snap("countdown_question", &st)?;
    st.session.phase = Phase::Countdown {
        slot: Slot::Practice,
        ends: st.now + Duration::from_secs(1),
    };
    snap("countdown_practice", &st)?;
    st.session.text = crate::i18n::for_language("de");
    snap("countdown_practice_de", &st)?;
    Ok(())
}

#[test]
fn question_video_keys() -> crate::TestResult {
    let mut st = with_practice()?;
    Arc::make_mut(&mut st.session.interview).questions[1].video = Some(PathBuf::from("/q.mp4"));
    st.note_video_play(1);
    st.session.phase = Phase::Question {
        q: 1,
        prep: Prep::Watching { paused: true },
    };
    st.session.playback.frame = st.devices.preview.clone();
    st.session.playback.position = Duration::from_secs(4);
    st.session.playback.length = Duration::from_secs(11);
    snap("question_video_paused", &st)?;
    st.session.playback = Default::default();
    st.session.phase = Phase::Question {
        q: 1,
        prep: Prep::Counting {
            ends: st.now + Duration::from_secs(25),
        },
    };
    snap("question_video_replay", &st)?;
    st.session.notice = Some(Notice::VideoFailed);
    snap("question_video_failed", &st)?;
    st.session.text = crate::i18n::for_language("de");
    snap("question_video_failed_de", &st)?;
    // The question list offers the practice again.
    st.session.notice = None;
    st.session.phase = Phase::Questions { selected: 1 };
    snap("questions_with_practice_de", &st)?;
    Ok(())
}
