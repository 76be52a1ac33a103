//! `booth recover`: turns recordings interrupted by a crash, a kill or a power cut (their
//! `.part` fragmented files) into normal MP4s holding every complete fragment.
//!
//! The contract, which the kiosk's start-up relies on as much as the command does:
//! - a partial file is deleted only once its media is safely on disk in a complete MP4 —
//!   one this call just wrote, or a finished file already there that holds exactly the
//!   same samples, byte for byte (a crash between finalizing and removing the partial);
//! - a file already at the recording's name is never deleted or overwritten unless it is the
//!   partial file itself (a fragmented file given under its final name): when it is
//!   anything else, the partial is recovered beside it under a new name
//!   (`answer.recovered.mp4`, then `answer.recovered-2.mp4` …), and the report says so.
//!   [`Report::output`] is always where the recovered recording now is.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::finalize::{self, Existing, Finished};
use super::scan::{self, Scan};
use super::{AUDIO_TRACK, MuxError, PARTIAL_SUFFIX, VIDEO_TRACK, final_path, partial_path};
use crate::media::mp4read::{self, TrackKind};

/// What happened to one file.
#[derive(Debug)]
pub enum Outcome {
    /// A playable MP4 was written from the partial file, which was then removed. It is at
    /// [`Report::output`].
    Recovered {
        finished: Finished,
        fragments: usize,
        torn_bytes: u64,
        /// A different file already had the recording's own name; it was left as it was,
        /// and the recording went to [`Report::output`] instead.
        kept_existing: Option<PathBuf>,
    },
    /// The finished MP4 already existed with exactly the partial file's media (the crash
    /// came after finalizing); the leftover partial file was removed.
    AlreadyFinished,
    /// The file given is already a finished recording; nothing to do.
    NothingToDo,
    Failed(MuxError),
}

#[derive(Debug)]
pub struct Report {
    pub source: PathBuf,
    /// Where the recording is now: its own final name, or a new one beside a file that had it.
    pub output: PathBuf,
    pub outcome: Outcome,
}

/// Recovers one file (a `.part`, or a final name whose `.part` exists) or every `.part` file
/// under a directory. See the module's contract.
pub fn recover(path: &Path) -> Result<Vec<Report>, MuxError> {
    let meta = fs::metadata(path).map_err(|e| MuxError::read(path, e))?;
    if meta.is_dir() {
        let mut partials = Vec::new();
        collect_partials(path, &mut partials)?;
        partials.sort();
        return Ok(partials.iter().map(|p| recover_partial(p)).collect());
    }
    if let Some(output) = final_path(path) {
        return Ok(vec![recover_into(path, &output)]);
    }
    let partial = partial_path(path);
    if partial.exists() {
        return Ok(vec![recover_partial(&partial)]);
    }
    // A fragmented file under a final name (copied off a station, say): finalize in place.
    Ok(vec![recover_into(path, path)])
}

fn collect_partials(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), MuxError> {
    let entries = fs::read_dir(dir).map_err(|e| MuxError::read(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| MuxError::read(dir, e))?;
        let kind = entry.file_type().map_err(|e| MuxError::read(dir, e))?;
        let path = entry.path();
        if kind.is_dir() {
            collect_partials(&path, out)?;
        } else if kind.is_file()
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(PARTIAL_SUFFIX) && n.len() > PARTIAL_SUFFIX.len())
        {
            out.push(path);
        }
    }
    Ok(())
}

fn recover_partial(partial: &Path) -> Report {
    match final_path(partial) {
        Some(output) => recover_into(partial, &output),
        None => Report {
            source: partial.to_path_buf(),
            output: partial.to_path_buf(),
            outcome: Outcome::NothingToDo,
        },
    }
}

fn recover_into(source: &Path, output: &Path) -> Report {
    let report = |output: &Path, outcome| Report {
        source: source.to_path_buf(),
        output: output.to_path_buf(),
        outcome,
    };
    let scan = match scan::scan(source) {
        Ok(s) => s,
        Err(e) => return report(output, Outcome::Failed(e)),
    };
    let in_place = source == output;
    if in_place && scan.finished {
        return report(output, Outcome::NothingToDo);
    }
    let taken = !in_place && fs::symlink_metadata(output).is_ok();
    if taken && same_media(&scan, source, output).unwrap_or(false) {
        return match fs::remove_file(source) {
            Ok(()) => report(output, Outcome::AlreadyFinished),
            Err(e) => report(output, Outcome::Failed(MuxError::write(source, e))),
        };
    }
    if scan.finished {
        // A finished file under a partial name: nothing to rebuild, and nothing deleted.
        return report(output, Outcome::NothingToDo);
    }
    let target = if taken {
        match free_name(output) {
            Some(p) => p,
            None => {
                let e = MuxError::write(output, std::io::ErrorKind::AlreadyExists.into());
                return report(output, Outcome::Failed(e));
            }
        }
    } else {
        output.to_path_buf()
    };
    let existing = if in_place {
        Existing::Replace
    } else {
        Existing::Keep
    };
    match finalize::deliver(&scan, source, &target, None, existing) {
        Ok(finished) => {
            // Delivered as recorded, the partial file itself was moved into place.
            if !in_place
                && finished.finalized
                && let Err(e) = fs::remove_file(source)
            {
                return report(&target, Outcome::Failed(MuxError::write(source, e)));
            }
            let kept_existing = taken.then(|| output.to_path_buf());
            if let Some(kept) = &kept_existing {
                tracing::warn!(
                    kept = %kept.display(),
                    recovered = %target.display(),
                    "a different recording already had this name; kept it and recovered beside it"
                );
            }
            report(
                &target,
                Outcome::Recovered {
                    finished,
                    fragments: scan.fragments,
                    torn_bytes: scan.torn_bytes,
                    kept_existing,
                },
            )
        }
        Err(e) => report(&target, Outcome::Failed(e)),
    }
}

/// `answer.mp4` → `answer.recovered.mp4`, `answer.recovered-2.mp4` …: the first name with no
/// file, partial file or temporary file of its own.
fn free_name(output: &Path) -> Option<PathBuf> {
    let stem = output.file_stem()?.to_string_lossy().into_owned();
    let ext = output
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (1..1000).find_map(|n| {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let candidate = output.with_file_name(format!("{stem}.recovered{suffix}{ext}"));
        let used = [
            candidate.clone(),
            partial_path(&candidate),
            crate::fsutil::temp_sibling(&candidate),
        ]
        .iter()
        .any(|p| fs::symlink_metadata(p).is_ok());
        (!used).then_some(candidate)
    })
}

/// Whether the finished file at `finished` holds exactly the samples `scan` found in
/// `partial`: the same tables first (cheap, and enough to tell two recordings apart), then
/// the same bytes, sample by sample.
fn same_media(scan: &Scan, partial: &Path, finished: &Path) -> Result<bool, MuxError> {
    let tracks = mp4read::read_tracks(finished)?;
    let mut pairs = Vec::new();
    for (id, video) in [(VIDEO_TRACK, true), (AUDIO_TRACK, false)] {
        let Some(track) = tracks
            .iter()
            .find(|t| matches!(t.kind, TrackKind::Video { .. }) == video)
        else {
            return Ok(false);
        };
        let ours: Vec<_> = scan.track(id).collect();
        if ours.len() != track.samples.len() {
            return Ok(false);
        }
        for (a, b) in ours.iter().zip(&track.samples) {
            if (a.size, a.duration, a.sync) != (b.size, b.duration, b.sync) {
                return Ok(false);
            }
            pairs.push((a.offset, b.offset, u64::from(a.size)));
        }
    }
    let mut a = File::open(partial).map_err(|e| MuxError::read(partial, e))?;
    let mut b = File::open(finished).map_err(|e| MuxError::read(finished, e))?;
    let (mut buf_a, mut buf_b) = (vec![0u8; 64 << 10], vec![0u8; 64 << 10]);
    for (at_a, at_b, len) in pairs {
        a.seek(SeekFrom::Start(at_a))
            .map_err(|e| MuxError::read(partial, e))?;
        b.seek(SeekFrom::Start(at_b))
            .map_err(|e| MuxError::read(finished, e))?;
        let mut left = len;
        while left > 0 {
            let n = left.min(buf_a.len() as u64) as usize;
            a.read_exact(&mut buf_a[..n])
                .map_err(|e| MuxError::read(partial, e))?;
            b.read_exact(&mut buf_b[..n])
                .map_err(|e| MuxError::read(finished, e))?;
            if buf_a[..n] != buf_b[..n] {
                return Ok(false);
            }
            left -= n as u64;
        }
    }
    Ok(true)
}

#[cfg(test)]
#[path = "recover_tests.rs"]
mod tests;
