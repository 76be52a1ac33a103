//! What the device-test and recording screens show about the inputs: audio levels in 50 ms
//! windows with a verdict over a clip (no sound, too quiet, clipping), and cheap luma
//! statistics per frame with a verdict over a clip (no picture, black, frozen).
//!
//! Pure computation on frames and chunks the caller already has; no I/O, no clocks of its own
//! (frozen-ness is measured on the frames' capture timestamps).

use std::time::{Duration, Instant};

use super::frame::{AUDIO_RATE, VideoFrame};

/// Sample frames per level window: 50 ms, quick enough for a lively meter and still at least
/// four periods of a low male voice (~85 Hz), so RMS does not flicker with the waveform.
pub const WINDOW_FRAMES: usize = AUDIO_RATE as usize / 20;

/// Stands in for -inf dBFS on digital silence, so levels stay finite and sortable. One LSB of a
/// 16-bit sample is already -90.3 dBFS, so this value can only mean all-zero samples.
pub const SILENCE_DBFS: f32 = -120.0;

/// Loudness of one window, over all channels together. 0 dBFS is a full-scale square wave, so
/// a full-scale sine reads -3.01 dBFS RMS.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    pub rms_dbfs: f32,
    pub peak_dbfs: f32,
    /// Some sample reached the rails (|x| ≥ 32767): the converter or the gain stage ran out.
    pub clipped: bool,
}

/// Cuts interleaved i16 audio into [`WINDOW_FRAMES`] windows, whatever the chunk sizes.
#[derive(Debug, Clone)]
pub struct LevelMeter {
    window_samples: usize,
    filled: usize,
    sum_squares: u64,
    peak: u32,
    clipped: bool,
}

impl LevelMeter {
    pub fn new(channels: u16) -> Self {
        LevelMeter {
            window_samples: WINDOW_FRAMES * usize::from(channels.max(1)),
            filled: 0,
            sum_squares: 0,
            peak: 0,
            clipped: false,
        }
    }

    /// Feeds samples; returns one [`Level`] per window completed by them (often none). A
    /// partial window carries over to the next call.
    pub fn push(&mut self, samples: &[i16]) -> Vec<Level> {
        let mut levels = Vec::new();
        let mut rest = samples;
        while !rest.is_empty() {
            let (now, later) = rest.split_at((self.window_samples - self.filled).min(rest.len()));
            for &s in now {
                let a = s.unsigned_abs();
                // 2^30 at most per sample, so a window cannot come near u64::MAX.
                self.sum_squares += u64::from(a) * u64::from(a);
                self.peak = self.peak.max(u32::from(a));
                self.clipped |= a >= i16::MAX as u16;
            }
            self.filled += now.len();
            if self.filled == self.window_samples {
                levels.push(self.finish_window());
            }
            rest = later;
        }
        levels
    }

    fn finish_window(&mut self) -> Level {
        let rms = (self.sum_squares as f64 / self.filled as f64).sqrt();
        let level = Level {
            rms_dbfs: dbfs(rms),
            peak_dbfs: dbfs(f64::from(self.peak)),
            clipped: self.clipped,
        };
        (self.filled, self.sum_squares, self.peak, self.clipped) = (0, 0, 0, false);
        level
    }
}

fn dbfs(amplitude: f64) -> f32 {
    if amplitude <= 0.0 {
        return SILENCE_DBFS;
    }
    ((20.0 * (amplitude / 32768.0).log10()) as f32).max(SILENCE_DBFS)
}

/// A clip is silent if no window peaks above this. A muted or unplugged input shows only the
/// converter's noise floor (typically -70 dBFS or lower); even soft speech peaks near -30.
pub const NO_SOUND_PEAK_DBFS: f32 = -60.0;
/// A clip is too quiet if its loud windows' RMS (the [`LOUD_PERCENTILE`]) stays below this.
/// Speech at a sensible gain typically lands between -30 and -18 dBFS RMS; below -42 the
/// voice needs 20 dB or more of make-up gain, which brings the room noise up with it.
pub const TOO_QUIET_RMS_DBFS: f32 = -42.0;
/// The percentile of window RMS taken as "how loud the speech is". Interviews are full of
/// pauses, so the median mostly measures silence; the 90th percentile lands on the voice.
pub const LOUD_PERCENTILE: f32 = 0.9;
/// A clip is clipping if more than this fraction of windows clipped. One cough or a knock on
/// the desk is harmless; beyond 1 % of windows the gain is simply too high.
pub const CLIPPING_MAX_FRACTION: f32 = 0.01;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioVerdict {
    NoSound,
    TooQuiet,
    Clipping,
    Ok,
}

/// Levels of a whole clip (a test recording), judged together.
#[derive(Debug, Clone, Default)]
pub struct AudioCheck {
    rms: Vec<f32>,
    loudest_peak: Option<f32>,
    clipped_windows: usize,
}

impl AudioCheck {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, level: Level) {
        self.rms.push(level.rms_dbfs);
        self.loudest_peak = Some(
            self.loudest_peak
                .map_or(level.peak_dbfs, |p| p.max(level.peak_dbfs)),
        );
        self.clipped_windows += usize::from(level.clipped);
    }

    pub fn windows(&self) -> usize {
        self.rms.len()
    }

    /// [`SILENCE_DBFS`] before any window.
    pub fn loudest_peak_dbfs(&self) -> f32 {
        self.loudest_peak.unwrap_or(SILENCE_DBFS)
    }

    /// Window RMS at [`LOUD_PERCENTILE`] (nearest rank), `None` before any window.
    pub fn loud_rms_dbfs(&self) -> Option<f32> {
        let mut sorted = self.rms.clone();
        sorted.sort_by(f32::total_cmp);
        let rank = (LOUD_PERCENTILE * sorted.len() as f32).ceil() as usize;
        sorted.get(rank.max(1) - 1).copied()
    }

    pub fn clipped_fraction(&self) -> f32 {
        self.clipped_windows as f32 / self.rms.len().max(1) as f32
    }

    /// Silence first (nothing else is meaningful then), then clipping (distortion is baked into
    /// the recording for good, whereas a quiet voice can still be raised), then loudness.
    pub fn verdict(&self) -> AudioVerdict {
        match self.loud_rms_dbfs() {
            _ if self.loudest_peak_dbfs() < NO_SOUND_PEAK_DBFS => AudioVerdict::NoSound,
            _ if self.clipped_fraction() > CLIPPING_MAX_FRACTION => AudioVerdict::Clipping,
            Some(loud) if loud < TOO_QUIET_RMS_DBFS => AudioVerdict::TooQuiet,
            _ => AudioVerdict::Ok,
        }
    }
}

impl Extend<Level> for AudioCheck {
    fn extend<I: IntoIterator<Item = Level>>(&mut self, levels: I) {
        levels.into_iter().for_each(|l| self.add(l));
    }
}

/// Luma is sampled every `GRID_STEP` pixels across and down, from the middle of each cell:
/// 1/64 of the pixels (14 400 at 720p) is plenty for a mean and a spread, and cheap enough to
/// run on every frame of a preview.
pub const GRID_STEP: usize = 8;

/// Mean and standard deviation of the sampled luma, in limited-range code values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PictureStats {
    pub mean: f32,
    pub std_dev: f32,
}

impl PictureStats {
    pub fn of(frame: &VideoFrame) -> Self {
        Self::of_samples(grid(frame))
    }

    fn of_samples(samples: impl Iterator<Item = u8>) -> Self {
        let (mut n, mut sum, mut sum_sq) = (0u64, 0u64, 0u64);
        for s in samples {
            n += 1;
            sum += u64::from(s);
            sum_sq += u64::from(s) * u64::from(s);
        }
        let n = n.max(1) as f64; // An empty grid reads as 0, 0.
        let mean = sum as f64 / n;
        let var = (sum_sq as f64 / n - mean * mean).max(0.0);
        PictureStats {
            mean: mean as f32,
            std_dev: var.sqrt() as f32,
        }
    }

    /// Lens cap, closed privacy shutter or a dead sensor; see [`BLACK_MAX_MEAN`].
    pub fn is_black(&self) -> bool {
        self.mean < BLACK_MAX_MEAN && self.std_dev < BLACK_MAX_STD_DEV
    }
}

/// The sampled luma grid, row by row.
fn grid(frame: &VideoFrame) -> impl Iterator<Item = u8> + '_ {
    let (w, h) = (frame.width as usize, frame.height as usize);
    let start = |len: usize| (GRID_STEP / 2).min(len.saturating_sub(1));
    let (x0, y0) = (start(w), start(h));
    frame
        .luma()
        .chunks(w.max(1))
        .skip(y0)
        .step_by(GRID_STEP)
        .flat_map(move |row| row.iter().skip(x0).step_by(GRID_STEP).copied())
}

/// A black frame sits within 12 levels of limited-range black (16): sensor noise and auto-gain
/// lift a covered lens a little, but not further.
pub const BLACK_MAX_MEAN: f32 = 28.0;
/// ...and is nearly flat: even a dim room has highlights and edges that spread it past this.
pub const BLACK_MAX_STD_DEV: f32 = 6.0;
/// Black must hold for this share of frames: many cameras start with a few dark frames while
/// auto-exposure settles, and those alone must not fail the check.
pub const BLACK_MIN_FRACTION: f32 = 0.9;
/// Consecutive grids closer than this (mean absolute difference) count as the same picture. A
/// live sensor's noise alone moves the grid by a level or more; a stalled driver or camera
/// repeating its last buffer gives exactly 0.
pub const FROZEN_MAX_DIFF: f32 = 0.5;
/// A still picture must last this long to count as frozen: cameras drop or repeat a few frames
/// now and then (USB hiccups, low-light frame-rate changes), never for seconds.
pub const FROZEN_MIN_DURATION: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PictureVerdict {
    NoPicture,
    Black,
    Frozen,
    Ok,
}

/// Frames of a whole clip, judged together.
#[derive(Debug, Clone, Default)]
pub struct PictureCheck {
    frames: usize,
    black_frames: usize,
    scratch: Vec<u8>,
    prev: Vec<u8>,
    /// Size and capture time of the frame `prev` was sampled from.
    prev_frame: Option<(u32, u32, Instant)>,
    still_since: Option<Instant>,
    longest_still: Duration,
}

impl PictureCheck {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one frame into account and returns its statistics for display.
    pub fn push(&mut self, frame: &VideoFrame) -> PictureStats {
        self.scratch.clear();
        self.scratch.extend(grid(frame));
        let stats = PictureStats::of_samples(self.scratch.iter().copied());
        self.frames += 1;
        self.black_frames += usize::from(stats.is_black());

        let same_size =
            matches!(self.prev_frame, Some((w, h, _)) if (w, h) == (frame.width, frame.height));
        let still = same_size && mean_abs_diff(&self.scratch, &self.prev) < FROZEN_MAX_DIFF;
        match (still, self.prev_frame) {
            (true, Some((_, _, prev_at))) => {
                // The still run began with the previous frame, the first of the identical ones.
                let since = *self.still_since.get_or_insert(prev_at);
                let run = frame.captured.saturating_duration_since(since);
                self.longest_still = self.longest_still.max(run);
            }
            _ => self.still_since = None,
        }
        std::mem::swap(&mut self.prev, &mut self.scratch);
        self.prev_frame = Some((frame.width, frame.height, frame.captured));
        stats
    }

    pub fn frames(&self) -> usize {
        self.frames
    }

    /// The longest stretch, by capture time, over which the picture did not change.
    pub fn longest_still(&self) -> Duration {
        self.longest_still
    }

    /// Black before frozen: a covered lens is also perfectly still, and "black" says what to do.
    pub fn verdict(&self) -> PictureVerdict {
        if self.frames == 0 {
            PictureVerdict::NoPicture
        } else if self.black_frames as f32 >= BLACK_MIN_FRACTION * self.frames as f32 {
            PictureVerdict::Black
        } else if self.longest_still >= FROZEN_MIN_DURATION {
            PictureVerdict::Frozen
        } else {
            PictureVerdict::Ok
        }
    }
}

fn mean_abs_diff(a: &[u8], b: &[u8]) -> f32 {
    if a.is_empty() || a.len() != b.len() {
        return f32::INFINITY;
    }
    let total: u64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f32 / a.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `seconds` of a 1 kHz sine of `amplitude`, the same on every channel.
    fn sine(amplitude: f64, seconds: f64, channels: usize) -> Vec<i16> {
        let frames = (seconds * f64::from(AUDIO_RATE)).round() as usize;
        (0..frames)
            .flat_map(|i| {
                let x =
                    amplitude * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 48_000.0).sin();
                std::iter::repeat_n(x.round() as i16, channels)
            })
            .collect()
    }

    fn levels_of(samples: &[i16], channels: u16) -> Vec<Level> {
        LevelMeter::new(channels).push(samples)
    }

    #[test]
    fn full_scale_sine_reads_minus_3_dbfs_rms() {
        let levels = levels_of(&sine(32767.0, 0.1, 1), 1);
        assert_eq!(levels.len(), 2);
        for l in levels {
            assert!((l.rms_dbfs + 3.0103).abs() < 0.01, "{l:?}");
            assert!(l.peak_dbfs > -0.01 && l.peak_dbfs <= 0.0, "{l:?}");
            // Its crest is exactly at the rail, which is indistinguishable from clipping.
            assert!(l.clipped);
        }
    }

    #[test]
    fn minus_30_dbfs_tone_in_odd_chunks() {
        // RMS of -30 dBFS: amplitude 32768 · 10^(-30/20) · √2, so the peak reads -26.99 dBFS.
        let stereo = sine(rms(-30.0), 1.0, 2);
        let mut meter = LevelMeter::new(2);
        let mut levels = vec![];
        for chunk in stereo.chunks(1001) {
            levels.extend(meter.push(chunk));
        }
        assert_eq!(
            levels.len(),
            20,
            "one level per 50 ms, leftovers carried over"
        );
        for l in &levels {
            assert!((l.rms_dbfs + 30.0).abs() < 0.05, "{l:?}");
            assert!((l.peak_dbfs + 26.99).abs() < 0.05, "{l:?}");
            assert!(!l.clipped);
        }
        // Half a window more yields nothing until the other half arrives.
        assert!(meter.push(&stereo[..WINDOW_FRAMES]).is_empty());
        assert_eq!(meter.push(&stereo[..WINDOW_FRAMES]).len(), 1);
    }

    #[test]
    fn silence_and_clipped_square() {
        let silent = levels_of(&[0; WINDOW_FRAMES], 1);
        assert_eq!(
            silent,
            vec![Level {
                rms_dbfs: SILENCE_DBFS,
                peak_dbfs: SILENCE_DBFS,
                clipped: false
            }]
        );
        let square: Vec<i16> = (0..WINDOW_FRAMES)
            .map(|i| if i % 48 < 24 { i16::MIN } else { 20_000 })
            .collect();
        let l = levels_of(&square, 1)[0];
        assert!(l.clipped && l.peak_dbfs == 0.0, "{l:?}");
        let one_lsb = levels_of(&[1; WINDOW_FRAMES], 1)[0];
        assert!(
            (one_lsb.rms_dbfs + 90.31).abs() < 0.01 && !one_lsb.clipped,
            "{one_lsb:?}"
        );
    }

    fn check_of(parts: &[(f64, f64)]) -> AudioCheck {
        let mut meter = LevelMeter::new(1);
        let mut check = AudioCheck::new();
        for &(amplitude, seconds) in parts {
            check.extend(meter.push(&sine(amplitude, seconds, 1)));
        }
        check
    }

    /// Sine amplitude for a given RMS in dBFS.
    fn rms(dbfs: f64) -> f64 {
        32768.0 * 10f64.powf(dbfs / 20.0) * 2f64.sqrt()
    }

    #[test]
    fn audio_verdicts() -> crate::TestResult {
        assert_eq!(AudioCheck::new().verdict(), AudioVerdict::NoSound);
        assert_eq!(check_of(&[(0.0, 2.0)]).verdict(), AudioVerdict::NoSound);
        // Noise-floor-like hum peaking at -66 dBFS.
        assert_eq!(check_of(&[(16.0, 2.0)]).verdict(), AudioVerdict::NoSound);
        assert_eq!(
            check_of(&[(rms(-50.0), 2.0)]).verdict(),
            AudioVerdict::TooQuiet
        );
        assert_eq!(check_of(&[(rms(-24.0), 2.0)]).verdict(), AudioVerdict::Ok);
        // Speech with long pauses is judged on the speech: 80 % silence, 20 % at -24 dBFS.
        let paused = check_of(&[(0.0, 4.0), (rms(-24.0), 1.0)]);
        assert_eq!(paused.verdict(), AudioVerdict::Ok);
        assert!((paused.loud_rms_dbfs().ok_or("no loud level")? + 24.0).abs() < 0.1);
        // ...but a voice only 5 % of the time does not carry the clip.
        assert_eq!(
            check_of(&[(0.0, 9.5), (rms(-24.0), 0.5)]).verdict(),
            AudioVerdict::TooQuiet
        );
        // 2 of 100 windows at full scale clip; 1 of 200 is tolerated.
        let clipping = check_of(&[(rms(-24.0), 4.9), (32767.0, 0.1)]);
        assert_eq!(
            (clipping.windows(), clipping.verdict()),
            (100, AudioVerdict::Clipping)
        );
        let one_knock = check_of(&[(rms(-24.0), 9.95), (32767.0, 0.05)]);
        assert_eq!(one_knock.verdict(), AudioVerdict::Ok);
        assert!((one_knock.clipped_fraction() - 0.005).abs() < 1e-6);
        Ok(())
    }

    const W: u32 = 64;
    const H: u32 = 48;

    /// A picture with content: luma `base` on the left half and `base + 60` on the right.
    fn scene(base: u8, at: Instant) -> VideoFrame {
        let mut f = VideoFrame::filled(W, H, base, 128, 128, at);
        for row in f.data[..(W * H) as usize].chunks_mut(W as usize) {
            row[W as usize / 2..].fill(base + 60);
        }
        f
    }

    fn check_frames(frames: impl IntoIterator<Item = VideoFrame>) -> PictureCheck {
        let mut check = PictureCheck::new();
        frames.into_iter().for_each(|f| {
            check.push(&f);
        });
        check
    }

    fn at(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    #[test]
    fn picture_stats_on_the_grid() {
        let t0 = Instant::now();
        let flat = PictureStats::of(&VideoFrame::filled(W, H, 100, 128, 128, t0));
        assert_eq!(
            flat,
            PictureStats {
                mean: 100.0,
                std_dev: 0.0
            }
        );
        // Grid columns 4, 12, ..., 60: four on each side of the edge at 32.
        let split = PictureStats::of(&scene(50, t0));
        assert_eq!(
            split,
            PictureStats {
                mean: 80.0,
                std_dev: 30.0
            }
        );
        // Pixels between grid points are not looked at.
        let mut off_grid = VideoFrame::filled(W, H, 100, 128, 128, t0);
        off_grid.data[0] = 255;
        assert_eq!(PictureStats::of(&off_grid), flat);
    }

    #[test]
    fn picture_verdicts() {
        let t0 = Instant::now();
        assert_eq!(PictureCheck::new().verdict(), PictureVerdict::NoPicture);

        // Three seconds at 30 fps alternating between two near-black levels: black.
        let black = (0..90)
            .map(|i| VideoFrame::filled(W, H, 16 + 2 * (i % 2) as u8, 128, 128, at(t0, i * 33)));
        assert_eq!(check_frames(black).verdict(), PictureVerdict::Black);

        // A scene whose brightness drifts by 1–2 levels every frame: fine.
        let moving = (0..90).map(|i| scene(80 + (i % 3) as u8 * 2, at(t0, i * 33)));
        let moving = check_frames(moving);
        assert_eq!(
            (moving.verdict(), moving.longest_still()),
            (PictureVerdict::Ok, Duration::ZERO)
        );

        // The same scene for 2.5 s in the middle of a live clip: frozen.
        let frames = (0..150).map(|i| {
            let base = if (30..106).contains(&i) {
                90
            } else {
                80 + (i % 3) as u8 * 2
            };
            scene(base, at(t0, i * 33))
        });
        let frozen = check_frames(frames);
        assert_eq!(frozen.verdict(), PictureVerdict::Frozen);
        assert_eq!(frozen.longest_still(), Duration::from_millis(75 * 33));

        // 1.5 s still is a hiccup, not a freeze.
        let frames = (0..90).map(|i| {
            scene(
                if i < 46 { 90 } else { 80 + (i % 3) as u8 * 2 },
                at(t0, i * 33),
            )
        });
        assert_eq!(check_frames(frames).verdict(), PictureVerdict::Ok);
    }

    #[test]
    fn frozen_follows_timestamps_not_frame_counts() {
        let t0 = Instant::now();
        // 11 identical frames at 5 fps span 2 s...
        let slow = check_frames((0..11).map(|i| scene(90, at(t0, i * 200))));
        assert_eq!(slow.verdict(), PictureVerdict::Frozen);
        // ...while 100 identical frames 10 ms apart span under 1 s.
        let fast = check_frames((0..100).map(|i| scene(90, at(t0, i * 10))));
        assert_eq!(fast.verdict(), PictureVerdict::Ok);
        // One grid sample changing by 10 (mean difference 10/48) is still the same picture.
        let flicker = (0..11).map(|i| {
            let mut f = scene(90, at(t0, i * 200));
            f.data[4 * W as usize + 4] = 90 + 10 * (i % 2) as u8;
            f
        });
        assert_eq!(check_frames(flicker).verdict(), PictureVerdict::Frozen);
        // A size change breaks a still run.
        let mut resized = PictureCheck::new();
        resized.push(&scene(90, t0));
        resized.push(&VideoFrame::filled(32, 16, 90, 128, 128, at(t0, 1500)));
        resized.push(&VideoFrame::filled(32, 16, 90, 128, 128, at(t0, 3000)));
        assert_eq!(resized.longest_still(), Duration::from_millis(1500));
    }

    #[test]
    fn black_tolerates_a_bright_start_but_not_a_lit_scene() {
        let t0 = Instant::now();
        // Five lit frames then 85 black ones (94 % black): black.
        let frames = (0..90).map(|i| {
            let y = if i < 5 { 120 } else { 16 + (i % 2) as u8 };
            VideoFrame::filled(W, H, y, 128, 128, at(t0, i * 33))
        });
        assert_eq!(check_frames(frames).verdict(), PictureVerdict::Black);
        // A dark but textured room (luma 16–18 and 31–33: mean 24–26, spread 7.5) is not black.
        let dim = (0..90).map(|i| {
            let mut f = scene(16 + 4 * (i % 3) as u8, at(t0, i * 33));
            f.data[..(W * H) as usize]
                .iter_mut()
                .for_each(|p| *p = (*p - 16) / 4 + 16);
            f
        });
        let mut check = PictureCheck::new();
        for f in dim {
            let stats = check.push(&f);
            assert!(
                stats.mean < BLACK_MAX_MEAN && stats.std_dev == 7.5,
                "{stats:?}"
            );
        }
        assert_eq!(check.verdict(), PictureVerdict::Ok);
    }
}
