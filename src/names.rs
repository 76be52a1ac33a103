//! The names booth gives things that people and the platform see, derived from ids alone so
//! that every part of booth (the kiosk's screens, the session record, the manifest, the
//! upload metadata, `booth upload`) agrees on them: a session's receipt code and an answer's
//! file name. Plain data: depends on nothing in booth.

use sha2::{Digest, Sha256};
use uuid::Uuid;

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

/// Between the parts of an answer's file name.
const SEPARATOR: &str = "--";

/// The name an answer has in the outbox and on the platform:
/// `<session>--<question>--<attempt>.mp4`.
pub fn answer_file_name(session: &str, question_id: &str, attempt: u32) -> String {
    format!("{session}{SEPARATOR}{question_id}{SEPARATOR}{attempt}.mp4")
}

/// An answer's file name taken apart (see [`answer_file_name`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerName {
    /// The session; in a file named by hand for `booth upload`, the candidate.
    pub session: String,
    pub question_id: String,
    pub attempt: u32,
}

impl AnswerName {
    /// Reads a file name's stem (`<session>--<question>--<attempt>`); `None` when it is not
    /// one (a part missing, one too many, an attempt that is not a number).
    pub fn from_stem(stem: &str) -> Option<AnswerName> {
        let parts: Vec<&str> = stem.split(SEPARATOR).collect();
        let [session, question, attempt] = parts.as_slice() else {
            return None;
        };
        Some(AnswerName {
            session: (*session).to_string(),
            question_id: (*question).to_string(),
            attempt: attempt.parse().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn answer_file_names_read_back() -> crate::TestResult {
        let name = answer_file_name("s-1", "q-intro", 2);
        assert_eq!(name, "s-1--q-intro--2.mp4");
        let stem = name
            .strip_suffix(".mp4")
            .ok_or("an answer's file name ends in .mp4")?;
        let parts = AnswerName::from_stem(stem).ok_or("not read back")?;
        assert_eq!(
            parts,
            AnswerName {
                session: "s-1".into(),
                question_id: "q-intro".into(),
                attempt: 2
            }
        );
        for other in ["q-teamwork", "a--b--c", "a--b", "a--b--1--2", "a--b--"] {
            assert_eq!(AnswerName::from_stem(other), None, "{other}");
        }
        Ok(())
    }
}
