//! The webcam, through nokhwa's V4L2 backend: choosing a format (MJPEG, then YUYV, then NV12,
//! nearest in size and rate to what was asked), reading back what the device really gives,
//! converting each frame to I420 without an RGB round trip, and stamping it with its capture
//! instant (the driver's timestamp when it has one, the dequeue time when it does not).
//! Errors name the device and, when it is busy, the process holding it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use nokhwa::Camera;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
};

use super::frame::{VideoFormat, VideoFrame, i420_len};
use super::holders::describe_holders;
use super::source::{CaptureError, VideoRequest, VideoSource, check_size};
use super::{convert, mjpeg};

/// A camera and what it negotiated. nokhwa's `Camera` must stay on the thread that opened
/// it, so a camera thread owns it, converts each frame there (in parallel with encoding) and
/// hands finished I420 frames over a short queue.
pub struct V4l2Camera {
    device: String,
    format: VideoFormat,
    pixel_format: FrameFormat,
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

/// Frame formats booth can convert, in order of preference: MJPEG carries 720p30 over USB 2,
/// YUYV is exact, NV12 appears on some built-in cameras.
const PREFERRED: [FrameFormat; 3] = [FrameFormat::MJPEG, FrameFormat::YUYV, FrameFormat::NV12];

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

/// Video device nodes present on this machine, sorted.
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

fn available_hint() -> String {
    let nodes = video_nodes();
    if nodes.is_empty() {
        " (no cameras are connected: /dev has no video devices)".to_string()
    } else {
        let list: Vec<String> = nodes.iter().map(|p| p.display().to_string()).collect();
        format!(" (cameras present: {})", list.join(", "))
    }
}

/// Maps nokhwa's string errors onto what the operator can act on.
fn classify(device: &DeviceName, detail: String) -> CaptureError {
    let name = device.path.display().to_string();
    let lower = detail.to_lowercase();
    if lower.contains("busy") {
        CaptureError::CameraBusy {
            holder: describe_holders(&device.path),
            device: name,
        }
    } else if lower.contains("permission denied") {
        CaptureError::CameraPermission { device: name }
    } else if lower.contains("no such file") || lower.contains("no such device") {
        CaptureError::CameraNotFound {
            device: name,
            hint: available_hint(),
        }
    } else {
        CaptureError::Camera {
            device: name,
            detail,
        }
    }
}

/// Picks the format to ask for: the preferred pixel format among those offering the size
/// nearest the request, then the rate nearest at or above it.
pub fn choose_format(offered: &[CameraFormat], want: VideoRequest) -> Option<CameraFormat> {
    let usable = offered
        .iter()
        .filter(|f| PREFERRED.contains(&f.format()))
        .filter(|f| check_size(f.width(), f.height()).is_ok());
    let size_cost = |f: &CameraFormat| {
        let dw = f.width() as i64 - want.width as i64;
        let dh = f.height() as i64 - want.height as i64;
        dw * dw + dh * dh
    };
    // Below 20 fps speech looks out of step with the picture: a smaller picture at a fluid
    // rate beats a large one at a crawl (USB 2 webcams give YUYV 720p at only 5-10 fps).
    let fluid = want.fps.min(20);
    let slow = |f: &CameraFormat| f.frame_rate() < fluid;
    let rate_cost = |f: &CameraFormat| {
        let d = f.frame_rate() as i64 - want.fps as i64;
        // Slower than asked costs more than faster: a slow camera looks worse.
        if d < 0 { -d * 4 } else { d }
    };
    let pref = |f: &CameraFormat| PREFERRED.iter().position(|p| *p == f.format());
    usable
        .min_by_key(|f| (slow(f), size_cost(f), rate_cost(f), pref(f)))
        .copied()
}

/// What the camera thread reports once the device is open.
type Opened = Result<(VideoFormat, FrameFormat), CaptureError>;

impl V4l2Camera {
    /// Opens `device` (or the first camera) and negotiates the nearest format to `request`.
    pub fn open(device: Option<&str>, request: VideoRequest) -> Result<Self, CaptureError> {
        let name = match device {
            Some(d) => resolve_device(d)?,
            None => match video_nodes().first() {
                Some(p) => resolve_device(&p.display().to_string())?,
                None => {
                    return Err(CaptureError::CameraNotFound {
                        device: "default".into(),
                        hint: available_hint(),
                    });
                }
            },
        };
        if !name.path.exists() {
            return Err(CaptureError::CameraNotFound {
                device: name.path.display().to_string(),
                hint: available_hint(),
            });
        }
        if let Err(e) = std::fs::File::open(&name.path)
            && e.kind() == std::io::ErrorKind::PermissionDenied
        {
            return Err(CaptureError::CameraPermission {
                device: name.path.display().to_string(),
            });
        }
        let (opened_tx, opened_rx) = crossbeam_channel::bounded::<Opened>(1);
        let (frames_tx, frames) = crossbeam_channel::bounded(2);
        let device = name.path.display().to_string();
        let thread = std::thread::Builder::new()
            .name("booth-v4l2".into())
            .spawn(move || camera_thread(name, request, &opened_tx, &frames_tx))
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

fn open_camera(
    name: &DeviceName,
    request: VideoRequest,
) -> Result<(Camera, CameraFormat), CaptureError> {
    // Open once with any format to learn what the device offers, then ask for our pick.
    let any =
        RequestedFormat::with_formats(RequestedFormatType::AbsoluteHighestFrameRate, &PREFERRED);
    let mut camera =
        Camera::with_backend(CameraIndex::Index(name.index), any, ApiBackend::Video4Linux)
            .map_err(|e| classify(name, e.to_string()))?;
    let offered = camera
        .compatible_camera_formats()
        .map_err(|e| classify(name, e.to_string()))?;
    let chosen = choose_format(&offered, request).ok_or_else(|| CaptureError::Camera {
        device: name.path.display().to_string(),
        detail: "offers no picture format booth can use (MJPEG, YUYV or NV12)".into(),
    })?;
    camera
        .set_camera_requset(RequestedFormat::with_formats(
            RequestedFormatType::Exact(chosen),
            &PREFERRED,
        ))
        .map_err(|e| classify(name, e.to_string()))?;
    camera
        .open_stream()
        .map_err(|e| classify(name, e.to_string()))?;
    let actual = camera.camera_format();
    check_size(actual.width(), actual.height())?;
    Ok((camera, actual))
}

fn camera_thread(
    name: DeviceName,
    request: VideoRequest,
    opened: &crossbeam_channel::Sender<Opened>,
    frames: &crossbeam_channel::Sender<Result<VideoFrame, CaptureError>>,
) {
    let (mut camera, actual) = match open_camera(&name, request) {
        Ok(c) => c,
        Err(e) => {
            let _ = opened.send(Err(e));
            return;
        }
    };
    let format = VideoFormat {
        width: actual.width(),
        height: actual.height(),
        fps: actual.frame_rate().max(1) as f64,
    };
    let device = name.path.display().to_string();
    tracing::info!(device = %device, format = %format, pixel = %actual.format(), "camera opened");
    if opened.send(Ok((format, actual.format()))).is_err() {
        return;
    }
    let mut stamps = Stamps::new(device.clone());
    loop {
        let result = camera
            .frame()
            .map_err(|e| CaptureError::CameraLost {
                device: device.clone(),
                detail: e.to_string(),
            })
            .and_then(|buffer| {
                let captured = stamps.captured(buffer.capture_timestamp());
                convert_frame(&device, actual.format(), format, buffer.buffer(), captured)
            });
        let failed = result.is_err();
        if frames.send(result).is_err() || failed {
            break;
        }
    }
    let _ = camera.stop_stream();
}

/// Turns a driver timestamp into an instant on the shared monotonic clock.
struct Stamps {
    device: String,
    missing: u64,
}

impl Stamps {
    fn new(device: String) -> Self {
        Stamps { device, missing: 0 }
    }

    /// nokhwa reports the driver's monotonic stamp converted to wall clock; convert back by
    /// its age. Without a stamp (vivid's default, some UVC cameras) the dequeue time is used.
    fn captured(&mut self, stamp: Option<Duration>) -> Instant {
        let now = Instant::now();
        let Some(wall) = stamp else {
            self.missing += 1;
            if self.missing == 1 {
                tracing::warn!(device = %self.device, "camera gives no frame timestamps; using the arrival time");
            }
            return now;
        };
        let since_epoch = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        match since_epoch.checked_sub(wall) {
            // A stamp more than a second old or in the future is not believable.
            Some(age) if age < Duration::from_secs(1) => now.checked_sub(age).unwrap_or(now),
            _ => now,
        }
    }
}

fn convert_frame(
    device: &str,
    pixel: FrameFormat,
    format: VideoFormat,
    bytes: &[u8],
    captured: Instant,
) -> Result<VideoFrame, CaptureError> {
    let (w, h) = (format.width, format.height);
    let mut data = vec![0u8; i420_len(w, h)];
    let bad = |detail: String| CaptureError::Camera {
        device: device.to_string(),
        detail,
    };
    match pixel {
        FrameFormat::YUYV => convert::yuyv_to_i420(bytes, w, h, w as usize * 2, &mut data)
            .map_err(|e| bad(e.to_string()))?,
        FrameFormat::NV12 => convert::nv12_to_i420(bytes, w, h, w as usize, &mut data)
            .map_err(|e| bad(e.to_string()))?,
        FrameFormat::MJPEG => {
            let (dw, dh) = mjpeg::decode_mjpeg(bytes, &mut data).map_err(|e| bad(e.to_string()))?;
            if (dw, dh) != (w, h) {
                return Err(bad(format!("MJPEG frame is {dw}x{dh}, expected {w}x{h}")));
            }
        }
        other => return Err(bad(format!("unsupported pixel format {other:?}"))),
    }
    Ok(VideoFrame {
        width: w,
        height: h,
        data,
        captured,
    })
}

impl VideoSource for V4l2Camera {
    fn describe(&self) -> String {
        format!(
            "camera {} ({} {:?})",
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

#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct FormatListing {
    pub pixel_format: String,
    pub width: u32,
    pub height: u32,
    pub fps: Vec<u32>,
}

/// Every video device with the formats it offers (an entry with `error` when it cannot be
/// opened, e.g. busy).
pub fn list_cameras() -> Vec<CameraListing> {
    video_nodes()
        .into_iter()
        .map(|path| {
            let device = path.display().to_string();
            let result = resolve_device(&device).and_then(|name| {
                let any = RequestedFormat::with_formats(
                    RequestedFormatType::AbsoluteHighestFrameRate,
                    &PREFERRED,
                );
                let mut cam = Camera::with_backend(
                    CameraIndex::Index(name.index),
                    any,
                    ApiBackend::Video4Linux,
                )
                .map_err(|e| classify(&name, e.to_string()))?;
                let formats = cam
                    .compatible_camera_formats()
                    .map_err(|e| classify(&name, e.to_string()))?;
                Ok((cam.info().human_name(), formats))
            });
            match result {
                Ok((name, formats)) => CameraListing {
                    device,
                    name,
                    formats: group_formats(&formats),
                    error: None,
                },
                Err(e) => CameraListing {
                    device,
                    name: String::new(),
                    formats: Vec::new(),
                    error: Some(e.to_string()),
                },
            }
        })
        .collect()
}

fn group_formats(formats: &[CameraFormat]) -> Vec<FormatListing> {
    let mut out: Vec<FormatListing> = Vec::new();
    for f in formats {
        let pixel = f.format().to_string();
        match out
            .iter_mut()
            .find(|l| l.pixel_format == pixel && l.width == f.width() && l.height == f.height())
        {
            Some(l) => {
                if !l.fps.contains(&f.frame_rate()) {
                    l.fps.push(f.frame_rate());
                }
            }
            None => out.push(FormatListing {
                pixel_format: pixel,
                width: f.width(),
                height: f.height(),
                fps: vec![f.frame_rate()],
            }),
        }
    }
    for l in &mut out {
        l.fps.sort_unstable_by(|a, b| b.cmp(a));
    }
    out.sort_by(|a, b| {
        (a.pixel_format.as_str(), b.width * b.height)
            .cmp(&(b.pixel_format.as_str(), a.width * a.height))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use nokhwa::utils::Resolution;

    fn fmt(w: u32, h: u32, f: FrameFormat, fps: u32) -> CameraFormat {
        CameraFormat::new(Resolution::new(w, h), f, fps)
    }

    #[test]
    fn prefers_mjpeg_at_the_asked_size() {
        let offered = [
            fmt(1280, 720, FrameFormat::YUYV, 10),
            fmt(1280, 720, FrameFormat::MJPEG, 30),
            fmt(640, 480, FrameFormat::YUYV, 30),
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
            fmt(640, 360, FrameFormat::YUYV, 30),
            fmt(640, 480, FrameFormat::YUYV, 25),
            fmt(1920, 1080, FrameFormat::YUYV, 5),
            fmt(1280, 720, FrameFormat::RAWRGB, 30),
        ];
        let want = VideoRequest {
            width: 1280,
            height: 720,
            fps: 30,
        };
        // RGB is not convertible and 1920x1080 at 5 fps is too slow: the nearest fluid size.
        assert_eq!(choose_format(&offered, want), Some(offered[1]));
        let slow_hd = [
            fmt(1280, 720, FrameFormat::YUYV, 10),
            fmt(640, 480, FrameFormat::YUYV, 30),
        ];
        assert_eq!(choose_format(&slow_hd, want), Some(slow_hd[1]));
        // With nothing fluid on offer, the nearest size still wins.
        let all_slow = [
            fmt(1280, 720, FrameFormat::YUYV, 10),
            fmt(640, 480, FrameFormat::YUYV, 10),
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
