//! Pixel-format conversions against hand-computed values, a naive reference and ffmpeg; the
//! ffmpeg and PSNR helpers other modules' tests share.

use super::*;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs ffmpeg quietly on whitespace-separated `args`, feeding `stdin` (for `-i -`), and
/// returns what it wrote to stdout. Shared with the MJPEG tests.
pub(crate) fn ffmpeg(args: &str, stdin: &[u8]) -> crate::TestResult<Vec<u8>> {
    let mut child = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error"])
        .args(args.split_whitespace())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run ffmpeg: {e}"))?;
    let (mut pipe, input) = (
        child.stdin.take().ok_or("no pipe to ffmpeg")?,
        stdin.to_vec(),
    );
    // From a thread, so ffmpeg can fill stdout while we are still writing.
    let writer = std::thread::spawn(move || pipe.write_all(&input));
    let out = child.wait_with_output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ffmpeg {args}: {err}");
    let Ok(written) = writer.join() else {
        panic!("the thread writing to ffmpeg panicked")
    };
    written.map_err(|e| format!("ffmpeg did not read all its input: {e}"))?;
    Ok(out.stdout)
}

pub(crate) fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let se: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (f64::from(x.abs_diff(*y))).powi(2))
        .sum();
    10.0 * (255.0 * 255.0 / (se / a.len() as f64)).log10()
}

/// Best and mean time of `runs` calls. Other builds share the two cores, so the best run is
/// the one that says what the code costs.
pub(crate) fn time(
    runs: u32,
    mut f: impl FnMut() -> crate::TestResult,
) -> crate::TestResult<(Duration, Duration)> {
    let (mut best, mut total) = (Duration::MAX, Duration::ZERO);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        best = best.min(start.elapsed());
        total += start.elapsed();
    }
    Ok((best, total / runs))
}

fn testsrc2(pix_fmt: &str) -> crate::TestResult<Vec<u8>> {
    let args = "-f lavfi -i testsrc2=size=64x48 -frames:v 1 -f rawvideo -pix_fmt";
    ffmpeg(&format!("{args} {pix_fmt} -"), &[])
}

/// ffmpeg's own conversion of the exact bytes we are converting.
fn ffmpeg_to_i420(raw: &[u8], pix_fmt: &str) -> crate::TestResult<Vec<u8>> {
    let args =
        format!("-f rawvideo -pix_fmt {pix_fmt} -s 64x48 -i - -pix_fmt yuv420p -f rawvideo -");
    ffmpeg(&args, raw)
}

fn max_diff(a: &[u8], b: &[u8]) -> u8 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0)
}

#[test]
fn yuyv_hand_computed_with_and_without_padding() -> crate::TestResult {
    // Rows: Y 10 11 12 13 / 20 21 22 23; U 100 102 / 111 104; V 200 202 / 211 206.
    let row0 = [10, 100, 11, 200, 12, 102, 13, 202];
    let row1 = [20, 111, 21, 211, 22, 104, 23, 206];
    // U: (100+111+1)/2 = 106, (102+104+1)/2 = 103; V: (200+211+1)/2 = 206, (202+206+1)/2 = 204
    let expected = [10, 11, 12, 13, 20, 21, 22, 23, 106, 103, 206, 204];
    let mut dst = [0u8; 12];
    yuyv_to_i420(&[row0, row1].concat(), 4, 2, 8, &mut dst)?;
    assert_eq!(dst, expected);
    // 4 junk bytes after each row but the last.
    dst.fill(0);
    yuyv_to_i420(&[&row0[..], &[9; 4], &row1].concat(), 4, 2, 12, &mut dst)?;
    assert_eq!(dst, expected);
    Ok(())
}

#[test]
fn nv12_and_planar_hand_computed() -> crate::TestResult {
    let nv12 = [1, 2, 3, 4, 5, 6, 7, 8, 50, 60, 51, 61];
    let mut dst = [0u8; 12];
    nv12_to_i420(&nv12, 4, 2, 4, &mut dst)?;
    assert_eq!(dst, [1, 2, 3, 4, 5, 6, 7, 8, 50, 51, 60, 61]);

    let y = [1, 2, 3, 4, 5, 6, 7, 8];
    let (u, v) = ([10, 20, 13, 24], [30, 40, 31, 45]);
    let planes = |u, v, c_stride| Planes {
        y: &y,
        u,
        v,
        y_stride: 4,
        c_stride,
    };
    i422_to_i420(planes(&u, &v, 2), 4, 2, &mut dst)?;
    // (10+13+1)/2 = 12, (20+24+1)/2 = 22, (30+31+1)/2 = 31, (40+45+1)/2 = 43
    assert_eq!(dst, [1, 2, 3, 4, 5, 6, 7, 8, 12, 22, 31, 43]);

    let u = [10, 11, 20, 20, 12, 14, 20, 21];
    let v = [0, 0, 255, 255, 1, 0, 255, 254];
    i444_to_i420(planes(&u, &v, 4), 4, 2, &mut dst)?;
    // (10+11+12+14+2)/4 = 12, (20+20+20+21+2)/4 = 20, (0+0+1+0+2)/4 = 0, (4·255−1+2)/4 = 255
    assert_eq!(dst, [1, 2, 3, 4, 5, 6, 7, 8, 12, 20, 0, 255]);
    Ok(())
}

#[test]
fn range_mapping_hits_the_limited_range_ends() -> crate::TestResult {
    assert_eq!(full_to_limited_luma(0), 16);
    assert_eq!(full_to_limited_luma(255), 235);
    assert_eq!(full_to_limited_luma(128), 126); // 16 + 128·219/255 = 125.93
    assert_eq!(full_to_limited_chroma(0), 16);
    assert_eq!(full_to_limited_chroma(128), 128);
    assert_eq!(full_to_limited_chroma(255), 240);
    assert!(LUMA_FULL_TO_LIMITED.windows(2).all(|p| p[0] <= p[1]));
    assert!(CHROMA_FULL_TO_LIMITED.windows(2).all(|p| p[0] <= p[1]));

    let mut pic = [0, 255, 128, 64, 0, 128, 255, 255, 0, 255, 128, 200];
    full_to_limited_range(&mut pic, 4, 2)?;
    assert_eq!(
        pic,
        [16, 235, 126, 71, 16, 126, 235, 235, 16, 240, 128, 191]
    );

    // 2x2 pixels of full-range (Y, Cb, Cr); Cb averages to (0+0+0+4+2)/4 = 1, Cr to 255.
    let ycc = [0, 0, 255, 255, 0, 255, 128, 0, 255, 64, 4, 255];
    let mut dst = [0u8; 6];
    ycbcr444_full_to_i420(&ycc, 2, 2, 6, &mut dst)?;
    assert_eq!(dst, [16, 235, 126, 71, full_to_limited_chroma(1), 240]);
    Ok(())
}

/// Widths of 4n + 2 take the tail paths after the 4-pixel steps.
#[test]
fn all_even_widths_match_a_naive_reference() -> crate::TestResult {
    let h = 4;
    for w in [2usize, 4, 6, 10, 12] {
        let yuyv: Vec<u8> = (0..2 * w * h).map(|i| (i * 37 % 256) as u8).collect();
        let ycc: Vec<u8> = (0..3 * w * h).map(|i| (i * 37 % 256) as u8).collect();
        let mut naive_a: Vec<u8> = (0..w * h).map(|i| yuyv[2 * i]).collect();
        let mut naive_b: Vec<u8> = (0..w * h)
            .map(|i| full_to_limited_luma(ycc[3 * i]))
            .collect();
        for k in [1, 2] {
            for (y, x) in (0..h)
                .step_by(2)
                .flat_map(|y| (0..w).step_by(2).map(move |x| (y, x)))
            {
                let at = |yy: usize| u32::from(yuyv[yy * 2 * w + 2 * x + 2 * k - 1]);
                naive_a.push((at(y) + at(y + 1)).div_ceil(2) as u8);
                let at = |yy: usize, xx: usize| u32::from(ycc[(yy * w + xx) * 3 + k]);
                let sum = at(y, x) + at(y, x + 1) + at(y + 1, x) + at(y + 1, x + 1);
                naive_b.push(full_to_limited_chroma(((sum + 2) / 4) as u8));
            }
        }
        let mut dst = vec![0u8; i420_len(w as u32, h as u32)];
        yuyv_to_i420(&yuyv, w as u32, h as u32, 2 * w, &mut dst)?;
        assert_eq!(dst, naive_a, "YUYV width {w}");
        ycbcr444_full_to_i420(&ycc, w as u32, h as u32, 3 * w, &mut dst)?;
        assert_eq!(dst, naive_b, "YCbCr width {w}");
    }
    Ok(())
}

#[test]
fn errors_name_expected_and_actual_sizes() {
    let mut dst = [0u8; 12];
    let err = |r: Result<(), ConvertError>| r.unwrap_err().to_string();
    assert_eq!(
        err(yuyv_to_i420(&[0; 15], 4, 2, 8, &mut dst)),
        "YUYV buffer too short: expected at least 16 bytes, got 15"
    );
    assert_eq!(
        err(yuyv_to_i420(&[0; 16], 4, 2, 8, &mut dst[..11])),
        "I420 destination has 11 bytes, expected exactly 12"
    );
    assert_eq!(
        err(yuyv_to_i420(&[0; 16], 4, 2, 6, &mut dst)),
        "YUYV stride of 6 bytes is shorter than one 8-byte row"
    );
    let odd = err(yuyv_to_i420(&[0; 16], 3, 2, 8, &mut dst));
    assert!(odd.starts_with("picture size 3x2 cannot be I420"), "{odd}");
    assert!(yuyv_to_i420(&[0; 16], 4, 0, 8, &mut dst).is_err());
    // NV12 whose chroma plane is one byte short.
    assert_eq!(
        err(nv12_to_i420(&[0; 11], 4, 2, 4, &mut dst)),
        "NV12 chroma buffer too short: expected at least 4 bytes, got 3"
    );
}

#[test]
fn yuyv_matches_ffmpeg() -> crate::TestResult {
    let yuyv = testsrc2("yuyv422")?;
    let mut ours = vec![0u8; i420_len(64, 48)];
    yuyv_to_i420(&yuyv, 64, 48, 128, &mut ours)?;
    // Every plane against ffmpeg converting these same YUYV bytes.
    assert!(max_diff(&ours, &ffmpeg_to_i420(&yuyv, "yuyv422")?) <= 2);
    // Luma also against testsrc2 rendered straight to yuv420p. Its chroma is drawn at 4:2:0
    // directly (edges land differently, up to ~11 apart), so only luma is comparable there.
    let native = testsrc2("yuv420p")?;
    assert_eq!(max_diff(&ours[..64 * 48], &native[..64 * 48]), 0);
    // Guard against comparing two blank pictures.
    assert!(ours[..64 * 48].iter().any(|&p| p > 100) && ours.iter().any(|&p| p < 60));
    Ok(())
}

#[test]
fn nv12_matches_ffmpeg() -> crate::TestResult {
    let nv12 = testsrc2("nv12")?;
    let mut ours = vec![0u8; i420_len(64, 48)];
    nv12_to_i420(&nv12, 64, 48, 64, &mut ours)?;
    // NV12 and I420 are both 4:2:0, so testsrc2's own yuv420p must match on every plane.
    assert!(max_diff(&ours, &ffmpeg_to_i420(&nv12, "nv12")?) <= 2);
    assert!(max_diff(&ours, &testsrc2("yuv420p")?) <= 2);
    assert_ne!(ours[64 * 48..64 * 48 + 768], ours[64 * 48 + 768..]);
    Ok(())
}

#[test]
fn time_720p_yuyv() -> crate::TestResult {
    let (w, h) = (1280, 720);
    let src: Vec<u8> = (0..w * h * 2).map(|i| (i * 7 % 251) as u8).collect();
    let mut dst = vec![0u8; i420_len(w as u32, h as u32)];
    let (best, mean) = time(100, || {
        yuyv_to_i420(&src, w as u32, h as u32, 2 * w, &mut dst)?;
        Ok(())
    })?;
    eprintln!("yuyv_to_i420 1280x720: best {best:?}, mean {mean:?} per frame");
    assert_eq!((dst[1], dst[w * h]), (src[2], avg2(src[1], src[2 * w + 1])));
    Ok(())
}
