use std::time::{Duration, Instant};

use super::*;

fn head(w: u32, h: u32, fps: u32, seed: u64) -> TalkingHead {
    let request = VideoRequest {
        width: w,
        height: h,
        fps,
    };
    TalkingHead::with_seed(request, Pace::None, Instant::now(), seed)
}

fn frames(
    src: &mut TalkingHead,
    count: usize,
) -> Result<Vec<VideoFrame>, Box<dyn std::error::Error>> {
    (0..count)
        .map(|_| Ok(src.next_frame()?.ok_or("no frame")?))
        .collect()
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() -> crate::TestResult {
    let a = frames(&mut head(320, 240, 30, 7), 40)?;
    let b = frames(&mut head(320, 240, 30, 7), 40)?;
    let c = frames(&mut head(320, 240, 30, 8), 40)?;
    for (n, (fa, fb)) in a.iter().zip(&b).enumerate() {
        assert_eq!(fa.data, fb.data, "frame {n}");
    }
    assert_ne!(a[2].data, c[2].data);
    Ok(())
}

#[test]
fn sync_frames_are_white_only_at_odd_seconds() -> crate::TestResult {
    for fps in [30u32, 25] {
        let mut src = head(320, 240, fps, DEFAULT_SEED);
        let mut white = Vec::new();
        for (n, f) in frames(&mut src, 4 * fps as usize + 5)?.iter().enumerate() {
            let (y, u, v) = f.planes();
            if y.iter().all(|&b| b == 235) && u.iter().chain(v).all(|&b| b == 128) {
                white.push(n);
            } else {
                // Nothing else comes near the mark, so a detector cannot mistake it.
                let max = y.iter().copied().max().unwrap_or(0);
                assert!(max <= 200 + 6, "fps {fps} frame {n} max luma {max}");
            }
        }
        assert_eq!(white, vec![fps as usize, 3 * fps as usize], "fps {fps}");
    }
    Ok(())
}

/// Outside the face, a pixel moves only by noise and drift; inside, many move by more.
#[test]
fn consecutive_frames_differ_mostly_inside_the_face() -> crate::TestResult {
    let (w, h) = (640usize, 360usize);
    let mut src = head(w as u32, h as u32, 30, DEFAULT_SEED);
    let all = frames(&mut src, 29)?;
    let still = 2 * i32::from(NOISE) + 1;
    let (mut moved_total, mut area_total) = (0usize, 0usize);
    for n in 1..all.len() {
        let (a, b) = (all[n - 1].luma(), all[n].luma());
        let (ax, ay, fw, fh) = src.face_rect(n as u64 - 1);
        let (bx, by, _, _) = src.face_rect(n as u64);
        let inside = |x: usize, y: usize| {
            let (x, y) = (x as isize, y as isize);
            x >= ax.min(bx)
                && x < ax.max(bx) + fw as isize
                && y >= ay.min(by)
                && y < ay.max(by) + fh as isize
        };
        let (mut moved_in, mut area_in) = (0usize, 0usize);
        for y in 0..h {
            for x in 0..w {
                let d = (i32::from(a[y * w + x]) - i32::from(b[y * w + x])).abs();
                if inside(x, y) {
                    area_in += 1;
                    moved_in += usize::from(d > still);
                } else {
                    assert!(d <= still, "frame {n} ({x}, {y}) changed by {d}");
                }
            }
        }
        assert!(area_in < w * h / 5, "frame {n}: the face covers {area_in}");
        // A head does not move every frame, but the mouth does.
        assert!(moved_in > 0, "frame {n}: nothing moved in the face");
        moved_total += moved_in;
        area_total += area_in;
    }
    assert!(
        moved_total * 5 > area_total,
        "{moved_total} of {area_total} moved"
    );
    Ok(())
}

#[test]
fn luminance_drifts_a_little_over_seconds() -> crate::TestResult {
    let src = head(64, 48, 30, DEFAULT_SEED);
    let drifts: Vec<i8> = (0..180).map(|n| src.drift(n)).collect();
    assert_eq!(drifts.iter().max(), Some(&4));
    assert_eq!(drifts.iter().min(), Some(&-4));
    for pair in drifts.windows(2) {
        assert!((pair[0] - pair[1]).abs() <= 1, "{pair:?}");
    }
    Ok(())
}

#[test]
fn noise_is_added_per_byte_without_carries() {
    let luma: Vec<u8> = (0..19).map(|i| [16u8, 200, 100][i % 3]).collect();
    let noise: Vec<u8> = (0..19).map(|i| [0u8, 4, 2, 1][i % 4]).collect();
    for drift in [-4i8, 0, 3, 4] {
        let mut got = luma.clone();
        add_noise(&mut got, &noise, drift);
        for i in 0..luma.len() {
            let want = i32::from(luma[i]) + i32::from(noise[i]) - 2 + i32::from(drift);
            assert_eq!(i32::from(got[i]), want, "sample {i} drift {drift}");
        }
    }
}

#[test]
fn any_size_and_rate() -> crate::TestResult {
    for (w, h, fps) in [
        (1280, 720, 30),
        (640, 480, 25),
        (16, 16, 60),
        (2, 2, 1),
        (0, 0, 30),
        (15, 9, 30),
    ] {
        let mut src = head(w, h, fps, DEFAULT_SEED);
        let format = src.format();
        assert_eq!((format.width, format.height), (w, h));
        assert_eq!(format.fps, f64::from(fps));
        for (n, f) in frames(&mut src, 3)?.iter().enumerate() {
            assert_eq!(f.data.len(), i420_len(w, h), "{w}x{h} frame {n}");
            assert_eq!((f.width, f.height), (w, h));
            assert_eq!(f.captured, src.epoch + frame_offset(n as u64, fps));
        }
    }
    // The face scales with the picture.
    let (_, _, fw, fh) = head(1280, 720, 30, 1).face_rect(0);
    assert_eq!((fw, fh), (216, 288));
    let (_, _, fw, fh) = head(640, 360, 30, 1).face_rect(0);
    assert_eq!((fw, fh), (108, 144));
    Ok(())
}

#[test]
fn realtime_head_is_paced() -> crate::TestResult {
    let epoch = Instant::now();
    let request = VideoRequest {
        width: 64,
        height: 48,
        fps: 30,
    };
    let mut src = TalkingHead::new(request, Pace::Realtime, epoch);
    assert!(src.is_live());
    for n in 0..6 {
        let f = src.next_frame()?.ok_or("no frame")?;
        assert_eq!(f.captured, epoch + frame_offset(n, 30));
        assert!(Instant::now() >= f.captured);
    }
    assert!(epoch.elapsed() >= Duration::from_millis(166));
    Ok(())
}

/// Generation cost alone, printed for the bench report (`--nocapture`); it asserts only that
/// frames came out, since a wall-clock floor would fail on a loaded machine.
#[test]
fn head_720p_cost_per_frame() -> crate::TestResult {
    let mut src = head(1280, 720, 30, DEFAULT_SEED);
    let start = Instant::now();
    let mut checksum = 0u64;
    for _ in 0..90 {
        let f = src.next_frame()?.ok_or("no frame")?;
        checksum += u64::from(f.data[f.data.len() / 3]);
    }
    let per = start.elapsed() / 90;
    eprintln!("talking head 1280x720: {per:?} per frame (checksum {checksum})");
    assert!(checksum > 0);
    Ok(())
}
