//! The kiosk's state as `status` reads it: which screen is showing and what the station is
//! busy with ([`DescribeScreen`] for [`Phase`]), the devices, and the kiosk's trouble as a
//! stable [`ErrorCode`] classified from typed facts ([`KioskView`] for [`State`]). The arrow
//! points from the app to status: status.json, the heartbeat and the monitoring text file
//! know nothing of the app's types.

use super::state::{
    DeviceProblem, DeviceStatus, Notice, Phase, PracticeStep, Slot, State, TestStep,
};
use crate::status::{
    Activity, DescribeScreen, DeviceFacts, DeviceState, ErrorCode, KioskView, Screen,
};

impl DescribeScreen for Phase {
    fn screen(&self) -> Screen {
        use Activity::{Idle, InInterview, Recording};
        let (activity, question) = match self {
            Phase::Welcome(_) | Phase::Done { .. } | Phase::Resetting => (Idle, None),
            Phase::Consent | Phase::Declined { .. } | Phase::Overview => (InInterview, None),
            Phase::DeviceTest(TestStep::Recording { .. }) => (Recording, None),
            Phase::DeviceTest(_) | Phase::Questions { .. } => (InInterview, None),
            Phase::Recording { q, .. } => (Recording, Some(q + 1)),
            Phase::Question { q, .. } | Phase::Review { q, .. } | Phase::Submitting { q, .. } => {
                (InInterview, Some(q + 1))
            }
            Phase::Practice(PracticeStep::Recording { .. }) => (Recording, None),
            Phase::Practice(_) => (InInterview, None),
            Phase::Countdown { slot, .. } => match slot {
                Slot::Question(q) => (InInterview, Some(q + 1)),
                Slot::Practice => (InInterview, None),
            },
            Phase::OutOfOrder => (Activity::OutOfOrder, None),
        };
        Screen {
            // The one list of the screens' names, which the call-staff webhook gives too.
            name: self.name(),
            activity,
            question,
        }
    }
}

impl KioskView for State {
    fn screen(&self) -> Screen {
        self.session.phase.screen()
    }

    fn devices(&self) -> DeviceFacts {
        let (state, camera, microphone) = match &self.devices.status {
            DeviceStatus::Closed => (DeviceState::Closed, None, None),
            DeviceStatus::Opening => (DeviceState::Opening, None, None),
            DeviceStatus::Ready { camera, microphone } => (
                DeviceState::Ready,
                Some(camera.clone()),
                Some(microphone.clone()),
            ),
            DeviceStatus::Failed(_) => (DeviceState::Failed, None, None),
        };
        DeviceFacts {
            state,
            camera,
            microphone,
        }
    }

    fn session_id(&self) -> &str {
        &self.session.progress.session_id
    }

    fn interview_id(&self) -> &str {
        &self.session.interview.id
    }

    fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    fn error_code(&self) -> Option<ErrorCode> {
        error_code(self)
    }
}

/// The kiosk's trouble, most pressing first, from its typed facts: never from the text of
/// `last_error`, which only says "other".
fn error_code(state: &State) -> Option<ErrorCode> {
    // A device being reopened is still lost while its next try runs.
    let lost = match &state.devices.status {
        DeviceStatus::Failed(p) => Some(*p),
        _ => state.devices.reopen.map(|r| r.problem),
    };
    let device = lost.map(|p| match p {
        DeviceProblem::CameraBusy => ErrorCode::CameraBusy,
        DeviceProblem::Camera => ErrorCode::Camera,
        DeviceProblem::Microphone => ErrorCode::Microphone,
        DeviceProblem::Devices => ErrorCode::Devices,
    });
    let notice = state.session.notice.and_then(|n| match n {
        Notice::NoSpace => Some(ErrorCode::NoSpace),
        Notice::SubmitFailed => Some(ErrorCode::SubmitFailed),
        Notice::TestClipFailed
        | Notice::AnswerInterrupted
        | Notice::AnswerDidNotStart
        | Notice::PracticeFailed => Some(ErrorCode::RecordingFailed),
        // The station's status names the video in its last error; the candidate reads on.
        // A lost device is reported by the device state itself.
        Notice::StaffCalled | Notice::VideoFailed | Notice::DeviceLost(_) | Notice::DevicesBack => {
            None
        }
    });
    let facts = [
        (state.session.phase == Phase::OutOfOrder).then_some(ErrorCode::OutOfOrder),
        device,
        notice,
        state
            .session
            .progress
            .questions
            .iter()
            .flat_map(|q| &q.takes)
            .any(|t| t.submit_failed)
            .then_some(ErrorCode::SubmitFailed),
        state
            .session
            .uploads
            .iter()
            .any(|u| u.refused)
            .then_some(ErrorCode::AnswerRefused),
        state.last_error.as_ref().map(|_| ErrorCode::Other),
    ];
    facts.into_iter().fold(None, ErrorCode::worst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::KioskStatus;

    fn state() -> crate::TestResult<State> {
        let text = "id = \"iv\"\ntitle = \"T\"\nintro = \"Hi.\"\nlanguage = \"en\"\n\
                    [support]\ncontact = \"Desk.\"\n\
                    [[question]]\nid = \"q1\"\ntext = \"Why?\"\npreparation_seconds = 0\nanswer_seconds = 60\nattempts = 1\n";
        let interview = crate::interview::Interview::parse(text, std::path::Path::new("t.toml"))?;
        let progress = crate::session::Progress::new("s1", &interview.id, 1, 0);
        let now = std::time::Instant::now();
        let session = crate::app::state::Session::new(
            std::sync::Arc::new(interview),
            progress,
            "/data/s1".into(),
            now,
        );
        Ok(State::new(
            crate::app::state::Settings::default(),
            session,
            now,
        ))
    }

    #[test]
    fn the_kiosk_code_comes_from_typed_facts_most_pressing_first() -> crate::TestResult {
        let mut s = state()?;
        assert_eq!(s.error_code(), None);
        // Text alone, whatever it says, is "other": nothing is read from it.
        s.last_error = Some("camera unplugged, disk full".into());
        assert_eq!(s.error_code(), Some(ErrorCode::Other));
        s.session.uploads = vec![crate::app::state::UploadView {
            refused: true,
            ..Default::default()
        }];
        assert_eq!(s.error_code(), Some(ErrorCode::AnswerRefused));
        s.devices.status = DeviceStatus::Failed(DeviceProblem::Microphone);
        assert_eq!(s.error_code(), Some(ErrorCode::Microphone));
        s.session.notice = Some(Notice::NoSpace);
        assert_eq!(s.error_code(), Some(ErrorCode::NoSpace));
        s.session.phase = Phase::OutOfOrder;
        assert_eq!(s.error_code(), Some(ErrorCode::OutOfOrder));
        Ok(())
    }

    #[test]
    fn the_status_file_describes_the_screen_and_the_devices() -> crate::TestResult {
        let mut s = state()?;
        s.devices.status = DeviceStatus::Ready {
            camera: "cam".into(),
            microphone: "mic".into(),
        };
        s.session.phase = Phase::OutOfOrder;
        let k = KioskStatus::of(&s, 7);
        assert_eq!(
            (k.state, k.phase.as_str(), k.question, k.updated_unix),
            (Activity::OutOfOrder, "out_of_order", None, 7)
        );
        assert_eq!((k.session.as_str(), k.interview.as_str()), ("s1", "iv"));
        assert_eq!(
            (k.devices, k.camera.as_deref(), k.microphone.as_deref()),
            (DeviceState::Ready, Some("cam"), Some("mic"))
        );
        assert_eq!(k.last_error_code, Some(ErrorCode::OutOfOrder));
        assert_eq!(crate::status::phase_name(&s.session.phase), "out_of_order");
        Ok(())
    }
}
