//! WAV reading and writing: formats, headers, pacing, and errors naming the file.

use super::*;
use std::process::Command;
use std::time::Duration;

/// A `fmt ` body: plain for tags 1 and 3, WAVE_FORMAT_EXTENSIBLE wrapping `tag` if `ext`.
fn fmt(tag: u16, channels: u16, rate: u32, bits: u16, ext: bool) -> Vec<u8> {
    let align = channels * bits / 8;
    let mut b = Vec::new();
    b.extend_from_slice(&(if ext { 0xFFFE } else { tag }).to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
    b.extend_from_slice(&align.to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    if ext {
        b.extend_from_slice(&[22, 0]);
        b.extend_from_slice(&bits.to_le_bytes());
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&SUBTYPE_TAIL);
    }
    b
}

/// A RIFF/WAVE file of the given chunks; `data_size` overrides the data chunk's size field.
fn wav(chunks: &[(&[u8; 4], Vec<u8>)], data_size: Option<u32>) -> Vec<u8> {
    let mut out = b"RIFF\xff\xff\xff\xffWAVE".to_vec();
    for (id, body) in chunks {
        out.extend_from_slice(*id);
        let size = match (*id, data_size) {
            (b"data", Some(s)) => s,
            _ => body.len() as u32,
        };
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(body);
        if body.len() % 2 == 1 {
            out.push(0);
        }
    }
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> crate::TestResult<PathBuf> {
    let p = dir.join(name);
    std::fs::write(&p, bytes)?;
    Ok(p)
}

fn read_all(path: &Path) -> crate::TestResult<(u16, Vec<AudioChunk>)> {
    let mut s = WavSource::open(path, Pace::None, Instant::now())?;
    let mut chunks = Vec::new();
    while let Some(c) = s.next_chunk()? {
        chunks.push(c);
    }
    assert!(s.next_chunk()?.is_none());
    Ok((s.channels(), chunks))
}

fn samples(path: &Path) -> crate::TestResult<Vec<i16>> {
    Ok(read_all(path)?
        .1
        .into_iter()
        .flat_map(|c| c.samples)
        .collect())
}

fn open_err(path: &Path) -> String {
    match WavSource::open(path, Pace::None, Instant::now()) {
        Ok(_) => panic!("{} opened", path.display()),
        Err(e) => e.to_string(),
    }
}

/// Runs ffmpeg on a 1 kHz sine; `input` adds lavfi options, `out` the output arguments.
fn ffmpeg_sine(input: &str, out: &str) -> crate::TestResult {
    let args = format!("-v error -y -f lavfi -i sine=frequency=1000:{input} {out}");
    let run = Command::new("ffmpeg").args(args.split(' ')).output();
    let run = run.map_err(|e| format!("ffmpeg must be installed for these tests: {e}"))?;
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    Ok(())
}

#[test]
fn reads_ffmpeg_wavs_like_ffmpeg_raw_output() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let raw = dir.path().join("ref.raw");
    let sine = "sample_rate=48000 -t 0.5";
    ffmpeg_sine(sine, &format!("-f s16le {}", raw.display()))?;
    let expected: Vec<i16> = std::fs::read(&raw)?
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    assert_eq!(expected.len(), 24_000);
    assert!(expected.iter().any(|&s| s > 1000), "the sine is not silent");
    for codec in ["pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le"] {
        let p = dir.path().join(format!("{codec}.wav"));
        ffmpeg_sine(sine, &format!("-c:a {codec} {}", p.display()))?;
        let epoch = Instant::now();
        let mut s = WavSource::open(&p, Pace::None, epoch)?;
        assert!(!s.is_live() && s.channels() == 1, "{codec}");
        let mut got = Vec::new();
        for k in 0..50u64 {
            let c = s.next_chunk()?.ok_or("too few chunks")?;
            assert_eq!((c.frames(), c.channels), (480, 1), "{codec}");
            assert_eq!(c.captured, epoch + Duration::from_millis(10 * k), "{codec}");
            got.extend(c.samples);
        }
        assert!(s.next_chunk()?.is_none(), "{codec}");
        // s16 sine scaled up losslessly, so converting back must give it exactly.
        assert!(got == expected, "{codec} differs from ffmpeg's s16 output");
    }

    // ffmpeg's mono-to-stereo upmix changes the level, so compare with its own s16 output.
    let (p, raw2) = (dir.path().join("stereo.wav"), dir.path().join("stereo.raw"));
    ffmpeg_sine(sine, &format!("-ac 2 {}", p.display()))?;
    ffmpeg_sine(sine, &format!("-ac 2 -f s16le {}", raw2.display()))?;
    let (channels, chunks) = read_all(&p)?;
    assert_eq!((channels, chunks.len()), (2, 50));
    let got: Vec<u8> = chunks
        .iter()
        .flat_map(|c| c.samples.iter())
        .flat_map(|s| s.to_le_bytes())
        .collect();
    assert!(got == std::fs::read(&raw2)?, "stereo differs");
    assert!(
        got.chunks_exact(4).all(|f| f[..2] == f[2..]),
        "channels differ"
    );
    Ok(())
}

#[test]
fn streamed_ffmpeg_wav_is_read_to_eof_with_a_short_last_chunk() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    // -f wav to a pipe leaves the sizes at 0xFFFFFFFF; 0.105 s = 10.5 chunks.
    let out = Command::new("sh")
        .arg("-c")
        .arg("ffmpeg -v error -f lavfi -i sine=frequency=1000:sample_rate=48000 -t 0.105 -f wav - | cat")
        .output()
        ?;
    assert!(out.status.success());
    assert_eq!(&out.stdout[4..8], &[0xFF; 4], "ffmpeg wrote a RIFF size");
    let p = write(dir.path(), "piped.wav", &out.stdout)?;
    let (_, chunks) = read_all(&p)?;
    let frames: Vec<usize> = chunks.iter().map(|c| c.frames()).collect();
    assert_eq!(frames, [[480; 10].as_slice(), &[240]].concat());
    let (first, last) = (chunks[0].captured, &chunks[10]);
    assert_eq!(last.captured, first + Duration::from_millis(100));
    assert_eq!(last.end(), first + Duration::from_millis(105));
    Ok(())
}

#[test]
fn extensible_24_bit_rounds_and_saturates_and_skips_odd_chunks() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    // 1_193_152 is 0x1234C0: its low byte 0xC0 rounds up to 0x1235.
    let values: [i32; 8] = [
        0x7F_FFFF, -0x80_0000, 0x80, 0x7F, -0x80, -0x81, 1_193_152, 0,
    ];
    let data: Vec<u8> = values
        .iter()
        .flat_map(|v| v.to_le_bytes()[..3].to_vec())
        .collect();
    let chunks = [
        (b"JUNK", vec![1, 2, 3]),
        (b"fmt ", fmt(1, 2, 48_000, 24, true)),
        (b"LIST", b"INFOISFT".to_vec()),
        (b"data", data),
    ];
    let p = write(dir.path(), "ext24.wav", &wav(&chunks, None))?;
    let (channels, read) = read_all(&p)?;
    assert_eq!((channels, read.len(), read[0].frames()), (2, 1, 4));
    let want = [32_767, -32_768, 1, 0, 0, -1, 0x1234 + 1, 0];
    assert_eq!(read[0].samples, want);
    // Data size 0 (a streamed file) means "until the end".
    let p = write(dir.path(), "zero.wav", &wav(&chunks, Some(0)))?;
    assert_eq!(samples(&p)?, want);
    Ok(())
}

#[test]
fn int32_and_float_convert_with_saturation() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let ints = [i32::MAX, i32::MIN, 0x8000, 0x7FFF, -0x1_0000, 0x4000_0000];
    let data: Vec<u8> = ints.iter().flat_map(|v| v.to_le_bytes()).collect();
    let chunks = [(b"fmt ", fmt(1, 1, 48_000, 32, false)), (b"data", data)];
    let p = write(dir.path(), "i32.wav", &wav(&chunks, None))?;
    assert_eq!(samples(&p)?, [32_767, -32_768, 1, 0, -1, 16_384]);

    let floats = [1.5f32, -1.5, 0.5, -1.0, f32::NAN, 1.0 / 65_536.0 * 3.0];
    let data: Vec<u8> = floats.iter().flat_map(|v| v.to_le_bytes()).collect();
    let ext = [
        (b"fmt ", fmt(3, 1, 48_000, 32, true)),
        (b"data", data.clone()),
    ];
    let plain = [(b"fmt ", fmt(3, 1, 48_000, 32, false)), (b"data", data)];
    for (name, chunks) in [("fext.wav", ext), ("f.wav", plain)] {
        let p = write(dir.path(), name, &wav(&chunks, None))?;
        assert_eq!(
            samples(&p)?,
            [32_767, -32_768, 16_384, -32_768, 0, 2],
            "{name}"
        );
    }
    Ok(())
}

#[test]
fn data_size_is_respected_when_known() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let data: Vec<u8> = (1..=1000i16).flat_map(|v| v.to_le_bytes()).collect();
    let chunks = [
        (b"fmt ", fmt(1, 1, 48_000, 16, false)),
        (b"data", data),
        (b"LIST", b"INFOtrailing metadata".to_vec()),
    ];
    let p = write(dir.path(), "sized.wav", &wav(&chunks, None))?;
    let (_, read) = read_all(&p)?;
    let frames: Vec<usize> = read.iter().map(|c| c.frames()).collect();
    assert_eq!(frames, [480, 480, 40]);
    let all: Vec<i16> = read.into_iter().flat_map(|c| c.samples).collect();
    assert_eq!(all, (1..=1000).collect::<Vec<i16>>());
    Ok(())
}

#[test]
fn errors_name_the_file_and_the_problem() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let e = open_err(&dir.path().join("missing.wav"));
    assert!(e.contains("missing.wav"), "{e}");

    let p = dir.path().join("44k.wav");
    ffmpeg_sine("sample_rate=44100 -t 0.1", &p.display().to_string())?;
    let e = open_err(&p);
    let hint = "is 44100 Hz; booth records at 48000 Hz (convert it with: ffmpeg -i in.wav \
                -ar 48000 out.wav)";
    assert!(e.contains("44k.wav") && e.contains(hint), "{e}");

    let pcm16 = || (b"fmt ", fmt(1, 1, 48_000, 16, false));
    let only_fmt =
        |tag, channels, bits| wav(&[(b"fmt ", fmt(tag, channels, 48_000, bits, false))], None);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"RIFX\0\0\0\0WAVE".to_vec(), "not a WAV file"),
        (only_fmt(1, 3, 16), "3 channels"),
        (only_fmt(1, 1, 8), "8-bit integer"),
        (only_fmt(3, 1, 64), "64-bit float"),
        (only_fmt(2, 1, 4), "format tag 0x0002"),
        (wav(&[(b"fmt ", vec![1, 0, 1, 0])], None), "is 4 bytes"),
        (
            wav(&[(b"data", vec![0; 4]), pcm16()], None),
            "comes before fmt",
        ),
        (wav(&[pcm16()], None), "no data chunk"),
        (
            wav(&[pcm16(), (b"LIST", vec![0; 100])], None)[..60].to_vec(),
            "'LIST'",
        ),
    ];
    for (i, (bytes, needle)) in cases.iter().enumerate() {
        let p = write(dir.path(), &format!("bad{i}.wav"), bytes)?;
        let e = open_err(&p);
        assert!(
            e.contains(&format!("bad{i}.wav")) && e.contains(needle),
            "{needle}: {e}"
        );
    }
    Ok(())
}

#[test]
fn realtime_releases_each_chunk_after_its_end() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let chunks = [
        (b"fmt ", fmt(1, 1, 48_000, 16, false)),
        (b"data", vec![0; 4_800]),
    ];
    let p = write(dir.path(), "rt.wav", &wav(&chunks, None))?;
    let epoch = Instant::now();
    let mut s = WavSource::open(&p, Pace::Realtime, epoch)?;
    assert!(s.is_live());
    let mut n = 0;
    while let Some(c) = s.next_chunk()? {
        assert!(Instant::now() >= c.end());
        n += 1;
    }
    assert_eq!(n, 5);
    assert!(epoch.elapsed() >= Duration::from_millis(50));
    Ok(())
}
