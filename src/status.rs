//! Station health as one JSON object: what the kiosk is doing (written by `booth run` to
//! `<data_dir>/status.json` whenever it changes) plus what anyone can measure from outside
//! (the outbox counted from its records, with the upload endpoint's health as the upload
//! service last wrote it; free disk). `booth status --json` prints it; the heartbeat POSTs it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::app::state::{DeviceStatus, Phase, State, TestStep};
use crate::upload::OutboxSummary;

pub const STATUS_FILE: &str = "status.json";

/// The screen's name, as status.json and the call-staff webhook give it.
pub fn phase_name(phase: &Phase) -> &'static str {
    describe_phase(phase).0
}

/// (screen, idle | in_interview | recording, the question on screen counted from 1).
fn describe_phase(phase: &Phase) -> (&'static str, &'static str, Option<usize>) {
    match phase {
        Phase::Welcome(_) => ("welcome", "idle", None),
        Phase::Consent => ("consent", "in_interview", None),
        Phase::Declined { .. } => ("declined", "in_interview", None),
        Phase::Overview => ("overview", "in_interview", None),
        Phase::DeviceTest(TestStep::Recording { .. }) => ("device_test", "recording", None),
        Phase::DeviceTest(_) => ("device_test", "in_interview", None),
        Phase::Questions { .. } => ("questions", "in_interview", None),
        Phase::Question { q, .. } => ("question", "in_interview", Some(q + 1)),
        Phase::Recording { q, .. } => ("recording", "recording", Some(q + 1)),
        Phase::Review { q, .. } => ("review", "in_interview", Some(q + 1)),
        Phase::Submitting { q, .. } => ("submitting", "in_interview", Some(q + 1)),
        Phase::Done { .. } => ("done", "idle", None),
        Phase::Resetting => ("resetting", "idle", None),
        Phase::OutOfOrder => ("out_of_order", "out_of_order", None),
    }
}

/// What the running kiosk reports about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KioskStatus {
    pub pid: u32,
    /// idle | in_interview | recording
    pub state: String,
    pub phase: String,
    pub session: String,
    pub interview: String,
    pub question: Option<usize>,
    pub camera: Option<String>,
    pub microphone: Option<String>,
    /// ready | opening | failed | closed
    pub devices: String,
    pub last_error: Option<String>,
    pub updated_unix: u64,
}

impl KioskStatus {
    pub fn of(state: &State, now_unix: u64) -> KioskStatus {
        let (phase, busy, question) = describe_phase(&state.session.phase);
        let (devices, camera, microphone) = match &state.devices.status {
            DeviceStatus::Closed => ("closed", None, None),
            DeviceStatus::Opening => ("opening", None, None),
            DeviceStatus::Ready { camera, microphone } => {
                ("ready", Some(camera.clone()), Some(microphone.clone()))
            }
            DeviceStatus::Failed(_) => ("failed", None, None),
        };
        KioskStatus {
            pid: std::process::id(),
            state: busy.into(),
            phase: phase.into(),
            session: state.session.progress.session_id.clone(),
            interview: state.session.interview.id.clone(),
            question,
            camera,
            microphone,
            devices: devices.into(),
            last_error: state.last_error.clone(),
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
    /// idle | in_interview | recording | stopped
    pub state: String,
    pub kiosk: Option<KioskStatus>,
    /// Answers (and manifests) waiting to be delivered: `outbox.waiting`.
    pub outbox_items: usize,
    /// Bytes of them not yet confirmed by the server: `outbox.waiting_bytes`.
    pub outbox_bytes: u64,
    /// The whole outbox summary, with the upload endpoint's health.
    pub outbox: OutboxSummary,
    pub disk_free_bytes: Option<u64>,
    pub last_error: Option<String>,
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

pub fn station_status(station_id: &str, data_dir: &Path) -> StationStatus {
    let kiosk = KioskStatus::read(data_dir);
    let running = kiosk.as_ref().is_some_and(|k| pid_alive(k.pid));
    let state = match (&kiosk, running) {
        (Some(k), true) => k.state.clone(),
        _ => "stopped".into(),
    };
    let outbox = OutboxSummary::read(&data_dir.join("outbox"));
    StationStatus {
        version: env!("CARGO_PKG_VERSION").into(),
        station_id: station_id.into(),
        data_dir: data_dir.to_path_buf(),
        running,
        state,
        last_error: kiosk.as_ref().and_then(|k| k.last_error.clone()),
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
    fn a_stale_status_from_a_dead_kiosk_reads_as_stopped() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let s = station_status("b1", dir.path());
        assert_eq!(s.state, "stopped");
        assert!(!s.running);
        assert!(s.disk_free_bytes.ok_or("no free space figure")? > 0);
        let ghost = KioskStatus {
            pid: u32::MAX - 1,
            state: "recording".into(),
            phase: "recording".into(),
            session: "s".into(),
            interview: "i".into(),
            question: Some(1),
            camera: None,
            microphone: None,
            devices: "ready".into(),
            last_error: None,
            updated_unix: 1,
        };
        ghost.write(dir.path())?;
        let s = station_status("b1", dir.path());
        assert_eq!(s.state, "stopped");
        let mut me = ghost.clone();
        me.pid = std::process::id();
        me.write(dir.path())?;
        assert_eq!(station_status("b1", dir.path()).state, "recording");
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
