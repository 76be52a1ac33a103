//! What `booth sessions` lists, gathered from the disk without touching it: the outbox's
//! records grouped by session (answers by `candidate_id`, which is the session id, and the
//! session manifest), plus the session in progress from its `progress.json`. The progress
//! file is read through a view of the few fields needed here, so that the kiosk's own
//! `Progress` type can grow without this command following it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::codes::mask;
use crate::upload::{Payload, Record, State};

/// One session as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionRow {
    pub session_id: String,
    /// The candidate's code, masked (`AB…34`); `None` when none was entered.
    pub code: Option<String>,
    pub interview_id: String,
    /// Seconds since 1970: the session's start if known, else its first queued answer.
    pub started_unix: u64,
    /// The session on screen now.
    pub in_progress: bool,
    /// Questions in the interview, known for the session in progress.
    pub questions: Option<usize>,
    /// Answers submitted (in the outbox).
    pub answers: usize,
    /// Confirmed by the platform (tus) or copied and checked (`dir:`).
    pub delivered: usize,
    /// Still to be delivered (queued or uploading).
    pub waiting: usize,
    /// Refused by the platform or given up by the operator; the files are kept.
    pub failed: usize,
    /// `delivered`, `waiting`, `refused`, `abandoned`, or `none` (not made yet).
    pub manifest: String,
}

/// The fields of `progress.json` this command reads; unknown ones are ignored.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct ProgressView {
    pub session_id: String,
    pub interview_id: String,
    #[serde(default)]
    pub started_unix: u64,
    #[serde(default)]
    pub device_test_passed: bool,
    #[serde(default)]
    pub questions: Vec<QuestionView>,
    /// Written by kiosks that ask for codes.
    #[serde(default)]
    pub candidate_ref: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct QuestionView {
    #[serde(default)]
    pub takes: Vec<serde::de::IgnoredAny>,
}

impl ProgressView {
    /// A candidate is at the station: a fresh session waiting for the next one is not listed.
    fn begun(&self) -> bool {
        self.candidate_ref.is_some()
            || self.device_test_passed
            || self.questions.iter().any(|q| !q.takes.is_empty())
    }
}

/// Why the session in progress could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CurrentError {
    #[error("{}: cannot read the session in progress: {source}", path.display())]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: damaged progress file: {detail}", path.display())]
    Damaged {
        path: std::path::PathBuf,
        detail: String,
    },
}

/// The session the `current` pointer names, if there is one.
pub(super) fn current(data_dir: &Path) -> Result<Option<ProgressView>, CurrentError> {
    let Some(id) = crate::app::sessions::current_id(data_dir) else {
        return Ok(None);
    };
    let path = crate::app::sessions::sessions_dir(data_dir)
        .join(&id)
        .join(crate::session::PROGRESS_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(CurrentError::Read { path, source }),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| CurrentError::Damaged {
            path,
            detail: e.to_string(),
        })
}

/// Sessions with anything queued since `since_unix`, and the one in progress, oldest first.
pub(super) fn collect(
    records: &[Record],
    current: Option<&ProgressView>,
    since_unix: u64,
) -> Vec<SessionRow> {
    let mut by_session: BTreeMap<String, Vec<&Record>> = BTreeMap::new();
    for rec in records {
        let session = match &rec.payload {
            Payload::Answer(a) => &a.candidate_id,
            Payload::Manifest(m) => &m.candidate_id,
        };
        by_session.entry(session.clone()).or_default().push(rec);
    }
    let current = current.filter(|p| p.begun());
    let mut rows: Vec<SessionRow> = by_session
        .into_iter()
        .map(|(session, recs)| {
            let progress = current.filter(|p| p.session_id == session);
            row(session, &recs, progress)
        })
        .filter(|(row, last_queued)| row.in_progress || *last_queued >= since_unix)
        .map(|(row, _)| row)
        .collect();
    if let Some(p) = current
        && !rows.iter().any(|r| r.session_id == p.session_id)
    {
        rows.push(row(p.session_id.clone(), &[], Some(p)).0);
    }
    rows.sort_by(|a, b| (a.started_unix, &a.session_id).cmp(&(b.started_unix, &b.session_id)));
    rows
}

/// One session's row, and when its last record was queued.
fn row(session: String, recs: &[&Record], progress: Option<&ProgressView>) -> (SessionRow, u64) {
    let mut r = SessionRow {
        session_id: session,
        code: None,
        interview_id: String::new(),
        started_unix: u64::MAX,
        in_progress: progress.is_some(),
        questions: progress.map(|p| p.questions.len()),
        answers: 0,
        delivered: 0,
        waiting: 0,
        failed: 0,
        manifest: "none".to_string(),
    };
    let mut code = progress.and_then(|p| p.candidate_ref.clone());
    let mut last_queued = 0;
    for rec in recs {
        last_queued = last_queued.max(rec.queued_at_ms / 1000);
        r.started_unix = r.started_unix.min(rec.queued_at_ms / 1000);
        match &rec.payload {
            Payload::Answer(a) => {
                r.interview_id.clone_from(&a.interview_id);
                code = code.or_else(|| a.candidate_ref.clone());
                r.answers += 1;
                match rec.state {
                    State::Delivered => r.delivered += 1,
                    State::Queued | State::Uploading => r.waiting += 1,
                    State::Refused | State::Abandoned => r.failed += 1,
                }
            }
            Payload::Manifest(m) => {
                r.interview_id.clone_from(&m.interview_id);
                code = code.or_else(|| m.candidate_ref.clone());
                r.started_unix = r.started_unix.min(m.started_at_ms / 1000);
                r.manifest = match rec.state {
                    State::Queued | State::Uploading => "waiting",
                    other => other.as_str(),
                }
                .to_string();
            }
        }
    }
    if let Some(p) = progress {
        r.interview_id.clone_from(&p.interview_id);
        r.started_unix = r.started_unix.min(p.started_unix);
    }
    if r.started_unix == u64::MAX {
        r.started_unix = 0;
    }
    r.code = code.map(|c| mask(&c));
    (r, last_queued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::{AnswerMeta, ItemId, ManifestRequest};
    use uuid::Uuid;

    const NOW: u64 = 1_796_550_000;

    fn answer(session: &str, code: Option<&str>, state: State, queued: u64) -> Record {
        let id = Uuid::new_v4();
        let meta = AnswerMeta {
            interview_id: "support".into(),
            candidate_id: session.into(),
            question_id: "q1".into(),
            attempt: 1,
            answer_id: id,
            filename: "a.mp4".into(),
            candidate_ref: code.map(str::to_string),
        };
        let mut rec = Record::new(
            ItemId(id),
            Payload::Answer(meta),
            "/a".into(),
            1,
            "ab".into(),
        );
        rec.state = state;
        rec.queued_at_ms = queued * 1000;
        rec
    }

    fn manifest(session: &str, state: State, queued: u64) -> Record {
        let req = ManifestRequest {
            station_id: "s".into(),
            interview_id: "support".into(),
            candidate_id: session.into(),
            session_id: Uuid::new_v4(),
            started_at_ms: (queued - 600) * 1000,
            finished_at_ms: queued * 1000,
            answers: Vec::new(),
            candidate_ref: Some("ACME-7Q2K".into()),
            consent: None,
            grants: Vec::new(),
        };
        let mut rec = Record::new(
            ItemId(req.session_id),
            Payload::Manifest(req),
            "/m".into(),
            0,
            String::new(),
        );
        rec.state = state;
        rec.queued_at_ms = queued * 1000;
        rec
    }

    fn progress(json: &str) -> crate::TestResult<ProgressView> {
        Ok(serde_json::from_str(json)?)
    }

    #[test]
    fn sessions_are_grouped_counted_and_masked() -> crate::TestResult {
        let since = NOW - 3600;
        let records = vec![
            answer("s-today", Some("ACME-7Q2K"), State::Delivered, NOW - 900),
            answer("s-today", Some("ACME-7Q2K"), State::Uploading, NOW - 800),
            answer("s-today", Some("ACME-7Q2K"), State::Refused, NOW - 700),
            manifest("s-today", State::Queued, NOW - 700),
            answer("s-yesterday", None, State::Delivered, NOW - 90_000),
            manifest("s-yesterday", State::Delivered, NOW - 90_000),
            answer("s-now", None, State::Queued, NOW - 60),
        ];
        let current = progress(
            r#"{"session_id":"s-now","interview_id":"sales","started_unix":1796549000,
                "device_test_passed":true,"current":0,"candidate_ref":"ZED-0042",
                "questions":[{"takes":[{}]},{"takes":[]},{}],"future_field":1}"#,
        )?;
        let rows = collect(&records, Some(&current), since);
        let ids: Vec<&str> = rows.iter().map(|r| r.session_id.as_str()).collect();
        assert_eq!(ids, ["s-today", "s-now"]);
        let today = &rows[0];
        assert_eq!(today.code.as_deref(), Some("AC…2K"));
        assert_eq!(
            (today.answers, today.delivered, today.waiting, today.failed),
            (3, 1, 1, 1)
        );
        assert_eq!(today.manifest, "waiting");
        assert_eq!(today.started_unix, NOW - 1300, "the manifest's start");
        assert!(!today.in_progress);
        let now = &rows[1];
        assert!(now.in_progress);
        assert_eq!(now.code.as_deref(), Some("ZE…42"));
        assert_eq!(now.interview_id, "sales");
        assert_eq!(now.questions, Some(3));
        assert_eq!(
            (now.answers, now.waiting, now.manifest.as_str()),
            (1, 1, "none")
        );
        Ok(())
    }

    #[test]
    fn a_fresh_session_waiting_for_the_next_candidate_is_not_listed() -> crate::TestResult {
        let waiting = progress(
            r#"{"session_id":"s-next","interview_id":"support","started_unix":1796549000,
                "device_test_passed":false,"questions":[{"takes":[]}]}"#,
        )?;
        assert!(collect(&[], Some(&waiting), 0).is_empty());
        // From the moment a code is entered, it is.
        let coded = progress(
            r#"{"session_id":"s-next","interview_id":"support","started_unix":1796549000,
                "device_test_passed":false,"questions":[],"candidate_ref":"AB-1234"}"#,
        )?;
        let rows = collect(&[], Some(&coded), NOW);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].code.as_deref(), Some("AB…34"));
        Ok(())
    }
}
