//! What the devices last reported (status, level, picture), the automatic reopening of a
//! camera or microphone that went away (its backoff schedule, on the flow's own clock), what
//! is being played, and each answer's upload as it happens: the screen's view of the
//! workers, never their handles.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::app::msg::Effect;

use crate::media::analyze::Level;
use crate::media::frame::VideoFrame;
use crate::media::source::CaptureError;

/// What went wrong with the devices, in terms the candidate's screen can say plainly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceProblem {
    CameraBusy,
    Camera,
    Microphone,
    Devices,
}

impl DeviceProblem {
    /// Text key of the sentence shown to the candidate.
    pub fn key(self) -> &'static str {
        match self {
            DeviceProblem::CameraBusy => "devices.problem_camera_busy",
            DeviceProblem::Camera => "devices.problem_camera",
            DeviceProblem::Microphone => "devices.problem_microphone",
            DeviceProblem::Devices => "devices.problem_devices",
        }
    }

    /// Text key of the one sentence shown while booth reconnects the device.
    pub fn lost_key(self) -> &'static str {
        match self {
            DeviceProblem::CameraBusy | DeviceProblem::Camera => "devices.lost_camera",
            DeviceProblem::Microphone => "devices.lost_microphone",
            DeviceProblem::Devices => "devices.lost_devices",
        }
    }
}

impl From<&CaptureError> for DeviceProblem {
    fn from(e: &CaptureError) -> Self {
        match e {
            CaptureError::CameraBusy { .. } => DeviceProblem::CameraBusy,
            CaptureError::CameraNotFound { .. }
            | CaptureError::CameraPermission { .. }
            | CaptureError::Camera { .. }
            | CaptureError::CameraLost { .. }
            | CaptureError::CorruptFrame { .. }
            | CaptureError::BadSize { .. } => DeviceProblem::Camera,
            CaptureError::MicrophoneNotFound { .. }
            | CaptureError::MicrophoneBusy { .. }
            | CaptureError::MicrophonePermission { .. }
            | CaptureError::Microphone { .. }
            | CaptureError::MicrophoneLost { .. } => DeviceProblem::Microphone,
            CaptureError::FileIo { .. } | CaptureError::BadFile { .. } => DeviceProblem::Devices,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum DeviceStatus {
    Closed,
    Opening,
    Ready { camera: String, microphone: String },
    Failed(DeviceProblem),
}

#[derive(Debug, Clone)]
pub struct Devices {
    pub status: DeviceStatus,
    pub level: Option<Level>,
    /// When the microphone last heard sound above the gate.
    pub last_sound: Option<Instant>,
    pub preview: Option<Arc<VideoFrame>>,
    /// The number of the last opening asked of the executor: every device report names the
    /// opening it belongs to, and one of an earlier opening is stale.
    pub opening: u64,
    /// Set from the moment a device is lost (or would not open) until it is open again.
    pub reopen: Option<Reopen>,
}

/// The first wait before booth reopens a lost device; each failed try doubles it.
pub const REOPEN_FIRST: Duration = Duration::from_millis(500);
/// The longest wait between two tries.
pub const REOPEN_MAX: Duration = Duration::from_secs(10);

/// A lost device being reopened by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reopen {
    pub problem: DeviceProblem,
    /// When it was lost.
    pub since: Instant,
    /// Tries that failed since.
    pub tries: u32,
    /// When the next try is due; `None` while one runs (or waits for a recording to end).
    pub next: Option<Instant>,
    /// The flow's clock at the last tick while lost: preparation time stands still.
    pub clock: Instant,
}

/// The wait before the next try after `tries` failed ones: 0.5 s, 1, 2, 4, 8, then 10 s.
pub fn reopen_delay(tries: u32) -> Duration {
    REOPEN_FIRST
        .checked_mul(1u32.checked_shl(tries).unwrap_or(u32::MAX))
        .map_or(REOPEN_MAX, |d| d.min(REOPEN_MAX))
}

impl Devices {
    /// The devices as a station starts: closed, nothing heard or seen.
    pub fn closed() -> Self {
        Devices {
            status: DeviceStatus::Closed,
            level: None,
            last_sound: None,
            preview: None,
            opening: 0,
            reopen: None,
        }
    }

    /// Asks for a new opening (closing what is open): reports of earlier ones become stale.
    pub fn open(&mut self) -> Effect {
        self.opening += 1;
        self.status = DeviceStatus::Opening;
        if let Some(r) = &mut self.reopen {
            r.next = None;
        }
        Effect::OpenDevices {
            opening: self.opening,
        }
    }

    pub fn is_ready(&self) -> bool {
        matches!(self.status, DeviceStatus::Ready { .. })
    }
}

/// An answer's upload as it happens (not persisted: the outbox is the record).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UploadView {
    pub sent: u64,
    pub total: u64,
    /// The network is down or the platform busy: the answer waits on this station.
    pub waiting: bool,
    /// The platform refused it; staff see why in the operator's queue.
    pub refused: bool,
}

/// A take or question video being shown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Playback {
    pub frame: Option<Arc<VideoFrame>>,
    pub position: Duration,
    pub length: Duration,
    pub level: Option<Level>,
    /// No speaker: the screen says so and shows the sound as a meter instead.
    pub silent: bool,
}
