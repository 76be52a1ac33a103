//! The `dir:<path>` delivery target (the demo, and stations with a mounted share): an atomic
//! copy checked against the recording's sha256. The copy is written under a temporary name in
//! the target directory, fsynced, renamed into place and the directory fsynced, so whoever reads
//! the directory sees either no file or the whole file, never a partial one; then it is read
//! back and hashed. Names come from the item id, so a delivery interrupted by a crash and done
//! again replaces the same file instead of adding a second one.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::error::UploadError;
use super::meta::{JSON_TYPE, hex};
use super::outbox::Record;
use crate::fsutil::{self, FsError};

/// The delivered file's name in the target directory.
pub fn target_name(rec: &Record) -> String {
    let ext = if rec.content_type == JSON_TYPE {
        "json"
    } else {
        "mp4"
    };
    format!("{}.{ext}", rec.id)
}

/// Copies `rec`'s file into `dir` and writes `<id>.meta.json` beside it (its metadata);
/// returns the delivered file's path. Blocking: run it off the async threads.
pub fn deliver(
    dir: &Path,
    rec: &Record,
    metadata: &serde_json::Value,
) -> Result<PathBuf, UploadError> {
    fsutil::create_private_dir(dir)?;
    let target = dir.join(target_name(rec));
    let sidecar = dir.join(format!("{}.meta.json", rec.id));
    // Delivered before a crash, but not yet marked so in the outbox: nothing to copy again.
    let already = target.exists() && sha256_of(&target).ok().as_deref() == Some(&rec.sha256);
    if !already {
        let tmp = dir.join(format!(".{}.part", target_name(rec)));
        let copied = copy_hashing(&rec.path, &tmp);
        let found = match copied {
            Ok(sha) => sha,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        if found != rec.sha256 {
            let _ = std::fs::remove_file(&tmp);
            return Err(UploadError::FileChanged {
                path: rec.path.clone(),
                detail: format!("sha256 is now {found}, was {}", rec.sha256),
            });
        }
        fsutil::rename_durable(&tmp, &target)?;
        // Read back what landed: a share can fail in ways a local disk does not.
        let landed = sha256_of(&target)?;
        if landed != rec.sha256 {
            let _ = std::fs::remove_file(&target);
            return Err(UploadError::CopyMismatch {
                path: target,
                expected: rec.sha256.clone(),
                found: landed,
            });
        }
    }
    let json = serde_json::to_vec_pretty(metadata).map_err(|e| UploadError::BadRecord {
        path: sidecar.clone(),
        detail: e.to_string(),
    })?;
    fsutil::write_atomic(&sidecar, &json)?;
    Ok(target)
}

/// Copies `from` to a new private file `to` (fsynced), returning the sha256 of what was read.
fn copy_hashing(from: &Path, to: &Path) -> Result<String, UploadError> {
    let mut src = File::open(from).map_err(|e| FsError::new("cannot open", from, e))?;
    let mut dst = fsutil::create_private_file(to)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(FsError::new("cannot read", from, e).into()),
        };
        hasher.update(&buf[..n]);
        dst.write_all(&buf[..n])
            .map_err(|e| FsError::new("cannot write", to, e))?;
    }
    dst.sync_all()
        .map_err(|e| FsError::new("cannot sync", to, e))?;
    Ok(hex(&hasher.finalize()))
}

fn sha256_of(path: &Path) -> Result<String, UploadError> {
    super::meta::hash_file(path).map(|(_, sha)| sha)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::meta::{AnswerMeta, hash_file};
    use crate::upload::outbox::{ItemId, Payload};
    use uuid::Uuid;

    fn record(path: &Path) -> crate::TestResult<Record> {
        let (size, sha) = hash_file(path)?;
        let id = Uuid::new_v4();
        Ok(Record::new(
            ItemId(id),
            Payload::Answer(AnswerMeta {
                interview_id: "iv".into(),
                candidate_id: "c".into(),
                question_id: "q".into(),
                attempt: 1,
                answer_id: id,
                filename: "a.mp4".into(),
                candidate_ref: None,
            }),
            path.to_path_buf(),
            size,
            sha,
        ))
    }

    #[test]
    fn copies_atomically_and_replaces_a_stale_partial_copy() -> crate::TestResult {
        let root = tempfile::tempdir()?;
        let src = root.path().join("a.mp4");
        std::fs::write(&src, vec![7u8; 3 << 20])?;
        let rec = record(&src)?;
        let out = root.path().join("share");
        std::fs::create_dir(&out)?;
        // What a crash in the middle of an earlier copy leaves behind.
        let partial = out.join(format!(".{}.part", target_name(&rec)));
        std::fs::write(&partial, b"half")?;
        let meta = serde_json::json!({"answer_id": rec.id.to_string()});
        let target = deliver(&out, &rec, &meta)?;
        assert_eq!(std::fs::read(&target)?, std::fs::read(&src)?);
        assert!(!partial.exists());
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&out)? {
            names.push(
                entry?
                    .file_name()
                    .into_string()
                    .map_err(|n| format!("{n:?}"))?,
            );
        }
        assert_eq!(names.len(), 2, "{names:?}");
        // Delivering again is harmless and leaves one copy.
        assert_eq!(deliver(&out, &rec, &meta)?, target);
        Ok(())
    }

    #[test]
    fn a_changed_source_is_not_delivered() -> crate::TestResult {
        let root = tempfile::tempdir()?;
        let src = root.path().join("a.mp4");
        std::fs::write(&src, b"original")?;
        let rec = record(&src)?;
        std::fs::write(&src, b"tampered")?;
        let out = root.path().join("share");
        let err = deliver(&out, &rec, &serde_json::json!({})).unwrap_err();
        assert!(matches!(err, UploadError::FileChanged { .. }), "{err}");
        assert!(!out.join(target_name(&rec)).exists());
        assert_eq!(std::fs::read_dir(&out)?.count(), 0);
        Ok(())
    }
}
