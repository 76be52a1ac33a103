//! What the flow's rule tests share: a two-question interview, a state on any screen, and
//! keys, ticks and reports as one-liners.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::update;
use crate::app::msg::{Effect, Key, Msg, Purpose, TakeRef};
use crate::app::state::{Phase, Session, Settings, State};
use crate::interview::Interview;
use crate::media::analyze::Level;
use crate::session::Progress;

pub const INTERVIEW: &str = r#"
id = "test-interview"
title = "Test"
intro = "Hello."
language = "en"
[support]
contact = "Ask the desk."
[[question]]
id = "q1"
text = "First?"
preparation_seconds = 30
answer_seconds = 60
minimum_answer_seconds = 10
attempts = 2
[[question]]
id = "q2"
text = "Second?"
preparation_seconds = 0
answer_seconds = 30
attempts = 1
"#;

pub fn state() -> crate::TestResult<State> {
    let interview = Interview::parse(INTERVIEW, std::path::Path::new("t.toml"))?;
    let progress = Progress::new("s1", &interview.id, interview.questions.len(), 0);
    let now = Instant::now();
    let dir = PathBuf::from("/data/s1");
    let session = Session::new(Arc::new(interview), progress, dir, now);
    // No 3-2-1 here: these rules' tests start recording on the key; the countdown's own
    // tests (practice_tests.rs) turn it on.
    let settings = Settings {
        countdown: Duration::ZERO,
        ..Settings::default()
    };
    Ok(State::new(settings, session, now))
}

pub fn test_clip() -> Purpose {
    Purpose::TestClip {
        session: "s1".into(),
    }
}

pub fn take_ref(question: usize, take: usize) -> TakeRef {
    TakeRef {
        session: "s1".into(),
        question,
        take,
    }
}

pub fn answer(question: usize, take: usize) -> Purpose {
    Purpose::Answer(take_ref(question, take))
}

/// The outbox took the take: the flow hears it.
pub fn submitted(st: &mut State, q: usize, take: usize) -> Vec<Effect> {
    update(
        st,
        Msg::Submitted {
            take: take_ref(q, take),
            answer_id: format!("answer-{q}-{take}"),
        },
    )
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn tick(st: &mut State, after: Duration) -> Vec<Effect> {
    let now = st.now + after;
    update(st, Msg::Tick(now))
}

/// A key, without the activity notes (a test of its own checks those).
pub fn key(st: &mut State, k: Key) -> Vec<Effect> {
    update(st, Msg::Key(k))
        .into_iter()
        .filter(|e| !matches!(e, Effect::NoteActivity { .. }))
        .collect()
}

pub fn loud() -> Msg {
    Msg::Level(Level {
        rms_dbfs: -20.0,
        peak_dbfs: -10.0,
        clipped: false,
    })
}

pub fn quiet() -> Msg {
    Msg::Level(Level {
        rms_dbfs: -70.0,
        peak_dbfs: -60.0,
        clipped: false,
    })
}

pub fn ready_devices(st: &mut State) {
    update(
        st,
        Msg::DevicesReady {
            opening: st.devices.opening,
            camera: "cam".into(),
            microphone: "mic".into(),
        },
    );
}

/// A state on the question list, device test done.
pub fn at_questions() -> crate::TestResult<State> {
    let mut st = state()?;
    st.session.progress.device_test_passed = true;
    key(&mut st, Key::Char('x'));
    let fx = key(&mut st, Key::Enter);
    assert_eq!(fx, vec![Effect::OpenDevices { opening: 1 }]);
    ready_devices(&mut st);
    assert_eq!(st.session.phase, Phase::Questions { selected: 0 });
    Ok(st)
}

/// Starts recording question 0 and reports it started.
pub fn recording_q1(st: &mut State) {
    update(st, loud());
    key(st, Key::Enter);
    key(st, Key::Enter);
    update(
        st,
        Msg::RecordingStarted {
            purpose: answer(0, 0),
        },
    );
}

pub fn saved(st: &mut State, q: usize, take: usize) {
    update(
        st,
        Msg::RecordingSaved {
            purpose: answer(q, take),
            seconds: 12.0,
            checks: None,
        },
    );
}
