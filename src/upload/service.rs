//! The upload actor front ends talk to. [`UploadService::start`] takes the outbox (an `flock`,
//! one process at a time), tidies what a crash left (delivered files not yet deleted), and runs
//! a scheduler on tokio that hands unfinished items, oldest first, to at most `concurrency`
//! deliveries at once. The [`UploadHandle`] queues files and manifests, retries or abandons
//! items and shows the queue; [`UploadEvent`]s report progress and outcomes. Shutdown cancels
//! everything through one `CancellationToken` and waits on a `TaskTracker`; since every state
//! change is already on disk, the next start resumes from the server's offset.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::deliver;
use super::health::{HealthKeeper, UploadHealth, endpoint_name};
use super::manifest::ManifestRequest;
use super::meta::{AnswerMeta, hash_file};
use super::outbox::{ItemId, Outbox, OutboxLock, Payload, Record, State};
use super::tus::{Capabilities, TokenSource, TusClient};
use super::{ItemKind, ItemView, OutboxSummary, Tuning, UploadError, UploadEvent};
use crate::clock::now_ms;
use crate::config::{Config, Endpoint, Retention};
use crate::sync::lock;

mod submit;
pub use submit::{ANSWERS_DIR, NewAnswer, ORPHANS_DIR};

/// Progress events for one item are at most this frequent.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// Where items go.
pub(super) enum Target {
    Dir(PathBuf),
    Tus(TusClient),
}

/// State shared by the handle, the scheduler and the deliveries.
pub(super) struct Shared {
    pub outbox: Outbox,
    pub target: Target,
    pub station_id: String,
    pub chunk: u64,
    pub max_chunk: u64,
    pub retention: Retention,
    pub tuning: Tuning,
    /// Whether the endpoint refuses until its configuration is fixed (`<outbox>/health.json`).
    pub health: HealthKeeper,
    caps: tokio::sync::Mutex<Option<Capabilities>>,
    views: Mutex<HashMap<ItemId, ItemView>>,
    last_progress: Mutex<HashMap<ItemId, Instant>>,
    /// Items with a delivery running, and the token that stops just that one.
    active: Mutex<HashMap<ItemId, CancellationToken>>,
    /// Items the scheduler must leave alone (being abandoned).
    held: Mutex<HashSet<ItemId>>,
    enqueue: tokio::sync::Mutex<()>,
    events: mpsc::UnboundedSender<UploadEvent>,
    wake: Notify,
    cancel: CancellationToken,
    tracker: TaskTracker,
    slots: Arc<Semaphore>,
    _lock: OutboxLock,
}

impl Shared {
    /// Saves a record atomically (off the async threads, awaited to the end) and updates the
    /// queue view.
    pub async fn save(&self, rec: &mut Record) -> Result<(), UploadError> {
        rec.updated_at_ms = now_ms();
        let (outbox, copy) = (self.outbox.clone(), rec.clone());
        tokio::task::spawn_blocking(move || outbox.save(&copy))
            .await
            .map_err(|e| UploadError::Client(format!("save task failed: {e}")))??;
        let mut views = lock(&self.views);
        let waiting = views.get(&rec.id).and_then(|v| v.waiting.clone());
        let mut view = ItemView::from_record(rec);
        if !rec.state.is_final() {
            view.waiting = waiting;
        }
        views.insert(rec.id, view);
        Ok(())
    }

    pub fn emit(&self, event: UploadEvent) {
        // Nobody listening is fine: the snapshot still tells.
        let _ = self.events.send(event);
    }

    pub fn progress(&self, id: ItemId, sent: u64, total: u64) {
        if let Some(v) = lock(&self.views).get_mut(&id) {
            v.sent = sent;
        }
        let now = Instant::now();
        let mut last = lock(&self.last_progress);
        let due = last
            .get(&id)
            .is_none_or(|t| now.duration_since(*t) >= PROGRESS_EVERY);
        if due || sent == total {
            last.insert(id, now);
            drop(last);
            self.emit(UploadEvent::Progress { id, sent, total });
        }
    }

    pub fn waiting(&self, id: ItemId, reason: String, retry_in: Duration) {
        if let Some(v) = lock(&self.views).get_mut(&id) {
            v.waiting = Some(reason.clone());
        }
        self.emit(UploadEvent::Waiting {
            id,
            reason,
            retry_in,
        });
    }

    pub fn clear_waiting(&self, id: ItemId) {
        if let Some(v) = lock(&self.views).get_mut(&id) {
            v.waiting = None;
        }
    }

    /// The server's capabilities, asked once and kept until trouble suggests it may have
    /// changed (a restarted or replaced server).
    pub async fn capabilities(&self, client: &TusClient) -> Result<Capabilities, UploadError> {
        let mut caps = self.caps.lock().await;
        if let Some(c) = caps.as_ref() {
            return Ok(c.clone());
        }
        let fresh = client.discover().await?;
        tracing::info!(
            endpoint = client.endpoint(),
            ?fresh,
            "tus server capabilities"
        );
        *caps = Some(fresh.clone());
        Ok(fresh)
    }

    pub async fn forget_capabilities(&self) {
        *self.caps.lock().await = None;
    }

    /// Unfinished items nobody is delivering, oldest first; a manifest only once every
    /// answer it lists has finished (or was never queued).
    fn runnable(&self) -> Vec<ItemId> {
        let mut candidates: Vec<(u64, ItemId, ItemKind)> = {
            let views = lock(&self.views);
            let active = lock(&self.active);
            let held = lock(&self.held);
            views
                .values()
                .filter(|v| {
                    !v.state.is_final() && !active.contains_key(&v.id) && !held.contains(&v.id)
                })
                .map(|v| (v.queued_at_ms, v.id, v.kind))
                .collect()
        };
        candidates.sort_by_key(|(at, id, _)| (*at, *id));
        candidates
            .into_iter()
            .filter(|(_, id, kind)| *kind == ItemKind::Answer || self.manifest_ready(*id))
            .map(|(_, id, _)| id)
            .collect()
    }

    fn manifest_ready(&self, id: ItemId) -> bool {
        let Ok(Some(rec)) = self.outbox.load(id) else {
            return false;
        };
        let Payload::Manifest(m) = &rec.payload else {
            return true;
        };
        let views = lock(&self.views);
        m.answer_ids()
            .all(|a| views.get(&ItemId(a)).is_none_or(|v| v.state.is_final()))
    }
}

/// Records of delivered answers are kept this long (for `booth queue` and for resubmissions
/// after a crash to be recognised), then forgotten.
const FORGET_DELIVERED_AFTER: Duration = Duration::from_secs(30 * 86_400);

/// Starts upload services.
pub struct UploadService;

impl UploadService {
    /// [`UploadService::start_with`] with the default [`Tuning`].
    pub fn start(
        config: &Config,
        outbox_dir: &Path,
    ) -> Result<(UploadHandle, mpsc::UnboundedReceiver<UploadEvent>), UploadError> {
        UploadService::start_with(config, outbox_dir, Tuning::default())
    }

    /// Takes the outbox at `outbox_dir` (created if missing) and starts delivering its
    /// unfinished items to the config's endpoint. Must be called within a tokio runtime.
    /// Fails with [`UploadError::OutboxBusy`] while another process has the outbox.
    pub fn start_with(
        config: &Config,
        outbox_dir: &Path,
        tuning: Tuning,
    ) -> Result<(UploadHandle, mpsc::UnboundedReceiver<UploadEvent>), UploadError> {
        let outbox = Outbox::open(outbox_dir)?;
        let held = outbox.lock()?;
        let upload = &config.upload;
        let target = match &upload.endpoint {
            Endpoint::Dir(dir) => Target::Dir(dir.clone()),
            Endpoint::Tus(url) => {
                let cfg = upload.clone();
                let token: TokenSource = Arc::new(move || cfg.token());
                Target::Tus(TusClient::new(
                    url,
                    upload.allow_plain_http,
                    token,
                    &tuning,
                )?)
            }
        };
        let health = HealthKeeper::start(outbox.dir(), &endpoint_name(&upload.endpoint));
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            outbox,
            target,
            station_id: config.station.id.clone(),
            chunk: upload.chunk_bytes.max(1),
            max_chunk: upload.max_chunk_bytes,
            retention: upload.retention,
            tuning,
            health,
            caps: tokio::sync::Mutex::new(None),
            views: Mutex::new(HashMap::new()),
            last_progress: Mutex::new(HashMap::new()),
            active: Mutex::new(HashMap::new()),
            held: Mutex::new(HashSet::new()),
            enqueue: tokio::sync::Mutex::new(()),
            events: tx,
            wake: Notify::new(),
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
            slots: Arc::new(Semaphore::new(upload.concurrency.max(1) as usize)),
            _lock: held,
        });
        let (records, problems) = shared.outbox.load_all();
        for p in problems {
            tracing::warn!(error = %p, "outbox record skipped");
        }
        let records = submit::finish_staged(&shared.outbox, records);
        let records = shared
            .outbox
            .prune_delivered(records, now_ms(), FORGET_DELIVERED_AFTER);
        {
            let mut views = lock(&shared.views);
            // A submission that could not be finished stays out of the queue until it can.
            for rec in records.iter().filter(|r| r.staged_from.is_none()) {
                views.insert(rec.id, ItemView::from_record(rec));
            }
        }
        let s = shared.clone();
        shared.tracker.spawn(async move {
            // A crash between "delivered" and deleting the file leaves the file: finish that.
            if s.retention == Retention::Delete {
                for mut rec in records {
                    if rec.state == State::Delivered && !rec.local_deleted {
                        deliver::delete_local(&s, &mut rec).await;
                    }
                }
            }
            schedule(s).await;
        });
        Ok((UploadHandle { shared }, rx))
    }
}

async fn schedule(shared: Arc<Shared>) {
    loop {
        for id in shared.runnable() {
            spawn_delivery(&shared, id);
        }
        tokio::select! {
            _ = shared.wake.notified() => {}
            _ = shared.cancel.cancelled() => return,
        }
    }
}

fn spawn_delivery(shared: &Arc<Shared>, id: ItemId) {
    let token = shared.cancel.child_token();
    lock(&shared.active).insert(id, token.clone());
    let s = shared.clone();
    shared.tracker.spawn(async move {
        let slot = tokio::select! {
            slot = s.slots.clone().acquire_owned() => slot.ok(),
            _ = token.cancelled() => None,
        };
        if slot.is_some() {
            match s.outbox.load(id) {
                Ok(Some(rec)) if !rec.state.is_final() => deliver::run(&s, rec, &token).await,
                Ok(_) => {}
                Err(e) => tracing::warn!(item = %id, error = %e, "cannot read the outbox record"),
            }
        }
        drop(slot);
        lock(&s.active).remove(&id);
        s.wake.notify_one();
    });
}

/// The front ends' handle on a running service; cheap to clone.
#[derive(Clone)]
pub struct UploadHandle {
    shared: Arc<Shared>,
}

/// What monitoring asks of a running service.
impl UploadHandle {
    /// Whether the endpoint refuses until its configuration is fixed, as last seen.
    pub fn health(&self) -> UploadHealth {
        self.shared.health.current()
    }

    /// Hears every change of [`UploadHandle::health`].
    pub fn health_changes(&self) -> tokio::sync::watch::Receiver<UploadHealth> {
        self.shared.health.subscribe()
    }

    /// The outbox summed up, as this service sees it (no disk access).
    pub fn summary(&self) -> OutboxSummary {
        OutboxSummary::of(&self.snapshot(), Vec::new(), Some(self.health()), now_ms())
    }
}

impl UploadHandle {
    /// Queues a submitted take for delivery; returns once its record is on disk. The item id is
    /// the answer id: queueing the same answer again returns the existing item (and requeues it
    /// if it was refused or abandoned). Queued after [`UploadHandle::shutdown`], the item waits
    /// on disk for the next start.
    pub async fn enqueue(&self, path: &Path, meta: AnswerMeta) -> Result<ItemId, UploadError> {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let hashed = path.clone();
        let (size, sha256) = tokio::task::spawn_blocking(move || hash_file(&hashed))
            .await
            .map_err(|e| UploadError::Client(format!("hash task failed: {e}")))??;
        if size == 0 {
            // tus treats Upload-Length 0 as complete at once: never deliver nothing.
            return Err(UploadError::EmptyFile { path });
        }
        let id = ItemId(meta.answer_id);
        let _one_at_a_time = self.shared.enqueue.lock().await;
        if let Some(existing) = self.shared.outbox.load(id)? {
            if existing.sha256 != sha256 {
                return Err(UploadError::DuplicateAnswer {
                    id: id.to_string(),
                    existing: existing.path,
                });
            }
            if matches!(existing.state, State::Refused | State::Abandoned) {
                self.retry(id).await?;
            }
            return Ok(id);
        }
        let mut rec = Record::new(id, Payload::Answer(meta), path, size, sha256);
        self.shared.save(&mut rec).await?;
        self.shared.emit(UploadEvent::Queued { id });
        self.shared.wake.notify_one();
        Ok(id)
    }

    /// Queues the session manifest. It is built and sent once every answer it lists has been
    /// delivered (or refused or abandoned), so the upload URLs in it are final.
    pub async fn enqueue_manifest(&self, request: ManifestRequest) -> Result<ItemId, UploadError> {
        let id = ItemId(request.session_id);
        let _one_at_a_time = self.shared.enqueue.lock().await;
        if self.shared.outbox.load(id)?.is_some() {
            return Ok(id);
        }
        let path = self
            .shared
            .outbox
            .manifests_dir()
            .join(format!("{id}.json"));
        let mut rec = Record::new(id, Payload::Manifest(request), path, 0, String::new());
        self.shared.save(&mut rec).await?;
        self.shared.emit(UploadEvent::Queued { id });
        self.shared.wake.notify_one();
        Ok(id)
    }

    /// Every item, oldest first.
    pub fn snapshot(&self) -> Vec<ItemView> {
        let mut all: Vec<ItemView> = lock(&self.shared.views).values().cloned().collect();
        all.sort_by_key(|v| (v.queued_at_ms, v.id));
        all
    }

    /// One item.
    pub fn get(&self, id: ItemId) -> Option<ItemView> {
        lock(&self.shared.views).get(&id).cloned()
    }

    /// Whether every item has finished (delivered, refused or abandoned).
    pub fn is_idle(&self) -> bool {
        lock(&self.shared.views)
            .values()
            .all(|v| v.state.is_final())
    }

    /// Requeues a refused or abandoned item (after the operator fixed the cause); other items
    /// are left as they are.
    pub async fn retry(&self, id: ItemId) -> Result<(), UploadError> {
        let Some(mut rec) = self.shared.outbox.load(id)? else {
            return Err(UploadError::UnknownItem { id: id.to_string() });
        };
        if matches!(rec.state, State::Refused | State::Abandoned) {
            rec.state = State::Queued;
            rec.last_error = None;
            rec.attempts = 0;
            self.shared.save(&mut rec).await?;
            self.shared.emit(UploadEvent::Queued { id });
            self.shared.wake.notify_one();
        }
        Ok(())
    }

    /// Gives an undelivered item up (queued, uploading or refused): stops its delivery,
    /// terminates its upload on the server (tus DELETE) and marks it abandoned. The local file
    /// is kept.
    pub async fn abandon(&self, id: ItemId) -> Result<(), UploadError> {
        let shared = &self.shared;
        lock(&shared.held).insert(id);
        let result = self.abandon_held(id).await;
        lock(&shared.held).remove(&id);
        shared.wake.notify_one();
        result
    }

    async fn abandon_held(&self, id: ItemId) -> Result<(), UploadError> {
        let shared = &self.shared;
        let running = lock(&shared.active).get(&id).cloned();
        if let Some(token) = running {
            token.cancel();
            while lock(&shared.active).contains_key(&id) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        let Some(mut rec) = shared.outbox.load(id)? else {
            return Err(UploadError::UnknownItem { id: id.to_string() });
        };
        if matches!(rec.state, State::Delivered | State::Abandoned) {
            return Err(UploadError::Finished {
                id: id.to_string(),
                state: rec.state.to_string(),
            });
        }
        if let Target::Tus(client) = &shared.target {
            for url in rec.url.iter().chain(&rec.retired_urls) {
                let result = match client.upload_url(url) {
                    Ok(u) => client.terminate(&u).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    rec.last_error = Some(format!("could not terminate the upload: {e}"));
                }
            }
        }
        rec.state = State::Abandoned;
        shared.save(&mut rec).await?;
        shared.emit(UploadEvent::Abandoned { id });
        Ok(())
    }

    /// Stops every delivery and waits for them to end. What was sent stays on the server and
    /// in the outbox; the next start resumes from there.
    pub async fn shutdown(self) {
        self.shared.cancel.cancel();
        self.shared.tracker.close();
        self.shared.tracker.wait().await;
    }
}
