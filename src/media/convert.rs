//! Pixel-format conversion into packed I420 (limited-range BT.601): camera YUYV and NV12,
//! planar 4:2:2 / 4:4:4, JPEG's interleaved full-range YCbCr, and full→limited range mapping.
//!
//! Everything here is a pure function over caller-owned buffers: the capture thread calls these
//! once per frame, so they never allocate. Sources rows may be padded (`stride` = bytes from
//! one row to the next); the destination is always tightly packed, exactly
//! [`i420_len`]`(width, height)` bytes.
//!
//! Chroma is always reduced by plain averaging (rounding half up). That matches what ffmpeg's
//! unscaled YUYV→I420 path does and is all a 4:2:0 talking head needs.

use super::frame::i420_len;

/// Why a conversion could not run. Sizes are in bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    #[error(
        "picture size {width}x{height} cannot be I420: width and height must be even and non-zero"
    )]
    BadSize { width: u32, height: u32 },
    #[error("{plane} stride of {stride} bytes is shorter than one {row}-byte row")]
    StrideTooSmall {
        plane: &'static str,
        stride: usize,
        row: usize,
    },
    #[error("{plane} buffer too short: expected at least {expected} bytes, got {actual}")]
    SourceTooShort {
        plane: &'static str,
        expected: usize,
        actual: usize,
    },
    #[error("I420 destination has {actual} bytes, expected exactly {expected}")]
    DestinationSize { expected: usize, actual: usize },
}

/// The three planes of a planar picture whose chroma rows are `c_stride` bytes apart and luma
/// rows `y_stride` bytes apart (a packed Y4M 4:2:2 frame has `c_stride = width / 2`).
#[derive(Debug, Clone, Copy)]
pub struct Planes<'a> {
    pub y: &'a [u8],
    pub u: &'a [u8],
    pub v: &'a [u8],
    pub y_stride: usize,
    pub c_stride: usize,
}

/// Full-range (0–255) luma to limited range (16–235): `16 + y·219/255`, rounded.
pub const fn full_to_limited_luma(y: u8) -> u8 {
    ((y as u32 * 219 + 16 * 255 + 127) / 255) as u8
}

/// Full-range chroma (0–255, 128 = neutral) to limited range (16–240):
/// `128 + (c − 128)·224/255`, rounded; rewritten over positive integers as `(224c + 3968)/255`.
pub const fn full_to_limited_chroma(c: u8) -> u8 {
    ((c as u32 * 224 + 3968 + 127) / 255) as u8
}

const fn build_lut(chroma: bool) -> [u8; 256] {
    let mut lut = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        lut[i] = if chroma {
            full_to_limited_chroma(i as u8)
        } else {
            full_to_limited_luma(i as u8)
        };
        i += 1;
    }
    lut
}

// Built at compile time rather than in a LazyLock: "computed once" either way, and a plain
// static needs no initialisation check inside the per-pixel loops.
pub(crate) static LUMA_FULL_TO_LIMITED: [u8; 256] = build_lut(false);
static CHROMA_FULL_TO_LIMITED: [u8; 256] = build_lut(true);

/// Rescales a packed full-range I420 picture (e.g. a Y4M tagged `XCOLORRANGE=FULL`) to the
/// limited range the encoder signals, in place.
pub fn full_to_limited_range(i420: &mut [u8], width: u32, height: u32) -> Result<(), ConvertError> {
    dims(width, height)?;
    let (luma, u, v) = split_i420(i420, width, height)?;
    luma.iter_mut()
        .for_each(|p| *p = LUMA_FULL_TO_LIMITED[usize::from(*p)]);
    for p in u.iter_mut().chain(v.iter_mut()) {
        *p = CHROMA_FULL_TO_LIMITED[usize::from(*p)];
    }
    Ok(())
}

/// Packed YUYV 4:2:2 (Y0 U Y1 V), the usual uncompressed UVC format, to I420. Chroma of each
/// output row pair is the average of the two source rows.
pub fn yuyv_to_i420(
    src: &[u8],
    width: u32,
    height: u32,
    stride: usize,
    dst: &mut [u8],
) -> Result<(), ConvertError> {
    packed_to_i420(("YUYV", 2), src, width, height, stride, dst, yuyv_row_pair)
}

/// One output row pair of [`yuyv_to_i420`]. Our crate is built at opt-level 1, where rustc
/// turns LLVM's vectorisers off, so the bulk runs as SWAR: 8 source bytes (4 pixels) of each
/// row go into a u64, and bytes are split and averaged in 16-bit lanes, which cannot carry into
/// each other (255 + 255 + 1 < 2^16). Measured about twice as fast as a byte-wise loop, which
/// gained nothing from opt-level 3 either.
fn yuyv_row_pair(r0: &[u8], r1: &[u8], y0: &mut [u8], y1: &mut [u8], u: &mut [u8], v: &mut [u8]) {
    const LO: u64 = 0x00FF_00FF_00FF_00FF;
    const ONES: u64 = 0x0001_0001_0001_0001;
    // Y0 Y1 Y2 Y3 sit in the low byte of each 16-bit lane; gather them into the low 4 bytes.
    fn lumas(x: u64) -> [u8; 4] {
        let y = x & LO;
        let y = (y | (y >> 8)) & 0x0000_FFFF_0000_FFFF;
        ((y | (y >> 16)) as u32).to_le_bytes()
    }
    let (a4, a_tail) = r0.as_chunks::<8>();
    let (b4, b_tail) = r1.as_chunks::<8>();
    let (ya4, ya_tail) = y0.as_chunks_mut::<4>();
    let (yb4, yb_tail) = y1.as_chunks_mut::<4>();
    let (u2, u_tail) = u.as_chunks_mut::<2>();
    let (v2, v_tail) = v.as_chunks_mut::<2>();
    let quads = a4.iter().zip(b4).zip(ya4.iter_mut().zip(yb4));
    for (((a, b), (ya, yb)), (u, v)) in quads.zip(u2.iter_mut().zip(v2.iter_mut())) {
        let (a, b) = (u64::from_le_bytes(*a), u64::from_le_bytes(*b));
        *ya = lumas(a);
        *yb = lumas(b);
        // Lanes hold U0 V0 U1 V1 of the two rows; add them with rounding and halve.
        let c = ((((a >> 8) & LO) + ((b >> 8) & LO) + ONES) >> 1) & LO;
        *u = [c as u8, (c >> 32) as u8];
        *v = [(c >> 16) as u8, (c >> 48) as u8];
    }
    // A width of 4n + 2 leaves one macropixel per row.
    if let ([a0, _, a2, _], [b0, _, b2, _]) = (a_tail, b_tail) {
        ya_tail.copy_from_slice(&[*a0, *a2]);
        yb_tail.copy_from_slice(&[*b0, *b2]);
        u_tail[0] = avg2(a_tail[1], b_tail[1]);
        v_tail[0] = avg2(a_tail[3], b_tail[3]);
    }
}

/// NV12 (a luma plane, then one plane of interleaved U V at half height) to I420. Both planes
/// use `stride`, and the chroma plane starts right after `height` luma rows, as V4L2 lays out
/// single-buffer NV12.
pub fn nv12_to_i420(
    src: &[u8],
    width: u32,
    height: u32,
    stride: usize,
    dst: &mut [u8],
) -> Result<(), ConvertError> {
    let (w, h) = dims(width, height)?;
    check_plane("NV12 luma", src.len(), w, h, stride)?;
    let uv_start = stride * h;
    let uv = src.get(uv_start..).unwrap_or_default();
    check_plane("NV12 chroma", uv.len(), w, h / 2, stride)?;
    let (dy, du, dv) = split_i420(dst, width, height)?;
    copy_rows(src, stride, w, dy);
    let rows = du.chunks_exact_mut(w / 2).zip(dv.chunks_exact_mut(w / 2));
    for (r, (u_row, v_row)) in rows.enumerate() {
        let s = &uv[r * stride..][..w];
        for ((pair, u), v) in s
            .chunks_exact(2)
            .zip(u_row.iter_mut())
            .zip(v_row.iter_mut())
        {
            *u = pair[0];
            *v = pair[1];
        }
    }
    Ok(())
}

/// Planar 4:2:2 (chroma planes `width / 2` wide, full height) to I420.
pub fn i422_to_i420(
    src: Planes<'_>,
    width: u32,
    height: u32,
    dst: &mut [u8],
) -> Result<(), ConvertError> {
    planar_to_i420(src, width, height, dst, 1)
}

/// Planar 4:4:4 to I420; each chroma sample is the average of a 2×2 block.
pub fn i444_to_i420(
    src: Planes<'_>,
    width: u32,
    height: u32,
    dst: &mut [u8],
) -> Result<(), ConvertError> {
    planar_to_i420(src, width, height, dst, 2)
}

/// `across` is how many source chroma samples side by side make one I420 sample.
fn planar_to_i420(
    src: Planes<'_>,
    width: u32,
    height: u32,
    dst: &mut [u8],
    across: usize,
) -> Result<(), ConvertError> {
    let (w, h) = dims(width, height)?;
    let c_row = w / 2 * across;
    check_plane("luma", src.y.len(), w, h, src.y_stride)?;
    check_plane("U", src.u.len(), c_row, h, src.c_stride)?;
    check_plane("V", src.v.len(), c_row, h, src.c_stride)?;
    let (dy, du, dv) = split_i420(dst, width, height)?;
    copy_rows(src.y, src.y_stride, w, dy);
    let samples = 2 * across as u16;
    for (plane, out) in [(src.u, du), (src.v, dv)] {
        for (pair, row) in out.chunks_exact_mut(w / 2).enumerate() {
            let (r0, r1) = row_pair(plane, pair, src.c_stride, c_row);
            let blocks = r0.chunks_exact(across).zip(r1.chunks_exact(across));
            for (o, (a, b)) in row.iter_mut().zip(blocks) {
                let sum: u16 = a.iter().chain(b).map(|&p| u16::from(p)).sum();
                *o = ((sum + samples / 2) / samples) as u8;
            }
        }
    }
    Ok(())
}

/// Interleaved full-range YCbCr 4:4:4 (what a JPEG decoder hands back, 3 bytes per pixel) to
/// limited-range I420. `width` and `height` may be smaller than the source picture, which is
/// how the MJPEG path crops odd sizes to even.
pub fn ycbcr444_full_to_i420(
    src: &[u8],
    width: u32,
    height: u32,
    stride: usize,
    dst: &mut [u8],
) -> Result<(), ConvertError> {
    packed_to_i420(
        ("YCbCr", 3),
        src,
        width,
        height,
        stride,
        dst,
        ycbcr444_row_pair,
    )
}

/// One output row pair of [`ycbcr444_full_to_i420`]. Two 2×2 blocks per step, on fixed-size
/// arrays, so that at opt-level 1 there are no bounds checks and half the loop overhead; that
/// took 720p from 1.4 ms to 0.8 ms. Range mapping stays a table lookup: luma bytes 3 apart do
/// not suit the 16-bit-lane SWAR used for YUYV.
fn ycbcr444_row_pair(
    r0: &[u8],
    r1: &[u8],
    y0: &mut [u8],
    y1: &mut [u8],
    u: &mut [u8],
    v: &mut [u8],
) {
    let (ly, lc) = (&LUMA_FULL_TO_LIMITED, &CHROMA_FULL_TO_LIMITED);
    let luma = |p: u8| ly[usize::from(p)];
    let chroma = |a: u8, b: u8, c: u8, d: u8| lc[usize::from(avg4(a, b, c, d))];
    let (a12, a_tail) = r0.as_chunks::<12>();
    let (b12, b_tail) = r1.as_chunks::<12>();
    let (ya4, ya_tail) = y0.as_chunks_mut::<4>();
    let (yb4, yb_tail) = y1.as_chunks_mut::<4>();
    let (u2, u_tail) = u.as_chunks_mut::<2>();
    let (v2, v_tail) = v.as_chunks_mut::<2>();
    let blocks = a12.iter().zip(b12).zip(ya4.iter_mut().zip(yb4));
    for (((a, b), (ya, yb)), (u, v)) in blocks.zip(u2.iter_mut().zip(v2.iter_mut())) {
        *ya = [luma(a[0]), luma(a[3]), luma(a[6]), luma(a[9])];
        *yb = [luma(b[0]), luma(b[3]), luma(b[6]), luma(b[9])];
        *u = [
            chroma(a[1], a[4], b[1], b[4]),
            chroma(a[7], a[10], b[7], b[10]),
        ];
        *v = [
            chroma(a[2], a[5], b[2], b[5]),
            chroma(a[8], a[11], b[8], b[11]),
        ];
    }
    // A width of 4n + 2 leaves one block per row pair.
    if let ([a0, a1, a2, a3, a4, a5], [b0, b1, b2, b3, b4, b5]) = (a_tail, b_tail) {
        ya_tail.copy_from_slice(&[luma(*a0), luma(*a3)]);
        yb_tail.copy_from_slice(&[luma(*b0), luma(*b3)]);
        u_tail[0] = chroma(*a1, *a4, *b1, *b4);
        v_tail[0] = chroma(*a2, *a5, *b2, *b5);
    }
}

/// Source rows `2k` and `2k + 1`, then the output rows they become: two luma, one U, one V.
type RowPairFn = fn(&[u8], &[u8], &mut [u8], &mut [u8], &mut [u8], &mut [u8]);

/// The frame of every packed converter: checks sizes, then walks the row pairs. `format` is
/// the name used in errors and the bytes per pixel.
fn packed_to_i420(
    format: (&'static str, usize),
    src: &[u8],
    width: u32,
    height: u32,
    stride: usize,
    dst: &mut [u8],
    convert_pair: RowPairFn,
) -> Result<(), ConvertError> {
    let (w, h) = dims(width, height)?;
    let row = format.1 * w;
    check_plane(format.0, src.len(), row, h, stride)?;
    let (dy, du, dv) = split_i420(dst, width, height)?;
    let rows = dy.chunks_exact_mut(2 * w).zip(du.chunks_exact_mut(w / 2));
    for (pair, ((y_rows, u_row), v_row)) in rows.zip(dv.chunks_exact_mut(w / 2)).enumerate() {
        let (r0, r1) = row_pair(src, pair, stride, row);
        let (y0, y1) = y_rows.split_at_mut(w);
        convert_pair(r0, r1, y0, y1, u_row, v_row);
    }
    Ok(())
}

#[inline(always)]
fn avg2(a: u8, b: u8) -> u8 {
    ((a as u16 + b as u16 + 1) >> 1) as u8
}

#[inline(always)]
fn avg4(a: u8, b: u8, c: u8, d: u8) -> u8 {
    ((a as u16 + b as u16 + c as u16 + d as u16 + 2) >> 2) as u8
}

fn dims(width: u32, height: u32) -> Result<(usize, usize), ConvertError> {
    if width == 0 || height == 0 || !width.is_multiple_of(2) || !height.is_multiple_of(2) {
        return Err(ConvertError::BadSize { width, height });
    }
    Ok((width as usize, height as usize))
}

/// Checks that `rows` rows of `row` bytes, `stride` apart, fit in `len` bytes. The last row
/// need not be padded out to a full stride.
fn check_plane(
    plane: &'static str,
    len: usize,
    row: usize,
    rows: usize,
    stride: usize,
) -> Result<(), ConvertError> {
    if stride < row {
        return Err(ConvertError::StrideTooSmall { plane, stride, row });
    }
    let expected = stride
        .checked_mul(rows.saturating_sub(1))
        .and_then(|n| n.checked_add(row))
        .unwrap_or(usize::MAX);
    if len < expected {
        return Err(ConvertError::SourceTooShort {
            plane,
            expected,
            actual: len,
        });
    }
    Ok(())
}

type PlanesMut<'a> = (&'a mut [u8], &'a mut [u8], &'a mut [u8]);

fn split_i420(dst: &mut [u8], width: u32, height: u32) -> Result<PlanesMut<'_>, ConvertError> {
    let expected = i420_len(width, height);
    if dst.len() != expected {
        return Err(ConvertError::DestinationSize {
            expected,
            actual: dst.len(),
        });
    }
    let luma = width as usize * height as usize;
    let (y, chroma) = dst.split_at_mut(luma);
    let (u, v) = chroma.split_at_mut(chroma.len() / 2);
    Ok((y, u, v))
}

/// Rows `2·pair` and `2·pair + 1`, each trimmed to `row` bytes. Callers have run
/// [`check_plane`], so both rows are in bounds.
fn row_pair(src: &[u8], pair: usize, stride: usize, row: usize) -> (&[u8], &[u8]) {
    let top = 2 * pair * stride;
    (&src[top..top + row], &src[top + stride..top + stride + row])
}

fn copy_rows(src: &[u8], stride: usize, row: usize, dst: &mut [u8]) {
    for (r, out) in dst.chunks_exact_mut(row).enumerate() {
        out.copy_from_slice(&src[r * stride..r * stride + row]);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// Runs ffmpeg quietly on whitespace-separated `args`, feeding `stdin` (for `-i -`), and
    /// returns what it wrote to stdout. Shared with the MJPEG tests.
    pub(crate) fn ffmpeg(args: &str, stdin: &[u8]) -> Vec<u8> {
        let mut child = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error"])
            .args(args.split_whitespace())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ffmpeg runs");
        let (mut pipe, input) = (child.stdin.take().unwrap(), stdin.to_vec());
        // From a thread, so ffmpeg can fill stdout while we are still writing.
        let writer = std::thread::spawn(move || pipe.write_all(&input));
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "ffmpeg {args}: {err}");
        writer.join().unwrap().expect("ffmpeg read all its input");
        out.stdout
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
    pub(crate) fn time(runs: u32, mut f: impl FnMut()) -> (Duration, Duration) {
        let (mut best, mut total) = (Duration::MAX, Duration::ZERO);
        for _ in 0..runs {
            let start = Instant::now();
            f();
            best = best.min(start.elapsed());
            total += start.elapsed();
        }
        (best, total / runs)
    }

    fn testsrc2(pix_fmt: &str) -> Vec<u8> {
        let args = "-f lavfi -i testsrc2=size=64x48 -frames:v 1 -f rawvideo -pix_fmt";
        ffmpeg(&format!("{args} {pix_fmt} -"), &[])
    }

    /// ffmpeg's own conversion of the exact bytes we are converting.
    fn ffmpeg_to_i420(raw: &[u8], pix_fmt: &str) -> Vec<u8> {
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
    fn yuyv_hand_computed_with_and_without_padding() {
        // Rows: Y 10 11 12 13 / 20 21 22 23; U 100 102 / 111 104; V 200 202 / 211 206.
        let row0 = [10, 100, 11, 200, 12, 102, 13, 202];
        let row1 = [20, 111, 21, 211, 22, 104, 23, 206];
        // U: (100+111+1)/2 = 106, (102+104+1)/2 = 103; V: (200+211+1)/2 = 206, (202+206+1)/2 = 204
        let expected = [10, 11, 12, 13, 20, 21, 22, 23, 106, 103, 206, 204];
        let mut dst = [0u8; 12];
        yuyv_to_i420(&[row0, row1].concat(), 4, 2, 8, &mut dst).unwrap();
        assert_eq!(dst, expected);
        // 4 junk bytes after each row but the last.
        dst.fill(0);
        yuyv_to_i420(&[&row0[..], &[9; 4], &row1].concat(), 4, 2, 12, &mut dst).unwrap();
        assert_eq!(dst, expected);
    }

    #[test]
    fn nv12_and_planar_hand_computed() {
        let nv12 = [1, 2, 3, 4, 5, 6, 7, 8, 50, 60, 51, 61];
        let mut dst = [0u8; 12];
        nv12_to_i420(&nv12, 4, 2, 4, &mut dst).unwrap();
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
        i422_to_i420(planes(&u, &v, 2), 4, 2, &mut dst).unwrap();
        // (10+13+1)/2 = 12, (20+24+1)/2 = 22, (30+31+1)/2 = 31, (40+45+1)/2 = 43
        assert_eq!(dst, [1, 2, 3, 4, 5, 6, 7, 8, 12, 22, 31, 43]);

        let u = [10, 11, 20, 20, 12, 14, 20, 21];
        let v = [0, 0, 255, 255, 1, 0, 255, 254];
        i444_to_i420(planes(&u, &v, 4), 4, 2, &mut dst).unwrap();
        // (10+11+12+14+2)/4 = 12, (20+20+20+21+2)/4 = 20, (0+0+1+0+2)/4 = 0, (4·255−1+2)/4 = 255
        assert_eq!(dst, [1, 2, 3, 4, 5, 6, 7, 8, 12, 20, 0, 255]);
    }

    #[test]
    fn range_mapping_hits_the_limited_range_ends() {
        assert_eq!(full_to_limited_luma(0), 16);
        assert_eq!(full_to_limited_luma(255), 235);
        assert_eq!(full_to_limited_luma(128), 126); // 16 + 128·219/255 = 125.93
        assert_eq!(full_to_limited_chroma(0), 16);
        assert_eq!(full_to_limited_chroma(128), 128);
        assert_eq!(full_to_limited_chroma(255), 240);
        assert!(LUMA_FULL_TO_LIMITED.windows(2).all(|p| p[0] <= p[1]));
        assert!(CHROMA_FULL_TO_LIMITED.windows(2).all(|p| p[0] <= p[1]));

        let mut pic = [0, 255, 128, 64, 0, 128, 255, 255, 0, 255, 128, 200];
        full_to_limited_range(&mut pic, 4, 2).unwrap();
        assert_eq!(
            pic,
            [16, 235, 126, 71, 16, 126, 235, 235, 16, 240, 128, 191]
        );

        // 2x2 pixels of full-range (Y, Cb, Cr); Cb averages to (0+0+0+4+2)/4 = 1, Cr to 255.
        let ycc = [0, 0, 255, 255, 0, 255, 128, 0, 255, 64, 4, 255];
        let mut dst = [0u8; 6];
        ycbcr444_full_to_i420(&ycc, 2, 2, 6, &mut dst).unwrap();
        assert_eq!(dst, [16, 235, 126, 71, full_to_limited_chroma(1), 240]);
    }

    /// Widths of 4n + 2 take the tail paths after the 4-pixel steps.
    #[test]
    fn all_even_widths_match_a_naive_reference() {
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
            yuyv_to_i420(&yuyv, w as u32, h as u32, 2 * w, &mut dst).unwrap();
            assert_eq!(dst, naive_a, "YUYV width {w}");
            ycbcr444_full_to_i420(&ycc, w as u32, h as u32, 3 * w, &mut dst).unwrap();
            assert_eq!(dst, naive_b, "YCbCr width {w}");
        }
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
    fn yuyv_matches_ffmpeg() {
        let yuyv = testsrc2("yuyv422");
        let mut ours = vec![0u8; i420_len(64, 48)];
        yuyv_to_i420(&yuyv, 64, 48, 128, &mut ours).unwrap();
        // Every plane against ffmpeg converting these same YUYV bytes.
        assert!(max_diff(&ours, &ffmpeg_to_i420(&yuyv, "yuyv422")) <= 2);
        // Luma also against testsrc2 rendered straight to yuv420p. Its chroma is drawn at 4:2:0
        // directly (edges land differently, up to ~11 apart), so only luma is comparable there.
        let native = testsrc2("yuv420p");
        assert_eq!(max_diff(&ours[..64 * 48], &native[..64 * 48]), 0);
        // Guard against comparing two blank pictures.
        assert!(ours[..64 * 48].iter().any(|&p| p > 100) && ours.iter().any(|&p| p < 60));
    }

    #[test]
    fn nv12_matches_ffmpeg() {
        let nv12 = testsrc2("nv12");
        let mut ours = vec![0u8; i420_len(64, 48)];
        nv12_to_i420(&nv12, 64, 48, 64, &mut ours).unwrap();
        // NV12 and I420 are both 4:2:0, so testsrc2's own yuv420p must match on every plane.
        assert!(max_diff(&ours, &ffmpeg_to_i420(&nv12, "nv12")) <= 2);
        assert!(max_diff(&ours, &testsrc2("yuv420p")) <= 2);
        assert_ne!(ours[64 * 48..64 * 48 + 768], ours[64 * 48 + 768..]);
    }

    #[test]
    fn time_720p_yuyv() {
        let (w, h) = (1280, 720);
        let src: Vec<u8> = (0..w * h * 2).map(|i| (i * 7 % 251) as u8).collect();
        let mut dst = vec![0u8; i420_len(w as u32, h as u32)];
        let (best, mean) = time(100, || {
            yuyv_to_i420(&src, w as u32, h as u32, 2 * w, &mut dst).unwrap();
        });
        eprintln!("yuyv_to_i420 1280x720: best {best:?}, mean {mean:?} per frame");
        assert_eq!((dst[1], dst[w * h]), (src[2], avg2(src[1], src[2 * w + 1])));
    }
}
