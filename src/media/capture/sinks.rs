//! Where the capture threads send a recording's items: one slot per source holding the
//! recording's queue, its time zero and its end. Attaching fills the slots and wakes a
//! capture thread that waits for a taker (a file source reads nothing before then); closing a
//! slot drops the queue's sender, which is how the encoder learns that its input ended.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use crossbeam_channel::Sender;
use tokio_util::sync::CancellationToken;

use crate::media::frame::{AudioChunk, VideoFrame};

pub(super) struct Sink<T> {
    pub(super) tx: Sender<T>,
    pub(super) origin: Instant,
    pub(super) end: Option<Instant>,
}

/// One source's sink, and the Condvar a waiting capture thread sleeps on.
pub(super) struct Slot<T> {
    sink: Mutex<Option<Sink<T>>>,
    changed: Condvar,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            sink: Mutex::new(None),
            changed: Condvar::new(),
        }
    }
}

impl<T> Slot<T> {
    pub(super) fn lock(&self) -> MutexGuard<'_, Option<Sink<T>>> {
        // A capture thread that panicked mid-update leaves a sink that is still usable.
        crate::sync::lock(&self.sink)
    }

    pub(super) fn fill(&self, sink: Sink<T>) {
        *self.lock() = Some(sink);
        self.changed.notify_all();
    }

    /// Closes the recording's queue (if one is attached) and wakes a waiting thread, so that
    /// it can see a cancellation made before this call.
    pub(super) fn close(&self) {
        self.lock().take();
        self.changed.notify_all();
    }

    /// Waits until a recording is attached or `cancel` is cancelled (checked under the lock
    /// that [`Slot::close`] takes after cancelling, so the wake-up cannot be missed).
    pub(super) fn wait_attached(&self, cancel: &CancellationToken) {
        let mut sink = self.lock();
        while sink.is_none() && !cancel.is_cancelled() {
            sink = self
                .changed
                .wait(sink)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Applies `f` to the attached sink's end, if a recording is attached.
    pub(super) fn with_end(&self, f: impl FnOnce(Option<Instant>) -> Option<Instant>) {
        if let Some(s) = self.lock().as_mut() {
            s.end = f(s.end);
        }
    }

    pub(super) fn is_attached(&self) -> bool {
        self.lock().is_some()
    }
}

#[derive(Default)]
pub(super) struct Sinks {
    pub(super) video: Slot<std::sync::Arc<VideoFrame>>,
    pub(super) audio: Slot<AudioChunk>,
}

impl Sinks {
    pub(super) fn close(&self) {
        self.video.close();
        self.audio.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiting_capture_thread_wakes_on_attach_and_on_cancel() -> crate::TestResult {
        let slot = std::sync::Arc::new(Slot::<u8>::default());
        let cancel = CancellationToken::new();
        let waiter = {
            let (slot, cancel) = (slot.clone(), cancel.clone());
            std::thread::spawn(move || slot.wait_attached(&cancel))
        };
        let (tx, _rx) = crossbeam_channel::bounded(1);
        slot.fill(Sink {
            tx,
            origin: Instant::now(),
            end: None,
        });
        waiter.join().map_err(|_| "the waiter panicked")?;

        slot.close();
        let waiter = {
            let (slot, cancel) = (slot.clone(), cancel.clone());
            std::thread::spawn(move || slot.wait_attached(&cancel))
        };
        cancel.cancel();
        slot.close();
        waiter.join().map_err(|_| "the waiter panicked")?;
        assert!(!slot.is_attached());
        Ok(())
    }
}
