//! The recorder's audio clock: tick rounding, padding the start, filling gaps after lost
//! samples, following slow drift.

use super::*;

#[test]
fn ticks_round_to_nearest() {
    let t = Instant::now();
    assert_eq!(ticks(t, t), 0);
    assert_eq!(ticks(t, t + Duration::from_secs(1)), 90_000);
    assert_eq!(ticks(t, t + Duration::from_nanos(33_333_333)), 3000);
    assert_eq!(ticks(t + Duration::from_secs(1), t), 0);
}

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
