//! `booth recover`: turns recordings interrupted by a crash, a kill or a power cut (their
//! `.part` fragmented files) into normal MP4s holding every complete fragment. Never deletes a
//! partial file unless a complete MP4 of it is safely on disk.

use std::fs;
use std::path::{Path, PathBuf};

use super::finalize::{self, Finished};
use super::scan;
use super::{MuxError, PARTIAL_SUFFIX, final_path, partial_path};

/// What happened to one file.
#[derive(Debug)]
pub enum Outcome {
    /// A playable MP4 was written from the partial file, which was then removed.
    Recovered {
        finished: Finished,
        fragments: usize,
        torn_bytes: u64,
    },
    /// The finished MP4 already existed (the crash came after finalizing); the leftover
    /// partial file was removed.
    AlreadyFinished,
    /// The file given is already a finished recording; nothing to do.
    NothingToDo,
    Failed(MuxError),
}

#[derive(Debug)]
pub struct Report {
    pub source: PathBuf,
    pub output: PathBuf,
    pub outcome: Outcome,
}

/// Recovers one file (a `.part`, or a final name whose `.part` exists) or every `.part` file
/// under a directory.
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
    let report = |outcome| Report {
        source: source.to_path_buf(),
        output: output.to_path_buf(),
        outcome,
    };
    let in_place = source == output;
    if !in_place
        && output.exists()
        && let Ok(scan) = scan::scan(output)
        && scan.finished
        && scan.torn_bytes == 0
    {
        return match fs::remove_file(source) {
            Ok(()) => report(Outcome::AlreadyFinished),
            Err(e) => report(Outcome::Failed(MuxError::write(source, e))),
        };
    }
    let scan = match scan::scan(source) {
        Ok(s) => s,
        Err(e) => return report(Outcome::Failed(e)),
    };
    if scan.finished {
        return report(Outcome::NothingToDo);
    }
    match finalize::write_progressive(&scan, source, output, None) {
        Ok(finished) => {
            if !in_place && let Err(e) = fs::remove_file(source) {
                return report(Outcome::Failed(MuxError::write(source, e)));
            }
            report(Outcome::Recovered {
                finished,
                fragments: scan.fragments,
                torn_bytes: scan.torn_bytes,
            })
        }
        Err(e) => report(Outcome::Failed(e)),
    }
}
