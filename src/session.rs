//! The candidate's persisted progress: which question they are on, the attempts they have
//! used, every take with its file and state. Saved atomically after every step (a JSON file in
//! the session directory), so a crash or a power cut resumes on the same question with the
//! same attempts — and a take cut short by the station is never counted against them.
//!
//! Plain data: the rules about what may happen next live in `app::update`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fsutil::{self, FsError};
use crate::interview::Interview;

/// File name of the progress record inside a session directory.
pub const PROGRESS_FILE: &str = "progress.json";
/// File name of the practice take inside a session directory: never sent, wiped with it.
pub const PRACTICE_FILE: &str = "practice.mp4";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TakeState {
    /// Being recorded (seen on disk only after a crash).
    Recording,
    /// Recorded completely; counts as an attempt.
    Saved,
    /// Cut short by the station (a crash, a lost camera); kept, shown, never counted.
    Interrupted,
    /// Sent on its way to the hiring team.
    Submitted,
    /// Replaced by a newer take; its file is deleted.
    Discarded,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Take {
    /// File name inside the session directory.
    pub file: String,
    pub state: TakeState,
    /// Recorded length in seconds, once known.
    pub seconds: Option<f64>,
    /// Why it was interrupted, for the screen and the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The candidate sent it but it could not be put in the outbox: a privacy wipe sets it
    /// aside for staff instead of deleting it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub submit_failed: bool,
}

impl Take {
    /// A take about to be recorded into `file` (a name inside the session directory).
    pub fn recording(file: String) -> Take {
        Take {
            file,
            state: TakeState::Recording,
            seconds: None,
            note: None,
            submit_failed: false,
        }
    }
}

/// Where a submitted answer stands on its way to the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    #[default]
    NotSubmitted,
    /// Saved on this station, waiting for (or in) upload.
    Queued,
    Uploaded,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct QuestionProgress {
    /// The interview's id for this question, so a restart can tell that the interview file
    /// changed under a session (empty in records written before it was kept).
    #[serde(default)]
    pub question_id: String,
    /// Completed takes that counted as attempts.
    pub attempts_used: u32,
    pub takes: Vec<Take>,
    /// Extra attempts granted by staff.
    #[serde(default)]
    pub extra_attempts: u32,
    /// Extra preparation time granted by staff, in seconds.
    #[serde(default)]
    pub extra_preparation_seconds: u64,
    /// Extra answer time granted by staff, in seconds.
    #[serde(default)]
    pub extra_answer_seconds: u64,
    pub delivery: Delivery,
    /// Answer id given at submission (the upload's identity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_id: Option<String>,
}

impl QuestionProgress {
    pub fn submitted_take(&self) -> Option<&Take> {
        self.takes.iter().find(|t| t.state == TakeState::Submitted)
    }

    /// The newest take that is not discarded.
    pub fn current_take(&self) -> Option<(usize, &Take)> {
        self.takes
            .iter()
            .enumerate()
            .rev()
            .find(|(_, t)| t.state != TakeState::Discarded)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub session_id: String,
    pub interview_id: String,
    pub started_unix: u64,
    pub device_test_passed: bool,
    /// The question being answered, if any.
    pub current: Option<usize>,
    pub questions: Vec<QuestionProgress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_unix: Option<u64>,
    /// The code the candidate (or staff for them) entered: whose answers these are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate_ref: Option<String>,
    /// The privacy notice the candidate accepted, if the interview has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentRecord>,
    /// What staff granted in this session, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
    /// The language the candidate picked on the welcome screen, when not the interview's own:
    /// a restart mid-interview goes on in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// The consent the candidate gave: which text (its sha256) and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    pub sha256: String,
    pub accepted_unix: u64,
}

/// What staff may grant a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantKind {
    ExtraAttempt,
    ExtraAnswerTime,
    ExtraPreparation,
}

impl GrantKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantKind::ExtraAttempt => "extra_attempt",
            GrantKind::ExtraAnswerTime => "extra_answer_time",
            GrantKind::ExtraPreparation => "extra_preparation",
        }
    }
}

/// One grant: kind, the question it was for, how much (attempts or seconds), when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub kind: GrantKind,
    pub question: usize,
    pub question_id: String,
    pub amount: u64,
    pub at_unix: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Fs(#[from] FsError),
    #[error("{}: damaged progress file: {detail}", path.display())]
    Damaged { path: PathBuf, detail: String },
    #[error("{}: {mismatch}", path.display())]
    Mismatch { path: PathBuf, mismatch: Mismatch },
}

/// Why a saved session no longer fits the interview (or its own directory): the interview
/// file was edited under it, or the record was tampered with. Such a session is set aside,
/// never resumed: resuming it would index questions that are not there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    #[error("belongs to interview '{found}', not '{expected}'")]
    Interview { found: String, expected: String },
    #[error("session '{found}' is kept in the directory of session '{dir}'")]
    Session { found: String, dir: String },
    #[error("has {found} questions, the interview has {expected}")]
    QuestionCount { found: usize, expected: usize },
    #[error("question {} is '{found}', the interview has '{expected}' there", .index + 1)]
    QuestionId {
        index: usize,
        found: String,
        expected: String,
    },
    #[error("its current question {} is not in the interview", .index + 1)]
    Current { index: usize },
    #[error("take file '{file}' is not a plain file name inside the session directory")]
    TakeFile { file: String },
}

impl Progress {
    pub fn new(session_id: &str, interview_id: &str, questions: usize, now_unix: u64) -> Self {
        Progress {
            session_id: session_id.to_string(),
            interview_id: interview_id.to_string(),
            started_unix: now_unix,
            device_test_passed: false,
            current: None,
            questions: vec![QuestionProgress::default(); questions],
            finished_unix: None,
            candidate_ref: None,
            consent: None,
            grants: Vec::new(),
            language: None,
        }
    }

    /// A new session of `interview`, each question labelled with its id.
    pub fn for_interview(session_id: &str, interview: &Interview, now_unix: u64) -> Self {
        let mut p = Progress::new(
            session_id,
            &interview.id,
            interview.questions.len(),
            now_unix,
        );
        for (q, question) in p.questions.iter_mut().zip(&interview.questions) {
            q.question_id = question.id.clone();
        }
        p
    }

    /// Whether this record can be resumed with `interview` from the directory named
    /// `dir_name`: same interview, same questions in the same order, every index in range and
    /// every take file a plain name inside the session directory.
    pub fn fits(&self, interview: &Interview, dir_name: &str) -> Result<(), Mismatch> {
        if self.interview_id != interview.id {
            return Err(Mismatch::Interview {
                found: self.interview_id.clone(),
                expected: interview.id.clone(),
            });
        }
        if self.session_id != dir_name {
            return Err(Mismatch::Session {
                found: self.session_id.clone(),
                dir: dir_name.to_string(),
            });
        }
        if self.questions.len() != interview.questions.len() {
            return Err(Mismatch::QuestionCount {
                found: self.questions.len(),
                expected: interview.questions.len(),
            });
        }
        for (index, (q, question)) in self.questions.iter().zip(&interview.questions).enumerate() {
            // Records from before question ids were kept are checked by count only.
            if !q.question_id.is_empty() && q.question_id != question.id {
                return Err(Mismatch::QuestionId {
                    index,
                    found: q.question_id.clone(),
                    expected: question.id.clone(),
                });
            }
            if let Some(t) = q.takes.iter().find(|t| !is_plain_name(&t.file)) {
                return Err(Mismatch::TakeFile {
                    file: t.file.clone(),
                });
            }
        }
        match self.current {
            Some(index) if index >= self.questions.len() => Err(Mismatch::Current { index }),
            _ => Ok(()),
        }
    }

    /// Every question's answer has been submitted.
    pub fn all_submitted(&self) -> bool {
        self.questions
            .iter()
            .all(|q| q.delivery != Delivery::NotSubmitted)
    }

    /// The session id as the platform sees it (a UUID; older or hand-made ids are mapped to
    /// one deterministically so the receipt and the manifest always agree).
    pub fn session_uuid(&self) -> uuid::Uuid {
        uuid::Uuid::parse_str(&self.session_id).unwrap_or_else(|_| {
            uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, self.session_id.as_bytes())
        })
    }

    /// The short code the candidate writes down; the session manifest carries the same one.
    pub fn receipt_code(&self) -> String {
        crate::names::receipt_code(self.session_uuid())
    }

    /// Writes the progress atomically into `dir`.
    pub fn save(&self, dir: &Path) -> Result<(), SessionError> {
        let path = dir.join(PROGRESS_FILE);
        let json = serde_json::to_vec_pretty(self).map_err(|e| SessionError::Damaged {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        fsutil::create_private_dir(dir)?;
        fsutil::write_atomic(&path, &json)?;
        Ok(())
    }

    /// Reads the progress in `dir`, if there is one. Whether it fits the interview is
    /// [`Progress::fits`]'s question.
    pub fn load(dir: &Path) -> Result<Option<Progress>, SessionError> {
        let path = dir.join(PROGRESS_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(FsError::new("cannot read", &path, e).into()),
        };
        let p: Progress = serde_json::from_slice(&bytes).map_err(|e| SessionError::Damaged {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        Ok(Some(p))
    }
}

/// A file name with no directory part: not empty, no `/`, not `.` or `..`.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('/') && name != "." && name != ".." && !name.contains('\0')
}

/// File in a session directory whose content is the Unix time of the candidate's last key
/// (written at most every few seconds), so the idle clock survives a restart.
pub const ACTIVITY_FILE: &str = "activity";

/// Notes that the candidate was active at `unix` (not synced: losing the last few seconds of
/// it to a power cut only makes the station wait a little longer before its privacy wipe).
pub fn note_activity(dir: &Path, unix: u64) -> Result<(), FsError> {
    let path = dir.join(ACTIVITY_FILE);
    std::fs::write(&path, unix.to_string()).map_err(|e| FsError::new("cannot write", &path, e))
}

/// When the candidate of the session in `dir` was last seen: the newer of the activity note
/// and the progress record's last change.
pub fn last_activity(dir: &Path) -> Option<u64> {
    let noted = std::fs::read_to_string(dir.join(ACTIVITY_FILE))
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok());
    let saved = std::fs::metadata(dir.join(PROGRESS_FILE))
        .and_then(|m| m.modified())
        .ok()
        .and_then(crate::clock::unix_secs);
    noted.max(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_disk() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let mut p = Progress::new("s-1", "iv", 2, 1_700_000_000);
        p.questions[1].takes.push(Take {
            file: "q2-take1.mp4".into(),
            state: TakeState::Interrupted,
            seconds: Some(12.5),
            note: Some("the station restarted".into()),
            submit_failed: true,
        });
        p.current = Some(1);
        p.save(dir.path())?;
        assert_eq!(Progress::load(dir.path())?, Some(p));
        assert_eq!(Progress::load(&dir.path().join("none"))?, None);
        Ok(())
    }

    #[test]
    fn damaged_file_is_named() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join(PROGRESS_FILE), b"{ not json")?;
        let err = Progress::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("progress.json") && err.contains("damaged"),
            "{err}"
        );
        Ok(())
    }

    #[test]
    fn receipt_codes_are_stable_and_readable() {
        let p = Progress::new("session-42", "iv", 1, 0);
        let code = p.receipt_code();
        assert_eq!(code, p.receipt_code());
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
        assert!(!code.contains(['O', 'I', 'L', 'U']), "{code}");
        assert_ne!(code, Progress::new("session-43", "iv", 1, 0).receipt_code());
    }
}
