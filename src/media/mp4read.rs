//! Reading an MP4 for playback: each track's codec configuration and its samples (file
//! offset, size, time, duration, sync), expanded from the sample tables of a finished file,
//! or from the fragments of a booth recording delivered as recorded. Enough for booth's own
//! recordings and for question videos made the same way.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use mp4_atom::{Codec, Decode, FourCC, Moov, Stbl, Stsz, StszSamples, Stts, Trak};

use super::mux::{MuxError, scan, tables};

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

fn corrupt(path: &Path, box_type: &str, detail: String) -> MuxError {
    MuxError::Corrupt {
        path: path.to_path_buf(),
        box_type: box_type.to_string(),
        detail,
    }
}

/// The largest `moov` read: a 4 GiB answer's index is a few MiB.
const MAX_MOOV: u64 = 64 << 20;
/// The most samples one track may claim (over 38 hours at 60 fps): bounds what a damaged
/// count can make the reader allocate.
const MAX_SAMPLES: u64 = 1 << 23;

/// Reads the `moov` of `path` (which may sit before or after the media). Every count in it is
/// checked against the bytes its box holds and the size of the file before anything is
/// allocated from it.
pub fn read_tracks(path: &Path) -> Result<Vec<Track>, MuxError> {
    let (moov, len) = read_moov(path)?;
    if moov.mvex.is_some() {
        return fragmented_tracks(path, &moov);
    }
    moov.trak
        .iter()
        .filter_map(|t| track(path, t, len).transpose())
        .collect()
}

/// Each track's codec as its sample entry names it (`avc1`, `hev1`, `mp4a`, …), for saying
/// what a file holds that booth cannot play.
pub fn codec_names(path: &Path) -> Result<Vec<String>, MuxError> {
    let (moov, _) = read_moov(path)?;
    Ok(moov
        .trak
        .iter()
        .map(|t| match t.mdia.minf.stbl.stsd.codecs.first() {
            Some(codec) => format!("{codec:?}")
                .split(['(', ' ', '{'])
                .next()
                .unwrap_or("unknown")
                .to_ascii_lowercase(),
            None => "none".to_string(),
        })
        .collect())
}

/// The file's `moov` box, decoded, and the file's length.
fn read_moov(path: &Path) -> Result<(Moov, u64), MuxError> {
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
        if size < 8 || size > len - pos {
            break;
        }
        if kind == FourCC::new(b"moov") {
            if size > MAX_MOOV {
                return Err(corrupt(
                    path,
                    "moov",
                    format!("claims {size} bytes; an index is never over {MAX_MOOV}"),
                ));
            }
            let mut buf = vec![0u8; size as usize];
            file.seek(SeekFrom::Start(pos))
                .and_then(|_| file.read_exact(&mut buf))
                .map_err(|e| MuxError::read(path, e))?;
            tables::check_box(path, &buf)?;
            let moov = Moov::decode(&mut buf.as_slice()).map_err(|e| bad(path, e.to_string()))?;
            return Ok((moov, len));
        }
        pos += size;
    }
    Err(bad(path, "no moov box"))
}

fn codec_kind(stbl: &Stbl) -> Option<TrackKind> {
    match stbl.stsd.codecs.first() {
        Some(Codec::Avc1(avc1)) => Some(TrackKind::Video {
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
        }),
        Some(Codec::Mp4a(mp4a)) => Some(TrackKind::Audio {
            channels: mp4a.audio.channel_count,
            config: mp4a
                .esds
                .es_desc
                .dec_config
                .dec_specific
                .as_ref()
                .map(|d| d.raw.clone())
                .unwrap_or_default(),
        }),
        _ => None,
    }
}

/// Every sample's size. Samples of one size are counted, not listed: the count must fit in
/// the file before it is expanded.
fn sample_sizes(path: &Path, stsz: &Stsz, file_len: u64) -> Result<Vec<u32>, MuxError> {
    let (count, size) = match &stsz.samples {
        StszSamples::Different { sizes } => (sizes.len() as u64, None),
        StszSamples::Identical { count, size } => (u64::from(*count), Some(*size)),
    };
    if count > MAX_SAMPLES {
        return Err(corrupt(
            path,
            "stsz",
            format!("claims {count} samples; booth reads at most {MAX_SAMPLES} a track"),
        ));
    }
    match (&stsz.samples, size) {
        (StszSamples::Different { sizes }, _) => Ok(sizes.clone()),
        (_, Some(size)) if count * u64::from(size) > file_len => Err(corrupt(
            path,
            "stsz",
            format!(
                "claims {count} samples of {size} bytes, more than the whole file ({file_len} bytes)"
            ),
        )),
        (_, size) => Ok(vec![size.unwrap_or(0); count as usize]),
    }
}

/// Each sample's file offset, from the chunk offsets and the samples-per-chunk runs (walked
/// once, in step). Every sample must lie inside the file.
fn sample_offsets(
    path: &Path,
    stbl: &Stbl,
    sizes: &[u32],
    file_len: u64,
) -> Result<Vec<u64>, MuxError> {
    let (offset_box, chunk_offsets): (&str, Vec<u64>) = match (&stbl.stco, &stbl.co64) {
        (Some(s), _) => ("stco", s.entries.iter().map(|&o| o as u64).collect()),
        (None, Some(c)) => ("co64", c.entries.clone()),
        (None, None) => return Err(bad(path, "a track has no chunk offsets")),
    };
    let runs = &stbl.stsc.entries;
    if runs
        .windows(2)
        .any(|w| w[0].first_chunk >= w[1].first_chunk)
        || runs.first().is_some_and(|e| e.first_chunk != 1)
    {
        return Err(corrupt(
            path,
            "stsc",
            "its runs do not start at chunk 1 and rise".into(),
        ));
    }
    let mut offsets = Vec::with_capacity(sizes.len());
    let mut run = 0;
    for (ci, &chunk_start) in chunk_offsets.iter().enumerate() {
        let chunk_no = ci as u64 + 1;
        while runs
            .get(run + 1)
            .is_some_and(|e| u64::from(e.first_chunk) <= chunk_no)
        {
            run += 1;
        }
        let per = runs.get(run).map_or(0, |e| e.samples_per_chunk);
        let mut at = chunk_start;
        for _ in 0..per {
            let Some(&size) = sizes.get(offsets.len()) else {
                break;
            };
            let end = at + u64::from(size);
            if end > file_len {
                return Err(corrupt(
                    path,
                    offset_box,
                    format!(
                        "sample {} lies at bytes {at}..{end}, past the end of the file ({file_len})",
                        offsets.len() + 1
                    ),
                ));
            }
            offsets.push(at);
            at = end;
        }
    }
    if offsets.len() != sizes.len() {
        return Err(corrupt(
            path,
            "stsc",
            format!(
                "places {} samples in chunks, but stsz lists {}",
                offsets.len(),
                sizes.len()
            ),
        ));
    }
    Ok(offsets)
}

/// Each sample's duration; a table that stops early repeats its last duration.
fn sample_durations(path: &Path, stts: &Stts, samples: usize) -> Result<Vec<u32>, MuxError> {
    let described: u64 = stts.entries.iter().map(|e| u64::from(e.sample_count)).sum();
    if described > samples as u64 {
        return Err(corrupt(
            path,
            "stts",
            format!("describes {described} samples, but stsz lists {samples}"),
        ));
    }
    let mut durations = Vec::with_capacity(samples);
    for e in &stts.entries {
        durations.extend(std::iter::repeat_n(e.sample_delta, e.sample_count as usize));
    }
    durations.resize(samples, durations.last().copied().unwrap_or(0));
    Ok(durations)
}

fn track(path: &Path, trak: &Trak, file_len: u64) -> Result<Option<Track>, MuxError> {
    let stbl = &trak.mdia.minf.stbl;
    let Some(kind) = codec_kind(stbl) else {
        return Ok(None);
    };
    let sizes = sample_sizes(path, &stbl.stsz, file_len)?;
    let offsets = sample_offsets(path, stbl, &sizes, file_len)?;
    let durations = sample_durations(path, &stbl.stts, sizes.len())?;
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
    Ok(Some(Track {
        kind,
        timescale: trak.mdia.mdhd.timescale,
        samples,
        start: edit_start(trak),
    }))
}

/// Media time where presentation starts, from the edit list.
fn edit_start(trak: &Trak) -> u64 {
    trak.edts
        .as_ref()
        .and_then(|e| e.elst.as_ref())
        .and_then(|l| l.entries.iter().find_map(|e| e.media_time))
        .unwrap_or(0)
}

/// A fragmented booth recording (delivered as recorded when the disk had no room to rewrite
/// it, or still being written): the sample descriptions and edit lists from its `moov`, the
/// samples from its complete fragments.
fn fragmented_tracks(path: &Path, moov: &Moov) -> Result<Vec<Track>, MuxError> {
    let scan = scan::scan(path)?;
    let tracks = moov
        .trak
        .iter()
        .filter_map(|trak| {
            let kind = codec_kind(&trak.mdia.minf.stbl)?;
            let mut time = 0u64;
            let samples = scan
                .track(trak.tkhd.track_id)
                .map(|s| {
                    let info = SampleInfo {
                        offset: s.offset,
                        size: s.size,
                        time,
                        duration: s.duration,
                        sync: s.sync,
                    };
                    time += u64::from(s.duration);
                    info
                })
                .collect();
            Some(Track {
                kind,
                timescale: trak.mdia.mdhd.timescale,
                samples,
                start: edit_start(trak),
            })
        })
        .collect();
    Ok(tracks)
}

/// Reads one sample's bytes.
pub fn read_sample(file: &mut File, s: &SampleInfo, buf: &mut Vec<u8>) -> std::io::Result<()> {
    buf.resize(s.size as usize, 0);
    file.seek(SeekFrom::Start(s.offset))?;
    file.read_exact(buf)
}

#[cfg(test)]
#[path = "mp4read_tests.rs"]
mod tests;
