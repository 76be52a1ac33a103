//! The executor's delivery jobs: putting a sent take into the outbox (a transaction the upload
//! service owns), the session manifest, and turning upload events into messages that name the
//! session and question each answer belongs to — so an earlier candidate's upload finishing
//! never touches the next candidate's screen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use uuid::Uuid;

use super::{Executor, lock};
use crate::app::msg::{ManifestInfo, Msg, Submission, SubmitProblem, UploadNews};
use crate::names::answer_file_name;
use crate::session::Progress;
use crate::upload::{
    ItemId, ManifestAnswer, ManifestConsent, ManifestGrant, ManifestRequest, NewAnswer,
    State as UploadState, UploadError, UploadEvent,
};

/// Whose answer each outbox item is: (session, question).
pub(super) type AnswerMap = Arc<Mutex<HashMap<Uuid, (String, usize)>>>;

/// Turns upload events into the flow's messages, naming the session and question of each
/// answer; items the map does not know (an earlier run's, a manifest) are only logged.
pub(super) async fn forward_uploads(
    mut events: mpsc::UnboundedReceiver<UploadEvent>,
    tx: mpsc::UnboundedSender<Msg>,
    answers: AnswerMap,
) {
    while let Some(event) = events.recv().await {
        let news = match &event {
            UploadEvent::Progress { sent, total, .. } => Some(UploadNews::Progress {
                sent: *sent,
                total: *total,
            }),
            UploadEvent::Waiting { id, reason, .. } => {
                tracing::warn!(answer = %id, %reason, "upload waiting");
                Some(UploadNews::Waiting)
            }
            UploadEvent::Delivered { id, url } => {
                tracing::info!(answer = %id, %url, "answer delivered");
                Some(UploadNews::Delivered)
            }
            UploadEvent::Refused { reason, .. } => Some(UploadNews::Refused {
                reason: reason.clone(),
            }),
            UploadEvent::Queued { .. } | UploadEvent::Abandoned { .. } => None,
        };
        let owner = lock(&answers).get(&event.id().0).cloned();
        if let (Some(news), Some((session, question))) = (news, owner)
            && tx
                .send(Msg::Upload {
                    session,
                    question,
                    news,
                })
                .is_err()
        {
            break;
        }
    }
}

impl Executor {
    /// Follows the answers of the session the kiosk starts with: their upload events name
    /// the right question, and one delivered while booth was down shows as delivered.
    pub fn follow(&mut self, progress: &Progress) {
        for (q, p) in progress.questions.iter().enumerate() {
            let Some(id) = p.answer_id.as_deref().and_then(|a| Uuid::parse_str(a).ok()) else {
                continue;
            };
            lock(&self.answers).insert(id, (progress.session_id.clone(), q));
            if self
                .uploads
                .get(ItemId(id))
                .is_some_and(|v| v.state == UploadState::Delivered)
            {
                self.send(Msg::Upload {
                    session: progress.session_id.clone(),
                    question: q,
                    news: UploadNews::Delivered,
                });
            }
        }
    }

    /// Puts the take in the outbox (which a privacy wipe never touches) and queues it; the
    /// flow hears `Submitted` only once that is durable. The answer id comes from the file's
    /// content, so doing this again after a crash finds the same item.
    pub(super) async fn submit(&mut self, s: Submission) {
        let filename = answer_file_name(&s.take.session, &s.question_id, s.attempt);
        let answer = NewAnswer {
            interview_id: s.interview_id.clone(),
            candidate_id: s.take.session.clone(),
            question_id: s.question_id.clone(),
            attempt: s.attempt,
            filename,
            candidate_ref: s.candidate_ref.clone(),
        };
        match self.uploads.submit_file(&s.file, answer).await {
            Ok(id) => {
                tracing::info!(question = s.take.question, answer = %id, "answer queued");
                lock(&self.answers).insert(id.0, (s.take.session.clone(), s.take.question));
                self.send(Msg::Submitted {
                    take: s.take,
                    answer_id: id.0.to_string(),
                });
            }
            Err(e) => {
                tracing::error!(path = %s.file.display(), error = %e, "cannot queue answer");
                self.send(Msg::SubmitFailed {
                    take: s.take,
                    problem: submit_problem(&e, &s.file),
                    detail: e.to_string(),
                });
            }
        }
    }

    pub(super) async fn send_manifest(&mut self, info: ManifestInfo) {
        let known = lock(&self.answers).clone();
        let answers = info
            .answers
            .iter()
            .filter_map(|(q, question_id, attempt, seconds, id)| {
                let answer_id = id
                    .as_deref()
                    .and_then(|a| Uuid::parse_str(a).ok())
                    .or_else(|| {
                        known
                            .iter()
                            .find(|(_, (s, v))| *s == info.session_id && *v == *q)
                            .map(|(k, _)| *k)
                    })?;
                Some(ManifestAnswer {
                    answer_id,
                    question_id: question_id.clone(),
                    attempt: *attempt,
                    duration_seconds: *seconds,
                })
            })
            .collect();
        let session = Progress::new(&info.session_id, "", 0, 0).session_uuid();
        let request = ManifestRequest {
            station_id: self.settings.station_id.clone(),
            interview_id: info.interview_id.clone(),
            candidate_id: info.session_id.clone(),
            session_id: session,
            started_at_ms: info.started_unix * 1000,
            finished_at_ms: info.finished_unix * 1000,
            answers,
            candidate_ref: info.candidate_ref.clone(),
            consent: info.consent.as_ref().map(|c| ManifestConsent {
                sha256: c.sha256.clone(),
                accepted_at_ms: c.accepted_unix * 1000,
            }),
            grants: info
                .grants
                .iter()
                .map(|g| ManifestGrant {
                    kind: g.kind.as_str().to_string(),
                    question_id: Some(g.question_id.clone()),
                    amount: g.amount,
                    at_ms: g.at_unix * 1000,
                })
                .collect(),
        };
        if !info.grants.is_empty() {
            tracing::info!(grants = ?info.grants, "staff grants this session");
        }
        match self.uploads.enqueue_manifest(request).await {
            Ok(id) => tracing::info!(manifest = %id, "session manifest queued"),
            Err(e) => tracing::error!(error = %e, "cannot queue the session manifest"),
        }
    }
}

/// What kind of trouble a failed submission of the take at `take` is.
fn submit_problem(e: &UploadError, take: &std::path::Path) -> SubmitProblem {
    match e {
        UploadError::Fs(fs)
            if fs.source.raw_os_error() == Some(rustix::io::Errno::NOSPC.raw_os_error()) =>
        {
            SubmitProblem::NoSpace
        }
        UploadError::Fs(fs)
            if fs.path == take && fs.source.kind() == std::io::ErrorKind::NotFound =>
        {
            SubmitProblem::Take
        }
        UploadError::EmptyFile { .. }
        | UploadError::NotAFile { .. }
        | UploadError::FileChanged { .. } => SubmitProblem::Take,
        _ => SubmitProblem::Station,
    }
}
