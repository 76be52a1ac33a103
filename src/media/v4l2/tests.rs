//! Format choice, mode sampling, timestamps and conversions, without a camera.

use super::frames::*;
use super::modes::*;
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
fn greyscale_is_a_format_booth_uses() -> crate::TestResult {
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
    grey_to_i420(&src, w, h, stride, true, &mut dst)?;
    assert_eq!(&dst[..8], &[16, 235, 126, 25, 33, 42, 50, 59]);
    assert_eq!(&dst[8..], &[128; 4]);
    grey_to_i420(&src, w, h, stride, false, &mut dst)?;
    assert_eq!(&dst[..8], &[0, 255, 128, 10, 20, 30, 40, 50]);
    assert!(grey_to_i420(&src[..7], w, h, stride, false, &mut dst).is_err());
    Ok(())
}

#[test]
fn i420_with_padded_rows_is_packed() -> crate::TestResult {
    let (w, h, stride) = (4u32, 2u32, 8usize);
    // Y rows of 8 bytes (4 used), then U and V rows of 4 bytes (2 used).
    let mut src = vec![0u8; 8 * 2 + 4 + 4];
    src[..4].copy_from_slice(&[1, 2, 3, 4]);
    src[8..12].copy_from_slice(&[5, 6, 7, 8]);
    src[16..18].copy_from_slice(&[9, 10]);
    src[20..22].copy_from_slice(&[11, 12]);
    let mut dst = vec![0u8; i420_len(w, h)];
    i420_from_strided(&src, w, h, stride, &mut dst)?;
    assert_eq!(dst, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    Ok(())
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
fn missing_camera_names_the_device() -> crate::TestResult {
    let err = V4l2Camera::open(Some("/dev/video77"), VideoRequest::default())
        .err()
        .ok_or("a missing camera opened")?;
    let text = err.to_string();
    assert!(text.starts_with("camera /dev/video77 not found"), "{text}");
    Ok(())
}

#[test]
fn resolves_indexes() -> crate::TestResult {
    assert_eq!(
        resolve_device("3")?,
        DeviceName {
            path: "/dev/video3".into(),
            index: 3
        }
    );
    Ok(())
}
