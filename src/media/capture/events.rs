//! The one owner of what the capture threads report: a source ended or failed, and whether
//! each has delivered its first item yet. Every event is kept for the session's life and
//! fanned out to every subscriber — a recording waiting for its end, the kiosk's forwarder —
//! each getting the whole history from the start, so no consumer can take an event from
//! another or miss one that came before it subscribed. Waiting for the sources to warm up
//! waits on a Condvar here.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use tokio::sync::mpsc;

use crate::media::source::CaptureError;

/// One of a session's two sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    Video,
    Audio,
}

/// Things the front end should hear about, rarely (at most one per source).
#[derive(Debug, Clone)]
pub enum CaptureEvent {
    VideoEnded,
    AudioEnded,
    /// Shared: every subscriber gets the same error.
    VideoFailed(Arc<CaptureError>),
    AudioFailed(Arc<CaptureError>),
}

impl CaptureEvent {
    /// The error, when a source failed (rather than ended).
    pub fn failure(&self) -> Option<&Arc<CaptureError>> {
        match self {
            CaptureEvent::VideoFailed(e) | CaptureEvent::AudioFailed(e) => Some(e),
            CaptureEvent::VideoEnded | CaptureEvent::AudioEnded => None,
        }
    }
}

/// Why the sources did not both deliver in time.
#[derive(Debug)]
pub enum NotReady {
    /// A source failed (the first failure).
    Failed(Arc<CaptureError>),
    /// A source ended before delivering anything.
    Ended,
    TimedOut,
}

/// A subscriber's end: a thread's channel, or an async task's.
enum Subscriber {
    Thread(Sender<CaptureEvent>),
    Task(mpsc::UnboundedSender<CaptureEvent>),
}

impl Subscriber {
    /// False once the subscriber has gone away.
    fn send(&self, event: CaptureEvent) -> bool {
        match self {
            Subscriber::Thread(tx) => tx.send(event).is_ok(),
            Subscriber::Task(tx) => tx.send(event).is_ok(),
        }
    }
}

#[derive(Default)]
struct Log {
    /// Whether the video and the audio source have delivered an item.
    delivered: [bool; 2],
    events: Vec<CaptureEvent>,
    /// A subscriber that went away is dropped at the next event, or at once by a
    /// [`Subscription`].
    subscribers: Vec<(u64, Subscriber)>,
    next_id: u64,
}

/// A thread's subscription that leaves the hub when dropped, for subscribers that come and
/// go while the session runs (each recording), so none piles up between the rare events.
pub(in crate::media) struct Subscription {
    pub(in crate::media) events: Receiver<CaptureEvent>,
    id: u64,
    hub: Arc<Hub>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.lock().subscribers.retain(|(id, _)| *id != self.id);
    }
}

#[derive(Default)]
pub(super) struct Hub {
    log: Mutex<Log>,
    changed: Condvar,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, Log> {
        // A capture thread that panicked mid-publish leaves a log that is still whole: each
        // change is one push.
        crate::sync::lock(&self.log)
    }

    /// A source delivered its first item.
    pub(super) fn delivered(&self, source: Source) {
        self.lock().delivered[source as usize] = true;
        self.changed.notify_all();
    }

    /// Keeps `event` and hands it to every subscriber.
    pub(super) fn publish(&self, event: CaptureEvent) {
        let mut log = self.lock();
        log.subscribers.retain(|(_, s)| s.send(event.clone()));
        log.events.push(event);
        drop(log);
        self.changed.notify_all();
    }

    fn add(&self, subscriber: Subscriber) -> u64 {
        let mut log = self.lock();
        let id = log.next_id;
        log.next_id += 1;
        // Under the lock: nothing published between the replay and joining the list is lost.
        let replayed = log.events.iter().all(|e| subscriber.send(e.clone()));
        if replayed {
            log.subscribers.push((id, subscriber));
        }
        id
    }

    /// As [`Hub::subscribe`], leaving when the subscription is dropped.
    pub(super) fn subscription(self: &Arc<Self>) -> Subscription {
        let (tx, events) = crossbeam_channel::unbounded();
        let id = self.add(Subscriber::Thread(tx));
        Subscription {
            events,
            id,
            hub: self.clone(),
        }
    }

    /// Every event of the session, those so far first, for a thread.
    pub(super) fn subscribe(&self) -> Receiver<CaptureEvent> {
        let (tx, rx) = crossbeam_channel::unbounded();
        self.add(Subscriber::Thread(tx));
        rx
    }

    /// Every event of the session, those so far first, for an async task.
    pub(super) fn subscribe_task(&self) -> mpsc::UnboundedReceiver<CaptureEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.add(Subscriber::Task(tx));
        rx
    }

    /// The first source failure so far.
    pub(super) fn failure(&self) -> Option<Arc<CaptureError>> {
        self.lock().events.iter().find_map(|e| e.failure().cloned())
    }

    /// Waits until both sources have delivered, a source ended or failed, or `timeout`.
    pub(super) fn wait_ready(&self, timeout: Duration) -> Result<(), NotReady> {
        let deadline = Instant::now() + timeout;
        let mut log = self.lock();
        loop {
            if log.delivered == [true, true] {
                return Ok(());
            }
            if let Some(e) = log.events.iter().find_map(|e| e.failure()) {
                return Err(NotReady::Failed(e.clone()));
            }
            if !log.events.is_empty() {
                return Err(NotReady::Ended);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(NotReady::TimedOut);
            }
            log = self
                .changed
                .wait_timeout(log, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lost() -> Arc<CaptureError> {
        Arc::new(CaptureError::CameraLost {
            device: "/dev/video0".into(),
            detail: "unplugged".into(),
        })
    }

    #[test]
    fn every_subscriber_gets_every_event_whenever_it_subscribed() -> crate::TestResult {
        let hub = Hub::default();
        let early = hub.subscribe();
        hub.publish(CaptureEvent::VideoFailed(lost()));
        let late = hub.subscribe();
        let mut task = hub.subscribe_task();
        hub.publish(CaptureEvent::AudioEnded);
        for rx in [&early, &late] {
            let got: Vec<CaptureEvent> = rx.try_iter().collect();
            assert!(
                matches!(
                    got.as_slice(),
                    [CaptureEvent::VideoFailed(_), CaptureEvent::AudioEnded]
                ),
                "{got:?}"
            );
        }
        assert!(matches!(task.try_recv(), Ok(CaptureEvent::VideoFailed(_))));
        assert!(matches!(task.try_recv(), Ok(CaptureEvent::AudioEnded)));
        let failure = hub.failure().ok_or("no failure kept")?;
        assert!(matches!(*failure, CaptureError::CameraLost { .. }));
        Ok(())
    }

    #[test]
    fn a_subscriber_that_went_away_is_dropped() {
        let hub = Hub::default();
        drop(hub.subscribe());
        let kept = hub.subscribe();
        hub.publish(CaptureEvent::VideoEnded);
        assert_eq!(hub.lock().subscribers.len(), 1);
        assert_eq!(kept.try_iter().count(), 1);
    }

    #[test]
    fn a_dropped_subscription_leaves_at_once() -> crate::TestResult {
        let hub = Arc::new(Hub::default());
        let kept = hub.subscription();
        drop(hub.subscription());
        assert_eq!(hub.lock().subscribers.len(), 1);
        hub.publish(CaptureEvent::AudioEnded);
        assert!(matches!(kept.events.try_recv()?, CaptureEvent::AudioEnded));
        Ok(())
    }

    #[test]
    fn ready_waits_for_both_sources_and_wakes_on_the_second() -> crate::TestResult {
        let hub = Arc::new(Hub::default());
        hub.delivered(Source::Video);
        let other = hub.clone();
        let audio = std::thread::spawn(move || other.delivered(Source::Audio));
        let waited = hub.wait_ready(Duration::from_secs(10));
        audio.join().map_err(|_| "the audio thread panicked")?;
        assert!(waited.is_ok(), "{waited:?}");
        Ok(())
    }

    #[test]
    fn ready_reports_a_failure_an_end_and_a_timeout() {
        let hub = Hub::default();
        let started = Instant::now();
        assert!(matches!(
            hub.wait_ready(Duration::from_millis(50)),
            Err(NotReady::TimedOut)
        ));
        assert!(started.elapsed() >= Duration::from_millis(50));
        hub.publish(CaptureEvent::AudioEnded);
        assert!(matches!(
            hub.wait_ready(Duration::from_secs(10)),
            Err(NotReady::Ended)
        ));
        hub.publish(CaptureEvent::VideoFailed(lost()));
        assert!(matches!(
            hub.wait_ready(Duration::from_secs(10)),
            Err(NotReady::Failed(_))
        ));
    }
}
