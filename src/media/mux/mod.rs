//! MP4 on disk, crash-safe. While recording, [`fmp4::FragmentWriter`] writes a fragmented MP4
//! (`ftyp`, an init `moov`, then a `moof`+`mdat` pair at least every second, each fsynced), so a
//! crash leaves a file whose complete fragments play. At a clean stop — or later, by
//! `booth recover` — [`finalize`] rebuilds it into a normal MP4 with one `moov` ahead of the
//! media, reading the fragments back from disk so both paths share one code path.
//!
//! Track 1 is H.264 video (timescale 90 kHz), track 2 AAC-LC audio (48 kHz) whose encoder
//! priming is hidden by an edit list.

pub mod boxes;
pub mod finalize;
pub mod fmp4;
pub mod layout;
pub mod recover;
pub mod scan;
pub mod tables;

use std::path::{Path, PathBuf};

pub const VIDEO_TRACK: u32 = 1;
pub const AUDIO_TRACK: u32 = 2;
pub const VIDEO_TIMESCALE: u32 = 90_000;
pub const AUDIO_TIMESCALE: u32 = super::frame::AUDIO_RATE;
/// Movie timescale for `mvhd` and edit lists; 90 kHz keeps both tracks' durations exact.
pub const MOVIE_TIMESCALE: u32 = 90_000;

/// What the init segment needs to describe the two tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackSetup {
    pub width: u32,
    pub height: u32,
    pub sps: Vec<u8>,
    pub pps: Vec<u8>,
    pub audio_channels: u16,
    pub audio_config: Vec<u8>,
    /// AAC encoder delay in samples; the edit list skips it.
    pub audio_priming: u32,
    pub audio_bitrate: u32,
}

/// One sample ready for the file, in its track's timescale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub data: Vec<u8>,
    pub duration: u32,
    pub sync: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum MuxError {
    #[error(transparent)]
    Fs(#[from] crate::fsutil::FsError),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a booth recording: {detail}", path.display())]
    NotRecording { path: PathBuf, detail: String },
    #[error("{}: nothing recoverable: {detail}", path.display())]
    Unrecoverable { path: PathBuf, detail: String },
    /// A box whose contents contradict themselves (a count larger than the box can hold).
    #[error("{}: damaged {box_type} box: {detail}", path.display())]
    Corrupt {
        path: PathBuf,
        box_type: String,
        detail: String,
    },
    #[error("MP4 box encoding failed: {0}")]
    Encode(String),
}

impl MuxError {
    pub(crate) fn write(path: &Path, source: std::io::Error) -> Self {
        MuxError::Write {
            path: path.to_path_buf(),
            source,
        }
    }
    pub(crate) fn read(path: &Path, source: std::io::Error) -> Self {
        MuxError::Read {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl From<mp4_atom::Error> for MuxError {
    fn from(e: mp4_atom::Error) -> Self {
        MuxError::Encode(e.to_string())
    }
}

/// Suffix of a recording still being written (fragmented, crash-safe).
pub const PARTIAL_SUFFIX: &str = ".part";

/// `answer.mp4` → `answer.mp4.part`.
pub fn partial_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(PARTIAL_SUFFIX);
    output.with_file_name(name)
}

/// `answer.mp4.part` → `answer.mp4`; `None` for a path without the suffix.
pub fn final_path(partial: &Path) -> Option<PathBuf> {
    let name = partial.file_name()?.to_str()?;
    let stem = name.strip_suffix(PARTIAL_SUFFIX)?;
    if stem.is_empty() {
        return None;
    }
    Some(partial.with_file_name(stem))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_and_final_paths_pair_up() -> crate::TestResult {
        let p = partial_path(Path::new("/d/answer.mp4"));
        assert_eq!(p, Path::new("/d/answer.mp4.part"));
        assert_eq!(
            final_path(&p).ok_or("no final path")?,
            Path::new("/d/answer.mp4")
        );
        assert_eq!(final_path(Path::new("/d/answer.mp4")), None);
        assert_eq!(final_path(Path::new("/d/.part")), None);
        Ok(())
    }
}
