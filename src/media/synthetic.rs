//! The synthetic sources behind `--video test` and `--audio tone`: scrolling colour bars with a
//! frame counter and clock, and a quiet 440 Hz tone; `--video head` (a talking head, the
//! realistic scene) is in [`head`]. Both carry a sync mark every odd second
//! (a full-white frame, a loud 1 kHz beep) so that A/V offset can be measured in a recording.
//!
//! Both count from the shared `epoch`, so their timestamps are exact multiples of the frame or
//! chunk period and line up with each other whatever the wall clock does.

use std::f64::consts::TAU;
use std::thread;
use std::time::{Duration, Instant};

pub mod head;

pub use head::TalkingHead;

use super::frame::{AudioChunk, VideoFormat, VideoFrame, frames_to_duration, i420_len};
use super::source::{AudioSource, CaptureError, Pace, VideoRequest, VideoSource};

/// Luma step of the scroll per frame; even so the chroma rows shift by whole samples.
const SCROLL_PX: u64 = 4;
/// Background under the text: dark, so non-mark frames stay far from white.
const BG_Y: u8 = 32;
/// Text luma: as bright as the brightest bar, never near the sync mark's 235.
const TEXT_Y: u8 = 180;

/// 75% colour bars (white, yellow, cyan, green, magenta, red, blue, black) in limited-range
/// BT.601 as (Y, U, V). 75% keeps the brightest luma at 180, well clear of the sync mark.
const BARS: [(u8, u8, u8); 8] = [
    (180, 128, 128),
    (162, 44, 142),
    (131, 156, 44),
    (112, 72, 58),
    (84, 184, 198),
    (65, 100, 212),
    (35, 212, 114),
    (16, 128, 128),
];

/// Video time of frame `n` at `fps`, in integer nanoseconds so long recordings never drift.
fn frame_offset(n: u64, fps: u32) -> Duration {
    let ns = u128::from(n) * 1_000_000_000 / u128::from(fps.max(1));
    Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
}

/// Whether frame `n` is the sync mark: the frame at t = 1 s, 3 s, 5 s ... after the epoch.
pub fn is_sync_frame(n: u64, fps: u32) -> bool {
    let fps = u64::from(fps.max(1));
    n % (2 * fps) == fps
}

/// Sleeps until `due` if it is still ahead; a late caller is not held back.
fn sleep_until(due: Instant) {
    let wait = due.saturating_duration_since(Instant::now());
    if !wait.is_zero() {
        thread::sleep(wait);
    }
}

/// Moving colour bars with a frame counter and elapsed time, as a camera stand-in.
pub struct TestPattern {
    request: VideoRequest,
    pace: Pace,
    epoch: Instant,
    next: u64,
    /// One bar row, written twice in a row, so a scrolled row is one contiguous slice.
    luma_row: Vec<u8>,
    u_row: Vec<u8>,
    v_row: Vec<u8>,
    /// Rows of bars at the top (even, so chroma rows map exactly); the rest is text area.
    bar_rows: usize,
    scale: usize,
}

impl TestPattern {
    pub fn new(request: VideoRequest, pace: Pace, epoch: Instant) -> Self {
        let w = request.width as usize;
        let h = request.height as usize;
        let bar_of = |x: usize| x * BARS.len() / w.max(1);
        let luma: Vec<u8> = (0..w).map(|x| BARS[bar_of(x)].0).collect();
        let u: Vec<u8> = (0..w / 2).map(|cx| BARS[bar_of(2 * cx)].1).collect();
        let v: Vec<u8> = (0..w / 2).map(|cx| BARS[bar_of(2 * cx)].2).collect();
        TestPattern {
            request,
            pace,
            epoch,
            next: 0,
            luma_row: [luma.as_slice(), luma.as_slice()].concat(),
            u_row: [u.as_slice(), u.as_slice()].concat(),
            v_row: [v.as_slice(), v.as_slice()].concat(),
            bar_rows: (h * 2 / 3) & !1,
            // 7-pixel glyphs become ~49 px tall at 720p and 14 px at 240p.
            scale: (h / 96).min(w / 128).max(1),
        }
    }

    /// Renders frame `n`. Costs a copy of each row plus a few thousand text pixels.
    fn render(&self, n: u64) -> VideoFrame {
        let (width, height) = (self.request.width, self.request.height);
        let (w, h) = (width as usize, height as usize);
        let captured = self.epoch + frame_offset(n, self.request.fps);
        if is_sync_frame(n, self.request.fps) {
            return VideoFrame::filled(width, height, 235, 128, 128, captured);
        }
        let (cw, ch) = (w / 2, h / 2);
        let shift = (n * SCROLL_PX % w.max(1) as u64) as usize;
        let cshift = shift / 2;
        let bar_rows = self.bar_rows.min(h);

        let mut data = Vec::with_capacity(i420_len(width, height));
        for _ in 0..bar_rows {
            data.extend_from_slice(&self.luma_row[shift..shift + w]);
        }
        data.resize(w * h, BG_Y);
        self.draw_clock(&mut data, n);
        for row in [&self.u_row, &self.v_row] {
            let plane_end = data.len() + cw * ch;
            for _ in 0..bar_rows / 2 {
                data.extend_from_slice(&row[cshift..cshift + cw]);
            }
            data.resize(plane_end, 128);
        }
        VideoFrame {
            width,
            height,
            data,
            captured,
        }
    }

    /// Draws "nnnnnn mm:ss.cc" into the luma plane below the bars, clipped to the picture.
    fn draw_clock(&self, luma: &mut [u8], n: u64) {
        let (w, h) = (self.request.width as usize, self.request.height as usize);
        let centis = frame_offset(n, self.request.fps).as_millis() / 10;
        // Room for a 20-digit frame number and a clock past 99 minutes, so indexing holds.
        let mut text = [b' '; 48];
        let mut len = put_number(&mut text, 0, u128::from(n), 6);
        len += 1;
        len = put_number(&mut text, len, centis / 6000, 2);
        text[len] = b':';
        len = put_number(&mut text, len + 1, centis / 100 % 60, 2);
        text[len] = b'.';
        len = put_number(&mut text, len + 1, centis % 100, 2);

        let s = self.scale;
        let text_area = h.saturating_sub(self.bar_rows);
        let top = self.bar_rows + text_area.saturating_sub(7 * s) / 2;
        let mut left = 2 * s;
        for &c in &text[..len] {
            let glyph = glyph(c);
            for (gy, bits) in glyph.iter().enumerate() {
                for gx in 0..5 {
                    if bits & (0x10 >> gx) == 0 {
                        continue;
                    }
                    let x0 = left + gx * s;
                    let y0 = top + gy * s;
                    for y in y0..(y0 + s).min(h) {
                        let start = y * w + x0.min(w);
                        let end = y * w + (x0 + s).min(w);
                        luma[start..end].fill(TEXT_Y);
                    }
                }
            }
            left += 6 * s;
        }
    }
}

/// Writes `value` in decimal, zero-padded to `min_digits`, at `at`; returns the end position.
/// Digits beyond the buffer's end are dropped rather than panicking.
fn put_number(buf: &mut [u8], at: usize, value: u128, min_digits: usize) -> usize {
    let mut digits = [0u8; 40];
    let mut count = 0;
    let mut v = value;
    while (v > 0 || count < min_digits) && count < digits.len() {
        digits[count] = b'0' + (v % 10) as u8;
        v /= 10;
        count += 1;
    }
    let mut pos = at;
    for &d in digits[..count].iter().rev() {
        if pos < buf.len() {
            buf[pos] = d;
            pos += 1;
        }
    }
    pos
}

/// A 5x7 bitmap for the characters the clock uses; bit 4 is the leftmost column.
fn glyph(c: u8) -> [u8; 7] {
    match c {
        b'0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        b'1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        b'2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        b'3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        b'4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        b'5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        b'6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        b'7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        b'8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        b'9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        b':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        b'.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        _ => [0; 7],
    }
}

impl VideoSource for TestPattern {
    fn describe(&self) -> String {
        format!(
            "test pattern {} (white sync frame at 1 s, 3 s, 5 s ...)",
            self.format()
        )
    }

    fn format(&self) -> VideoFormat {
        VideoFormat {
            width: self.request.width,
            height: self.request.height,
            fps: f64::from(self.request.fps),
        }
    }

    fn is_live(&self) -> bool {
        self.pace == Pace::Realtime
    }

    fn next_frame(&mut self) -> Result<Option<VideoFrame>, CaptureError> {
        let n = self.next;
        self.next += 1;
        if self.pace == Pace::Realtime {
            sleep_until(self.epoch + frame_offset(n, self.request.fps));
        }
        Ok(Some(self.render(n)))
    }
}

/// Samples per tone chunk: 10 ms at 48 kHz.
pub const TONE_CHUNK: u64 = 480;
/// The realtime tone hands its chunks over in 50 ms periods, as the ALSA source does (see
/// `alsa::PERIOD`): five at once, each once the period's last sample is due. A wake-up every
/// 10 ms made the stand-in cost the pipeline more than a microphone does.
const TONE_PERIOD: u64 = 2_400;
/// The beep repeats every 2 s, starts at 1 s into each period and lasts 100 ms.
const BEEP_PERIOD: u64 = 96_000;
const BEEP_START: u64 = 48_000;
const BEEP_LEN: u64 = 4_800;
/// -6 dBFS peak: 32767 * 10^(-6/20).
pub const BEEP_PEAK: f64 = 32767.0 * 0.501_187_233_627_272_2;
/// -30 dBFS peak: 32767 * 10^(-30/20).
pub const TONE_PEAK: f64 = 32767.0 * 0.031_622_776_601_683_79;

/// Sample `i` (counted from the epoch) of the tone: a quiet 440 Hz sine, replaced by a 1 kHz
/// beep during [1 s, 1.1 s) of every 2 s. The beep starts at phase 0 exactly on its first
/// sample, so its onset can be located to the sample.
pub fn tone_sample(i: u64) -> i16 {
    let pos = i % BEEP_PERIOD;
    let (peak, phase) = if (BEEP_START..BEEP_START + BEEP_LEN).contains(&pos) {
        // 48 samples are exactly one 1 kHz period.
        (BEEP_PEAK, ((pos - BEEP_START) % 48) as f64 / 48.0)
    } else {
        // 440 whole cycles fit in 48000 samples, so reducing mod 48000 keeps phase exact.
        (TONE_PEAK, ((i % 48_000) * 440 % 48_000) as f64 / 48_000.0)
    };
    (peak * (TAU * phase).sin()).round() as i16
}

/// The tone repeats every [`BEEP_PERIOD`] samples, and chunks never straddle a repetition.
const _: () = assert!(BEEP_PERIOD.is_multiple_of(TONE_CHUNK));

/// One whole period of [`tone_sample`], computed once: a chunk is then a copy, not 480 sines.
fn tone_period() -> &'static [i16] {
    static PERIOD: std::sync::OnceLock<Vec<i16>> = std::sync::OnceLock::new();
    PERIOD.get_or_init(|| (0..BEEP_PERIOD).map(tone_sample).collect())
}

/// Mono 48 kHz tone with sync beeps, as a microphone stand-in.
pub struct TestTone {
    pace: Pace,
    epoch: Instant,
    next: u64,
}

impl TestTone {
    pub fn new(pace: Pace, epoch: Instant) -> Self {
        TestTone {
            pace,
            epoch,
            next: 0,
        }
    }
}

impl AudioSource for TestTone {
    fn describe(&self) -> String {
        "test tone 48000 Hz mono (440 Hz, 1 kHz beep at 1 s, 3 s, 5 s ...)".into()
    }

    fn channels(&self) -> u16 {
        1
    }

    fn is_live(&self) -> bool {
        self.pace == Pace::Realtime
    }

    fn next_chunk(&mut self) -> Result<Option<AudioChunk>, CaptureError> {
        let k = self.next;
        self.next += 1;
        let first = k * TONE_CHUNK;
        let at = (first % BEEP_PERIOD) as usize;
        let samples = tone_period()[at..at + TONE_CHUNK as usize].to_vec();
        let captured = self.epoch + frames_to_duration(first);
        if self.pace == Pace::Realtime {
            // A device hands over a period once its last sample has been recorded.
            let released = (first + TONE_CHUNK).div_ceil(TONE_PERIOD) * TONE_PERIOD;
            sleep_until(self.epoch + frames_to_duration(released));
        }
        Ok(Some(AudioChunk {
            channels: 1,
            samples,
            captured,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(w: u32, h: u32, fps: u32, pace: Pace, epoch: Instant) -> TestPattern {
        let request = VideoRequest {
            width: w,
            height: h,
            fps,
        };
        TestPattern::new(request, pace, epoch)
    }

    fn mean(bytes: &[u8]) -> f64 {
        bytes.iter().map(|&b| f64::from(b)).sum::<f64>() / bytes.len() as f64
    }

    #[test]
    fn sync_frames_are_white_only_at_odd_seconds() -> crate::TestResult {
        for fps in [30u32, 25] {
            let epoch = Instant::now();
            let mut src = pattern(320, 240, fps, Pace::None, epoch);
            let mut white = Vec::new();
            for n in 0..(4 * fps as u64 + 5) {
                let f = src.next_frame()?.ok_or("no frame")?;
                assert_eq!(f.data.len(), i420_len(320, 240));
                assert_eq!(f.captured, epoch + frame_offset(n, fps), "frame {n}");
                let (y, u, v) = f.planes();
                let m = mean(y);
                if y.iter().all(|&b| b == 235) && u.iter().chain(v).all(|&b| b == 128) {
                    white.push(n);
                } else {
                    assert!(m < 200.0, "fps {fps} frame {n} mean luma {m}");
                    assert!(y.iter().all(|&b| b <= 180), "fps {fps} frame {n}");
                }
            }
            assert_eq!(white, vec![fps as u64, 3 * fps as u64], "fps {fps}");
        }
        Ok(())
    }

    #[test]
    fn timestamps_are_exact_integer_nanoseconds() -> crate::TestResult {
        let epoch = Instant::now();
        assert_eq!(frame_offset(1, 30), Duration::from_nanos(33_333_333));
        assert_eq!(frame_offset(30, 30), Duration::from_secs(1));
        // No drift after a day at 30 fps.
        assert_eq!(frame_offset(30 * 86_400, 30), Duration::from_secs(86_400));
        let mut src = pattern(64, 48, 30, Pace::None, epoch);
        src.next = 3 * 30 * 60;
        let f = src.next_frame()?.ok_or("no frame")?;
        assert_eq!(f.captured, epoch + Duration::from_secs(180));
        Ok(())
    }

    #[test]
    fn bars_scroll_and_clock_changes() -> crate::TestResult {
        let mut src = pattern(320, 240, 30, Pace::None, Instant::now());
        let a = src.next_frame()?.ok_or("no frame")?;
        let b = src.next_frame()?.ok_or("no frame")?;
        let w = 320;
        // Row 0 of frame 1 is row 0 of frame 0 moved left by SCROLL_PX.
        let s = SCROLL_PX as usize;
        assert_eq!(&b.data[..w - s], &a.data[s..w]);
        assert_ne!(&b.data[..w], &a.data[..w]);
        // The clock region (below the bars) differs between frames, and has text in it.
        let text = |f: &VideoFrame| f.luma()[src.bar_rows * w..].to_vec();
        assert_ne!(text(&a), text(&b));
        assert!(text(&a).contains(&TEXT_Y));
        // Chroma of the bars scrolls by half as much.
        let (_, ua, _) = a.planes();
        let (_, ub, _) = b.planes();
        assert_eq!(&ub[..w / 2 - s / 2], &ua[s / 2..w / 2]);
        Ok(())
    }

    #[test]
    fn tiny_and_odd_requests_do_not_panic() -> crate::TestResult {
        for (w, h) in [(16, 16), (2, 2), (0, 0), (15, 9)] {
            let mut src = pattern(w, h, 30, Pace::None, Instant::now());
            for _ in 0..3 {
                let f = src.next_frame()?.ok_or("no frame")?;
                assert_eq!(f.data.len(), i420_len(w, h));
            }
        }
        Ok(())
    }

    #[test]
    fn clock_text_is_formatted() {
        let mut buf = [b' '; 32];
        let end = put_number(&mut buf, 0, 42, 6);
        assert_eq!(&buf[..end], b"000042");
        let end = put_number(&mut buf, 0, 1_234_567, 2);
        assert_eq!(&buf[..end], b"1234567");
    }

    #[test]
    fn pattern_720p_cost_per_frame() -> crate::TestResult {
        let mut src = pattern(1280, 720, 30, Pace::None, Instant::now());
        let start = Instant::now();
        let mut checksum = 0u64;
        for _ in 0..60 {
            let f = src.next_frame()?.ok_or("no frame")?;
            checksum += u64::from(f.data[f.data.len() / 2]);
        }
        let per = start.elapsed() / 60;
        eprintln!("test pattern 1280x720: {per:?} per frame (checksum {checksum})");
        assert!(checksum > 0);
        Ok(())
    }

    #[test]
    fn realtime_pattern_sleeps_until_due_and_never_skips() -> crate::TestResult {
        let epoch = Instant::now();
        let mut src = pattern(64, 48, 30, Pace::Realtime, epoch);
        assert!(src.is_live());
        for n in 0..10 {
            let f = src.next_frame()?.ok_or("no frame")?;
            assert_eq!(f.captured, epoch + frame_offset(n, 30));
            assert!(Instant::now() >= f.captured);
        }
        assert!(epoch.elapsed() >= Duration::from_millis(300));
        assert!(!pattern(64, 48, 30, Pace::None, epoch).is_live());

        // Late start: frames are due in the past, so none of them waits.
        let late = Instant::now() - Duration::from_secs(10);
        let mut src = pattern(64, 48, 30, Pace::Realtime, late);
        let start = Instant::now();
        for n in 0..10 {
            assert_eq!(
                src.next_frame()?.ok_or("no frame")?.captured,
                late + frame_offset(n, 30)
            );
        }
        assert!(start.elapsed() < Duration::from_millis(250));
        Ok(())
    }

    fn rms(s: &[i16]) -> f64 {
        (s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len() as f64).sqrt()
    }

    fn peak(s: &[i16]) -> i16 {
        s.iter().map(|x| x.saturating_abs()).max().unwrap_or(0)
    }

    #[test]
    fn tone_beeps_start_on_the_exact_sample() {
        let samples: Vec<i16> = (0..200_000).map(tone_sample).collect();
        for start in [48_000usize, 144_000] {
            // Onset at phase 0 on the exact sample; rising, at 1 kHz.
            assert_eq!(samples[start], 0);
            let rise = (BEEP_PEAK * (TAU / 48.0).sin()).round() as i16;
            assert_eq!(samples[start + 1], rise);
            assert_eq!(samples[start + 12], BEEP_PEAK.round() as i16);
            assert_eq!(samples[start + 36], -(BEEP_PEAK.round() as i16));
            // The sample just before is still the quiet tone, as is the one just after.
            let before = (TONE_PEAK * (TAU * 440.0 * (start - 1) as f64 / 48_000.0).sin()).round();
            assert_eq!(f64::from(samples[start - 1]), before);
            let beep = &samples[start..start + 4_800];
            assert_eq!(peak(beep), BEEP_PEAK.round() as i16);
            assert!(
                (rms(beep) - BEEP_PEAK / 2f64.sqrt()).abs() < 2.0,
                "{}",
                rms(beep)
            );
            let after = &samples[start + 4_800..start + 9_600];
            assert!(peak(after) <= TONE_PEAK.round() as i16);
        }
        // Everything louder than the quiet tone is inside a beep window.
        for (i, &s) in samples.iter().enumerate() {
            let in_beep = (48_000..52_800).contains(&(i % 96_000));
            if !in_beep {
                assert!(s.saturating_abs() <= TONE_PEAK.round() as i16, "sample {i}");
            }
        }
        let quiet = &samples[0..48_000];
        assert_eq!(peak(quiet), TONE_PEAK.round() as i16);
        assert!((rms(quiet) - TONE_PEAK / 2f64.sqrt()).abs() < 1.0);
        // -6 dBFS and -30 dBFS within a tenth of a dB.
        let db = |x: f64| 20.0 * (x / 32767.0).log10();
        assert!((db(f64::from(peak(&samples[48_000..52_800]))) + 6.0).abs() < 0.1);
        assert!((db(f64::from(peak(quiet))) + 30.0).abs() < 0.1);
    }

    #[test]
    fn tone_chunks_are_contiguous_and_match_tone_sample() -> crate::TestResult {
        let epoch = Instant::now();
        let mut src = TestTone::new(Pace::None, epoch);
        assert!(!src.is_live());
        assert_eq!(src.channels(), 1);
        let mut all = Vec::new();
        let mut expected_start = epoch;
        for k in 0..250u64 {
            let c = src.next_chunk()?.ok_or("no chunk")?;
            assert_eq!(c.channels, 1);
            assert_eq!(c.frames(), 480);
            assert_eq!(c.captured, epoch + Duration::from_millis(10 * k));
            assert_eq!(c.captured, expected_start);
            expected_start = c.end();
            all.extend_from_slice(&c.samples);
        }
        let reference: Vec<i16> = (0..all.len() as u64).map(tone_sample).collect();
        assert_eq!(all, reference);
        Ok(())
    }

    #[test]
    fn realtime_tone_releases_chunks_at_their_end() -> crate::TestResult {
        let epoch = Instant::now();
        let mut src = TestTone::new(Pace::Realtime, epoch);
        assert!(src.is_live());
        for _ in 0..10 {
            let c = src.next_chunk()?.ok_or("no chunk")?;
            assert!(Instant::now() >= c.end());
        }
        assert!(epoch.elapsed() >= Duration::from_millis(100));
        Ok(())
    }

    #[test]
    fn realtime_tone_hands_over_whole_50_ms_periods() -> crate::TestResult {
        let epoch = Instant::now();
        let mut src = TestTone::new(Pace::Realtime, epoch);
        for k in 0..10u64 {
            let c = src.next_chunk()?.ok_or("no chunk")?;
            // Chunk k (10 ms each) belongs to period k / 5, released at its end.
            let period_end = epoch + Duration::from_millis(50 * (k / 5 + 1));
            assert!(Instant::now() >= period_end, "chunk {k} came early");
            assert_eq!(c.captured, epoch + Duration::from_millis(10 * k));
        }
        Ok(())
    }
}
