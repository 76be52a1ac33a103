//! What the devices last reported (status, level, picture), what is being played, and each
//! answer's upload as it happens: the screen's view of the workers, never their handles.

use std::sync::Arc;
use std::time::{Duration, Instant};

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
