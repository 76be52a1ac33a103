//! The finalized layout of synthetic recordings near 4 GiB: chunk offsets straddling 2^32
//! must come out in one width for both tracks, and every offset must be where the chunk is.

use super::*;
use crate::media::mux::TrackSetup;
use crate::media::mux::scan::{Run, SampleRef};
use mp4_atom::{Decode, Moov};

fn setup() -> TrackSetup {
    TrackSetup {
        width: 160,
        height: 120,
        sps: vec![0x67, 0x42, 0xc0, 0x0c, 0xda, 0x05, 0x07, 0xe8],
        pps: vec![0x68, 0xce, 0x3c, 0x80],
        audio_channels: 1,
        audio_config: vec![0x11, 0x88],
        audio_priming: 2048,
        audio_bitrate: 64_000,
    }
}

const FRAGMENT_VIDEO: usize = 30;
const FRAGMENT_AUDIO: usize = 47;
const VIDEO_SIZE: u32 = 1_000_000;
const AUDIO_SIZE: u32 = 400;
/// What a fragment's moof and mdat header take in the source file.
const FRAGMENT_HEADER: u64 = 1_200;

/// `fragments` one-second fragments laid out as the fragmented writer lays them out: a moof,
/// then a run of video samples and a run of audio samples back to back. The first video
/// sample is `first` bytes, which moves every later offset.
fn synthetic(fragments: usize, first: u32) -> Scan {
    let mut pos = 1_000u64;
    let mut runs = Vec::new();
    for f in 0..fragments {
        pos += FRAGMENT_HEADER;
        for (track_id, count, size, duration) in [
            (VIDEO_TRACK, FRAGMENT_VIDEO, VIDEO_SIZE, 3000),
            (AUDIO_TRACK, FRAGMENT_AUDIO, AUDIO_SIZE, 1024),
        ] {
            let mut samples = Vec::with_capacity(count);
            for i in 0..count {
                let size = if f == 0 && i == 0 && track_id == VIDEO_TRACK {
                    first
                } else {
                    size
                };
                samples.push(SampleRef {
                    offset: pos,
                    size,
                    duration,
                    sync: i == 0,
                });
                pos += u64::from(size);
            }
            runs.push(Run { track_id, samples });
        }
    }
    Scan {
        setup: setup(),
        runs,
        fragments,
        torn_bytes: 0,
        file_len: pos,
        finished: false,
    }
}

/// Each track's chunk offsets as written in the layout's moov, and whether they are 64-bit.
fn written_offsets(layout: &Layout) -> crate::TestResult<Vec<(u32, bool, Vec<u64>)>> {
    let ftyp_len = u32::from_be_bytes(layout.head[..4].try_into()?) as usize;
    let moov = Moov::decode(&mut &layout.head[ftyp_len..])?;
    let mut out = Vec::new();
    for trak in &moov.trak {
        let stbl = &trak.mdia.minf.stbl;
        let (wide, offsets) = match (&stbl.stco, &stbl.co64) {
            (Some(s), None) => (false, s.entries.iter().map(|&o| u64::from(o)).collect()),
            (None, Some(c)) => (true, c.entries.clone()),
            other => return Err(format!("track has offset boxes {other:?}").into()),
        };
        out.push((trak.tkhd.track_id, wide, offsets));
    }
    Ok(out)
}

/// Where each chunk really lands: right after the head, one after another.
fn real_offsets(layout: &Layout, track_id: u32) -> Vec<u64> {
    let mut pos = layout.head.len() as u64;
    let mut out = Vec::new();
    for c in &layout.chunks {
        if c.track_id == track_id {
            out.push(pos);
        }
        pos += c.len;
    }
    out
}

#[test]
fn offsets_straddling_4_gib_share_one_width_and_point_at_their_chunks() -> crate::TestResult {
    let limit = u64::from(u32::MAX);
    // 143 fragments hold about 4.29 GB; moving the first sample by up to ±80 MB walks the
    // last chunks across 2^32 in steps smaller than a fragment's video run.
    let (mut near_narrow, mut straddle, mut all_wide) = (0, 0, 0);
    for step in 0..64u32 {
        let first = 1_000 + step * 2_500_000;
        let scan = synthetic(143, first);
        let layout = plan(&scan, None).map_err(|e| format!("first sample {first}: {e}"))?;
        let written = written_offsets(&layout)?;
        assert_eq!(written.len(), 2);
        assert_eq!(
            written[0].1, written[1].1,
            "first sample {first}: one track has co64, the other stco"
        );
        for (track_id, wide, offsets) in &written {
            let real = real_offsets(&layout, *track_id);
            assert_eq!(offsets, &real, "track {track_id}, first sample {first}");
            if !wide {
                assert!(
                    real.iter().all(|&o| o <= limit),
                    "stco cannot hold {real:?}"
                );
            }
        }
        let video_max = real_offsets(&layout, VIDEO_TRACK).into_iter().max();
        let audio_max = real_offsets(&layout, AUDIO_TRACK).into_iter().max();
        match (video_max, audio_max, written[0].1) {
            (Some(v), Some(a), false) if v.max(a) > limit - (64 << 20) => near_narrow += 1,
            (Some(v), Some(a), true) if v <= limit && a > limit => straddle += 1,
            (Some(v), Some(a), true) if v > limit && a > limit => all_wide += 1,
            _ => {}
        }
        // The mdat header at the end of the head covers exactly the media after it.
        let head = &layout.head;
        let large = &head[head.len() - 16..];
        let (mdat_len, header) = if large[..8] == *b"\0\0\0\x01mdat" {
            (u64::from_be_bytes(large[8..].try_into()?), 16)
        } else {
            let small = &head[head.len() - 8..];
            assert_eq!(&small[4..], b"mdat");
            (u64::from(u32::from_be_bytes(small[..4].try_into()?)), 8)
        };
        assert_eq!(mdat_len, layout.payload + header);
    }
    assert!(
        near_narrow > 0 && straddle > 0 && all_wide > 0,
        "the sweep missed a case: {near_narrow} near 4 GiB in 32 bits, {straddle} straddling, \
         {all_wide} all above"
    );
    Ok(())
}
