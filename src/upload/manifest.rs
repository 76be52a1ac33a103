//! The session manifest: after the last answer of a session, one JSON document naming the
//! station, interview, candidate and every answer (question, attempt, duration, size, sha256,
//! upload URL, timings) and the receipt code the candidate was shown. It is queued like an
//! answer but built only when each answer it lists has finished, so the URLs in it are final.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::outbox::{Record, State};

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
    pub started_at: String,
    pub finished_at: String,
    pub answers: Vec<ManifestEntry>,
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

/// The short code the candidate is shown on the done screen and support can look up:
/// 8 characters of Crockford base32 from the session id, shown as `XXXX-XXXX`.
pub fn receipt_code(session_id: Uuid) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let digest = Sha256::digest(session_id.as_bytes());
    let mut bits = u64::from_be_bytes([
        0, 0, 0, digest[0], digest[1], digest[2], digest[3], digest[4],
    ]);
    let mut out = [0u8; 8];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(bits & 31) as usize];
        bits >>= 5;
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    format!("{}-{}", &text[..4], &text[4..])
}

impl ManifestRequest {
    /// The answers this manifest waits for.
    pub fn answer_ids(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.answers.iter().map(|a| a.answer_id)
    }

    /// Builds the document from the outbox records of its answers (`find` looks one up).
    pub fn build<'a>(&self, find: impl Fn(Uuid) -> Option<&'a Record>) -> ManifestDocument {
        let answers = self
            .answers
            .iter()
            .map(|a| {
                let rec = find(a.answer_id);
                ManifestEntry {
                    answer_id: a.answer_id,
                    question_id: a.question_id.clone(),
                    attempt: a.attempt,
                    duration_seconds: a.duration_seconds,
                    state: rec.map_or("missing", |r| r.state.as_str()).to_string(),
                    size: rec.map(|r| r.size),
                    sha256: rec.map(|r| r.sha256.clone()),
                    upload_url: rec
                        .filter(|r| r.state == State::Delivered)
                        .and_then(|r| r.url.clone()),
                    queued_at: rec.map(|r| rfc3339_ms(r.queued_at_ms)),
                    delivered_at: rec.and_then(|r| r.delivered_at_ms).map(rfc3339_ms),
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
            started_at: rfc3339_ms(self.started_at_ms),
            finished_at: rfc3339_ms(self.finished_at_ms),
            answers,
        }
    }
}

/// `2026-11-26T04:54:49.124Z` for milliseconds since the Unix epoch.
pub fn rfc3339_ms(ms: u64) -> String {
    let time = UNIX_EPOCH + Duration::from_millis(ms);
    rfc3339(time)
}

/// UTC RFC 3339 with milliseconds.
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (y, m, d) = crate::clock::civil_from_days((since.as_secs() / 86_400) as i64);
    let rest = since.as_secs() % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_times() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(rfc3339_ms(1_795_668_889_124), "2026-11-26T04:54:49.124Z");
    }

    #[test]
    fn receipt_codes_are_short_stable_and_distinct() {
        let a = Uuid::from_u128(1);
        let code = receipt_code(a);
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
        assert_eq!(code, receipt_code(a));
        assert_ne!(code, receipt_code(Uuid::from_u128(2)));
        assert!(
            code.chars()
                .all(|c| c == '-' || c.is_ascii_digit() || c.is_ascii_uppercase())
        );
    }

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
        };
        let doc = req.build(|_| None);
        assert_eq!(doc.answers[0].state, "missing");
        assert_eq!(doc.answers[0].upload_url, None);
        assert_eq!(doc.receipt_code, receipt_code(req.session_id));
    }
}
