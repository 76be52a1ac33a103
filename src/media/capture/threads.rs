//! The two capture threads: each pulls its source, publishes the newest picture or level for
//! previews, and routes every item to the attached recording, trimmed to its `[origin, end)`.
//! A live source never waits for a slow encoder (the item is dropped and counted); a file read
//! with `--pace none` waits instead, and reads nothing until a recording is attached.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crossbeam_channel::{Sender, TrySendError};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::CaptureCounters;
use super::events::{CaptureEvent, Hub, Source};
use super::sinks::{Sink, Sinks, Slot};
use crate::media::analyze::{Level, LevelMeter};
use crate::media::frame::{AudioChunk, VideoFrame, duration_to_frames, frames_to_duration};
use crate::media::source::{AudioSource, CaptureError, VideoSource};
use crate::media::undecodable::{Undecodable, Verdict};

/// What a capture thread shares with the session.
pub(super) struct Shared {
    pub(super) sinks: Arc<Sinks>,
    pub(super) counters: Arc<CaptureCounters>,
    pub(super) hub: Arc<Hub>,
    pub(super) cancel: CancellationToken,
}

/// Where an item goes, decided under the lock, sent outside it.
enum Route<T> {
    Skip,
    Send(Sender<T>, bool),
    SendThenClose(Sender<T>, bool),
    Close,
}

impl<T> Route<T> {
    /// Applies a `Close` decision to the sink slot while the lock is still held.
    fn close_if<U>(self, slot: &mut Option<Sink<U>>) -> Self {
        if matches!(self, Route::Close | Route::SendThenClose(..)) {
            slot.take();
        }
        self
    }
}

/// The source is done (ended or failed): its recording's queue closes, everyone hears it.
fn finished<T>(slot: &Slot<T>, hub: &Hub, event: CaptureEvent) {
    slot.close();
    hub.publish(event);
}

pub(super) fn video_loop(
    mut source: Box<dyn VideoSource>,
    shared: &Shared,
    preview: &watch::Sender<Option<Arc<VideoFrame>>>,
) {
    let Shared {
        sinks,
        counters,
        hub,
        cancel,
    } = shared;
    let live = source.is_live();
    let mut undecodable = Undecodable::default();
    let mut delivered = false;
    while !cancel.is_cancelled() {
        if !live {
            sinks.video.wait_attached(cancel);
            if cancel.is_cancelled() {
                break;
            }
        }
        let frame = match source.next_frame() {
            Ok(Some(f)) => {
                undecodable.good();
                Arc::new(f)
            }
            Err(CaptureError::CorruptFrame {
                device,
                captured,
                detail,
            }) => {
                counters.frames_undecodable.fetch_add(1, Ordering::Relaxed);
                match undecodable.bad(&device, captured, &detail) {
                    Verdict::Skip => continue,
                    Verdict::Lost(e) => {
                        tracing::error!(error = %e, "video capture failed");
                        finished(&sinks.video, hub, CaptureEvent::VideoFailed(Arc::new(e)));
                        break;
                    }
                }
            }
            Ok(None) => {
                finished(&sinks.video, hub, CaptureEvent::VideoEnded);
                break;
            }
            Err(e) => {
                tracing::error!(error = %e, "video capture failed");
                finished(&sinks.video, hub, CaptureEvent::VideoFailed(Arc::new(e)));
                break;
            }
        };
        counters.frames_captured.fetch_add(1, Ordering::Relaxed);
        if !delivered {
            delivered = true;
            hub.delivered(Source::Video);
        }
        preview.send_replace(Some(frame.clone()));

        let route = {
            let mut guard = sinks.video.lock();
            match guard.as_ref() {
                None => Route::Skip,
                Some(s) if frame.captured < s.origin => Route::Skip,
                Some(s) if s.end.is_some_and(|e| frame.captured >= e) => Route::Close,
                Some(s) => Route::Send(s.tx.clone(), live),
            }
            .close_if(&mut guard)
        };
        if let Route::Send(tx, live) = route
            && !deliver(&tx, frame, live, &counters.frames_dropped)
        {
            // The recording went away (its encoder stopped): stop feeding it.
            sinks.video.close();
        }
    }
}

/// Sends to a recording; false when its receiver is gone.
fn deliver<T>(tx: &Sender<T>, item: T, live: bool, dropped: &AtomicU64) -> bool {
    if live {
        match tx.try_send(item) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                dropped.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    } else {
        tx.send(item).is_ok()
    }
}

pub(super) fn audio_loop(
    mut source: Box<dyn AudioSource>,
    shared: &Shared,
    level: &watch::Sender<Option<Level>>,
) {
    let Shared {
        sinks,
        counters,
        hub,
        cancel,
    } = shared;
    let live = source.is_live();
    let mut meter = LevelMeter::new(source.channels());
    let mut delivered = false;
    while !cancel.is_cancelled() {
        if !live {
            sinks.audio.wait_attached(cancel);
            if cancel.is_cancelled() {
                break;
            }
        }
        let chunk = match source.next_chunk() {
            Ok(Some(c)) => c,
            Ok(None) => {
                finished(&sinks.audio, hub, CaptureEvent::AudioEnded);
                break;
            }
            Err(e) => {
                tracing::error!(error = %e, "audio capture failed");
                finished(&sinks.audio, hub, CaptureEvent::AudioFailed(Arc::new(e)));
                break;
            }
        };
        counters
            .audio_frames_captured
            .fetch_add(chunk.frames() as u64, Ordering::Relaxed);
        if !delivered {
            delivered = true;
            hub.delivered(Source::Audio);
        }
        if let Some(l) = meter.push(&chunk.samples).pop() {
            level.send_replace(Some(l));
        }

        let mut chunk = Some(chunk);
        let route = {
            let mut guard = sinks.audio.lock();
            match (guard.as_ref(), chunk.as_mut()) {
                (Some(s), Some(c)) => {
                    trim_audio(c, s.origin, s.end);
                    let past_end = s.end.is_some_and(|e| c.end() >= e);
                    match (c.frames() > 0, past_end) {
                        (false, true) => Route::Close,
                        (false, false) => Route::Skip,
                        (true, true) => Route::SendThenClose(s.tx.clone(), live),
                        (true, false) => Route::Send(s.tx.clone(), live),
                    }
                }
                _ => Route::Skip,
            }
            .close_if(&mut guard)
        };
        if let (Route::Send(tx, live) | Route::SendThenClose(tx, live), Some(c)) = (route, chunk)
            && !deliver(&tx, c, live, &counters.audio_chunks_dropped)
        {
            sinks.audio.close();
        }
    }
}

/// Cuts `chunk` down to the part captured in `[origin, end)`.
fn trim_audio(chunk: &mut AudioChunk, origin: Instant, end: Option<Instant>) {
    let ch = chunk.channels.max(1) as usize;
    if let Some(end) = end {
        let keep = duration_to_frames(end.saturating_duration_since(chunk.captured)) as usize;
        if keep < chunk.frames() {
            chunk.samples.truncate(keep * ch);
        }
    }
    if chunk.captured < origin {
        let skip = (duration_to_frames(origin - chunk.captured) as usize).min(chunk.frames());
        chunk.samples.drain(..skip * ch);
        chunk.captured += frames_to_duration(skip as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn chunk(start: Instant, frames: usize) -> AudioChunk {
        AudioChunk {
            channels: 2,
            samples: (0..frames * 2).map(|i| i as i16).collect(),
            captured: start,
        }
    }

    #[test]
    fn trim_cuts_exactly_at_origin_and_end() {
        let t = Instant::now();
        let mut c = chunk(t, 480);
        trim_audio(
            &mut c,
            t + Duration::from_millis(2),
            Some(t + Duration::from_millis(7)),
        );
        assert_eq!(c.frames(), 240);
        assert_eq!(c.captured, t + Duration::from_millis(2));
        // The first kept sample is frame 96 (2 ms at 48 kHz), both channels.
        assert_eq!(&c.samples[..2], &[192, 193]);
    }

    #[test]
    fn trim_drops_chunks_outside_the_window() {
        let t = Instant::now();
        let mut before = chunk(t, 480);
        trim_audio(&mut before, t + Duration::from_secs(1), None);
        assert_eq!(before.frames(), 0);
        let mut after = chunk(t + Duration::from_secs(2), 480);
        trim_audio(&mut after, t, Some(t + Duration::from_secs(1)));
        assert_eq!(after.frames(), 0);
    }
}
