//! Camera pictures that cannot be decoded (a corrupt MJPEG frame after a USB glitch, a short
//! buffer): each is skipped, the operator is warned at most every [`WARN_EVERY`], and only a
//! run of nothing but undecodable pictures lasting [`SUSTAINED`] means the camera is lost.
//! Runs are timed by the pictures' own capture instants, so a file or test source is judged
//! exactly as a camera is.

use std::time::{Duration, Instant};

use super::source::CaptureError;

/// How long a camera may deliver nothing but undecodable pictures before it counts as lost.
pub const SUSTAINED: Duration = Duration::from_secs(2);
/// At most one warning this often, however many pictures are skipped.
pub const WARN_EVERY: Duration = Duration::from_secs(10);

/// What to do with an undecodable picture.
#[derive(Debug)]
pub enum Verdict {
    /// Skip it and go on.
    Skip,
    /// Nothing decodable came for [`SUSTAINED`]: end the capture with this error.
    Lost(CaptureError),
}

/// Tracks the current run of undecodable pictures and the warnings about them.
#[derive(Debug, Default)]
pub struct Undecodable {
    /// Capture instant of the first undecodable picture since the last good one.
    run_start: Option<Instant>,
    run: u64,
    last_warning: Option<Instant>,
    since_warning: u64,
}

impl Undecodable {
    /// A good picture arrived: the run is over.
    pub fn good(&mut self) {
        self.run_start = None;
        self.run = 0;
    }

    /// An undecodable picture from `device`, taken at `captured`.
    pub fn bad(&mut self, device: &str, captured: Instant, detail: &str) -> Verdict {
        let start = *self.run_start.get_or_insert(captured);
        self.run += 1;
        self.since_warning += 1;
        let lasted = captured.saturating_duration_since(start);
        if lasted >= SUSTAINED {
            return Verdict::Lost(CaptureError::CameraLost {
                device: device.to_string(),
                detail: format!(
                    "{} pictures in a row over {:.1} s could not be decoded (the last: {detail})",
                    self.run,
                    lasted.as_secs_f64()
                ),
            });
        }
        let due = self
            .last_warning
            .is_none_or(|w| captured.saturating_duration_since(w) >= WARN_EVERY);
        if due {
            tracing::warn!(
                device,
                skipped = self.since_warning,
                %detail,
                "skipping a camera picture that cannot be decoded"
            );
            self.last_warning = Some(captured);
            self.since_warning = 0;
        }
        Verdict::Skip
    }

    /// Undecodable pictures not yet reported in a warning.
    pub fn unreported(&self) -> u64 {
        self.since_warning
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 25 fps, so that two seconds are a whole number of pictures.
    const FRAME: Duration = Duration::from_millis(40);

    #[test]
    fn scattered_bad_pictures_are_skipped_however_many() {
        let t = Instant::now();
        let mut u = Undecodable::default();
        // Every other picture bad for a minute: never two seconds without a good one.
        for n in 0..1500u32 {
            let at = t + FRAME * n;
            if n % 2 == 0 {
                assert!(matches!(
                    u.bad("/dev/video0", at, "truncated"),
                    Verdict::Skip
                ));
            } else {
                u.good();
            }
        }
    }

    #[test]
    fn two_seconds_of_nothing_but_bad_pictures_lose_the_camera() -> crate::TestResult {
        let t = Instant::now();
        let mut u = Undecodable::default();
        u.good();
        let mut n = 0u32;
        let lost = loop {
            match u.bad("/dev/video0", t + FRAME * n, "JPEG picture is truncated") {
                Verdict::Skip => n += 1,
                Verdict::Lost(e) => break e,
            }
            assert!(n < 100, "never gave up");
        };
        // Pictures 0..=50 span exactly 2 s.
        assert_eq!(n, 50);
        let text = lost.to_string();
        assert!(matches!(lost, CaptureError::CameraLost { .. }), "{lost:?}");
        assert!(
            text.contains("/dev/video0")
                && text.contains("51 pictures")
                && text.contains("truncated"),
            "{text}"
        );
        Ok(())
    }

    #[test]
    fn warnings_come_at_most_every_ten_seconds() {
        let t = Instant::now();
        let mut u = Undecodable::default();
        u.bad("cam", t, "x");
        assert_eq!(u.unreported(), 0, "the first is reported at once");
        for n in 1..10u32 {
            u.good();
            u.bad("cam", t + Duration::from_secs(1) * n, "x");
        }
        assert_eq!(u.unreported(), 9);
        u.good();
        u.bad("cam", t + Duration::from_secs(10), "x");
        assert_eq!(u.unreported(), 0);
    }
}
