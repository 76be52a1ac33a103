//! A running camera and microphone: one thread per source pulling items, publishing the latest
//! picture and sound level for previews (latest value only), and feeding a recording when one
//! is attached. Media queues are bounded: a live source never waits for a slow encoder — the
//! frame is dropped and counted — while a file read with `--pace none` waits instead, since
//! nothing is lost by waiting.
//!
//! A recording attaches with an `origin` (time zero of the answer) and optionally an `end`;
//! the capture threads trim exactly there, so a 5 s recording holds 5 s of sound.
//!
//! What the sources report (ended, failed) has one owner, the session's [`events`] hub, which
//! keeps it and fans it out: [`CaptureSession::subscribe`] for a thread,
//! [`CaptureSession::subscribe_task`] for an async task. Nobody polls: a thread that waits
//! for the sources or for a recording to be attached sleeps on a Condvar.

mod events;
mod sinks;
mod threads;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::analyze::Level;
use super::frame::{AudioChunk, VideoFormat, VideoFrame};
use super::source::{AudioSource, CaptureError, KnownDevices, VideoSource};
use events::Hub;
pub(in crate::media) use events::Subscription;
pub use events::{CaptureEvent, NotReady};
use sinks::{Sink, Sinks};
use threads::{Shared, audio_loop, video_loop};

/// Frames queued between capture and the encoder before new ones are dropped (~0.25 s at 30
/// fps: enough to ride out a slow fsync, small enough to bound memory at 1080p).
const VIDEO_QUEUE: usize = 8;
/// Audio chunks (10 ms each) queued before the capture thread drops; 2 s.
const AUDIO_QUEUE: usize = 200;

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
    known: KnownDevices,
    live: bool,
    tap: Tap,
    cancel: CancellationToken,
    threads: Vec<JoinHandle<()>>,
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
        let known = KnownDevices {
            camera: video.camera_id(),
            microphone: audio.stable_name(),
        };
        let live = video.is_live() && audio.is_live();
        let tap = Tap {
            sinks: Arc::new(Sinks::default()),
            counters: Arc::new(CaptureCounters::default()),
            hub: Arc::new(Hub::default()),
        };
        let cancel = CancellationToken::new();
        let shared = || Shared {
            sinks: tap.sinks.clone(),
            counters: tap.counters.clone(),
            hub: tap.hub.clone(),
            cancel: cancel.clone(),
        };
        let (preview_tx, preview) = watch::channel(None);
        let (level_tx, level) = watch::channel(None);

        let threads = vec![
            spawn("booth-video-capture", {
                let shared = shared();
                move || video_loop(video, &shared, &preview_tx)
            }),
            spawn("booth-audio-capture", {
                let shared = shared();
                move || audio_loop(audio, &shared, &level_tx)
            }),
        ];
        CaptureSession {
            video_format,
            audio_channels,
            video_description,
            audio_description,
            known,
            live,
            tap,
            cancel,
            threads,
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

    /// How to find these very devices again, should they go away.
    pub fn known_devices(&self) -> &KnownDevices {
        &self.known
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
        &self.tap.counters
    }

    /// Every event of this session — those so far, then each as it happens — for a thread.
    pub fn subscribe(&self) -> Receiver<CaptureEvent> {
        self.tap.hub.subscribe()
    }

    /// Every event of this session, as [`CaptureSession::subscribe`], for an async task.
    pub fn subscribe_task(&self) -> mpsc::UnboundedReceiver<CaptureEvent> {
        self.tap.hub.subscribe_task()
    }

    /// The first source failure so far (a session whose source failed stays so).
    pub fn failure(&self) -> Option<Arc<CaptureError>> {
        self.tap.hub.failure()
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
    /// a camera still warming up; a source that ends or fails first ends the wait.
    pub fn wait_ready(&self, timeout: Duration) -> Result<(), NotReady> {
        self.tap.hub.wait_ready(timeout)
    }

    /// Starts feeding a recording whose time zero is `origin`; items captured before it are
    /// not part of the answer. With `end`, the capture threads close the feeds themselves
    /// once they pass it.
    pub fn attach(&self, origin: Instant, end: Option<Instant>) -> Feeds {
        let (vtx, video) = crossbeam_channel::bounded(VIDEO_QUEUE);
        let (atx, audio) = crossbeam_channel::bounded(AUDIO_QUEUE);
        self.tap.sinks.video.fill(Sink {
            tx: vtx,
            origin,
            end,
        });
        self.tap.sinks.audio.fill(Sink {
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

    /// What a recording keeps of the session to steer its feeds after it started.
    pub(in crate::media) fn tap(&self) -> Tap {
        self.tap.clone()
    }

    /// Stops both threads and waits for them.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.cancel.cancel();
        // After the cancel: wakes a thread waiting for a recording, which then sees it.
        self.tap.detach();
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

/// A recording's hold on the session: moving its end, closing its feeds, its events. It
/// keeps the session's shared parts, not the session: a recording never keeps the devices
/// open, and a closed session closes its feeds.
#[derive(Clone)]
pub(in crate::media) struct Tap {
    sinks: Arc<Sinks>,
    counters: Arc<CaptureCounters>,
    hub: Arc<Hub>,
}

impl Tap {
    /// Asks the capture threads to close the feeds after the items captured before `at`.
    pub(in crate::media) fn end_at(&self, at: Instant) {
        let earlier = |end: Option<Instant>| Some(end.map_or(at, |e| e.min(at)));
        self.sinks.video.with_end(earlier);
        self.sinks.audio.with_end(earlier);
    }

    /// Moves a recording's end later (never earlier); one without an end keeps none.
    pub(in crate::media) fn extend_end(&self, at: Instant) {
        let later = |end: Option<Instant>| end.map(|e| e.max(at));
        self.sinks.video.with_end(later);
        self.sinks.audio.with_end(later);
    }

    /// Closes the feeds now, whatever the sources are doing (a camera that stopped).
    pub(in crate::media) fn detach(&self) {
        self.sinks.close();
    }

    /// Whether a recording is still being fed.
    pub(in crate::media) fn attached(&self) -> bool {
        self.sinks.video.is_attached() || self.sinks.audio.is_attached()
    }

    pub(in crate::media) fn counters(&self) -> &CaptureCounters {
        &self.counters
    }

    /// Every event of the session, as [`CaptureSession::subscribe`], until dropped.
    pub(in crate::media) fn subscription(&self) -> Subscription {
        self.hub.subscription()
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
