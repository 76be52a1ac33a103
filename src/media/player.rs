//! Playing a take or a question video: pictures decoded with OpenH264 and handed out at their
//! presentation time, sound decoded with FDK AAC and played through the default output device
//! when the station has one. Runs on its own thread; stops when asked or at the end, and
//! holds still while paused (the picture stays, the speaker stops, and the clock of what is
//! left moves on by the pause). Between pictures the thread waits for the next one's due time
//! on the stop and pause channels, so a stop or a pause is immediate and nothing polls.

use std::cell::Cell;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use crossbeam_channel::{Receiver, Sender, TryRecvError, select};
use openh264::decoder::Decoder;
use openh264::formats::YUVSource;

use super::analyze::{Level, LevelMeter};
use super::frame::{AUDIO_RATE, VideoFrame, i420_len};
use super::mp4read::{self, SampleInfo, Track, TrackKind};

#[derive(Debug, Clone)]
pub enum PlayerEvent {
    Frame(Arc<VideoFrame>),
    /// The sound's level as it plays (also when there is no speaker to hear it on).
    Level(Level),
    /// The file has sound but this station has no output device to play it on.
    NoSpeaker,
    Position {
        position: Duration,
        length: Duration,
    },
    Ended,
    Failed(String),
}

/// Sound is decoded this far ahead of the picture, so the speaker never runs dry.
const SOUND_AHEAD: f64 = 0.3;

/// A playback in progress; stops (and joins its thread) when dropped.
pub struct Player {
    /// Dropping it is the request to stop.
    stop: Option<Sender<()>>,
    pause: Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

/// The player thread's side of its controls: a stop (the [`Player`] dropping its sender),
/// pauses, and the clock the pictures and the sound are timed by, which a pause moves on.
struct StopSignal {
    stop: Receiver<()>,
    pause: Receiver<bool>,
    /// The instant the playback's time zero falls on, later by every pause so far.
    origin: Cell<Instant>,
}

impl StopSignal {
    fn requested(&self) -> bool {
        matches!(self.stop.try_recv(), Err(TryRecvError::Disconnected))
    }

    /// The instant `secs` into the playback is due.
    fn at(&self, secs: f64) -> Instant {
        self.origin.get() + Duration::from_secs_f64(secs.max(0.0))
    }

    /// Seconds into the playback now.
    fn elapsed(&self) -> f64 {
        self.origin.get().elapsed().as_secs_f64()
    }

    /// Waits until `secs` into the playback unless a stop comes first; true when it did. A
    /// pause holds the wait (and the `speaker`) until it is lifted.
    fn wait_until(&self, secs: f64, speaker: Option<&cpal::Stream>) -> bool {
        loop {
            let due = self.at(secs);
            select! {
                recv(self.stop) -> _ => return true,
                recv(self.pause) -> asked => match asked {
                    Ok(true) => {
                        if self.hold(speaker) {
                            return true;
                        }
                    }
                    Ok(false) => {}
                    Err(_) => return true,
                },
                default(due.saturating_duration_since(Instant::now())) => return false,
            }
        }
    }

    /// Paused: waits for the resume (or a stop, then true), the speaker silent meanwhile;
    /// the clock moves on by the pause so that nothing plays late or skips.
    fn hold(&self, speaker: Option<&cpal::Stream>) -> bool {
        let began = Instant::now();
        if let Some(s) = speaker
            && let Err(e) = s.pause()
        {
            tracing::debug!(error = %e, "the speaker does not pause");
        }
        let stopped = loop {
            select! {
                recv(self.stop) -> _ => break true,
                recv(self.pause) -> asked => match asked {
                    Ok(true) => {}
                    Ok(false) => break false,
                    Err(_) => break true,
                },
            }
        };
        self.origin.set(self.origin.get() + began.elapsed());
        if let Some(s) = speaker
            && let Err(e) = s.play()
        {
            tracing::warn!(error = %e, "the speaker did not resume");
        }
        stopped
    }
}

impl Player {
    /// Starts playing `path`; `sound` asks for the default output device (skipped silently
    /// when there is none: the picture still plays).
    pub fn start(
        path: PathBuf,
        sound: bool,
        mut events: impl FnMut(PlayerEvent) + Send + 'static,
    ) -> Player {
        let (stop, stopped) = crossbeam_channel::bounded(1);
        let (pause, paused) = crossbeam_channel::unbounded();
        let signal = StopSignal {
            stop: stopped,
            pause: paused,
            origin: Cell::new(Instant::now()),
        };
        let thread = std::thread::Builder::new()
            .name("booth-player".into())
            .spawn(move || match play(&path, sound, &signal, &mut events) {
                Ok(()) => {
                    if !signal.requested() {
                        events(PlayerEvent::Ended)
                    }
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "playback failed");
                    events(PlayerEvent::Failed(e));
                }
            })
            .ok();
        Player {
            stop: Some(stop),
            pause,
            thread,
        }
    }

    /// Holds the playback at its picture (`true`) or lets it go on (`false`).
    pub fn pause(&self, paused: bool) {
        // The thread has ended when nobody receives: nothing left to hold.
        let _ = self.pause.send(paused);
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// AVCC sample → Annex B, for the decoder.
pub(super) fn annexb(sample: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i + 4 <= sample.len() {
        let len =
            u32::from_be_bytes([sample[i], sample[i + 1], sample[i + 2], sample[i + 3]]) as usize;
        let end = (i + 4 + len).min(sample.len());
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(&sample[i + 4..end]);
        i = end;
    }
}

fn packed_frame(yuv: &impl YUVSource, captured: Instant) -> VideoFrame {
    let (w, h) = yuv.dimensions();
    let (sy, su, sv) = yuv.strides();
    let mut data = Vec::with_capacity(i420_len(w as u32, h as u32));
    for row in 0..h {
        data.extend_from_slice(&yuv.y()[row * sy..row * sy + w]);
    }
    for row in 0..h / 2 {
        data.extend_from_slice(&yuv.u()[row * su..row * su + w / 2]);
    }
    for row in 0..h / 2 {
        data.extend_from_slice(&yuv.v()[row * sv..row * sv + w / 2]);
    }
    VideoFrame {
        width: w as u32 & !1,
        height: h as u32 & !1,
        data,
        captured,
    }
}

/// Sound output: a ring the device callback drains, and the stream keeping it alive.
struct Output {
    stream: cpal::Stream,
    ring: rtrb::Producer<i16>,
    channels: u16,
}

fn open_output(channels: u16) -> Option<Output> {
    let device = cpal::default_host().default_output_device()?;
    let (ring, mut consumer) =
        rtrb::RingBuffer::<i16>::new(AUDIO_RATE as usize * channels as usize);
    let config = cpal::StreamConfig {
        channels,
        sample_rate: AUDIO_RATE,
        buffer_size: cpal::BufferSize::Default,
    };
    let stream = device
        .build_output_stream::<i16, _, _>(
            config,
            move |out: &mut [i16], _| {
                for s in out.iter_mut() {
                    *s = consumer.pop().unwrap_or(0);
                }
            },
            |e| tracing::warn!(error = %e, "sound output error"),
            None,
        )
        .ok()?;
    stream.play().ok()?;
    Some(Output {
        stream,
        ring,
        channels,
    })
}

struct AudioFeed {
    track: Track,
    decoder: fdk_aac::dec::Decoder,
    next: usize,
    pcm: Vec<i16>,
    /// Decoded samples (per channel) to skip: the encoder's priming.
    skip: u64,
    /// Sample frames decoded and kept so far (after the priming).
    decoded: u64,
    output: Option<Output>,
    meter: LevelMeter,
    /// Levels waiting for their moment, with the second they belong to.
    levels: std::collections::VecDeque<(f64, Level)>,
}

impl AudioFeed {
    /// Sets up the decoder for `track` and, with `sound`, the speaker (said when absent).
    fn open(
        track: &Track,
        sound: bool,
        events: &mut impl FnMut(PlayerEvent),
    ) -> Result<AudioFeed, String> {
        let TrackKind::Audio { channels, config } = &track.kind else {
            return Err("not an audio track".into());
        };
        let mut decoder = fdk_aac::dec::Decoder::new(fdk_aac::dec::Transport::Raw);
        decoder.config_raw(config).map_err(|e| e.to_string())?;
        let output = if sound {
            open_output((*channels).clamp(1, 2))
        } else {
            None
        };
        if output.is_none() {
            events(PlayerEvent::NoSpeaker);
        }
        Ok(AudioFeed {
            skip: track.start,
            track: track.clone(),
            decoder,
            next: 0,
            pcm: vec![0; 4096 * 2],
            decoded: 0,
            output,
            meter: LevelMeter::new((*channels).max(1)),
            levels: Default::default(),
        })
    }

    /// Lets the sound run out until `end` (or a stop), after the last picture: wakes when the
    /// next level or sound is due, not on a poll interval.
    fn run_out(
        &mut self,
        file: &mut File,
        buf: &mut Vec<u8>,
        end: f64,
        stop: &StopSignal,
        events: &mut impl FnMut(PlayerEvent),
    ) -> Result<(), String> {
        while stop.elapsed() < end {
            let elapsed = stop.elapsed();
            self.fill(file, buf, elapsed + SOUND_AHEAD)?;
            self.due_levels(elapsed, events);
            let next = self.next_due().map_or(end, |at| at.min(end));
            if stop.wait_until(next, self.speaker()) {
                break;
            }
        }
        Ok(())
    }

    fn speaker(&self) -> Option<&cpal::Stream> {
        self.output.as_ref().map(|o| &o.stream)
    }

    /// Decodes sound up to `until` seconds into the recording, queueing it for the speaker
    /// and measuring its level.
    fn fill(&mut self, file: &mut File, buf: &mut Vec<u8>, until: f64) -> Result<(), String> {
        while self.next < self.track.samples.len() {
            let s: SampleInfo = self.track.samples[self.next];
            if self.track.seconds(s.time) > until {
                break;
            }
            mp4read::read_sample(file, &s, buf).map_err(|e| e.to_string())?;
            self.decoder.fill(buf).map_err(|e| e.to_string())?;
            if self.decoder.decode_frame(&mut self.pcm).is_ok() {
                let n = self.decoder.decoded_frame_size();
                let ch = self.decoder.stream_info().numChannels.max(1) as usize;
                let frames = n / ch;
                let skip = self.skip.min(frames as u64) as usize;
                self.skip -= skip as u64;
                let kept = &self.pcm[skip * ch..frames * ch];
                for level in self.meter.push(kept) {
                    let at = self.decoded as f64 / AUDIO_RATE as f64;
                    self.levels.push_back((at, level));
                }
                self.decoded += (frames - skip) as u64;
                if let Some(out) = self.output.as_mut() {
                    for f in skip..frames {
                        for c in 0..out.channels as usize {
                            let _ = out.ring.push(self.pcm[f * ch + c.min(ch - 1)]);
                        }
                    }
                }
            }
            self.next += 1;
        }
        Ok(())
    }

    /// Seconds into the recording when there is next something to do: a level to hand out,
    /// or sound to decode.
    fn next_due(&self) -> Option<f64> {
        let level = self.levels.front().map(|(at, _)| *at);
        let sound = self
            .track
            .samples
            .get(self.next)
            .map(|s| self.track.seconds(s.time) - SOUND_AHEAD);
        match (level, sound) {
            (Some(l), Some(s)) => Some(l.min(s)),
            (l, s) => l.or(s),
        }
    }

    /// Hands out the levels whose moment has come.
    fn due_levels(&mut self, elapsed: f64, events: &mut impl FnMut(PlayerEvent)) {
        while self.levels.front().is_some_and(|(at, _)| *at <= elapsed) {
            if let Some((_, l)) = self.levels.pop_front() {
                events(PlayerEvent::Level(l));
            }
        }
    }
}

fn play(
    path: &std::path::Path,
    sound: bool,
    stop: &StopSignal,
    events: &mut impl FnMut(PlayerEvent),
) -> Result<(), String> {
    let tracks = mp4read::read_tracks(path).map_err(|e| e.to_string())?;
    let video = tracks
        .iter()
        .find(|t| matches!(t.kind, TrackKind::Video { .. }))
        .cloned()
        .ok_or("the file has no picture")?;
    let audio = tracks
        .iter()
        .find(|t| matches!(t.kind, TrackKind::Audio { .. }))
        .cloned();
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    let mut decoder = Decoder::new().map_err(|e| e.to_string())?;
    let TrackKind::Video { sps, pps, .. } = &video.kind else {
        return Err("not a video track".into());
    };
    let mut params = Vec::new();
    for ps in [sps, pps] {
        params.extend_from_slice(&[0, 0, 0, 1]);
        params.extend_from_slice(ps);
    }
    let _ = decoder.decode(&params);

    let mut feed = match &audio {
        Some(track) => Some(AudioFeed::open(track, sound, events)?),
        None => None,
    };
    let length = Duration::from_secs_f64(
        video
            .length_seconds()
            .max(audio.as_ref().map_or(0.0, Track::length_seconds)),
    );
    stop.origin.set(Instant::now());
    let mut buf = Vec::new();
    let mut nal = Vec::new();
    let mut last_position = Instant::now() - Duration::from_secs(1);
    for s in &video.samples {
        if stop.requested() {
            return Ok(());
        }
        let at = video.seconds(s.time);
        if let Some(f) = feed.as_mut() {
            f.fill(&mut file, &mut buf, at + SOUND_AHEAD)?;
        }
        // Pacing: each picture is shown at its own time.
        if stop.wait_until(at, feed.as_ref().and_then(AudioFeed::speaker)) {
            return Ok(());
        }
        let due = stop.at(at);
        if let Some(f) = feed.as_mut() {
            f.due_levels(stop.elapsed(), events);
        }
        mp4read::read_sample(&mut file, s, &mut buf).map_err(|e| e.to_string())?;
        annexb(&buf, &mut nal);
        match decoder.decode(&nal) {
            Ok(Some(yuv)) => events(PlayerEvent::Frame(Arc::new(packed_frame(&yuv, due)))),
            Ok(None) => {}
            Err(e) => tracing::debug!(error = %e, "a picture did not decode"),
        }
        if last_position.elapsed() >= Duration::from_millis(250) {
            last_position = Instant::now();
            events(PlayerEvent::Position {
                position: Duration::from_secs_f64(at),
                length,
            });
        }
    }
    let end = length.as_secs_f64();
    if let Some(f) = feed.as_mut() {
        f.run_out(&mut file, &mut buf, end, stop, events)?;
    } else {
        stop.wait_until(end, None);
    }
    events(PlayerEvent::Position {
        position: length,
        length,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avcc_becomes_annexb() {
        let mut out = Vec::new();
        annexb(&[0, 0, 0, 2, 0x65, 1, 0, 0, 0, 1, 0x41], &mut out);
        assert_eq!(out, vec![0, 0, 0, 1, 0x65, 1, 0, 0, 0, 1, 0x41]);
    }
}
