//! Putting a candidate's take into the outbox as one transaction: hash it, write its record as
//! *staged* (naming where the file still is), move the file into `outbox/answers/`, then mark
//! the record queued and wake the scheduler. Every step is durable before the next, so a crash
//! anywhere leaves either the take where it was with no record, or a staged record that the
//! next start finishes ([`finish_staged`]). A file in `outbox/answers/` that no record names
//! (left by an older booth) is set aside in `outbox/orphans/`, never deleted.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::UploadHandle;
use crate::fsutil::{self, FsError};
use crate::upload::error::UploadError;
use crate::upload::meta::{AnswerMeta, answer_id_for, hash_file};
use crate::upload::outbox::{ItemId, Outbox, Payload, Record, State};
use crate::upload::view::UploadEvent;

/// Where submitted answers wait, inside the outbox.
pub const ANSWERS_DIR: &str = "answers";
/// Where files found in `answers/` without a record are set aside.
pub const ORPHANS_DIR: &str = "orphans";

/// What a submitted take says about itself; its answer id comes from its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAnswer {
    pub interview_id: String,
    pub candidate_id: String,
    pub question_id: String,
    /// 1-based.
    pub attempt: u32,
    /// The name the platform stores it under (and the outbox keeps it under).
    pub filename: String,
    /// The candidate's code, when the station asks for one.
    pub candidate_ref: Option<String>,
}

impl UploadHandle {
    /// Moves the take at `from` into the outbox and queues it; returns its item id (the answer
    /// id, derived from the content) once the record is durable and the file is in place.
    /// Submitting the same content again (after a crash) returns the same item. On error
    /// the take is where it was and no item exists for it.
    pub async fn submit_file(&self, from: &Path, answer: NewAnswer) -> Result<ItemId, UploadError> {
        let (service, registry) = (&self.service, self.registry());
        let hashed = from.to_path_buf();
        let (size, sha256) = blocking(move || hash_file(&hashed)).await?;
        if size == 0 {
            return Err(UploadError::EmptyFile {
                path: from.to_path_buf(),
            });
        }
        let id = ItemId(answer_id_for(&sha256));
        let _one_at_a_time = service.enqueue.lock().await;
        if let Some(existing) = registry.outbox().load(id)? {
            return self.submitted_again(existing, &sha256).await;
        }
        let answers = registry.outbox().dir().join(ANSWERS_DIR);
        let to = free_name(&answers, &answer.filename);
        let meta = AnswerMeta {
            interview_id: answer.interview_id,
            candidate_id: answer.candidate_id,
            question_id: answer.question_id,
            attempt: answer.attempt,
            answer_id: id.0,
            filename: answer.filename,
            candidate_ref: answer.candidate_ref,
        };
        let mut rec = Record::new(id, Payload::Answer(meta), to.clone(), size, sha256);
        rec.staged_from = Some(from.to_path_buf());
        let (outbox, staged) = (registry.outbox().clone(), rec.clone());
        blocking(move || outbox.save(&staged)).await?;
        let (src, dst) = (from.to_path_buf(), to);
        if let Err(e) = blocking(move || move_durably(&src, &dst)).await {
            // Undo: the take stays where it was, reviewable; a record left behind by a failing
            // disk is finished (or dropped) by the next start.
            let (outbox, path) = (registry.outbox().clone(), registry.outbox().record_path(id));
            let removed = blocking(move || {
                std::fs::remove_file(&path)
                    .and_then(|()| fsutil::sync_dir(outbox.dir()).map_err(|e| e.source))
                    .map_err(|e| UploadError::from(FsError::new("cannot remove", &path, e)))
            })
            .await;
            if let Err(undo) = removed {
                tracing::warn!(item = %id, error = %undo, "a staged record stays for the next start");
            }
            return Err(e);
        }
        rec.staged_from = None;
        registry.save(&mut rec).await?;
        tracing::info!(item = %id, path = %rec.path.display(), "answer in the outbox");
        registry.emit(UploadEvent::Queued { id });
        service.wake.notify_one();
        Ok(id)
    }

    /// The same content was submitted before (a resubmission after a crash): finish what the
    /// first one left, and hand back its item.
    async fn submitted_again(&self, mut rec: Record, sha256: &str) -> Result<ItemId, UploadError> {
        let id = rec.id;
        if rec.sha256 != sha256 {
            return Err(UploadError::DuplicateAnswer {
                id: id.to_string(),
                existing: rec.path,
            });
        }
        if rec.staged_from.is_some() {
            let (outbox, copy) = (self.registry().outbox().clone(), rec.clone());
            rec = blocking(move || finish_one(&outbox, copy)).await?;
            self.registry().save(&mut rec).await?;
            self.service.wake.notify_one();
        }
        if matches!(rec.state, State::Refused | State::Abandoned) {
            self.retry(id).await?;
        }
        Ok(id)
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, UploadError> + Send + 'static,
) -> Result<T, UploadError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| UploadError::Client(format!("file task failed: {e}")))?
}

/// `dir/name`, or `dir/<stem>-2.<ext>` and so on if that is taken: an answer never replaces
/// another file.
fn free_name(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) => (s, format!(".{e}")),
        None => (name, String::new()),
    };
    (2..)
        .map(|n| dir.join(format!("{stem}-{n}{ext}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// Renames `from` to `to` (copying across file systems) and syncs both directories, so that
/// after a power cut the file is in exactly one of the two places.
fn move_durably(from: &Path, to: &Path) -> Result<(), UploadError> {
    fsutil::create_parent_dir(to)?;
    match fsutil::rename(from, to) {
        Ok(()) => {}
        Err(e) if e.source.raw_os_error() == Some(rustix::io::Errno::XDEV.raw_os_error()) => {
            fsutil::copy_durably(from, to)?;
            fsutil::remove_file(from)?;
        }
        Err(e) => return Err(e.into()),
    }
    fsutil::sync_dir(to.parent().unwrap_or(Path::new(".")))?;
    fsutil::sync_dir(from.parent().unwrap_or(Path::new(".")))?;
    Ok(())
}

/// Finishes one staged record: moves the file if it was not moved yet.
fn finish_one(outbox: &Outbox, mut rec: Record) -> Result<Record, UploadError> {
    let Some(from) = rec.staged_from.clone() else {
        return Ok(rec);
    };
    if !rec.path.exists() {
        if from.exists() {
            move_durably(&from, &rec.path)?;
        } else {
            // Neither here nor there: nothing can be delivered; staff see why.
            rec.state = State::Refused;
            rec.last_error = Some(format!(
                "the recording is missing (neither {} nor {})",
                from.display(),
                rec.path.display()
            ));
        }
    }
    rec.staged_from = None;
    outbox.save(&rec)?;
    Ok(rec)
}

/// At start: finishes every staged record (a crash in the middle of a submission) and sets
/// aside files in `answers/` that no record names. Returns the records as they are now.
pub(super) fn finish_staged(outbox: &Outbox, records: Vec<Record>) -> Vec<Record> {
    let records: Vec<Record> = records
        .into_iter()
        .map(|rec| {
            if rec.staged_from.is_none() {
                return rec;
            }
            let id = rec.id;
            match finish_one(outbox, rec.clone()) {
                Ok(done) => {
                    tracing::warn!(item = %id, state = %done.state, "finished a submission a stop interrupted");
                    done
                }
                Err(e) => {
                    tracing::error!(item = %id, error = %e, "cannot finish an interrupted submission");
                    rec
                }
            }
        })
        .collect();
    set_aside_orphans(outbox, &records);
    records
}

/// Files in `answers/` that no record names: moved to `orphans/` with a log line each.
fn set_aside_orphans(outbox: &Outbox, records: &[Record]) {
    let answers = outbox.dir().join(ANSWERS_DIR);
    let Ok(entries) = std::fs::read_dir(&answers) else {
        return;
    };
    let known: HashSet<&Path> = records.iter().map(|r| r.path.as_path()).collect();
    for entry in entries.flatten() {
        let path = entry.path();
        let absolute = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
        if known.contains(path.as_path()) || known.contains(absolute.as_path()) {
            continue;
        }
        if path.extension().is_some_and(|e| e == "tmp") {
            continue;
        }
        let orphans = outbox.dir().join(ORPHANS_DIR);
        let to = free_name(&orphans, &entry.file_name().to_string_lossy());
        match move_durably(&path, &to) {
            Ok(()) => tracing::warn!(
                from = %path.display(),
                to = %to.display(),
                "a file in the outbox had no record; set aside for staff"
            ),
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "cannot set aside an orphan")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::sync::mpsc;

    use super::*;
    use crate::config::Config;
    use crate::upload::UploadService;

    /// A station whose outbox delivers to a folder beside it.
    struct Bench {
        root: tempfile::TempDir,
        config: Config,
    }

    impl Bench {
        fn new() -> crate::TestResult<Bench> {
            let root = tempfile::tempdir()?;
            let text = format!(
                "[station]\ndata_dir = \"{}\"\n[upload]\nendpoint = \"dir:{}\"\n",
                root.path().join("data").display(),
                root.path().join("platform").display()
            );
            let config = Config::parse(&text, Path::new("/t/config.toml"))?;
            Ok(Bench { root, config })
        }

        fn outbox(&self) -> PathBuf {
            crate::upload::outbox_dir(&self.config)
        }

        /// A take in the session directory.
        fn take(&self, name: &str, content: &[u8]) -> crate::TestResult<PathBuf> {
            let dir = self.root.path().join("data/sessions/s1");
            std::fs::create_dir_all(&dir)?;
            let path = dir.join(name);
            std::fs::write(&path, content)?;
            Ok(path)
        }

        fn start(&self) -> crate::TestResult<(UploadHandle, mpsc::UnboundedReceiver<UploadEvent>)> {
            Ok(UploadService::start(&self.config, &self.outbox())?)
        }
    }

    /// Tests that install a fault plan (one per process) take turns.
    static FAULTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    fn answer(name: &str) -> NewAnswer {
        NewAnswer {
            interview_id: "iv".into(),
            candidate_id: "s1".into(),
            question_id: "q1".into(),
            attempt: 1,
            filename: name.into(),
            candidate_ref: None,
        }
    }

    async fn delivered(events: &mut mpsc::UnboundedReceiver<UploadEvent>, id: ItemId) -> bool {
        let wait = async {
            while let Some(e) = events.recv().await {
                if matches!(e, UploadEvent::Delivered { id: got, .. } if got == id) {
                    return true;
                }
            }
            false
        };
        tokio::time::timeout(Duration::from_secs(20), wait)
            .await
            .unwrap_or(false)
    }

    #[tokio::test]
    async fn a_take_moves_into_the_outbox_once_and_is_delivered() -> crate::TestResult {
        let bench = Bench::new()?;
        let (handle, mut events) = bench.start()?;
        let take = bench.take("q1-take1.mp4", b"an answer")?;
        let id = handle.submit_file(&take, answer("s1--q1--1.mp4")).await?;
        assert!(!take.exists(), "the take was copied, not moved");
        let rec = Outbox::at(&bench.outbox()).load(id)?.ok_or("no record")?;
        assert_eq!(rec.staged_from, None);
        assert_eq!(
            rec.path,
            bench.outbox().join(ANSWERS_DIR).join("s1--q1--1.mp4")
        );
        assert!(delivered(&mut events, id).await);
        // The same content again (a resubmission after a crash) is the same item.
        let again = bench.take("q1-take1.mp4", b"an answer")?;
        assert_eq!(
            handle.submit_file(&again, answer("s1--q1--1.mp4")).await?,
            id
        );
        assert_eq!(Outbox::at(&bench.outbox()).load_all().0.len(), 1);
        handle.shutdown().await;
        Ok(())
    }

    #[tokio::test]
    async fn a_move_that_fails_leaves_the_take_and_no_item() -> crate::TestResult {
        let _faults = FAULTS.lock().await;
        let bench = Bench::new()?;
        let (handle, _events) = bench.start()?;
        let take = bench.take("q1-take1.mp4", b"an answer")?;
        let answers = bench.outbox().join(ANSWERS_DIR);
        let plan: Arc<crate::fsutil::faults::Plan> = Arc::new(move |op, path: &Path| {
            (op == crate::fsutil::faults::Op::Rename && path.starts_with(&answers)).then_some(28) // ENOSPC
        });
        crate::fsutil::faults::install(Some(plan));
        let result = handle.submit_file(&take, answer("s1--q1--1.mp4")).await;
        crate::fsutil::faults::install(None);
        let Err(UploadError::Fs(e)) = result else {
            panic!("expected a file error, got {result:?}")
        };
        assert_eq!(e.source.raw_os_error(), Some(28));
        assert!(take.exists(), "the take must stay where it was");
        let (records, problems) = Outbox::at(&bench.outbox()).load_all();
        assert!(records.is_empty() && problems.is_empty(), "{records:?}");
        // Once the disk is back, the same take goes through.
        handle.submit_file(&take, answer("s1--q1--1.mp4")).await?;
        assert!(!take.exists());
        handle.shutdown().await;
        Ok(())
    }

    #[tokio::test]
    async fn a_start_finishes_an_interrupted_submission_and_sets_orphans_aside() -> crate::TestResult
    {
        let bench = Bench::new()?;
        let take = bench.take("q1-take1.mp4", b"an answer")?;
        // The station died after the staged record, before the move.
        let (size, sha) = crate::upload::hash_file(&take)?;
        let id = ItemId(answer_id_for(&sha));
        let outbox = Outbox::open(&bench.outbox())?;
        let to = bench.outbox().join(ANSWERS_DIR).join("s1--q1--1.mp4");
        let meta = AnswerMeta {
            interview_id: "iv".into(),
            candidate_id: "s1".into(),
            question_id: "q1".into(),
            attempt: 1,
            answer_id: id.0,
            filename: "s1--q1--1.mp4".into(),
            candidate_ref: None,
        };
        let mut rec = Record::new(id, Payload::Answer(meta), to.clone(), size, sha);
        rec.staged_from = Some(take.clone());
        outbox.save(&rec)?;
        // And an older booth left a file without a record.
        let orphan = bench.outbox().join(ANSWERS_DIR).join("lost.mp4");
        std::fs::create_dir_all(bench.outbox().join(ANSWERS_DIR))?;
        std::fs::write(&orphan, b"whose?")?;
        let (handle, mut events) = bench.start()?;
        assert!(!take.exists() && to.exists());
        assert!(!orphan.exists());
        assert_eq!(
            std::fs::read(bench.outbox().join(ORPHANS_DIR).join("lost.mp4"))?,
            b"whose?"
        );
        assert!(delivered(&mut events, id).await);
        handle.shutdown().await;
        Ok(())
    }

    #[tokio::test]
    async fn a_delivery_the_outbox_cannot_record_keeps_the_local_copy() -> crate::TestResult {
        // Found by the station simulation: the record's save failed, the copy was deleted
        // anyway, and the outbox then held an undelivered item without its file.
        let _faults = FAULTS.lock().await;
        let bench = Bench::new()?;
        let records = bench.outbox();
        let platform = bench.root.path().join("platform");
        let (platform_away, records_fail) = (platform.clone(), records.clone());
        // First the platform is away, so the answer waits in the outbox.
        crate::fsutil::faults::install(Some(Arc::new(move |_, path: &Path| {
            path.starts_with(&platform_away).then_some(5)
        })));
        let (handle, mut events) = bench.start()?;
        let take = bench.take("q1-take1.mp4", b"an answer")?;
        let id = handle.submit_file(&take, answer("s1--q1--1.mp4")).await?;
        // Then the platform is back, but the outbox's disk fails every rename.
        crate::fsutil::faults::install(Some(Arc::new(move |op, path: &Path| {
            (op == crate::fsutil::faults::Op::Rename
                && path.starts_with(&records_fail)
                && path.extension().is_some_and(|e| e == "json"))
            .then_some(5)
        })));
        let waited = tokio::time::timeout(Duration::from_secs(20), async {
            while let Some(e) = events.recv().await {
                if matches!(&e, UploadEvent::Waiting { id: got, reason, .. }
                    if *got == id && reason.contains(".json"))
                {
                    return true;
                }
            }
            false
        })
        .await;
        let kept = Outbox::at(&records).load(id)?.ok_or("no record")?;
        crate::fsutil::faults::install(None);
        assert_eq!(waited, Ok(true), "the failed save was not reported");
        assert!(platform.join(format!("{id}.mp4")).is_file());
        assert_ne!(kept.state, State::Delivered);
        assert!(
            kept.path.is_file(),
            "the local copy went before the outbox knew"
        );
        // Once the disk is well, the next try records it and only then removes the copy.
        assert!(delivered(&mut events, id).await);
        let done = Outbox::at(&records).load(id)?.ok_or("no record")?;
        assert_eq!(done.state, State::Delivered);
        assert!(!done.path.exists());
        handle.shutdown().await;
        Ok(())
    }
}
