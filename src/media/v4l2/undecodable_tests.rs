//! A camera's MJPEG stream with corrupt pictures in it, through the conversion the camera
//! thread uses (`convert_frame`) and the capture loop a recording reads from: one corrupt
//! picture is skipped and counted and the recording goes on; two seconds of nothing else end
//! the capture as a lost camera.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use super::frames::convert_frame;
use super::*;
use crate::media::capture::{CaptureEvent, CaptureSession};
use crate::media::convert::tests::ffmpeg;
use crate::media::frame::{AudioChunk, VideoFormat};
use crate::media::recorder::RecordSettings;
use crate::media::recording::{self, RecordingSpec};
use crate::media::source::{AudioSource, Pace};
use crate::media::synthetic::TestTone;

const DEVICE: &str = "/dev/video-test";
const FRAME: Duration = Duration::from_nanos(33_333_333);

/// MJPEG buffers as a 64x48 camera would hand them over, paced by their capture instants.
struct MjpegStream {
    frames: VecDeque<Vec<u8>>,
    epoch: Instant,
    next: u32,
}

impl MjpegStream {
    fn mode() -> Negotiated {
        Negotiated {
            pixel: PixelFormat::Mjpeg,
            width: 64,
            height: 48,
            stride: 64,
            interval: (1, 30),
            full_range: true,
        }
    }
}

impl VideoSource for MjpegStream {
    fn describe(&self) -> String {
        "MJPEG test stream".into()
    }
    fn format(&self) -> VideoFormat {
        VideoFormat {
            width: 64,
            height: 48,
            fps: 30.0,
        }
    }
    fn is_live(&self) -> bool {
        false
    }
    fn next_frame(&mut self) -> Result<Option<VideoFrame>, CaptureError> {
        let Some(bytes) = self.frames.pop_front() else {
            return Ok(None);
        };
        let captured = self.epoch + FRAME * self.next;
        self.next += 1;
        convert_frame(DEVICE, MjpegStream::mode(), &bytes, captured).map(Some)
    }
}

/// A microphone with nothing to say.
struct NoSound;

impl AudioSource for NoSound {
    fn describe(&self) -> String {
        "no sound".into()
    }
    fn channels(&self) -> u16 {
        1
    }
    fn is_live(&self) -> bool {
        false
    }
    fn next_chunk(&mut self) -> Result<Option<AudioChunk>, CaptureError> {
        Ok(None)
    }
}

fn good_jpeg() -> crate::TestResult<Vec<u8>> {
    ffmpeg(
        "-f lavfi -i testsrc2=size=64x48 -frames:v 1 -pix_fmt yuvj422p -f mjpeg -",
        &[],
    )
}

/// `good` pictures with a truncated one (a transfer cut short) at `at`.
fn stream(good: usize, at: usize, epoch: Instant) -> crate::TestResult<MjpegStream> {
    let jpeg = good_jpeg()?;
    let mut frames: VecDeque<Vec<u8>> = std::iter::repeat_n(jpeg.clone(), good).collect();
    frames.insert(at, jpeg[..jpeg.len() / 2].to_vec());
    Ok(MjpegStream {
        frames,
        epoch,
        next: 0,
    })
}

#[test]
fn a_corrupt_picture_is_skipped_counted_and_the_pictures_after_it_kept() -> crate::TestResult {
    let epoch = Instant::now();
    let session = CaptureSession::start(Box::new(stream(20, 10, epoch)?), Box::new(NoSound));
    let feeds = session.attach(epoch, None);
    let times: Vec<Duration> = feeds.video.iter().map(|f| f.captured - epoch).collect();
    // Twenty pictures, the eleventh missing (it was the corrupt one).
    assert_eq!(times.len(), 20);
    assert_eq!(times[9], FRAME * 9);
    assert_eq!(times[10], FRAME * 11);
    let counters = session.counters();
    assert_eq!(counters.frames_undecodable.load(Ordering::Relaxed), 1);
    assert_eq!(counters.frames_captured.load(Ordering::Relaxed), 20);
    let events: Vec<CaptureEvent> = session.subscribe().try_iter().collect();
    assert!(
        events.iter().any(|e| matches!(e, CaptureEvent::VideoEnded)),
        "{events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, CaptureEvent::VideoFailed(_))),
        "{events:?}"
    );
    drop(feeds);
    session.stop();
    Ok(())
}

#[test]
fn a_recording_goes_on_past_a_corrupt_picture() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let epoch = Instant::now();
    let tone = TestTone::new(Pace::None, epoch);
    // 29 good pictures and a corrupt one: a second at 30 fps.
    let session = CaptureSession::start(Box::new(stream(29, 10, epoch)?), Box::new(tone));
    let output = dir.path().join("answer.mp4");
    let end = epoch + Duration::from_secs(1);
    let spec = RecordingSpec {
        settings: RecordSettings::new(&output),
        origin: epoch,
        end: Some(end),
    };
    let outcome = recording::start(&session, spec)?.wait();
    session.stop();
    assert!(outcome.source_failure.is_none(), "{outcome:?}");
    let summary = outcome.summary?;
    assert_eq!(summary.undecodable_frames, 1);
    assert_eq!(summary.video_frames, 29);
    assert!((summary.video_seconds - 1.0).abs() < 0.01, "{summary:?}");
    let tracks = crate::media::mp4read::read_tracks(&output)?;
    assert_eq!(tracks[0].samples.len(), 29);
    // The picture before the corrupt one stays up until the next good one.
    assert_eq!(tracks[0].samples[9].duration, 6000);
    Ok(())
}

#[test]
fn two_seconds_of_corrupt_pictures_lose_the_camera() -> crate::TestResult {
    let epoch = Instant::now();
    let jpeg = good_jpeg()?;
    let mut frames: VecDeque<Vec<u8>> = std::iter::repeat_n(jpeg.clone(), 3).collect();
    frames.extend(std::iter::repeat_n(b"\xff\xd8 USB glitch".to_vec(), 200));
    let source = MjpegStream {
        frames,
        epoch,
        next: 0,
    };
    let session = CaptureSession::start(Box::new(source), Box::new(NoSound));
    let feeds = session.attach(epoch, None);
    let delivered = feeds.video.iter().count();
    assert_eq!(delivered, 3);
    let failure = session
        .subscribe()
        .iter()
        .find_map(|e| match e {
            CaptureEvent::VideoFailed(err) => Some(err),
            _ => None,
        })
        .ok_or("the capture never failed")?;
    assert!(
        matches!(&*failure, CaptureError::CameraLost { device, .. } if device == DEVICE),
        "{failure:?}"
    );
    // 61 frame times of 33.333333 ms fall just short of 2 s, so the 62nd bad picture ends it.
    assert!(failure.to_string().contains("62 pictures"), "{failure}");
    assert_eq!(
        session
            .counters()
            .frames_undecodable
            .load(Ordering::Relaxed),
        62
    );
    drop(feeds);
    session.stop();
    Ok(())
}
