//! Starting a station: reconciling what is on disk before anything is shown (finishing
//! interrupted wipes, setting aside sessions left behind, matching the current session against the
//! interview and the outbox's records), recovering a take the last run was recording when it
//! died, and which screen to reopen on. Whatever does not fit is set aside for staff, never
//! deleted; a station always starts. Runs once before the loop.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::msg::{Submission, TakeRef};
use super::sessions;
use super::state::{Phase, State};
use crate::fsutil;
use std::sync::Arc;

use crate::interview::{Catalog, Interview};
use crate::media::mp4read;
use crate::media::mux::{partial_path, recover};
use crate::session::{Delivery, Mismatch, Progress, SessionError, TakeState};
use crate::upload::{Payload, Record, State as ItemState};

/// The session a station starts with.
#[derive(Debug)]
pub struct Resumed {
    pub progress: Progress,
    /// The interview the session is for (a candidate's code may have picked it).
    pub interview: Arc<Interview>,
    pub dir: PathBuf,
    /// How long the station had been left alone before it stopped: the idle clock goes on
    /// from there, so a walked-away candidate's screen is never simply reopened.
    pub idle_for: Duration,
    /// Takes the candidate sent that are not in the outbox (an older booth's crash): sent
    /// again at start, idempotently.
    pub resubmit: Vec<Submission>,
}

/// Reconciles the data directory and returns the session to continue (or a new one).
/// `records` are the outbox's records as the upload service left them at its start.
pub fn open_session(
    data_dir: &Path,
    catalog: &Catalog,
    records: &[Record],
    now_unix: u64,
) -> Result<Resumed, SessionError> {
    let default = catalog.default_interview();
    fsutil::create_private_dir(&sessions::sessions_dir(data_dir))?;
    let current = sessions::current_id(data_dir);
    let (stale, wiping) = sessions::leftovers(data_dir, current.as_deref());
    for dir in &wiping {
        finish_wipe(data_dir, dir);
    }
    let mut resubmit = Vec::new();
    for dir in &stale {
        settle_stale(data_dir, dir, catalog, records, &mut resubmit);
    }
    if let Some(id) = current {
        let dir = sessions::sessions_dir(data_dir).join(&id);
        if dir.is_dir() {
            // Before the reconciliation below rewrites the progress (and so its time).
            let idle = idle_for(&dir, now_unix);
            match resume_dir(data_dir, &dir, catalog, records, &mut resubmit)? {
                Some(mut resumed) => {
                    resumed.idle_for = idle;
                    return Ok(resumed);
                }
                None => {
                    let (progress, dir) =
                        sessions::end_session(data_dir, &dir, None, &default, now_unix)?;
                    return Ok(fresh(progress, default, dir, resubmit));
                }
            }
        }
    }
    let (progress, dir) = sessions::new_session(data_dir, &default, now_unix)?;
    Ok(fresh(progress, default, dir, resubmit))
}

fn fresh(
    progress: Progress,
    interview: Arc<Interview>,
    dir: PathBuf,
    resubmit: Vec<Submission>,
) -> Resumed {
    Resumed {
        progress,
        interview,
        dir,
        idle_for: Duration::ZERO,
        resubmit,
    }
}

/// A wipe the station died in (the directory was renamed for wiping, so its sent takes were
/// already set aside): finished, setting aside any sent take still in it first.
fn finish_wipe(data_dir: &Path, dir: &Path) {
    let result = sessions::set_aside_sent_takes(data_dir, dir, None)
        .and_then(|()| fsutil::remove_dir_all(dir).map_err(SessionError::from));
    match result {
        Ok(()) => tracing::warn!(dir = %dir.display(), "finished wiping a session left behind"),
        Err(e) => {
            tracing::error!(dir = %dir.display(), error = %e, "cannot wipe a session left behind")
        }
    }
}

/// A session directory that is neither current nor being wiped: a crash between the steps
/// of opening a session, or a station that could not start, given a new session by staff
/// while its candidate's session was still on disk. Nobody decided to wipe it, and what its
/// record says may be older than what its candidate did (a failed send whose note could not
/// be saved), so one that holds answers is set aside whole, its sent takes queued from there;
/// only a directory without answers (a record, a device-test clip) is removed.
fn settle_stale(
    data_dir: &Path,
    dir: &Path,
    catalog: &Catalog,
    records: &[Record],
    resubmit: &mut Vec<Submission>,
) {
    if !holds_answers(dir) {
        finish_wipe(data_dir, dir);
        return;
    }
    let old = Progress::load(dir).ok().flatten();
    let why = "a session left behind that was never closed; its answers are kept for staff";
    match sessions::set_aside(data_dir, dir, why) {
        Ok(kept) => {
            if let Some(old) = old {
                let iv = catalog.get(&old.interview_id);
                resubmit.extend(unsent(&old, &kept, iv.as_deref(), records));
            }
        }
        Err(e) => {
            tracing::error!(dir = %dir.display(), error = %e, "cannot set aside a session left behind")
        }
    }
}

/// Whether `dir` holds anything but a session's record, its activity note, its device-test
/// clip and its practice take (which never leave the machine).
fn holds_answers(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        // Unreadable: keep it rather than guess.
        return true;
    };
    entries.flatten().any(|e| {
        let name = e.file_name().to_string_lossy().to_string();
        let bookkeeping = name == crate::session::PROGRESS_FILE
            || name == crate::session::ACTIVITY_FILE
            || name.starts_with("device-test.mp4")
            || name.starts_with(crate::session::PRACTICE_FILE)
            || name.starts_with('.');
        !bookkeeping
    })
}

/// The current session, if it can go on: `None` when it has finished (every answer sent).
/// One that cannot be read or no longer fits the interview is set aside (its sent takes
/// queued from there) and `None` returned.
fn resume_dir(
    data_dir: &Path,
    dir: &Path,
    catalog: &Catalog,
    records: &[Record],
    resubmit: &mut Vec<Submission>,
) -> Result<Option<Resumed>, SessionError> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let mismatch = |mismatch| SessionError::Mismatch {
        path: dir.join(crate::session::PROGRESS_FILE),
        mismatch,
    };
    let loaded = Progress::load(dir).and_then(|p| match p {
        Some(p) => {
            // The interview the session is for, as the station has it now.
            let interview = catalog.get(&p.interview_id).ok_or_else(|| {
                mismatch(Mismatch::Interview {
                    found: p.interview_id.clone(),
                    expected: catalog.ids().join("', '"),
                })
            })?;
            p.fits(&interview, &name).map_err(mismatch)?;
            Ok(Some((p, interview)))
        }
        None => Ok(None),
    });
    let (mut progress, interview) = match loaded {
        Ok(Some(found)) => found,
        Ok(None) => return Ok(None),
        Err(e) => {
            tracing::error!(error = %e, "the session cannot be resumed; it is set aside");
            let old = Progress::load(dir).ok().flatten();
            let kept = sessions::set_aside(data_dir, dir, &e.to_string())?;
            if let Some(old) = old {
                let iv = catalog.get(&old.interview_id);
                resubmit.extend(unsent(&old, &kept, iv.as_deref(), records));
            }
            return Ok(None);
        }
    };
    apply_outbox(&mut progress, &interview, records);
    recover_takes(&mut progress, dir);
    resubmit.extend(unsent(&progress, dir, Some(&interview), records));
    if progress.all_submitted() && resubmit.is_empty() {
        return Ok(None);
    }
    progress.save(dir)?;
    Ok(Some(Resumed {
        progress,
        interview,
        dir: dir.to_path_buf(),
        idle_for: Duration::ZERO,
        resubmit: std::mem::take(resubmit),
    }))
}

/// What the outbox knows of this session's answers wins over the progress record: a crash
/// after the outbox took an answer but before the progress said so loses nothing.
fn apply_outbox(progress: &mut Progress, interview: &Interview, records: &[Record]) {
    for rec in records {
        let Payload::Answer(a) = &rec.payload else {
            continue;
        };
        if a.candidate_id != progress.session_id || rec.staged_from.is_some() {
            continue;
        }
        let Some(q) = interview
            .questions
            .iter()
            .position(|x| x.id == a.question_id)
        else {
            continue;
        };
        let Some(qp) = progress.questions.get_mut(q) else {
            continue;
        };
        let Some(take) = qp.takes.get_mut(a.attempt.saturating_sub(1) as usize) else {
            continue;
        };
        if take.state != TakeState::Submitted {
            tracing::warn!(
                question = q,
                attempt = a.attempt,
                "the outbox has an answer the progress did not record as sent"
            );
        }
        take.state = TakeState::Submitted;
        take.submit_failed = false;
        qp.answer_id = Some(a.answer_id.to_string());
        qp.delivery = match rec.state {
            ItemState::Delivered => Delivery::Uploaded,
            _ => Delivery::Queued,
        };
        if progress.current == Some(q) {
            progress.current = None;
        }
    }
}

/// Takes marked sent whose file is still in `dir` and that the outbox does not hold.
fn unsent(
    progress: &Progress,
    dir: &Path,
    interview: Option<&Interview>,
    records: &[Record],
) -> Vec<Submission> {
    let in_outbox = |session: &str, question_id: &str, attempt: u32| {
        records.iter().any(|r| {
            matches!(&r.payload, Payload::Answer(a)
                if a.candidate_id == session && a.question_id == question_id && a.attempt == attempt)
        })
    };
    let mut out = Vec::new();
    for (q, qp) in progress.questions.iter().enumerate() {
        let question_id = if qp.question_id.is_empty() {
            interview
                .and_then(|iv| iv.questions.get(q))
                .map(|x| x.id.clone())
                .unwrap_or_default()
        } else {
            qp.question_id.clone()
        };
        for (i, take) in qp.takes.iter().enumerate() {
            let file = dir.join(&take.file);
            let attempt = i as u32 + 1;
            if take.state != TakeState::Submitted
                || !file.is_file()
                || question_id.is_empty()
                || in_outbox(&progress.session_id, &question_id, attempt)
            {
                continue;
            }
            tracing::warn!(path = %file.display(), "a sent take is not in the outbox; sending it again");
            out.push(Submission {
                take: TakeRef {
                    session: progress.session_id.clone(),
                    question: q,
                    take: i,
                },
                file,
                interview_id: progress.interview_id.clone(),
                candidate_ref: progress.candidate_ref.clone(),
                question_id: question_id.clone(),
                attempt,
                seconds: take.seconds.unwrap_or(0.0),
            });
        }
    }
    out
}

/// Seconds since the candidate of the session in `dir` was last seen.
fn idle_for(dir: &Path, now_unix: u64) -> Duration {
    crate::session::last_activity(dir).map_or(Duration::ZERO, |t| {
        Duration::from_secs(now_unix.saturating_sub(t))
    })
}

/// Takes left "recording" by a crash: recovered and shown (never counted as an attempt), or
/// dropped when nothing playable was written.
pub fn recover_takes(progress: &mut Progress, dir: &Path) {
    for q in &mut progress.questions {
        for take in &mut q.takes {
            if take.state != TakeState::Recording {
                continue;
            }
            let file = dir.join(&take.file);
            let partial = partial_path(&file);
            let seconds = if partial.exists() {
                match recover::recover(&partial) {
                    Ok(reports) => reports.into_iter().find_map(|r| {
                        let seconds = match r.outcome {
                            recover::Outcome::Recovered { finished, .. } => {
                                Some(finished.video_seconds)
                            }
                            recover::Outcome::AlreadyFinished => length(&r.output),
                            _ => None,
                        };
                        // Recovered beside a file that had its name: the take is the new one.
                        if seconds.is_some()
                            && r.output != file
                            && let Some(name) = r.output.file_name()
                        {
                            take.file = name.to_string_lossy().to_string();
                        }
                        seconds
                    }),
                    Err(e) => {
                        tracing::error!(path = %partial.display(), error = %e, "cannot recover");
                        None
                    }
                }
            } else {
                length(&file)
            };
            let file = dir.join(&take.file);
            match seconds {
                Some(s) if s > 0.0 => {
                    tracing::warn!(path = %file.display(), seconds = s, "recovered an interrupted take");
                    take.state = TakeState::Interrupted;
                    take.seconds = Some(s);
                    take.note = Some("the station stopped during this recording".into());
                }
                _ => {
                    tracing::warn!(path = %file.display(), "interrupted take had nothing to keep");
                    take.state = TakeState::Discarded;
                    take.note = Some("the station stopped before anything was saved".into());
                }
            }
        }
    }
}

fn length(file: &Path) -> Option<f64> {
    let tracks = mp4read::read_tracks(file).ok()?;
    tracks.iter().map(|t| t.length_seconds()).reduce(f64::max)
}

/// The screen to reopen on: the interrupted or recorded take of the current question, the
/// question list once the device test passed, else the welcome screen.
pub fn resume_phase(state: &State) -> Phase {
    if state.session.progress.all_submitted() {
        return Phase::Done {
            ends: state.now + state.settings.done_wait,
        };
    }
    if let Some(q) = state.session.progress.current
        && let Some(take) = state.pending_take(q)
    {
        return Phase::Review {
            q,
            take,
            playing: false,
        };
    }
    if state.session.progress.device_test_passed {
        return Phase::Questions {
            selected: state
                .session
                .progress
                .current
                .or_else(|| state.next_open_question(0))
                .unwrap_or(0),
        };
    }
    // Past the welcome screen (a code entered): the notice, or the overview.
    if state.session.progress.candidate_ref.is_some() || state.session.progress.consent.is_some() {
        return if state.session.interview.consent.is_some()
            && state.session.progress.consent.is_none()
        {
            Phase::Consent
        } else {
            Phase::Overview
        };
    }
    Phase::Welcome(Default::default())
}

#[cfg(test)]
mod tests;
