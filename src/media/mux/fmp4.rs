//! The crash-safe writer used while recording: `ftyp` + init `moov` written and fsynced before
//! the first fragment, then one `moof`+`mdat` per second or so holding both tracks, each
//! written in one call and fsynced. A crash loses at most the fragment being gathered.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use mp4_atom::{Encode, Mfhd, Moof, Tfdt, Tfhd, Traf, Trun, TrunEntry, TrunSamples};

use super::boxes::{self, NON_SYNC_SAMPLE_FLAGS, SYNC_SAMPLE_FLAGS};
use super::{
    AUDIO_TIMESCALE, AUDIO_TRACK, MuxError, Sample, TrackSetup, VIDEO_TIMESCALE, VIDEO_TRACK,
};
use crate::fsutil;

/// Counters for the summary and the logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    pub fragments: u32,
    pub video_samples: u64,
    pub audio_samples: u64,
    /// Sum of video sample durations (90 kHz).
    pub video_time: u64,
    /// Sum of audio sample durations (48 kHz), priming included.
    pub audio_time: u64,
    pub bytes: u64,
}

struct Pending {
    samples: Vec<Sample>,
    duration: u64,
}

impl Pending {
    fn new() -> Self {
        Pending {
            samples: Vec::new(),
            duration: 0,
        }
    }
}

pub struct FragmentWriter {
    path: PathBuf,
    file: File,
    video: Pending,
    audio: Pending,
    stats: WriterStats,
    /// Fragment length in each track's own timescale.
    cut_video: u64,
    cut_audio: u64,
}

impl FragmentWriter {
    /// Creates `path` (0600) and makes the init segment durable before any media arrives.
    pub fn create(path: &Path, setup: &TrackSetup) -> Result<Self, MuxError> {
        let mut file = fsutil::create_private_file(path)?;
        let mut head = Vec::new();
        boxes::ftyp(true).encode(&mut head)?;
        boxes::init_moov(setup)?.encode(&mut head)?;
        file.write_all(&head)
            .and_then(|_| file.sync_all())
            .map_err(|e| MuxError::write(path, e))?;
        fsutil::sync_dir(path.parent().unwrap_or(Path::new(".")))?;
        Ok(FragmentWriter {
            path: path.to_path_buf(),
            file,
            video: Pending::new(),
            audio: Pending::new(),
            stats: WriterStats {
                bytes: head.len() as u64,
                ..Default::default()
            },
            cut_video: VIDEO_TIMESCALE as u64,
            cut_audio: AUDIO_TIMESCALE as u64,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn stats(&self) -> WriterStats {
        self.stats
    }

    /// Queues a video sample (90 kHz durations); writes a fragment once a second has gathered.
    pub fn push_video(&mut self, sample: Sample) -> Result<(), MuxError> {
        self.video.duration += sample.duration as u64;
        self.video.samples.push(sample);
        self.maybe_cut()
    }

    /// Queues an audio access unit (48 kHz durations).
    pub fn push_audio(&mut self, sample: Sample) -> Result<(), MuxError> {
        self.audio.duration += sample.duration as u64;
        self.audio.samples.push(sample);
        self.maybe_cut()
    }

    fn maybe_cut(&mut self) -> Result<(), MuxError> {
        // Either track alone may trigger the cut, so a camera that stops delivering
        // does not hold the sound back from the disk.
        if self.video.duration >= self.cut_video || self.audio.duration >= self.cut_audio {
            self.write_fragment()?;
        }
        Ok(())
    }

    /// The fragment's header for what is queued, its data offsets still zero.
    fn moof(&self) -> Moof {
        let tracks = [
            (VIDEO_TRACK, &self.video, self.stats.video_time),
            (AUDIO_TRACK, &self.audio, self.stats.audio_time),
        ];
        Moof {
            mfhd: Mfhd {
                sequence_number: self.stats.fragments + 1,
            },
            traf: tracks
                .into_iter()
                .filter(|(_, pending, _)| !pending.samples.is_empty())
                .map(|(track_id, pending, base)| traf(track_id, pending, base))
                .collect(),
        }
    }

    /// Writes whatever is queued as one fragment and fsyncs it.
    pub fn write_fragment(&mut self) -> Result<(), MuxError> {
        if self.video.samples.is_empty() && self.audio.samples.is_empty() {
            return Ok(());
        }
        let mut moof = self.moof();
        // Data offsets count from the start of the moof, so its size must be known first;
        // the offsets are fixed-width, so re-encoding with real values keeps that size.
        let mut probe = Vec::new();
        moof.encode(&mut probe)?;
        let mut offset = probe.len() as u64 + 8;
        for traf in &mut moof.traf {
            let pending = if traf.tfhd.track_id == VIDEO_TRACK {
                &self.video
            } else {
                &self.audio
            };
            traf.trun[0].data_offset =
                Some(i32::try_from(offset).map_err(|_| {
                    MuxError::Encode(format!("fragment too large ({offset} bytes)"))
                })?);
            offset += pending
                .samples
                .iter()
                .map(|s| s.data.len() as u64)
                .sum::<u64>();
        }
        let payload: usize = self
            .video
            .samples
            .iter()
            .chain(&self.audio.samples)
            .map(|s| s.data.len())
            .sum();
        let mut buf = Vec::with_capacity(probe.len() + 8 + payload);
        moof.encode(&mut buf)?;
        debug_assert_eq!(buf.len(), probe.len());
        let mdat_size = u32::try_from(payload + 8)
            .map_err(|_| MuxError::Encode(format!("fragment too large ({payload} bytes)")))?;
        buf.extend_from_slice(&mdat_size.to_be_bytes());
        buf.extend_from_slice(b"mdat");
        for s in self.video.samples.iter().chain(&self.audio.samples) {
            buf.extend_from_slice(&s.data);
        }
        self.file
            .write_all(&buf)
            .and_then(|_| self.file.sync_data())
            .map_err(|e| MuxError::write(&self.path, e))?;

        self.stats.fragments += 1;
        self.stats.bytes += buf.len() as u64;
        self.stats.video_samples += self.video.samples.len() as u64;
        self.stats.audio_samples += self.audio.samples.len() as u64;
        self.stats.video_time += self.video.duration;
        self.stats.audio_time += self.audio.duration;
        self.video = Pending::new();
        self.audio = Pending::new();
        Ok(())
    }

    /// Writes the last fragment and closes the file.
    pub fn finish(mut self) -> Result<WriterStats, MuxError> {
        self.write_fragment()?;
        self.file
            .sync_all()
            .map_err(|e| MuxError::write(&self.path, e))?;
        Ok(self.stats)
    }
}

/// One track's run of queued samples, decoded from `base` on.
fn traf(track_id: u32, pending: &Pending, base: u64) -> Traf {
    let entries = pending
        .samples
        .iter()
        .map(|s| TrunEntry {
            duration: Some(s.duration),
            size: Some(s.data.len() as u32),
            flags: Some(if s.sync {
                SYNC_SAMPLE_FLAGS
            } else {
                NON_SYNC_SAMPLE_FLAGS
            }),
            cts: None,
        })
        .collect();
    Traf {
        tfhd: Tfhd {
            track_id,
            default_base_is_moof: true,
            ..Default::default()
        },
        tfdt: Some(Tfdt {
            base_media_decode_time: base,
        }),
        trun: vec![Trun {
            data_offset: Some(0),
            samples: TrunSamples::Explicit(entries),
        }],
        ..Default::default()
    }
}
