//! Reading a booth fragmented MP4 back (tolerating a torn tail) and rewriting it as a normal
//! MP4: `ftyp`, one `moov` with complete sample tables, then the media in its original
//! interleaving. The media bytes are streamed chunk by chunk, so memory stays flat however
//! long the answer.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use mp4_atom::{
    Co64, Decode, Encode, FourCC, Ftyp, Moof, Moov, Stbl, Stco, Stsc, StscEntry, Stss, Stsz,
    StszSamples, Stts, SttsEntry, TrunSamples,
};

use super::boxes::{self, Durations};
use super::{AUDIO_TIMESCALE, AUDIO_TRACK, MuxError, TrackSetup, VIDEO_TRACK};
use crate::fsutil;

/// One sample located in the source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleRef {
    pub offset: u64,
    pub size: u32,
    pub duration: u32,
    pub sync: bool,
}

/// One track's run of samples inside one fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub track_id: u32,
    pub samples: Vec<SampleRef>,
}

/// What a scan of a file found.
#[derive(Debug, Clone)]
pub struct Scan {
    pub setup: TrackSetup,
    /// Runs in file order (fragment by fragment, video before audio within one).
    pub runs: Vec<Run>,
    pub fragments: usize,
    /// Bytes at the end that did not form a complete fragment (a crash's torn tail).
    pub torn_bytes: u64,
    pub file_len: u64,
    /// True when the file is already a finished (non-fragmented) booth MP4.
    pub finished: bool,
}

impl Scan {
    fn track(&self, id: u32) -> impl Iterator<Item = &SampleRef> {
        self.runs
            .iter()
            .filter(move |r| r.track_id == id)
            .flat_map(|r| r.samples.iter())
    }

    /// Video duration in seconds.
    pub fn video_seconds(&self) -> f64 {
        self.track(VIDEO_TRACK)
            .map(|s| s.duration as f64)
            .sum::<f64>()
            / 90_000.0
    }
}

struct BoxHead {
    kind: FourCC,
    start: u64,
    header_len: u64,
    total: u64,
}

fn read_head(file: &mut File, start: u64, file_len: u64) -> std::io::Result<Option<BoxHead>> {
    if file_len - start < 8 {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(start))?;
    let mut h = [0u8; 16];
    file.read_exact(&mut h[..8])?;
    let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as u64;
    let kind = FourCC::new(&[h[4], h[5], h[6], h[7]]);
    let (header_len, total) = match size32 {
        0 => (8, file_len - start),
        1 => {
            if file_len - start < 16 {
                return Ok(None);
            }
            file.read_exact(&mut h[8..16])?;
            let mut b = [0u8; 8];
            b.copy_from_slice(&h[8..16]);
            (16, u64::from_be_bytes(b))
        }
        n => (8, n),
    };
    if total < header_len || total > file_len - start {
        return Ok(None);
    }
    Ok(Some(BoxHead {
        kind,
        start,
        header_len,
        total,
    }))
}

fn read_box(file: &mut File, head: &BoxHead) -> std::io::Result<Vec<u8>> {
    // Small boxes only (ftyp, moov, moof): never mdat.
    let mut buf = vec![0u8; head.total as usize];
    file.seek(SeekFrom::Start(head.start))?;
    file.read_exact(&mut buf)?;
    Ok(buf)
}

const MAX_HEADER_BOX: u64 = 64 << 20;

/// Scans `path`: the init segment must be intact; fragments are kept while they are complete
/// and consistent, and everything after the first broken one is counted as torn.
pub fn scan(path: &Path) -> Result<Scan, MuxError> {
    let not_ours = |detail: &str| MuxError::NotRecording {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    };
    let mut file = File::open(path).map_err(|e| MuxError::read(path, e))?;
    let file_len = file.metadata().map_err(|e| MuxError::read(path, e))?.len();
    let io = |e| MuxError::read(path, e);

    let mut pos = 0u64;
    let mut moov: Option<Moov> = None;
    let mut saw_ftyp = false;
    let mut runs = Vec::new();
    let mut fragments = 0usize;
    let mut pending_moof: Option<(u64, Moof)> = None;
    let mut good_end = 0u64;
    let mut final_mdat = false;

    while let Some(head) = read_head(&mut file, pos, file_len).map_err(io)? {
        let kind = head.kind;
        if kind == FourCC::new(b"ftyp") {
            if head.total > MAX_HEADER_BOX {
                break;
            }
            let bytes = read_box(&mut file, &head).map_err(io)?;
            Ftyp::decode(&mut bytes.as_slice()).map_err(|e| not_ours(&format!("ftyp: {e}")))?;
            saw_ftyp = true;
        } else if kind == FourCC::new(b"moov") {
            if head.total > MAX_HEADER_BOX {
                break;
            }
            let bytes = read_box(&mut file, &head).map_err(io)?;
            moov = Some(
                Moov::decode(&mut bytes.as_slice()).map_err(|e| not_ours(&format!("moov: {e}")))?,
            );
        } else if kind == FourCC::new(b"moof") {
            if head.total > MAX_HEADER_BOX {
                break;
            }
            let bytes = read_box(&mut file, &head).map_err(io)?;
            match Moof::decode(&mut bytes.as_slice()) {
                Ok(m) => pending_moof = Some((head.start, m)),
                Err(_) => break,
            }
        } else if kind == FourCC::new(b"mdat") {
            let data_start = head.start + head.header_len;
            let data_end = head.start + head.total;
            match pending_moof.take() {
                Some((moof_start, moof)) => {
                    match fragment_runs(&moof, moof_start, data_start, data_end) {
                        Some(mut r) => {
                            runs.append(&mut r);
                            fragments += 1;
                        }
                        None => break,
                    }
                }
                None => {
                    // A finished file's single mdat (its moov holds the tables).
                    final_mdat = true;
                }
            }
        }
        // Unknown boxes (free, skip, udta …) are stepped over.
        pos = head.start + head.total;
        if pending_moof.is_none() {
            good_end = pos;
        }
    }

    let moov = match (saw_ftyp, moov) {
        (true, Some(m)) => m,
        (false, _) => return Err(not_ours("no ftyp box at the start")),
        (true, None) => {
            return Err(MuxError::Unrecoverable {
                path: path.to_path_buf(),
                detail: "the file header (moov) was never completely written".into(),
            });
        }
    };
    let setup = boxes::track_setup(&moov).ok_or_else(|| not_ours("tracks are not booth's"))?;
    let finished = moov.mvex.is_none() && final_mdat;
    Ok(Scan {
        setup,
        runs,
        fragments,
        torn_bytes: file_len - good_end,
        file_len,
        finished,
    })
}

/// Locates every sample of a fragment, or `None` when it points outside its own mdat.
fn fragment_runs(moof: &Moof, moof_start: u64, data_start: u64, data_end: u64) -> Option<Vec<Run>> {
    let mut runs = Vec::new();
    for traf in &moof.traf {
        let mut offset = moof_start;
        if let Some(base) = traf.tfhd.base_data_offset {
            offset = base;
        }
        for trun in &traf.trun {
            let mut pos = offset.checked_add_signed(trun.data_offset.unwrap_or(0) as i64)?;
            let TrunSamples::Explicit(entries) = &trun.samples else {
                return None;
            };
            let mut samples = Vec::with_capacity(entries.len());
            for e in entries {
                let size = e.size?;
                let end = pos.checked_add(size as u64)?;
                if pos < data_start || end > data_end {
                    return None;
                }
                samples.push(SampleRef {
                    offset: pos,
                    size,
                    duration: e.duration?,
                    // sample_is_non_sync_sample is bit 16 of the flags.
                    sync: e.flags.is_none_or(|f| f & 0x0001_0000 == 0),
                });
                pos = end;
            }
            runs.push(Run {
                track_id: traf.tfhd.track_id,
                samples,
            });
        }
    }
    Some(runs)
}

/// A chunk of the output: one run's samples, contiguous in the source.
struct Chunk {
    track_id: u32,
    src_offset: u64,
    len: u64,
    samples: u32,
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

fn sample_table(scan: &Scan, track_id: u32, codec_stbl: &Stbl, chunk_offsets: &[u64]) -> Stbl {
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
    for (i, c) in chunks(scan)
        .iter()
        .filter(|c| c.track_id == track_id)
        .enumerate()
    {
        if stsc.last().is_none_or(|e| e.samples_per_chunk != c.samples) {
            stsc.push(StscEntry {
                first_chunk: i as u32 + 1,
                samples_per_chunk: c.samples,
                sample_description_index: 1,
            });
        }
    }
    let all_sync = sync.len() == sizes.len();
    let large = chunk_offsets.iter().any(|&o| o > u32::MAX as u64);
    Stbl {
        stsd: codec_stbl.stsd.clone(),
        stts: Stts { entries: stts },
        stss: (track_id == VIDEO_TRACK && !all_sync).then_some(Stss { entries: sync }),
        stsc: Stsc { entries: stsc },
        stsz: Stsz {
            samples: StszSamples::Different { sizes },
        },
        stco: (!large).then(|| Stco {
            entries: chunk_offsets.iter().map(|&o| o as u32).collect(),
        }),
        co64: large.then(|| Co64 {
            entries: chunk_offsets.to_vec(),
        }),
        ..Default::default()
    }
}

/// Facts about a finished file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finished {
    pub video_frames: u64,
    pub audio_units: u64,
    pub video_seconds: f64,
    pub audio_seconds: f64,
    pub bytes: u64,
}

/// Writes the scanned recording at `src` as a normal MP4 at `dst` (via a temporary file,
/// fsync and rename). `audio_frames` is the number of real audio samples when known (a clean
/// stop); after a crash the whole encoded audio is presented.
pub fn write_progressive(
    scan: &Scan,
    src: &Path,
    dst: &Path,
    audio_frames: Option<u64>,
) -> Result<Finished, MuxError> {
    if scan.track(VIDEO_TRACK).next().is_none() {
        return Err(MuxError::Unrecoverable {
            path: src.to_path_buf(),
            detail: "no complete second of video was written".into(),
        });
    }
    let setup = &scan.setup;
    let init = boxes::init_moov(setup)?;
    let codec_stbl = |i: usize| init.trak[i].mdia.minf.stbl.clone();
    let video_time: u64 = scan.track(VIDEO_TRACK).map(|s| s.duration as u64).sum();
    let audio_media: u64 = scan.track(AUDIO_TRACK).map(|s| s.duration as u64).sum();
    let encoded_audio = audio_media.saturating_sub(setup.audio_priming as u64);
    let durations = Durations {
        video: video_time,
        audio_media,
        audio_presented: audio_frames.map_or(encoded_audio, |f| f.min(encoded_audio)),
    };

    let chunk_list = chunks(scan);
    let payload: u64 = chunk_list.iter().map(|c| c.len).sum();
    let ftyp = {
        let mut b = Vec::new();
        boxes::ftyp(false).encode(&mut b)?;
        b
    };
    let mdat_header_len: u64 = if payload + 8 > u32::MAX as u64 { 16 } else { 8 };
    // Offsets depend on the moov's size and the moov holds the offsets: build it once with
    // the final offset widths, then again with the real values (same size).
    let build = |base: u64| -> Result<Vec<u8>, MuxError> {
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
            sample_table(scan, VIDEO_TRACK, &codec_stbl(0), &offsets.0),
            sample_table(scan, AUDIO_TRACK, &codec_stbl(1), &offsets.1),
            durations,
        );
        let mut b = Vec::new();
        moov.encode(&mut b)?;
        Ok(b)
    };
    let far = if ftyp.len() as u64 + payload > u32::MAX as u64 - (64 << 20) {
        u32::MAX as u64 + 1
    } else {
        0
    };
    let probe = build(far)?;
    let base = ftyp.len() as u64 + probe.len() as u64 + mdat_header_len;
    let moov = build(base)?;
    if moov.len() != probe.len() {
        return Err(MuxError::Encode("moov size changed between passes".into()));
    }

    let tmp = fsutil::temp_sibling(dst);
    let out = fsutil::create_private_file(&tmp)?;
    let mut w = BufWriter::with_capacity(1 << 20, out);
    let werr = |e| MuxError::write(&tmp, e);
    w.write_all(&ftyp).map_err(werr)?;
    w.write_all(&moov).map_err(werr)?;
    if mdat_header_len == 16 {
        w.write_all(&1u32.to_be_bytes()).map_err(werr)?;
        w.write_all(b"mdat").map_err(werr)?;
        w.write_all(&(payload + 16).to_be_bytes()).map_err(werr)?;
    } else {
        w.write_all(&((payload + 8) as u32).to_be_bytes())
            .map_err(werr)?;
        w.write_all(b"mdat").map_err(werr)?;
    }
    let mut source = File::open(src).map_err(|e| MuxError::read(src, e))?;
    let mut buf = Vec::new();
    for c in &chunk_list {
        buf.resize(c.len as usize, 0);
        source
            .seek(SeekFrom::Start(c.src_offset))
            .and_then(|_| source.read_exact(&mut buf))
            .map_err(|e| MuxError::read(src, e))?;
        w.write_all(&buf).map_err(werr)?;
    }
    let file = w.into_inner().map_err(|e| werr(e.into_error()))?;
    file.sync_all().map_err(werr)?;
    let bytes = file.metadata().map_err(werr)?.len();
    drop(file);
    fsutil::rename_durable(&tmp, dst)?;

    Ok(Finished {
        video_frames: scan.track(VIDEO_TRACK).count() as u64,
        audio_units: scan.track(AUDIO_TRACK).count() as u64,
        video_seconds: video_time as f64 / 90_000.0,
        audio_seconds: durations.audio_presented as f64 / AUDIO_TIMESCALE as f64,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::encode::{AacEncoder, H264Encoder, VideoEncoderConfig};
    use crate::media::frame::VideoFrame;
    use crate::media::mux::fmp4::FragmentWriter;
    use crate::media::mux::{Sample, VIDEO_TIMESCALE};
    use std::time::{Duration, Instant};

    /// Writes `seconds` of 160x120@30 video and 48 kHz mono audio as a fragmented file.
    fn write_fragmented(path: &Path, seconds: u32) -> crate::TestResult<(u64, u64)> {
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
        let scan = scan(&part)?;
        assert_eq!(scan.torn_bytes, 0);
        assert!(!scan.finished);
        assert!(scan.fragments >= 3, "{} fragments", scan.fragments);
        let fin = write_progressive(&scan, &part, &out, Some(3 * 48_000))?;
        assert_eq!(fin.video_frames, frames);
        assert_eq!(fin.audio_units, units);
        assert!((fin.video_seconds - 3.0).abs() < 1e-9);
        assert!((fin.audio_seconds - 3.0).abs() < 1e-9);

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
        assert!(super::scan(&out)?.finished);
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
        let fin = write_progressive(&torn, &part, &out, None)?;
        assert!(fin.video_seconds >= 2.9, "{}", fin.video_seconds);
        // Cutting inside the init segment leaves nothing to recover, said plainly.
        let f = std::fs::OpenOptions::new().write(true).open(&part)?;
        f.set_len(100)?;
        drop(f);
        let err = scan(&part).unwrap_err().to_string();
        assert!(err.contains("b.mp4.part"), "{err}");
        Ok(())
    }
}
