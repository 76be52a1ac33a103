//! The camera and microphone as rules of `update`: a device open, or lost at any point (its
//! source failed, it would not open, a recording ended because of it), told to the candidate
//! in one sentence with their place kept (the question, the takes, the preparation time,
//! which stands still); reopened by itself with a growing wait on the flow's own clock (0.5 s,
//! 1, 2, 4, 8, then every 10 s), never while a recording still ends; reopened at once when the
//! device test's "Try again" or staff ask. Every report names the opening it belongs to, and
//! one of an earlier opening changes nothing.

use super::super::msg::{Effect, RecordingProblem};
use super::super::state::{
    DeviceProblem, DeviceStatus, Notice, Phase, Prep, Reopen, State, TestStep, reopen_delay,
};

/// The devices of opening `opening` are open: a lost device is back.
pub(super) fn ready(
    state: &mut State,
    opening: u64,
    camera: String,
    microphone: String,
) -> Vec<Effect> {
    if opening != state.devices.opening {
        tracing::warn!(
            opening,
            current = state.devices.opening,
            "a stale report of open devices ignored"
        );
        return Vec::new();
    }
    state.devices.status = DeviceStatus::Ready { camera, microphone };
    if let Some(r) = state.devices.reopen.take() {
        tracing::info!(
            problem = ?r.problem,
            tries = r.tries + 1,
            away_seconds = state.now.saturating_duration_since(r.since).as_secs_f64(),
            "the lost device is back"
        );
        if matches!(state.session.notice, Some(Notice::DeviceLost(_))) {
            state.session.notice = Some(Notice::DevicesBack);
        }
    }
    Vec::new()
}

/// A device of opening `opening` would not open or stopped working.
pub(super) fn failed(state: &mut State, opening: u64, problem: DeviceProblem) -> Vec<Effect> {
    if opening != state.devices.opening {
        tracing::warn!(
            opening,
            current = state.devices.opening,
            ?problem,
            "a stale device failure ignored"
        );
        return Vec::new();
    }
    state.last_error = Some(format!("devices: {problem:?}"));
    match state.devices.status {
        DeviceStatus::Opening => match &mut state.devices.reopen {
            Some(r) => {
                r.tries += 1;
                r.problem = problem;
                r.next = Some(state.now + reopen_delay(r.tries));
                tracing::info!(?problem, tries = r.tries, "the device is not back yet");
                state.devices.status = DeviceStatus::Failed(problem);
            }
            None => lost(state, problem),
        },
        DeviceStatus::Ready { .. } | DeviceStatus::Closed => lost(state, problem),
        // The other source of the same lost opening, or its recording: already being reopened.
        DeviceStatus::Failed(_) => {}
    }
    Vec::new()
}

/// A recording ended because of a device: the device is lost (if its own report has not
/// said so yet), and while it is away its sentence is the one on screen, not the take's.
pub(super) fn after_recording_failed(state: &mut State, problem: RecordingProblem) {
    if let RecordingProblem::Device(p) = problem
        && state.devices.is_ready()
    {
        lost(state, p);
    }
    tell(state);
}

/// The device is gone: closed for the screen, reopened after the first wait.
fn lost(state: &mut State, problem: DeviceProblem) {
    tracing::warn!(?problem, "a device was lost: booth reopens it by itself");
    let now = state.now;
    let devices = &mut state.devices;
    devices.status = DeviceStatus::Failed(problem);
    devices.preview = None;
    devices.level = None;
    devices.reopen = Some(Reopen {
        problem,
        since: now,
        tries: 0,
        next: Some(now + reopen_delay(0)),
        clock: now,
    });
    tell(state);
}

/// Puts the device's sentence on screen where the candidate needs it. The device test's screen
/// says it in its own words, and a recording's outcome says it when the recording has ended.
fn tell(state: &mut State) {
    let Some(r) = state.devices.reopen else {
        return;
    };
    if matches!(
        state.session.phase,
        Phase::Questions { .. }
            | Phase::Question { .. }
            | Phase::Review { .. }
            | Phase::Submitting { .. }
    ) {
        state.session.notice = Some(Notice::DeviceLost(r.problem));
    }
}

/// The flow's clock moved: while a device is lost the preparation time stands still, and the
/// next try is asked for when it is due (after the recording that the loss ended, if any).
pub(super) fn tick(state: &mut State) -> Vec<Effect> {
    let now = state.now;
    let Some(r) = &mut state.devices.reopen else {
        return Vec::new();
    };
    let stood = now.saturating_duration_since(r.clock);
    r.clock = now;
    let due = r.next.is_some_and(|t| now >= t);
    if let Phase::Question {
        prep: Prep::Counting { ends },
        ..
    } = &mut state.session.phase
    {
        *ends += stood;
    }
    if due && !recording(state) {
        tracing::info!(
            tries = state.devices.reopen.map_or(0, |r| r.tries),
            "reopening the lost device"
        );
        return vec![state.devices.open()];
    }
    Vec::new()
}

/// Reopens the devices now (the device test's "Try again", the operator menu); a recording
/// that runs is left alone.
pub(super) fn reopen_now(state: &mut State) -> Vec<Effect> {
    if recording(state) {
        tracing::warn!("the devices are not reopened while a recording runs");
        return Vec::new();
    }
    vec![state.devices.open()]
}

/// Whether the candidate must wait for the devices before recording; if so, the sentence
/// saying why is on screen.
pub(super) fn must_wait(state: &mut State) -> bool {
    if state.devices.is_ready() {
        return false;
    }
    if let Some(r) = state.devices.reopen {
        state.session.notice = Some(Notice::DeviceLost(r.problem));
    }
    true
}

/// Whether a recording (an answer or the test clip) runs or is ending: its devices stay as
/// they are until it has reported.
fn recording(state: &State) -> bool {
    matches!(
        state.session.phase,
        Phase::Recording { .. } | Phase::DeviceTest(TestStep::Recording { .. } | TestStep::Saving)
    )
}
