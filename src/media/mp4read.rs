//! Reading a finished (non-fragmented) MP4 for playback: each track's codec configuration and
//! its samples (file offset, size, time, duration, sync), expanded from the sample tables.
//! Enough for booth's own recordings and for question videos made the same way.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use mp4_atom::{Codec, Decode, FourCC, Moov, StszSamples, Trak};

use super::mux::MuxError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackKind {
    Video {
        width: u32,
        height: u32,
        sps: Vec<u8>,
        pps: Vec<u8>,
    },
    Audio {
        channels: u16,
        config: Vec<u8>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleInfo {
    pub offset: u64,
    pub size: u32,
    /// Decode time in the track's timescale.
    pub time: u64,
    pub duration: u32,
    pub sync: bool,
}

#[derive(Debug, Clone)]
pub struct Track {
    pub kind: TrackKind,
    pub timescale: u32,
    pub samples: Vec<SampleInfo>,
    /// Media time where presentation starts (the edit list; AAC priming for audio).
    pub start: u64,
}

impl Track {
    pub fn seconds(&self, t: u64) -> f64 {
        t.saturating_sub(self.start) as f64 / self.timescale.max(1) as f64
    }

    pub fn length_seconds(&self) -> f64 {
        self.samples
            .last()
            .map_or(0.0, |s| self.seconds(s.time + s.duration as u64))
    }
}

fn bad(path: &Path, detail: impl Into<String>) -> MuxError {
    MuxError::NotRecording {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
}

/// Reads the `moov` of `path` (which may sit before or after the media).
pub fn read_tracks(path: &Path) -> Result<Vec<Track>, MuxError> {
    let mut file = File::open(path).map_err(|e| MuxError::read(path, e))?;
    let len = file.metadata().map_err(|e| MuxError::read(path, e))?.len();
    let mut pos = 0u64;
    while pos + 8 <= len {
        let mut head = [0u8; 16];
        file.seek(SeekFrom::Start(pos))
            .and_then(|_| file.read_exact(&mut head[..8]))
            .map_err(|e| MuxError::read(path, e))?;
        let size32 = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as u64;
        let kind = FourCC::new(&[head[4], head[5], head[6], head[7]]);
        let size = match size32 {
            0 => len - pos,
            1 => {
                file.read_exact(&mut head[8..16])
                    .map_err(|e| MuxError::read(path, e))?;
                u64::from_be_bytes(head[8..16].try_into().unwrap_or([0; 8]))
            }
            n => n,
        };
        if size < 8 || pos + size > len {
            break;
        }
        if kind == FourCC::new(b"moov") {
            let mut buf = vec![0u8; size as usize];
            file.seek(SeekFrom::Start(pos))
                .and_then(|_| file.read_exact(&mut buf))
                .map_err(|e| MuxError::read(path, e))?;
            let moov = Moov::decode(&mut buf.as_slice()).map_err(|e| bad(path, e.to_string()))?;
            if moov.mvex.is_some() {
                return Err(bad(
                    path,
                    "still fragmented: run `booth recover` on it first",
                ));
            }
            return moov
                .trak
                .iter()
                .filter_map(|t| track(path, t).transpose())
                .collect();
        }
        pos += size;
    }
    Err(bad(path, "no moov box"))
}

fn track(path: &Path, trak: &Trak) -> Result<Option<Track>, MuxError> {
    let stbl = &trak.mdia.minf.stbl;
    let kind = match stbl.stsd.codecs.first() {
        Some(Codec::Avc1(avc1)) => TrackKind::Video {
            width: avc1.visual.width as u32,
            height: avc1.visual.height as u32,
            sps: avc1
                .avcc
                .sequence_parameter_sets
                .first()
                .cloned()
                .unwrap_or_default(),
            pps: avc1
                .avcc
                .picture_parameter_sets
                .first()
                .cloned()
                .unwrap_or_default(),
        },
        Some(Codec::Mp4a(mp4a)) => TrackKind::Audio {
            channels: mp4a.audio.channel_count,
            config: mp4a
                .esds
                .es_desc
                .dec_config
                .dec_specific
                .as_ref()
                .map(|d| d.raw.clone())
                .unwrap_or_default(),
        },
        _ => return Ok(None),
    };
    let sizes: Vec<u32> = match &stbl.stsz.samples {
        StszSamples::Identical { count, size } => vec![*size; *count as usize],
        StszSamples::Different { sizes } => sizes.clone(),
    };
    let chunk_offsets: Vec<u64> = match (&stbl.stco, &stbl.co64) {
        (Some(s), _) => s.entries.iter().map(|&o| o as u64).collect(),
        (None, Some(c)) => c.entries.clone(),
        (None, None) => return Err(bad(path, "a track has no chunk offsets")),
    };
    let mut offsets = Vec::with_capacity(sizes.len());
    let entries = &stbl.stsc.entries;
    for (ci, &chunk_start) in chunk_offsets.iter().enumerate() {
        let chunk_no = ci as u32 + 1;
        let per = entries
            .iter()
            .rev()
            .find(|e| e.first_chunk <= chunk_no)
            .map_or(0, |e| e.samples_per_chunk);
        let mut at = chunk_start;
        for _ in 0..per {
            let Some(&size) = sizes.get(offsets.len()) else {
                break;
            };
            offsets.push(at);
            at += size as u64;
        }
    }
    if offsets.len() != sizes.len() {
        return Err(bad(path, "sample tables disagree"));
    }
    let mut durations = Vec::with_capacity(sizes.len());
    for e in &stbl.stts.entries {
        durations.extend(std::iter::repeat_n(e.sample_delta, e.sample_count as usize));
    }
    durations.resize(sizes.len(), durations.last().copied().unwrap_or(0));
    let sync: Option<Vec<u32>> = stbl.stss.as_ref().map(|s| s.entries.clone());
    let mut time = 0u64;
    let samples = (0..sizes.len())
        .map(|i| {
            let s = SampleInfo {
                offset: offsets[i],
                size: sizes[i],
                time,
                duration: durations[i],
                sync: sync
                    .as_ref()
                    .is_none_or(|list| list.binary_search(&(i as u32 + 1)).is_ok()),
            };
            time += durations[i] as u64;
            s
        })
        .collect();
    let start = trak
        .edts
        .as_ref()
        .and_then(|e| e.elst.as_ref())
        .and_then(|l| l.entries.iter().find_map(|e| e.media_time))
        .unwrap_or(0);
    Ok(Some(Track {
        kind,
        timescale: trak.mdia.mdhd.timescale,
        samples,
        start,
    }))
}

/// Reads one sample's bytes.
pub fn read_sample(file: &mut File, s: &SampleInfo, buf: &mut Vec<u8>) -> std::io::Result<()> {
    buf.resize(s.size as usize, 0);
    file.seek(SeekFrom::Start(s.offset))?;
    file.read_exact(buf)
}
