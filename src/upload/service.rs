//! The upload actor front ends talk to. [`UploadService::start`] takes the outbox (an `flock`,
//! one process at a time), tidies what a crash left (delivered files not yet deleted), and runs
//! a scheduler on tokio that hands unfinished items, oldest first, to at most `concurrency`
//! deliveries at once. The [`UploadHandle`] queues files and manifests, retries or abandons
//! items and shows the queue; [`UploadEvent`]s report progress and outcomes. Shutdown cancels
//! everything through one `CancellationToken` and waits on a `TaskTracker`; since every state
//! change is already on disk, the next start resumes from the server's offset.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::Tuning;
use super::courier::Courier;
use super::deliver;
use super::error::UploadError;
use super::health::UploadHealth;
use super::manifest::ManifestRequest;
use super::meta::{AnswerMeta, hash_file};
use super::outbox::{ItemId, Outbox, OutboxLock, Payload, Record, State};
use super::registry::Registry;
use super::summary::OutboxSummary;
use super::view::{ItemView, UploadEvent};
use crate::clock::now_ms;
use crate::config::{Config, Retention};

mod submit;
pub use submit::{ANSWERS_DIR, NewAnswer, ORPHANS_DIR};

/// A running service: the registry of its items, the courier its deliveries share, and the
/// machinery that runs them.
struct Service {
    registry: Arc<Registry>,
    courier: Arc<Courier>,
    /// One enqueue or submission at a time, so an answer is never queued twice.
    enqueue: tokio::sync::Mutex<()>,
    /// Something may have become runnable: the scheduler looks again.
    wake: Notify,
    cancel: CancellationToken,
    tracker: TaskTracker,
    /// At most `concurrency` deliveries send at once.
    slots: Arc<Semaphore>,
    _lock: OutboxLock,
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
        let (tx, rx) = mpsc::unbounded_channel();
        let registry = Arc::new(Registry::new(outbox, tx));
        let courier = Arc::new(Courier::new(config, tuning, registry.clone())?);
        let service = Arc::new(Service {
            registry,
            courier,
            enqueue: tokio::sync::Mutex::new(()),
            wake: Notify::new(),
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
            slots: Arc::new(Semaphore::new(config.upload.concurrency.max(1) as usize)),
            _lock: held,
        });
        let outbox = service.registry.outbox();
        let (records, problems) = outbox.load_all();
        for p in problems {
            tracing::warn!(error = %p, "outbox record skipped");
        }
        let records = submit::finish_staged(outbox, records);
        let records = outbox.prune_delivered(records, now_ms(), FORGET_DELIVERED_AFTER);
        // A submission that could not be finished stays out of the queue until it can.
        let queued: Vec<Record> = records
            .iter()
            .filter(|r| r.staged_from.is_none())
            .cloned()
            .collect();
        service.registry.show(&queued);
        let s = service.clone();
        service.tracker.spawn(async move {
            // A crash between "delivered" and deleting the file leaves the file: finish that.
            if s.courier.retention == Retention::Delete {
                for mut rec in records {
                    if rec.state == State::Delivered && !rec.local_deleted {
                        deliver::delete_local(&s.courier, &mut rec).await;
                    }
                }
            }
            schedule(s).await;
        });
        Ok((UploadHandle { service }, rx))
    }
}

async fn schedule(service: Arc<Service>) {
    loop {
        for id in service.registry.runnable() {
            spawn_delivery(&service, id);
        }
        tokio::select! {
            _ = service.wake.notified() => {}
            _ = service.cancel.cancelled() => return,
        }
    }
}

fn spawn_delivery(service: &Arc<Service>, id: ItemId) {
    let token = service.cancel.child_token();
    service.registry.started(id, token.clone());
    let s = service.clone();
    service.tracker.spawn(async move {
        let slot = tokio::select! {
            slot = s.slots.clone().acquire_owned() => slot.ok(),
            _ = token.cancelled() => None,
        };
        if slot.is_some() {
            match s.registry.outbox().load(id) {
                Ok(Some(rec)) if !rec.state.is_final() => {
                    deliver::run(&s.courier, rec, &token).await;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(item = %id, error = %e, "cannot read the outbox record"),
            }
        }
        drop(slot);
        s.registry.ended(id);
        s.wake.notify_one();
    });
}

/// The front ends' handle on a running service; cheap to clone.
#[derive(Clone)]
pub struct UploadHandle {
    service: Arc<Service>,
}

impl UploadHandle {
    fn registry(&self) -> &Registry {
        &self.service.registry
    }
}

/// What monitoring asks of a running service.
impl UploadHandle {
    /// Whether the endpoint refuses until its configuration is fixed, as last seen.
    pub fn health(&self) -> UploadHealth {
        self.service.courier.health.current()
    }

    /// Hears every change of [`UploadHandle::health`].
    pub fn health_changes(&self) -> tokio::sync::watch::Receiver<UploadHealth> {
        self.service.courier.health.subscribe()
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
        let _one_at_a_time = self.service.enqueue.lock().await;
        if let Some(existing) = self.registry().outbox().load(id)? {
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
        self.registry().save(&mut rec).await?;
        self.registry().emit(UploadEvent::Queued { id });
        self.service.wake.notify_one();
        Ok(id)
    }

    /// Queues the session manifest. It is built and sent once every answer it lists has been
    /// delivered (or refused or abandoned), so the upload URLs in it are final.
    pub async fn enqueue_manifest(&self, request: ManifestRequest) -> Result<ItemId, UploadError> {
        let id = ItemId(request.session_id);
        let _one_at_a_time = self.service.enqueue.lock().await;
        if self.registry().outbox().load(id)?.is_some() {
            return Ok(id);
        }
        let path = self
            .registry()
            .outbox()
            .manifests_dir()
            .join(format!("{id}.json"));
        let mut rec = Record::new(id, Payload::Manifest(request), path, 0, String::new());
        self.registry().save(&mut rec).await?;
        self.registry().emit(UploadEvent::Queued { id });
        self.service.wake.notify_one();
        Ok(id)
    }

    /// Every item, oldest first.
    pub fn snapshot(&self) -> Vec<ItemView> {
        self.registry().snapshot()
    }

    /// One item.
    pub fn get(&self, id: ItemId) -> Option<ItemView> {
        self.registry().get(id)
    }

    /// Whether every item has finished (delivered, refused or abandoned).
    pub fn is_idle(&self) -> bool {
        self.registry().is_idle()
    }

    /// Requeues a refused or abandoned item (after the operator fixed the cause); other items
    /// are left as they are.
    pub async fn retry(&self, id: ItemId) -> Result<(), UploadError> {
        let Some(mut rec) = self.registry().outbox().load(id)? else {
            return Err(UploadError::UnknownItem { id: id.to_string() });
        };
        if matches!(rec.state, State::Refused | State::Abandoned) {
            rec.state = State::Queued;
            rec.last_error = None;
            rec.attempts = 0;
            self.registry().save(&mut rec).await?;
            self.registry().emit(UploadEvent::Queued { id });
            self.service.wake.notify_one();
        }
        Ok(())
    }

    /// Gives an undelivered item up (queued, uploading or refused): stops its delivery,
    /// terminates its upload on the server (tus DELETE) and marks it abandoned. The local file
    /// is kept.
    pub async fn abandon(&self, id: ItemId) -> Result<(), UploadError> {
        let registry = &self.service.registry;
        registry.hold(id);
        let result = self.abandon_held(id).await;
        registry.release(id);
        self.service.wake.notify_one();
        result
    }

    async fn abandon_held(&self, id: ItemId) -> Result<(), UploadError> {
        let registry = &self.service.registry;
        registry.stop(id).await;
        let Some(mut rec) = registry.outbox().load(id)? else {
            return Err(UploadError::UnknownItem { id: id.to_string() });
        };
        if matches!(rec.state, State::Delivered | State::Abandoned) {
            return Err(UploadError::Finished {
                id: id.to_string(),
                state: rec.state.to_string(),
            });
        }
        self.service.courier.terminate_all(&mut rec).await;
        rec.state = State::Abandoned;
        registry.save(&mut rec).await?;
        registry.emit(UploadEvent::Abandoned { id });
        Ok(())
    }

    /// Stops every delivery and waits for them to end. What was sent stays on the server and
    /// in the outbox; the next start resumes from there.
    pub async fn shutdown(self) {
        self.service.cancel.cancel();
        self.service.tracker.close();
        self.service.tracker.wait().await;
    }
}
