//! Y4M parsing, chroma conversion and pacing, against files written by the tests and by ffmpeg.

use super::*;
use std::process::Command;
use std::sync::{Arc, Mutex};

fn write_y4m(
    dir: &Path,
    name: &str,
    header: &str,
    frames: &[Vec<u8>],
) -> crate::TestResult<PathBuf> {
    let mut bytes = format!("{header}\n").into_bytes();
    for f in frames {
        bytes.extend_from_slice(b"FRAME\n");
        bytes.extend_from_slice(f);
    }
    let path = dir.join(name);
    std::fs::write(&path, bytes)?;
    Ok(path)
}

/// Runs ffmpeg on 64x48@25 testsrc; `out` are output arguments (tempdir paths have no spaces).
fn ffmpeg_testsrc(out: &str) -> crate::TestResult {
    let args = "-v error -y -f lavfi -i testsrc=size=64x48:rate=25 ".to_string() + out;
    let run = Command::new("ffmpeg").args(args.split(' ')).output();
    let run = run.map_err(|e| format!("ffmpeg must be installed for these tests: {e}"))?;
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    Ok(())
}

fn open(path: &Path) -> crate::TestResult<Y4mSource> {
    Ok(Y4mSource::open(path, Pace::None, Instant::now())?)
}

fn first_frame(path: &Path) -> crate::TestResult<VideoFrame> {
    Ok(open(path)?.next_frame()?.ok_or("no frame")?)
}

fn open_err(path: &Path) -> String {
    match Y4mSource::open(path, Pace::None, Instant::now()) {
        Ok(_) => panic!("{} opened", path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn reads_ffmpeg_y4m_byte_for_byte() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let (y4m, raw) = (dir.path().join("out.y4m"), dir.path().join("out.yuv"));
    let (y4m_s, raw_s) = (y4m.display(), raw.display());
    ffmpeg_testsrc(&format!("-frames:v 5 -pix_fmt yuv420p {y4m_s}"))?;
    ffmpeg_testsrc(&format!("-frames:v 5 -pix_fmt yuv420p -f rawvideo {raw_s}"))?;
    let expected = std::fs::read(&raw)?;
    assert_eq!(expected.len(), 5 * i420_len(64, 48));

    let epoch = Instant::now();
    let mut s = Y4mSource::open(&y4m, Pace::None, epoch)?;
    assert_eq!(s.format().to_string(), "64x48@25");
    assert!(!s.is_live());
    assert!(s.describe().contains("out.y4m"), "{}", s.describe());
    for (n, want) in expected.chunks(i420_len(64, 48)).enumerate() {
        let f = s.next_frame()?.ok_or("too few frames")?;
        assert_eq!((f.width, f.height), (64, 48));
        assert_eq!(f.captured, epoch + Duration::from_millis(40 * n as u64));
        assert!(f.data == want, "frame {n} differs from ffmpeg's raw output");
    }
    assert!(s.next_frame()?.is_none());
    assert!(s.next_frame()?.is_none());
    Ok(())
}

#[test]
fn ffmpeg_422_444_and_gray_match_their_raw_planes() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let formats = [("yuv422p", Chroma::C422), ("yuv444p", Chroma::C444)];
    for (pix, chroma) in formats.into_iter().chain([("gray", Chroma::Mono)]) {
        let y4m = dir.path().join(format!("{pix}.y4m"));
        let raw = dir.path().join(format!("{pix}.raw"));
        let (y4m_s, raw_s) = (y4m.display(), raw.display());
        ffmpeg_testsrc(&format!("-frames:v 2 -pix_fmt {pix} {y4m_s}"))?;
        ffmpeg_testsrc(&format!("-frames:v 2 -pix_fmt {pix} -f rawvideo {raw_s}"))?;
        let raw = std::fs::read(&raw)?;
        let mut s = open(&y4m)?;
        assert_eq!(s.header.chroma, chroma);
        for want in raw.chunks(chroma.frame_len(64, 48)) {
            let f = s.next_frame()?.ok_or("too few frames")?;
            assert_eq!(f.data.len(), i420_len(64, 48), "{pix}");
            assert!(f.luma() == &want[..64 * 48], "{pix}: luma differs");
            let (_, u, v) = f.planes();
            // testsrc is colourful; only gray may (and must) come out neutral.
            let neutral = u.iter().chain(v).all(|&c| c == 128);
            assert_eq!(neutral, chroma == Chroma::Mono, "{pix}");
        }
        assert!(s.next_frame()?.is_none(), "{pix}");
    }
    Ok(())
}

/// A 16x16 picture with a luma ramp and chroma planes of `cw` x `chh` from `u`, `v`.
fn planar(cw: usize, chh: usize, u: fn(usize, usize) -> u8, v: fn(usize, usize) -> u8) -> Vec<u8> {
    let mut out: Vec<u8> = (0..256).map(|i| (i % 200 + 16) as u8).collect();
    out.extend((0..cw * chh).map(|i| u(i % cw, i / cw)));
    out.extend((0..cw * chh).map(|i| v(i % cw, i / cw)));
    out
}

#[test]
fn converts_422_and_444_by_averaging_chroma() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let f422 = planar(
        8,
        16,
        |x, y| (10 * y + x) as u8,
        |x, y| (255 - 3 * y - x) as u8,
    );
    let p = write_y4m(
        dir.path(),
        "a.y4m",
        "YUV4MPEG2 W16 H16 F25:1 C422",
        std::slice::from_ref(&f422),
    )?;
    let f = first_frame(&p)?;
    let (y, cu, cv) = f.planes();
    assert_eq!(y, &f422[..256]);
    for (cy, cx) in (0..8).flat_map(|cy| (0..8).map(move |cx| (cy, cx))) {
        // Rows 2cy and 2cy+1 differ by 10 (U) and 3 (V); halves round up.
        assert_eq!(cu[cy * 8 + cx], (20 * cy + 5 + cx) as u8);
        assert_eq!(
            cv[cy * 8 + cx],
            (255 - 6 * cy - cx - 1) as u8,
            "({cx},{cy})"
        );
    }

    let f444 = planar(
        16,
        16,
        |x, y| (x + 16 * y) as u8,
        |x, _| 100 + 3 * (x % 2) as u8,
    );
    let p = write_y4m(dir.path(), "b.y4m", "YUV4MPEG2 W16 H16 F25:1 C444", &[f444])?;
    let f = first_frame(&p)?;
    let (_, cu, cv) = f.planes();
    for (cy, cx) in (0..8).flat_map(|cy| (0..8).map(move |cx| (cy, cx))) {
        // Mean of x, x+1, x+16, x+17 at x = 2cx + 32cy is that + 8.5, rounded up.
        assert_eq!(cu[cy * 8 + cx], (2 * cx + 32 * cy + 9) as u8);
        assert_eq!(cv[cy * 8 + cx], 102); // mean 101.5
    }

    let p = write_y4m(
        dir.path(),
        "m.y4m",
        "YUV4MPEG2 W16 H16 F25:1 Cmono",
        &[vec![77; 256]],
    )?;
    let f = first_frame(&p)?;
    assert_eq!(f, VideoFrame::filled(16, 16, 77, 128, 128, f.captured));
    Ok(())
}

#[test]
fn fractional_rates_give_exact_timestamps_and_frame_params_are_accepted() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let mut bytes = b"YUV4MPEG2 W16 H16 F30000:1001 Ip A1:1 C420mpeg2 XFOO=1\n".to_vec();
    for _ in 0..4 {
        bytes.extend_from_slice(b"FRAME Ixyz\n");
        bytes.extend_from_slice(&[16; 384]);
    }
    let p = dir.path().join("ntsc.y4m");
    std::fs::write(&p, bytes)?;
    let epoch = Instant::now();
    let mut s = Y4mSource::open(&p, Pace::None, epoch)?;
    assert!((s.format().fps - 29.97).abs() < 0.001);
    let mut stamps = Vec::new();
    while let Some(f) = s.next_frame()? {
        stamps.push(f.captured - epoch);
    }
    let ns = [0, 33_366_666, 66_733_333, 100_100_000].map(Duration::from_nanos);
    assert_eq!(stamps, ns);
    Ok(())
}

/// Collects what `f` logs through `tracing`.
fn logged(f: impl FnOnce() -> crate::TestResult) -> crate::TestResult<String> {
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|e| panic!("the log sink: {e}"))
                .extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let sub = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone());
    tracing::subscriber::with_default(sub.finish(), f)?;
    let bytes = sink.0.lock().map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[test]
fn truncated_last_frame_ends_cleanly_with_a_warning() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let frames = [vec![16; 384], vec![16; 384], vec![16; 100]];
    let p = write_y4m(dir.path(), "t.y4m", "YUV4MPEG2 W16 H16 F25:1", &frames)?;
    let log = logged(|| {
        let mut s = open(&p)?;
        assert!(s.next_frame()?.is_some());
        assert!(s.next_frame()?.is_some());
        assert!(s.next_frame()?.is_none());
        assert!(s.next_frame()?.is_none());
        Ok(())
    })?;
    assert!(
        log.contains("WARN") && log.contains("t.y4m: frame 2 at byte offset 804"),
        "{log}"
    );
    assert!(log.contains("100 of 384"), "{log}");

    // Cut inside the third FRAME marker.
    let mut bytes = std::fs::read(&p)?;
    bytes.truncate(804 + 3);
    std::fs::write(&p, &bytes)?;
    let log = logged(|| {
        let mut s = open(&p)?;
        let mut frames = 0;
        while s.next_frame()?.is_some() {
            frames += 1;
        }
        assert_eq!(frames, 2);
        Ok(())
    })?;
    assert!(
        log.contains("frame 2") && log.contains("FRAME marker"),
        "{log}"
    );
    Ok(())
}

#[test]
fn bad_frame_marker_names_frame_and_offset() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let frames = [vec![16; 384], vec![16; 384]];
    let p = write_y4m(dir.path(), "bad.y4m", "YUV4MPEG2 W16 H16 F25:1", &frames)?;
    let mut bytes = std::fs::read(&p)?;
    let second = 24 + 6 + 384;
    bytes[second..second + 5].copy_from_slice(b"FRAMX");
    std::fs::write(&p, &bytes)?;
    let mut s = open(&p)?;
    assert!(s.next_frame()?.is_some());
    let e = s.next_frame().unwrap_err().to_string();
    assert!(e.contains("bad.y4m") && e.contains("frame 1"), "{e}");
    assert!(e.contains(&format!("byte offset {second}")), "{e}");
    Ok(())
}

#[test]
fn header_errors_name_file_and_field() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let e = open_err(&dir.path().join("missing.y4m"));
    assert!(e.contains("missing.y4m"), "{e}");
    let cases = [
        ("YUV4MPEG2 W6x H16 F25:1", "'W6x'"),
        ("YUV4MPEG2 W16 F25:1", "H (height)"),
        ("YUV4MPEG2 W16 H16", "F (frame rate)"),
        ("YUV4MPEG2 W16 H16 F25:0", "'F25:0'"),
        ("YUV4MPEG2 W16 H16 F25:1 C420p10", "C420p10"),
        ("YUV4MPEG2 W63 H48 F25:1", "63x48"),
        ("RIFF W16 H16 F25:1", "not a Y4M file"),
        ("YUV4MPEG2 W16 H16 F25:1 Cé", "Cé"),
    ];
    for (i, (header, needle)) in cases.iter().enumerate() {
        let p = write_y4m(dir.path(), &format!("h{i}.y4m"), header, &[])?;
        let e = open_err(&p);
        assert!(
            e.contains(&format!("h{i}.y4m")) && e.contains(needle),
            "{header}: {e}"
        );
    }
    let p = dir.path().join("noline.y4m");
    std::fs::write(&p, vec![b'x'; 10_000])?;
    assert!(open_err(&p).contains("not a Y4M file"));
    Ok(())
}

#[test]
fn realtime_pacing_follows_the_frame_rate() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let frames = vec![vec![16; 384]; 5];
    let p = write_y4m(dir.path(), "rt.y4m", "YUV4MPEG2 W16 H16 F50:1", &frames)?;
    let epoch = Instant::now();
    let mut s = Y4mSource::open(&p, Pace::Realtime, epoch)?;
    assert!(s.is_live());
    while let Some(f) = s.next_frame()? {
        assert!(Instant::now() >= f.captured);
    }
    assert!(epoch.elapsed() >= Duration::from_millis(80));
    Ok(())
}
