//! The recording lifecycle against real capture threads and encoders: a stop or a longer end
//! asked from another thread, and a source failing mid-answer, which ends the recording there
//! and reaches every consumer of the session's events.

use std::sync::mpsc;

use super::*;
use crate::media::frame::{VideoFormat, VideoFrame};
use crate::media::source::{Pace, VideoRequest, VideoSource};
use crate::media::synthetic::{TestPattern, TestTone};

const SMALL: VideoRequest = VideoRequest {
    width: 64,
    height: 48,
    fps: 30,
};

/// The test pattern in real time, saying which frame it made, and failing as an unplugged
/// camera would after `fail_after` frames.
struct Camera {
    pattern: TestPattern,
    made: u64,
    fail_after: Option<u64>,
    tell: mpsc::Sender<u64>,
}

impl VideoSource for Camera {
    fn describe(&self) -> String {
        "scripted camera".into()
    }
    fn format(&self) -> VideoFormat {
        self.pattern.format()
    }
    fn is_live(&self) -> bool {
        true
    }
    fn next_frame(&mut self) -> Result<Option<VideoFrame>, CaptureError> {
        if self.fail_after.is_some_and(|n| self.made >= n) {
            return Err(CaptureError::CameraLost {
                device: "/dev/video-test".into(),
                detail: "unplugged".into(),
            });
        }
        let frame = self.pattern.next_frame()?;
        self.made += 1;
        let _ = self.tell.send(self.made);
        Ok(frame)
    }
}

fn session(fail_after: Option<u64>) -> (CaptureSession, mpsc::Receiver<u64>) {
    let epoch = Instant::now();
    let (tell, made) = mpsc::channel();
    let camera = Camera {
        pattern: TestPattern::new(SMALL, Pace::Realtime, epoch),
        made: 0,
        fail_after,
        tell,
    };
    let tone = TestTone::new(Pace::Realtime, epoch);
    (
        CaptureSession::start(Box::new(camera), Box::new(tone)),
        made,
    )
}

fn spec(output: &Path, end: Option<Duration>) -> RecordingSpec {
    let origin = Instant::now();
    RecordingSpec {
        settings: RecordSettings::new(output),
        origin,
        end: end.map(|d| origin + d),
    }
}

/// Waits until the camera has made frame `n`.
fn until_frame(made: &mpsc::Receiver<u64>, n: u64) -> crate::TestResult {
    loop {
        if made.recv_timeout(Duration::from_secs(10))? >= n {
            return Ok(());
        }
    }
}

#[test]
fn a_stop_from_another_thread_ends_a_recording_without_an_end() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let (session, made) = session(None);
    let handle = start(&session, spec(&dir.path().join("a.mp4"), None))?;
    let control = handle.control();
    let waiter = std::thread::spawn(move || handle.wait());
    // Frames made from here on are the answer's.
    let before = made.try_iter().last().unwrap_or(0);
    until_frame(&made, before + 15)?;
    control.stop();
    let outcome = waiter.join().map_err(|_| "the waiting thread panicked")?;
    session.stop();
    assert!(outcome.source_failure.is_none(), "{outcome:?}");
    let summary = outcome.summary?;
    // Half a second of frames was made after the start; the stop came right after them.
    assert!((0.3..1.5).contains(&summary.video_seconds), "{summary:?}");
    Ok(())
}

#[test]
fn a_longer_end_asked_while_it_runs_is_kept() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let (session, _made) = session(None);
    let spec = spec(&dir.path().join("a.mp4"), Some(Duration::from_millis(500)));
    let new_end = spec.origin + Duration::from_millis(1500);
    let handle = start(&session, spec)?;
    handle.control().extend_to(new_end);
    let outcome = handle.wait();
    session.stop();
    let summary = outcome.summary?;
    assert!((summary.video_seconds - 1.5).abs() < 0.1, "{summary:?}");
    Ok(())
}

#[test]
fn a_failing_camera_ends_the_recording_there_and_every_consumer_hears_it() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    // The camera is lost a second in; the answer may last a minute.
    let (session, _made) = session(Some(30));
    let forwarder = session.subscribe();
    let started = Instant::now();
    let handle = start(
        &session,
        spec(&dir.path().join("a.mp4"), Some(Duration::from_secs(60))),
    )?;
    let outcome = handle.wait();
    let waited = started.elapsed();
    let failure = outcome
        .source_failure
        .ok_or("the failure did not reach the recording")?;
    assert!(
        matches!(*failure, CaptureError::CameraLost { .. }),
        "{failure}"
    );
    // Another consumer of the same session's events gets it too: nobody takes it from another.
    let heard = forwarder.try_iter().find_map(|e| e.failure().cloned());
    assert!(heard.is_some_and(|e| Arc::ptr_eq(&e, &failure)));
    session.stop();
    assert!(waited < Duration::from_secs(10), "waited {waited:?}");
    let summary = outcome.summary?;
    assert!(
        summary.video_seconds > 0.0 && summary.video_seconds < 1.2,
        "{summary:?}"
    );
    Ok(())
}

#[test]
fn a_recording_on_a_session_whose_camera_already_failed_ends_at_once() -> crate::TestResult {
    let dir = tempfile::tempdir()?;
    let (session, _made) = session(Some(0));
    let failed = session.subscribe().recv_timeout(Duration::from_secs(10))?;
    assert!(failed.failure().is_some(), "{failed:?}");
    let handle = start(
        &session,
        spec(&dir.path().join("a.mp4"), Some(Duration::from_secs(60))),
    )?;
    let outcome = handle.wait();
    session.stop();
    assert!(outcome.source_failure.is_some());
    assert!(
        matches!(outcome.summary, Err(RecordError::NoPicture)),
        "{:?}",
        outcome.summary
    );
    Ok(())
}
