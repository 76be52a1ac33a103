//! The audio timeline of a recording: sound is placed by its sample count, anchored at the
//! answer's origin, and corrected (silence inserted or samples dropped) when the source's
//! capture times and the count part by more than a threshold — lost samples after an overrun,
//! or a device clock running fast or slow against the monotonic clock.

use std::time::{Duration, Instant};

use super::frame::duration_to_frames;

/// Places audio on the sample-count timeline, correcting when the source's capture times and
/// the count disagree by more than the threshold (lost samples after an overrun, or a device
/// clock running fast or slow against the monotonic clock).
#[derive(Debug)]
pub struct AudioClock {
    origin: Instant,
    frames: u64,
    drift: f64,
}

/// What to do with an incoming chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Placement {
    /// Silent frames to write before the chunk.
    pub silence: u64,
    /// Frames to drop from the start of the chunk.
    pub drop: u64,
}

/// Beyond this a gap or overlap is corrected at once (OBS uses 70 ms; jitter stays below).
const JUMP: Duration = Duration::from_millis(70);
/// A steady disagreement this large (after smoothing) is corrected: ~a lip-sync threshold.
const DRIFT: f64 = 0.020;

impl AudioClock {
    pub fn new(origin: Instant) -> Self {
        AudioClock {
            origin,
            frames: 0,
            drift: 0.0,
        }
    }

    /// Frames placed on the timeline so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    pub fn place(&mut self, captured: Instant, frames: u64) -> Placement {
        let expected = self.origin + super::frame::frames_to_duration(self.frames);
        let err = if captured >= expected {
            (captured - expected).as_secs_f64()
        } else {
            -(expected - captured).as_secs_f64()
        };
        let mut p = Placement::default();
        if self.frames == 0 {
            // The first chunk: everything before it is silence, exactly.
            p.silence = duration_to_frames(captured.saturating_duration_since(self.origin));
        } else {
            self.drift = self.drift * 0.95 + err * 0.05;
            if err.abs() > JUMP.as_secs_f64() || self.drift.abs() > DRIFT {
                let correction = if err.abs() > JUMP.as_secs_f64() {
                    err
                } else {
                    self.drift
                };
                let n = duration_to_frames(Duration::from_secs_f64(correction.abs()));
                if correction > 0.0 {
                    p.silence = n;
                } else {
                    p.drop = n.min(frames);
                }
                self.drift = 0.0;
            }
        }
        self.frames += p.silence + (frames - p.drop);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_clock_pads_the_start_and_follows_a_steady_source() {
        let t = Instant::now();
        let mut c = AudioClock::new(t);
        let p = c.place(t + Duration::from_millis(5), 480);
        assert_eq!(
            p,
            Placement {
                silence: 240,
                drop: 0
            }
        );
        for k in 1..500u64 {
            let at = t + Duration::from_millis(5) + Duration::from_millis(10 * k);
            assert_eq!(c.place(at, 480), Placement::default(), "chunk {k}");
        }
        assert_eq!(c.frames(), 240 + 500 * 480);
    }

    #[test]
    fn audio_clock_fills_a_gap_after_lost_samples() {
        let t = Instant::now();
        let mut c = AudioClock::new(t);
        c.place(t, 480);
        // 100 ms of samples never arrived (an overrun): the next chunk is late by 100 ms.
        let p = c.place(t + Duration::from_millis(110), 480);
        assert_eq!(p.silence, 4800);
        assert_eq!(c.frames(), 480 + 4800 + 480);
        // And the timeline is right again afterwards.
        assert_eq!(
            c.place(t + Duration::from_millis(120), 480),
            Placement::default()
        );
    }

    #[test]
    fn audio_clock_corrects_slow_drift() {
        // A device running fast: 490 frames per real 10 ms (2.08 % fast).
        let t = Instant::now();
        let mut c = AudioClock::new(t);
        let mut dropped = 0;
        let chunks = 3000u64;
        for k in 0..chunks {
            dropped += c.place(t + Duration::from_millis(10 * k), 490).drop;
        }
        // 30 s of real time: the timeline holds 30 s of sound, within the drift threshold,
        // because the surplus (30000 frames) was dropped as it built up.
        let timeline = c.frames() as f64 / 48_000.0;
        assert!((timeline - 30.0).abs() < 0.025, "timeline {timeline} s");
        assert!((28_000..=30_000).contains(&dropped), "dropped {dropped}");
    }
}
