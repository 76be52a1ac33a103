//! MJPEG decoding to I420 against JPEGs made by the tests and by ffmpeg.

use super::*;
use crate::media::convert::tests::{ffmpeg, psnr, time};

/// One 4:2:2 JPEG of ffmpeg's test pattern, as a UVC camera would send it.
fn test_jpeg(source: &str, extra: &str) -> crate::TestResult<Vec<u8>> {
    let args = format!("-f lavfi -i {source} -frames:v 1 {extra} -pix_fmt yuvj422p -f mjpeg -");
    ffmpeg(&args, &[])
}

/// ffmpeg's own decode to limited-range yuv420p (it rescales yuvj input by itself).
fn ffmpeg_decode(jpeg: &[u8], filter: &str) -> crate::TestResult<Vec<u8>> {
    ffmpeg(
        &format!("-f mjpeg -i - -vf {filter} -pix_fmt yuv420p -f rawvideo -"),
        jpeg,
    )
}

/// Header segments before the first SOS as (code, payload), parsed independently of the
/// code under test. ffmpeg writes no fill bytes.
fn segments(jpeg: &[u8]) -> Vec<(u8, &[u8])> {
    let (mut out, mut pos) = (vec![], 2);
    while jpeg[pos + 1] != SOS {
        let len = usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
        out.push((jpeg[pos + 1], &jpeg[pos + 4..pos + 2 + len]));
        pos += 2 + len;
    }
    out
}

fn strip_dht(jpeg: &[u8]) -> crate::TestResult<Vec<u8>> {
    let mut out = jpeg[..2].to_vec();
    for (code, payload) in segments(jpeg).into_iter().filter(|s| s.0 != DHT) {
        out.extend_from_slice(&[0xFF, code]);
        out.extend_from_slice(&u16::try_from(payload.len() + 2)?.to_be_bytes());
        out.extend_from_slice(payload);
    }
    out.extend_from_slice(&jpeg[walk_headers(jpeg)?.sos..]);
    Ok(out)
}

/// The tables of DHT payloads, keyed by class/id: (BITS, HUFFVAL).
fn tables(payloads: &[&[u8]]) -> Vec<(u8, Vec<u8>, Vec<u8>)> {
    let mut out = vec![];
    for payload in payloads {
        let mut p = *payload;
        while !p.is_empty() {
            let bits = p[1..17].to_vec();
            let n: usize = bits.iter().map(|&b| usize::from(b)).sum();
            out.push((p[0], bits, p[17..17 + n].to_vec()));
            p = &p[17 + n..];
        }
    }
    out.sort();
    out
}

const PATTERN: &str = "testsrc2=size=64x48";

#[test]
fn standard_tables_equal_ffmpeg_default_tables() -> crate::TestResult {
    let jpeg = test_jpeg(PATTERN, "-huffman default")?;
    let theirs: Vec<&[u8]> = segments(&jpeg)
        .into_iter()
        .filter(|s| s.0 == DHT)
        .map(|s| s.1)
        .collect();
    assert!(!theirs.is_empty());
    let ours = tables(&[&STD_DHT[4..]]);
    assert_eq!(ours, tables(&theirs));
    assert_eq!(u16::from_be_bytes([STD_DHT[2], STD_DHT[3]]), 418);
    // Each AC table codes EOB, ZRL and every (run, size) pair with size 1..=10 once.
    for (class_id, _, values) in ours.iter().filter(|t| t.0 >> 4 == 1) {
        let mut expected: Vec<u8> = (0..16u8)
            .flat_map(|run| (1..=10u8).map(move |size| run << 4 | size))
            .chain([0x00, 0xF0])
            .collect();
        let mut values = values.clone();
        expected.sort();
        values.sort();
        assert_eq!(values, expected, "AC table {class_id:#04x}");
    }
    Ok(())
}

#[test]
fn decodes_like_ffmpeg() -> crate::TestResult {
    for extra in ["", "-huffman default"] {
        let jpeg = test_jpeg(PATTERN, extra)?;
        assert!(has_huffman_tables(&jpeg));
        let mut ours = vec![];
        assert_eq!(decode_mjpeg(&jpeg, &mut ours)?, (64, 48));
        let theirs = ffmpeg_decode(&jpeg, "null")?;
        assert_eq!(ours.len(), theirs.len());
        let luma = 64 * 48;
        // Make sure the reference really is limited range, or the comparison proves little.
        assert!(theirs[..luma].iter().all(|p| (16..=235).contains(p)));
        assert!(ours[..luma].iter().all(|p| (16..=235).contains(p)));
        assert!(ours[luma..].iter().all(|p| (16..=240).contains(p)));
        let (y, c) = (
            psnr(&ours[..luma], &theirs[..luma]),
            psnr(&ours[luma..], &theirs[luma..]),
        );
        eprintln!("{extra:?}: luma PSNR {y:.1} dB, chroma PSNR {c:.1} dB");
        assert!(y >= 35.0, "luma PSNR {y:.1} dB");
        assert!(c >= 30.0, "chroma PSNR {c:.1} dB");
    }
    Ok(())
}

#[test]
fn decodes_frames_without_dht_with_standard_tables() -> crate::TestResult {
    let jpeg = test_jpeg(PATTERN, "-huffman default")?;
    let stripped = strip_dht(&jpeg)?;
    assert_eq!(stripped.len(), jpeg.len() - STD_DHT.len());
    assert!(!has_huffman_tables(&stripped));
    assert!(matches!(
        with_standard_huffman_tables(&jpeg),
        Cow::Borrowed(_)
    ));
    let fixed = with_standard_huffman_tables(&stripped);
    assert!(matches!(fixed, Cow::Owned(_)) && has_huffman_tables(&fixed));

    // The fallback is what makes this work: zune-jpeg alone refuses the frame.
    let plain = JpegDecoder::new(ZCursor::new(&stripped[..])).decode();
    assert!(
        plain.is_err(),
        "zune-jpeg decoded a frame without Huffman tables"
    );

    let (mut with, mut without) = (vec![], vec![]);
    assert_eq!(decode_mjpeg(&jpeg, &mut with)?, (64, 48));
    assert_eq!(decode_mjpeg(&stripped, &mut without)?, (64, 48));
    assert!(with == without, "DHT-less frame decodes differently");
    Ok(())
}

#[test]
fn odd_sizes_lose_last_column_and_row() -> crate::TestResult {
    let jpeg = test_jpeg("testsrc2=size=63x47", "")?;
    let mut ours = vec![1; 7];
    assert_eq!(decode_mjpeg(&jpeg, &mut ours)?, (62, 46));
    assert_eq!(ours.len(), i420_len(62, 46));
    let theirs = ffmpeg_decode(&jpeg, "crop=62:46:0:0")?;
    let y = psnr(&ours[..62 * 46], &theirs[..62 * 46]);
    assert!(y >= 35.0, "luma PSNR {y:.1} dB");
    Ok(())
}

/// A hand-built 15x15 greyscale baseline JPEG with no DHT: four blocks whose DC difference
/// and AC are all zero, i.e. a flat full-range 128. With the standard luminance tables each
/// block is the DC code `00` plus EOB `1010`, four blocks making 0x28 0xa2 0x8a.
fn flat_gray_jpeg() -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00];
    j.extend_from_slice(&[1; 64]);
    j.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x0B, 8, 0, 15, 0, 15, 1, 1, 0x11, 0]);
    j.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 1, 1, 0x00, 0, 63, 0]);
    j.extend_from_slice(&[0x28, 0xA2, 0x8A, 0xFF, 0xD9]);
    j
}

#[test]
fn greyscale_frames_get_neutral_chroma() -> crate::TestResult {
    let mut ours = vec![];
    assert_eq!(decode_mjpeg(&flat_gray_jpeg(), &mut ours)?, (14, 14));
    let (luma, chroma) = ours.split_at(14 * 14);
    assert!(
        luma.iter()
            .all(|&p| p == convert::full_to_limited_luma(128)),
        "{luma:?}"
    );
    assert!(chroma.len() == 2 * 7 * 7 && chroma.iter().all(|&p| p == 128));
    Ok(())
}

#[test]
fn broken_frames_get_clear_errors() -> crate::TestResult {
    let jpeg = test_jpeg(PATTERN, "")?;
    let mut dst = vec![];
    let e = decode_mjpeg(b"hello", &mut dst).unwrap_err();
    assert!(matches!(e, MjpegError::NotJpeg { .. }), "{e}");
    assert!(e.to_string().starts_with("not a JPEG picture"), "{e}");
    assert!(matches!(
        decode_mjpeg(&[], &mut dst),
        Err(MjpegError::NotJpeg { .. })
    ));

    // Cut inside the headers, and cut inside the entropy-coded data.
    let e = decode_mjpeg(&jpeg[..100], &mut dst).unwrap_err();
    assert!(matches!(e, MjpegError::Truncated(_)), "{e}");
    let sos = walk_headers(&jpeg)?.sos;
    for cut in [(sos + jpeg.len()) / 2, jpeg.len() - 10] {
        let e = decode_mjpeg(&jpeg[..cut], &mut dst).unwrap_err();
        assert!(matches!(e, MjpegError::Truncated(_)), "{e}");
        assert!(e.to_string().contains("end-of-image"), "{e}");
    }
    // Complete scan data whose EOI is missing still decodes, to the same picture.
    let mut whole = vec![];
    decode_mjpeg(&jpeg, &mut whole)?;
    assert_eq!(decode_mjpeg(&jpeg[..jpeg.len() - 2], &mut dst)?, (64, 48));
    assert!(dst == whole);

    // A header byte that should start a marker.
    let mut bad = jpeg.clone();
    let second = 2 + 2 + usize::from(u16::from_be_bytes([jpeg[4], jpeg[5]]));
    bad[second] = 0x42;
    let e = decode_mjpeg(&bad, &mut dst).unwrap_err();
    assert_eq!(
        e,
        MjpegError::Corrupt(format!("expected a marker at byte {second}, found 0x42"))
    );
    assert!(!has_huffman_tables(&bad));

    // Padding after EOI, as some cameras send, is fine.
    let mut padded = jpeg.clone();
    padded.extend_from_slice(&[0; 64]);
    assert_eq!(decode_mjpeg(&padded, &mut dst)?, (64, 48));
    Ok(())
}

#[test]
fn a_glitched_picture_size_is_refused_before_anything_is_allocated() -> crate::TestResult {
    let mut jpeg = test_jpeg(PATTERN, "")?;
    // The baseline SOF0 segment: ff c0, length, precision, height, width.
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .ok_or("no SOF0")?;
    jpeg[sof + 5..sof + 7].copy_from_slice(&12_000u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&16_000u16.to_be_bytes());
    let mut dst = Vec::new();
    let started = std::time::Instant::now();
    let result = decode_mjpeg(&jpeg, &mut dst);
    assert!(result.is_err(), "decoded a 16000x12000 picture: {result:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert!(
        dst.capacity() < 1 << 20,
        "{} bytes allocated",
        dst.capacity()
    );
    Ok(())
}

#[test]
fn time_720p_decode() -> crate::TestResult {
    // Sensor-like noise keeps the frame as busy as a real webcam's, not a cartoon's.
    let jpeg = test_jpeg("testsrc2=size=1280x720", "-vf noise=alls=8:allf=t -q:v 4")?;
    let mut dst = vec![];
    assert_eq!(decode_mjpeg(&jpeg, &mut dst)?, (1280, 720));
    let (best, mean) = time(20, || {
        decode_mjpeg(&jpeg, &mut dst)?;
        Ok(())
    })?;
    let kb = jpeg.len() / 1024;
    eprintln!("decode_mjpeg 1280x720 ({kb} KB): best {best:?}, mean {mean:?} per frame");
    Ok(())
}
