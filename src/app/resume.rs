//! Starting a station: which candidate session to continue (or begin), recovering a take the
//! last run was recording when it died, and which screen to reopen on. Runs once before the
//! loop; it is the only place the flow's start touches the disk.

use std::path::{Path, PathBuf};

use super::state::{Phase, State};
use crate::fsutil;
use crate::interview::Interview;
use crate::media::mp4read;
use crate::media::mux::{partial_path, recover};
use crate::session::{Progress, SessionError, TakeState};

/// Names the session in progress, inside `<data_dir>/sessions/`.
const CURRENT: &str = "current";

pub fn sessions_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("sessions")
}

/// The unfinished session of this interview, or a new one. Returns its progress and directory.
pub fn open_session(
    data_dir: &Path,
    interview: &Interview,
    now_unix: u64,
) -> Result<(Progress, PathBuf), SessionError> {
    let sessions = sessions_dir(data_dir);
    fsutil::create_private_dir(&sessions)?;
    let pointer = sessions.join(CURRENT);
    if let Ok(id) = std::fs::read_to_string(&pointer) {
        let id = id.trim();
        let dir = sessions.join(id);
        if !id.is_empty() && dir.is_dir() {
            match Progress::load(&dir, &interview.id) {
                Ok(Some(mut p)) if !p.all_submitted() => {
                    recover_takes(&mut p, &dir);
                    p.save(&dir)?;
                    return Ok((p, dir));
                }
                Ok(_) => {}
                // Another interview's session (the station was switched over) is left alone
                // on disk and a new one begins.
                Err(SessionError::OtherInterview { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    let id = uuid::Uuid::new_v4().to_string();
    let dir = sessions.join(&id);
    fsutil::create_private_dir(&dir)?;
    let progress = Progress::new(&id, &interview.id, interview.questions.len(), now_unix);
    progress.save(&dir)?;
    fsutil::write_atomic(&pointer, id.as_bytes())?;
    Ok((progress, dir))
}

/// The privacy wipe at the end of a candidate's session: the session directory goes (its
/// unsent takes, the test clip, the progress record); sent answers already live in the outbox
/// and are untouched. Then a fresh session for the next candidate.
pub fn end_session(
    data_dir: &Path,
    dir: &Path,
    interview: &Interview,
) -> Result<(Progress, PathBuf), SessionError> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => tracing::info!(dir = %dir.display(), "session wiped"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fsutil::FsError::new("cannot wipe", dir, e).into()),
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    open_session(data_dir, interview, now)
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
                    Ok(reports) => reports.into_iter().find_map(|r| match r.outcome {
                        recover::Outcome::Recovered { finished, .. } => {
                            Some(finished.video_seconds)
                        }
                        recover::Outcome::AlreadyFinished => length(&file),
                        _ => None,
                    }),
                    Err(e) => {
                        tracing::error!(path = %partial.display(), error = %e, "cannot recover");
                        None
                    }
                }
            } else {
                length(&file)
            };
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
    if state.progress.all_submitted() {
        return Phase::Done;
    }
    if let Some(q) = state.progress.current
        && let Some(take) = state.pending_take(q)
    {
        return Phase::Review {
            q,
            take,
            playing: false,
        };
    }
    if state.progress.device_test_passed {
        return Phase::Questions {
            selected: state
                .progress
                .current
                .or_else(|| state.next_open_question(0))
                .unwrap_or(0),
        };
    }
    Phase::Welcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Take;

    const IV: &str = r#"
id = "iv"
title = "T"
intro = "I"
language = "en"
[support]
contact = "desk"
[[question]]
id = "q1"
text = "Q?"
preparation_seconds = 0
answer_seconds = 30
attempts = 1
"#;

    #[test]
    fn sessions_resume_until_finished_then_start_afresh() -> crate::TestResult {
        let data = tempfile::tempdir()?;
        let iv = Interview::parse(IV, Path::new("iv.toml"))?;
        let (mut p, dir) = open_session(data.path(), &iv, 1)?;
        p.device_test_passed = true;
        p.save(&dir)?;
        let (again, dir2) = open_session(data.path(), &iv, 2)?;
        assert_eq!(dir, dir2);
        assert!(again.device_test_passed);
        // Once every answer is in, the next start is a new candidate.
        let mut done = again;
        done.questions[0].delivery = crate::session::Delivery::Queued;
        done.save(&dir)?;
        let (fresh, dir3) = open_session(data.path(), &iv, 3)?;
        assert_ne!(dir, dir3);
        assert!(!fresh.device_test_passed);
        Ok(())
    }

    #[test]
    fn a_take_with_nothing_written_is_dropped_not_counted() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let mut p = Progress::new("s", "iv", 1, 0);
        p.questions[0].takes.push(Take {
            file: "q1-take1.mp4".into(),
            state: TakeState::Recording,
            seconds: None,
            note: None,
        });
        recover_takes(&mut p, dir.path());
        assert_eq!(p.questions[0].takes[0].state, TakeState::Discarded);
        assert_eq!(p.questions[0].attempts_used, 0);
        Ok(())
    }
}
