//! The plain data that flows through the pipeline: raw I420 video frames and interleaved 16-bit
//! audio chunks, each stamped with the monotonic instant it was captured.
//!
//! Everything downstream of a source speaks only these two types; conversions from camera
//! formats happen inside the sources, so encoders and analysis never see YUYV or MJPEG.

use std::time::{Duration, Instant};

/// The one audio rate booth records at. Sources that cannot give it say so at open time.
pub const AUDIO_RATE: u32 = 48_000;

/// A raw picture in I420 (planar 4:2:0, limited-range BT.601), tightly packed:
/// `width * height` luma bytes, then the U and V planes of `(width / 2) * (height / 2)` each.
#[derive(Clone, PartialEq, Eq)]
pub struct VideoFrame {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
    /// When the picture was taken, on the monotonic clock every source shares.
    pub captured: Instant,
}

impl std::fmt::Debug for VideoFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoFrame")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("bytes", &self.data.len())
            .field("captured", &self.captured)
            .finish()
    }
}

/// Size in bytes of a packed I420 picture. Odd sizes are refused earlier (see [`VideoFormat`]).
pub fn i420_len(width: u32, height: u32) -> usize {
    let (w, h) = (width as usize, height as usize);
    w * h + 2 * (w / 2) * (h / 2)
}

impl VideoFrame {
    /// A uniform picture; `y`, `u`, `v` are the plane values (16/128/128 is black).
    pub fn filled(width: u32, height: u32, y: u8, u: u8, v: u8, captured: Instant) -> Self {
        let luma = width as usize * height as usize;
        let chroma = (width as usize / 2) * (height as usize / 2);
        let mut data = vec![y; luma + 2 * chroma];
        data[luma..luma + chroma].fill(u);
        data[luma + chroma..].fill(v);
        VideoFrame {
            width,
            height,
            data,
            captured,
        }
    }

    /// The three planes `(y, u, v)`.
    pub fn planes(&self) -> (&[u8], &[u8], &[u8]) {
        let luma = self.width as usize * self.height as usize;
        let chroma = (self.width as usize / 2) * (self.height as usize / 2);
        let (y, rest) = self.data.split_at(luma);
        let (u, v) = rest.split_at(chroma.min(rest.len()));
        (y, u, v)
    }

    pub fn luma(&self) -> &[u8] {
        self.planes().0
    }
}

/// A run of interleaved signed 16-bit samples at [`AUDIO_RATE`].
#[derive(Clone, PartialEq, Eq)]
pub struct AudioChunk {
    pub channels: u16,
    pub samples: Vec<i16>,
    /// When the first sample of the chunk was captured.
    pub captured: Instant,
}

impl std::fmt::Debug for AudioChunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioChunk")
            .field("channels", &self.channels)
            .field("frames", &self.frames())
            .field("captured", &self.captured)
            .finish()
    }
}

impl AudioChunk {
    /// Sample frames (one sample per channel) in the chunk.
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels.max(1) as usize
    }

    pub fn duration(&self) -> Duration {
        frames_to_duration(self.frames() as u64)
    }

    /// Capture instant of the frame just after the last one.
    pub fn end(&self) -> Instant {
        self.captured + self.duration()
    }
}

/// Duration of `frames` sample frames at [`AUDIO_RATE`], exact to the nanosecond.
pub fn frames_to_duration(frames: u64) -> Duration {
    let secs = frames / AUDIO_RATE as u64;
    let rem = frames % AUDIO_RATE as u64;
    Duration::new(secs, (rem * 1_000_000_000 / AUDIO_RATE as u64) as u32)
}

/// Sample frames in `d` at [`AUDIO_RATE`], rounded to the nearest frame.
pub fn duration_to_frames(d: Duration) -> u64 {
    (d.as_nanos() * AUDIO_RATE as u128 + 500_000_000) as u64 / 1_000_000_000
}

/// What a video source actually delivers, read back after negotiation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoFormat {
    pub width: u32,
    pub height: u32,
    /// Frames per second; may be fractional for real cameras (e.g. 12.5).
    pub fps: f64,
}

impl VideoFormat {
    /// Nominal duration of one frame.
    pub fn frame_duration(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.fps.max(1.0))
    }
}

impl std::fmt::Display for VideoFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.fps.fract().abs() < 1e-6 {
            write!(f, "{}x{}@{}", self.width, self.height, self.fps as u32)
        } else {
            write!(f, "{}x{}@{:.2}", self.width, self.height, self.fps)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_duration_round_trip_is_exact() {
        assert_eq!(frames_to_duration(48_000), Duration::from_secs(1));
        assert_eq!(frames_to_duration(1024), Duration::from_nanos(21_333_333));
        assert_eq!(duration_to_frames(Duration::from_millis(10)), 480);
        for n in [0u64, 1, 479, 480, 1023, 1024, 47_999, 123_457] {
            assert_eq!(duration_to_frames(frames_to_duration(n)), n);
        }
    }

    #[test]
    fn planes_split_i420() {
        let f = VideoFrame::filled(4, 2, 16, 100, 200, Instant::now());
        let (y, u, v) = f.planes();
        assert_eq!((y.len(), u.len(), v.len()), (8, 2, 2));
        assert!(y.iter().all(|&b| b == 16));
        assert!(u.iter().all(|&b| b == 100));
        assert!(v.iter().all(|&b| b == 200));
        assert_eq!(i420_len(4, 2), 12);
    }
}
