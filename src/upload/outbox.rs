//! The outbox: a durable queue on disk, one JSON record per item (`<outbox>/<id>.json`),
//! replaced atomically (write, fsync, rename, fsync dir) on every state change, so a SIGKILL or
//! a power cut leaves each record either as it was or as it became, never half-written.
//!
//! The record is the truth about an item: the file, what it is, the upload URL once the server
//! made one (saved before any byte is sent, so a restart resumes instead of starting over), the
//! URLs given up for good, the bytes the server confirmed, attempts and the last error. One
//! process drains an outbox at a time ([`Outbox::lock`], an `flock` the kernel drops when the
//! process dies), since two would each create an upload for the same answer.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::UploadError;
use super::manifest::{AnswerDelivery, ManifestRequest};
use super::meta::AnswerMeta;
use crate::clock::now_ms;
use crate::fsutil::{self, FsError};

/// The record format this build writes; older or newer records are read as far as they go.
const FORMAT: u32 = 1;

/// An outbox item: the answer id for an answer, the session id for a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ItemId(pub Uuid);

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for ItemId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(ItemId)
    }
}

/// Where an item is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting its turn (or, for a manifest, for its answers to finish).
    Queued,
    /// Being sent, or waiting to resume after trouble.
    Uploading,
    /// The server reported the whole length (or the copy matched its sha256).
    Delivered,
    /// The server will never take it (too large, refused); the file is kept.
    Refused,
    /// The operator gave it up; the server's partial upload was terminated, the file is kept.
    Abandoned,
}

impl State {
    /// Nothing more will happen to it without the operator.
    pub fn is_final(self) -> bool {
        matches!(self, State::Delivered | State::Refused | State::Abandoned)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Uploading => "uploading",
            State::Delivered => "delivered",
            State::Refused => "refused",
            State::Abandoned => "abandoned",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an item carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payload {
    Answer(AnswerMeta),
    /// Built when every answer it lists has finished, so it can name their upload URLs.
    Manifest(ManifestRequest),
}

/// One outbox item as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub format: u32,
    pub id: ItemId,
    pub payload: Payload,
    /// The file to deliver (for a manifest: where it is written once built).
    pub path: PathBuf,
    /// Bytes; for a manifest 0 until it is built.
    pub size: u64,
    /// Lowercase hex sha256 of the whole file; empty for a manifest until it is built.
    pub sha256: String,
    pub content_type: String,
    pub state: State,
    /// The upload (tus) or the delivered file (dir); saved before any byte is sent to it.
    pub url: Option<String>,
    /// Uploads given up for good (expired, deleted): never sent to again.
    #[serde(default)]
    pub retired_urls: Vec<String>,
    /// Bytes the server has confirmed.
    pub confirmed: u64,
    /// Failed tries so far.
    pub attempts: u32,
    pub last_error: Option<String>,
    pub queued_at_ms: u64,
    pub updated_at_ms: u64,
    pub delivered_at_ms: Option<u64>,
    /// The local copy was removed after delivery (retention = delete).
    #[serde(default)]
    pub local_deleted: bool,
    /// Set while a submitted take is being moved into the outbox: where it still is. Nothing
    /// delivers a staged item; the next start finishes an interrupted move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staged_from: Option<PathBuf>,
}

impl Record {
    /// A new queued item.
    pub fn new(id: ItemId, payload: Payload, path: PathBuf, size: u64, sha256: String) -> Record {
        let content_type = match payload {
            Payload::Answer(_) => super::meta::MP4_TYPE,
            Payload::Manifest(_) => super::meta::JSON_TYPE,
        };
        let now = now_ms();
        Record {
            format: FORMAT,
            id,
            payload,
            path,
            size,
            sha256,
            content_type: content_type.to_string(),
            state: State::Queued,
            url: None,
            retired_urls: Vec::new(),
            confirmed: 0,
            attempts: 0,
            last_error: None,
            queued_at_ms: now,
            updated_at_ms: now,
            delivered_at_ms: None,
            local_deleted: false,
            staged_from: None,
        }
    }

    pub fn answer(&self) -> Option<&AnswerMeta> {
        match &self.payload {
            Payload::Answer(a) => Some(a),
            Payload::Manifest(_) => None,
        }
    }

    /// The name the platform stores the file under.
    /// What the session manifest says about this answer.
    pub fn delivery(&self) -> AnswerDelivery {
        AnswerDelivery {
            state: self.state.as_str(),
            size: self.size,
            sha256: self.sha256.clone(),
            upload_url: self.url.clone().filter(|_| self.state == State::Delivered),
            queued_at_ms: self.queued_at_ms,
            delivered_at_ms: self.delivered_at_ms,
        }
    }

    pub fn filename(&self) -> String {
        match &self.payload {
            Payload::Answer(a) => a.filename.clone(),
            Payload::Manifest(m) => format!("manifest-{}.json", m.session_id),
        }
    }
}

/// The outbox directory and its records.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

/// Holds the outbox for this process until dropped (or until the process dies).
#[derive(Debug)]
pub struct OutboxLock {
    _file: File,
}

impl Outbox {
    /// Opens (creating, 0700) an outbox directory.
    pub fn open(dir: &Path) -> Result<Outbox, UploadError> {
        fsutil::create_private_dir(dir)?;
        fsutil::create_private_dir(&dir.join("manifests"))?;
        Ok(Outbox {
            dir: dir.to_path_buf(),
        })
    }

    /// Opens an outbox for reading only: nothing is created.
    pub fn at(dir: &Path) -> Outbox {
        Outbox {
            dir: dir.to_path_buf(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where built manifests are written.
    pub fn manifests_dir(&self) -> PathBuf {
        self.dir.join("manifests")
    }

    /// Takes the outbox for this process, or says which process has it.
    pub fn lock(&self) -> Result<OutboxLock, UploadError> {
        let path = self.dir.join(".lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(fsutil::FILE_MODE)
            .open(&path)
            .map_err(|e| FsError::new("cannot open", &path, e))?;
        if rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err() {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(UploadError::OutboxBusy {
                dir: self.dir.clone(),
                holder: text.trim().parse().ok(),
            });
        }
        // The pid is only for the message another process prints; the lock is the flock.
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| write!(file, "{}", std::process::id()));
        Ok(OutboxLock { _file: file })
    }

    pub fn record_path(&self, id: ItemId) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Writes a record atomically.
    pub fn save(&self, record: &Record) -> Result<(), UploadError> {
        let path = self.record_path(record.id);
        let json = serde_json::to_vec_pretty(record).map_err(|e| UploadError::BadRecord {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        fsutil::write_atomic(&path, &json)?;
        Ok(())
    }

    /// One record, if the item exists.
    pub fn load(&self, id: ItemId) -> Result<Option<Record>, UploadError> {
        let path = self.record_path(id);
        match std::fs::read(&path) {
            Ok(bytes) => parse(&path, &bytes).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(FsError::new("cannot read", &path, e).into()),
        }
    }

    /// Forgets delivered items whose local copy is gone and whose delivery is older than
    /// `keep`: a station's outbox would otherwise grow by a record per answer for ever. Only
    /// records are removed, never a recording; anything not yet delivered is kept whatever
    /// its age. Returns the records that remain.
    pub fn prune_delivered(
        &self,
        records: Vec<Record>,
        now_ms: u64,
        keep: Duration,
    ) -> Vec<Record> {
        let keep_ms = u64::try_from(keep.as_millis()).unwrap_or(u64::MAX);
        records
            .into_iter()
            .filter(|rec| {
                let old = rec
                    .delivered_at_ms
                    .is_some_and(|at| now_ms.saturating_sub(at) > keep_ms);
                if !(rec.state == State::Delivered && rec.local_deleted && old) {
                    return true;
                }
                let path = self.record_path(rec.id);
                match std::fs::remove_file(&path) {
                    Ok(()) => {
                        tracing::info!(item = %rec.id, "forgot a long-delivered item");
                        false
                    }
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "cannot remove an old outbox record");
                        true
                    }
                }
            })
            .collect()
    }

    /// Every record, oldest first, and the files that could not be read as records. A missing
    /// outbox directory is an empty outbox.
    pub fn load_all(&self) -> (Vec<Record>, Vec<UploadError>) {
        let mut records = Vec::new();
        let mut problems = Vec::new();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (records, problems),
            Err(e) => {
                problems.push(FsError::new("cannot list", &self.dir, e).into());
                return (records, problems);
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            // Only `<uuid>.json`; `.json.tmp` leftovers of an interrupted write are ignored
            // (the record they were replacing is still whole).
            let is_record = path.extension().is_some_and(|e| e == "json")
                && path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .is_some_and(|s| Uuid::parse_str(s).is_ok());
            if !is_record {
                continue;
            }
            match std::fs::read(&path) {
                Ok(bytes) => match parse(&path, &bytes) {
                    Ok(r) => records.push(r),
                    Err(e) => problems.push(e),
                },
                Err(e) => problems.push(FsError::new("cannot read", &path, e).into()),
            }
        }
        records.sort_by_key(|r| (r.queued_at_ms, r.id));
        (records, problems)
    }
}

fn parse(path: &Path, bytes: &[u8]) -> Result<Record, UploadError> {
    serde_json::from_slice(bytes).map_err(|e| UploadError::BadRecord {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer() -> Payload {
        Payload::Answer(AnswerMeta {
            interview_id: "iv".into(),
            candidate_id: "c1".into(),
            question_id: "q1".into(),
            attempt: 1,
            answer_id: Uuid::new_v4(),
            filename: "q1.mp4".into(),
            candidate_ref: None,
        })
    }

    #[test]
    fn records_round_trip_and_list_oldest_first() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let outbox = Outbox::open(&dir.path().join("outbox"))?;
        let mut first = Record::new(
            ItemId(Uuid::new_v4()),
            answer(),
            "/a.mp4".into(),
            10,
            "ab".into(),
        );
        first.queued_at_ms = 1;
        first.url = Some("https://x/files/1".into());
        let second = Record::new(
            ItemId(Uuid::new_v4()),
            answer(),
            "/b.mp4".into(),
            20,
            "cd".into(),
        );
        outbox.save(&second)?;
        outbox.save(&first)?;
        std::fs::write(outbox.dir().join("junk.json.tmp"), b"{")?;
        assert_eq!(outbox.load(first.id)?.as_ref(), Some(&first));
        let (all, problems) = outbox.load_all();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(all, vec![first, second]);
        Ok(())
    }

    #[test]
    fn the_manifest_hears_of_an_upload_url_only_once_delivered() {
        let mut rec = Record::new(
            ItemId(Uuid::new_v4()),
            answer(),
            "/a.mp4".into(),
            10,
            "ab".into(),
        );
        rec.url = Some("https://x/files/1".into());
        rec.state = State::Uploading;
        let sending = rec.delivery();
        assert_eq!((sending.state, sending.upload_url), ("uploading", None));
        rec.state = State::Delivered;
        rec.delivered_at_ms = Some(rec.queued_at_ms + 5);
        let done = rec.delivery();
        assert_eq!(done.state, "delivered");
        assert_eq!(done.upload_url.as_deref(), Some("https://x/files/1"));
        assert_eq!((done.size, done.sha256.as_str()), (10, "ab"));
        assert_eq!(done.delivered_at_ms, Some(rec.queued_at_ms + 5));
    }

    #[test]
    fn only_long_delivered_records_without_a_local_copy_are_forgotten() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let outbox = Outbox::open(&dir.path().join("outbox"))?;
        let day = 86_400_000;
        let now = 100 * day;
        let make =
            |state: State, delivered: Option<u64>, deleted: bool| -> crate::TestResult<Record> {
                let mut r = Record::new(
                    ItemId(Uuid::new_v4()),
                    answer(),
                    "/a.mp4".into(),
                    10,
                    "ab".into(),
                );
                r.state = state;
                r.delivered_at_ms = delivered;
                r.local_deleted = deleted;
                outbox.save(&r)?;
                Ok(r)
            };
        let old = make(State::Delivered, Some(now - 40 * day), true)?;
        let recent = make(State::Delivered, Some(now - 2 * day), true)?;
        let old_but_kept_locally = make(State::Delivered, Some(now - 40 * day), false)?;
        let waiting = make(State::Uploading, None, false)?;
        let (all, _) = outbox.load_all();
        let left = outbox.prune_delivered(all, now, Duration::from_secs(30 * 86_400));
        let ids: Vec<ItemId> = left.iter().map(|r| r.id).collect();
        assert!(!ids.contains(&old.id));
        assert!(!outbox.record_path(old.id).exists());
        for kept in [&recent, &old_but_kept_locally, &waiting] {
            assert!(ids.contains(&kept.id));
            assert!(outbox.record_path(kept.id).exists());
        }
        Ok(())
    }

    #[test]
    fn a_broken_record_is_reported_with_its_path() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let outbox = Outbox::open(dir.path())?;
        let path = outbox.record_path(ItemId(Uuid::new_v4()));
        std::fs::write(&path, b"{\"format\": 1")?;
        let (all, problems) = outbox.load_all();
        assert!(all.is_empty());
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0]
                .to_string()
                .contains(&path.display().to_string())
        );
        Ok(())
    }

    #[test]
    fn a_second_lock_is_refused_and_names_the_holder() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let outbox = Outbox::open(dir.path())?;
        let held = outbox.lock()?;
        match outbox.lock() {
            Err(UploadError::OutboxBusy { holder, .. }) => {
                assert_eq!(holder, Some(std::process::id()))
            }
            other => panic!("expected OutboxBusy, got {other:?}"),
        }
        drop(held);
        outbox.lock()?;
        Ok(())
    }
}
