//! Station health as one JSON object: what the kiosk is doing (written by `booth run` to
//! `<data_dir>/status.json` whenever it changes) plus what anyone can measure from outside
//! (the outbox counted from its records, with the upload endpoint's health as the upload
//! service last wrote it; free disk). `booth status --json` prints it; the heartbeat POSTs it.
//! The same facts in Prometheus' text format ([`prometheus`]) for `booth status --prometheus`
//! and the kiosk's text file for node_exporter ([`textfile`]); the station's trouble as one
//! stable code ([`ErrorCode`]).
//!
//! Status imports nothing of the kiosk: it says what it needs to know of one ([`KioskView`],
//! [`DescribeScreen`]), and the app implements that for its state (`app::kiosk_status`).

mod problem;
pub mod prometheus;
pub mod textfile;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::upload::OutboxSummary;
pub use problem::ErrorCode;
pub use textfile::StatusFiles;

pub const STATUS_FILE: &str = "status.json";

/// The screen's name, as status.json and the call-staff webhook give it.
pub fn phase_name(phase: &impl DescribeScreen) -> &'static str {
    phase.screen().name
}

/// The screen a kiosk shows, as status names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Screen {
    /// `welcome`, `question`, `recording`, …: status.json's `phase`.
    pub name: &'static str,
    /// What the station is busy with there.
    pub activity: Activity,
    /// The question on screen, counted from 1.
    pub question: Option<usize>,
}

/// Something that knows which screen it is: the kiosk's phase.
pub trait DescribeScreen {
    fn screen(&self) -> Screen;
}

/// The camera and microphone as a kiosk last saw them: the state, and the names of the
/// devices while they are ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceFacts {
    pub state: DeviceState,
    pub camera: Option<String>,
    pub microphone: Option<String>,
}

/// What status needs to know of a running kiosk; the app implements it for its state.
pub trait KioskView {
    fn screen(&self) -> Screen;
    fn devices(&self) -> DeviceFacts;
    fn session_id(&self) -> &str;
    fn interview_id(&self) -> &str;
    fn last_error(&self) -> Option<&str>;
    /// The kiosk's trouble, classified from its typed facts (see [`ErrorCode`]).
    fn error_code(&self) -> Option<ErrorCode>;
}

/// What a station is busy with, as status.json, `booth status` and monitoring name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    Idle,
    InInterview,
    Recording,
    OutOfOrder,
    /// No kiosk runs for the data directory.
    Stopped,
}

impl Activity {
    pub const ALL: [Activity; 5] = [
        Activity::Idle,
        Activity::InInterview,
        Activity::Recording,
        Activity::OutOfOrder,
        Activity::Stopped,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Activity::Idle => "idle",
            Activity::InInterview => "in_interview",
            Activity::Recording => "recording",
            Activity::OutOfOrder => "out_of_order",
            Activity::Stopped => "stopped",
        }
    }
}

/// The camera and microphone as the kiosk last saw them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    Ready,
    Opening,
    Failed,
    Closed,
}

impl DeviceState {
    pub const ALL: [DeviceState; 4] = [
        DeviceState::Ready,
        DeviceState::Opening,
        DeviceState::Failed,
        DeviceState::Closed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DeviceState::Ready => "ready",
            DeviceState::Opening => "opening",
            DeviceState::Failed => "failed",
            DeviceState::Closed => "closed",
        }
    }
}

/// What the running kiosk reports about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KioskStatus {
    pub pid: u32,
    pub state: Activity,
    pub phase: String,
    pub session: String,
    pub interview: String,
    pub question: Option<usize>,
    pub camera: Option<String>,
    pub microphone: Option<String>,
    pub devices: DeviceState,
    pub last_error: Option<String>,
    /// The kiosk's trouble as a stable code (see [`ErrorCode`]).
    #[serde(default)]
    pub last_error_code: Option<ErrorCode>,
    pub updated_unix: u64,
}

impl KioskStatus {
    pub fn of(kiosk: &impl KioskView, now_unix: u64) -> KioskStatus {
        let screen = kiosk.screen();
        let devices = kiosk.devices();
        KioskStatus {
            pid: std::process::id(),
            state: screen.activity,
            phase: screen.name.into(),
            session: kiosk.session_id().into(),
            interview: kiosk.interview_id().into(),
            question: screen.question,
            camera: devices.camera,
            microphone: devices.microphone,
            devices: devices.state,
            last_error: kiosk.last_error().map(str::to_string),
            last_error_code: kiosk.error_code(),
            updated_unix: now_unix,
        }
    }

    /// Equal apart from the time it was written.
    pub fn same_as(&self, other: &KioskStatus) -> bool {
        KioskStatus {
            updated_unix: 0,
            ..self.clone()
        } == KioskStatus {
            updated_unix: 0,
            ..other.clone()
        }
    }

    pub fn write(&self, data_dir: &Path) -> Result<(), crate::fsutil::FsError> {
        let bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        crate::fsutil::write_atomic(&data_dir.join(STATUS_FILE), &bytes)
    }

    pub fn read(data_dir: &Path) -> Option<KioskStatus> {
        let bytes = std::fs::read(data_dir.join(STATUS_FILE)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// The whole picture for `booth status` and the heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StationStatus {
    pub version: String,
    pub station_id: String,
    pub data_dir: PathBuf,
    /// Whether a kiosk process is running for this data directory.
    pub running: bool,
    pub state: Activity,
    pub kiosk: Option<KioskStatus>,
    /// Answers (and manifests) waiting to be delivered: `outbox.waiting`.
    pub outbox_items: usize,
    /// Bytes of them not yet confirmed by the server: `outbox.waiting_bytes`.
    pub outbox_bytes: u64,
    /// The whole outbox summary, with the upload endpoint's health.
    pub outbox: OutboxSummary,
    pub disk_free_bytes: Option<u64>,
    pub last_error: Option<String>,
    /// The station's most pressing trouble as a stable code: the kiosk's, the endpoint's or
    /// the outbox's (see [`ErrorCode`]); `None` when nothing is known to be wrong.
    pub last_error_code: Option<ErrorCode>,
}

/// Bytes free for an unprivileged writer on the filesystem holding `path`.
pub fn disk_free(path: &Path) -> Option<u64> {
    let mut p = path;
    // The data directory may not exist yet: measure its nearest existing parent.
    while !p.exists() {
        p = p.parent()?;
    }
    let st = rustix::fs::statvfs(p).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The station as `status.json` and the outbox on disk show it.
pub fn station_status(station_id: &str, data_dir: &Path) -> StationStatus {
    let kiosk = KioskStatus::read(data_dir);
    let running = kiosk.as_ref().is_some_and(|k| pid_alive(k.pid));
    station_status_with(station_id, data_dir, kiosk, running)
}

/// The station with the kiosk's status given (the running kiosk knows its own).
pub fn station_status_with(
    station_id: &str,
    data_dir: &Path,
    kiosk: Option<KioskStatus>,
    running: bool,
) -> StationStatus {
    let state = match (&kiosk, running) {
        (Some(k), true) => k.state,
        _ => Activity::Stopped,
    };
    let outbox = OutboxSummary::read(&data_dir.join("outbox"));
    let kiosk_code = kiosk.as_ref().and_then(|k| k.last_error_code);
    StationStatus {
        version: env!("CARGO_PKG_VERSION").into(),
        station_id: station_id.into(),
        data_dir: data_dir.to_path_buf(),
        running,
        state,
        last_error: kiosk.as_ref().and_then(|k| k.last_error.clone()),
        last_error_code: ErrorCode::worst(kiosk_code, ErrorCode::of_outbox(&outbox)),
        kiosk,
        outbox_items: outbox.waiting,
        outbox_bytes: outbox.waiting_bytes,
        outbox,
        disk_free_bytes: disk_free(data_dir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_imports_nothing_of_the_app() -> crate::TestResult {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![src.join("status.rs")];
        for entry in std::fs::read_dir(src.join("status"))? {
            files.push(entry?.path());
        }
        // Spelled in two halves so that this test does not find itself.
        let needle = ["crate", "::app"].concat();
        let mut found = Vec::new();
        for file in &files {
            for (i, line) in std::fs::read_to_string(file)?.lines().enumerate() {
                if line.contains(&needle) {
                    found.push(format!("{}:{}: {line}", file.display(), i + 1));
                }
            }
        }
        assert!(files.len() > 3, "{files:?}");
        assert!(found.is_empty(), "{}", found.join("\n"));
        Ok(())
    }

    #[test]
    fn a_stale_status_from_a_dead_kiosk_reads_as_stopped() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let s = station_status("b1", dir.path());
        assert_eq!(s.state, Activity::Stopped);
        assert!(!s.running);
        assert!(s.disk_free_bytes.ok_or("no free space figure")? > 0);
        let ghost = KioskStatus {
            pid: u32::MAX - 1,
            state: Activity::Recording,
            phase: "recording".into(),
            session: "s".into(),
            interview: "i".into(),
            question: Some(1),
            camera: None,
            microphone: None,
            devices: DeviceState::Ready,
            last_error: None,
            last_error_code: None,
            updated_unix: 1,
        };
        ghost.write(dir.path())?;
        let s = station_status("b1", dir.path());
        assert_eq!(s.state, Activity::Stopped);
        let mut me = ghost.clone();
        me.pid = std::process::id();
        me.write(dir.path())?;
        assert_eq!(station_status("b1", dir.path()).state, Activity::Recording);
        assert!(me.same_as(&KioskStatus {
            updated_unix: 99,
            ..me.clone()
        }));
        Ok(())
    }

    #[test]
    fn answers_waiting_in_the_outbox_are_counted_from_their_records() -> crate::TestResult {
        use crate::upload::{AnswerMeta, ItemId, Outbox, Payload, Record};
        let dir = tempfile::tempdir()?;
        let outbox = Outbox::open(&dir.path().join("outbox"))?;
        // Where the kiosk puts submitted answers: not the outbox directory itself.
        let answers = outbox.dir().join("answers");
        std::fs::create_dir_all(&answers)?;
        let file = answers.join("s1--q1--1.mp4");
        std::fs::write(&file, vec![7u8; 4321])?;
        let id = uuid::Uuid::new_v4();
        let meta = AnswerMeta {
            candidate_ref: None,
            interview_id: "iv".into(),
            candidate_id: "s1".into(),
            question_id: "q1".into(),
            attempt: 1,
            answer_id: id,
            filename: "s1--q1--1.mp4".into(),
        };
        let rec = Record::new(ItemId(id), Payload::Answer(meta), file, 4321, "ab".into());
        outbox.save(&rec)?;
        let s = station_status("b1", dir.path());
        assert_eq!((s.outbox_items, s.outbox_bytes), (1, 4321));
        assert_eq!(s.outbox.waiting, 1);
        assert_eq!(s.outbox.oldest_waiting_ms, Some(rec.queued_at_ms));
        Ok(())
    }
}
