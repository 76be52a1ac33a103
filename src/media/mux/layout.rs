//! Where everything goes in a finalized MP4, decided before a byte is written: the chunks
//! (each a run of samples contiguous in the source), the sample tables, and the `moov` whose
//! chunk offsets point past itself. Pure: it reads the scan, never the disk, so the layout of
//! a 4 GiB answer can be checked without one.

use mp4_atom::{
    Co64, Encode, Stbl, Stco, Stsc, StscEntry, Stss, Stsz, StszSamples, Stts, SttsEntry,
};

use super::boxes::{self, Durations};
use super::scan::Scan;
use super::{AUDIO_TRACK, MuxError, VIDEO_TRACK};

/// A chunk of the output: one run's samples, contiguous in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    pub track_id: u32,
    pub src_offset: u64,
    pub len: u64,
    pub samples: u32,
}

/// The finalized file but for its media: `head` (ftyp, moov, mdat header) is followed by the
/// chunks' bytes in order.
#[derive(Debug, Clone)]
pub struct Layout {
    pub head: Vec<u8>,
    pub chunks: Vec<Chunk>,
    pub payload: u64,
    pub durations: Durations,
    pub offsets: OffsetWidth,
}

impl Layout {
    /// The finalized file's size in bytes.
    pub fn len(&self) -> u64 {
        self.head.len() as u64 + self.payload
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn chunks(scan: &Scan) -> Vec<Chunk> {
    let mut out = Vec::new();
    for run in &scan.runs {
        // Split a run wherever its samples stop being contiguous in the source.
        let mut current: Option<Chunk> = None;
        for s in &run.samples {
            match current.as_mut() {
                Some(c) if c.src_offset + c.len == s.offset => {
                    c.len += s.size as u64;
                    c.samples += 1;
                }
                _ => {
                    out.extend(current.take());
                    current = Some(Chunk {
                        track_id: run.track_id,
                        src_offset: s.offset,
                        len: s.size as u64,
                        samples: 1,
                    });
                }
            }
        }
        out.extend(current);
    }
    out
}

/// How chunk offsets are written: `stco` (32 bits) or `co64`. Decided once per file and used
/// for both tracks and both passes: a per-track or per-pass choice changes the moov's size
/// between the pass that measures it and the pass that writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetWidth {
    Narrow,
    Wide,
}

impl OffsetWidth {
    /// The width a file needs when its last chunk starts at `last_chunk_start` with 32-bit
    /// offsets. Wider offsets only make the moov longer and every offset larger, so a file that
    /// does not fit in 32 bits this way does not fit in them any other way either.
    pub fn needed(last_chunk_start: u64) -> Self {
        if last_chunk_start > u64::from(u32::MAX) {
            OffsetWidth::Wide
        } else {
            OffsetWidth::Narrow
        }
    }
}

fn sample_table(
    scan: &Scan,
    track_id: u32,
    chunks: &[Chunk],
    codec_stbl: &Stbl,
    (width, chunk_offsets): (OffsetWidth, &[u64]),
) -> Stbl {
    let mut stts: Vec<SttsEntry> = Vec::new();
    let mut sizes = Vec::new();
    let mut sync = Vec::new();
    for (i, s) in scan.track(track_id).enumerate() {
        match stts.last_mut() {
            Some(e) if e.sample_delta == s.duration => e.sample_count += 1,
            _ => stts.push(SttsEntry {
                sample_count: 1,
                sample_delta: s.duration,
            }),
        }
        sizes.push(s.size);
        if s.sync {
            sync.push(i as u32 + 1);
        }
    }
    let mut stsc: Vec<StscEntry> = Vec::new();
    for (i, c) in chunks.iter().filter(|c| c.track_id == track_id).enumerate() {
        if stsc.last().is_none_or(|e| e.samples_per_chunk != c.samples) {
            stsc.push(StscEntry {
                first_chunk: i as u32 + 1,
                samples_per_chunk: c.samples,
                sample_description_index: 1,
            });
        }
    }
    let all_sync = sync.len() == sizes.len();
    let large = width == OffsetWidth::Wide;
    Stbl {
        stsd: codec_stbl.stsd.clone(),
        stts: Stts { entries: stts },
        stss: (track_id == VIDEO_TRACK && !all_sync).then_some(Stss { entries: sync }),
        stsc: Stsc { entries: stsc },
        stsz: Stsz {
            samples: StszSamples::Different { sizes },
        },
        // Narrow is only chosen when every offset fits (see `OffsetWidth::needed`); while
        // measuring, placeholder offsets are truncated, which leaves the size unchanged.
        stco: (!large).then(|| Stco {
            entries: chunk_offsets.iter().map(|&o| o as u32).collect(),
        }),
        co64: large.then(|| Co64 {
            entries: chunk_offsets.to_vec(),
        }),
        ..Default::default()
    }
}

/// The tracks' durations: all the video, and the encoded audio without its priming, cut to
/// `audio_frames` (the samples really recorded) when known.
pub fn durations(scan: &Scan, audio_frames: Option<u64>) -> Durations {
    let video: u64 = scan.track(VIDEO_TRACK).map(|s| s.duration as u64).sum();
    let audio_media: u64 = scan.track(AUDIO_TRACK).map(|s| s.duration as u64).sum();
    let encoded_audio = audio_media.saturating_sub(scan.setup.audio_priming as u64);
    Durations {
        video,
        audio_media,
        audio_presented: audio_frames.map_or(encoded_audio, |f| f.min(encoded_audio)),
    }
}

/// The mdat's header for `payload` bytes: 8 bytes, or 16 (a 64-bit size) past 4 GiB.
fn mdat_header(out: &mut Vec<u8>, payload: u64, header_len: u64) {
    if header_len == 16 {
        out.extend_from_slice(&1u32.to_be_bytes());
        out.extend_from_slice(b"mdat");
        out.extend_from_slice(&(payload + 16).to_be_bytes());
    } else {
        out.extend_from_slice(&((payload + 8) as u32).to_be_bytes());
        out.extend_from_slice(b"mdat");
    }
}

/// Plans the finalized file for `scan`. `audio_frames` is the number of real audio samples
/// when known (a clean stop); otherwise the whole encoded audio is presented.
pub fn plan(scan: &Scan, audio_frames: Option<u64>) -> Result<Layout, MuxError> {
    let setup = &scan.setup;
    let init = boxes::init_moov(setup)?;
    let codec_stbl = |i: usize| init.trak[i].mdia.minf.stbl.clone();
    let durations = durations(scan, audio_frames);

    let chunk_list = chunks(scan);
    let payload: u64 = chunk_list.iter().map(|c| c.len).sum();
    let mut ftyp = Vec::new();
    boxes::ftyp(false).encode(&mut ftyp)?;
    let mdat_header_len: u64 = if payload + 8 > u64::from(u32::MAX) {
        16
    } else {
        8
    };
    // The moov holds the chunk offsets and the offsets start after the moov. Its size depends
    // only on the offset width, not on the values: measure it with 32-bit offsets, decide the
    // width from where the last chunk would then start, and build it once more for real.
    let build = |width: OffsetWidth, base: u64| -> Result<Vec<u8>, MuxError> {
        let mut offsets = (Vec::new(), Vec::new());
        let mut pos = base;
        for c in &chunk_list {
            if c.track_id == VIDEO_TRACK {
                offsets.0.push(pos);
            } else {
                offsets.1.push(pos);
            }
            pos += c.len;
        }
        let moov = boxes::final_moov(
            setup,
            sample_table(
                scan,
                VIDEO_TRACK,
                &chunk_list,
                &codec_stbl(0),
                (width, &offsets.0),
            ),
            sample_table(
                scan,
                AUDIO_TRACK,
                &chunk_list,
                &codec_stbl(1),
                (width, &offsets.1),
            ),
            durations,
        );
        let mut b = Vec::new();
        moov.encode(&mut b)?;
        Ok(b)
    };
    let media_start = |moov_len: usize| ftyp.len() as u64 + moov_len as u64 + mdat_header_len;
    let last_len = chunk_list.last().map_or(0, |c| c.len);
    let narrow_len = build(OffsetWidth::Narrow, 0)?.len();
    let width = OffsetWidth::needed(media_start(narrow_len) + payload - last_len);
    let measured = match width {
        OffsetWidth::Narrow => narrow_len,
        OffsetWidth::Wide => build(OffsetWidth::Wide, 0)?.len(),
    };
    let moov = build(width, media_start(measured))?;
    if moov.len() != measured {
        return Err(MuxError::Encode(format!(
            "moov is {} bytes, measured {measured}",
            moov.len()
        )));
    }

    let mut head = ftyp;
    head.extend_from_slice(&moov);
    mdat_header(&mut head, payload, mdat_header_len);
    Ok(Layout {
        head,
        chunks: chunk_list,
        payload,
        durations,
        offsets: width,
    })
}

#[cfg(test)]
#[path = "layout_tests.rs"]
mod tests;
