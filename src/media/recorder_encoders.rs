//! The recording's two encoder threads: pictures to H.264 samples and sound to AAC access
//! units, each sent on to the mux thread.
//!
//! The H.264 thread encodes pictures [`VIDEO_BATCH`] at a time: OpenH264 woken for one picture
//! every 33 ms finds its reference pictures and tables gone from the caches, and on a shared
//! machine measured ~2x its back-to-back cost per picture; the second of a pair costs about
//! the back-to-back price (booth record, test scene, 20 s: 1.80–1.84 CPU-s against 1.99–2.29
//! one at a time, paired runs at load 7–9). The held picture waits 33 ms longer and is one
//! more picture in memory; the queue in front keeps all its slack.
//!
//! The AAC thread encodes every chunk already waiting (up to [`AUDIO_BATCH`]) before it sends:
//! a microphone hands over a whole period (50 ms, five chunks) at once, and one message per
//! period wakes the mux thread once instead of once per access unit.

use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};

use super::MuxItem;
use crate::media::audio_clock::AudioClock;
use crate::media::encode::{AacEncoder, EncodeError, H264Encoder};
use crate::media::frame::{AudioChunk, VideoFrame};

/// Pictures encoded back to back.
const VIDEO_BATCH: usize = 2;

/// Chunks (10 ms each) encoded before the units go to the muxer, at most: a file read as fast
/// as it goes keeps the queue full, and its sound must still reach the file as it comes.
const AUDIO_BATCH: usize = 16;

pub(super) fn video_encoder(
    mut encoder: H264Encoder,
    frames: Receiver<Arc<VideoFrame>>,
    tx: Sender<MuxItem>,
) {
    let mut sent_params = false;
    let mut batch = Vec::with_capacity(VIDEO_BATCH);
    loop {
        let more = match frames.recv() {
            Ok(frame) => {
                batch.push(frame);
                if batch.len() < VIDEO_BATCH {
                    continue;
                }
                true
            }
            // The feed closed: what is held is the end of the answer.
            Err(_) => false,
        };
        for frame in batch.drain(..) {
            let item = match encoder.encode(&frame) {
                Ok(Some(pic)) => {
                    let params = if sent_params {
                        None
                    } else {
                        encoder
                            .parameter_sets()
                            .map(|(s, p)| (s.to_vec(), p.to_vec()))
                    };
                    sent_params |= params.is_some();
                    MuxItem::Video(pic, params)
                }
                Ok(None) => continue,
                Err(e) => MuxItem::Failed(e.into()),
            };
            let failed = matches!(item, MuxItem::Failed(_));
            if tx.send(item).is_err() || failed {
                return;
            }
        }
        if !more {
            return;
        }
    }
}

pub(super) fn audio_encoder(
    mut encoder: AacEncoder,
    chunks: Receiver<AudioChunk>,
    origin: Instant,
    tx: Sender<MuxItem>,
) {
    let mut clock = AudioClock::new(origin);
    let mut units = Vec::new();
    let failed = |e: EncodeError| {
        let _ = tx.send(MuxItem::Failed(e.into()));
    };
    while let Ok(first) = chunks.recv() {
        let waiting = std::iter::once(first).chain(chunks.try_iter().take(AUDIO_BATCH - 1));
        for chunk in waiting {
            if let Err(e) = encode_chunk(&mut encoder, &mut clock, chunk, &mut units) {
                return failed(e);
            }
        }
        if !units.is_empty() && tx.send(MuxItem::Audio(std::mem::take(&mut units))).is_err() {
            return;
        }
    }
    match encoder.flush() {
        Ok(last) => {
            if last.is_empty() || tx.send(MuxItem::Audio(last)).is_ok() {
                let _ = tx.send(MuxItem::AudioDone {
                    frames: clock.frames(),
                });
            }
        }
        Err(e) => failed(e),
    }
}

/// Places `chunk` on the answer's sound timeline (silence for a gap, a cut for an overlap) and
/// adds the access units it completes to `units`.
fn encode_chunk(
    encoder: &mut AacEncoder,
    clock: &mut AudioClock,
    mut chunk: AudioChunk,
    units: &mut Vec<Vec<u8>>,
) -> Result<(), EncodeError> {
    let ch = encoder.channels() as usize;
    if chunk.channels as usize != ch {
        return Ok(());
    }
    let placement = clock.place(chunk.captured, chunk.frames() as u64);
    if placement.silence > 0 {
        tracing::debug!(frames = placement.silence, "audio: inserting silence");
        let zeros = vec![0i16; placement.silence as usize * ch];
        units.extend(encoder.encode(&zeros)?);
    }
    if placement.drop > 0 {
        tracing::debug!(frames = placement.drop, "audio: dropping samples");
        chunk.samples.drain(..placement.drop as usize * ch);
    }
    units.extend(encoder.encode(&chunk.samples)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::media::encode::VideoEncoderConfig;
    use crate::media::frame::frames_to_duration;

    /// Pictures are encoded in pairs; an odd last one is still encoded when the feed closes,
    /// and every picture keeps its capture time.
    #[test]
    fn every_picture_is_encoded_also_an_odd_last_one() -> crate::TestResult {
        let encoder = H264Encoder::new(VideoEncoderConfig {
            width: 64,
            height: 48,
            fps: 30.0,
            bitrate: 300_000,
            idr_interval: Duration::from_secs(2),
        })?;
        let t0 = Instant::now();
        let (frame_tx, frames) = crossbeam_channel::bounded(8);
        let sent: Vec<Instant> = (0..5u64)
            .map(|n| t0 + Duration::from_millis(33 * n))
            .collect();
        for &at in &sent {
            frame_tx.send(Arc::new(VideoFrame::filled(64, 48, 80, 128, 128, at)))?;
        }
        drop(frame_tx);
        let (tx, rx) = crossbeam_channel::unbounded();
        video_encoder(encoder, frames, tx);
        let encoded: Vec<Instant> = rx
            .try_iter()
            .filter_map(|i| match i {
                MuxItem::Video(pic, _) => Some(pic.captured),
                _ => None,
            })
            .collect();
        assert_eq!(encoded, sent);
        Ok(())
    }

    /// Five 10 ms chunks waiting at once (a microphone's 50 ms period) reach the muxer as one
    /// message, then the flush's units, then the end; every access unit is still there.
    #[test]
    fn a_period_of_chunks_waiting_at_once_is_one_message() -> crate::TestResult {
        let origin = Instant::now();
        let (chunk_tx, chunks) = crossbeam_channel::bounded(8);
        for k in 0..5u64 {
            chunk_tx.send(AudioChunk {
                channels: 1,
                samples: vec![100; 480],
                captured: origin + frames_to_duration(480 * k),
            })?;
        }
        drop(chunk_tx);
        let (tx, rx) = crossbeam_channel::unbounded();
        audio_encoder(AacEncoder::new(1, 128_000)?, chunks, origin, tx);
        let items: Vec<MuxItem> = rx.try_iter().collect();
        let audio: Vec<usize> = items
            .iter()
            .filter_map(|i| match i {
                MuxItem::Audio(u) => Some(u.len()),
                _ => None,
            })
            .collect();
        // 2400 samples make two whole access units; the flush pushes the rest out.
        assert_eq!(audio.len(), 2, "{audio:?}");
        assert_eq!(audio[0], 2);
        match items.last() {
            Some(MuxItem::AudioDone { frames }) => assert_eq!(*frames, 2400),
            _ => return Err("the last message is not the end of the sound".into()),
        }
        Ok(())
    }
}
