//! Rewriting a scanned booth recording as a normal MP4: `ftyp`, one `moov` with complete
//! sample tables, then the media in its original interleaving. The media bytes are streamed
//! through a fixed buffer, so memory stays flat however long the answer.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::layout;
use super::scan::Scan;
use super::{AUDIO_TIMESCALE, AUDIO_TRACK, MuxError, VIDEO_TIMESCALE, VIDEO_TRACK};
use crate::fsutil;

/// Media is copied through a buffer this large.
const COPY_BUFFER: usize = 1 << 20;

/// Facts about a finished file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finished {
    pub video_frames: u64,
    pub audio_units: u64,
    pub video_seconds: f64,
    pub audio_seconds: f64,
    pub bytes: u64,
}

/// What to do when the destination already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Replace it (a recording written again under the name the caller chose).
    Replace,
    /// Never touch it: placing the result fails with `AlreadyExists` instead (recovery, which
    /// must not overwrite a finished file it did not write).
    Keep,
}

/// Moves `from` to `to` durably; with [`Existing::Keep`] atomically refuses an existing `to`.
pub fn place(from: &Path, to: &Path, existing: Existing) -> Result<(), MuxError> {
    if existing == Existing::Replace {
        return Ok(fsutil::rename_durable(from, to)?);
    }
    let flags = rustix::fs::RenameFlags::NOREPLACE;
    match rustix::fs::renameat_with(rustix::fs::CWD, from, rustix::fs::CWD, to, flags) {
        Ok(()) => {}
        // Filesystems without RENAME_NOREPLACE (some network and FUSE ones): check, then
        // rename. Only another writer racing for the same new name could slip in between.
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {
            if std::fs::symlink_metadata(to).is_ok() {
                return Err(MuxError::write(
                    to,
                    std::io::ErrorKind::AlreadyExists.into(),
                ));
            }
            fsutil::rename_durable(from, to)?;
        }
        Err(e) => return Err(MuxError::write(to, e.into())),
    }
    Ok(fsutil::sync_dir(to.parent().unwrap_or(Path::new(".")))?)
}

/// Writes the scanned recording at `src` as a normal MP4 at `dst` (via a temporary file,
/// fsync and rename). `audio_frames` is the number of real audio samples when known (a clean
/// stop); after a crash the whole encoded audio is presented.
pub fn write_progressive(
    scan: &Scan,
    src: &Path,
    dst: &Path,
    audio_frames: Option<u64>,
    existing: Existing,
) -> Result<Finished, MuxError> {
    if scan.track(VIDEO_TRACK).next().is_none() {
        return Err(MuxError::Unrecoverable {
            path: src.to_path_buf(),
            detail: "no complete second of video was written".into(),
        });
    }
    let layout = layout::plan(scan, audio_frames)?;

    let tmp = fsutil::temp_sibling(dst);
    let out = fsutil::create_private_file(&tmp)?;
    let mut w = BufWriter::with_capacity(1 << 20, out);
    let werr = |e| MuxError::write(&tmp, e);
    w.write_all(&layout.head).map_err(werr)?;
    let mut source = File::open(src).map_err(|e| MuxError::read(src, e))?;
    // A fixed buffer: a chunk's length comes from the file, and a damaged one may claim GiBs.
    let mut buf = vec![0u8; COPY_BUFFER];
    for c in &layout.chunks {
        source
            .seek(SeekFrom::Start(c.src_offset))
            .map_err(|e| MuxError::read(src, e))?;
        let mut left = c.len;
        while left > 0 {
            let n = left.min(COPY_BUFFER as u64) as usize;
            source
                .read_exact(&mut buf[..n])
                .map_err(|e| MuxError::read(src, e))?;
            w.write_all(&buf[..n]).map_err(werr)?;
            left -= n as u64;
        }
    }
    let file = w.into_inner().map_err(|e| werr(e.into_error()))?;
    file.sync_all().map_err(werr)?;
    let bytes = file.metadata().map_err(werr)?.len();
    drop(file);
    if let Err(e) = place(&tmp, dst, existing) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }

    Ok(Finished {
        video_frames: scan.track(VIDEO_TRACK).count() as u64,
        audio_units: scan.track(AUDIO_TRACK).count() as u64,
        video_seconds: layout.durations.video as f64 / VIDEO_TIMESCALE as f64,
        audio_seconds: layout.durations.audio_presented as f64 / AUDIO_TIMESCALE as f64,
        bytes,
    })
}

#[cfg(test)]
#[path = "finalize_tests.rs"]
pub(crate) mod tests;
