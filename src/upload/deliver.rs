//! One item's way to the platform: the loop that turns failures into the right next step.
//!
//! tus: discover the server once (OPTIONS); create the upload and save its URL before sending
//! a byte; before any (re)send ask the server's offset (HEAD) and PATCH chunk after chunk from
//! there (sized by [`ChunkSizer`]); the item is delivered only when the server reports
//! offset == length (its answer to the last PATCH, or HEAD). 409 and 460 → HEAD and go on; 404/410 → retire the URL for good (it is never sent
//! to again, and terminated where it still exists) and create a new upload; a PATCH refused
//! with 413 while larger than the configured chunk → HEAD, and only configured chunks from
//! then on; 412/413 and other refusals → refused, file kept;
//! network trouble, stalls and 5xx → wait with exponential backoff and jitter (reset whenever
//! the server confirms new bytes), then HEAD. A PATCH answered as a success that moved nothing
//! is trouble too: HEAD at once, and unless the server has more than it said, back off. Trouble
//! that only the configuration can fix (no token, a refused token, no creation URL, a 413 to
//! the configured chunk) keeps the item queued, is reported as the endpoint's health, and is
//! retried at the longest delay. Cancellation is only observed around network calls and
//! sleeps, so a record save is never cut short and never lands after the loop ends.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::Url;
use tokio_util::sync::CancellationToken;

use super::chunks::ChunkSizer;
use super::courier::{Courier, Target};
use super::dir;
use super::error::{UploadError, Verdict};
use super::health::Evidence;
use super::meta::metadata_header;
use super::outbox::{ItemId, Payload, Record, State};
use super::tus::TusClient;
use super::view::UploadEvent;
use crate::clock::now_ms;
use crate::config::Retention;
use crate::fsutil::FsError;

/// How many 409/460/404/410 in a row, without the server taking bytes, are answered at once
/// (HEAD, or a new upload) before backing off.
const QUICK_STEPS: u32 = 3;
/// A server's Retry-After is honoured up to this long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);
/// Confirmed bytes are saved at most this often while sending (HEAD is the truth anyway).
const SAVE_EVERY: Duration = Duration::from_secs(1);

/// Runs `rec` until it is delivered, refused, or `cancel` fires (then it returns at once,
/// leaving the record as last saved).
pub(super) async fn run(courier: &Courier, mut rec: Record, cancel: &CancellationToken) {
    let mut backoff = new_backoff(courier);
    let mut quick = 0;
    let mut sizer = ChunkSizer::new(courier.chunk, courier.max_chunk);
    loop {
        let mut progressed = false;
        let result = attempt(courier, &mut rec, cancel, &mut sizer, &mut progressed).await;
        if progressed {
            backoff = new_backoff(courier);
            quick = 0;
        }
        let err = match result {
            Ok(url) => match finish(courier, &mut rec, url).await {
                Ok(()) => return,
                Err(e) => e,
            },
            Err(UploadError::Stopped) => return,
            Err(e) => e,
        };
        let verdict = err.verdict();
        tracing::info!(item = %rec.id, error = %err, ?verdict, "upload step failed");
        let misconfigured = match err.endpoint_problem() {
            Some(problem) => {
                courier.health.trouble(problem).await;
                true
            }
            None => false,
        };
        // 409, 460 and 404/410 are answered at once, but never in a tight loop: a server
        // that keeps saying so without taking bytes gets the backoff like any other trouble.
        let quick_step = matches!(verdict, Verdict::Rehead | Verdict::Recreate);
        if quick_step {
            quick += 1;
        }
        match verdict {
            Verdict::Refuse => return refuse(courier, rec, &err).await,
            Verdict::Recreate => {
                retire(courier, &mut rec, cancel).await;
                save(courier, &mut rec).await;
            }
            Verdict::Rehead | Verdict::Retry => {}
        }
        if verdict == Verdict::Retry || (quick_step && quick > QUICK_STEPS) {
            courier.forget_capabilities().await;
            rec.attempts += 1;
            rec.last_error = Some(err.to_string());
            save(courier, &mut rec).await;
            let mut delay = backoff.next().unwrap_or(courier.tuning.retry_max);
            if misconfigured {
                // Nothing changes until someone fixes the configuration: ask rarely.
                delay = courier.tuning.retry_max;
            }
            if let Some(asked) = err.retry_after() {
                delay = delay.max(asked.min(MAX_RETRY_AFTER));
            }
            courier.registry.waiting(rec.id, err.to_string(), delay);
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = cancel.cancelled() => return,
            }
        }
    }
}

fn new_backoff(courier: &Courier) -> impl Iterator<Item = Duration> + use<> {
    ExponentialBuilder::default()
        .with_min_delay(courier.tuning.retry_min)
        .with_max_delay(courier.tuning.retry_max)
        .with_jitter()
        .without_max_times()
        .build()
}

/// Saves, logging a failure: the caller goes on, since the server's offset (HEAD) and the
/// record's URL (saved strictly before sending) keep the item safe either way.
async fn save(courier: &Courier, rec: &mut Record) {
    if let Err(e) = courier.registry.save(rec).await {
        tracing::warn!(item = %rec.id, error = %e, "cannot save the outbox record");
    }
}

/// Runs a network step unless the service or the item is cancelled first.
async fn net<T>(
    cancel: &CancellationToken,
    fut: impl Future<Output = Result<T, UploadError>>,
) -> Result<T, UploadError> {
    tokio::select! {
        r = fut => r,
        _ = cancel.cancelled() => Err(UploadError::Stopped),
    }
}

/// One try from wherever the item is to delivered; returns the delivered URL or path.
async fn attempt(
    courier: &Courier,
    rec: &mut Record,
    cancel: &CancellationToken,
    sizer: &mut ChunkSizer,
    progressed: &mut bool,
) -> Result<String, UploadError> {
    if matches!(rec.payload, Payload::Manifest(_)) && rec.sha256.is_empty() {
        build_manifest(courier, rec).await?;
    }
    check_file(rec)?;
    match &courier.target {
        Target::Dir(dir) => {
            let (dir, copy) = (dir.clone(), rec.clone());
            let metadata = metadata_json(courier, rec);
            courier.registry.progress(rec.id, 0, rec.size);
            let task = tokio::task::spawn_blocking(move || dir::deliver(&dir, &copy, &metadata));
            let path = task
                .await
                .map_err(|e| UploadError::Client(format!("copy task failed: {e}")))??;
            *progressed = true;
            Ok(path.display().to_string())
        }
        Target::Tus(client) => attempt_tus(courier, client, rec, cancel, sizer, progressed).await,
    }
}

async fn attempt_tus(
    courier: &Courier,
    client: &TusClient,
    rec: &mut Record,
    cancel: &CancellationToken,
    sizer: &mut ChunkSizer,
    progressed: &mut bool,
) -> Result<String, UploadError> {
    let caps = net(cancel, courier.capabilities(client)).await?;
    if let Some(max) = caps.max_size
        && rec.size > max
    {
        return Err(UploadError::TooLarge {
            path: rec.path.clone(),
            size: rec.size,
            max,
        });
    }
    let (url, mut offset) = resume_or_create(courier, client, rec, cancel).await?;
    if rec.state != State::Uploading || rec.confirmed != offset {
        rec.state = State::Uploading;
        rec.confirmed = offset;
        save(courier, rec).await;
    }
    courier.registry.progress(rec.id, offset, rec.size);
    let mut saved_at = tokio::time::Instant::now();
    // Every try starts with the configured chunk: after trouble the link may be slower.
    sizer.restart();
    while offset < rec.size {
        let len = sizer.next(rec.size - offset);
        let (id, size, base) = (rec.id, rec.size, offset);
        let report = move |n: u64| courier.registry.progress(id, base + n, size);
        let sha1 = caps.sha1_checksums();
        let started = tokio::time::Instant::now();
        let sent = net(
            cancel,
            client.patch(&url, &rec.path, offset, len, sha1, &report),
        )
        .await;
        let chunk = Chunk {
            offset,
            len,
            took: started.elapsed(),
        };
        let new = settle_patch(client, &url, cancel, sizer, chunk, sent).await?;
        if new > offset {
            *progressed = true;
            courier.registry.clear_waiting(rec.id);
            courier.health.works(Evidence::BytesTaken).await;
        }
        offset = new;
        rec.confirmed = offset;
        if saved_at.elapsed() >= SAVE_EVERY {
            save(courier, rec).await;
            saved_at = tokio::time::Instant::now();
        }
    }
    // Delivered only on the server's word: the offset its answer to the last PATCH gave (a
    // HEAD after it would say the same one round trip later), or its HEAD when nothing was
    // left to send.
    if offset != rec.size {
        return Err(UploadError::Protocol {
            method: "PATCH",
            url: url.to_string(),
            detail: format!("offset {offset} of {} after the last chunk", rec.size),
        });
    }
    Ok(url.to_string())
}

/// Where this try starts: the upload from an earlier run at the server's offset, if it is
/// still ours, else a new upload (its URL saved before any byte is sent) at 0.
async fn resume_or_create(
    courier: &Courier,
    client: &TusClient,
    rec: &mut Record,
    cancel: &CancellationToken,
) -> Result<(Url, u64), UploadError> {
    // An upload from an earlier run: resume from the server's offset, if it is still ours.
    let mut resume: Option<(Url, u64)> = None;
    if let Some(stored) = rec.url.clone() {
        match client.upload_url(&stored) {
            Ok(url) => {
                let st = net(cancel, client.head(&url)).await?;
                if st.length.is_some_and(|l| l != rec.size) || st.offset > rec.size {
                    tracing::warn!(item = %rec.id, url = %url, ?st, "the upload does not match the file");
                    retire(courier, rec, cancel).await;
                } else {
                    resume = Some((url, st.offset));
                }
            }
            // The endpoint changed since: start again on the configured one.
            Err(_) => retire(courier, rec, cancel).await,
        }
    }
    match resume {
        Some(r) => Ok(r),
        None => {
            let metadata = metadata_header(&metadata_pairs(courier, rec));
            let url = net(cancel, client.create(rec.size, &metadata)).await?;
            tracing::info!(item = %rec.id, url = %url, "created upload");
            // Saved before any byte is sent: a restart resumes this upload, never a second one.
            rec.url = Some(url.to_string());
            rec.confirmed = 0;
            rec.state = State::Uploading;
            courier.registry.save(rec).await?;
            courier.health.works(Evidence::Created).await;
            Ok((url, 0))
        }
    }
}

/// One PATCH as sent.
struct Chunk {
    offset: u64,
    len: u64,
    took: Duration,
}

/// What a PATCH came to: the server's new offset, or the trouble to handle.
async fn settle_patch(
    client: &TusClient,
    url: &Url,
    cancel: &CancellationToken,
    sizer: &mut ChunkSizer,
    chunk: Chunk,
    sent: Result<u64, UploadError>,
) -> Result<u64, UploadError> {
    match sent {
        Err(UploadError::Status { status: 413, .. }) if sizer.refused_as_too_large(chunk.len) => {
            tracing::warn!(url = %url, bytes = chunk.len, "a chunk was refused as too large (413); sending the configured chunk size from now on");
            Ok(net(cancel, client.head(url)).await?.offset)
        }
        // Already the configured size: smaller chunks are the operator's call, not ours.
        Err(UploadError::Status { status: 413, .. }) => Err(UploadError::ChunkRefused {
            url: url.to_string(),
            bytes: chunk.len,
        }),
        Err(e) => {
            if matches!(e, UploadError::Network { .. } | UploadError::Stalled { .. }) {
                sizer.failed(chunk.len);
            }
            Err(e)
        }
        Ok(new) if new > chunk.offset => {
            sizer.sent(new - chunk.offset, chunk.took);
            Ok(new)
        }
        Ok(_) => {
            // A success that kept nothing. Resending at once would loop as fast as the server
            // answers; the server's own offset decides whether anything moved after all.
            let st = net(cancel, client.head(url)).await?;
            if st.offset > chunk.offset {
                Ok(st.offset)
            } else {
                Err(UploadError::NoProgress {
                    url: url.to_string(),
                    offset: chunk.offset,
                })
            }
        }
    }
}

/// Gives the current upload URL up for good: it is never sent to again, and is terminated
/// where the server still has it, so it can never be completed alongside its replacement.
async fn retire(courier: &Courier, rec: &mut Record, cancel: &CancellationToken) {
    let Some(old) = rec.url.take() else {
        return;
    };
    rec.retired_urls.push(old.clone());
    rec.confirmed = 0;
    if let Target::Tus(client) = &courier.target
        && let Ok(url) = client.upload_url(&old)
        && let Err(e) = net(cancel, client.terminate(&url)).await
    {
        tracing::info!(item = %rec.id, url = %old, error = %e, "could not terminate a retired upload");
    }
}

/// Marks the item delivered, durably, and only then removes the local copy. If the record
/// cannot be saved (a failing disk) the file stays and the error goes back to the delivery
/// loop: the next try finds the item complete on the server and marks it then.
async fn finish(courier: &Courier, rec: &mut Record, url: String) -> Result<(), UploadError> {
    courier.health.works(Evidence::BytesTaken).await;
    let before = rec.clone();
    rec.state = State::Delivered;
    rec.url = Some(url.clone());
    rec.confirmed = rec.size;
    rec.delivered_at_ms = Some(now_ms());
    rec.last_error = None;
    if let Err(e) = courier.registry.save(rec).await {
        *rec = before;
        tracing::warn!(item = %rec.id, error = %e, "delivered, but the outbox cannot record it yet");
        return Err(e);
    }
    tracing::info!(item = %rec.id, url = %url, "delivered");
    if courier.retention == Retention::Delete {
        delete_local(courier, rec).await;
    }
    courier.registry.progress(rec.id, rec.size, rec.size);
    courier
        .registry
        .emit(UploadEvent::Delivered { id: rec.id, url });
    Ok(())
}

/// Removes the local copy of a delivered item (a file already gone is fine).
pub(super) async fn delete_local(courier: &Courier, rec: &mut Record) {
    match std::fs::remove_file(&rec.path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::warn!(item = %rec.id, error = %FsError::new("cannot delete", &rec.path, e), "delivered file kept");
            return;
        }
    }
    rec.local_deleted = true;
    save(courier, rec).await;
}

async fn refuse(courier: &Courier, mut rec: Record, err: &UploadError) {
    let reason = err.to_string();
    tracing::warn!(item = %rec.id, reason = %reason, "refused for good; the file is kept");
    rec.state = State::Refused;
    rec.last_error = Some(reason.clone());
    save(courier, &mut rec).await;
    courier
        .registry
        .emit(UploadEvent::Refused { id: rec.id, reason });
}

/// The file must still be the one queued (same size; the sha256 is checked by the platform
/// and by the dir target against the whole copy).
fn check_file(rec: &Record) -> Result<(), UploadError> {
    let meta =
        std::fs::metadata(&rec.path).map_err(|e| FsError::new("cannot read", &rec.path, e))?;
    if meta.len() != rec.size {
        return Err(UploadError::FileChanged {
            path: rec.path.clone(),
            detail: format!("{} bytes now, {} when queued", meta.len(), rec.size),
        });
    }
    Ok(())
}

/// Everything said about the file, as `Upload-Metadata` pairs (tus) and the sidecar (dir).
fn metadata_pairs(courier: &Courier, rec: &Record) -> Vec<(&'static str, String)> {
    let mut pairs = vec![("station_id", courier.station_id.clone())];
    match &rec.payload {
        Payload::Answer(a) => pairs.extend([
            ("kind", "answer".to_string()),
            ("interview_id", a.interview_id.clone()),
            ("candidate_id", a.candidate_id.clone()),
            ("question_id", a.question_id.clone()),
            ("attempt", a.attempt.to_string()),
            ("answer_id", a.answer_id.to_string()),
        ]),
        Payload::Manifest(m) => pairs.extend([
            ("kind", "manifest".to_string()),
            ("interview_id", m.interview_id.clone()),
            ("candidate_id", m.candidate_id.clone()),
            ("session_id", m.session_id.to_string()),
            ("receipt_code", crate::names::receipt_code(m.session_id)),
        ]),
    }
    // Whose answers these are: the candidate's code, when the station asked for one.
    let candidate_ref = match &rec.payload {
        Payload::Answer(a) => &a.candidate_ref,
        Payload::Manifest(m) => &m.candidate_ref,
    };
    if let Some(code) = candidate_ref {
        pairs.push(("candidate_ref", code.clone()));
    }
    pairs.extend([
        ("filename", rec.filename()),
        // `filetype` is what tus-js-client and many servers read; `content_type` says it plainly.
        ("filetype", rec.content_type.clone()),
        ("content_type", rec.content_type.clone()),
        ("sha256", rec.sha256.clone()),
    ]);
    pairs
}

fn metadata_json(courier: &Courier, rec: &Record) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (k, v) in metadata_pairs(courier, rec) {
        map.insert(k.to_string(), serde_json::Value::String(v));
    }
    map.insert("size".into(), rec.size.into());
    serde_json::Value::Object(map)
}

/// Writes the manifest document (once its answers have finished) and fills in the record.
async fn build_manifest(courier: &Courier, rec: &mut Record) -> Result<(), UploadError> {
    let Payload::Manifest(req) = &rec.payload else {
        return Ok(());
    };
    let mut answers = Vec::new();
    for id in req.answer_ids() {
        if let Some(r) = courier.registry.outbox().load(ItemId(id))? {
            answers.push(r);
        }
    }
    let doc = req.build(|id| answers.iter().find(|r| r.id.0 == id).map(Record::delivery));
    let json = serde_json::to_vec_pretty(&doc).map_err(|e| UploadError::BadRecord {
        path: rec.path.clone(),
        detail: e.to_string(),
    })?;
    crate::fsutil::write_atomic(&rec.path, &json)?;
    rec.size = json.len() as u64;
    rec.sha256 = super::meta::hex(&<sha2::Sha256 as sha2::Digest>::digest(&json));
    courier.registry.save(rec).await
}
