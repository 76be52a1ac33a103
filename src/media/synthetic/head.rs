//! The synthetic source behind `--video head`: a stand-in for a candidate talking to the
//! camera, which is what booth really records. A static, textured room with faint sensor noise,
//! a face-sized textured ellipse that sways and "talks", and a slow global luminance drift (the
//! camera's auto-exposure), with the same white sync frame at odd seconds as `test`.
//!
//! Everything is drawn from a fixed seed, so two runs give the same bytes. The textures are
//! made once; a frame costs a copy of the room, a row-wise copy of the face and one pass adding
//! noise, so that generating it stays cheap next to encoding it.

use std::time::Instant;

use super::super::frame::{VideoFormat, VideoFrame, i420_len};
use super::super::source::{CaptureError, Pace, VideoRequest, VideoSource};
use super::{frame_offset, is_sync_frame, sleep_until};

/// The seed [`TalkingHead::new`] uses.
pub const DEFAULT_SEED: u64 = 0x600d_f00d_b007_4ead;
/// Temporal (sensor) noise: each luma sample moves by at most this much from frame to frame.
pub const NOISE: i8 = 2;
/// Amplitude of the global luminance drift, in luma steps.
const DRIFT: f64 = 4.0;
/// Period of the drift and of the head's sway, in seconds.
const DRIFT_PERIOD_S: f64 = 6.0;
const SWAY_X_PERIOD_S: f64 = 5.0;
const SWAY_Y_PERIOD_S: f64 = 3.3;
/// Extra noise samples past one frame, so each frame reads the bank from its own offset.
const NOISE_SLACK: usize = 1 << 16;

/// splitmix64: tiny, seedable and good enough for textures.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `-amp..=amp`.
    fn around(&mut self, amp: i32) -> i32 {
        let span = (2 * amp + 1).max(1) as u64;
        (self.next() % span) as i32 - amp
    }
}

/// The face texture: luma and per-row spans of the ellipse, at its own origin.
struct Face {
    w: usize,
    h: usize,
    luma: Vec<u8>,
    /// The ellipse's `[start, end)` columns in each row.
    spans: Vec<(usize, usize)>,
}

/// A talking head in front of a static room, as a realistic camera stand-in.
pub struct TalkingHead {
    request: VideoRequest,
    pace: Pace,
    epoch: Instant,
    next: u64,
    rng: Rng,
    /// The room as a whole I420 picture; each frame starts as a copy of it.
    room: Vec<u8>,
    face: Face,
    /// Temporal noise biased by `NOISE` (so `0..=2 * NOISE`), one frame's luma plus slack.
    noise: Vec<u8>,
}

impl TalkingHead {
    pub fn new(request: VideoRequest, pace: Pace, epoch: Instant) -> Self {
        Self::with_seed(request, pace, epoch, DEFAULT_SEED)
    }

    pub fn with_seed(request: VideoRequest, pace: Pace, epoch: Instant, seed: u64) -> Self {
        let mut rng = Rng(seed);
        let (w, h) = (request.width as usize, request.height as usize);
        let room = draw_room(w, h, &mut rng);
        let face = draw_face(w, h, &mut rng);
        let noise = (0..w * h + NOISE_SLACK)
            .map(|_| (rng.around(i32::from(NOISE)) + i32::from(NOISE)) as u8)
            .collect();
        TalkingHead {
            request,
            pace,
            epoch,
            next: 0,
            rng,
            room,
            face,
            noise,
        }
    }

    /// Where the face's bounding box is in frame `n`: its top-left corner (may be off-picture)
    /// and its size. Everything that moves between frames apart from noise and drift is in it.
    pub fn face_rect(&self, n: u64) -> (isize, isize, usize, usize) {
        let (w, h) = (self.request.width as f64, self.request.height as f64);
        let t = n as f64 / f64::from(self.request.fps.max(1));
        let sway = |period: f64| (std::f64::consts::TAU * t / period).sin();
        let cx = w / 2.0 + w / 24.0 * sway(SWAY_X_PERIOD_S);
        let cy = h * 0.45 + h / 40.0 * sway(SWAY_Y_PERIOD_S);
        let x = (cx - self.face.w as f64 / 2.0).round() as isize;
        let y = (cy - self.face.h as f64 / 2.0).round() as isize;
        (x, y, self.face.w, self.face.h)
    }

    /// The global luminance offset of frame `n`, in luma steps.
    pub fn drift(&self, n: u64) -> i8 {
        let t = n as f64 / f64::from(self.request.fps.max(1));
        (DRIFT * (std::f64::consts::TAU * t / DRIFT_PERIOD_S).sin()).round() as i8
    }

    fn render(&mut self, n: u64) -> VideoFrame {
        let (width, height) = (self.request.width, self.request.height);
        let captured = self.epoch + frame_offset(n, self.request.fps);
        if is_sync_frame(n, self.request.fps) {
            return VideoFrame::filled(width, height, 235, 128, 128, captured);
        }
        let (w, h) = (width as usize, height as usize);
        let mut data = Vec::with_capacity(i420_len(width, height));
        data.extend_from_slice(&self.room);
        let (fx, fy, _, _) = self.face_rect(n);
        self.blit_face(&mut data, fx, fy, n);

        let at = (self.rng.next() % NOISE_SLACK as u64) as usize;
        add_noise(
            &mut data[..w * h],
            &self.noise[at..at + w * h],
            self.drift(n),
        );
        VideoFrame {
            width,
            height,
            data,
            captured,
        }
    }

    /// Copies the face's rows into the picture at (`fx`, `fy`), clipped, with a mouth whose
    /// opening follows a syllable-like rhythm, and fills the skin tone into the chroma planes.
    fn blit_face(&self, data: &mut [u8], fx: isize, fy: isize, n: u64) {
        let (w, h) = (self.request.width as usize, self.request.height as usize);
        let face = &self.face;
        let mouth_open = [0usize, 2, 5, 7, 5, 3, 1, 4, 6, 3][(n % 10) as usize];
        let mouth_rows = face.h * 70 / 100..face.h * 70 / 100 + face.h * mouth_open / 100;
        let mouth_cols = face.w * 35 / 100..face.w * 65 / 100;
        for (r, &(s, e)) in face.spans.iter().enumerate() {
            let y = fy + r as isize;
            if y < 0 || y as usize >= h {
                continue;
            }
            let Some((x0, x1, s0)) = clip(fx, s, e, w) else {
                continue;
            };
            let row = y as usize * w;
            let src = &face.luma[r * face.w + s0..r * face.w + s0 + (x1 - x0)];
            data[row + x0..row + x1].copy_from_slice(src);
            if mouth_rows.contains(&r) {
                let (m0, m1) = (mouth_cols.start as isize + fx, mouth_cols.end as isize + fx);
                let (m0, m1) = (m0.clamp(0, w as isize), m1.clamp(0, w as isize));
                data[row + m0 as usize..row + m1 as usize].fill(60);
            }
        }
        let (cw, ch) = (w / 2, h / 2);
        let (u_at, v_at) = (w * h, w * h + cw * ch);
        for (r, &(s, e)) in face.spans.iter().enumerate().step_by(2) {
            let cy = (fy + r as isize).div_euclid(2);
            if cy < 0 || cy as usize >= ch {
                continue;
            }
            let Some((x0, x1, _)) = clip(fx.div_euclid(2), s / 2, e.div_ceil(2), cw) else {
                continue;
            };
            let row = cy as usize * cw;
            data[u_at + row + x0..u_at + row + x1].fill(SKIN_U);
            data[v_at + row + x0..v_at + row + x1].fill(SKIN_V);
        }
    }
}

/// Adds the biased `noise` and the `drift` to `luma`, eight samples per step.
///
/// Invariant that makes the plain u64 arithmetic exact per byte: every drawn luma sample is in
/// 16..=200 (`draw_room`, `draw_face` and the mouth clamp to it), so sample + biased noise +
/// biased drift is at most 200 + 2 * NOISE + 2 * DRIFT < 256 and, after removing both biases,
/// at least 16 - NOISE - DRIFT > 0: no byte carries into or borrows from its neighbour.
/// Saturating per-byte arithmetic would be the same bytes at several times the cost.
fn add_noise(luma: &mut [u8], noise: &[u8], drift: i8) {
    const LANES: u64 = 0x0101_0101_0101_0101;
    let bias = (i64::from(NOISE) + DRIFT as i64) as u64;
    let up = LANES.wrapping_mul((i64::from(drift) + DRIFT as i64) as u64);
    let down = LANES.wrapping_mul(bias);
    let mut px = luma.chunks_exact_mut(8);
    let mut nz = noise.chunks_exact(8);
    for (p, z) in (&mut px).zip(&mut nz) {
        let mut word = [0u8; 8];
        word.copy_from_slice(p);
        let mut add = [0u8; 8];
        add.copy_from_slice(z);
        let sum = u64::from_ne_bytes(word)
            .wrapping_add(u64::from_ne_bytes(add))
            .wrapping_add(up)
            .wrapping_sub(down);
        p.copy_from_slice(&sum.to_ne_bytes());
    }
    for (p, &z) in px.into_remainder().iter_mut().zip(nz.remainder()) {
        let v = i32::from(*p) + i32::from(z) - i32::from(NOISE) + i32::from(drift);
        *p = v.clamp(0, 255) as u8;
    }
}

/// Skin tone's chroma in BT.601 limited range.
const SKIN_U: u8 = 110;
const SKIN_V: u8 = 152;

/// The span `[s, e)` of a row placed at `origin`, clipped to `0..limit`: the picture's
/// columns and the first source column, or `None` when nothing of it is visible.
fn clip(origin: isize, s: usize, e: usize, limit: usize) -> Option<(usize, usize, usize)> {
    let x0 = (origin + s as isize).max(0);
    let x1 = (origin + e as isize).min(limit as isize);
    (x1 > x0).then(|| {
        let s0 = (x0 - origin) as usize;
        (x0 as usize, x1 as usize, s0)
    })
}

/// A room: a wall shaded top to bottom, a shelf of books of random shades on the left, a
/// door frame on the right, fixed grain on everything; cool chroma on the wall, warm on books.
fn draw_room(w: usize, h: usize, rng: &mut Rng) -> Vec<u8> {
    let mut data = vec![0u8; i420_len(w as u32, h as u32)];
    let (luma, chroma) = data.split_at_mut(w * h);
    let shelf = (w / 4, h / 8, h * 3 / 4);
    let book_w = (w / 64).max(2);
    let shades: Vec<i32> = (0..w / book_w + 1).map(|_| 50 + rng.around(35)).collect();
    for y in 0..h {
        let wall = 120 - (40 * y / h.max(1)) as i32;
        for x in 0..w {
            let mut v = wall;
            if x < shelf.0 && (shelf.1..shelf.2).contains(&y) {
                v = shades[x / book_w] + if y % (h / 6).max(1) < 3 { -30 } else { 0 };
            } else if x > w * 7 / 8 && x < w * 7 / 8 + (w / 80).max(1) {
                v = 70;
            }
            luma[y * w + x] = (v + rng.around(6)).clamp(16, 200) as u8;
        }
    }
    let (cw, ch) = (w / 2, h / 2);
    let (u, v) = chroma.split_at_mut(cw * ch);
    for cy in 0..ch {
        for cx in 0..cw {
            let book = 2 * cx < shelf.0 && (shelf.1..shelf.2).contains(&(2 * cy));
            let (cu, cv) = if book {
                let s = shades[2 * cx / book_w];
                (128 + (s % 23) - 11, 128 + (s % 31) - 10)
            } else {
                (134, 124)
            };
            u[cy * cw + cx] = cu as u8;
            v[cy * cw + cx] = cv as u8;
        }
    }
    data
}

/// A face: an ellipse about 30% of the picture's height wide and 40% tall, skin with grain,
/// shading towards its edge, darker hair on top, two eyes.
fn draw_face(w: usize, h: usize, rng: &mut Rng) -> Face {
    let fw = (h * 30 / 100).min(w).max(2) & !1;
    let fh = (h * 40 / 100).max(2) & !1;
    let (rx, ry) = (fw as f64 / 2.0, fh as f64 / 2.0);
    let mut luma = vec![0u8; fw * fh];
    let mut spans = Vec::with_capacity(fh);
    for r in 0..fh {
        let dy = (r as f64 + 0.5 - ry) / ry;
        let half = rx * (1.0 - dy * dy).max(0.0).sqrt();
        let s = (rx - half).round() as usize;
        let e = ((rx + half).round() as usize).max(s);
        spans.push((s, e));
        for c in s..e {
            let dx = (c as f64 + 0.5 - rx) / rx;
            let edge = (dx * dx + dy * dy).min(1.0);
            let mut v = 170.0 - 50.0 * edge;
            if dy < -0.55 {
                v = 45.0;
            }
            let eye = |ex: f64| ((dx - ex) / 0.16).powi(2) + ((dy + 0.15) / 0.07).powi(2) < 1.0;
            if eye(-0.38) || eye(0.38) {
                v = 35.0;
            }
            luma[r * fw + c] = (v as i32 + rng.around(12)).clamp(16, 200) as u8;
        }
    }
    Face {
        w: fw,
        h: fh,
        luma,
        spans,
    }
}

impl VideoSource for TalkingHead {
    fn describe(&self) -> String {
        format!(
            "talking head {} (white sync frame at 1 s, 3 s, 5 s ...)",
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

#[cfg(test)]
#[path = "head_tests.rs"]
mod tests;
