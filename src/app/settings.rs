//! What the effect executor is told about the station when the kiosk starts: devices and
//! bitrates, the operator PIN's hash, where the outbox is, and the station's services the
//! front end hands over as small handles (the call-staff webhook, the operator's diagnostics).
//! The terminal bell is not among them: the run loop rings it through the terminal's owner.

use std::path::PathBuf;
use std::sync::Arc;

use super::notify::StaffWebhook;
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
    /// A shell command that prints the receipt piped to it (e.g. `lp -d receipts`).
    pub receipt_command: Option<String>,
    /// Where submitted answers wait (for the operator's queue page).
    pub outbox: PathBuf,
    /// Named in the session manifest.
    pub station_id: String,
    pub services: StationServices,
}

/// The station's services, each a handle with one job, made by the front end.
#[derive(Debug, Clone, Default)]
pub struct StationServices {
    /// POSTed when a candidate calls staff.
    pub webhook: Option<StaffWebhook>,
    /// The operator menu's station checks (`booth doctor`'s).
    pub diagnostics: Option<Diagnostics>,
}

/// The operator's diagnostics: slow checks (the network, the console) that give plain lines;
/// the executor runs them off the async threads.
#[derive(Clone)]
pub struct Diagnostics(Arc<dyn Fn() -> Vec<String> + Send + Sync>);

impl Diagnostics {
    pub fn new(checks: impl Fn() -> Vec<String> + Send + Sync + 'static) -> Self {
        Diagnostics(Arc::new(checks))
    }

    /// Runs the checks (blocking).
    pub fn run(&self) -> Vec<String> {
        (self.0)()
    }
}

impl std::fmt::Debug for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Diagnostics")
    }
}
