//! Damaged sample tables: small files whose counts claim billions of entries fail at once
//! with an error naming the file and the box, and nothing is allocated from the claim.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mp4_atom::{Co64, Encode, Stbl, Stco, Stsc, StscEntry, Stsz, StszSamples, Stts, SttsEntry};

use super::*;
use crate::media::mux::TrackSetup;
use crate::media::mux::boxes::{self, Durations};

fn setup() -> TrackSetup {
    TrackSetup {
        width: 160,
        height: 120,
        sps: vec![0x67, 0x42, 0xc0, 0x0c],
        pps: vec![0x68, 0xce],
        audio_channels: 1,
        audio_config: vec![0x11, 0x88],
        audio_priming: 2048,
        audio_bitrate: 64_000,
    }
}

/// An ftyp, a moov whose video track has `video` as its sample tables (audio empty), and
/// `media` bytes of mdat.
fn file_with(dir: &Path, video: Stbl, media: usize) -> crate::TestResult<PathBuf> {
    let init = boxes::init_moov(&setup())?;
    let codec = |i: usize| init.trak[i].mdia.minf.stbl.clone();
    let video = Stbl {
        stsd: codec(0).stsd,
        ..video
    };
    let moov = boxes::final_moov(&setup(), video, codec(1), Durations::default());
    let mut bytes = Vec::new();
    boxes::ftyp(false).encode(&mut bytes)?;
    moov.encode(&mut bytes)?;
    bytes.extend_from_slice(&u32::try_from(media + 8)?.to_be_bytes());
    bytes.extend_from_slice(b"mdat");
    bytes.resize(bytes.len() + media, 0);
    let path = dir.join("damaged.mp4");
    std::fs::write(&path, bytes)?;
    Ok(path)
}

/// Reads `path`, which must fail within a second with a `Corrupt` error naming it and `box_type`.
fn refused(path: &Path, box_type: &str) -> crate::TestResult<String> {
    let started = Instant::now();
    let result = read_tracks(path);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    let err = result.err().ok_or("a damaged file was read")?;
    let text = err.to_string();
    assert!(
        matches!(&err, MuxError::Corrupt { box_type: b, .. } if b == box_type),
        "{err:?}"
    );
    assert!(text.contains(&path.display().to_string()), "{text}");
    Ok(text)
}

fn one_chunk(offset: u32, samples: u32) -> (Option<Stco>, Stsc) {
    (
        Some(Stco {
            entries: vec![offset],
        }),
        Stsc {
            entries: vec![StscEntry {
                first_chunk: 1,
                samples_per_chunk: samples,
                sample_description_index: 1,
            }],
        },
    )
}

#[test]
fn a_hundred_byte_file_claiming_four_billion_sizes_is_refused() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    // An ftyp and a bare moov → … → stsz whose count says u32::MAX, holding one entry.
    let boxed = |kind: &[u8; 4], content: &[u8]| -> crate::TestResult<Vec<u8>> {
        let mut b = u32::try_from(content.len() + 8)?.to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(content);
        Ok(b)
    };
    let mut stsz = vec![0u8; 8];
    stsz.extend_from_slice(&u32::MAX.to_be_bytes());
    stsz.extend_from_slice(&[0, 0, 0, 9]);
    let mut inner = boxed(b"stsz", &stsz)?;
    for kind in [b"stbl", b"minf", b"mdia", b"trak", b"moov"] {
        inner = boxed(kind, &inner)?;
    }
    let mut bytes = Vec::new();
    boxes::ftyp(false).encode(&mut bytes)?;
    bytes.extend_from_slice(&inner);
    assert!(bytes.len() <= 100, "{} bytes", bytes.len());
    let path = dir.path().join("tiny.mp4");
    std::fs::write(&path, &bytes)?;
    let text = refused(&path, "stsz")?;
    assert!(text.contains("4294967295"), "{text}");
    Ok(())
}

#[test]
fn samples_of_one_size_must_fit_in_the_file() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let (stco, stsc) = one_chunk(100, u32::MAX);
    let path = file_with(
        dir.path(),
        Stbl {
            stsz: Stsz {
                samples: StszSamples::Identical {
                    count: u32::MAX,
                    size: 1000,
                },
            },
            stco,
            stsc,
            ..Default::default()
        },
        16,
    )?;
    refused(&path, "stsz")?;
    Ok(())
}

#[test]
fn durations_for_billions_of_samples_are_refused() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let (stco, stsc) = one_chunk(0, 1);
    let path = file_with(
        dir.path(),
        Stbl {
            stts: Stts {
                entries: vec![SttsEntry {
                    sample_count: u32::MAX,
                    sample_delta: 3000,
                }],
            },
            stsz: Stsz {
                samples: StszSamples::Different { sizes: vec![10] },
            },
            stco,
            stsc,
            ..Default::default()
        },
        16,
    )?;
    refused(&path, "stts")?;
    Ok(())
}

#[test]
fn a_sample_outside_the_file_is_refused() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let path = file_with(
        dir.path(),
        Stbl {
            stsz: Stsz {
                samples: StszSamples::Different { sizes: vec![10] },
            },
            co64: Some(Co64 {
                entries: vec![1 << 40],
            }),
            stco: None,
            stsc: one_chunk(0, 1).1,
            ..Default::default()
        },
        16,
    )?;
    let text = refused(&path, "co64")?;
    assert!(text.contains("sample 1"), "{text}");
    Ok(())
}

#[test]
fn sound_tables_read_back() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    // Two samples of 5 bytes at the start of the mdat's payload; the moov is the same size
    // whatever the offset's value, so measure it with 0 first.
    let tables = |offset: u32| Stbl {
        stts: Stts {
            entries: vec![SttsEntry {
                sample_count: 2,
                sample_delta: 3000,
            }],
        },
        stsz: Stsz {
            samples: StszSamples::Identical { count: 2, size: 5 },
        },
        stco: one_chunk(offset, 2).0,
        stsc: one_chunk(offset, 2).1,
        ..Default::default()
    };
    let measured = file_with(dir.path(), tables(0), 10)?;
    let media_at = u32::try_from(std::fs::metadata(&measured)?.len())? - 10;
    let path = file_with(dir.path(), tables(media_at), 10)?;
    let tracks = read_tracks(&path)?;
    let video = tracks.first().ok_or("no video track")?;
    assert_eq!(video.samples.len(), 2);
    assert_eq!(video.samples[1].offset, u64::from(media_at) + 5);
    assert_eq!(video.samples[1].time, 3000);
    let mut file = File::open(&path)?;
    let mut buf = Vec::new();
    read_sample(&mut file, &video.samples[1], &mut buf)?;
    assert_eq!(buf, [0; 5]);
    Ok(())
}
