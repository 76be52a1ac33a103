//! A camera or microphone lost and reopened, one message at a time on fake time: lost while
//! idle, in preparation and mid-recording; the backoff schedule; back again; stale reports;
//! "Try again" and the operator's reopen.

use std::time::Duration;

use super::fixtures::tick;
use super::fixtures::*;
use super::*;
use crate::app::msg::{RecordingProblem, TakeRef};
use crate::app::state::{DeviceProblem, DeviceStatus, Notice, reopen_delay};
use crate::session::TakeState;

fn failed(st: &mut State, problem: DeviceProblem) -> Vec<Effect> {
    let opening = st.devices.opening;
    update(st, Msg::DevicesFailed { opening, problem })
}

fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// The clock runs to the next try: nothing a moment before it, the opening at it.
fn next_try(st: &mut State, wait: Duration) -> crate::TestResult<Vec<Effect>> {
    let early = tick(st, wait - millis(1));
    if !early.is_empty() {
        return Err(format!("a try {:?} early: {early:?}", millis(1)).into());
    }
    Ok(tick(st, millis(1)))
}

#[test]
fn the_wait_between_tries_doubles_up_to_ten_seconds() {
    let waits: Vec<u64> = (0..8).map(|t| reopen_delay(t).as_millis() as u64).collect();
    assert_eq!(waits, [500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
    assert_eq!(reopen_delay(u32::MAX), Duration::from_secs(10));
}

#[test]
fn a_camera_lost_on_the_question_list_is_told_and_reopened_by_itself() -> crate::TestResult {
    let mut st = at_questions()?;
    let progress = st.session.progress.clone();
    assert!(failed(&mut st, DeviceProblem::Camera).is_empty());
    assert_eq!(
        st.devices.status,
        DeviceStatus::Failed(DeviceProblem::Camera)
    );
    assert_eq!(
        st.session.notice,
        Some(Notice::DeviceLost(DeviceProblem::Camera))
    );
    assert_eq!(st.session.phase, Phase::Questions { selected: 0 });
    assert_eq!(
        st.session.progress, progress,
        "nothing of the candidate's changes"
    );
    assert_eq!(
        next_try(&mut st, millis(500))?,
        vec![Effect::OpenDevices { opening: 2 }]
    );
    assert_eq!(st.devices.status, DeviceStatus::Opening);
    ready_devices(&mut st);
    assert_eq!(st.devices.reopen, None);
    assert_eq!(st.session.notice, Some(Notice::DevicesBack));
    // Nothing more is tried once it is back.
    assert!(tick(&mut st, secs(30)).is_empty());
    Ok(())
}

#[test]
fn tries_follow_the_backoff_schedule_until_the_device_is_back() -> crate::TestResult {
    let mut st = at_questions()?;
    failed(&mut st, DeviceProblem::Microphone);
    for (opening, wait) in (2..).zip([500, 1000, 2000, 4000, 8000, 10_000, 10_000]) {
        assert_eq!(
            next_try(&mut st, millis(wait))?,
            vec![Effect::OpenDevices { opening }],
            "the try after {wait} ms"
        );
        // While a try runs, no other starts.
        assert!(tick(&mut st, secs(60)).is_empty());
        assert!(failed(&mut st, DeviceProblem::Microphone).is_empty());
        assert_eq!(
            st.session.notice,
            Some(Notice::DeviceLost(DeviceProblem::Microphone))
        );
    }
    assert_eq!(st.devices.reopen.map(|r| r.tries), Some(7));
    assert_eq!(
        next_try(&mut st, millis(10_000))?,
        vec![Effect::OpenDevices { opening: 9 }]
    );
    ready_devices(&mut st);
    assert_eq!(st.session.notice, Some(Notice::DevicesBack));
    Ok(())
}

#[test]
fn a_camera_lost_in_preparation_keeps_the_question_and_its_time() -> crate::TestResult {
    let mut st = at_questions()?;
    update(&mut st, loud());
    key(&mut st, Key::Enter);
    let start = st.now;
    assert_eq!(
        st.session.phase,
        Phase::Question {
            q: 0,
            prep: Prep::Counting {
                ends: start + secs(30)
            }
        }
    );
    tick(&mut st, secs(10));
    failed(&mut st, DeviceProblem::Camera);
    // Enter does not start a recording without a camera: the sentence says why.
    assert!(key(&mut st, Key::Enter).is_empty());
    assert_eq!(
        st.session.notice,
        Some(Notice::DeviceLost(DeviceProblem::Camera))
    );
    // The camera stays away for 40 s: preparation (20 s left) stands still meanwhile.
    for (opening, wait) in (2..).zip([500, 1000, 2000, 4000, 8000, 10_000]) {
        let fx = next_try(&mut st, millis(wait))?;
        assert_eq!(fx, vec![Effect::OpenDevices { opening }]);
        failed(&mut st, DeviceProblem::Camera);
    }
    let fx = next_try(&mut st, millis(10_000))?;
    assert_eq!(fx, vec![Effect::OpenDevices { opening: 8 }]);
    ready_devices(&mut st);
    let Phase::Question {
        q: 0,
        prep: Prep::Counting { ends },
    } = st.session.phase
    else {
        return Err(format!("left the question: {:?}", st.session.phase).into());
    };
    assert_eq!(ends.saturating_duration_since(st.now), secs(20));
    assert_eq!(st.session.progress.questions[0].takes.len(), 0);
    assert_eq!(st.attempts_left(0), 2);
    // Back: the candidate can go on, and Enter records.
    assert_eq!(st.session.notice, Some(Notice::DevicesBack));
    let fx = key(&mut st, Key::Enter);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::StartRecording { .. })),
        "{fx:?}"
    );
    Ok(())
}

/// The devices' forwarder and the recording's outcome report the loss each on its own: in
/// either order, the take is kept as interrupted (no attempt used), one reopening starts once
/// the recording has ended, and the device's sentence is on screen until it is back.
#[test]
fn a_device_lost_mid_recording_keeps_an_interrupted_take() -> crate::TestResult {
    for device_first in [true, false] {
        let mut st = at_questions()?;
        recording_q1(&mut st);
        tick(&mut st, secs(12));
        let outcome = Msg::RecordingFailed {
            purpose: answer(0, 0),
            problem: RecordingProblem::Device(DeviceProblem::Camera),
            detail: "camera /dev/video0 stopped delivering pictures".into(),
            kept_seconds: Some(12.0),
        };
        if device_first {
            assert!(failed(&mut st, DeviceProblem::Camera).is_empty());
            // No reopening while the recording is being finalized.
            assert!(tick(&mut st, secs(2)).is_empty());
            update(&mut st, outcome);
        } else {
            update(&mut st, outcome);
            assert!(failed(&mut st, DeviceProblem::Camera).is_empty());
        }
        let take = &st.session.progress.questions[0].takes[0];
        assert_eq!(take.state, TakeState::Interrupted);
        assert_eq!(take.seconds, Some(12.0));
        assert_eq!(st.session.progress.questions[0].attempts_used, 0);
        assert!(matches!(
            st.session.phase,
            Phase::Review { q: 0, take: 0, .. }
        ));
        assert_eq!(
            st.session.notice,
            Some(Notice::DeviceLost(DeviceProblem::Camera))
        );
        assert_eq!(st.devices.reopen.map(|r| r.tries), Some(0));
        let fx = tick(&mut st, millis(500));
        assert_eq!(
            fx,
            vec![Effect::OpenDevices { opening: 2 }],
            "{device_first}"
        );
        ready_devices(&mut st);
        assert_eq!(st.session.notice, Some(Notice::DevicesBack));
        // Record again: the next take of the same question, with its attempts intact.
        key(&mut st, Key::Char('r'));
        update(&mut st, loud());
        let fx = key(&mut st, Key::Enter);
        assert!(
            fx.iter().any(|e| matches!(
                e,
                Effect::StartRecording { purpose, .. } if *purpose == answer(0, 1)
            )),
            "{fx:?}"
        );
    }
    Ok(())
}

#[test]
fn stale_reports_change_nothing() -> crate::TestResult {
    let mut st = at_questions()?;
    failed(&mut st, DeviceProblem::Camera);
    assert_eq!(
        tick(&mut st, millis(500)),
        vec![Effect::OpenDevices { opening: 2 }]
    );
    // The old opening's microphone reports too, late: the try in flight is not counted failed.
    update(
        &mut st,
        Msg::DevicesFailed {
            opening: 1,
            problem: DeviceProblem::Microphone,
        },
    );
    assert_eq!(st.devices.status, DeviceStatus::Opening);
    assert_eq!(
        st.devices.reopen.map(|r| (r.tries, r.next)),
        Some((0, None))
    );
    update(
        &mut st,
        Msg::DevicesReady {
            opening: 1,
            camera: "old".into(),
            microphone: "old".into(),
        },
    );
    assert_eq!(st.devices.status, DeviceStatus::Opening);
    // A recording report of an earlier candidate's session changes nothing either.
    let before = st.session.clone();
    update(
        &mut st,
        Msg::RecordingFailed {
            purpose: Purpose::Answer(TakeRef {
                session: "an earlier candidate".into(),
                question: 0,
                take: 0,
            }),
            problem: RecordingProblem::Device(DeviceProblem::Camera),
            detail: "lost".into(),
            kept_seconds: Some(3.0),
        },
    );
    assert_eq!(st.session, before);
    ready_devices(&mut st);
    assert!(matches!(st.devices.status, DeviceStatus::Ready { .. }));
    Ok(())
}

#[test]
fn enter_waits_for_the_devices_on_a_question_without_preparation() -> crate::TestResult {
    let mut st = at_questions()?;
    update(&mut st, loud());
    key(&mut st, Key::Down);
    key(&mut st, Key::Enter);
    assert_eq!(
        st.session.phase,
        Phase::Question {
            q: 1,
            prep: Prep::Ready
        }
    );
    failed(&mut st, DeviceProblem::Microphone);
    assert!(key(&mut st, Key::Enter).is_empty());
    assert_eq!(
        st.session.phase,
        Phase::Question {
            q: 1,
            prep: Prep::Ready
        }
    );
    assert!(st.session.progress.questions[1].takes.is_empty());
    Ok(())
}

#[test]
fn try_again_in_the_device_test_reopens_at_once() -> crate::TestResult {
    let mut st = state()?;
    key(&mut st, Key::Char('x'));
    assert_eq!(
        key(&mut st, Key::Enter),
        vec![Effect::OpenDevices { opening: 1 }]
    );
    failed(&mut st, DeviceProblem::CameraBusy);
    assert_eq!(st.session.phase, Phase::DeviceTest(TestStep::Ready));
    // The test screen says it in its own words: no notice over it.
    assert_eq!(st.session.notice, None);
    assert_eq!(
        key(&mut st, Key::Enter),
        vec![Effect::OpenDevices { opening: 2 }]
    );
    // The automatic try due at 0.5 s does not come on top of the one running.
    assert!(tick(&mut st, secs(1)).is_empty());
    failed(&mut st, DeviceProblem::CameraBusy);
    assert_eq!(st.devices.reopen.map(|r| r.tries), Some(1));
    assert_eq!(
        next_try(&mut st, millis(1000))?,
        vec![Effect::OpenDevices { opening: 3 }]
    );
    Ok(())
}

fn operator_reopens(st: &mut State) -> Vec<Effect> {
    st.settings.operator_pin = true;
    key(st, Key::Operator);
    for c in "2468".chars() {
        key(st, Key::Char(c));
    }
    key(st, Key::Enter);
    update(st, Msg::PinChecked { ok: true });
    let at = crate::app::state::OperatorAction::ALL
        .iter()
        .position(|a| *a == crate::app::state::OperatorAction::ReopenDevices)
        .unwrap_or(usize::MAX);
    for _ in 0..at {
        key(st, Key::Down);
    }
    key(st, Key::Enter)
}

#[test]
fn the_operator_reopens_the_devices_but_not_under_a_recording() -> crate::TestResult {
    let mut st = at_questions()?;
    failed(&mut st, DeviceProblem::Camera);
    assert_eq!(
        operator_reopens(&mut st),
        vec![Effect::OpenDevices { opening: 2 }]
    );
    assert_eq!(st.operator.step, crate::app::state::OperatorStep::Closed);
    ready_devices(&mut st);
    assert_eq!(st.session.notice, Some(Notice::DevicesBack));
    // Working devices are reopened too (one that hangs without failing).
    assert_eq!(
        operator_reopens(&mut st),
        vec![Effect::OpenDevices { opening: 3 }]
    );
    ready_devices(&mut st);
    recording_q1(&mut st);
    assert!(operator_reopens(&mut st).is_empty());
    Ok(())
}
