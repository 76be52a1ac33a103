//! What the effect executor is told about the station when the kiosk starts: devices and
//! bitrates, the operator PIN's hash, how to call staff, where the outbox is, and what the
//! operator menu's diagnostics check.

use std::path::PathBuf;
use std::sync::Arc;

use crate::media::source::{AudioSpec, Pace, VideoRequest, VideoSpec};

/// What the executor needs to know about the station.
#[derive(Debug, Clone)]
pub struct DeviceSettings {
    pub video: VideoSpec,
    pub audio: AudioSpec,
    pub request: VideoRequest,
    /// Real time for a kiosk; `Pace::None` lets the station simulation record in an instant.
    pub pace: Pace,
    pub video_kbps: u32,
    pub audio_kbps: u32,
    /// Play sound through the default output device during playback.
    pub sound_output: bool,
    /// The operator PIN's argon2id hash, when one is set.
    pub pin_hash: Option<String>,
    /// Ring the terminal bell when the candidate calls staff.
    pub staff_bell: bool,
    /// POST a [`super::notify::StaffCall`] here when the candidate calls staff.
    pub staff_webhook: Option<String>,
    /// A shell command that prints the receipt piped to it (e.g. `lp -d receipts`).
    pub receipt_command: Option<String>,
    /// Where submitted answers wait (for the operator's queue page).
    pub outbox: PathBuf,
    /// Named in the session manifest.
    pub station_id: String,
    /// What the operator menu's diagnostics check (`booth doctor`'s station checks).
    pub doctor: Option<Arc<DoctorInput>>,
}

/// The running kiosk's config, and the file it came from (re-read to catch a broken edit).
#[derive(Debug)]
pub struct DoctorInput {
    pub config: crate::config::Config,
    pub file: Option<PathBuf>,
}
