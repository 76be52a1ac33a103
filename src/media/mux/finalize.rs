//! Finishing a recording: rewriting its fragmented file as a normal MP4 (`ftyp`, one `moov`
//! with complete sample tables, then the media in its original interleaving), streamed
//! through a fixed buffer so memory stays flat however long the answer.
//!
//! The rewrite needs room for a second copy for a moment. It never costs the recording: when
//! the disk does not have that room, or writing the copy fails (ENOSPC, EIO), the copy is
//! removed and the fragmented file — which plays as it is — is delivered under the final
//! name instead, and [`Finished::finalized`] says so.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::layout::{self, Layout};
use super::scan::Scan;
use super::{AUDIO_TIMESCALE, AUDIO_TRACK, MuxError, VIDEO_TIMESCALE, VIDEO_TRACK};
use crate::fsutil::{self, FsError};

/// Media is copied through a buffer this large.
const COPY_BUFFER: usize = 1 << 20;
/// Bytes the rewrite leaves free beyond its copy: while the partial file and the copy both
/// exist, the station's logs and progress files must still be writable.
pub const FINALIZE_RESERVE: u64 = 8 << 20;

/// Facts about a delivered recording.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finished {
    pub video_frames: u64,
    pub audio_units: u64,
    pub video_seconds: f64,
    pub audio_seconds: f64,
    pub bytes: u64,
    /// True for a rewritten normal MP4; false when the fragmented file was delivered as it
    /// is (it plays, but has no index up front; `booth recover FILE` rewrites it later).
    pub finalized: bool,
}

impl Finished {
    fn of(scan: &Scan, audio_frames: Option<u64>, bytes: u64, finalized: bool) -> Self {
        let durations = layout::durations(scan, audio_frames);
        Finished {
            video_frames: scan.track(VIDEO_TRACK).count() as u64,
            audio_units: scan.track(AUDIO_TRACK).count() as u64,
            video_seconds: durations.video as f64 / VIDEO_TIMESCALE as f64,
            audio_seconds: durations.audio_presented as f64 / AUDIO_TIMESCALE as f64,
            bytes,
            finalized,
        }
    }
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
        Ok(()) => Ok(fsutil::sync_dir(to.parent().unwrap_or(Path::new(".")))?),
        // Filesystems without RENAME_NOREPLACE (some network and FUSE ones): check, then
        // rename. Only another writer racing for the same new name could slip in between.
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {
            if std::fs::symlink_metadata(to).is_ok() {
                let exists = std::io::ErrorKind::AlreadyExists.into();
                return Err(MuxError::write(to, exists));
            }
            Ok(fsutil::rename_durable(from, to)?)
        }
        Err(e) => Err(MuxError::write(to, e.into())),
    }
}

/// The disk as finalizing sees it: the real one, or in tests a fuller one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Disk {
    /// Free bytes on the filesystem holding a path.
    pub free_bytes: fn(&Path) -> Result<u64, FsError>,
    /// Bytes the copy may take before its writes fail as on a full disk (ENOSPC).
    pub writable: Option<u64>,
}

impl Disk {
    pub const REAL: Disk = Disk {
        free_bytes: fsutil::free_bytes,
        writable: None,
    };
}

/// A writer that fails with ENOSPC once `left` bytes are written, as a full disk does.
struct Limited<W> {
    inner: W,
    left: u64,
}

impl<W: Write> Write for Limited<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 && !buf.is_empty() {
            return Err(rustix::io::Errno::NOSPC.into());
        }
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let written = self.inner.write(&buf[..n])?;
        self.left -= written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Why the fragmented file was delivered instead of a rewritten one.
#[derive(Debug)]
enum Fallback {
    NoRoom { needed: u64, free: u64 },
    Failed(MuxError),
}

/// Delivers the scanned recording at `src` as `dst`: rewritten as a normal MP4 when the disk
/// has room, else the fragmented file itself (see the module doc). `audio_frames` is the
/// number of real audio samples when known (a clean stop); after a crash the whole encoded
/// audio is presented. Fails only when there is no video at all or `src` cannot be moved
/// to `dst`; `src` is then left where it was.
pub fn deliver(
    scan: &Scan,
    src: &Path,
    dst: &Path,
    audio_frames: Option<u64>,
    existing: Existing,
) -> Result<Finished, MuxError> {
    deliver_on(Disk::REAL, scan, src, dst, audio_frames, existing)
}

pub(crate) fn deliver_on(
    disk: Disk,
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
    let attempt = layout::plan(scan, audio_frames)
        .map_err(Fallback::Failed)
        .and_then(|layout| rewrite(disk, &layout, src, dst, existing));
    let why = match attempt {
        Ok(bytes) => return Ok(Finished::of(scan, audio_frames, bytes, true)),
        Err(why) => why,
    };
    match &why {
        Fallback::NoRoom { needed, free } => tracing::warn!(
            path = %dst.display(), needed, free,
            "not enough free space to rewrite the recording; delivering it as recorded (fragmented MP4)"
        ),
        Fallback::Failed(e) => tracing::warn!(
            path = %dst.display(), error = %e,
            "rewriting the recording failed; delivering it as recorded (fragmented MP4)"
        ),
    }
    if src != dst {
        place(src, dst, existing)?;
    }
    let bytes = std::fs::metadata(dst).map_or(scan.file_len, |m| m.len());
    Ok(Finished::of(scan, audio_frames, bytes, false))
}

/// Writes `layout` with `src`'s media to a temporary sibling of `dst` and puts it in place;
/// on any failure the temporary file is removed. Returns the file's size.
fn rewrite(
    disk: Disk,
    layout: &Layout,
    src: &Path,
    dst: &Path,
    existing: Existing,
) -> Result<u64, Fallback> {
    let dir = dst.parent().unwrap_or(Path::new("."));
    let needed = layout.len().saturating_add(FINALIZE_RESERVE);
    match (disk.free_bytes)(dir) {
        Ok(free) if free < needed => return Err(Fallback::NoRoom { needed, free }),
        Ok(_) => {}
        // The write itself will say if there is no room.
        Err(e) => tracing::warn!(error = %e, "cannot measure free space before finalizing"),
    }
    let tmp = fsutil::temp_sibling(dst);
    let written = write_copy(disk, layout, src, &tmp).and_then(|bytes| {
        place(&tmp, dst, existing)?;
        Ok(bytes)
    });
    written.map_err(|e| {
        if let Err(rm) = std::fs::remove_file(&tmp)
            && rm.kind() != std::io::ErrorKind::NotFound
        {
            tracing::error!(path = %tmp.display(), error = %rm, "cannot remove the unfinished copy");
        }
        Fallback::Failed(e)
    })
}

fn write_copy(disk: Disk, layout: &Layout, src: &Path, tmp: &Path) -> Result<u64, MuxError> {
    let out = fsutil::create_private_file(tmp)?;
    let limited = Limited {
        inner: out,
        left: disk.writable.unwrap_or(u64::MAX),
    };
    let mut w = BufWriter::with_capacity(1 << 20, limited);
    let werr = |e| MuxError::write(tmp, e);
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
    let file = w.into_inner().map_err(|e| werr(e.into_error()))?.inner;
    file.sync_all().map_err(werr)?;
    Ok(file.metadata().map_err(werr)?.len())
}

#[cfg(test)]
#[path = "finalize_tests.rs"]
pub(crate) mod tests;
