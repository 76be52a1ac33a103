//! Candidate sessions on disk: `<data>/sessions/<id>/` (progress, takes, the test clip), the
//! `current` pointer naming the one in progress, the privacy wipe that ends a session, and
//! `<data>/set-aside/`, where whatever can be neither resumed nor safely deleted is kept for
//! staff. Nothing here deletes a take the candidate sent unless the outbox holds it.

use std::path::{Path, PathBuf};

use crate::fsutil;
use crate::interview::Interview;
use crate::session::{Progress, SessionError, TakeState};

/// Names the session in progress, inside `<data_dir>/sessions/`.
pub const CURRENT: &str = "current";
/// A session being wiped is renamed to this prefix first, so a crash mid-wipe leaves a
/// directory that the next start recognises and finishes.
const WIPING: &str = ".wipe-";

pub fn sessions_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("sessions")
}

/// Where sessions and takes that cannot be resumed or deleted are kept for staff.
pub fn set_aside_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("set-aside")
}

/// The id the `current` pointer names, if any.
pub fn current_id(data_dir: &Path) -> Option<String> {
    let id = std::fs::read_to_string(sessions_dir(data_dir).join(CURRENT)).ok()?;
    let id = id.trim();
    (!id.is_empty() && !id.contains('/') && !id.starts_with('.')).then(|| id.to_string())
}

/// Starts a new session of `interview`: its directory, its first progress record, then the
/// pointer (each durable before the next).
pub fn new_session(
    data_dir: &Path,
    interview: &Interview,
    now_unix: u64,
) -> Result<(Progress, PathBuf), SessionError> {
    let sessions = sessions_dir(data_dir);
    fsutil::create_private_dir(&sessions)?;
    let id = uuid::Uuid::new_v4().to_string();
    let dir = sessions.join(&id);
    fsutil::create_private_dir(&dir)?;
    let progress = Progress::for_interview(&id, interview, now_unix);
    progress.save(&dir)?;
    fsutil::write_atomic(&sessions.join(CURRENT), id.as_bytes())?;
    Ok((progress, dir))
}

/// The privacy wipe at the end of a candidate's session, then a fresh session for the next
/// one. Sent takes already live in the outbox; a take that was sent but is still here (or
/// whose sending failed) is set aside first, never deleted. The directory is renamed away
/// before it is removed, so a crash part-way never leaves a half-deleted session that looks
/// current.
///
/// `known` is the progress as the flow last knew it: when the disk failed to save it, it is
/// newer than the record in `dir`, and a take sent under it counts as sent.
pub fn end_session(
    data_dir: &Path,
    dir: &Path,
    known: Option<&Progress>,
    interview: &Interview,
    now_unix: u64,
) -> Result<(Progress, PathBuf), SessionError> {
    let doomed = match dir.file_name() {
        Some(name) if dir.exists() => {
            set_aside_sent_takes(data_dir, dir, known)?;
            let doomed = sessions_dir(data_dir).join(format!("{WIPING}{}", name.to_string_lossy()));
            fsutil::rename_durable(dir, &doomed)?;
            Some(doomed)
        }
        _ => None,
    };
    let next = new_session(data_dir, interview, now_unix)?;
    if let Some(doomed) = doomed {
        // Finished by the next start if it fails now: the new session is already in place.
        match fsutil::remove_dir_all(&doomed) {
            Ok(()) => tracing::info!(dir = %dir.display(), "session wiped"),
            Err(e) => tracing::warn!(error = %e, "a wiped session is left for the next start"),
        }
    }
    Ok(next)
}

/// Moves out of a session about to be wiped every take the candidate sent that is still in
/// it (sent, or failed to send) by the record in `dir` or by `known`: those belong to the
/// hiring team, not to the wipe. A session whose record cannot be read, and of which nothing
/// else is known, is set aside whole.
pub fn set_aside_sent_takes(
    data_dir: &Path,
    dir: &Path,
    known: Option<&Progress>,
) -> Result<(), SessionError> {
    let on_disk = match Progress::load(dir) {
        Ok(p) => p,
        Err(e) if known.is_none() => {
            tracing::error!(error = %e, "a session's progress cannot be read; set aside whole");
            set_aside(data_dir, dir, &e.to_string())?;
            return Ok(());
        }
        Err(e) => {
            tracing::warn!(error = %e, "a session's progress cannot be read; using the last known");
            None
        }
    };
    let session = known
        .or(on_disk.as_ref())
        .map_or_else(String::new, |p| p.session_id.clone());
    let sent: std::collections::BTreeSet<&str> = on_disk
        .iter()
        .chain(known)
        .flat_map(|p| &p.questions)
        .flat_map(|q| &q.takes)
        .filter(|t| t.state == TakeState::Submitted || t.submit_failed)
        .map(|t| t.file.as_str())
        .collect();
    for name in sent {
        let file = dir.join(name);
        if !name.contains('/') && file.is_file() {
            let why = "the candidate sent it, but it is not in the outbox";
            let to = set_aside_file(data_dir, &session, &file, why)?;
            tracing::error!(from = %file.display(), to = %to.display(), "a sent take was set aside");
        }
    }
    Ok(())
}

/// Moves a whole session directory to `set-aside/`, with a note saying why. Returns where.
pub fn set_aside(data_dir: &Path, dir: &Path, why: &str) -> Result<PathBuf, SessionError> {
    let name = dir.file_name().map_or_else(
        || "session".to_string(),
        |n| n.to_string_lossy().trim_start_matches('.').to_string(),
    );
    let base = set_aside_dir(data_dir);
    fsutil::create_private_dir(&base)?;
    let to = free_path(&base, &name);
    fsutil::rename_durable(dir, &to)?;
    fsutil::write_atomic(&to.join("SET-ASIDE.txt"), why.as_bytes())?;
    tracing::warn!(from = %dir.display(), to = %to.display(), %why, "session set aside for staff");
    Ok(to)
}

/// Moves one file into `set-aside/<session>/`, with a note beside it.
fn set_aside_file(
    data_dir: &Path,
    session: &str,
    file: &Path,
    why: &str,
) -> Result<PathBuf, SessionError> {
    let dir = set_aside_dir(data_dir).join(session);
    fsutil::create_private_dir(&dir)?;
    let name = file.file_name().map_or_else(
        || "take.mp4".to_string(),
        |n| n.to_string_lossy().to_string(),
    );
    let to = free_path(&dir, &name);
    fsutil::rename_durable(file, &to)?;
    let mut note = to.as_os_str().to_owned();
    note.push(".txt");
    fsutil::write_atomic(Path::new(&note), why.as_bytes())?;
    Ok(to)
}

/// `dir/name`, or `dir/name-2` and so on: never over something already set aside.
fn free_path(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|n| dir.join(format!("{name}-{n}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// Session directories other than the current one, and interrupted wipes, as found at start.
pub fn leftovers(data_dir: &Path, current: Option<&str>) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut stale, mut wiping) = (Vec::new(), Vec::new());
    let Ok(entries) = std::fs::read_dir(sessions_dir(data_dir)) else {
        return (stale, wiping);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with(WIPING) {
            wiping.push(path);
        } else if Some(name.as_str()) != current && !name.starts_with('.') {
            stale.push(path);
        }
    }
    stale.sort();
    wiping.sort();
    (stale, wiping)
}
