//! A candidate session's end, as rules of `update`: the privacy wipe asked for (never in the
//! middle of a recording or a submission), the next candidate's session replacing the last
//! one whole, the station out of order when a session cannot be closed, and leaving booth
//! (after the recording in progress is saved).

use super::super::msg::Effect;
use super::super::state::{Phase, PracticeStep, Session, State, TestStep};

/// Ends the session: what was sent stays in the outbox, the rest of the candidate's traces go.
/// Never during a recording or while a take is going into the outbox (the reset waits for
/// them); the screen is blank until the new session is there.
pub(super) fn end_session(state: &mut State) -> Vec<Effect> {
    if matches!(
        state.session.phase,
        Phase::Recording { .. }
            | Phase::Practice(PracticeStep::Recording { .. })
            | Phase::Submitting { .. }
            | Phase::Resetting
            | Phase::DeviceTest(TestStep::Recording { .. } | TestStep::Saving)
    ) {
        return Vec::new();
    }
    state.session.idle_ends = None;
    state.session.help = false;
    state.session.phase = Phase::Resetting;
    tracing::info!(session = %state.session.progress.session_id, "session ended");
    vec![
        Effect::StopPlayback,
        Effect::EndSession {
            session: state.session.progress.session_id.clone(),
            dir: state.session.dir.clone(),
            progress: Box::new(state.session.progress.clone()),
        },
    ]
}

/// A new candidate's session is in place: it replaces the last one whole (back to the attract
/// screen, everything of the last candidate gone).
pub(super) fn session_started(state: &mut State, session: Session) -> Vec<Effect> {
    state.session = session;
    Vec::new()
}

/// The old session could not be closed: nothing of it is lost (it stays on disk as it was),
/// but the station cannot go on alone. Staff are called; the operator menu can try again.
pub fn session_end_failed(state: &mut State, detail: String) -> Vec<Effect> {
    tracing::error!(%detail, "the session could not be closed");
    state.last_error = Some(format!("the session could not be closed: {detail}"));
    state.session.phase = Phase::OutOfOrder;
    state.call_staff()
}

pub(super) fn terminate(state: &mut State) -> Vec<Effect> {
    state.quitting = true;
    match &mut state.session.phase {
        Phase::Recording { stopping, .. }
        | Phase::Practice(PracticeStep::Recording { stopping, .. }) => {
            *stopping = true;
            vec![Effect::StopRecording]
        }
        Phase::DeviceTest(TestStep::Recording { .. }) => {
            state.session.phase = Phase::DeviceTest(TestStep::Saving);
            vec![Effect::StopRecording]
        }
        Phase::DeviceTest(TestStep::Saving) => Vec::new(),
        _ => vec![Effect::StopPlayback, state.save(), Effect::Quit],
    }
}
