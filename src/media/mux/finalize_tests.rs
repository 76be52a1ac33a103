//! Finalizing real encoded recordings, checked by an independent MP4 parser.

use super::*;
use crate::media::encode::{AacEncoder, H264Encoder, VideoEncoderConfig};
use crate::media::frame::VideoFrame;
use crate::media::mux::fmp4::FragmentWriter;
use crate::media::mux::scan::scan;
use crate::media::mux::{Sample, TrackSetup, VIDEO_TIMESCALE};
use std::time::{Duration, Instant};

/// Writes `seconds` of 160x120@30 video and 48 kHz mono audio as a fragmented file.
pub(crate) fn write_fragmented(path: &Path, seconds: u32) -> crate::TestResult<(u64, u64)> {
    let mut video = H264Encoder::new(VideoEncoderConfig {
        width: 160,
        height: 120,
        fps: 30.0,
        bitrate: 300_000,
        idr_interval: Duration::from_secs(2),
    })?;
    let mut audio = AacEncoder::new(1, 64_000)?;
    let t0 = Instant::now();
    let mut pics = Vec::new();
    for n in 0..seconds * 30 {
        let f = VideoFrame::filled(160, 120, (n % 200) as u8 + 16, 128, 128, t0);
        pics.push(video.encode(&f)?.ok_or("no picture")?);
    }
    let (sps, pps) = video.parameter_sets().ok_or("no parameter sets")?;
    let setup = TrackSetup {
        width: 160,
        height: 120,
        sps: sps.to_vec(),
        pps: pps.to_vec(),
        audio_channels: 1,
        audio_config: audio.audio_specific_config().to_vec(),
        audio_priming: audio.delay(),
        audio_bitrate: 64_000,
    };
    let mut w = FragmentWriter::create(path, &setup)?;
    let samples: Vec<i16> = (0..48_000 * seconds as usize)
        .map(|i| ((i as f64 * 440.0 * std::f64::consts::TAU / 48_000.0).sin() * 3000.0) as i16)
        .collect();
    let mut units = Vec::new();
    for c in samples.chunks(480) {
        units.extend(audio.encode(c)?);
    }
    units.extend(audio.flush()?);
    let mut units = units.into_iter();
    for (n, pic) in pics.into_iter().enumerate() {
        w.push_video(Sample {
            data: pic.data,
            duration: VIDEO_TIMESCALE / 30,
            sync: pic.keyframe,
        })?;
        // Interleave: audio up to this picture's time.
        while (w.stats().audio_samples + 1) * 1024 < (n as u64 + 1) * 1600 {
            match units.next() {
                Some(u) => w.push_audio(Sample {
                    data: u,
                    duration: 1024,
                    sync: true,
                })?,
                None => break,
            }
        }
    }
    for u in units {
        w.push_audio(Sample {
            data: u,
            duration: 1024,
            sync: true,
        })?;
    }
    let stats = w.finish()?;
    Ok((stats.video_samples, stats.audio_samples))
}

#[test]
fn finalized_file_reads_back_with_an_independent_parser() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let part = dir.path().join("a.mp4.part");
    let out = dir.path().join("a.mp4");
    let (frames, units) = write_fragmented(&part, 3)?;
    let scanned = scan(&part)?;
    assert_eq!(scanned.torn_bytes, 0);
    assert!(!scanned.finished);
    assert!(scanned.fragments >= 3, "{} fragments", scanned.fragments);
    let fin = deliver(&scanned, &part, &out, Some(3 * 48_000), Existing::Replace)?;
    assert_eq!(fin.video_frames, frames);
    assert_eq!(fin.audio_units, units);
    assert!((fin.video_seconds - 3.0).abs() < 1e-9);
    assert!((fin.audio_seconds - 3.0).abs() < 1e-9);
    assert!(fin.finalized);

    // The `mp4` crate is a second, independent reader of the finished file.
    let bytes = std::fs::read(&out)?;
    let size = bytes.len() as u64;
    let mut reader = mp4::Mp4Reader::read_header(std::io::Cursor::new(bytes), size)?;
    let video = reader.tracks().get(&1).ok_or("no video track")?;
    assert_eq!(video.sample_count() as u64, frames);
    assert_eq!(video.width(), 160);
    let audio_count = reader
        .tracks()
        .get(&2)
        .ok_or("no audio track")?
        .sample_count();
    assert_eq!(audio_count as u64, units);
    // Every sample's bytes are where the tables say: the first video sample is an IDR
    // slice in AVCC form (length prefix covering the NAL).
    let s = reader.read_sample(1, 1)?.ok_or("no video sample 1")?;
    assert!(s.is_sync);
    let len = u32::from_be_bytes(s.bytes[..4].try_into()?) as usize;
    assert_eq!(len + 4, s.bytes.len());
    assert_eq!(s.bytes[4] & 0x1f, 5);
    // And the finished file scans as finished.
    assert!(scan(&out)?.finished);
    Ok(())
}

#[test]
fn a_torn_tail_is_dropped_and_every_complete_fragment_kept() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let part = dir.path().join("b.mp4.part");
    write_fragmented(&part, 4)?;
    let full = scan(&part)?;
    let len = std::fs::metadata(&part)?.len();
    // Cut in the middle of the last fragment's media.
    let f = std::fs::OpenOptions::new().write(true).open(&part)?;
    f.set_len(len - 2000)?;
    drop(f);
    let torn = scan(&part)?;
    assert_eq!(torn.fragments, full.fragments - 1);
    assert!(torn.torn_bytes > 0);
    let out = dir.path().join("b.mp4");
    let fin = deliver(&torn, &part, &out, None, Existing::Replace)?;
    assert!(fin.video_seconds >= 2.9, "{}", fin.video_seconds);
    // Cutting inside the init segment leaves nothing to recover, said plainly.
    let f = std::fs::OpenOptions::new().write(true).open(&part)?;
    f.set_len(100)?;
    drop(f);
    let err = scan(&part).unwrap_err().to_string();
    assert!(err.contains("b.mp4.part"), "{err}");
    Ok(())
}

/// A disk that is full: 1000 bytes free, or (with `writable`) enough free space by its
/// measure but a copy that fails with ENOSPC after `writable` bytes.
fn full_disk(writable: Option<u64>) -> Disk {
    Disk {
        free_bytes: if writable.is_some() {
            crate::fsutil::free_bytes
        } else {
            |_| Ok(1_000)
        },
        writable,
    }
}

/// Delivers a 3 s recording on `disk`; checks it came out as recorded, whole and playable.
fn delivered_as_recorded(disk: Disk) -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let part = dir.path().join("c.mp4.part");
    let out = dir.path().join("c.mp4");
    let (frames, units) = write_fragmented(&part, 3)?;
    let recorded = std::fs::read(&part)?;
    let scanned = scan(&part)?;
    let fin = deliver_on(
        disk,
        &scanned,
        &part,
        &out,
        Some(3 * 48_000),
        Existing::Replace,
    )?;
    assert!(!fin.finalized);
    assert_eq!((fin.video_frames, fin.audio_units), (frames, units));
    assert!((fin.video_seconds - 3.0).abs() < 1e-9);
    assert_eq!(fin.bytes, recorded.len() as u64);
    // The recording itself, under its final name; no partial or half-written copy is left.
    assert_eq!(std::fs::read(&out)?, recorded);
    assert!(!part.exists());
    assert!(
        !fsutil::temp_sibling(&out).exists(),
        "the copy was left behind"
    );
    // It plays: the reader finds every sample in its fragments.
    let tracks = crate::media::mp4read::read_tracks(&out)?;
    assert_eq!(tracks[0].samples.len() as u64, frames);
    assert_eq!(tracks[1].samples.len() as u64, units);
    Ok(())
}

#[test]
fn without_room_for_the_copy_the_recording_is_delivered_as_recorded() -> crate::TestResult {
    delivered_as_recorded(full_disk(None))
}

#[test]
fn a_copy_failing_as_on_a_full_disk_is_removed_and_the_recording_kept() -> crate::TestResult {
    delivered_as_recorded(full_disk(Some(20_000)))
}

#[test]
fn in_place_without_room_the_file_stays_as_it_is() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("copied.mp4");
    write_fragmented(&file, 2)?;
    let recorded = std::fs::read(&file)?;
    let scanned = scan(&file)?;
    let fin = deliver_on(
        full_disk(None),
        &scanned,
        &file,
        &file,
        None,
        Existing::Replace,
    )?;
    assert!(!fin.finalized);
    assert_eq!(std::fs::read(&file)?, recorded);
    Ok(())
}
