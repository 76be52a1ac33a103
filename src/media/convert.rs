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
#[path = "convert_tests.rs"]
pub(crate) mod tests;
