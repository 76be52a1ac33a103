//! The session manifest: after the last answer of a session, one JSON document naming the
//! station, interview, candidate (the session, and the code they entered) and every answer
//! (question, attempt, duration, size, sha256, upload URL, timings), the receipt code the
//! candidate was shown, the consent they gave and what staff granted them. It is queued like an
//! answer but built only when each answer it lists has finished, so the URLs in it are final.
//!
//! Plain data: the outbox carries a [`ManifestRequest`] and hands each answer's
//! [`AnswerDelivery`] to [`ManifestRequest::build`]; nothing here knows the outbox.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::rfc3339_ms;
use crate::names::receipt_code;

/// What the front end knows at the end of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestRequest {
    pub station_id: String,
    pub interview_id: String,
    pub candidate_id: String,
    /// Identifies the session; also the manifest's outbox id.
    pub session_id: Uuid,
    /// Milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    pub finished_at_ms: u64,
    pub answers: Vec<ManifestAnswer>,
    /// The code the candidate entered; records from before codes have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate_ref: Option<String>,
    /// The privacy notice the candidate accepted, when the interview has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ManifestConsent>,
    /// What staff granted during the session, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<ManifestGrant>,
}

/// Which consent text was accepted (its sha256, see `interview::Consent`) and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestConsent {
    pub sha256: String,
    /// Milliseconds since the Unix epoch.
    pub accepted_at_ms: u64,
}

/// One grant by staff: an extra attempt, extra answer or preparation time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestGrant {
    /// `extra_attempt`, `extra_answer_time`, `extra_preparation`, …
    pub kind: String,
    /// The question it was for, if it was for one.
    pub question_id: Option<String>,
    /// Attempts, or seconds, as the kind says.
    pub amount: u64,
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
}

/// One submitted answer as the front end knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestAnswer {
    pub answer_id: Uuid,
    pub question_id: String,
    pub attempt: u32,
    pub duration_seconds: f64,
}

/// The document uploaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestDocument {
    pub format: u32,
    pub station_id: String,
    pub interview_id: String,
    pub candidate_id: String,
    pub session_id: Uuid,
    pub receipt_code: String,
    /// The code the candidate entered; `null` when the station asks for none.
    #[serde(default)]
    pub candidate_ref: Option<String>,
    pub started_at: String,
    pub finished_at: String,
    pub answers: Vec<ManifestEntry>,
    /// `null` when the interview asks for no consent.
    #[serde(default)]
    pub consent: Option<ConsentEntry>,
    #[serde(default)]
    pub grants: Vec<GrantEntry>,
}

/// The consent in the document: the accepted text's sha256 and when, RFC 3339 UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentEntry {
    pub sha256: String,
    pub accepted_at: String,
}

/// A grant in the document, its time RFC 3339 UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantEntry {
    pub kind: String,
    pub question_id: Option<String>,
    pub amount: u64,
    pub at: String,
}

/// One answer in the document, with what the outbox knows about its delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub answer_id: Uuid,
    pub question_id: String,
    pub attempt: u32,
    pub duration_seconds: f64,
    /// "delivered", "refused", "abandoned", or "missing" when the outbox never had it.
    pub state: String,
    pub size: Option<u64>,
    pub sha256: Option<String>,
    pub upload_url: Option<String>,
    pub queued_at: Option<String>,
    pub delivered_at: Option<String>,
}

/// What the outbox knows about one listed answer when the manifest is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerDelivery {
    /// `queued`, `uploading`, `delivered`, `refused` or `abandoned`.
    pub state: &'static str,
    pub size: u64,
    pub sha256: String,
    /// Where the platform has it; only once delivered.
    pub upload_url: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub queued_at_ms: u64,
    pub delivered_at_ms: Option<u64>,
}

impl ManifestRequest {
    /// The answers this manifest waits for.
    pub fn answer_ids(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.answers.iter().map(|a| a.answer_id)
    }

    /// Builds the document from what the outbox knows of its answers (`find` looks one up;
    /// `None` for an answer the outbox never had).
    pub fn build(&self, find: impl Fn(Uuid) -> Option<AnswerDelivery>) -> ManifestDocument {
        let answers = self
            .answers
            .iter()
            .map(|a| {
                let found = find(a.answer_id);
                ManifestEntry {
                    answer_id: a.answer_id,
                    question_id: a.question_id.clone(),
                    attempt: a.attempt,
                    duration_seconds: a.duration_seconds,
                    state: found.as_ref().map_or("missing", |d| d.state).to_string(),
                    size: found.as_ref().map(|d| d.size),
                    queued_at: found.as_ref().map(|d| rfc3339_ms(d.queued_at_ms)),
                    delivered_at: found
                        .as_ref()
                        .and_then(|d| d.delivered_at_ms)
                        .map(rfc3339_ms),
                    upload_url: found.as_ref().and_then(|d| d.upload_url.clone()),
                    sha256: found.map(|d| d.sha256),
                }
            })
            .collect();
        ManifestDocument {
            format: 1,
            station_id: self.station_id.clone(),
            interview_id: self.interview_id.clone(),
            candidate_id: self.candidate_id.clone(),
            session_id: self.session_id,
            receipt_code: receipt_code(self.session_id),
            candidate_ref: self.candidate_ref.clone(),
            started_at: rfc3339_ms(self.started_at_ms),
            finished_at: rfc3339_ms(self.finished_at_ms),
            answers,
            consent: self.consent.as_ref().map(|c| ConsentEntry {
                sha256: c.sha256.clone(),
                accepted_at: rfc3339_ms(c.accepted_at_ms),
            }),
            grants: self
                .grants
                .iter()
                .map(|g| GrantEntry {
                    kind: g.kind.clone(),
                    question_id: g.question_id.clone(),
                    amount: g.amount,
                    at: rfc3339_ms(g.at_ms),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_answers_are_named_missing() {
        let req = ManifestRequest {
            station_id: "s".into(),
            interview_id: "i".into(),
            candidate_id: "c".into(),
            session_id: Uuid::from_u128(7),
            started_at_ms: 0,
            finished_at_ms: 1000,
            answers: vec![ManifestAnswer {
                answer_id: Uuid::from_u128(9),
                question_id: "q1".into(),
                attempt: 1,
                duration_seconds: 12.5,
            }],
            candidate_ref: None,
            consent: None,
            grants: Vec::new(),
        };
        let doc = req.build(|_| None);
        assert_eq!(doc.answers[0].state, "missing");
        assert_eq!(doc.answers[0].size, None);
        assert_eq!(doc.answers[0].upload_url, None);
        assert_eq!(doc.receipt_code, receipt_code(req.session_id));
    }

    #[test]
    fn a_delivered_answer_is_described_with_its_url_and_times() {
        let req = ManifestRequest {
            station_id: "s".into(),
            interview_id: "i".into(),
            candidate_id: "c".into(),
            session_id: Uuid::from_u128(7),
            started_at_ms: 0,
            finished_at_ms: 1000,
            answers: vec![ManifestAnswer {
                answer_id: Uuid::from_u128(9),
                question_id: "q1".into(),
                attempt: 2,
                duration_seconds: 12.5,
            }],
            candidate_ref: None,
            consent: None,
            grants: Vec::new(),
        };
        let doc = req.build(|id| {
            (id == Uuid::from_u128(9)).then(|| AnswerDelivery {
                state: "delivered",
                size: 42,
                sha256: "cd".repeat(32),
                upload_url: Some("https://x/files/9".into()),
                queued_at_ms: 951_782_400_123,
                delivered_at_ms: Some(1_795_668_889_124),
            })
        });
        let entry = &doc.answers[0];
        assert_eq!((entry.state.as_str(), entry.attempt), ("delivered", 2));
        assert_eq!(
            (entry.size, entry.sha256.clone()),
            (Some(42), Some("cd".repeat(32)))
        );
        assert_eq!(entry.upload_url.as_deref(), Some("https://x/files/9"));
        assert_eq!(entry.queued_at.as_deref(), Some("2000-02-29T00:00:00.123Z"));
        assert_eq!(
            entry.delivered_at.as_deref(),
            Some("2026-11-26T04:54:49.124Z")
        );
    }

    #[test]
    fn the_code_consent_and_grants_reach_the_document() -> crate::TestResult {
        let req = ManifestRequest {
            station_id: "s".into(),
            interview_id: "i".into(),
            candidate_id: "c".into(),
            session_id: Uuid::from_u128(7),
            started_at_ms: 0,
            finished_at_ms: 1000,
            answers: Vec::new(),
            candidate_ref: Some("ACME-7Q2K".into()),
            consent: Some(ManifestConsent {
                sha256: "ab".repeat(32),
                accepted_at_ms: 1_795_668_889_124,
            }),
            grants: vec![ManifestGrant {
                kind: "extra_answer_time".into(),
                question_id: Some("q2".into()),
                amount: 60,
                at_ms: 1_795_668_900_000,
            }],
        };
        let doc = serde_json::to_value(req.build(|_| None))?;
        assert_eq!(doc["candidate_ref"], "ACME-7Q2K");
        assert_eq!(doc["consent"]["sha256"], "ab".repeat(32));
        assert_eq!(doc["consent"]["accepted_at"], "2026-11-26T04:54:49.124Z");
        assert_eq!(doc["grants"][0]["kind"], "extra_answer_time");
        assert_eq!(doc["grants"][0]["question_id"], "q2");
        assert_eq!(doc["grants"][0]["amount"], 60);
        assert_eq!(doc["grants"][0]["at"], "2026-11-26T04:55:00.000Z");
        Ok(())
    }

    #[test]
    fn records_written_before_codes_still_load() -> crate::TestResult {
        // A manifest request and an answer as booth stored them before these fields existed.
        let old_manifest = r#"{"station_id":"s","interview_id":"i","candidate_id":"c",
            "session_id":"00000000-0000-0000-0000-000000000007","started_at_ms":0,
            "finished_at_ms":1000,"answers":[]}"#;
        let req: ManifestRequest = serde_json::from_str(old_manifest)?;
        assert_eq!((req.candidate_ref, req.consent), (None, None));
        assert!(req.grants.is_empty());
        let old_answer = r#"{"interview_id":"i","candidate_id":"c","question_id":"q1",
            "attempt":1,"answer_id":"00000000-0000-0000-0000-000000000009",
            "filename":"a.mp4"}"#;
        let meta: crate::upload::AnswerMeta = serde_json::from_str(old_answer)?;
        assert_eq!(meta.candidate_ref, None);
        // And what is written without them reads as before (nothing new in the record).
        let json = serde_json::to_string(&meta)?;
        assert!(!json.contains("candidate_ref"), "{json}");
        Ok(())
    }
}
