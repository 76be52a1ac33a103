//! The device test, as rules of `update`: opening the camera and microphone as the interview
//! starts, the test clip recorded, checked and played back, and the way on to the questions.

use super::super::msg::{Effect, Key, Purpose};
use super::super::state::{DeviceStatus, Phase, State, TestStep};
use super::devices::reopen_now;

pub(super) fn start_interview(state: &mut State) -> Vec<Effect> {
    state.session.notice = None;
    let mut fx = Vec::new();
    if matches!(
        state.devices.status,
        DeviceStatus::Closed | DeviceStatus::Failed(_)
    ) {
        fx.push(state.devices.open());
    }
    if state.session.progress.device_test_passed {
        state.session.phase = Phase::Questions {
            selected: state.next_open_question(0).unwrap_or(0),
        };
    } else {
        state.session.phase = Phase::DeviceTest(TestStep::Ready);
    }
    fx
}

pub(super) fn device_test_key(state: &mut State, step: TestStep, key: Key) -> Vec<Effect> {
    match step {
        TestStep::Ready => match key {
            Key::Enter | Key::Char('r') => match state.devices.status {
                DeviceStatus::Ready { .. } => start_test_clip(state),
                // "Try again": at once, not at the next automatic try.
                DeviceStatus::Failed(_) | DeviceStatus::Closed => reopen_now(state),
                DeviceStatus::Opening => Vec::new(),
            },
            _ => Vec::new(),
        },
        TestStep::Recording { started } => match key {
            Key::Enter | Key::Char('s')
                if state.now.saturating_duration_since(started)
                    >= state.settings.test_clip_minimum =>
            {
                state.session.phase = Phase::DeviceTest(TestStep::Saving);
                vec![Effect::StopRecording]
            }
            _ => Vec::new(),
        },
        TestStep::Saving => Vec::new(),
        TestStep::Review { checks, playing } => {
            let clip = state.test_clip_path();
            match key {
                Key::Enter if checks.all_good() => test_passed(state),
                Key::Char('l') | Key::Char('c') => test_passed(state),
                Key::Enter | Key::Char('r') => {
                    let mut fx = vec![Effect::StopPlayback, Effect::DeleteFile(clip)];
                    fx.extend(start_test_clip(state));
                    fx
                }
                Key::Char('p') | Key::Space => {
                    state.session.phase = Phase::DeviceTest(TestStep::Review {
                        checks,
                        playing: !playing,
                    });
                    vec![if playing {
                        Effect::StopPlayback
                    } else {
                        Effect::Play { file: clip }
                    }]
                }
                _ => Vec::new(),
            }
        }
    }
}

fn start_test_clip(state: &mut State) -> Vec<Effect> {
    state.session.notice = None;
    state.session.playback = Default::default();
    state.session.phase = Phase::DeviceTest(TestStep::Recording { started: state.now });
    vec![Effect::StartRecording {
        purpose: Purpose::TestClip {
            session: state.session.progress.session_id.clone(),
        },
        file: state.test_clip_path(),
        limit: state.settings.test_clip,
    }]
}

fn test_passed(state: &mut State) -> Vec<Effect> {
    state.session.progress.device_test_passed = true;
    state.session.playback = Default::default();
    state.session.phase = super::practice::after_device_test(state);
    vec![
        Effect::StopPlayback,
        Effect::DeleteFile(state.test_clip_path()),
        state.save(),
    ]
}
