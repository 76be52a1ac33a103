//! Whether an answer fits on the disk before it is recorded: what an answer of a given length
//! takes at the configured bitrates, with a stated margin, against what the filesystem holding
//! it has free.
//!
//! Only the recording itself must fit. Finalizing later needs room for a second, rewritten
//! copy for a moment; when that room is not there the fragmented file is delivered as it is
//! (see [`super::mux::finalize::deliver`]), so asking for it here would refuse answers that
//! can be kept.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::fsutil::{self, FsError};

/// Percent of the nominal bitrate an answer is assumed to take: the encoder holds its target
/// within ±20 % on noisy pictures, and the container adds under 1 %.
pub const BITRATE_MARGIN_PERCENT: u64 = 125;
/// Bytes kept free beyond the answer, for the station's logs, progress and outbox records.
pub const RESERVE_BYTES: u64 = 32 << 20;
/// The length assumed for a recording without an end (stopped by a key or a signal).
pub const OPEN_ENDED: Duration = Duration::from_secs(60);

/// Bytes an answer of `length` may take at these bitrates (b/s), margin included.
pub fn answer_bytes(length: Duration, video_bitrate: u32, audio_bitrate: u32) -> u64 {
    let bits_per_second = u128::from(video_bitrate) + u128::from(audio_bitrate);
    let bytes = bits_per_second * length.as_millis() / 8 / 1000;
    let with_margin = bytes * u128::from(BITRATE_MARGIN_PERCENT) / 100;
    u64::try_from(with_margin).unwrap_or(u64::MAX)
}

/// The disk holding a recording, measured against what the recording needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    /// Where it was measured (the recording's path).
    pub path: PathBuf,
    /// The answer with its margin, plus [`RESERVE_BYTES`].
    pub needed: u64,
    pub free: u64,
}

impl Room {
    pub fn fits(&self) -> bool {
        self.free >= self.needed
    }
}

/// Measures the filesystem that will hold `output` for an answer of `length` (or
/// [`OPEN_ENDED`]) at these bitrates.
pub fn room_for(
    output: &Path,
    length: Option<Duration>,
    video_bitrate: u32,
    audio_bitrate: u32,
) -> Result<Room, FsError> {
    let answer = answer_bytes(length.unwrap_or(OPEN_ENDED), video_bitrate, audio_bitrate);
    Ok(Room {
        path: output.to_path_buf(),
        needed: answer.saturating_add(RESERVE_BYTES),
        free: fsutil::free_bytes(output)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_takes_its_bitrate_plus_the_margin() {
        // Ten minutes at 2.5 Mb/s video and 128 kb/s audio: 197.1 MB nominal, 246.4 MB.
        let b = answer_bytes(Duration::from_secs(600), 2_500_000, 128_000);
        assert_eq!(b, 246_375_000);
        assert_eq!(answer_bytes(Duration::ZERO, 2_500_000, 128_000), 0);
        assert_eq!(answer_bytes(Duration::MAX, u32::MAX, u32::MAX), u64::MAX);
    }

    #[test]
    fn room_counts_the_reserve_and_measures_the_real_disk() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("new/answer.mp4");
        let room = room_for(&out, Some(Duration::from_secs(10)), 1_000_000, 0)?;
        assert_eq!(room.needed, 1_562_500 + RESERVE_BYTES);
        assert_eq!(room.path, out);
        assert!(room.free > 0);
        let open = room_for(&out, None, 1_000_000, 0)?;
        assert_eq!(open.needed, 9_375_000 + RESERVE_BYTES);
        let tight = Room {
            free: room.needed - 1,
            ..room.clone()
        };
        assert!(!tight.fits());
        assert!(
            Room {
                free: room.needed,
                ..room
            }
            .fits()
        );
        Ok(())
    }
}
