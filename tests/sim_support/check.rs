//! The station's invariants, checked after every step of the simulation:
//! - every answer the station reported as sent is in the outbox (its file there, whole) or
//!   delivered (the platform holds it with the same sha256); no outbox record of an
//!   undelivered answer ever loses its file;
//! - a take whose sending failed is never deleted (it stays, is set aside, or is sent later);
//! - the candidate on screen has only their own session's progress and answers;
//! - nothing is written outside the data directory and the platform's folder; no panic.
//!
//! At the end: every sent answer arrived exactly once (one file per answer, one answer per
//! candidate and question), with its sha256.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::Ordering;

use booth::session::{Delivery, TakeState};
use booth::upload::{ItemId, Outbox, Payload, Record, State as ItemState};

use super::{PANICKED, Sim};

fn records(data: &Path) -> Vec<Record> {
    Outbox::at(&data.join("outbox")).load_all().0
}

/// The sha256 an answer's outbox record holds.
pub fn record_sha(data: &Path, id: uuid::Uuid) -> Option<String> {
    Outbox::at(&data.join("outbox"))
        .load(ItemId(id))
        .ok()
        .flatten()
        .map(|r| r.sha256)
}

/// Records not yet delivered (answers and manifests).
pub fn undelivered(data: &Path) -> usize {
    records(data)
        .iter()
        .filter(|r| r.state != ItemState::Delivered)
        .count()
}

/// Sessions set aside for staff so far.
pub fn set_aside_sessions(data: &Path) -> u64 {
    std::fs::read_dir(data.join("set-aside"))
        .map(|d| d.flatten().filter(|e| e.path().is_dir()).count() as u64)
        .unwrap_or(0)
}

/// Every sent answer is on the platform once, whole; returns how many.
pub fn delivered_exactly_once(
    platform: &Path,
    sent: &BTreeMap<uuid::Uuid, String>,
) -> Result<u64, String> {
    let mut answers_per_question: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(platform).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(id) = name.strip_suffix(".meta.json") else {
            continue;
        };
        let meta: serde_json::Value = serde_json::from_slice(
            &std::fs::read(entry.path()).map_err(|e| format!("{name}: {e}"))?,
        )
        .map_err(|e| format!("{name}: {e}"))?;
        if meta["kind"] == "answer" {
            let key = (
                meta["candidate_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                meta["question_id"].as_str().unwrap_or_default().to_string(),
            );
            answers_per_question
                .entry(key)
                .or_default()
                .insert(id.to_string());
        }
    }
    if let Some((who, ids)) = answers_per_question.iter().find(|(_, ids)| ids.len() > 1) {
        return Err(format!(
            "{who:?} has {} answers on the platform: {ids:?}",
            ids.len()
        ));
    }
    for (id, sha) in sent {
        let file = platform.join(format!("{id}.mp4"));
        let (_, found) = booth::upload::hash_file(&file)
            .map_err(|e| format!("sent answer {id} never arrived: {e}"))?;
        if &found != sha {
            return Err(format!("answer {id} arrived as {found}, was sent as {sha}"));
        }
    }
    Ok(sent.len() as u64)
}

impl Sim {
    pub(super) fn check(&self) -> Result<(), String> {
        if PANICKED.load(Ordering::SeqCst) {
            return Err("a thread panicked (see the output above)".into());
        }
        self.check_root()?;
        let records = records(&self.data());
        self.check_sent(&records)?;
        self.check_failed(&records)?;
        self.check_session(&records)
    }

    /// Nothing appears beside the data directory, the platform and the interview file.
    fn check_root(&self) -> Result<(), String> {
        for entry in std::fs::read_dir(self.root.path())
            .map_err(|e| e.to_string())?
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().to_string();
            if !["data", "platform", "interview"].contains(&name.as_str()) {
                return Err(format!("{name} was written outside the data directory"));
            }
        }
        let interview: Vec<_> = std::fs::read_dir(self.root.path().join("interview"))
            .map_err(|e| e.to_string())?
            .flatten()
            .map(|e| e.file_name())
            .collect();
        if interview.len() != 1 {
            return Err(format!(
                "the interview folder was written to: {interview:?}"
            ));
        }
        Ok(())
    }

    fn check_sent(&self, records: &[Record]) -> Result<(), String> {
        for (id, sha) in &self.sent {
            let Some(rec) = records.iter().find(|r| r.id.0 == *id) else {
                return Err(format!("sent answer {id} has no outbox record"));
            };
            if &rec.sha256 != sha {
                return Err(format!("sent answer {id} changed content in the outbox"));
            }
        }
        for rec in records
            .iter()
            .filter(|r| matches!(r.payload, Payload::Answer(_)))
        {
            // Only the interview's questions are answered: a practice take never leaves.
            let question = rec.answer().map(|a| a.question_id.as_str()).unwrap_or("");
            if !["q1", "q2", "q3", "q4"].contains(&question)
                || rec.path.ends_with(booth::session::PRACTICE_FILE)
            {
                return Err(format!(
                    "{} in the outbox is not an answer to a question: {question:?} from {}",
                    rec.id,
                    rec.path.display()
                ));
            }
            match rec.state {
                ItemState::Delivered => {
                    let file = self.platform().join(format!("{}.mp4", rec.id));
                    if !file.is_file() {
                        return Err(format!(
                            "{} is marked delivered but the platform lacks it",
                            rec.id
                        ));
                    }
                }
                _ if rec.staged_from.is_some() => {}
                _ => {
                    let len = std::fs::metadata(&rec.path).map(|m| m.len());
                    // Delivered (and its local copy removed) since the records were read?
                    let now = Outbox::at(&self.data().join("outbox")).load(rec.id);
                    let delivered_since =
                        matches!(now, Ok(Some(r)) if r.state == ItemState::Delivered);
                    if len.as_ref().ok() != Some(&rec.size) && !delivered_since {
                        return Err(format!(
                            "undelivered answer {} lost its file {} ({len:?})",
                            rec.id,
                            rec.path.display()
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// A take whose sending failed is still at its place, set aside, or in the outbox.
    fn check_failed(&self, records: &[Record]) -> Result<(), String> {
        for take in &self.failed {
            let name = take.file.file_name().unwrap_or_default();
            let set_aside = set_aside_as(&self.data(), &take.session, &name.to_string_lossy());
            let in_outbox = records.iter().any(|r| r.sha256 == take.sha256);
            if !(take.file.is_file() || set_aside || in_outbox) {
                return Err(format!(
                    "a take whose sending failed at step {} is gone: {}",
                    take.step,
                    take.file.display()
                ));
            }
        }
        Ok(())
    }

    /// The screen's candidate has their own progress and answers only.
    fn check_session(&self, records: &[Record]) -> Result<(), String> {
        let Some(state) = self.state() else {
            return Ok(());
        };
        let p = &state.session.progress;
        if p.session_id != "unavailable" {
            let dir = state.session.dir.file_name().unwrap_or_default();
            if dir.to_string_lossy() != p.session_id {
                return Err(format!("progress of {} kept in {dir:?}", p.session_id));
            }
        }
        if p.questions.len() != state.session.interview.questions.len() {
            return Err("the progress does not fit the interview on screen".into());
        }
        for (q, qp) in p.questions.iter().enumerate() {
            if qp.takes.iter().any(|t| t.file.contains('/')) {
                return Err(format!("question {q} names a file outside its session"));
            }
            let submitted = qp.takes.iter().any(|t| t.state == TakeState::Submitted);
            if submitted != (qp.delivery != Delivery::NotSubmitted) {
                return Err(format!(
                    "question {q}: sent takes and delivery disagree: {qp:?}"
                ));
            }
            let Some(answer) = &qp.answer_id else {
                if submitted {
                    return Err(format!("question {q} was sent without an answer id"));
                }
                continue;
            };
            let Some(rec) = records.iter().find(|r| r.id.0.to_string() == *answer) else {
                continue;
            };
            let Payload::Answer(meta) = &rec.payload else {
                return Err(format!("question {q}'s answer id is a manifest"));
            };
            if meta.candidate_id != p.session_id {
                return Err(format!(
                    "question {q} of {} shows the answer of {}",
                    p.session_id, meta.candidate_id
                ));
            }
            if qp.delivery == Delivery::Uploaded && rec.state != ItemState::Delivered {
                return Err(format!(
                    "question {q} shows delivered, the outbox says {}",
                    rec.state
                ));
            }
        }
        Ok(())
    }
}

/// Whether `set-aside/` holds `name` of `session`: in `<session>/` or, when that was taken
/// already, `<session>-2/` and so on (and likewise `name-2` beside an earlier `name`).
fn set_aside_as(data: &Path, session: &str, name: &str) -> bool {
    let Ok(dirs) = std::fs::read_dir(data.join("set-aside")) else {
        return false;
    };
    dirs.flatten()
        .filter(|d| d.file_name().to_string_lossy().starts_with(session))
        .filter_map(|d| std::fs::read_dir(d.path()).ok())
        .flatten()
        .flatten()
        .any(|f| {
            let found = f.file_name().to_string_lossy().to_string();
            found == name || found.starts_with(&format!("{name}-"))
        })
}
