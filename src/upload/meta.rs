//! What is said about a file on its way to the platform: the answer's identity
//! ([`AnswerMeta`]), the tus `Upload-Metadata` header built from it, and the whole-file
//! sha256 the platform can check the stored upload against.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::error::UploadError;
use crate::fsutil::FsError;

/// The content type of every recorded answer.
pub const MP4_TYPE: &str = "video/mp4";
/// The content type of a session manifest.
pub const JSON_TYPE: &str = "application/json";

/// Who answered what: everything the platform needs to file one submitted take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerMeta {
    pub interview_id: String,
    /// The candidate's id, or the invitation's when the platform identifies candidates by it.
    pub candidate_id: String,
    pub question_id: String,
    /// 1-based.
    pub attempt: u32,
    /// Made when the take is submitted; the platform de-duplicates on it, and the outbox holds
    /// at most one item per answer id.
    pub answer_id: Uuid,
    /// The name the platform should store the file under.
    pub filename: String,
    /// The code the candidate (or staff for them) entered: whose answer this is. Absent in
    /// records written before codes existed, and when the station asks for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate_ref: Option<String>,
}

/// Namespace of the answer ids booth derives from a file's content (see [`answer_id_for`]).
const ANSWER_NAMESPACE: Uuid = Uuid::from_u128(0x6b6f_6f74_6862_4c8a_9d55_7570_6c6f_6164);

/// A stable answer id for a recording that has none (a file an operator re-sends): the same
/// bytes always get the same id, so sending a file twice cannot make two answers.
pub fn answer_id_for(sha256_hex: &str) -> Uuid {
    Uuid::new_v5(&ANSWER_NAMESPACE, format!("sha256:{sha256_hex}").as_bytes())
}

/// `Upload-Metadata` from `key value` pairs; keys are ASCII without spaces or commas.
pub(crate) fn metadata_header<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    pairs
        .iter()
        .map(|(key, value)| {
            let (key, value) = (key.as_ref(), value.as_ref());
            debug_assert!(key.bytes().all(|b| b.is_ascii_graphic() && b != b','));
            if value.is_empty() {
                key.to_string()
            } else {
                format!("{key} {}", BASE64.encode(value))
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Decodes an `Upload-Metadata` header (for tests and for checking a server's echo).
pub fn parse_metadata_header(header: &str) -> Vec<(String, String)> {
    header
        .split(',')
        .filter_map(|pair| {
            let pair = pair.trim();
            if pair.is_empty() {
                return None;
            }
            let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
            let value = BASE64.decode(value.trim()).ok()?;
            Some((
                key.to_string(),
                String::from_utf8_lossy(&value).into_owned(),
            ))
        })
        .collect()
}

/// Size and lowercase hex sha256 of a file, read in blocks (recordings can be large).
pub fn hash_file(path: &Path) -> Result<(u64, String), UploadError> {
    let meta = std::fs::metadata(path).map_err(|e| FsError::new("cannot read", path, e))?;
    if !meta.is_file() {
        return Err(UploadError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let mut file = File::open(path).map_err(|e| FsError::new("cannot open", path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(FsError::new("cannot read", path, e).into()),
        };
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex(&hasher.finalize())))
}

/// Lowercase hex of a digest.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_through_the_header() {
        let header =
            metadata_header(&[("filename", "answer 1.mp4"), ("attempt", "2"), ("flag", "")]);
        assert_eq!(
            header, "filename YW5zd2VyIDEubXA0,attempt Mg==,flag",
            "values are base64, an empty value has no space"
        );
        assert_eq!(
            parse_metadata_header(&header),
            vec![
                ("filename".to_string(), "answer 1.mp4".to_string()),
                ("attempt".to_string(), "2".to_string()),
                ("flag".to_string(), String::new()),
            ]
        );
    }

    #[test]
    fn answer_ids_follow_the_content() {
        let a = answer_id_for("00aa");
        assert_eq!(a, answer_id_for("00aa"));
        assert_ne!(a, answer_id_for("00ab"));
        assert_eq!(a.get_version_num(), 5);
    }

    #[test]
    fn hashes_a_file() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("f");
        std::fs::write(&path, b"abc")?;
        let (size, sha) = hash_file(&path)?;
        assert_eq!(size, 3);
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(matches!(
            hash_file(dir.path()),
            Err(UploadError::NotAFile { .. })
        ));
        Ok(())
    }
}
