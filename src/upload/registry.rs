//! Where every item of a running service stands, in one struct behind one lock. The outbox on
//! disk is the truth about each item; the registry keeps what is live beside it: each item's
//! view for front ends (with the bytes in flight and why it waits), when its progress was
//! last told, which items have a delivery running (and the token that stops just that one),
//! and which the operator is abandoning. Every change to a queued item's record goes through
//! [`Registry::save`] (disk first, then the view; only a submission's *staged* record, not yet
//! queued, is written to the outbox directly) and every [`UploadEvent`] leaves from here, so
//! the service's handle and the deliveries meet here and nowhere else.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use super::error::UploadError;
use super::outbox::{ItemId, Outbox, Payload, Record};
use super::view::{ItemKind, ItemView, UploadEvent};
use crate::clock::now_ms;
use crate::sync::lock;

/// Progress events for one item are at most this frequent.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// The service's items; see the module header.
pub(super) struct Registry {
    outbox: Outbox,
    items: Mutex<Items>,
    events: mpsc::UnboundedSender<UploadEvent>,
    /// Told whenever a delivery ends, for [`Registry::stop`].
    ended: Notify,
}

/// Everything live about the items, changed only under the registry's lock.
#[derive(Default)]
struct Items {
    views: HashMap<ItemId, ItemView>,
    last_progress: HashMap<ItemId, Instant>,
    /// Items with a delivery running, and the token that stops just that one.
    running: HashMap<ItemId, CancellationToken>,
    /// Items the scheduler must leave alone (being abandoned).
    held: HashSet<ItemId>,
}

impl Registry {
    pub fn new(outbox: Outbox, events: mpsc::UnboundedSender<UploadEvent>) -> Registry {
        Registry {
            outbox,
            items: Mutex::new(Items::default()),
            events,
            ended: Notify::new(),
        }
    }

    /// The records on disk (reading them is always allowed; writing goes through
    /// [`Registry::save`]).
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Shows the records found at start.
    pub fn show(&self, records: &[Record]) {
        let mut items = lock(&self.items);
        for rec in records {
            items.views.insert(rec.id, ItemView::from_record(rec));
        }
    }

    /// Saves a record atomically (off the async threads, awaited to the end) and updates its
    /// view.
    pub async fn save(&self, rec: &mut Record) -> Result<(), UploadError> {
        rec.updated_at_ms = now_ms();
        let (outbox, copy) = (self.outbox.clone(), rec.clone());
        tokio::task::spawn_blocking(move || outbox.save(&copy))
            .await
            .map_err(|e| UploadError::Client(format!("save task failed: {e}")))??;
        let mut items = lock(&self.items);
        let waiting = items.views.get(&rec.id).and_then(|v| v.waiting.clone());
        let mut view = ItemView::from_record(rec);
        if !rec.state.is_final() {
            view.waiting = waiting;
        }
        items.views.insert(rec.id, view);
        Ok(())
    }

    /// Tells the front end. Nobody listening is fine: the snapshot still tells.
    pub fn emit(&self, event: UploadEvent) {
        let _ = self.events.send(event);
    }

    /// `sent` of `total` bytes are on their way; told at most every [`PROGRESS_EVERY`] (and
    /// always at the end).
    pub fn progress(&self, id: ItemId, sent: u64, total: u64) {
        self.progress_at(id, sent, total, Instant::now());
    }

    fn progress_at(&self, id: ItemId, sent: u64, total: u64, now: Instant) {
        let due = {
            let mut items = lock(&self.items);
            if let Some(v) = items.views.get_mut(&id) {
                v.sent = sent;
            }
            let due = items
                .last_progress
                .get(&id)
                .is_none_or(|t| now.duration_since(*t) >= PROGRESS_EVERY);
            if due || sent == total {
                items.last_progress.insert(id, now);
            }
            due || sent == total
        };
        if due {
            self.emit(UploadEvent::Progress { id, sent, total });
        }
    }

    /// The item waits `retry_in` after trouble.
    pub fn waiting(&self, id: ItemId, reason: String, retry_in: Duration) {
        if let Some(v) = lock(&self.items).views.get_mut(&id) {
            v.waiting = Some(reason.clone());
        }
        self.emit(UploadEvent::Waiting {
            id,
            reason,
            retry_in,
        });
    }

    /// The item moves again.
    pub fn clear_waiting(&self, id: ItemId) {
        if let Some(v) = lock(&self.items).views.get_mut(&id) {
            v.waiting = None;
        }
    }

    /// Every item, oldest first.
    pub fn snapshot(&self) -> Vec<ItemView> {
        let mut all: Vec<ItemView> = lock(&self.items).views.values().cloned().collect();
        all.sort_by_key(|v| (v.queued_at_ms, v.id));
        all
    }

    pub fn get(&self, id: ItemId) -> Option<ItemView> {
        lock(&self.items).views.get(&id).cloned()
    }

    /// Whether every item has finished (delivered, refused or abandoned).
    pub fn is_idle(&self) -> bool {
        lock(&self.items).views.values().all(|v| v.state.is_final())
    }

    /// Unfinished items nobody is delivering or abandoning, oldest first; a manifest only once
    /// every answer it lists has finished (or was never queued).
    pub fn runnable(&self) -> Vec<ItemId> {
        let mut candidates: Vec<(u64, ItemId, ItemKind)> = {
            let items = lock(&self.items);
            items
                .views
                .values()
                .filter(|v| {
                    !v.state.is_final()
                        && !items.running.contains_key(&v.id)
                        && !items.held.contains(&v.id)
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
        let items = lock(&self.items);
        m.answer_ids().all(|a| {
            items
                .views
                .get(&ItemId(a))
                .is_none_or(|v| v.state.is_final())
        })
    }

    /// A delivery of `id` starts; `stop` ends just that one.
    pub fn started(&self, id: ItemId, stop: CancellationToken) {
        lock(&self.items).running.insert(id, stop);
    }

    /// The delivery of `id` has ended.
    pub fn ended(&self, id: ItemId) {
        lock(&self.items).running.remove(&id);
        self.ended.notify_waiters();
    }

    /// Stops the delivery of `id`, if one runs, and returns once it has ended.
    pub async fn stop(&self, id: ItemId) {
        loop {
            // Registered before looking, so an end between the look and the wait is heard.
            let ended = self.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            match lock(&self.items).running.get(&id) {
                Some(token) => token.cancel(),
                None => return,
            }
            ended.await;
        }
    }

    /// Keeps the scheduler away from `id` until [`Registry::release`].
    pub fn hold(&self, id: ItemId) {
        lock(&self.items).held.insert(id);
    }

    pub fn release(&self, id: ItemId) {
        lock(&self.items).held.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::upload::meta::AnswerMeta;
    use crate::upload::outbox::State;

    fn registry() -> crate::TestResult<(
        tempfile::TempDir,
        Registry,
        mpsc::UnboundedReceiver<UploadEvent>,
    )> {
        let dir = tempfile::tempdir()?;
        let outbox = Outbox::open(&dir.path().join("outbox"))?;
        let (tx, rx) = mpsc::unbounded_channel();
        Ok((dir, Registry::new(outbox, tx), rx))
    }

    fn answer(n: u128) -> Record {
        let meta = AnswerMeta {
            interview_id: "iv".into(),
            candidate_id: "c".into(),
            question_id: format!("q{n}"),
            attempt: 1,
            answer_id: uuid::Uuid::from_u128(n),
            filename: format!("q{n}.mp4"),
            candidate_ref: None,
        };
        let id = ItemId(meta.answer_id);
        Record::new(id, Payload::Answer(meta), "/a.mp4".into(), 10, "ab".into())
    }

    #[tokio::test]
    async fn running_and_held_items_are_not_runnable() -> crate::TestResult {
        let (_dir, reg, _rx) = registry()?;
        let (mut a, mut b, mut c) = (answer(1), answer(2), answer(3));
        for (rec, at) in [(&mut a, 3), (&mut b, 1), (&mut c, 2)] {
            rec.queued_at_ms = at;
            reg.save(rec).await?;
        }
        assert_eq!(reg.runnable(), vec![b.id, c.id, a.id]);
        reg.started(b.id, CancellationToken::new());
        reg.hold(c.id);
        assert_eq!(reg.runnable(), vec![a.id]);
        reg.ended(b.id);
        reg.release(c.id);
        a.state = State::Delivered;
        reg.save(&mut a).await?;
        assert_eq!(reg.runnable(), vec![b.id, c.id]);
        assert!(!reg.is_idle());
        Ok(())
    }

    #[tokio::test]
    async fn waiting_is_kept_across_saves_until_the_item_finishes() -> crate::TestResult {
        let (_dir, reg, mut rx) = registry()?;
        let mut rec = answer(1);
        reg.save(&mut rec).await?;
        reg.waiting(rec.id, "server busy".into(), Duration::from_secs(1));
        assert!(matches!(rx.try_recv()?, UploadEvent::Waiting { .. }));
        rec.attempts += 1;
        reg.save(&mut rec).await?;
        let view = reg.get(rec.id).ok_or("no view")?;
        assert_eq!(view.waiting.as_deref(), Some("server busy"));
        rec.state = State::Refused;
        reg.save(&mut rec).await?;
        assert_eq!(reg.get(rec.id).ok_or("no view")?.waiting, None);
        Ok(())
    }

    #[tokio::test]
    async fn progress_is_told_sparingly_but_always_at_the_end() -> crate::TestResult {
        let (_dir, reg, mut rx) = registry()?;
        let mut rec = answer(1);
        reg.save(&mut rec).await?;
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        for (sent, at) in [(1, 0), (2, 50), (3, 199), (4, 200), (5, 250), (10, 260)] {
            reg.progress_at(rec.id, sent, 10, t0 + ms(at));
        }
        let mut told = Vec::new();
        while let Ok(UploadEvent::Progress { sent, .. }) = rx.try_recv() {
            told.push(sent);
        }
        assert_eq!(told, vec![1, 4, 10]);
        assert_eq!(reg.get(rec.id).ok_or("no view")?.sent, 10);
        Ok(())
    }

    #[tokio::test]
    async fn stop_returns_once_the_delivery_has_ended() -> crate::TestResult {
        let (_dir, reg, _rx) = registry()?;
        let reg = Arc::new(reg);
        let id = answer(1).id;
        // Nothing running: at once.
        reg.stop(id).await;
        let token = CancellationToken::new();
        reg.started(id, token.clone());
        let delivery = {
            let reg = reg.clone();
            tokio::spawn(async move {
                token.cancelled().await;
                reg.ended(id);
            })
        };
        reg.stop(id).await;
        assert!(!lock(&reg.items).running.contains_key(&id));
        delivery.await?;
        Ok(())
    }
}
