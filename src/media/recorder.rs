//! The recording pipeline of one answer, from an attached capture session to a finished MP4
//! (started, stopped and waited for through [`super::recording`]):
//!
//! ```text
//!  capture ─frames (bounded)─► H.264 thread ─┐
//!                                             ├─► mux thread ─► answer.mp4.part ─(stop)─► answer.mp4
//!  capture ─chunks (bounded)─► AAC thread ───┘      (a fragment a second, fsynced)
//! ```
//!
//! Time: every item carries its monotonic capture instant. Video sample times are those
//! instants relative to the recording's origin (a late frame lengthens the one before it; the
//! timeline never shifts). Audio time is the sample count, anchored at the origin and
//! re-anchored when the device clock and the monotonic clock part by more than a threshold.
//!
//! Shutdown runs in pipeline order: the capture threads close the feeds at the end instant,
//! the encoders drain and flush, the muxer writes the last fragment, and only then is the
//! file finalized and the partial file removed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use super::capture::{CaptureCounters, CaptureSession, Feeds};
use super::encode::{
    AAC_FRAME, AacEncoder, EncodeError, EncodedPicture, H264Encoder, VideoEncoderConfig,
};
use super::mux::fmp4::FragmentWriter;
use super::mux::{self, MuxError, Sample, TrackSetup, VIDEO_TIMESCALE, finalize, scan};
use super::space;

/// Encoder settings for a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSettings {
    pub output: PathBuf,
    /// Video bitrate in b/s; `None` scales 2.5 Mb/s at 720p30 to the picture size.
    pub video_bitrate: Option<u32>,
    pub audio_bitrate: u32,
    pub idr_interval: Duration,
}

impl RecordSettings {
    pub fn new(output: impl Into<PathBuf>) -> Self {
        RecordSettings {
            output: output.into(),
            video_bitrate: None,
            audio_bitrate: 128_000,
            idr_interval: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error(transparent)]
    Mux(#[from] MuxError),
    #[error("the camera delivered no picture, so nothing was recorded")]
    NoPicture,
    /// Refused before recording: the answer would not fit on the disk.
    #[error(
        "not enough free disk space to record this answer at {}: it needs {} MB (with margin), {} MB are free",
        path.display(),
        needed.div_ceil(1_000_000),
        free / 1_000_000
    )]
    NoSpace {
        path: PathBuf,
        needed: u64,
        free: u64,
    },
    /// The recording ended early; what was captured up to then is kept where it says.
    #[error("recording stopped early: {cause}{}", kept_text(.kept))]
    Stopped {
        cause: Box<RecordError>,
        kept: Option<PathBuf>,
    },
}

fn kept_text(kept: &Option<PathBuf>) -> String {
    match kept {
        Some(p) => format!(" (what was recorded is kept in {})", p.display()),
        None => String::new(),
    }
}

/// What a finished recording holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub output: PathBuf,
    pub video_frames: u64,
    pub video_seconds: f64,
    pub audio_seconds: f64,
    pub bytes: u64,
    pub fragments: u32,
    /// Pictures the capture thread dropped because the encoder was behind.
    pub dropped_frames: u64,
    /// Pictures the camera sent that could not be decoded, skipped while recording.
    pub undecodable_frames: u64,
    /// False when the disk had no room to rewrite the answer as a normal MP4 and the
    /// fragmented file was delivered as it is (it plays; `booth recover` rewrites it later).
    pub finalized: bool,
}

enum MuxItem {
    Video(EncodedPicture, Option<(Vec<u8>, Vec<u8>)>),
    Audio(Vec<Vec<u8>>),
    AudioDone { frames: u64 },
    Failed(RecordError),
}

/// The encoder and mux threads of one recording, as started on an attached session. Its
/// lifecycle (when to end, when to give up on the sources) is [`super::recording`]'s.
pub(super) struct Pipeline {
    pub(super) output: PathBuf,
    pub(super) partial: PathBuf,
    dropped_at_start: u64,
    undecodable_at_start: u64,
    encoders: Vec<JoinHandle<()>>,
    mux: JoinHandle<Result<Summary, RecordError>>,
    /// Closed (or sent to) when the mux thread has finished, by itself or by a panic.
    pub(super) done: Receiver<()>,
    pub(super) recorded: Arc<AtomicU64>,
    /// Where the answer ends on the 90 kHz timeline, once known (`u64::MAX` until then).
    pub(super) end_ticks: Arc<AtomicU64>,
    pub(super) origin: Instant,
}

/// 90 kHz ticks from `origin` to `t` (0 before it), rounded to the nearest tick.
pub(super) fn ticks(origin: Instant, t: Instant) -> u64 {
    let ns = t.saturating_duration_since(origin).as_nanos();
    ((ns * VIDEO_TIMESCALE as u128 + 500_000_000) / 1_000_000_000) as u64
}

impl Pipeline {
    /// Attaches to `session` and starts encoding. `origin` is time zero of the answer; with
    /// `end` the capture threads close the feeds there by themselves.
    pub(super) fn start(
        session: &CaptureSession,
        origin: Instant,
        end: Option<Instant>,
        settings: &RecordSettings,
    ) -> Result<Pipeline, RecordError> {
        let format = session.video_format();
        let length = end.map(|e| e.saturating_duration_since(origin));
        let (video, audio, setup) = encoders(session, settings, length)?;
        let partial = mux::partial_path(&settings.output);
        crate::fsutil::create_parent_dir(&settings.output).map_err(MuxError::from)?;

        let Feeds {
            video: frames,
            audio: chunks,
            origin,
        } = session.attach(origin, end);
        let (tx, rx) = crossbeam_channel::bounded::<MuxItem>(256);
        let recorded = Arc::new(AtomicU64::new(0));
        let end_ticks = Arc::new(AtomicU64::new(end.map_or(u64::MAX, |e| ticks(origin, e))));
        let encoders = vec![
            spawn("booth-h264", {
                let tx = tx.clone();
                move || video_encoder(video, frames, tx)
            }),
            spawn("booth-aac", move || {
                audio_encoder(audio, chunks, origin, tx)
            }),
        ];
        let nominal = ticks(origin, origin + format.frame_duration()).max(1);
        let (done_tx, done) = crossbeam_channel::bounded(1);
        let mux = {
            let (partial, output, recorded, end_ticks) = (
                partial.clone(),
                settings.output.clone(),
                recorded.clone(),
                end_ticks.clone(),
            );
            std::thread::Builder::new()
                .name("booth-mux".into())
                .spawn(move || {
                    let timing = Timing {
                        origin,
                        nominal,
                        end: &end_ticks,
                    };
                    let result = mux_loop(rx, setup, timing, &partial, &output, &recorded);
                    // A panic drops `done_tx` instead: the waiter wakes either way.
                    let _ = done_tx.send(());
                    result
                })
                .map_err(|e| MuxError::write(&settings.output, e))?
        };
        let counters = session.counters();
        Ok(Pipeline {
            output: settings.output.clone(),
            partial,
            dropped_at_start: counters.frames_dropped.load(Ordering::Relaxed),
            undecodable_at_start: counters.frames_undecodable.load(Ordering::Relaxed),
            encoders,
            mux,
            done,
            recorded,
            end_ticks,
            origin,
        })
    }

    /// Waits for the threads (the feeds must be closed, or they wait for ever) and returns
    /// what the recording holds; `counters` are the session's.
    pub(super) fn join(self, counters: &CaptureCounters) -> Result<Summary, RecordError> {
        for t in self.encoders {
            if t.join().is_err() {
                tracing::error!("an encoder thread panicked");
            }
        }
        let dropped = counters.frames_dropped.load(Ordering::Relaxed) - self.dropped_at_start;
        let undecodable =
            counters.frames_undecodable.load(Ordering::Relaxed) - self.undecodable_at_start;
        match self.mux.join() {
            Ok(result) => result.map(|s| Summary {
                dropped_frames: dropped,
                undecodable_frames: undecodable,
                ..s
            }),
            Err(_) => Err(RecordError::Stopped {
                cause: Box::new(RecordError::Mux(MuxError::Encode("muxer panicked".into()))),
                kept: Some(self.partial),
            }),
        }
    }
}

/// The two encoders and the tracks they make, once the disk is known to have room for an
/// answer of `length`.
fn encoders(
    session: &CaptureSession,
    settings: &RecordSettings,
    length: Option<Duration>,
) -> Result<(H264Encoder, AacEncoder, TrackSetup), RecordError> {
    let format = session.video_format();
    let video_bitrate = settings.video_bitrate.unwrap_or_else(|| {
        VideoEncoderConfig::default_bitrate(format.width, format.height, format.fps)
    });
    check_room(
        &settings.output,
        length,
        video_bitrate,
        settings.audio_bitrate,
    )?;
    let video = H264Encoder::new(VideoEncoderConfig {
        width: format.width,
        height: format.height,
        fps: format.fps,
        bitrate: video_bitrate,
        idr_interval: settings.idr_interval,
    })?;
    let audio = AacEncoder::new(session.audio_channels(), settings.audio_bitrate)?;
    let setup = TrackSetup {
        width: format.width,
        height: format.height,
        sps: Vec::new(),
        pps: Vec::new(),
        audio_channels: audio.channels(),
        audio_config: audio.audio_specific_config().to_vec(),
        audio_priming: audio.delay(),
        audio_bitrate: settings.audio_bitrate,
    };
    Ok((video, audio, setup))
}

/// Refuses an answer that would not fit on the disk (see [`space`] for the margin).
fn check_room(
    output: &Path,
    length: Option<Duration>,
    video_bitrate: u32,
    audio_bitrate: u32,
) -> Result<(), RecordError> {
    match space::room_for(output, length, video_bitrate, audio_bitrate) {
        Ok(room) if !room.fits() => Err(RecordError::NoSpace {
            path: room.path,
            needed: room.needed,
            free: room.free,
        }),
        Ok(_) => Ok(()),
        // Not knowing is no reason to refuse: a disk that fills says so while recording.
        Err(e) => {
            tracing::warn!(error = %e, "cannot measure free space before recording");
            Ok(())
        }
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    match std::thread::Builder::new().name(name.into()).spawn(f) {
        Ok(h) => h,
        // Only fails when the process is out of threads; a recording cannot run without it.
        Err(e) => panic!("cannot start {name}: {e}"),
    }
}

/// The video timeline's fixed points, as the muxer sees them.
struct Timing<'a> {
    origin: Instant,
    /// One frame at the nominal rate, in 90 kHz ticks.
    nominal: u64,
    end: &'a AtomicU64,
}

fn mux_loop(
    rx: Receiver<MuxItem>,
    setup: TrackSetup,
    timing: Timing<'_>,
    partial: &Path,
    output: &Path,
    recorded: &AtomicU64,
) -> Result<Summary, RecordError> {
    let mut mux = Muxer {
        setup,
        timing,
        partial,
        recorded,
        writer: None,
        held_audio: Vec::new(),
        prev: None,
        position: 0,
        audio_frames: None,
    };
    let mut failure: Option<RecordError> = None;
    for item in &rx {
        if let Err(e) = mux.take(item) {
            tracing::error!(error = %e, "recording pipeline failed");
            failure = Some(e);
            break;
        }
    }
    drop(rx);

    let Some(mut w) = mux.writer.take() else {
        return Err(failure.unwrap_or(RecordError::NoPicture));
    };
    if failure.is_none() {
        failure = mux.write_tail(&mut w).err();
    }
    close_and_deliver(w, failure, (partial, output), mux.audio_frames, recorded)
}

/// The muxer thread's state between items: the file opens on the first picture (it carries
/// the parameter sets), so audio that comes earlier is held until then; each picture is
/// written when the next one arrives, since its duration is the gap to it.
struct Muxer<'a> {
    setup: TrackSetup,
    timing: Timing<'a>,
    partial: &'a Path,
    recorded: &'a AtomicU64,
    writer: Option<FragmentWriter>,
    held_audio: Vec<Vec<u8>>,
    prev: Option<EncodedPicture>,
    /// Where the written video ends, in 90 kHz ticks.
    position: u64,
    audio_frames: Option<u64>,
}

impl Muxer<'_> {
    fn take(&mut self, item: MuxItem) -> Result<(), RecordError> {
        match item {
            MuxItem::Video(pic, params) => self.video(pic, params),
            MuxItem::Audio(units) => {
                match self.writer.as_mut() {
                    Some(w) => units
                        .into_iter()
                        .try_for_each(|unit| w.push_audio(audio_sample(unit)))?,
                    None => self.held_audio.extend(units),
                }
                Ok(())
            }
            MuxItem::AudioDone { frames } => {
                self.audio_frames = Some(frames);
                Ok(())
            }
            MuxItem::Failed(e) => Err(e),
        }
    }

    fn video(
        &mut self,
        pic: EncodedPicture,
        params: Option<(Vec<u8>, Vec<u8>)>,
    ) -> Result<(), RecordError> {
        if self.writer.is_none() {
            let Some((sps, pps)) = params else {
                return Err(RecordError::Encode(EncodeError::Video {
                    width: self.setup.width,
                    height: self.setup.height,
                    detail: "first picture came without parameter sets".into(),
                }));
            };
            self.setup.sps = sps;
            self.setup.pps = pps;
            log_first_picture(self.timing.origin, pic.captured);
            let mut w = FragmentWriter::create(self.partial, &self.setup)?;
            for unit in self.held_audio.drain(..) {
                w.push_audio(audio_sample(unit))?;
            }
            self.writer = Some(w);
        }
        let Some(w) = self.writer.as_mut() else {
            return Ok(());
        };
        let pts = ticks(self.timing.origin, pic.captured);
        if let Some(p) = self.prev.take() {
            // The first picture is shown from time zero; each later one from its own capture
            // time, so gaps lengthen the picture before them.
            let duration = pts.saturating_sub(self.position).max(1);
            push_video(w, p, duration)?;
            self.position += duration;
            self.recorded.store(self.position, Ordering::Relaxed);
        }
        self.prev = Some(pic);
        Ok(())
    }

    /// The last picture and any audio still held, once the pipeline ended cleanly.
    fn write_tail(&mut self, w: &mut FragmentWriter) -> Result<(), RecordError> {
        if let Some(p) = self.prev.take() {
            // The last picture lasts until the end of the answer, when that is near; a source
            // that ended long before the end does not freeze its last picture for ages.
            let end = self.timing.end.load(Ordering::Relaxed);
            let last = match end.checked_sub(self.position) {
                Some(d) if end != u64::MAX && d > 0 && d <= 2 * self.timing.nominal => d,
                _ => self.timing.nominal,
            };
            push_video(w, p, last)?;
        }
        for unit in self.held_audio.drain(..) {
            w.push_audio(audio_sample(unit))?;
        }
        Ok(())
    }
}

/// The first picture of an answer, with when the camera captured it: after the answer's time
/// zero, and as wall-clock time, so that a key press timed outside booth (`booth bench`'s
/// kiosk) can be set against the first picture in the file.
fn log_first_picture(origin: Instant, captured: Instant) {
    let ago = captured.elapsed();
    let unix_us = std::time::SystemTime::now()
        .checked_sub(ago)
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_micros());
    tracing::info!(
        after_start_ms = captured.saturating_duration_since(origin).as_secs_f64() * 1000.0,
        captured_unix_us = unix_us as u64,
        "first picture of the answer"
    );
}

fn push_video(w: &mut FragmentWriter, pic: EncodedPicture, duration: u64) -> Result<(), MuxError> {
    w.push_video(Sample {
        data: pic.data,
        duration: duration.clamp(1, u32::MAX as u64) as u32,
        sync: pic.keyframe,
    })
}

/// Writes the last fragment, then delivers the answer under its final name (rewritten, or
/// as recorded when the disk has no room for that); `failure` is what stopped the pipeline
/// early, if anything did.
fn close_and_deliver(
    w: FragmentWriter,
    failure: Option<RecordError>,
    (partial, output): (&Path, &Path),
    audio_frames: Option<u64>,
    recorded: &AtomicU64,
) -> Result<Summary, RecordError> {
    let stats = match w.finish() {
        Ok(s) => s,
        Err(e) => {
            return Err(RecordError::Stopped {
                cause: Box::new(failure.unwrap_or(e.into())),
                kept: Some(partial.to_path_buf()),
            });
        }
    };
    recorded.store(stats.video_time, Ordering::Relaxed);

    let finished = scan::scan(partial).and_then(|scan| {
        finalize::deliver(
            &scan,
            partial,
            output,
            audio_frames,
            finalize::Existing::Replace,
        )
    });
    let finished = match finished {
        Ok(f) => f,
        Err(e) => {
            return Err(RecordError::Stopped {
                cause: Box::new(failure.unwrap_or(e.into())),
                kept: Some(partial.to_path_buf()),
            });
        }
    };
    // Delivered as recorded, the partial file itself became the output.
    if finished.finalized
        && let Err(e) = std::fs::remove_file(partial)
    {
        tracing::warn!(path = %partial.display(), error = %e, "cannot remove the partial file");
    }
    if let Some(cause) = failure {
        return Err(RecordError::Stopped {
            cause: Box::new(cause),
            kept: Some(output.to_path_buf()),
        });
    }
    Ok(Summary {
        output: output.to_path_buf(),
        video_frames: finished.video_frames,
        video_seconds: finished.video_seconds,
        audio_seconds: finished.audio_seconds,
        bytes: finished.bytes,
        fragments: stats.fragments,
        dropped_frames: 0,
        undecodable_frames: 0,
        finalized: finished.finalized,
    })
}

fn audio_sample(data: Vec<u8>) -> Sample {
    Sample {
        data,
        duration: AAC_FRAME,
        sync: true,
    }
}

#[path = "recorder_encoders.rs"]
mod encoders;
use encoders::{audio_encoder, video_encoder};

#[cfg(test)]
#[path = "recorder_tests.rs"]
mod tests;
