//! One recording's lifecycle, the API the kiosk and `booth record` share:
//!
//! ```text
//!  start(&session, spec) ─► RecordingHandle ─ wait() ─► RecordingOutcome { summary, source_failure }
//!                               └─ control() ─► RecordingControl: stop(), extend_to(end)  (any thread)
//! ```
//!
//! The thread in [`RecordingHandle::wait`] is the recording's one owner: it sleeps on a
//! channel select until something happens — a stop or a longer end asked through a
//! [`RecordingControl`], a source failing (heard from the session's event hub), the pipeline
//! finishing, or the deadline by which the sources should have reached the end. A source that
//! fails ends the recording there: recording on with one source would make an answer nobody
//! can use, and hide the failure until the full length had passed.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::capture::{CaptureEvent, CaptureSession, Subscription, Tap};
use super::mux::VIDEO_TIMESCALE;
use super::recorder::{Pipeline, RecordError, RecordSettings, Summary, ticks};
use super::source::CaptureError;

/// How long after a stop the feeds are closed regardless: a camera that stopped delivering
/// never carries a frame past the end instant.
const STOP_GRACE: Duration = Duration::from_secs(1);
/// How long after the planned end the same is done for a recording that ends by itself.
const END_GRACE: Duration = Duration::from_secs(2);

/// What to record.
#[derive(Debug, Clone)]
pub struct RecordingSpec {
    pub settings: RecordSettings,
    /// Time zero of the answer: items captured before it are not part of it.
    pub origin: Instant,
    /// Where the recording ends by itself; without one, it runs until stopped or until the
    /// sources end.
    pub end: Option<Instant>,
}

/// What a finished recording gives back.
#[derive(Debug)]
pub struct RecordingOutcome {
    /// The answer as written, or why it is not (what was kept is named in the error).
    pub summary: Result<Summary, RecordError>,
    /// The source failure that ended the recording early (or that the session already had
    /// when it started), if any.
    pub source_failure: Option<Arc<CaptureError>>,
}

enum Control {
    Stop(Instant),
    Extend(Instant),
}

/// Steers a running recording from any thread; cheap to clone. Asking a finished recording
/// does nothing.
#[derive(Clone)]
pub struct RecordingControl {
    tx: Sender<Control>,
}

impl RecordingControl {
    /// Stops now: everything captured before this instant is kept, then the file is finalized.
    pub fn stop(&self) {
        let _ = self.tx.send(Control::Stop(Instant::now()));
    }

    /// The recording now ends at `end`, if that is later than its end so far (staff granted
    /// more time). A stopped recording, or one already past its old end, is not lengthened.
    pub fn extend_to(&self, end: Instant) {
        let _ = self.tx.send(Control::Extend(end));
    }
}

/// A recording in progress. [`RecordingHandle::wait`] must be called (on a thread that may
/// block) for its stop, extension and deadline to be carried out.
pub struct RecordingHandle {
    pipeline: Pipeline,
    tap: Tap,
    events: Subscription,
    control: RecordingControl,
    controls: Receiver<Control>,
    end: Option<Instant>,
}

/// Attaches a recording to `session` and starts encoding: refused at once when the disk has no
/// room for it or an encoder cannot start.
pub fn start(
    session: &CaptureSession,
    spec: RecordingSpec,
) -> Result<RecordingHandle, RecordError> {
    let tap = session.tap();
    // Before attaching: a source failing from here on is heard (earlier ones are replayed).
    let events = tap.subscription();
    let pipeline = Pipeline::start(session, spec.origin, spec.end, &spec.settings)?;
    let (tx, controls) = crossbeam_channel::unbounded();
    Ok(RecordingHandle {
        pipeline,
        tap,
        events,
        control: RecordingControl { tx },
        controls,
        end: spec.end,
    })
}

impl RecordingHandle {
    pub fn control(&self) -> RecordingControl {
        self.control.clone()
    }

    /// See [`RecordingControl::stop`].
    pub fn stop(&self) {
        self.control.stop();
    }

    pub fn output(&self) -> &Path {
        &self.pipeline.output
    }

    /// The crash-safe file being written.
    pub fn partial(&self) -> &Path {
        &self.pipeline.partial
    }

    /// Seconds of video safely written so far.
    pub fn recorded_seconds(&self) -> f64 {
        self.pipeline.recorded.load(Ordering::Relaxed) as f64 / VIDEO_TIMESCALE as f64
    }

    /// Runs the recording to its end — the end given at start (or a later one), a stop, a
    /// source failing, or the sources ending — then finalizes it.
    pub fn wait(self) -> RecordingOutcome {
        let RecordingHandle {
            pipeline,
            tap,
            events,
            control: _control,
            controls,
            end,
        } = self;
        let mut state = Steering {
            pipeline: &pipeline,
            tap: &tap,
            end,
            stopped: None,
            failure: None,
            forced: false,
        };
        loop {
            let timer = match state.deadline() {
                Some(at) => crossbeam_channel::at(at),
                None => crossbeam_channel::never(),
            };
            crossbeam_channel::select! {
                recv(pipeline.done) -> _ => break,
                recv(controls) -> c => match c {
                    Ok(Control::Stop(at)) => state.stop(at),
                    Ok(Control::Extend(at)) => state.extend(at),
                    // Not while `_control` holds a sender, which it does until the end.
                    Err(_) => break,
                },
                recv(events.events) -> e => match e {
                    Ok(e) => state.heard(&e),
                    // The session's hub keeps its subscribers while `tap` holds it: never.
                    Err(_) => break,
                },
                recv(timer) -> _ => state.overdue(),
            }
        }
        let heard = state.failure;
        // The feeds are closed or the pipeline stopped itself; either way nothing more comes.
        tap.detach();
        let summary = pipeline.join(tap.counters());
        // A failure that came as the pipeline finished by itself still counts.
        let source_failure =
            heard.or_else(|| events.events.try_iter().find_map(|e| e.failure().cloned()));
        RecordingOutcome {
            summary,
            source_failure,
        }
    }
}

/// What the waiting thread knows and decides about the recording's end.
struct Steering<'a> {
    pipeline: &'a Pipeline,
    tap: &'a Tap,
    /// The end it runs to, as planned so far.
    end: Option<Instant>,
    /// When it was stopped.
    stopped: Option<Instant>,
    failure: Option<Arc<CaptureError>>,
    /// The feeds were closed at the deadline: only the pipeline's finishing is awaited now.
    forced: bool,
}

impl Steering<'_> {
    /// When the feeds are closed if the sources have not closed them by then.
    fn deadline(&self) -> Option<Instant> {
        if self.forced {
            return None;
        }
        match self.stopped {
            Some(at) => Some(at + STOP_GRACE),
            None => self.end.map(|e| e + END_GRACE),
        }
    }

    fn stop(&mut self, at: Instant) {
        let at = self.stopped.map_or(at, |s| s.min(at));
        self.stopped = Some(at);
        self.tap.end_at(at);
        self.pipeline
            .end_ticks
            .fetch_min(ticks(self.pipeline.origin, at), Ordering::Relaxed);
    }

    fn extend(&mut self, at: Instant) {
        if self.stopped.is_some() {
            tracing::warn!("a stopped recording is not lengthened");
            return;
        }
        self.tap.extend_end(at);
        self.pipeline
            .end_ticks
            .fetch_max(ticks(self.pipeline.origin, at), Ordering::Relaxed);
        self.end = self.end.map(|e| e.max(at));
    }

    fn heard(&mut self, event: &CaptureEvent) {
        if let Some(e) = event.failure()
            && self.failure.is_none()
        {
            tracing::error!(error = %e, "a source failed: the recording ends here");
            self.failure = Some(e.clone());
            self.stop(Instant::now());
        }
    }

    fn overdue(&mut self) {
        if self.tap.attached() {
            tracing::warn!("sources did not reach the end instant in time; closing feeds");
            self.tap.detach();
        }
        self.forced = true;
    }
}

#[cfg(test)]
#[path = "recording_tests.rs"]
mod tests;
