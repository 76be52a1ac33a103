//! A dequeued buffer turned into a booth frame: its capture instant from the driver's
//! timestamp (or the arrival time when that cannot be believed), dropped-frame counting, and
//! conversion to I420 straight from the driver's buffer.

use super::*;

/// Turns driver timestamps into instants on the monotonic clock `Instant` uses, and counts
/// frames the driver dropped (gaps in its sequence numbers).
pub(super) struct Stamps {
    pub(super) device: String,
    pub(super) frame: Duration,
    /// Frames stamped with the driver's timestamp, and with the arrival time instead.
    pub(super) driver: u64,
    pub(super) unusable: u64,
    pub(super) last_sequence: Option<u32>,
    /// Frames the driver skipped because no buffer was free (gaps in sequence numbers).
    pub(super) dropped: u64,
    /// Buffers the driver returned flagged as errors (no picture).
    pub(super) errors: u64,
}

impl Stamps {
    pub(super) fn new(device: String, frame: Duration) -> Self {
        Stamps {
            device,
            frame,
            driver: 0,
            unusable: 0,
            last_sequence: None,
            dropped: 0,
            errors: 0,
        }
    }

    pub(super) fn captured(
        &mut self,
        stamp: v4l::timestamp::Timestamp,
        flags: BufferFlags,
        sequence: u32,
    ) -> Instant {
        if let Some(last) = self.last_sequence {
            self.dropped += u64::from(sequence.wrapping_sub(last).saturating_sub(1));
        }
        self.last_sequence = Some(sequence);
        let now = Instant::now();
        let monotonic = (flags & BufferFlags::TIMESTAMP_MASK) == BufferFlags::TIMESTAMP_MONOTONIC;
        let stamp = (monotonic && stamp.sec >= 0 && stamp.usec >= 0)
            .then(|| Duration::new(stamp.sec as u64, 0) + Duration::from_micros(stamp.usec as u64));
        let eof = (flags & BufferFlags::TSTAMP_SRC_MASK) == BufferFlags::TSTAMP_SRC_EOF;
        match stamp_to_instant(stamp, eof, self.frame, now, monotonic_now()) {
            Some(at) => {
                self.driver += 1;
                at
            }
            None => {
                self.unusable += 1;
                if self.unusable == 1 {
                    tracing::warn!(device = %self.device, ?stamp, "camera frame timestamps are missing or not believable; using the arrival time");
                }
                now
            }
        }
    }
}

/// The monotonic clock's reading (CLOCK_MONOTONIC, the clock V4L2 stamps with and `Instant`
/// reads), as time since boot.
pub(super) fn monotonic_now() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    Duration::new(
        t.tv_sec.max(0) as u64,
        t.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// When a frame began, from its driver timestamp `stamp` (monotonic, since boot), read at
/// `now` = `now_monotonic`. End-of-frame stamps (V4L2's default) are moved back one frame
/// time, so pictures line up with sound by when they were taken. `None` when there is no
/// stamp, or it lies more than 10 s in the past or 200 ms in the future: then it cannot be on
/// the same clock. (A frame can be seconds old and right: the driver keeps up to four while
/// booth is held up, as it was for over a second in the test VM.)
pub(super) fn stamp_to_instant(
    stamp: Option<Duration>,
    end_of_frame: bool,
    frame: Duration,
    now: Instant,
    now_monotonic: Duration,
) -> Option<Instant> {
    let stamp = stamp.filter(|s| !s.is_zero())?;
    let start = if end_of_frame {
        stamp.saturating_sub(frame)
    } else {
        stamp
    };
    if start <= now_monotonic {
        let age = now_monotonic - start;
        (age < Duration::from_secs(10))
            .then(|| now.checked_sub(age))
            .flatten()
    } else {
        let ahead = start - now_monotonic;
        (ahead < Duration::from_millis(200)).then(|| now + ahead)
    }
}

pub(super) fn convert_frame(
    device: &str,
    mode: Negotiated,
    bytes: &[u8],
    captured: Instant,
) -> Result<VideoFrame, CaptureError> {
    let (w, h) = (mode.width, mode.height);
    let mut data = vec![0u8; i420_len(w, h)];
    // Whatever is wrong with one buffer is wrong with that picture only: the capture loop
    // skips it, and gives up on the camera only when nothing else comes.
    let bad = |detail: String| CaptureError::CorruptFrame {
        device: device.to_string(),
        captured,
        detail,
    };
    match mode.pixel {
        PixelFormat::Yuyv => convert::yuyv_to_i420(bytes, w, h, mode.stride, &mut data)
            .map_err(|e| bad(e.to_string()))?,
        PixelFormat::Nv12 => convert::nv12_to_i420(bytes, w, h, mode.stride, &mut data)
            .map_err(|e| bad(e.to_string()))?,
        PixelFormat::I420 => i420_from_strided(bytes, w, h, mode.stride, &mut data).map_err(bad)?,
        PixelFormat::Grey => {
            grey_to_i420(bytes, w, h, mode.stride, mode.full_range, &mut data).map_err(bad)?;
        }
        PixelFormat::Mjpeg => {
            let (dw, dh) = mjpeg::decode_mjpeg(bytes, &mut data).map_err(|e| bad(e.to_string()))?;
            if (dw, dh) != (w, h) {
                return Err(bad(format!("MJPEG frame is {dw}x{dh}, expected {w}x{h}")));
            }
        }
    }
    Ok(VideoFrame {
        width: w,
        height: h,
        data,
        captured,
    })
}

/// Copies `rows` rows of `row` bytes, `stride` apart in `src`, into packed `dst`.
pub(super) fn copy_plane(
    src: &[u8],
    stride: usize,
    row: usize,
    rows: usize,
    dst: &mut [u8],
) -> Result<(), String> {
    let needed = stride * rows.saturating_sub(1) + row;
    if src.len() < needed || dst.len() < row * rows {
        return Err(format!(
            "frame too short: {} bytes for {rows} rows of {row} ({stride} apart)",
            src.len()
        ));
    }
    for (r, out) in dst.chunks_exact_mut(row).take(rows).enumerate() {
        out.copy_from_slice(&src[r * stride..r * stride + row]);
    }
    Ok(())
}

/// V4L2's single-buffer YU12 (I420): the luma plane with `stride`, then U and V with half
/// of it, each plane starting right after the previous one.
pub(super) fn i420_from_strided(
    src: &[u8],
    w: u32,
    h: u32,
    stride: usize,
    dst: &mut [u8],
) -> Result<(), String> {
    let (w, h) = (w as usize, h as usize);
    let (cw, ch, cstride) = (w / 2, h / 2, stride / 2);
    let (y, chroma) = dst.split_at_mut(w * h);
    let (u, v) = chroma.split_at_mut(cw * ch);
    let u_start = stride * h;
    let v_start = u_start + cstride * ch;
    copy_plane(src, stride, w, h, y)?;
    copy_plane(src.get(u_start..).unwrap_or_default(), cstride, cw, ch, u)?;
    copy_plane(src.get(v_start..).unwrap_or_default(), cstride, cw, ch, v)
}

/// Greyscale to I420: the luma as it is (mapped to 16-235 when the camera sends 0-255),
/// neutral chroma.
pub(super) fn grey_to_i420(
    src: &[u8],
    w: u32,
    h: u32,
    stride: usize,
    full_range: bool,
    dst: &mut [u8],
) -> Result<(), String> {
    let (w, h) = (w as usize, h as usize);
    let (y, chroma) = dst.split_at_mut(w * h);
    copy_plane(src, stride, w, h, y)?;
    if full_range {
        y.iter_mut()
            .for_each(|p| *p = LUMA_FULL_TO_LIMITED[usize::from(*p)]);
    }
    chroma.fill(128);
    Ok(())
}
