//! The outbox in a few numbers, counted from its records (never from the files, which live in
//! `answers/`, `manifests/` or wherever a re-sent recording was): what waits and how much of
//! it is left to send, how long the oldest has waited, what was refused, when the last
//! delivery was, and the endpoint's health. `booth status`, the heartbeat, `booth queue`, the
//! doctor and the operator's queue page all show this one summary.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::health::UploadHealth;
use super::outbox::State;
use super::problem::EndpointProblem;
use super::view::{ItemKind, ItemView, list};
use crate::clock::now_ms;

/// A day in milliseconds: "today" runs from 00:00 UTC (a station's clock has no date crate to
/// know its zone by; monitoring compares stations in one time anyway).
const DAY_MS: u64 = 86_400_000;

/// The outbox summed up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxSummary {
    /// Items not yet delivered, refused or abandoned.
    pub waiting: usize,
    /// Bytes of them the server has not confirmed yet.
    pub waiting_bytes: u64,
    /// When the oldest waiting item was queued (ms since the Unix epoch), and its age.
    pub oldest_waiting_ms: Option<u64>,
    pub oldest_waiting_seconds: Option<u64>,
    /// Refused for good by the platform; the files are kept.
    pub refused: usize,
    pub delivered: usize,
    /// The latest delivery (ms since the Unix epoch) among the records still kept.
    pub last_delivered_ms: Option<u64>,
    /// Answers (not manifests) queued since 00:00 UTC today, whatever became of them.
    #[serde(default)]
    pub answers_today: usize,
    /// Records (or the health file) that cannot be read, each naming its file.
    pub unreadable: Vec<String>,
    /// The upload service's view of the endpoint; `None` before any service ran here.
    pub health: Option<UploadHealth>,
}

impl OutboxSummary {
    /// The outbox at `outbox_dir` as stored (a missing directory is an empty outbox).
    pub fn read(outbox_dir: &Path) -> OutboxSummary {
        OutboxSummary::read_at(outbox_dir, now_ms())
    }

    /// [`OutboxSummary::read`] with the current time given (ms since the Unix epoch).
    pub fn read_at(outbox_dir: &Path, now_ms: u64) -> OutboxSummary {
        let (items, problems) = list(outbox_dir);
        let mut unreadable: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let health = UploadHealth::read(outbox_dir).unwrap_or_else(|e| {
            unreadable.push(e.to_string());
            None
        });
        OutboxSummary::of(&items, unreadable, health, now_ms)
    }

    /// The summary of `items`: the one place the outbox is counted.
    pub fn of(
        items: &[ItemView],
        unreadable: Vec<String>,
        health: Option<UploadHealth>,
        now_ms: u64,
    ) -> OutboxSummary {
        let waiting: Vec<&ItemView> = items.iter().filter(|v| !v.state.is_final()).collect();
        let oldest_waiting_ms = waiting.iter().map(|v| v.queued_at_ms).min();
        let today = now_ms - now_ms % DAY_MS;
        OutboxSummary {
            waiting: waiting.len(),
            waiting_bytes: waiting.iter().map(|v| v.total.saturating_sub(v.sent)).sum(),
            oldest_waiting_ms,
            oldest_waiting_seconds: oldest_waiting_ms.map(|t| now_ms.saturating_sub(t) / 1000),
            refused: items.iter().filter(|v| v.state == State::Refused).count(),
            delivered: items.iter().filter(|v| v.state == State::Delivered).count(),
            last_delivered_ms: items.iter().filter_map(|v| v.delivered_at_ms).max(),
            answers_today: items
                .iter()
                .filter(|v| v.kind == ItemKind::Answer && v.queued_at_ms >= today)
                .count(),
            unreadable,
            health,
        }
    }

    /// What stops every delivery, if the service has seen something.
    pub fn problem(&self) -> Option<&EndpointProblem> {
        self.health.as_ref().and_then(|h| h.problem.as_ref())
    }

    /// One line for people: "2 waiting (12.3 MB to send, the oldest for 5 min), 1 refused,
    /// last delivery 3 min ago".
    pub fn line(&self, now_ms: u64) -> String {
        let mut text = if self.waiting == 0 {
            "nothing waiting".to_string()
        } else {
            format!(
                "{} waiting ({:.1} MB to send{})",
                self.waiting,
                self.waiting_bytes as f64 / 1e6,
                self.oldest_waiting_seconds
                    .map(|s| format!(", the oldest for {}", span(s)))
                    .unwrap_or_default()
            )
        };
        if self.refused > 0 {
            text.push_str(&format!(", {} refused", self.refused));
        }
        if let Some(at) = self.last_delivered_ms {
            let ago = now_ms.saturating_sub(at) / 1000;
            text.push_str(&format!(", last delivery {} ago", span(ago)));
        }
        if !self.unreadable.is_empty() {
            text.push_str(&format!(", {} unreadable", self.unreadable.len()));
        }
        text
    }

    /// The endpoint's problem and its fix as two lines, if there is one.
    pub fn problem_lines(&self) -> Option<[String; 2]> {
        let problem = self.problem()?;
        Some([
            format!("the upload endpoint refuses: {problem}"),
            format!("fix: {}", problem.fix()),
        ])
    }
}

/// `45 s`, `12 min`, `3 h`, `2 d`.
fn span(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 2 * 86_400 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::outbox::{ItemId, Outbox, Payload, Record};
    use crate::upload::{AnswerMeta, UploadHealth};

    fn record(
        outbox: &Outbox,
        path: &Path,
        state: State,
        size: u64,
        confirmed: u64,
        queued_at_ms: u64,
    ) -> crate::TestResult<Record> {
        let id = uuid::Uuid::new_v4();
        let mut r = Record::new(
            ItemId(id),
            Payload::Answer(AnswerMeta {
                candidate_ref: None,
                interview_id: "iv".into(),
                candidate_id: "c1".into(),
                question_id: "q1".into(),
                attempt: 1,
                answer_id: id,
                filename: "q1.mp4".into(),
            }),
            path.to_path_buf(),
            size,
            "ab".into(),
        );
        r.state = state;
        r.confirmed = confirmed;
        r.queued_at_ms = queued_at_ms;
        if state == State::Delivered {
            r.delivered_at_ms = Some(queued_at_ms + 1000);
        }
        outbox.save(&r)?;
        Ok(r)
    }

    #[test]
    fn the_records_are_counted_wherever_their_files_are() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let outbox = Outbox::open(&dir.path().join("outbox"))?;
        let answers = outbox.dir().join("answers");
        std::fs::create_dir_all(&answers)?;
        let now = 10_000_000;
        record(
            &outbox,
            &answers.join("a.mp4"),
            State::Queued,
            1000,
            0,
            now - 60_000,
        )?;
        record(
            &outbox,
            &answers.join("b.mp4"),
            State::Uploading,
            500,
            200,
            now - 5_000,
        )?;
        record(
            &outbox,
            &answers.join("c.mp4"),
            State::Refused,
            70,
            0,
            now - 1_000,
        )?;
        record(
            &outbox,
            Path::new("/x/d.mp4"),
            State::Delivered,
            9,
            9,
            now - 9_000,
        )?;
        record(
            &outbox,
            Path::new("/x/e.mp4"),
            State::Abandoned,
            9,
            0,
            now - 99_000,
        )?;

        let s = OutboxSummary::read_at(outbox.dir(), now);
        assert_eq!(s.waiting, 2);
        assert_eq!(s.waiting_bytes, 1000 + 300);
        assert_eq!(s.oldest_waiting_ms, Some(now - 60_000));
        assert_eq!(s.oldest_waiting_seconds, Some(60));
        assert_eq!((s.refused, s.delivered), (1, 1));
        assert_eq!(s.last_delivered_ms, Some(now - 8_000));
        // All five were queued on the first day of 1970, as `now` is.
        assert_eq!(s.answers_today, 5);
        let tomorrow = OutboxSummary::read_at(outbox.dir(), DAY_MS + 1);
        assert_eq!(tomorrow.answers_today, 0);
        assert!(s.unreadable.is_empty(), "{:?}", s.unreadable);
        assert_eq!(s.health, None);
        assert_eq!(
            s.line(now),
            "2 waiting (0.0 MB to send, the oldest for 1 min), 1 refused, last delivery 8 s ago"
        );
        assert_eq!(s.problem_lines(), None);
        Ok(())
    }

    #[test]
    fn the_health_file_comes_with_the_numbers() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let outbox = Outbox::open(dir.path())?;
        assert_eq!(OutboxSummary::read(outbox.dir()).line(0), "nothing waiting");
        let mut health = UploadHealth::fresh("https://up.example/files/");
        health.problem = Some(EndpointProblem::NoCreationUrl {
            method: "POST".into(),
            url: "https://up.example/filez/".into(),
            status: 404,
        });
        std::fs::write(
            dir.path().join(crate::upload::health::HEALTH_FILE),
            serde_json::to_vec(&health)?,
        )?;
        std::fs::write(
            dir.path().join("0b8a7c1e-2f3d-4e5a-9b6c-7d8e9f0a1b2c.json"),
            "{ half",
        )?;
        let s = OutboxSummary::read(outbox.dir());
        assert_eq!(s.health.as_ref(), Some(&health));
        let [what, fix] = s.problem_lines().ok_or("no problem lines")?;
        assert!(
            what.contains("POST https://up.example/filez/ answered 404"),
            "{what}"
        );
        assert!(fix.contains("[upload] endpoint"), "{fix}");
        assert_eq!(s.unreadable.len(), 1, "{:?}", s.unreadable);
        Ok(())
    }

    #[test]
    fn an_unreadable_record_is_named() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let outbox = Outbox::open(dir.path())?;
        assert_eq!(OutboxSummary::read(outbox.dir()).line(0), "nothing waiting");
        let broken = dir.path().join("0b8a7c1e-2f3d-4e5a-9b6c-7d8e9f0a1b2c.json");
        std::fs::write(&broken, "{ half")?;
        let s = OutboxSummary::read(outbox.dir());
        assert_eq!(s.unreadable.len(), 1, "{:?}", s.unreadable);
        assert!(s.unreadable[0].contains(&broken.display().to_string()));
        assert_eq!(s.line(0), "nothing waiting, 1 unreadable");
        Ok(())
    }
}
