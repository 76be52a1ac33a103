//! Reading a booth MP4 back from disk: the init segment, then fragment after fragment while
//! each is complete and consistent (a crash's torn tail is counted, not trusted), or a
//! finished file's single `moov`. Every sample is located by file offset, size, duration and
//! sync flag; nothing of the media itself is read.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use mp4_atom::{Decode, FourCC, Ftyp, Moof, Moov, TrunSamples};

use super::{MuxError, TrackSetup, VIDEO_TRACK, boxes, tables};

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
    /// One track's samples in file order.
    pub fn track(&self, id: u32) -> impl Iterator<Item = &SampleRef> {
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

    let mut walk = Walk::default();
    let mut pos = 0u64;
    while let Some(head) = read_head(&mut file, pos, file_len).map_err(io)? {
        if walk.step(path, &mut file, &head)? == Step::Torn {
            break;
        }
        // Unknown boxes (free, skip, udta …) are stepped over.
        pos = head.start + head.total;
        if walk.pending_moof.is_none() {
            walk.good_end = pos;
        }
    }

    let moov = match (walk.saw_ftyp, walk.moov) {
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
    let finished = moov.mvex.is_none() && walk.final_mdat;
    Ok(Scan {
        setup,
        runs: walk.runs,
        fragments: walk.fragments,
        torn_bytes: file_len - walk.good_end,
        file_len,
        finished,
    })
}

#[derive(Debug, PartialEq, Eq)]
enum Step {
    Next,
    /// The good part of the file ends before this box.
    Torn,
}

/// What the scan has found so far, box by box.
#[derive(Default)]
struct Walk {
    moov: Option<Moov>,
    saw_ftyp: bool,
    runs: Vec<Run>,
    fragments: usize,
    /// A fragment's header waiting for its mdat.
    pending_moof: Option<(u64, Moof)>,
    good_end: u64,
    final_mdat: bool,
}

impl Walk {
    fn step(&mut self, path: &Path, file: &mut File, head: &BoxHead) -> Result<Step, MuxError> {
        let not_ours = |detail: String| MuxError::NotRecording {
            path: path.to_path_buf(),
            detail,
        };
        let kind = head.kind;
        let header_box = [b"ftyp", b"moov", b"moof"]
            .iter()
            .any(|k| kind == FourCC::new(k));
        if header_box && head.total > MAX_HEADER_BOX {
            return Ok(Step::Torn);
        }
        if kind == FourCC::new(b"ftyp") {
            let bytes = read_box(file, head).map_err(|e| MuxError::read(path, e))?;
            Ftyp::decode(&mut bytes.as_slice()).map_err(|e| not_ours(format!("ftyp: {e}")))?;
            self.saw_ftyp = true;
        } else if kind == FourCC::new(b"moov") {
            let bytes = read_box(file, head).map_err(|e| MuxError::read(path, e))?;
            tables::check_box(path, &bytes)?;
            self.moov = Some(
                Moov::decode(&mut bytes.as_slice()).map_err(|e| not_ours(format!("moov: {e}")))?,
            );
        } else if kind == FourCC::new(b"moof") {
            let bytes = read_box(file, head).map_err(|e| MuxError::read(path, e))?;
            // A fragment whose tables contradict themselves is where the good part ends.
            if tables::check_box(path, &bytes).is_err() {
                return Ok(Step::Torn);
            }
            match Moof::decode(&mut bytes.as_slice()) {
                Ok(m) => self.pending_moof = Some((head.start, m)),
                Err(_) => return Ok(Step::Torn),
            }
        } else if kind == FourCC::new(b"mdat") {
            let data_start = head.start + head.header_len;
            let data_end = head.start + head.total;
            match self.pending_moof.take() {
                Some((moof_start, moof)) => {
                    match fragment_runs(&moof, moof_start, data_start, data_end) {
                        Some(mut r) => {
                            self.runs.append(&mut r);
                            self.fragments += 1;
                        }
                        None => return Ok(Step::Torn),
                    }
                }
                // A finished file's single mdat (its moov holds the tables).
                None => self.final_mdat = true,
            }
        }
        Ok(Step::Next)
    }
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
