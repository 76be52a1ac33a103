//! What a camera offers and which of it booth picks: pixel formats, sizes and exact frame
//! intervals read from the driver (stepwise ranges sampled at common sizes and rates); the
//! choice nearest to what was asked; and the listing `booth devices` prints.

use super::*;

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

pub(super) fn interval_fps((num, den): (u32, u32)) -> f64 {
    if num == 0 {
        0.0
    } else {
        f64::from(den) / f64::from(num)
    }
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
pub(super) const STEPWISE_SIZES: [(u32, u32); 8] = [
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
pub(super) const STEPWISE_RATES: [u32; 9] = [60, 50, 30, 25, 24, 20, 15, 10, 5];

/// Every mode `device` offers in a pixel format booth converts. Stepwise and continuous
/// ranges (rare on webcams) are sampled at standard sizes and rates.
pub(super) fn enumerate_modes(device: &Device) -> io::Result<Vec<CameraMode>> {
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

pub(super) fn group_formats(modes: &[CameraMode]) -> Vec<FormatListing> {
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
