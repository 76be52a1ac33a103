//! The webcam, through V4L2 (the `v4l` crate's safe ioctl wrappers and memory-mapped
//! streaming): listing what a device really offers, frame intervals as exact fractions
//! (12.5 fps is 2/25 s, not "25"); choosing a format (MJPEG, then YUYV, NV12, I420, greyscale,
//! nearest in size and rate to what was asked); reading back what the device really gives;
//! converting each frame to I420 straight from the driver's buffer; and stamping it with its
//! capture instant (the driver's monotonic timestamp when it is believable, the dequeue time
//! when it is not). Errors name the device and, when it is busy, the process holding it.
//!
//! booth used nokhwa here before; against the kernel's own test camera (vivid, tests/vm.rs)
//! nokhwa listed 12.5 fps as 25, refused to open a camera left at a fractional rate ("Framerate
//! not whole number"), never offered greyscale (it asks V4L2 for `GRAY`, V4L2 says `GREY`), and
//! dropped vivid's timestamps. Its V4L2 backend is this same `v4l` crate underneath.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use v4l::buffer::{Flags as BufferFlags, Type as BufferType};
use v4l::capability::Flags as CapabilityFlags;
use v4l::format::{Colorspace, Quantization};
use v4l::frameinterval::FrameIntervalEnum;
use v4l::framesize::FrameSizeEnum;
use v4l::io::mmap::Stream;
use v4l::io::traits::CaptureStream;
use v4l::video::Capture;
use v4l::video::capture::Parameters;
use v4l::{Device, Format, FourCC, Fraction};

use super::convert::{self, LUMA_FULL_TO_LIMITED};
use super::frame::{VideoFormat, VideoFrame, i420_len};
use super::holders::describe_holders;
use super::mjpeg;
use super::source::{CaptureError, VideoRequest, VideoSource, check_size};

/// A camera and what it negotiated. The driver's buffers are mapped into the camera thread,
/// which converts each frame there (in parallel with encoding) and hands finished I420 frames
/// over a short queue.
pub struct V4l2Camera {
    device: String,
    format: VideoFormat,
    pixel_format: PixelFormat,
    frames: crossbeam_channel::Receiver<Result<VideoFrame, CaptureError>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for V4l2Camera {
    fn drop(&mut self) {
        // Closing the queue makes the camera thread stop after its current frame.
        let (_, dead) = crossbeam_channel::bounded(0);
        self.frames = dead;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The pixel formats booth converts, in order of preference: MJPEG carries 720p30 over USB 2,
/// YUYV is exact, NV12 appears on some built-in cameras, I420 and greyscale (infrared and
/// machine-vision cameras) are rare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    Mjpeg,
    Yuyv,
    Nv12,
    I420,
    Grey,
}

impl PixelFormat {
    const PREFERRED: [PixelFormat; 5] = [
        PixelFormat::Mjpeg,
        PixelFormat::Yuyv,
        PixelFormat::Nv12,
        PixelFormat::I420,
        PixelFormat::Grey,
    ];

    /// V4L2's four-character code. Greyscale is `GREY` (nokhwa asked for `GRAY`, which no
    /// driver offers).
    pub fn fourcc(self) -> FourCC {
        FourCC::new(match self {
            PixelFormat::Mjpeg => b"MJPG",
            PixelFormat::Yuyv => b"YUYV",
            PixelFormat::Nv12 => b"NV12",
            PixelFormat::I420 => b"YU12",
            PixelFormat::Grey => b"GREY",
        })
    }

    pub fn from_fourcc(fourcc: FourCC) -> Option<Self> {
        Self::PREFERRED.into_iter().find(|p| p.fourcc() == fourcc)
    }

    /// The four-character code as text, as `v4l2-ctl --list-formats` prints it.
    pub fn name(self) -> &'static str {
        match self {
            PixelFormat::Mjpeg => "MJPG",
            PixelFormat::Yuyv => "YUYV",
            PixelFormat::Nv12 => "NV12",
            PixelFormat::I420 => "YU12",
            PixelFormat::Grey => "GREY",
        }
    }

    fn preference(self) -> usize {
        Self::PREFERRED
            .iter()
            .position(|p| *p == self)
            .unwrap_or(Self::PREFERRED.len())
    }
}

impl std::fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One way a camera can run: a pixel format and size at one frame interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CameraMode {
    pub pixel: PixelFormat,
    pub width: u32,
    pub height: u32,
    /// Seconds per frame as V4L2 gives it (numerator, denominator): 12.5 fps is (2, 25).
    pub interval: (u32, u32),
}

impl CameraMode {
    pub fn fps(&self) -> f64 {
        interval_fps(self.interval)
    }
}

fn interval_fps((num, den): (u32, u32)) -> f64 {
    if num == 0 {
        0.0
    } else {
        f64::from(den) / f64::from(num)
    }
}

/// A V4L2 device named by path or index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceName {
    pub path: PathBuf,
    pub index: u32,
}

/// `/dev/video2`, `2`, or a udev symlink such as `/dev/v4l/by-id/...` → path and index.
pub fn resolve_device(name: &str) -> Result<DeviceName, CaptureError> {
    if let Ok(index) = name.parse::<u32>() {
        return Ok(DeviceName {
            path: PathBuf::from(format!("/dev/video{index}")),
            index,
        });
    }
    let path = Path::new(name);
    let real = std::fs::canonicalize(path).map_err(|_| CaptureError::CameraNotFound {
        device: name.to_string(),
        hint: available_hint(),
    })?;
    let index = real
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("video"))
        .and_then(|n| n.parse::<u32>().ok())
        .ok_or_else(|| CaptureError::Camera {
            device: name.to_string(),
            detail: format!("{} is not a video device", real.display()),
        })?;
    Ok(DeviceName {
        path: PathBuf::from(name),
        index,
    })
}

/// Video device nodes present on this machine, sorted. A USB camera usually has two (one for
/// pictures, one for metadata); see [`is_capture_node`].
pub fn video_nodes() -> Vec<PathBuf> {
    let mut nodes: Vec<PathBuf> = std::fs::read_dir("/dev")
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("video"))
                })
                .collect()
        })
        .unwrap_or_default();
    nodes.sort();
    nodes
}

/// Whether the node captures pictures (not a metadata, output or radio node).
fn is_capture_node(device: &Device) -> bool {
    device.query_caps().is_ok_and(|caps| {
        caps.capabilities
            .contains(CapabilityFlags::VIDEO_CAPTURE | CapabilityFlags::STREAMING)
    })
}

fn available_hint() -> String {
    let nodes = video_nodes();
    if nodes.is_empty() {
        " (no cameras are connected: /dev has no video devices)".to_string()
    } else {
        let list: Vec<String> = nodes.iter().map(|p| p.display().to_string()).collect();
        format!(" (cameras present: {})", list.join(", "))
    }
}

/// Maps a failed V4L2 call onto what the operator can act on. `doing` says which call.
fn classify(path: &Path, doing: &str, e: &io::Error) -> CaptureError {
    let device = path.display().to_string();
    match e.raw_os_error() {
        Some(libc_errno::EBUSY) => CaptureError::CameraBusy {
            holder: describe_holders(path),
            device,
        },
        Some(libc_errno::EACCES | libc_errno::EPERM) => CaptureError::CameraPermission { device },
        Some(libc_errno::ENOENT | libc_errno::ENODEV | libc_errno::ENXIO) => {
            CaptureError::CameraNotFound {
                device,
                hint: available_hint(),
            }
        }
        _ => CaptureError::Camera {
            device,
            detail: format!("{doing}: {e}"),
        },
    }
}

/// The errno values `classify` tells apart (Linux numbers; V4L2 exists only there).
mod libc_errno {
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
    pub const ENXIO: i32 = 6;
    pub const EACCES: i32 = 13;
    pub const EBUSY: i32 = 16;
    pub const ENODEV: i32 = 19;
}

/// Picks the mode to ask for: among those booth can convert, a fluid rate first, then the
/// size nearest the request, then the rate nearest at or above it, then the preferred format.
pub fn choose_format(offered: &[CameraMode], want: VideoRequest) -> Option<CameraMode> {
    let usable = offered
        .iter()
        .filter(|f| f.interval.0 > 0 && f.interval.1 > 0)
        .filter(|f| check_size(f.width, f.height).is_ok());
    let size_cost = |f: &CameraMode| {
        let dw = i64::from(f.width) - i64::from(want.width);
        let dh = i64::from(f.height) - i64::from(want.height);
        dw * dw + dh * dh
    };
    // Below 20 fps speech looks out of step with the picture: a smaller picture at a fluid
    // rate beats a large one at a crawl (USB 2 webcams give YUYV 720p at only 5-10 fps).
    let fluid = f64::from(want.fps.min(20));
    // Rates compare in thousandths of a frame per second; 0.1 fps of slack absorbs intervals
    // such as 1001/30000 (29.97) standing for 30.
    let slow = |f: &CameraMode| f.fps() < fluid - 0.1;
    let rate_cost = |f: &CameraMode| {
        let d = ((f.fps() - f64::from(want.fps)) * 1000.0).round() as i64;
        // Slower than asked costs more than faster: a slow camera looks worse.
        if d < -100 { -d * 4 } else { d.max(0) }
    };
    usable
        .min_by_key(|f| (slow(f), size_cost(f), rate_cost(f), f.pixel.preference()))
        .copied()
}

/// Standard sizes tried within a continuous or stepwise size range.
const STEPWISE_SIZES: [(u32, u32); 8] = [
    (320, 240),
    (640, 360),
    (640, 480),
    (800, 600),
    (960, 540),
    (1280, 720),
    (1600, 1200),
    (1920, 1080),
];
/// Standard rates tried within a continuous or stepwise interval range.
const STEPWISE_RATES: [u32; 9] = [60, 50, 30, 25, 24, 20, 15, 10, 5];

/// Every mode `device` offers in a pixel format booth converts. Stepwise and continuous
/// ranges (rare on webcams) are sampled at standard sizes and rates.
fn enumerate_modes(device: &Device) -> io::Result<Vec<CameraMode>> {
    let mut modes = Vec::new();
    for description in device.enum_formats()? {
        let Some(pixel) = PixelFormat::from_fourcc(description.fourcc) else {
            continue;
        };
        let sizes: Vec<(u32, u32)> = device
            .enum_framesizes(description.fourcc)
            .unwrap_or_default()
            .into_iter()
            .flat_map(|s| match s.size {
                FrameSizeEnum::Discrete(d) => vec![(d.width, d.height)],
                FrameSizeEnum::Stepwise(r) => {
                    let fits = |(w, h): &(u32, u32)| {
                        (r.min_width..=r.max_width).contains(w)
                            && (r.min_height..=r.max_height).contains(h)
                            && (w - r.min_width).is_multiple_of(r.step_width.max(1))
                            && (h - r.min_height).is_multiple_of(r.step_height.max(1))
                    };
                    let mut sizes: Vec<_> = STEPWISE_SIZES.into_iter().filter(fits).collect();
                    sizes.push((r.max_width, r.max_height));
                    sizes
                }
            })
            .collect();
        for (width, height) in sizes {
            let intervals = device
                .enum_frameintervals(description.fourcc, width, height)
                .unwrap_or_default();
            for i in intervals {
                match i.interval {
                    FrameIntervalEnum::Discrete(f) => modes.push(CameraMode {
                        pixel,
                        width,
                        height,
                        interval: (f.numerator, f.denominator),
                    }),
                    FrameIntervalEnum::Stepwise(s) => {
                        // Intervals are seconds per frame: the shortest is the fastest rate.
                        let fastest = interval_fps((s.min.numerator, s.min.denominator));
                        let slowest = interval_fps((s.max.numerator, s.max.denominator));
                        for fps in STEPWISE_RATES {
                            let fps_f = f64::from(fps);
                            if fps_f <= fastest + 1e-9 && fps_f >= slowest - 1e-9 {
                                modes.push(CameraMode {
                                    pixel,
                                    width,
                                    height,
                                    interval: (1, fps),
                                });
                            }
                        }
                        modes.push(CameraMode {
                            pixel,
                            width,
                            height,
                            interval: (s.min.numerator, s.min.denominator),
                        });
                    }
                }
            }
        }
    }
    modes.dedup();
    Ok(modes)
}

/// What the camera thread reports once the device is open.
type Opened = Result<(VideoFormat, PixelFormat), CaptureError>;

impl V4l2Camera {
    /// Opens `device` (or the first camera) and negotiates the nearest format to `request`.
    pub fn open(device: Option<&str>, request: VideoRequest) -> Result<Self, CaptureError> {
        let name = match device {
            Some(d) => resolve_device(d)?,
            None => {
                let first = video_nodes()
                    .into_iter()
                    .find(|p| Device::with_path(p).as_ref().is_ok_and(is_capture_node));
                match first {
                    Some(p) => resolve_device(&p.display().to_string())?,
                    None => {
                        return Err(CaptureError::CameraNotFound {
                            device: "default".into(),
                            hint: available_hint(),
                        });
                    }
                }
            }
        };
        if !name.path.exists() {
            return Err(CaptureError::CameraNotFound {
                device: name.path.display().to_string(),
                hint: available_hint(),
            });
        }
        let (opened_tx, opened_rx) = crossbeam_channel::bounded::<Opened>(1);
        let (frames_tx, frames) = crossbeam_channel::bounded(2);
        let device = name.path.display().to_string();
        let thread = std::thread::Builder::new()
            .name("booth-v4l2".into())
            .spawn(move || camera_thread(&name, request, &opened_tx, &frames_tx))
            .map_err(|e| CaptureError::Camera {
                device: device.clone(),
                detail: e.to_string(),
            })?;
        let opened = opened_rx.recv().unwrap_or_else(|_| {
            Err(CaptureError::Camera {
                device: device.clone(),
                detail: "camera thread ended while opening".into(),
            })
        });
        match opened {
            Ok((format, pixel_format)) => Ok(V4l2Camera {
                device,
                format,
                pixel_format,
                frames,
                thread: Some(thread),
            }),
            Err(e) => {
                let _ = thread.join();
                Err(e)
            }
        }
    }
}

/// What the device gives after negotiation, read back from the driver.
#[derive(Debug, Clone, Copy)]
struct Negotiated {
    pixel: PixelFormat,
    width: u32,
    height: u32,
    /// Bytes from one row to the next (luma rows for planar formats).
    stride: usize,
    /// Seconds per frame.
    interval: (u32, u32),
    /// Greyscale in 0-255 rather than video's 16-235.
    full_range: bool,
}

fn open_device(
    name: &DeviceName,
    request: VideoRequest,
) -> Result<(Device, Negotiated), CaptureError> {
    let path = name.path.as_path();
    let device = Device::with_path(path).map_err(|e| classify(path, "open", &e))?;
    let caps = device
        .query_caps()
        .map_err(|e| classify(path, "query capabilities", &e))?;
    if !caps
        .capabilities
        .contains(CapabilityFlags::VIDEO_CAPTURE | CapabilityFlags::STREAMING)
    {
        return Err(CaptureError::Camera {
            device: path.display().to_string(),
            detail: format!(
                "is not a camera ({}: no video capture; a USB camera's second node carries only metadata)",
                caps.card
            ),
        });
    }
    let offered = enumerate_modes(&device).map_err(|e| classify(path, "list formats", &e))?;
    let chosen = choose_format(&offered, request).ok_or_else(|| CaptureError::Camera {
        device: path.display().to_string(),
        detail: "offers no picture format booth can use (MJPEG, YUYV, NV12, YU12 or GREY)".into(),
    })?;
    // The format first, then the interval: drivers reset the rate when the size changes.
    device
        .set_format(&Format::new(
            chosen.width,
            chosen.height,
            chosen.pixel.fourcc(),
        ))
        .map_err(|e| classify(path, "set format", &e))?;
    device
        .set_params(&Parameters::new(Fraction::new(
            chosen.interval.0,
            chosen.interval.1,
        )))
        .map_err(|e| classify(path, "set frame rate", &e))?;
    // The driver may have adjusted either: what it reports now is what it will deliver.
    let actual = device
        .format()
        .map_err(|e| classify(path, "read format", &e))?;
    let params = device
        .params()
        .map_err(|e| classify(path, "read frame rate", &e))?;
    let pixel = PixelFormat::from_fourcc(actual.fourcc).ok_or_else(|| CaptureError::Camera {
        device: path.display().to_string(),
        detail: format!(
            "asked for {} but the driver chose {}",
            chosen.pixel,
            String::from_utf8_lossy(&actual.fourcc.repr)
        ),
    })?;
    check_size(actual.width, actual.height)?;
    let interval = match (params.interval.numerator, params.interval.denominator) {
        // A driver without frame-rate control reports 0/0: it runs at what it offered.
        (0, _) | (_, 0) => chosen.interval,
        i => i,
    };
    let min_stride = match pixel {
        PixelFormat::Yuyv => actual.width as usize * 2,
        _ => actual.width as usize,
    };
    let full_range = matches!(actual.quantization, Quantization::FullRange)
        || (matches!(actual.quantization, Quantization::Default)
            && matches!(actual.colorspace, Colorspace::JPEG));
    Ok((
        device,
        Negotiated {
            pixel,
            width: actual.width,
            height: actual.height,
            stride: (actual.stride as usize).max(min_stride),
            interval,
            full_range,
        },
    ))
}

fn camera_thread(
    name: &DeviceName,
    request: VideoRequest,
    opened: &crossbeam_channel::Sender<Opened>,
    frames: &crossbeam_channel::Sender<Result<VideoFrame, CaptureError>>,
) {
    let device_name = name.path.display().to_string();
    let (device, mode) = match open_device(name, request) {
        Ok(d) => d,
        Err(e) => {
            let _ = opened.send(Err(e));
            return;
        }
    };
    // Four buffers: one being filled, one being converted, two spare for a slow moment.
    let mut stream = match Stream::with_buffers(&device, BufferType::VideoCapture, 4) {
        Ok(s) => s,
        Err(e) => {
            let _ = opened.send(Err(classify(&name.path, "allocate buffers", &e)));
            return;
        }
    };
    let format = VideoFormat {
        width: mode.width,
        height: mode.height,
        fps: interval_fps(mode.interval),
    };
    // A camera that delivers nothing for this long is gone (or wedged): three frame times,
    // and never less than 3 s (cameras take a moment to start).
    let patience = format
        .frame_duration()
        .mul_f64(3.0)
        .max(Duration::from_secs(3));
    stream.set_timeout(patience);
    tracing::info!(device = %device_name, format = %format, pixel = %mode.pixel, "camera opened");
    if opened.send(Ok((format, mode.pixel))).is_err() {
        return;
    }
    let mut stamps = Stamps::new(device_name.clone(), format.frame_duration());
    loop {
        let result = match stream.next() {
            // A buffer the driver flags as an error holds no picture: vivid hands its queued
            // buffers back that way when it is unbound, some UVC cameras after a bad
            // transfer. Skipped, and counted.
            Ok((_, meta)) if meta.flags.contains(BufferFlags::ERROR) => {
                stamps.errors += 1;
                continue;
            }
            Ok((buffer, meta)) => {
                let captured = stamps.captured(meta.timestamp, meta.flags, meta.sequence);
                // For MJPEG only `bytesused` bytes are the picture; some drivers leave it 0
                // for raw formats, where the whole buffer is.
                let used = match meta.bytesused as usize {
                    0 => buffer.len(),
                    n => n.min(buffer.len()),
                };
                convert_frame(&device_name, mode, &buffer[..used], captured)
            }
            Err(e) => Err(lost(&device_name, &e, patience)),
        };
        let failed = result.is_err();
        if frames.send(result).is_err() || failed {
            break;
        }
    }
    // One line the VM tests read: whose clock stamped the pictures, and what was lost.
    tracing::info!(
        device = %device_name,
        driver_stamped = stamps.driver,
        arrival_stamped = stamps.unusable,
        driver_dropped = stamps.dropped,
        error_buffers = stamps.errors,
        "camera timestamps"
    );
    // The stream's own Drop stops it, and panics if stopping fails for any reason but an
    // unplugged device; keep such a panic inside this thread (it is logged by the hook).
    let stopped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(stream)));
    if stopped.is_err() {
        tracing::warn!(device = %device_name, "stopping the camera's stream failed");
    }
}

/// The error for a camera that stopped delivering.
fn lost(device: &str, e: &io::Error, patience: Duration) -> CaptureError {
    let detail = match (e.kind(), e.raw_os_error()) {
        (io::ErrorKind::TimedOut, _) => {
            format!("no picture for {:.0} s", patience.as_secs_f64())
        }
        (_, Some(libc_errno::ENODEV)) => "the camera was disconnected (No such device)".to_string(),
        _ => e.to_string(),
    };
    CaptureError::CameraLost {
        device: device.to_string(),
        detail,
    }
}

/// Turns driver timestamps into instants on the monotonic clock `Instant` uses, and counts
/// frames the driver dropped (gaps in its sequence numbers).
struct Stamps {
    device: String,
    frame: Duration,
    /// Frames stamped with the driver's timestamp, and with the arrival time instead.
    driver: u64,
    unusable: u64,
    last_sequence: Option<u32>,
    /// Frames the driver skipped because no buffer was free (gaps in sequence numbers).
    dropped: u64,
    /// Buffers the driver returned flagged as errors (no picture).
    errors: u64,
}

impl Stamps {
    fn new(device: String, frame: Duration) -> Self {
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

    fn captured(
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
fn monotonic_now() -> Duration {
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
fn stamp_to_instant(
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

fn convert_frame(
    device: &str,
    mode: Negotiated,
    bytes: &[u8],
    captured: Instant,
) -> Result<VideoFrame, CaptureError> {
    let (w, h) = (mode.width, mode.height);
    let mut data = vec![0u8; i420_len(w, h)];
    let bad = |detail: String| CaptureError::Camera {
        device: device.to_string(),
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
fn copy_plane(
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
fn i420_from_strided(
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
fn grey_to_i420(
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

impl VideoSource for V4l2Camera {
    fn describe(&self) -> String {
        format!(
            "camera {} ({} {})",
            self.device, self.format, self.pixel_format
        )
    }

    fn format(&self) -> VideoFormat {
        self.format
    }

    fn is_live(&self) -> bool {
        true
    }

    fn next_frame(&mut self) -> Result<Option<VideoFrame>, CaptureError> {
        match self.frames.recv() {
            Ok(r) => r.map(Some),
            Err(_) => Err(CaptureError::CameraLost {
                device: self.device.clone(),
                detail: "the camera thread stopped".into(),
            }),
        }
    }
}

/// A camera for `booth devices`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CameraListing {
    pub device: String,
    pub name: String,
    pub formats: Vec<FormatListing>,
    pub error: Option<String>,
}

/// One pixel format and size, with every frame rate offered for it (fastest first; 12.5 is
/// 12.5). Only formats booth can record are listed.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct FormatListing {
    pub pixel_format: String,
    pub width: u32,
    pub height: u32,
    pub fps: Vec<f64>,
}

/// Every camera with the formats it offers (an entry with `error` when it cannot be read).
/// Nodes that do not capture pictures (a USB camera's metadata node) are left out.
pub fn list_cameras() -> Vec<CameraListing> {
    video_nodes()
        .into_iter()
        .filter_map(|path| {
            let device = path.display().to_string();
            let listing =
                |name: String, formats: Vec<FormatListing>, error: Option<String>| CameraListing {
                    device: device.clone(),
                    name,
                    formats,
                    error,
                };
            let dev = match Device::with_path(&path) {
                Ok(d) => d,
                Err(e) => {
                    return Some(listing(
                        String::new(),
                        Vec::new(),
                        Some(classify(&path, "open", &e).to_string()),
                    ));
                }
            };
            if !is_capture_node(&dev) {
                return None;
            }
            let name = dev.query_caps().map(|c| c.card).unwrap_or_default();
            Some(match enumerate_modes(&dev) {
                Ok(modes) => listing(name, group_formats(&modes), None),
                Err(e) => listing(
                    name,
                    Vec::new(),
                    Some(classify(&path, "list formats", &e).to_string()),
                ),
            })
        })
        .collect()
}

fn group_formats(modes: &[CameraMode]) -> Vec<FormatListing> {
    let mut out: Vec<(PixelFormat, FormatListing)> = Vec::new();
    for m in modes {
        let fps = (m.fps() * 1000.0).round() / 1000.0;
        match out
            .iter_mut()
            .find(|(p, l)| *p == m.pixel && l.width == m.width && l.height == m.height)
        {
            Some((_, l)) => {
                if !l.fps.contains(&fps) {
                    l.fps.push(fps);
                }
            }
            None => out.push((
                m.pixel,
                FormatListing {
                    pixel_format: m.pixel.name().to_string(),
                    width: m.width,
                    height: m.height,
                    fps: vec![fps],
                },
            )),
        }
    }
    for (_, l) in &mut out {
        l.fps.sort_unstable_by(|a, b| b.total_cmp(a));
    }
    out.sort_by_key(|(p, l)| (p.preference(), std::cmp::Reverse(l.width * l.height)));
    out.into_iter().map(|(_, l)| l).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(w: u32, h: u32, pixel: PixelFormat, fps: u32) -> CameraMode {
        CameraMode {
            pixel,
            width: w,
            height: h,
            interval: (1, fps),
        }
    }

    #[test]
    fn prefers_mjpeg_at_the_asked_size() {
        let offered = [
            mode(1280, 720, PixelFormat::Yuyv, 10),
            mode(1280, 720, PixelFormat::Mjpeg, 30),
            mode(640, 480, PixelFormat::Yuyv, 30),
        ];
        let want = VideoRequest {
            width: 1280,
            height: 720,
            fps: 30,
        };
        assert_eq!(choose_format(&offered, want), Some(offered[1]));
    }

    #[test]
    fn takes_nearest_size_and_rate_when_exact_is_missing() {
        let offered = [
            mode(640, 360, PixelFormat::Yuyv, 30),
            mode(640, 480, PixelFormat::Yuyv, 25),
            mode(1920, 1080, PixelFormat::Yuyv, 5),
        ];
        let want = VideoRequest {
            width: 1280,
            height: 720,
            fps: 30,
        };
        // 1920x1080 at 5 fps is too slow: the nearest fluid size.
        assert_eq!(choose_format(&offered, want), Some(offered[1]));
        let slow_hd = [
            mode(1280, 720, PixelFormat::Yuyv, 10),
            mode(640, 480, PixelFormat::Yuyv, 30),
        ];
        assert_eq!(choose_format(&slow_hd, want), Some(slow_hd[1]));
        // With nothing fluid on offer, the nearest size still wins.
        let all_slow = [
            mode(1280, 720, PixelFormat::Yuyv, 10),
            mode(640, 480, PixelFormat::Yuyv, 10),
        ];
        assert_eq!(choose_format(&all_slow, want), Some(all_slow[0]));
        let want = VideoRequest {
            width: 640,
            height: 480,
            fps: 30,
        };
        assert_eq!(choose_format(&offered, want), Some(offered[1]));
    }

    #[test]
    fn fractional_rates_are_rates() {
        // vivid at 1280x720: 12.5 fps (2/25 s) at most. Listed by nokhwa as "25", which made
        // it look fluid; it is not, so the fluid 640x480 wins.
        let offered = [
            CameraMode {
                pixel: PixelFormat::Yuyv,
                width: 1280,
                height: 720,
                interval: (2, 25),
            },
            mode(640, 480, PixelFormat::Yuyv, 25),
        ];
        let want = VideoRequest {
            width: 1280,
            height: 720,
            fps: 30,
        };
        assert_eq!(offered[0].fps(), 12.5);
        assert_eq!(choose_format(&offered, want), Some(offered[1]));
        // 29.97 stands for 30 and beats 25.
        let ntsc = [
            mode(640, 480, PixelFormat::Yuyv, 25),
            CameraMode {
                pixel: PixelFormat::Yuyv,
                width: 640,
                height: 480,
                interval: (1001, 30000),
            },
        ];
        let want = VideoRequest {
            width: 640,
            height: 480,
            fps: 30,
        };
        assert_eq!(choose_format(&ntsc, want), Some(ntsc[1]));
    }

    #[test]
    fn greyscale_is_a_format_booth_uses() {
        assert_eq!(
            PixelFormat::from_fourcc(FourCC::new(b"GREY")),
            Some(PixelFormat::Grey)
        );
        assert_eq!(PixelFormat::from_fourcc(FourCC::new(b"GRAY")), None);
        let only_grey = [mode(640, 480, PixelFormat::Grey, 30)];
        assert_eq!(
            choose_format(&only_grey, VideoRequest::default()),
            Some(only_grey[0])
        );
        // Full-range grey becomes limited-range luma with neutral chroma; rows are padded.
        let (w, h, stride) = (4u32, 2u32, 6usize);
        let src = [0, 255, 128, 10, 99, 99, 20, 30, 40, 50, 99, 99];
        let mut dst = vec![0u8; i420_len(w, h)];
        grey_to_i420(&src, w, h, stride, true, &mut dst).unwrap();
        assert_eq!(&dst[..8], &[16, 235, 126, 25, 33, 42, 50, 59]);
        assert_eq!(&dst[8..], &[128; 4]);
        grey_to_i420(&src, w, h, stride, false, &mut dst).unwrap();
        assert_eq!(&dst[..8], &[0, 255, 128, 10, 20, 30, 40, 50]);
        assert!(grey_to_i420(&src[..7], w, h, stride, false, &mut dst).is_err());
    }

    #[test]
    fn i420_with_padded_rows_is_packed() {
        let (w, h, stride) = (4u32, 2u32, 8usize);
        // Y rows of 8 bytes (4 used), then U and V rows of 4 bytes (2 used).
        let mut src = vec![0u8; 8 * 2 + 4 + 4];
        src[..4].copy_from_slice(&[1, 2, 3, 4]);
        src[8..12].copy_from_slice(&[5, 6, 7, 8]);
        src[16..18].copy_from_slice(&[9, 10]);
        src[20..22].copy_from_slice(&[11, 12]);
        let mut dst = vec![0u8; i420_len(w, h)];
        i420_from_strided(&src, w, h, stride, &mut dst).unwrap();
        assert_eq!(dst, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    }

    #[test]
    fn driver_timestamps_become_instants() {
        let now = Instant::now();
        let mono = Duration::from_secs(100);
        let frame = Duration::from_millis(40);
        let ms = Duration::from_millis;
        // Start of exposure 30 ms ago.
        assert_eq!(
            stamp_to_instant(Some(mono - ms(30)), false, frame, now, mono),
            Some(now - ms(30))
        );
        // End of frame 10 ms ahead (vivid's default): began one frame earlier.
        assert_eq!(
            stamp_to_instant(Some(mono + ms(10)), true, frame, now, mono),
            Some(now - ms(30))
        );
        // Missing, far in the past, or far in the future: not believable.
        assert_eq!(stamp_to_instant(None, false, frame, now, mono), None);
        assert_eq!(
            stamp_to_instant(Some(Duration::ZERO), false, frame, now, mono),
            None
        );
        assert_eq!(
            stamp_to_instant(Some(mono - ms(1500)), false, frame, now, mono),
            Some(now - ms(1500))
        );
        assert_eq!(
            stamp_to_instant(Some(mono - ms(15_000)), false, frame, now, mono),
            None
        );
        assert_eq!(
            stamp_to_instant(Some(mono + ms(500)), false, frame, now, mono),
            None
        );
    }

    #[test]
    fn stepwise_listing_groups_rates_fastest_first() {
        let modes = [
            mode(640, 480, PixelFormat::Yuyv, 15),
            mode(640, 480, PixelFormat::Yuyv, 30),
            CameraMode {
                pixel: PixelFormat::Yuyv,
                width: 1280,
                height: 720,
                interval: (2, 25),
            },
            mode(640, 480, PixelFormat::Mjpeg, 30),
        ];
        let listed = group_formats(&modes);
        let summary: Vec<(&str, u32, Vec<f64>)> = listed
            .iter()
            .map(|l| (l.pixel_format.as_str(), l.width, l.fps.clone()))
            .collect();
        assert_eq!(
            summary,
            [
                ("MJPG", 640, vec![30.0]),
                ("YUYV", 1280, vec![12.5]),
                ("YUYV", 640, vec![30.0, 15.0]),
            ]
        );
    }

    #[test]
    fn missing_camera_names_the_device() {
        let err = V4l2Camera::open(Some("/dev/video77"), VideoRequest::default())
            .err()
            .unwrap();
        let text = err.to_string();
        assert!(text.starts_with("camera /dev/video77 not found"), "{text}");
    }

    #[test]
    fn resolves_indexes() {
        assert_eq!(
            resolve_device("3").unwrap(),
            DeviceName {
                path: "/dev/video3".into(),
                index: 3
            }
        );
    }
}
