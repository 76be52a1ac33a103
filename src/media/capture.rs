//! A running camera and microphone: one thread per source pulling items, publishing the latest
//! picture and sound level for previews (latest value only), and feeding a recording when one
//! is attached. Media queues are bounded: a live source never waits for a slow encoder — the
//! frame is dropped and counted — while a file read with `--pace none` waits instead, since
//! nothing is lost by waiting.
//!
//! A recording attaches with an `origin` (time zero of the answer) and optionally an `end`;
//! the capture threads trim exactly there, so a 5 s recording holds 5 s of sound.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::analyze::{Level, LevelMeter};
use super::frame::{AudioChunk, VideoFormat, VideoFrame, duration_to_frames, frames_to_duration};
use super::source::{AudioSource, CaptureError, VideoSource};
use super::undecodable::{Undecodable, Verdict};
use crate::sync::lock;

/// Frames queued between capture and the encoder before new ones are dropped (~0.25 s at 30
/// fps: enough to ride out a slow fsync, small enough to bound memory at 1080p).
const VIDEO_QUEUE: usize = 8;
/// Audio chunks (10 ms each) queued before the capture thread drops; 2 s.
const AUDIO_QUEUE: usize = 200;

/// Things the front end should hear about, rarely.
#[derive(Debug)]
pub enum CaptureEvent {
    VideoEnded,
    AudioEnded,
    VideoFailed(CaptureError),
    AudioFailed(CaptureError),
}

/// Counters shared by the capture threads and whoever asks.
#[derive(Debug, Default)]
pub struct CaptureCounters {
    pub frames_captured: AtomicU64,
    pub frames_dropped: AtomicU64,
    /// Pictures the camera sent that could not be decoded, skipped (see [`super::undecodable`]).
    pub frames_undecodable: AtomicU64,
    pub audio_frames_captured: AtomicU64,
    pub audio_chunks_dropped: AtomicU64,
}

struct Sink<T> {
    tx: Sender<T>,
    origin: Instant,
    end: Option<Instant>,
}

#[derive(Default)]
struct Sinks {
    video: Mutex<Option<Sink<Arc<VideoFrame>>>>,
    audio: Mutex<Option<Sink<AudioChunk>>>,
}

/// The receiving ends a recording reads from.
pub struct Feeds {
    pub video: Receiver<Arc<VideoFrame>>,
    pub audio: Receiver<AudioChunk>,
    pub origin: Instant,
}

pub struct CaptureSession {
    video_format: VideoFormat,
    audio_channels: u16,
    video_description: String,
    audio_description: String,
    live: bool,
    sinks: Arc<Sinks>,
    counters: Arc<CaptureCounters>,
    cancel: CancellationToken,
    threads: Vec<JoinHandle<()>>,
    events: Receiver<CaptureEvent>,
    preview: watch::Receiver<Option<Arc<VideoFrame>>>,
    level: watch::Receiver<Option<Level>>,
}

impl CaptureSession {
    /// Starts pulling from both sources at once.
    pub fn start(video: Box<dyn VideoSource>, audio: Box<dyn AudioSource>) -> Self {
        let video_format = video.format();
        let audio_channels = audio.channels();
        let video_description = video.describe();
        let audio_description = audio.describe();
        let live = video.is_live() && audio.is_live();
        let sinks = Arc::new(Sinks::default());
        let counters = Arc::new(CaptureCounters::default());
        let cancel = CancellationToken::new();
        let (event_tx, events) = crossbeam_channel::unbounded();
        let (preview_tx, preview) = watch::channel(None);
        let (level_tx, level) = watch::channel(None);

        let mut threads = Vec::new();
        {
            let (sinks, counters, cancel, events) = (
                sinks.clone(),
                counters.clone(),
                cancel.clone(),
                event_tx.clone(),
            );
            threads.push(spawn("booth-video-capture", move || {
                video_loop(video, &sinks, &counters, &cancel, &events, &preview_tx)
            }));
        }
        {
            let (sinks, counters, cancel) = (sinks.clone(), counters.clone(), cancel.clone());
            threads.push(spawn("booth-audio-capture", move || {
                audio_loop(audio, &sinks, &counters, &cancel, &event_tx, &level_tx)
            }));
        }
        CaptureSession {
            video_format,
            audio_channels,
            video_description,
            audio_description,
            live,
            sinks,
            counters,
            cancel,
            threads,
            events,
            preview,
            level,
        }
    }

    pub fn video_format(&self) -> VideoFormat {
        self.video_format
    }

    pub fn audio_channels(&self) -> u16 {
        self.audio_channels
    }

    pub fn describe(&self) -> (String, String) {
        (
            self.video_description.clone(),
            self.audio_description.clone(),
        )
    }

    /// Whether both sources run on their own clock (devices, realtime files).
    pub fn is_live(&self) -> bool {
        self.live
    }

    pub fn counters(&self) -> &CaptureCounters {
        &self.counters
    }

    pub fn events(&self) -> &Receiver<CaptureEvent> {
        &self.events
    }

    /// The newest picture, for previews.
    pub fn preview(&self) -> watch::Receiver<Option<Arc<VideoFrame>>> {
        self.preview.clone()
    }

    /// The newest 50 ms sound level, for meters.
    pub fn level(&self) -> watch::Receiver<Option<Level>> {
        self.level.clone()
    }

    /// Waits until both sources have delivered something, so a recording does not start on
    /// a camera still warming up. Returns false on timeout or when a source failed.
    pub fn wait_ready(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let video = self.counters.frames_captured.load(Ordering::Relaxed) > 0;
            let audio = self.counters.audio_frames_captured.load(Ordering::Relaxed) > 0;
            if video && audio {
                return true;
            }
            if !self.events.is_empty() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    /// Starts feeding a recording whose time zero is `origin`; items captured before it are
    /// not part of the answer. With `end`, the capture threads close the feeds themselves
    /// once they pass it.
    pub fn attach(&self, origin: Instant, end: Option<Instant>) -> Feeds {
        let (vtx, video) = crossbeam_channel::bounded(VIDEO_QUEUE);
        let (atx, audio) = crossbeam_channel::bounded(AUDIO_QUEUE);
        *lock(&self.sinks.video) = Some(Sink {
            tx: vtx,
            origin,
            end,
        });
        *lock(&self.sinks.audio) = Some(Sink {
            tx: atx,
            origin,
            end,
        });
        Feeds {
            video,
            audio,
            origin,
        }
    }

    /// Asks the capture threads to close the feeds after the items captured before `at`.
    pub fn end_at(&self, at: Instant) {
        for end in [
            lock(&self.sinks.video).as_mut().map(|s| &mut s.end),
            lock(&self.sinks.audio).as_mut().map(|s| &mut s.end),
        ]
        .into_iter()
        .flatten()
        {
            *end = Some(end.map_or(at, |e| e.min(at)));
        }
    }

    /// Moves a recording's end later (never earlier); one without an end keeps none.
    pub fn extend_end(&self, at: Instant) {
        for end in [
            lock(&self.sinks.video).as_mut().map(|s| &mut s.end),
            lock(&self.sinks.audio).as_mut().map(|s| &mut s.end),
        ]
        .into_iter()
        .flatten()
        {
            *end = end.map(|e| e.max(at));
        }
    }

    /// Closes the feeds now, whatever the sources are doing (a camera that stopped).
    pub fn detach(&self) {
        lock(&self.sinks.video).take();
        lock(&self.sinks.audio).take();
    }

    /// Whether a recording is still being fed.
    pub fn attached(&self) -> bool {
        lock(&self.sinks.video).is_some() || lock(&self.sinks.audio).is_some()
    }

    /// Stops both threads and waits for them.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.cancel.cancel();
        self.detach();
        for t in self.threads.drain(..) {
            if t.join().is_err() {
                tracing::error!("a capture thread panicked");
            }
        }
    }
}

impl Drop for CaptureSession {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    match std::thread::Builder::new().name(name.into()).spawn(f) {
        Ok(h) => h,
        // Thread creation only fails when the process is out of resources; nothing sensible
        // can continue without its capture threads.
        Err(e) => panic!("cannot start {name}: {e}"),
    }
}

/// Waits (for non-live sources) until a recording is attached, so no file frame is read
/// before anyone takes it.
fn wait_for_sink<T>(sink: &Mutex<Option<Sink<T>>>, cancel: &CancellationToken) {
    while lock(sink).is_none() && !cancel.is_cancelled() {
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Where an item goes, decided under the lock, sent outside it.
enum Route<T> {
    Skip,
    Send(Sender<T>, bool),
    SendThenClose(Sender<T>, bool),
    Close,
}

fn video_loop(
    mut source: Box<dyn VideoSource>,
    sinks: &Sinks,
    counters: &CaptureCounters,
    cancel: &CancellationToken,
    events: &Sender<CaptureEvent>,
    preview: &watch::Sender<Option<Arc<VideoFrame>>>,
) {
    let live = source.is_live();
    let mut undecodable = Undecodable::default();
    while !cancel.is_cancelled() {
        if !live {
            wait_for_sink(&sinks.video, cancel);
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
                        lock(&sinks.video).take();
                        let _ = events.send(CaptureEvent::VideoFailed(e));
                        break;
                    }
                }
            }
            Ok(None) => {
                lock(&sinks.video).take();
                let _ = events.send(CaptureEvent::VideoEnded);
                break;
            }
            Err(e) => {
                tracing::error!(error = %e, "video capture failed");
                lock(&sinks.video).take();
                let _ = events.send(CaptureEvent::VideoFailed(e));
                break;
            }
        };
        counters.frames_captured.fetch_add(1, Ordering::Relaxed);
        preview.send_replace(Some(frame.clone()));

        let route = {
            let mut guard = lock(&sinks.video);
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
            lock(&sinks.video).take();
        }
    }
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

fn audio_loop(
    mut source: Box<dyn AudioSource>,
    sinks: &Sinks,
    counters: &CaptureCounters,
    cancel: &CancellationToken,
    events: &Sender<CaptureEvent>,
    level: &watch::Sender<Option<Level>>,
) {
    let live = source.is_live();
    let mut meter = LevelMeter::new(source.channels());
    while !cancel.is_cancelled() {
        if !live {
            wait_for_sink(&sinks.audio, cancel);
            if cancel.is_cancelled() {
                break;
            }
        }
        let chunk = match source.next_chunk() {
            Ok(Some(c)) => c,
            Ok(None) => {
                lock(&sinks.audio).take();
                let _ = events.send(CaptureEvent::AudioEnded);
                break;
            }
            Err(e) => {
                tracing::error!(error = %e, "audio capture failed");
                lock(&sinks.audio).take();
                let _ = events.send(CaptureEvent::AudioFailed(e));
                break;
            }
        };
        counters
            .audio_frames_captured
            .fetch_add(chunk.frames() as u64, Ordering::Relaxed);
        if let Some(l) = meter.push(&chunk.samples).pop() {
            level.send_replace(Some(l));
        }

        let mut chunk = Some(chunk);
        let route = {
            let mut guard = lock(&sinks.audio);
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
            lock(&sinks.audio).take();
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
