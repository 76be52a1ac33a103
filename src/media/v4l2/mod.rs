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

mod frames;
mod identity;
mod modes;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod undecodable_tests;

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
use super::source::{CameraId, CaptureError, VideoRequest, VideoSource, check_size};

/// A camera and what it negotiated. The driver's buffers are mapped into the camera thread,
/// which converts each frame there (in parallel with encoding) and hands finished I420 frames
use frames::{Stamps, convert_frame};
pub use identity::find_camera;
pub use modes::{
    CameraListing, CameraMode, FormatListing, PixelFormat, choose_format, list_cameras,
};
use modes::{enumerate_modes, interval_fps};

/// over a short queue.
pub struct V4l2Camera {
    device: String,
    id: CameraId,
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

/// What the camera thread reports once the device is open.
type Opened = Result<(VideoFormat, PixelFormat, CameraId), CaptureError>;

impl V4l2Camera {
    /// Opens camera `id` where it is now (it may have come back under another node).
    pub fn open_known(id: &CameraId, request: VideoRequest) -> Result<Self, CaptureError> {
        match find_camera(id) {
            Some(path) => {
                tracing::info!(camera = %id, path = %path.display(), "the camera is back");
                Self::open(Some(&path.display().to_string()), request)
            }
            None => Err(CaptureError::CameraNotFound {
                device: id.to_string(),
                hint: available_hint(),
            }),
        }
    }

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
            Ok((format, pixel_format, id)) => Ok(V4l2Camera {
                device,
                id,
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
) -> Result<(Device, Negotiated, CameraId), CaptureError> {
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
    let id = identity::identify(path, &caps.bus, &caps.card);
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
        id,
    ))
}

fn camera_thread(
    name: &DeviceName,
    request: VideoRequest,
    opened: &crossbeam_channel::Sender<Opened>,
    frames: &crossbeam_channel::Sender<Result<VideoFrame, CaptureError>>,
) {
    let device_name = name.path.display().to_string();
    let (device, mode, id) = match open_device(name, request) {
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
    if opened.send(Ok((format, mode.pixel, id))).is_err() {
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
        let failed = matches!(&result, Err(e) if !matches!(e, CaptureError::CorruptFrame { .. }));
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

impl VideoSource for V4l2Camera {
    fn describe(&self) -> String {
        format!(
            "camera {} ({} {})",
            self.device, self.format, self.pixel_format
        )
    }

    fn camera_id(&self) -> Option<CameraId> {
        Some(self.id.clone())
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
